// The replication links on loopback (issue #15; docs/ha.md, "Replication"): a leader's journal
// writer and LeaderLink, a standby's writer and StandbyLink, in one process. Catch-up from the
// leader's journal files then live records, byte-identical journals, a standby restarted from its
// own journal, a lost standby, an old leader learning from a Subscribe that it is deposed, and a
// standby whose journal is ahead of the leader's (its tail must be cut: refused), an old leader
// rejoining a promoted one (refused when it holds records past the promotion's EpochStart record,
// followed otherwise), and the standby's epoch kept on disk. The standby's refusal of an older
// epoch's frames is StandbyGateTest's (replication_test.cpp).

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "peregrine/ha/epoch_file.hpp"
#include "peregrine/ha/replication_link.hpp"
#include "peregrine/journal/journal.hpp"
#include "unit/journal/journal_fixture.hpp"

namespace peregrine::ha {
namespace {

using namespace journal;
using namespace journal::test;
using namespace std::chrono_literals;

constexpr std::uint64_t kFingerprint = 0xfeed;

WriterOptions writer_options(const std::filesystem::path& dir, bool leader) {
  WriterOptions o;
  o.dir = dir;
  o.durability = Durability::Replicated;
  o.await_replica = leader;
  o.fingerprint = kFingerprint;
  o.sync_window = 5ms;
  o.min_free_bytes = 0;
  o.segment_bytes = 16 * 1024;  // several segments: the sender follows the rolls
  o.wait = {agent::IdleStrategyKind::Park, agent::kDefaultSpin, std::chrono::nanoseconds{-1}};
  return o;
}

struct Leader {
  std::filesystem::path dir;
  JournalWriter writer;
  std::atomic<int> in_sync{0};  // 1 after on_sync(true), -1 after on_sync(false)
  std::unique_ptr<LeaderLink> link;

  Leader(const std::filesystem::path& d, std::uint64_t epoch, LinkLog log = {}) : dir(d), writer(writer_options(d, true)) {
    LeaderLinkOptions lo;
    lo.epoch = epoch;
    lo.dir = dir;
    lo.fingerprint = kFingerprint;
    lo.heartbeat = 20ms;
    lo.standby_timeout = 300ms;
    writer.open(0);
    link = std::make_unique<LeaderLink>(lo, writer, std::move(log), [this](bool on, const std::string&) { in_sync = on ? 1 : -1; });
    writer.set_written_listener(&link->parker());
    link->start();
    writer.start();
    const StartRecord start{Timestamp{1}, TradingStatus::Trading, {}};
    (void)writer.append_marker(RecordKind::Start, {reinterpret_cast<const std::uint8_t*>(&start), sizeof start});
  }
  ~Leader() {
    link->stop();
    writer.stop();
  }
  /// Commands first..last (test_command(i)).
  void write(std::uint64_t first, std::uint64_t last) {
    for (std::uint64_t i = first; i <= last; ++i) push(writer, test_command(i));
    writer.parker().wake();
  }
};

struct Standby {
  std::filesystem::path dir;
  JournalWriter writer;
  std::unique_ptr<StandbyLink> link;
  std::mutex mu;
  std::vector<std::uint64_t> delivered;

