// Damage (issue #5): a flipped byte mid-journal, a truncated last record, an empty segment
// file, a wrong version, a fingerprint mismatch, each with its documented behaviour.

#include <gtest/gtest.h>

#include "journal/crc32c.hpp"
#include "journal_fixture.hpp"
#include "peregrine/journal/journal.hpp"

namespace peregrine::journal {
namespace damage_test {  // named, not anonymous: the sanitizer presets' unity builds compile it beside other tests

using namespace test;

constexpr std::uint64_t kN = 400;
constexpr std::uint64_t kSegBytes = 4096;  // 45 records a segment

std::string error_of(const std::filesystem::path& dir, ReadOptions opts = {}, std::uint64_t fp = 0) {
  try {
    (void)read_all(dir, opts, fp);
  } catch (const JournalError& e) {
    return e.what();
  }
  return "";
}

std::uint64_t first_seq_of(const std::filesystem::path& file) {
  return std::stoull(file.filename().string().substr(8, 20));
}

TEST(JournalDamageTest, AFlippedByteMidJournalIsAnErrorNamingFileAndOffset) {
  TempDir dir;
  write_journal(dir.path(), kN, kSegBytes);
  auto files = segment_files(dir.path());
  ASSERT_GE(files.size(), 4u);
  const auto victim = files[1];
  const std::uint64_t rec_off = kSegmentHeaderSize + 5 * kRecordSize;
  flip_byte(victim, rec_off + kRecordHeaderSize + 20);  // inside the 6th record's payload

  const std::string err = error_of(dir.path());
  EXPECT_NE(err.find(victim.string()), std::string::npos) << err;
  EXPECT_NE(err.find("offset " + std::to_string(rec_off)), std::string::npos) << err;
  EXPECT_NE(err.find("CRC"), std::string::npos) << err;
  // Check-only with truncate_at_corruption: the journal ends there and nothing changes on disk.
  const auto size_before = std::filesystem::file_size(victim);
  ReadOptions stop_there;
  stop_there.truncate_at_corruption = true;
  const ReadAll r = read_all(dir.path(), stop_there);
  const std::uint64_t last_good = first_seq_of(victim) + 4;
  EXPECT_EQ(r.end.last_seq, last_good);
  ASSERT_TRUE(r.end.torn_tail);
  EXPECT_EQ(r.end.torn_tail->first, victim);
  EXPECT_EQ(r.end.torn_tail->second, rec_off);
  EXPECT_EQ(std::filesystem::file_size(victim), size_before);
  EXPECT_EQ(segment_files(dir.path()).size(), files.size());
  // A flipped byte is never a torn tail, even with repair, unless truncate_at_corruption says so.
  ReadOptions repair_only;
  repair_only.repair = true;
  EXPECT_THROW(read_all(dir.path(), repair_only), JournalError);
  EXPECT_EQ(std::filesystem::file_size(victim), size_before);

  // The operator's --recover-truncate-at-corruption: cut there, later segments moved aside.
  ReadOptions cut = stop_there;
  cut.repair = true;
  (void)read_all(dir.path(), cut);
  EXPECT_EQ(std::filesystem::file_size(victim), rec_off);
  const auto left = segment_files(dir.path());
  ASSERT_EQ(left.size(), 2u);
  for (std::size_t i = 2; i < files.size(); ++i) {
    auto moved = files[i];
    moved += ".corrupt";
    EXPECT_TRUE(std::filesystem::exists(moved)) << moved;
  }
  const ReadAll again = read_all(dir.path());
  EXPECT_EQ(again.end.last_seq, last_good);
  EXPECT_FALSE(again.end.torn_tail);
  ASSERT_EQ(again.commands.size(), last_good);
  for (std::uint64_t i = 0; i < last_good; ++i) ASSERT_TRUE(same(again.commands[i], test_command(i + 1)));
}

TEST(JournalDamageTest, ACorruptCompleteLastRecordIsCorruptionNotATornTail) {
  TempDir dir;
  write_journal(dir.path(), 10, 1 << 20);
  const auto file = segment_files(dir.path()).back();
  flip_byte(file, kSegmentHeaderSize + 9 * kRecordSize + 40);
  const std::string err = error_of(dir.path());
  EXPECT_NE(err.find("offset " + std::to_string(kSegmentHeaderSize + 9 * kRecordSize)), std::string::npos) << err;
}

TEST(JournalDamageTest, ATruncatedLastRecordIsATornTailRepairedOnlyOnRequest) {
  TempDir dir;
  write_journal(dir.path(), kN, kSegBytes);
  const auto last = segment_files(dir.path()).back();
  const auto full = std::filesystem::file_size(last);
  ASSERT_GT(full, kSegmentHeaderSize + 2 * kRecordSize);
  std::filesystem::resize_file(last, full - 10);

  const ReadAll r = read_all(dir.path());
  ASSERT_TRUE(r.end.torn_tail);
  EXPECT_EQ(r.end.torn_tail->first, last);
  EXPECT_EQ(r.end.torn_tail->second, full - kRecordSize);
  EXPECT_EQ(r.end.last_seq, kN - 1);
  EXPECT_EQ(std::filesystem::file_size(last), full - 10);  // check only: untouched

  ReadOptions repair;
  repair.repair = true;
  const ReadAll fixed = read_all(dir.path(), repair);
  EXPECT_EQ(fixed.end.last_seq, kN - 1);
  EXPECT_EQ(std::filesystem::file_size(last), full - kRecordSize);
  const ReadAll clean = read_all(dir.path());
  EXPECT_FALSE(clean.end.torn_tail);
  EXPECT_EQ(clean.end.last_seq, kN - 1);

  // Appending continues cleanly in a new segment.
  WriterOptions o;
  o.dir = dir.path();
  o.durability = Durability::Fsync;
  o.segment_bytes = kSegBytes;
  o.min_free_bytes = 0;
  JournalWriter w(o);
  w.open(kN - 1);
  w.start();
  for (std::uint64_t i = kN; i < kN + 20; ++i) push(w, test_command(i));
  w.stop();
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "journal-00000000000000000400.pjl"));
  const ReadAll after = read_all(dir.path());
  EXPECT_FALSE(after.end.torn_tail);
  ASSERT_EQ(after.commands.size(), kN + 19);
  for (std::uint64_t i = 0; i < after.commands.size(); ++i) ASSERT_TRUE(same(after.commands[i], test_command(i + 1)));
}

