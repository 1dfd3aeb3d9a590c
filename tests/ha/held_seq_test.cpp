// HeldSeq (peregrine/ha/held_seq.hpp): the drop copy of a leader under ha.failover: lease
// publishes what was durable while it held the Lease, and nothing beyond while it does not.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "peregrine/ha/held_seq.hpp"

namespace peregrine::ha {
namespace {

TEST(HeldSeqTest, PublishesTheDurableSeqOnlyWhileTheLeaseIsHeld) {
  HeldSeq s;
  EXPECT_EQ(s.bound(5, false), 0u);  // never held: nothing
  EXPECT_EQ(s.bound(10, true), 10u);
  EXPECT_EQ(s.bound(12, true), 12u);
  // Past the renew deadline, or deposed: records made durable since (its own fsync, the standby
  // gone) are not published, however far the durable seq goes.
  EXPECT_EQ(s.bound(20, false), 12u);
  EXPECT_EQ(s.bound(1000, false), 12u);
  EXPECT_EQ(s.held(), 12u);
  // A renewal stuck past the deadline that succeeds after all: it was the only holder meanwhile.
  EXPECT_EQ(s.bound(1000, true), 1000u);
  EXPECT_EQ(s.bound(1001, false), 1000u);
}

// The drop copy's thread and the metrics thread ask at once, while the durable seq moves and the
// Lease comes and goes: what each caller gets never decreases and never passes the durable seq.
TEST(HeldSeqTest, NeverDecreasesForACallerAndNeverPassesTheDurableSeq) {
  HeldSeq s;
  std::atomic<std::uint64_t> durable{0};
  std::atomic<bool> held{true};
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::atomic<std::uint64_t> answers_while_not_held{0};
  std::thread writer([&] {  // until both callers have made all their calls
    for (std::uint64_t i = 0; !done.load(std::memory_order_acquire); ++i) {
      durable.fetch_add(1, std::memory_order_release);
      if (i % 1000 == 0) held.store(!held.load(std::memory_order_relaxed), std::memory_order_release);
    }
  });
  std::vector<std::thread> callers;
  for (int t = 0; t < 2; ++t) {
    callers.emplace_back([&] {
      std::uint64_t last = 0;
      for (int i = 0; i < 200'000; ++i) {
        const std::uint64_t d = durable.load(std::memory_order_acquire);
        const bool h = held.load(std::memory_order_acquire);
        const std::uint64_t r = s.bound(d, h);
        if (r < last || r > durable.load(std::memory_order_acquire)) failures.fetch_add(1);
        if (!h) answers_while_not_held.fetch_add(1, std::memory_order_relaxed);
        last = r;
      }
    });
  }
  for (auto& c : callers) c.join();
  done.store(true, std::memory_order_release);
  writer.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(answers_while_not_held.load(), 0u);  // both cases were exercised
  EXPECT_LE(s.held(), durable.load());
}

}  // namespace
}  // namespace peregrine::ha
