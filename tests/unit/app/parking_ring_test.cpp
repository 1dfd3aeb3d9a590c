// The parking protocol (agent::Parker, agent::WaitStrategy) between real threads through the
// SPSC ring, as the core loop, the journal writer and the io thread use it. Labelled tsan: `make
// test` runs these under ThreadSanitizer too. A lost wake-up would leave the consumer asleep
// with a message waiting: every park here has a 10 s limit, and a park that reaches it while the
// producers are not finished is counted and fails the test (instead of hanging it).

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "peregrine/agent/parker.hpp"
#include "peregrine/agent/wait_strategy.hpp"
#include "peregrine/ring/spsc_ring.hpp"

namespace peregrine::app {
namespace {

using namespace std::chrono_literals;
using Ring = ring::SpscRing<std::uint64_t, 1024>;

// Pushes 1..n in bursts of random length, waking the consumer after each burst (as the core
// wakes the journal writer once per pass); yields now and then so that the consumer runs dry
// and parks often.
void produce(Ring& ring, agent::Parker& parker, std::uint64_t n, std::uint32_t seed) {
  std::minstd_rand rng(seed);
  std::uint64_t next = 1;
  while (next <= n) {
    const std::uint64_t burst = 1 + rng() % 64;
    for (std::uint64_t i = 0; i < burst && next <= n;) {
      if (ring.try_push(next) == ring::PushResult::Ok) {
        ++next;
        ++i;
      } else {
        parker.wake();  // full: make sure the consumer is draining
        agent::cpu_relax();
      }
    }
    parker.wake();
    if (rng() % 8 == 0) std::this_thread::yield();
  }
}

TEST(ParkingRingTest, TenMillionMessagesReachAConsumerThatParksWheneverTheRingIsEmpty) {
  constexpr std::uint64_t kMessages = 10'000'000;
  auto ring = std::make_unique<Ring>();
  agent::Parker parker;
  std::uint64_t expected = 1;
  std::uint64_t out_of_order = 0;
  std::uint64_t parks = 0;
  std::uint64_t announcements = 0;
  std::uint64_t lost_wakeups = 0;
  std::thread consumer([&] {
    while (expected <= kMessages) {
      const std::size_t n = ring->drain(
          [&](std::uint64_t& v) {
            if (v != expected) ++out_of_order;
            expected = v + 1;
          },
          256);
      if (n != 0) continue;
      parker.prepare_park();
      ++announcements;
      if (ring->front() != nullptr) {  // the re-check
        parker.cancel_park();
        continue;
      }
      ++parks;
      if (!parker.park(10s)) ++lost_wakeups;
    }
  });
  std::thread producer([&] { produce(*ring, parker, kMessages, 1); });
  producer.join();
  consumer.join();
  EXPECT_EQ(expected, kMessages + 1) << "every message arrived";
  EXPECT_EQ(out_of_order, 0u);
  EXPECT_EQ(lost_wakeups, 0u) << "a park reached its 10 s limit while messages were coming";
  EXPECT_GT(parks, 0u) << "the consumer never parked: the test did not exercise the protocol";
  EXPECT_GT(parker.signals(), 0u);
  EXPECT_LE(parker.signals(), announcements) << "a producer writes the eventfd only once per announcement";
}

TEST(ParkingRingTest, ASpinThenParkConsumerOfTwoRingsLosesNothingFromTwoProducers) {
  // The core's shape: several producers, each with its own ring, one consumer and one parker.
  constexpr std::uint64_t kPerProducer = 2'000'000;
  auto a = std::make_unique<Ring>();
  auto b = std::make_unique<Ring>();
  agent::Parker parker;
  std::uint64_t next_a = 1;
  std::uint64_t next_b = 1;
  std::uint64_t out_of_order = 0;
  std::uint64_t parks = 0;
  std::uint64_t timeouts = 0;
  std::thread consumer([&] {
    agent::WaitStrategy wait(parker, {agent::IdleStrategyKind::SpinThenPark, 2us, 10s});
    while (next_a <= kPerProducer || next_b <= kPerProducer) {
      int work = 0;
      for (auto [ring, next] : {std::pair{a.get(), &next_a}, std::pair{b.get(), &next_b}}) {
        work += static_cast<int>(ring->drain(
            [&, next = next](std::uint64_t& v) {
              if (v != *next) ++out_of_order;
              *next = v + 1;
            },
            256));
      }
      if (next_a > kPerProducer && next_b > kPerProducer) break;
      wait.idle(work, [&] { return a->front() != nullptr || b->front() != nullptr; });
    }
    parks = wait.parks();
    timeouts = wait.timeouts();
  });
  std::thread pa([&] { produce(*a, parker, kPerProducer, 2); });
  std::thread pb([&] { produce(*b, parker, kPerProducer, 3); });
  pa.join();
  pb.join();
  consumer.join();
  EXPECT_EQ(next_a, kPerProducer + 1);
  EXPECT_EQ(next_b, kPerProducer + 1);
  EXPECT_EQ(out_of_order, 0u);
  EXPECT_EQ(timeouts, 0u) << "a park reached its 10 s limit while messages were coming";
  EXPECT_GT(parks, 0u) << "the consumer never parked: the test did not exercise the protocol";
}

}  // namespace
}  // namespace peregrine::app
