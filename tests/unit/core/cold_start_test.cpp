// Cold start (issue 14): the tables sized for the day (price levels and their bitmaps, the order
// pool, the token index) start as untouched zero pages, so constructing an Engine writes
// nothing proportional to its capacities, and all-zero memory is the valid empty state.

#include <sys/resource.h>

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "engine_fixture.hpp"
#include "peregrine/core/config.hpp"
#include "peregrine/core/engine.hpp"

namespace peregrine::test {
namespace {

long minor_faults() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_minflt;
}

void discard(void*, const Event*, std::size_t) noexcept {}

// Pages written if anything walked the tables below: the pool alone is 2^24 slots of 64 bytes
// (262,144 pages of 4 KiB); the widest grid's levels, 4,000,001 per side of 24 bytes (~46,900
// pages). The bound leaves room for the per-instrument and per-firm state and the allocator.
constexpr long kFewPages = 256;

TEST(ColdStartTest, ConstructingAnEngineWritesNoPageOfTheDaysTables) {
  EngineConfig cfg = default_config();
  cfg.max_orders = 1u << 24;
  cfg.max_tokens = 1u << 24;
  InstrumentConfig wide = cfg.instruments.front();
  wide.symbol = Symbol::from("600009");
  wide.tick = Price{1};
  wide.reference_price = Price{20'000'000};  // ±10 %: 18,000,000 .. 22,000,000, 4,000,001 levels
  cfg.instruments.push_back(wide);
  ASSERT_EQ(check_config(cfg), std::nullopt);
  const InstrumentId wide_id{static_cast<std::uint16_t>(cfg.instruments.size())};

  const long before = minor_faults();
  Engine engine(cfg);
  const long constructed = minor_faults();
  EXPECT_LT(constructed - before, kFewPages) << "construction faulted in pages of the day's tables";
  EXPECT_EQ(engine.limits(wide_id).down, Price{18'000'000});
  EXPECT_EQ(engine.limits(wide_id).up, Price{22'000'000});

  // The first and last levels of the widest grid work from zero pages, and using them brings in
  // only the pages they are on.
  std::array<Event, 16> buffer{};
  EventSink sink(buffer.data(), buffer.size(), &discard, nullptr);
  engine.process(make_new_order(Timestamp{1}, kAlice, kFirmA, wide.symbol, Token::from("LOW"), Side::Buy,
                                Qty{100}, Price{18'000'000}, OrderType::Limit, TimeInForce::Day),
                 sink);
  engine.process(make_new_order(Timestamp{2}, kBob, kFirmB, wide.symbol, Token::from("HIGH"), Side::Sell,
                                Qty{100}, Price{22'000'000}, OrderType::Limit, TimeInForce::Day),
                 sink);
  sink.flush();
  EXPECT_LT(minor_faults() - constructed, kFewPages);
  EXPECT_EQ(engine.best(wide_id, Side::Buy), Price{18'000'000});
  EXPECT_EQ(engine.best(wide_id, Side::Sell), Price{22'000'000});
  EXPECT_EQ(engine.stats().live_orders, 2u);
}

using ColdStartBookTest = EngineTest;

// An emptied level goes back to all zeros (run() checks validate_internal_state() after every
// command, which requires it); used again, it keeps time priority among its new orders.
TEST_F(ColdStartBookTest, ALevelEmptiedAndUsedAgainKeepsTimePriority) {
  const Ord first = buyer(kAlice, kFirmA, 1, "A1");
  run(limit(first, 100, px(1000)));
  run(cancel(first));
  EXPECT_TRUE(levels(kMain, Side::Buy).empty());

  const Ord second = buyer(kBob, kFirmB, 2, "B1");
  const Ord third = buyer(kCarol, kFirmA, 3, "C1");
  run(limit(second, 100, px(1000)));
  run(limit(third, 100, px(1000)));
  EXPECT_EQ(levels(kMain, Side::Buy), (Levels{{px(1000), 200, 2}}));

  const Ord taker = seller(kDave, kFirmB, 4, "D1");
  std::vector<std::uint64_t> filled;
  for (const Event& e : run(limit(taker, 200, px(1000))))
    if (e.type == EventType::Executed && e.owner != kDave) filled.push_back(e.order_id.value());
  EXPECT_EQ(filled, (std::vector<std::uint64_t>{2, 3}));
  EXPECT_TRUE(levels(kMain, Side::Buy).empty());

  run(limit(buyer(kAlice, kFirmA, 5, "A2"), 100, px(1000)));
  EXPECT_EQ(levels(kMain, Side::Buy), (Levels{{px(1000), 100, 1}}));
}

// The first and last levels of a grid (the bitmap's first and last words) from zero pages.
TEST_F(ColdStartBookTest, OrdersAtBothPriceLimitsRestAndTrade) {
  run(limit(buyer(kAlice, kFirmA, 1, "A1"), 100, px(900)));
  run(limit(seller(kBob, kFirmB, 2, "B1"), 100, px(1100)));
  EXPECT_EQ(levels(kMain, Side::Buy), (Levels{{px(900), 100, 1}}));
  EXPECT_EQ(levels(kMain, Side::Sell), (Levels{{px(1100), 100, 1}}));
  run(limit(seller(kCarol, kFirmB, 3, "C1"), 100, px(900)));
  run(limit(buyer(kDave, kFirmA, 4, "D1"), 100, px(1100)));
  EXPECT_TRUE(levels(kMain, Side::Buy).empty());
  EXPECT_TRUE(levels(kMain, Side::Sell).empty());
}

}  // namespace
}  // namespace peregrine::test
