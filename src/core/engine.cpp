// The matching core. Rules: docs/market-rules.md. Layout:
//   - orders live in one preallocated pool of 64-byte slots, linked into their price level's
//     FIFO and into their firm's list (ascending order id, for mass cancel);
//   - each book side is an array of levels indexed by (price - limit down) / tick, with a
//     hierarchical bitmap of non-empty levels and a cached best index;
//   - tokens map to slots through TokenIndex.
// Nothing here allocates, throws, blocks or reads a clock once the Engine is constructed.

#include "peregrine/core/engine.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "large_array.hpp"
#include "level_bitmap.hpp"
#include "peregrine/core/serial.hpp"
#include "peregrine/core/state_hash.hpp"
#include "token_index.hpp"

namespace peregrine {
namespace detail {

namespace {
constexpr std::int64_t kMaxPrice = std::numeric_limits<std::int32_t>::max();

std::uint64_t symbol_key(const Symbol& s) noexcept {
  std::uint64_t k = 0;
  std::memcpy(&k, s.c.data(), 8);
  return k;
}
}  // namespace

struct alignas(64) OrderSlot {
  std::uint32_t next;       // level FIFO
  std::uint32_t prev;
  std::uint32_t firm_next;  // firm list, ascending order id
  std::uint32_t firm_prev;
  std::uint32_t owner;
  std::uint32_t token_entry;
  std::uint64_t id;
  std::int64_t price;
  std::uint32_t open;
  std::uint16_t book;  // instrument index (0-based)
  FirmId firm;
  Side side;
  Token token;
};
static_assert(sizeof(OrderSlot) == 64, "an order is one cache line");

struct Level {
  std::uint32_t head = kNone;
  std::uint32_t tail = kNone;
  std::uint32_t count = 0;
  std::uint64_t qty = 0;
};

struct BookSide {
  std::vector<Level> levels;
  LevelBitmap bits;
  std::uint32_t best = kNone;  // level index
};

struct Book {
  InstrumentConfig cfg;
  InstrumentId id;
  std::int64_t tick = 0;
  std::int64_t down = 0;
  std::int64_t up = 0;
  std::uint32_t nlevels = 0;
  BookSide bids;
  BookSide asks;
  TradingStatus status = TradingStatus::Trading;
  TradingStatus session = TradingStatus::Trading;  // the market's phase (what the schedule set)
  std::int64_t last_trade = 0;
  // The indicative auction last published (Indicative event) in the current call phase.
  bool ind_valid = false;
  bool dirty = false;  // in dirty_books: its indicative may have changed
  std::uint8_t ind_side = 0;
  std::int64_t ind_price = 0;
  std::uint64_t ind_paired = 0;
  std::uint64_t ind_imbalance = 0;

  BookSide& side(Side s) noexcept { return s == Side::Buy ? bids : asks; }
  const BookSide& side(Side s) const noexcept { return s == Side::Buy ? bids : asks; }
  std::uint32_t index_of(std::int64_t price) const noexcept {
    return static_cast<std::uint32_t>((price - down) / tick);
  }
  std::int64_t price_of(std::uint32_t idx) const noexcept { return down + std::int64_t{idx} * tick; }
};

struct FirmState {
  FirmConfig cfg;
  std::uint64_t open_shares = 0;
  bool kill = false;
  std::uint32_t head = kNone;
  std::uint32_t tail = kNone;
};

struct EngineState {
  explicit EngineState(const EngineConfig& c) : cfg(c), tokens(c.max_tokens) {}

  EngineConfig cfg;
  std::vector<Book> books;
  std::vector<FirmState> firms;
  LargeArray<OrderSlot> pool;
  std::uint32_t free_head = kNone;  // slots given back
  std::uint32_t next_fresh = 0;     // slots [next_fresh, size) were never used (untouched pages)
  std::uint64_t live = 0;
  TokenIndex tokens;
  std::uint64_t token_sum = 0;
  std::uint64_t next_order_id = 1;
  std::uint64_t next_match = 1;
  std::vector<std::uint64_t> symbol_keys;   // open addressing: symbol key -> book index + 1
  std::vector<std::uint16_t> symbol_books;
  std::size_t symbol_mask = 0;
  std::vector<std::uint16_t> dirty_books;  // reserved for every book: push_back never allocates

  // ---- lookups ----
  std::uint32_t find_book(const Symbol& s) const noexcept {
    const std::uint64_t k = symbol_key(s);
    for (std::size_t i = static_cast<std::size_t>(k * 0x9E3779B97F4A7C15ULL >> 20) & symbol_mask;;
         i = (i + 1) & symbol_mask) {
      if (symbol_books[i] == 0) return kNone;
      if (symbol_keys[i] == k) return symbol_books[i] - 1u;
    }
  }
  bool valid_book(InstrumentId id) const noexcept { return id.value() >= 1 && id.value() <= books.size(); }

  // ---- pool ----
  bool pool_full() const noexcept { return free_head == kNone && next_fresh == pool.size(); }
  std::uint32_t alloc_slot() noexcept {
    std::uint32_t s;
    if (free_head != kNone) {
      s = free_head;
      free_head = pool[s].next;
    } else {
      s = next_fresh++;
    }
    ++live;
    return s;
  }
  void free_slot(std::uint32_t s) noexcept {
    pool[s].token_entry = kNone;  // the token's entry now reads as dead (see live_slot)
    pool[s].next = free_head;
    free_head = s;
    --live;
  }

