#pragma once
// Journal records applied to an Engine and the Egress that follows it, exactly as the live
// service produced them: recovery at start-up and the snapshot thread's replica both use it.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "peregrine/core/engine.hpp"
#include "peregrine/core/event.hpp"
#include "peregrine/egress/egress.hpp"
#include "peregrine/journal/journal.hpp"
#include "peregrine/replay/recovery_plan.hpp"

namespace peregrine::replay {

/// Applies journal records, in order, to an Engine and its Egress: Start -> egress's start of
/// day, Command -> the core and its events to egress, EndOfDay -> egress's end of day. The
/// engine must have been built from engine_config_for_start (the day's phase), egress from
/// egress_config and add_users. `observe` (optional) sees every event after egress. One thread
/// (the one that owns the engine and egress).
class RecordApplier {
 public:
  RecordApplier(Engine& engine, egress::Egress& egress, std::function<void(const Event&)> observe = {});
  RecordApplier(const RecordApplier&) = delete;
  RecordApplier& operator=(const RecordApplier&) = delete;

  /// Takes the day up where `plan` starts it: with a snapshot, loads its Engine and Egress
  /// sections into the (fresh) engine and egress and records the day's start and the
  /// snapshot's seq. Returns the seq of the first record to apply next (1 without a snapshot).
  /// Throws journal::JournalError, naming the file, when a section is missing or does not load.
  std::uint64_t start_from(const RecoveryPlan& plan);

  void apply(const journal::Record& r);
  [[nodiscard]] std::uint64_t last_seq() const noexcept { return last_seq_; }
  [[nodiscard]] std::uint64_t commands() const noexcept { return commands_; }
  /// The Start record applied (or set by start_from or set_start after a snapshot), if any.
  [[nodiscard]] const std::optional<journal::StartRecord>& start() const noexcept { return start_; }
  /// As if records up to `seq` had been applied, the day having started as `s` (a snapshot
  /// loaded by the caller).
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

}  // namespace peregrine::replay
