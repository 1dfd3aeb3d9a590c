// peregrine-bench against the real peregrine binary, briefly and at low rates: every mode exits
// 0, its JSON has the documented shape, and the correctness counters say what a run must (every
// order answered once, both sides of every trade agree). No timing thresholds.

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

using Result = peregrine::testing::ProgramRun;

class HarnessTest : public ::testing::Test {
 protected:

  /// Runs peregrine-bench from the source root with `args` plus --json; captures stdout+stderr.
  Result bench(const std::vector<std::string>& args) { return peregrine::testing::run_program(PEREGRINE_BENCH_BINARY, args, dir_); }

  static std::vector<std::string> server_args() {
    return {"--server", PEREGRINE_BINARY, "--config", "config/bench.yaml", "--idle-strategy", "backoff",
            "--drain-timeout", "20"};
  }

  static void expect_histogram(const json::object& h, const char* name) {
    for (const char* k : {"count", "min", "p50", "p90", "p99", "p99.9", "p99.99", "max", "mean"})
      EXPECT_TRUE(h.contains(k)) << name << " lacks " << k;
    if (h.at("count").as_int64() == 0) return;
    EXPECT_LE(h.at("min").as_int64(), h.at("p50").as_int64()) << name;
    EXPECT_LE(h.at("p50").as_int64(), h.at("p99").as_int64()) << name;
    EXPECT_LE(h.at("p99").as_int64(), h.at("p99.9").as_int64()) << name;
    EXPECT_LE(h.at("p99.9").as_int64(), h.at("max").as_int64()) << name;
  }

  /// The checks every load run's JSON must pass.
  static void expect_sound_run(const json::object& d) {
    const auto& c = d.at("counts").as_object();
    const auto& ok = d.at("correctness").as_object();
    EXPECT_TRUE(ok.at("ok").as_bool());
    EXPECT_EQ(ok.at("errors").as_int64(), 0);
    EXPECT_EQ(ok.at("unanswered").as_int64(), 0);
    EXPECT_EQ(ok.at("orders_without_one_terminal").as_int64(), 0);
    EXPECT_EQ(ok.at("matches_one_sided").as_int64(), 0);
    EXPECT_EQ(ok.at("executed_shares_buy").as_int64(), ok.at("executed_shares_sell").as_int64());
    EXPECT_GT(ok.at("orders").as_int64(), 0);
    EXPECT_GT(c.at("sent").as_int64(), 0);
    EXPECT_EQ(c.at("sent").as_int64(), c.at("new").as_int64() + c.at("cancel").as_int64() + c.at("replace").as_int64());
    // Every new order was accepted or rejected, and the flow trades.
    EXPECT_EQ(c.at("new").as_int64(), c.at("accepted").as_int64() + c.at("rejected").as_int64() - c.at("replace_rejected").as_int64());
    EXPECT_GT(c.at("matches").as_int64(), 0);
    EXPECT_EQ(c.at("executed").as_int64(), 2 * c.at("matches").as_int64());
    const auto& lat = d.at("latency_ns").as_object();
    for (const char* h : {"accepted", "first_executed", "canceled", "replaced", "rejected", "cancel_rejected", "send_lag"}) {
      ASSERT_TRUE(lat.contains(h)) << h;
      expect_histogram(lat.at(h).as_object(), h);
    }
    EXPECT_GT(lat.at("accepted").as_object().at("count").as_int64(), 0);
    EXPECT_GT(d.at("achieved_rate").to_number<double>(), 0.0);
  }

  peregrine::testing::TempDir tmp_{"peregrine-bench-test"};
  const fs::path& dir_ = tmp_.path();
};

TEST_F(HarnessTest, OpenLoopRunAnswersEveryOrderOnceAndBothSidesAgree) {
  auto args = server_args();
  args.insert(args.end(), {"--rate", "3000", "--duration", "1", "--warmup", "0.2", "--seed", "7"});
  const Result r = bench(args);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_TRUE(r.doc.is_object()) << r.output;
  const auto& d = r.doc.as_object();
  EXPECT_EQ(d.at("mode").as_string(), "open_loop");
  EXPECT_EQ(d.at("options").as_object().at("sessions").as_int64(), 4);
  expect_sound_run(d);
  EXPECT_EQ(d.at("counts").as_object().at("invalid").as_int64(), 0);
  EXPECT_NE(r.output.find("correctness: ok"), std::string::npos) << r.output;
}

