// The acknowledgement rule in the journal writer (issue #15; docs/ha.md, "The acknowledgement
// rule"): under `replicated` a record is durable once written here and acknowledged by the
// standby; under `replicated+fsync` once synced here and acknowledged; under the fallback
// (`ha.standby_lost: fsync`) once synced here alone. The standby's own journal (no
// await_replica) is durable once written, and its fsync follows within the window.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "peregrine/journal/journal.hpp"
#include "unit/journal/journal_fixture.hpp"

namespace peregrine::journal {
namespace {

using namespace test;
using namespace std::chrono_literals;

WriterOptions options(const TempDir& dir, Durability d, bool await_replica) {
  WriterOptions o;
  o.dir = dir.path() / "j";
  o.durability = d;
  o.await_replica = await_replica;
  o.sync_window = 5ms;
  o.min_free_bytes = 0;
  o.segment_bytes = 64 * 1024;
  return o;
}

TEST(AckRuleTest, ReplicatedReleasesNothingTheStandbyHasNotAcknowledged) {
  TempDir dir;
  JournalWriter w(options(dir, Durability::Replicated, true));
  w.open(0);
  w.start();
  for (std::uint64_t i = 1; i <= 100; ++i) push(w, test_command(i));
  w.parker().wake();
  ASSERT_TRUE(wait_for([&] { return w.written_seq() == 100; }));
  // Written, even synced, but the standby holds nothing: nothing is durable.
  ASSERT_TRUE(wait_for([&] { return w.synced_seq() == 100; }));
  EXPECT_EQ(w.durable_seq(), 0u);
  w.on_replica_ack(40);
  EXPECT_EQ(w.durable_seq(), 40u);
  w.on_replica_ack(30);  // older: ignored
  EXPECT_EQ(w.durable_seq(), 40u);
  EXPECT_EQ(w.replica_acked(), 40u);
  // An acknowledgement never releases past what this node has written.
  w.on_replica_ack(1000);
  EXPECT_EQ(w.durable_seq(), 100u);
  w.stop();
}

TEST(AckRuleTest, ReplicatedDoesNotWaitForTheLocalFsync) {
  TempDir dir;
  WriterOptions o = options(dir, Durability::Replicated, true);
  o.sync_window = std::chrono::hours{1};  // a sync only when idle
  JournalWriter w(o);
  w.open(0);
  w.on_replica_ack(1'000'000);  // a standby ahead of every write: the rule is "written here"
  w.start();
  for (std::uint64_t i = 1; i <= 50; ++i) push(w, test_command(i));
  w.parker().wake();
  ASSERT_TRUE(wait_for([&] { return w.durable_seq() == 50; }));
  EXPECT_GE(w.written_seq(), w.durable_seq());
  // The fsync follows in the background once the writer has nothing new.
  ASSERT_TRUE(wait_for([&] { return w.synced_seq() == 50; }));
  w.stop();
}

TEST(AckRuleTest, ReplicatedFsyncWaitsForBothTheSyncAndTheStandby) {
  TempDir dir;
  JournalWriter w(options(dir, Durability::ReplicatedFsync, true));
  w.open(0);
  w.start();
  for (std::uint64_t i = 1; i <= 20; ++i) push(w, test_command(i));
  w.parker().wake();
  ASSERT_TRUE(wait_for([&] { return w.synced_seq() == 20; }));
  EXPECT_EQ(w.durable_seq(), 0u);
  w.on_replica_ack(20);
  EXPECT_EQ(w.durable_seq(), 20u);
  for (std::uint64_t i = 21; i <= 30; ++i) push(w, test_command(i));
  w.parker().wake();
  w.on_replica_ack(30);  // the standby may acknowledge before this node has synced
  ASSERT_TRUE(wait_for([&] { return w.durable_seq() == 30; }));
  EXPECT_EQ(w.synced_seq(), 30u);
  w.stop();
}

TEST(AckRuleTest, FallbackReleasesOnTheLocalSyncAloneAndNeverGoesBack) {
  TempDir dir;
  JournalWriter w(options(dir, Durability::Replicated, true));
  agent::Parker listener;
  w.set_durable_listener(&listener);
  w.open(0);
  w.start();
  for (std::uint64_t i = 1; i <= 10; ++i) push(w, test_command(i));
  w.parker().wake();
  ASSERT_TRUE(wait_for([&] { return w.synced_seq() == 10; }));
  EXPECT_EQ(w.durable_seq(), 0u);
  listener.prepare_park();
  w.set_replica_fallback(true);  // the standby is gone: ha.standby_lost fsync
  EXPECT_TRUE(w.replica_fallback());
  EXPECT_EQ(w.durable_seq(), 10u);
  EXPECT_TRUE(listener.park(0ns)) << "the releasing thread is woken";
  for (std::uint64_t i = 11; i <= 15; ++i) push(w, test_command(i));
  w.parker().wake();
  ASSERT_TRUE(wait_for([&] { return w.durable_seq() == 15; }));
  // The standby is back but holds less: what was released stays released.
  w.set_replica_fallback(false);
  w.on_replica_ack(12);
  EXPECT_EQ(w.durable_seq(), 15u);
  w.on_replica_ack(15);
  for (std::uint64_t i = 16; i <= 18; ++i) push(w, test_command(i));
  w.parker().wake();
  ASSERT_TRUE(wait_for([&] { return w.written_seq() == 18; }));
  EXPECT_EQ(w.durable_seq(), 15u);
  w.on_replica_ack(18);
  EXPECT_EQ(w.durable_seq(), 18u);
  w.stop();
}

TEST(AckRuleTest, AStandbysOwnJournalIsDurableOnceWrittenAndSyncedWithinItsWindow) {
  TempDir dir;
  JournalWriter w(options(dir, Durability::Replicated, false));
  w.open(0);
  w.start();
  for (std::uint64_t i = 1; i <= 200; ++i) push(w, test_command(i));
  w.parker().wake();
  ASSERT_TRUE(wait_for([&] { return w.durable_seq() == 200; }));
  ASSERT_TRUE(wait_for([&] { return w.synced_seq() == 200; }));
  w.stop();
  EXPECT_EQ(read_all(dir.path() / "j").seqs.size(), 200u);
}

TEST(AckRuleTest, DurableSeqOnlyGrowsWhileAcksRaceTheWriter) {
  TempDir dir;
  JournalWriter w(options(dir, Durability::Replicated, true));
  w.open(0);
  w.start();
  constexpr std::uint64_t kN = 20'000;
  std::atomic<bool> done{false};
  std::atomic<bool> monotonic{true};
  std::atomic<bool> bounded{true};
  std::thread acker([&] {  // the link's thread: acknowledges what it sees written
    std::uint64_t last = 0;
    while (!done.load()) {
      const std::uint64_t written = w.written_seq();
      w.on_replica_ack(written);
      const std::uint64_t d = w.durable_seq();
      if (d < last) monotonic = false;
      if (d > w.written_seq()) bounded = false;
      last = d;
    }
  });
  for (std::uint64_t i = 1; i <= kN; ++i) push(w, test_command(i));
  w.parker().wake();
  EXPECT_TRUE(wait_for([&] { return w.durable_seq() == kN; }));
  done = true;
  acker.join();
  EXPECT_TRUE(monotonic.load());
  EXPECT_TRUE(bounded.load());
  w.stop();
}

}  // namespace
}  // namespace peregrine::journal
