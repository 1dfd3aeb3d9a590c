// Reference data rules (docs/market-rules.md "Instruments"): price limits and their rounding,
// tick, lots and odd-lot sells, the STAR price cage and its base fallbacks.

#include "unit/core/engine_fixture.hpp"

namespace peregrine::test {
namespace {

class PriceLimitsTest : public EngineTest {};
class LotTest : public EngineTest {};
class PriceCageTest : public EngineTest {};
class ReferenceDataTest : public EngineTest {};

// ---- compute_price_limits ------------------------------------------------------------------------

struct LimitCase {
  std::int64_t reference;
  std::uint32_t bps;
  std::int64_t tick;
  std::int64_t down;
  std::int64_t up;
};

TEST(ComputePriceLimitsTest, RoundsEachLimitHalfUpToTheTick) {
  const LimitCase cases[] = {
      {100000, 1000, 100, 90000, 110000},    // 10.00 +-10 %: exact
      {100500, 1000, 100, 90500, 110600},    // 10.05: 9.045 -> 9.05, 11.055 -> 11.06 (both halves round up)
      {99900, 1000, 100, 89900, 109900},     // 9.99: 8.991 -> 8.99, 10.989 -> 10.99
      {100100, 1000, 100, 90100, 110100},    // 10.01: 9.009 -> 9.01, 11.011 -> 11.01
      {33000, 500, 100, 31400, 34700},       // 3.30 +-5 %: 3.135 -> 3.14, 3.465 -> 3.47
      {100500, 500, 100, 95500, 105500},     // 10.05 +-5 %: 9.5475 -> 9.55, 10.5525 -> 10.55
      {500000, 2000, 100, 400000, 600000},   // 50.00 +-20 %
      {123400, 2000, 100, 98700, 148100},    // 12.34 +-20 %: 9.872 -> 9.87, 14.808 -> 14.81
      {1000, 1000, 100, 900, 1100},          // 0.10
      {10050, 1000, 10, 9050, 11060},        // tick 0.001: 0.9045 -> 0.905, 1.1055 -> 1.106
      {1999999900, 1000, 100, 1799999900, 2199999900},  // large prices do not overflow
  };
  for (const LimitCase& c : cases) {
    const PriceLimits l = compute_price_limits(Price{c.reference}, c.bps, Price{c.tick});
    EXPECT_EQ(l.down.value(), c.down) << "reference " << c.reference << " bps " << c.bps << " tick " << c.tick;
    EXPECT_EQ(l.up.value(), c.up) << "reference " << c.reference << " bps " << c.bps << " tick " << c.tick;
  }
}

TEST_F(PriceLimitsTest, EngineReportsTheLimitsOfEachInstrument) {
  const struct {
    InstrumentId id;
    std::int64_t down, up;
  } cases[] = {
      {kMain, 90000, 110000}, {kStar, 400000, 600000}, {kOther, 180000, 220000},
      {kRisk, 47500, 52500},  {kOdd, 90500, 110600},
  };
  for (const auto& c : cases) {
    const PriceLimits l = engine().limits(c.id);
    EXPECT_EQ(l.down.value(), c.down) << "instrument " << c.id.value();
    EXPECT_EQ(l.up.value(), c.up) << "instrument " << c.id.value();
  }
  EXPECT_EQ(engine().limits(InstrumentId{0}).down.value(), 0);
  EXPECT_EQ(engine().limits(InstrumentId{0}).up.value(), 0);
  EXPECT_EQ(engine().limits(InstrumentId{99}).up.value(), 0);
}

TEST_F(PriceLimitsTest, OrdersExactlyAtTheRoundedLimitsAreAccepted) {
  const Ord b1 = buyer(kAlice, kFirmA, 1, "B1", kOdd);
  const Ord s1 = seller(kBob, kFirmB, 2, "S1", kOdd);
  Events ev = run(limit(b1, 100, px(9'05)));
  EXPECT_EVENTS(ev, seq(accepted(b1, px(9'05), 100), book_add(b1, px(9'05), 100)));
  ev = run(limit(s1, 100, px(11'06)));
  EXPECT_EVENTS(ev, seq(accepted(s1, px(11'06), 100), book_add(s1, px(11'06), 100)));
  // A buy at limit up crosses and trades at the resting price.
  const Ord b2 = buyer(kAlice, kFirmA, 3, "B2", kOdd);
  ev = run(limit(b2, 100, px(11'06)));
  EXPECT_EVENTS(ev, seq(accepted(b2, px(11'06), 100), trade(s1, b2, px(11'06), 100, 0, 0, 1)));
  // A sell at limit down crosses the bid at limit down.
  const Ord s2 = seller(kBob, kFirmB, 4, "S2", kOdd);
  ev = run(limit(s2, 100, px(9'05)));
  EXPECT_EVENTS(ev, seq(accepted(s2, px(9'05), 100), trade(b1, s2, px(9'05), 100, 0, 0, 2)));
}

TEST_F(PriceLimitsTest, OneTickBeyondEitherLimitIsRefused) {
  for (Side side : {Side::Buy, Side::Sell}) {
    const Ord o = ord(kAlice, kFirmA, side, 0, "X1", kOdd);
    expect_refused(limit(o, 100, px(11'07)), RejectCode::PriceOutsideLimits, o);
    expect_refused(limit(o, 100, px(9'04)), RejectCode::PriceOutsideLimits, o);
  }
  for (Side side : {Side::Buy, Side::Sell}) {
    const Ord o = ord(kAlice, kFirmA, side, 0, "X2", kRisk);
    expect_refused(limit(o, 100, px(5'26)), RejectCode::PriceOutsideLimits, o);
    expect_refused(limit(o, 100, px(4'74)), RejectCode::PriceOutsideLimits, o);
  }
  const Ord r1 = buyer(kAlice, kFirmA, 1, "R1", kRisk);
  const Events ev = run(limit(r1, 100, px(5'25)));
  EXPECT_EVENTS(ev, seq(accepted(r1, px(5'25), 100), book_add(r1, px(5'25), 100)));
}

TEST_F(PriceLimitsTest, OffTickPriceIsRefusedEvenOutsideTheLimits) {
  const Ord o = buyer(kAlice, kFirmA, 0, "B1");
  expect_refused(limit(o, 100, Price{100050}), RejectCode::InvalidPrice, o);  // 10.005
  expect_refused(limit(o, 100, Price{100001}), RejectCode::InvalidPrice, o);
  expect_refused(limit(o, 100, Price{110650}), RejectCode::InvalidPrice, o);  // 11.065: off tick first
}

// ---- lots --------------------------------------------------------------------------------------

TEST_F(LotTest, MainBoardBuyMustBeAMultipleOfTheLot) {
  for (std::uint32_t qty : {150u, 50u, 1u, 99u, 1001u}) {
    const Ord o = buyer(kAlice, kFirmA, 0, "B1");
    expect_refused(limit(o, qty, px(10'00)), RejectCode::InvalidLot, o);
  }
  const Ord b1 = buyer(kAlice, kFirmA, 1, "B1");
  const Events ev = run(limit(b1, 200, px(10'00)));
  EXPECT_EVENTS(ev, seq(accepted(b1, px(10'00), 200), book_add(b1, px(10'00), 200)));
}

TEST_F(LotTest, OddLotSellIsAccepted) {
  std::uint64_t id = 1;
  for (std::uint32_t qty : {150u, 1u, 99u}) {
    const Ord s = seller(kBob, kFirmB, id, numbered("S", id));
    const Events ev = run(limit(s, qty, px(10'00)));
    EXPECT_EVENTS(ev, seq(accepted(s, px(10'00), qty), book_add(s, px(10'00), qty)));
    ++id;
  }
  EXPECT_EQ(levels(kMain, Side::Sell), (Levels{{px(10'00), 250, 3}}));
}

TEST_F(LotTest, OddLotSellTradesWithARoundLotBuy) {
  const Ord s1 = seller(kBob, kFirmB, 1, "S1");
  const Ord b1 = buyer(kAlice, kFirmA, 2, "B1");
  run(limit(s1, 150, px(10'00)));
  const Events ev = run(limit(b1, 200, px(10'00)));
  EXPECT_EVENTS(ev, seq(accepted(b1, px(10'00), 200), trade(s1, b1, px(10'00), 150, 0, 50, 1),
                        book_add(b1, px(10'00), 50)));
}

TEST_F(LotTest, WithoutOddLotSellsSellsFollowTheBuyRule) {
  EngineConfig cfg = default_config();
  cfg.instruments[0].odd_lot_sell = false;
  rebuild(cfg);
  for (std::uint32_t qty : {150u, 50u, 1u}) {
    const Ord o = seller(kBob, kFirmB, 0, "S1");
    expect_refused(limit(o, qty, px(10'00)), RejectCode::InvalidLot, o);
  }
  const Ord s1 = seller(kBob, kFirmB, 1, "S1");
  const Events ev = run(limit(s1, 200, px(10'00)));
  EXPECT_EVENTS(ev, seq(accepted(s1, px(10'00), 200), book_add(s1, px(10'00), 200)));
}

TEST_F(LotTest, StarBuyNeedsAtLeast200InStepsOfOne) {
  const Ord bad = buyer(kAlice, kFirmA, 0, "B1", kStar);
  expect_refused(limit(bad, 199, px(50'00)), RejectCode::InvalidLot, bad);
  expect_refused(limit(bad, 100, px(50'00)), RejectCode::InvalidLot, bad);
  const Ord b1 = buyer(kAlice, kFirmA, 1, "B1", kStar);
  Events ev = run(limit(b1, 200, px(50'00)));
  EXPECT_EVENTS(ev, seq(accepted(b1, px(50'00), 200), book_add(b1, px(50'00), 200)));
  const Ord b2 = buyer(kAlice, kFirmA, 2, "B2", kStar);
  ev = run(limit(b2, 201, px(50'00)));
  EXPECT_EVENTS(ev, seq(accepted(b2, px(50'00), 201), book_add(b2, px(50'00), 201)));
  const Ord s1 = seller(kBob, kFirmB, 3, "S1", kStar);
  ev = run(limit(s1, 1, px(50'01)));
  EXPECT_EVENTS(ev, seq(accepted(s1, px(50'01), 1), book_add(s1, px(50'01), 1)));
}

TEST_F(LotTest, LotIsCheckedBeforeMinQtyAndMinQtyBeforePrice) {
  const Ord o = buyer(kAlice, kFirmA, 0, "B1");
  expect_refused(limit(o, 150, px(10'00), TimeInForce::Day, 200), RejectCode::InvalidLot, o);
  expect_refused(limit(o, 300, Price{-1}, TimeInForce::Day, 400), RejectCode::InvalidMinQty, o);
}

// ---- price cage (STAR, 2 %) --------------------------------------------------------------------

TEST_F(PriceCageTest, BuyAtExactly102PercentOfTheBestAskIsAcceptedOneTickAboveRefused) {
  const Ord s1 = seller(kBob, kFirmB, 1, "S1", kStar);
  run(limit(s1, 200, px(50'00)));
  const Ord over = buyer(kAlice, kFirmA, 0, "B1", kStar);
  expect_refused(limit(over, 200, px(51'01)), RejectCode::PriceOutsideCage, over);
  const Ord b1 = buyer(kAlice, kFirmA, 2, "B1", kStar);
  const Events ev = run(limit(b1, 200, px(51'00)));
  EXPECT_EVENTS(ev, seq(accepted(b1, px(51'00), 200), trade(s1, b1, px(50'00), 200, 0, 0, 1)));
}

TEST_F(PriceCageTest, CageIsComparedExactlyWithoutRounding) {
  // 50.01 x 1.02 = 51.0102: 51.01 is inside, 51.02 outside.
  const Ord s1 = seller(kBob, kFirmB, 1, "S1", kStar);
  run(limit(s1, 200, px(50'01)));
  const Ord over = buyer(kAlice, kFirmA, 0, "B1", kStar);
  expect_refused(limit(over, 200, px(51'02)), RejectCode::PriceOutsideCage, over);
  const Ord b1 = buyer(kAlice, kFirmA, 2, "B1", kStar);
  const Events ev = run(limit(b1, 200, px(51'01)));
  EXPECT_EVENTS(ev, seq(accepted(b1, px(51'01), 200), trade(s1, b1, px(50'01), 200, 0, 0, 1)));
}

TEST_F(PriceCageTest, SellAtExactly98PercentOfTheBestBidIsAcceptedOneTickBelowRefused) {
  const Ord b1 = buyer(kAlice, kFirmA, 1, "B1", kStar);
  run(limit(b1, 200, px(50'00)));
  const Ord under = seller(kBob, kFirmB, 0, "S1", kStar);
  expect_refused(limit(under, 200, px(48'99)), RejectCode::PriceOutsideCage, under);
  const Ord s1 = seller(kBob, kFirmB, 2, "S1", kStar);
  const Events ev = run(limit(s1, 200, px(49'00)));
  EXPECT_EVENTS(ev, seq(accepted(s1, px(49'00), 200), trade(b1, s1, px(50'00), 200, 0, 0, 1)));
}

TEST_F(PriceCageTest, BuyBaseIsTheBestAskEvenWhenABidExists) {
  run(limit(buyer(kAlice, kFirmA, 1, "B1", kStar), 200, px(50'00)));
  run(limit(seller(kBob, kFirmB, 2, "S1", kStar), 200, px(52'00)));
  // Against the ask (52.00 -> 53.04) 51.50 is inside; against the bid (51.00) it would not be.
  const Ord b2 = buyer(kAlice, kFirmA, 3, "B2", kStar);
  const Events ev = run(limit(b2, 200, px(51'50)));
  EXPECT_EVENTS(ev, seq(accepted(b2, px(51'50), 200), book_add(b2, px(51'50), 200)));
}

TEST_F(PriceCageTest, SellBaseIsTheBestBidEvenWhenAnAskExists) {
  run(limit(buyer(kAlice, kFirmA, 1, "B1", kStar), 200, px(50'00)));
  run(limit(seller(kBob, kFirmB, 2, "S1", kStar), 200, px(52'00)));
  // Against the bid (50.00 -> 49.00) 50.50 is inside; against the ask (50.96) it would not be.
  const Ord s2 = seller(kBob, kFirmB, 3, "S2", kStar);
  const Events ev = run(limit(s2, 200, px(50'50)));
  EXPECT_EVENTS(ev, seq(accepted(s2, px(50'50), 200), book_add(s2, px(50'50), 200)));
}

TEST_F(PriceCageTest, BuyBaseFallsBackToTheBestBidWhenThereIsNoAsk) {
  run(limit(buyer(kBob, kFirmB, 1, "B0", kStar), 200, px(51'00)));  // inside the reference cage
  const Ord over = buyer(kAlice, kFirmA, 0, "B1", kStar);
  expect_refused(limit(over, 200, px(52'03)), RejectCode::PriceOutsideCage, over);  // 51 x 1.02 = 52.02
  const Ord b1 = buyer(kAlice, kFirmA, 2, "B1", kStar);
  const Events ev = run(limit(b1, 200, px(52'02)));
  EXPECT_EVENTS(ev, seq(accepted(b1, px(52'02), 200), book_add(b1, px(52'02), 200)));
}

TEST_F(PriceCageTest, SellBaseFallsBackToTheBestAskWhenThereIsNoBid) {
  run(limit(seller(kBob, kFirmB, 1, "S0", kStar), 200, px(49'00)));  // inside the reference cage
  const Ord under = seller(kAlice, kFirmA, 0, "S1", kStar);
  expect_refused(limit(under, 200, px(48'01)), RejectCode::PriceOutsideCage, under);  // 49 x 0.98 = 48.02
  const Ord s1 = seller(kAlice, kFirmA, 2, "S1", kStar);
  const Events ev = run(limit(s1, 200, px(48'02)));
  EXPECT_EVENTS(ev, seq(accepted(s1, px(48'02), 200), book_add(s1, px(48'02), 200)));
}

TEST_F(PriceCageTest, EmptyBookWithoutTradesUsesTheReferencePrice) {
  const Ord over = buyer(kAlice, kFirmA, 0, "B1", kStar);
  expect_refused(limit(over, 200, px(51'01)), RejectCode::PriceOutsideCage, over);
  const Ord b1 = buyer(kAlice, kFirmA, 1, "B1", kStar);
  Events ev = run(limit(b1, 200, px(51'00)));
  EXPECT_EVENTS(ev, seq(accepted(b1, px(51'00), 200), book_add(b1, px(51'00), 200)));
  run(cancel(b1));

  const Ord under = seller(kBob, kFirmB, 0, "S1", kStar);
  expect_refused(limit(under, 200, px(48'99)), RejectCode::PriceOutsideCage, under);
  const Ord s1 = seller(kBob, kFirmB, 2, "S1", kStar);
  ev = run(limit(s1, 200, px(49'00)));
  EXPECT_EVENTS(ev, seq(accepted(s1, px(49'00), 200), book_add(s1, px(49'00), 200)));
}

TEST_F(PriceCageTest, EmptyBookAfterTradesUsesTheLastTradePrice) {
  run(limit(seller(kBob, kFirmB, 1, "S1", kStar), 200, px(55'00)));
  run(limit(buyer(kAlice, kFirmA, 2, "B1", kStar), 200, px(55'00)));  // trade at 55.00
  run(limit(seller(kBob, kFirmB, 3, "S2", kStar), 200, px(54'00)));
  run(limit(buyer(kAlice, kFirmA, 4, "B2", kStar), 200, px(54'00)));  // trade at 54.00: the last one
  ASSERT_TRUE(levels(kStar, Side::Buy).empty());
  ASSERT_TRUE(levels(kStar, Side::Sell).empty());

  const Ord over = buyer(kAlice, kFirmA, 0, "B3", kStar);
  expect_refused(limit(over, 200, px(55'09)), RejectCode::PriceOutsideCage, over);  // 54 x 1.02 = 55.08
  const Ord b3 = buyer(kAlice, kFirmA, 5, "B3", kStar);
  Events ev = run(limit(b3, 200, px(55'08)));
  EXPECT_EVENTS(ev, seq(accepted(b3, px(55'08), 200), book_add(b3, px(55'08), 200)));
  run(cancel(b3));

  const Ord under = seller(kBob, kFirmB, 0, "S3", kStar);
  expect_refused(limit(under, 200, px(52'91)), RejectCode::PriceOutsideCage, under);  // 54 x 0.98 = 52.92
  const Ord s3 = seller(kBob, kFirmB, 6, "S3", kStar);
  ev = run(limit(s3, 200, px(52'92)));
  EXPECT_EVENTS(ev, seq(accepted(s3, px(52'92), 200), book_add(s3, px(52'92), 200)));
}

TEST_F(PriceCageTest, MarketOrdersAreNotCaged) {
  const Ord s1 = seller(kBob, kFirmB, 1, "S1", kStar);
  const Ord s2 = seller(kBob, kFirmB, 2, "S2", kStar);
  run(limit(s1, 200, px(50'00)));
  run(limit(s2, 200, px(52'00)));
  const Ord m = buyer(kAlice, kFirmA, 3, "M1", kStar);
  const Events ev = run(market(m, 400, OrderType::MarketBestFiveIoc));
  EXPECT_EVENTS(ev, seq(accepted_market(m, 400, OrderType::MarketBestFiveIoc),
                        trade(s1, m, px(50'00), 200, 0, 200, 1),
                        trade(s2, m, px(52'00), 200, 0, 0, 2)));
}

TEST_F(PriceCageTest, InstrumentWithoutACageIsNotCaged) {
  const Ord s1 = seller(kBob, kFirmB, 1, "S1");
  run(limit(s1, 100, px(10'00)));
  const Ord b1 = buyer(kAlice, kFirmA, 2, "B1");
  const Events ev = run(limit(b1, 100, px(10'90)));
  EXPECT_EVENTS(ev, seq(accepted(b1, px(10'90), 100), trade(s1, b1, px(10'00), 100, 0, 0, 1)));
}

TEST_F(PriceCageTest, LimitsAreCheckedBeforeTheCage) {
  run(limit(seller(kBob, kFirmB, 1, "S1", kStar), 200, px(50'00)));
  const Ord o = buyer(kAlice, kFirmA, 0, "B1", kStar);
  expect_refused(limit(o, 200, px(60'01)), RejectCode::PriceOutsideLimits, o);
}

// ---- lookups -----------------------------------------------------------------------------------

TEST_F(ReferenceDataTest, DefaultConfigurationPassesCheckConfig) {
  EXPECT_FALSE(check_config(default_config()).has_value());
}

TEST_F(ReferenceDataTest, FindsInstrumentsBySymbolAndFirmsByName) {
  EXPECT_EQ(engine().find_instrument(Symbol::from("600000")), kMain);
  EXPECT_EQ(engine().find_instrument(Symbol::from("688001")), kStar);
  EXPECT_EQ(engine().find_instrument(Symbol::from("600003")), kOdd);
  EXPECT_EQ(engine().find_instrument(Symbol::from("999999")), InstrumentId{0});
  EXPECT_EQ(engine().find_firm(FirmName::from("AAAA")), kFirmA);
  EXPECT_EQ(engine().find_firm(FirmName::from("LIMT")), kLimited);
  EXPECT_FALSE(engine().find_firm(FirmName::from("ZZZZ")).has_value());
  EXPECT_EQ(engine().config().instruments.size(), 5u);
  EXPECT_EQ(engine().config().firms.size(), 7u);
}

TEST_F(ReferenceDataTest, StatusAndStatsOfAFreshEngine) {
  EXPECT_EQ(engine().status(kMain), TradingStatus::Trading);
  EXPECT_EQ(engine().stats().live_orders, 0u);
  EXPECT_EQ(engine().stats().tokens_used, 0u);
  EXPECT_EQ(engine().stats().max_orders, 1024u);
  EXPECT_EQ(engine().stats().max_tokens, 4096u);
  EXPECT_FALSE(engine().kill_switch(kFirmA));
  EXPECT_EQ(engine().firm_open_shares(kFirmA), 0u);
  EXPECT_TRUE(engine().validate_internal_state());
}

}  // namespace
}  // namespace peregrine::test
