#pragma once
// Starting the real `peregrine` binary (or `peregrine-bench echo`) for a benchmark, with the one
// process launcher of the tests and benchmarks (tests/support/child_process.hpp): on the CPUs
// given, or those this process started with; its stderr (the log) to a file; its ready line
// ("peregrine: ready: OUCH h:p, ITCH h:p, MoldUDP64 to h:p, HTTP h:p") read from stdout for the
// ports. ChildProcess stops it (SIGTERM, SIGKILL after a bound).

#include <sched.h>

#include <chrono>
#include <cstdint>
#include <regex>
#include <string>
#include <vector>

#include "support/child_process.hpp"

namespace peregrine::bench {

/// Ports from the ready line.
struct ReadyLine {
  std::uint16_t ouch = 0;
  std::uint16_t itch = 0;
  std::uint16_t http = 0;
};

/// The CPUs this process could use when it started (main() calls this before pinning anything);
/// what a started server gets when no CPUs are given for it.
const cpu_set_t& startup_affinity();

/// How a server starts: on `cpus`, or on startup_affinity() when there are none (not on whatever
/// the calling thread has since been pinned to); stderr to `log_path` (empty: discarded).
[[nodiscard]] support::SpawnOptions server_spawn_options(const std::vector<int>& cpus, const std::string& log_path);

/// Matches the start of either ready line; parse_ready_line() then reads it.
[[nodiscard]] const std::regex& ready_line_start();

/// Parses the server's ready line, or `peregrine-bench echo`'s ("peregrine-bench echo: ready:
/// OUCH h:p": only `ouch` set); false when `line` is neither.
[[nodiscard]] bool parse_ready_line(const std::string& line, ReadyLine& out);

/// Spawns `argv` with server_spawn_options(cpus, log_path) and waits up to `timeout` for its
/// ready line. Returns an error text, empty on success (`ports` then set).
[[nodiscard]] std::string start_server(support::ChildProcess& server, const std::vector<std::string>& argv,
                                       const std::vector<int>& cpus, const std::string& log_path, ReadyLine& ports,
                                       std::chrono::milliseconds timeout);

}  // namespace peregrine::bench
