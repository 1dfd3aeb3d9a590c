/// Journal replay speed (issue #5's benchmark; target >= 5 million commands/s).
///
/// Generates N commands of the realistic mix (workload.hpp: the seed book, then timed commands),
/// writes them to a journal in a temporary directory with JournalWriter (durability none,
/// 256 MiB segments; the write rate is printed too, for information), then times, --reps times:
///   - read: read_journal over every segment, verifying every CRC, counting records;
///   - replay: read_journal + replay::EngineReplay (what `peregrine-journal replay` runs: each
///     command prefetched with Engine::prefetch two records ahead, then Engine::process) into a
///     sink that only counts events, on a fresh engine (built outside the timing); the final
///     state hash must be the generator's, or the run aborts.
/// The median of each is printed, and written as JSON with --json. The files are on whatever
/// file system --dir names (default: the system temp directory), read from the page cache after
/// the first pass.
///
/// usage: peregrine_replay_bench [--commands N] [--reps 5] [--dir DIR] [--json FILE] (--help says more)

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "peregrine/bench/report_json.hpp"
#include "peregrine/cli/args.hpp"
#include "peregrine/core/engine.hpp"
#include "peregrine/core/event.hpp"
#include "peregrine/journal/journal.hpp"
#include "peregrine/replay/engine_replay.hpp"
#include "workload.hpp"

namespace {

using namespace peregrine;

void count_events(void* ctx, const Event* /*events*/, std::size_t n) noexcept { *static_cast<std::uint64_t*>(ctx) += n; }

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t n = 2'000'000;
  int reps = 5;
  std::string dir_arg;
  std::string json;
  CLI::App app("Journal replay speed on the realistic mix: N commands written to a journal, then read_journal "
               "alone and read_journal + replay, median of --reps.",
               "peregrine_replay_bench");
  cli::apply_house_style(app);
  cli::add_decimal(app, "--commands", n, "timed commands of the mix after the seed book (default 2000000)", std::size_t{1});
  cli::add_decimal(app, "--reps", reps, "timed passes; the median is reported (default 5)", 1);
  app.add_option("--dir", dir_arg, "where the journal is written (default: the system temp directory)")->option_text("DIR");
  app.add_option("--json", json, "write the results as JSON")->option_text("FILE");
  if (const int status = cli::parse(app, argc, argv); status >= 0) return status;
  const std::filesystem::path base = dir_arg.empty() ? std::filesystem::temp_directory_path() : std::filesystem::path(dir_arg);

  bench::ScriptLimits lim;
  lim.max_timed = n;
  const bench::Script script = bench::build_mix(lim, bench::MixParams{});
  std::vector<Command> commands = script.seed;
  commands.insert(commands.end(), script.timed.begin(), script.timed.end());

  const auto dir = base / ("peregrine-replay-bench-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  journal::WriterOptions o;
  o.dir = dir;
  o.durability = journal::Durability::None;
  o.min_free_bytes = 0;
  const auto tw = std::chrono::steady_clock::now();
  {
    journal::JournalWriter w(o);
    w.open(0);
    w.start();
    for (const Command& c : commands) {
      while (w.ring().try_push(c) == ring::PushResult::Full) std::this_thread::yield();
    }
    w.stop();
  }
  const double write_s = seconds_since(tw);
  const auto usage = journal::disk_usage(dir);

  std::vector<double> read_s, replay_s;
  std::uint64_t events = 0;
  for (int r = 0; r < reps; ++r) {
    std::uint64_t records = 0;
    const auto t0 = std::chrono::steady_clock::now();
    const auto end = journal::read_journal(dir, 0, {}, [&](const journal::Record&) { ++records; });
    read_s.push_back(seconds_since(t0));
    if (records != commands.size() || end.last_seq != commands.size()) {
      std::fprintf(stderr, "read %llu records, wrote %zu\n", static_cast<unsigned long long>(records), commands.size());
      return 1;
    }

    std::vector<Event> buf(256);
    events = 0;
    EventSink sink(buf.data(), buf.size(), &count_events, &events);
    // The tool's replay (replay::EngineReplay): the journal has no Start record, so the engine is
    // the script's configuration as is, built here, outside the timing.
    replay::EngineReplay replayer(script.config, sink);
    Engine& engine = replayer.engine();
    const auto t1 = std::chrono::steady_clock::now();
    (void)journal::read_journal(dir, 0, {}, [&](const journal::Record& rec) { replayer.apply(rec); });
    replayer.finish();
    sink.flush();
    replay_s.push_back(seconds_since(t1));
    if (engine.state_hash() != script.final_state_hash) {
      std::fprintf(stderr, "replay ended in state %016llx, the generator's is %016llx\n",
                   static_cast<unsigned long long>(engine.state_hash()),
                   static_cast<unsigned long long>(script.final_state_hash));
      return 1;
    }
  }
  std::filesystem::remove_all(dir);

  const double cmds = static_cast<double>(commands.size());
  const double read_rate = cmds / median(read_s);
  const double replay_rate = cmds / median(replay_s);
  const double write_rate = cmds / write_s;
  std::printf("%zu commands (%llu bytes of journal): replay %.2f M commands/s (read + process), read only %.2f M "
              "records/s, written at %.2f M records/s (durability none); %llu events; median of %d\n",
              commands.size(), static_cast<unsigned long long>(usage.used), replay_rate / 1e6, read_rate / 1e6,
              write_rate / 1e6, static_cast<unsigned long long>(events), reps);
  if (!json.empty()) {
    const boost::json::object j{{"reps", reps},
                                {"commands", commands.size()},
                                {"journal_bytes", usage.used},
                                {"replay_per_s", bench::json_rounded(replay_rate)},
                                {"read_per_s", bench::json_rounded(read_rate)},
                                {"write_per_s", bench::json_rounded(write_rate)},
                                {"events", events}};
    if (!bench::save_json(json, j)) {
      std::perror(json.c_str());
      return 1;
    }
  }
  return 0;
}
