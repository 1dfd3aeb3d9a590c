#include "peregrine/replay/recovery_plan.hpp"

#include <system_error>

#include "peregrine/replay/day_start.hpp"

namespace peregrine::replay {

namespace fs = std::filesystem;

fs::path journal_day_dir(const std::string& journal_dir, const std::string& date) {
  if (journal_dir.empty()) return {};
  return fs::path(journal_dir) / date;
}

RecoveryPlan plan_recovery(const config::ServiceConfig& cfg, const std::string& date) {
  RecoveryPlan plan;
  plan.dir = journal_day_dir(cfg.journal.dir, date);
  if (plan.dir.empty()) return plan;
  plan.fingerprint = journal::config_fingerprint(cfg.engine);
  std::error_code ec;
  if (!fs::exists(plan.dir, ec)) return plan;  // a new day
  plan.snapshot = journal::newest_valid_snapshot(plan.dir, plan.fingerprint, &plan.skipped_snapshots);
  if (plan.snapshot) {
    const std::span<const std::uint8_t>* svc = plan.snapshot->find(journal::SnapshotSection::Service);
    if (svc == nullptr || !(plan.start = load_service_section(*svc)))
      throw journal::JournalError(plan.snapshot->file.string() + ": the service section is missing or malformed");
    return plan;
  }
  // No snapshot: the day's first record says how it started.
  journal::JournalTail tail(plan.dir, plan.fingerprint, 1);
  std::optional<journal::Record> first;
  std::vector<std::uint8_t> payload;
  (void)tail.poll(~std::uint64_t{0}, 1, [&](const journal::Record& r) {
    first = r;
    payload.assign(r.payload.begin(), r.payload.end());
  });
  if (!first) return plan;  // no record yet: as a new day
  if (first->seq != 1 || first->kind != journal::RecordKind::Start || payload.size() != sizeof(journal::StartRecord))
    throw journal::JournalError(plan.dir.string() + ": the journal does not begin with its Start record (seq 1) and "
                                "there is no snapshot to start from");
  plan.start = decode_start(payload);
  if (!plan.start) throw journal::JournalError(plan.dir.string() + ": the Start record names no known phase");
  return plan;
}

}  // namespace peregrine::replay
