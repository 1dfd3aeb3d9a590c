#pragma once
// The load modes of peregrine-bench: N SoupBinTCP sessions sending OUCH 4.2 flow to a server,
// either open loop at a target rate (latency from each message's intended send time, so a stall
// is charged to every message it delays: no coordinated omission) or at maximum throughput with
// a window of W unanswered messages per session. Tracks every order token to its one terminal
// answer and the executed quantity on both sides of every match; see docs/benchmarks.md.

#include <cstdint>
#include <string>
#include <vector>

#include "traffic.hpp"

namespace peregrine::bench {

struct LoadOptions {
  std::string config_path = "config/bench.yaml";  ///< users, passwords and instruments (and the server's config)
  std::string server_bin;        ///< start this server binary (empty: connect to `connect`)
  bool echo = false;             ///< start `self_bin echo` instead of `server_bin` (the yardstick)
  std::string self_bin;          ///< this peregrine-bench binary
  std::string connect;           ///< HOST:PORT of a running server's OUCH listener
  std::vector<std::string> server_args;  ///< extra arguments for the started server
  std::vector<int> cpus;         ///< CPUs for the harness thread
  std::vector<int> server_cpus;  ///< CPUs for the started server process
  int core_cpu = -2;             ///< --core-cpu for the started server (-2: not passed)
  std::string idle_strategy;     ///< --idle-strategy for the started server (empty: not passed)
  std::uint32_t sessions = 0;    ///< sessions (users from the config, in order); 0 = all
  bool max_throughput = false;
  double rate = 10000;           ///< open loop: messages per second, all sessions together
  double duration_s = 5;
  double warmup_s = 1;
  std::uint32_t window = 64;     ///< max throughput: unanswered messages per session
  Mix mix;
  double zipf = 1.0;
  double reject_ratio = 0;
  std::uint64_t seed = 1;
  std::uint32_t max_live = 1000;  ///< per session: above this many resting orders a new order becomes a cancel
  double drain_timeout_s = 10;
  bool spin = false;              ///< busy-poll the sockets instead of sleeping in epoll between sends
  std::string json_path;
  std::string server_log;         ///< the started server's stderr (empty: discarded)
  std::string command_line;       ///< for the report
};

/// Runs one load scenario; prints the report; returns the process exit code (0: every check
/// passed; 1: a correctness check failed; 2: setup failed).
int run_load(const LoadOptions& opt);

}  // namespace peregrine::bench
