// The micro benchmarks' programs, run small: their JSON keeps the keys and the number types that
// scripts/bench-micro, bench-auction and bench-replay read (counts and rates as integers: the
// doc's `{x:,}` would print an integer written as a double as 1,000.0), and their command lines
// follow the shipped binaries' conventions (CLI11: --help, one-line usage errors, an empty
// `--opt=` refused instead of taking the next word). No timing thresholds.

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "program_run.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using peregrine::testing::ProgramRun;
using peregrine::testing::run_program;

class MicroBenchTest : public ::testing::Test {
 protected:

  /// Each of `keys` is in `o` and is an integer (not a double that happens to be whole).
  static void expect_integers(const json::object& o, std::initializer_list<const char*> keys, const std::string& where) {
    for (const char* k : keys) {
      ASSERT_TRUE(o.contains(k)) << where << " lacks " << k;
      EXPECT_TRUE(o.at(k).is_int64()) << where << "." << k << " is not an integer: " << json::serialize(o.at(k));
    }
  }
  static void expect_doubles(const json::object& o, std::initializer_list<const char*> keys, const std::string& where) {
    for (const char* k : keys) {
      ASSERT_TRUE(o.contains(k)) << where << " lacks " << k;
      EXPECT_TRUE(o.at(k).is_double()) << where << "." << k << " is not a double: " << json::serialize(o.at(k));
    }
  }

  peregrine::testing::TempDir tmp_{"peregrine-micro-test"};
  const fs::path& dir_ = tmp_.path();
};

TEST_F(MicroBenchTest, ReplayBenchWritesItsCountsAndRatesAsIntegers) {
  const ProgramRun r = run_program(PEREGRINE_REPLAY_BENCH_BINARY, {"--commands", "5000", "--reps", "1", "--dir", dir_.string()}, dir_);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto& d = r.doc.as_object();
  expect_integers(d, {"reps", "commands", "journal_bytes", "replay_per_s", "read_per_s", "write_per_s", "events"}, "replay");
  EXPECT_EQ(d.at("reps").as_int64(), 1);
  EXPECT_GT(d.at("commands").as_int64(), 5000);  // the seed book, then 5,000 timed commands
  EXPECT_GT(d.at("replay_per_s").as_int64(), 0);
}

TEST_F(MicroBenchTest, UncrossBenchWritesOneResultPerSizeInOrder) {
  const ProgramRun r = run_program(PEREGRINE_UNCROSS_BENCH_BINARY, {"--sizes", "200,400", "--reps", "1"}, dir_);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto& d = r.doc.as_object();
  EXPECT_EQ(d.at("reps").as_int64(), 1);
  const auto& results = d.at("results").as_array();
  ASSERT_EQ(results.size(), 2u);
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& x = results[i].as_object();
    expect_integers(x, {"orders", "fills", "paired", "events"}, "results[" + std::to_string(i) + "]");
    expect_doubles(x, {"uncross_ms", "indicative_us"}, "results[" + std::to_string(i) + "]");
    EXPECT_EQ(x.at("orders").as_int64(), i == 0 ? 200 : 400);
    // A crossing book pairs something; each fill leaves one of its two orders done.
    EXPECT_GT(x.at("fills").as_int64(), 0);
    EXPECT_LE(x.at("fills").as_int64(), x.at("orders").as_int64());
    EXPECT_GT(x.at("paired").as_int64(), 0);
  }
}

TEST_F(MicroBenchTest, CoreLatencyWritesIntegerPercentilesAndChecksItsShadow) {
  const ProgramRun r = run_program(PEREGRINE_CORE_LATENCY_BINARY,
                                   {"--ops", "20000", "--warmup", "2000", "--max-tokens", "65536", "--clock", "monotonic"}, dir_);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto& d = r.doc.as_object();
  expect_integers(d, {"ops", "warmup", "segments", "max_tokens", "instruments", "cpu", "ops_per_sec_wall", "ops_per_sec_busy"},
                  "latency");
  expect_doubles(d, {"ns_per_tick", "mean_depth", "fills_per_op", "events_per_op"}, "latency");
  EXPECT_EQ(d.at("clock").as_string(), "monotonic");
  EXPECT_TRUE(d.at("check").as_object().at("state_hash").as_bool());
  EXPECT_TRUE(d.at("check").as_object().at("events").as_bool());
  expect_integers(d.at("hiccups").as_object(), {"p50_ns", "p99_ns", "max_ns"}, "hiccups");
  const auto& lat = d.at("latency_ns").as_object();
  ASSERT_TRUE(lat.contains("all"));
  EXPECT_EQ(lat.at("all").as_object().at("count").as_int64(), 20000);
  for (const auto& [name, h] : lat) {
    expect_integers(h.as_object(), {"count", "p50", "p90", "p99", "p99.9", "p99.99", "max"}, std::string(name));
    expect_doubles(h.as_object(), {"mean"}, std::string(name));
  }
}

TEST_F(MicroBenchTest, EveryProgramHasHelpAndRefusesAnEmptyValueOrABadOneInOneLine) {
  const std::pair<std::string, std::vector<std::pair<std::vector<std::string>, std::string>>> programs[] = {
      {PEREGRINE_REPLAY_BENCH_BINARY, {{{"--commands="}, "--commands"}, {{"--reps", "0"}, "--reps"}, {{"--nope"}, "--nope"}}},
      {PEREGRINE_UNCROSS_BENCH_BINARY, {{{"--sizes=", "1000"}, "--sizes"}, {{"--sizes", "10,x"}, "--sizes"}, {{"--reps", "-1"}, "--reps"}}},
      {PEREGRINE_CORE_LATENCY_BINARY,
       {{{"--ops=", "5"}, "--ops"}, {{"--clock", "hpet"}, "--clock"}, {{"--instruments", "1001"}, "--instruments"},
        {{"--max-tokens", "100"}, "--max-tokens"}, {{"--ops", "0x10"}, "--ops"}}},
  };
  for (const auto& [binary, bad] : programs) {
    const std::string name = fs::path(binary).filename().string();
    const ProgramRun help = run_program(binary, {"--help"}, dir_, false);
    EXPECT_EQ(help.exit_code, 0) << name << "\n" << help.output;
    EXPECT_NE(help.output.find("--json"), std::string::npos) << name << "\n" << help.output;
    for (const auto& [args, option] : bad) {
      const ProgramRun r = run_program(binary, args, dir_, false);
      EXPECT_EQ(r.exit_code, 2) << name << " " << option << "\n" << r.output;
      EXPECT_EQ(r.output.rfind(name + ": ", 0), 0u) << r.output;
      EXPECT_NE(r.output.substr(0, r.output.find('\n')).find(option), std::string::npos) << r.output;
    }
  }
}

}  // namespace
