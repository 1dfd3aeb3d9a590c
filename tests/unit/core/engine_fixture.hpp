#pragma once
/// Shared fixture for the matching-core unit tests.
///
/// - EngineTest builds an EngineConfig in code (default_config()) and an Engine from it.
/// - An `Ord` describes one order as the tests expect the engine to know it: owner, firm,
///   instrument, side, the order id the engine should give it, and its token. Command builders
///   (limit(), market(), cancel(), replace(), ...) turn an Ord into a Command; event builders
///   (accepted(), trade(), canceled(), book_add(), ...) turn it into the exact Event the spec
///   (docs/market-rules.md and the field table on peregrine::Event) requires, every unlisted
///   field zero. Events are compared byte for byte (Event::operator==).
/// - run() processes one command through a deliberately small EventSink buffer (so commands with
///   many events exercise the flush path), returns that command's events, and checks after every
///   command that validate_internal_state() holds and that a refused command (one Rejected or
///   CancelRejected) left state_hash() unchanged.

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "peregrine/core/codes.hpp"
#include "peregrine/core/command.hpp"
#include "peregrine/core/config.hpp"
#include "peregrine/core/engine.hpp"
#include "peregrine/core/event.hpp"
#include "peregrine/core/types.hpp"

namespace peregrine {

inline std::string_view event_type_name(EventType t) noexcept {
  switch (t) {
    case EventType::Accepted: return "Accepted";
    case EventType::Rejected: return "Rejected";
    case EventType::Executed: return "Executed";
    case EventType::Canceled: return "Canceled";
    case EventType::Replaced: return "Replaced";
    case EventType::CancelRejected: return "CancelRejected";
    case EventType::BookAdd: return "BookAdd";
    case EventType::BookExecute: return "BookExecute";
    case EventType::BookCancel: return "BookCancel";
    case EventType::BookDelete: return "BookDelete";
    case EventType::BookReplace: return "BookReplace";
    case EventType::TradingStatusChanged: return "TradingStatusChanged";
    case EventType::KillSwitchChanged: return "KillSwitchChanged";
    case EventType::CrossTrade: return "CrossTrade";
    case EventType::Indicative: return "Indicative";
  }
  return "UnknownEventType";
}

/// One line per event: its type, ts and every non-zero field.
inline std::string describe(const Event& e) {
  std::ostringstream os;
  os << event_type_name(e.type) << "(" << static_cast<unsigned>(e.type) << "){ts=" << e.ts.value();
  const auto num = [&os](const char* name, std::uint64_t v) {
    if (v != 0) os << ' ' << name << '=' << v;
  };
  const auto byte = [&os](const char* name, std::uint8_t v) {
    if (v == 0) return;
    os << ' ' << name << '=' << static_cast<unsigned>(v);
    if (v >= 'A' && v <= 'z') os << "'" << static_cast<char>(v) << "'";
  };
  const auto tok = [&os](const char* name, const Token& t) {
    if (t != Token{}) os << ' ' << name << "=\"" << std::string(t.c.data(), t.c.size()) << '"';
  };
  byte("side", static_cast<std::uint8_t>(e.side));
  byte("code", e.code);
  byte("order_type", static_cast<std::uint8_t>(e.order_type));
  byte("tif", static_cast<std::uint8_t>(e.tif));
  byte("post_only", e.post_only);
  num("instrument", e.instrument.value());
  num("owner", e.owner.value());
  num("firm", e.firm.value());
  num("reserved0_", e.reserved0_);
  num("order_id", e.order_id.value());
  num("ref", e.ref);
  if (e.price.value() != 0) os << " price=" << e.price.value();
  num("qty", e.qty.value());
  num("leaves", e.leaves.value());
  num("min_qty", e.min_qty.value());
  num("reserved1_", e.reserved1_);
  tok("token", e.token);
  tok("token2", e.token2);
  num("reserved2_", e.reserved2_);
  os << '}';
  return os.str();
}

/// Names of the fields in which two events differ.
inline std::string differing_fields(const Event& a, const Event& b) {
  std::string out;
  const auto check = [&out](const char* name, bool same) {
    if (!same) {
      if (!out.empty()) out += ", ";
      out += name;
    }
  };
  check("type", a.type == b.type);
  check("side", a.side == b.side);
  check("code", a.code == b.code);
  check("order_type", a.order_type == b.order_type);
  check("tif", a.tif == b.tif);
  check("post_only", a.post_only == b.post_only);
  check("instrument", a.instrument == b.instrument);
  check("owner", a.owner == b.owner);
  check("firm", a.firm == b.firm);
  check("reserved0_", a.reserved0_ == b.reserved0_);
  check("ts", a.ts == b.ts);
  check("order_id", a.order_id == b.order_id);
  check("ref", a.ref == b.ref);
  check("price", a.price == b.price);
  check("qty", a.qty == b.qty);
  check("leaves", a.leaves == b.leaves);
  check("min_qty", a.min_qty == b.min_qty);
  check("reserved1_", a.reserved1_ == b.reserved1_);
  check("token", a.token == b.token);
  check("token2", a.token2 == b.token2);
  check("reserved2_", a.reserved2_ == b.reserved2_);
  if (out.empty() && !(a == b)) out = "padding bytes";
  return out;
}

inline void PrintTo(const Event& e, std::ostream* os) { *os << describe(e); }
inline void PrintTo(const Price& p, std::ostream* os) { *os << "Price{" << p.value() << "}"; }

}  // namespace peregrine

