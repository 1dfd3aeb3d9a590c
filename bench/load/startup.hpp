#pragma once
// peregrine-bench startup: execs the server N times and measures, from just before fork(), the
// time to its ready line, to the first HTTP 200 from /readyz and to the first SoupBinTCP Login
// Accepted, connecting as soon as the port listens (ports chosen beforehand, connect polled).
// Each start runs with --startup-trace: the phases' times and page faults come from the server.
// With --recovery N,...: for each N, a server with a journal is loaded (peregrine-bench run
// --connect, max throughput) until its journal holds N commands, killed with SIGKILL, and
// restarted on a copy of that journal --recovery-runs times: exec -> ready line.

#include <cstdint>
#include <string>
#include <vector>

namespace peregrine::bench {

struct StartupOptions {
  std::string server_bin;
  std::string config_path = "config/demo.yaml";
  std::vector<std::string> server_args;
  std::uint32_t runs = 20;
  std::vector<int> cpus;         ///< this process
  std::vector<int> server_cpus;  ///< the server
  std::string json_path;
  std::string command_line;
  std::string server_log;
  std::string self_bin;                   ///< this binary: the load of the recovery rows
  std::vector<std::uint64_t> recovery;    ///< commands in the journal at the kill, one row each
  std::uint32_t recovery_runs = 5;        ///< restarts per row
  std::string recovery_config = "config/bench.yaml";  ///< the recovery rows' server and load
  std::string recovery_keep;              ///< non-empty: each row's journal at the kill is kept in <dir>/journal-N
};

int run_startup(const StartupOptions& opt);

}  // namespace peregrine::bench
