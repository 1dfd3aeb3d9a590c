/// Throughput of Engine::process, one benchmark per operation plus a realistic mix.
///
/// Every benchmark replays a Script (workload.hpp) generated before its timed loop: only
/// Engine::process of the timed commands is measured. Untimed restore commands (under
/// PauseTiming) keep the book in its steady state, and when the script is used up (tokens are
/// day-unique, so a pass cannot be replayed on the same engine) the engine is rebuilt,
/// pre-touched (Engine::pretouch, as a server with tuning.cache_enabled does) and re-seeded, also
/// untimed. So the timed commands take no page fault, and the figures do not depend on what a
/// first touch of each page costs where the memory lands (on this VM, 0.1 to 4.6 ms per 2 MiB:
/// docs/benchmarks.md). mix_first_touch is the exception that measures it: the same mix on
/// engines whose tables start as untouched zero pages, as a server without cache_enabled has them.
/// The event sink only counts events. After each pass the event count and state_hash() are
/// checked against the generator's shadow engine. Counters: faults/Mop, the page faults the
/// thread took in the timed loop per million commands; sys_ns/op, its system time there per
/// command (getrusage: tick-sampled, so trust it only where faults/Mop is not 0).
///
/// Run with --benchmark_repetitions=N --benchmark_report_aggregates_only=true and read the
/// median (scripts/bench-micro does). items_per_second = commands per second.
///
/// PEREGRINE_CORE_BENCH_ITERATIONS=N runs every benchmark for exactly N timed commands, so that
/// counts under callgrind are repeatable (min_time picks the count from the clock):
///   PEREGRINE_CORE_BENCH_ITERATIONS=1000000 valgrind --tool=callgrind ... core_bench
///   --benchmark_filter='^mix/instruments:1/max_tokens:4194304'

#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>

#include "peregrine/core/engine.hpp"
#include "peregrine/core/event.hpp"
#include "workload.hpp"

