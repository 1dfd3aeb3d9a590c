#pragma once
// What start-up finds on disk before the engine is built (docs/operations.md, "Recovery"):
// which snapshot to start from and how the day started (day_start.hpp: the phase that follows).

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "peregrine/config/service.hpp"
#include "peregrine/journal/journal.hpp"
#include "peregrine/journal/snapshot.hpp"

namespace peregrine::replay {

/// The trading day's journal directory: `<journal_dir>/<date>`, `date` the exchange's date as
/// `YYYY-MM-DD`. Empty when `journal_dir` is (the service runs without a journal).
[[nodiscard]] std::filesystem::path journal_day_dir(const std::string& journal_dir, const std::string& date);

/// What start-up found in the day's directory.
struct RecoveryPlan {
  std::filesystem::path dir;  ///< empty: no journal
  std::uint64_t fingerprint = 0;  ///< journal::config_fingerprint of the engine section (0 without a journal)
  std::optional<journal::Snapshot> snapshot;  ///< the newest that verifies; replay starts after its seq
  /// How the day started (from the snapshot's Service section or the journal's Start record);
  /// nothing for a new day.
  std::optional<journal::StartRecord> start;
  std::vector<std::string> skipped_snapshots;  ///< newer snapshots that did not verify, and why
};

/// Looks at the day's directory, journal_day_dir(cfg.journal.dir, date): the newest snapshot
/// that verifies against cfg.engine's fingerprint (its Service section gives the Start record),
/// else the journal's first record, which must be the Start record (seq 1). A directory that is
/// missing or holds no record yet is a new day. Throws journal::JournalError when what is there
/// cannot be used. Reads files only; any thread.
[[nodiscard]] RecoveryPlan plan_recovery(const config::ServiceConfig& cfg, const std::string& date);

}  // namespace peregrine::replay
