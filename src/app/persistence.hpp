#pragma once
// The service's persistence (docs/operations.md, "Journal", "Snapshots", "Recovery"): where the
// day's journal lives, what start-up finds there, the one way records are applied to an Engine
// and an Egress (recovery and the snapshot replica both use it), and the snapshot thread.
// App-internal.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "peregrine/config/service.hpp"
#include "peregrine/core/engine.hpp"
#include "peregrine/core/event.hpp"
#include "peregrine/egress/egress.hpp"
#include "peregrine/journal/journal.hpp"
#include "peregrine/journal/snapshot.hpp"

#include "exchange_clock.hpp"

namespace peregrine::app {

/// The trading day's journal directory: `<journal.dir>/<YYYY-MM-DD>`, the exchange's date
/// (`clock.date()`: UTC + market.utc_offset when the clock was built). Empty when the service
/// runs without a journal.
[[nodiscard]] std::filesystem::path journal_day_dir(const config::ServiceConfig& cfg, const ExchangeClock& clock);

/// What start-up found on disk, before the engine is built.
struct RecoveryPlan {
  std::filesystem::path dir;  ///< empty: no journal
  std::uint64_t fingerprint = 0;
  std::optional<journal::Snapshot> snapshot;
  /// How the day started (from the snapshot's Service section or the journal's Start record);
  /// nothing for a new day.
  std::optional<journal::StartRecord> start;
  std::vector<std::string> skipped_snapshots;  ///< newer snapshots that did not verify
};

/// Looks at the day's directory (journal_day_dir): the newest valid snapshot and the Start
/// record. Throws journal::JournalError when what is there cannot be used.
[[nodiscard]] RecoveryPlan plan_recovery(const config::ServiceConfig& cfg, const ExchangeClock& clock);

/// The engine configuration a day starts from: instruments configured as Trading start in
/// `session` (the schedule's phase when the day's journal began).
[[nodiscard]] EngineConfig engine_config_for_start(const EngineConfig& base, TradingStatus session);

/// The Service section of a snapshot: the day's Start record.
[[nodiscard]] std::vector<std::uint8_t> save_service_section(const journal::StartRecord& start);
[[nodiscard]] std::optional<journal::StartRecord> load_service_section(const std::vector<std::uint8_t>& bytes);

/// Applies journal records, in order, to an Engine and the Egress that follows it, exactly as
/// the live service did: Start -> start of day, Command -> the core and its events to egress,
/// EndOfDay -> end of day. `observe` (optional) sees every event after egress.
class RecordApplier {
 public:
  RecordApplier(Engine& engine, egress::Egress& egress, std::function<void(const Event&)> observe = {});
  RecordApplier(const RecordApplier&) = delete;
  RecordApplier& operator=(const RecordApplier&) = delete;
  void apply(const journal::Record& r);
  [[nodiscard]] std::uint64_t last_seq() const noexcept { return last_seq_; }
  [[nodiscard]] std::uint64_t commands() const noexcept { return commands_; }
  /// The Start record applied (or set by set_start after a snapshot), if any.
  [[nodiscard]] const std::optional<journal::StartRecord>& start() const noexcept { return start_; }
  void set_start(const journal::StartRecord& s, std::uint64_t seq) noexcept {
    start_ = s;
    last_seq_ = seq;
  }

 private:
  static void on_flush(void* self, const Event* events, std::size_t n) noexcept;
  Engine& engine_;
  egress::Egress& egress_;
  std::function<void(const Event&)> observe_;
  std::vector<Event> buffer_;
  EventSink sink_;
  std::optional<journal::StartRecord> start_;
  std::uint64_t last_seq_ = 0;
  std::uint64_t commands_ = 0;
};

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
  Snapshotter(const config::ServiceConfig& cfg, const EngineConfig& engine_cfg, const RecoveryPlan& plan,
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
  const RecoveryPlan& plan_;
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
