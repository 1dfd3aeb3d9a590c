#include "peregrine/replay/record_applier.hpp"

#include <cstring>
#include <string>
#include <utility>

#include "peregrine/agent/clock.hpp"
#include "peregrine/replay/day_start.hpp"

namespace peregrine::replay {

using agent::mono_ns;

RecordApplier::RecordApplier(Engine& engine, egress::Egress& egress, std::function<void(const Event&)> observe)
    : engine_(engine),
      egress_(egress),
      observe_(std::move(observe)),
      buffer_(256),
      sink_(buffer_.data(), buffer_.size(), &RecordApplier::on_flush, this) {}

void RecordApplier::on_flush(void* self, const Event* events, std::size_t n) noexcept {
  auto* a = static_cast<RecordApplier*>(self);
  for (std::size_t i = 0; i < n; ++i) {
    a->egress_.on_event(events[i]);
    if (a->observe_) a->observe_(events[i]);
  }
}

std::uint64_t RecordApplier::start_from(const RecoveryPlan& plan) {
  if (!plan.snapshot) return 1;
  const journal::Snapshot& snap = *plan.snapshot;
  const auto* e = snap.find(journal::SnapshotSection::Engine);
  const auto* g = snap.find(journal::SnapshotSection::Egress);
  if (e == nullptr || g == nullptr || !plan.start) throw journal::JournalError(snap.file.string() + ": a section is missing");
  std::string error;
  // The retained messages are read where they lie in the snapshot's mapping (Egress::load).
  if (!engine_.load(*e, error) || !egress_.load(*g, error, snap.storage)) throw journal::JournalError(snap.file.string() + ": " + error);
  set_start(*plan.start, snap.seq);
  return snap.seq + 1;
}

void RecordApplier::apply(const journal::Record& r) {
  switch (r.kind) {
    case journal::RecordKind::Command:
      engine_.process(r.command(), sink_);
      sink_.flush();
      ++commands_;
      break;
    case journal::RecordKind::Start:
      if (const std::optional<journal::StartRecord> s = decode_start(r.payload)) {
        start_ = *s;
        egress_.start_of_day(s->ts);
      }
      break;
    case journal::RecordKind::EndOfDay: {
      journal::EndOfDayRecord e;
      if (r.payload.size() == sizeof e) {
        std::memcpy(&e, r.payload.data(), sizeof e);
        egress_.end_of_day(e.ts, mono_ns());
      }
      break;
    }
    case journal::RecordKind::EpochStart: break;  // a promotion (docs/ha.md): nothing to apply
  }
  last_seq_ = r.seq;
}

}  // namespace peregrine::replay