TEST(JournalDamageTest, ATornFirstRecordOfTheLastSegmentLeavesNoHeaderOnlyFileBehind) {
  TempDir dir;
  write_journal(dir.path(), 60, kSegBytes);
  const auto last = segment_files(dir.path()).back();
  const auto first = first_seq_of(last);
  std::filesystem::resize_file(last, kSegmentHeaderSize + 30);
  ReadOptions repair;
  repair.repair = true;
  const ReadAll r = read_all(dir.path(), repair);
  EXPECT_EQ(r.end.last_seq, first - 1);
  EXPECT_FALSE(std::filesystem::exists(last));
  // The writer can take that name again.
  WriterOptions o;
  o.dir = dir.path();
  o.durability = Durability::None;
  o.min_free_bytes = 0;
  JournalWriter w(o);
  w.open(first - 1);
  w.start();
  push(w, test_command(first));
  w.stop();
  EXPECT_EQ(read_all(dir.path()).end.last_seq, first);
}

TEST(JournalDamageTest, ZeroBytesAfterTheLastRecordAreATornTail) {
  TempDir dir;
  write_journal(dir.path(), 10, 1 << 20);
  const auto file = segment_files(dir.path()).back();
  auto bytes = file_bytes(file);
  const auto size = bytes.size();
  bytes.resize(size + 200, 0);
  write_bytes(file, bytes);
  const ReadAll r = read_all(dir.path());
  ASSERT_TRUE(r.end.torn_tail);
  EXPECT_EQ(r.end.torn_tail->second, size);
  EXPECT_EQ(r.end.last_seq, 10u);
}

TEST(JournalDamageTest, AnEmptyLastSegmentIsTornAnEmptyMiddleOneIsCorruption) {
  TempDir dir;
  write_journal(dir.path(), kN, kSegBytes);
  const auto empty_last = dir.path() / "journal-00000000000000000401.pjl";
  write_bytes(empty_last, {});
  const ReadAll r = read_all(dir.path());
  ASSERT_TRUE(r.end.torn_tail);
  EXPECT_EQ(r.end.torn_tail->first, empty_last);
  EXPECT_EQ(r.end.torn_tail->second, 0u);
  EXPECT_EQ(r.end.last_seq, kN);
  ReadOptions repair;
  repair.repair = true;
  (void)read_all(dir.path(), repair);
  EXPECT_FALSE(std::filesystem::exists(empty_last));

  const auto middle = segment_files(dir.path())[1];
  write_bytes(middle, {});
  const std::string err = error_of(dir.path());
  EXPECT_NE(err.find(middle.string()), std::string::npos) << err;
  EXPECT_NE(err.find("offset 0"), std::string::npos) << err;
}

TEST(JournalDamageTest, AWrongVersionIsAClearErrorNamingTheVersion) {
  TempDir dir;
  write_journal(dir.path(), 100, kSegBytes);
  const auto file = segment_files(dir.path())[0];
  auto b = file_bytes(file);
  b[8] = 7;  // version 7, header CRC made valid again: a future format, not corruption
  const std::uint32_t crc = crc32c(b.data(), 60);
  std::memcpy(b.data() + 60, &crc, 4);
  write_bytes(file, b);
  ReadOptions lenient;
  lenient.truncate_at_corruption = true;
  lenient.repair = true;
  const std::string err = error_of(dir.path(), lenient);
  EXPECT_NE(err.find(file.string()), std::string::npos) << err;
  EXPECT_NE(err.find("written by format version 7, this build reads 1"), std::string::npos) << err;
  EXPECT_TRUE(std::filesystem::exists(file));
  EXPECT_EQ(file_bytes(file), b);
}