TEST_F(HarnessTest, InvalidOrdersAskedForAreEachRejectedForTheirPrice) {
  auto args = server_args();
  args.insert(args.end(), {"--rate", "2000", "--duration", "1", "--warmup", "0.2", "--reject-ratio", "0.2", "--sessions", "2"});
  const Result r = bench(args);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto& d = r.doc.as_object();
  expect_sound_run(d);
  const auto& c = d.at("counts").as_object();
  EXPECT_GT(c.at("invalid").as_int64(), 0);
  EXPECT_EQ(c.at("rejected_expected").as_int64(), c.at("invalid").as_int64());
  EXPECT_EQ(d.at("reject_reasons").as_object().at("X").as_int64(), c.at("invalid").as_int64());
  EXPECT_EQ(d.at("options").as_object().at("sessions").as_int64(), 2);
}

TEST_F(HarnessTest, MaxThroughputRunKeepsItsWindowAndChecksTheSame) {
  auto args = server_args();
  args.insert(args.end(), {"--max-throughput", "--window", "8", "--duration", "1", "--warmup", "0.2"});
  const Result r = bench(args);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto& d = r.doc.as_object();
  EXPECT_EQ(d.at("mode").as_string(), "max_throughput");
  EXPECT_EQ(d.at("options").as_object().at("window").as_int64(), 8);
  expect_sound_run(d);
}

// The yardstick (issue #13): the same load against `peregrine-bench echo`, which answers every
// request at once; the harness checks that each got its one answer.
TEST_F(HarnessTest, EchoRunGetsOneAnswerPerRequestAtARateAndAtMaxThroughput) {
  for (const bool max : {false, true}) {
    std::vector<std::string> args = {"--echo", "--config", "config/bench.yaml", "--duration", "1", "--warmup", "0.2",
                                      "--drain-timeout", "20"};
    if (max) {
      args.insert(args.end(), {"--max-throughput", "--window", "8"});
    } else {
      args.insert(args.end(), {"--rate", "3000"});
    }
    const Result r = bench(args);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    ASSERT_TRUE(r.doc.is_object()) << r.output;
    const auto& d = r.doc.as_object();
    EXPECT_EQ(d.at("server").as_string(), "echo");
    EXPECT_EQ(d.at("mode").as_string(), max ? "max_throughput" : "open_loop");
    const auto& ok = d.at("correctness").as_object();
    EXPECT_TRUE(ok.at("ok").as_bool()) << r.output;
    EXPECT_EQ(ok.at("unanswered").as_int64(), 0);
    EXPECT_EQ(ok.at("orders_without_one_terminal").as_int64(), 0);
    const auto& c = d.at("counts").as_object();
    EXPECT_GT(c.at("sent").as_int64(), 0);
    // Echo accepts every new order, cancels every cancel and replaces every replace.
    EXPECT_EQ(c.at("accepted").as_int64(), c.at("new").as_int64());
    EXPECT_EQ(c.at("replaced").as_int64(), c.at("replace").as_int64());
    EXPECT_EQ(c.at("canceled").as_int64(), c.at("cancel").as_int64() + c.at("final_cancels").as_int64());
    EXPECT_EQ(c.at("rejected").as_int64(), 0);
    EXPECT_EQ(c.at("executed").as_int64(), 0);
    EXPECT_GT(d.at("latency_ns").as_object().at("accepted").as_object().at("count").as_int64(), 0);
    EXPECT_NE(r.output.find("against peregrine-bench echo"), std::string::npos) << r.output;
  }
}

