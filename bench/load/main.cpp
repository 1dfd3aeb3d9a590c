// peregrine-bench: end-to-end load, latency and throughput against the real peregrine server,
// cold start, and a bare TCP round trip to compare with. `peregrine-bench --help` says how.

#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "peregrine/cli/args.hpp"

#include "echo.hpp"
#include "load.hpp"
#include "pingpong.hpp"
#include "server_process.hpp"
#include "startup.hpp"
#include "util.hpp"

namespace {

using namespace peregrine::bench;

constexpr const char* kDescription = R"(peregrine-bench [run] [options]      end-to-end load (open loop or max throughput)
peregrine-bench pingpong [options]   bare TCP round trip of an order's size
peregrine-bench startup [options]    cold start: exec -> /readyz 200 and -> Login Accepted
peregrine-bench echo [options]       the yardstick: a minimal OUCH server that answers at once

Run from the repository root (paths below are relative to it). Times are CLOCK_MONOTONIC.

run (the default): N SoupBinTCP sessions, one per user of the configuration, send OUCH 4.2 flow
generated from a seed and track every order token to its single terminal answer. Exit 0 when
every check holds, 1 when an answer is missing or inconsistent, 2 when the run could not be set
up (a usage error too).

run --echo: the same load against `peregrine-bench echo` (started from this binary) instead of
peregrine, the machine's own limit at that rate; it checks only that every request got its
one answer.

echo: a single-threaded epoll server that accepts any SoupBinTCP login and answers every Enter
Order with an Accepted, Cancel with a Canceled and Replace with a Replaced (their full sizes, the
request's fields; no book, no journal). Prints "peregrine-bench echo: ready: OUCH HOST:PORT" and
serves until SIGTERM.

pingpong: a TCP loopback connection; one end sends 52 bytes (an Enter Order in SoupBinTCP), the
other answers 69 (an Accepted), N times, one at a time.

startup: execs the server N times with ports chosen beforehand and polls them from the moment
of fork(): time to the ready line on stdout, to HTTP 200 from /readyz and to Login Accepted
for the configuration's first user. Each run gets a fresh --journal-dir (a new day's start,
no recovery) unless --server-arg names one, and runs with --startup-trace: the median of each
start-up phase and its page faults are printed too. With --recovery N,...: for each N, a server
on --recovery-config with a journal is loaded (run --connect, max throughput) until the journal
holds N commands, killed with SIGKILL and restarted on copies of it: exec -> ready line.)";

constexpr const char* kFooter = R"(Messages are Enter Order, Cancel Order and Replace Order; "orders/s" in the report means these
messages per second. Latency is measured per answer type from the message's intended send
time (open loop: coordinated omission corrected; max throughput: the time it was queued):
accepted, first_executed (aggressive orders: first fill), canceled, replaced, rejected,
cancel_rejected; send_lag is how late the harness sent after the intended time.)";

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

