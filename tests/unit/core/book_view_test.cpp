// Read-only views of the engine: depth(), best(), firm_open_shares(), stats().

#include <array>

#include "unit/core/engine_fixture.hpp"

namespace peregrine::test {
namespace {

class BookViewTest : public EngineTest {
 protected:
  /// Bids 10.00 (100 + 200), 9.99 (300 + 100), 9.98 (100); asks 10.02 (100 + 100), 10.05 (100), 10.10 (1).
  void SetUp() override {
    run(limit(buyer(kAlice, kFirmA, 1, "B1"), 100, px(10'00)));
    run(limit(buyer(kAlice, kFirmA, 2, "B2"), 300, px(9'99)));
    run(limit(buyer(kCarol, kFirmA, 3, "B3"), 200, px(10'00)));
    run(limit(buyer(kCarol, kFirmA, 4, "B4"), 100, px(9'98)));
    run(limit(buyer(kDave, kFirmB, 5, "B5"), 100, px(9'99)));
    run(limit(seller(kBob, kFirmB, 6, "S1"), 100, px(10'05)));
    run(limit(seller(kBob, kFirmB, 7, "S2"), 100, px(10'02)));
    run(limit(seller(kBob, kFirmB, 8, "S3"), 100, px(10'02)));
    run(limit(seller(kBob, kFirmB, 9, "S4"), 1, px(10'10)));
  }
};

TEST_F(BookViewTest, DepthAggregatesQuantityAndOrderCountsPerLevelBestFirst) {
  EXPECT_EQ(levels(kMain, Side::Buy), (Levels{{px(10'00), 300, 2}, {px(9'99), 400, 2}, {px(9'98), 100, 1}}));
  EXPECT_EQ(levels(kMain, Side::Sell), (Levels{{px(10'02), 200, 2}, {px(10'05), 100, 1}, {px(10'10), 1, 1}}));
}

TEST_F(BookViewTest, BestIsTheTopOfEachSide) {
  EXPECT_EQ(engine().best(kMain, Side::Buy), px(10'00));
  EXPECT_EQ(engine().best(kMain, Side::Sell), px(10'02));
  EXPECT_FALSE(engine().best(kOther, Side::Buy).has_value());
  EXPECT_FALSE(engine().best(kOther, Side::Sell).has_value());
  EXPECT_FALSE(engine().best(InstrumentId{0}, Side::Buy).has_value());
  EXPECT_FALSE(engine().best(InstrumentId{99}, Side::Sell).has_value());
}

TEST_F(BookViewTest, DepthWritesAtMostMaxLevels) {
  std::array<DepthLevel, 4> out{};
  out[2] = DepthLevel{Price{-7}, 7, 7};
  EXPECT_EQ(engine().depth(kMain, Side::Buy, out.data(), 2), 2u);
  EXPECT_EQ(out[0].price, px(10'00));
  EXPECT_EQ(out[1].price, px(9'99));
  EXPECT_EQ(out[2].price, Price{-7});  // untouched
  EXPECT_EQ(out[2].qty, 7u);
  EXPECT_EQ(engine().depth(kMain, Side::Sell, out.data(), 0), 0u);
  EXPECT_EQ(engine().depth(kOther, Side::Sell, out.data(), out.size()), 0u);
  EXPECT_EQ(engine().depth(InstrumentId{0}, Side::Sell, out.data(), out.size()), 0u);
  EXPECT_EQ(engine().depth(InstrumentId{99}, Side::Buy, out.data(), out.size()), 0u);
}

TEST_F(BookViewTest, DepthFollowsFillsReductionsAndRemovals) {
  run(limit(seller(kBob, kFirmB, 10, "S5"), 150, px(10'00)));  // B1 filled, B3 200 -> 150
  EXPECT_EQ(levels(kMain, Side::Buy), (Levels{{px(10'00), 150, 1}, {px(9'99), 400, 2}, {px(9'98), 100, 1}}));
  run(cancel(buyer(kAlice, kFirmA, 2, "B2"), 100));  // 9.99: 300 -> 100
  EXPECT_EQ(levels(kMain, Side::Buy), (Levels{{px(10'00), 150, 1}, {px(9'99), 200, 2}, {px(9'98), 100, 1}}));
  run(cancel(buyer(kCarol, kFirmA, 3, "B3")));  // 10.00 level disappears
  EXPECT_EQ(levels(kMain, Side::Buy), (Levels{{px(9'99), 200, 2}, {px(9'98), 100, 1}}));
  EXPECT_EQ(engine().best(kMain, Side::Buy), px(9'99));
}

TEST_F(BookViewTest, FirmOpenSharesAndLiveOrdersCountEveryLiveOrder) {
  EXPECT_EQ(engine().firm_open_shares(kFirmA), 700u);
  EXPECT_EQ(engine().firm_open_shares(kFirmB), 401u);
  EXPECT_EQ(engine().firm_open_shares(kNewest), 0u);
  EXPECT_EQ(engine().stats().live_orders, 9u);
  EXPECT_EQ(engine().stats().tokens_used, 9u);
  run(limit(buyer(kAlice, kFirmA, 10, "O1", kOther), 100, px(20'00)));
  EXPECT_EQ(engine().firm_open_shares(kFirmA), 800u);
  EXPECT_EQ(engine().stats().live_orders, 10u);
}

}  // namespace
}  // namespace peregrine::test
