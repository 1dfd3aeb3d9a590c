#pragma once
// peregrine-bench startup: execs the server N times and measures, from just before fork(), the
// time to its ready line, to the first HTTP 200 from /readyz and to the first SoupBinTCP Login
// Accepted, connecting as soon as the port listens (ports chosen beforehand, connect polled).

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
};

int run_startup(const StartupOptions& opt);

}  // namespace peregrine::bench