  Standby(const std::filesystem::path& d, std::uint16_t port, std::uint64_t epoch = 0, std::filesystem::path epoch_file = {},
          LinkLog log = {})
      : dir(d), writer(writer_options(d, false)) {
    const std::uint64_t held = std::filesystem::exists(dir) ? read_all(dir).end.last_seq : 0;
    StandbyLinkOptions so;
    so.host = "127.0.0.1";
    so.port = port;
    so.fingerprint = kFingerprint;
    so.leader_timeout = 200ms;
    so.retry = 20ms;
    so.epoch_file = std::move(epoch_file);
    link = std::make_unique<StandbyLink>(
        so, writer, held, epoch,
        [this](const Record& r) {
          const std::lock_guard lock(mu);
          delivered.push_back(r.seq);
        },
        std::move(log));
    writer.set_written_listener(&link->parker());  // it acknowledges what it has written
    writer.open(held);
    writer.start();
    link->start();
  }
  ~Standby() { stop(); }
  void stop() {
    link->stop();
    writer.stop();
  }
  std::vector<std::uint64_t> seen() {
    const std::lock_guard lock(mu);
    return delivered;
  }
};

void expect_same_journal(const std::filesystem::path& a, const std::filesystem::path& b) {
  const ReadAll x = read_all(a);
  const ReadAll y = read_all(b);
  ASSERT_EQ(x.seqs, y.seqs);
  ASSERT_EQ(x.kinds, y.kinds);
  ASSERT_EQ(x.commands.size(), y.commands.size());
  for (std::size_t i = 0; i < x.commands.size(); ++i) ASSERT_TRUE(same(x.commands[i], y.commands[i])) << i;
}

TEST(ReplicationLinkTest, CatchesUpFromTheLeadersFilesThenFollowsLive) {
  TempDir tmp;
  Leader leader(tmp.path() / "leader", 1);
  leader.write(1, 300);  // before any standby: replies wait (nothing is durable yet)
  ASSERT_TRUE(wait_for([&] { return leader.writer.written_seq() == 301; }));
  EXPECT_EQ(leader.writer.durable_seq(), 0u);

  Standby standby(tmp.path() / "standby", leader.link->port());
  ASSERT_TRUE(wait_for([&] { return leader.writer.durable_seq() == 301; })) << leader.writer.replica_acked();
  ASSERT_TRUE(wait_for([&] { return leader.in_sync.load() == 1; }));
  EXPECT_TRUE(leader.link->stats().in_sync.load());

  leader.write(301, 900);  // live
  ASSERT_TRUE(wait_for([&] { return leader.writer.durable_seq() == 901; }));
  // It acknowledges what it has written; its own durable seq follows the same write.
  EXPECT_EQ(standby.writer.written_seq(), 901u);
  EXPECT_TRUE(wait_for([&] { return standby.writer.durable_seq() == 901; }));
  EXPECT_EQ(standby.link->stats().epoch.load(), 1u);
  standby.stop();
  expect_same_journal(leader.dir, standby.dir);
  const std::vector<std::uint64_t> seen = standby.seen();
  ASSERT_EQ(seen.size(), 901u);
  for (std::uint64_t i = 0; i < seen.size(); ++i) ASSERT_EQ(seen[i], i + 1);
}

TEST(ReplicationLinkTest, AStandbyRestartedOnItsJournalCatchesUpWithoutDuplicates) {
  TempDir tmp;
  Leader leader(tmp.path() / "leader", 1);
  leader.write(1, 200);
  {
    Standby first(tmp.path() / "standby", leader.link->port());
    ASSERT_TRUE(wait_for([&] { return leader.writer.durable_seq() == 201 && leader.in_sync.load() == 1; }));
  }
  ASSERT_TRUE(wait_for([&] { return leader.in_sync.load() == -1; })) << "the closed connection is noticed";
  leader.write(201, 500);  // while it is down: nothing released
  ASSERT_TRUE(wait_for([&] { return leader.writer.written_seq() == 501; }));
  EXPECT_EQ(leader.writer.durable_seq(), 201u);

  Standby second(tmp.path() / "standby", leader.link->port());
  ASSERT_TRUE(wait_for([&] { return leader.writer.durable_seq() == 501; }));
  ASSERT_TRUE(wait_for([&] { return leader.in_sync.load() == 1; }));
  second.stop();
  const std::vector<std::uint64_t> seen = second.seen();
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.front(), 202u) << "it resumes after what its journal holds";
  EXPECT_EQ(seen.back(), 501u);
  EXPECT_EQ(seen.size(), 300u);
  expect_same_journal(leader.dir, second.dir);
}

TEST(ReplicationLinkTest, ALostStandbyIsReportedAndNothingMoreIsAcknowledged) {
  TempDir tmp;
  Leader leader(tmp.path() / "leader", 1);
  auto standby = std::make_unique<Standby>(tmp.path() / "standby", leader.link->port());
  leader.write(1, 50);
  ASSERT_TRUE(wait_for([&] { return leader.in_sync.load() == 1 && leader.writer.durable_seq() == 51; }));
  standby.reset();
  ASSERT_TRUE(wait_for([&] { return leader.in_sync.load() == -1; }));
  EXPECT_EQ(leader.link->stats().standby_lost.load(), 1u);
  leader.write(51, 60);
  ASSERT_TRUE(wait_for([&] { return leader.writer.synced_seq() == 61; }));
  EXPECT_EQ(leader.writer.durable_seq(), 51u) << "written and synced, but no standby holds it";
}

TEST(ReplicationLinkTest, ALeaderSeeingANewerEpochIsDeposedAndAcknowledgesNothing) {
  TempDir tmp;
  Leader leader(tmp.path() / "leader", 2);
  leader.write(1, 10);
  // A Subscribe carries the newest epoch the standby accepted: 4 > 2.
  Standby standby(tmp.path() / "standby", leader.link->port(), 4);
  ASSERT_TRUE(wait_for([&] { return leader.link->stats().refused.load() >= 1; }));
  EXPECT_EQ(leader.writer.durable_seq(), 0u);
  EXPECT_EQ(standby.writer.last_seq(), 0u);
  EXPECT_NE(leader.in_sync.load(), 1);
}

TEST(ReplicationLinkTest, AStandbyHoldingRecordsTheLeaderNeverWroteIsRefused) {
  TempDir tmp;
  write_journal(tmp.path() / "standby", 40, 16 * 1024, kFingerprint);  // an old leader's longer tail
  Leader leader(tmp.path() / "leader", 1);
  leader.write(1, 9);  // 10 records with the Start
  Standby standby(tmp.path() / "standby", leader.link->port());
  ASSERT_TRUE(wait_for([&] { return leader.link->stats().refused.load() >= 1; }));
  EXPECT_EQ(standby.writer.last_seq(), 40u) << "nothing appended";
  EXPECT_EQ(leader.writer.durable_seq(), 0u);
}

/// Log lines of one side, kept for the test (the links log from their own threads).
struct Lines {
  std::mutex mu;
  std::vector<std::string> lines;
  LinkLog sink() {
    return [this](std::string_view level, const std::string& line) {
      const std::lock_guard lock(mu);
      lines.push_back(std::string(level) + " " + line);
    };
  }
  std::size_t count(std::string_view part) {
    const std::lock_guard lock(mu);
    return static_cast<std::size_t>(
        std::count_if(lines.begin(), lines.end(), [&](const std::string& l) { return l.find(part) != std::string::npos; }));
  }
  std::string all() {
    const std::lock_guard lock(mu);
    std::string out;
    for (const auto& l : lines) out += l + "\n";
    return out;
  }
};

// A standby the leader refuses keeps trying (an operator may fix it), but neither side logs each
// attempt: the reason once on the leader, once on the standby, the attempts counted; the standby
// backs off (20 ms doubling: 5 attempts take about 600 ms).
TEST(ReplicationLinkTest, ARefusedStandbyRetriesQuietlyAndBacksOff) {
  TempDir tmp;
  write_journal(tmp.path() / "standby", 40, 16 * 1024, kFingerprint);
  Lines leader_log, standby_log;
  Leader leader(tmp.path() / "leader", 1, leader_log.sink());
  leader.write(1, 9);
  const auto start = std::chrono::steady_clock::now();
  Standby standby(tmp.path() / "standby", leader.link->port(), 0, {}, standby_log.sink());
  ASSERT_TRUE(wait_for([&] { return leader.link->stats().refused.load() >= 1; })) << leader_log.all();
  leader.write(10, 20);  // the leader trades on: its refusal names another written seq, the same refusal
  ASSERT_TRUE(wait_for([&] { return leader.link->stats().refused.load() >= 5; })) << leader_log.all();
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 20ms * (2 + 4 + 8 + 16)) << "the attempts back off";
  EXPECT_EQ(leader_log.count("standby connection closed: the standby holds seq 40"), 1u) << leader_log.all();
  EXPECT_EQ(standby_log.count("closed the connection before sending anything"), 1u) << standby_log.all();
  EXPECT_EQ(standby_log.count("connected to the leader"), 1u) << standby_log.all();
  EXPECT_EQ(standby.writer.last_seq(), 40u) << "nothing appended";
}

