#include "snapshotter.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <exception>
#include <filesystem>
#include <system_error>
#include <vector>

#include "peregrine/agent/clock.hpp"
#include "peregrine/core/engine.hpp"
#include "peregrine/egress/egress.hpp"
#include "peregrine/journal/snapshot.hpp"
#include "peregrine/proto/ouch_translate.hpp"
#include "peregrine/replay/day_start.hpp"
#include "peregrine/replay/record_applier.hpp"
#include "peregrine/replay/service_state.hpp"
#include "peregrine/sessions/soup_session.hpp"
#include "topology.hpp"

namespace peregrine::app {

namespace fs = std::filesystem;

namespace {

using agent::mono_ns;

bool is_day_name(const std::string& s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) return false;
  return true;
}

}  // namespace

struct Snapshotter::Replica {
  explicit Replica(const config::ServiceConfig& cfg, const EngineConfig& ecfg)
      : engine(ecfg), users(cfg.gateway.retention_messages), lookup(ecfg) {}
  Engine engine;
  sessions::UserDirectory users;
  proto::ConfigLookup lookup;
  std::unique_ptr<egress::Egress> egress;
  std::unique_ptr<replay::RecordApplier> applier;
  std::unique_ptr<journal::JournalTail> tail;
  std::uint64_t since_snapshot = 0;
  std::uint64_t last_snapshot_mono = 0;
  // The sections' bytes, kept from one snapshot to the next: their pages are faulted in once,
  // not at every snapshot (hundreds of megabytes on a busy day; a hypervisor round trip a page
  // on the development VM).
  std::vector<std::uint8_t> engine_bytes;
  std::vector<std::uint8_t> egress_bytes;
};

Snapshotter::Snapshotter(const config::ServiceConfig& cfg, const EngineConfig& engine_cfg, const replay::RecoveryPlan& plan,
                         journal::JournalWriter& writer,
                         std::function<void(std::string_view, const std::string&)> log)
    : cfg_(cfg),
      engine_cfg_(engine_cfg),
      plan_(plan),
      writer_(writer),
      log_(std::move(log)),
      // Not on a message's path: it parks as soon as a pass finds nothing, and a stop does not
      // wait for it to catch up.
      runner_(*this, agent::AgentOptions{std::string(kSnapshotThread), -1, {agent::IdleStrategyKind::Park, {}, std::chrono::nanoseconds{-1}},
                                         true, false}) {}

Snapshotter::~Snapshotter() { stop(); }

void Snapshotter::start() { runner_.start(); }

void Snapshotter::stop() { runner_.stop(); }

// The replica is built as the service builds its state (replay::add_users, egress_config), so
// the Egress section it writes loads into the service at the next start.
void Snapshotter::build_replica() {
  replica_ = std::make_unique<Replica>(cfg_, engine_cfg_);
  Replica& r = *replica_;
  replay::add_users(cfg_, r.users);
  r.egress = std::make_unique<egress::Egress>(engine_cfg_, r.lookup, r.users, replay::egress_config(cfg_),
                                              [](std::span<const std::uint8_t>) {});
  r.applier = std::make_unique<replay::RecordApplier>(r.engine, *r.egress);
  const std::uint64_t from = r.applier->start_from(plan_);
  r.tail = std::make_unique<journal::JournalTail>(plan_.dir, plan_.fingerprint, from);
  r.last_snapshot_mono = mono_ns();
  stats_.replica_seq.store(from - 1, std::memory_order_relaxed);
}

void Snapshotter::on_start() {
  try {
    build_replica();
  } catch (const std::exception& e) {
    log_("error", std::string("snapshots: cannot build the replica: ") + e.what() + "; no snapshots will be taken");
    stats_.failed.fetch_add(1, std::memory_order_relaxed);
    failed_ = true;
    runner_.request_stop();
  }
}

int Snapshotter::do_work() {
  if (failed_) return 0;
  Replica& r = *replica_;
  std::size_t n = 0;
  try {
    n = r.tail->poll(writer_.durable_seq(), 65536, [&](const journal::Record& rec) {
      r.applier->apply(rec);
      if (rec.kind == journal::RecordKind::Command) ++r.since_snapshot;
    });
  } catch (const std::exception& e) {
    log_("error", std::string("snapshots: reading the journal: ") + e.what() + "; snapshots stop");
    stats_.failed.fetch_add(1, std::memory_order_relaxed);
    failed_ = true;
    runner_.request_stop();
    return 0;
  }
  stats_.replica_seq.store(r.applier->last_seq(), std::memory_order_relaxed);
  (void)r.egress->follow_depth();  // this thread is its replica's depth reader: the ITCH buffer holds nothing for it
  const std::uint64_t every = cfg_.journal.snapshot_every_commands;
  const std::uint64_t every_ns = std::uint64_t{cfg_.journal.snapshot_every_seconds} * 1'000'000'000;
  const std::uint64_t now = mono_ns();
  const bool by_count = every != 0 && r.since_snapshot >= every;
  const bool by_time = every_ns != 0 && r.since_snapshot > 0 && now - r.last_snapshot_mono >= every_ns;
  const bool asked = requested_.load(std::memory_order_acquire) && r.tail->next_seq() > writer_.durable_seq();
  if (by_count || by_time || asked) {
    requested_.store(false, std::memory_order_release);
    take_snapshot();
    ++n;
  }
  return static_cast<int>(std::min<std::size_t>(n, 1'000'000));
}

