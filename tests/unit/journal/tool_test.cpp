// peregrine-journal run as a process: verify's exit codes on a clean and a damaged journal,
// print's lines, usage errors, and replay's state hash against an Engine fed the same commands
// in this process.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <utility>

#include "journal_fixture.hpp"
#include "peregrine/config/service.hpp"
#include "peregrine/core/engine.hpp"
#include "peregrine/journal/journal.hpp"
#include "peregrine/journal/snapshot.hpp"
#include "peregrine/replay/day_start.hpp"

namespace peregrine::journal {
namespace tool_test {  // named, not anonymous: the sanitizer presets' unity builds compile it beside other tests

using namespace test;

const std::string kConfig = std::string(PEREGRINE_SOURCE_DIR) + "/config/demo.yaml";

struct ToolRun {
  int status = -1;
  std::string out;  // stdout and stderr
};

ToolRun run(const std::string& args) {
  const std::string cmd = std::string(PEREGRINE_JOURNAL_BINARY) + " " + args + " 2>&1";
  ToolRun r;
  std::FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

EngineConfig demo_engine() {
  std::ifstream in(kConfig);
  std::stringstream text;
  text << in.rdbuf();
  return config::load_service_config_from_string(text.str(), kConfig, std::string(PEREGRINE_SOURCE_DIR) + "/config")
      .engine;
}

/// A random stream on the demo instruments: orders around the reference price, cancels and
/// replaces of earlier tokens, and the schedule's move to continuous trading half-way.
std::vector<Command> demo_commands(std::size_t n) {
  std::mt19937_64 rng(2024);
  std::vector<Command> out;
  std::vector<std::pair<OwnerId, Token>> tokens;
  const Symbol symbols[] = {Symbol::from("600519"), Symbol::from("601318")};
  const std::int64_t refs[] = {17'000'000, 523'000};
  std::uint64_t next = 1;
  for (std::size_t i = 0; i < n; ++i) {
    const Timestamp ts{1000 + i};
    if (i == n / 2) {
      out.push_back(make_schedule_phase(ts, InstrumentId{0}, TradingStatus::Trading));
      continue;
    }
    const auto dice = rng() % 10;
    if (dice < 2 && !tokens.empty()) {
      const auto& [owner, tok] = tokens[rng() % tokens.size()];
      out.push_back(make_cancel(ts, owner, tok));
    } else if (dice < 3 && !tokens.empty()) {
      const auto& [owner, tok] = tokens[rng() % tokens.size()];
      char t[16];
      std::snprintf(t, sizeof t, "R%013" PRIu64, next++);
      out.push_back(make_replace(ts, owner, tok, Token::from(t), Qty{200}, Price{refs[0] + 100 * static_cast<std::int64_t>(rng() % 5)}));
    } else {
      const std::size_t k = rng() % 2;
      const auto firm = static_cast<std::uint16_t>(rng() % 3);
      const OwnerId owner{1u + firm};
      char t[16];
      std::snprintf(t, sizeof t, "N%013" PRIu64, next++);
      const Side side = rng() % 2 == 0 ? Side::Buy : Side::Sell;
      const std::int64_t price = refs[k] + (static_cast<std::int64_t>(rng() % 21) - 10) * 100;
      out.push_back(make_new_order(ts, owner, FirmId{firm}, symbols[k], Token::from(t), side,
                                   Qty{100 * static_cast<std::uint32_t>(1 + rng() % 5)}, Price{price}));
      tokens.emplace_back(owner, Token::from(t));
    }
  }
  return out;
}

void noop_flush(void*, const Event*, std::size_t) noexcept {}

class JournalToolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg_ = demo_engine();
    commands_ = demo_commands(4000);
    WriterOptions o;
    o.dir = dir_.path();
    o.durability = Durability::None;
    o.segment_bytes = 64 * 1024;
    o.fingerprint = config_fingerprint(cfg_);
    o.min_free_bytes = 0;
    JournalWriter w(o);
    w.open(0);
    StartRecord s{};
    s.ts = Timestamp{1};
    s.session = TradingStatus::OpeningCall;
    (void)w.append_marker(RecordKind::Start, {reinterpret_cast<const std::uint8_t*>(&s), sizeof s});
    w.start();
    for (const Command& c : commands_) push(w, c);
    w.stop();
  }

  TempDir dir_;
  EngineConfig cfg_;
  std::vector<Command> commands_;
};

TEST_F(JournalToolTest, VerifyExitsZeroOnACleanJournalAndOneOnADamagedOne) {
  const ToolRun clean = run("verify " + dir_.path().string() + " --config " + kConfig);
  EXPECT_EQ(clean.status, 0) << clean.out;
  EXPECT_NE(clean.out.find("verify: clean"), std::string::npos) << clean.out;
  EXPECT_NE(clean.out.find("seq 1..4001"), std::string::npos) << clean.out;

  const auto files = segment_files(dir_.path());
  ASSERT_GE(files.size(), 3u);
  const std::uint64_t off = kSegmentHeaderSize + 7 * kRecordSize;
  flip_byte(files[1], off + 30);
  const ToolRun bad = run("verify " + dir_.path().string());
  EXPECT_EQ(bad.status, 1) << bad.out;
  EXPECT_NE(bad.out.find(files[1].string() + ": offset " + std::to_string(off)), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("verify: DAMAGED"), std::string::npos) << bad.out;
}

TEST_F(JournalToolTest, VerifyReportsATornTailAndAFingerprintMismatch) {
  const auto last = segment_files(dir_.path()).back();
  std::filesystem::resize_file(last, std::filesystem::file_size(last) - 3);
  const ToolRun torn = run("verify " + dir_.path().string());
  EXPECT_EQ(torn.status, 1) << torn.out;
  EXPECT_NE(torn.out.find("torn tail"), std::string::npos) << torn.out;
  EXPECT_NE(torn.out.find(last.string()), std::string::npos) << torn.out;

  std::filesystem::resize_file(last, std::filesystem::file_size(last) - (kRecordSize - 3));
  std::ofstream(dir_.path() / "other.yaml") << "instruments:\n  - {symbol: \"600519\", reference_price: \"1700.00\"}\n"
                                               "firms:\n  - {name: FRMA}\n";
  const ToolRun other = run("verify " + dir_.path().string() + " --config " + (dir_.path() / "other.yaml").string());
  EXPECT_EQ(other.status, 1) << other.out;
  EXPECT_NE(other.out.find("fingerprint mismatch"), std::string::npos) << other.out;
}

TEST_F(JournalToolTest, ReplayPrintsTheSameStateHashAsAnEngineFedTheSameCommands) {
  auto engine = std::make_unique<Engine>(replay::engine_config_for_start(cfg_, TradingStatus::OpeningCall));
  std::vector<Event> buf(256);
  EventSink sink(buf.data(), buf.size(), &noop_flush, nullptr);
  for (const Command& c : commands_) engine->process(c, sink);
  char want[32];
  std::snprintf(want, sizeof want, "state hash: %016" PRIx64, engine->state_hash());
  // The Start record matters: an engine that started in continuous trading ends elsewhere.
  auto plain = std::make_unique<Engine>(cfg_);
  for (const Command& c : commands_) plain->process(c, sink);
  ASSERT_NE(plain->state_hash(), engine->state_hash());

  const ToolRun r = run("replay " + dir_.path().string() + " --config " + kConfig);
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find(want), std::string::npos) << want << "\n" << r.out;
  EXPECT_NE(r.out.find("commands: 4000\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("last seq: 4001\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("commands/s: "), std::string::npos) << r.out;
}

TEST_F(JournalToolTest, ReplayFromASnapshotReplaysOnlyWhatFollowsItToTheSameStateHash) {
  auto engine = std::make_unique<Engine>(replay::engine_config_for_start(cfg_, TradingStatus::OpeningCall));
  std::vector<Event> buf(256);
  EventSink sink(buf.data(), buf.size(), &noop_flush, nullptr);
  for (std::size_t i = 0; i < 2500; ++i) engine->process(commands_[i], sink);
  std::vector<std::uint8_t> eb;
  engine->save(eb);
  StartRecord start{};
  start.ts = Timestamp{1};
  start.session = TradingStatus::OpeningCall;
  const std::vector<std::uint8_t> sb = replay::save_service_section(start);
  const SnapshotPart parts[] = {{SnapshotSection::Engine, eb}, {SnapshotSection::Service, sb}};
  (void)write_snapshot(dir_.path(), 2501, config_fingerprint(cfg_), parts);  // after seq 2501: Start + 2500
  for (std::size_t i = 2500; i < commands_.size(); ++i) engine->process(commands_[i], sink);
  char want[32];
  std::snprintf(want, sizeof want, "state hash: %016" PRIx64, engine->state_hash());

  const ToolRun r = run("replay " + dir_.path().string() + " --config " + kConfig + " --from-snapshot");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("from snapshot: snapshot-00000000000000002501.pgs (seq 2501)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("commands: 1500\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(want), std::string::npos) << want << "\n" << r.out;
  const ToolRun full = run("replay " + dir_.path().string() + " --config " + kConfig);
  EXPECT_NE(full.out.find(want), std::string::npos) << full.out;
}

TEST_F(JournalToolTest, PrintDecodesRecordsFromASeqUpToALimit) {
  const ToolRun r = run("print " + dir_.path().string() + " --from 5 --limit 3");
  EXPECT_EQ(r.status, 0) << r.out;
  std::istringstream lines(r.out);
  std::vector<std::string> got;
  for (std::string l; std::getline(lines, l);) got.push_back(l);
  ASSERT_EQ(got.size(), 3u) << r.out;
  EXPECT_EQ(got[0].rfind("seq=5 Command ts=1003 ", 0), 0u) << got[0];
  EXPECT_EQ(got[2].rfind("seq=7 ", 0), 0u) << got[2];
  const ToolRun first = run("print " + dir_.path().string() + " --limit 1");
  EXPECT_EQ(first.out, "seq=1 Start ts=1 session=opening_call\n");
  const Command& c = commands_[0];  // seq 2
  ASSERT_EQ(c.type, CommandType::NewOrder);
  const ToolRun second = run("print " + dir_.path().string() + " --from 2 --limit 1");
  EXPECT_EQ(run("print " + dir_.path().string() + " --from=2 --limit=1").out, second.out);
  EXPECT_NE(second.out.find("NewOrder owner=" + std::to_string(c.new_order.owner.value())), std::string::npos) << second.out;
  EXPECT_NE(second.out.find("symbol=" + std::string(c.new_order.symbol.view())), std::string::npos) << second.out;
  EXPECT_NE(second.out.find(" side=" + std::string(1, static_cast<char>(c.new_order.side))), std::string::npos);
}

// journal.dir is the root of one directory per exchange date, and the natural thing to point the
// tool at: it must fail there, and say where the journals are, instead of reporting a clean nothing.
TEST_F(JournalToolTest, EveryCommandFailsOnTheJournalRootAndNamesItsDayDirectories) {
  const std::filesystem::path root = dir_.path() / "journal-root";  // TempDir is one per test
  for (const char* day : {"2026-12-07", "2026-12-06"}) {
    std::filesystem::create_directories(root / day);
    for (const auto& f : segment_files(dir_.path())) std::filesystem::copy_file(f, root / day / f.filename());
  }
  std::filesystem::create_directories(root / "lost+found");  // holds no segment: not a day directory
  const std::string want = root.string() + ": no journal here (no journal-<seq>.pjl segment";
  const std::string days = "it holds the day directories 2026-12-06, 2026-12-07: name one, e.g. " +
                           (root / "2026-12-07").string();
  for (const std::string& args : {"print " + root.string(), "verify " + root.string(),
                                 "verify " + root.string() + " --config " + kConfig,
                                 "replay " + root.string() + " --config " + kConfig,
                                 "replay " + root.string() + " --config " + kConfig + " --from-snapshot"}) {
    const ToolRun r = run(args);
    EXPECT_EQ(r.status, 1) << args << "\n" << r.out;
    EXPECT_NE(r.out.find(want), std::string::npos) << args << "\n" << r.out;
    EXPECT_NE(r.out.find(days), std::string::npos) << args << "\n" << r.out;
    EXPECT_EQ(r.out.find("verify: clean"), std::string::npos) << args << "\n" << r.out;
  }
  // The day directory it names works.
  EXPECT_EQ(run("verify " + (root / "2026-12-07").string()).status, 0);
}

TEST(JournalToolUsageTest, AnEmptyDirectoryIsAnErrorThatSaysNoJournalIsThere) {
  const TempDir empty;
  for (const char* cmd : {"print", "verify"}) {
    const ToolRun r = run(std::string(cmd) + " " + empty.path().string());
    EXPECT_EQ(r.status, 1) << cmd << "\n" << r.out;
    EXPECT_NE(r.out.find(empty.path().string() + ": no journal here (no journal-<seq>.pjl segment), and no "
                         "sub-directory holds one"),
              std::string::npos)
        << cmd << "\n" << r.out;
  }
  const ToolRun missing = run("print /nonexistent-peregrine-dir");
  EXPECT_EQ(missing.status, 1);
  EXPECT_NE(missing.out.find("/nonexistent-peregrine-dir: no such directory"), std::string::npos) << missing.out;
}

TEST(JournalToolUsageTest, UsageErrorsExitTwoAndHelpExitsZero) {
  EXPECT_EQ(run("").status, 2);
  EXPECT_EQ(run("frobnicate /tmp").status, 2);
  EXPECT_EQ(run("print").status, 2);
  EXPECT_EQ(run("print /tmp --limit x").status, 2);
  EXPECT_EQ(run("replay /tmp").status, 2);
  EXPECT_EQ(run("verify /tmp --bogus").status, 2);
  const TempDir no_snapshot;
  const ToolRun snap = run("replay " + no_snapshot.path().string() + " --config " + kConfig + " --from-snapshot");
  EXPECT_EQ(snap.status, 1);
  EXPECT_NE(snap.out.find("no journal here (no journal-<seq>.pjl segment or snapshot)"), std::string::npos) << snap.out;
  const ToolRun help = run("--help");
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.out.find("--config FILE"), std::string::npos) << help.out;
  EXPECT_EQ(run("verify /nonexistent-peregrine-dir").status, 1);
}

TEST(JournalToolUsageTest, HelpListsEveryCommandAndOption) {
  const ToolRun help = run("--help");
  EXPECT_EQ(help.status, 0) << help.out;
  for (const char* want : {"print", "verify", "replay", "DIR", "--from SEQ", "--limit N", "--config FILE", "--from-snapshot",
                           "--help", "exit status: 0 clean"}) {
    EXPECT_NE(help.out.find(want), std::string::npos) << want << "\n" << help.out;
  }
  const ToolRun print_help = run("print --help");
  EXPECT_EQ(print_help.status, 0) << print_help.out;
  EXPECT_NE(print_help.out.find("--limit N"), std::string::npos) << print_help.out;
}

TEST(JournalToolUsageTest, AnUnknownOptionOrAnEmptyValueIsAOneLineUsageErrorNamingIt) {
  const std::pair<std::string, std::string> cases[] = {
      {"verify /tmp --bogus", "--bogus"},
      {"frobnicate /tmp", "frobnicate"},
      {"print /tmp --limit=", "--limit"},
      // --from= must not take the next word as its value, even one that would do.
      {"print /tmp --from= 5", "--from"},
      {"print /tmp --limit -3", "--limit"},
      {"replay /tmp --config=", "--config"},
  };
  for (const auto& [args, option] : cases) {
    const ToolRun r = run(args);
    EXPECT_EQ(r.status, 2) << args << "\n" << r.out;
    EXPECT_EQ(r.out.rfind("peregrine-journal: ", 0), 0u) << args << "\n" << r.out;
    const std::string first_line = r.out.substr(0, r.out.find('\n'));
    EXPECT_NE(first_line.find(option), std::string::npos) << args << "\n" << r.out;
  }
}

}  // namespace tool_test
}  // namespace peregrine::journal
