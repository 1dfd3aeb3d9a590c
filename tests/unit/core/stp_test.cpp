// Self-trade prevention in each mode, in matching and in the minimum-quantity / FOK pre-check
// (docs/market-rules.md "Self-trade prevention", "Minimum quantity").
//
// Spec reading noted in the report: for decrement, the events of one STP step are the resting
// order's Canceled(qty = d, SelfMatch) + BookCancel/BookDelete, then the incoming order's
// Canceled(qty = d, leaves = what is left of it, SelfMatch).

#include "unit/core/engine_fixture.hpp"

namespace peregrine::test {
namespace {

class StpTest : public EngineTest {
 protected:
  /// Asks: Bob (firm B) 100 @ 10.00 [id 1], Carol (firm `own`) 200 @ 10.00 [id 2],
  /// Bob 100 @ 10.01 [id 3]. The incoming order is Alice (firm `own`) buying 400 @ 10.01 [id 4].
  void three_asks(FirmId own) {
    o1 = seller(kBob, kFirmB, 1, "S1");
    mine = seller(kCarol, own, 2, "OWN");
    o2 = seller(kBob, kFirmB, 3, "S2");
    in = buyer(kAlice, own, 4, "B1");
    run(limit(o1, 100, px(10'00)));
    run(limit(mine, 200, px(10'00)));
    run(limit(o2, 100, px(10'01)));
  }
  /// Asks at 10.00: Bob 100 [id 1], Carol (firm `own`) `own_qty` [id 2], Bob 200 [id 3].
  /// The incoming order is a FOK buy of 300 @ 10.00 by Alice (firm `own`) [id 4].
  void fok_book(FirmId own, std::uint32_t own_qty) {
    o1 = seller(kBob, kFirmB, 1, "S1");
    mine = seller(kCarol, own, 2, "OWN");
    o2 = seller(kBob, kFirmB, 3, "S2");
    in = buyer(kAlice, own, 4, "B1");
    run(limit(o1, 100, px(10'00)));
    run(limit(mine, own_qty, px(10'00)));
    run(limit(o2, 200, px(10'00)));
  }
  Ord o1, mine, o2, in;
};

TEST_F(StpTest, CancelNewestCancelsTheIncomingRemainderAndStops) {
  three_asks(kNewest);
  const Events ev = run(limit(in, 400, px(10'01)));
  EXPECT_EVENTS(ev, seq(accepted(in, px(10'01), 400),
                        trade(o1, in, px(10'00), 100, 0, 300, 1),
                        canceled(in, 300, 0, CancelReason::SelfMatch)));
  EXPECT_EQ(levels(kMain, Side::Sell), (Levels{{px(10'00), 200, 1}, {px(10'01), 100, 1}}));
  EXPECT_TRUE(levels(kMain, Side::Buy).empty());
  EXPECT_EQ(engine().firm_open_shares(kNewest), 200u);
}

TEST_F(StpTest, CancelOldestCancelsTheRestingOrderAndMatchingGoesOn) {
  three_asks(kOldest);
  const Events ev = run(limit(in, 400, px(10'01)));
  EXPECT_EVENTS(ev, seq(accepted(in, px(10'01), 400),
                        trade(o1, in, px(10'00), 100, 0, 300, 1),
                        canceled(mine, 200, 0, CancelReason::SelfMatch), book_delete(mine),
                        trade(o2, in, px(10'01), 100, 0, 200, 2),
                        book_add(in, px(10'01), 200)));
  EXPECT_TRUE(levels(kMain, Side::Sell).empty());
  EXPECT_EQ(engine().firm_open_shares(kOldest), 200u);
}

TEST_F(StpTest, CancelBothCancelsTheRestingThenTheIncomingAndStops) {
  three_asks(kBoth);
  const Events ev = run(limit(in, 400, px(10'01)));
  EXPECT_EVENTS(ev, seq(accepted(in, px(10'01), 400),
                        trade(o1, in, px(10'00), 100, 0, 300, 1),
                        canceled(mine, 200, 0, CancelReason::SelfMatch), book_delete(mine),
                        canceled(in, 300, 0, CancelReason::SelfMatch)));
  EXPECT_EQ(levels(kMain, Side::Sell), (Levels{{px(10'01), 100, 1}}));
  EXPECT_EQ(engine().firm_open_shares(kBoth), 0u);
}

TEST_F(StpTest, DecrementWithTheSmallerRestingOrderCancelsItAndMatchingGoesOn) {
  three_asks(kDecr);
  const Events ev = run(limit(in, 400, px(10'01)));
  EXPECT_EVENTS(ev, seq(accepted(in, px(10'01), 400),
                        trade(o1, in, px(10'00), 100, 0, 300, 1),
                        canceled(mine, 200, 0, CancelReason::SelfMatch), book_delete(mine),
                        canceled(in, 200, 100, CancelReason::SelfMatch),
                        trade(o2, in, px(10'01), 100, 0, 0, 2)));
  EXPECT_TRUE(levels(kMain, Side::Sell).empty());
  EXPECT_TRUE(levels(kMain, Side::Buy).empty());
  EXPECT_EQ(engine().firm_open_shares(kDecr), 0u);
}

TEST_F(StpTest, DecrementWithTheSmallerIncomingOrderReducesTheRestingOneAndFinishes) {
  const Ord rest = seller(kCarol, kDecr, 1, "OWN");
  const Ord b = buyer(kAlice, kDecr, 2, "B1");
  run(limit(rest, 500, px(10'00)));
  const Events ev = run(limit(b, 200, px(10'00)));
  EXPECT_EVENTS(ev, seq(accepted(b, px(10'00), 200),
                        canceled(rest, 200, 300, CancelReason::SelfMatch), book_cancel(rest, 200, 300),
                        canceled(b, 200, 0, CancelReason::SelfMatch)));
  EXPECT_EQ(levels(kMain, Side::Sell), (Levels{{px(10'00), 300, 1}}));
  EXPECT_TRUE(levels(kMain, Side::Buy).empty());
  EXPECT_EQ(engine().firm_open_shares(kDecr), 300u);
}

TEST_F(StpTest, DecrementOfEqualQuantitiesRemovesBoth) {
  const Ord rest = seller(kCarol, kDecr, 1, "OWN");
  const Ord b = buyer(kAlice, kDecr, 2, "B1");
  run(limit(rest, 200, px(10'00)));
  const Events ev = run(limit(b, 200, px(10'00)));
  EXPECT_EVENTS(ev, seq(accepted(b, px(10'00), 200),
                        canceled(rest, 200, 0, CancelReason::SelfMatch), book_delete(rest),
                        canceled(b, 200, 0, CancelReason::SelfMatch)));
  EXPECT_TRUE(levels(kMain, Side::Sell).empty());
  EXPECT_EQ(engine().firm_open_shares(kDecr), 0u);
}

TEST_F(StpTest, StpIsPerFirmNotPerOwnerOrAcrossFirms) {
  // Different firms, both with STP: no self-trade.
  const Ord s1 = seller(kCarol, kNewest, 1, "S1");
  const Ord b1 = buyer(kAlice, kOldest, 2, "B1");
  run(limit(s1, 100, px(10'00)));
  Events ev = run(limit(b1, 100, px(10'00)));
  EXPECT_EVENTS(ev, seq(accepted(b1, px(10'00), 100), trade(s1, b1, px(10'00), 100, 0, 0, 1)));

  // Same owner, same firm: STP applies.
  const Ord s2 = seller(kAlice, kNewest, 3, "S2");
  const Ord b2 = buyer(kAlice, kNewest, 4, "B2");
  run(limit(s2, 100, px(10'00)));
  ev = run(limit(b2, 100, px(10'00)));
  EXPECT_EVENTS(ev, seq(accepted(b2, px(10'00), 100), canceled(b2, 100, 0, CancelReason::SelfMatch)));
}

TEST_F(StpTest, OwnOrdersBeyondTheIncomingPriceAreNotTouched) {
  const Ord o = seller(kBob, kFirmB, 1, "S1");
  const Ord own = seller(kCarol, kBoth, 2, "OWN");
  const Ord b = buyer(kAlice, kBoth, 3, "B1");
  run(limit(o, 100, px(10'00)));
  run(limit(own, 100, px(10'01)));
  const Events ev = run(limit(b, 200, px(10'00)));
  EXPECT_EVENTS(ev, seq(accepted(b, px(10'00), 200), trade(o, b, px(10'00), 100, 0, 100, 1),
                        book_add(b, px(10'00), 100)));
  EXPECT_EQ(levels(kMain, Side::Sell), (Levels{{px(10'01), 100, 1}}));
}

TEST_F(StpTest, MarketOrderCancelledByStpGetsNoFurtherImmediateCancel) {
  const Ord o = seller(kBob, kFirmB, 1, "S1");
  const Ord own = seller(kCarol, kNewest, 2, "OWN");
  const Ord m = buyer(kAlice, kNewest, 3, "M1");
  run(limit(o, 100, px(10'00)));
  run(limit(own, 100, px(10'01)));
  const Events ev = run(market(m, 300, OrderType::MarketBestFiveIoc));
  EXPECT_EVENTS(ev, seq(accepted_market(m, 300, OrderType::MarketBestFiveIoc),
                        trade(o, m, px(10'00), 100, 0, 200, 1),
                        canceled(m, 200, 0, CancelReason::SelfMatch)));
}

TEST_F(StpTest, CrossingReplaceAppliesStpLikeAnIncomingOrder) {
  const Ord own = seller(kCarol, kDecr, 1, "OWN");
  const Ord other = seller(kBob, kFirmB, 2, "S1");
  const Ord b1 = buyer(kAlice, kDecr, 3, "B1");
  run(limit(own, 100, px(10'00)));
  run(limit(other, 100, px(10'00)));
  run(limit(b1, 300, px(9'90)));
  const Ord b1b = b1.as(4, "B1b");
  const Events ev = run(replace(b1, b1b, 300, px(10'00)));
  EXPECT_EVENTS(ev, seq(replaced(b1b, b1, px(10'00), 300), book_delete(b1),
                        canceled(own, 100, 0, CancelReason::SelfMatch), book_delete(own),
                        canceled(b1b, 100, 200, CancelReason::SelfMatch),
                        trade(other, b1b, px(10'00), 100, 0, 100, 1),
                        book_add(b1b, px(10'00), 100)));
  EXPECT_EQ(engine().firm_open_shares(kDecr), 100u);
}

TEST_F(StpTest, MinQtyPreCheckCountsOwnFirmOrdersWhenTheFirmHasNoStp) {
  const Ord own = seller(kCarol, kFirmA, 1, "OWN");
  const Ord b = buyer(kAlice, kFirmA, 2, "B1");
  run(limit(own, 300, px(10'00)));
  const Events ev = run(limit(b, 300, px(10'00), TimeInForce::Fok));
  EXPECT_EVENTS(ev, seq(accepted(b, px(10'00), 300, 0, TimeInForce::Fok), trade(own, b, px(10'00), 300, 0, 0, 1)));
}

// ---- STP inside the FOK / minimum-quantity pre-check ---------------------------------------------

TEST_F(StpTest, FokUnderCancelNewestFailsWhenAnOwnOrderEndsTheWalk) {
  fok_book(kNewest, 200);
  const Events ev = run(limit(in, 300, px(10'00), TimeInForce::Fok));
  EXPECT_EVENTS(ev, seq(accepted(in, px(10'00), 300, 0, TimeInForce::Fok),
                        canceled(in, 300, 0, CancelReason::Immediate)));
  // No side effect: the own order was not cancelled by STP.
  EXPECT_EQ(levels(kMain, Side::Sell), (Levels{{px(10'00), 500, 3}}));
  EXPECT_EQ(engine().firm_open_shares(kNewest), 200u);
}

TEST_F(StpTest, FokUnderCancelBothFailsWhenAnOwnOrderEndsTheWalk) {
  fok_book(kBoth, 200);
  const Events ev = run(limit(in, 300, px(10'00), TimeInForce::Fok));
  EXPECT_EVENTS(ev, seq(accepted(in, px(10'00), 300, 0, TimeInForce::Fok),
                        canceled(in, 300, 0, CancelReason::Immediate)));
  EXPECT_EQ(levels(kMain, Side::Sell), (Levels{{px(10'00), 500, 3}}));
}

TEST_F(StpTest, FokUnderCancelOldestSkipsOwnOrdersAndFills) {
  fok_book(kOldest, 200);
  const Events ev = run(limit(in, 300, px(10'00), TimeInForce::Fok));
  EXPECT_EVENTS(ev, seq(accepted(in, px(10'00), 300, 0, TimeInForce::Fok),
                        trade(o1, in, px(10'00), 100, 0, 200, 1),
                        canceled(mine, 200, 0, CancelReason::SelfMatch), book_delete(mine),
                        trade(o2, in, px(10'00), 200, 0, 0, 2)));
  EXPECT_TRUE(levels(kMain, Side::Sell).empty());
}

TEST_F(StpTest, FokUnderCancelOldestDoesNotCountTheSkippedOwnOrderAsLiquidity) {
  // Asks 100 (other), 200 (own), 100 (other): only 200 would fill, so a FOK of 300 fails and
  // the own order is left alone.
  o1 = seller(kBob, kFirmB, 1, "S1");
  mine = seller(kCarol, kOldest, 2, "OWN");
  o2 = seller(kBob, kFirmB, 3, "S2");
  in = buyer(kAlice, kOldest, 4, "B1");
  run(limit(o1, 100, px(10'00)));
  run(limit(mine, 200, px(10'00)));
  run(limit(o2, 100, px(10'00)));
  const Events ev = run(limit(in, 300, px(10'00), TimeInForce::Fok));
  EXPECT_EVENTS(ev, seq(accepted(in, px(10'00), 300, 0, TimeInForce::Fok),
                        canceled(in, 300, 0, CancelReason::Immediate)));
  EXPECT_EQ(levels(kMain, Side::Sell), (Levels{{px(10'00), 400, 3}}));
}

TEST_F(StpTest, FokUnderDecrementCountsTheOwnOrderAsReducingTheIncomingQuantity) {
  // Walk: fill 100 (300 -> 200 open), own 100 decrements (-> 100 open), fill 100: 200 < 300.
  fok_book(kDecr, 100);
  const Events ev = run(limit(in, 300, px(10'00), TimeInForce::Fok));
  EXPECT_EVENTS(ev, seq(accepted(in, px(10'00), 300, 0, TimeInForce::Fok),
                        canceled(in, 300, 0, CancelReason::Immediate)));
  EXPECT_EQ(levels(kMain, Side::Sell), (Levels{{px(10'00), 400, 3}}));
  EXPECT_EQ(engine().firm_open_shares(kDecr), 100u);
}

TEST_F(StpTest, MinQtyUnderDecrementIsMetWhenTheFillsAfterDecrementReachIt) {
  // Same walk as above with min 200 on a day order: fills 200 >= 200, so it matches.
  fok_book(kDecr, 100);
  const Events ev = run(limit(in, 300, px(10'00), TimeInForce::Day, 200));
  EXPECT_EVENTS(ev, seq(accepted(in, px(10'00), 300, 200),
                        trade(o1, in, px(10'00), 100, 0, 200, 1),
                        canceled(mine, 100, 0, CancelReason::SelfMatch), book_delete(mine),
                        canceled(in, 100, 100, CancelReason::SelfMatch),
                        trade(o2, in, px(10'00), 100, 100, 0, 2)));
  EXPECT_EQ(levels(kMain, Side::Sell), (Levels{{px(10'00), 100, 1}}));
}

TEST_F(StpTest, FokUnderCancelNewestFillsWhenLiquidityAheadOfTheOwnOrderSuffices) {
  const Ord o = seller(kBob, kFirmB, 1, "S1");
  const Ord own = seller(kCarol, kNewest, 2, "OWN");
  const Ord b = buyer(kAlice, kNewest, 3, "B1");
  run(limit(o, 300, px(10'00)));
  run(limit(own, 200, px(10'00)));
  const Events ev = run(limit(b, 300, px(10'00), TimeInForce::Fok));
  EXPECT_EVENTS(ev, seq(accepted(b, px(10'00), 300, 0, TimeInForce::Fok),
                        trade(o, b, px(10'00), 300, 0, 0, 1)));
  EXPECT_EQ(levels(kMain, Side::Sell), (Levels{{px(10'00), 200, 1}}));
}

}  // namespace
}  // namespace peregrine::test
