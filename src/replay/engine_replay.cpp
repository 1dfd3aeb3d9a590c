#include "peregrine/replay/engine_replay.hpp"

#include <string>

#include "peregrine/replay/day_start.hpp"

namespace peregrine::replay {

EngineReplay::EngineReplay(const EngineConfig& base, EventSink& sink) : base_(base), sink_(sink) {}

void EngineReplay::build(const EngineConfig& cfg) { engine_ = std::make_unique<Engine>(cfg); }

std::uint64_t EngineReplay::start_from(const journal::Snapshot& snapshot) {
  const std::span<const std::uint8_t>* svc = snapshot.find(journal::SnapshotSection::Service);
  const std::span<const std::uint8_t>* eng = snapshot.find(journal::SnapshotSection::Engine);
  std::optional<journal::StartRecord> start;
  if (svc == nullptr || eng == nullptr || !(start = load_service_section(*svc)))
    throw journal::JournalError(snapshot.file.string() + ": a section is missing or malformed");
  build(engine_config_for_start(base_, start->session));
  std::string error;
  if (!engine_->load(*eng, error)) throw journal::JournalError(snapshot.file.string() + ": " + error);
  return snapshot.seq + 1;
}

void EngineReplay::apply_marker(const journal::Record& r) {
  switch (r.kind) {
    case journal::RecordKind::Start: {
      if (engine_) throw journal::JournalError("seq " + std::to_string(r.seq) + ": a Start record after the first command");
      const std::optional<journal::StartRecord> s = decode_start(r.payload);
      if (!s) throw journal::JournalError("seq " + std::to_string(r.seq) + ": a Start record that names no known phase");
      build(engine_config_for_start(base_, s->session));
      break;
    }
    case journal::RecordKind::EndOfDay: finish(); break;
    case journal::RecordKind::Command: break;  // apply() takes commands
    case journal::RecordKind::EpochStart: break;  // a promotion (docs/ha.md): nothing to apply
  }
}

void EngineReplay::finish() {
  while (processed_ != seen_) process_oldest();
}

Engine& EngineReplay::engine() {
  if (!engine_) build(base_);
  return *engine_;
}

}  // namespace peregrine::replay
