/// Workload generation for the core micro benchmarks; see workload.hpp.

#include "workload.hpp"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>

#include "peregrine/core/codes.hpp"

namespace peregrine::bench {

namespace {

[[noreturn]] void fail(const char* what, const Command& c, const Event* e) {
  std::fprintf(stderr, "workload generator: %s (command type %d", what, static_cast<int>(c.type));
  if (e != nullptr) {
    const auto code = static_cast<RejectCode>(e->code);
    const std::string_view name = to_string(code);
    std::fprintf(stderr, ", event %d code %d %.*s", static_cast<int>(e->type), static_cast<int>(e->code),
                 static_cast<int>(name.size()), name.data());
  }
  std::fprintf(stderr, ")\n");
  std::abort();
}

std::uint64_t splitmix64(std::uint64_t& x) noexcept {
  std::uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

Price ticks_from(Price p, std::int64_t ticks) noexcept { return Price{p.value() + ticks * kTick}; }

constexpr InstrumentId kFirstInstrument{1};
constexpr Price kBestBid{kReference - kTick};  // seeded books: 99.99 bid / 100.00 ask
constexpr Price kBestAsk{kReference};

/// Builds a Script while applying everything to a shadow engine.
class ScriptBuilder {
 public:
  ScriptBuilder(EngineConfig cfg, std::uint64_t seed)
      : shadow_(std::make_unique<Shadow>(cfg)), rng_(seed) {
    s_.config = std::move(cfg);
  }
  Shadow& shadow() noexcept { return *shadow_; }
  Rng& rng() noexcept { return rng_; }
  [[nodiscard]] std::size_t timed_count() const noexcept { return s_.timed.size(); }

  OwnerId random_owner() noexcept { return OwnerId{1 + rng_.below(kOwners)}; }

  void seed(const Command& c) {
    shadow_->apply(c);
    s_.seed.push_back(c);
  }
  /// `levels` levels of `orders` orders from `top` away from the touch; `lots_max` > 0 draws
  /// 1..lots_max lots per order, otherwise every order has `qty`.
  void seed_ladder(Side side, Price top, std::uint32_t levels, std::uint32_t orders,
                   std::uint32_t lots_max, Qty qty = Qty{0}) {
    const std::int64_t dir = side == Side::Buy ? -1 : 1;
    for (std::uint32_t l = 0; l < levels; ++l) {
      for (std::uint32_t o = 0; o < orders; ++o) {
        const Qty q = lots_max > 0 ? Qty{kLot * (1 + rng_.below(lots_max))} : qty;
        seed(shadow_->new_order(random_owner(), kFirstInstrument, side,
                                ticks_from(top, dir * static_cast<std::int64_t>(l)), q));
      }
    }
  }
  Shadow::Outcome timed(const Command& c, OpKind k) {
    const Shadow::Outcome o = shadow_->apply(c);
    s_.timed.push_back(c);
    s_.kinds.push_back(k);
    s_.timed_events += o.events;
    s_.timed_fills += o.fills;
    return o;
  }
  void restore(const Command& c) {
    shadow_->apply(c);
    s_.restore.push_back(c);
  }
  void end_chunk() {
    s_.chunk_end.push_back(s_.timed.size());
    s_.restore_end.push_back(s_.restore.size());
  }
  /// True while a chunk of `ops` timed commands using `tokens` tokens still fits `lim`.
  [[nodiscard]] bool fits(const ScriptLimits& lim, std::size_t ops, std::uint64_t tokens) const noexcept {
    return s_.timed.size() + ops <= lim.max_timed &&
           shadow_->tokens_issued() + tokens <= lim.max_tokens;
  }
  Script finish() {
    if (s_.chunk_end.empty()) {
      std::fprintf(stderr, "workload generator: the limits leave room for no chunk\n");
      std::abort();
    }
    s_.final_state_hash = shadow_->engine().state_hash();
    return std::move(s_);
  }

 private:
  std::unique_ptr<Shadow> shadow_;
  Rng rng_;
  Script s_;
};

}  // namespace

// ---------------------------------------------------------------------------------------------

Rng::Rng(std::uint64_t seed) noexcept {
  for (auto& w : s_) w = splitmix64(seed);
}

std::uint64_t Rng::next() noexcept {
  const std::uint64_t result = std::rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = std::rotl(s_[3], 45);
  return result;
}

std::uint32_t Rng::below(std::uint32_t n) noexcept {
  return static_cast<std::uint32_t>(((next() >> 32) * n) >> 32);
}

EngineConfig make_config(std::uint32_t instruments, std::uint32_t max_tokens) {
  EngineConfig cfg;
  for (std::uint32_t i = 0; i < instruments; ++i) {
    InstrumentConfig ic;
    ic.symbol = symbol_of(InstrumentId{static_cast<std::uint16_t>(i + 1)});
    ic.name = "BENCH" + std::to_string(i);
    ic.tick = Price{kTick};
    ic.lot_size = Qty{kLot};
    ic.min_qty = Qty{kLot};
    ic.odd_lot_sell = true;
    ic.max_order_qty = Qty{1'000'000};
    ic.reference_price = Price{kReference};
    ic.limit_bps = 1000;
    ic.cage_bps = 0;
    cfg.instruments.push_back(std::move(ic));
  }
  for (std::uint32_t f = 0; f < kFirms; ++f) {
    FirmConfig fc;
    char name[8];
    std::snprintf(name, sizeof name, "BF%02u", f);
    fc.name = FirmName::from(name);
    cfg.firms.push_back(fc);
  }
  cfg.max_tokens = max_tokens;
  if (const auto issue = check_config(cfg)) {
    std::fprintf(stderr, "benchmark configuration refused: %s[%zu].%s: %s\n", issue->section.c_str(),
                 issue->index, issue->field.c_str(), issue->message.c_str());
    std::abort();
  }
  return cfg;
}

Symbol symbol_of(InstrumentId id) { return Symbol::from(std::to_string(600000 + id.value() - 1)); }

FirmId firm_of(OwnerId owner) noexcept {
  return FirmId{static_cast<std::uint16_t>((owner.value() - 1) % kFirms)};
}

Token token_from_number(std::uint64_t n) noexcept {
  Token t;
  for (std::size_t i = t.c.size(); i-- > 0;) {
    t.c[i] = static_cast<char>('0' + n % 10);
    n /= 10;
  }
  return t;
}

std::uint64_t token_number(const Token& t) noexcept {
  std::uint64_t n = 0;
  for (const char ch : t.c) n = n * 10 + static_cast<std::uint64_t>(ch - '0');
  return n;
}

std::string_view to_string(OpKind k) noexcept {
  switch (k) {
    case OpKind::AddPassive: return "add_passive";
    case OpKind::AddCross: return "add_cross";
    case OpKind::Cancel: return "cancel";
    case OpKind::ReplaceKeep: return "replace_keep_priority";
    case OpKind::ReplaceMove: return "replace_lose_priority";
  }
  return "?";
}

// --- LiveOrders ------------------------------------------------------------------------------

void LiveOrders::on_event(const Event& e) {
  switch (e.type) {
    case EventType::Accepted:
      add({token_number(e.token), e.owner, e.instrument, e.side, e.price, e.qty});
      break;
    case EventType::Executed:
    case EventType::Canceled:
      set_open(token_number(e.token), e.leaves);
      break;
    case EventType::Replaced:
      erase(token_number(e.token2));
      if (e.qty.value() > 0) add({token_number(e.token), e.owner, e.instrument, e.side, e.price, e.qty});
      break;
    default:
      break;
  }
}

std::uint32_t LiveOrders::count(InstrumentId id, Side side) const noexcept {
  const std::size_t i = std::size_t{id.value()} * 2 + (side == Side::Sell ? 1 : 0);
  return i < counts_.size() ? counts_[i] : 0;
}

std::uint32_t& LiveOrders::counter(InstrumentId id, Side side) {
  const std::size_t i = std::size_t{id.value()} * 2 + (side == Side::Sell ? 1 : 0);
  if (i >= counts_.size()) counts_.resize(i + 1, 0);
  return counts_[i];
}

void LiveOrders::add(const LiveOrder& o) {
  index_[o.token] = static_cast<std::uint32_t>(orders_.size());
  orders_.push_back(o);
  ++counter(o.instrument, o.side);
}

void LiveOrders::set_open(std::uint64_t token, Qty open) {
  if (open.value() == 0) {
    erase(token);
    return;
  }
  const auto it = index_.find(token);
  if (it != index_.end()) orders_[it->second].open = open;
}

void LiveOrders::erase(std::uint64_t token) {
  const auto it = index_.find(token);
  if (it == index_.end()) return;
  const std::uint32_t pos = it->second;
  --counter(orders_[pos].instrument, orders_[pos].side);
  index_.erase(it);
  if (pos + 1 != orders_.size()) {
    orders_[pos] = orders_.back();
    index_[orders_[pos].token] = pos;
  }
  orders_.pop_back();
}

// --- Shadow ----------------------------------------------------------------------------------

Shadow::Shadow(const EngineConfig& cfg)
    : engine_(cfg), sink_(buf_.data(), buf_.size(), &Shadow::collect, this) {
  events_.reserve(1024);
}

void Shadow::collect(void* ctx, const Event* events, std::size_t n) noexcept {
  auto* self = static_cast<Shadow*>(ctx);
  self->events_.insert(self->events_.end(), events, events + n);
}

Shadow::Outcome Shadow::apply(const Command& cmd) {
  events_.clear();
  engine_.process(cmd, sink_);
  sink_.flush();
  Outcome out;
  out.events = static_cast<std::uint32_t>(events_.size());
  for (const Event& e : events_) {
    if (e.type == EventType::Rejected || e.type == EventType::CancelRejected) {
      fail("the engine refused a generated command", cmd, &e);
    }
    if (e.type == EventType::Executed && e.code == static_cast<std::uint8_t>(Liquidity::Removed)) ++out.fills;
    live_.on_event(e);
  }
  return out;
}

Command Shadow::new_order(OwnerId owner, InstrumentId id, Side side, Price price, Qty qty,
                          TimeInForce tif) {
  return make_new_order(next_ts(), owner, firm_of(owner), symbol_of(id), next_token(), side, qty,
                        price, OrderType::Limit, tif);
}

// --- single-operation scripts ----------------------------------------------------------------

Script build_add_passive(const ScriptLimits& lim) {
  ScriptBuilder b(make_config(1, lim.max_tokens), 1);
  b.seed_ladder(Side::Buy, kBestBid, 10, 10, 10);
  b.seed_ladder(Side::Sell, kBestAsk, 10, 10, 10);
  constexpr std::size_t kChunk = 1024;
  struct Added {
    OwnerId owner;
    Token token;
  };
  std::vector<Added> added;
  while (b.fits(lim, kChunk, kChunk)) {
    added.clear();
    for (std::size_t i = 0; i < kChunk; ++i) {
      const Side side = b.rng().below(2) == 0 ? Side::Buy : Side::Sell;
      const auto depth = static_cast<std::int64_t>(b.rng().below(10));
      const Price price = side == Side::Buy ? ticks_from(kBestBid, -depth) : ticks_from(kBestAsk, depth);
      const OwnerId owner = b.random_owner();
      const Command c = b.shadow().new_order(owner, kFirstInstrument, side, price,
                                             Qty{kLot * (1 + b.rng().below(10))});
      if (b.timed(c, OpKind::AddPassive).fills != 0) fail("a passive add traded", c, nullptr);
      added.push_back({owner, c.new_order.token});
    }
    for (const Added& a : added) b.restore(make_cancel(b.shadow().next_ts(), a.owner, a.token));
    b.end_chunk();
  }
  return b.finish();
}

Script build_add_cross(const ScriptLimits& lim, std::uint32_t levels, std::uint32_t orders) {
  ScriptBuilder b(make_config(1, lim.max_tokens), 2);
  constexpr std::uint32_t kOrderQty = 2 * kLot;
  const std::uint32_t chunk = std::max<std::uint32_t>(1, 400 / levels);
  const std::uint32_t depth = chunk * levels + 10;
  b.seed_ladder(Side::Buy, kBestBid, depth, orders, 0, Qty{kOrderQty});
  b.seed_ladder(Side::Sell, kBestAsk, depth, orders, 0, Qty{kOrderQty});
  const std::uint64_t tokens_per_chunk = std::uint64_t{chunk} * (1 + std::uint64_t{levels} * orders);
  std::vector<DepthLevel> top(levels);
  std::vector<Price> taken;
  for (std::uint32_t c = 0; b.fits(lim, chunk, tokens_per_chunk); ++c) {
    const Side side = c % 2 == 0 ? Side::Buy : Side::Sell;
    const Side resting = opposite(side);
    taken.clear();
    for (std::uint32_t i = 0; i < chunk; ++i) {
      const std::size_t n = b.shadow().engine().depth(kFirstInstrument, resting, top.data(), levels);
      if (n != levels) {
        std::fprintf(stderr, "add_cross: %zu levels left, expected %u\n", n, levels);
        std::abort();
      }
      std::uint32_t qty = 0;
      for (std::size_t l = 0; l < n; ++l) {
        if (top[l].orders != orders) {
          std::fprintf(stderr, "add_cross: level with %u orders, expected %u\n", top[l].orders, orders);
          std::abort();
        }
        qty += static_cast<std::uint32_t>(top[l].qty);
        taken.push_back(top[l].price);
      }
      const Command cmd = b.shadow().new_order(b.random_owner(), kFirstInstrument, side,
                                               top[levels - 1].price, Qty{qty});
      if (b.timed(cmd, OpKind::AddCross).fills != levels * orders) {
        fail("a crossing order did not fill the expected orders", cmd, nullptr);
      }
    }
    for (const Price p : taken) {
      for (std::uint32_t o = 0; o < orders; ++o) {
        b.restore(b.shadow().new_order(b.random_owner(), kFirstInstrument, resting, p, Qty{kOrderQty}));
      }
    }
    b.end_chunk();
  }
  return b.finish();
}

Script build_cancel(const ScriptLimits& lim) {
  ScriptBuilder b(make_config(1, lim.max_tokens), 3);
  b.seed_ladder(Side::Buy, kBestBid, 10, 20, 10);
  b.seed_ladder(Side::Sell, kBestAsk, 10, 20, 10);
  constexpr std::size_t kChunk = 256;
  std::vector<LiveOrder> cancelled;
  while (b.fits(lim, kChunk, kChunk)) {
    cancelled.clear();
    for (std::size_t i = 0; i < kChunk; ++i) {
      const LiveOrders& live = b.shadow().live();
      const LiveOrder o = live.at(b.rng().below(static_cast<std::uint32_t>(live.size())));
      b.timed(make_cancel(b.shadow().next_ts(), o.owner, token_from_number(o.token)), OpKind::Cancel);
      cancelled.push_back(o);
    }
    for (const LiveOrder& o : cancelled) {
      b.restore(b.shadow().new_order(o.owner, o.instrument, o.side, o.price, o.open));
    }
    b.end_chunk();
  }
  return b.finish();
}

Script build_replace(const ScriptLimits& lim, bool keep_priority) {
  ScriptBuilder b(make_config(1, lim.max_tokens), keep_priority ? 4 : 5);
  // Keep-priority replaces take one lot off each time: start large enough never to run out.
  const std::uint32_t lots_max = keep_priority ? 0 : 10;
  const Qty qty{keep_priority ? 1'000'000u : 0u};
  b.seed_ladder(Side::Buy, kBestBid, 10, 20, lots_max, qty);
  b.seed_ladder(Side::Sell, kBestAsk, 10, 20, lots_max, qty);
  constexpr std::size_t kChunk = 1024;
  while (b.fits(lim, kChunk, kChunk)) {
    for (std::size_t i = 0; i < kChunk; ++i) {
      const LiveOrders& live = b.shadow().live();
      const LiveOrder o = live.at(b.rng().below(static_cast<std::uint32_t>(live.size())));
      const Token existing = token_from_number(o.token);
      if (keep_priority) {
        const Qty q{o.open.value() > kLot ? o.open.value() - kLot : o.open.value()};
        b.timed(make_replace(b.shadow().next_ts(), o.owner, existing, b.shadow().next_token(), q, o.price),
                OpKind::ReplaceKeep);
      } else {
        // A new level among the 10 seeded ones of its side, different from the current one.
        const Price top = o.side == Side::Buy ? kBestBid : kBestAsk;
        const std::int64_t dir = o.side == Side::Buy ? -1 : 1;
        const std::int64_t cur = (o.price.value() - top.value()) / kTick * dir;
        const std::int64_t next = (cur + 1 + b.rng().below(9)) % 10;
        b.timed(make_replace(b.shadow().next_ts(), o.owner, existing, b.shadow().next_token(), o.open,
                             ticks_from(top, dir * next)),
                OpKind::ReplaceMove);
      }
    }
    b.end_chunk();
  }
  return b.finish();
}

// --- the mix ---------------------------------------------------------------------------------

MixGenerator::MixGenerator(const MixParams& p, const EngineConfig& cfg)
    : p_(p), shadow_(std::make_unique<Shadow>(cfg)), rng_(p.seed) {
  limits_.resize(cfg.instruments.size() + 1);
  for (std::size_t i = 1; i <= cfg.instruments.size(); ++i) {
    limits_[i] = shadow_->engine().limits(InstrumentId{static_cast<std::uint16_t>(i)});
  }
  for (std::uint32_t i = 1; i <= p_.instruments; ++i) {
    const InstrumentId id{static_cast<std::uint16_t>(i)};
    for (const Side side : {Side::Buy, Side::Sell}) {
      const Price top = side == Side::Buy ? kBestBid : kBestAsk;
      const std::int64_t dir = side == Side::Buy ? -1 : 1;
      for (std::int64_t l = 0; l < 20; ++l) {
        for (int o = 0; o < 10; ++o) {
          const Command c = shadow_->new_order(random_owner(), id, side, ticks_from(top, dir * l), random_qty());
          shadow_->apply(c);
          seed_.push_back(c);
        }
      }
    }
  }
}

OwnerId MixGenerator::random_owner() noexcept { return OwnerId{1 + rng_.below(kOwners)}; }
Qty MixGenerator::random_qty() noexcept { return Qty{kLot * (1 + rng_.below(10))}; }

Command MixGenerator::next(OpKind& kind) {
  const std::uint32_t r = rng_.below(100);
  const LiveOrders& live = shadow_->live();
  const auto id = InstrumentId{static_cast<std::uint16_t>(1 + rng_.below(p_.instruments))};
  Command c;
  if (r < p_.pct_cancel && live.size() > 0) {
    kind = OpKind::Cancel;
    c = cancel(live.at(rng_.below(static_cast<std::uint32_t>(live.size()))));
  } else if (r < p_.pct_cancel + p_.pct_replace && live.size() > 0) {
    c = replace(live.at(rng_.below(static_cast<std::uint32_t>(live.size()))), kind);
  } else if (r < p_.pct_cancel + p_.pct_replace + p_.pct_cross) {
    c = cross(id, kind);
  } else {
    kind = OpKind::AddPassive;
    c = passive_add(id, rng_.below(2) == 0 ? Side::Buy : Side::Sell);
  }
  const Shadow::Outcome o = shadow_->apply(c);
  if (kind == OpKind::AddPassive && o.fills != 0) fail("a passive add traded", c, nullptr);
  ++stats_.ops[static_cast<std::size_t>(kind)];
  ++stats_.commands;
  stats_.events += o.events;
  stats_.fills += o.fills;
  if ((stats_.commands & 1023) == 0) {
    stats_.depth_sum += static_cast<double>(live.size()) / (2.0 * p_.instruments);
    ++stats_.depth_samples;
  }
  return c;
}

Command MixGenerator::passive_add(InstrumentId id, Side side) {
  const Engine& e = shadow_->engine();
  const std::optional<Price> bid = e.best(id, Side::Buy);
  const std::optional<Price> ask = e.best(id, Side::Sell);
  const PriceLimits lim = limits_[id.value()];
  const std::uint32_t u = rng_.below(100);
  const auto deep = [&] {
    std::uint32_t d = 1 + rng_.below(4);
    if (rng_.chance(30)) d += rng_.below(16);
    return static_cast<std::int64_t>(d);
  };
  std::int64_t p = 0;
  if (side == Side::Buy) {
    const std::int64_t top = bid ? bid->value() : (ask ? ask->value() - kTick : kBestBid.value());
    if (u < 10 && ask && top + kTick < ask->value()) {
      p = top + kTick;
    } else if (u < 45) {
      p = top;
    } else {
      p = top - deep() * kTick;
    }
    if (ask && p >= ask->value()) p = ask->value() - kTick;
    p = std::max(p, lim.down.value());
  } else {
    const std::int64_t top = ask ? ask->value() : (bid ? bid->value() + kTick : kBestAsk.value());
    if (u < 10 && bid && top - kTick > bid->value()) {
      p = top - kTick;
    } else if (u < 45) {
      p = top;
    } else {
      p = top + deep() * kTick;
    }
    if (bid && p <= bid->value()) p = bid->value() + kTick;
    p = std::min(p, lim.up.value());
  }
  return shadow_->new_order(random_owner(), id, side, Price{p}, random_qty());
}

Command MixGenerator::cross(InstrumentId id, OpKind& kind) {
  const Engine& e = shadow_->engine();
  const std::optional<Price> bid = e.best(id, Side::Buy);
  const std::optional<Price> ask = e.best(id, Side::Sell);
  // Lean against the drift: the further the mid is above the reference, the likelier a sell.
  std::int64_t mid = kReference;
  if (bid && ask) mid = (bid->value() + ask->value()) / 2;
  const std::int64_t drift_ticks = (mid - kReference) / kTick;
  const std::int64_t buy_pct = 50 - std::clamp<std::int64_t>(drift_ticks / 4, -40, 40);
  Side side = static_cast<std::int64_t>(rng_.below(100)) < buy_pct ? Side::Buy : Side::Sell;
  if (!(side == Side::Buy ? ask : bid)) side = opposite(side);
  if (!(side == Side::Buy ? ask : bid)) {
    kind = OpKind::AddPassive;
    return passive_add(id, side);
  }
  const Side resting = opposite(side);
  const std::uint32_t live = shadow_->live().count(id, resting);
  std::uint32_t want = 1 + rng_.below(3);
  if (live > p_.target_depth) want += (live - p_.target_depth) / 8;

  std::array<DepthLevel, 32> levels{};
  const std::size_t n = e.depth(id, resting, levels.data(), levels.size());
  std::uint64_t qty = 0;
  Price price = levels[0].price;
  for (std::size_t l = 0; l < n && want > 0; ++l) {
    price = levels[l].price;
    if (levels[l].orders <= want) {
      qty += levels[l].qty;
      want -= levels[l].orders;
    } else {
      const std::uint64_t part = levels[l].qty * want / levels[l].orders / kLot * kLot;
      qty += std::max<std::uint64_t>(part, kLot);
      want = 0;
    }
  }
  qty = (qty + kLot - 1) / kLot * kLot;
  TimeInForce tif = TimeInForce::Ioc;
  if (rng_.chance(30)) {
    tif = TimeInForce::Day;
    qty += kLot * rng_.below(3);
  }
  qty = std::min<std::uint64_t>(qty, 1'000'000);
  kind = OpKind::AddCross;
  return shadow_->new_order(random_owner(), id, side, price, Qty{static_cast<std::uint32_t>(qty)}, tif);
}

Command MixGenerator::cancel(const LiveOrder& o) {
  Qty target{0};
  if (rng_.chance(10) && o.open.value() >= 2 * kLot) {
    target = Qty{o.open.value() / (2 * kLot) * kLot};
    ++stats_.partial_cancels;
  }
  return make_cancel(shadow_->next_ts(), o.owner, token_from_number(o.token), target);
}

Command MixGenerator::replace(const LiveOrder& o, OpKind& kind) {
  const Token existing = token_from_number(o.token);
  if (rng_.below(2) == 0) {
    kind = OpKind::ReplaceKeep;
    const Qty q{o.open.value() > kLot ? o.open.value() - kLot : o.open.value()};
    return make_replace(shadow_->next_ts(), o.owner, existing, shadow_->next_token(), q, o.price);
  }
  kind = OpKind::ReplaceMove;
  const Engine& e = shadow_->engine();
  const std::optional<Price> opp = e.best(o.instrument, opposite(o.side));
  const PriceLimits lim = limits_[o.instrument.value()];
  const std::int64_t step = (1 + static_cast<std::int64_t>(rng_.below(2))) * kTick;
  const auto valid = [&](std::int64_t p) {
    if (p < lim.down.value() || p > lim.up.value()) return false;
    if (!opp) return true;
    return o.side == Side::Buy ? p < opp->value() : p > opp->value();
  };
  const std::int64_t toward = o.side == Side::Buy ? step : -step;
  std::int64_t p = o.price.value() + (rng_.below(2) == 0 ? toward : -toward);
  if (!valid(p)) p = o.price.value() - toward;
  if (!valid(p)) {  // boxed in at a limit: keep the price, which keeps priority
    kind = OpKind::ReplaceKeep;
    p = o.price.value();
    return make_replace(shadow_->next_ts(), o.owner, existing, shadow_->next_token(), o.open, Price{p});
  }
  return make_replace(shadow_->next_ts(), o.owner, existing, shadow_->next_token(), random_qty(), Price{p});
}

Script build_mix(const ScriptLimits& lim, const MixParams& p, MixStats* stats) {
  EngineConfig cfg = make_config(p.instruments, lim.max_tokens);
  MixGenerator gen(p, cfg);
  Script s;
  s.config = std::move(cfg);
  s.seed = gen.seed_commands();
  const std::uint64_t seed_tokens = gen.shadow().tokens_issued();
  // Every command uses at most one token.
  const std::size_t ops = std::min<std::size_t>(lim.max_timed, lim.max_tokens - seed_tokens);
  s.timed.reserve(ops);
  s.kinds.reserve(ops);
  for (std::size_t i = 0; i < ops; ++i) {
    OpKind k{};
    s.timed.push_back(gen.next(k));
    s.kinds.push_back(k);
  }
  s.chunk_end.push_back(ops);
  s.restore_end.push_back(0);
  s.timed_events = gen.stats().events;
  s.timed_fills = gen.stats().fills;
  s.final_state_hash = gen.shadow().engine().state_hash();
  if (stats != nullptr) *stats = gen.stats();
  return s;
}

}  // namespace peregrine::bench
