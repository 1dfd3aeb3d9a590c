#pragma once
// Running commands through a real Engine in a test or fuzzer and keeping its events. Header-only
// and needing only the core's headers (the libFuzzer builds include it with -I tests).

#include <array>
#include <cstddef>
#include <span>
#include <vector>

#include "peregrine/core/command.hpp"
#include "peregrine/core/engine.hpp"
#include "peregrine/core/event.hpp"

namespace peregrine::testing {

/// Every event `engine` gives for `cmds`, in order.
inline std::vector<Event> events_of(Engine& engine, std::span<const Command> cmds) {
  std::vector<Event> events;
  std::array<Event, 8> buf{};
  EventSink sink(
      buf.data(), buf.size(),
      [](void* ctx, const Event* ev, std::size_t n) noexcept {
        auto* out = static_cast<std::vector<Event>*>(ctx);
        out->insert(out->end(), ev, ev + n);
      },
      &events);
  for (const Command& c : cmds) engine.process(c, sink);
  sink.flush();
  return events;
}

}  // namespace peregrine::testing
