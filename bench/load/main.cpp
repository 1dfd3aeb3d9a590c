// peregrine-bench: end-to-end load, latency and throughput against the real peregrine server,
// cold start, and a bare TCP round trip to compare with. `peregrine-bench --help` says how.

#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "load.hpp"
#include "pingpong.hpp"
#include "server_process.hpp"
#include "startup.hpp"
#include "util.hpp"

namespace {

using namespace peregrine::bench;

constexpr const char* kUsage = R"(usage: peregrine-bench [run] [options]      end-to-end load (open loop or max throughput)
       peregrine-bench pingpong [options]   bare TCP round trip of an order's size
       peregrine-bench startup [options]    cold start: exec -> /readyz 200 and -> Login Accepted
       peregrine-bench --help

Run from the repository root (paths below are relative to it). Times are CLOCK_MONOTONIC.

run: N SoupBinTCP sessions, one per user of the configuration, send OUCH 4.2 flow generated
from a seed and track every order token to its single terminal answer. Exit 0 when every check
holds, 1 when an answer is missing or inconsistent, 2 when the run could not be set up.
  --config FILE          users, passwords, instruments; also the started server's configuration
                         (default config/bench.yaml)
  --server BIN           start this server binary on ephemeral ports and stop it after
                         (default: the peregrine next to this build, build/release/peregrine)
  --connect HOST:PORT    use a running server's OUCH port instead of starting one
  --server-cpus LIST     CPUs of the started server process, e.g. 1 or 0-1 (default: any)
  --core-cpu N           passed to the started server: pin its matching thread to CPU N
  --idle-strategy NAME   passed to the started server: busy-spin, yield or backoff
  --server-arg ARG       one more argument for the started server (repeatable)
  --server-log FILE      the started server's log (stderr); default: discarded
  --cpus LIST            CPUs of this harness's thread (it runs every session on one thread)
  --sessions N           use the first N users of the configuration (default: all)
  --rate R               open loop: messages per second, all sessions together (default 10000)
  --max-throughput       instead of a rate: each session keeps --window messages unanswered
  --window W             max throughput: unanswered messages per session (default 64)
  --duration S           measured seconds (default 5)
  --warmup S             seconds sent before measuring (default 1)
  --mix P,C,R,A          weights of passive new orders, cancels, replaces, aggressive IOC orders
                         (default 60,25,10,5)
  --zipf S               skew of the instruments' popularity, weight 1/rank^S (default 1)
  --reject-ratio F       fraction of new orders sent invalid (price off tick; must be Rejected)
                         (default 0: every order is valid)
  --max-live N           resting orders per session above which a new order is sent as a cancel
                         (default 1000; keeps the book and the order pool bounded)
  --seed N               traffic seed (default 1)
  --drain-timeout S      how long to wait for the last answers (default 10)
  --spin                 busy-poll the sockets between sends (default: sleep in epoll until a
                         reply or the next send time)
  --json FILE            write the results as JSON

  Messages are Enter Order, Cancel Order and Replace Order; "orders/s" in the report means these
  messages per second. Latency is measured per answer type from the message's intended send
  time (open loop: coordinated omission corrected; max throughput: the time it was queued):
  accepted, first_executed (aggressive orders: first fill), canceled, replaced, rejected,
  cancel_rejected; send_lag is how late the harness sent after the intended time.

pingpong: a TCP loopback connection; one end sends 52 bytes (an Enter Order in SoupBinTCP), the
other answers 69 (an Accepted), N times, one at a time.
  --count N              round trips measured (default 200000)
  --warmup N             round trips before measuring (default 20000)
  --spin                 both ends busy-poll (default: both block in recv)
  --cpus LIST            CPUs of the pinging thread
  --echo-cpus LIST       CPUs of the echoing thread
  --json FILE

startup: execs the server N times with ports chosen beforehand and polls them from the moment
of fork(): time to the ready line on stdout, to HTTP 200 from /readyz and to Login Accepted
for the configuration's first user. Each run gets a fresh --journal-dir (a new day's start,
no recovery) unless --server-arg names one.
  --server BIN           as for run
  --config FILE          default config/demo.yaml
  --runs N               default 20
  --server-arg ARG       as for run
  --server-cpus LIST, --cpus LIST, --server-log FILE, --json FILE
)";

int usage_error(const std::string& what) {
  std::fprintf(stderr, "peregrine-bench: %s\n(see peregrine-bench --help)\n", what.c_str());
  return 2;
}

template <typename T>
bool parse_num(const char* s, T& out) {
  const std::string_view v = s;
  if constexpr (std::is_floating_point_v<T>) {
    char* end = nullptr;
    out = static_cast<T>(std::strtod(s, &end));
    return end != s && *end == '\0' && out >= 0;
  } else {
    return std::from_chars(v.data(), v.data() + v.size(), out).ptr == v.data() + v.size() && !v.empty();
  }
}