namespace {

using peregrine::Command;
using peregrine::Engine;
using peregrine::Event;
using peregrine::EventSink;
using namespace peregrine::bench;

const ScriptLimits kLimits{};
constexpr std::size_t kSinkEvents = 256;

/// The flush function of the measured sink: counts, nothing else.
void count_events(void* ctx, const Event* /*events*/, std::size_t n) noexcept {
  auto& count = *static_cast<std::uint64_t*>(ctx);
  count += n;
  benchmark::DoNotOptimize(count);
}

/// A script and the counters it reports; one cached at a time (they can be hundreds of MB).
struct Cached {
  Script script;
  MixStats mix;
};

const Cached& cached(const std::string& key, const std::function<Cached()>& build) {
  static std::string cached_key;
  static std::unique_ptr<Cached> cached_value;
  if (!cached_value || cached_key != key) {
    cached_value.reset();
    cached_value = std::make_unique<Cached>(build());
    cached_key = key;
  }
  return *cached_value;
}

/// Where the engine's tables are when the timed commands start.
enum class Tables {
  Resident,  ///< every page written once (Engine::pretouch, tuning.cache_enabled)
  Fresh,     ///< untouched zero pages: each first touch is a page fault in the timed loop
};

/// What this thread has had from the kernel so far: page faults (minor and major) and system
/// time.
struct KernelShare {
  std::uint64_t faults = 0;
  std::uint64_t sys_ns = 0;
  KernelShare operator-(const KernelShare& o) const noexcept { return {faults - o.faults, sys_ns - o.sys_ns}; }
  KernelShare& operator+=(const KernelShare& o) noexcept {
    faults += o.faults;
    sys_ns += o.sys_ns;
    return *this;
  }
};

KernelShare thread_kernel_share() noexcept {
  rusage ru{};
  ::getrusage(RUSAGE_THREAD, &ru);
  return {static_cast<std::uint64_t>(ru.ru_minflt) + static_cast<std::uint64_t>(ru.ru_majflt),
          static_cast<std::uint64_t>(ru.ru_stime.tv_sec) * 1'000'000'000u +
              static_cast<std::uint64_t>(ru.ru_stime.tv_usec) * 1'000u};
}

std::unique_ptr<Engine> fresh_engine(const Script& s, EventSink& sink, Tables tables) {
  auto engine = std::make_unique<Engine>(s.config);
  if (tables == Tables::Resident) engine->pretouch();
  for (const Command& c : s.seed) engine->process(c, sink);
  sink.flush();
  return engine;
}

void run_script(benchmark::State& state, const Script& s, Tables tables = Tables::Resident) {
  std::array<Event, kSinkEvents> buf{};
  std::uint64_t events = 0;
  EventSink sink(buf.data(), buf.size(), &count_events, &events);
  std::array<Event, kSinkEvents> untimed_buf{};
  std::uint64_t untimed_events = 0;
  EventSink untimed(untimed_buf.data(), untimed_buf.size(), &count_events, &untimed_events);

  std::unique_ptr<Engine> engine = fresh_engine(s, untimed, tables);
  const std::size_t chunks = s.chunk_end.size();
  std::size_t i = 0;
  std::size_t chunk = 0;
  std::size_t end = s.chunk_end[0];
  std::uint64_t pass_start_events = 0;
  std::uint64_t passes = 0;
  const char* error = nullptr;
  KernelShare untimed_kernel;
  const KernelShare kernel_before = thread_kernel_share();

  for (auto _ : state) {
    // As the core thread does with a drained batch: hint the command two ahead.
    if (i + 2 < end) engine->prefetch(s.timed[i + 2]);
    engine->process(s.timed[i], sink);
    if (++i == end) [[unlikely]] {
      state.PauseTiming();
      const KernelShare pause_kernel = thread_kernel_share();
      const std::size_t rb = chunk == 0 ? 0 : s.restore_end[chunk - 1];
      for (std::size_t r = rb; r < s.restore_end[chunk]; ++r) engine->process(s.restore[r], untimed);
      if (++chunk == chunks) {
        sink.flush();
        if (events - pass_start_events != s.timed_events) {
          error = "event count differs from the generator's shadow engine";
        } else if (engine->state_hash() != s.final_state_hash) {
          error = "state hash differs from the generator's shadow engine";
        }
        ++passes;
        pass_start_events = events;
        engine.reset();
        engine = fresh_engine(s, untimed, tables);
        i = 0;
        chunk = 0;
      }
      end = s.chunk_end[chunk];
      untimed_kernel += thread_kernel_share() - pause_kernel;
      state.ResumeTiming();
      if (error != nullptr) {
        state.SkipWithError(error);
        break;
      }
    }
  }
  const KernelShare timed_kernel = thread_kernel_share() - kernel_before - untimed_kernel;
  sink.flush();
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["events/op"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kAvgIterations);
  state.counters["fills/op"] = benchmark::Counter(
      static_cast<double>(s.timed_fills) / static_cast<double>(s.timed.size()));
  state.counters["faults/Mop"] =
      benchmark::Counter(static_cast<double>(timed_kernel.faults) * 1e6, benchmark::Counter::kAvgIterations);
  state.counters["sys_ns/op"] =
      benchmark::Counter(static_cast<double>(timed_kernel.sys_ns), benchmark::Counter::kAvgIterations);
  state.counters["passes"] = benchmark::Counter(static_cast<double>(passes));
  // Memory, from the engine's own accounting (allocated at construction for its capacities):
  // bytes of the order pool per order slot and of the token index per token of the day.
  const peregrine::EngineStats st = engine->stats();
  state.counters["pool_B/order"] = benchmark::Counter(static_cast<double>(st.pool_bytes) / static_cast<double>(st.max_orders));
  state.counters["index_B/token"] = benchmark::Counter(static_cast<double>(st.token_index_bytes) / static_cast<double>(st.max_tokens));
  state.counters["tokens/order"] =
      benchmark::Counter(static_cast<double>(st.max_tokens) / static_cast<double>(st.max_orders));
}

/// Limits with the token table of the second argument (default: EngineConfig's 2^22).
ScriptLimits limits_with_tokens(const benchmark::State& state, int arg) {
  ScriptLimits lim = kLimits;
  if (state.range(arg) != 0) lim.max_tokens = static_cast<std::uint32_t>(state.range(arg));
  return lim;
}

void add_passive(benchmark::State& state) {
  const ScriptLimits lim = limits_with_tokens(state, 0);
  const std::string key = "add_passive/" + std::to_string(lim.max_tokens);
  run_script(state, cached(key, [&] { return Cached{build_add_passive(lim), {}}; }).script);
}

void add_cross(benchmark::State& state) {
  const auto levels = static_cast<std::uint32_t>(state.range(0));
  const auto orders = static_cast<std::uint32_t>(state.range(1));
  const std::string key = "add_cross/" + std::to_string(levels) + "/" + std::to_string(orders);
  run_script(state, cached(key, [&] { return Cached{build_add_cross(kLimits, levels, orders), {}}; }).script);
}

void cancel(benchmark::State& state) {
  run_script(state, cached("cancel", [] { return Cached{build_cancel(kLimits), {}}; }).script);
}

void replace_keep_priority(benchmark::State& state) {
  run_script(state, cached("replace_keep", [] { return Cached{build_replace(kLimits, true), {}}; }).script);
}

void replace_lose_priority(benchmark::State& state) {
  run_script(state, cached("replace_move", [] { return Cached{build_replace(kLimits, false), {}}; }).script);
}

void run_mix(benchmark::State& state, Tables tables) {
  MixParams p;
  p.instruments = static_cast<std::uint32_t>(state.range(0));
  const ScriptLimits lim = limits_with_tokens(state, 1);
  const std::string key = "mix/" + std::to_string(p.instruments) + "/" + std::to_string(lim.max_tokens);
  const Cached& c = cached(key, [&] {
    Cached out;
    out.script = build_mix(lim, p, &out.mix);
    return out;
  });
  run_script(state, c.script, tables);
  const auto share = [&](OpKind k) {
    return benchmark::Counter(static_cast<double>(c.mix.ops[static_cast<std::size_t>(k)]) * 100.0 /
                              static_cast<double>(c.mix.commands));
  };
  state.counters["%add"] = share(OpKind::AddPassive);
  state.counters["%cross"] = share(OpKind::AddCross);
  state.counters["%cancel"] = share(OpKind::Cancel);
  state.counters["%replace"] = benchmark::Counter(
      static_cast<double>(c.mix.ops[static_cast<std::size_t>(OpKind::ReplaceKeep)] +
                          c.mix.ops[static_cast<std::size_t>(OpKind::ReplaceMove)]) *
      100.0 / static_cast<double>(c.mix.commands));
  state.counters["depth"] = benchmark::Counter(c.mix.mean_depth());
}

void mix(benchmark::State& state) { run_mix(state, Tables::Resident); }

/// The mix as a server without tuning.cache_enabled runs it: each pass on a new engine whose
/// tables fault in while it trades.
void mix_first_touch(benchmark::State& state) { run_mix(state, Tables::Fresh); }

}  // namespace

/// Exact iteration counts when PEREGRINE_CORE_BENCH_ITERATIONS is set (see the file comment).
void fixed_iterations(benchmark::internal::Benchmark* b) {
  const char* n = std::getenv("PEREGRINE_CORE_BENCH_ITERATIONS");
  if (n != nullptr && std::atoll(n) > 0) b->Iterations(static_cast<benchmark::IterationCount>(std::atoll(n)));
}

// max_tokens: the day's token table. 2^22 is the EngineConfig default; 2^16 keeps the table in
// cache and shows what the rest of the engine costs without the table's cache misses.
constexpr std::int64_t kDefaultTokens = std::int64_t{1} << 22;
constexpr std::int64_t kSmallTokens = std::int64_t{1} << 16;

BENCHMARK(add_passive)
    ->ArgName("max_tokens")
    ->Arg(kDefaultTokens)
    ->Arg(kSmallTokens)
    ->UseRealTime()
    ->Unit(benchmark::kNanosecond)
    ->Apply(fixed_iterations);
BENCHMARK(add_cross)
    ->ArgNames({"levels", "orders"})
    ->Args({1, 1})
    ->Args({1, 5})
    ->Args({5, 1})
    ->Args({5, 5})
    ->UseRealTime()
    ->Unit(benchmark::kNanosecond)
    ->Apply(fixed_iterations);
BENCHMARK(cancel)->UseRealTime()->Unit(benchmark::kNanosecond)->Apply(fixed_iterations);
BENCHMARK(replace_keep_priority)->UseRealTime()->Unit(benchmark::kNanosecond)->Apply(fixed_iterations);
BENCHMARK(replace_lose_priority)->UseRealTime()->Unit(benchmark::kNanosecond)->Apply(fixed_iterations);
// First, so that mix/instruments:1 below reuses its script (one is cached at a time).
BENCHMARK(mix_first_touch)
    ->ArgNames({"instruments", "max_tokens"})
    ->Args({1, kDefaultTokens})
    ->UseRealTime()
    ->Unit(benchmark::kNanosecond)
    ->Apply(fixed_iterations);
BENCHMARK(mix)
    ->ArgNames({"instruments", "max_tokens"})
    ->Args({1, kDefaultTokens})
    ->Args({64, kDefaultTokens})
    ->Args({1, kSmallTokens})
    ->UseRealTime()
    ->Unit(benchmark::kNanosecond)
    ->Apply(fixed_iterations);