  // The live order holding token entry `te`, or kNone. An entry is live while its slot points
  // back at it; a finished or replaced order's slot no longer does.
  std::uint32_t live_slot(std::uint32_t te) const noexcept {
    if (te == kEmptyEntry) return kNone;
    const std::uint32_t s = tokens.at(te).slot();
    return pool[s].token_entry == te ? s : kNone;
  }

  // ---- firm lists ----
  void firm_append(std::uint32_t s) noexcept {
    OrderSlot& o = pool[s];
    FirmState& f = firms[o.firm.value()];
    o.firm_next = kNone;
    o.firm_prev = f.tail;
    if (f.tail != kNone) pool[f.tail].firm_next = s; else f.head = s;
    f.tail = s;
  }
  void firm_unlink(std::uint32_t s) noexcept {
    OrderSlot& o = pool[s];
    FirmState& f = firms[o.firm.value()];
    if (o.firm_prev != kNone) pool[o.firm_prev].firm_next = o.firm_next; else f.head = o.firm_next;
    if (o.firm_next != kNone) pool[o.firm_next].firm_prev = o.firm_prev; else f.tail = o.firm_prev;
  }

  // ---- levels ----
  void level_append(Book& b, std::uint32_t s) noexcept {
    OrderSlot& o = pool[s];
    BookSide& bs = b.side(o.side);
    const std::uint32_t idx = b.index_of(o.price);
    Level& l = bs.levels[idx];
    o.next = kNone;
    o.prev = l.tail;
    if (l.tail != kNone) pool[l.tail].next = s; else l.head = s;
    l.tail = s;
    ++l.count;
    l.qty += o.open;
    if (l.count == 1) {
      bs.bits.set(idx);
      if (bs.best == kNone || (o.side == Side::Buy ? idx > bs.best : idx < bs.best)) bs.best = idx;
    }
  }
  // Removes the order from its level; `open_in_level` is the quantity still counted there.
  void level_unlink(Book& b, std::uint32_t s, std::uint32_t open_in_level) noexcept {
    OrderSlot& o = pool[s];
    BookSide& bs = b.side(o.side);
    const std::uint32_t idx = b.index_of(o.price);
    Level& l = bs.levels[idx];
    if (o.prev != kNone) pool[o.prev].next = o.next; else l.head = o.next;
    if (o.next != kNone) pool[o.next].prev = o.prev; else l.tail = o.prev;
    --l.count;
    l.qty -= open_in_level;
    if (l.count == 0) {
      bs.bits.clear(idx);
      if (bs.best == idx) bs.best = o.side == Side::Buy ? (idx == 0 ? kNone : bs.bits.prev_le(idx - 1))
                                                        : bs.bits.next_ge(idx + 1);
    }
  }
  // Opposite-side best price that an order on `side` at `limit` can trade with, or kNone.
  static bool crosses(Side side, std::int64_t limit, std::int64_t opposite_price) noexcept {
    return side == Side::Buy ? opposite_price <= limit : opposite_price >= limit;
  }
  // Next level index after `idx` going away from the touch on the opposite side of `side`.
  std::uint32_t next_level_away(const BookSide& opp, Side side, std::uint32_t idx) const noexcept {
    if (side == Side::Buy) return opp.bits.next_ge(idx + 1);  // asks: upward
    return idx == 0 ? kNone : opp.bits.prev_le(idx - 1);     // bids: downward
  }

  // ---- events ----
  static Event& order_event(EventSink& sink, EventType t, Timestamp ts, const OrderSlot& o,
                            InstrumentId id) noexcept {
    Event& e = sink.emplace(t, ts);
    e.side = o.side;
    e.instrument = id;
    e.owner = OwnerId{o.owner};
    e.firm = o.firm;
    e.order_id = OrderId{o.id};
    e.token = o.token;
    return e;
  }
  void emit_canceled(EventSink& sink, Timestamp ts, const Book& b, const OrderSlot& o, std::uint32_t dec,
                     CancelReason why) noexcept {
    Event& e = order_event(sink, EventType::Canceled, ts, o, b.id);
    e.qty = Qty{dec};
    e.leaves = Qty{o.open};
    e.code = static_cast<std::uint8_t>(why);
  }
  static void emit_book(EventSink& sink, EventType t, Timestamp ts, const Book& b, const OrderSlot& o,
                        std::uint32_t qty, std::uint32_t leaves) noexcept {
    Event& e = sink.emplace(t, ts);
    e.instrument = b.id;
    e.side = o.side;
    e.order_id = OrderId{o.id};
    e.qty = Qty{qty};
    e.leaves = Qty{leaves};
  }
  // An execution of `o` (its open quantity already reduced): Executed to its owner, BookExecute
  // for the feed when it rests on the book (`book_code` 1 in an uncross: at `px`, not printable).
  void emit_executed(EventSink& sink, Timestamp ts, const Book& b, const OrderSlot& o, std::int64_t px,
                     std::uint32_t q, std::uint64_t match_no, Liquidity liq) noexcept {
    Event& e = order_event(sink, EventType::Executed, ts, o, b.id);
    e.price = Price{px};
    e.qty = Qty{q};
    e.leaves = Qty{o.open};
    e.ref = match_no;
    e.code = static_cast<std::uint8_t>(liq);
  }
  static void emit_book_execute(EventSink& sink, Timestamp ts, const Book& b, const OrderSlot& o, std::int64_t px,
                                std::uint32_t q, std::uint64_t match_no, std::uint8_t book_code) noexcept {
    Event& e = sink.emplace(EventType::BookExecute, ts);
    e.instrument = b.id;
    e.side = o.side;
    e.order_id = OrderId{o.id};
    e.price = Price{px};
    e.qty = Qty{q};
    e.leaves = Qty{o.open};
    e.ref = match_no;
    e.code = book_code;
  }
  static void emit_reject(EventSink& sink, Timestamp ts, OwnerId owner, FirmId firm, InstrumentId id,
                          RejectCode code, const Token& token, const Token* token2 = nullptr) noexcept {
    Event& e = sink.emplace(EventType::Rejected, ts);
    e.owner = owner;
    e.firm = firm;
    e.instrument = id;
    e.code = static_cast<std::uint8_t>(code);
    e.token = token;
    if (token2 != nullptr) e.token2 = *token2;
  }

