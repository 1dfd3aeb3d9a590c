/// Throughput of Engine::process, one benchmark per operation plus a realistic mix.
///
/// Every benchmark replays a Script (workload.hpp) generated before its timed loop: only
/// Engine::process of the timed commands is measured. Untimed restore commands (under
/// PauseTiming) keep the book in its steady state, and when the script is used up (tokens are
/// day-unique, so a pass cannot be replayed on the same engine) the engine is rebuilt and
/// re-seeded, also untimed. The event sink only counts events. After each pass the event count
/// and state_hash() are checked against the generator's shadow engine.
///
/// Run with --benchmark_repetitions=N --benchmark_report_aggregates_only=true and read the
/// median (scripts/bench-micro does). items_per_second = commands per second.
///
/// PEREGRINE_CORE_BENCH_ITERATIONS=N runs every benchmark for exactly N timed commands, so that
/// counts under callgrind are repeatable (min_time picks the count from the clock):
///   PEREGRINE_CORE_BENCH_ITERATIONS=1000000 valgrind --tool=callgrind ... core_bench
///   --benchmark_filter='^mix/instruments:1/max_tokens:4194304'

#include <benchmark/benchmark.h>

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

std::unique_ptr<Engine> fresh_engine(const Script& s, EventSink& sink) {
  auto engine = std::make_unique<Engine>(s.config);
  for (const Command& c : s.seed) engine->process(c, sink);
  sink.flush();
  return engine;
}

void run_script(benchmark::State& state, const Script& s) {
  std::array<Event, kSinkEvents> buf{};
  std::uint64_t events = 0;
  EventSink sink(buf.data(), buf.size(), &count_events, &events);
  std::array<Event, kSinkEvents> untimed_buf{};
  std::uint64_t untimed_events = 0;
  EventSink untimed(untimed_buf.data(), untimed_buf.size(), &count_events, &untimed_events);

  std::unique_ptr<Engine> engine = fresh_engine(s, untimed);
  const std::size_t chunks = s.chunk_end.size();
  std::size_t i = 0;
  std::size_t chunk = 0;
  std::size_t end = s.chunk_end[0];
  std::uint64_t pass_start_events = 0;
  std::uint64_t passes = 0;
  const char* error = nullptr;

  for (auto _ : state) {
    // As the core thread does with a drained batch: hint the command two ahead.
    if (i + 2 < end) engine->prefetch(s.timed[i + 2]);
    engine->process(s.timed[i], sink);
    if (++i == end) [[unlikely]] {
      state.PauseTiming();
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
        engine = fresh_engine(s, untimed);
        i = 0;
        chunk = 0;
      }
      end = s.chunk_end[chunk];
      state.ResumeTiming();
      if (error != nullptr) {
        state.SkipWithError(error);
        break;
      }
    }
  }
  sink.flush();
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["events/op"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kAvgIterations);
  state.counters["fills/op"] = benchmark::Counter(
      static_cast<double>(s.timed_fills) / static_cast<double>(s.timed.size()));
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

void mix(benchmark::State& state) {
  MixParams p;
  p.instruments = static_cast<std::uint32_t>(state.range(0));
  const ScriptLimits lim = limits_with_tokens(state, 1);
  const std::string key = "mix/" + std::to_string(p.instruments) + "/" + std::to_string(lim.max_tokens);
  const Cached& c = cached(key, [&] {
    Cached out;
    out.script = build_mix(lim, p, &out.mix);
    return out;
  });
  run_script(state, c.script);
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
BENCHMARK(mix)
    ->ArgNames({"instruments", "max_tokens"})
    ->Args({1, kDefaultTokens})
    ->Args({64, kDefaultTokens})
    ->Args({1, kSmallTokens})
    ->UseRealTime()
    ->Unit(benchmark::kNanosecond)
    ->Apply(fixed_iterations);
