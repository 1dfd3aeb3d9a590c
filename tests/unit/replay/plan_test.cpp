// The recovery plan and the day's start on journals written in a temporary directory: which
// snapshot start-up takes, how the day started, the phase it starts in, and a recovery that goes
// through the plan (RecordApplier::start_from) to the uninterrupted run's state.

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <memory>
#include <string>
#include <vector>

#include "differential/command_gen.hpp"
#include "peregrine/config/service.hpp"
#include "peregrine/egress/egress.hpp"
#include "peregrine/journal/journal.hpp"
#include "peregrine/journal/snapshot.hpp"
#include "peregrine/proto/ouch_translate.hpp"
#include "peregrine/replay/day_start.hpp"
#include "peregrine/replay/record_applier.hpp"
#include "peregrine/replay/recovery_plan.hpp"
#include "peregrine/replay/service_state.hpp"
#include "peregrine/sessions/soup_session.hpp"
#include "unit/journal/journal_fixture.hpp"

namespace peregrine::replay {
namespace plan_test {  // named, not anonymous: the sanitizer presets' unity builds compile it beside other tests

namespace fs = std::filesystem;
using differential::CommandGen;
using journal::test::TempDir;

constexpr const char* kDate = "2026-12-07";

// A service on CommandGen's instruments and firms, its journal under `root`, one user per owner
// CommandGen uses (owner o trades for firm (o-1)/2).
config::ServiceConfig service(const fs::path& root) {
  config::ServiceConfig cfg;
  cfg.engine = CommandGen::config();
  cfg.journal.dir = root.string();
  for (std::uint32_t o = 1; o <= CommandGen::kOwners; ++o) {
    config::UserConfig u;
    u.username = "U" + std::to_string(o);
    u.firm = std::string(cfg.engine.firms[(o - 1) / 2].name.view());
    cfg.users.push_back(u);
    cfg.credentials.entries.push_back(config::Credential{u.username, "pw" + std::to_string(o), 0});
  }
  return cfg;
}

std::vector<std::uint8_t> bytes_of(const journal::StartRecord& s) { return save_service_section(s); }

journal::StartRecord start_in(TradingStatus session, std::uint64_t ts = 1000) {
  journal::StartRecord s{};
  s.ts = Timestamp{ts};
  s.session = session;
  return s;
}

// The state a service holds, built as the service builds it (service_state.hpp).
struct Node {
  Node(const config::ServiceConfig& service_cfg, TradingStatus session)
      : cfg(engine_config_for_start(service_cfg.engine, session)),
        engine(cfg),
        lookup(cfg),
        users(service_cfg.gateway.retention_messages) {
    add_users(service_cfg, users);
    egress = std::make_unique<egress::Egress>(cfg, lookup, users, egress_config(service_cfg),
                                              [](std::span<const std::uint8_t>) {});
    applier = std::make_unique<RecordApplier>(engine, *egress);
  }
  EngineConfig cfg;
  Engine engine;
  proto::ConfigLookup lookup;
  sessions::UserDirectory users;
  std::unique_ptr<egress::Egress> egress;
  std::unique_ptr<RecordApplier> applier;
};

journal::WriterOptions writer_options(const fs::path& dir, const EngineConfig& engine) {
  journal::WriterOptions o;
  o.dir = dir;
  o.durability = journal::Durability::None;
  o.segment_bytes = 64 * 1024;
  o.fingerprint = journal::config_fingerprint(engine);
  o.min_free_bytes = 0;
  return o;
}

// Writes the day's journal in `dir`: the Start record (unless `start` is empty), then `n`
// generated commands, each applied to `live` (if any) as the service would.
void write_day(const fs::path& dir, const config::ServiceConfig& cfg, std::optional<journal::StartRecord> start,
               std::size_t n, Node* live = nullptr, std::uint64_t seed = 7) {
  journal::JournalWriter w(writer_options(dir, cfg.engine));
  w.open(0);
  std::uint64_t seq = 0;
  if (start) {
    const auto sb = bytes_of(*start);
    seq = w.append_marker(journal::RecordKind::Start, sb);
    if (live != nullptr) live->applier->apply(journal::Record{seq, journal::RecordKind::Start, sb});
  }
  w.start();
  CommandGen gen(seed);
  for (std::size_t i = 0; i < n; ++i) {
    const Command c = gen.next();
    journal::test::push(w, c);
    std::uint8_t raw[sizeof c];
    std::memcpy(raw, &c, sizeof c);
    if (live != nullptr) live->applier->apply(journal::Record{++seq, journal::RecordKind::Command, raw});
  }
  w.stop();
}

// The snapshot thread's snapshot of `node` (after records up to `seq`).
void write_snapshot_of(Node& node, const fs::path& dir, std::uint64_t seq, const EngineConfig& engine) {
  std::vector<std::uint8_t> eb;
  node.engine.save(eb);
  const std::vector<std::uint8_t> gb = node.egress->save();
  const std::vector<std::uint8_t> sb = save_service_section(*node.applier->start());
  const journal::SnapshotPart parts[] = {{journal::SnapshotSection::Engine, eb},
                                         {journal::SnapshotSection::Egress, gb},
                                         {journal::SnapshotSection::Service, sb}};
  (void)journal::write_snapshot(dir, seq, journal::config_fingerprint(engine), parts);
}

TEST(RecoveryPlanTest, WithoutAJournalDirectoryThereIsNothingToRecover) {
  config::ServiceConfig cfg = service("");
  const RecoveryPlan plan = plan_recovery(cfg, kDate);
  EXPECT_TRUE(plan.dir.empty());
  EXPECT_EQ(plan.fingerprint, 0u);
  EXPECT_FALSE(plan.snapshot);
  EXPECT_FALSE(plan.start);
  EXPECT_EQ(journal_day_dir("", kDate), fs::path());
}

TEST(RecoveryPlanTest, AMissingOrEmptyDayDirectoryIsANewDay) {
  const TempDir root;
  const config::ServiceConfig cfg = service(root.path());
  const RecoveryPlan missing = plan_recovery(cfg, kDate);
  EXPECT_EQ(missing.dir, root.path() / kDate);
  EXPECT_EQ(missing.dir, journal_day_dir(root.path().string(), kDate));
  EXPECT_EQ(missing.fingerprint, journal::config_fingerprint(cfg.engine));
  EXPECT_FALSE(missing.snapshot);
  EXPECT_FALSE(missing.start);

  fs::create_directories(root.path() / kDate);
  const RecoveryPlan empty = plan_recovery(cfg, kDate);
  EXPECT_FALSE(empty.snapshot);
  EXPECT_FALSE(empty.start);
}

TEST(RecoveryPlanTest, WithoutASnapshotTheJournalsStartRecordSaysHowTheDayStarted) {
  const TempDir root;
  const config::ServiceConfig cfg = service(root.path());
  write_day(root.path() / kDate, cfg, start_in(TradingStatus::OpeningCall, 4242), 100);
  const RecoveryPlan plan = plan_recovery(cfg, kDate);
  EXPECT_FALSE(plan.snapshot);
  ASSERT_TRUE(plan.start);
  EXPECT_EQ(plan.start->session, TradingStatus::OpeningCall);
  EXPECT_EQ(plan.start->ts.value(), 4242u);
  EXPECT_EQ(start_phase(cfg, plan, 0), TradingStatus::OpeningCall);  // whatever the time of day
}

TEST(RecoveryPlanTest, AJournalThatDoesNotBeginWithItsStartRecordCannotBeRecoveredWithoutASnapshot) {
  const TempDir root;
  const config::ServiceConfig cfg = service(root.path());
  write_day(root.path() / kDate, cfg, std::nullopt, 10);
  try {
    (void)plan_recovery(cfg, kDate);
    FAIL() << "no error";
  } catch (const journal::JournalError& e) {
    EXPECT_NE(std::string(e.what()).find("does not begin with its Start record"), std::string::npos) << e.what();
  }
}

TEST(RecoveryPlanTest, AStartRecordNamingNoKnownPhaseIsRefused) {
  const TempDir root;
  const config::ServiceConfig cfg = service(root.path());
  journal::StartRecord bad = start_in(TradingStatus::Trading);
  bad.session = static_cast<TradingStatus>(0x7F);
  write_day(root.path() / kDate, cfg, bad, 0);
  EXPECT_THROW((void)plan_recovery(cfg, kDate), journal::JournalError);
  EXPECT_FALSE(decode_start(bytes_of(bad)));
  EXPECT_FALSE(decode_start(std::vector<std::uint8_t>(sizeof(journal::StartRecord) - 1, 0)));
}

TEST(RecoveryPlanTest, TheNewestSnapshotThatVerifiesIsTakenAndNewerDamagedOnesAreNamed) {
  const TempDir root;
  const config::ServiceConfig cfg = service(root.path());
  const fs::path day = root.path() / kDate;
  Node live(cfg, TradingStatus::Break);
  write_day(day, cfg, start_in(TradingStatus::Break), 500, &live);
  write_snapshot_of(live, day, 501, cfg.engine);
  write_snapshot_of(live, day, 600, cfg.engine);
  const fs::path damaged = day / "snapshot-00000000000000000600.pgs";
  journal::test::flip_byte(damaged, fs::file_size(damaged) / 2);

  const RecoveryPlan plan = plan_recovery(cfg, kDate);
  ASSERT_TRUE(plan.snapshot);
  EXPECT_EQ(plan.snapshot->seq, 501u);
  ASSERT_EQ(plan.skipped_snapshots.size(), 1u);
  EXPECT_NE(plan.skipped_snapshots[0].find(damaged.filename().string()), std::string::npos) << plan.skipped_snapshots[0];
  ASSERT_TRUE(plan.start);
  EXPECT_EQ(plan.start->session, TradingStatus::Break);
}

TEST(RecoveryPlanTest, ASnapshotWithoutItsServiceSectionIsRefused) {
  const TempDir root;
  const config::ServiceConfig cfg = service(root.path());
  const fs::path day = root.path() / kDate;
  write_day(day, cfg, start_in(TradingStatus::Trading), 10);
  const std::vector<std::uint8_t> engine_only{1, 2, 3};
  const journal::SnapshotPart parts[] = {{journal::SnapshotSection::Engine, engine_only}};
  (void)journal::write_snapshot(day, 5, journal::config_fingerprint(cfg.engine), parts);
  try {
    (void)plan_recovery(cfg, kDate);
    FAIL() << "no error";
  } catch (const journal::JournalError& e) {
    EXPECT_NE(std::string(e.what()).find("the service section is missing or malformed"), std::string::npos) << e.what();
  }
}

TEST(StartPhaseTest, ANewDayStartsInTheSchedulesPhaseOrTradingWithoutASchedule) {
  config::ServiceConfig cfg = service("");
  const RecoveryPlan new_day;
  cfg.market.scheduled = true;
  cfg.market.schedule = config::a_share_schedule();
  EXPECT_EQ(start_phase(cfg, new_day, 9 * 3600 + 16 * 60), TradingStatus::OpeningCall);
  EXPECT_EQ(start_phase(cfg, new_day, 10 * 3600), TradingStatus::Trading);
  EXPECT_EQ(start_phase(cfg, new_day, 8 * 3600), TradingStatus::Closed);
  cfg.market.scheduled = false;
  EXPECT_EQ(start_phase(cfg, new_day, 8 * 3600), TradingStatus::Trading);
  RecoveryPlan recorded;
  recorded.start = start_in(TradingStatus::ClosingCall);
  EXPECT_EQ(start_phase(cfg, recorded, 10 * 3600), TradingStatus::ClosingCall);
}

// Start-up as the service does it: plan, engine in the day's phase, start_from, the journal
// after it; from a snapshot and from the day's start alike, the uninterrupted run's state.
TEST(RecoveryPlanTest, RecoveringThroughThePlanRebuildsTheUninterruptedRunsState) {
  const TempDir root;
  const config::ServiceConfig cfg = service(root.path());
  const fs::path day = root.path() / kDate;
  const TradingStatus phase = TradingStatus::OpeningCall;
  Node live(cfg, phase);
  write_day(day, cfg, start_in(phase), 8000, &live, 11);
  // The replica: the journal up to seq k, serialized.
  const std::uint64_t k = 3001;
  Node replica(cfg, phase);
  (void)journal::read_journal(day, 0, {}, [&](const journal::Record& r) {
    if (r.seq <= k) replica.applier->apply(r);
  });
  EXPECT_EQ(replica.applier->last_seq(), k);
  EXPECT_EQ(replica.applier->commands(), k - 1);

  const auto recover = [&](const RecoveryPlan& plan) {
    auto node = std::make_unique<Node>(cfg, start_phase(cfg, plan, 0));
    const std::uint64_t from = node->applier->start_from(plan);
    journal::ReadOptions ro;
    ro.from_seq = from;
    const journal::ReadEnd end =
        journal::read_journal(plan.dir, plan.fingerprint, ro, [&](const journal::Record& r) { node->applier->apply(r); });
    EXPECT_EQ(end.last_seq, 8001u);
    EXPECT_EQ(node->applier->last_seq(), 8001u);
    EXPECT_TRUE(node->applier->start());
    return node;
  };
  const auto expect_live = [&](Node& n) {
    EXPECT_EQ(n.engine.state_hash(), live.engine.state_hash());
    EXPECT_TRUE(n.engine.validate_internal_state());
    EXPECT_EQ(n.egress->save(), live.egress->save());
  };

  const RecoveryPlan from_start = plan_recovery(cfg, kDate);
  ASSERT_FALSE(from_start.snapshot);
  auto a = recover(from_start);
  EXPECT_EQ(a->applier->commands(), 8000u);
  expect_live(*a);

  write_snapshot_of(replica, day, k, cfg.engine);
  const RecoveryPlan from_snapshot = plan_recovery(cfg, kDate);
  ASSERT_TRUE(from_snapshot.snapshot);
  EXPECT_EQ(from_snapshot.snapshot->seq, k);
  auto b = recover(from_snapshot);
  EXPECT_EQ(b->applier->commands(), 8001u - k);
  expect_live(*b);
}

TEST(RecordApplierTest, StartFromASnapshotMissingASectionNamesTheFile) {
  const TempDir root;
  const config::ServiceConfig cfg = service(root.path());
  const fs::path day = root.path() / kDate;
  write_day(day, cfg, start_in(TradingStatus::Trading), 0);
  const std::vector<std::uint8_t> sb = bytes_of(start_in(TradingStatus::Trading));
  const journal::SnapshotPart parts[] = {{journal::SnapshotSection::Service, sb}};
  const fs::path file = journal::write_snapshot(day, 1, journal::config_fingerprint(cfg.engine), parts);
  const RecoveryPlan plan = plan_recovery(cfg, kDate);
  ASSERT_TRUE(plan.snapshot);
  Node node(cfg, TradingStatus::Trading);
  try {
    (void)node.applier->start_from(plan);
    FAIL() << "no error";
  } catch (const journal::JournalError& e) {
    EXPECT_EQ(std::string(e.what()), file.string() + ": a section is missing");
  }
}

TEST(ServiceStateTest, UsersAreNumberedInConfigurationOrderWithTheirFirmsAndPasswords) {
  const config::ServiceConfig cfg = service("");
  sessions::UserDirectory users(16);
  add_users(cfg, users);
  ASSERT_EQ(users.size(), CommandGen::kOwners);
  for (std::uint32_t o = 1; o <= CommandGen::kOwners; ++o) {
    const sessions::UserAccount& a = users.at(o - 1).account;
    EXPECT_EQ(a.owner.value(), o);
    EXPECT_EQ(a.username.view(), "U" + std::to_string(o));
    EXPECT_EQ(a.password.view(), "pw" + std::to_string(o));
    EXPECT_EQ(a.firm.value(), (o - 1) / 2);
    EXPECT_EQ(a.firm_name.view(), cfg.engine.firms[(o - 1) / 2].name.view());
  }
}

TEST(ServiceStateTest, EgressSendsUnderTheGatewaysSessionName) {
  config::ServiceConfig cfg = service("");
  cfg.gateway.session_name = "DAY2";
  EXPECT_EQ(egress_config(cfg).mold.session.view(), "DAY2");
}

TEST(ServiceStateTest, AUserWithoutACredentialOrWithAnUnknownFirmIsAnError) {
  config::ServiceConfig cfg = service("");
  cfg.credentials.entries.pop_back();
  sessions::UserDirectory users(16);
  EXPECT_THROW(add_users(cfg, users), std::runtime_error);
  cfg = service("");
  EXPECT_THROW((void)user_account(cfg, config::UserConfig{"U1", "NOSUCH"}, 1), std::runtime_error);
}

}  // namespace plan_test
}  // namespace peregrine::replay
