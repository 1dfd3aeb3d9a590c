// Cancel and replace (docs/market-rules.md "Cancel and replace").

#include "unit/core/engine_fixture.hpp"

namespace peregrine::test {
namespace {

class CancelTest : public EngineTest {};
class ReplaceTest : public EngineTest {};

// ---- cancel ------------------------------------------------------------------------------------

TEST_F(CancelTest, CancelWithTargetZeroRemovesTheWholeOrder) {
  const Ord s1 = seller(kBob, kFirmB, 1, "S1");
  run(limit(s1, 300, px(10'00)));
  Events ev = run(cancel(s1));
  EXPECT_EVENTS(ev, seq(canceled(s1, 300, 0, CancelReason::UserRequested), book_delete(s1)));
  EXPECT_TRUE(levels(kMain, Side::Sell).empty());
  EXPECT_EQ(engine().firm_open_shares(kFirmB), 0u);
  EXPECT_EQ(engine().stats().live_orders, 0u);

  ev = run(cancel(s1));
  EXPECT_EVENTS(ev, seq(cancel_rejected(s1, RejectCode::UnknownOrder, 0)));
}

TEST_F(CancelTest, ReduceKeepsTimePriority) {
  const Ord s1 = seller(kBob, kFirmB, 1, "S1");
  const Ord s2 = seller(kBob, kFirmB, 2, "S2");
  const Ord b1 = buyer(kAlice, kFirmA, 3, "B1");
  run(limit(s1, 300, px(10'00)));
  run(limit(s2, 200, px(10'00)));
  Events ev = run(cancel(s1, 100));
  EXPECT_EVENTS(ev, seq(canceled(s1, 200, 100, CancelReason::UserRequested), book_cancel(s1, 200, 100)));
  EXPECT_EQ(levels(kMain, Side::Sell), (Levels{{px(10'00), 300, 2}}));
  EXPECT_EQ(engine().firm_open_shares(kFirmB), 300u);

  // s1 was entered first and is still first in the queue.
  ev = run(limit(b1, 200, px(10'00)));
  EXPECT_EVENTS(ev, seq(accepted(b1, px(10'00), 200),
                        trade(s1, b1, px(10'00), 100, 0, 100, 1),
                        trade(s2, b1, px(10'00), 100, 100, 0, 2)));
}

TEST_F(CancelTest, CancelOfAnUnknownTokenIsRejectedWithTheRequestedTarget) {
  const Ord s1 = seller(kBob, kFirmB, 1, "S1");
  run(limit(s1, 300, px(10'00)));
  const Ord nope = seller(kBob, kFirmB, 0, "NOPE");
  Events ev = run(cancel(nope));
  EXPECT_EVENTS(ev, seq(cancel_rejected(nope, RejectCode::UnknownOrder, 0)));
  ev = run(cancel(nope, 100));
  EXPECT_EVENTS(ev, seq(cancel_rejected(nope, RejectCode::UnknownOrder, 100)));
  EXPECT_EQ(levels(kMain, Side::Sell), (Levels{{px(10'00), 300, 1}}));
}

TEST_F(CancelTest, AnotherOwnerCannotCancelAnOrderWithTheSameToken) {
  const Ord s1 = seller(kBob, kFirmB, 1, "S1");
  run(limit(s1, 300, px(10'00)));
  const Ord alice = seller(kAlice, kFirmB, 0, "S1");
  const Events ev = run(cancel(alice));
  EXPECT_EVENTS(ev, seq(cancel_rejected(alice, RejectCode::UnknownOrder, 0)));
  EXPECT_EQ(levels(kMain, Side::Sell), (Levels{{px(10'00), 300, 1}}));
}

TEST_F(CancelTest, CancelTargetAtOrAboveTheOpenQuantityIsRejected) {
  const Ord s1 = seller(kBob, kFirmB, 1, "S1");
  const Ord b1 = buyer(kAlice, kFirmA, 2, "B1");
  run(limit(s1, 300, px(10'00)));
  Events ev = run(cancel(s1, 300));
  EXPECT_EVENTS(ev, seq(cancel_rejected(s1, RejectCode::NothingToCancel, 300)));
  ev = run(cancel(s1, 400));
  EXPECT_EVENTS(ev, seq(cancel_rejected(s1, RejectCode::NothingToCancel, 400)));

  // After a fill of 100 the open quantity is 200: that is what the target is compared with.
  run(limit(b1, 100, px(10'00)));
  ev = run(cancel(s1, 200));
  EXPECT_EVENTS(ev, seq(cancel_rejected(s1, RejectCode::NothingToCancel, 200)));
  ev = run(cancel(s1, 150));
  EXPECT_EVENTS(ev, seq(canceled(s1, 50, 150, CancelReason::UserRequested), book_cancel(s1, 50, 150)));
  ev = run(cancel(s1));
  EXPECT_EVENTS(ev, seq(canceled(s1, 150, 0, CancelReason::UserRequested), book_delete(s1)));
}

TEST_F(CancelTest, CancelIsAllowedWhileTheInstrumentIsHalted) {
  const Ord b1 = buyer(kAlice, kFirmA, 1, "B1");
  run(limit(b1, 500, px(9'90)));
  run(halt(kMain));
  Events ev = run(cancel(b1, 200));
  EXPECT_EVENTS(ev, seq(canceled(b1, 300, 200, CancelReason::UserRequested), book_cancel(b1, 300, 200)));
  ev = run(cancel(b1));
  EXPECT_EVENTS(ev, seq(canceled(b1, 200, 0, CancelReason::UserRequested), book_delete(b1)));
}

TEST_F(CancelTest, CancelReleasesFirmOpenShares) {
  const Ord b1 = buyer(kAlice, kFirmA, 1, "B1");
  const Ord b2 = buyer(kCarol, kFirmA, 2, "B2");
  run(limit(b1, 500, px(9'90)));
  run(limit(b2, 300, px(9'80)));
  EXPECT_EQ(engine().firm_open_shares(kFirmA), 800u);
  run(cancel(b1, 100));
  EXPECT_EQ(engine().firm_open_shares(kFirmA), 400u);
  run(cancel(b2));
  EXPECT_EQ(engine().firm_open_shares(kFirmA), 100u);
}

// ---- replace -----------------------------------------------------------------------------------

TEST_F(ReplaceTest, SamePriceWithLessQtyKeepsPriorityAndOrderId) {
  const Ord s1 = seller(kBob, kFirmB, 1, "S1");
  const Ord s2 = seller(kBob, kFirmB, 2, "S2");
  const Ord s1b = s1.as(1, "S1b");
  const Ord b1 = buyer(kAlice, kFirmA, 3, "B1");
  run(limit(s1, 300, px(10'00)));
  run(limit(s2, 200, px(10'00)));
  Events ev = run(replace(s1, s1b, 200, px(10'00)));
  EXPECT_EVENTS(ev, seq(replaced(s1b, s1, px(10'00), 200), book_cancel(s1b, 100, 200)));
  EXPECT_EQ(levels(kMain, Side::Sell), (Levels{{px(10'00), 400, 2}}));
  EXPECT_EQ(engine().firm_open_shares(kFirmB), 400u);

  // Still first in the queue, under its new token; the next order still gets id 3.
  ev = run(limit(b1, 300, px(10'00)));
  EXPECT_EVENTS(ev, seq(accepted(b1, px(10'00), 300),
                        trade(s1b, b1, px(10'00), 200, 0, 100, 1),
                        trade(s2, b1, px(10'00), 100, 100, 0, 2)));
}

TEST_F(ReplaceTest, SamePriceAndSameQtyKeepsPriorityWithNoBookEvent) {
  const Ord s1 = seller(kBob, kFirmB, 1, "S1");
  const Ord s2 = seller(kBob, kFirmB, 2, "S2");
  const Ord s1b = s1.as(1, "S1b");
  const Ord b1 = buyer(kAlice, kFirmA, 3, "B1");
  run(limit(s1, 300, px(10'00)));
  run(limit(s2, 100, px(10'00)));
  Events ev = run(replace(s1, s1b, 300, px(10'00)));
  EXPECT_EVENTS(ev, seq(replaced(s1b, s1, px(10'00), 300)));
  ev = run(limit(b1, 100, px(10'00)));
  EXPECT_EVENTS(ev, seq(accepted(b1, px(10'00), 100), trade(s1b, b1, px(10'00), 100, 200, 0, 1)));
}

TEST_F(ReplaceTest, OldTokenIsDeadAndStillUsedAfterAReplace) {
  const Ord s1 = seller(kBob, kFirmB, 1, "S1");
  const Ord s1b = s1.as(1, "S1b");
  run(limit(s1, 300, px(10'00)));
  run(replace(s1, s1b, 200, px(10'00)));
  Events ev = run(cancel(s1));
  EXPECT_EVENTS(ev, seq(cancel_rejected(s1, RejectCode::UnknownOrder, 0)));
  const Ord again = seller(kBob, kFirmB, 0, "S1");
  expect_refused(limit(again, 100, px(10'00)), RejectCode::DuplicateToken, again);
  ev = run(cancel(s1b));
  EXPECT_EVENTS(ev, seq(canceled(s1b, 200, 0, CancelReason::UserRequested), book_delete(s1b)));
}

TEST_F(ReplaceTest, NewPriceLosesPriorityAndTakesTheNextOrderId) {
  const Ord s1 = seller(kBob, kFirmB, 1, "S1");
  const Ord s2 = seller(kBob, kFirmB, 2, "S2");
  const Ord s1b = s1.as(3, "S1b");
  const Ord b1 = buyer(kAlice, kFirmA, 4, "B1");
  run(limit(s1, 200, px(10'01)));
  run(limit(s2, 100, px(10'00)));
  Events ev = run(replace(s1, s1b, 200, px(10'00)));
  EXPECT_EVENTS(ev, seq(replaced(s1b, s1, px(10'00), 200), book_replace(s1b, s1, px(10'00), 200)));
  EXPECT_EQ(levels(kMain, Side::Sell), (Levels{{px(10'00), 300, 2}}));

  ev = run(limit(b1, 200, px(10'00)));
  EXPECT_EVENTS(ev, seq(accepted(b1, px(10'00), 200),
                        trade(s2, b1, px(10'00), 100, 0, 100, 1),
                        trade(s1b, b1, px(10'00), 100, 100, 0, 2)));
}

TEST_F(ReplaceTest, MoreQtyAtTheSamePriceLosesPriority) {
  const Ord s1 = seller(kBob, kFirmB, 1, "S1");
  const Ord s2 = seller(kBob, kFirmB, 2, "S2");
  const Ord s1b = s1.as(3, "S1b");
  const Ord b1 = buyer(kAlice, kFirmA, 4, "B1");
  run(limit(s1, 100, px(10'00)));
  run(limit(s2, 100, px(10'00)));
  Events ev = run(replace(s1, s1b, 200, px(10'00)));
  EXPECT_EVENTS(ev, seq(replaced(s1b, s1, px(10'00), 200), book_replace(s1b, s1, px(10'00), 200)));
  EXPECT_EQ(engine().firm_open_shares(kFirmB), 300u);

  ev = run(limit(b1, 200, px(10'00)));
  EXPECT_EVENTS(ev, seq(accepted(b1, px(10'00), 200),
                        trade(s2, b1, px(10'00), 100, 0, 100, 1),
                        trade(s1b, b1, px(10'00), 100, 100, 0, 2)));
}

TEST_F(ReplaceTest, PriorityRuleComparesWithTheOpenQuantityOfAPartlyFilledOrder) {
  const Ord s1 = seller(kBob, kFirmB, 1, "S1");
  const Ord b1 = buyer(kAlice, kFirmA, 2, "B1");
  const Ord s2 = seller(kBob, kFirmB, 3, "S2");
  run(limit(s1, 300, px(10'00)));
  run(limit(b1, 100, px(10'00)));  // s1 open 200
  run(limit(s2, 100, px(10'00)));

  const Ord s1b = s1.as(1, "S1b");
  Events ev = run(replace(s1, s1b, 150, px(10'00)));
  EXPECT_EVENTS(ev, seq(replaced(s1b, s1, px(10'00), 150), book_cancel(s1b, 50, 150)));

  const Ord s1c = s1b.as(4, "S1c");
  ev = run(replace(s1b, s1c, 250, px(10'00)));  // above the open 150: loses priority
  EXPECT_EVENTS(ev, seq(replaced(s1c, s1b, px(10'00), 250), book_replace(s1c, s1b, px(10'00), 250)));
  EXPECT_EQ(levels(kMain, Side::Sell), (Levels{{px(10'00), 350, 2}}));
}

TEST_F(ReplaceTest, CrossingReplaceTradesAfterItsReplacedEventAndRestsTheRemainder) {
  const Ord b1 = buyer(kAlice, kFirmA, 1, "B1");
  const Ord s1 = seller(kBob, kFirmB, 2, "S1");
  const Ord s2 = seller(kBob, kFirmB, 3, "S2");
  const Ord b1b = b1.as(4, "B1b");
  run(limit(b1, 100, px(9'99)));
  run(limit(s1, 100, px(10'00)));
  run(limit(s2, 100, px(10'01)));
  const Events ev = run(replace(b1, b1b, 300, px(10'01)));
  EXPECT_EVENTS(ev, seq(replaced(b1b, b1, px(10'01), 300), book_delete(b1),
                        trade(s1, b1b, px(10'00), 100, 0, 200, 1),
                        trade(s2, b1b, px(10'01), 100, 0, 100, 2),
                        book_add(b1b, px(10'01), 100)));
  EXPECT_EQ(levels(kMain, Side::Buy), (Levels{{px(10'01), 100, 1}}));
  EXPECT_TRUE(levels(kMain, Side::Sell).empty());
  EXPECT_EQ(engine().firm_open_shares(kFirmA), 100u);
}

TEST_F(ReplaceTest, ReplaceMustBeDayAndIsRefusedAsIocOrFok) {
  const Ord b1 = buyer(kAlice, kFirmA, 1, "B1");
  const Ord s1 = seller(kBob, kFirmB, 2, "S1");
  const Ord b1b = b1.as(0, "B1b");
  run(limit(b1, 100, px(9'99)));
  run(limit(s1, 100, px(10'00)));
  Events ev = run(replace(b1, b1b, 300, px(10'00), TimeInForce::Ioc));
  EXPECT_EVENTS(ev, seq(replace_rejected(b1, b1b, RejectCode::InvalidOrderType)));
  ev = run(replace(b1, b1b, 300, px(10'00), TimeInForce::Fok));
  EXPECT_EVENTS(ev, seq(replace_rejected(b1, b1b, RejectCode::InvalidOrderType)));
  Command bad_post_only = replace(b1, b1b, 100, px(9'99));
  bad_post_only.replace.post_only = 2;
  ev = run(bad_post_only);
  EXPECT_EVENTS(ev, seq(replace_rejected(b1, b1b, RejectCode::InvalidOrderType)));
  EXPECT_EQ(levels(kMain, Side::Buy), (Levels{{px(9'99), 100, 1}}));
}

TEST_F(ReplaceTest, CrossingReplaceFilledInFullLeavesNothing) {
  const Ord b1 = buyer(kAlice, kFirmA, 1, "B1");
  const Ord s1 = seller(kBob, kFirmB, 2, "S1");
  const Ord b1b = b1.as(3, "B1b");
  run(limit(b1, 200, px(9'99)));
  run(limit(s1, 300, px(10'00)));
  const Events ev = run(replace(b1, b1b, 200, px(10'00)));
  EXPECT_EVENTS(ev, seq(replaced(b1b, b1, px(10'00), 200), book_delete(b1),
                        trade(s1, b1b, px(10'00), 200, 100, 0, 1)));
  EXPECT_TRUE(levels(kMain, Side::Buy).empty());
}

TEST_F(ReplaceTest, PostOnlyReplaceThatDoesNotCrossMovesInTheBook) {
  const Ord b1 = buyer(kAlice, kFirmA, 1, "B1");
  const Ord s1 = seller(kBob, kFirmB, 2, "S1");
  const Ord b1b = b1.as(3, "B1b");
  run(limit(b1, 200, px(9'90)));
  run(limit(s1, 300, px(10'00)));
  const Events ev = run(replace(b1, b1b, 200, px(9'99), TimeInForce::Day, true));
  EXPECT_EVENTS(ev, seq(replaced(b1b, b1, px(9'99), 200, TimeInForce::Day, true),
                        book_replace(b1b, b1, px(9'99), 200)));
}

TEST_F(ReplaceTest, ReplaceDuringHaltIsRefusedAndTheOriginalTradesAfterResume) {
  const Ord s1 = seller(kBob, kFirmB, 1, "S1");
  const Ord s1b = s1.as(0, "S1b");
  const Ord b1 = buyer(kAlice, kFirmA, 2, "B1");
  run(limit(s1, 300, px(10'00)));
  run(halt(kMain));
  Events ev = run(replace(s1, s1b, 200, px(10'00)));
  EXPECT_EVENTS(ev, seq(replace_rejected(s1, s1b, RejectCode::Halted)));
  run(resume(kMain));
  ev = run(limit(b1, 100, px(10'00)));
  EXPECT_EVENTS(ev, seq(accepted(b1, px(10'00), 100), trade(s1, b1, px(10'00), 100, 200, 0, 1)));
}

TEST_F(ReplaceTest, ReplaceWithAUsedTokenIsRefused) {
  const Ord s1 = seller(kBob, kFirmB, 1, "S1");
  const Ord s2 = seller(kBob, kFirmB, 2, "S2");
  const Ord gone = seller(kBob, kFirmB, 3, "GONE");
  run(limit(s1, 300, px(10'00)));
  run(limit(s2, 100, px(10'01)));
  run(limit(gone, 100, px(10'02)));
  run(cancel(gone));
  for (const char* used : {"S1", "S2", "GONE"}) {
    const Ord r = s1.as(0, used);
    const Events ev = run(replace(s1, r, 200, px(10'00)));
    EXPECT_EVENTS(ev, seq(replace_rejected(s1, r, RejectCode::DuplicateToken))) << "token " << used;
  }
  // A token another owner used is free for Bob.
  run(limit(buyer(kAlice, kFirmA, 4, "ALICE1"), 100, px(9'00)));
  const Ord s1b = s1.as(1, "ALICE1");
  const Events ev = run(replace(s1, s1b, 200, px(10'00)));
  EXPECT_EVENTS(ev, seq(replaced(s1b, s1, px(10'00), 200), book_cancel(s1b, 100, 200)));
}

TEST_F(ReplaceTest, ReplaceOfAnUnknownOrderIsRefusedWithUnknownOrder) {
  const Ord s1 = seller(kBob, kFirmB, 1, "S1");
  run(limit(s1, 300, px(10'00)));
  const Ord nope = seller(kBob, kFirmB, 0, "NOPE");
  const Ord r = nope.as(0, "R1");
  const Events ev = run(replace(nope, r, 200, px(10'00)));
  // "the Rejected event then has firm 0 and instrument 0"
  Ord unresolved = nope;
  unresolved.firm = FirmId{0};
  unresolved.instrument = InstrumentId{0};
  EXPECT_EVENTS(ev, seq(replace_rejected(unresolved, r, RejectCode::UnknownOrder)));
}

TEST_F(ReplaceTest, ReplaceOfAFilledOrderIsRefusedWithUnknownOrder) {
  const Ord s1 = seller(kBob, kFirmB, 1, "S1");
  run(limit(s1, 100, px(10'00)));
  run(limit(buyer(kAlice, kFirmA, 2, "B1"), 100, px(10'00)));
  const Ord r = s1.as(0, "R1");
  const Events ev = run(replace(s1, r, 100, px(10'01)));
  Ord unresolved = s1;
  unresolved.firm = FirmId{0};
  unresolved.instrument = InstrumentId{0};
  EXPECT_EVENTS(ev, seq(replace_rejected(unresolved, r, RejectCode::UnknownOrder)));
}

TEST_F(ReplaceTest, InvalidReplaceLeavesTheOriginalUntouched) {
  const Ord b1 = buyer(kAlice, kFirmA, 1, "B1");
  const Ord s1 = seller(kBob, kFirmB, 2, "S1");
  run(limit(b1, 300, px(10'00)));
  run(limit(s1, 100, px(10'05)));
  const Ord r = b1.as(0, "R1");

  struct Case {
    const char* what;
    std::uint32_t qty;
    Price price;
    TimeInForce tif;
    bool post_only;
    RejectCode code;
  };
  const Case cases[] = {
      {"off tick", 300, Price{100050}, TimeInForce::Day, false, RejectCode::InvalidPrice},
      {"zero price", 300, Price{0}, TimeInForce::Day, false, RejectCode::InvalidPrice},
      {"negative price", 300, Price{-100}, TimeInForce::Day, false, RejectCode::InvalidPrice},
      {"above 2^31-1", 300, Price{2147483700}, TimeInForce::Day, false, RejectCode::InvalidPrice},
      {"above limit up", 300, px(11'01), TimeInForce::Day, false, RejectCode::PriceOutsideLimits},
      {"below limit down", 300, px(8'99), TimeInForce::Day, false, RejectCode::PriceOutsideLimits},
      {"zero qty", 0, px(10'00), TimeInForce::Day, false, RejectCode::InvalidQuantity},
      {"qty above max", 1'000'100, px(10'00), TimeInForce::Day, false, RejectCode::QuantityAboveMax},
      {"odd lot buy", 150, px(10'00), TimeInForce::Day, false, RejectCode::InvalidLot},
      {"FOK", 300, px(10'00), TimeInForce::Fok, false, RejectCode::InvalidOrderType},
      {"IOC", 300, px(10'00), TimeInForce::Ioc, false, RejectCode::InvalidOrderType},
      {"post-only crossing", 300, px(10'05), TimeInForce::Day, true, RejectCode::PostOnlyWouldCross},
  };
  for (const Case& c : cases) {
    const Events ev = run(replace(b1, r, c.qty, c.price, c.tif, c.post_only));
    EXPECT_EVENTS(ev, seq(replace_rejected(b1, r, c.code))) << c.what;
  }
  EXPECT_EQ(levels(kMain, Side::Buy), (Levels{{px(10'00), 300, 1}}));
  EXPECT_EQ(engine().firm_open_shares(kFirmA), 300u);

  // The original still trades under its id and token, and no order id was taken.
  const Ord s2 = seller(kBob, kFirmB, 3, "S2");
  Events ev = run(limit(s2, 100, px(10'00)));
  EXPECT_EVENTS(ev, seq(accepted(s2, px(10'00), 100), trade(b1, s2, px(10'00), 100, 200, 0, 1)));
  // The refused replacement token was not consumed.
  const Ord b1b = b1.as(1, "R1");
  ev = run(replace(b1, b1b, 100, px(10'00)));
  EXPECT_EVENTS(ev, seq(replaced(b1b, b1, px(10'00), 100), book_cancel(b1b, 100, 100)));
}

TEST_F(ReplaceTest, ReplaceChecksKillSwitchBeforeHaltAndHaltBeforeOrderType) {
  const Ord b1 = buyer(kAlice, kFirmA, 1, "B1");
  run(limit(b1, 300, px(10'00)));
  const Ord r = b1.as(0, "R1");
  run(halt(kMain));
  Events ev = run(replace(b1, r, 300, px(10'00), TimeInForce::Fok));
  EXPECT_EVENTS(ev, seq(replace_rejected(b1, r, RejectCode::Halted)));
  run(kill(kFirmA, true, false));
  ev = run(replace(b1, r, 300, px(10'00), TimeInForce::Fok));
  EXPECT_EVENTS(ev, seq(replace_rejected(b1, r, RejectCode::KillSwitch)));
  // Duplicate token comes before the kill switch.
  const Ord dup = b1.as(0, "B1");
  ev = run(replace(b1, dup, 300, px(10'00)));
  EXPECT_EVENTS(ev, seq(replace_rejected(b1, dup, RejectCode::DuplicateToken)));
}

TEST_F(ReplaceTest, CageBaseForAReplaceIncludesTheOrderBeingReplaced) {
  // The only order on the STAR book is the bid being replaced: it is the buy's cage base
  // (50.50 x 1.02 = 51.51), not the reference price (51.00).
  const Ord b1 = buyer(kAlice, kFirmA, 1, "B1", kStar);
  run(limit(b1, 200, px(50'50)));
  const Ord over = b1.as(0, "B1b");
  Events ev = run(replace(b1, over, 200, px(51'52)));
  EXPECT_EVENTS(ev, seq(replace_rejected(b1, over, RejectCode::PriceOutsideCage)));
  const Ord b1b = b1.as(2, "B1b");
  ev = run(replace(b1, b1b, 200, px(51'51)));
  EXPECT_EVENTS(ev, seq(replaced(b1b, b1, px(51'51), 200), book_replace(b1b, b1, px(51'51), 200)));
}

TEST_F(ReplaceTest, ReplaceSellOnTheOtherInstrumentKeepsItsSideFirmAndInstrument) {
  const Ord s1 = seller(kCarol, kFirmB, 1, "S1", kOther);
  const Ord s1b = s1.as(2, "S1b");
  run(limit(s1, 100, px(20'50)));
  const Events ev = run(replace(s1, s1b, 100, px(20'40)));
  EXPECT_EVENTS(ev, seq(replaced(s1b, s1, px(20'40), 100), book_replace(s1b, s1, px(20'40), 100)));
  EXPECT_EQ(levels(kOther, Side::Sell), (Levels{{px(20'40), 100, 1}}));
}

}  // namespace
}  // namespace peregrine::test
