// libFuzzer target: Engine::load on hostile bytes (issue #5 snapshots).
//
// The input is a snapshot for snapshot_fuzz_setup.hpp's configuration. Checks (abort on
// failure): load never reads out of bounds or crashes; a snapshot it accepts gives an engine
// whose internal state is valid, whose save loads into a second engine with the same state hash
// and saves the same bytes again, and both engines answer the same commands with the same events.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "peregrine/core/engine.hpp"
#include "fuzz_check.hpp"
#include "snapshot_fuzz_setup.hpp"

using namespace peregrine;

namespace {

const std::vector<Command>& more_commands() {
  static const std::vector<Command> cmds = [] {
    std::vector<Command> c = fuzz::snapshot_commands(60);
    c.push_back(make_schedule_phase(Timestamp{1000}, InstrumentId{0}, TradingStatus::Trading));
    c.push_back(make_mass_cancel(Timestamp{1001}, FirmId{0}));
    return c;
  }();
  return cmds;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Engine a(fuzz::snapshot_config());
  std::string error;
  if (!a.load(std::span<const std::uint8_t>(data, size), error)) {
    FUZZ_CHECK(!error.empty());
    return 0;
  }
  FUZZ_CHECK(a.validate_internal_state());
  std::vector<std::uint8_t> saved;
  a.save(saved);
  Engine b(fuzz::snapshot_config());
  FUZZ_CHECK(b.load(saved, error));
  FUZZ_CHECK(b.state_hash() == a.state_hash());
  std::vector<std::uint8_t> again;
  b.save(again);
  FUZZ_CHECK(again == saved);

  std::vector<Event> ea;
  std::vector<Event> eb;
  fuzz::run_commands(a, more_commands(), [&](const Event& e) { ea.push_back(e); });
  fuzz::run_commands(b, more_commands(), [&](const Event& e) { eb.push_back(e); });
  FUZZ_CHECK(ea == eb);
  FUZZ_CHECK(a.validate_internal_state());
  FUZZ_CHECK(a.state_hash() == b.state_hash());
  return 0;
}
