// Call auctions: the auction price, the uncross, indicatives, phase transitions and the
// close's expiry (docs/market-rules.md, "Trading phases" and "Call auctions").

#include <algorithm>
#include <cstdint>

#include "engine_state.hpp"

namespace peregrine::detail {

// The auction price of the book as it stands: the price that executes the most shares; among
// those, the smallest surplus; among those, the one closest to the reference (the previous close
// for the opening auction, else the last trade, else the previous close). The candidates with
// the best volume and surplus form one interval of ticks (volume is the minimum of a
// non-increasing and a non-decreasing function of price; the surplus is monotone), so
// "closest" is a clamp. O(non-empty levels between the best ask and the best bid).
EngineState::Auction EngineState::compute_auction(const Book& b, CrossType type) const noexcept {
  Auction a{};
  if (!crossed(b)) return a;
  const std::uint32_t lo = b.asks.best;
  const std::uint32_t hi = b.bids.best;
  std::uint64_t bid_ge = 0;  // bids at or above the current index
  for (std::uint32_t i = hi; i != kNone && i >= lo; i = i == 0 ? kNone : b.bids.bits.prev_le(i - 1))
    bid_ge += b.bids.levels[i].qty;
  std::uint64_t ask_le = 0;  // asks at or below the current index
  std::uint64_t best_v = 0;
  std::uint64_t best_imb = 0;
  std::uint32_t plo = kNone;
  std::uint32_t phi = kNone;
  auto consider = [&](std::uint32_t from, std::uint32_t to, std::uint64_t buy, std::uint64_t sell) {
    const std::uint64_t v = std::min(buy, sell);
    const std::uint64_t imb = buy > sell ? buy - sell : sell - buy;
    if (plo == kNone || v > best_v || (v == best_v && imb < best_imb)) {
      best_v = v;
      best_imb = imb;
      plo = from;
      phi = to;
    } else if (v == best_v && imb == best_imb) {
      phi = to;  // contiguous with the interval found so far
    }
  };
  std::uint32_t prev = kNone;
  std::uint32_t nb = b.bids.bits.next_ge(lo);
  std::uint32_t na = lo;
  while (true) {
    const std::uint32_t x = std::min(nb == kNone ? kNone : nb, na == kNone ? kNone : na);
    if (x == kNone || x > hi) break;
    if (prev != kNone && x > prev + 1) consider(prev + 1, x - 1, bid_ge, ask_le);
    if (x == na) {
      ask_le += b.asks.levels[x].qty;
      na = b.asks.bits.next_ge(x + 1);
    }
    consider(x, x, bid_ge, ask_le);
    if (x == nb) {
      bid_ge -= b.bids.levels[x].qty;
      nb = b.bids.bits.next_ge(x + 1);
    }
    prev = x;
  }
  // Closest to the reference, in ticks (a reference off the tick rounds half up).
  const std::int64_t ref = type != CrossType::Opening && b.last_trade != 0 ? b.last_trade
                                                                            : b.cfg.reference_price.value();
  std::int64_t ri = ref <= b.down ? 0 : (ref - b.down + b.tick / 2) / b.tick;
  ri = std::clamp<std::int64_t>(ri, plo, phi);
  const std::uint32_t pi = static_cast<std::uint32_t>(ri);
  a.price = b.price_of(pi);
  a.paired = best_v;
  a.imbalance = best_imb;
  if (best_imb != 0) {
    // The surplus side at the chosen price (the interval shares one surplus).
    std::uint64_t buy = 0;
    for (std::uint32_t i = hi; i != kNone && i >= pi; i = i == 0 ? kNone : b.bids.bits.prev_le(i - 1))
      buy += b.bids.levels[i].qty;
    a.side = static_cast<std::uint8_t>(buy > best_v ? Side::Buy : Side::Sell);
  }
  return a;
}

// Executes the call's auction: every buy above the price and sell below it in full, the orders
// at the price in time priority, all at the one price. No self-trade prevention (the venue's
// auction, see the rules page). Book and order events per fill, then one CrossTrade.
void EngineState::uncross(EventSink& sink, Timestamp ts, Book& b, CrossType type) noexcept {
  const Auction a = compute_auction(b, type);
  if (a.paired == 0) return;
  const std::int64_t px = a.price;
  const Liquidity liq = type == CrossType::Opening   ? Liquidity::OpeningCross
                        : type == CrossType::Closing ? Liquidity::ClosingCross
                                                     : Liquidity::HaltCross;
  std::uint64_t remaining = a.paired;
  while (remaining > 0) {
    const std::uint32_t bi = b.bids.best;
    const std::uint32_t ai = b.asks.best;
    const std::uint32_t bs = b.bids.levels[bi].head;
    const std::uint32_t as = b.asks.levels[ai].head;
    OrderSlot& buy = pool[bs];
    OrderSlot& sell = pool[as];
    const std::uint32_t q = static_cast<std::uint32_t>(
        std::min<std::uint64_t>(remaining, std::min(buy.open, sell.open)));
    const std::uint64_t match_no = next_match++;
    remaining -= q;
    for (std::uint32_t s : {bs, as}) {
      OrderSlot& o = pool[s];
      o.open -= q;
      b.side(o.side).levels[b.index_of(o.price)].qty -= q;
      firms[o.firm.value()].open_shares -= q;
      emit_executed(sink, ts, b, o, px, q, match_no, liq);
    }
    for (std::uint32_t s : {bs, as}) emit_book_execute(sink, ts, b, pool[s], px, q, match_no, 1);
    for (std::uint32_t s : {bs, as}) {
      if (pool[s].open != 0) continue;
      level_unlink(b, s, 0);
      firm_unlink(s);
      free_slot(s);
    }
  }
  b.last_trade = px;
  Event& e = sink.emplace(EventType::CrossTrade, ts);
  e.instrument = b.id;
  e.price = Price{px};
  e.order_id = OrderId{a.paired};
  e.ref = next_match++;
  e.code = static_cast<std::uint8_t>(type);
}

// Day orders still open at the close expire (Canceled, reason Expired; BookDelete).
void EngineState::expire_all(EventSink& sink, Timestamp ts, Book& b) noexcept {
  for (BookSide* bs : {&b.bids, &b.asks}) {
    while (bs->best != kNone) {
      const std::uint32_t s = bs->levels[bs->best].head;
      reduce_resting(sink, ts, b, s, pool[s].open, CancelReason::Expired);
    }
  }
}

void EngineState::transition(EventSink& sink, Timestamp ts, Book& b, TradingStatus to) noexcept {
  const TradingStatus from = b.status;
  if ((to == TradingStatus::Trading || to == TradingStatus::Break || to == TradingStatus::Closed) && crossed(b))
    uncross(sink, ts, b, cross_type_for(from));
  b.status = to;
  if (!is_call_phase(to)) b.ind_valid = false;
  Event& e = sink.emplace(EventType::TradingStatusChanged, ts);
  e.instrument = b.id;
  e.code = static_cast<std::uint8_t>(to);
  if (to == TradingStatus::Closed) expire_all(sink, ts, b);
  touch(b);  // a call phase publishes its first indicative
}

void EngineState::publish_indicatives(EventSink& sink, Timestamp ts) noexcept {
  for (const std::uint16_t bi : dirty_books) {
    Book& b = books[bi];
    b.dirty = false;
    if (!is_call_phase(b.status)) continue;
    const CrossType type = cross_type_for(b.status);
    const Auction a = compute_auction(b, type);
    if (b.ind_valid && a.price == b.ind_price && a.paired == b.ind_paired && a.imbalance == b.ind_imbalance &&
        a.side == b.ind_side)
      continue;
    b.ind_valid = true;
    b.ind_price = a.price;
    b.ind_paired = a.paired;
    b.ind_imbalance = a.imbalance;
    b.ind_side = a.side;
    Event& e = sink.emplace(EventType::Indicative, ts);
    e.instrument = b.id;
    e.price = Price{a.price};
    e.ref = a.paired;
    e.order_id = OrderId{a.imbalance};
    e.side = static_cast<Side>(a.side);
    e.code = static_cast<std::uint8_t>(type);
  }
  dirty_books.clear();
}

}  // namespace peregrine::detail
