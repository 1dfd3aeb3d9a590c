#pragma once
// The snapshot thread (docs/operations.md, "Snapshots"): a replica of the service's state that
// follows the journal and is written out now and then, and retention of old snapshots, segments
// and days. What the replica is built from and how records are applied to it is the replay
// library's (peregrine/replay/), shared with recovery. App-internal.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "peregrine/agent/agent_runner.hpp"
#include "peregrine/config/service.hpp"
#include "peregrine/core/config.hpp"
#include "peregrine/journal/journal.hpp"
#include "peregrine/replay/recovery_plan.hpp"

namespace peregrine::app {

/// Snapshot counts for metrics (any thread).
struct SnapshotStats {
  std::atomic<std::uint64_t> taken{0};
  std::atomic<std::uint64_t> failed{0};
  std::atomic<std::uint64_t> last_seq{0};
  std::atomic<std::uint64_t> last_bytes{0};
  std::atomic<std::uint64_t> last_duration_ns{0};
  std::atomic<std::uint64_t> last_unix_seconds{0};
  std::atomic<std::uint64_t> replica_seq{0};       ///< the replica has applied records up to this
  std::atomic<std::uint64_t> segments_removed{0};
  std::atomic<std::uint64_t> days_removed{0};
};

/// The snapshot thread: a replica (its own Engine, user directory and Egress, none of them
/// touched by any other thread) follows the journal up to the writer's durable seq and is
/// serialized at a command boundary every `snapshot_every_commands` commands, every
/// `snapshot_every_seconds` seconds, or on request; then old snapshots, segments and days are
/// removed per retention. Matching never stops for it: the core thread does not know it exists.
/// Its thread (`pg-snapshot`) parks until given work: a `request`, or a `wake` from whoever
/// sees the durable seq pass the replica (the io thread's tick), or the next timed snapshot.
class Snapshotter final : public agent::Agent {
 public:
  /// Logging goes through `log` (a thread-safe spdlog logger). `plan` is the one recovery used.
  Snapshotter(const config::ServiceConfig& cfg, const EngineConfig& engine_cfg, const replay::RecoveryPlan& plan,
              journal::JournalWriter& writer, std::function<void(std::string_view level, const std::string&)> log);
  ~Snapshotter() override;
  Snapshotter(const Snapshotter&) = delete;
  Snapshotter& operator=(const Snapshotter&) = delete;

  void start();
  /// Finishes the current step and joins (no snapshot is forced).
  void stop();
  /// Asks for a snapshot at the next command boundary the replica reaches. Any thread.
  void request() noexcept {
    requested_.store(true, std::memory_order_release);
    runner_.parker().wake();
  }
  /// There are durable records the replica has not applied (`durable_seq` > `stats().replica_seq`):
  /// wakes the thread if it parks. Any thread; one atomic exchange when it does not park.
  void wake() noexcept { runner_.parker().wake(); }
  [[nodiscard]] const SnapshotStats& stats() const noexcept { return stats_; }

 private:
  // agent::Agent, on the snapshot thread.
  void on_start() override;
  int do_work() override;
  bool has_work() override;
  std::chrono::nanoseconds park_timeout() override;
  void build_replica();
  void take_snapshot();
  void apply_retention(std::uint64_t snapshot_seq);

  const config::ServiceConfig& cfg_;
  const EngineConfig& engine_cfg_;
  const replay::RecoveryPlan& plan_;
  journal::JournalWriter& writer_;
  std::function<void(std::string_view, const std::string&)> log_;
  std::atomic<bool> requested_{false};
  SnapshotStats stats_;
  // The replica (snapshot thread only).
  struct Replica;
  std::unique_ptr<Replica> replica_;
  bool failed_ = false;  // snapshot thread: the replica could not be built or fed; nothing more to do
  // Last: its thread uses everything above, so it stops (is destroyed) first.
  agent::AgentRunner runner_;
};

}  // namespace peregrine::app