bool parse_mix(const char* s, Mix& m) {
  double w[4];
  std::string_view v = s;
  for (int i = 0; i < 4; ++i) {
    const std::size_t c = v.find(',');
    const std::string part(v.substr(0, c));
    if (!parse_num(part.c_str(), w[i])) return false;
    if (i < 3 && c == std::string_view::npos) return false;
    v = c == std::string_view::npos ? std::string_view{} : v.substr(c + 1);
  }
  if (!v.empty() || w[0] + w[1] + w[2] + w[3] <= 0 || w[0] + w[3] <= 0) return false;
  m = Mix{w[0], w[1], w[2], w[3]};
  return true;
}

/// build/release/peregrine when this binary is build/release/bench/load/peregrine-bench.
std::string default_server() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "build/release/peregrine";
  const auto guess = self.parent_path().parent_path().parent_path() / "peregrine";
  return std::filesystem::exists(guess, ec) ? guess.string() : "build/release/peregrine";
}

}  // namespace

int main(int argc, char** argv) {
  (void)startup_affinity();  // before any thread is pinned
  std::string mode = "run";
  int i = 1;
  if (argc > 1 && argv[1][0] != '-') {
    mode = argv[1];
    i = 2;
    if (mode != "run" && mode != "pingpong" && mode != "startup") return usage_error("unknown mode " + mode);
  }
  LoadOptions load;
  PingPongOptions ping;
  StartupOptions start;
  load.server_bin = default_server();
  start.server_bin = load.server_bin;
  const std::string cmd = join_argv(argc, argv);
  load.command_line = ping.command_line = start.command_line = cmd;
  bool config_given = false;
  for (; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    const auto takes_value = [&]() { return i + 1 < argc; };
    if (a == "--spin" || a == "--max-throughput") {
      if (a == "--spin") load.spin = ping.spin = true;
      else load.max_throughput = true;
      continue;
    }
    if (!takes_value()) return usage_error(std::string(a) + " needs a value (or is unknown)");
    const char* v = argv[++i];
    bool ok = true;
    if (a == "--config") {
      load.config_path = start.config_path = v;
      config_given = true;
    } else if (a == "--server") {
      load.server_bin = start.server_bin = v;
    } else if (a == "--connect") {
      load.connect = v;
      load.server_bin.clear();
    } else if (a == "--server-cpus") {
      ok = parse_cpu_list(v, load.server_cpus) && parse_cpu_list(v, start.server_cpus);
    } else if (a == "--cpus") {
      ok = parse_cpu_list(v, load.cpus) && parse_cpu_list(v, ping.cpus) && parse_cpu_list(v, start.cpus);
    } else if (a == "--echo-cpus") {
      ok = parse_cpu_list(v, ping.echo_cpus);
    } else if (a == "--core-cpu") {
      ok = parse_num(v, load.core_cpu) || (std::string_view(v) == "-1" && (load.core_cpu = -1, true));
    } else if (a == "--idle-strategy") {
      load.idle_strategy = v;
    } else if (a == "--server-arg") {
      load.server_args.emplace_back(v);
      start.server_args.emplace_back(v);
    } else if (a == "--server-log") {
      load.server_log = start.server_log = v;
    } else if (a == "--sessions") {
      ok = parse_num(v, load.sessions);
    } else if (a == "--rate") {
      ok = parse_num(v, load.rate) && load.rate > 0;
    } else if (a == "--window") {
      ok = parse_num(v, load.window) && load.window > 0;
    } else if (a == "--duration") {
      ok = parse_num(v, load.duration_s) && load.duration_s > 0;
    } else if (a == "--warmup") {
      if (mode == "pingpong") ok = parse_num(v, ping.warmup);
      else ok = parse_num(v, load.warmup_s);
    } else if (a == "--mix") {
      ok = parse_mix(v, load.mix);
    } else if (a == "--zipf") {
      ok = parse_num(v, load.zipf);
    } else if (a == "--reject-ratio") {
      ok = parse_num(v, load.reject_ratio) && load.reject_ratio <= 1;
    } else if (a == "--max-live") {
      ok = parse_num(v, load.max_live) && load.max_live > 0;
    } else if (a == "--seed") {
      ok = parse_num(v, load.seed);
    } else if (a == "--drain-timeout") {
      ok = parse_num(v, load.drain_timeout_s);
    } else if (a == "--count") {
      ok = parse_num(v, ping.count) && ping.count > 0;
    } else if (a == "--runs") {
      ok = parse_num(v, start.runs) && start.runs > 0;
    } else if (a == "--json") {
      load.json_path = ping.json_path = start.json_path = v;
    } else {
      return usage_error("unknown option " + std::string(a));
    }
    if (!ok) return usage_error("bad value for " + std::string(a) + ": " + v);
  }
  if (mode == "pingpong") return run_pingpong(ping);
  if (mode == "startup") {
    if (!config_given) start.config_path = "config/demo.yaml";
    return run_startup(start);
  }
  return run_load(load);
}
