#include "peregrine/egress/egress.hpp"

#include <array>
#include <bit>
#include <utility>

namespace peregrine::egress {

namespace itch = proto::itch;
namespace ouch = proto::ouch;

Egress::Egress(const EngineConfig& cfg, const proto::ReferenceLookup& ref, sessions::UserDirectory& users,
               const EgressConfig& ecfg, MoldUdpPacketizer::DatagramFn send_datagram)
    : cfg_(cfg),
      ref_(ref),
      users_(users),
      itch_(ecfg.itch_retention, ecfg.depth_lag_limit),
      mold_(itch_, ecfg.mold, std::move(send_datagram)),
      feeds_(itch_),
      depth_(cfg.instruments.size()) {
  dirty_set_.assign(std::bit_ceil(2 * users.size() + 2), nullptr);
  dirty_.reserve(dirty_set_.size() / 2);
  dirty_slots_.reserve(dirty_set_.size() / 2);
  for (const InstrumentConfig& i : cfg.instruments) {
    status_.push_back(i.initial_status);
    if (i.initial_status != TradingStatus::Closed) ++open_instruments_;
  }
}

void Egress::publish(const itch::Message& m) {
  std::array<std::uint8_t, itch::kMaxMessageSize> buf{};
  const std::size_t n = itch::encode(m, buf);
  const std::span<const std::uint8_t> bytes{buf.data(), n};
  const std::uint64_t seq = itch_.append(bytes);
  mold_.add(seq, bytes);
  ++counters_.itch_messages;
}

void Egress::on_event(const Event& ev) {
  ++counters_.events;
  switch (ev.type) {
    case EventType::Accepted:
    case EventType::Rejected:
    case EventType::Executed:
    case EventType::Canceled:
    case EventType::Replaced:
    case EventType::CancelRejected: {
      sessions::UserState* u = users_.find(ev.owner);
      if (u == nullptr) {
        ++counters_.unknown_owner_dropped;
        return;
      }
      ouch::Outbound out{};
      if (!proto::to_ouch(ev, ref_, out)) {
        ++counters_.untranslated;
        return;
      }
      std::array<std::uint8_t, ouch::kMaxMessageSize> buf{};
      const std::size_t n = ouch::encode(out, buf);
      u->outbound.append({buf.data(), n});
      ++counters_.ouch_messages;
      mark_dirty(u);
      return;
    }
    case EventType::TradingStatusChanged:
      on_status(ev);
      [[fallthrough]];
    // The depth books and indicatives follow from the ITCH messages (DepthFollower, elsewhere).
    case EventType::BookAdd:
    case EventType::BookExecute:
    case EventType::BookCancel:
    case EventType::BookDelete:
    case EventType::BookReplace:
    case EventType::Indicative:
    case EventType::CrossTrade:
    case EventType::KillSwitchChanged: {
      itch::Message m{};
      if (proto::to_itch(ev, ref_, m)) publish(m);
      return;
    }
  }
}

void Egress::on_status(const Event& ev) {
  const std::size_t i = static_cast<std::size_t>(ev.instrument.value()) - 1;
  if (ev.instrument.value() == 0 || i >= status_.size()) return;
  const TradingStatus to = static_cast<TradingStatus>(ev.code);
  const bool was_closed = status_[i] == TradingStatus::Closed;
  status_[i] = to;
  if (was_closed && to != TradingStatus::Closed) {
    if (open_instruments_++ == 0) ouch_system_event(ev.ts, 'S');  // start of day
  } else if (!was_closed && to == TradingStatus::Closed) {
    if (--open_instruments_ == 0) ouch_system_event(ev.ts, 'E');  // end of day
  }
}

// OUCH 4.2 System Event to every user (journaled: a user logging in later replays it).
void Egress::ouch_system_event(Timestamp ts, char code) {
  ouch::Outbound out{};
  out.type = ouch::OutboundType::SystemEvent;
  out.system_event = ouch::SystemEvent{ts.value(), code};
  std::array<std::uint8_t, ouch::kMaxMessageSize> buf{};
  const std::size_t n = ouch::encode(out, buf);
  for (std::size_t u = 0; u < users_.size(); ++u) {
    sessions::UserState* user = &users_.at(u);
    user->outbound.append({buf.data(), n});
    ++counters_.ouch_messages;
    mark_dirty(user);
  }
}

void Egress::mark_dirty(sessions::UserState* u) {
  if ((dirty_slots_.size() + 1) * 2 > dirty_set_.size()) {
    // More users than at construction (added since): a bigger table, rebuilt from dirty_.
    std::vector<sessions::UserState*> batch;
    batch.swap(dirty_);
    dirty_set_.assign(dirty_set_.size() * 2, nullptr);
    dirty_slots_.clear();
    dirty_.reserve(dirty_set_.size() / 2);
    dirty_slots_.reserve(dirty_set_.size() / 2);
    for (sessions::UserState* b : batch) mark_dirty(b);
  }
  const std::size_t mask = dirty_set_.size() - 1;
  std::size_t i = static_cast<std::size_t>((static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(u)) >> 4) *
                                           0x9E3779B97F4A7C15ull >> 20) & mask;
  for (; dirty_set_[i] != nullptr; i = (i + 1) & mask)
    if (dirty_set_[i] == u) return;
  dirty_set_[i] = u;
  dirty_slots_.push_back(i);  // within capacity: the table is kept at most half full
  dirty_.push_back(u);
}

