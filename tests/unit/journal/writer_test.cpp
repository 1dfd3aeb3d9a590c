// JournalWriter: round trips under each durability policy across segment rolls, durable_seq,
// markers, reopening, the failed() path, retention, the follower (JournalTail).

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <thread>

#include "journal_fixture.hpp"
#include "peregrine/core/config.hpp"
#include "peregrine/journal/journal.hpp"

namespace peregrine::journal {
namespace writer_test {  // named, not anonymous: the sanitizer presets' unity builds compile it beside other tests

using namespace test;

class JournalWriterPolicyTest : public ::testing::TestWithParam<Durability> {};

TEST_P(JournalWriterPolicyTest, RoundTripsManyCommandsAcrossSegmentRolls) {
  TempDir dir;
  constexpr std::uint64_t kN = 5000;
  WriterOptions o;
  o.dir = dir.path() / "j";  // created by open()
  o.durability = GetParam();
  o.segment_bytes = 16 * 1024;
  o.fingerprint = 0x1234;
  o.min_free_bytes = 0;
  JournalWriter w(o);
  w.open(0);
  StartRecord start{};
  start.ts = Timestamp{42};
  start.session = TradingStatus::OpeningCall;
  EXPECT_EQ(w.append_marker(RecordKind::Start, {reinterpret_cast<const std::uint8_t*>(&start), sizeof start}), 1u);
  EXPECT_EQ(w.durable_seq(), 1u);
  w.start();

  // durable_seq only grows, seen from another thread while the producer pushes.
  std::atomic<bool> done{false};
  std::atomic<bool> monotonic{true};
  std::thread watcher([&] {
    std::uint64_t last = 0;
    while (!done.load()) {
      const std::uint64_t d = w.durable_seq();
      if (d < last) monotonic = false;
      last = d;
    }
  });
  for (std::uint64_t i = 1; i <= kN; ++i) push(w, test_command(i));
  EXPECT_TRUE(wait_for([&] { return w.durable_seq() == kN + 1; }));
  done = true;
  watcher.join();
  EXPECT_TRUE(monotonic.load());
  EXPECT_EQ(w.last_seq(), kN + 1);
  EXPECT_FALSE(w.failed());
  // The writer clears its oldest-pending stamp after it publishes the durable seq: wait for it.
  EXPECT_TRUE(wait_for([&] { return w.stats().oldest_pending_ns.load() == 0; })) << w.stats().oldest_pending_ns.load();

  // A marker after the producer has stopped gets the next seq, while the thread runs.
  EndOfDayRecord eod{Timestamp{99}};
  EXPECT_EQ(w.append_marker(RecordKind::EndOfDay, {reinterpret_cast<const std::uint8_t*>(&eod), sizeof eod}), kN + 2);
  w.stop();
  w.stop();  // twice is fine
  EXPECT_EQ(w.durable_seq(), kN + 2);
  EXPECT_EQ(w.stats().records.load(), kN + 2);
  if (GetParam() == Durability::None) {
    EXPECT_EQ(w.stats().syncs.load(), 0u);
  } else {
    EXPECT_GT(w.stats().syncs.load(), 0u);
    // Group commit: what arrives while a sync runs goes into the next batch, so there are far
    // fewer write+sync rounds than records.
    // (replicated writes without waiting for its syncs: its batches are writes, as many as come)
    if (GetParam() != Durability::Replicated) {
      EXPECT_LT(w.stats().batches.load(), (kN + 2) / 4);
    }
    EXPECT_GT(w.stats().sync_ns_total.load(), 0u);
  }

  const auto files = segment_files(o.dir);
  EXPECT_GE(files.size(), (kN * kRecordSize) / o.segment_bytes);
  EXPECT_EQ(w.stats().segments.load(), files.size());
  for (const auto& f : files) EXPECT_LE(std::filesystem::file_size(f), o.segment_bytes) << f;

  const ReadAll r = read_all(o.dir, {}, 0x1234);
  ASSERT_EQ(r.seqs.size(), kN + 2);
  for (std::uint64_t i = 0; i < r.seqs.size(); ++i) ASSERT_EQ(r.seqs[i], i + 1);
  EXPECT_EQ(r.kinds.front(), RecordKind::Start);
  EXPECT_EQ(r.kinds.back(), RecordKind::EndOfDay);
  ASSERT_EQ(r.commands.size(), kN);
  for (std::uint64_t i = 0; i < kN; ++i) ASSERT_TRUE(same(r.commands[i], test_command(i + 1))) << i;
  EXPECT_EQ(r.end.last_seq, kN + 2);
  EXPECT_FALSE(r.end.torn_tail);

  // The Start payload comes back byte for byte.
  read_journal(o.dir, 0, ReadOptions{1, false, false}, [&](const Record& rec) {
    if (rec.seq != 1) return;
    ASSERT_EQ(rec.payload.size(), sizeof start);
    StartRecord back;
    std::memcpy(&back, rec.payload.data(), sizeof back);
    EXPECT_EQ(back.ts, Timestamp{42});
    EXPECT_EQ(back.session, TradingStatus::OpeningCall);
  });
}

INSTANTIATE_TEST_SUITE_P(Durability, JournalWriterPolicyTest,
                         ::testing::Values(Durability::Fsync, Durability::Fdatasync, Durability::None,
                                           Durability::Replicated, Durability::ReplicatedFsync),
                         [](const auto& p) {
                           std::string name(to_string(p.param));
                           std::erase(name, '+');  // a test name is letters, digits and _
                           return name;
                         });

TEST(JournalWriterTest, DurabilityNamesRoundTrip) {
  for (auto d : {Durability::Fsync, Durability::Fdatasync, Durability::None, Durability::Replicated,
                 Durability::ReplicatedFsync})
    EXPECT_EQ(durability_from(to_string(d)), d);
  EXPECT_EQ(durability_from("FSYNC"), std::nullopt);
  EXPECT_EQ(durability_from(""), std::nullopt);
}

TEST(JournalWriterTest, ReopeningAppendsInANewSegmentAfterTheLastSeq) {
  TempDir dir;
  write_journal(dir.path(), 100, 1 << 20);
  ASSERT_EQ(segment_files(dir.path()).size(), 1u);
  WriterOptions o;
  o.dir = dir.path();
  o.durability = Durability::Fdatasync;
  o.min_free_bytes = 0;
  JournalWriter w(o);
  w.open(100);
  w.start();
  for (std::uint64_t i = 101; i <= 150; ++i) push(w, test_command(i));
  w.stop();
  const auto files = segment_files(dir.path());
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[1].filename(), "journal-00000000000000000101.pjl");
  const ReadAll r = read_all(dir.path());
  ASSERT_EQ(r.commands.size(), 150u);
  for (std::uint64_t i = 0; i < 150; ++i) ASSERT_TRUE(same(r.commands[i], test_command(i + 1)));
}

TEST(JournalWriterTest, MarkersBeforeStartAreWrittenFirstAndPushedCommandsFollow) {
  TempDir dir;
  WriterOptions o;
  o.dir = dir.path();
  o.durability = Durability::None;
  o.min_free_bytes = 0;
  JournalWriter w(o);
  w.open(0);
  push(w, test_command(1));  // pushed before the marker: takes seq 1
  StartRecord s{};
  s.session = TradingStatus::Trading;
  EXPECT_EQ(w.append_marker(RecordKind::Start, {reinterpret_cast<const std::uint8_t*>(&s), sizeof s}), 2u);
  w.start();
  push(w, test_command(2));
  w.stop();
  const ReadAll r = read_all(dir.path());
  ASSERT_EQ(r.kinds.size(), 3u);
  EXPECT_EQ(r.kinds[0], RecordKind::Command);
  EXPECT_EQ(r.kinds[1], RecordKind::Start);
  EXPECT_EQ(r.kinds[2], RecordKind::Command);
}

TEST(JournalWriterTest, FailsBelowMinFreeBytesKeepsEverythingAndRecovers) {
  TempDir dir;
  WriterOptions o;
  o.dir = dir.path();
  o.durability = Durability::Fsync;
  o.segment_bytes = 8192;
  o.min_free_bytes = UINT64_MAX / 2;  // more than any disk has
  JournalWriter w(o);
  w.open(0);
  w.start();
  constexpr std::uint64_t kN = 3000;
  for (std::uint64_t i = 1; i <= kN / 2; ++i) push(w, test_command(i));
  ASSERT_TRUE(wait_for([&] { return w.failed() && w.stats().write_errors.load() >= 2; }));
  EXPECT_EQ(w.durable_seq(), 0u);
  EXPECT_NE(w.last_error().find("min_free_bytes"), std::string::npos) << w.last_error();
  EXPECT_NE(w.stats().oldest_pending_ns.load(), 0u);
  // More arrives while failed: kept in memory, in order.
  for (std::uint64_t i = kN / 2 + 1; i <= kN; ++i) push(w, test_command(i));
  EXPECT_TRUE(wait_for([&] { return w.last_seq() == kN; }));
  EXPECT_TRUE(w.failed());
  w.set_min_free_bytes(0);
  ASSERT_TRUE(wait_for([&] { return !w.failed() && w.durable_seq() == kN; }));
  EXPECT_EQ(w.stats().oldest_pending_ns.load(), 0u);
  w.stop();
  const ReadAll r = read_all(dir.path());
  ASSERT_EQ(r.commands.size(), kN);
  for (std::uint64_t i = 0; i < kN; ++i) ASSERT_TRUE(same(r.commands[i], test_command(i + 1))) << i;
  EXPECT_FALSE(r.end.torn_tail);
}

TEST(JournalWriterTest, OpenThrowsWhenTheDirectoryCannotBeCreated) {
  TempDir dir;
  write_bytes(dir.path() / "file", {1});
  WriterOptions o;
  o.dir = dir.path() / "file" / "sub";
  JournalWriter w(o);
  EXPECT_THROW(w.open(0), JournalError);
}

TEST(JournalWriterTest, RemovesOnlySegmentsWhollyThroughTheSeqAndNeverTheNewest) {
  TempDir dir;
  write_journal(dir.path(), 1000, 4096);
  WriterOptions o;
  o.dir = dir.path();
  JournalWriter w(o);
  auto files = segment_files(dir.path());
  ASSERT_GE(files.size(), 5u);
  const std::size_t before = files.size();
  const std::uint64_t third_first = std::stoull(files[2].filename().string().substr(8, 20));
  EXPECT_EQ(w.remove_segments_through(third_first - 1, 3600), 0u);  // too recent
  EXPECT_EQ(w.remove_segments_through(third_first - 2, 0), 1u);     // the second one holds third_first - 1
  EXPECT_EQ(segment_files(dir.path()).size(), before - 1);
  EXPECT_EQ(w.remove_segments_through(third_first - 1, 0), 1u);
  files = segment_files(dir.path());
  ASSERT_EQ(files.size(), before - 2);
  EXPECT_EQ(std::stoull(files[0].filename().string().substr(8, 20)), third_first);

  // What is left reads from its first seq; asking for removed records is an error.
  const ReadAll r = read_all(dir.path());
  ASSERT_FALSE(r.seqs.empty());
  EXPECT_EQ(r.seqs.front(), third_first);
  EXPECT_EQ(r.end.last_seq, 1000u);
  EXPECT_THROW(read_all(dir.path(), ReadOptions{2, false, false}), JournalError);
  EXPECT_NO_THROW(read_all(dir.path(), ReadOptions{third_first, false, false}));

  EXPECT_EQ(w.remove_segments_through(UINT64_MAX, 0), files.size() - 1);
  EXPECT_EQ(segment_files(dir.path()).size(), 1u);
}

TEST(JournalWriterTest, DiskUsageCountsTheFilesAndTheFreeSpace) {
  TempDir dir;
  write_journal(dir.path(), 200, 4096);
  std::uint64_t sum = 0;
  for (const auto& f : segment_files(dir.path())) sum += std::filesystem::file_size(f);
  const DiskUsage u = disk_usage(dir.path());
  EXPECT_EQ(u.used, sum);
  EXPECT_GT(u.free, 0u);
}

TEST(JournalTailTest, FollowsALiveWriterAcrossSegmentRolls) {
  TempDir dir;
  WriterOptions o;
  o.dir = dir.path();
  o.durability = Durability::None;
  o.segment_bytes = 8192;
  o.min_free_bytes = 0;
  JournalWriter w(o);
  w.open(0);
  w.start();
  constexpr std::uint64_t kN = 20000;
  std::vector<Command> seen;
  std::atomic<bool> producer_done{false};
  std::thread follower([&] {
    JournalTail tail(dir.path(), 0, 1);
    while (seen.size() < kN) {
      const std::size_t n = tail.poll(w.durable_seq(), 1000, [&](const Record& r) {
        ASSERT_EQ(r.seq, seen.size() + 1);
        seen.push_back(r.command());
      });
      if (n == 0) {
        if (producer_done.load() && w.durable_seq() == kN && tail.next_seq() == kN + 1) break;
        std::this_thread::sleep_for(std::chrono::microseconds(100));
      }
    }
  });
  for (std::uint64_t i = 1; i <= kN; ++i) push(w, test_command(i));
  producer_done = true;
  follower.join();
  w.stop();
  ASSERT_EQ(seen.size(), kN);
  for (std::uint64_t i = 0; i < kN; ++i) ASSERT_TRUE(same(seen[i], test_command(i + 1))) << i;
  EXPECT_GT(segment_files(dir.path()).size(), 10u);
}

TEST(JournalTailTest, StartsMidJournalAndRespectsUptoAndMax) {
  TempDir dir;
  write_journal(dir.path(), 500, 4096);
  JournalTail tail(dir.path(), 0, 100);
  std::vector<std::uint64_t> seqs;
  const auto collect = [&](const Record& r) { seqs.push_back(r.seq); };
  EXPECT_EQ(tail.poll(99, 10, collect), 0u);
  EXPECT_EQ(tail.poll(150, 10, collect), 10u);
  EXPECT_EQ(tail.next_seq(), 110u);
  EXPECT_EQ(tail.poll(150, 1000, collect), 41u);
  EXPECT_EQ(tail.poll(1000, 1000, collect), 350u);
  EXPECT_EQ(tail.poll(1000, 1000, collect), 0u);
  ASSERT_EQ(seqs.size(), 401u);
  for (std::size_t i = 0; i < seqs.size(); ++i) EXPECT_EQ(seqs[i], 100 + i);
}

TEST(JournalTailTest, ThrowsOnCorruptionAndFingerprintMismatch) {
  TempDir dir;
  write_journal(dir.path(), 50, 1 << 20, 77);
  {
    JournalTail tail(dir.path(), 78, 1);
    EXPECT_THROW(tail.poll(50, 100, [](const Record&) {}), JournalError);
  }
  flip_byte(segment_files(dir.path())[0], kSegmentHeaderSize + 10 * kRecordSize + 30);
  JournalTail tail(dir.path(), 77, 1);
  std::size_t got = 0;
  EXPECT_THROW(tail.poll(50, 100, [&](const Record&) { ++got; }), JournalError);
  EXPECT_EQ(got, 10u);
}

}  // namespace writer_test
}  // namespace peregrine::journal
