// The journal at start-up and while running: the day's recovery (snapshot, then the journal
// after it) before any session connects, the writer and the snapshot thread, the disk and writer
// health checks of the tick (docs/operations.md, "Journal" and "Recovery").

#include "server_impl.hpp"

#include "peregrine/replay/day_start.hpp"
#include "peregrine/replay/record_applier.hpp"

namespace peregrine::app {

void Server::journal_log(std::string_view level, const std::string& line) {
  if (level == "error") {
    log_->error("{}", line);
  } else if (level == "warn") {
    log_->warn("{}", line);
  } else {
    log_->info("{}", line);
  }
}

// Replays the day (newest snapshot, then the journal after it) into the engine and egress on
// this thread before any session can connect, then opens the journal for appending and
// starts its writer and the snapshot thread. Without journal.dir: start of day, and a warning.
void Server::recover() {
  const Timestamp now_ts{mono_ns() - origin_ns_};
  if (plan_.dir.empty()) {
    log_->warn("journal: off (no journal.dir): a crash loses the day's orders and sequence numbers");
    recovery_summary_ = "journal: off";
    egress_->start_of_day(now_ts);
    return;
  }
  if (cfg_.journal.durability == config::JournalDurability::None)
    log_->warn("journal: durability none: replies leave before their commands reach the disk; a machine crash "
               "loses them. For benchmarks only");
  for (const std::string& s : plan_.skipped_snapshots) log_->warn("snapshot skipped: {}", s);
  const std::uint64_t t0 = mono_ns();
  recovering_ = true;  // egress sends no datagrams while it replays
  replay::RecordApplier applier(engine_, *egress_, [this](const Event& e) { observe_status(e); });
  const std::uint64_t from = applier.start_from(plan_);
  journal::ReadOptions ro;
  ro.from_seq = from;
  ro.truncate_at_corruption = opts_.truncate_at_corruption;
  ro.repair = true;
  // This thread is the depth reader until the HTTP thread starts: the depth books follow the ITCH
  // buffer as it grows, so that it need not hold the replay's messages for them.
  std::uint64_t replayed = 0;
  const journal::ReadEnd end = journal::read_journal(plan_.dir, plan_.fingerprint, ro, [&](const journal::Record& r) {
    applier.apply(r);
    if (++replayed % 4096 == 0) (void)egress_->follow_depth();
  });
  if (end.torn_tail)
    log_->warn("journal: {} cut at offset {}: {}", end.torn_tail->first.string(), end.torn_tail->second,
               opts_.truncate_at_corruption ? "a torn last record or, as --recover-truncate-at-corruption allows, corruption; "
                                              "what followed was dropped (moved aside as *.corrupt)"
                                            : "a torn last record (a crash mid-write), never acknowledged");
  egress_->flush(mono_ns());
  (void)egress_->follow_depth();
  recovering_ = false;
  // A restart on the day of a clean stop: the replayed end of day closed the MoldUDP64
  // session; the day goes on (docs/operations.md, "Recovery").
  if (egress_->mold().ended()) egress_->mold().reopen();
  const std::uint64_t last = applier.last_seq();
  recovered_records_ = end.records;
  publish_statuses();

  journal::WriterOptions wo;
  wo.dir = plan_.dir;
  wo.durability = durability_of(cfg_.journal.durability);
  wo.segment_bytes = cfg_.journal.segment_bytes;
  wo.fingerprint = plan_.fingerprint;
  wo.min_free_bytes = cfg_.journal.min_free_bytes / 4;  // the last reserve: orders stopped at min_free_bytes
  wo.wait = {eff_.journal_idle, eff_.park_after, std::chrono::nanoseconds{-1}};  // woken by the core
  wo.sync_window = std::chrono::milliseconds{cfg_.ha.fsync_window_ms};
  // The file's check (config) does not see --journal-durability: without a standby to wait for,
  // `replicated` would release on write alone.
  if (journal::replicated(wo.durability) && cfg_.ha.role != config::HaRole::Leader)
    throw std::runtime_error("journal.durability " + std::string(journal::to_string(wo.durability)) +
                             " needs ha.role: leader (a standby to hold the commands; docs/ha.md)");
  wo.await_replica = cfg_.ha.role == config::HaRole::Leader;  // replies wait for the standby (docs/ha.md)
  writer_ = std::make_unique<journal::JournalWriter>(wo);
  writer_->set_durable_listener(&io_runner_.parker());  // durability releases events: wake the io thread
  writer_->open(last);
  start_ha_leader();  // with ha.role leader: the replication link, before the writer's first write
  // The writer's thread first, so that a new day's first segment is created and synced there,
  // beside the rest of start-up (three syncs, ~5 ms on the development VM's disk), not before
  // ready on this thread. Nothing depends on them before then: a reply leaves only once the
  // writer has synced its command, and so everything before it.
  writer_->start();
  if (last == 0) {  // a new day: the Start record, then the start of day it describes
    journal::StartRecord sr{};
    sr.ts = now_ts;
    sr.session = start_phase_;
    const auto* b = reinterpret_cast<const std::uint8_t*>(&sr);
    (void)writer_->append_marker(journal::RecordKind::Start, {b, sizeof sr});  // returns once numbered
    egress_->start_of_day(now_ts);
  }
  boundaries_ = std::make_unique_for_overwrite<BoundaryRing>();
  core_.attach_journal(writer_->ring(), *boundaries_, writer_->last_seq(), &writer_->parker());
  recovery_seconds_ = static_cast<double>(mono_ns() - t0) * 1e-9;
  if (last == 0) {
    recovery_summary_ = "journal: new day";
    log_->info("journal: new day in {} ({} durability)", plan_.dir.string(), journal::to_string(wo.durability));
  } else {
    recovery_summary_ =
        "journal: recovered " + std::to_string(end.records) + " records after " +
        (plan_.snapshot ? "snapshot " + plan_.snapshot->file.filename().string() : std::string("the day's start"));
    log_->info("{} in {:.3f} s; continuing at seq {} in {}", recovery_summary_, recovery_seconds_,
               writer_->last_seq() + 1, plan_.dir.string());
    resume_after_recovery();
  }
  // Started after ready (run()): building its replica (and loading the snapshot into it again)
  // would take a CPU from the rest of start-up.
  snapshotter_ = std::make_unique<Snapshotter>(cfg_, engine_cfg_, plan_, *writer_,
                                               [this](std::string_view level, const std::string& line) { journal_log(level, line); });
}

// After a restart no session is connected: users with cancel-on-disconnect lose their live
// orders as if their sessions had closed (journaled like any command), and resumption calls
// that were running get their end again.
void Server::resume_after_recovery() {
  for (std::size_t i = 0; i < users_.size(); ++i) {
    const sessions::UserAccount& a = users_.at(i).account;
    if (!a.cancel_on_disconnect) continue;
    if (admin(make_mass_cancel(admin_ts(), a.firm, InstrumentId{0}, a.owner, CancelReason::Disconnected)).status !=
        ops::AdminStatus::Accepted)
      log_->error("recovery: cannot queue cancel-on-disconnect for {}", a.username.view());
  }
  const std::lock_guard<std::mutex> lock(admin_mutex_);
  for (std::size_t i = 0; i < cfg_.engine.instruments.size(); ++i) {
    const InstrumentId id{static_cast<std::uint16_t>(i + 1)};
    if (engine_.status(id) == TradingStatus::ResumeCall)
      resume_call_ends_.push_back({id, mono_ns() + std::uint64_t{cfg_.market.resume_call_seconds} * 1'000'000'000});
  }
}

// Disk and writer health, once a second from the tick: below journal.min_free_mb new orders
// are refused; a writer that cannot write makes the service unready (nothing is acknowledged
// until it can).
bool Server::journal_healthy() const {
  return !writer_ || (!writer_->failed() && !refusing_orders_.load(std::memory_order_relaxed));
}

void Server::check_journal(std::uint64_t now) {
  if (!writer_ || now < next_disk_check_) return;
  next_disk_check_ = now + 1'000'000'000;
  const journal::DiskUsage du = journal::disk_usage(plan_.dir);
  disk_used_.store(du.used, std::memory_order_relaxed);
  disk_free_.store(du.free, std::memory_order_relaxed);
  const bool low = du.free < cfg_.journal.min_free_bytes;
  // ha.standby_lost strict: no standby in sync refuses orders too (on_standby_sync()).
  const bool refuse = low || standby_refusing_.load(std::memory_order_relaxed);
  if (refuse != refusing_orders_.load(std::memory_order_relaxed)) {
    refusing_orders_.store(refuse, std::memory_order_relaxed);
    if (!low && refuse) {
      log_->error("ha: refusing new orders and replaces: no standby in sync (ha.standby_lost strict)");
    } else if (low) {
      log_->error("journal: {} MiB free on {} (journal.min_free_mb {}): refusing new orders and replaces until space is freed",
                  du.free >> 20, plan_.dir.string(), cfg_.journal.min_free_bytes >> 20);
    } else {
      log_->info("taking orders again ({} MiB free on the journal's disk)", du.free >> 20);
    }
  }
  const bool failed = writer_->failed();
  if (failed != writer_failed_seen_) {
    writer_failed_seen_ = failed;
    if (failed) {
      log_->error("journal: cannot write ({}): nothing is acknowledged until it can; /readyz is false", writer_->last_error());
    } else {
      log_->info("journal: writing again");
    }
  }
  if (!stopping_.load(std::memory_order_acquire)) ops_->set_ready(journal_healthy());
}

}  // namespace peregrine::app