  // Cancels `dec` shares of a resting order (all of it when dec == open).
  void reduce_resting(EventSink& sink, Timestamp ts, Book& b, std::uint32_t s, std::uint32_t dec,
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
  void finish_incoming(EventSink& sink, Timestamp ts, Book& b, std::uint32_t s, CancelReason why) noexcept {
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
  std::int64_t protection_price(const Book& b, Side side) const noexcept {
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
  std::uint64_t simulate_fill(const Book& b, Side side, std::int64_t limit, std::uint32_t open, FirmId firm,
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
  bool match(EventSink& sink, Timestamp ts, Book& b, std::uint32_t s, std::int64_t limit,
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

  void rest(EventSink& sink, Timestamp ts, Book& b, std::uint32_t s) noexcept {
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

  // ---- trading phases (docs/market-rules.md, "Trading phases") ----
  // Orders rest without matching: call phases, and a halt that accepts orders.
  bool resting_phase(const Book& b) const noexcept {
    return is_call_phase(b.status) || (b.status == TradingStatus::Halted && cfg.halt_accepts_orders);
  }
  // May a new order (or the new half of a replace) enter now?
  RejectCode entry_phase_check(const Book& b) const noexcept {
    switch (b.status) {
      case TradingStatus::Closed:
      case TradingStatus::Break: return RejectCode::MarketClosed;
      case TradingStatus::Suspended: return RejectCode::Halted;
      case TradingStatus::Halted: return cfg.halt_accepts_orders ? RejectCode::None : RejectCode::Halted;
      default: return RejectCode::None;
    }
  }
  // May a live order be cancelled or reduced by its owner now (a replace too)?
  RejectCode cancel_phase_check(const Book& b) const noexcept {
    switch (b.status) {
      case TradingStatus::OpeningCallFrozen:
      case TradingStatus::ClosingCall: return RejectCode::CancelNotInPhase;
      case TradingStatus::Halted:
      case TradingStatus::Suspended: return cfg.halt_accepts_cancels ? RejectCode::None : RejectCode::Halted;
      default: return RejectCode::None;
    }
  }
  static CrossType cross_type_for(TradingStatus from) noexcept {
    if (from == TradingStatus::OpeningCall || from == TradingStatus::OpeningCallFrozen) return CrossType::Opening;
    if (from == TradingStatus::ClosingCall) return CrossType::Closing;
    return CrossType::Halt;
  }
  static bool crossed(const Book& b) noexcept {
    return b.bids.best != kNone && b.asks.best != kNone && b.bids.best >= b.asks.best;
  }
  // Marks a book whose indicative auction may have changed; published at the end of the command.
  void touch(Book& b) noexcept {
    if (b.dirty || !is_call_phase(b.status)) return;
    b.dirty = true;
    dirty_books.push_back(static_cast<std::uint16_t>(b.id.value() - 1u));
  }

  struct Auction {
    std::int64_t price = 0;  // 0: no cross
    std::uint64_t paired = 0;
    std::uint64_t imbalance = 0;
    std::uint8_t side = 0;  // Side with the surplus at `price`, 0 when none
  };

  // The auction price of the book as it stands: the price that executes the most shares; among
  // those, the smallest surplus; among those, the one closest to the reference (the previous close
  // for the opening auction, else the last trade, else the previous close). The candidates with
  // the best volume and surplus form one interval of ticks (volume is the minimum of a
  // non-increasing and a non-decreasing function of price; the surplus is monotone), so
  // "closest" is a clamp. O(non-empty levels between the best ask and the best bid).
  Auction compute_auction(const Book& b, CrossType type) const noexcept {
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
  void uncross(EventSink& sink, Timestamp ts, Book& b, CrossType type) noexcept {
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
  void expire_all(EventSink& sink, Timestamp ts, Book& b) noexcept {
    for (BookSide* bs : {&b.bids, &b.asks}) {
      while (bs->best != kNone) {
        const std::uint32_t s = bs->levels[bs->best].head;
        reduce_resting(sink, ts, b, s, pool[s].open, CancelReason::Expired);
      }
    }
  }

  void transition(EventSink& sink, Timestamp ts, Book& b, TradingStatus to) noexcept {
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

  void publish_indicatives(EventSink& sink, Timestamp ts) noexcept {
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

  // ---- checks shared by new orders and replaces ----
  static bool lot_ok(const Book& b, Side side, std::uint32_t qty) noexcept {
    if (side == Side::Sell && b.cfg.odd_lot_sell) return true;
    return qty >= b.cfg.min_qty.value() && qty % b.cfg.lot_size.value() == 0;
  }
  RejectCode check_qty(const Book& b, const FirmState& f, Side side, std::uint32_t qty) const noexcept {
    if (qty == 0) return RejectCode::InvalidQuantity;
    if (qty > b.cfg.max_order_qty.value()) return RejectCode::QuantityAboveMax;
    if (f.cfg.max_order_qty.value() != 0 && qty > f.cfg.max_order_qty.value()) return RejectCode::FirmQuantityAboveMax;
    if (!lot_ok(b, side, qty)) return RejectCode::InvalidLot;
    return RejectCode::None;
  }
  RejectCode check_price(const Book& b, Side side, std::int64_t price) const noexcept {
    if (price <= 0 || price > kMaxPrice || price % b.tick != 0) return RejectCode::InvalidPrice;
    if (price < b.down || price > b.up) return RejectCode::PriceOutsideLimits;
    if (b.cfg.cage_bps != 0 && b.status == TradingStatus::Trading) {
      const std::int64_t bps = b.cfg.cage_bps;
      if (side == Side::Buy) {
        const std::int64_t base = cage_base(b, b.asks, b.bids);
        if (price * 10000 > base * (10000 + bps)) return RejectCode::PriceOutsideCage;
      } else {
        const std::int64_t base = cage_base(b, b.bids, b.asks);
        if (price * 10000 < base * (10000 - bps)) return RejectCode::PriceOutsideCage;
      }
    }
    return RejectCode::None;
  }
  static std::int64_t cage_base(const Book& b, const BookSide& first, const BookSide& second) noexcept {
    if (first.best != kNone) return b.price_of(first.best);
    if (second.best != kNone) return b.price_of(second.best);
    if (b.last_trade != 0) return b.last_trade;
    return b.cfg.reference_price.value();
  }
  bool would_cross(const Book& b, Side side, std::int64_t price) const noexcept {
    const BookSide& opp = b.side(opposite(side));
    return opp.best != kNone && crosses(side, price, b.price_of(opp.best));
  }
  static RejectCode check_exposure(const FirmState& f, std::int64_t price, std::uint32_t qty,
                                   std::int64_t open_change) noexcept {
    if (f.cfg.max_order_notional != 0 && price * std::int64_t{qty} > f.cfg.max_order_notional)
      return RejectCode::FirmNotional;
    if (f.cfg.max_open_shares != 0 &&
        static_cast<std::int64_t>(f.open_shares) + open_change > static_cast<std::int64_t>(f.cfg.max_open_shares))
      return RejectCode::FirmOpenShares;
    return RejectCode::None;
  }

  // ---- commands ----
  void on_new_order(const NewOrderCmd& c, Timestamp ts, EventSink& sink) noexcept {
    const OwnerId owner = c.owner;
    auto reject = [&](InstrumentId id, RejectCode code) { emit_reject(sink, ts, owner, c.firm, id, code, c.token); };
    if (c.firm.value() >= firms.size()) return reject(InstrumentId{0}, RejectCode::UnknownFirm);
    const std::uint32_t bi = find_book(c.symbol);
    if (bi == kNone) return reject(InstrumentId{0}, RejectCode::UnknownSymbol);
    Book& b = books[bi];
    FirmState& f = firms[c.firm.value()];
    if (tokens.find(owner, c.token) != kEmptyEntry) return reject(b.id, RejectCode::DuplicateToken);
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
    o.token_entry = tokens.insert(owner, c.token, s);
    token_sum += StateHasher::token_hash(owner, c.token);
    f.open_shares += qty;
    firm_append(s);

    Event& a = order_event(sink, EventType::Accepted, ts, o, b.id);
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
    if (!match(sink, ts, b, s, limit, last_fill)) return;
    if (o.open == 0) {
      firm_unlink(s);
      free_slot(s);
      return;
    }
    if (c.type == OrderType::MarketBestFiveToLimit && last_fill != 0) {
      o.price = last_fill;
      return rest(sink, ts, b, s);
    }
    if (market || c.tif != TimeInForce::Day) return finish_incoming(sink, ts, b, s, CancelReason::Immediate);
    rest(sink, ts, b, s);
  }

  void on_cancel(const CancelCmd& c, Timestamp ts, EventSink& sink) noexcept {
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

  void on_replace(const ReplaceCmd& c, Timestamp ts, EventSink& sink) noexcept {
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
    if (tokens.find(c.owner, c.replacement) != kEmptyEntry) return reject(RejectCode::DuplicateToken);
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
    o.token_entry = tokens.insert(c.owner, c.replacement, s);
    token_sum += StateHasher::token_hash(c.owner, c.replacement);
    auto replaced = [&] {
      Event& e = order_event(sink, EventType::Replaced, ts, o, b.id);
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

  void mass_cancel(EventSink& sink, Timestamp ts, FirmId firm, InstrumentId instrument, OwnerId owner,
                   CancelReason why) noexcept {
    for (std::uint32_t s = firms[firm.value()].head; s != kNone;) {
      const std::uint32_t next = pool[s].firm_next;
      const OrderSlot& o = pool[s];
      if ((owner.value() == 0 || o.owner == owner.value()) &&
          (instrument.value() == 0 || o.book + 1u == instrument.value())) {
        reduce_resting(sink, ts, books[o.book], s, o.open, why);
      }
      s = next;
    }
  }

  void reject_admin(EventSink& sink, Timestamp ts, RejectCode code) noexcept {
    Event& e = sink.emplace(EventType::CancelRejected, ts);
    e.code = static_cast<std::uint8_t>(code);
  }

  void on_mass_cancel(const MassCancelCmd& c, Timestamp ts, EventSink& sink) noexcept {
    if (c.firm.value() >= firms.size()) return reject_admin(sink, ts, RejectCode::UnknownFirm);
    if (c.instrument.value() != 0 && !valid_book(c.instrument)) return reject_admin(sink, ts, RejectCode::UnknownSymbol);
    mass_cancel(sink, ts, c.firm, c.instrument, c.owner, c.reason);
  }

  void on_kill_switch(const SetKillSwitchCmd& c, Timestamp ts, EventSink& sink) noexcept {
    if (c.firm.value() >= firms.size()) return reject_admin(sink, ts, RejectCode::UnknownFirm);
    FirmState& f = firms[c.firm.value()];
    f.kill = c.engaged != 0;
    if (f.kill && c.cancel_open != 0) mass_cancel(sink, ts, c.firm, InstrumentId{0}, OwnerId{0}, CancelReason::Supervisory);
    Event& e = sink.emplace(EventType::KillSwitchChanged, ts);
    e.firm = c.firm;
    e.code = f.kill ? 1 : 0;
  }

  void on_trading_status(const SetTradingStatusCmd& c, Timestamp ts, EventSink& sink) noexcept {
    auto refuse = [&](RejectCode code) {
      Event& e = sink.emplace(EventType::Rejected, ts);
      e.instrument = c.instrument;
      e.code = static_cast<std::uint8_t>(code);
    };
    const bool all = c.instrument.value() == 0 && c.action == StatusAction::Schedule;
    if (!all && !valid_book(c.instrument)) return refuse(RejectCode::UnknownSymbol);
    if (!is_known_status(c.status) || c.action > StatusAction::Resume) return refuse(RejectCode::InvalidOrderType);
    switch (c.action) {
      case StatusAction::Set: {
        Book& b = books[c.instrument.value() - 1u];
        if (is_session_phase(c.status)) b.session = c.status;
        return transition(sink, ts, b, c.status);
      }
      case StatusAction::Schedule: {
        if (!is_session_phase(c.status)) return refuse(RejectCode::InvalidTransition);
        if (!all) return schedule(sink, ts, books[c.instrument.value() - 1u], c.status);
        for (Book& b : books) schedule(sink, ts, b, c.status);
        return;
      }
      case StatusAction::Resume: {
        Book& b = books[c.instrument.value() - 1u];
        if (b.status != TradingStatus::Halted && b.status != TradingStatus::Suspended &&
            b.status != TradingStatus::ResumeCall)
          return refuse(RejectCode::InvalidTransition);
        const bool via_call = c.status == TradingStatus::ResumeCall && b.session == TradingStatus::Trading &&
                              b.status != TradingStatus::ResumeCall;
        return transition(sink, ts, b, via_call ? TradingStatus::ResumeCall : b.session);
      }
    }
  }

  // The schedule moves the market to `phase`: the instrument follows unless it is halted or
  // suspended (it stays, and resumes into the phase the market is in), or in a resumption call
  // (which continuous trading does not end; a call phase or a break or the close does).
  void schedule(EventSink& sink, Timestamp ts, Book& b, TradingStatus phase) noexcept {
    b.session = phase;
    switch (b.status) {
      case TradingStatus::Halted:
      case TradingStatus::Suspended: return;
      case TradingStatus::ResumeCall:
        if (phase != TradingStatus::Trading) transition(sink, ts, b, phase);
        return;
      default:
        if (b.status != phase) transition(sink, ts, b, phase);
        return;
    }
  }
};

}  // namespace detail

using detail::kNone;

Engine::Engine(const EngineConfig& cfg) : s_(std::make_unique<detail::EngineState>(cfg)) {
  detail::EngineState& s = *s_;
  s.books.resize(cfg.instruments.size());
  for (std::size_t i = 0; i < cfg.instruments.size(); ++i) {
    detail::Book& b = s.books[i];
    b.cfg = cfg.instruments[i];
    b.id = InstrumentId{static_cast<std::uint16_t>(i + 1)};
    b.tick = b.cfg.tick.value();
    const PriceLimits lim = compute_price_limits(b.cfg.reference_price, b.cfg.limit_bps, b.cfg.tick);
    b.down = lim.down.value();
    b.up = lim.up.value();
    b.nlevels = static_cast<std::uint32_t>((b.up - b.down) / b.tick + 1);
    for (detail::BookSide* side : {&b.bids, &b.asks}) {
      side->levels.assign(b.nlevels, detail::Level{});
      side->bits = detail::LevelBitmap(b.nlevels);
    }
    b.status = b.cfg.initial_status;
    b.session = is_session_phase(b.status) ? b.status : TradingStatus::Trading;
  }
  s.dirty_books.reserve(s.books.size());
  s.firms.resize(cfg.firms.size());
  for (std::size_t i = 0; i < cfg.firms.size(); ++i) s.firms[i].cfg = cfg.firms[i];

  // Zero pages, untouched: slots are handed out fresh (next_fresh) before the free list.
  s.pool = detail::LargeArray<detail::OrderSlot>(cfg.max_orders, detail::kZeroFilled);

  std::size_t cap = 16;
  while (cap < cfg.instruments.size() * 4) cap <<= 1;
  s.symbol_keys.assign(cap, 0);
  s.symbol_books.assign(cap, 0);
  s.symbol_mask = cap - 1;
  for (std::size_t i = 0; i < cfg.instruments.size(); ++i) {
    const std::uint64_t k = detail::symbol_key(cfg.instruments[i].symbol);
    std::size_t j = static_cast<std::size_t>(k * 0x9E3779B97F4A7C15ULL >> 20) & s.symbol_mask;
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
  return EngineStats{s_->live, s_->tokens.count(), s_->cfg.max_orders, s_->tokens.limit()};
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
  h.tokens(s_->tokens.count(), s_->token_sum);
  h.counters(OrderId{s_->next_order_id}, MatchNumber{s_->next_match});
  return h.value();
}

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
          if (l.head != kNone || l.tail != kNone || l.qty != 0) return false;
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

// ---- snapshots (Engine::save / Engine::load) ----
// Not the core path: these run on the snapshot thread (save, on a replica) or at start-up (load)
// and may allocate. Layout, all integers little-endian (peregrine/core/serial.hpp):
//
//   u32 magic "PGEN", u32 version
//   shape: u32 instruments, u32 firms, u32 max_orders, u32 max_tokens, u8 halt_accepts_orders,
//          u8 halt_accepts_cancels; per instrument: symbol[8], i64 limit down, i64 tick,
//          u32 levels; per firm: name[4]
//   counters: u64 next order id, u64 next match number, u64 live orders, u64 tokens used
//   per instrument: u8 status, u8 session, i64 last trade, u8 indicative published, u8 its
//          surplus side, i64 its price, u64 paired, u64 imbalance; then bids and asks, each:
//          u32 non-empty levels, per level (best first): u32 level index, u32 orders, per order
//          (time priority): u64 id, u32 owner, u32 open, u16 firm, token[14]
//   per firm: u8 kill switch
//   u32 dirty instruments, u16 each (always 0 between commands)
//   u64 dead tokens (used by finished or replaced orders), sorted by (owner, token):
//          u32 owner, token[14]
//
// The encoding is canonical: the save of a loaded engine equals the save it was loaded from.
// Order slots, the free list and the token table's layout are not saved: they never show in
// events (a loaded engine hands out slots 0..live-1 then fresh ones; pool_full() depends only
// on the live count).

namespace peregrine {
namespace detail {
namespace {

constexpr std::uint32_t kSnapshotMagic = 0x4E454750u;  // "PGEN"
constexpr std::size_t kOrderRecord = 8 + 4 + 4 + 2 + 14;
constexpr std::size_t kTokenRecord = 4 + 14;

struct DeadToken {
  std::uint32_t owner;
  Token token;
  friend bool operator<(const DeadToken& a, const DeadToken& b) noexcept {
    if (a.owner != b.owner) return a.owner < b.owner;
    return std::memcmp(a.token.c.data(), b.token.c.data(), a.token.c.size()) < 0;
  }
};

void save_shape(ByteWriter& w, const EngineState& s) {
  w.u32(kSnapshotMagic);
  w.u32(Engine::kSnapshotVersion);
  w.u32(static_cast<std::uint32_t>(s.books.size()));
  w.u32(static_cast<std::uint32_t>(s.firms.size()));
  w.u32(static_cast<std::uint32_t>(s.pool.size()));
  w.u32(s.tokens.limit());
  w.u8(s.cfg.halt_accepts_orders ? 1 : 0);
  w.u8(s.cfg.halt_accepts_cancels ? 1 : 0);
  for (const Book& b : s.books) {
    w.bytes(b.cfg.symbol.c.data(), b.cfg.symbol.c.size());
    w.i64(b.down);
    w.i64(b.tick);
    w.u32(b.nlevels);
  }
  for (const FirmState& f : s.firms) w.bytes(f.cfg.name.c.data(), f.cfg.name.c.size());
}

void save_side(ByteWriter& w, const EngineState& s, const BookSide& bs, Side side) {
  const std::size_t count_at = w.size();
  w.u32(0);
  std::uint32_t levels = 0;
  for (std::uint32_t idx = bs.best; idx != kNone; idx = s.next_level_away(bs, opposite(side), idx)) {
    const Level& l = bs.levels[idx];
    w.u32(idx);
    w.u32(l.count);
    for (std::uint32_t x = l.head; x != kNone; x = s.pool[x].next) {
      const OrderSlot& o = s.pool[x];
      w.u64(o.id);
      w.u32(o.owner);
      w.u32(o.open);
      w.u16(o.firm.value());
      w.bytes(o.token.c.data(), o.token.c.size());
    }
    ++levels;
  }
  w.patch_u32(count_at, levels);
}

// Loads one snapshot into a fresh EngineState; `error` says what is wrong on false.
class SnapshotLoader {
 public:
  SnapshotLoader(EngineState& s, std::span<const std::uint8_t> in, std::string& error) noexcept
      : s_(s), r_(in), error_(error) {}

  bool run() {
    if (s_.live != 0 || s_.tokens.count() != 0 || s_.next_order_id != 1 || s_.next_match != 1 || s_.next_fresh != 0)
      return fail("load needs a freshly constructed engine");
    if (!shape() || !counters()) return false;
    for (Book& b : s_.books)
      if (!book(b)) return false;
    if (!firms() || !dirty() || !dead_tokens()) return false;
    if (r_.remaining() != 0) return fail("trailing bytes after the snapshot");
    return true;
  }

 private:
  bool fail(const char* what) {
    error_ = "engine snapshot: ";
    error_ += what;
    error_ += " (at byte ";
    error_ += std::to_string(r_.offset());
    error_ += ")";
    return false;
  }
  bool truncated(const char* where) {
    if (r_.ok()) return true;
    std::string what = "truncated in ";
    what += where;
    return fail(what.c_str());
  }

  bool shape() {
    const std::uint32_t magic = r_.u32();
    const std::uint32_t version = r_.u32();
    if (!truncated("the header")) return false;
    if (magic != kSnapshotMagic) return fail("not an engine snapshot (bad magic)");
    if (version != Engine::kSnapshotVersion) return fail("unsupported snapshot version");
    const std::uint32_t instruments = r_.u32();
    const std::uint32_t nfirms = r_.u32();
    const std::uint32_t max_orders = r_.u32();
    const std::uint32_t max_tokens = r_.u32();
    const std::uint8_t hao = r_.u8();
    const std::uint8_t hac = r_.u8();
    if (!truncated("the configuration shape")) return false;
    if (instruments != s_.books.size()) return fail("instrument count differs from the configuration");
    if (nfirms != s_.firms.size()) return fail("firm count differs from the configuration");
    if (max_orders != s_.pool.size()) return fail("max_orders differs from the configuration");
    if (max_tokens != s_.tokens.limit()) return fail("max_tokens differs from the configuration");
    if (hao != (s_.cfg.halt_accepts_orders ? 1 : 0) || hac != (s_.cfg.halt_accepts_cancels ? 1 : 0))
      return fail("halt policy differs from the configuration");
    for (const Book& b : s_.books) {
      Symbol sym{};
      r_.bytes(sym.c.data(), sym.c.size());
      const std::int64_t down = r_.i64();
      const std::int64_t tick = r_.i64();
      const std::uint32_t nlevels = r_.u32();
      if (!truncated("the instrument list")) return false;
      if (!(sym == b.cfg.symbol)) return fail("instrument symbol differs from the configuration");
      if (down != b.down || tick != b.tick || nlevels != b.nlevels)
        return fail("instrument price grid differs from the configuration");
    }
    for (const FirmState& f : s_.firms) {
      FirmName name{};
      r_.bytes(name.c.data(), name.c.size());
      if (!truncated("the firm list")) return false;
      if (!(name == f.cfg.name)) return fail("firm name differs from the configuration");
    }
    return true;
  }

  bool counters() {
    next_order_id_ = r_.u64();
    next_match_ = r_.u64();
    live_ = r_.u64();
    tokens_ = r_.u64();
    if (!truncated("the counters")) return false;
    if (next_order_id_ == 0 || next_match_ == 0) return fail("order id and match counters start at 1");
    if (live_ > s_.pool.size()) return fail("more live orders than max_orders");
    if (tokens_ > s_.tokens.limit()) return fail("more tokens than max_tokens");
    if (live_ > tokens_) return fail("more live orders than tokens");
    if (!r_.can_hold(live_, kOrderRecord)) return fail("live order count exceeds the input");
    by_id_.reserve(static_cast<std::size_t>(live_));
    s_.next_order_id = next_order_id_;
    s_.next_match = next_match_;
    return true;
  }

  bool book(Book& b) {
    const auto status = static_cast<TradingStatus>(r_.u8());
    const auto session = static_cast<TradingStatus>(r_.u8());
    const std::int64_t last_trade = r_.i64();
    const std::uint8_t ind_valid = r_.u8();
    const std::uint8_t ind_side = r_.u8();
    const std::int64_t ind_price = r_.i64();
    const std::uint64_t ind_paired = r_.u64();
    const std::uint64_t ind_imbalance = r_.u64();
    if (!truncated("an instrument's state")) return false;
    if (!is_known_status(status)) return fail("unknown trading status");
    if (!is_session_phase(session)) return fail("session is not a phase of the market's day");
    if (last_trade != 0 && (last_trade < b.down || last_trade > b.up)) return fail("last trade outside the price limits");
    if (ind_valid > 1 || (ind_valid == 1 && !is_call_phase(status)))
      return fail("indicative published outside a call phase");
    if (ind_side != 0 && ind_side != static_cast<std::uint8_t>(Side::Buy) &&
        ind_side != static_cast<std::uint8_t>(Side::Sell))
      return fail("bad indicative surplus side");
    b.status = status;
    b.session = session;
    b.last_trade = last_trade;
    b.ind_valid = ind_valid == 1;
    b.ind_side = ind_side;
    b.ind_price = ind_price;
    b.ind_paired = ind_paired;
    b.ind_imbalance = ind_imbalance;
    if (!side(b, Side::Buy) || !side(b, Side::Sell)) return false;
    if (EngineState::crossed(b) && !is_call_phase(b.status) && b.status != TradingStatus::Halted &&
        b.status != TradingStatus::Suspended)
      return fail("crossed book in a phase that matches");
    return true;
  }

  bool side(Book& b, Side side) {
    BookSide& bs = b.side(side);
    const std::uint32_t nlevels = r_.u32();
    if (!truncated("a book side")) return false;
    if (nlevels > b.nlevels) return fail("more price levels than the instrument has");
    for (std::uint32_t n = 0; n < nlevels; ++n) {
      const std::uint32_t idx = r_.u32();
      const std::uint32_t count = r_.u32();
      if (!truncated("a price level")) return false;
      if (idx >= b.nlevels) return fail("price level outside the instrument's limits");
      if (bs.levels[idx].count != 0) return fail("price level listed twice");
      if (count == 0) return fail("empty price level");
      if (!r_.can_hold(count, kOrderRecord)) return fail("order count exceeds the input");
      for (std::uint32_t k = 0; k < count; ++k)
        if (!order(b, side, idx)) return false;
    }
    return true;
  }

  bool order(Book& b, Side side, std::uint32_t idx) {
    const std::uint64_t id = r_.u64();
    const std::uint32_t owner = r_.u32();
    const std::uint32_t open = r_.u32();
    const FirmId firm{r_.u16()};
    Token token{};
    r_.bytes(token.c.data(), token.c.size());
    if (!truncated("an order")) return false;
    if (id == 0 || id >= next_order_id_) return fail("order id not below the next order id");
    if (open == 0) return fail("live order with no open quantity");
    if (firm.value() >= s_.firms.size()) return fail("order of an unknown firm");
    if (s_.live >= live_) return fail("more orders than the live count");
    if (s_.tokens.find(OwnerId{owner}, token) != kEmptyEntry) return fail("token used twice");
    const std::uint32_t slot = s_.alloc_slot();
    OrderSlot& o = s_.pool[slot];
    o.owner = owner;
    o.id = id;
    o.price = b.price_of(idx);
    o.open = open;
    o.book = static_cast<std::uint16_t>(b.id.value() - 1u);
    o.firm = firm;
    o.side = side;
    o.token = token;
    o.token_entry = s_.tokens.insert(OwnerId{owner}, token, slot);
    s_.token_sum += StateHasher::token_hash(OwnerId{owner}, token);
    s_.firms[firm.value()].open_shares += open;
    s_.level_append(b, slot);
    by_id_.push_back({id, slot});
    return true;
  }

  bool firms() {
    if (s_.live != live_) return fail("fewer orders than the live count");
    // Firm lists run in ascending order id (mass cancel order); ids are unique.
    std::sort(by_id_.begin(), by_id_.end());
    for (std::size_t i = 1; i < by_id_.size(); ++i)
      if (by_id_[i].first == by_id_[i - 1].first) return fail("order id used twice");
    for (const auto& [id, slot] : by_id_) s_.firm_append(slot);
    for (FirmState& f : s_.firms) {
      const std::uint8_t kill = r_.u8();
      if (!truncated("the kill switches")) return false;
      if (kill > 1) return fail("bad kill switch value");
      f.kill = kill == 1;
    }
    return true;
  }

  bool dirty() {
    const std::uint32_t n = r_.u32();
    if (!truncated("the dirty instruments")) return false;
    if (n > s_.books.size()) return fail("more dirty instruments than instruments");
    for (std::uint32_t i = 0; i < n; ++i) {
      const std::uint16_t bi = r_.u16();
      if (!truncated("the dirty instruments")) return false;
      if (bi >= s_.books.size() || s_.books[bi].dirty) return fail("bad dirty instrument");
      s_.books[bi].dirty = true;
      s_.dirty_books.push_back(bi);
    }
    return true;
  }

  bool dead_tokens() {
    const std::uint64_t n = r_.u64();
    if (!truncated("the token list")) return false;
    if (n != tokens_ - live_) return fail("dead token count does not match the token count");
    if (!r_.can_hold(n, kTokenRecord)) return fail("token count exceeds the input");
    if (n == 0) return true;
    // A dead entry must name a slot whose order does not point back at it (see live_slot()).
    // Slot 0 serves: it holds a live order (slots are handed out from 0) whose entry is its own,
    // and it never points at a dead entry later; with no live order, mark it so.
    if (s_.pool.size() == 0) return fail("tokens without an order pool");
    if (s_.live == 0) s_.pool[0].token_entry = kNone;
    DeadToken prev{};
    for (std::uint64_t i = 0; i < n; ++i) {
      DeadToken t{};
      t.owner = r_.u32();
      r_.bytes(t.token.c.data(), t.token.c.size());
      if (!truncated("the token list")) return false;
      if (i > 0 && !(prev < t)) return fail("token list not sorted");
      if (s_.tokens.find(OwnerId{t.owner}, t.token) != kEmptyEntry) return fail("token used twice");
      (void)s_.tokens.insert(OwnerId{t.owner}, t.token, 0);
      s_.token_sum += StateHasher::token_hash(OwnerId{t.owner}, t.token);
      prev = t;
    }
    return true;
  }

  EngineState& s_;
  ByteReader r_;
  std::string& error_;
  std::uint64_t next_order_id_ = 0;
  std::uint64_t next_match_ = 0;
  std::uint64_t live_ = 0;
  std::uint64_t tokens_ = 0;
  std::vector<std::pair<std::uint64_t, std::uint32_t>> by_id_;  // (order id, slot)
};

}  // namespace
}  // namespace detail

void Engine::save(std::vector<std::uint8_t>& out) const {
  const detail::EngineState& s = *s_;
  ByteWriter w(out);
  detail::save_shape(w, s);
  w.u64(s.next_order_id);
  w.u64(s.next_match);
  w.u64(s.live);
  w.u64(s.tokens.count());
  for (const detail::Book& b : s.books) {
    w.u8(static_cast<std::uint8_t>(b.status));
    w.u8(static_cast<std::uint8_t>(b.session));
    w.i64(b.last_trade);
    w.u8(b.ind_valid ? 1 : 0);
    w.u8(b.ind_side);
    w.i64(b.ind_price);
    w.u64(b.ind_paired);
    w.u64(b.ind_imbalance);
    detail::save_side(w, s, b.bids, Side::Buy);
    detail::save_side(w, s, b.asks, Side::Sell);
  }
  for (const detail::FirmState& f : s.firms) w.u8(f.kill ? 1 : 0);
  w.u32(static_cast<std::uint32_t>(s.dirty_books.size()));
  for (const std::uint16_t bi : s.dirty_books) w.u16(bi);

  std::vector<detail::DeadToken> dead;
  dead.reserve(static_cast<std::size_t>(s.tokens.count() - s.live));
  for (std::size_t i = 0, n = s.tokens.capacity(); i < n; ++i) {
    const detail::TokenEntry& e = s.tokens.at(static_cast<std::uint32_t>(i));
    if (e.slot_plus_one == 0 || s.live_slot(static_cast<std::uint32_t>(i)) != kNone) continue;
    dead.push_back(detail::DeadToken{e.owner, e.token});
  }
  std::sort(dead.begin(), dead.end());
  w.u64(dead.size());
  out.reserve(out.size() + dead.size() * detail::kTokenRecord);
  for (const detail::DeadToken& t : dead) {
    w.u32(t.owner);
    w.bytes(t.token.c.data(), t.token.c.size());
  }
}

bool Engine::load(std::span<const std::uint8_t> in, std::string& error) {
  detail::SnapshotLoader loader(*s_, in, error);
  return loader.run();
}

}  // namespace peregrine
