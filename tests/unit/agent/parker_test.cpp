// agent::Parker and agent::WaitStrategy on one thread: when the eventfd is written, when a park
// ends, what the spin does. The two-thread runs through the SPSC ring (10M messages, under
// ThreadSanitizer in `make test`) are tests/unit/app/parking_ring_test.cpp: the ring is not
// the agent library's.

#include "peregrine/agent/parker.hpp"
#include "peregrine/agent/wait_strategy.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace peregrine::agent {
namespace {

using namespace std::chrono_literals;

TEST(ParkerTest, AWakeWithNobodyParkingWritesNothing) {
  Parker p;
  for (int i = 0; i < 1000; ++i) p.wake();
  EXPECT_EQ(p.signals(), 0u);
  p.prepare_park();
  EXPECT_FALSE(p.park(1ms)) << "no wake was written, so the park times out";
}

TEST(ParkerTest, AWakeAfterTheAnnouncementWritesTheEventfdOnceForManyProducers) {
  Parker p;
  p.prepare_park();
  p.wake();
  p.wake();  // a second producer: the first took the announcement
  EXPECT_EQ(p.signals(), 1u);
  EXPECT_TRUE(p.park(10s)) << "the wake came before the park: the eventfd is readable";
  p.wake();  // the park cleared the announcement
  EXPECT_EQ(p.signals(), 1u);
}

TEST(ParkerTest, ACancelledAnnouncementTakesNoWake) {
  Parker p;
  p.prepare_park();
  p.cancel_park();
  p.wake();
  EXPECT_EQ(p.signals(), 0u);
}

TEST(ParkerTest, ASignalWakesWhateverTheAnnouncement) {
  Parker p;
  p.signal();
  EXPECT_EQ(p.signals(), 1u);
  p.prepare_park();
  EXPECT_TRUE(p.park(-1ns));  // would block forever without the signal
}

TEST(ParkerTest, ConsumeClearsTheEventfd) {
  Parker p;
  p.signal();
  p.signal();
  p.consume();
  p.prepare_park();
  EXPECT_FALSE(p.park(1ms));
}

TEST(WaitStrategyTest, ParkDoesNotSleepWhenTheRecheckFindsWork) {
  Parker p;
  WaitStrategy w(p, {IdleStrategyKind::Park, 0ns, 10s});
  int checks = 0;
  w.idle(0, [&] {
    ++checks;
    return true;
  });
  EXPECT_EQ(checks, 1);
  EXPECT_EQ(w.parks(), 0u);
  p.wake();  // the announcement was withdrawn
  EXPECT_EQ(p.signals(), 0u);
}

TEST(WaitStrategyTest, ParkSleepsUntilTheLimitWhenNothingComes) {
  Parker p;
  WaitStrategy w(p, {IdleStrategyKind::Park, 0ns, 1ms});
  w.idle(0, [] { return false; });
  EXPECT_EQ(w.parks(), 1u);
  EXPECT_EQ(w.timeouts(), 1u);
}

TEST(WaitStrategyTest, SpinThenParkSpinsBeforeItAnnouncesItself) {
  Parker p;
  WaitStrategy w(p, {IdleStrategyKind::SpinThenPark, 1h, 1ms});
  int checks = 0;
  for (int i = 0; i < 1000; ++i) w.idle(0, [&] {
      ++checks;
      return false;
    });
  EXPECT_EQ(checks, 0) << "an hour of spin has not passed";
  EXPECT_EQ(w.parks(), 0u);
}

TEST(WaitStrategyTest, SpinThenParkParksOnceTheSpinIsOverAndSpinsAgainAfter) {
  Parker p;
  WaitStrategy w(p, {IdleStrategyKind::SpinThenPark, 1us, 1ms});
  const auto start = std::chrono::steady_clock::now();
  while (w.parks() == 0 && std::chrono::steady_clock::now() - start < 10s) w.idle(0, [] { return false; });
  EXPECT_EQ(w.parks(), 1u);
  w.idle(1, [] { return false; });  // work: the next idle pass spins first
  w.idle(0, [] { return false; });
  EXPECT_EQ(w.parks(), 1u);
}

TEST(WaitStrategyTest, TheOtherKindsNeverPark) {
  Parker p;
  for (const auto kind : {IdleStrategyKind::BusySpin, IdleStrategyKind::Yield, IdleStrategyKind::BackOff}) {
    WaitStrategy w(p, {kind, 0ns, 10s});
    for (int i = 0; i < 20; ++i) w.idle(0, [] { return false; });
    EXPECT_EQ(w.parks(), 0u) << to_string(kind);
  }
}

}  // namespace
}  // namespace peregrine::agent
