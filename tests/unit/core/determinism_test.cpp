// Determinism and event-record hygiene over a long pseudo-random command stream: two engines give
// byte-identical event streams and equal state hashes; the sink's buffer size does not matter;
// every event leaves the fields its type does not list zero; order ids and match numbers count
// 1, 2, 3, ...

#include <cstring>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>

#include "unit/core/engine_fixture.hpp"

namespace peregrine::test {
namespace {

/// A reproducible mix of every command kind, valid and invalid. std::mt19937_64's output is fixed
/// by the standard; only its raw output is used (no distributions), so the stream is portable.
std::vector<Command> random_commands(std::uint64_t seed, std::size_t n) {
  std::mt19937_64 rng(seed);
  const auto pick = [&rng](std::uint64_t bound) { return rng() % bound; };
  const Symbol main_symbol = Symbol::from("600000");
  const Symbol star_symbol = Symbol::from("688001");
  std::vector<std::pair<OwnerId, Token>> used;
  std::vector<Command> out;
  out.reserve(n);
  std::uint64_t ts = 0;
  std::uint64_t next_token = 0;

  const auto new_token = [&next_token]() { return Token::from(numbered("T", ++next_token)); };
  const auto qty_for = [&pick](bool star, bool buy) -> std::uint32_t {
    if (pick(100) < 4) return static_cast<std::uint32_t>(pick(250));  // often invalid
    if (star) return static_cast<std::uint32_t>(200 + pick(600));
    if (!buy && pick(10) == 0) return static_cast<std::uint32_t>(1 + pick(150));  // odd-lot sell
    return static_cast<std::uint32_t>(100 * (1 + pick(12)));
  };
  const auto price_for = [&pick](bool star) -> Price {
    const std::int64_t r = static_cast<std::int64_t>(pick(100));
    if (r < 2) return Price{static_cast<std::int64_t>(pick(3)) * 100050 - 100};  // off tick / non-positive
    if (star) return Price{500000 + (static_cast<std::int64_t>(pick(61)) - 30) * 100};
    if (r < 4) return px(11'01);  // outside the limits
    return Price{100000 + (static_cast<std::int64_t>(pick(21)) - 10) * 100};
  };

  for (std::size_t i = 0; i < n; ++i) {
    ts += 1 + pick(1000);
    const Timestamp t{ts};
    const std::uint64_t r = pick(100);
    if (r < 55 || used.empty()) {
      const OwnerId owner{static_cast<std::uint32_t>(1 + pick(4))};
      const FirmId firm{static_cast<std::uint16_t>(pick(100) == 0 ? 42 : pick(7))};
      const bool star = pick(5) == 0;
      Symbol symbol = star ? star_symbol : main_symbol;
      if (pick(100) == 0) symbol = Symbol::from("999999");
      Side side = pick(2) == 0 ? Side::Buy : Side::Sell;
      if (pick(200) == 0) side = static_cast<Side>(std::uint8_t{'X'});
      const std::uint64_t type_pick = pick(100);
      const OrderType type = type_pick < 86   ? OrderType::Limit
                             : type_pick < 93 ? OrderType::MarketBestFiveIoc
                                              : OrderType::MarketBestFiveToLimit;
      const std::uint64_t tif_pick = pick(100);
      TimeInForce tif = tif_pick < 70 ? TimeInForce::Day : tif_pick < 90 ? TimeInForce::Ioc : TimeInForce::Fok;
      if (type == OrderType::MarketBestFiveIoc) tif = TimeInForce::Ioc;
      if (type == OrderType::MarketBestFiveToLimit) tif = TimeInForce::Day;
      const std::uint32_t qty = qty_for(star, side == Side::Buy);
      const std::uint32_t min_qty = pick(10) == 0 ? (qty / 200) * 100 : 0;
      const bool post_only = pick(20) == 0;
      Token token = new_token();
      if (!used.empty() && pick(25) == 0) token = used[pick(used.size())].second;  // maybe a duplicate
      used.emplace_back(owner, token);
      out.push_back(make_new_order(t, owner, firm, symbol, token, side, Qty{qty}, price_for(star), type, tif,
                                   Qty{min_qty}, post_only));
    } else if (r < 75) {
      const auto& [owner, token] = used[pick(used.size())];
      const std::uint32_t target = pick(10) < 7 ? 0 : static_cast<std::uint32_t>(pick(600));
      out.push_back(make_cancel(t, owner, token, Qty{target}));
    } else if (r < 92) {
      const auto [owner, token] = used[pick(used.size())];
      const bool star = pick(5) == 0;
      const Token replacement = pick(30) == 0 ? token : new_token();
      used.emplace_back(owner, replacement);
      const std::uint32_t qty = qty_for(star, pick(2) == 0);
      const Price price = price_for(star);
      const TimeInForce tif = pick(20) == 0 ? TimeInForce::Ioc : TimeInForce::Day;  // IOC is refused
      const bool post_only = pick(30) == 0;
      out.push_back(make_replace(t, owner, token, replacement, Qty{qty}, price, tif, post_only));
    } else if (r < 95) {
      const FirmId firm{static_cast<std::uint16_t>(pick(7))};
      const InstrumentId instrument{static_cast<std::uint16_t>(pick(3))};  // 0 = all, 1 main, 2 STAR
      const OwnerId owner{static_cast<std::uint32_t>(pick(2) == 0 ? 0 : 1 + pick(4))};
      const CancelReason reason = pick(2) == 0 ? CancelReason::Supervisory : CancelReason::Disconnected;
      out.push_back(make_mass_cancel(t, firm, instrument, owner, reason));
    } else if (r < 98) {
      const FirmId firm{static_cast<std::uint16_t>(pick(7))};
      const bool engaged = pick(10) < 4;
      const bool cancel_open = pick(2) == 0;
      out.push_back(make_kill_switch(t, firm, engaged, cancel_open));
    } else {
      const InstrumentId instrument{static_cast<std::uint16_t>(1 + pick(2))};
      const TradingStatus status = pick(10) < 3 ? TradingStatus::Halted : TradingStatus::Trading;
      out.push_back(make_trading_status(t, instrument, status));
    }
  }
  return out;
}

struct StreamRun {
  Events events;
  std::vector<std::uint64_t> hashes;  ///< state hash after each command
  std::vector<std::size_t> ends;      ///< events.size() after each command
  bool valid = true;
};

void collect(void* ctx, const Event* events, std::size_t n) noexcept {
  auto* out = static_cast<Events*>(ctx);
  out->insert(out->end(), events, events + n);
}

StreamRun run_all(const std::vector<Command>& cmds, std::size_t sink_capacity, bool flush_each, bool validate_each) {
  Engine engine(default_config());
  StreamRun r;
  std::vector<Event> buffer(sink_capacity);
  EventSink sink(buffer.data(), buffer.size(), &collect, &r.events);
  for (const Command& c : cmds) {
    engine.process(c, sink);
    if (flush_each) sink.flush();
    r.hashes.push_back(engine.state_hash());
    if (flush_each) r.ends.push_back(r.events.size());
    if (validate_each && !engine.validate_internal_state()) r.valid = false;
  }
  sink.flush();
  if (!engine.validate_internal_state()) r.valid = false;
  return r;
}

constexpr std::size_t kCommands = 6000;

TEST(DeterminismTest, TwoEnginesGiveByteIdenticalEventStreamsAndEqualStateHashes) {
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    const std::vector<Command> cmds = random_commands(seed, kCommands);
    const StreamRun a = run_all(cmds, 4096, true, true);
    const StreamRun b = run_all(cmds, 4096, true, false);
    EXPECT_TRUE(a.valid) << "seed " << seed;
    ASSERT_EQ(a.events.size(), b.events.size()) << "seed " << seed;
    EXPECT_EQ(std::memcmp(a.events.data(), b.events.data(), a.events.size() * sizeof(Event)), 0) << "seed " << seed;
    EXPECT_TRUE(a.events == b.events);
    EXPECT_EQ(a.hashes, b.hashes) << "seed " << seed;
    EXPECT_EQ(fnv1a(a.events.data(), a.events.size() * sizeof(Event)),
              fnv1a(b.events.data(), b.events.size() * sizeof(Event)));
  }
}

TEST(DeterminismTest, DifferentStreamsGiveDifferentStateHashes) {
  const StreamRun a = run_all(random_commands(1, 500), 4096, true, false);
  const StreamRun b = run_all(random_commands(2, 500), 4096, true, false);
  EXPECT_NE(a.hashes.back(), b.hashes.back());
}

TEST(DeterminismTest, TheSinkBufferSizeAndFlushPatternDoNotChangeTheStream) {
  const std::vector<Command> cmds = random_commands(7, kCommands);
  const StreamRun a = run_all(cmds, 1, true, false);
  const StreamRun b = run_all(cmds, 4096, false, false);
  const StreamRun c = run_all(cmds, 3, false, false);
  ASSERT_EQ(a.events.size(), b.events.size());
  ASSERT_EQ(a.events.size(), c.events.size());
  EXPECT_EQ(std::memcmp(a.events.data(), b.events.data(), a.events.size() * sizeof(Event)), 0);
  EXPECT_EQ(std::memcmp(a.events.data(), c.events.data(), a.events.size() * sizeof(Event)), 0);
  EXPECT_EQ(a.hashes, b.hashes);
}

/// Names of fields that `e`'s type does not list (Event's field table) but that are not zero.
std::string unlisted_nonzero_fields(const Event& e) {
  enum : unsigned {
    kSide = 1u << 0, kCode = 1u << 1, kOrderType = 1u << 2, kTif = 1u << 3, kPostOnly = 1u << 4,
    kInstrument = 1u << 5, kOwner = 1u << 6, kFirm = 1u << 7, kOrderId = 1u << 8, kRef = 1u << 9,
    kPrice = 1u << 10, kQty = 1u << 11, kLeaves = 1u << 12, kMinQty = 1u << 13, kToken = 1u << 14,
    kToken2 = 1u << 15,
  };
  unsigned listed = 0;
  switch (e.type) {
    case EventType::Accepted:
      listed = kOwner | kFirm | kInstrument | kSide | kOrderType | kTif | kPostOnly | kOrderId | kPrice | kQty |
               kLeaves | kMinQty | kToken;
      break;
    case EventType::Rejected: listed = kOwner | kFirm | kInstrument | kCode | kToken | kToken2; break;
    case EventType::Executed:
      listed = kOwner | kFirm | kInstrument | kSide | kOrderId | kPrice | kQty | kLeaves | kRef | kCode | kToken;
      break;
    case EventType::Canceled:
      listed = kOwner | kFirm | kInstrument | kSide | kOrderId | kQty | kLeaves | kCode | kToken;
      break;
    case EventType::Replaced:
      listed = kOwner | kFirm | kInstrument | kSide | kOrderType | kTif | kPostOnly | kOrderId | kRef | kPrice |
               kQty | kLeaves | kToken | kToken2;
      break;
    case EventType::CancelRejected: listed = kOwner | kCode | kQty | kToken; break;
    case EventType::BookAdd: listed = kInstrument | kSide | kOrderId | kPrice | kQty | kFirm; break;
    case EventType::BookExecute: listed = kInstrument | kSide | kOrderId | kPrice | kQty | kLeaves | kRef | kCode; break;
    case EventType::BookCancel: listed = kInstrument | kSide | kOrderId | kQty | kLeaves; break;
    case EventType::BookDelete: listed = kInstrument | kSide | kOrderId; break;
    case EventType::BookReplace: listed = kInstrument | kSide | kOrderId | kRef | kPrice | kQty; break;
    case EventType::TradingStatusChanged: listed = kInstrument | kCode; break;
    case EventType::KillSwitchChanged: listed = kFirm | kCode; break;
    case EventType::CrossTrade: listed = kInstrument | kPrice | kOrderId | kRef | kCode; break;
    case EventType::Indicative: listed = kInstrument | kPrice | kRef | kOrderId | kSide | kCode; break;
  }
  std::string bad;
  const auto check = [&](unsigned bit, const char* name, bool zero) {
    if ((listed & bit) == 0 && !zero) bad += std::string(bad.empty() ? "" : ", ") + name;
  };
  check(kSide, "side", static_cast<std::uint8_t>(e.side) == 0);
  check(kCode, "code", e.code == 0);
  check(kOrderType, "order_type", static_cast<std::uint8_t>(e.order_type) == 0);
  check(kTif, "tif", static_cast<std::uint8_t>(e.tif) == 0);
  check(kPostOnly, "post_only", e.post_only == 0);
  check(kInstrument, "instrument", e.instrument.value() == 0);
  check(kOwner, "owner", e.owner.value() == 0);
  check(kFirm, "firm", e.firm.value() == 0);
  check(kOrderId, "order_id", e.order_id.value() == 0);
  check(kRef, "ref", e.ref == 0);
  check(kPrice, "price", e.price.value() == 0);
  check(kQty, "qty", e.qty.value() == 0);
  check(kLeaves, "leaves", e.leaves.value() == 0);
  check(kMinQty, "min_qty", e.min_qty.value() == 0);
  check(kToken, "token", e.token == Token{});
  check(kToken2, "token2", e.token2 == Token{});
  if (e.reserved0_ != 0 || e.reserved1_ != 0 || e.reserved2_ != 0) bad += std::string(bad.empty() ? "" : ", ") + "reserved";
  // Padding: an Event rebuilt field by field from a zeroed record must equal it byte for byte.
  Event copy = Event::make(e.type, e.ts);
  copy.side = e.side;
  copy.code = e.code;
  copy.order_type = e.order_type;
  copy.tif = e.tif;
  copy.post_only = e.post_only;
  copy.instrument = e.instrument;
  copy.owner = e.owner;
  copy.firm = e.firm;
  copy.reserved0_ = e.reserved0_;
  copy.order_id = e.order_id;
  copy.ref = e.ref;
  copy.price = e.price;
  copy.qty = e.qty;
  copy.leaves = e.leaves;
  copy.min_qty = e.min_qty;
  copy.reserved1_ = e.reserved1_;
  copy.token = e.token;
  copy.token2 = e.token2;
  copy.reserved2_ = e.reserved2_;
  if (!(copy == e)) bad += std::string(bad.empty() ? "" : ", ") + "padding";
  return bad;
}

TEST(DeterminismTest, EveryEventLeavesTheFieldsItsTypeDoesNotListZero) {
  const std::vector<Command> cmds = random_commands(11, kCommands);
  const StreamRun r = run_all(cmds, 4096, true, false);
  std::map<EventType, std::size_t> seen;
  std::size_t reported = 0;
  for (const Event& e : r.events) {
    ++seen[e.type];
    const std::string bad = unlisted_nonzero_fields(e);
    if (!bad.empty() && reported++ < 10) ADD_FAILURE() << describe(e) << " has non-zero unlisted fields: " << bad;
  }
  EXPECT_EQ(reported, 0u);
  // The stream is only a good probe if it produces every kind of event.
  for (EventType t : {EventType::Accepted, EventType::Rejected, EventType::Executed, EventType::Canceled,
                      EventType::Replaced, EventType::CancelRejected, EventType::BookAdd, EventType::BookExecute,
                      EventType::BookCancel, EventType::BookDelete, EventType::BookReplace,
                      EventType::TradingStatusChanged, EventType::KillSwitchChanged}) {
    EXPECT_GT(seen[t], 0u) << "the random stream produced no " << event_type_name(t);
  }
}

TEST(DeterminismTest, EveryEventCarriesItsCommandsTimestamp) {
  const std::vector<Command> cmds = random_commands(5, 2000);
  const StreamRun r = run_all(cmds, 64, true, false);
  std::size_t begin = 0;
  for (std::size_t i = 0; i < cmds.size(); ++i) {
    for (std::size_t k = begin; k < r.ends[i]; ++k) {
      ASSERT_EQ(r.events[k].ts, cmds[i].ts) << "command " << i << ": " << describe(r.events[k]);
    }
    begin = r.ends[i];
  }
}

TEST(DeterminismTest, OrderIdsAndMatchNumbersCountOneTwoThreeWithoutGaps) {
  const std::vector<Command> cmds = random_commands(13, kCommands);
  const StreamRun r = run_all(cmds, 4096, true, false);
  std::uint64_t next_order_id = 1;
  std::uint64_t next_match = 1;
  for (std::size_t k = 0; k < r.events.size(); ++k) {
    const Event& e = r.events[k];
    if (e.type == EventType::Accepted) {
      ASSERT_EQ(e.order_id.value(), next_order_id) << describe(e);
      ++next_order_id;
    } else if (e.type == EventType::Replaced && e.order_id.value() != e.ref) {
      ASSERT_EQ(e.order_id.value(), next_order_id) << describe(e);
      ++next_order_id;
    } else if (e.type == EventType::Executed && e.code == static_cast<std::uint8_t>(Liquidity::Added)) {
      ASSERT_EQ(e.ref, next_match) << describe(e);
      // Executed (Added), Executed (Removed), BookExecute share the match number, price and quantity.
      ASSERT_LT(k + 2, r.events.size());
      const Event& removed = r.events[k + 1];
      const Event& book = r.events[k + 2];
      EXPECT_EQ(removed.type, EventType::Executed);
      EXPECT_EQ(removed.code, static_cast<std::uint8_t>(Liquidity::Removed));
      EXPECT_EQ(removed.ref, e.ref);
      EXPECT_EQ(removed.price, e.price);
      EXPECT_EQ(removed.qty, e.qty);
      EXPECT_NE(removed.side, e.side);
      EXPECT_EQ(book.type, EventType::BookExecute);
      EXPECT_EQ(book.ref, e.ref);
      EXPECT_EQ(book.order_id, e.order_id);
      EXPECT_EQ(book.leaves, e.leaves);
      ++next_match;
    }
  }
  EXPECT_GT(next_order_id, 100u);
  EXPECT_GT(next_match, 100u);
}

TEST(DeterminismTest, ReplayingAPrefixReachesTheSameStateHash) {
  const std::vector<Command> cmds = random_commands(17, 3000);
  const StreamRun full = run_all(cmds, 4096, true, false);
  const std::vector<Command> prefix(cmds.begin(), cmds.begin() + 1234);
  const StreamRun part = run_all(prefix, 4096, true, false);
  EXPECT_EQ(part.hashes.back(), full.hashes[1233]);
  EXPECT_EQ(std::memcmp(part.events.data(), full.events.data(), part.events.size() * sizeof(Event)), 0);
}

}  // namespace
}  // namespace peregrine::test