/// A leader promoted at `epoch` after seq 10 (the Start and commands 1..9 from the old leader):
/// its EpochStart record is seq 11, then commands 10..20 (seqs 12..22).
std::unique_ptr<Leader> promoted_leader(const std::filesystem::path& dir, std::uint64_t epoch) {
  auto leader = std::make_unique<Leader>(dir, epoch);
  leader->write(1, 9);
  EXPECT_TRUE(wait_for([&] { return leader->writer.written_seq() == 10; }));
  const EpochStartRecord es{epoch, Timestamp{2}};
  EXPECT_EQ(leader->writer.append_marker(RecordKind::EpochStart, {reinterpret_cast<const std::uint8_t*>(&es), sizeof es}), 11u);
  leader->write(10, 20);
  EXPECT_TRUE(wait_for([&] { return leader->writer.written_seq() == 22; }));
  return leader;
}

TEST(ReplicationLinkTest, AnOldLeaderHoldingRecordsPastThePromotionIsRefused) {
  TempDir tmp;
  write_journal(tmp.path() / "old", 11, 16 * 1024, kFingerprint);  // seq 11: never on the new leader
  const auto leader = promoted_leader(tmp.path() / "leader", 2);
  Standby old(tmp.path() / "old", leader->link->port(), 1);
  ASSERT_TRUE(wait_for([&] { return leader->link->stats().refused.load() >= 1; }));
  EXPECT_EQ(old.writer.last_seq(), 11u) << "nothing appended";
  EXPECT_EQ(leader->writer.replica_acked(), 0u);
  EXPECT_NE(leader->in_sync.load(), 1);
}

TEST(ReplicationLinkTest, AnOldLeaderEndingBeforeThePromotionFollowsAndKeepsTheNewEpoch) {
  TempDir tmp;
  write_journal(tmp.path() / "old", 10, 16 * 1024, kFingerprint);
  const auto leader = promoted_leader(tmp.path() / "leader", 2);
  const std::filesystem::path kept = tmp.path() / "ha-epoch";
  write_epoch_file(kept, 1);
  Standby old(tmp.path() / "old", leader->link->port(), 1, kept);
  ASSERT_TRUE(wait_for([&] { return leader->writer.durable_seq() == 22 && leader->in_sync.load() == 1; }));
  EXPECT_EQ(old.link->stats().epoch.load(), 2u);
  EXPECT_EQ(read_epoch_file(kept), 2u) << "kept before the epoch's first record was appended";
  old.stop();
  const ReadAll r = read_all(tmp.path() / "old");
  ASSERT_EQ(r.seqs.size(), 22u);
  EXPECT_EQ(r.kinds[10], RecordKind::EpochStart);
}

}  // namespace
}  // namespace peregrine::ha
