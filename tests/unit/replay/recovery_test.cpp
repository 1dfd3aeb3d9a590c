// Recovery equals history: a random command stream run live (engine + egress) and journaled by
// the real writer; then, as after a crash, a fresh engine and egress rebuilt from the journal
// alone, and from a snapshot plus the journal after it, must hold the same state hash, the same
// users' outbound messages and the same ITCH stream as the uninterrupted run.

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "differential/command_gen.hpp"
#include "peregrine/client/itch_client.hpp"
#include "peregrine/egress/egress.hpp"
#include "peregrine/journal/journal.hpp"
#include "peregrine/journal/snapshot.hpp"
#include "peregrine/proto/ouch_translate.hpp"
#include "peregrine/replay/day_start.hpp"
#include "peregrine/replay/record_applier.hpp"
#include "peregrine/sessions/soup_session.hpp"
#include "support/temp_dir.hpp"

namespace peregrine::replay {
namespace recovery_test {  // named, not anonymous: the sanitizer presets' unity builds compile it beside other tests

namespace fs = std::filesystem;
using differential::CommandGen;

struct TempDir : peregrine::testing::TempDir {
  TempDir() : peregrine::testing::TempDir("peregrine-recovery") {}
};

// An engine, its users and egress: the state a service holds.
struct Node {
  explicit Node(const EngineConfig& c) : cfg(c), engine(cfg), lookup(cfg), users(1u << 20) {
    for (std::uint32_t o = 1; o <= CommandGen::kOwners; ++o) {
      sessions::UserAccount a;
      a.username = Alpha<6>::from("U" + std::to_string(o));
      a.password = Alpha<10>::from("pw");
      a.owner = OwnerId{o};
      a.firm = FirmId{static_cast<std::uint16_t>((o - 1) / 2)};
      a.firm_name = cfg.firms[a.firm.value()].name;
      users.add(a);
    }
    egress = std::make_unique<egress::Egress>(cfg, lookup, users, egress::EgressConfig{}, [](std::span<const std::uint8_t>) {});
    applier = std::make_unique<RecordApplier>(engine, *egress);
  }
  EngineConfig cfg;
  Engine engine;
  proto::ConfigLookup lookup;
  sessions::UserDirectory users;
  std::unique_ptr<egress::Egress> egress;
  std::unique_ptr<RecordApplier> applier;
};

template <typename Journal>
void expect_same_journal(const Journal& a, const Journal& b, const std::string& what) {
  ASSERT_EQ(a.first_retained(), b.first_retained()) << what;
  ASSERT_EQ(a.next_seq(), b.next_seq()) << what;
  for (std::uint64_t s = a.first_retained(); s < a.next_seq(); ++s) {
    const auto x = a.get(s);
    const auto y = b.get(s);
    ASSERT_TRUE(std::equal(x.begin(), x.end(), y.begin(), y.end())) << what << " message " << s;
  }
}

void expect_same_state(Node& live, Node& recovered) {
  EXPECT_EQ(live.engine.state_hash(), recovered.engine.state_hash());
  EXPECT_TRUE(recovered.engine.validate_internal_state());
  for (std::size_t u = 0; u < live.users.size(); ++u)
    expect_same_journal(live.users.at(u).outbound, recovered.users.at(u).outbound, "user " + std::to_string(u + 1));
  expect_same_journal(live.egress->itch_buffer(), recovered.egress->itch_buffer(), "ITCH");
  // The recovered admin depth (the snapshot's depth books, then the replay's ITCH messages)
  // equals what an ITCH client rebuilds from the live run's whole stream, and the engine's book.
  client::BookBuilder subscriber;
  const egress::ItchBuffer& itch = live.egress->itch_buffer();
  ASSERT_EQ(itch.first_retained(), 1u);
  for (std::uint64_t s = 1; s < itch.next_seq(); ++s) {
    proto::itch::Message m{};
    ASSERT_EQ(proto::itch::decode(itch.get(s), m), proto::itch::Status::Ok);
    ASSERT_TRUE(subscriber.apply(m)) << "ITCH message " << s;
  }
  std::size_t levels = 0;
  for (std::size_t i = 0; i < live.cfg.instruments.size(); ++i) {
    const InstrumentId id{static_cast<std::uint16_t>(i + 1)};
    const std::string symbol(live.cfg.instruments[i].symbol.view());
    for (const Side side : {Side::Buy, Side::Sell}) {
      const auto want = side == Side::Buy ? subscriber.bids(symbol, 1u << 20) : subscriber.asks(symbol, 1u << 20);
      const std::vector<DepthLevel> got = recovered.egress->depth(id, side, 1u << 20);
      std::vector<DepthLevel> engine(1u << 12);
      engine.resize(recovered.engine.depth(id, side, engine.data(), engine.size()));
      ASSERT_EQ(got.size(), want.size()) << symbol << " side " << static_cast<char>(side);
      ASSERT_EQ(got.size(), engine.size()) << symbol << " side " << static_cast<char>(side);
      for (std::size_t l = 0; l < got.size(); ++l) {
        EXPECT_EQ(got[l].price.value(), static_cast<std::int64_t>(want[l].price)) << symbol << " level " << l;
        EXPECT_EQ(got[l].qty, want[l].qty) << symbol << " level " << l;
        EXPECT_EQ(got[l].orders, want[l].orders) << symbol << " level " << l;
        EXPECT_EQ(got[l].price, engine[l].price);
        EXPECT_EQ(got[l].qty, engine[l].qty);
        EXPECT_EQ(got[l].orders, engine[l].orders);
      }
      levels += got.size();
    }
  }
  EXPECT_GT(levels, 10u);  // the day left books to compare
  EXPECT_TRUE(recovered.egress->depth_available());
  EXPECT_EQ(recovered.egress->depth_inconsistencies(), 0u);
}

std::vector<std::uint8_t> bytes_of(const journal::StartRecord& s) {
  std::vector<std::uint8_t> b(sizeof s);
  std::memcpy(b.data(), &s, sizeof s);
  return b;
}

// Runs `n` generated commands through `live` (as the service would: Start, then commands) and
// through the real journal writer in `dir`; returns the commands.
std::vector<Command> run_live(Node& live, const fs::path& dir, std::uint64_t seed, std::size_t n, journal::Durability d) {
  journal::WriterOptions o;
  o.dir = dir;
  o.durability = d;
  o.segment_bytes = 64 * 1024;  // several segments
  o.fingerprint = journal::config_fingerprint(live.cfg);
  o.min_free_bytes = 0;
  journal::JournalWriter w(o);
  w.open(0);
  journal::StartRecord start{};
  start.ts = Timestamp{1000};
  start.session = TradingStatus::Trading;
  const auto sb = bytes_of(start);
  const std::uint64_t s1 = w.append_marker(journal::RecordKind::Start, sb);
  live.applier->apply(journal::Record{s1, journal::RecordKind::Start, sb});
  w.start();
  CommandGen gen(seed);
  std::vector<Command> cmds;
  for (std::size_t i = 0; i < n; ++i) {
    const Command c = gen.next();
    cmds.push_back(c);
    while (w.ring().try_push(c) != ring::PushResult::Ok) std::this_thread::yield();
    std::uint8_t raw[sizeof c];
    std::memcpy(raw, &c, sizeof c);
    live.applier->apply(journal::Record{s1 + 1 + i, journal::RecordKind::Command, raw});
  }
  w.stop();
  EXPECT_EQ(w.durable_seq(), s1 + n);
  return cmds;
}

journal::ReadEnd recover_into(Node& node, const fs::path& dir, std::uint64_t from = 1) {
  journal::ReadOptions ro;
  ro.from_seq = from;
  ro.repair = true;
  return journal::read_journal(dir, journal::config_fingerprint(node.cfg), ro,
                               [&](const journal::Record& r) { node.applier->apply(r); });
}

class RecoveryTest : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(RecoveryTest, TheJournalAloneRebuildsTheStateTheUninterruptedRunHas) {
  TempDir dir;
  Node live(CommandGen::config());
  (void)run_live(live, dir.path(), GetParam(), 30000, journal::Durability::None);
  Node recovered(CommandGen::config());
  const journal::ReadEnd end = recover_into(recovered, dir.path());
  EXPECT_EQ(end.last_seq, 30001u);
  EXPECT_FALSE(end.torn_tail);
  expect_same_state(live, recovered);
}

TEST_P(RecoveryTest, ASnapshotPlusTheJournalAfterItRebuildsTheSameState) {
  TempDir dir;
  Node live(CommandGen::config());
  const std::size_t n = 30000;
  const std::vector<Command> cmds = run_live(live, dir.path(), GetParam(), n, journal::Durability::Fdatasync);
  // The snapshot thread's replica: the journal applied up to seq k, serialized.
  const std::uint64_t k = 1 + 12345;
  Node replica(CommandGen::config());
  journal::ReadOptions ro;
  (void)journal::read_journal(dir.path(), 0, ro, [&](const journal::Record& r) {
    if (r.seq <= k) replica.applier->apply(r);
  });
  std::vector<std::uint8_t> eb;
  replica.engine.save(eb);
  const std::vector<std::uint8_t> gb = replica.egress->save();
  const std::vector<std::uint8_t> sb = save_service_section(*replica.applier->start());
  const journal::SnapshotPart parts[] = {{journal::SnapshotSection::Engine, eb},
                                         {journal::SnapshotSection::Egress, gb},
                                         {journal::SnapshotSection::Service, sb}};
  (void)journal::write_snapshot(dir.path(), k, journal::config_fingerprint(live.cfg), parts);

  std::vector<std::string> skipped;
  const auto snap = journal::newest_valid_snapshot(dir.path(), journal::config_fingerprint(live.cfg), &skipped);
  ASSERT_TRUE(snap);
  EXPECT_EQ(snap->seq, k);
  Node recovered(CommandGen::config());
  std::string error;
  ASSERT_TRUE(recovered.engine.load(*snap->find(journal::SnapshotSection::Engine), error)) << error;
  // As recovery loads it (RecordApplier::start_from): the retained messages read where they lie
  // in the snapshot's mapping.
  ASSERT_TRUE(recovered.egress->load(*snap->find(journal::SnapshotSection::Egress), error, snap->storage)) << error;
  const auto start = load_service_section(*snap->find(journal::SnapshotSection::Service));
  ASSERT_TRUE(start);
  EXPECT_EQ(start->ts.value(), 1000u);
  recovered.applier->set_start(*start, k);
  const journal::ReadEnd end = recover_into(recovered, dir.path(), k + 1);
  EXPECT_EQ(end.records, n + 1 - k);
  expect_same_state(live, recovered);
}

INSTANTIATE_TEST_SUITE_P(Seeds, RecoveryTest, ::testing::Values(1, 2, 3));

// A crash mid-write: the last record is cut short. Recovery truncates it (repair) and the state
// is the live run's minus that one command, which was never durable, so never acknowledged.
TEST(RecoveryTornTailTest, ATornLastRecordIsDroppedAndEverythingBeforeItKept) {
  TempDir dir;
  Node live(CommandGen::config());
  const std::vector<Command> cmds = run_live(live, dir.path(), 9, 5000, journal::Durability::Fsync);
  // The history without the last command.
  Node shorter(CommandGen::config());
  journal::ReadOptions ro;
  (void)journal::read_journal(dir.path(), 0, ro, [&](const journal::Record& r) {
    if (r.seq < 5001) shorter.applier->apply(r);
  });
  fs::path last;
  for (const auto& e : fs::directory_iterator(dir.path()))
    if (e.path().extension() == ".pjl" && (last.empty() || e.path() > last)) last = e.path();
  ASSERT_FALSE(last.empty());
  fs::resize_file(last, fs::file_size(last) - 10);
  Node recovered(CommandGen::config());
  const journal::ReadEnd end = recover_into(recovered, dir.path());
  ASSERT_TRUE(end.torn_tail);
  EXPECT_EQ(end.torn_tail->first, last);
  EXPECT_EQ(end.last_seq, 5000u);
  expect_same_state(shorter, recovered);
  // Repaired: a second read finds a clean journal.
  Node again(CommandGen::config());
  const journal::ReadEnd clean = recover_into(again, dir.path());
  EXPECT_FALSE(clean.torn_tail);
  EXPECT_EQ(clean.last_seq, 5000u);
}

TEST(EngineConfigForStartTest, OnlyInstrumentsConfiguredAsTradingTakeTheStartPhase) {
  EngineConfig cfg = CommandGen::config();
  ASSERT_GE(cfg.instruments.size(), 2u);
  cfg.instruments[1].initial_status = TradingStatus::Suspended;
  const EngineConfig e = engine_config_for_start(cfg, TradingStatus::OpeningCall);
  EXPECT_EQ(e.instruments[0].initial_status, TradingStatus::OpeningCall);
  EXPECT_EQ(e.instruments[1].initial_status, TradingStatus::Suspended);
  journal::StartRecord s{};
  s.ts = Timestamp{5};
  s.session = TradingStatus::OpeningCall;
  const auto back = load_service_section(save_service_section(s));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->session, TradingStatus::OpeningCall);
  EXPECT_FALSE(load_service_section(std::vector<std::uint8_t>(15, 0)));
}

}  // namespace recovery_test
}  // namespace peregrine::replay
