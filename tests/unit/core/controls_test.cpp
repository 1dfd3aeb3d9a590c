// Broker controls and capacity (docs/market-rules.md "Checks on a new order", "Broker controls").

#include <string>

#include "unit/core/engine_fixture.hpp"

namespace peregrine::test {
namespace {

class ControlsTest : public EngineTest {};

// ---- reference-data lookups ------------------------------------------------------------------

TEST_F(ControlsTest, UnknownFirmIsRefused) {
  run(limit(seller(kBob, kFirmB, 1, "S1"), 100, px(10'00)));
  const Ord o = buyer(kAlice, FirmId{99}, 0, "B1");
  const Events ev = run(limit(o, 100, px(10'00)));
  // Which firm / instrument a Rejected for an unconfigured firm carries is not fixed by the spec.
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].type, EventType::Rejected);
  EXPECT_EQ(ev[0].code, static_cast<std::uint8_t>(RejectCode::UnknownFirm));
  EXPECT_EQ(ev[0].owner, kAlice);
  EXPECT_EQ(ev[0].token, o.token);
  EXPECT_EQ(engine().stats().tokens_used, 1u);
}

TEST_F(ControlsTest, UnknownSymbolIsRefusedWithInstrumentZero) {
  const Ord o = buyer(kAlice, kFirmA, 0, "B1", InstrumentId{0});
  expect_refused(make_new_order(next_ts(), kAlice, kFirmA, Symbol::from("999999"), o.token, Side::Buy, Qty{100},
                                px(10'00)),
                 RejectCode::UnknownSymbol, o);
}

TEST_F(ControlsTest, UnknownFirmIsCheckedBeforeUnknownSymbol) {
  const Events ev = run(make_new_order(next_ts(), kAlice, FirmId{99}, Symbol::from("999999"), Token::from("B1"),
                                       Side::Buy, Qty{100}, px(10'00)));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].code, static_cast<std::uint8_t>(RejectCode::UnknownFirm));
}

// ---- quantity limits -------------------------------------------------------------------------

TEST_F(ControlsTest, InstrumentMaxOrderQtyIsInclusive) {
  const Ord big = buyer(kAlice, kFirmA, 0, "BIG");
  expect_refused(limit(big, 1'000'100, px(10'00)), RejectCode::QuantityAboveMax, big);
  const Ord big_sell = seller(kAlice, kFirmA, 0, "BIGS");
  expect_refused(limit(big_sell, 1'000'001, px(10'00)), RejectCode::QuantityAboveMax, big_sell);
  const Ord ok = buyer(kAlice, kFirmA, 1, "OK");
  Events ev = run(limit(ok, 1'000'000, px(10'00)));
  EXPECT_EVENTS(ev, seq(accepted(ok, px(10'00), 1'000'000), book_add(ok, px(10'00), 1'000'000)));

  const Ord star_big = buyer(kAlice, kFirmA, 0, "SBIG", kStar);
  expect_refused(limit(star_big, 100'001, px(50'00)), RejectCode::QuantityAboveMax, star_big);
  const Ord star_ok = buyer(kAlice, kFirmA, 2, "SOK", kStar);
  ev = run(limit(star_ok, 100'000, px(50'00)));
  EXPECT_EVENTS(ev, seq(accepted(star_ok, px(50'00), 100'000), book_add(star_ok, px(50'00), 100'000)));
}

TEST_F(ControlsTest, FirmMaxOrderQtyIsInclusiveAndCheckedAfterTheInstrumentMax) {
  const Ord over = buyer(kAlice, kLimited, 0, "L1", kRisk);
  expect_refused(limit(over, kLimitedMaxQty + 100, px(5'00)), RejectCode::FirmQuantityAboveMax, over);
  const Ord way_over = buyer(kAlice, kLimited, 0, "L1", kRisk);
  expect_refused(limit(way_over, 1'000'100, px(5'00)), RejectCode::QuantityAboveMax, way_over);
  const Ord ok = buyer(kAlice, kLimited, 1, "L1", kRisk);
  const Events ev = run(limit(ok, kLimitedMaxQty, px(5'00)));  // 5000 x 5.00 = 250,000,000
  EXPECT_EVENTS(ev, seq(accepted(ok, px(5'00), kLimitedMaxQty), book_add(ok, px(5'00), kLimitedMaxQty)));
}

TEST_F(ControlsTest, FirmNotionalIsPriceTimesQtyInclusive) {
  const Ord over = buyer(kAlice, kLimited, 0, "L1");
  expect_refused(limit(over, 4000, px(10'01)), RejectCode::FirmNotional, over);  // 400,400,000
  const Ord over_sell = seller(kAlice, kLimited, 0, "L2");
  expect_refused(limit(over_sell, 3900, px(10'30)), RejectCode::FirmNotional, over_sell);  // 401,700,000
  const Ord ok = buyer(kAlice, kLimited, 1, "L1");
  const Events ev = run(limit(ok, 4000, px(10'00)));  // exactly 400,000,000
  EXPECT_EVENTS(ev, seq(accepted(ok, px(10'00), 4000), book_add(ok, px(10'00), 4000)));
}

TEST_F(ControlsTest, FirmNotionalOfAMarketOrderUsesTheProtectionPrice) {
  const Ord s1 = seller(kBob, kFirmB, 1, "S1");
  const Ord s2 = seller(kBob, kFirmB, 2, "S2");
  run(limit(s1, 100, px(10'00)));
  run(limit(s2, 100, px(10'01)));
  const Ord m = buyer(kAlice, kLimited, 0, "M1");
  // Protection price 10.01: 4000 x 10.01 = 400,400,000 > 400,000,000.
  expect_refused(market(m, 4000, OrderType::MarketBestFiveIoc), RejectCode::FirmNotional, m);
  run(cancel(s2));
  // Protection price 10.00: exactly 400,000,000.
  const Ord m1 = buyer(kAlice, kLimited, 3, "M1");
  const Events ev = run(market(m1, 4000, OrderType::MarketBestFiveIoc));
  EXPECT_EVENTS(ev, seq(accepted_market(m1, 4000, OrderType::MarketBestFiveIoc),
                        trade(s1, m1, px(10'00), 100, 0, 3900, 1),
                        canceled(m1, 3900, 0, CancelReason::Immediate)));
}

TEST_F(ControlsTest, FirmNotionalOfAMarketOrderIgnoresTheSixthLevel) {
  for (std::uint64_t i = 1; i <= 5; ++i) {
    run(limit(seller(kBob, kFirmB, i, numbered("S", i)), 100, px(10'00 + static_cast<std::int64_t>(i) - 1)));
  }
  run(limit(seller(kBob, kFirmB, 6, "S6"), 100, px(10'30)));
  // 3900 x 10.04 = 391,560,000 passes; 3900 x 10.30 = 401,700,000 would not.
  const Ord m = buyer(kAlice, kLimited, 7, "M1");
  const Events ev = run(market(m, 3900, OrderType::MarketBestFiveIoc));
  ASSERT_FALSE(ev.empty());
  EXPECT_EVENTS(Events(ev.begin(), ev.begin() + 1), seq(accepted_market(m, 3900, OrderType::MarketBestFiveIoc)));
  EXPECT_EQ(ev.back(), canceled(m, 3400, 0, CancelReason::Immediate));
}

TEST_F(ControlsTest, FirmNotionalOfAMarketOrderIsZeroOnAnEmptyOppositeSide) {
  const Ord m = buyer(kAlice, kLimited, 1, "M1");
  const Events ev = run(market(m, 5000, OrderType::MarketBestFiveToLimit));
  EXPECT_EVENTS(ev, seq(accepted_market(m, 5000, OrderType::MarketBestFiveToLimit),
                        canceled(m, 5000, 0, CancelReason::Immediate)));
}

TEST_F(ControlsTest, FirmOpenSharesLimitIsInclusiveAndFillsAndCancelsReleaseExposure) {
  const Ord l1 = seller(kAlice, kLimited, 1, "L1");
  run(limit(l1, 4000, px(10'00)));
  EXPECT_EQ(engine().firm_open_shares(kLimited), 4000u);

  const Ord over = buyer(kAlice, kLimited, 0, "L2");
  expect_refused(limit(over, 2100, px(9'00)), RejectCode::FirmOpenShares, over);
  const Ord l2 = buyer(kAlice, kLimited, 2, "L2");
  Events ev = run(limit(l2, 2000, px(9'00)));
  EXPECT_EVENTS(ev, seq(accepted(l2, px(9'00), 2000), book_add(l2, px(9'00), 2000)));
  EXPECT_EQ(engine().firm_open_shares(kLimited), kLimitedMaxOpen);

  // A fill releases exposure.
  const Ord b = buyer(kBob, kFirmB, 3, "B1");
  run(limit(b, 1000, px(10'00)));
  EXPECT_EQ(engine().firm_open_shares(kLimited), 5000u);
  const Ord over2 = buyer(kAlice, kLimited, 0, "L3");
  expect_refused(limit(over2, 1100, px(9'00)), RejectCode::FirmOpenShares, over2);
  const Ord l3 = buyer(kAlice, kLimited, 4, "L3");
  ev = run(limit(l3, 1000, px(9'00)));
  EXPECT_EVENTS(ev, seq(accepted(l3, px(9'00), 1000), book_add(l3, px(9'00), 1000)));
  EXPECT_EQ(engine().firm_open_shares(kLimited), kLimitedMaxOpen);

  // A cancel (reduce) releases exposure.
  run(cancel(l2, 1500));
  EXPECT_EQ(engine().firm_open_shares(kLimited), 5500u);
  const Ord over3 = buyer(kAlice, kLimited, 0, "L4");
  expect_refused(limit(over3, 600, px(9'00)), RejectCode::FirmOpenShares, over3);
  const Ord l4 = buyer(kAlice, kLimited, 5, "L4");
  ev = run(limit(l4, 500, px(9'00)));
  EXPECT_EVENTS(ev, seq(accepted(l4, px(9'00), 500), book_add(l4, px(9'00), 500)));
}

TEST_F(ControlsTest, AnIncomingOrderCountsAgainstOpenSharesEvenIfItWouldFillAtOnce) {
  run(limit(buyer(kAlice, kLimited, 1, "L1"), 4000, px(9'50)));  // 380,000,000
  run(limit(seller(kBob, kFirmB, 2, "S1", kRisk), 3000, px(5'00)));
  const Ord over = buyer(kAlice, kLimited, 0, "L2", kRisk);
  expect_refused(limit(over, 2100, px(5'00)), RejectCode::FirmOpenShares, over);
  const Ord ok = buyer(kAlice, kLimited, 3, "L2", kRisk);
  const Events ev = run(limit(ok, 2000, px(5'00)));
  const Ord s1 = seller(kBob, kFirmB, 2, "S1", kRisk);
  EXPECT_EVENTS(ev, seq(accepted(ok, px(5'00), 2000), trade(s1, ok, px(5'00), 2000, 1000, 0, 1)));
  EXPECT_EQ(engine().firm_open_shares(kLimited), 4000u);
}

TEST_F(ControlsTest, FirmNotionalIsCheckedBeforeFirmOpenShares) {
  run(limit(buyer(kAlice, kLimited, 1, "L1"), 4000, px(9'50)));
  const Ord o = seller(kAlice, kLimited, 0, "L2");
  expect_refused(limit(o, 3900, px(10'30)), RejectCode::FirmNotional, o);
}

TEST_F(ControlsTest, ReplaceCountsTheChangeInQuantityAgainstFirmLimits) {
  const Ord l1 = buyer(kAlice, kLimited, 1, "L1");
  const Ord l2 = buyer(kAlice, kLimited, 2, "L2");
  run(limit(l1, 3000, px(9'00)));
  run(limit(l2, 2500, px(9'00)));
  EXPECT_EQ(engine().firm_open_shares(kLimited), 5500u);

  const Ord l1b = l1.as(3, "L1b");
  Events ev = run(replace(l1, l1b, 3500, px(9'00)));  // +500 -> 6000
  EXPECT_EVENTS(ev, seq(replaced(l1b, l1, px(9'00), 3500), book_replace(l1b, l1, px(9'00), 3500)));
  EXPECT_EQ(engine().firm_open_shares(kLimited), kLimitedMaxOpen);

  const Ord l2b = l2.as(0, "L2b");
  ev = run(replace(l2, l2b, 2600, px(9'00)));  // +100 -> 6100
  EXPECT_EVENTS(ev, seq(replace_rejected(l2, l2b, RejectCode::FirmOpenShares)));
  ev = run(replace(l2, l2b, 2500, px(9'10)));  // same quantity, new price: no change in exposure
  const Ord l2c = l2.as(4, "L2b");
  EXPECT_EVENTS(ev, seq(replaced(l2c, l2, px(9'10), 2500), book_replace(l2c, l2, px(9'10), 2500)));

  const Ord l1c = l1b.as(0, "L1c");
  ev = run(replace(l1b, l1c, 4500, px(9'00)));  // 4500 x 9.00 = 405,000,000
  EXPECT_EVENTS(ev, seq(replace_rejected(l1b, l1c, RejectCode::FirmNotional)));
  ev = run(replace(l1b, l1c, 5100, px(9'00)));
  EXPECT_EVENTS(ev, seq(replace_rejected(l1b, l1c, RejectCode::FirmQuantityAboveMax)));
}

// ---- kill switch -------------------------------------------------------------------------------

TEST_F(ControlsTest, KillSwitchWithoutCancelOpenRefusesNewOrdersAndReplacesOnly) {
  const Ord a1 = buyer(kAlice, kFirmA, 1, "A1");
  run(limit(a1, 300, px(9'90)));
  Events ev = run(kill(kFirmA, true, false));
  EXPECT_EVENTS(ev, seq(kill_switch_changed(kFirmA, true)));
  EXPECT_TRUE(engine().kill_switch(kFirmA));
  EXPECT_FALSE(engine().kill_switch(kFirmB));

  const Ord refused = buyer(kCarol, kFirmA, 0, "A2");
  expect_refused(limit(refused, 100, px(9'90)), RejectCode::KillSwitch, refused);
  const Ord a1b = a1.as(0, "A1b");
  ev = run(replace(a1, a1b, 300, px(9'95)));
  EXPECT_EVENTS(ev, seq(replace_rejected(a1, a1b, RejectCode::KillSwitch)));

  // The resting order stays and trades; cancels are allowed.
  const Ord s1 = seller(kBob, kFirmB, 2, "S1");
  ev = run(limit(s1, 100, px(9'90)));
  EXPECT_EVENTS(ev, seq(accepted(s1, px(9'90), 100), trade(a1, s1, px(9'90), 100, 200, 0, 1)));
  ev = run(cancel(a1, 100));
  EXPECT_EVENTS(ev, seq(canceled(a1, 100, 100, CancelReason::UserRequested), book_cancel(a1, 100, 100)));

  ev = run(kill(kFirmA, false, false));
  EXPECT_EVENTS(ev, seq(kill_switch_changed(kFirmA, false)));
  EXPECT_FALSE(engine().kill_switch(kFirmA));
  const Ord a2 = buyer(kCarol, kFirmA, 3, "A2");
  ev = run(limit(a2, 100, px(9'90)));
  EXPECT_EVENTS(ev, seq(accepted(a2, px(9'90), 100), book_add(a2, px(9'90), 100)));
}

TEST_F(ControlsTest, KillSwitchWithCancelOpenCancelsTheFirmsLiveOrdersInAscendingOrderId) {
  const Ord a1 = buyer(kAlice, kFirmA, 1, "A1");
  const Ord b1 = seller(kBob, kFirmB, 2, "B1");
  const Ord a2 = buyer(kCarol, kFirmA, 3, "A2");
  const Ord a3 = seller(kAlice, kFirmA, 4, "A3", kOther);
  const Ord a4 = buyer(kAlice, kFirmA, 5, "A4");
  const Ord b2 = seller(kBob, kFirmB, 6, "B2");
  run(limit(a1, 100, px(9'90)));
  run(limit(b1, 100, px(10'10)));
  run(limit(a2, 200, px(9'95)));
  run(limit(a3, 100, px(20'50)));
  run(limit(a4, 300, px(10'00)));
  run(limit(b2, 100, px(10'00)));  // a4 open 200
  const Events ev = run(kill(kFirmA, true, true));
  EXPECT_EVENTS(ev, seq(removed(a1, 100, CancelReason::Supervisory), removed(a2, 200, CancelReason::Supervisory),
                        removed(a3, 100, CancelReason::Supervisory), removed(a4, 200, CancelReason::Supervisory),
                        kill_switch_changed(kFirmA, true)));
  EXPECT_EQ(engine().firm_open_shares(kFirmA), 0u);
  EXPECT_TRUE(levels(kMain, Side::Buy).empty());
  EXPECT_EQ(levels(kMain, Side::Sell), (Levels{{px(10'10), 100, 1}}));
  EXPECT_TRUE(levels(kOther, Side::Sell).empty());
  EXPECT_EQ(engine().stats().live_orders, 1u);

  const Events release = run(kill(kFirmA, false, false));
  EXPECT_EVENTS(release, seq(kill_switch_changed(kFirmA, false)));
}

TEST_F(ControlsTest, KillSwitchIsCheckedAfterTheTokenAndBeforeHalt) {
  run(limit(buyer(kAlice, kFirmA, 1, "A1"), 100, px(9'90)));
  run(kill(kFirmA, true, false));
  run(halt(kMain));
  const Ord dup = buyer(kAlice, kFirmA, 0, "A1");
  expect_refused(limit(dup, 100, px(9'90)), RejectCode::DuplicateToken, dup);
  const Ord o = buyer(kAlice, kFirmA, 0, "A2");
  expect_refused(limit(o, 100, px(9'90)), RejectCode::KillSwitch, o);
  const Ord other = buyer(kBob, kFirmB, 0, "B1");
  expect_refused(limit(other, 100, px(9'90)), RejectCode::Halted, other);
}

TEST_F(ControlsTest, KillSwitchWithCancelOpenOnAFirmWithNoOrdersOnlyReportsTheChange) {
  run(limit(seller(kBob, kFirmB, 1, "S1"), 100, px(10'00)));
  const Events ev = run(kill(kFirmA, true, true));
  EXPECT_EVENTS(ev, seq(kill_switch_changed(kFirmA, true)));
  EXPECT_EQ(levels(kMain, Side::Sell), (Levels{{px(10'00), 100, 1}}));
}

// ---- mass cancel -------------------------------------------------------------------------------

class MassCancelTest : public EngineTest {
 protected:
  /// Firm A: a1 (Alice, main bid 9.90) [1], a2 (Carol, main bid 10.00) [2], a3 (Alice, other ask
  /// 20.50) [3], a4 (Carol, other bid 19.90) [4], a5 (Alice, main ask 10.50) [5];
  /// firm B: b1 (Bob, main ask 10.20) [6]. Book order differs from order-id order.
  void SetUp() override {
    a1 = buyer(kAlice, kFirmA, 1, "A1");
    a2 = buyer(kCarol, kFirmA, 2, "A2");
    a3 = seller(kAlice, kFirmA, 3, "A3", kOther);
    a4 = buyer(kCarol, kFirmA, 4, "A4", kOther);
    a5 = seller(kAlice, kFirmA, 5, "A5");
    b1 = seller(kBob, kFirmB, 6, "B1");
    run(limit(a1, 100, px(9'90)));
    run(limit(a2, 200, px(10'00)));
    run(limit(a3, 300, px(20'50)));
    run(limit(a4, 400, px(19'90)));
    run(limit(a5, 500, px(10'50)));
    run(limit(b1, 600, px(10'20)));
  }
  Ord a1, a2, a3, a4, a5, b1;
};

TEST_F(MassCancelTest, ByFirmCancelsEveryLiveOrderOfTheFirmInAscendingOrderId) {
  const Events ev = run(mass_cancel(kFirmA));
  EXPECT_EVENTS(ev, seq(removed(a1, 100, CancelReason::Supervisory), removed(a2, 200, CancelReason::Supervisory),
                        removed(a3, 300, CancelReason::Supervisory), removed(a4, 400, CancelReason::Supervisory),
                        removed(a5, 500, CancelReason::Supervisory)));
  EXPECT_EQ(engine().firm_open_shares(kFirmA), 0u);
  EXPECT_EQ(engine().firm_open_shares(kFirmB), 600u);
  EXPECT_EQ(engine().stats().live_orders, 1u);
  EXPECT_FALSE(engine().kill_switch(kFirmA));
}

TEST_F(MassCancelTest, ByOwnerCancelsOnlyThatOwnersOrders) {
  const Events ev = run(mass_cancel(kFirmA, InstrumentId{0}, kCarol));
  EXPECT_EVENTS(ev, seq(removed(a2, 200, CancelReason::Supervisory), removed(a4, 400, CancelReason::Supervisory)));
  EXPECT_EQ(engine().firm_open_shares(kFirmA), 900u);
}

TEST_F(MassCancelTest, ByInstrumentCancelsOnlyThatInstrumentsOrders) {
  const Events ev = run(mass_cancel(kFirmA, kOther));
  EXPECT_EVENTS(ev, seq(removed(a3, 300, CancelReason::Supervisory), removed(a4, 400, CancelReason::Supervisory)));
  EXPECT_TRUE(levels(kOther, Side::Buy).empty());
  EXPECT_TRUE(levels(kOther, Side::Sell).empty());
}

TEST_F(MassCancelTest, ByOwnerAndInstrumentOnDisconnectReportsDisconnected) {
  const Events ev = run(mass_cancel(kFirmA, kMain, kAlice, CancelReason::Disconnected));
  EXPECT_EVENTS(ev, seq(removed(a1, 100, CancelReason::Disconnected), removed(a5, 500, CancelReason::Disconnected)));
}

TEST_F(MassCancelTest, CancelsThePartlyFilledOrdersOpenQuantity) {
  const Ord s = seller(kBob, kFirmB, 7, "S7");
  run(limit(s, 50, px(10'00)));  // a2 open 150
  const Events ev = run(mass_cancel(kFirmA, kMain, kCarol));
  EXPECT_EVENTS(ev, seq(removed(a2, 150, CancelReason::Supervisory)));
}

TEST_F(MassCancelTest, APriorityLosingReplaceMovesTheOrderToTheEndOfTheOrderIdSequence) {
  const Ord a1b = a1.as(7, "A1b");
  run(replace(a1, a1b, 100, px(9'91)));
  const Events ev = run(mass_cancel(kFirmA, kMain));
  EXPECT_EVENTS(ev, seq(removed(a2, 200, CancelReason::Supervisory), removed(a5, 500, CancelReason::Supervisory),
                        removed(a1b, 100, CancelReason::Supervisory)));
}

TEST_F(MassCancelTest, WithNothingToCancelProducesNoEvents) {
  run(mass_cancel(kFirmA, kOther));
  const std::uint64_t before = engine().state_hash();
  EXPECT_TRUE(run(mass_cancel(kFirmA, kOther)).empty());
  EXPECT_TRUE(run(mass_cancel(kNewest)).empty());
  EXPECT_EQ(engine().state_hash(), before);
}

TEST_F(MassCancelTest, DoesNotConsumeTokensOrOrderIds) {
  run(mass_cancel(kFirmA));
  const Ord a6 = buyer(kAlice, kFirmA, 7, "A6");
  const Events ev = run(limit(a6, 100, px(9'90)));
  EXPECT_EVENTS(ev, seq(accepted(a6, px(9'90), 100), book_add(a6, px(9'90), 100)));
  const Ord dup = buyer(kAlice, kFirmA, 0, "A1");
  expect_refused(limit(dup, 100, px(9'90)), RejectCode::DuplicateToken, dup);
}

// ---- halt / resume -----------------------------------------------------------------------------

TEST_F(ControlsTest, HaltRefusesNewOrdersKeepsRestingOrdersAndResumeLetsThemTrade) {
  const Ord s1 = seller(kBob, kFirmB, 1, "S1");
  run(limit(s1, 300, px(10'00)));
  Events ev = run(halt(kMain));
  EXPECT_EVENTS(ev, seq(status_changed(kMain, TradingStatus::Halted)));
  EXPECT_EQ(engine().status(kMain), TradingStatus::Halted);
  EXPECT_EQ(engine().status(kOther), TradingStatus::Trading);

  const Ord refused = buyer(kAlice, kFirmA, 0, "B1");
  expect_refused(limit(refused, 100, px(10'00)), RejectCode::Halted, refused);
  const Ord refused_mkt = buyer(kAlice, kFirmA, 0, "M1");
  expect_refused(market(refused_mkt, 100, OrderType::MarketBestFiveIoc), RejectCode::Halted, refused_mkt);
  EXPECT_EQ(levels(kMain, Side::Sell), (Levels{{px(10'00), 300, 1}}));

  // Another instrument trades on.
  const Ord o1 = buyer(kAlice, kFirmA, 2, "O1", kOther);
  ev = run(limit(o1, 100, px(20'00)));
  EXPECT_EVENTS(ev, seq(accepted(o1, px(20'00), 100), book_add(o1, px(20'00), 100)));

  ev = run(resume(kMain));
  EXPECT_EVENTS(ev, seq(status_changed(kMain, TradingStatus::Trading)));
  EXPECT_EQ(engine().status(kMain), TradingStatus::Trading);
  const Ord b1 = buyer(kAlice, kFirmA, 3, "B1");
  ev = run(limit(b1, 100, px(10'00)));
  EXPECT_EVENTS(ev, seq(accepted(b1, px(10'00), 100), trade(s1, b1, px(10'00), 100, 200, 0, 1)));
}

TEST_F(ControlsTest, HaltIsCheckedBeforeOrderContent) {
  run(halt(kMain));
  const Ord o = buyer(kAlice, kFirmA, 0, "B1");
  expect_refused(limit(o, 0, Price{-1}), RejectCode::Halted, o);
}

TEST_F(ControlsTest, AnInstrumentConfiguredHaltedStartsHalted) {
  EngineConfig cfg = default_config();
  cfg.instruments[0].initial_status = TradingStatus::Halted;
  rebuild(cfg);
  EXPECT_EQ(engine().status(kMain), TradingStatus::Halted);
  const Ord o = buyer(kAlice, kFirmA, 0, "B1");
  expect_refused(limit(o, 100, px(10'00)), RejectCode::Halted, o);
  const Events ev = run(resume(kMain));
  EXPECT_EVENTS(ev, seq(status_changed(kMain, TradingStatus::Trading)));
}

// ---- tokens ------------------------------------------------------------------------------------

TEST_F(ControlsTest, DuplicateTokenIsPerOwnerAndForTheWholeDay) {
  const Ord t1 = buyer(kAlice, kFirmA, 1, "T1");
  run(limit(t1, 100, px(9'90)));
  const Ord dup = seller(kAlice, kFirmA, 0, "T1", kOther);  // any side, any instrument
  expect_refused(limit(dup, 100, px(20'50)), RejectCode::DuplicateToken, dup);

  const Ord bob = buyer(kBob, kFirmB, 2, "T1");
  Events ev = run(limit(bob, 100, px(9'90)));
  EXPECT_EVENTS(ev, seq(accepted(bob, px(9'90), 100), book_add(bob, px(9'90), 100)));

  run(cancel(t1));
  const Ord again = buyer(kAlice, kFirmA, 0, "T1");
  expect_refused(limit(again, 100, px(9'90)), RejectCode::DuplicateToken, again);
}

TEST_F(ControlsTest, ARefusedOrderDoesNotConsumeItsToken) {
  const Ord bad = buyer(kAlice, kFirmA, 0, "T1");
  expect_refused(limit(bad, 150, px(9'90)), RejectCode::InvalidLot, bad);
  const Ord good = buyer(kAlice, kFirmA, 1, "T1");
  const Events ev = run(limit(good, 100, px(9'90)));
  EXPECT_EVENTS(ev, seq(accepted(good, px(9'90), 100), book_add(good, px(9'90), 100)));
  EXPECT_EQ(engine().stats().tokens_used, 1u);
}

// ---- capacity ----------------------------------------------------------------------------------

TEST_F(ControlsTest, OrderPoolFullIsRefusedUntilAnOrderLeaves) {
  EngineConfig cfg = default_config();
  cfg.max_orders = 2;
  rebuild(cfg);
  ASSERT_EQ(engine().stats().max_orders, 2u);
  const Ord a1 = buyer(kAlice, kFirmA, 1, "A1");
  run(limit(a1, 100, px(9'90)));
  run(limit(buyer(kAlice, kFirmA, 2, "A2"), 100, px(9'91)));
  const Ord full = buyer(kAlice, kFirmA, 0, "A3");
  expect_refused(limit(full, 100, px(9'92)), RejectCode::OrderPoolFull, full);
  // Earlier checks win over capacity.
  const Ord bad = buyer(kAlice, kFirmA, 0, "A3");
  expect_refused(limit(bad, 150, px(9'92)), RejectCode::InvalidLot, bad);

  run(cancel(a1));
  const Ord a3 = buyer(kAlice, kFirmA, 3, "A3");
  const Events ev = run(limit(a3, 100, px(9'92)));
  EXPECT_EVENTS(ev, seq(accepted(a3, px(9'92), 100), book_add(a3, px(9'92), 100)));
}

TEST_F(ControlsTest, OrderPoolFullRefusesEvenAnOrderThatWouldFillAtOnce) {
  // Check 14 applies to every new order: the incoming order needs a slot while it is matched.
  EngineConfig cfg = default_config();
  cfg.max_orders = 2;
  rebuild(cfg);
  const Ord b1 = buyer(kAlice, kFirmA, 1, "A1");
  run(limit(b1, 100, px(10'00)));
  run(limit(buyer(kAlice, kFirmA, 2, "A2"), 100, px(9'99)));
  const Ord s = seller(kBob, kFirmB, 0, "S1");
  expect_refused(limit(s, 100, px(10'00), TimeInForce::Ioc), RejectCode::OrderPoolFull, s);
}

TEST_F(ControlsTest, TokenTableFullIsRefusedOnceTheDaysTokensAreUsed) {
  EngineConfig cfg = default_config();
  cfg.max_tokens = 3;
  rebuild(cfg);
  ASSERT_EQ(engine().stats().max_tokens, 3u);
  const Ord a1 = buyer(kAlice, kFirmA, 1, "A1");
  run(limit(a1, 100, px(9'90)));
  run(limit(buyer(kAlice, kFirmA, 2, "A2"), 100, px(9'90), TimeInForce::Ioc));  // dies at once, token used
  run(cancel(a1));
  run(limit(buyer(kBob, kFirmB, 3, "B1"), 100, px(9'90)));
  EXPECT_EQ(engine().stats().tokens_used, 3u);
  const Ord full = buyer(kBob, kFirmB, 0, "B2");
  expect_refused(limit(full, 100, px(9'90)), RejectCode::TokenTableFull, full);
  // A replace needs a token too; it is refused last, and the original stays.
  const Ord b1 = buyer(kBob, kFirmB, 3, "B1");
  const Ord b1b = b1.as(0, "B1b");
  Events ev = run(replace(b1, b1b, 100, px(9'91)));
  EXPECT_EVENTS(ev, seq(replace_rejected(b1, b1b, RejectCode::TokenTableFull)));
  ev = run(replace(b1, b1b, 150, px(9'91)));
  EXPECT_EVENTS(ev, seq(replace_rejected(b1, b1b, RejectCode::InvalidLot)));
  EXPECT_EQ(levels(kMain, Side::Buy), (Levels{{px(9'90), 100, 1}}));
}

}  // namespace
}  // namespace peregrine::test
