// Bad input: each refused command gets exactly one precise Rejected / CancelRejected, and leaves
// state_hash() unchanged and validate_internal_state() true (docs/market-rules.md "Checks on a
// new order, in order": "a refused order changes nothing").

#include <cstdint>
#include <limits>

#include "unit/core/engine_fixture.hpp"

namespace peregrine::test {
namespace {

class BadInputTest : public EngineTest {
 protected:
  /// Some state for the refusals to leave alone: two resting orders, a trade, a used token.
  void SetUp() override {
    run(limit(seller(kBob, kFirmB, 1, "S1"), 300, px(10'00)));
    run(limit(buyer(kAlice, kFirmA, 2, "B1"), 100, px(10'00)));
    run(limit(buyer(kAlice, kFirmA, 3, "B2"), 200, px(9'90)));
    run(limit(seller(kBob, kFirmB, 4, "S2", kStar), 200, px(50'50)));
    hash_ = engine().state_hash();
  }
  void TearDown() override {
    EXPECT_EQ(engine().state_hash(), hash_) << "the refused commands of this test changed the state";
    EXPECT_TRUE(engine().validate_internal_state());
    EXPECT_EQ(levels(kMain, Side::Sell), (Levels{{px(10'00), 200, 1}}));
    EXPECT_EQ(levels(kMain, Side::Buy), (Levels{{px(9'90), 200, 1}}));
  }
  Command raw(const Ord& o, std::uint32_t qty, Price price, OrderType type = OrderType::Limit,
              TimeInForce tif = TimeInForce::Day) {
    return make_new_order(next_ts(), o.owner, o.firm, symbol_of(o.instrument), o.token, o.side, Qty{qty}, price,
                          type, tif);
  }
  std::uint64_t hash_ = 0;
  const Ord b = buyer(kAlice, kFirmA, 0, "NEW");
  const Ord s = seller(kBob, kFirmB, 0, "NEW");
};

TEST_F(BadInputTest, ZeroQuantityIsRefusedWithInvalidQuantity) {
  expect_refused(limit(b, 0, px(10'00)), RejectCode::InvalidQuantity, b);
  expect_refused(limit(s, 0, px(10'00)), RejectCode::InvalidQuantity, s);
  expect_refused(market(b, 0, OrderType::MarketBestFiveIoc), RejectCode::InvalidQuantity, b);
}

TEST_F(BadInputTest, OversizedQuantityIsRefusedWithQuantityAboveMax) {
  expect_refused(limit(b, 1'000'100, px(10'00)), RejectCode::QuantityAboveMax, b);
  expect_refused(limit(s, 1'000'001, px(10'00)), RejectCode::QuantityAboveMax, s);
  expect_refused(limit(s, std::numeric_limits<std::uint32_t>::max(), px(10'00)), RejectCode::QuantityAboveMax, s);
  expect_refused(market(s, std::numeric_limits<std::uint32_t>::max(), OrderType::MarketBestFiveIoc),
                 RejectCode::QuantityAboveMax, s);
}

TEST_F(BadInputTest, ZeroPriceIsRefusedWithInvalidPrice) {
  expect_refused(limit(b, 100, Price{0}), RejectCode::InvalidPrice, b);
  expect_refused(limit(s, 100, Price{0}), RejectCode::InvalidPrice, s);
}

TEST_F(BadInputTest, NegativePriceIsRefusedWithInvalidPrice) {
  expect_refused(limit(b, 100, Price{-100}), RejectCode::InvalidPrice, b);
  expect_refused(limit(s, 100, Price{-1}), RejectCode::InvalidPrice, s);
  expect_refused(limit(b, 100, Price{std::numeric_limits<std::int64_t>::min()}), RejectCode::InvalidPrice, b);
}

TEST_F(BadInputTest, PriceAbove2Pow31Minus1IsRefusedWithInvalidPrice) {
  expect_refused(limit(b, 100, Price{2147483700}), RejectCode::InvalidPrice, b);  // on tick, > 2^31 - 1
  expect_refused(limit(s, 100, Price{std::int64_t{1} << 40}), RejectCode::InvalidPrice, s);
  expect_refused(limit(b, 100, Price{std::numeric_limits<std::int64_t>::max()}), RejectCode::InvalidPrice, b);
  // The largest valid on-tick price is in range, so it fails on the limits instead.
  expect_refused(limit(b, 100, Price{2147483600}), RejectCode::PriceOutsideLimits, b);
}

TEST_F(BadInputTest, OverflowingPriceOnAFirmWithANotionalLimitIsStillInvalidPrice) {
  const Ord l = buyer(kAlice, kLimited, 0, "L1");
  expect_refused(limit(l, 5000, Price{std::numeric_limits<std::int64_t>::max()}), RejectCode::InvalidPrice, l);
  expect_refused(limit(l, 5000, Price{std::numeric_limits<std::int64_t>::min()}), RejectCode::InvalidPrice, l);
}

TEST_F(BadInputTest, OffTickPriceIsRefusedWithInvalidPrice) {
  expect_refused(limit(b, 100, Price{99950 + 1}), RejectCode::InvalidPrice, b);
  expect_refused(limit(s, 100, Price{100050}), RejectCode::InvalidPrice, s);
}

TEST_F(BadInputTest, CancelOfAnUnknownOrderIsRejectedWithUnknownOrder) {
  const Ord nope = buyer(kAlice, kFirmA, 0, "NOPE");
  const Events ev = run(cancel(nope, 0));
  EXPECT_EVENTS(ev, seq(cancel_rejected(nope, RejectCode::UnknownOrder, 0)));
  // The filled order B1 is not live any more.
  const Ord filled = buyer(kAlice, kFirmA, 0, "B1");
  const Events ev2 = run(cancel(filled, 0));
  EXPECT_EVENTS(ev2, seq(cancel_rejected(filled, RejectCode::UnknownOrder, 0)));
}

TEST_F(BadInputTest, CancelTargetNotBelowOpenIsRejectedWithNothingToCancel) {
  const Ord b2 = buyer(kAlice, kFirmA, 3, "B2");
  const Events ev = run(cancel(b2, 200));
  EXPECT_EVENTS(ev, seq(cancel_rejected(b2, RejectCode::NothingToCancel, 200)));
}

TEST_F(BadInputTest, DuplicateTokenIsRefused) {
  const Ord dup = buyer(kAlice, kFirmA, 0, "B2");
  expect_refused(limit(dup, 100, px(9'90)), RejectCode::DuplicateToken, dup);
  const Ord dup_filled = buyer(kAlice, kFirmA, 0, "B1");
  expect_refused(limit(dup_filled, 100, px(9'90)), RejectCode::DuplicateToken, dup_filled);
}

TEST_F(BadInputTest, UnknownSymbolIsRefused) {
  const Ord o = buyer(kAlice, kFirmA, 0, "NEW", InstrumentId{0});
  expect_refused(make_new_order(next_ts(), kAlice, kFirmA, Symbol::from("000000"), o.token, Side::Buy, Qty{100},
                                px(10'00)),
                 RejectCode::UnknownSymbol, o);
  expect_refused(make_new_order(next_ts(), kAlice, kFirmA, Symbol{}, o.token, Side::Buy, Qty{100}, px(10'00)),
                 RejectCode::UnknownSymbol, o);
}

TEST_F(BadInputTest, InvalidSideIsRefused) {
  for (std::uint8_t side : {std::uint8_t{0}, std::uint8_t{'X'}, std::uint8_t{'b'}}) {
    const Ord o = ord(kAlice, kFirmA, static_cast<Side>(side), 0, "NEW");
    expect_refused(raw(o, 100, px(10'00)), RejectCode::InvalidSide, o);
  }
}

TEST_F(BadInputTest, UnknownOrderTypeOrTifIsRefusedWithInvalidOrderType) {
  expect_refused(raw(b, 100, px(10'00), static_cast<OrderType>(std::uint8_t{'Z'})), RejectCode::InvalidOrderType, b);
  expect_refused(raw(b, 100, px(10'00), static_cast<OrderType>(std::uint8_t{0})), RejectCode::InvalidOrderType, b);
  expect_refused(raw(b, 100, px(10'00), OrderType::Limit, static_cast<TimeInForce>(std::uint8_t{'Z'})),
                 RejectCode::InvalidOrderType, b);
  expect_refused(raw(b, 100, px(10'00), OrderType::Limit, static_cast<TimeInForce>(std::uint8_t{0})),
                 RejectCode::InvalidOrderType, b);
}

// ---- admin commands naming unknown things ------------------------------------------------------

TEST_F(BadInputTest, MassCancelOfAnUnknownFirmOrInstrumentIsCancelRejected) {
  Events ev = run(mass_cancel(FirmId{99}));
  Event unknown_firm = blank(EventType::CancelRejected);
  unknown_firm.code = static_cast<std::uint8_t>(RejectCode::UnknownFirm);
  EXPECT_EVENTS(ev, seq(unknown_firm));

  ev = run(mass_cancel(kFirmA, InstrumentId{99}));
  Event unknown_symbol = blank(EventType::CancelRejected);
  unknown_symbol.code = static_cast<std::uint8_t>(RejectCode::UnknownSymbol);
  EXPECT_EVENTS(ev, seq(unknown_symbol));
}

TEST_F(BadInputTest, KillSwitchOfAnUnknownFirmIsCancelRejected) {
  const Events ev = run(kill(FirmId{99}, true, true));
  Event e = blank(EventType::CancelRejected);
  e.code = static_cast<std::uint8_t>(RejectCode::UnknownFirm);
  EXPECT_EVENTS(ev, seq(e));
}

TEST_F(BadInputTest, TradingStatusOfAnUnknownInstrumentIsRejected) {
  // Spec ambiguity (reported): Event's table says "instrument(0 if unresolved)", but the trading
  // status command names the instrument by id; the core and the differential reference book both
  // echo the id as given. This test follows them.
  for (std::uint16_t id : {std::uint16_t{0}, std::uint16_t{99}}) {
    const Events ev = run(make_trading_status(next_ts(), InstrumentId{id}, TradingStatus::Halted));
    Event e = blank(EventType::Rejected);
    e.instrument = InstrumentId{id};
    e.code = static_cast<std::uint8_t>(RejectCode::UnknownSymbol);
    EXPECT_EVENTS(ev, seq(e)) << "instrument " << id;
  }
}

TEST_F(BadInputTest, AnUnknownCommandTypeIsCancelRejectedWithInvalidOrderType) {
  Command c = make_cancel(next_ts(), kAlice, Token::from("B2"));
  c.type = static_cast<CommandType>(std::uint8_t{99});
  const Events ev = run(c);
  Event e = blank(EventType::CancelRejected);
  e.code = static_cast<std::uint8_t>(RejectCode::InvalidOrderType);
  EXPECT_EVENTS(ev, seq(e));
}

// ---- which check wins -------------------------------------------------------------------------

TEST_F(BadInputTest, UnknownSymbolIsCheckedBeforeTheToken) {
  const Ord o = buyer(kAlice, kFirmA, 0, "B2", InstrumentId{0});
  expect_refused(make_new_order(next_ts(), kAlice, kFirmA, Symbol::from("000000"), o.token, Side::Buy, Qty{100},
                                px(10'00)),
                 RejectCode::UnknownSymbol, o);
}

TEST_F(BadInputTest, SideIsCheckedBeforeOrderTypeAndOrderTypeBeforeQuantity) {
  const Ord bad_side = ord(kAlice, kFirmA, static_cast<Side>(std::uint8_t{'X'}), 0, "NEW");
  expect_refused(raw(bad_side, 0, Price{0}, static_cast<OrderType>(std::uint8_t{'Z'})), RejectCode::InvalidSide,
                 bad_side);
  expect_refused(raw(b, 0, Price{0}, static_cast<OrderType>(std::uint8_t{'Z'})), RejectCode::InvalidOrderType, b);
}

TEST_F(BadInputTest, QuantityIsCheckedBeforePrice) {
  expect_refused(limit(b, 0, Price{0}), RejectCode::InvalidQuantity, b);
  expect_refused(limit(b, 1'000'100, Price{-5}), RejectCode::QuantityAboveMax, b);
}

TEST_F(BadInputTest, FirmMaxQtyIsCheckedBeforeTheLot) {
  const Ord l = buyer(kAlice, kLimited, 0, "L1");
  expect_refused(limit(l, kLimitedMaxQty + 50, px(10'00)), RejectCode::FirmQuantityAboveMax, l);
}

TEST_F(BadInputTest, CageIsCheckedBeforePostOnly) {
  const Ord o = buyer(kAlice, kFirmA, 0, "NEW", kStar);
  expect_refused(limit(o, 200, px(51'52), TimeInForce::Day, 0, true), RejectCode::PriceOutsideCage, o);
}

TEST_F(BadInputTest, PostOnlyIsCheckedBeforeFirmNotional) {
  const Ord l = buyer(kAlice, kLimited, 0, "L1");
  expect_refused(limit(l, 4100, px(10'00), TimeInForce::Day, 0, true), RejectCode::PostOnlyWouldCross, l);
}

}  // namespace
}  // namespace peregrine::test