namespace peregrine::test {

using Events = std::vector<Event>;

/// A price from hundredths of a CNY: px(10'05) is 10.05 CNY, i.e. Price{100500}.
constexpr Price px(std::int64_t cents) noexcept { return Price{cents * 100}; }

// Instruments (InstrumentId = index in default_config().instruments + 1).
inline constexpr InstrumentId kMain{1};   ///< 600000, main board, ref 10.00, ±10 % -> 9.00..11.00
inline constexpr InstrumentId kStar{2};   ///< 688001, STAR, ref 50.00, ±20 %, lot 1, min 200, cage 2 %
inline constexpr InstrumentId kOther{3};  ///< 600001, main board, ref 20.00 -> 18.00..22.00
inline constexpr InstrumentId kRisk{4};   ///< 600002, risk warning, ref 5.00, ±5 % -> 4.75..5.25
inline constexpr InstrumentId kOdd{5};    ///< 600003, main board, ref 10.05 -> 9.05..11.06 (rounded)

// Firms (FirmId = index in default_config().firms).
inline constexpr FirmId kFirmA{0};    ///< AAAA, no STP, no limits
inline constexpr FirmId kFirmB{1};    ///< BBBB, no STP, no limits
inline constexpr FirmId kNewest{2};   ///< SNEW, STP cancel newest
inline constexpr FirmId kOldest{3};   ///< SOLD, STP cancel oldest
inline constexpr FirmId kBoth{4};     ///< SBTH, STP cancel both
inline constexpr FirmId kDecr{5};     ///< SDEC, STP decrement
inline constexpr FirmId kLimited{6};  ///< LIMT, max qty 5000, max notional 400,000,000, max open 6000

inline constexpr std::uint32_t kLimitedMaxQty = 5000;
inline constexpr std::int64_t kLimitedMaxNotional = 400'000'000;  // 4000 shares at 10.00
inline constexpr std::uint64_t kLimitedMaxOpen = 6000;

// Owners (session users). Any owner may send for any firm: the core keys tokens by owner.
inline constexpr OwnerId kAlice{1};
inline constexpr OwnerId kBob{2};
inline constexpr OwnerId kCarol{3};
inline constexpr OwnerId kDave{4};

/// An order as the tests expect the engine to know it.
struct Ord {
  OwnerId owner;
  FirmId firm;
  InstrumentId instrument;
  Side side;
  OrderId id;  ///< the order id the engine is expected to give it
  Token token;

