#pragma once
// Journal records applied to an Engine alone, as fast as the core goes: `peregrine-journal
// replay` and the replay benchmark (bench/micro/replay_bench.cpp).

#include <cstddef>
#include <cstdint>
#include <memory>

#include "peregrine/core/command.hpp"
#include "peregrine/core/config.hpp"
#include "peregrine/core/engine.hpp"
#include "peregrine/core/event.hpp"
#include "peregrine/journal/journal.hpp"
#include "peregrine/journal/snapshot.hpp"

namespace peregrine::replay {

/// Applies journal records, in order, to an Engine of its own, events into the caller's sink (not
/// flushed: the caller flushes). The engine is built by the day's Start record, in the phase it
/// names (engine_config_for_start), or by start_from (a snapshot), or, for a journal without a
/// Start record (a benchmark's), from `base` as is by the first command or engine(). Each
/// command is prefetched (Engine::prefetch) two commands before it is processed, as the core
/// thread overlaps its ring; EndOfDay and finish() process what waits. One thread.
class EngineReplay {
 public:
  EngineReplay(const EngineConfig& base, EventSink& sink);
  EngineReplay(const EngineReplay&) = delete;
  EngineReplay& operator=(const EngineReplay&) = delete;

  /// Builds the engine from `snapshot`: in the phase its Service section names, loaded from its
  /// Engine section. Returns the seq of the first record to apply next. Throws
  /// journal::JournalError, naming the file, when a section is missing, malformed or does not
  /// load. Before any record.
  std::uint64_t start_from(const journal::Snapshot& snapshot);

  /// Applies one record. Throws journal::JournalError on a Start record once the engine is
  /// built (after a command), or on a malformed one.
  void apply(const journal::Record& r) {
    if (r.kind == journal::RecordKind::Command) [[likely]] {
      if (!engine_) [[unlikely]] build(base_);
      Command& slot = window_[seen_ & (kWindow - 1)];
      slot = r.command();
      engine_->prefetch(slot);
      if (seen_ - processed_ == kAhead) process_oldest();
      ++seen_;
    } else {
      apply_marker(r);
    }
  }

  /// Processes the commands still waiting in the prefetch window.
  void finish();

  /// The engine (built from `base` now if nothing has built it yet). Call finish() before
  /// reading its state.
  [[nodiscard]] Engine& engine();

  /// Commands applied (processed or waiting).
  [[nodiscard]] std::uint64_t commands() const noexcept { return seen_; }

 private:
  static constexpr std::size_t kAhead = 2;  ///< commands prefetched ahead of the one processed
  /// Slots for the kAhead + 1 commands in flight, a power of two so a slot's index is a mask.
  static constexpr std::size_t kWindow = 4;
  static_assert(kWindow > kAhead && (kWindow & (kWindow - 1)) == 0);

  void build(const EngineConfig& cfg);
  void apply_marker(const journal::Record& r);
  void process_oldest() noexcept {
    engine_->process(window_[processed_ & (kWindow - 1)], sink_);
    ++processed_;
  }

  EngineConfig base_;
  EventSink& sink_;
  std::unique_ptr<Engine> engine_;
  Command window_[kWindow];
  std::uint64_t seen_ = 0;       ///< commands taken
  std::uint64_t processed_ = 0;  ///< of which processed
};

}  // namespace peregrine::replay
