// peregrine: the matching engine service. `peregrine --help` says how to run it.

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>

#include "peregrine/config/service.hpp"
#include "peregrine/journal/journal.hpp"
#include "peregrine/ops/logging.hpp"
#include "server.hpp"

namespace {

constexpr const char* kUsage = R"(usage: peregrine [--config FILE] [options]

Runs the Peregrine matching engine: OUCH 4.2 over SoupBinTCP for order entry, ITCH 5.0 over
SoupBinTCP and MoldUDP64 for market data, HTTP for /metrics, /healthz, /readyz and the admin API.

  --config FILE              service configuration (default: config/demo.yaml); see
                             docs/configuration.md
  --ouch-listen HOST:PORT    OUCH/SoupBinTCP listener (file: gateway.ouch_listen)
  --itch-listen HOST:PORT    ITCH/SoupBinTCP listener (file: gateway.itch_listen)
  --http-listen HOST:PORT    HTTP listener (file: gateway.http_listen)
  --core-cpu N               pin the matching thread to CPU N; -1: do not pin (file: core.cpu)
  --idle-strategy NAME       busy-spin, yield or backoff (file: core.idle_strategy)
  --low-latency-mode BOOL    the customer's tuning switches (true/false/1/0); see the
  --cpu-affinity BOOL          table in docs/configuration.md
  --network-optimization BOOL
  --cache-enabled BOOL
  --ingress asio|dpdk        order entry over SoupBinTCP only (asio, the default), or also
                             MoldUDP64/OUCH over UDP from a DPDK port (file: ingress.kind;
                             docs/dpdk.md). --ingress=dpdk works too
  --eal-args "ARGS"          DPDK EAL arguments, split on spaces (file: ingress.eal_args),
                             e.g. "--no-huge --no-pci -m 256 -l 0 --no-shconf --vdev net_af_packet0,iface=eth1"
  --journal-dir DIR          the journal's directory, "" for none (file: journal.dir)
  --journal-durability P     fsync, fdatasync or none (file: journal.durability)
  --recover-truncate-at-corruption
                             at start-up, when the journal is corrupt (a CRC mismatch that is
                             not a torn last record), keep what comes before the damage and
                             drop the rest instead of refusing to start; the dropped segments
                             are kept as *.corrupt (docs/operations.md, "Start-up errors")
  --check                    load and check the configuration, print the effective settings,
                             and exit (0 when it is good)
  --help                     this text

Precedence: flag > environment (PEREGRINE_OUCH_LISTEN, PEREGRINE_ITCH_LISTEN,
PEREGRINE_HTTP_LISTEN, PEREGRINE_CORE_CPU, PEREGRINE_IDLE_STRATEGY, LOW_LATENCY_MODE,
CPU_AFFINITY, NETWORK_OPTIMIZATION, CACHE_ENABLED) > file > default.
Port 0 in a listen address picks a free port; the chosen ports are printed at start.
With journal.dir set, start-up first recovers the day's state from the newest snapshot and
the journal after it; /readyz answers 200 only once that is done.
SIGTERM or SIGINT: stop taking orders, drain, send End of Session, exit 0.
Exit status: 0 after a clean stop, 1 on a configuration or start-up error, 2 on a usage
error, 3 when the journal cannot be recovered (the message names the file and offset).
)";