TEST(JournalDamageTest, AFingerprintMismatchIsAnErrorAndZeroSkipsTheCheck) {
  TempDir dir;
  write_journal(dir.path(), 20, kSegBytes, 0xABCDEF);
  const std::string err = error_of(dir.path(), {}, 0x123456);
  EXPECT_NE(err.find("fingerprint mismatch"), std::string::npos) << err;
  EXPECT_NE(err.find("0000000000abcdef"), std::string::npos) << err;
  EXPECT_EQ(read_all(dir.path(), {}, 0xABCDEF).end.last_seq, 20u);
  EXPECT_EQ(read_all(dir.path(), {}, 0).end.last_seq, 20u);
}

TEST(JournalDamageTest, ASeqGapBetweenSegmentsIsCorruption) {
  TempDir dir;
  write_journal(dir.path(), kN, kSegBytes);
  const auto files = segment_files(dir.path());
  std::filesystem::remove(files[2]);
  const std::string err = error_of(dir.path());
  EXPECT_NE(err.find(files[3].string()), std::string::npos) << err;
  EXPECT_NE(err.find("expected " + std::to_string(first_seq_of(files[2]))), std::string::npos) << err;
}

TEST(JournalDamageTest, AnEmptyOrMissingDirectoryIsAnEmptyJournal) {
  TempDir dir;
  EXPECT_EQ(read_all(dir.path()).end.last_seq, 0u);
  EXPECT_EQ(read_all(dir.path() / "missing").end.records, 0u);
}

TEST(FingerprintTest, EveryFieldAndTheOrderMatter) {
  EngineConfig base;
  InstrumentConfig a;
  a.symbol = Symbol::from("600519");
  a.name = "A";
  a.reference_price = Price{17'000'000};
  InstrumentConfig b = a;
  b.symbol = Symbol::from("601318");
  base.instruments = {a, b};
  FirmConfig f;
  f.name = FirmName::from("FRMA");
  base.firms = {f};
  const std::uint64_t fp = config_fingerprint(base);
  EXPECT_NE(fp, 0u);
  EXPECT_EQ(config_fingerprint(base), fp);

  std::vector<void (*)(EngineConfig&)> changes = {
      [](EngineConfig& c) { std::swap(c.instruments[0], c.instruments[1]); },
      [](EngineConfig& c) { c.instruments[0].symbol = Symbol::from("600520"); },
      [](EngineConfig& c) { c.instruments[0].name = "B"; },
      [](EngineConfig& c) { c.instruments[0].tick = Price{1}; },
      [](EngineConfig& c) { c.instruments[0].lot_size = Qty{1}; },
      [](EngineConfig& c) { c.instruments[0].min_qty = Qty{200}; },
      [](EngineConfig& c) { c.instruments[0].odd_lot_sell = false; },
      [](EngineConfig& c) { c.instruments[0].max_order_qty = Qty{5}; },
      [](EngineConfig& c) { c.instruments[0].reference_price = Price{1}; },
      [](EngineConfig& c) { c.instruments[0].limit_bps = 500; },
      [](EngineConfig& c) { c.instruments[0].cage_bps = 200; },
      [](EngineConfig& c) { c.instruments[0].initial_status = TradingStatus::Closed; },
      [](EngineConfig& c) { c.instruments.pop_back(); },
      [](EngineConfig& c) { c.firms[0].name = FirmName::from("FRMB"); },
      [](EngineConfig& c) { c.firms[0].stp = StpMode::CancelBoth; },
      [](EngineConfig& c) { c.firms[0].max_order_qty = Qty{1}; },
      [](EngineConfig& c) { c.firms[0].max_order_notional = 1; },
      [](EngineConfig& c) { c.firms[0].max_open_shares = 1; },
      [](EngineConfig& c) { c.firms.push_back(c.firms[0]); },
      [](EngineConfig& c) { c.max_orders = 1; },
      [](EngineConfig& c) { c.max_tokens = 1; },
      [](EngineConfig& c) { c.halt_accepts_orders = !c.halt_accepts_orders; },
      [](EngineConfig& c) { c.halt_accepts_cancels = !c.halt_accepts_cancels; },
  };
  std::vector<std::uint64_t> seen{fp};
  for (std::size_t i = 0; i < changes.size(); ++i) {
    EngineConfig c = base;
    changes[i](c);
    const std::uint64_t v = config_fingerprint(c);
    for (std::uint64_t s : seen) EXPECT_NE(v, s) << "change " << i;
    seen.push_back(v);
  }
}

}  // namespace damage_test
}  // namespace peregrine::journal
