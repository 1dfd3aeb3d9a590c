/// Runs one seeded command stream through the matching core and prints a one-line digest:
///   seed=S commands=N events=E event_hash=0x... state_hash=0x...
/// Built twice: natively (peregrine_wasm_hash_native) and for wasm32-wasi
/// (peregrine_core_hash.wasm); the ctest core.wasm32_wasi_matches_native requires both lines to
/// be identical, i.e. the core behaves the same on a 32-bit, libc++ target as on the native one.
///
/// Usage: hash_main SEED COUNT
/// No exceptions and no OS calls beyond printf: this file compiles with -fno-exceptions for
/// wasm32-wasi, whose libc++abi has no exception support.

#include <cinttypes>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "differential/command_gen.hpp"
#include "peregrine/core/command.hpp"
#include "peregrine/core/config.hpp"
#include "peregrine/core/engine.hpp"
#include "peregrine/core/event.hpp"

namespace {

/// FNV-1a over every event's 96 bytes, in order, plus a count.
struct EventDigest {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  std::uint64_t count = 0;

  static void flush(void* ctx, const peregrine::Event* events, std::size_t n) noexcept {
    auto* self = static_cast<EventDigest*>(ctx);
    self->hash = peregrine::fnv1a(events, n * sizeof(peregrine::Event), self->hash);
    self->count += n;
  }
};

/// A whole decimal number that fits in 64 bits, or nothing.
std::optional<std::uint64_t> parse_u64(const char* s) noexcept {
  if (s == nullptr || *s == '\0') return std::nullopt;
  std::uint64_t v = 0;
  for (const char* p = s; *p != '\0'; ++p) {
    if (*p < '0' || *p > '9') return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(*p - '0');
    if (v > (UINT64_MAX - digit) / 10) return std::nullopt;
    v = v * 10 + digit;
  }
  return v;
}

constexpr std::size_t kSinkCapacity = 1024;
peregrine::Event g_sink_buffer[kSinkCapacity];  // static: keeps the wasm stack small

using peregrine::differential::CommandGen;

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s SEED COUNT\n", argc > 0 ? argv[0] : "hash_main");
    return 2;
  }
  const std::optional<std::uint64_t> seed = parse_u64(argv[1]);
  const std::optional<std::uint64_t> count = parse_u64(argv[2]);
  if (!seed || !count) {
    std::fprintf(stderr, "SEED and COUNT must be non-negative decimal integers\n");
    return 2;
  }

  const peregrine::EngineConfig cfg = CommandGen::config();
  if (const auto issue = peregrine::check_config(cfg)) {
    std::fprintf(stderr, "CommandGen::config() is invalid: %s[%zu].%s: %s\n",
                 issue->section.c_str(), issue->index, issue->field.c_str(),
                 issue->message.c_str());
    return 2;
  }

  peregrine::Engine engine(cfg);
  EventDigest digest;
  peregrine::EventSink sink(g_sink_buffer, kSinkCapacity, &EventDigest::flush, &digest);
  CommandGen gen(*seed);
  for (std::uint64_t i = 0; i < *count; ++i) {
    const peregrine::Command cmd = gen.next();
    engine.process(cmd, sink);
  }
  sink.flush();

  std::printf("seed=%" PRIu64 " commands=%" PRIu64 " events=%" PRIu64 " event_hash=0x%016" PRIx64
              " state_hash=0x%016" PRIx64 "\n",
              *seed, *count, digest.count, digest.hash, engine.state_hash());
  return 0;
}