  /// The same order under another order id and token (what a replace makes of it).
  [[nodiscard]] Ord as(std::uint64_t new_id, std::string_view new_token) const {
    Ord o = *this;
    o.id = OrderId{new_id};
    o.token = Token::from(new_token);
    return o;
  }
};

/// "S" + number, e.g. numbered("S", 3) == "S3" (built by appending: GCC 12 -O3 warns falsely on
/// `"S" + std::to_string(n)`).
inline std::string numbered(std::string_view prefix, std::uint64_t n) {
  std::string s(prefix);
  s += std::to_string(n);
  return s;
}

inline void append_to(Events& out, const Event& e) { out.push_back(e); }
inline void append_to(Events& out, const Events& es) { out.insert(out.end(), es.begin(), es.end()); }

/// Concatenates events and event lists into one expected sequence.
template <typename... Parts>
Events seq(const Parts&... parts) {
  Events out;
  (append_to(out, parts), ...);
  return out;
}

/// Event-by-event comparison with a readable diff.
inline ::testing::AssertionResult events_eq(const char* actual_expr, const char* expected_expr,
                                            const Events& actual, const Events& expected) {
  if (actual == expected) return ::testing::AssertionSuccess();
  std::ostringstream os;
  os << actual_expr << " (" << actual.size() << " events) differs from " << expected_expr << " ("
     << expected.size() << " events):\n";
  const std::size_t n = std::max(actual.size(), expected.size());
  for (std::size_t i = 0; i < n; ++i) {
    const bool has_a = i < actual.size();
    const bool has_e = i < expected.size();
    const bool same = has_a && has_e && actual[i] == expected[i];
    os << (same ? "    " : " >> ") << "[" << i << "]\n";
    os << "      expected: " << (has_e ? describe(expected[i]) : std::string("(none)")) << "\n";
    os << "      actual:   " << (has_a ? describe(actual[i]) : std::string("(none)")) << "\n";
    if (has_a && has_e && !same) os << "      differs in: " << differing_fields(actual[i], expected[i]) << "\n";
  }
  return ::testing::AssertionFailure() << os.str();
}

#define EXPECT_EVENTS(actual, expected) EXPECT_PRED_FORMAT2(::peregrine::test::events_eq, actual, expected)

/// One aggregated depth level, comparable.
struct Level {
  Price price;
  std::uint64_t qty;
  std::uint32_t orders;
  bool operator==(const Level&) const = default;
};
inline void PrintTo(const Level& l, std::ostream* os) {
  *os << "{" << l.price.value() << ", qty " << l.qty << ", orders " << l.orders << "}";
}
using Levels = std::vector<Level>;

inline EngineConfig default_config() {
  EngineConfig cfg;

  InstrumentConfig main;
  main.symbol = Symbol::from("600000");
  main.name = "main board";
  main.tick = Price{100};
  main.lot_size = Qty{100};
  main.min_qty = Qty{100};
  main.odd_lot_sell = true;
  main.max_order_qty = Qty{1'000'000};
  main.reference_price = px(10'00);
  main.limit_bps = 1000;
  main.cage_bps = 0;
  cfg.instruments.push_back(main);

  InstrumentConfig star;
  star.symbol = Symbol::from("688001");
  star.name = "STAR";
  star.tick = Price{100};
  star.lot_size = Qty{1};
  star.min_qty = Qty{200};
  star.odd_lot_sell = true;
  star.max_order_qty = Qty{100'000};
  star.reference_price = px(50'00);
  star.limit_bps = 2000;
  star.cage_bps = 200;
  cfg.instruments.push_back(star);

  InstrumentConfig other = main;
  other.symbol = Symbol::from("600001");
  other.name = "other main board";
  other.reference_price = px(20'00);
  cfg.instruments.push_back(other);

  InstrumentConfig risk = main;
  risk.symbol = Symbol::from("600002");
  risk.name = "risk warning";
  risk.reference_price = px(5'00);
  risk.limit_bps = 500;
  cfg.instruments.push_back(risk);

  InstrumentConfig odd = main;
  odd.symbol = Symbol::from("600003");
  odd.name = "rounded limits";
  odd.reference_price = px(10'05);
  cfg.instruments.push_back(odd);

  const auto firm = [&cfg](std::string_view name, StpMode stp) {
    FirmConfig f;
    f.name = FirmName::from(name);
    f.stp = stp;
    cfg.firms.push_back(f);
  };
  firm("AAAA", StpMode::None);
  firm("BBBB", StpMode::None);
  firm("SNEW", StpMode::CancelNewest);
  firm("SOLD", StpMode::CancelOldest);
  firm("SBTH", StpMode::CancelBoth);
  firm("SDEC", StpMode::Decrement);
  FirmConfig limited;
  limited.name = FirmName::from("LIMT");
  limited.stp = StpMode::None;
  limited.max_order_qty = Qty{kLimitedMaxQty};
  limited.max_order_notional = kLimitedMaxNotional;
  limited.max_open_shares = kLimitedMaxOpen;
  cfg.firms.push_back(limited);

  cfg.max_orders = 1024;
  cfg.max_tokens = 4096;
  return cfg;
}

class EngineTest : public ::testing::Test {
 protected:
  EngineTest() { rebuild(default_config()); }

  void rebuild(const EngineConfig& cfg) { engine_ = std::make_unique<Engine>(cfg); }
  Engine& engine() { return *engine_; }

  // ---- orders --------------------------------------------------------------------------

  static Ord ord(OwnerId owner, FirmId firm, Side side, std::uint64_t id, std::string_view token,
                 InstrumentId instrument = kMain) {
    return Ord{owner, firm, instrument, side, OrderId{id}, Token::from(token)};
  }
  static Ord buyer(OwnerId owner, FirmId firm, std::uint64_t id, std::string_view token,
                   InstrumentId instrument = kMain) {
    return ord(owner, firm, Side::Buy, id, token, instrument);
  }
  static Ord seller(OwnerId owner, FirmId firm, std::uint64_t id, std::string_view token,
                    InstrumentId instrument = kMain) {
    return ord(owner, firm, Side::Sell, id, token, instrument);
  }

  // ---- commands (each stamped with a new, increasing timestamp) ----------------------------

  Timestamp next_ts() {
    clock_ += 1000;
    return Timestamp{clock_};
  }
  Symbol symbol_of(InstrumentId id) const {
    const auto& instruments = engine_->config().instruments;
    const std::size_t index = static_cast<std::size_t>(id.value()) - 1;
    return index < instruments.size() ? instruments[index].symbol : Symbol::from("999999");
  }

  Command limit(const Ord& o, std::uint32_t qty, Price price, TimeInForce tif = TimeInForce::Day,
                std::uint32_t min_qty = 0, bool post_only = false) {
    return make_new_order(next_ts(), o.owner, o.firm, symbol_of(o.instrument), o.token, o.side,
                          Qty{qty}, price, OrderType::Limit, tif, Qty{min_qty}, post_only);
  }
  Command post_only(const Ord& o, std::uint32_t qty, Price price) {
    return limit(o, qty, price, TimeInForce::Day, 0, true);
  }
  /// A best-five market order; its price field carries the OUCH market price 0x7FFFFFFF and
  /// its TIF the natural one for the type (IOC / Day), both of which the core ignores.
  Command market(const Ord& o, std::uint32_t qty, OrderType type) {
    const TimeInForce tif = type == OrderType::MarketBestFiveIoc ? TimeInForce::Ioc : TimeInForce::Day;
    return make_new_order(next_ts(), o.owner, o.firm, symbol_of(o.instrument), o.token, o.side,
                          Qty{qty}, Price{0x7FFFFFFF}, type, tif);
  }
  Command cancel(const Ord& o, std::uint32_t target_qty = 0) {
    return make_cancel(next_ts(), o.owner, o.token, Qty{target_qty});
  }
  Command replace(const Ord& existing, const Ord& replacement, std::uint32_t qty, Price price,
                  TimeInForce tif = TimeInForce::Day, bool post_only = false) {
    return make_replace(next_ts(), existing.owner, existing.token, replacement.token, Qty{qty}, price,
                        tif, post_only);
  }
  Command mass_cancel(FirmId firm, InstrumentId instrument = InstrumentId{0}, OwnerId owner = OwnerId{0},
                      CancelReason reason = CancelReason::Supervisory) {
    return make_mass_cancel(next_ts(), firm, instrument, owner, reason);
  }
  Command kill(FirmId firm, bool engaged, bool cancel_open) {
    return make_kill_switch(next_ts(), firm, engaged, cancel_open);
  }
  Command halt(InstrumentId id) { return make_trading_status(next_ts(), id, TradingStatus::Halted); }
  Command resume(InstrumentId id) { return make_trading_status(next_ts(), id, TradingStatus::Trading); }

  // ---- running -------------------------------------------------------------------------------

  static void collect(void* ctx, const Event* events, std::size_t n) noexcept {
    auto* out = static_cast<Events*>(ctx);
    out->insert(out->end(), events, events + n);
  }

  /// Processes one command and returns its events.
  Events run(const Command& cmd) {
    Events out;
    std::array<Event, 4> buffer{};
    EventSink sink(buffer.data(), buffer.size(), &EngineTest::collect, &out);
    const std::uint64_t before = engine_->state_hash();
    engine_->process(cmd, sink);
    sink.flush();
    now_ = cmd.ts;
    EXPECT_TRUE(engine_->validate_internal_state())
        << "validate_internal_state() failed after command type " << static_cast<unsigned>(cmd.type)
        << " at ts " << cmd.ts.value();
    if (out.size() == 1 && (out[0].type == EventType::Rejected || out[0].type == EventType::CancelRejected)) {
      EXPECT_EQ(engine_->state_hash(), before)
          << "a refused command changed state_hash(): " << describe(out[0]);
    }
    for (const Event& e : out) {
      EXPECT_EQ(e.ts, cmd.ts) << "event not stamped with its command's ts: " << describe(e);
    }
    return out;
  }

  /// Runs a command that must be refused with exactly `expected`; checks that the state hash,
  /// the internal invariants and the token count are as before.
  void expect_refused(const Command& cmd, RejectCode code, const Ord& o) {
    const std::uint64_t before = engine_->state_hash();
    const std::uint64_t tokens_before = engine_->stats().tokens_used;
    const Events ev = run(cmd);
    EXPECT_EVENTS(ev, seq(rejected(o, code)));
    EXPECT_EQ(engine_->state_hash(), before);
    EXPECT_EQ(engine_->stats().tokens_used, tokens_before);
    EXPECT_TRUE(engine_->validate_internal_state());
  }

  // ---- expected events (stamped with the ts of the last command run) ---------------------------

  Event blank(EventType t) const { return Event::make(t, now_); }

  Event accepted(const Ord& o, Price price, std::uint32_t qty, std::uint32_t min_qty = 0,
                 TimeInForce tif = TimeInForce::Day, bool post_only = false,
                 OrderType type = OrderType::Limit) const {
    Event e = blank(EventType::Accepted);
    e.owner = o.owner;
    e.firm = o.firm;
    e.instrument = o.instrument;
    e.side = o.side;
    e.order_type = type;
    e.tif = tif;
    e.post_only = post_only ? 1 : 0;
    e.order_id = o.id;
    e.price = price;
    e.qty = Qty{qty};
    e.leaves = Qty{qty};  // "qty=leaves" read as: both fields carry the open quantity
    e.min_qty = Qty{min_qty};
    e.token = o.token;
    return e;
  }
  /// Accepted for a market order: price 0, TIF as market() sends it.
  Event accepted_market(const Ord& o, std::uint32_t qty, OrderType type) const {
    const TimeInForce tif = type == OrderType::MarketBestFiveIoc ? TimeInForce::Ioc : TimeInForce::Day;
    return accepted(o, Price{0}, qty, 0, tif, false, type);
  }
  Event executed(const Ord& o, Price price, std::uint32_t qty, std::uint32_t leaves, std::uint64_t match,
                 Liquidity liquidity) const {
    Event e = blank(EventType::Executed);
    e.owner = o.owner;
    e.firm = o.firm;
    e.instrument = o.instrument;
    e.side = o.side;
    e.order_id = o.id;
    e.price = price;
    e.qty = Qty{qty};
    e.leaves = Qty{leaves};
    e.ref = match;
    e.code = static_cast<std::uint8_t>(liquidity);
    e.token = o.token;
    return e;
  }
  /// One trade: Executed (resting, Added), Executed (incoming, Removed), BookExecute (resting).
  Events trade(const Ord& resting, const Ord& incoming, Price price, std::uint32_t qty,
               std::uint32_t resting_leaves, std::uint32_t incoming_leaves, std::uint64_t match) const {
    return {executed(resting, price, qty, resting_leaves, match, Liquidity::Added),
            executed(incoming, price, qty, incoming_leaves, match, Liquidity::Removed),
            book_execute(resting, price, qty, resting_leaves, match)};
  }
  Event canceled(const Ord& o, std::uint32_t qty, std::uint32_t leaves, CancelReason reason) const {
    Event e = blank(EventType::Canceled);
    e.owner = o.owner;
    e.firm = o.firm;
    e.instrument = o.instrument;
    e.side = o.side;
    e.order_id = o.id;
    e.qty = Qty{qty};
    e.leaves = Qty{leaves};
    e.code = static_cast<std::uint8_t>(reason);
    e.token = o.token;
    return e;
  }
  /// Replaced: `now` is the replacement (its id and token), `before` the replaced order.
  Event replaced(const Ord& now, const Ord& before, Price price, std::uint32_t qty,
                 TimeInForce tif = TimeInForce::Day, bool post_only = false) const {
    Event e = blank(EventType::Replaced);
    e.owner = now.owner;
    e.firm = now.firm;
    e.instrument = now.instrument;
    e.side = now.side;
    e.order_type = OrderType::Limit;
    e.tif = tif;
    e.post_only = post_only ? 1 : 0;
    e.order_id = now.id;
    e.ref = before.id.value();
    e.price = price;
    e.qty = Qty{qty};
    e.leaves = Qty{qty};  // "qty=leaves", as for Accepted
    e.token = now.token;
    e.token2 = before.token;
    return e;
  }
  Event rejected(const Ord& o, RejectCode code) const {
    Event e = blank(EventType::Rejected);
    e.owner = o.owner;
    e.firm = o.firm;
    e.instrument = o.instrument;
    e.code = static_cast<std::uint8_t>(code);
    e.token = o.token;
    return e;
  }
  /// A refused replace: token = replacement, token2 = existing; firm and instrument the original's.
  Event replace_rejected(const Ord& existing, const Ord& replacement, RejectCode code) const {
    Event e = rejected(existing, code);
    e.token = replacement.token;
    e.token2 = existing.token;
    return e;
  }
  Event cancel_rejected(const Ord& o, RejectCode code, std::uint32_t target) const {
    Event e = blank(EventType::CancelRejected);
    e.owner = o.owner;
    e.code = static_cast<std::uint8_t>(code);
    e.qty = Qty{target};
    e.token = o.token;
    return e;
  }
  Event book_add(const Ord& o, Price price, std::uint32_t qty) const {
    Event e = blank(EventType::BookAdd);
    e.instrument = o.instrument;
    e.side = o.side;
    e.order_id = o.id;
    e.price = price;
    e.qty = Qty{qty};
    e.firm = o.firm;
    return e;
  }
  Event book_execute(const Ord& o, Price price, std::uint32_t qty, std::uint32_t leaves,
                     std::uint64_t match) const {
    Event e = blank(EventType::BookExecute);
    e.instrument = o.instrument;
    e.side = o.side;
    e.order_id = o.id;
    e.price = price;
    e.qty = Qty{qty};
    e.leaves = Qty{leaves};
    e.ref = match;
    return e;
  }
  Event book_cancel(const Ord& o, std::uint32_t qty, std::uint32_t leaves) const {
    Event e = blank(EventType::BookCancel);
    e.instrument = o.instrument;
    e.side = o.side;
    e.order_id = o.id;
    e.qty = Qty{qty};
    e.leaves = Qty{leaves};
    return e;
  }
  Event book_delete(const Ord& o) const {
    Event e = blank(EventType::BookDelete);
    e.instrument = o.instrument;
    e.side = o.side;
    e.order_id = o.id;
    return e;
  }
  Event book_replace(const Ord& now, const Ord& before, Price price, std::uint32_t qty) const {
    Event e = blank(EventType::BookReplace);
    e.instrument = now.instrument;
    e.side = now.side;
    e.order_id = now.id;
    e.ref = before.id.value();
    e.price = price;
    e.qty = Qty{qty};
    return e;
  }
  /// Canceled + BookDelete: a whole resting order removed (mass cancel, kill switch, STP).
  Events removed(const Ord& o, std::uint32_t open, CancelReason reason) const {
    return {canceled(o, open, 0, reason), book_delete(o)};
  }
  Event status_changed(InstrumentId id, TradingStatus status) const {
    Event e = blank(EventType::TradingStatusChanged);
    e.instrument = id;
    e.code = static_cast<std::uint8_t>(status);
    return e;
  }
  Event kill_switch_changed(FirmId firm, bool engaged) const {
    Event e = blank(EventType::KillSwitchChanged);
    e.firm = firm;
    e.code = engaged ? 1 : 0;
    return e;
  }

  // ---- book views -----------------------------------------------------------------------------

  Levels levels(InstrumentId id, Side side, std::size_t max_levels = 16) const {
    std::vector<DepthLevel> raw(max_levels);
    const std::size_t n = engine_->depth(id, side, raw.data(), raw.size());
    Levels out;
    for (std::size_t i = 0; i < n && i < raw.size(); ++i) out.push_back(Level{raw[i].price, raw[i].qty, raw[i].orders});
    return out;
  }

  std::unique_ptr<Engine> engine_;
  Timestamp now_{0};
  std::uint64_t clock_ = 0;
};

}  // namespace peregrine::test
