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
#include <thread>

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
class Snapshotter {
 public:
  /// Logging goes through `log` (a thread-safe spdlog logger). `plan` is the one recovery used.
  Snapshotter(const config::ServiceConfig& cfg, const EngineConfig& engine_cfg, const replay::RecoveryPlan& plan,
              journal::JournalWriter& writer, std::function<void(std::string_view level, const std::string&)> log);
  ~Snapshotter();
  Snapshotter(const Snapshotter&) = delete;
  Snapshotter& operator=(const Snapshotter&) = delete;

  void start();
  /// Finishes the current step and joins (no snapshot is forced).
  void stop();
  /// Asks for a snapshot at the next command boundary the replica reaches.
  void request() noexcept { requested_.store(true, std::memory_order_release); }
  [[nodiscard]] const SnapshotStats& stats() const noexcept { return stats_; }

 private:
  void run();
  void build_replica();
  void take_snapshot();
  void apply_retention(std::uint64_t snapshot_seq);

  const config::ServiceConfig& cfg_;
  const EngineConfig& engine_cfg_;
  const replay::RecoveryPlan& plan_;
  journal::JournalWriter& writer_;
  std::function<void(std::string_view, const std::string&)> log_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> requested_{false};
  SnapshotStats stats_;
  std::thread thread_;
  // The replica (snapshot thread only).
  struct Replica;
  std::unique_ptr<Replica> replica_;
};

}  // namespace peregrine::app
