// Idle strategies: parsing of their configuration names and the back-off's phases.

#include "peregrine/agent/idle_strategy.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <variant>

namespace peregrine::agent {
namespace {

using std::chrono::nanoseconds;

TEST(IdleStrategyTest, ParsesTheFiveConfigurationNames) {
  EXPECT_EQ(parse_idle_strategy("busy-spin"), IdleStrategyKind::BusySpin);
  EXPECT_EQ(parse_idle_strategy("yield"), IdleStrategyKind::Yield);
  EXPECT_EQ(parse_idle_strategy("backoff"), IdleStrategyKind::BackOff);
  EXPECT_EQ(parse_idle_strategy("spin-then-park"), IdleStrategyKind::SpinThenPark);
  EXPECT_EQ(parse_idle_strategy("park"), IdleStrategyKind::Park);
}

TEST(IdleStrategyTest, RefusesUnknownNames) {
  EXPECT_EQ(parse_idle_strategy(""), std::nullopt);
  EXPECT_EQ(parse_idle_strategy("busy_spin"), std::nullopt);
  EXPECT_EQ(parse_idle_strategy("BusySpin"), std::nullopt);
  EXPECT_EQ(parse_idle_strategy("Yield"), std::nullopt);
  EXPECT_EQ(parse_idle_strategy("back-off"), std::nullopt);
  EXPECT_EQ(parse_idle_strategy("backoff "), std::nullopt);
  EXPECT_EQ(parse_idle_strategy("sleep"), std::nullopt);
}

TEST(IdleStrategyTest, NamesRoundTrip) {
  for (const auto kind : {IdleStrategyKind::BusySpin, IdleStrategyKind::Yield, IdleStrategyKind::BackOff,
                          IdleStrategyKind::SpinThenPark, IdleStrategyKind::Park}) {
    EXPECT_EQ(parse_idle_strategy(to_string(kind)), kind) << to_string(kind);
  }
  static_assert(parse_idle_strategy("backoff") == IdleStrategyKind::BackOff, "usable at compile time");
}

TEST(IdleStrategyTest, MakesTheStrategyOfTheParsedKind) {
  EXPECT_TRUE(std::holds_alternative<BusySpinIdle>(make_idle_strategy(IdleStrategyKind::BusySpin)));
  EXPECT_TRUE(std::holds_alternative<YieldIdle>(make_idle_strategy(IdleStrategyKind::Yield)));
  EXPECT_TRUE(std::holds_alternative<BackOffIdle>(make_idle_strategy(IdleStrategyKind::BackOff)));
  // Nobody wakes a thread that only has an AnyIdleStrategy: the parking kinds back off instead.
  EXPECT_TRUE(std::holds_alternative<BackOffIdle>(make_idle_strategy(IdleStrategyKind::SpinThenPark)));
  EXPECT_TRUE(std::holds_alternative<BackOffIdle>(make_idle_strategy(IdleStrategyKind::Park)));
}

TEST(IdleStrategyTest, TheFreeFunctionsActOnTheHeldStrategyItself) {
  // idle() and reset() on AnyIdleStrategy reach the strategy in the variant, not a copy: the
  // back-off's state moves with them.
  AnyIdleStrategy backoff = make_idle_strategy(IdleStrategyKind::BackOff);
  const auto park = [&] { return std::get<BackOffIdle>(backoff).next_park(); };
  ASSERT_EQ(park(), nanoseconds{1'000});
  for (int i = 0; i < 10 + 5 + 3; ++i) idle(backoff, 0);  // the default 10 spins, 5 yields, 3 parks
  EXPECT_EQ(park(), nanoseconds{8'000});
  idle(backoff, 1);  // work starts it over
  EXPECT_EQ(park(), nanoseconds{1'000});
  for (int i = 0; i < 10 + 5 + 2; ++i) idle(backoff, 0);
  EXPECT_EQ(park(), nanoseconds{4'000});
  reset(backoff);
  EXPECT_EQ(park(), nanoseconds{1'000});
}

TEST(IdleStrategyTest, BackOffParksOnlyAfterSpinningAndYielding) {
  BackOffIdle backoff{BackOffParams{3, 2, nanoseconds{1'000}, nanoseconds{8'000}}};
  for (int i = 0; i < 3 + 2; ++i) {
    backoff.idle(0);
    EXPECT_EQ(backoff.next_park(), nanoseconds{1'000}) << "pass " << i << " must still spin or yield";
  }
  backoff.idle(0);
  EXPECT_EQ(backoff.next_park(), nanoseconds{2'000});
}

TEST(IdleStrategyTest, BackOffParkDoublesUpToTheMaximum) {
  BackOffIdle backoff{BackOffParams{0, 0, nanoseconds{1'000}, nanoseconds{5'000}}};
  backoff.idle(0);
  EXPECT_EQ(backoff.next_park(), nanoseconds{2'000});
  backoff.idle(0);
  EXPECT_EQ(backoff.next_park(), nanoseconds{4'000});
  backoff.idle(0);
  EXPECT_EQ(backoff.next_park(), nanoseconds{5'000});
  backoff.idle(0);
  EXPECT_EQ(backoff.next_park(), nanoseconds{5'000});
}

TEST(IdleStrategyTest, BackOffStartsOverAfterWork) {
  BackOffIdle backoff{BackOffParams{0, 0, nanoseconds{1'000}, nanoseconds{64'000}}};
  backoff.idle(0);
  backoff.idle(0);
  ASSERT_EQ(backoff.next_park(), nanoseconds{4'000});
  backoff.idle(5);
  EXPECT_EQ(backoff.next_park(), nanoseconds{1'000});
  backoff.idle(0);
  backoff.idle(0);
  backoff.reset();
  EXPECT_EQ(backoff.next_park(), nanoseconds{1'000});
}

TEST(IdleStrategyTest, BackOffRaisesAMaximumBelowTheMinimum) {
  BackOffIdle backoff{BackOffParams{0, 0, nanoseconds{2'000}, nanoseconds{1'000}}};
  backoff.idle(0);
  EXPECT_EQ(backoff.next_park(), nanoseconds{2'000});
}

}  // namespace
}  // namespace peregrine::agent