/// This binary (for `run --echo`, which starts `peregrine-bench echo`).
std::string self_path() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("peregrine-bench") : self.string();
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
  LoadOptions load;
  PingPongOptions ping;
  StartupOptions start;
  load.server_bin = default_server();
  load.self_bin = self_path();
  start.server_bin = load.server_bin;
  start.self_bin = load.self_bin;
  const std::string cmd = join_argv(argc, argv);
  load.command_line = ping.command_line = start.command_line = cmd;

  CLI::App app{kDescription, "peregrine-bench"};
  peregrine::cli::apply_house_style(app);
  app.footer(kFooter);
  app.fallthrough();  // the modes' options are the App's, so they may follow the mode's name
  app.require_subcommand(0, 1);
  CLI::App* pingpong_mode = app.add_subcommand("pingpong", "bare TCP round trip of an order's size");
  CLI::App* startup_mode = app.add_subcommand("startup", "cold start: exec -> /readyz 200 and -> Login Accepted");
  CLI::App* echo_mode = app.add_subcommand("echo", "the yardstick: a minimal OUCH server that answers at once");
  app.add_subcommand("run", "end-to-end load (open loop or max throughput); the default");

  // An option whose value `set` takes (false: "--name: bad value: V", exit 2).
  const auto value = [&app](const std::string& name, const std::string& type, const std::string& group, const std::string& what,
                            std::function<bool(const std::string&)> set) {
    return app
        .add_option_function<std::string>(
            name,
            [name, set](const std::string& v) {
              if (!set(v)) throw CLI::ValidationError(name, "bad value: " + v);
            },
            what)
        ->type_name(type)
        ->group(group);
  };
  const std::string kAll = "every mode";
  const std::string kRun = "run";
  const std::string kPing = "pingpong";
  const std::string kStart = "startup";
  const std::string kEcho = "echo";
  EchoOptions echo;
  std::optional<std::string> config, warmup;
  std::vector<std::string> server_args;
  bool spin = false;
  value("--config", "FILE", kAll,
        "users, passwords, instruments; also the started server's\nconfiguration (default config/bench.yaml; startup:\nconfig/demo.yaml)",
        [&](const std::string& v) { return config = v, true; });
  value("--server", "BIN", kAll,
        "run, startup: start this server binary on ephemeral ports and\nstop it after (default: the peregrine next to this build,\nbuild/release/peregrine)",
        [&](const std::string& v) { return load.server_bin = start.server_bin = v, true; });
  value("--server-cpus", "LIST", kAll, "CPUs of the started server process, e.g. 1 or 0-1 (default: any)",
        [&](const std::string& v) { return parse_cpu_list(v.c_str(), load.server_cpus) && parse_cpu_list(v.c_str(), start.server_cpus); });
  value("--cpus", "LIST", kAll, "CPUs of this harness's thread (run: it runs every session on\none thread; pingpong: the pinging thread)",
        [&](const std::string& v) {
          return parse_cpu_list(v.c_str(), load.cpus) && parse_cpu_list(v.c_str(), ping.cpus) && parse_cpu_list(v.c_str(), start.cpus) &&
                 parse_cpu_list(v.c_str(), echo.cpus);
        });
  app.add_option("--server-arg", server_args, "one more argument for the started server (repeatable)")
      ->type_name("ARG")
      ->group(kAll)
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  value("--server-log", "FILE", kAll, "the started server's log (stderr); default: discarded",
        [&](const std::string& v) { return load.server_log = start.server_log = v, true; });
  value("--json", "FILE", kAll, "write the results as JSON", [&](const std::string& v) {
    return load.json_path = ping.json_path = start.json_path = v, true;
  });
  value("--warmup", "S|N", kAll, "run: seconds sent before measuring (default 1); pingpong: round\ntrips before measuring (default 20000)",
        [&](const std::string& v) { return warmup = v, true; });
  app.add_flag("--spin", spin,
               "run: busy-poll the sockets between sends (default: sleep in epoll\nuntil a reply or the next send time); pingpong: both ends\nbusy-poll (default: both block in recv)")
      ->group(kAll);

  value("--connect", "HOST:PORT", kRun, "use a running server's OUCH port instead of starting one", [&](const std::string& v) {
    load.connect = v;
    load.server_bin.clear();
    return true;
  });
  app.add_flag("--echo", load.echo,
               "run against `peregrine-bench echo` (this binary) instead of the\nserver; checks only one answer per request")
      ->group(kRun);
  value("--core-cpu", "N", kRun, "passed to the started server: pin its matching thread to CPU N", [&](const std::string& v) {
    return parse_num(v.c_str(), load.core_cpu) || (v == "-1" && (load.core_cpu = -1, true));
  });
  value("--idle-strategy", "NAME", kRun, "passed to the started server: busy-spin, yield or backoff",
        [&](const std::string& v) { return load.idle_strategy = v, true; });
  value("--sessions", "N", kRun, "use the first N users of the configuration (default: all)",
        [&](const std::string& v) { return parse_num(v.c_str(), load.sessions); });
  value("--rate", "R", kRun, "open loop: messages per second, all sessions together (default 10000)",
        [&](const std::string& v) { return parse_num(v.c_str(), load.rate) && load.rate > 0; });
  app.add_flag("--max-throughput", load.max_throughput, "instead of a rate: each session keeps --window messages unanswered")->group(kRun);
  value("--window", "W", kRun, "max throughput: unanswered messages per session (default 64)",
        [&](const std::string& v) { return parse_num(v.c_str(), load.window) && load.window > 0; });
  value("--duration", "S", kRun, "measured seconds (default 5)",
        [&](const std::string& v) { return parse_num(v.c_str(), load.duration_s) && load.duration_s > 0; });
  value("--mix", "P,C,R,A", kRun,
        "weights of passive new orders, cancels, replaces, aggressive IOC\norders (default 60,25,10,5)",
        [&](const std::string& v) { return parse_mix(v.c_str(), load.mix); });
  value("--zipf", "S", kRun, "skew of the instruments' popularity, weight 1/rank^S (default 1)",
        [&](const std::string& v) { return parse_num(v.c_str(), load.zipf); });
  value("--reject-ratio", "F", kRun,
        "fraction of new orders sent invalid (price off tick; must be\nRejected) (default 0: every order is valid)",
        [&](const std::string& v) { return parse_num(v.c_str(), load.reject_ratio) && load.reject_ratio <= 1; });
  value("--max-live", "N", kRun,
        "resting orders per session above which a new order is sent as a\ncancel (default 1000; keeps the book and the order pool bounded)",
        [&](const std::string& v) { return parse_num(v.c_str(), load.max_live) && load.max_live > 0; });
  value("--seed", "N", kRun, "traffic seed (default 1)", [&](const std::string& v) { return parse_num(v.c_str(), load.seed); });
  value("--drain-timeout", "S", kRun, "how long to wait for the last answers (default 10)",
        [&](const std::string& v) { return parse_num(v.c_str(), load.drain_timeout_s); });

  value("--count", "N", kPing, "round trips measured (default 200000)",
        [&](const std::string& v) { return parse_num(v.c_str(), ping.count) && ping.count > 0; });
  value("--echo-cpus", "LIST", kPing, "CPUs of the echoing thread",
        [&](const std::string& v) { return parse_cpu_list(v.c_str(), ping.echo_cpus); });

  value("--listen", "HOST:PORT", kEcho, "the OUCH listener (default 127.0.0.1:0: an ephemeral port)",
        [&](const std::string& v) { return echo.listen = v, true; });

  value("--runs", "N", kStart, "execs of the server (default 20)",
        [&](const std::string& v) { return parse_num(v.c_str(), start.runs) && start.runs > 0; });
  value("--recovery", "N,...", kStart,
        "also, for each N: load a journaled server until its journal holds\nN commands, kill -9 it, and time its restarts "
        "(exec -> ready)",
        [&](const std::string& v) {
          for (std::size_t at = 0; at <= v.size();) {
            const std::size_t comma = std::min(v.find(',', at), v.size());
            std::uint64_t n = 0;
            if (!parse_num(v.substr(at, comma - at).c_str(), n) || n == 0) return false;
            start.recovery.push_back(n);
            at = comma + 1;
          }
          return true;
        });
  value("--recovery-runs", "N", kStart, "restarts per --recovery row, each on a copy of the journal\n(default 5)",
        [&](const std::string& v) { return parse_num(v.c_str(), start.recovery_runs) && start.recovery_runs > 0; });
  value("--recovery-keep", "DIR", kStart,
        "keep each --recovery row's journal as it was at the kill in\nDIR/journal-N (to profile a restart on it)",
        [&](const std::string& v) { return start.recovery_keep = v, true; });
  value("--recovery-config", "FILE", kStart, "the --recovery rows' server and load configuration (default\nconfig/bench.yaml)",
        [&](const std::string& v) { return start.recovery_config = v, true; });

  if (const int status = peregrine::cli::parse(app, argc, argv, {}, false); status >= 0) return status;

  const std::string mode = pingpong_mode->parsed() ? "pingpong" : startup_mode->parsed() ? "startup" : echo_mode->parsed() ? "echo" : "run";
  load.spin = ping.spin = echo.spin = spin;
  if (mode == "echo") return run_echo(echo);
  load.server_args = start.server_args = server_args;
  if (config) load.config_path = start.config_path = *config;
  if (warmup) {
    const bool ok = mode == "pingpong" ? parse_num(warmup->c_str(), ping.warmup) : parse_num(warmup->c_str(), load.warmup_s);
    if (!ok) return usage_error("--warmup: bad value: " + *warmup);
  }
  if (mode == "pingpong") return run_pingpong(ping);
  if (mode == "startup") {
    if (!config) start.config_path = "config/demo.yaml";
    return run_startup(start);
  }
  return run_load(load);
}
