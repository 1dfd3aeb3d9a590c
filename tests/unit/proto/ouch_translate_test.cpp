// Translation between the wire and the core: the Enter/Replace/Cancel mapping table and every
// edge refusal, core events to OUCH and ITCH, and an end-to-end run through a real Engine.

#include "peregrine/proto/ouch_translate.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <string>
#include <vector>

#include "peregrine/core/engine.hpp"
#include "unit/proto/proto_test_util.hpp"

namespace peregrine::proto {
namespace {

using test::Bytes;
using test::encoded;

constexpr Timestamp kTs{34200ull * 1'000'000'000ull};
const OuchSession kSession{OwnerId{7}, FirmId{0}, FirmName::from("FRMA")};

EngineConfig test_config() {
  EngineConfig cfg;
  InstrumentConfig main;
  main.symbol = Symbol::from("600519");
  main.name = "main board";
  main.reference_price = Price{15'000'000};
  cfg.instruments.push_back(main);
  InstrumentConfig star = main;
  star.symbol = Symbol::from("688001");
  star.lot_size = Qty{1};
  star.min_qty = Qty{200};
  star.odd_lot_sell = false;
  cfg.instruments.push_back(star);
  FirmConfig a;
  a.name = FirmName::from("FRMA");
  FirmConfig b;
  b.name = FirmName::from("FRMB");
  cfg.firms = {a, b};
  cfg.max_orders = 1024;
  cfg.max_tokens = 4096;
  return cfg;
}

bool same(const Command& a, const Command& b) { return std::memcmp(&a, &b, sizeof(Command)) == 0; }

ouch::EnterOrder enter() {
  return {Token::from("ORD1"), 'B', 1000, Symbol::from("600519"), 15'000'000, ouch::kTifMarketHours,
          FirmName::from(""), 'Y', 'A', 'N', 0, 'N', ' '};
}

Command expect_new(Side side, Qty qty, Price price, OrderType type, TimeInForce tif, Qty min_qty, bool post_only) {
  return make_new_order(kTs, kSession.owner, kSession.firm, Symbol::from("600519"), Token::from("ORD1"), side, qty,
                        price, type, tif, min_qty, post_only);
}

void expect_command(const InboundTranslation& r, const Command& want, const std::string& what) {
  ASSERT_TRUE(r.is_command()) << what << ": refused with '" << r.reject.reason << "'";
  EXPECT_TRUE(same(r.command, want)) << what;
}

void expect_reject(const InboundTranslation& r, const Token& token, char reason, const std::string& what) {
  ASSERT_FALSE(r.is_command()) << what;
  EXPECT_EQ(r.reject.reason, reason) << what;
  EXPECT_EQ(r.reject.token, token) << what;
  EXPECT_EQ(r.reject.timestamp, kTs.value()) << what;
}

// --- Enter Order ------------------------------------------------------------------------------

TEST(OuchTranslateEnterTest, DayLimitOrderBecomesANewOrderCommand) {
  expect_command(translate(enter(), kSession, kTs),
                 expect_new(Side::Buy, Qty{1000}, Price{15'000'000}, OrderType::Limit, TimeInForce::Day, Qty{0}, false),
                 "day limit");
}

TEST(OuchTranslateEnterTest, SideBBuysAndSTESell) {
  for (const auto& [wire, side] : {std::pair{'B', Side::Buy}, std::pair{'S', Side::Sell},
                                   std::pair{'T', Side::Sell}, std::pair{'E', Side::Sell}}) {
    ouch::EnterOrder m = enter();
    m.side = wire;
    expect_command(translate(m, kSession, kTs),
                   expect_new(side, Qty{1000}, Price{15'000'000}, OrderType::Limit, TimeInForce::Day, Qty{0}, false),
                   std::string("side ") + wire);
  }
  for (char bad : {'b', 'X', ' ', '\0'}) {
    ouch::EnterOrder m = enter();
    m.side = bad;
    expect_reject(translate(m, kSession, kTs), m.token, 'O', std::string("side ") + bad);
  }
}

TEST(OuchTranslateEnterTest, TimeInForceMapsToDayIocOrFok) {
  struct Case {
    std::uint32_t tif;
    std::uint32_t min_qty;
    TimeInForce want;
  };
  for (const Case c : {Case{99998, 0, TimeInForce::Day}, Case{99999, 0, TimeInForce::Day},
                       Case{99999, 1000, TimeInForce::Day}, Case{0, 0, TimeInForce::Ioc},
                       Case{0, 300, TimeInForce::Ioc}, Case{0, 1000, TimeInForce::Fok},
                       Case{0, 2000, TimeInForce::Ioc}}) {
    ouch::EnterOrder m = enter();
    m.tif = c.tif;
    m.min_qty = c.min_qty;
    expect_command(translate(m, kSession, kTs),
                   expect_new(Side::Buy, Qty{1000}, Price{15'000'000}, OrderType::Limit, c.want, Qty{c.min_qty}, false),
                   "tif " + std::to_string(c.tif) + " min " + std::to_string(c.min_qty));
  }
}

TEST(OuchTranslateEnterTest, TimedOrdersAreRefused) {
  for (std::uint32_t tif : {1u, 60u, 3600u, 99997u, 100000u, 0xFFFFFFFFu}) {
    ouch::EnterOrder m = enter();
    m.tif = tif;
    expect_reject(translate(m, kSession, kTs), m.token, 'O', "tif " + std::to_string(tif));
  }
}

TEST(OuchTranslateEnterTest, MarketPriceSelectsBestFiveIocOrToLimit) {
  ouch::EnterOrder m = enter();
  m.price = ouch::kMarketPrice;
  m.tif = 0;
  expect_command(translate(m, kSession, kTs),
                 expect_new(Side::Buy, Qty{1000}, Price{0}, OrderType::MarketBestFiveIoc, TimeInForce::Ioc, Qty{0}, false),
                 "market tif 0");
  m.tif = 99999;
  expect_command(translate(m, kSession, kTs),
                 expect_new(Side::Buy, Qty{1000}, Price{0}, OrderType::MarketBestFiveToLimit, TimeInForce::Day, Qty{0},
                            false),
                 "market day");
  m.tif = 30;
  expect_reject(translate(m, kSession, kTs), m.token, 'O', "market timed");
}

TEST(OuchTranslateEnterTest, PricesOtherThanMarketPassToTheCoreAsGiven) {
  for (std::uint32_t price : {0u, 1u, 0x7FFFFFFEu, 0x80000000u, 0xFFFFFFFFu}) {
    ouch::EnterOrder m = enter();
    m.price = price;
    expect_command(translate(m, kSession, kTs),
                   expect_new(Side::Buy, Qty{1000}, Price{static_cast<std::int64_t>(price)}, OrderType::Limit,
                              TimeInForce::Day, Qty{0}, false),
                   "price " + std::to_string(price));
  }
}

TEST(OuchTranslateEnterTest, DisplayPIsPostOnlyYAndAAreDisplayedOthersAreRefused) {
  for (const auto& [display, post_only] : {std::pair{'P', true}, std::pair{'Y', false}, std::pair{'A', false}}) {
    ouch::EnterOrder m = enter();
    m.display = display;
    expect_command(translate(m, kSession, kTs),
                   expect_new(Side::Buy, Qty{1000}, Price{15'000'000}, OrderType::Limit, TimeInForce::Day, Qty{0},
                              post_only),
                   std::string("display ") + display);
  }
  for (char bad : {'N', 'I', 'M', 'W', 'L', 'O', 'T', 'Q', 'R', ' ', 'p'}) {
    ouch::EnterOrder m = enter();
    m.display = bad;
    expect_reject(translate(m, kSession, kTs), m.token, 'D', std::string("display ") + bad);
  }
}

TEST(OuchTranslateEnterTest, FirmMustBeBlankOrTheSessionsFirm) {
  ouch::EnterOrder m = enter();
  m.firm = FirmName::from("FRMA");
  EXPECT_TRUE(translate(m, kSession, kTs).is_command());
  m.firm = FirmName::from("FRMB");
  expect_reject(translate(m, kSession, kTs), m.token, 'L', "other firm");
  m.firm = FirmName::from("frma");
  expect_reject(translate(m, kSession, kTs), m.token, 'L', "lower case");
}

TEST(OuchTranslateEnterTest, CrossTypeMustBeNoCross) {
  for (char cross : {'O', 'C', 'I', 'H', 'R', 'S', ' '}) {
    ouch::EnterOrder m = enter();
    m.cross_type = cross;
    expect_reject(translate(m, kSession, kTs), m.token, 'R', std::string("cross ") + cross);
  }
}

TEST(OuchTranslateEnterTest, CapacityIsoAndCustomerTypeAreChecked) {
  for (char cap : {'A', 'O', 'P', 'R'}) {
    ouch::EnterOrder m = enter();
    m.capacity = cap;
    EXPECT_TRUE(translate(m, kSession, kTs).is_command()) << cap;
  }
  ouch::EnterOrder m = enter();
  m.capacity = 'X';
  expect_reject(translate(m, kSession, kTs), m.token, 'O', "capacity X");
  m = enter();
  m.iso = 'Y';
  expect_reject(translate(m, kSession, kTs), m.token, 'd', "intermarket sweep");
  m.iso = ' ';
  expect_reject(translate(m, kSession, kTs), m.token, 'O', "iso blank");
  for (char ct : {'R', 'N', ' '}) {
    m = enter();
    m.customer_type = ct;
    EXPECT_TRUE(translate(m, kSession, kTs).is_command()) << ct;
  }
  m = enter();
  m.customer_type = 'Z';
  expect_reject(translate(m, kSession, kTs), m.token, 'O', "customer type");
}

TEST(OuchTranslateEnterTest, TokenMustBePrintable) {
  ouch::EnterOrder m = enter();
  m.token.c[3] = '\x01';
  expect_reject(translate(m, kSession, kTs), m.token, 'O', "control character");
  m.token.c[3] = '\x80';
  expect_reject(translate(m, kSession, kTs), m.token, 'O', "high byte");
}

TEST(OuchTranslateEnterTest, TheFirstFailingCheckDecidesTheReason) {
  ouch::EnterOrder m = enter();
  m.display = 'N';   // 'D'
  m.cross_type = 'O';  // 'R'
  m.firm = FirmName::from("FRMB");  // 'L'
  expect_reject(translate(m, kSession, kTs), m.token, 'D', "display before firm and cross");
  m.display = 'Y';
  expect_reject(translate(m, kSession, kTs), m.token, 'L', "firm before cross");
}

TEST(OuchTranslateEnterTest, QuantityAndSymbolAreTheCoresToCheck) {
  ouch::EnterOrder m = enter();
  m.shares = 0;
  m.stock = Symbol::from("NOPE");
  m.min_qty = 5;
  const InboundTranslation r = translate(m, kSession, kTs);
  ASSERT_TRUE(r.is_command());
  EXPECT_EQ(r.command.new_order.qty, Qty{0});
  EXPECT_EQ(r.command.new_order.symbol, Symbol::from("NOPE"));
  EXPECT_EQ(r.command.new_order.min_qty, Qty{5});
}

// --- Replace and Cancel -----------------------------------------------------------------------

ouch::ReplaceOrder replace() {
  return {Token::from("ORD1"), Token::from("ORD2"), 500, 15'010'000, ouch::kTifSystemHours, 'Y', 'N', 0};
}

TEST(OuchTranslateReplaceTest, ReplaceBecomesAReplaceCommand) {
  expect_command(translate(replace(), kSession, kTs),
                 make_replace(kTs, kSession.owner, Token::from("ORD1"), Token::from("ORD2"), Qty{500},
                              Price{15'010'000}, TimeInForce::Day, false),
                 "replace");
  ouch::ReplaceOrder m = replace();
  m.display = 'P';
  m.tif = ouch::kTifMarketHours;
  expect_command(translate(m, kSession, kTs),
                 make_replace(kTs, kSession.owner, Token::from("ORD1"), Token::from("ORD2"), Qty{500},
                              Price{15'010'000}, TimeInForce::Day, true),
                 "post-only replace");
  m.tif = 0;
  expect_command(translate(m, kSession, kTs),
                 make_replace(kTs, kSession.owner, Token::from("ORD1"), Token::from("ORD2"), Qty{500},
                              Price{15'010'000}, TimeInForce::Ioc, true),
                 "IOC replace goes to the core, which refuses it");
}

TEST(OuchTranslateReplaceTest, EdgeRefusalsCarryTheReplacementToken) {
  ouch::ReplaceOrder m = replace();
  m.min_qty = 100;
  expect_reject(translate(m, kSession, kTs), Token::from("ORD2"), 'N', "min qty");
  m = replace();
  m.price = ouch::kMarketPrice;
  expect_reject(translate(m, kSession, kTs), Token::from("ORD2"), 'X', "market price");
  m = replace();
  m.tif = 60;
  expect_reject(translate(m, kSession, kTs), Token::from("ORD2"), 'O', "timed");
  m = replace();
  m.display = 'N';
  expect_reject(translate(m, kSession, kTs), Token::from("ORD2"), 'D', "display");
  m = replace();
  m.iso = 'Y';
  expect_reject(translate(m, kSession, kTs), Token::from("ORD2"), 'd', "iso");
  m = replace();
  m.replacement.c[0] = '\x7f';
  expect_reject(translate(m, kSession, kTs), m.replacement, 'O', "token");
}

TEST(OuchTranslateCancelTest, CancelBecomesACancelCommandWithTheTargetQuantity) {
  expect_command(translate(ouch::CancelOrder{Token::from("ORD1"), 300}, kSession, kTs),
                 make_cancel(kTs, kSession.owner, Token::from("ORD1"), Qty{300}), "cancel");
  ouch::Inbound in{};
  in.type = ouch::InboundType::CancelOrder;
  in.cancel = {Token::from("ORD9"), 0};
  expect_command(translate(in, kSession, kTs), make_cancel(kTs, kSession.owner, Token::from("ORD9"), Qty{0}),
                 "dispatch");
}

// --- events to OUCH ---------------------------------------------------------------------------

class OuchOutboundTest : public ::testing::Test {
 protected:
  EngineConfig cfg_ = test_config();
  ConfigLookup ref_{cfg_};

  static Event order_event(EventType t) {
    Event e = Event::make(t, Timestamp{kTs.value() + 5});
    e.owner = OwnerId{7};
    e.firm = FirmId{0};
    e.instrument = InstrumentId{1};
    e.side = Side::Buy;
    e.token = Token::from("ORD1");
    return e;
  }
  ouch::Outbound out(const Event& e) {
    ouch::Outbound o{};
    EXPECT_TRUE(to_ouch(e, ref_, o));
    return o;
  }
};

TEST_F(OuchOutboundTest, AcceptedLimitOrderEchoesTheOrder) {
  Event e = order_event(EventType::Accepted);
  e.order_type = OrderType::Limit;
  e.tif = TimeInForce::Day;
  e.order_id = OrderId{5};
  e.price = Price{15'000'000};
  e.qty = e.leaves = Qty{1000};
  const ouch::Outbound o = out(e);
  ASSERT_EQ(o.type, ouch::OutboundType::Accepted);
  const ouch::Accepted want{kTs.value() + 5, Token::from("ORD1"), 'B', 1000, Symbol::from("600519"), 15'000'000,
                            99998, FirmName::from("FRMA"), 'Y', 5, 'A', 'N', 0, 'N', 'L', ' '};
  EXPECT_EQ(o.accepted, want);
}

TEST_F(OuchOutboundTest, AcceptedMarketOrderReportsTheMarketPriceAndImmediateTif) {
  Event e = order_event(EventType::Accepted);
  e.order_type = OrderType::MarketBestFiveIoc;
  e.tif = TimeInForce::Ioc;
  e.price = Price{0};
  e.qty = e.leaves = Qty{300};
  ouch::Outbound o = out(e);
  EXPECT_EQ(o.accepted.price, ouch::kMarketPrice);
  EXPECT_EQ(o.accepted.tif, 0u);
  e.order_type = OrderType::MarketBestFiveToLimit;
  e.tif = TimeInForce::Day;
  o = out(e);
  EXPECT_EQ(o.accepted.price, ouch::kMarketPrice);
  EXPECT_EQ(o.accepted.tif, 99998u);
}

TEST_F(OuchOutboundTest, AcceptedFokReportsTifZeroAndItsMinimum) {
  Event e = order_event(EventType::Accepted);
  e.order_type = OrderType::Limit;
  e.tif = TimeInForce::Fok;
  e.price = Price{100};
  e.qty = e.leaves = e.min_qty = Qty{400};
  const ouch::Outbound o = out(e);
  EXPECT_EQ(o.accepted.tif, 0u);
  EXPECT_EQ(o.accepted.min_qty, 400u);
}

TEST_F(OuchOutboundTest, DisplayIsPForPostOnlyAndAForAttributedFirms) {
  Event e = order_event(EventType::Accepted);
  e.post_only = 1;
  EXPECT_EQ(out(e).accepted.display, 'P');
  e.post_only = 0;
  EXPECT_EQ(out(e).accepted.display, 'Y');
  ref_.set_attributed(FirmId{0}, true);
  EXPECT_EQ(out(e).accepted.display, 'A');
  e.post_only = 1;
  EXPECT_EQ(out(e).accepted.display, 'P');
}

TEST_F(OuchOutboundTest, ReplacedCarriesTheNewAndPreviousTokens) {
  Event e = order_event(EventType::Replaced);
  e.token = Token::from("ORD2");
  e.token2 = Token::from("ORD1");
  e.side = Side::Sell;
  e.order_type = OrderType::Limit;
  e.tif = TimeInForce::Day;
  e.order_id = OrderId{9};
  e.ref = 5;
  e.price = Price{15'010'000};
  e.qty = e.leaves = Qty{500};
  const ouch::Outbound o = out(e);
  ASSERT_EQ(o.type, ouch::OutboundType::Replaced);
  const ouch::Replaced want{kTs.value() + 5, Token::from("ORD2"), 'S', 500, Symbol::from("600519"), 15'010'000,
                            99998, FirmName::from("FRMA"), 'Y', 9, 'A', 'N', 0, 'N', 'L', Token::from("ORD1"), ' '};
  EXPECT_EQ(o.replaced, want);
}

TEST_F(OuchOutboundTest, RejectedMapsEveryRejectCode) {
  for (RejectCode c : {RejectCode::UnknownSymbol, RejectCode::UnknownFirm, RejectCode::InvalidSide,
                       RejectCode::InvalidOrderType, RejectCode::InvalidQuantity, RejectCode::QuantityAboveMax,
                       RejectCode::InvalidLot, RejectCode::InvalidMinQty, RejectCode::InvalidPrice,
                       RejectCode::PriceOutsideLimits, RejectCode::PriceOutsideCage, RejectCode::PostOnlyWouldCross,
                       RejectCode::Halted, RejectCode::KillSwitch, RejectCode::FirmQuantityAboveMax,
                       RejectCode::FirmNotional, RejectCode::FirmOpenShares, RejectCode::DuplicateToken,
                       RejectCode::UnknownOrder, RejectCode::OrderPoolFull, RejectCode::TokenTableFull}) {
    Event e = order_event(EventType::Rejected);
    e.code = static_cast<std::uint8_t>(c);
    const ouch::Outbound o = out(e);
    ASSERT_EQ(o.type, ouch::OutboundType::Rejected);
    EXPECT_EQ(o.rejected, (ouch::Rejected{kTs.value() + 5, Token::from("ORD1"), to_ouch_reject_reason(c)}))
        << to_string(c);
  }
}

TEST_F(OuchOutboundTest, AGatewayRejectCarriesTheEdgesOwnReasonFromRef) {
  // The EdgeReject command's answer: code Gateway, ref = the reason the edge chose; firm and
  // instrument are 0 (the core does not resolve them).
  for (char reason : {ouch::reject::kOther, 'L', 'D', 'N', 'X', 'd'}) {
    Event e = Event::make(EventType::Rejected, Timestamp{kTs.value() + 7});
    e.owner = OwnerId{1};
    e.token = Token::from("EDGE1");
    e.code = static_cast<std::uint8_t>(RejectCode::Gateway);
    e.ref = static_cast<std::uint8_t>(reason);
    const ouch::Outbound o = out(e);
    ASSERT_EQ(o.type, ouch::OutboundType::Rejected);
    EXPECT_EQ(o.rejected, (ouch::Rejected{kTs.value() + 7, Token::from("EDGE1"), reason})) << reason;
  }
}

TEST_F(OuchOutboundTest, AnEdgeRejectOfTheCoreBecomesTheRejectedTheEdgeWouldHaveSent) {
  // Round trip: what translate() refuses, sent through a real Engine as make_edge_reject(), comes
  // back as the same OUCH Rejected, byte for byte.
  ouch::EnterOrder m = ouch::plain_enter_order(Token::from("RT1"), 'B', 100, Symbol::from("600519"), 1'500'000,
                                               ouch::kTifMarketHours, FirmName::from("OTHR"));
  const OuchSession session{OwnerId{1}, FirmId{0}, FirmName::from("FRMA")};
  const InboundTranslation t = translate(m, session, kTs);
  ASSERT_FALSE(t.is_command());
  Engine engine(cfg_);
  std::vector<Event> events;
  std::array<Event, 4> buf{};
  EventSink sink(buf.data(), buf.size(), [](void* ctx, const Event* ev, std::size_t n) noexcept {
    static_cast<std::vector<Event>*>(ctx)->insert(static_cast<std::vector<Event>*>(ctx)->end(), ev, ev + n);
  }, &events);
  engine.process(make_edge_reject(kTs, session.owner, t.reject.token, static_cast<std::uint8_t>(t.reject.reason)),
                 sink);
  sink.flush();
  ASSERT_EQ(events.size(), 1u);
  const ouch::Outbound o = out(events[0]);
  ASSERT_EQ(o.type, ouch::OutboundType::Rejected);
  EXPECT_EQ(o.rejected, t.reject);
}

TEST_F(OuchOutboundTest, ExecutedCarriesLiquidityAndMatchNumber) {
  Event e = order_event(EventType::Executed);
  e.price = Price{15'000'000};
  e.qty = Qty{200};
  e.leaves = Qty{800};
  e.ref = 42;
  e.code = static_cast<std::uint8_t>(Liquidity::Removed);
  const ouch::Outbound o = out(e);
  ASSERT_EQ(o.type, ouch::OutboundType::Executed);
  EXPECT_EQ(o.executed, (ouch::Executed{kTs.value() + 5, Token::from("ORD1"), 200, 15'000'000, 'R', 42}));
  e.code = static_cast<std::uint8_t>(Liquidity::Added);
  EXPECT_EQ(out(e).executed.liquidity, 'A');
}

TEST_F(OuchOutboundTest, CanceledMapsEveryCancelReason) {
  for (CancelReason r : {CancelReason::UserRequested, CancelReason::Immediate, CancelReason::SelfMatch,
                         CancelReason::Supervisory, CancelReason::Halted, CancelReason::Disconnected,
                         CancelReason::System}) {
    Event e = order_event(EventType::Canceled);
    e.qty = Qty{300};
    e.leaves = Qty{0};
    e.code = static_cast<std::uint8_t>(r);
    const ouch::Outbound o = out(e);
    ASSERT_EQ(o.type, ouch::OutboundType::Canceled);
    EXPECT_EQ(o.canceled, (ouch::Canceled{kTs.value() + 5, Token::from("ORD1"), 300, to_ouch_cancel_reason(r)}))
        << to_string(r);
  }
}

TEST_F(OuchOutboundTest, CancelRejectedBecomesCancelReject) {
  Event e = Event::make(EventType::CancelRejected, kTs);
  e.owner = OwnerId{7};
  e.code = static_cast<std::uint8_t>(RejectCode::UnknownOrder);
  e.token = Token::from("GONE");
  const ouch::Outbound o = out(e);
  ASSERT_EQ(o.type, ouch::OutboundType::CancelReject);
  EXPECT_EQ(o.cancel_reject, (ouch::CancelReject{kTs.value(), Token::from("GONE")}));
}

TEST_F(OuchOutboundTest, AdminRefusalsAndBookEventsSendNoOuch) {
  ouch::Outbound o{};
  o.type = ouch::OutboundType::SystemEvent;
  o.system_event = {1, 'S'};
  const ouch::Outbound before = o;
  EXPECT_FALSE(to_ouch(Event::make(EventType::CancelRejected, kTs), ref_, o));  // owner 0
  EXPECT_FALSE(to_ouch(Event::make(EventType::Rejected, kTs), ref_, o));        // owner 0
  for (EventType t : {EventType::BookAdd, EventType::BookExecute, EventType::BookCancel, EventType::BookDelete,
                      EventType::BookReplace, EventType::TradingStatusChanged, EventType::KillSwitchChanged,
                      EventType::CrossTrade, EventType::Indicative}) {
    EXPECT_FALSE(to_ouch(order_event(t), ref_, o)) << static_cast<int>(t);
  }
  EXPECT_EQ(o.type, before.type);
  EXPECT_EQ(o.system_event, before.system_event);
}

// --- events to ITCH ---------------------------------------------------------------------------

class ItchOutboundTest : public OuchOutboundTest {
 protected:
  static Event book_event(EventType t) {
    Event e = Event::make(t, kTs);
    e.instrument = InstrumentId{2};
    e.side = Side::Sell;
    e.order_id = OrderId{11};
    return e;
  }
  itch::Message out(const Event& e) {
    itch::Message m{};
    EXPECT_TRUE(to_itch(e, ref_, m));
    return m;
  }
  static constexpr itch::Header kHeader{2, 0, kTs.value()};
};

TEST_F(ItchOutboundTest, BookAddIsAddOrderWithoutAttribution) {
  Event e = book_event(EventType::BookAdd);
  e.price = Price{1'230'000};
  e.qty = Qty{400};
  e.firm = FirmId{1};
  const itch::Message m = out(e);
  ASSERT_EQ(m.type, itch::MessageType::AddOrder);
  EXPECT_EQ(m.add, (itch::AddOrder{kHeader, 11, 'S', 400, Symbol::from("688001"), 1'230'000, FirmName::from("")}));
}

TEST_F(ItchOutboundTest, BookAddOfAnAttributedFirmIsAddOrderWithMpid) {
  ref_.set_attributed(FirmId{1}, true);
  Event e = book_event(EventType::BookAdd);
  e.price = Price{1'230'000};
  e.qty = Qty{400};
  e.firm = FirmId{1};
  const itch::Message m = out(e);
  ASSERT_EQ(m.type, itch::MessageType::AddOrderMpid);
  EXPECT_EQ(m.add.attribution, FirmName::from("FRMB"));
}

TEST_F(ItchOutboundTest, ExecuteCancelDeleteAndReplaceMapFieldForField) {
  Event e = book_event(EventType::BookExecute);
  e.qty = Qty{100};
  e.leaves = Qty{300};
  e.ref = 3;
  itch::Message m = out(e);
  ASSERT_EQ(m.type, itch::MessageType::OrderExecuted);
  EXPECT_EQ(m.executed, (itch::OrderExecuted{kHeader, 11, 100, 3}));

  e = book_event(EventType::BookCancel);
  e.qty = Qty{50};
  e.leaves = Qty{250};
  m = out(e);
  ASSERT_EQ(m.type, itch::MessageType::OrderCancel);
  EXPECT_EQ(m.cancel, (itch::OrderCancel{kHeader, 11, 50}));

  m = out(book_event(EventType::BookDelete));
  ASSERT_EQ(m.type, itch::MessageType::OrderDelete);
  EXPECT_EQ(m.del, (itch::OrderDelete{kHeader, 11}));

  e = book_event(EventType::BookReplace);
  e.order_id = OrderId{12};
  e.ref = 11;
  e.price = Price{1'240'000};
  e.qty = Qty{600};
  m = out(e);
  ASSERT_EQ(m.type, itch::MessageType::OrderReplace);
  EXPECT_EQ(m.replace, (itch::OrderReplace{kHeader, 11, 12, 600, 1'240'000}));
}

TEST_F(ItchOutboundTest, TradingStatusChangedIsStockTradingAction) {
  // Trading state and reason per phase, as docs/protocol.md tabulates them.
  const struct {
    TradingStatus status;
    char state;
    const char* reason;
  } cases[] = {
      {TradingStatus::Trading, 'T', ""},          {TradingStatus::Halted, 'H', "HALT"},
      {TradingStatus::Suspended, 'H', "SUSP"},    {TradingStatus::Closed, 'P', "CLSD"},
      {TradingStatus::OpeningCall, 'Q', "OCAL"},  {TradingStatus::OpeningCallFrozen, 'Q', "OCFZ"},
      {TradingStatus::Break, 'P', "BRK"},         {TradingStatus::ClosingCall, 'Q', "CCAL"},
      {TradingStatus::ResumeCall, 'Q', "RCAL"},
  };
  ASSERT_EQ(std::size(cases), kTradingStatusNames.size());
  Event e = book_event(EventType::TradingStatusChanged);
  for (const auto& c : cases) {
    e.code = static_cast<std::uint8_t>(c.status);
    const itch::Message m = out(e);
    ASSERT_EQ(m.type, itch::MessageType::StockTradingAction);
    EXPECT_EQ(m.trading_action, (itch::StockTradingAction{kHeader, Symbol::from("688001"), c.state, ' ',
                                                          Alpha<4>::from(c.reason)}))
        << to_string(c.status);
  }
}

TEST_F(ItchOutboundTest, AnUncrossExecutionIsExecutedWithPriceNotPrintable) {
  Event e = book_event(EventType::BookExecute);
  e.price = Price{1'230'000};
  e.qty = Qty{300};
  e.leaves = Qty{100};
  e.ref = 41;
  e.code = 1;
  const itch::Message m = out(e);
  ASSERT_EQ(m.type, itch::MessageType::OrderExecutedWithPrice);
  EXPECT_EQ(m.executed_with_price, (itch::OrderExecutedWithPrice{kHeader, 11, 300, 41, 'N', 1'230'000}));
}

TEST_F(ItchOutboundTest, CrossTradeIsItchCrossTradeWithItsSixtyFourBitShares) {
  Event e = Event::make(EventType::CrossTrade, kTs);
  e.instrument = InstrumentId{2};
  e.price = Price{1'230'000};
  e.order_id = OrderId{5'000'000'000ull};
  e.ref = 42;
  e.code = static_cast<std::uint8_t>(CrossType::Closing);
  const itch::Message m = out(e);
  ASSERT_EQ(m.type, itch::MessageType::CrossTrade);
  EXPECT_EQ(m.cross, (itch::CrossTrade{kHeader, 5'000'000'000ull, Symbol::from("688001"), 1'230'000, 42, 'C'}));
}

TEST_F(ItchOutboundTest, IndicativeIsNoiiWithDirectionAndPriceVariation) {
  // The fixture gives 688001 the reference price 1500.00: read it rather than assume it.
  const Price ref_price = ref_.reference_price(InstrumentId{2});
  ASSERT_GT(ref_price.value(), 0);
  Event e = Event::make(EventType::Indicative, kTs);
  e.instrument = InstrumentId{2};
  e.price = Price{ref_price.value() + ref_price.value() * 12 / 100};  // 12 % above: 'A'
  e.ref = 900;                                                        // paired
  e.order_id = OrderId{300};                                          // imbalance
  e.side = Side::Buy;
  e.code = static_cast<std::uint8_t>(CrossType::Opening);
  itch::Message m = out(e);
  ASSERT_EQ(m.type, itch::MessageType::Noii);
  const std::uint32_t wp = static_cast<std::uint32_t>(e.price.value());
  EXPECT_EQ(m.noii, (itch::Noii{kHeader, 900, 300, 'B', Symbol::from("688001"), wp, wp, wp, 'O', 'A'}));
  e.order_id = OrderId{0};  // balanced
  EXPECT_EQ(out(e).noii.imbalance_direction, 'N');
  e.price = Price{0};  // no cross
  e.ref = 0;
  m = out(e);
  EXPECT_EQ(m.noii.imbalance_direction, 'O');
  EXPECT_EQ(m.noii.price_variation, ' ');
}

TEST(PriceVariationTest, FollowsItchBuckets) {
  const Price ref{100'0000};
  EXPECT_EQ(price_variation(Price{100'0000}, ref), 'L');
  EXPECT_EQ(price_variation(Price{100'9999}, ref), 'L');
  EXPECT_EQ(price_variation(Price{101'0000}, ref), '1');
  EXPECT_EQ(price_variation(Price{99'0000}, ref), '1');
  EXPECT_EQ(price_variation(Price{109'9999}, ref), '9');
  EXPECT_EQ(price_variation(Price{110'0000}, ref), 'A');
  EXPECT_EQ(price_variation(Price{80'0000}, ref), 'B');
  EXPECT_EQ(price_variation(Price{130'0000}, ref), 'C');
  EXPECT_EQ(price_variation(Price{0}, ref), ' ');
  EXPECT_EQ(price_variation(ref, Price{0}), ' ');
}

TEST_F(ItchOutboundTest, OrderEventsPublishNothing) {
  itch::Message m{};
  for (EventType t : {EventType::Accepted, EventType::Rejected, EventType::Executed, EventType::Canceled,
                      EventType::Replaced, EventType::CancelRejected, EventType::KillSwitchChanged}) {
    EXPECT_FALSE(to_itch(book_event(t), ref_, m)) << static_cast<int>(t);
  }
}

TEST_F(ItchOutboundTest, TimestampsAreCutTo48Bits) {
  Event e = book_event(EventType::BookDelete);
  e.ts = Timestamp{(1ull << 48) + 5};
  EXPECT_EQ(out(e).del.h.timestamp, 5u);
}

TEST(ConfigLookupTest, UnknownIdsGiveSpaces) {
  const EngineConfig cfg = test_config();
  ConfigLookup ref(cfg);
  EXPECT_EQ(ref.symbol(InstrumentId{1}), Symbol::from("600519"));
  EXPECT_EQ(ref.symbol(InstrumentId{2}), Symbol::from("688001"));
  EXPECT_EQ(ref.symbol(InstrumentId{0}), Symbol::from(""));
  EXPECT_EQ(ref.symbol(InstrumentId{3}), Symbol::from(""));
  EXPECT_EQ(ref.firm_name(FirmId{1}), FirmName::from("FRMB"));
  EXPECT_EQ(ref.firm_name(FirmId{2}), FirmName::from(""));
  EXPECT_FALSE(ref.attributed(FirmId{0}));
  ref.set_attributed(FirmId{5}, true);  // ignored
  EXPECT_FALSE(ref.attributed(FirmId{5}));
}

TEST(StockDirectoryTest, DescribesTheInstrumentsLotRules) {
  const EngineConfig cfg = test_config();
  itch::StockDirectory d = make_stock_directory(InstrumentId{1}, cfg.instruments[0], kTs);
  EXPECT_EQ(d.h, (itch::Header{1, 0, kTs.value()}));
  EXPECT_EQ(d.stock, Symbol::from("600519"));
  EXPECT_EQ(d.round_lot_size, 100u);
  EXPECT_EQ(d.round_lots_only, 'N');
  d = make_stock_directory(InstrumentId{2}, cfg.instruments[1], kTs);
  EXPECT_EQ(d.round_lot_size, 1u);
  EXPECT_EQ(d.round_lots_only, 'Y');
}

// --- end to end through the engine ------------------------------------------------------------

/// Bytes in, engine, bytes out: what a gateway does, minus the sockets.
class OuchEngineTest : public ::testing::Test {
 protected:
  EngineConfig cfg_ = test_config();
  Engine engine_{cfg_};
  ConfigLookup ref_{cfg_};
  std::vector<Event> events_;

  struct Out {
    OwnerId owner;
    ouch::Outbound msg;
  };

  /// Decodes `wire` as an inbound OUCH message from `s`, runs it, and returns the OUCH messages
  /// (decoded back from their bytes) and the ITCH messages it produced.
  std::pair<std::vector<Out>, std::vector<itch::Message>> send(const Bytes& wire, const OuchSession& s,
                                                                Timestamp ts) {
    ouch::Inbound in{};
    EXPECT_EQ(ouch::decode_inbound(wire, in), ouch::Status::Ok);
    const InboundTranslation t = translate(in, s, ts);
    std::vector<Out> ouch_out;
    std::vector<itch::Message> itch_out;
    if (!t.is_command()) {
      ouch::Outbound o{};
      o.type = ouch::OutboundType::Rejected;
      o.rejected = t.reject;
      ouch_out.push_back({s.owner, o});
      return {ouch_out, itch_out};
    }
    events_.clear();
    Event buf[4];
    EventSink sink(buf, 4, &OuchEngineTest::collect, this);
    engine_.process(t.command, sink);
    sink.flush();
    for (const Event& e : events_) {
      ouch::Outbound o{};
      if (to_ouch(e, ref_, o)) {
        const Bytes b = encoded([&](auto out) { return ouch::encode(o, out); });
        ouch::Outbound back{};
        EXPECT_EQ(ouch::decode_outbound(b, back), ouch::Status::Ok);
        ouch_out.push_back({e.owner, back});
      }
      itch::Message m{};
      if (to_itch(e, ref_, m)) {
        const Bytes b = encoded([&](auto out) { return itch::encode(m, out); });
        itch::Message back{};
        EXPECT_EQ(itch::decode(b, back), itch::Status::Ok);
        itch_out.push_back(back);
      }
    }
    return {ouch_out, itch_out};
  }

  static void collect(void* ctx, const Event* e, std::size_t n) noexcept {
    auto* self = static_cast<OuchEngineTest*>(ctx);
    self->events_.insert(self->events_.end(), e, e + n);
  }
};

TEST_F(OuchEngineTest, ARestingSellAndACrossingBuyProduceTheExpectedOuchAndItch) {
  const OuchSession seller{OwnerId{1}, FirmId{0}, FirmName::from("FRMA")};
  const OuchSession buyer{OwnerId{2}, FirmId{1}, FirmName::from("FRMB")};

  ouch::EnterOrder sell = enter();
  sell.token = Token::from("S1");
  sell.side = 'S';
  sell.firm = FirmName::from("FRMA");
  auto [o1, i1] = send(encoded([&](auto out) { return ouch::encode(sell, out); }), seller, Timestamp{100});
  ASSERT_EQ(o1.size(), 1u);
  EXPECT_EQ(o1[0].msg.type, ouch::OutboundType::Accepted);
  EXPECT_EQ(o1[0].msg.accepted.order_ref, 1u);
  EXPECT_EQ(o1[0].msg.accepted.firm, FirmName::from("FRMA"));
  ASSERT_EQ(i1.size(), 1u);
  EXPECT_EQ(i1[0].type, itch::MessageType::AddOrder);
  EXPECT_EQ(i1[0].add.shares, 1000u);

  ouch::EnterOrder buy = enter();
  buy.token = Token::from("B1");
  buy.shares = 600;
  buy.tif = 0;
  auto [o2, i2] = send(encoded([&](auto out) { return ouch::encode(buy, out); }), buyer, Timestamp{200});
  ASSERT_EQ(o2.size(), 3u);
  EXPECT_EQ(o2[0].owner, OwnerId{2});
  EXPECT_EQ(o2[0].msg.type, ouch::OutboundType::Accepted);
  EXPECT_EQ(o2[0].msg.accepted.tif, 0u);
  EXPECT_EQ(o2[1].owner, OwnerId{1});
  EXPECT_EQ(o2[1].msg.executed, (ouch::Executed{200, Token::from("S1"), 600, 15'000'000, 'A', 1}));
  EXPECT_EQ(o2[2].owner, OwnerId{2});
  EXPECT_EQ(o2[2].msg.executed, (ouch::Executed{200, Token::from("B1"), 600, 15'000'000, 'R', 1}));
  ASSERT_EQ(i2.size(), 1u);
  EXPECT_EQ(i2[0].executed, (itch::OrderExecuted{{1, 0, 200}, 1, 600, 1}));

  // Reduce the rest to 100, then a cancel of an unknown token, then an edge refusal.
  auto [o3, i3] = send(encoded([](auto out) { return ouch::encode(ouch::CancelOrder{Token::from("S1"), 100}, out); }),
                       seller, Timestamp{300});
  ASSERT_EQ(o3.size(), 1u);
  EXPECT_EQ(o3[0].msg.canceled, (ouch::Canceled{300, Token::from("S1"), 300, 'U'}));
  ASSERT_EQ(i3.size(), 1u);
  EXPECT_EQ(i3[0].cancel, (itch::OrderCancel{{1, 0, 300}, 1, 300}));

  auto [o4, i4] = send(encoded([](auto out) { return ouch::encode(ouch::CancelOrder{Token::from("XX"), 0}, out); }),
                       seller, Timestamp{400});
  ASSERT_EQ(o4.size(), 1u);
  EXPECT_EQ(o4[0].msg.type, ouch::OutboundType::CancelReject);
  EXPECT_TRUE(i4.empty());

  ouch::EnterOrder bad = enter();
  bad.token = Token::from("B2");
  bad.display = 'N';
  auto [o5, i5] = send(encoded([&](auto out) { return ouch::encode(bad, out); }), buyer, Timestamp{500});
  ASSERT_EQ(o5.size(), 1u);
  EXPECT_EQ(o5[0].msg.rejected, (ouch::Rejected{500, Token::from("B2"), 'D'}));
}

TEST_F(OuchEngineTest, CoreRefusalsComeBackAsOuchRejectReasons) {
  const OuchSession s{OwnerId{1}, FirmId{0}, FirmName::from("FRMA")};
  ouch::EnterOrder m = enter();
  m.stock = Symbol::from("999999");
  auto [o1, i1] = send(encoded([&](auto out) { return ouch::encode(m, out); }), s, Timestamp{1});
  ASSERT_EQ(o1.size(), 1u);
  EXPECT_EQ(o1[0].msg.rejected.reason, 'S');
  m = enter();
  m.token = Token::from("LOT");
  m.shares = 150;  // not a board lot
  auto [o2, i2] = send(encoded([&](auto out) { return ouch::encode(m, out); }), s, Timestamp{2});
  ASSERT_EQ(o2.size(), 1u);
  EXPECT_EQ(o2[0].msg.rejected.reason, 'e');
  m = enter();
  m.token = Token::from("MKT");
  m.price = ouch::kMarketPrice;
  m.tif = 0;  // best five IOC into an empty book: accepted, then cancelled in full
  auto [o3, i3] = send(encoded([&](auto out) { return ouch::encode(m, out); }), s, Timestamp{3});
  ASSERT_EQ(o3.size(), 2u);
  EXPECT_EQ(o3[0].msg.accepted.price, ouch::kMarketPrice);
  EXPECT_EQ(o3[1].msg.canceled, (ouch::Canceled{3, Token::from("MKT"), 1000, 'I'}));
  EXPECT_TRUE(i3.empty());
}

}  // namespace
}  // namespace peregrine::proto
