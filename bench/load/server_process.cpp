#include "server_process.hpp"

#include <string>

namespace peregrine::bench {

const cpu_set_t& startup_affinity() {
  static const cpu_set_t set = [] {
    cpu_set_t s;
    CPU_ZERO(&s);
    if (::sched_getaffinity(0, sizeof s, &s) != 0) {
      for (int c = 0; c < CPU_SETSIZE; ++c) CPU_SET(c, &s);
    }
    return s;
  }();
  return set;
}

support::SpawnOptions server_spawn_options(const std::vector<int>& cpus, const std::string& log_path) {
  support::SpawnOptions o{log_path, cpus};
  if (o.cpus.empty()) {
    // A fork inherits the calling thread's affinity, which the harness may have pinned.
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &startup_affinity())) o.cpus.push_back(c);
  }
  return o;
}

const std::regex& ready_line_start() {
  static const std::regex re(R"(peregrine(-bench echo)?: ready: )");
  return re;
}

bool parse_ready_line(const std::string& line, ReadyLine& out) {
  static const std::regex re(R"(peregrine: ready: OUCH \S+:(\d+), ITCH \S+:(\d+), MoldUDP64 to \S+, HTTP \S+:(\d+))");
  static const std::regex echo_re(R"(peregrine-bench echo: ready: OUCH \S+:(\d+))");
  std::smatch m;
  if (std::regex_search(line, m, echo_re)) {  // the yardstick: OUCH only
    out = ReadyLine{};
    out.ouch = static_cast<std::uint16_t>(std::stoul(m[1]));
    return true;
  }
  if (!std::regex_search(line, m, re)) return false;
  out.ouch = static_cast<std::uint16_t>(std::stoul(m[1]));
  out.itch = static_cast<std::uint16_t>(std::stoul(m[2]));
  out.http = static_cast<std::uint16_t>(std::stoul(m[3]));
  return true;
}

std::string start_server(support::ChildProcess& server, const std::vector<std::string>& argv,
                         const std::vector<int>& cpus, const std::string& log_path, ReadyLine& ports,
                         std::chrono::milliseconds timeout) {
  if (std::string err = server.spawn(argv, server_spawn_options(cpus, log_path)); !err.empty()) return err;
  if (server.wait_line(ready_line_start(), timeout).empty()) {
    return server.stdout_closed() ? "the server exited before it was ready (see its log)"
                                  : "no ready line within " + std::to_string(timeout.count()) + " ms";
  }
  if (!parse_ready_line(server.last_line(), ports)) return "cannot read the ports from its ready line: " + server.last_line();
  return {};
}

}  // namespace peregrine::bench
