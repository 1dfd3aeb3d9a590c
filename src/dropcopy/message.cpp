#include "peregrine/dropcopy/message.hpp"

#include <chrono>
#include <cstdio>

#include "peregrine/ops/json.hpp"

namespace peregrine::dropcopy {

std::optional<Kind> kind_of(EventType t) noexcept {
  switch (t) {
    case EventType::Accepted: return Kind::Accepted;
    case EventType::Rejected: return Kind::Rejected;
    case EventType::Executed: return Kind::Executed;
    case EventType::Canceled: return Kind::Canceled;
    case EventType::Replaced: return Kind::Replaced;
    case EventType::CancelRejected: return Kind::CancelRejected;
    case EventType::KillSwitchChanged: return Kind::KillSwitch;
    default: return std::nullopt;
  }
}

std::string_view to_string(Kind k) noexcept {
  switch (k) {
    case Kind::Accepted: return "accepted";
    case Kind::Rejected: return "rejected";
    case Kind::Executed: return "executed";
    case Kind::Canceled: return "canceled";
    case Kind::Replaced: return "replaced";
    case Kind::CancelRejected: return "cancel_rejected";
    case Kind::KillSwitch: return "kill_switch";
  }
  return "unknown";
}

std::string routing_word(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    const bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (plain) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

Directory::Directory(const config::ServiceConfig& cfg) {
  for (const FirmConfig& f : cfg.engine.firms) firms_.emplace_back(f.name.view());
  for (const config::UserConfig& u : cfg.users) {
    users_.push_back(u.username);
    FirmId id{0};
    for (std::size_t i = 0; i < cfg.engine.firms.size(); ++i)
      if (cfg.engine.firms[i].name.view() == u.firm) id = FirmId{static_cast<std::uint16_t>(i)};
    user_firms_.push_back(id);
  }
  for (const InstrumentConfig& i : cfg.engine.instruments) symbols_.emplace_back(i.symbol.view());
}

std::string_view Directory::firm(FirmId f) const noexcept {
  return f.value() < firms_.size() ? std::string_view(firms_[f.value()]) : std::string_view{};
}

std::string_view Directory::user(OwnerId o) const noexcept {
  return o.value() >= 1 && o.value() <= users_.size() ? std::string_view(users_[o.value() - 1]) : std::string_view{};
}

std::string_view Directory::symbol(InstrumentId i) const noexcept {
  return i.value() >= 1 && i.value() <= symbols_.size() ? std::string_view(symbols_[i.value() - 1]) : std::string_view{};
}

FirmId Directory::firm_of(const Event& e) const noexcept {
  const std::uint32_t o = e.owner.value();
  if (o >= 1 && o <= user_firms_.size()) return user_firms_[o - 1];
  return e.firm;
}

std::uint64_t OrderTracker::apply(const Event& e) {
  const std::uint64_t id = e.order_id.value();
  switch (e.type) {
    case EventType::Executed: {
      std::uint64_t& cum = cum_[id];
      cum += e.qty.value();
      const std::uint64_t out = cum;
      if (e.leaves.value() == 0) cum_.erase(id);
      return out;
    }
    case EventType::Canceled: {
      const auto it = cum_.find(id);
      const std::uint64_t out = it == cum_.end() ? 0 : it->second;
      if (e.leaves.value() == 0 && it != cum_.end()) cum_.erase(it);
      return out;
    }
    case EventType::Replaced: {  // the new order id takes the old one's executions
      const auto it = cum_.find(e.ref);
      if (it == cum_.end()) return 0;
      const std::uint64_t out = it->second;
      cum_.erase(it);
      if (e.leaves.value() != 0) cum_[id] = out;
      return out;
    }
    default: return 0;
  }
}

namespace {

// Civil date -> days since 1970-01-01; false when `day` is not YYYY-MM-DD.
bool days_of(std::string_view day, std::int64_t& days) {
  int y = 0;
  unsigned m = 0;
  unsigned d = 0;
  if (day.size() != 10 || std::sscanf(std::string(day).c_str(), "%4d-%2u-%2u", &y, &m, &d) != 3) return false;
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
  if (!ymd.ok()) return false;
  days = std::chrono::sys_days{ymd}.time_since_epoch().count();
  return true;
}

std::string_view side_name(Side s) noexcept { return s == Side::Buy ? "buy" : s == Side::Sell ? "sell" : ""; }

std::string_view word_or_dash(std::string_view s) noexcept { return s.empty() ? std::string_view("-") : s; }

}  // namespace

std::string exchange_time(std::string_view day, std::uint64_t ns, std::int32_t utc_offset_seconds) {
  std::int64_t days = 0;
  if (!days_of(day, days)) return {};
  const std::uint64_t secs = ns / 1'000'000'000;
  const std::int32_t off = utc_offset_seconds;
  const std::int32_t aoff = off < 0 ? -off : off;
  // A timestamp past midnight (a day that runs over) stays on `day` with hours past 23: never
  // seen in practice; the date is what the journal's directory says.
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*sT%02llu:%02llu:%02llu.%09llu%c%02d:%02d", 10, day.data(),
                static_cast<unsigned long long>(secs / 3600), static_cast<unsigned long long>(secs / 60 % 60),
                static_cast<unsigned long long>(secs % 60), static_cast<unsigned long long>(ns % 1'000'000'000),
                off < 0 ? '-' : '+', aoff / 3600, aoff / 60 % 60);
  return buf;
}

Message format(const Event& e, Kind kind, const Numbering& n, const Directory& dir, std::string_view routing_prefix) {
  const FirmId firm = dir.firm_of(e);
  std::string_view symbol = dir.symbol(e.instrument);
  if (symbol.empty()) symbol = n.command_symbol;
  Message m;
  m.routing_key = std::string(routing_prefix) + '.' + routing_word(word_or_dash(dir.firm(firm))) + '.' +
                  routing_word(word_or_dash(symbol)) + '.' + std::string(to_string(kind));
  m.message_id = std::string(n.market) + ':' + std::string(n.day) + ':' + std::to_string(n.seq);
  std::int64_t days = 0;
  if (days_of(n.day, days)) {
    const std::int64_t s = days * 86400 + static_cast<std::int64_t>(e.ts.value() / 1'000'000'000) - n.utc_offset_seconds;
    m.unix_seconds = s > 0 ? static_cast<std::uint64_t>(s) : 0;
  }

  ops::json::Writer w;
  w.begin_object();
  w.key("market").string(n.market);
  w.key("day").string(n.day);
  w.key("seq").unsigned_integer(n.seq);
  w.key("firm_seq").unsigned_integer(n.firm_seq);
  w.key("journal_seq").unsigned_integer(n.journal_seq);
  w.key("kind").string(to_string(kind));
  w.key("transact_time").string(exchange_time(n.day, e.ts.value(), n.utc_offset_seconds));
  w.key("firm").string(dir.firm(firm));
  if (kind != Kind::KillSwitch) w.key("user").string(dir.user(e.owner));
  if (kind != Kind::KillSwitch && kind != Kind::CancelRejected) w.key("symbol").string(symbol);
  const auto token = [&] { w.key("token").string(e.token.view()); };
  const auto order = [&] {
    w.key("order_id").unsigned_integer(e.order_id.value());
    w.key("side").string(side_name(e.side));
  };
  const std::uint64_t leaves = e.leaves.value();
  const auto open_status = [&] { return leaves == 0 ? "4" : n.cum_qty > 0 ? "1" : "0"; };
  switch (kind) {
    case Kind::Accepted:
      w.key("exec_type").string("0").key("ord_status").string("0");
      token();
      order();
      w.key("price").fixed_point(e.price.value(), 4);
      w.key("order_qty").unsigned_integer(e.qty.value());
      w.key("cum_qty").unsigned_integer(0).key("leaves_qty").unsigned_integer(leaves);
      if (e.min_qty.value() != 0) w.key("min_qty").unsigned_integer(e.min_qty.value());
      w.key("order_type").string(std::string(1, static_cast<char>(e.order_type)));
      w.key("time_in_force").string(std::string(1, static_cast<char>(e.tif)));
      break;
    case Kind::Rejected:
      w.key("exec_type").string("8").key("ord_status").string("8");
      token();
      if (e.token2.view().size() != 0) w.key("orig_token").string(e.token2.view());
      w.key("reason").string(to_string(static_cast<RejectCode>(e.code)));
      if (static_cast<RejectCode>(e.code) == RejectCode::Gateway)
        w.key("ouch_reason").string(std::string(1, static_cast<char>(e.ref)));
      break;
    case Kind::Executed:
      w.key("exec_type").string("F").key("ord_status").string(leaves == 0 ? "2" : "1");
      token();
      order();
      w.key("last_px").fixed_point(e.price.value(), 4);
      w.key("last_qty").unsigned_integer(e.qty.value());
      w.key("cum_qty").unsigned_integer(n.cum_qty).key("leaves_qty").unsigned_integer(leaves);
      w.key("order_qty").unsigned_integer(n.cum_qty + leaves);
      w.key("match_number").unsigned_integer(e.ref);
      w.key("liquidity").string(std::string(1, static_cast<char>(e.code)));
      break;
    case Kind::Canceled:
      w.key("exec_type").string("4").key("ord_status").string(open_status());
      token();
      order();
      w.key("canceled_qty").unsigned_integer(e.qty.value());
      w.key("cum_qty").unsigned_integer(n.cum_qty).key("leaves_qty").unsigned_integer(leaves);
      w.key("order_qty").unsigned_integer(n.cum_qty + leaves);
      w.key("reason").string(to_string(static_cast<CancelReason>(e.code)));
      break;
    case Kind::Replaced:
      w.key("exec_type").string("5").key("ord_status").string(n.cum_qty > 0 ? "1" : "0");
      token();
      w.key("orig_token").string(e.token2.view());
      order();
      w.key("orig_order_id").unsigned_integer(e.ref);
      w.key("price").fixed_point(e.price.value(), 4);
      w.key("cum_qty").unsigned_integer(n.cum_qty).key("leaves_qty").unsigned_integer(leaves);
      w.key("order_qty").unsigned_integer(n.cum_qty + leaves);
      break;
    case Kind::CancelRejected:
      token();
      w.key("reason").string(to_string(static_cast<RejectCode>(e.code)));
      break;
    case Kind::KillSwitch:
      w.key("engaged").boolean(e.code != 0);
      break;
  }
  w.end_object();
  m.body = w.take();
  return m;
}

}  // namespace peregrine::dropcopy
