// New orders, cancels and replaces, and the continuous match loop (docs/market-rules.md).
// The hot path: called from Engine::process for every order command.

#include <algorithm>
#include <cstdint>

#include "engine_state.hpp"
#include "order_checks.hpp"

namespace peregrine::detail {

// Cancels `dec` shares of a resting order (all of it when dec == open).
void EngineState::reduce_resting(EventSink& sink, Timestamp ts, Book& b, std::uint32_t s, std::uint32_t dec,
                                 CancelReason why) noexcept {
  touch(b);
  OrderSlot& o = pool[s];
  firms[o.firm.value()].open_shares -= dec;
  if (dec == o.open) {
    level_unlink(b, s, o.open);
    o.open = 0;
    emit_canceled(sink, ts, b, o, dec, why);
    emit_book(sink, EventType::BookDelete, ts, b, o, 0, 0);
    firm_unlink(s);
    free_slot(s);
  } else {
    o.open -= dec;
    b.side(o.side).levels[b.index_of(o.price)].qty -= dec;
    emit_canceled(sink, ts, b, o, dec, why);
    emit_book(sink, EventType::BookCancel, ts, b, o, dec, o.open);
  }
}

// Cancels what is left of an incoming order that is not on the book and frees it.
void EngineState::finish_incoming(EventSink& sink, Timestamp ts, Book& b, std::uint32_t s, CancelReason why) noexcept {
  OrderSlot& o = pool[s];
  if (o.open > 0) {
    const std::uint32_t dec = o.open;
    firms[o.firm.value()].open_shares -= dec;
    o.open = 0;
    emit_canceled(sink, ts, b, o, dec, why);
  }
  firm_unlink(s);
  free_slot(s);
}

// Price of the worst of the opposite side's five best levels, or 0 when it is empty.
std::int64_t EngineState::protection_price(const Book& b, Side side) const noexcept {
  const BookSide& opp = b.side(opposite(side));
  std::uint32_t idx = opp.best;
  if (idx == kNone) return 0;
  for (int n = 1; n < 5; ++n) {
    const std::uint32_t nx = next_level_away(opp, side, idx);
    if (nx == kNone) break;
    idx = nx;
  }
  return b.price_of(idx);
}

// How much an incoming order would fill now (see "Minimum quantity"); stops at `need`.
std::uint64_t EngineState::simulate_fill(const Book& b, Side side, std::int64_t limit, std::uint32_t open, FirmId firm,
                                         std::uint64_t need) const noexcept {
  const BookSide& opp = b.side(opposite(side));
  const StpMode stp = firms[firm.value()].cfg.stp;
  std::uint64_t fill = 0;
  std::uint64_t rem = open;
  for (std::uint32_t idx = opp.best; idx != kNone && rem > 0; idx = next_level_away(opp, side, idx)) {
    if (!crosses(side, limit, b.price_of(idx))) break;
    const Level& l = opp.levels[idx];
    if (stp == StpMode::None) {
      const std::uint64_t take = std::min<std::uint64_t>(rem, l.qty);
      fill += take;
      rem -= take;
    } else {
      for (std::uint32_t s = l.head; s != kNone && rem > 0; s = pool[s].next) {
        const OrderSlot& r = pool[s];
        if (r.firm == firm) {
          if (stp == StpMode::CancelNewest || stp == StpMode::CancelBoth) return fill;
          if (stp == StpMode::Decrement) rem -= std::min<std::uint64_t>(rem, r.open);
          continue;  // CancelOldest: skipped
        }
        const std::uint64_t take = std::min<std::uint64_t>(rem, r.open);
        fill += take;
        rem -= take;
      }
    }
    if (fill >= need) return fill;
  }
  return fill;
}

// Matches incoming slot `s` against the opposite side up to `limit`. Returns false when the
// order was finished by self-trade prevention (already freed), true otherwise.
bool EngineState::match(EventSink& sink, Timestamp ts, Book& b, std::uint32_t s, std::int64_t limit,
                        std::int64_t& last_fill) noexcept {
  OrderSlot& o = pool[s];
  BookSide& opp = b.side(opposite(o.side));
  FirmState& my_firm = firms[o.firm.value()];
  const StpMode stp = my_firm.cfg.stp;
  while (o.open > 0 && opp.best != kNone) {
    const std::uint32_t idx = opp.best;
    const std::int64_t px = b.price_of(idx);
    if (!crosses(o.side, limit, px)) break;
    const std::uint32_t rs = opp.levels[idx].head;
    OrderSlot& r = pool[rs];
    if (stp != StpMode::None && r.firm == o.firm) {
      switch (stp) {
        case StpMode::CancelNewest:
          finish_incoming(sink, ts, b, s, CancelReason::SelfMatch);
          return false;
        case StpMode::CancelOldest:
          reduce_resting(sink, ts, b, rs, r.open, CancelReason::SelfMatch);
          continue;
        case StpMode::CancelBoth:
          reduce_resting(sink, ts, b, rs, r.open, CancelReason::SelfMatch);
          finish_incoming(sink, ts, b, s, CancelReason::SelfMatch);
          return false;
        case StpMode::Decrement: {
          const std::uint32_t d = std::min(o.open, r.open);
          reduce_resting(sink, ts, b, rs, d, CancelReason::SelfMatch);
          o.open -= d;
          my_firm.open_shares -= d;
          emit_canceled(sink, ts, b, o, d, CancelReason::SelfMatch);
          if (o.open == 0) {
            firm_unlink(s);
            free_slot(s);
            return false;
          }
          continue;
        }
        case StpMode::None: break;
      }
    }
    const std::uint32_t q = std::min(o.open, r.open);
    const std::uint64_t match_no = next_match++;
    r.open -= q;
    o.open -= q;
    opp.levels[idx].qty -= q;
    firms[r.firm.value()].open_shares -= q;
    my_firm.open_shares -= q;
    b.last_trade = px;
    last_fill = px;

    emit_executed(sink, ts, b, r, px, q, match_no, Liquidity::Added);
    emit_executed(sink, ts, b, o, px, q, match_no, Liquidity::Removed);
    emit_book_execute(sink, ts, b, r, px, q, match_no, 0);

    if (r.open == 0) {
      level_unlink(b, rs, 0);
      firm_unlink(rs);
      free_slot(rs);
    }
  }
  return true;
}

void EngineState::rest(EventSink& sink, Timestamp ts, Book& b, std::uint32_t s) noexcept {
  touch(b);
  OrderSlot& o = pool[s];
  level_append(b, s);
  Event& e = sink.emplace(EventType::BookAdd, ts);
  e.instrument = b.id;
  e.side = o.side;
  e.order_id = OrderId{o.id};
  e.price = Price{o.price};
  e.qty = Qty{o.open};
  e.firm = o.firm;
}

void EngineState::on_new_order(const NewOrderCmd& c, Timestamp ts, EventSink& sink) noexcept {
  const OwnerId owner = c.owner;
  auto reject = [&](InstrumentId id, RejectCode code) { emit_reject(sink, ts, owner, c.firm, id, code, c.token); };
  if (c.firm.value() >= firms.size()) return reject(InstrumentId{0}, RejectCode::UnknownFirm);
  const std::uint32_t bi = find_book(c.symbol);
  if (bi == kNone) return reject(InstrumentId{0}, RejectCode::UnknownSymbol);
  Book& b = books[bi];
  FirmState& f = firms[c.firm.value()];
  const TokenIndex::Probe token = tokens.probe(owner, c.token);
  if (token.key != kEmptyEntry) return reject(b.id, RejectCode::DuplicateToken);
  if (f.kill) return reject(b.id, RejectCode::KillSwitch);
  if (const RejectCode r = entry_phase_check(b); r != RejectCode::None) return reject(b.id, r);
  if (c.side != Side::Buy && c.side != Side::Sell) return reject(b.id, RejectCode::InvalidSide);
  const bool market = c.type == OrderType::MarketBestFiveIoc || c.type == OrderType::MarketBestFiveToLimit;
  if ((!market && c.type != OrderType::Limit) ||
      (c.tif != TimeInForce::Day && c.tif != TimeInForce::Ioc && c.tif != TimeInForce::Fok) ||
      c.post_only > 1 || (c.post_only != 0 && (market || c.tif != TimeInForce::Day)))
    return reject(b.id, RejectCode::InvalidOrderType);
  const bool resting = resting_phase(b);
  if (resting) {
    if (market || c.tif != TimeInForce::Day || c.min_qty.value() != 0)
      return reject(b.id, RejectCode::OrderTypeNotInPhase);
    if (c.post_only != 0) return reject(b.id, RejectCode::PostOnlyNotInPhase);
  }
  const std::uint32_t qty = c.qty.value();
  if (const RejectCode r = check_qty(b, f, c.side, qty); r != RejectCode::None) return reject(b.id, r);
  // A market order's TIF is ignored (its type says what happens to the rest).
  const std::uint32_t min_qty = !market && c.tif == TimeInForce::Fok ? qty : c.min_qty.value();
  if (min_qty > qty) return reject(b.id, RejectCode::InvalidMinQty);
  std::int64_t limit = 0;
  if (!market) {
    limit = c.price.value();
    if (const RejectCode r = check_price(b, c.side, limit); r != RejectCode::None) return reject(b.id, r);
    if (c.post_only != 0 && would_cross(b, c.side, limit)) return reject(b.id, RejectCode::PostOnlyWouldCross);
  } else {
    limit = protection_price(b, c.side);
  }
  if (const RejectCode r = check_exposure(f, limit, qty, qty); r != RejectCode::None) return reject(b.id, r);
  if (pool_full()) return reject(b.id, RejectCode::OrderPoolFull);
  if (tokens.full()) return reject(b.id, RejectCode::TokenTableFull);

  // Accepted: from here the order consumes an id, a slot and its token.
  const std::uint32_t s = alloc_slot();
  OrderSlot& o = pool[s];
  o.owner = owner.value();
  o.id = next_order_id++;
  o.price = market ? 0 : limit;
  o.open = qty;
  o.book = static_cast<std::uint16_t>(bi);
  o.firm = c.firm;
  o.side = c.side;
  o.token = c.token;
  o.token_entry = tokens.insert_at(token, owner, c.token, s);
  f.open_shares += qty;
  firm_append(s);

  // From the command, not from `o`: reading back the token just copied into the slot, in
  // pieces of other sizes, stalls on the store buffer (failed store-to-load forwarding).
  Event& a = sink.emplace(EventType::Accepted, ts);
  a.side = c.side;
  a.instrument = b.id;
  a.owner = owner;
  a.firm = c.firm;
  a.order_id = OrderId{o.id};
  a.token = c.token;
  a.order_type = c.type;
  a.tif = c.tif;
  a.post_only = c.post_only;
  a.price = Price{o.price};
  a.qty = Qty{qty};
  a.leaves = Qty{qty};
  a.min_qty = c.min_qty;

  if (resting) return rest(sink, ts, b, s);  // a call phase or an accepting halt: no matching
  if (market && limit == 0) return finish_incoming(sink, ts, b, s, CancelReason::Immediate);
  if (min_qty > 0 && simulate_fill(b, c.side, limit, qty, c.firm, min_qty) < min_qty)
    return finish_incoming(sink, ts, b, s, CancelReason::Immediate);
  std::int64_t last_fill = 0;
  // Most orders do not cross on arrival: only those that do call match().
  if (would_cross(b, c.side, limit)) {
    if (!match(sink, ts, b, s, limit, last_fill)) return;
    if (o.open == 0) {
      firm_unlink(s);
      free_slot(s);
      return;
    }
  }
  if (c.type == OrderType::MarketBestFiveToLimit && last_fill != 0) {
    o.price = last_fill;
    return rest(sink, ts, b, s);
  }
  if (market || c.tif != TimeInForce::Day) return finish_incoming(sink, ts, b, s, CancelReason::Immediate);
  rest(sink, ts, b, s);
}

void EngineState::on_cancel(const CancelCmd& c, Timestamp ts, EventSink& sink) noexcept {
  const std::uint32_t s = live_slot(tokens.find(c.owner, c.token));
  RejectCode code = RejectCode::None;
  if (s == kNone) code = RejectCode::UnknownOrder;
  else if (const RejectCode r = cancel_phase_check(books[pool[s].book]); r != RejectCode::None) code = r;
  else if (c.target_qty.value() >= pool[s].open) code = RejectCode::NothingToCancel;
  if (code != RejectCode::None) {
    Event& e = sink.emplace(EventType::CancelRejected, ts);
    e.owner = c.owner;
    e.code = static_cast<std::uint8_t>(code);
    e.qty = c.target_qty;
    e.token = c.token;
    return;
  }
  OrderSlot& o = pool[s];
  reduce_resting(sink, ts, books[o.book], s, o.open - c.target_qty.value(), CancelReason::UserRequested);
}

void EngineState::on_replace(const ReplaceCmd& c, Timestamp ts, EventSink& sink) noexcept {
  const std::uint32_t s = live_slot(tokens.find(c.owner, c.existing));
  if (s == kNone) {
    return emit_reject(sink, ts, c.owner, FirmId{0}, InstrumentId{0}, RejectCode::UnknownOrder, c.replacement,
                       &c.existing);
  }
  OrderSlot& o = pool[s];
  Book& b = books[o.book];
  FirmState& f = firms[o.firm.value()];
  auto reject = [&](RejectCode code) {
    emit_reject(sink, ts, c.owner, o.firm, b.id, code, c.replacement, &c.existing);
  };
  const TokenIndex::Probe token = tokens.probe(c.owner, c.replacement);
  if (token.key != kEmptyEntry) return reject(RejectCode::DuplicateToken);
  if (f.kill) return reject(RejectCode::KillSwitch);
  if (const RejectCode r = entry_phase_check(b); r != RejectCode::None) return reject(r);
  if (const RejectCode r = cancel_phase_check(b); r != RejectCode::None) return reject(r);
  if (c.tif != TimeInForce::Day || c.post_only > 1) return reject(RejectCode::InvalidOrderType);
  const bool resting = resting_phase(b);
  if (resting && c.post_only != 0) return reject(RejectCode::PostOnlyNotInPhase);
  const std::uint32_t qty = c.qty.value();
  if (const RejectCode r = check_qty(b, f, o.side, qty); r != RejectCode::None) return reject(r);
  const std::int64_t price = c.price.value();
  if (const RejectCode r = check_price(b, o.side, price); r != RejectCode::None) return reject(r);
  const bool cross = !resting && would_cross(b, o.side, price);
  if (c.post_only != 0 && cross) return reject(RejectCode::PostOnlyWouldCross);
  const std::int64_t change = std::int64_t{qty} - std::int64_t{o.open};
  if (const RejectCode r = check_exposure(f, price, qty, change); r != RejectCode::None) return reject(r);
  if (tokens.full()) return reject(RejectCode::TokenTableFull);

  touch(b);
  const std::uint64_t old_id = o.id;
  const Token old_token = o.token;
  o.token = c.replacement;
  o.token_entry = tokens.insert_at(token, c.owner, c.replacement, s);
  auto replaced = [&] {
    Event& e = order_event(sink, EventType::Replaced, ts, o, b.id, c.replacement);
    e.order_type = OrderType::Limit;
    e.tif = c.tif;
    e.post_only = c.post_only;
    e.ref = old_id;
    e.price = Price{o.price};
    e.qty = Qty{o.open};
    e.leaves = Qty{o.open};
    e.token2 = old_token;
  };

  if (price == o.price && qty <= o.open) {  // keeps time priority and its order id
    const std::uint32_t dec = o.open - qty;
    o.open = qty;
    b.side(o.side).levels[b.index_of(o.price)].qty -= dec;
    f.open_shares -= dec;
    replaced();
    if (dec > 0) emit_book(sink, EventType::BookCancel, ts, b, o, dec, o.open);
    return;
  }
  level_unlink(b, s, o.open);
  firm_unlink(s);
  f.open_shares = static_cast<std::uint64_t>(static_cast<std::int64_t>(f.open_shares) + change);
  o.id = next_order_id++;
  o.price = price;
  o.open = qty;
  firm_append(s);
  replaced();
  if (!cross) {
    level_append(b, s);
    Event& e = sink.emplace(EventType::BookReplace, ts);
    e.instrument = b.id;
    e.side = o.side;
    e.order_id = OrderId{o.id};
    e.ref = old_id;
    e.price = Price{price};
    e.qty = Qty{qty};
    return;
  }
  {
    Event& del = sink.emplace(EventType::BookDelete, ts);
    del.instrument = b.id;
    del.side = o.side;
    del.order_id = OrderId{old_id};
  }
  std::int64_t last_fill = 0;
  if (!match(sink, ts, b, s, price, last_fill)) return;
  if (o.open == 0) {
    firm_unlink(s);
    free_slot(s);
    return;
  }
  rest(sink, ts, b, s);
}

}  // namespace peregrine::detail
