// Engine::save and Engine::load: the engine snapshot codec.
//
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

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "engine_state.hpp"
#include "peregrine/core/engine.hpp"
#include "peregrine/core/serial.hpp"

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
  // As fail(), for the record that ends at `offset` (read from a view, past the reader's position).
  bool fail_at(std::size_t offset, const char* what) {
    error_ = "engine snapshot: ";
    error_ += what;
    error_ += " (at byte ";
    error_ += std::to_string(offset);
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
    // The records are fixed-size (can_hold checked them above): each token's line of the table
    // is prefetched kAhead tokens before it is probed, since sorted tokens land on random lines
    // (millions of them on a busy day: a cache miss each, otherwise).
    const std::size_t at = r_.offset();
    const std::span<const std::uint8_t> recs = r_.view(static_cast<std::size_t>(n) * kTokenRecord);
    if (!truncated("the token list")) return false;
    const auto token_at = [&](std::uint64_t i) {
      DeadToken t{};
      const std::uint8_t* p = recs.data() + static_cast<std::size_t>(i) * kTokenRecord;
      t.owner = static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
                static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
      std::memcpy(t.token.c.data(), p + 4, t.token.c.size());
      return t;
    };
    constexpr std::uint64_t kAhead = 16;
    for (std::uint64_t i = 0; i < n && i < kAhead; ++i) {
      const DeadToken t = token_at(i);
      s_.tokens.prefetch(OwnerId{t.owner}, t.token);
    }
    DeadToken prev{};
    for (std::uint64_t i = 0; i < n; ++i) {
      if (i + kAhead < n) {
        const DeadToken ahead = token_at(i + kAhead);
        s_.tokens.prefetch(OwnerId{ahead.owner}, ahead.token);
      }
      const DeadToken t = token_at(i);
      if (i > 0 && !(prev < t)) return fail_at(at + static_cast<std::size_t>(i + 1) * kTokenRecord, "token list not sorted");
      const TokenIndex::Probe p = s_.tokens.probe(OwnerId{t.owner}, t.token);
      if (p.key != kEmptyEntry) return fail_at(at + static_cast<std::size_t>(i + 1) * kTokenRecord, "token used twice");
      (void)s_.tokens.insert_at(p, OwnerId{t.owner}, t.token, 0);
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

using detail::kNone;

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
  for (std::uint64_t i = 0, n = s.tokens.count(); i < n; ++i) {
    const detail::TokenEntry& e = s.tokens.at(static_cast<std::uint32_t>(i));
    if (s.live_slot(static_cast<std::uint32_t>(i)) != kNone) continue;
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
