// The Engine: construction, command dispatch, queries and the state hash. Layout of the core:
//   - orders live in one preallocated pool of 64-byte slots, linked into their price level's
//     FIFO and into their firm's list (ascending order id, for mass cancel);
//   - each book side is an array of levels indexed by (price - limit down) / tick, with a
//     hierarchical bitmap of non-empty levels and a cached best index;
//   - tokens map to slots through TokenIndex.
// State: engine_state.hpp; matching: matching.cpp (checks in order_checks.hpp); call auctions:
// auction.cpp; controls: controls.cpp; invariants: validate.cpp; snapshots:
// engine_snapshot_codec.cpp. Nothing here allocates, throws, blocks or reads a clock once the
// Engine is constructed.

#include "peregrine/core/engine.hpp"

#include <bit>
#include <memory>
#include <optional>

#include "engine_state.hpp"
#include "peregrine/core/state_hash.hpp"

namespace peregrine {

using detail::kNone;

Engine::Engine(const EngineConfig& cfg) : s_(std::make_unique<detail::EngineState>(cfg)) {
  detail::EngineState& s = *s_;
  // Nothing here walks a table sized for the day: levels, bitmaps, the pool and the token index
  // are zero pages (empty = all zeros) that fault in on first use. What is written is per
  // instrument and per firm.
  s.books.resize(cfg.instruments.size());
  std::size_t total_levels = 0;
  std::size_t total_words = 0;
  for (std::size_t i = 0; i < cfg.instruments.size(); ++i) {
    detail::Book& b = s.books[i];
    b.cfg = cfg.instruments[i];
    b.id = InstrumentId{static_cast<std::uint16_t>(i + 1)};
    b.tick = b.cfg.tick.value();
    b.tick_inv = detail::Book::inverse_of(b.tick);
    const PriceLimits lim = compute_price_limits(b.cfg.reference_price, b.cfg.limit_bps, b.cfg.tick);
    b.down = lim.down.value();
    b.up = lim.up.value();
    b.nlevels = static_cast<std::uint32_t>((b.up - b.down) / b.tick + 1);
    total_levels += 2 * std::size_t{b.nlevels};
    total_words += 2 * detail::LevelBitmap::words_for(b.nlevels);
    b.status = b.cfg.initial_status;
    b.session = is_session_phase(b.status) ? b.status : TradingStatus::Trading;
  }
  s.level_store = detail::LargeArray<detail::Level>(total_levels, detail::kZeroFilled, detail::Pages::Small);
  s.bitmap_store = detail::LargeArray<std::uint64_t>(total_words, detail::kZeroFilled, detail::Pages::Small);
  std::size_t next_level = 0;
  std::size_t next_word = 0;
  for (detail::Book& b : s.books) {
    for (detail::BookSide* side : {&b.bids, &b.asks}) {
      side->levels = &s.level_store[next_level];
      side->bits = detail::LevelBitmap(b.nlevels, &s.bitmap_store[next_word]);
      next_level += b.nlevels;
      next_word += detail::LevelBitmap::words_for(b.nlevels);
    }
  }
  s.dirty_books.reserve(s.books.size());
  s.firms.resize(cfg.firms.size());
  for (std::size_t i = 0; i < cfg.firms.size(); ++i) s.firms[i].cfg = cfg.firms[i];

  // Slots come from the free list of slots given back, else from a high-water mark over slots
  // never used (next_fresh), so no slot is linked at start.
  s.pool = detail::LargeArray<detail::OrderSlot>(cfg.max_orders, detail::kZeroFilled);

  std::size_t cap = 16;
  while (cap < cfg.instruments.size() * 4) cap <<= 1;
  s.symbol_keys.assign(cap, 0);
  s.symbol_books.assign(cap, 0);
  s.symbol_mask = cap - 1;
  s.symbol_shift = static_cast<unsigned>(64 - std::countr_zero(cap));
  for (std::size_t i = 0; i < cfg.instruments.size(); ++i) {
    const std::uint64_t k = detail::symbol_key(cfg.instruments[i].symbol);
    std::size_t j = s.symbol_home(k);
    while (s.symbol_books[j] != 0) j = (j + 1) & s.symbol_mask;
    s.symbol_keys[j] = k;
    s.symbol_books[j] = static_cast<std::uint16_t>(i + 1);
  }
}

Engine::~Engine() = default;

void Engine::process(const Command& cmd, EventSink& sink) noexcept {
  switch (cmd.type) {
    case CommandType::NewOrder: s_->on_new_order(cmd.new_order, cmd.ts, sink); break;
    case CommandType::Cancel: s_->on_cancel(cmd.cancel, cmd.ts, sink); break;
    case CommandType::Replace: s_->on_replace(cmd.replace, cmd.ts, sink); break;
    case CommandType::MassCancel: s_->on_mass_cancel(cmd.mass_cancel, cmd.ts, sink); break;
    case CommandType::SetKillSwitch: s_->on_kill_switch(cmd.kill_switch, cmd.ts, sink); break;
    case CommandType::SetTradingStatus: s_->on_trading_status(cmd.trading_status, cmd.ts, sink); break;
    case CommandType::EdgeReject: {  // the gateway's refusal, sequenced here; no state is read or changed
      Event& e = sink.emplace(EventType::Rejected, cmd.ts);
      e.owner = cmd.edge_reject.owner;
      e.token = cmd.edge_reject.token;
      e.code = static_cast<std::uint8_t>(RejectCode::Gateway);
      e.ref = cmd.edge_reject.reason;
      break;
    }
    default: s_->reject_admin(sink, cmd.ts, RejectCode::InvalidOrderType); break;
  }
  if (!s_->dirty_books.empty()) s_->publish_indicatives(sink, cmd.ts);
}

void Engine::pretouch() noexcept {
  s_->level_store.pretouch();
  s_->bitmap_store.pretouch();
  s_->pool.pretouch();
  s_->tokens.pretouch();
}

void Engine::prefetch(const Command& cmd) const noexcept {
  switch (cmd.type) {
    case CommandType::NewOrder: s_->tokens.prefetch(cmd.new_order.owner, cmd.new_order.token); break;
    case CommandType::Cancel: s_->tokens.prefetch(cmd.cancel.owner, cmd.cancel.token); break;
    case CommandType::Replace:
      s_->tokens.prefetch(cmd.replace.owner, cmd.replace.existing);
      s_->tokens.prefetch(cmd.replace.owner, cmd.replace.replacement);
      break;
    default: break;
  }
}

InstrumentId Engine::find_instrument(const Symbol& sym) const noexcept {
  const std::uint32_t bi = s_->find_book(sym);
  return bi == kNone ? InstrumentId{0} : InstrumentId{static_cast<std::uint16_t>(bi + 1)};
}

std::optional<FirmId> Engine::find_firm(const FirmName& n) const noexcept {
  for (std::size_t i = 0; i < s_->firms.size(); ++i)
    if (s_->firms[i].cfg.name == n) return FirmId{static_cast<std::uint16_t>(i)};
  return std::nullopt;
}

std::optional<Price> Engine::best(InstrumentId id, Side side) const noexcept {
  if (!s_->valid_book(id)) return std::nullopt;
  const detail::Book& b = s_->books[id.value() - 1u];
  const detail::BookSide& bs = b.side(side);
  if (bs.best == kNone) return std::nullopt;
  return Price{b.price_of(bs.best)};
}

std::size_t Engine::depth(InstrumentId id, Side side, DepthLevel* out, std::size_t max_levels) const noexcept {
  if (!s_->valid_book(id)) return 0;
  const detail::Book& b = s_->books[id.value() - 1u];
  const detail::BookSide& bs = b.side(side);
  std::size_t n = 0;
  for (std::uint32_t idx = bs.best; idx != kNone && n < max_levels;
       idx = s_->next_level_away(bs, opposite(side), idx)) {
    const detail::Level& l = bs.levels[idx];
    out[n++] = DepthLevel{Price{b.price_of(idx)}, l.qty, l.count};
  }
  return n;
}

PriceLimits Engine::limits(InstrumentId id) const noexcept {
  if (!s_->valid_book(id)) return PriceLimits{};
  const detail::Book& b = s_->books[id.value() - 1u];
  return PriceLimits{Price{b.down}, Price{b.up}};
}

TradingStatus Engine::status(InstrumentId id) const noexcept {
  return s_->valid_book(id) ? s_->books[id.value() - 1u].status : TradingStatus::Halted;
}

TradingStatus Engine::session(InstrumentId id) const noexcept {
  return s_->valid_book(id) ? s_->books[id.value() - 1u].session : TradingStatus::Closed;
}

AuctionInfo Engine::indicative(InstrumentId id) const noexcept {
  if (!s_->valid_book(id)) return AuctionInfo{};
  const detail::Book& b = s_->books[id.value() - 1u];
  const auto a = s_->compute_auction(b, detail::EngineState::cross_type_for(b.status));
  return AuctionInfo{Price{a.price}, a.paired, a.imbalance, a.side == 0 ? std::optional<Side>{} : static_cast<Side>(a.side)};
}

std::uint64_t Engine::firm_open_shares(FirmId id) const noexcept {
  return id.value() < s_->firms.size() ? s_->firms[id.value()].open_shares : 0;
}

bool Engine::kill_switch(FirmId id) const noexcept {
  return id.value() < s_->firms.size() && s_->firms[id.value()].kill;
}

EngineStats Engine::stats() const noexcept {
  return EngineStats{s_->live,
                     s_->tokens.count(),
                     s_->cfg.max_orders,
                     s_->tokens.limit(),
                     std::uint64_t{s_->pool.size()} * sizeof(detail::OrderSlot),
                     s_->tokens.bytes()};
}

const EngineConfig& Engine::config() const noexcept { return s_->cfg; }

std::uint64_t Engine::state_hash() const noexcept {
  StateHasher h;
  for (const detail::Book& b : s_->books) {
    h.instrument(b.id, b.status, Price{b.last_trade}, b.session);
    if (b.ind_valid) h.indicative(Price{b.ind_price}, b.ind_paired, b.ind_imbalance, b.ind_side);
    for (Side side : {Side::Buy, Side::Sell}) {
      const detail::BookSide& bs = b.side(side);
      for (std::uint32_t idx = bs.best; idx != kNone; idx = s_->next_level_away(bs, opposite(side), idx)) {
        for (std::uint32_t s = bs.levels[idx].head; s != kNone; s = s_->pool[s].next) {
          const detail::OrderSlot& o = s_->pool[s];
          h.order(OrderId{o.id}, OwnerId{o.owner}, o.firm, o.side, Price{o.price}, Qty{o.open}, o.token);
        }
      }
    }
  }
  for (std::size_t i = 0; i < s_->firms.size(); ++i)
    h.firm(FirmId{static_cast<std::uint16_t>(i)}, s_->firms[i].open_shares, s_->firms[i].kill);
  h.tokens(s_->tokens.count(), s_->token_sum_now());
  h.counters(OrderId{s_->next_order_id}, MatchNumber{s_->next_match});
  return h.value();
}

}  // namespace peregrine
