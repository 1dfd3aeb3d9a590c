#pragma once
/// One `peregrine` process of an HA test (replication_integration_test.cpp,
/// lease_failover_test.cpp): its ports, read from its ready line, and how many times it started.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <regex>
#include <string>

#include "support/process.hpp"

namespace peregrine::ha_test {

struct Node {
  testing::Process proc;
  std::uint16_t ouch = 0;
  std::uint16_t itch = 0;
  std::uint16_t http = 0;
  std::uint16_t repl = 0;  // a leader's replication port
  int runs = 0;
};

/// Starts `binary --config dir/NAME.yaml` with its stderr in dir/NAMEk.log (k: the node's run)
/// and waits (up to `limit`) for its ready line: true once it came, with the ports set.
inline bool start_node(Node& n, const char* binary, const std::filesystem::path& dir, const std::string& name,
                       std::chrono::seconds limit = std::chrono::seconds{60}) {
  ++n.runs;
  if (!n.proc.spawn({binary, "--config", (dir / (name + ".yaml")).string()},
                    (dir / (name + std::to_string(n.runs) + ".log")).string()))
    return false;
  const std::smatch m = n.proc.wait_line(std::regex(R"(ready: OUCH [^:]+:(\d+), ITCH [^:]+:(\d+), .* HTTP [^:]+:(\d+)(.*))"), limit);
  if (m.empty()) return false;
  n.ouch = static_cast<std::uint16_t>(std::stoi(m[1].str()));
  n.itch = static_cast<std::uint16_t>(std::stoi(m[2].str()));
  n.http = static_cast<std::uint16_t>(std::stoi(m[3].str()));
  std::smatch r;
  const std::string rest = m[4].str();
  if (std::regex_search(rest, r, std::regex(R"(replication on [^,]+:(\d+))")))
    n.repl = static_cast<std::uint16_t>(std::stoi(r[1].str()));
  return true;
}

}  // namespace peregrine::ha_test
