#pragma once
// peregrine-bench pingpong: a bare TCP round trip over loopback with the bytes of an OUCH order
// and its answer, the yardstick every end-to-end latency is set against.

#include <cstdint>
#include <string>
#include <vector>

namespace peregrine::bench {

struct PingPongOptions {
  std::uint64_t count = 200000;
  std::uint64_t warmup = 20000;
  bool spin = false;            ///< busy-poll both ends (else block in recv)
  std::vector<int> cpus;        ///< the pinging thread
  std::vector<int> echo_cpus;   ///< the echoing thread
  std::string json_path;
  std::string command_line;
};

int run_pingpong(const PingPongOptions& opt);

}  // namespace peregrine::bench
