// Engine::validate_internal_state: walks every structure and checks its invariants. For tests.

#include <cstdint>
#include <vector>

#include "engine_state.hpp"
#include "peregrine/core/engine.hpp"

namespace peregrine {

using detail::kNone;

bool Engine::validate_internal_state() const noexcept {
  const detail::EngineState& s = *s_;
  std::vector<std::uint64_t> firm_open(s.firms.size(), 0);
  std::uint64_t on_book = 0;
  for (const detail::Book& b : s.books) {
    for (Side side : {Side::Buy, Side::Sell}) {
      const detail::BookSide& bs = b.side(side);
      std::uint32_t best = kNone;
      for (std::uint32_t idx = 0; idx < b.nlevels; ++idx) {
        const detail::Level& l = bs.levels[idx];
        if ((l.count != 0) != bs.bits.test(idx)) return false;
        if (l.count == 0) {
          if (l.head != 0 || l.tail != 0 || l.qty != 0) return false;  // empty is all zeros
          continue;
        }
        if (side == Side::Buy || best == kNone) best = side == Side::Buy ? idx : (best == kNone ? idx : best);
        std::uint32_t n = 0;
        std::uint64_t qty = 0;
        std::uint32_t prev = kNone;
        for (std::uint32_t x = l.head; x != kNone; x = s.pool[x].next) {
          const detail::OrderSlot& o = s.pool[x];
          if (o.prev != prev || o.side != side || o.price != b.price_of(idx) || o.open == 0) return false;
          if (&s.books[o.book] != &b) return false;
          const detail::TokenEntry& te = s.tokens.at(o.token_entry);
          if (te.slot() != x || te.owner != o.owner || !(te.token == o.token)) return false;
          firm_open[o.firm.value()] += o.open;
          qty += o.open;
          ++n;
          prev = x;
          if (n > s.pool.size()) return false;
        }
        if (prev != l.tail || n != l.count || qty != l.qty) return false;
        on_book += n;
      }
      if (best != bs.best) return false;
    }
    // Crossed only where nothing matches: a call phase, or a halt or suspension (entered from one).
    if (s.crossed(b) && !is_call_phase(b.status) && b.status != TradingStatus::Halted &&
        b.status != TradingStatus::Suspended)
      return false;
  }
  if (on_book != s.live) return false;
  for (std::size_t i = 0; i < s.firms.size(); ++i) {
    const detail::FirmState& f = s.firms[i];
    if (f.open_shares != firm_open[i]) return false;
    std::uint64_t last_id = 0;
    std::uint32_t prev = kNone;
    std::uint64_t n = 0;
    for (std::uint32_t x = f.head; x != kNone; x = s.pool[x].firm_next) {
      const detail::OrderSlot& o = s.pool[x];
      if (o.firm_prev != prev || o.id <= last_id || o.firm.value() != i) return false;
      last_id = o.id;
      prev = x;
      if (++n > s.pool.size()) return false;
    }
    if (prev != f.tail) return false;
  }
  std::uint64_t free_n = 0;
  for (std::uint32_t x = s.free_head; x != kNone; x = s.pool[x].next)
    if (++free_n > s.pool.size()) return false;
  return free_n + s.live + (s.pool.size() - s.next_fresh) == s.pool.size();
}

}  // namespace peregrine
