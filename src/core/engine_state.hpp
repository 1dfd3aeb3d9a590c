#pragma once
// The matching core's state: order slots, books, firms, and EngineState, which the Engine's
// source files share (docs/architecture.md, "The core"). Small hot helpers (pool, levels, firm
// lists, event writers) are defined here so that every file inlines them; the rest is declared
// here and defined in the file named above each group. Core-internal.

#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "large_array.hpp"
#include "level_bitmap.hpp"
#include "peregrine/core/command.hpp"
#include "peregrine/core/config.hpp"
#include "peregrine/core/event.hpp"
#include "peregrine/core/state_hash.hpp"
#include "peregrine/core/types.hpp"
#include "token_index.hpp"

namespace peregrine::detail {

inline constexpr std::int64_t kMaxPrice = std::numeric_limits<std::int32_t>::max();

inline std::uint64_t symbol_key(const Symbol& s) noexcept {
  std::uint64_t k = 0;
  std::memcpy(&k, s.c.data(), 8);
  return k;
}



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

// A price level: a FIFO of order slots. Empty is all zeros (count 0, and head, tail and qty 0),
// so that the levels of every book start as untouched zero pages; head and tail name slots only
// while count != 0.
struct Level {
  std::uint32_t head;
  std::uint32_t tail;
  std::uint32_t count;
  std::uint64_t qty;
};

struct BookSide {
  Level* levels = nullptr;  // nlevels entries in EngineState::level_store
  LevelBitmap bits;         // over words in EngineState::bitmap_store
  std::uint32_t best = kNone;  // level index
};

struct Book {
  InstrumentConfig cfg;
  InstrumentId id;
  std::int64_t tick = 0;
  std::uint64_t tick_inv = 0;  // inverse_of(tick)
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
  // (price - down) / tick. A 64-bit divide takes tens of cycles and every level update does
  // one: for 32-bit operands, the high half of (price - down) * ceil(2^64 / tick) is the exact
  // quotient (Lemire, Kaser, Kurz, "Faster remainder by direct computation", 2019).
  std::uint32_t index_of(std::int64_t price) const noexcept {
    const auto n = static_cast<std::uint64_t>(price - down);
    if (n <= 0xFFFFFFFFu && tick_inv != 0) return static_cast<std::uint32_t>(mul_high(n, tick_inv));
    return static_cast<std::uint32_t>((price - down) / tick);
  }
  // price % tick == 0, for 0 < price <= kMaxPrice.
  bool on_tick(std::int64_t price) const noexcept {
    const auto n = static_cast<std::uint64_t>(price);
    if (tick_inv != 0) return mul_high(n, tick_inv) * static_cast<std::uint64_t>(tick) == n;
    return price % tick == 0;
  }
  // ceil(2^64 / tick) when 1 < tick < 2^32 and 128-bit products exist, else 0 (divide).
  static std::uint64_t inverse_of(std::int64_t tick) noexcept {
#if defined(__SIZEOF_INT128__)
    if (tick > 1 && tick <= 0xFFFFFFFF) return ~std::uint64_t{0} / static_cast<std::uint64_t>(tick) + 1;
#endif
    (void)tick;
    return 0;
  }
  static std::uint64_t mul_high(std::uint64_t a, std::uint64_t b) noexcept {
#if defined(__SIZEOF_INT128__)
    __extension__ using U128 = unsigned __int128;
    return static_cast<std::uint64_t>((static_cast<U128>(a) * b) >> 64);
#else
    (void)a;
    (void)b;
    return 0;  // not reached: inverse_of() is 0 without 128-bit products
#endif
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
  // Every table sized for the day is a LargeArray of zero pages that no one walks at start:
  // pages fault in on first use (docs/architecture.md, "The core").
  LargeArray<Level> level_store;              // every book side's levels, one after another
  LargeArray<std::uint64_t> bitmap_store;     // every book side's bitmap words
  LargeArray<OrderSlot> pool;
  std::uint32_t free_head = kNone;  // slots given back
  std::uint32_t next_fresh = 0;     // slots [next_fresh, size) were never used (untouched pages)
  std::uint64_t live = 0;
  TokenIndex tokens;
  // The wrapping sum of StateHasher::token_hash over keys [0, token_sum_upto), brought up to
  // date by state_hash() (token_sum_now) rather than by every accepted token: the hash is 18
  // bytes of FNV-1a, a tenth of a new order's instructions, and only state_hash() reads it.
  mutable std::uint64_t token_sum = 0;
  mutable std::uint64_t token_sum_upto = 0;
  std::uint64_t next_order_id = 1;
  std::uint64_t next_match = 1;
  std::vector<std::uint64_t> symbol_keys;   // open addressing: symbol key -> book index + 1
  std::vector<std::uint16_t> symbol_books;
  std::size_t symbol_mask = 0;
  unsigned symbol_shift = 64;  // 64 - log2(table size)
  std::vector<std::uint16_t> dirty_books;  // reserved for every book: push_back never allocates

  // ---- lookups ----
  // Fibonacci hashing: the product's top bits depend on every bit of the key. (Its low bits do
  // not: symbols that differ only in their last characters, 600000..600063, all fell into one
  // chain when the home slot came from bits 20 and up.)
  std::size_t symbol_home(std::uint64_t k) const noexcept {
    return static_cast<std::size_t>((k * 0x9E3779B97F4A7C15ULL) >> symbol_shift);
  }
  std::uint32_t find_book(const Symbol& s) const noexcept {
    const std::uint64_t k = symbol_key(s);
    for (std::size_t i = symbol_home(k);; i = (i + 1) & symbol_mask) {
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

  // The sum over every token accepted so far (state_hash.hpp, tokens()).
  std::uint64_t token_sum_now() const noexcept {
    for (const std::uint64_t n = tokens.count(); token_sum_upto < n; ++token_sum_upto) {
      const TokenEntry& e = tokens.at(static_cast<std::uint32_t>(token_sum_upto));
      token_sum += StateHasher::token_hash(OwnerId{e.owner}, e.token);
    }
    return token_sum;
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
    if (l.count != 0) {
      o.prev = l.tail;
      pool[l.tail].next = s;
    } else {
      o.prev = kNone;
      l.head = s;
    }
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
      l.head = 0;  // empty is all zeros (head and tail were just set to kNone)
      l.tail = 0;
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
    return order_event(sink, t, ts, o, id, o.token);
  }
  // With the token given: a caller that has just written o.token passes its source, so that the
  // event is not filled by reading it back (a failed store-to-load forward).
  static Event& order_event(EventSink& sink, EventType t, Timestamp ts, const OrderSlot& o, InstrumentId id,
                            const Token& token) noexcept {
    Event& e = sink.emplace(t, ts);
    e.side = o.side;
    e.instrument = id;
    e.owner = OwnerId{o.owner};
    e.firm = o.firm;
    e.order_id = OrderId{o.id};
    e.token = token;
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

  // ---- trading phases (docs/market-rules.md, "Trading phases") ----
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

  // ---- matching.cpp: new orders, cancels, replaces, the match loop ----
  void reduce_resting(EventSink& sink, Timestamp ts, Book& b, std::uint32_t s, std::uint32_t dec,
                      CancelReason why) noexcept;
  void finish_incoming(EventSink& sink, Timestamp ts, Book& b, std::uint32_t s, CancelReason why) noexcept;
  std::int64_t protection_price(const Book& b, Side side) const noexcept;
  std::uint64_t simulate_fill(const Book& b, Side side, std::int64_t limit, std::uint32_t open, FirmId firm,
                              std::uint64_t need) const noexcept;
  bool match(EventSink& sink, Timestamp ts, Book& b, std::uint32_t s, std::int64_t limit,
             std::int64_t& last_fill) noexcept;
  void rest(EventSink& sink, Timestamp ts, Book& b, std::uint32_t s) noexcept;
  void on_new_order(const NewOrderCmd& c, Timestamp ts, EventSink& sink) noexcept;
  void on_cancel(const CancelCmd& c, Timestamp ts, EventSink& sink) noexcept;
  void on_replace(const ReplaceCmd& c, Timestamp ts, EventSink& sink) noexcept;

  // ---- order_checks.hpp (inline, for matching.cpp): checks shared by new orders and replaces ----
  bool resting_phase(const Book& b) const noexcept;
  RejectCode entry_phase_check(const Book& b) const noexcept;
  RejectCode cancel_phase_check(const Book& b) const noexcept;
  static bool lot_ok(const Book& b, Side side, std::uint32_t qty) noexcept;
  RejectCode check_qty(const Book& b, const FirmState& f, Side side, std::uint32_t qty) const noexcept;
  RejectCode check_price(const Book& b, Side side, std::int64_t price) const noexcept;
  static std::int64_t cage_base(const Book& b, const BookSide& first, const BookSide& second) noexcept;
  bool would_cross(const Book& b, Side side, std::int64_t price) const noexcept;
  static RejectCode check_exposure(const FirmState& f, std::int64_t price, std::uint32_t qty,
                                   std::int64_t open_change) noexcept;

  // ---- auction.cpp: call auctions, phase transitions, indicatives ----
  Auction compute_auction(const Book& b, CrossType type) const noexcept;
  void uncross(EventSink& sink, Timestamp ts, Book& b, CrossType type) noexcept;
  void expire_all(EventSink& sink, Timestamp ts, Book& b) noexcept;
  void transition(EventSink& sink, Timestamp ts, Book& b, TradingStatus to) noexcept;
  void publish_indicatives(EventSink& sink, Timestamp ts) noexcept;

  // ---- controls.cpp: mass cancel, kill switch, trading status, the schedule ----
  void mass_cancel(EventSink& sink, Timestamp ts, FirmId firm, InstrumentId instrument, OwnerId owner,
                   CancelReason why) noexcept;
  void reject_admin(EventSink& sink, Timestamp ts, RejectCode code) noexcept;
  void on_mass_cancel(const MassCancelCmd& c, Timestamp ts, EventSink& sink) noexcept;
  void on_kill_switch(const SetKillSwitchCmd& c, Timestamp ts, EventSink& sink) noexcept;
  void on_trading_status(const SetTradingStatusCmd& c, Timestamp ts, EventSink& sink) noexcept;
  void schedule(EventSink& sink, Timestamp ts, Book& b, TradingStatus phase) noexcept;
};

}  // namespace peregrine::detail
