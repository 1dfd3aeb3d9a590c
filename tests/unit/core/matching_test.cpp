// Price-time matching of limit day orders (docs/market-rules.md "Matching", "Events of one
// command"): resting, crossing, partial fills across levels, trade price, match numbers, order ids.

#include "unit/core/engine_fixture.hpp"

namespace peregrine::test {
namespace {

class MatchingTest : public EngineTest {};

TEST_F(MatchingTest, DayLimitOrderRestsWhenTheOppositeSideIsEmpty) {
  const Ord s1 = seller(kBob, kFirmB, 1, "S1");
  const Events ev = run(limit(s1, 100, px(10'00)));
  EXPECT_EVENTS(ev, seq(accepted(s1, px(10'00), 100), book_add(s1, px(10'00), 100)));
  EXPECT_EQ(engine().best(kMain, Side::Sell), px(10'00));
  EXPECT_FALSE(engine().best(kMain, Side::Buy).has_value());
  EXPECT_EQ(engine().firm_open_shares(kFirmB), 100u);
  EXPECT_EQ(engine().stats().live_orders, 1u);
  EXPECT_EQ(engine().stats().tokens_used, 1u);
}

TEST_F(MatchingTest, BuyBelowTheBestAskRestsWithoutTrading) {
  const Ord s1 = seller(kBob, kFirmB, 1, "S1");
  const Ord b1 = buyer(kAlice, kFirmA, 2, "B1");
  run(limit(s1, 100, px(10'00)));
  const Events ev = run(limit(b1, 200, px(9'99)));
  EXPECT_EVENTS(ev, seq(accepted(b1, px(9'99), 200), book_add(b1, px(9'99), 200)));
  EXPECT_EQ(engine().best(kMain, Side::Buy), px(9'99));
  EXPECT_EQ(engine().best(kMain, Side::Sell), px(10'00));
}

TEST_F(MatchingTest, CrossingBuyTradesAtTheRestingPriceAndRestsTheRemainder) {
  const Ord s1 = seller(kBob, kFirmB, 1, "S1");
  const Ord b1 = buyer(kAlice, kFirmA, 2, "B1");
  run(limit(s1, 100, px(10'00)));
  const Events ev = run(limit(b1, 300, px(10'01)));
  EXPECT_EVENTS(ev, seq(accepted(b1, px(10'01), 300),
                        trade(s1, b1, px(10'00), 100, 0, 200, 1),
                        book_add(b1, px(10'01), 200)));
  EXPECT_FALSE(engine().best(kMain, Side::Sell).has_value());
  EXPECT_EQ(engine().best(kMain, Side::Buy), px(10'01));
  EXPECT_EQ(engine().firm_open_shares(kFirmB), 0u);
  EXPECT_EQ(engine().firm_open_shares(kFirmA), 200u);
}

TEST_F(MatchingTest, CrossingSellTradesAtTheRestingBidPrice) {
  const Ord b1 = buyer(kAlice, kFirmA, 1, "B1");
  const Ord s1 = seller(kBob, kFirmB, 2, "S1");
  run(limit(b1, 500, px(10'05)));
  const Events ev = run(limit(s1, 200, px(9'90)));
  EXPECT_EVENTS(ev, seq(accepted(s1, px(9'90), 200), trade(b1, s1, px(10'05), 200, 300, 0, 1)));
  EXPECT_EQ(levels(kMain, Side::Buy), (Levels{{px(10'05), 300, 1}}));
}

TEST_F(MatchingTest, PartialFillAcrossTwoLevelsRestsTheRemainder) {
  const Ord s1 = seller(kBob, kFirmB, 1, "S1");
  const Ord s2 = seller(kBob, kFirmB, 2, "S2");
  const Ord s3 = seller(kBob, kFirmB, 3, "S3");
  const Ord b1 = buyer(kAlice, kFirmA, 4, "B1");
  run(limit(s1, 100, px(10'00)));
  run(limit(s2, 200, px(10'01)));
  run(limit(s3, 100, px(10'02)));
  const Events ev = run(limit(b1, 500, px(10'01)));
  EXPECT_EVENTS(ev, seq(accepted(b1, px(10'01), 500),
                        trade(s1, b1, px(10'00), 100, 0, 400, 1),
                        trade(s2, b1, px(10'01), 200, 0, 200, 2),
                        book_add(b1, px(10'01), 200)));
  EXPECT_EQ(levels(kMain, Side::Sell), (Levels{{px(10'02), 100, 1}}));
  EXPECT_EQ(levels(kMain, Side::Buy), (Levels{{px(10'01), 200, 1}}));
}

TEST_F(MatchingTest, SellWalksTheBidsFromTheHighestPriceDownToItsLimit) {
  const Ord b1 = buyer(kAlice, kFirmA, 1, "B1");
  const Ord b2 = buyer(kAlice, kFirmA, 2, "B2");
  const Ord b3 = buyer(kAlice, kFirmA, 3, "B3");
  const Ord s1 = seller(kBob, kFirmB, 4, "S1");
  run(limit(b1, 100, px(9'98)));
  run(limit(b2, 100, px(10'00)));
  run(limit(b3, 100, px(9'99)));
  const Events ev = run(limit(s1, 250, px(9'99)));
  EXPECT_EVENTS(ev, seq(accepted(s1, px(9'99), 250),
                        trade(b2, s1, px(10'00), 100, 0, 150, 1),
                        trade(b3, s1, px(9'99), 100, 0, 50, 2),
                        book_add(s1, px(9'99), 50)));
  EXPECT_EQ(levels(kMain, Side::Buy), (Levels{{px(9'98), 100, 1}}));
  EXPECT_EQ(levels(kMain, Side::Sell), (Levels{{px(9'99), 50, 1}}));
}

TEST_F(MatchingTest, OrdersAtOnePriceFillOldestFirstWithMatchNumbersOneTwoThree) {
  const Ord b1 = buyer(kAlice, kFirmA, 1, "B1");
  const Ord b2 = buyer(kCarol, kFirmA, 2, "B2");
  const Ord b3 = buyer(kDave, kFirmB, 3, "B3");
  const Ord s1 = seller(kBob, kFirmB, 4, "S1");
  run(limit(b1, 100, px(10'00)));
  run(limit(b2, 100, px(10'00)));
  run(limit(b3, 100, px(10'00)));
  const Events ev = run(limit(s1, 250, px(10'00)));  // odd-lot sell
  EXPECT_EVENTS(ev, seq(accepted(s1, px(10'00), 250),
                        trade(b1, s1, px(10'00), 100, 0, 150, 1),
                        trade(b2, s1, px(10'00), 100, 0, 50, 2),
                        trade(b3, s1, px(10'00), 50, 50, 0, 3)));
  EXPECT_EQ(levels(kMain, Side::Buy), (Levels{{px(10'00), 50, 1}}));
}

TEST_F(MatchingTest, IncomingOrderFilledExactlyProducesNoBookAddAndNoCancel) {
  const Ord s1 = seller(kBob, kFirmB, 1, "S1");
  const Ord b1 = buyer(kAlice, kFirmA, 2, "B1");
  run(limit(s1, 300, px(10'00)));
  const Events ev = run(limit(b1, 300, px(10'00)));
  EXPECT_EVENTS(ev, seq(accepted(b1, px(10'00), 300), trade(s1, b1, px(10'00), 300, 0, 0, 1)));
  EXPECT_FALSE(engine().best(kMain, Side::Sell).has_value());
  EXPECT_FALSE(engine().best(kMain, Side::Buy).has_value());
  EXPECT_EQ(engine().stats().live_orders, 0u);
  EXPECT_EQ(engine().firm_open_shares(kFirmA), 0u);
  EXPECT_EQ(engine().firm_open_shares(kFirmB), 0u);
}

TEST_F(MatchingTest, RestingOrderFilledInFullIsNoLongerLive) {
  const Ord s1 = seller(kBob, kFirmB, 1, "S1");
  const Ord b1 = buyer(kAlice, kFirmA, 2, "B1");
  run(limit(s1, 100, px(10'00)));
  run(limit(b1, 100, px(10'00)));
  const Events ev = run(cancel(s1));
  EXPECT_EVENTS(ev, seq(cancel_rejected(s1, RejectCode::UnknownOrder, 0)));
}

TEST_F(MatchingTest, OrderIdsAndMatchNumbersCountUpAcrossTheWholeEngine) {
  const Ord s1 = seller(kBob, kFirmB, 1, "S1");
  const Ord o1 = seller(kBob, kFirmB, 2, "O1", kOther);
  const Ord b1 = buyer(kAlice, kFirmA, 3, "B1");
  const Ord o2 = buyer(kAlice, kFirmA, 4, "O2", kOther);
  const Ord b2 = buyer(kCarol, kFirmA, 5, "B2");
  run(limit(s1, 200, px(10'00)));
  run(limit(o1, 100, px(20'00)));
  Events ev = run(limit(b1, 100, px(10'00)));
  EXPECT_EVENTS(ev, seq(accepted(b1, px(10'00), 100), trade(s1, b1, px(10'00), 100, 100, 0, 1)));
  ev = run(limit(o2, 100, px(20'00)));
  EXPECT_EVENTS(ev, seq(accepted(o2, px(20'00), 100), trade(o1, o2, px(20'00), 100, 0, 0, 2)));
  ev = run(limit(b2, 100, px(10'00)));
  EXPECT_EVENTS(ev, seq(accepted(b2, px(10'00), 100), trade(s1, b2, px(10'00), 100, 0, 0, 3)));
}

TEST_F(MatchingTest, ARefusedOrderTakesNoOrderId) {
  const Ord bad = buyer(kAlice, kFirmA, 0, "BAD");
  expect_refused(limit(bad, 150, px(10'00)), RejectCode::InvalidLot, bad);
  const Ord b1 = buyer(kAlice, kFirmA, 1, "B1");
  const Events ev = run(limit(b1, 100, px(10'00)));
  EXPECT_EVENTS(ev, seq(accepted(b1, px(10'00), 100), book_add(b1, px(10'00), 100)));
}

TEST_F(MatchingTest, SameOwnerCanTradeWithItselfWhenItsFirmHasNoStp) {
  const Ord s1 = seller(kAlice, kFirmA, 1, "S1");
  const Ord b1 = buyer(kAlice, kFirmA, 2, "B1");
  run(limit(s1, 100, px(10'00)));
  const Events ev = run(limit(b1, 100, px(10'00)));
  EXPECT_EVENTS(ev, seq(accepted(b1, px(10'00), 100), trade(s1, b1, px(10'00), 100, 0, 0, 1)));
}

TEST_F(MatchingTest, BooksOfDifferentInstrumentsDoNotMeet) {
  const Ord s1 = seller(kBob, kFirmB, 1, "S1", kMain);
  const Ord b1 = buyer(kAlice, kFirmA, 2, "B1", kOdd);
  run(limit(s1, 100, px(10'00)));
  const Events ev = run(limit(b1, 100, px(10'10)));
  EXPECT_EVENTS(ev, seq(accepted(b1, px(10'10), 100), book_add(b1, px(10'10), 100)));
}

TEST_F(MatchingTest, EventsOfOneCommandSurviveSinkFlushesMidCommand) {
  // run() uses a 4-event buffer; 6 trades produce 1 + 18 events, flushed five times.
  for (std::uint64_t i = 1; i <= 6; ++i) {
    run(limit(seller(kBob, kFirmB, i, numbered("S", i)), 100, px(10'00)));
  }
  const Ord b1 = buyer(kAlice, kFirmA, 7, "B1");
  const Events ev = run(limit(b1, 600, px(10'00)));
  Events expected = seq(accepted(b1, px(10'00), 600));
  for (std::uint32_t i = 1; i <= 6; ++i) {
    append_to(expected, trade(seller(kBob, kFirmB, i, numbered("S", i)), b1, px(10'00), 100, 0,
                              600 - 100 * i, i));
  }
  EXPECT_EVENTS(ev, expected);
}

}  // namespace
}  // namespace peregrine::test