void Egress::on_events(std::span<const Event> events) {
  for (const Event& ev : events) on_event(ev);
}

void Egress::flush(std::uint64_t now_ns) {
  for (sessions::UserState* u : dirty_) {
    if (u->active != nullptr) {
      u->active->deliver(now_ns);
      ++counters_.session_deliveries;
    }
  }
  dirty_.clear();
  for (const std::size_t i : dirty_slots_) dirty_set_[i] = nullptr;
  dirty_slots_.clear();
  mold_.flush(now_ns);
  feeds_.deliver_all(now_ns);
}

void Egress::on_tick(std::uint64_t now_ns) {
  mold_.on_tick(now_ns);
  feeds_.tick_all(now_ns);
}

void Egress::system_event(Timestamp ts, char code) {
  itch::Message m{};
  m.type = itch::MessageType::SystemEvent;
  m.system_event = itch::SystemEvent{itch::Header{0, 0, ts.value() & itch::kTimestampMask}, code};
  publish(m);
}

void Egress::start_of_day(Timestamp ts) {
  system_event(ts, itch::event::kStartOfMessages);
  system_event(ts, itch::event::kStartOfSystemHours);
  for (std::size_t i = 0; i < cfg_.instruments.size(); ++i) {
    const InstrumentId id{static_cast<std::uint16_t>(i + 1)};
    itch::Message m{};
    m.type = itch::MessageType::StockDirectory;
    m.stock_directory = proto::make_stock_directory(id, cfg_.instruments[i], ts);
    publish(m);
  }
  for (std::size_t i = 0; i < cfg_.instruments.size(); ++i) {
    const InstrumentId id{static_cast<std::uint16_t>(i + 1)};
    // The same message a TradingStatusChanged event publishes.
    Event ev = Event::make(EventType::TradingStatusChanged, ts);
    ev.instrument = id;
    ev.code = static_cast<std::uint8_t>(cfg_.instruments[i].initial_status);
    itch::Message m{};
    if (proto::to_itch(ev, ref_, m)) publish(m);
  }
  system_event(ts, itch::event::kStartOfMarketHours);
}

void Egress::end_of_day(Timestamp ts, std::uint64_t now_ns) {
  system_event(ts, itch::event::kEndOfMarketHours);
  system_event(ts, itch::event::kEndOfSystemHours);
  system_event(ts, itch::event::kEndOfMessages);
  flush(now_ns);
  mold_.end_of_session(now_ns);
  feeds_.end_all(now_ns);
}

std::optional<AuctionInfo> Egress::indicative(InstrumentId id) {
  if (!follow_depth()) return std::nullopt;
  return depth_.indicative(id);
}

std::vector<DepthLevel> Egress::depth(InstrumentId id, Side side, std::size_t max_levels) {
  if (!follow_depth()) return {};
  return depth_.depth(id, side, max_levels);
}

}  // namespace peregrine::egress