// The re-check before a park: a request, or durable records the replica has not applied.
bool Snapshotter::has_work() {
  if (failed_) return false;
  return requested_.load(std::memory_order_acquire) || replica_->tail->next_seq() <= writer_.durable_seq();
}

// A timed snapshot is due even if nobody wakes the thread.
std::chrono::nanoseconds Snapshotter::park_timeout() {
  const std::uint64_t every_ns = std::uint64_t{cfg_.journal.snapshot_every_seconds} * 1'000'000'000;
  if (failed_ || every_ns == 0 || replica_->since_snapshot == 0) return std::chrono::nanoseconds{-1};
  const std::uint64_t due = replica_->last_snapshot_mono + every_ns;
  const std::uint64_t now = mono_ns();
  return std::chrono::nanoseconds{due > now ? static_cast<std::int64_t>(due - now) : 0};
}

void Snapshotter::take_snapshot() {
  Replica& r = *replica_;
  const std::uint64_t t0 = mono_ns();
  const std::uint64_t seq = r.applier->last_seq();
  try {
    if (!r.applier->start()) throw journal::JournalError("the day has no Start record yet");
    r.egress->flush(mono_ns());  // the datagram being built goes "out" (nowhere), as the service's flush does
    r.engine_bytes.clear();
    r.engine.save(r.engine_bytes);
    r.egress->save(r.egress_bytes);
    const std::vector<std::uint8_t> service_bytes = replay::save_service_section(*r.applier->start());
    const journal::SnapshotPart parts[] = {{journal::SnapshotSection::Engine, r.engine_bytes},
                                           {journal::SnapshotSection::Egress, r.egress_bytes},
                                           {journal::SnapshotSection::Service, service_bytes}};
    const std::uint64_t t_saved = mono_ns();
    const fs::path file = journal::write_snapshot(plan_.dir, seq, plan_.fingerprint, parts);
    const std::uint64_t took = mono_ns() - t0;
    const std::uint64_t bytes = r.engine_bytes.size() + r.egress_bytes.size() + service_bytes.size();
    stats_.taken.fetch_add(1, std::memory_order_relaxed);
    stats_.last_seq.store(seq, std::memory_order_relaxed);
    stats_.last_bytes.store(bytes, std::memory_order_relaxed);
    stats_.last_duration_ns.store(took, std::memory_order_relaxed);
    stats_.last_unix_seconds.store(static_cast<std::uint64_t>(std::time(nullptr)), std::memory_order_relaxed);
    log_("info", "snapshot " + file.filename().string() + ": seq " + std::to_string(seq) + ", " + std::to_string(bytes) +
                     " bytes, " + std::to_string(took / 1'000'000) + " ms (" + std::to_string((t_saved - t0) / 1'000'000) +
                     " ms to serialize, the rest to write and sync)");
    r.since_snapshot = 0;
    r.last_snapshot_mono = mono_ns();
    apply_retention(seq);
  } catch (const std::exception& e) {
    stats_.failed.fetch_add(1, std::memory_order_relaxed);
    log_("error", "snapshot at seq " + std::to_string(seq) + " failed: " + e.what());
    r.last_snapshot_mono = mono_ns();  // not again at once: the next interval
    if (r.since_snapshot > 0 && cfg_.journal.snapshot_every_commands != 0) r.since_snapshot = 0;
  }
}

// Old snapshots beyond keep_snapshots; segments wholly before the snapshot the oldest kept
// snapshot leaves replayable, once past retention; earlier days' directories past retention.
void Snapshotter::apply_retention(std::uint64_t snapshot_seq) {
  (void)journal::prune_snapshots(plan_.dir, cfg_.journal.keep_snapshots);
  const std::uint64_t retention_s = std::uint64_t{cfg_.journal.retention_hours} * 3600;
  // Segments are removed only up to the oldest snapshot kept, so every kept snapshot can still
  // be replayed forward.
  std::uint64_t oldest_kept = snapshot_seq;
  for (const auto& [seq, path] : journal::list_snapshots(plan_.dir)) oldest_kept = std::min(oldest_kept, seq);
  const std::size_t removed =
      writer_.remove_segments_through(oldest_kept, retention_s);
  stats_.segments_removed.fetch_add(removed, std::memory_order_relaxed);
  // Earlier days.
  std::error_code ec;
  const fs::path root = plan_.dir.parent_path();
  const auto now = fs::file_time_type::clock::now();
  for (const fs::directory_entry& d : fs::directory_iterator(root, ec)) {
    const std::string name = d.path().filename().string();
    if (!d.is_directory(ec) || !is_day_name(name) || d.path() == plan_.dir) continue;
    const auto written = fs::last_write_time(d.path(), ec);
    if (ec) continue;
    if (now - written < std::chrono::seconds(retention_s)) continue;
    if (fs::remove_all(d.path(), ec) != static_cast<std::uintmax_t>(-1) && !ec) {
      stats_.days_removed.fetch_add(1, std::memory_order_relaxed);
      log_("info", "retention: removed the journal of " + name);
    }
  }
}

}  // namespace peregrine::app
