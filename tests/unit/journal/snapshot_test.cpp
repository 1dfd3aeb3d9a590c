// Snapshot files: round trip, listing, the newest valid one (corrupt newer ones skipped and
// reported), damage, pruning.

#include "peregrine/journal/snapshot.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <span>
#include <vector>

#include "journal_fixture.hpp"
#include "peregrine/journal/journal.hpp"

namespace peregrine::journal {
namespace snapshot_test {  // named, not anonymous: the sanitizer presets' unity builds compile it beside other tests

using namespace test;

std::vector<std::uint8_t> pattern(std::size_t n, std::uint8_t seed) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(seed + i * 13);
  return v;
}

std::vector<std::uint8_t> bytes_of(std::span<const std::uint8_t> s) { return {s.begin(), s.end()}; }

std::filesystem::path write(const std::filesystem::path& dir, std::uint64_t seq, std::uint64_t fp = 5) {
  const auto engine = pattern(1000 + seq, static_cast<std::uint8_t>(seq));
  const auto egress = pattern(33, 1);
  const SnapshotPart parts[] = {{SnapshotSection::Engine, engine}, {SnapshotSection::Egress, egress}};
  return write_snapshot(dir, seq, fp, parts);
}

TEST(SnapshotFileTest, WritesAndReadsBackEverySection) {
  TempDir dir;
  const auto path = write(dir.path(), 42);
  EXPECT_EQ(path.filename(), "snapshot-00000000000000000042.pgs");
  EXPECT_FALSE(std::filesystem::exists(path.string() + ".tmp"));
  const Snapshot s = read_snapshot(path, 5);
  EXPECT_EQ(s.seq, 42u);
  EXPECT_EQ(s.file, path);
  ASSERT_EQ(s.sections.size(), 2u);
  ASSERT_NE(s.find(SnapshotSection::Engine), nullptr);
  EXPECT_EQ(bytes_of(*s.find(SnapshotSection::Engine)), pattern(1042, 42));
  EXPECT_EQ(bytes_of(*s.find(SnapshotSection::Egress)), pattern(33, 1));
  EXPECT_EQ(s.find(SnapshotSection::Service), nullptr);
  EXPECT_NO_THROW((void)read_snapshot(path, 0));
}

// The sections are views into the mapped file: whoever keeps `storage` (Egress::load keeps it
// for the retained messages) may read them after retention has removed the file.
TEST(SnapshotFileTest, SectionsStayReadableWhileTheStorageIsKeptAfterTheFileIsRemoved) {
  TempDir dir;
  const auto path = write(dir.path(), 42);
  std::span<const std::uint8_t> engine;
  std::shared_ptr<const void> storage;
  {
    const Snapshot s = read_snapshot(path, 5);
    ASSERT_NE(s.find(SnapshotSection::Engine), nullptr);
    engine = *s.find(SnapshotSection::Engine);
    storage = s.storage;
  }
  ASSERT_TRUE(std::filesystem::remove(path));
  EXPECT_EQ(bytes_of(engine), pattern(1042, 42));
}

TEST(SnapshotFileTest, AnEmptySnapshotHasNoSections) {
  TempDir dir;
  const auto path = write_snapshot(dir.path(), 1, 0, {});
  EXPECT_TRUE(read_snapshot(path, 0).sections.empty());
}

TEST(SnapshotFileTest, ReportsWhatIsWrongNamingTheFile) {
  TempDir dir;
  const auto path = write(dir.path(), 7);
  const auto good = file_bytes(path);
  const auto error = [&](std::uint64_t fp = 5) -> std::string {
    try {
      (void)read_snapshot(path, fp);
    } catch (const JournalError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(error(6).find("fingerprint mismatch"), std::string::npos);
  flip_byte(path, 200);
  EXPECT_NE(error().find("payload CRC mismatch"), std::string::npos) << error();
  write_bytes(path, good);
  flip_byte(path, 20);
  EXPECT_NE(error().find("header CRC mismatch"), std::string::npos) << error();
  write_bytes(path, {good.begin(), good.end() - 5});
  EXPECT_NE(error().find("truncated"), std::string::npos) << error();
  write_bytes(path, {good.begin(), good.begin() + 30});
  EXPECT_NE(error().find("truncated"), std::string::npos) << error();
  auto other = good;
  other[0] = 'X';
  write_bytes(path, other);
  EXPECT_NE(error().find("magic"), std::string::npos) << error();
  other = good;
  other[8] = 9;
  const std::uint32_t crc = crc32c(other.data(), 60);
  std::memcpy(other.data() + 60, &crc, 4);
  write_bytes(path, other);
  EXPECT_NE(error().find("version 9"), std::string::npos) << error();
  EXPECT_NE(error().find(path.string()), std::string::npos) << error();
}

TEST(SnapshotFileTest, NewestValidSkipsAndReportsACorruptNewerOne) {
  TempDir dir;
  write(dir.path(), 10);
  write(dir.path(), 20);
  const auto newest = write(dir.path(), 30);
  write_bytes(dir.path() / "snapshot-00000000000000000040.pgs.tmp", {1, 2, 3});  // an interrupted write
  const auto listed = list_snapshots(dir.path());
  ASSERT_EQ(listed.size(), 3u);
  EXPECT_EQ(listed[0].first, 30u);
  EXPECT_EQ(listed[2].first, 10u);

  flip_byte(newest, 500);
  std::vector<std::string> skipped;
  const auto s = newest_valid_snapshot(dir.path(), 5, &skipped);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->seq, 20u);
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_NE(skipped[0].find(newest.string()), std::string::npos) << skipped[0];
  EXPECT_TRUE(std::filesystem::exists(newest));  // left in place

  EXPECT_FALSE(newest_valid_snapshot(dir.path(), 6, nullptr));  // another configuration
  EXPECT_FALSE(newest_valid_snapshot(dir.path() / "none", 5, nullptr));
}

TEST(SnapshotFileTest, PruneKeepsTheNewest) {
  TempDir dir;
  for (std::uint64_t s : {5, 15, 25, 35}) write(dir.path(), s);
  EXPECT_EQ(prune_snapshots(dir.path(), 2), 2u);
  auto left = list_snapshots(dir.path());
  ASSERT_EQ(left.size(), 2u);
  EXPECT_EQ(left[0].first, 35u);
  EXPECT_EQ(left[1].first, 25u);
  EXPECT_EQ(prune_snapshots(dir.path(), 0), 1u);  // at least one is kept
  left = list_snapshots(dir.path());
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].first, 35u);
}

}  // namespace snapshot_test
}  // namespace peregrine::journal
