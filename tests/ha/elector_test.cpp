// The elector's rules on an in-memory Lease store (fake_lease_api.hpp): fast, and the failures a
// real server rarely shows on demand (calls that fail or hang). The same rules against the real
// kube-apiserver: apiserver_test.cpp.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <optional>
#include <mutex>
#include <vector>

#include "fake_lease_api.hpp"
#include "peregrine/ha/elector.hpp"

namespace peregrine::ha {
namespace {

using namespace std::chrono_literals;
using testing::FakeLeaseApi;

ElectorConfig fast(std::string identity) {
  ElectorConfig c;
  c.lease_name = "market";
  c.identity = std::move(identity);
  c.lease_duration = 1s;
  c.renew_deadline = 500ms;
  c.retry_period = 50ms;
  return c;
}

// What the callbacks saw. They run on the elector's thread, after is_leader() has changed.
struct Recorder {
  std::mutex m;
  std::condition_variable cv;
  std::vector<std::int64_t> started;
  std::vector<StepDownReason> stopped;
  ElectorCallbacks callbacks() {
    return {[this](std::int64_t e) { std::lock_guard l(m); started.push_back(e); },
            [this](StepDownReason r) {
              { std::lock_guard l(m); stopped.push_back(r); }
              cv.notify_all();
            },
            {}};
  }
  std::vector<StepDownReason> stops() { std::lock_guard l(m); return stopped; }
  // The first step-down, waited for (bounded).
  std::optional<StepDownReason> first_stop(std::chrono::milliseconds bound) {
    std::unique_lock l(m);
    if (!cv.wait_for(l, bound, [&] { return !stopped.empty(); })) return std::nullopt;
    return stopped.front();
  }
};

TEST(ElectorTest, RefusesTimingsThatCannotBeSafe) {
  FakeLeaseApi api;
  auto with = [](auto change) { auto c = fast("a"); change(c); return c; };
  EXPECT_THROW(Elector(api, with([](ElectorConfig& c) { c.identity.clear(); })), std::invalid_argument);
  EXPECT_THROW(Elector(api, with([](ElectorConfig& c) { c.lease_duration = 1500ms; })), std::invalid_argument);
  EXPECT_THROW(Elector(api, with([](ElectorConfig& c) { c.renew_deadline = 1s; })), std::invalid_argument);
  EXPECT_THROW(Elector(api, with([](ElectorConfig& c) { c.retry_period = 500ms; })), std::invalid_argument);
  EXPECT_NO_THROW(Elector(api, fast("a")));
}

TEST(ElectorTest, CreatesTheLeaseAndLeadsWithEpochOne) {
  FakeLeaseApi api;
  Recorder rec;
  Elector e(api, fast("a"), rec.callbacks());
  e.start();
  ASSERT_TRUE(e.wait_for_leading(true, 5s));
  EXPECT_EQ(e.epoch(), 1);
  auto stored = api.stored("market");
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->holder_identity, "a");
  EXPECT_EQ(stored->lease_duration_seconds, 1);
  EXPECT_EQ(stored->lease_transitions, 1);
  // It renews: the stored renewTime moves on.
  const auto first = stored->resource_version;
  ASSERT_TRUE(e.wait_for_calls(e.acquisitions() + 5, 5s));
  EXPECT_NE(api.stored("market")->resource_version, first);
  EXPECT_TRUE(e.is_leader());
  e.stop();
  EXPECT_EQ(rec.stops(), std::vector<StepDownReason>{StepDownReason::Stopped});
  // Released: nobody holds it.
  EXPECT_EQ(api.stored("market")->holder_identity, "");
}

TEST(ElectorTest, StepsDownAtOnceWhenAnotherWriterChangesTheLease) {
  FakeLeaseApi api;
  Recorder rec;
  auto c = fast("a");
  c.release_on_stop = false;
  Elector e(api, c, rec.callbacks());
  e.start();
  ASSERT_TRUE(e.wait_for_leading(true, 5s));
  api.write_behind_the_elector("market", "b");
  ASSERT_TRUE(e.wait_for_leading(false, 5s));
  EXPECT_EQ(rec.first_stop(5s), StepDownReason::Conflict);
  EXPECT_NE(e.last_error().find("modified"), std::string::npos) << e.last_error();
  e.stop();
}

TEST(ElectorTest, StepsDownWhenRenewalsFailPastTheDeadline) {
  FakeLeaseApi api;
  Recorder rec;
  Elector e(api, fast("a"), rec.callbacks());
  e.start();
  ASSERT_TRUE(e.wait_for_leading(true, 5s));
  const auto failing_since = Elector::Clock::now();
  api.set_failing(true);
  ASSERT_TRUE(e.wait_for_leading(false, 5s));
  // Not at the first failure: at the deadline, 500 ms from the start of the last good renewal
  // (one retry period before the failures began, more if the VM stalled in between).
  EXPECT_GE(Elector::Clock::now() - failing_since, 500ms - 200ms);
  EXPECT_EQ(rec.first_stop(5s), StepDownReason::RenewDeadline);
  e.stop();
  EXPECT_EQ(rec.stops().size(), 1u);
}

TEST(ElectorTest, IsNoLongerLeaderAtTheDeadlineEvenWhileARenewalHangs) {
  FakeLeaseApi api;
  auto c = fast("a");
  c.release_on_stop = false;
  Elector e(api, c);
  e.start();
  ASSERT_TRUE(e.wait_for_leading(true, 5s));
  api.set_hanging(true);  // the elector's thread is now stuck inside a call
  const auto since = Elector::Clock::now();
  ASSERT_TRUE(e.wait_for_leading(false, 5s));
  EXPECT_LT(Elector::Clock::now() - since, 1s);  // before anyone else may take the Lease
  api.set_hanging(false);
  e.stop();
}

TEST(ElectorTest, ACandidateWaitsForExpiryThenTakesOverWithTheNextEpoch) {
  FakeLeaseApi api;
  auto ca = fast("a");
  ca.release_on_stop = false;  // a dead holder releases nothing
  auto a = std::make_unique<Elector>(api, ca);
  a->start();
  ASSERT_TRUE(a->wait_for_leading(true, 5s));
  Recorder rec;
  Elector b(api, fast("b"), rec.callbacks());
  b.start();
  ASSERT_TRUE(b.wait_for_calls(3, 5s));
  EXPECT_FALSE(b.is_leader());  // a renews: b waits
  EXPECT_EQ(b.holder(), "a");
  a->stop();
  const auto stopped = Elector::Clock::now();
  ASSERT_TRUE(b.wait_for_leading(true, 5s));
  // Not at once: the lease duration from b's first sight of a's last renewal (which may precede
  // the stop by a retry period, more if the VM stalled in between).
  EXPECT_GE(Elector::Clock::now() - stopped, 1s - 300ms);
  EXPECT_EQ(b.epoch(), a->epoch() + 1);
  EXPECT_EQ(api.stored("market")->lease_transitions, b.epoch());
  b.stop();
}

TEST(ElectorTest, ARestartedProcessWithTheSameIdentityTakesItBackWithANewEpoch) {
  FakeLeaseApi api;
  auto c = fast("a");
  c.release_on_stop = false;
  std::int64_t first = 0;
  {
    Elector e(api, c);
    e.start();
    ASSERT_TRUE(e.wait_for_leading(true, 5s));
    first = e.epoch();
  }
  Elector again(api, c);
  const auto start = Elector::Clock::now();
  again.start();
  ASSERT_TRUE(again.wait_for_leading(true, 5s));
  EXPECT_LT(Elector::Clock::now() - start, 900ms);  // no wait for expiry: it was us
  EXPECT_EQ(again.epoch(), first + 1);
  again.stop();
}

// single_term: a process that lost the Lease is deposed (the server's rule): it never takes the
// Lease again, even when it is free, so it cannot hold it against the node that now leads.
TEST(ElectorTest, WithSingleTermAProcessThatSteppedDownNeverTakesTheLeaseAgain) {
  FakeLeaseApi api;
  Recorder rec;
  auto c = fast("a");
  c.single_term = true;
  c.release_on_stop = false;
  Elector e(api, c, rec.callbacks());
  e.start();
  ASSERT_TRUE(e.wait_for_leading(true, 5s));
  api.write_behind_the_elector("market", "");  // written by another, then free: takeable
  EXPECT_EQ(rec.first_stop(5s), StepDownReason::Conflict);
  const std::uint64_t calls = e.calls();
  // Several retry periods: a candidate would have taken the free Lease by now; this one makes no
  // call at all (its thread has ended). The bound is on a wait that must fail.
  EXPECT_FALSE(e.wait_for_calls(calls + 1, 500ms));
  EXPECT_FALSE(e.is_leader());
  EXPECT_EQ(e.acquisitions(), 1u);
  EXPECT_EQ(api.stored("market")->holder_identity, "");
  e.stop();
  EXPECT_EQ(rec.stops().size(), 1u);
}

// min_epoch: the Lease's epoch is never below one the owner has already used.
TEST(ElectorTest, AnAcquisitionWritesAtLeastTheOwnersEpochFloor) {
  FakeLeaseApi api;
  auto c = fast("a");
  c.min_epoch = [] { return std::int64_t{7}; };
  {
    Elector e(api, c);
    e.start();
    ASSERT_TRUE(e.wait_for_leading(true, 5s));
    EXPECT_EQ(e.epoch(), 7);
    EXPECT_EQ(api.stored("market")->lease_transitions, 7);
  }
  // Released at stop; the next acquisition is the previous + 1 when that is above the floor.
  Elector again(api, c);
  again.start();
  ASSERT_TRUE(again.wait_for_leading(true, 5s));
  EXPECT_EQ(again.epoch(), 8);
  again.stop();
}

// may_take: a Lease of a newer epoch than the owner holds is not taken, and the reason is the
// last error; once the owner holds that epoch, it is.
TEST(ElectorTest, ALeaseOfAnEpochTheOwnerRefusesIsNotTaken) {
  FakeLeaseApi api;
  {
    auto first = fast("a");
    Elector e(api, first);
    e.start();
    ASSERT_TRUE(e.wait_for_leading(true, 5s));
    EXPECT_EQ(e.epoch(), 1);
  }  // released at epoch 1
  std::atomic<std::int64_t> holds{0};
  auto c = fast("b");
  c.may_take = [&holds](std::int64_t lease_epoch) {
    return lease_epoch > holds.load() ? "lease epoch " + std::to_string(lease_epoch) + " is newer" : std::string();
  };
  Elector e(api, c);
  e.start();
  ASSERT_TRUE(e.wait_for_calls(5, 5s));
  EXPECT_FALSE(e.is_leader());
  EXPECT_EQ(e.last_error(), "lease epoch 1 is newer");
  EXPECT_EQ(api.stored("market")->holder_identity, "");
  holds = 1;
  ASSERT_TRUE(e.wait_for_leading(true, 5s));
  EXPECT_EQ(e.epoch(), 2);
  e.stop();
}

// abandon(): a leader whose owner could not act on its term releases the Lease at the epoch it
// had before, so the next holder leads at that epoch + 1 as if the term had not been.
TEST(ElectorTest, AnAbandonedTermIsReleasedAtTheEpochBeforeIt) {
  FakeLeaseApi api;
  {
    Elector first(api, fast("a"));
    first.start();
    ASSERT_TRUE(first.wait_for_leading(true, 5s));
    EXPECT_EQ(first.epoch(), 1);
  }  // released at epoch 1
  Recorder rec;
  Elector e(api, fast("b"), rec.callbacks());
  e.start();
  ASSERT_TRUE(e.wait_for_leading(true, 5s));
  EXPECT_EQ(e.epoch(), 2);
  EXPECT_EQ(api.stored("market")->lease_transitions, 2);
  e.abandon();
  EXPECT_FALSE(e.is_leader());
  EXPECT_EQ(rec.stops(), std::vector<StepDownReason>{StepDownReason::Stopped});
  EXPECT_EQ(api.stored("market")->holder_identity, "");
  EXPECT_EQ(api.stored("market")->lease_transitions, 1);
  EXPECT_EQ(e.last_error(), "");
  Elector next(api, fast("c"));
  next.start();
  ASSERT_TRUE(next.wait_for_leading(true, 5s));
  EXPECT_EQ(next.epoch(), 2);
  next.stop();
  EXPECT_EQ(api.stored("market")->lease_transitions, 2);  // stop() keeps the epoch it led at
}

// leaseTransitions is an int32: an epoch above it is neither written nor clamped; the Lease is
// not taken, and the reason is the last error.
TEST(ElectorTest, AnEpochAboveInt32IsNeitherWrittenNorClamped) {
  FakeLeaseApi api;
  auto c = fast("a");
  std::atomic<std::int64_t> epoch_floor{kMaxLeaseEpoch + 1};
  c.min_epoch = [&epoch_floor] { return epoch_floor.load(); };
  Elector e(api, c);
  e.start();
  ASSERT_TRUE(e.wait_for_calls(3, 5s));
  EXPECT_FALSE(e.is_leader());
  EXPECT_EQ(e.acquisitions(), 0u);
  EXPECT_FALSE(api.stored("market"));  // not created either
  EXPECT_EQ(e.last_error(),
            "the new epoch 2147483648 is above 2147483647, the most the Lease's leaseTransitions (an int32) holds: not taken");
  epoch_floor = kMaxLeaseEpoch;  // the largest that fits is taken as it is
  ASSERT_TRUE(e.wait_for_leading(true, 5s));
  EXPECT_EQ(e.epoch(), kMaxLeaseEpoch);
  EXPECT_EQ(api.stored("market")->lease_transitions, kMaxLeaseEpoch);
  e.stop();  // released at the largest epoch: the next acquisition would be above it
  Elector next(api, fast("b"));
  next.start();
  ASSERT_TRUE(next.wait_for_calls(3, 5s));
  EXPECT_FALSE(next.is_leader());
  EXPECT_EQ(api.stored("market")->holder_identity, "");
  EXPECT_EQ(api.stored("market")->lease_transitions, kMaxLeaseEpoch);
  EXPECT_NE(next.last_error().find("the new epoch 2147483648 is above 2147483647"), std::string::npos) << next.last_error();
  next.stop();
}

TEST(ElectorTest, OfManyCandidatesExactlyOneLeads) {
  FakeLeaseApi api;
  std::vector<std::unique_ptr<Elector>> electors;
  for (int i = 0; i < 5; ++i) {
    electors.push_back(std::make_unique<Elector>(api, fast("e" + std::to_string(i))));
  }
  for (auto& e : electors) e->start();
  ASSERT_TRUE(electors[0]->wait_for_calls(10, 5s));
  for (int round = 0; round < 20; ++round) {
    int leaders = 0;
    for (auto& e : electors) leaders += e->is_leader() ? 1 : 0;
    EXPECT_LE(leaders, 1);
    ASSERT_TRUE(electors[0]->wait_for_calls(11 + round, 5s));
  }
  std::uint64_t acquisitions = 0;
  for (auto& e : electors) acquisitions += e->acquisitions();
  EXPECT_EQ(acquisitions, 1u);
}

}  // namespace
}  // namespace peregrine::ha
