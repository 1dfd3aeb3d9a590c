// Order types (docs/market-rules.md "Order types"): IOC, FOK, minimum quantity, post-only and
// both best-five market orders.

#include <string>

#include "unit/core/engine_fixture.hpp"

namespace peregrine::test {
namespace {

class OrderTypesTest : public EngineTest {
 protected:
  /// Six ask levels 10.00, 10.01, ... 10.05 of 100 shares each: order ids 1..6, tokens S1..S6.
  std::vector<Ord> six_ask_levels() {
    std::vector<Ord> asks;
    for (std::uint64_t i = 1; i <= 6; ++i) {
      asks.push_back(seller(kBob, kFirmB, i, numbered("S", i)));
      run(limit(asks.back(), 100, px(10'00 + static_cast<std::int64_t>(i) - 1)));
    }
    return asks;
  }
};

// ---- IOC ---------------------------------------------------------------------------------------

TEST_F(OrderTypesTest, IocTradesWhatItCanAndCancelsTheRemainder) {
  const Ord s1 = seller(kBob, kFirmB, 1, "S1");
  const Ord b1 = buyer(kAlice, kFirmA, 2, "B1");
  run(limit(s1, 100, px(10'00)));
  const Events ev = run(limit(b1, 300, px(10'00), TimeInForce::Ioc));
  EXPECT_EVENTS(ev, seq(accepted(b1, px(10'00), 300, 0, TimeInForce::Ioc),
                        trade(s1, b1, px(10'00), 100, 0, 200, 1),
                        canceled(b1, 200, 0, CancelReason::Immediate)));
  EXPECT_FALSE(engine().best(kMain, Side::Buy).has_value());
  EXPECT_EQ(engine().stats().live_orders, 0u);
  EXPECT_EQ(engine().firm_open_shares(kFirmA), 0u);
}

TEST_F(OrderTypesTest, IocThatCannotTradeIsCancelledInFull) {
  const Ord s1 = seller(kBob, kFirmB, 1, "S1");
  const Ord b1 = buyer(kAlice, kFirmA, 2, "B1");
  run(limit(s1, 100, px(10'01)));
  const Events ev = run(limit(b1, 300, px(10'00), TimeInForce::Ioc));
  EXPECT_EVENTS(ev, seq(accepted(b1, px(10'00), 300, 0, TimeInForce::Ioc),
                        canceled(b1, 300, 0, CancelReason::Immediate)));
  EXPECT_EQ(levels(kMain, Side::Sell), (Levels{{px(10'01), 100, 1}}));
  EXPECT_TRUE(levels(kMain, Side::Buy).empty());
}

// ---- FOK ---------------------------------------------------------------------------------------
// "Accepted reports the order as entered: ... TIF and min_qty as given in the command": a FOK
// sent with min_qty 0 is accepted with tif Fok and min_qty 0, though it behaves as min_qty = qty.

TEST_F(OrderTypesTest, FokThatJustFillsTradesItsWholeQuantityAcrossLevels) {
  const Ord s1 = seller(kBob, kFirmB, 1, "S1");
  const Ord s2 = seller(kBob, kFirmB, 2, "S2");
  const Ord s3 = seller(kBob, kFirmB, 3, "S3");
  const Ord b1 = buyer(kAlice, kFirmA, 4, "B1");
  run(limit(s1, 100, px(10'00)));
  run(limit(s2, 200, px(10'01)));
  run(limit(s3, 100, px(10'02)));
  const Events ev = run(limit(b1, 300, px(10'01), TimeInForce::Fok));
  EXPECT_EVENTS(ev, seq(accepted(b1, px(10'01), 300, 0, TimeInForce::Fok),
                        trade(s1, b1, px(10'00), 100, 0, 200, 1),
                        trade(s2, b1, px(10'01), 200, 0, 0, 2)));
  EXPECT_EQ(levels(kMain, Side::Sell), (Levels{{px(10'02), 100, 1}}));
}

TEST_F(OrderTypesTest, FokThatJustFailsIsCancelledWithNoTradeAndNoSideEffect) {
  // Bids 100 @ 10.00 and 200 @ 9.99; an odd-lot FOK sell of 301 @ 9.99 misses by one share.
  const Ord b1 = buyer(kAlice, kFirmA, 1, "B1");
  const Ord b2 = buyer(kAlice, kFirmA, 2, "B2");
  const Ord s1 = seller(kBob, kFirmB, 3, "S1");
  const Command c1 = limit(b1, 100, px(10'00));
  const Command c2 = limit(b2, 200, px(9'99));
  run(c1);
  run(c2);
  const Levels bids_before = levels(kMain, Side::Buy);

  const Events ev = run(limit(s1, 301, px(9'99), TimeInForce::Fok));
  EXPECT_EVENTS(ev, seq(accepted(s1, px(9'99), 301, 0, TimeInForce::Fok),
                        canceled(s1, 301, 0, CancelReason::Immediate)));
  EXPECT_EQ(levels(kMain, Side::Buy), bids_before);
  EXPECT_TRUE(levels(kMain, Side::Sell).empty());
  EXPECT_EQ(engine().firm_open_shares(kFirmA), 300u);
  EXPECT_EQ(engine().firm_open_shares(kFirmB), 0u);

  // The only state a failed FOK leaves is its token and the order id it took: exactly what an
  // IOC that could not trade leaves. A twin engine proves the rest of the state is untouched.
  Engine twin(default_config());
  Events sunk;
  std::array<Event, 64> buffer{};
  EventSink sink(buffer.data(), buffer.size(), &EngineTest::collect, &sunk);
  twin.process(c1, sink);
  twin.process(c2, sink);
  twin.process(make_new_order(next_ts(), s1.owner, s1.firm, symbol_of(kMain), s1.token, Side::Sell, Qty{301},
                              px(10'01), OrderType::Limit, TimeInForce::Ioc),
               sink);
  sink.flush();
  ASSERT_EQ(sunk.size(), 6u);
  EXPECT_EQ(sunk[5].code, static_cast<std::uint8_t>(CancelReason::Immediate));
  EXPECT_EQ(engine().state_hash(), twin.state_hash());

  // The next order takes id 4, the next trade match number 1.
  const Ord s2 = seller(kBob, kFirmB, 4, "S2");
  const Events next = run(limit(s2, 100, px(10'00)));
  EXPECT_EVENTS(next, seq(accepted(s2, px(10'00), 100), trade(b1, s2, px(10'00), 100, 0, 0, 1)));
}

TEST_F(OrderTypesTest, FokBuyShortOfOneLotFails) {
  const Ord s1 = seller(kBob, kFirmB, 1, "S1");
  const Ord s2 = seller(kBob, kFirmB, 2, "S2");
  const Ord b1 = buyer(kAlice, kFirmA, 3, "B1");
  run(limit(s1, 100, px(10'00)));
  run(limit(s2, 250, px(10'01)));
  const Events ev = run(limit(b1, 400, px(10'01), TimeInForce::Fok));
  EXPECT_EVENTS(ev, seq(accepted(b1, px(10'01), 400, 0, TimeInForce::Fok),
                        canceled(b1, 400, 0, CancelReason::Immediate)));
  EXPECT_EQ(levels(kMain, Side::Sell), (Levels{{px(10'00), 100, 1}, {px(10'01), 250, 1}}));
}

TEST_F(OrderTypesTest, FokCountsOnlyLiquidityAtOrBetterThanItsPrice) {
  const Ord s1 = seller(kBob, kFirmB, 1, "S1");
  const Ord s2 = seller(kBob, kFirmB, 2, "S2");
  const Ord b1 = buyer(kAlice, kFirmA, 3, "B1");
  run(limit(s1, 100, px(10'00)));
  run(limit(s2, 200, px(10'01)));
  const Events ev = run(limit(b1, 300, px(10'00), TimeInForce::Fok));
  EXPECT_EVENTS(ev, seq(accepted(b1, px(10'00), 300, 0, TimeInForce::Fok),
                        canceled(b1, 300, 0, CancelReason::Immediate)));
  EXPECT_EQ(levels(kMain, Side::Sell), (Levels{{px(10'00), 100, 1}, {px(10'01), 200, 1}}));
}

// ---- minimum quantity ----------------------------------------------------------------------------

TEST_F(OrderTypesTest, MinQtyMetTradesAndTheDayRemainderRests) {
  const Ord s1 = seller(kBob, kFirmB, 1, "S1");
  const Ord s2 = seller(kBob, kFirmB, 2, "S2");
  const Ord b1 = buyer(kAlice, kFirmA, 3, "B1");
  run(limit(s1, 100, px(10'00)));
  run(limit(s2, 200, px(10'01)));
  const Events ev = run(limit(b1, 500, px(10'01), TimeInForce::Day, 300));
  EXPECT_EVENTS(ev, seq(accepted(b1, px(10'01), 500, 300),
                        trade(s1, b1, px(10'00), 100, 0, 400, 1),
                        trade(s2, b1, px(10'01), 200, 0, 200, 2),
                        book_add(b1, px(10'01), 200)));
}

TEST_F(OrderTypesTest, MinQtyNotMetCancelsTheWholeOrderWithoutTrading) {
  const Ord s1 = seller(kBob, kFirmB, 1, "S1");
  const Ord s2 = seller(kBob, kFirmB, 2, "S2");
  const Ord b1 = buyer(kAlice, kFirmA, 3, "B1");
  run(limit(s1, 100, px(10'00)));
  run(limit(s2, 200, px(10'01)));
  const Events ev = run(limit(b1, 500, px(10'01), TimeInForce::Day, 301));
  EXPECT_EVENTS(ev, seq(accepted(b1, px(10'01), 500, 301), canceled(b1, 500, 0, CancelReason::Immediate)));
  EXPECT_EQ(levels(kMain, Side::Sell), (Levels{{px(10'00), 100, 1}, {px(10'01), 200, 1}}));
  EXPECT_TRUE(levels(kMain, Side::Buy).empty());
}

TEST_F(OrderTypesTest, MinQtyIgnoresLiquidityBeyondTheOrdersPrice) {
  const Ord s1 = seller(kBob, kFirmB, 1, "S1");
  const Ord s2 = seller(kBob, kFirmB, 2, "S2");
  const Ord b1 = buyer(kAlice, kFirmA, 3, "B1");
  run(limit(s1, 100, px(10'00)));
  run(limit(s2, 200, px(10'01)));
  const Events ev = run(limit(b1, 300, px(10'00), TimeInForce::Day, 200));
  EXPECT_EVENTS(ev, seq(accepted(b1, px(10'00), 300, 200), canceled(b1, 300, 0, CancelReason::Immediate)));
}

TEST_F(OrderTypesTest, MinQtyWithIocCancelsTheRemainderAfterTheMinimumIsMet) {
  const Ord s1 = seller(kBob, kFirmB, 1, "S1");
  const Ord s2 = seller(kBob, kFirmB, 2, "S2");
  const Ord b1 = buyer(kAlice, kFirmA, 3, "B1");
  run(limit(s1, 100, px(10'00)));
  run(limit(s2, 200, px(10'01)));
  const Events ev = run(limit(b1, 500, px(10'01), TimeInForce::Ioc, 200));
  EXPECT_EVENTS(ev, seq(accepted(b1, px(10'01), 500, 200, TimeInForce::Ioc),
                        trade(s1, b1, px(10'00), 100, 0, 400, 1),
                        trade(s2, b1, px(10'01), 200, 0, 200, 2),
                        canceled(b1, 200, 0, CancelReason::Immediate)));
}

TEST_F(OrderTypesTest, MinQtyEqualToQtyIsAcceptedAndAboveQtyIsRefused) {
  const Ord bad = buyer(kAlice, kFirmA, 0, "BAD");
  expect_refused(limit(bad, 300, px(10'00), TimeInForce::Day, 400), RejectCode::InvalidMinQty, bad);
  const Ord b1 = buyer(kAlice, kFirmA, 1, "B1");
  const Events ev = run(limit(b1, 300, px(10'00), TimeInForce::Day, 300));
  // Nothing to trade with: the minimum is not met, the order is cancelled.
  EXPECT_EVENTS(ev, seq(accepted(b1, px(10'00), 300, 300), canceled(b1, 300, 0, CancelReason::Immediate)));
}

// ---- post-only --------------------------------------------------------------------------------

TEST_F(OrderTypesTest, PostOnlyRestsWhenItDoesNotCross) {
  const Ord s1 = seller(kBob, kFirmB, 1, "S1");
  const Ord b1 = buyer(kAlice, kFirmA, 2, "B1");
  run(limit(s1, 100, px(10'00)));
  const Events ev = run(post_only(b1, 200, px(9'99)));
  EXPECT_EVENTS(ev, seq(accepted(b1, px(9'99), 200, 0, TimeInForce::Day, true), book_add(b1, px(9'99), 200)));
}

TEST_F(OrderTypesTest, PostOnlyRestsOnAnEmptyBook) {
  const Ord s1 = seller(kBob, kFirmB, 1, "S1");
  const Events ev = run(post_only(s1, 100, px(9'50)));
  EXPECT_EVENTS(ev, seq(accepted(s1, px(9'50), 100, 0, TimeInForce::Day, true), book_add(s1, px(9'50), 100)));
}

TEST_F(OrderTypesTest, PostOnlyBuyAtTheBestAskIsRefusedNotRepriced) {
  const Ord s1 = seller(kBob, kFirmB, 1, "S1");
  run(limit(s1, 100, px(10'00)));
  const Ord b1 = buyer(kAlice, kFirmA, 0, "B1");
  expect_refused(post_only(b1, 200, px(10'00)), RejectCode::PostOnlyWouldCross, b1);
  expect_refused(post_only(b1, 200, px(10'50)), RejectCode::PostOnlyWouldCross, b1);
  EXPECT_EQ(levels(kMain, Side::Sell), (Levels{{px(10'00), 100, 1}}));
  EXPECT_TRUE(levels(kMain, Side::Buy).empty());
}

TEST_F(OrderTypesTest, PostOnlySellAtTheBestBidIsRefused) {
  const Ord b1 = buyer(kAlice, kFirmA, 1, "B1");
  run(limit(b1, 100, px(10'00)));
  const Ord s1 = seller(kBob, kFirmB, 0, "S1");
  expect_refused(post_only(s1, 100, px(10'00)), RejectCode::PostOnlyWouldCross, s1);
  const Ord s2 = seller(kBob, kFirmB, 2, "S1");  // the refused token was not consumed
  const Events ev = run(post_only(s2, 100, px(10'01)));
  EXPECT_EVENTS(ev, seq(accepted(s2, px(10'01), 100, 0, TimeInForce::Day, true), book_add(s2, px(10'01), 100)));
}

// ---- market orders --------------------------------------------------------------------------------

TEST_F(OrderTypesTest, BestFiveIocTradesFiveLevelsAndNeverReachesTheSixth) {
  const std::vector<Ord> asks = six_ask_levels();
  const Ord m = buyer(kAlice, kFirmA, 7, "M1");
  const Events ev = run(market(m, 1000, OrderType::MarketBestFiveIoc));
  Events expected = seq(accepted_market(m, 1000, OrderType::MarketBestFiveIoc));
  for (std::uint32_t i = 0; i < 5; ++i) {
    append_to(expected, trade(asks[i], m, px(10'00 + i), 100, 0, 900 - 100 * i, i + 1));
  }
  append_to(expected, canceled(m, 500, 0, CancelReason::Immediate));
  EXPECT_EVENTS(ev, expected);
  EXPECT_EQ(levels(kMain, Side::Sell), (Levels{{px(10'05), 100, 1}}));
  EXPECT_TRUE(levels(kMain, Side::Buy).empty());
}

TEST_F(OrderTypesTest, BestFiveToLimitRestsTheRemainderAtItsLastFillPrice) {
  const std::vector<Ord> asks = six_ask_levels();
  const Ord m = buyer(kAlice, kFirmA, 7, "M1");
  const Events ev = run(market(m, 1000, OrderType::MarketBestFiveToLimit));
  Events expected = seq(accepted_market(m, 1000, OrderType::MarketBestFiveToLimit));
  for (std::uint32_t i = 0; i < 5; ++i) {
    append_to(expected, trade(asks[i], m, px(10'00 + i), 100, 0, 900 - 100 * i, i + 1));
  }
  append_to(expected, book_add(m, px(10'04), 500));
  EXPECT_EVENTS(ev, expected);
  EXPECT_EQ(levels(kMain, Side::Buy), (Levels{{px(10'04), 500, 1}}));
  EXPECT_EQ(levels(kMain, Side::Sell), (Levels{{px(10'05), 100, 1}}));
  EXPECT_EQ(engine().firm_open_shares(kFirmA), 500u);

  // The rested remainder is an ordinary limit order at 10.04.
  const Ord s7 = seller(kBob, kFirmB, 8, "S7");
  const Events next = run(limit(s7, 200, px(10'03)));
  EXPECT_EVENTS(next, seq(accepted(s7, px(10'03), 200), trade(m, s7, px(10'04), 200, 300, 0, 6)));
}

TEST_F(OrderTypesTest, BestFiveCountsPriceLevelsNotOrders) {
  // Three orders at 10.00, then one at each of 10.01..10.05: six levels, eight orders.
  std::vector<Ord> asks;
  for (std::uint64_t i = 1; i <= 3; ++i) {
    asks.push_back(seller(kBob, kFirmB, i, numbered("S", i)));
    run(limit(asks.back(), 100, px(10'00)));
  }
  for (std::uint64_t i = 4; i <= 8; ++i) {
    asks.push_back(seller(kBob, kFirmB, i, numbered("S", i)));
    run(limit(asks.back(), 100, px(10'00 + static_cast<std::int64_t>(i) - 3)));
  }
  const Ord m = buyer(kAlice, kFirmA, 9, "M1");
  const Events ev = run(market(m, 2000, OrderType::MarketBestFiveIoc));
  Events expected = seq(accepted_market(m, 2000, OrderType::MarketBestFiveIoc));
  const std::int64_t prices[7] = {10'00, 10'00, 10'00, 10'01, 10'02, 10'03, 10'04};
  for (std::uint32_t i = 0; i < 7; ++i) {
    append_to(expected, trade(asks[i], m, px(prices[i]), 100, 0, 1900 - 100 * i, i + 1));
  }
  append_to(expected, canceled(m, 1300, 0, CancelReason::Immediate));
  EXPECT_EVENTS(ev, expected);
  EXPECT_EQ(levels(kMain, Side::Sell), (Levels{{px(10'05), 100, 1}}));
}

TEST_F(OrderTypesTest, BestFiveWithFewerLevelsTakesTheLastLevelAsProtectionPrice) {
  const Ord s1 = seller(kBob, kFirmB, 1, "S1");
  const Ord s2 = seller(kBob, kFirmB, 2, "S2");
  const Ord m = buyer(kAlice, kFirmA, 3, "M1");
  run(limit(s1, 100, px(10'00)));
  run(limit(s2, 100, px(10'02)));
  const Events ev = run(market(m, 500, OrderType::MarketBestFiveToLimit));
  EXPECT_EVENTS(ev, seq(accepted_market(m, 500, OrderType::MarketBestFiveToLimit),
                        trade(s1, m, px(10'00), 100, 0, 400, 1),
                        trade(s2, m, px(10'02), 100, 0, 300, 2),
                        book_add(m, px(10'02), 300)));
}

TEST_F(OrderTypesTest, BestFiveToLimitFilledInsideOneLevelLeavesNothingToRest) {
  const Ord s1 = seller(kBob, kFirmB, 1, "S1");
  const Ord m = buyer(kAlice, kFirmA, 2, "M1");
  run(limit(s1, 300, px(10'00)));
  const Events ev = run(market(m, 200, OrderType::MarketBestFiveToLimit));
  EXPECT_EVENTS(ev, seq(accepted_market(m, 200, OrderType::MarketBestFiveToLimit),
                        trade(s1, m, px(10'00), 200, 100, 0, 1)));
  EXPECT_TRUE(levels(kMain, Side::Buy).empty());
}

TEST_F(OrderTypesTest, MarketSellWalksFiveBidLevelsDown) {
  std::vector<Ord> bids;
  for (std::uint64_t i = 1; i <= 6; ++i) {
    bids.push_back(buyer(kAlice, kFirmA, i, numbered("B", i)));
    run(limit(bids.back(), 100, px(10'00 - static_cast<std::int64_t>(i) + 1)));
  }
  const Ord m = seller(kBob, kFirmB, 7, "M1");
  const Events ev = run(market(m, 700, OrderType::MarketBestFiveIoc));
  Events expected = seq(accepted_market(m, 700, OrderType::MarketBestFiveIoc));
  for (std::uint32_t i = 0; i < 5; ++i) {
    append_to(expected, trade(bids[i], m, px(10'00 - static_cast<std::int64_t>(i)), 100, 0, 600 - 100 * i, i + 1));
  }
  append_to(expected, canceled(m, 200, 0, CancelReason::Immediate));
  EXPECT_EVENTS(ev, expected);
  EXPECT_EQ(levels(kMain, Side::Buy), (Levels{{px(9'95), 100, 1}}));
}

TEST_F(OrderTypesTest, MarketSellToLimitRestsAtTheLowestPriceItFilledAt) {
  const Ord b1 = buyer(kAlice, kFirmA, 1, "B1");
  const Ord b2 = buyer(kAlice, kFirmA, 2, "B2");
  const Ord m = seller(kBob, kFirmB, 3, "M1");
  run(limit(b1, 100, px(10'00)));
  run(limit(b2, 100, px(9'97)));
  const Events ev = run(market(m, 300, OrderType::MarketBestFiveToLimit));
  EXPECT_EVENTS(ev, seq(accepted_market(m, 300, OrderType::MarketBestFiveToLimit),
                        trade(b1, m, px(10'00), 100, 0, 200, 1),
                        trade(b2, m, px(9'97), 100, 0, 100, 2),
                        book_add(m, px(9'97), 100)));
}

TEST_F(OrderTypesTest, BestFiveIocOnAnEmptyOppositeSideIsAcceptedAndCancelledInFull) {
  const Ord b1 = buyer(kAlice, kFirmA, 1, "B1");
  run(limit(b1, 100, px(9'99)));  // same side is not empty; the opposite side is
  const Ord m = buyer(kCarol, kFirmA, 2, "M1");
  const Events ev = run(market(m, 300, OrderType::MarketBestFiveIoc));
  EXPECT_EVENTS(ev, seq(accepted_market(m, 300, OrderType::MarketBestFiveIoc),
                        canceled(m, 300, 0, CancelReason::Immediate)));
  EXPECT_EQ(levels(kMain, Side::Buy), (Levels{{px(9'99), 100, 1}}));
}

TEST_F(OrderTypesTest, BestFiveToLimitOnAnEmptyOppositeSideIsAcceptedAndCancelledInFull) {
  const Ord m = seller(kBob, kFirmB, 1, "M1");
  const Events ev = run(market(m, 300, OrderType::MarketBestFiveToLimit));
  EXPECT_EVENTS(ev, seq(accepted_market(m, 300, OrderType::MarketBestFiveToLimit),
                        canceled(m, 300, 0, CancelReason::Immediate)));
  EXPECT_TRUE(levels(kMain, Side::Sell).empty());
  EXPECT_EQ(engine().stats().live_orders, 0u);
  // It took order id 1 and its token.
  const Ord s2 = seller(kBob, kFirmB, 2, "S2");
  const Events next = run(limit(s2, 100, px(10'00)));
  EXPECT_EVENTS(next, seq(accepted(s2, px(10'00), 100), book_add(s2, px(10'00), 100)));
  const Ord dup = seller(kBob, kFirmB, 0, "M1");
  expect_refused(limit(dup, 100, px(10'00)), RejectCode::DuplicateToken, dup);
}

TEST_F(OrderTypesTest, MarketOrderMayNotBePostOnly) {
  const Ord s1 = seller(kBob, kFirmB, 1, "S1");
  run(limit(s1, 100, px(10'00)));
  const Ord m = buyer(kAlice, kFirmA, 0, "M1");
  for (OrderType type : {OrderType::MarketBestFiveIoc, OrderType::MarketBestFiveToLimit}) {
    const TimeInForce tif = type == OrderType::MarketBestFiveIoc ? TimeInForce::Ioc : TimeInForce::Day;
    expect_refused(make_new_order(next_ts(), m.owner, m.firm, symbol_of(kMain), m.token, Side::Buy, Qty{100},
                                  Price{0x7FFFFFFF}, type, tif, Qty{0}, true),
                   RejectCode::InvalidOrderType, m);
  }
}

TEST_F(OrderTypesTest, MarketOrderIgnoresItsPriceField) {
  const Ord s1 = seller(kBob, kFirmB, 1, "S1");
  run(limit(s1, 300, px(10'00)));
  const Ord m1 = buyer(kAlice, kFirmA, 2, "M1");
  Events ev = run(make_new_order(next_ts(), m1.owner, m1.firm, symbol_of(kMain), m1.token, Side::Buy, Qty{100},
                                 Price{0}, OrderType::MarketBestFiveIoc, TimeInForce::Ioc));
  EXPECT_EVENTS(ev, seq(accepted_market(m1, 100, OrderType::MarketBestFiveIoc),
                        trade(s1, m1, px(10'00), 100, 200, 0, 1)));
  const Ord m2 = buyer(kAlice, kFirmA, 3, "M2");
  ev = run(make_new_order(next_ts(), m2.owner, m2.firm, symbol_of(kMain), m2.token, Side::Buy, Qty{100},
                          Price{-12345}, OrderType::MarketBestFiveIoc, TimeInForce::Ioc));
  EXPECT_EVENTS(ev, seq(accepted_market(m2, 100, OrderType::MarketBestFiveIoc),
                        trade(s1, m2, px(10'00), 100, 100, 0, 2)));
}

TEST_F(OrderTypesTest, MarketOrderIgnoresItsTifButAcceptedReportsItAsGiven) {
  const Ord s1 = seller(kBob, kFirmB, 1, "S1");
  run(limit(s1, 100, px(10'00)));
  // A best-five IOC sent with a Day TIF still cancels its remainder.
  const Ord m1 = buyer(kAlice, kFirmA, 2, "M1");
  Events ev = run(make_new_order(next_ts(), m1.owner, m1.firm, symbol_of(kMain), m1.token, Side::Buy, Qty{300},
                                 Price{0x7FFFFFFF}, OrderType::MarketBestFiveIoc, TimeInForce::Day));
  EXPECT_EVENTS(ev, seq(accepted(m1, Price{0}, 300, 0, TimeInForce::Day, false, OrderType::MarketBestFiveIoc),
                        trade(s1, m1, px(10'00), 100, 0, 200, 1),
                        canceled(m1, 200, 0, CancelReason::Immediate)));
  // A best-five to-limit sent with an IOC TIF still rests its remainder at the last fill price.
  const Ord s2 = seller(kBob, kFirmB, 3, "S2");
  run(limit(s2, 100, px(10'01)));
  const Ord m2 = buyer(kAlice, kFirmA, 4, "M2");
  ev = run(make_new_order(next_ts(), m2.owner, m2.firm, symbol_of(kMain), m2.token, Side::Buy, Qty{300},
                          Price{0x7FFFFFFF}, OrderType::MarketBestFiveToLimit, TimeInForce::Ioc));
  EXPECT_EVENTS(ev, seq(accepted(m2, Price{0}, 300, 0, TimeInForce::Ioc, false, OrderType::MarketBestFiveToLimit),
                        trade(s2, m2, px(10'01), 100, 0, 200, 2),
                        book_add(m2, px(10'01), 200)));
}

TEST_F(OrderTypesTest, PostOnlyMustBeADayLimitOrder) {
  const Ord o = buyer(kAlice, kFirmA, 0, "P1");
  expect_refused(limit(o, 100, px(9'00), TimeInForce::Ioc, 0, true), RejectCode::InvalidOrderType, o);
  expect_refused(limit(o, 100, px(9'00), TimeInForce::Fok, 0, true), RejectCode::InvalidOrderType, o);
  Command two = limit(o, 100, px(9'00));
  two.new_order.post_only = 2;
  expect_refused(two, RejectCode::InvalidOrderType, o);
  const Ord p1 = buyer(kAlice, kFirmA, 1, "P1");
  const Events ev = run(post_only(p1, 100, px(9'00)));
  EXPECT_EVENTS(ev, seq(accepted(p1, px(9'00), 100, 0, TimeInForce::Day, true), book_add(p1, px(9'00), 100)));
}

TEST_F(OrderTypesTest, FokIgnoresALowerMinQtyAndAcceptedReportsItAsGiven) {
  const Ord s1 = seller(kBob, kFirmB, 1, "S1");
  const Ord b1 = buyer(kAlice, kFirmA, 2, "B1");
  run(limit(s1, 200, px(10'00)));
  const Events ev = run(limit(b1, 300, px(10'00), TimeInForce::Fok, 100));
  EXPECT_EVENTS(ev, seq(accepted(b1, px(10'00), 300, 100, TimeInForce::Fok),
                        canceled(b1, 300, 0, CancelReason::Immediate)));
}

TEST_F(OrderTypesTest, MarketOrderWithAFokTifIsNotFillOrKill) {
  const Ord s1 = seller(kBob, kFirmB, 1, "S1");
  const Ord m = buyer(kAlice, kFirmA, 2, "M1");
  run(limit(s1, 100, px(10'00)));
  const Events ev = run(make_new_order(next_ts(), m.owner, m.firm, symbol_of(kMain), m.token, Side::Buy, Qty{300},
                                       Price{0x7FFFFFFF}, OrderType::MarketBestFiveIoc, TimeInForce::Fok));
  EXPECT_EVENTS(ev, seq(accepted(m, Price{0}, 300, 0, TimeInForce::Fok, false, OrderType::MarketBestFiveIoc),
                        trade(s1, m, px(10'00), 100, 0, 200, 1),
                        canceled(m, 200, 0, CancelReason::Immediate)));
}

TEST_F(OrderTypesTest, MarketOrderMinQtyIsCheckedUpToTheProtectionPrice) {
  const Ord s1 = seller(kBob, kFirmB, 1, "S1");
  const Ord s2 = seller(kBob, kFirmB, 2, "S2");
  run(limit(s1, 100, px(10'00)));
  run(limit(s2, 100, px(10'01)));
  const Ord m1 = buyer(kAlice, kFirmA, 3, "M1");
  Events ev = run(make_new_order(next_ts(), m1.owner, m1.firm, symbol_of(kMain), m1.token, Side::Buy, Qty{500},
                                 Price{0x7FFFFFFF}, OrderType::MarketBestFiveIoc, TimeInForce::Ioc, Qty{300}));
  EXPECT_EVENTS(ev, seq(accepted(m1, Price{0}, 500, 300, TimeInForce::Ioc, false, OrderType::MarketBestFiveIoc),
                        canceled(m1, 500, 0, CancelReason::Immediate)));
  const Ord m2 = buyer(kAlice, kFirmA, 4, "M2");
  ev = run(make_new_order(next_ts(), m2.owner, m2.firm, symbol_of(kMain), m2.token, Side::Buy, Qty{500},
                          Price{0x7FFFFFFF}, OrderType::MarketBestFiveToLimit, TimeInForce::Day, Qty{200}));
  EXPECT_EVENTS(ev, seq(accepted(m2, Price{0}, 500, 200, TimeInForce::Day, false, OrderType::MarketBestFiveToLimit),
                        trade(s1, m2, px(10'00), 100, 0, 400, 1),
                        trade(s2, m2, px(10'01), 100, 0, 300, 2),
                        book_add(m2, px(10'01), 300)));
}

TEST_F(OrderTypesTest, MarketBuyFollowsTheLotRule) {
  const Ord s1 = seller(kBob, kFirmB, 1, "S1");
  run(limit(s1, 300, px(10'00)));
  const Ord m = buyer(kAlice, kFirmA, 0, "M1");
  expect_refused(market(m, 150, OrderType::MarketBestFiveIoc), RejectCode::InvalidLot, m);
}

}  // namespace
}  // namespace peregrine::test
