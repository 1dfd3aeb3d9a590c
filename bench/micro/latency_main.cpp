/// peregrine_core_latency: the latency of each Engine::process call under the realistic mix.
///
/// The mix (workload.hpp, MixGenerator) is generated in chunks against a shadow engine, then
/// the measured engine, built from the same configuration and seed, processes each chunk with
/// every call timed on its own: a serialised TSC read (lfence; rdtsc / rdtscp; lfence) or
/// clock_gettime(CLOCK_MONOTONIC) before and after. The median cost of an empty timed region is
/// measured at start and subtracted from every sample (and printed). Samples go into
/// log-linear histograms (histogram.hpp, <= 0.78 % relative error, 1 ns resolution) per
/// operation kind and overall. The thread is pinned with sched_setaffinity (--cpu).
///
/// The engine has the default capacities (--max-tokens to change the token table), so the run
/// is split into segments, each a trading day: a fresh shadow and engine (its tables pre-touched,
/// as tuning.cache_enabled does, unless --tables fresh: ADR 0008), --warmup commands processed
/// but not recorded, then measured commands until the day's tokens are (almost) used up. At the
/// end of each segment the measured engine's state hash and event count are checked against the
/// shadow's.
///
/// Usage: peregrine_core_latency [--cpu N] [--ops N] [--warmup N] [--instruments N]
///                               [--max-tokens N] [--clock tsc|monotonic] [--tables resident|fresh]
///                               [--seed N] [--json FILE]
/// (--help says more).

#include <sched.h>
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define PEREGRINE_HAVE_TSC 1
#endif

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "peregrine/bench/histogram.hpp"
#include "peregrine/bench/report_json.hpp"
#include "peregrine/cli/args.hpp"
#include "peregrine/core/engine.hpp"
#include "peregrine/core/event.hpp"
#include "workload.hpp"

namespace {

using namespace peregrine;
using namespace peregrine::bench;

struct Options {
  int cpu = -1;
  std::uint64_t ops = 10'000'000;
  std::uint64_t warmup = 500'000;
  std::uint32_t max_tokens = EngineConfig{}.max_tokens;
  std::uint32_t instruments = 1;
  std::uint64_t seed = MixParams{}.seed;
  bool tsc = true;
  bool resident = true;  // pre-touch each segment's engine (--tables)
  std::string json;
};

/// The command line, over CLI11 with the shipped binaries' conventions (peregrine/cli/args.hpp).
/// Returns -1 to go on, else the exit status.
int parse(int argc, char** argv, Options& o) {
  CLI::App app("The latency of each Engine::process call under the realistic mix, timed one by one.",
               "peregrine_core_latency");
  cli::apply_house_style(app);
  cli::add_decimal(app, "--cpu", o.cpu, "pin the thread to CPU N (default: not pinned)");
  cli::add_decimal(app, "--ops", o.ops, "commands measured, after the warm-up (default 10000000)", std::uint64_t{1});
  cli::add_decimal(app, "--warmup", o.warmup, "commands processed but not recorded per segment (default 500000)");
  cli::add_decimal(app, "--instruments", o.instruments, "instruments of the mix, 1 to 1000 (default 1)", std::uint32_t{1})
      ->check(CLI::Range(1, 1000));
  cli::add_decimal(app, "--max-tokens", o.max_tokens, "the engine's token table, 65536 to 2^31 - 1 (default the engine's)",
                   std::uint32_t{65536})
      ->check(CLI::Range(std::int64_t{65536}, std::int64_t{0x7FFFFFFF}));
  cli::add_decimal(app, "--seed", o.seed, "the mix's seed; segment k uses seed + k");
  app.add_option_function<std::string>(
         "--clock", [&o](const std::string& c) { o.tsc = c == "tsc"; },
         "tsc (lfence; rdtsc / rdtscp; lfence) or monotonic (clock_gettime) (default tsc)")
      ->check(CLI::IsMember({"tsc", "monotonic"}))
      ->option_text("CLOCK");
  app.add_option_function<std::string>(
         "--tables", [&o](const std::string& t) { o.resident = t == "resident"; },
         "resident: each segment's engine writes its tables once before its commands (Engine::pretouch, as "
         "tuning.cache_enabled does); fresh: they fault in while it runs (default resident)")
      ->check(CLI::IsMember({"resident", "fresh"}))
      ->option_text("TABLES");
  app.add_option("--json", o.json, "write the results as JSON")->option_text("FILE");
  const int status = cli::parse(app, argc, argv);
#if !defined(PEREGRINE_HAVE_TSC)
  o.tsc = false;
#endif
  return status;
}

std::uint64_t mono_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

/// Start and stop of a timed region, in ticks of the chosen clock.
struct Clock {
  bool tsc = true;
  double ns_per_tick = 1.0;

