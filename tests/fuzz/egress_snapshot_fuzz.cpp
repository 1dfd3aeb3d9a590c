// libFuzzer target: Egress::load on hostile bytes (issue #5 snapshots).
//
// The input is an egress snapshot for snapshot_fuzz_setup.hpp's configuration and users. Checks
// (abort on failure): load never reads out of bounds or crashes; a snapshot it accepts saves
// bytes that load into a second Egress and save the same bytes again, and both turn the same
// core events into the same MoldUDP64 datagrams and the same ITCH and user outbound buffers.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "peregrine/core/engine.hpp"
#include "peregrine/egress/egress.hpp"
#include "peregrine/proto/ouch_translate.hpp"
#include "fuzz_check.hpp"
#include "snapshot_fuzz_setup.hpp"

using namespace peregrine;

namespace {

// Core events to feed after the load: a fresh engine's session (order ids the loaded depth books
// may not know: those count as inconsistencies, which is fine).
const std::vector<Event>& more_events() {
  static const std::vector<Event> events = [] {
    std::vector<Event> ev;
    Engine e(fuzz::snapshot_config());
    fuzz::run_commands(e, fuzz::snapshot_commands(40), [&](const Event& x) { ev.push_back(x); });
    return ev;
  }();
  return events;
}

struct Node {
  Node() : lookup(fuzz::snapshot_config()), users(16) {
    fuzz::add_snapshot_users(users);
    egress::EgressConfig ec;
    ec.itch_retention = 64;
    ec.mold.mtu = 200;
    egress = std::make_unique<egress::Egress>(fuzz::snapshot_config(), lookup, users, ec, [this](std::span<const std::uint8_t> d) {
      datagrams.emplace_back(d.begin(), d.end());
    });
  }
  void feed() {
    std::uint64_t now = 1'000'000'000;
    for (std::size_t i = 0; i < more_events().size(); ++i) {
      egress->on_event(more_events()[i]);
      if (i % 5 == 0) egress->flush(now += 1000);
    }
    egress->end_of_day(Timestamp{2}, now + 1000);
    egress->on_tick(now + 10'000'000'000);
  }
  proto::ConfigLookup lookup;
  sessions::UserDirectory users;
  std::unique_ptr<egress::Egress> egress;
  std::vector<std::vector<std::uint8_t>> datagrams;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Node a;
  std::string error;
  if (!a.egress->load(std::span<const std::uint8_t>(data, size), error)) {
    FUZZ_CHECK(!error.empty());
    return 0;
  }
  const std::vector<std::uint8_t> saved = a.egress->save();
  Node b;
  FUZZ_CHECK(b.egress->load(saved, error));
  FUZZ_CHECK(b.egress->save() == saved);
  a.feed();
  b.feed();
  FUZZ_CHECK(a.datagrams == b.datagrams);
  FUZZ_CHECK(a.egress->save() == b.egress->save());
  return 0;
}
