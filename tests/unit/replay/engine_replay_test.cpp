// EngineReplay, what `peregrine-journal replay` and the replay benchmark run: on journals written
// in a temporary directory, the engine ends where one fed the same commands directly ends, with
// the same events, however many commands wait in the prefetch window, from the day's start or
// from a snapshot.

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "differential/command_gen.hpp"
#include "peregrine/core/engine.hpp"
#include "peregrine/core/event.hpp"
#include "peregrine/journal/journal.hpp"
#include "peregrine/journal/snapshot.hpp"
#include "peregrine/replay/day_start.hpp"
#include "peregrine/replay/engine_replay.hpp"
#include "unit/journal/journal_fixture.hpp"

namespace peregrine::replay {
namespace engine_replay_test {  // named, not anonymous: the sanitizer presets' unity builds compile it beside other tests

namespace fs = std::filesystem;
using differential::CommandGen;
using journal::test::TempDir;

void count_events(void* ctx, const Event* /*events*/, std::size_t n) noexcept { *static_cast<std::uint64_t*>(ctx) += n; }

// A sink that counts the events flushed into it.
struct CountingSink {
  std::vector<Event> buf = std::vector<Event>(256);
  std::uint64_t events = 0;
  EventSink sink{buf.data(), buf.size(), &count_events, &events};
  std::uint64_t flushed() {
    sink.flush();
    return events;
  }
};

std::vector<Command> generate(std::size_t n, std::uint64_t seed = 3) {
  CommandGen gen(seed);
  std::vector<Command> out;
  for (std::size_t i = 0; i < n; ++i) out.push_back(gen.next());
  return out;
}

journal::StartRecord start_in(TradingStatus session) {
  journal::StartRecord s{};
  s.ts = Timestamp{1};
  s.session = session;
  return s;
}

// The day's journal in `dir`: the Start record (if any), the commands, the end of day (if asked).
void write_day(const fs::path& dir, const EngineConfig& cfg, std::optional<journal::StartRecord> start,
               const std::vector<Command>& commands, bool end_of_day = false) {
  journal::WriterOptions o;
  o.dir = dir;
  o.durability = journal::Durability::None;
  o.segment_bytes = 64 * 1024;
  o.fingerprint = journal::config_fingerprint(cfg);
  o.min_free_bytes = 0;
  journal::JournalWriter w(o);
  w.open(0);
  if (start) (void)w.append_marker(journal::RecordKind::Start, save_service_section(*start));
  w.start();
  for (const Command& c : commands) journal::test::push(w, c);
  w.stop();
  if (end_of_day) {
    journal::EndOfDayRecord e{Timestamp{99}};
    (void)w.append_marker(journal::RecordKind::EndOfDay, {reinterpret_cast<const std::uint8_t*>(&e), sizeof e});
  }
}

// What an engine built from `cfg` and fed `commands` one by one ends in.
struct Direct {
  std::uint64_t hash = 0;
  std::uint64_t events = 0;
};
Direct direct(const EngineConfig& cfg, const std::vector<Command>& commands) {
  CountingSink s;
  auto engine = std::make_unique<Engine>(cfg);
  for (const Command& c : commands) engine->process(c, s.sink);
  return {engine->state_hash(), s.flushed()};
}

journal::Record command_record(std::uint64_t seq, const Command& c, std::uint8_t (&raw)[sizeof(Command)]) {
  std::memcpy(raw, &c, sizeof c);
  return journal::Record{seq, journal::RecordKind::Command, raw};
}

TEST(EngineReplayTest, TheStartRecordsPhaseDecidesWhereTheReplayEnds) {
  const TempDir dir;
  const EngineConfig base = CommandGen::config();
  const std::vector<Command> commands = generate(20000);
  write_day(dir.path(), base, start_in(TradingStatus::OpeningCall), commands);
  CountingSink s;
  EngineReplay replayer(base, s.sink);
  const journal::ReadEnd end = journal::read_journal(dir.path(), journal::config_fingerprint(base), {},
                                                     [&](const journal::Record& r) { replayer.apply(r); });
  replayer.finish();
  EXPECT_EQ(end.last_seq, 20001u);
  EXPECT_EQ(replayer.commands(), 20000u);
  const Direct want = direct(engine_config_for_start(base, TradingStatus::OpeningCall), commands);
  EXPECT_EQ(replayer.engine().state_hash(), want.hash);
  EXPECT_EQ(s.flushed(), want.events);
  EXPECT_TRUE(replayer.engine().validate_internal_state());
  // An engine that started in continuous trading ends elsewhere: the Start record was applied.
  EXPECT_NE(direct(base, commands).hash, want.hash);
}

TEST(EngineReplayTest, EveryCommandIsProcessedWhateverTheCountLeftInThePrefetchWindow) {
  const EngineConfig base = CommandGen::config();
  for (const std::size_t n : {0u, 1u, 2u, 3u, 4u, 7u}) {
    const TempDir dir;
    const std::vector<Command> commands = generate(n, 100 + n);
    write_day(dir.path(), base, std::nullopt, commands);  // no Start record: the benchmark's journal
    CountingSink s;
    EngineReplay replayer(base, s.sink);
    (void)journal::read_journal(dir.path(), 0, {}, [&](const journal::Record& r) { replayer.apply(r); });
    replayer.finish();
    const Direct want = direct(base, commands);
    EXPECT_EQ(replayer.commands(), n);
    EXPECT_EQ(replayer.engine().state_hash(), want.hash) << n << " commands";
    EXPECT_EQ(s.flushed(), want.events) << n << " commands";
  }
}

TEST(EngineReplayTest, TheEndOfDayProcessesTheCommandsWaitingInTheWindow) {
  const EngineConfig base = CommandGen::config();
  const std::vector<Command> commands = generate(2);
  CountingSink s;
  EngineReplay replayer(base, s.sink);
  std::uint8_t raw[2][sizeof(Command)];
  replayer.apply(command_record(1, commands[0], raw[0]));
  replayer.apply(command_record(2, commands[1], raw[1]));
  EXPECT_EQ(s.flushed(), 0u);  // both wait to be processed, two ahead
  const journal::EndOfDayRecord e{Timestamp{5}};
  replayer.apply(journal::Record{3, journal::RecordKind::EndOfDay, {reinterpret_cast<const std::uint8_t*>(&e), sizeof e}});
  const Direct want = direct(base, commands);
  EXPECT_GT(want.events, 0u);
  EXPECT_EQ(s.flushed(), want.events);
  EXPECT_EQ(replayer.engine().state_hash(), want.hash);
}

TEST(EngineReplayTest, AStartRecordAfterTheFirstCommandOrNamingNoPhaseIsAnError) {
  const EngineConfig base = CommandGen::config();
  const std::vector<Command> commands = generate(1);
  const std::vector<std::uint8_t> sb = save_service_section(start_in(TradingStatus::Trading));
  {
    CountingSink s;
    EngineReplay replayer(base, s.sink);
    std::uint8_t raw[sizeof(Command)];
    replayer.apply(command_record(1, commands[0], raw));
    try {
      replayer.apply(journal::Record{2, journal::RecordKind::Start, sb});
      FAIL() << "no error";
    } catch (const journal::JournalError& e) {
      EXPECT_EQ(std::string(e.what()), "seq 2: a Start record after the first command");
    }
  }
  CountingSink s;
  EngineReplay replayer(base, s.sink);
  std::vector<std::uint8_t> bad = sb;
  bad[8] = 0x7F;  // the session byte
  EXPECT_THROW(replayer.apply(journal::Record{1, journal::RecordKind::Start, bad}), journal::JournalError);
}

TEST(EngineReplayTest, FromASnapshotOnlyTheRecordsAfterItAreReplayedToTheSameState) {
  const TempDir dir;
  const EngineConfig base = CommandGen::config();
  const std::vector<Command> commands = generate(6000, 5);
  const journal::StartRecord start = start_in(TradingStatus::OpeningCall);
  write_day(dir.path(), base, start, commands, /*end_of_day=*/true);
  // The snapshot after seq k (Start + k - 1 commands).
  const std::uint64_t k = 2501;
  const EngineConfig started = engine_config_for_start(base, TradingStatus::OpeningCall);
  std::uint64_t events_before = 0;
  {
    CountingSink s;
    Engine replica(started);
    for (std::size_t i = 0; i + 1 < k; ++i) replica.process(commands[i], s.sink);
    std::vector<std::uint8_t> eb;
    replica.save(eb);
    const std::vector<std::uint8_t> sb = save_service_section(start);
    const journal::SnapshotPart parts[] = {{journal::SnapshotSection::Engine, eb}, {journal::SnapshotSection::Service, sb}};
    (void)journal::write_snapshot(dir.path(), k, journal::config_fingerprint(base), parts);
    events_before = s.flushed();
  }
  const auto snap = journal::newest_valid_snapshot(dir.path(), journal::config_fingerprint(base), nullptr);
  ASSERT_TRUE(snap);
  CountingSink s;
  EngineReplay replayer(base, s.sink);
  journal::ReadOptions ro;
  ro.from_seq = replayer.start_from(*snap);
  EXPECT_EQ(ro.from_seq, k + 1);
  const journal::ReadEnd end = journal::read_journal(dir.path(), journal::config_fingerprint(base), ro,
                                                     [&](const journal::Record& r) { replayer.apply(r); });
  replayer.finish();
  EXPECT_EQ(end.last_seq, 6002u);  // the end of day
  EXPECT_EQ(replayer.commands(), 6000u - (k - 1));
  const Direct full = direct(started, commands);
  EXPECT_EQ(replayer.engine().state_hash(), full.hash);
  EXPECT_EQ(s.flushed(), full.events - events_before);
}

TEST(EngineReplayTest, ASnapshotWithoutItsServiceSectionIsMalformed) {
  const TempDir dir;
  const EngineConfig base = CommandGen::config();
  std::vector<std::uint8_t> eb;
  Engine(base).save(eb);
  const journal::SnapshotPart parts[] = {{journal::SnapshotSection::Engine, eb}};
  const fs::path file = journal::write_snapshot(dir.path(), 1, 0, parts);
  const journal::Snapshot snap = journal::read_snapshot(file, 0);
  CountingSink s;
  EngineReplay replayer(base, s.sink);
  try {
    (void)replayer.start_from(snap);
    FAIL() << "no error";
  } catch (const journal::JournalError& e) {
    EXPECT_EQ(std::string(e.what()), file.string() + ": a section is missing or malformed");
  }
}

}  // namespace engine_replay_test
}  // namespace peregrine::replay