  [[nodiscard]] std::uint64_t start() const noexcept {
#if defined(PEREGRINE_HAVE_TSC)
    if (tsc) {
      _mm_lfence();
      const std::uint64_t t = __rdtsc();
      _mm_lfence();
      return t;
    }
#endif
    return mono_ns();
  }
  [[nodiscard]] std::uint64_t stop() const noexcept {
#if defined(PEREGRINE_HAVE_TSC)
    if (tsc) {
      unsigned aux = 0;
      const std::uint64_t t = __rdtscp(&aux);
      _mm_lfence();
      return t;
    }
#endif
    return mono_ns();
  }
};

/// TSC ticks per ns from CLOCK_MONOTONIC over ~200 ms.
Clock make_clock(bool tsc) {
  Clock c;
  c.tsc = tsc;
  if (!tsc) return c;
  const std::uint64_t m0 = mono_ns();
  const std::uint64_t t0 = c.start();
  while (mono_ns() - m0 < 200'000'000) {
  }
  const std::uint64_t m1 = mono_ns();
  const std::uint64_t t1 = c.stop();
  c.ns_per_tick = static_cast<double>(m1 - m0) / static_cast<double>(t1 - t0);
  return c;
}

void pin(int cpu) {
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(static_cast<unsigned>(cpu), &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) {
    std::fprintf(stderr, "sched_setaffinity(cpu %d): %s\n", cpu, std::strerror(errno));
    std::exit(1);
  }
}

/// Interruptions of a thread that only reads the clock: how often the machine takes the CPU
/// away (timer ticks, interrupts, the hypervisor) and for how long. An operation is hit with
/// probability ~ rate x its duration, which is what sets the far tail of the latencies.
struct Hiccups {
  double per_sec = 0;
  LatencyHistogram gaps_ns;
};

Hiccups measure_hiccups(const Clock& clock, double seconds, double threshold_ns) {
  Hiccups h;
  const auto threshold = static_cast<std::uint64_t>(threshold_ns / clock.ns_per_tick);
  const auto span = static_cast<std::uint64_t>(seconds * 1e9 / clock.ns_per_tick);
  const std::uint64_t start = clock.stop();
  std::uint64_t prev = start;
  for (;;) {
    const std::uint64_t t = clock.stop();
    if (t - prev > threshold) {
      h.gaps_ns.record(static_cast<std::uint64_t>(static_cast<double>(t - prev) * clock.ns_per_tick));
    }
    prev = t;
    if (t - start > span) break;
  }
  h.per_sec = static_cast<double>(h.gaps_ns.count()) / seconds;
  return h;
}

/// The sink of the measured engine: counts events, nothing else.
void count_events(void* ctx, const Event* /*events*/, std::size_t n) noexcept {
  *static_cast<std::uint64_t*>(ctx) += n;
}

struct Report {
  std::string name;
  const LatencyHistogram* h;
};


}  // namespace