TEST_F(HarnessTest, PingPongReportsRoundTripsOfAnOrdersSize) {
  const Result r = bench({"pingpong", "--count", "2000", "--warmup", "200"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto& d = r.doc.as_object();
  EXPECT_EQ(d.at("mode").as_string(), "pingpong");
  EXPECT_EQ(d.at("request_bytes").as_int64(), 52);
  EXPECT_EQ(d.at("reply_bytes").as_int64(), 69);
  const auto& h = d.at("rtt_ns").as_object();
  expect_histogram(h, "rtt_ns");
  EXPECT_EQ(h.at("count").as_int64(), 2000);
}

TEST_F(HarnessTest, StartupMeasuresReadinessAndFirstLogin) {
  const Result r = bench({"startup", "--server", PEREGRINE_BINARY, "--runs", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto& d = r.doc.as_object();
  EXPECT_EQ(d.at("mode").as_string(), "startup");
  EXPECT_EQ(d.at("runs").as_int64(), 2);
  for (const char* k : {"exec_floor", "ready_line", "readyz", "login_accepted"}) {
    const auto& s = d.at("exec_to_ns").as_object().at(k).as_object();
    EXPECT_EQ(s.at("samples").as_array().size(), 2u) << k;
    EXPECT_GT(s.at("min").as_int64(), 0) << k;
    EXPECT_LE(s.at("min").as_int64(), s.at("median").as_int64()) << k;
    EXPECT_LE(s.at("median").as_int64(), s.at("max").as_int64()) << k;
  }
  // The server's --startup-trace: every phase in order, then the total, which took page faults.
  std::vector<std::string> names;
  for (const auto& p : d.at("phases").as_array()) names.emplace_back(p.as_object().at("name").as_string());
  EXPECT_EQ(names, (std::vector<std::string>{"main", "config", "engine", "journal", "core", "listeners", "ops", "ready",
                                             "total"}));
  EXPECT_GT(d.at("phases").as_array().back().as_object().at("median_faults").as_int64(), 0);
}

TEST_F(HarnessTest, StartupRecoveryRowRestartsAfterKillNineAndReplaysTheJournal) {
  const Result r = bench({"startup", "--server", PEREGRINE_BINARY, "--runs", "1", "--recovery", "20000", "--recovery-runs", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto& rows = r.doc.as_object().at("recovery").as_array();
  ASSERT_EQ(rows.size(), 1u);
  const auto& row = rows[0].as_object();
  EXPECT_GE(row.at("records").as_int64(), 20000);
  // No snapshot at the default cadence yet: the restart replays the whole day, at least what
  // the journal held at the last scrape before the kill.
  EXPECT_EQ(row.at("from").as_string(), "the day's start");
  EXPECT_GE(row.at("replayed").as_int64(), row.at("records").as_int64());
  EXPECT_EQ(row.at("exec_to_ready_ns").as_object().at("samples").as_array().size(), 2u);
  EXPECT_GT(row.at("journal_bytes").as_int64(), 0);
}

TEST_F(HarnessTest, NoServerToTalkToIsASetupFailure) {
  const Result r = bench({"--connect", "127.0.0.1:1", "--config", "config/bench.yaml", "--duration", "1"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("connect"), std::string::npos) << r.output;
}

TEST_F(HarnessTest, HelpDocumentsEveryOption) {
  const Result r = bench({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* opt : {"--config", "--server", "--connect", "--server-cpus", "--core-cpu", "--idle-strategy",
                          "--server-arg", "--server-log", "--cpus", "--sessions", "--rate", "--max-throughput",
                          "--window", "--duration", "--warmup", "--mix", "--zipf", "--reject-ratio", "--max-live",
                          "--seed", "--drain-timeout", "--spin", "--json", "--count", "--echo-cpus", "--runs", "--echo", "--listen"})
    EXPECT_NE(r.output.find(opt), std::string::npos) << opt;
}

TEST_F(HarnessTest, AnUnknownOptionABadValueOrAnEmptyOneIsAOneLineUsageErrorNamingIt) {
  const std::pair<std::vector<std::string>, std::string> cases[] = {
      {{"--no-such-option"}, "--no-such-option"},
      {{"--rate", "x"}, "--rate"},
      // --count= must not take the next word as its value, even one that would do.
      {{"pingpong", "--count=", "1000"}, "--count"},
      {{"--warmup="}, "--warmup"},
  };
  for (const auto& [args, option] : cases) {
    const Result r = bench(args);
    EXPECT_EQ(r.exit_code, 2) << option << "\n" << r.output;
    EXPECT_EQ(r.output.rfind("peregrine-bench: ", 0), 0u) << r.output;
    EXPECT_NE(r.output.substr(0, r.output.find('\n')).find(option), std::string::npos) << r.output;
  }
}

TEST_F(HarnessTest, AServerArgIsPassedOnAsItIsEvenAnOptionWithAnEmptyValue) {
  // --journal-dir= (no journal) is the started server's, not a usage error of the harness.
  const Result r = bench({"startup", "--server", PEREGRINE_BINARY, "--runs=1", "--server-arg", "--journal-dir="});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.doc.as_object().at("runs").as_int64(), 1);
}

}  // namespace
