// Trading phases and call auctions (docs/market-rules.md, "Trading phases" and "Call auctions"):
// hand-worked uncrosses, the tie-break chain, indicative prices, what each phase accepts, halts
// and resumption, the close; and a randomized check against a brute-force auction.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "unit/core/engine_fixture.hpp"

namespace peregrine::test {
namespace {

/// Runs the command first, then builds the expected events (they take the command's timestamp).
#define EXPECT_RUN(events_expr, expected) \
  do {                                    \
    const Events ran_ = (events_expr);    \
    EXPECT_EVENTS(ran_, expected);        \
  } while (0)

class AuctionTest : public EngineTest {
 protected:
  Command phase(TradingStatus st, InstrumentId id = kMain) { return make_schedule_phase(next_ts(), id, st); }
  Command set(TradingStatus st, InstrumentId id = kMain) { return make_trading_status(next_ts(), id, st); }
  Command resume_cmd(InstrumentId id, bool via_call) { return make_resume(next_ts(), id, via_call); }

  Event cross_exec(const Ord& o, Price price, std::uint32_t qty, std::uint32_t leaves, std::uint64_t match,
                   Liquidity liq) const {
    return executed(o, price, qty, leaves, match, liq);
  }
  Event cross_book(const Ord& o, Price price, std::uint32_t qty, std::uint32_t leaves, std::uint64_t match) const {
    Event e = book_execute(o, price, qty, leaves, match);
    e.code = 1;
    return e;
  }
  /// One uncross fill: Executed buy, Executed sell, BookExecute buy, BookExecute sell.
  Events fill(const Ord& buy, const Ord& sell, Price price, std::uint32_t qty, std::uint32_t buy_leaves,
              std::uint32_t sell_leaves, std::uint64_t match, Liquidity liq = Liquidity::OpeningCross) const {
    return {cross_exec(buy, price, qty, buy_leaves, match, liq), cross_exec(sell, price, qty, sell_leaves, match, liq),
            cross_book(buy, price, qty, buy_leaves, match), cross_book(sell, price, qty, sell_leaves, match)};
  }
  Event cross_trade(InstrumentId id, Price price, std::uint64_t shares, std::uint64_t match, CrossType type) const {
    Event e = blank(EventType::CrossTrade);
    e.instrument = id;
    e.price = price;
    e.order_id = OrderId{shares};
    e.ref = match;
    e.code = static_cast<std::uint8_t>(type);
    return e;
  }
  Event indicative(InstrumentId id, Price price, std::uint64_t paired, std::uint64_t imbalance,
                   std::uint8_t side, CrossType type) const {
    Event e = blank(EventType::Indicative);
    e.instrument = id;
    e.price = price;
    e.ref = paired;
    e.order_id = OrderId{imbalance};
    e.side = static_cast<Side>(side);
    e.code = static_cast<std::uint8_t>(type);
    return e;
  }
  /// Enters a day limit order in a call phase and returns its events without checking them.
  Events enter(const Ord& o, std::uint32_t qty, Price price) { return run(limit(o, qty, price)); }
};

constexpr auto kB = static_cast<std::uint8_t>(Side::Buy);
constexpr auto kS = static_cast<std::uint8_t>(Side::Sell);

// ---- the opening auction, worked by hand --------------------------------------------------------

TEST_F(AuctionTest, OpeningUncrossMaximisesVolumeThenMinimisesSurplusThenNearsTheReference) {
  run(phase(TradingStatus::OpeningCall));
  const Ord b1 = buyer(kAlice, kFirmA, 1, "B1");
  const Ord b2 = buyer(kAlice, kFirmA, 2, "B2");
  const Ord b3 = buyer(kAlice, kFirmA, 3, "B3");
  const Ord s1 = seller(kBob, kFirmB, 4, "S1");
  const Ord s2 = seller(kBob, kFirmB, 5, "S2");
  const Ord s3 = seller(kBob, kFirmB, 6, "S3");
  // The call opened with "insufficient orders" published; a one-sided book changes nothing.
  EXPECT_RUN(enter(b1, 500, px(10'05)), seq(accepted(b1, px(10'05), 500), book_add(b1, px(10'05), 500)));
  EXPECT_RUN(enter(b2, 300, px(10'02)), seq(accepted(b2, px(10'02), 300), book_add(b2, px(10'02), 300)));
  enter(b3, 400, px(10'00));
  // 200 at 9.98 pairs 200 anywhere from 9.98 to 10.05; the buy surplus is 1000 up to 10.00,
  // 500 up to 10.02 and 300 from 10.03: the least surplus is at 10.03-10.05, and 10.03 is the
  // closest of those to the reference 10.00.
  EXPECT_RUN(enter(s1, 200, px(9'98)), seq(accepted(s1, px(9'98), 200), book_add(s1, px(9'98), 200),
                                            indicative(kMain, px(10'03), 200, 300, kB, CrossType::Opening)));
  enter(s2, 600, px(10'00));
  enter(s3, 300, px(10'03));
  // By hand, V(p) = min(buys >= p, sells <= p):
  //   9.98..9.99: min(1200, 200) = 200;  10.00: min(1200, 800) = 800 (surplus 400);
  //   10.01..10.02: min(800, 800) = 800 (surplus 0);  10.03..10.05: min(500, 1100) = 500.
  // Most volume: 10.00-10.02; least surplus: 10.01-10.02; closest to the reference 10.00: 10.01.
  const AuctionInfo info = engine().indicative(kMain);
  EXPECT_EQ(info.price, px(10'01));
  EXPECT_EQ(info.paired, 800u);
  EXPECT_EQ(info.imbalance, 0u);
  EXPECT_FALSE(info.surplus.has_value());

  run(phase(TradingStatus::OpeningCallFrozen));
  const Events ev = run(phase(TradingStatus::Break));
  EXPECT_EVENTS(ev, seq(fill(b1, s1, px(10'01), 200, 300, 0, 1), fill(b1, s2, px(10'01), 300, 0, 300, 2),
                        fill(b2, s2, px(10'01), 300, 0, 0, 3), cross_trade(kMain, px(10'01), 800, 4, CrossType::Opening),
                        status_changed(kMain, TradingStatus::Break)));
  EXPECT_EQ(levels(kMain, Side::Buy), (Levels{{px(10'00), 400, 1}}));
  EXPECT_EQ(levels(kMain, Side::Sell), (Levels{{px(10'03), 300, 1}}));
  // Continuous trading then matches on arrival again, and its next match number follows the cross.
  run(phase(TradingStatus::Trading));
  const Ord s4 = seller(kBob, kFirmB, 7, "S4");
  EXPECT_RUN(run(limit(s4, 100, px(10'00))),
                seq(accepted(s4, px(10'00), 100), trade(b3, s4, px(10'00), 100, 300, 0, 5)));
}

TEST_F(AuctionTest, TheReferenceIsClampedIntoTheBestInterval) {
  // Interval of best prices [10.01, 10.02] lies above the reference 10.00: the uncross takes 10.01.
  run(phase(TradingStatus::OpeningCall));
  enter(buyer(kAlice, kFirmA, 1, "B1"), 500, px(10'02));
  enter(seller(kBob, kFirmB, 2, "S1"), 500, px(10'01));
  EXPECT_EQ(engine().indicative(kMain).price, px(10'01));
  EXPECT_EQ(engine().indicative(kMain).paired, 500u);
  // On kOther (reference 20.00) an interval around the reference takes the reference itself.
  run(phase(TradingStatus::OpeningCall, kOther));
  enter(buyer(kAlice, kFirmA, 3, "B2", kOther), 500, px(20'03));
  enter(seller(kBob, kFirmB, 4, "S2", kOther), 500, px(19'98));
  EXPECT_EQ(engine().indicative(kOther).price, px(20'00));
}

TEST_F(AuctionTest, TheSurplusDecidesBeforeTheReference) {
  run(phase(TradingStatus::OpeningCall));
  // Buys 1000 at 10.00 and 300 at 9.99; sells 400 at 9.99 and 300 at 10.00.
  // 9.99: min(1300, 400) = 400;  10.00: min(1000, 700) = 700 (surplus 300, buy side).
  enter(buyer(kAlice, kFirmA, 1, "B1"), 1000, px(10'00));
  enter(buyer(kAlice, kFirmA, 2, "B2"), 300, px(9'99));
  enter(seller(kBob, kFirmB, 3, "S1"), 400, px(9'99));
  enter(seller(kBob, kFirmB, 4, "S2"), 300, px(10'00));
  const AuctionInfo info = engine().indicative(kMain);
  EXPECT_EQ(info.price, px(10'00));
  EXPECT_EQ(info.paired, 700u);
  EXPECT_EQ(info.imbalance, 300u);
  EXPECT_EQ(info.surplus, Side::Buy);
}

TEST_F(AuctionTest, ABookThatDoesNotCrossUncrossesToNothing) {
  run(phase(TradingStatus::OpeningCall));
  const Ord b = buyer(kAlice, kFirmA, 1, "B1");
  const Ord s = seller(kBob, kFirmB, 2, "S1");
  enter(b, 100, px(9'99));
  enter(s, 100, px(10'01));
  EXPECT_EQ(engine().indicative(kMain).price, Price{0});
  EXPECT_RUN(run(phase(TradingStatus::Trading)), seq(status_changed(kMain, TradingStatus::Trading)));
  EXPECT_EQ(levels(kMain, Side::Buy), (Levels{{px(9'99), 100, 1}}));
  EXPECT_EQ(levels(kMain, Side::Sell), (Levels{{px(10'01), 100, 1}}));
}

TEST_F(AuctionTest, TheClosingAuctionNearsTheLastTradeAndFlagsClosingCross) {
  // Continuous trading prints 10.04; the closing book's best interval is [10.01, 10.06].
  const Ord m1 = buyer(kAlice, kFirmA, 1, "M1");
  const Ord m2 = seller(kBob, kFirmB, 2, "M2");
  run(limit(m1, 100, px(10'04)));
  run(limit(m2, 100, px(10'04)));
  run(phase(TradingStatus::ClosingCall));
  const Ord b = buyer(kAlice, kFirmA, 3, "B1");
  const Ord s = seller(kBob, kFirmB, 4, "S1");
  enter(b, 300, px(10'06));
  enter(s, 300, px(10'01));
  EXPECT_EQ(engine().indicative(kMain).price, px(10'04));
  EXPECT_RUN(run(phase(TradingStatus::Closed)),
                seq(fill(b, s, px(10'04), 300, 0, 0, 2, Liquidity::ClosingCross),
                    cross_trade(kMain, px(10'04), 300, 3, CrossType::Closing),
                    status_changed(kMain, TradingStatus::Closed)));
}

TEST_F(AuctionTest, TheCloseExpiresEveryDayOrderLeftOnTheBook) {
  const Ord b = buyer(kAlice, kFirmA, 1, "B1");
  const Ord s = seller(kBob, kFirmB, 2, "S1");
  run(limit(b, 300, px(9'90)));
  run(limit(s, 200, px(10'10)));
  run(phase(TradingStatus::ClosingCall));
  EXPECT_RUN(run(phase(TradingStatus::Closed)),
                seq(status_changed(kMain, TradingStatus::Closed), removed(b, 300, CancelReason::Expired),
                    removed(s, 200, CancelReason::Expired)));
  EXPECT_EQ(engine().firm_open_shares(kFirmA), 0u);
  EXPECT_EQ(engine().stats().live_orders, 0u);
  // Closed refuses everything.
  expect_refused(limit(buyer(kAlice, kFirmA, 3, "B2"), 100, px(10'00)), RejectCode::MarketClosed,
                 buyer(kAlice, kFirmA, 3, "B2"));
}

// ---- indicative publication ----------------------------------------------------------------------

TEST_F(AuctionTest, IndicativeIsPublishedOnlyWhenItChanges) {
  EXPECT_RUN(run(phase(TradingStatus::OpeningCall)),
                seq(status_changed(kMain, TradingStatus::OpeningCall),
                    indicative(kMain, Price{0}, 0, 0, 0, CrossType::Opening)));
  const Ord b1 = buyer(kAlice, kFirmA, 1, "B1");
  const Ord b2 = buyer(kAlice, kFirmA, 3, "B2");
  // Still no sell side: the indicative is unchanged, so nothing is published.
  EXPECT_RUN(enter(b1, 300, px(10'00)), seq(accepted(b1, px(10'00), 300), book_add(b1, px(10'00), 300)));
  const Ord s1 = seller(kBob, kFirmB, 2, "S1");
  EXPECT_RUN(enter(s1, 100, px(10'00)), seq(accepted(s1, px(10'00), 100), book_add(s1, px(10'00), 100),
                                                indicative(kMain, px(10'00), 100, 200, kB, CrossType::Opening)));
  // A buy below the cross changes nothing the auction would do.
  EXPECT_RUN(enter(b2, 100, px(9'50)), seq(accepted(b2, px(9'50), 100), book_add(b2, px(9'50), 100)));
  // Cancelling the sell takes the cross away.
  EXPECT_RUN(run(cancel(s1)), seq(canceled(s1, 100, 0, CancelReason::UserRequested), book_delete(s1),
                                     indicative(kMain, Price{0}, 0, 0, 0, CrossType::Opening)));
  // Entering the frozen part of the call keeps the published indicative (no new event).
  EXPECT_RUN(run(phase(TradingStatus::OpeningCallFrozen)),
                seq(status_changed(kMain, TradingStatus::OpeningCallFrozen)));
}

// ---- what each phase accepts --------------------------------------------------------------------

TEST_F(AuctionTest, CallPhasesTakeDayLimitOrdersOnly) {
  for (TradingStatus st : {TradingStatus::OpeningCall, TradingStatus::OpeningCallFrozen, TradingStatus::ClosingCall,
                           TradingStatus::ResumeCall}) {
    rebuild(default_config());
    run(set(st));
    const Ord o = buyer(kAlice, kFirmA, 1, "X1");
    expect_refused(limit(o, 100, px(10'00), TimeInForce::Ioc), RejectCode::OrderTypeNotInPhase, o);
    expect_refused(limit(o, 100, px(10'00), TimeInForce::Fok), RejectCode::OrderTypeNotInPhase, o);
    expect_refused(limit(o, 200, px(10'00), TimeInForce::Day, 100), RejectCode::OrderTypeNotInPhase, o);
    expect_refused(market(o, 100, OrderType::MarketBestFiveIoc), RejectCode::OrderTypeNotInPhase, o);
    expect_refused(market(o, 100, OrderType::MarketBestFiveToLimit), RejectCode::OrderTypeNotInPhase, o);
    expect_refused(post_only(o, 100, px(10'00)), RejectCode::PostOnlyNotInPhase, o);
    // Price limits still hold; the price cage does not (STAR, below).
    expect_refused(limit(o, 100, px(11'01)), RejectCode::PriceOutsideLimits, o);
    const Events ev = run(limit(o, 100, px(10'00)));
    ASSERT_GE(ev.size(), 2u) << to_string(st);
    EXPECT_EQ(ev[0], accepted(o, px(10'00), 100));
    EXPECT_EQ(ev[1], book_add(o, px(10'00), 100));
  }
}

TEST_F(AuctionTest, ThePriceCageAppliesInContinuousTradingOnly) {
  run(phase(TradingStatus::OpeningCall, kStar));
  // STAR ref 50.00, cage 2 %: 52.00 is outside the cage but inside the 20 % limit.
  const Ord o = buyer(kAlice, kFirmA, 1, "C1", kStar);
  const Events ev = run(limit(o, 200, px(52'00)));
  ASSERT_FALSE(ev.empty());
  EXPECT_EQ(ev[0], accepted(o, px(52'00), 200));
  run(phase(TradingStatus::Trading, kStar));
  const Ord o2 = buyer(kAlice, kFirmA, 2, "C2", kStar);
  // The uncross found no cross; the resting bid 52.00 is now the cage's base: 53.04 at most.
  expect_refused(limit(o2, 200, px(53'05)), RejectCode::PriceOutsideCage, o2);
}

TEST_F(AuctionTest, ClosedAndBreaksRefuseNewOrdersAndReplacesButBreaksTakeCancels) {
  const Ord r = buyer(kAlice, kFirmA, 1, "R1");
  run(limit(r, 300, px(9'90)));
  run(phase(TradingStatus::Break));
  const Ord o = buyer(kAlice, kFirmA, 2, "N1");
  expect_refused(limit(o, 100, px(10'00)), RejectCode::MarketClosed, o);
  EXPECT_RUN(run(replace(r, o, 100, px(9'95))), seq(replace_rejected(r, o, RejectCode::MarketClosed)));
  EXPECT_RUN(run(cancel(r, 100)), seq(canceled(r, 200, 100, CancelReason::UserRequested), book_cancel(r, 200, 100)));
  run(set(TradingStatus::Closed));
  expect_refused(limit(o, 100, px(10'00)), RejectCode::MarketClosed, o);
}

TEST_F(AuctionTest, FrozenCallPhasesRefuseCancelsButNotSupervisoryOnes) {
  run(phase(TradingStatus::OpeningCall));
  const Ord o = buyer(kAlice, kFirmA, 1, "F1");
  const Ord r = buyer(kAlice, kFirmA, 2, "F2");
  enter(o, 300, px(10'00));
  // The opening call's first part takes cancels and replaces (a replace rests, never matches).
  run(phase(TradingStatus::OpeningCallFrozen));
  EXPECT_RUN(run(cancel(o)), seq(cancel_rejected(o, RejectCode::CancelNotInPhase, 0)));
  EXPECT_RUN(run(replace(o, r, 100, px(10'00))), seq(replace_rejected(o, r, RejectCode::CancelNotInPhase)));
  // The broker's kill switch still cancels.
  const Events ev = run(kill(kFirmA, true, true));
  ASSERT_GE(ev.size(), 3u);
  EXPECT_EQ(ev[0], canceled(o, 300, 0, CancelReason::Supervisory));
  EXPECT_EQ(ev[1], book_delete(o));
  run(kill(kFirmA, false, false));
  run(set(TradingStatus::ClosingCall));
  const Ord c = buyer(kAlice, kFirmA, 3, "F3");
  enter(c, 100, px(10'00));
  EXPECT_RUN(run(cancel(c)), seq(cancel_rejected(c, RejectCode::CancelNotInPhase, 0)));
}

TEST_F(AuctionTest, AReplaceInACallRestsWithoutMatching) {
  run(phase(TradingStatus::OpeningCall));
  const Ord b = buyer(kAlice, kFirmA, 1, "B1");
  const Ord s = seller(kBob, kFirmB, 2, "S1");
  enter(b, 100, px(9'90));
  enter(s, 100, px(10'00));
  const Ord b2 = b.as(3, "B1R");
  const Events ev = run(replace(b, b2, 100, px(10'05)));
  ASSERT_GE(ev.size(), 2u);
  EXPECT_EQ(ev[0], replaced(b2, b, px(10'05), 100));
  EXPECT_EQ(ev[1], book_replace(b2, b, px(10'05), 100));
  EXPECT_EQ(levels(kMain, Side::Buy), (Levels{{px(10'05), 100, 1}}));
  EXPECT_EQ(levels(kMain, Side::Sell), (Levels{{px(10'00), 100, 1}}));  // crossed, unmatched
}

// Every order type in every phase, as the table in docs/market-rules.md ("Trading phases") says.
TEST_F(AuctionTest, EveryOrderTypeInEveryPhase) {
  enum Kind { kDay, kIoc, kFok, kMinQty, kMarketIoc, kMarketToLimit, kPostOnly, kKinds };
  constexpr RejectCode A = RejectCode::None;  // accepted
  constexpr RejectCode C = RejectCode::MarketClosed;
  constexpr RejectCode H = RejectCode::Halted;
  constexpr RejectCode T = RejectCode::OrderTypeNotInPhase;
  constexpr RejectCode P = RejectCode::PostOnlyNotInPhase;
  const struct {
    TradingStatus phase;
    bool halt_accepts_orders;
    std::array<RejectCode, kKinds> want;  // day, IOC, FOK, min qty, market IOC, market to limit, post-only
  } rows[] = {
      {TradingStatus::Trading, false, {A, A, A, A, A, A, A}},
      {TradingStatus::Closed, false, {C, C, C, C, C, C, C}},
      {TradingStatus::Break, false, {C, C, C, C, C, C, C}},
      {TradingStatus::OpeningCall, false, {A, T, T, T, T, T, P}},
      {TradingStatus::OpeningCallFrozen, false, {A, T, T, T, T, T, P}},
      {TradingStatus::ClosingCall, false, {A, T, T, T, T, T, P}},
      {TradingStatus::ResumeCall, false, {A, T, T, T, T, T, P}},
      {TradingStatus::Halted, false, {H, H, H, H, H, H, H}},
      {TradingStatus::Halted, true, {A, T, T, T, T, T, P}},
      {TradingStatus::Suspended, false, {H, H, H, H, H, H, H}},
      {TradingStatus::Suspended, true, {H, H, H, H, H, H, H}},
  };
  for (const auto& row : rows) {
    for (int k = 0; k < kKinds; ++k) {
      EngineConfig cfg = default_config();
      cfg.halt_accepts_orders = row.halt_accepts_orders;
      rebuild(cfg);
      // A resting sell so that market orders have something to price against in continuous trading.
      run(limit(seller(kBob, kFirmB, 1, "REST"), 1000, px(10'10)));
      run(set(row.phase));
      const Ord o = buyer(kAlice, kFirmA, 2, "K");
      Command c{};
      switch (k) {
        case kDay: c = limit(o, 100, px(10'00)); break;
        case kIoc: c = limit(o, 100, px(10'00), TimeInForce::Ioc); break;
        case kFok: c = limit(o, 100, px(10'00), TimeInForce::Fok); break;
        case kMinQty: c = limit(o, 200, px(10'00), TimeInForce::Day, 100); break;
        case kMarketIoc: c = market(o, 100, OrderType::MarketBestFiveIoc); break;
        case kMarketToLimit: c = market(o, 100, OrderType::MarketBestFiveToLimit); break;
        default: c = post_only(o, 100, px(10'00)); break;
      }
      const Events ev = run(c);
      ASSERT_FALSE(ev.empty());
      const RejectCode got = ev[0].type == EventType::Rejected ? static_cast<RejectCode>(ev[0].code) : RejectCode::None;
      EXPECT_EQ(got, row.want[static_cast<std::size_t>(k)])
          << to_string(row.phase) << (row.halt_accepts_orders ? " (accepting)" : "") << " kind " << k << ": got "
          << to_string(got);
      if (got == RejectCode::None) {
        EXPECT_EQ(ev[0].type, EventType::Accepted);
      }
    }
  }
}

// Cancels and replaces by phase: frozen calls refuse both; a halt per halt_accepts_cancels.
TEST_F(AuctionTest, CancelsAndReplacesInEveryPhase) {
  constexpr RejectCode A = RejectCode::None;
  const struct {
    TradingStatus phase;
    bool accepts_cancels;
    RejectCode cancel;
    RejectCode replace;
  } rows[] = {
      {TradingStatus::Trading, true, A, A},
      {TradingStatus::Break, true, A, RejectCode::MarketClosed},
      {TradingStatus::OpeningCall, true, A, A},
      {TradingStatus::OpeningCallFrozen, true, RejectCode::CancelNotInPhase, RejectCode::CancelNotInPhase},
      {TradingStatus::ClosingCall, true, RejectCode::CancelNotInPhase, RejectCode::CancelNotInPhase},
      {TradingStatus::ResumeCall, true, A, A},
      {TradingStatus::Halted, true, A, RejectCode::Halted},
      {TradingStatus::Halted, false, RejectCode::Halted, RejectCode::Halted},
      {TradingStatus::Suspended, true, A, RejectCode::Halted},
      {TradingStatus::Suspended, false, RejectCode::Halted, RejectCode::Halted},
  };
  for (const auto& row : rows) {
    for (bool is_replace : {false, true}) {
      EngineConfig cfg = default_config();
      cfg.halt_accepts_cancels = row.accepts_cancels;
      rebuild(cfg);
      const Ord o = buyer(kAlice, kFirmA, 1, "R1");
      run(limit(o, 300, px(9'90)));
      run(set(row.phase));
      const Events ev = is_replace ? run(replace(o, o.as(2, "R2"), 200, px(9'95))) : run(cancel(o, 100));
      ASSERT_FALSE(ev.empty());
      RejectCode got = RejectCode::None;
      if (ev[0].type == EventType::Rejected || ev[0].type == EventType::CancelRejected)
        got = static_cast<RejectCode>(ev[0].code);
      EXPECT_EQ(got, is_replace ? row.replace : row.cancel)
          << to_string(row.phase) << (is_replace ? " replace" : " cancel") << ": got " << to_string(got);
    }
  }
}

// ---- halts and resumption -----------------------------------------------------------------------

TEST_F(AuctionTest, AHaltOutlastsTheScheduleAndResumesIntoTheMarketsPhase) {
  const Ord r = buyer(kAlice, kFirmA, 1, "R1");
  run(limit(r, 300, px(9'90)));
  run(halt(kMain));
  // The schedule moves the market on; the halted instrument stays halted.
  EXPECT_RUN(run(phase(TradingStatus::ClosingCall)), seq());
  EXPECT_EQ(engine().status(kMain), TradingStatus::Halted);
  EXPECT_EQ(engine().session(kMain), TradingStatus::ClosingCall);
  // Halted refuses orders (default policy) and takes cancels.
  const Ord o = buyer(kAlice, kFirmA, 2, "N1");
  expect_refused(limit(o, 100, px(10'00)), RejectCode::Halted, o);
  EXPECT_RUN(run(cancel(r, 200)), seq(canceled(r, 100, 200, CancelReason::UserRequested), book_cancel(r, 100, 200)));
  // Resuming (even "via a call") joins the closing call the market is in, as SSE does after 14:57.
  EXPECT_RUN(run(resume_cmd(kMain, true)),
                seq(status_changed(kMain, TradingStatus::ClosingCall),
                    indicative(kMain, Price{0}, 0, 0, 0, CrossType::Closing)));
  // Resume is refused for an instrument that is not halted.
  const Events again = run(resume_cmd(kMain, true));
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].type, EventType::Rejected);
  EXPECT_EQ(again[0].code, static_cast<std::uint8_t>(RejectCode::InvalidTransition));
}

TEST_F(AuctionTest, AResumptionCallCollectsOrdersAndUncrossesAsAHaltCross) {
  EngineConfig cfg = default_config();
  cfg.halt_accepts_orders = true;
  cfg.halt_accepts_cancels = false;
  rebuild(cfg);
  run(halt(kMain));
  const Ord b = buyer(kAlice, kFirmA, 1, "B1");
  const Ord s = seller(kBob, kFirmB, 2, "S1");
  // An accepting halt takes day limit orders (no matching, no indicative) and refuses cancels.
  EXPECT_RUN(enter(b, 200, px(10'02)), seq(accepted(b, px(10'02), 200), book_add(b, px(10'02), 200)));
  EXPECT_RUN(enter(s, 200, px(10'00)), seq(accepted(s, px(10'00), 200), book_add(s, px(10'00), 200)));
  EXPECT_RUN(run(cancel(s)), seq(cancel_rejected(s, RejectCode::Halted, 0)));
  expect_refused(limit(buyer(kAlice, kFirmA, 3, "B2"), 100, px(10'00), TimeInForce::Ioc),
                 RejectCode::OrderTypeNotInPhase, buyer(kAlice, kFirmA, 3, "B2"));
  // Resume via a call (the session is continuous trading): the call publishes its indicative.
  EXPECT_RUN(run(resume_cmd(kMain, true)),
                seq(status_changed(kMain, TradingStatus::ResumeCall),
                    indicative(kMain, px(10'00), 200, 0, 0, CrossType::Halt)));
  // Continuous trading on the schedule does not end a resumption call; the end of it does.
  EXPECT_RUN(run(phase(TradingStatus::Trading)), seq());
  EXPECT_RUN(run(resume_cmd(kMain, false)),
                seq(fill(b, s, px(10'00), 200, 0, 0, 1, Liquidity::HaltCross),
                    cross_trade(kMain, px(10'00), 200, 2, CrossType::Halt),
                    status_changed(kMain, TradingStatus::Trading)));
}

TEST_F(AuctionTest, ResumingStraightIntoContinuousTradingUncrossesACrossedBookFirst) {
  EngineConfig cfg = default_config();
  cfg.halt_accepts_orders = true;
  rebuild(cfg);
  run(halt(kMain));
  const Ord b = buyer(kAlice, kFirmA, 1, "B1");
  const Ord s = seller(kBob, kFirmB, 2, "S1");
  enter(b, 300, px(10'01));
  enter(s, 100, px(10'01));
  EXPECT_RUN(run(resume(kMain)), seq(fill(b, s, px(10'01), 100, 200, 0, 1, Liquidity::HaltCross),
                                        cross_trade(kMain, px(10'01), 100, 2, CrossType::Halt),
                                        status_changed(kMain, TradingStatus::Trading)));
  EXPECT_EQ(levels(kMain, Side::Buy), (Levels{{px(10'01), 200, 1}}));
}

TEST_F(AuctionTest, ScheduleCommandsForEveryInstrumentAndBadOnesAreRefused) {
  const Events ev = run(make_schedule_phase(next_ts(), InstrumentId{0}, TradingStatus::OpeningCall));
  std::size_t changed = 0;
  for (const Event& e : ev) changed += e.type == EventType::TradingStatusChanged ? 1 : 0;
  EXPECT_EQ(changed, engine().config().instruments.size());
  for (std::uint16_t i = 1; i <= engine().config().instruments.size(); ++i)
    EXPECT_EQ(engine().status(InstrumentId{i}), TradingStatus::OpeningCall);
  // The schedule only sets session phases; Set and Resume need one instrument.
  for (const Command& bad : {make_schedule_phase(next_ts(), kMain, TradingStatus::Halted),
                             make_schedule_phase(next_ts(), kMain, TradingStatus::ResumeCall)}) {
    const Events r = run(bad);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].code, static_cast<std::uint8_t>(RejectCode::InvalidTransition));
  }
  const Events r = run(make_trading_status(next_ts(), InstrumentId{0}, TradingStatus::Trading));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].code, static_cast<std::uint8_t>(RejectCode::UnknownSymbol));
}

// ---- the auction against a brute force -----------------------------------------------------------

struct BruteOrder {
  Side side;
  std::int64_t price;
  std::uint32_t qty;
  std::uint64_t seq;
};

struct BruteResult {
  std::int64_t price = 0;
  std::uint64_t paired = 0;
  std::uint64_t imbalance = 0;
};

/// Tries every tick between the limits; keeps the most volume, then the least surplus, then the
/// smallest distance to the reference (a tie in distance cannot happen inside one interval, but
/// if it did the lower price would win here and the test would say so).
BruteResult brute_auction(const std::vector<BruteOrder>& orders, std::int64_t down, std::int64_t up,
                          std::int64_t tick, std::int64_t ref) {
  BruteResult best{};
  std::int64_t best_dist = 0;
  for (std::int64_t p = down; p <= up; p += tick) {
    std::uint64_t buy = 0;
    std::uint64_t sell = 0;
    for (const BruteOrder& o : orders) {
      if (o.side == Side::Buy && o.price >= p) buy += o.qty;
      if (o.side == Side::Sell && o.price <= p) sell += o.qty;
    }
    const std::uint64_t v = std::min(buy, sell);
    if (v == 0) continue;
    const std::uint64_t imb = buy > sell ? buy - sell : sell - buy;
    const std::int64_t dist = p > ref ? p - ref : ref - p;
    if (best.paired == 0 || v > best.paired || (v == best.paired && imb < best.imbalance) ||
        (v == best.paired && imb == best.imbalance && dist < best_dist)) {
      best = {p, v, imb};
      best_dist = dist;
    }
  }
  return best;
}

TEST_F(AuctionTest, RandomBooksUncrossAsTheBruteForceSays) {
  std::mt19937_64 rng(20261125);
  const std::int64_t tick = px(0'01).value();
  const std::int64_t down = px(9'00).value();
  const std::int64_t up = px(11'00).value();
  for (int round = 0; round < 300; ++round) {
    EngineConfig cfg = default_config();
    cfg.max_orders = 4096;
    cfg.max_tokens = 8192;
    rebuild(cfg);
    run(phase(TradingStatus::OpeningCall));
    // A narrow band of prices makes ties common; sometimes one side only.
    const int width = 1 + static_cast<int>(rng() % 12);
    const std::int64_t centre = px(10'00).value() + (static_cast<std::int64_t>(rng() % 21) - 10) * tick;
    const int n = 1 + static_cast<int>(rng() % 40);
    std::vector<BruteOrder> orders;
    std::vector<Ord> ords;
    for (int i = 0; i < n; ++i) {
      const Side side = rng() % 2 ? Side::Buy : Side::Sell;
      const std::int64_t p =
          std::clamp(centre + (static_cast<std::int64_t>(rng() % (2 * width + 1)) - width) * tick, down, up);
      const std::uint32_t qty = static_cast<std::uint32_t>(100 * (1 + rng() % 10));
      const Ord o = ord(side == Side::Buy ? kAlice : kBob, side == Side::Buy ? kFirmA : kFirmB, side,
                        static_cast<std::uint64_t>(i + 1), numbered("R", static_cast<std::uint64_t>(i)));
      const Events ev = run(limit(o, qty, Price{p}));
      ASSERT_FALSE(ev.empty());
      ASSERT_EQ(ev[0].type, EventType::Accepted);
      orders.push_back({side, p, qty, static_cast<std::uint64_t>(i)});
      ords.push_back(o);
    }
    const BruteResult want = brute_auction(orders, down, up, tick, px(10'00).value());
    const AuctionInfo got = engine().indicative(kMain);
    ASSERT_EQ(got.paired, want.paired) << "round " << round;
    if (want.paired == 0) {
      EXPECT_EQ(got.price, Price{0});
      continue;
    }
    ASSERT_EQ(got.price.value(), want.price) << "round " << round;
    ASSERT_EQ(got.imbalance, want.imbalance) << "round " << round;

    // Uncross; then every order's execution is what price-time priority at one price gives.
    const Events ev = run(phase(TradingStatus::Trading));
    std::vector<std::uint64_t> filled(orders.size(), 0);
    std::uint64_t total = 0;
    for (const Event& e : ev) {
      if (e.type == EventType::Executed) {
        EXPECT_EQ(e.price.value(), want.price);
        filled[e.order_id.value() - 1] += e.qty.value();
        total += e.qty.value();
      }
    }
    EXPECT_EQ(total, 2 * want.paired);
    for (Side side : {Side::Buy, Side::Sell}) {
      std::vector<BruteOrder> eligible;
      for (const BruteOrder& o : orders) {
        if (o.side == side && (side == Side::Buy ? o.price >= want.price : o.price <= want.price)) eligible.push_back(o);
      }
      std::sort(eligible.begin(), eligible.end(), [side](const BruteOrder& a, const BruteOrder& b) {
        if (a.price != b.price) return side == Side::Buy ? a.price > b.price : a.price < b.price;
        return a.seq < b.seq;
      });
      std::uint64_t left = want.paired;
      std::vector<std::uint64_t> expect(orders.size(), 0);
      for (const BruteOrder& o : eligible) {
        const std::uint64_t q = std::min<std::uint64_t>(left, o.qty);
        expect[o.seq] = q;
        left -= q;
      }
      for (std::size_t i = 0; i < orders.size(); ++i) {
        if (orders[i].side != side) continue;
        EXPECT_EQ(filled[i], expect[i]) << "round " << round << " order " << i;
      }
    }
    const auto bid = engine().best(kMain, Side::Buy);
    const auto ask = engine().best(kMain, Side::Sell);
    if (bid && ask) {
      EXPECT_LT(bid->value(), ask->value()) << "round " << round;
    }
  }
}

}  // namespace
}  // namespace peregrine::test