int main(int argc, char** argv) {
  Options opt;
  if (const int status = parse(argc, argv, opt); status >= 0) return status;
  pin(opt.cpu);
  const Clock clock = make_clock(opt.tsc);

  // Timer overhead: the cost of an empty timed region, in ticks.
  LatencyHistogram empty;
  for (int i = 0; i < 1'000'000; ++i) {
    const std::uint64_t t0 = clock.start();
    const std::uint64_t t1 = clock.stop();
    empty.record(t1 - t0);
  }
  const std::uint64_t overhead_ticks = empty.percentile(50);
  const auto hiccups = std::make_unique<Hiccups>(measure_hiccups(clock, 1.0, 1000.0));
  const auto to_ns = [&](std::uint64_t ticks) {
    return static_cast<double>(ticks) * clock.ns_per_tick;
  };

  MixParams params;
  params.instruments = opt.instruments;
  const EngineConfig cfg = make_config(opt.instruments, opt.max_tokens);

  std::array<LatencyHistogram, kOpKinds> per_kind{};
  auto discard = std::make_unique<LatencyHistogram>();
  constexpr std::size_t kChunk = std::size_t{1} << 20;
  std::vector<Command> cmds(kChunk);
  std::vector<OpKind> kinds(kChunk);
  std::uint64_t recorded = 0;
  std::uint64_t measured_wall_ns = 0;
  double busy_ns = 0;
  std::uint32_t segments = 0;
  bool hash_ok = true;
  bool events_ok = true;
  MixStats st;

  // One segment = one trading day: a fresh shadow and engine, warm-up, then measured commands
  // until the day's token table is (almost) full. Every command uses at most one token.
  while (recorded < opt.ops) {
    params.seed = opt.seed + segments;
    MixGenerator gen(params, cfg);
    Engine engine(cfg);
    if (opt.resident) engine.pretouch();
    std::array<Event, 256> buf{};
    std::uint64_t events = 0;
    EventSink sink(buf.data(), buf.size(), &count_events, &events);
    for (const Command& c : gen.seed_commands()) engine.process(c, sink);
    sink.flush();
    const std::uint64_t seed_events = events;
    const std::uint64_t capacity = cfg.max_tokens - gen.shadow().tokens_issued() - 1024;
    if (opt.warmup >= capacity) {
      std::fprintf(stderr, "--warmup must be below the token table's capacity (%llu)\n",
                   static_cast<unsigned long long>(capacity));
      return 2;
    }
    const std::uint64_t measured = std::min(opt.ops - recorded, capacity - opt.warmup);
    const std::uint64_t total = opt.warmup + measured;
    std::uint64_t done = 0;
    while (done < total) {
      const bool warm = done < opt.warmup;
      const std::uint64_t left = warm ? opt.warmup - done : total - done;
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, left));
      for (std::size_t i = 0; i < n; ++i) cmds[i] = gen.next(kinds[i]);

      const std::uint64_t w0 = mono_ns();
      for (std::size_t i = 0; i < n; ++i) {
        const std::uint64_t t0 = clock.start();
        // As the core thread does with a drained batch: hint the command two ahead (timed).
        if (i + 2 < n) engine.prefetch(cmds[i + 2]);
        engine.process(cmds[i], sink);
        const std::uint64_t t1 = clock.stop();
        const std::uint64_t ticks = t1 - t0 > overhead_ticks ? t1 - t0 - overhead_ticks : 0;
        const double ns = to_ns(ticks);
        LatencyHistogram& h = warm ? *discard : per_kind[static_cast<std::size_t>(kinds[i])];
        h.record(static_cast<std::uint64_t>(ns + 0.5));
        busy_ns += warm ? 0.0 : ns;
      }
      const std::uint64_t w1 = mono_ns();
      if (!warm) measured_wall_ns += w1 - w0;
      done += n;
    }
    sink.flush();
    recorded += measured;
    ++segments;
    hash_ok = hash_ok && engine.state_hash() == gen.shadow().engine().state_hash();
    // The generator counts the events of generated commands only, not of the seed.
    events_ok = events_ok && events - seed_events == gen.stats().events;
    const MixStats& g = gen.stats();
    for (std::size_t k = 0; k < kOpKinds; ++k) st.ops[k] += g.ops[k];
    st.commands += g.commands;
    st.events += g.events;
    st.fills += g.fills;
    st.partial_cancels += g.partial_cancels;
    st.depth_sum += g.depth_sum;
    st.depth_samples += g.depth_samples;
  }

  LatencyHistogram all;
  for (const auto& h : per_kind) all.merge(h);
  std::vector<Report> reports;
  for (std::size_t k = 0; k < kOpKinds; ++k) {
    reports.push_back({std::string(to_string(static_cast<OpKind>(k))), &per_kind[k]});
  }
  reports.push_back({"all", &all});

  const double wall_ops = static_cast<double>(opt.ops) / (static_cast<double>(measured_wall_ns) * 1e-9);
  const double busy_ops = static_cast<double>(opt.ops) / (busy_ns * 1e-9);

  std::printf("peregrine_core_latency: %llu ops measured in %u segment(s) of one engine each (max_tokens %u, "
              "%llu warm-up ops per segment), %u instrument(s), cpu %d\n",
              static_cast<unsigned long long>(opt.ops), segments, opt.max_tokens,
              static_cast<unsigned long long>(opt.warmup), opt.instruments, opt.cpu);
  std::printf("clock: %s, %.4f ns/tick; empty timed region p50 %.1f ns (subtracted), p99 %.1f ns, "
              "p99.99 %.1f ns, max %.1f ns (of 1M)\n",
              clock.tsc ? "tsc (lfence;rdtsc / rdtscp;lfence)" : "clock_gettime(CLOCK_MONOTONIC)",
              clock.ns_per_tick, to_ns(overhead_ticks), to_ns(empty.percentile(99)),
              to_ns(empty.percentile(99.99)), to_ns(empty.max()));
  std::printf("machine noise: %.0f interruptions/s longer than 1 us while spinning on the clock for 1 s; "
              "duration p50 %.1f us, p99 %.1f us, max %.1f us\n",
              hiccups->per_sec, static_cast<double>(hiccups->gaps_ns.percentile(50)) / 1e3,
              static_cast<double>(hiccups->gaps_ns.percentile(99)) / 1e3,
              static_cast<double>(hiccups->gaps_ns.max()) / 1e3);
  std::printf("mix: mean depth %.0f orders/side, %.3f fills/op, %.2f events/op, %.1f%% partial cancels\n",
              st.mean_depth(), static_cast<double>(st.fills) / static_cast<double>(st.commands),
              static_cast<double>(st.events) / static_cast<double>(st.commands),
              100.0 * static_cast<double>(st.partial_cancels) /
                  static_cast<double>(std::max<std::uint64_t>(1, st.ops[static_cast<std::size_t>(OpKind::Cancel)])));
  std::printf("check: state hash %s, event count %s\n", hash_ok ? "ok" : "MISMATCH", events_ok ? "ok" : "MISMATCH");
  std::printf("\n%-22s %10s %7s", "op (latency ns)", "count", "share");
  for (const char* name : kReportPercentileNames) std::printf(" %8s", name);
  std::printf(" %8s %8s\n", "max", "mean");
  for (const Report& r : reports) {
    std::printf("%-22s %10llu %6.2f%%", r.name.c_str(), static_cast<unsigned long long>(r.h->count()),
                100.0 * static_cast<double>(r.h->count()) / static_cast<double>(all.count()));
    for (const double p : kReportPercentiles) std::printf(" %8llu", static_cast<unsigned long long>(r.h->percentile(p)));
    std::printf(" %8llu %8.1f\n", static_cast<unsigned long long>(r.h->max()), r.h->mean());
  }
  std::printf("\nthroughput: %.2f M ops/s wall (timed loop incl. timer and histogram), %.2f M ops/s from "
              "the sum of per-op latencies\n",
              wall_ops / 1e6, busy_ops / 1e6);

  if (!opt.json.empty()) {
    namespace json = boost::json;
    json::object latency;
    for (const Report& r : reports) {
      const LatencyHistogram& h = *r.h;
      json::object o{{"count", h.count()}};
      for (std::size_t p = 0; p < std::size(kReportPercentiles); ++p) o[kReportPercentileNames[p]] = h.percentile(kReportPercentiles[p]);
      o["max"] = h.max();
      o["mean"] = json_number(h.mean());
      latency[r.name] = std::move(o);
    }
    const json::object j{
        {"ops", opt.ops},
        {"warmup", opt.warmup},
        {"segments", segments},
        {"max_tokens", opt.max_tokens},
        {"instruments", opt.instruments},
        {"cpu", opt.cpu},
        {"clock", clock.tsc ? "tsc" : "monotonic"},
        {"tables", opt.resident ? "resident" : "fresh"},
        {"ns_per_tick", json_number(clock.ns_per_tick)},
        {"timer_overhead_ns",
         {{"p50_subtracted", json_number(to_ns(overhead_ticks))},
          {"p99", json_number(to_ns(empty.percentile(99)))},
          {"p99.99", json_number(to_ns(empty.percentile(99.99)))},
          {"max", json_number(to_ns(empty.max()))}}},
        {"hiccups",
         {{"per_sec", json_number(hiccups->per_sec)},
          {"p50_ns", hiccups->gaps_ns.percentile(50)},
          {"p99_ns", hiccups->gaps_ns.percentile(99)},
          {"max_ns", hiccups->gaps_ns.max()}}},
        {"ops_per_sec_wall", json_rounded(wall_ops)},
        {"ops_per_sec_busy", json_rounded(busy_ops)},
        {"mean_depth", json_number(st.mean_depth())},
        {"fills_per_op", json_number(static_cast<double>(st.fills) / static_cast<double>(st.commands))},
        {"events_per_op", json_number(static_cast<double>(st.events) / static_cast<double>(st.commands))},
        {"check", {{"state_hash", hash_ok}, {"events", events_ok}}},
        {"latency_ns", std::move(latency)}};
    if (!save_json(opt.json, j)) {
      std::fprintf(stderr, "cannot write %s: %s\n", opt.json.c_str(), std::strerror(errno));
      return 1;
    }
  }
  return hash_ok && events_ok ? 0 : 1;
}