int usage_error(const std::string& what) {
  std::fprintf(stderr, "peregrine: %s\n(see peregrine --help)\n", what.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace peregrine;
  std::string config_path = "config/demo.yaml";
  config::FlagOverrides flags;
  bool check_only = false;
  app::ServerOptions server_options;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::string_view inline_value;  // --name=value
    bool has_inline = false;
    if (arg.starts_with("--") && arg.find('=') != std::string_view::npos) {
      inline_value = arg.substr(arg.find('=') + 1);
      arg = arg.substr(0, arg.find('='));
      has_inline = true;
    }
    auto value = [&](std::string_view name) -> const char* {
      if (!inline_value.empty()) return inline_value.data();  // argv strings are NUL-terminated
      if (i + 1 >= argc) return nullptr;
      (void)name;
      return argv[++i];
    };
    auto need = [&](std::string_view name, const char*& out) {
      out = value(name);
      return out != nullptr;
    };
    const char* v = nullptr;
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (arg == "--journal-dir") {
      if (!has_inline && i + 1 >= argc) return usage_error("--journal-dir needs a directory (\"\" for none)");
      flags.journal_dir = has_inline ? std::string(inline_value) : std::string(argv[++i]);
    } else if (arg == "--journal-durability") {
      if (!need(arg, v)) return usage_error("--journal-durability needs fsync, fdatasync or none");
      const auto p = config::parse_durability(v);
      if (!p) return usage_error(std::string(arg) + ": " + p.error);
      flags.journal_durability = *p.value;
    } else if (arg == "--recover-truncate-at-corruption") {
      server_options.truncate_at_corruption = true;
    } else if (arg == "--check") {
      check_only = true;
    } else if (arg == "--config") {
      if (!need(arg, v)) return usage_error("--config needs a file");
      config_path = v;
    } else if (arg == "--ouch-listen" || arg == "--itch-listen" || arg == "--http-listen") {
      if (!need(arg, v)) return usage_error(std::string(arg) + " needs HOST:PORT");
      const auto p = config::parse_listen(v);
      if (!p) return usage_error(std::string(arg) + ": " + p.error);
      (arg == "--ouch-listen" ? flags.ouch_listen : arg == "--itch-listen" ? flags.itch_listen : flags.http_listen) = *p.value;
    } else if (arg == "--core-cpu") {
      if (!need(arg, v)) return usage_error("--core-cpu needs a CPU number");
      const auto p = config::parse_cpu(v);
      if (!p) return usage_error(std::string(arg) + ": " + p.error);
      flags.core_cpu = *p.value;
    } else if (arg == "--idle-strategy") {
      if (!need(arg, v)) return usage_error("--idle-strategy needs busy-spin, yield or backoff");
      const auto p = config::parse_idle(v);
      if (!p) return usage_error(std::string(arg) + ": " + p.error);
      flags.idle_strategy = *p.value;
    } else if (arg == "--low-latency-mode" || arg == "--cpu-affinity" || arg == "--network-optimization" ||
               arg == "--cache-enabled") {
      if (!need(arg, v)) return usage_error(std::string(arg) + " needs true or false");
      const auto p = config::parse_bool(v);
      if (!p) return usage_error(std::string(arg) + ": " + p.error);
      (arg == "--low-latency-mode"   ? flags.low_latency_mode
       : arg == "--cpu-affinity"     ? flags.cpu_affinity
       : arg == "--network-optimization" ? flags.network_optimization
                                         : flags.cache_enabled) = *p.value;
    } else if (arg == "--ingress") {
      if (!need(arg, v)) return usage_error("--ingress needs asio or dpdk");
      const auto p = config::parse_ingress(v);
      if (!p) return usage_error(std::string(arg) + ": " + p.error);
      flags.ingress = *p.value;
    } else if (arg == "--eal-args") {
      if (!need(arg, v)) return usage_error("--eal-args needs the EAL arguments in one string");
      flags.eal_args = config::split_words(v);
    } else {
      return usage_error("unknown option " + std::string(arg));
    }
  }

  // On every way out of main, after the server and all its threads are gone: the last lines are
  // written and spdlog's worker is joined before static destruction begins.
  struct StopLogging {
    ~StopLogging() { ops::stop_logging(std::chrono::seconds{2}); }
  } stop_logging;
  try {
    config::ServiceConfig cfg = config::load_service_config(config_path);
    config::apply_overrides(cfg, config::read_environment(), flags);
    const config::EffectiveSettings eff = config::resolve(cfg, config::allowed_cpus());
    if (check_only) {
      std::printf("%s: ok (%zu instruments, %zu firms, %zu users)\n", config_path.c_str(), cfg.engine.instruments.size(),
                  cfg.engine.firms.size(), cfg.users.size());
      for (const std::string& note : eff.notes) std::printf("  %s\n", note.c_str());
      return 0;
    }
    return app::run_server(cfg, eff, server_options);
  } catch (const journal::JournalError& e) {
    std::fprintf(stderr, "peregrine: journal: %s\n", e.what());
    return 3;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "peregrine: %s\n", e.what());
    return 1;
  }
}
