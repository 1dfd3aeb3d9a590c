// peregrine: the matching engine service. `peregrine --help` says how to run it.

#include <chrono>
#include <csignal>
#include <cstdio>
#include <exception>
#include <string>
#include <optional>
#include <string_view>

#include "peregrine/cli/args.hpp"
#include "peregrine/config/service.hpp"
#include "peregrine/journal/journal.hpp"
#include "peregrine/ops/logging.hpp"
#include "server.hpp"
#include "startup_trace.hpp"

namespace {

constexpr const char* kDescription = R"(Runs the Peregrine matching engine: OUCH 4.2 over SoupBinTCP for order entry, ITCH 5.0 over
SoupBinTCP and MoldUDP64 for market data, HTTP for /metrics, /healthz, /readyz and the admin API.
Each option may also be written --name=value; see docs/configuration.md.)";

constexpr const char* kFooter = R"(Precedence: flag > environment (PEREGRINE_OUCH_LISTEN, PEREGRINE_ITCH_LISTEN,
PEREGRINE_HTTP_LISTEN, PEREGRINE_CORE_CPU, PEREGRINE_IDLE_STRATEGY, LOW_LATENCY_MODE,
CPU_AFFINITY, NETWORK_OPTIMIZATION, CACHE_ENABLED) > file > default.
Port 0 in a listen address picks a free port; the chosen ports are printed at start.
With journal.dir set, start-up first recovers the day's state from the newest snapshot and
the journal after it; /readyz answers 200 only once that is done.
SIGTERM or SIGINT: stop taking orders, drain, send End of Session, exit 0.
Exit status: 0 after a clean stop, 1 on a configuration or start-up error, 2 on a usage
error, 3 when the journal cannot be recovered (the message names the file and offset).)";

/// An option whose value `parse` (a config::parse_* function) checks and converts into `out`.
template <typename T, typename Parse>
CLI::Option* add_parsed(CLI::App& app, const std::string& name, std::optional<T>& out, Parse parse,
                        const std::string& type, const std::string& what) {
  return app
      .add_option_function<std::string>(
          name, [&out, parse](const std::string& v) { out = *parse(v).value; }, what)
      ->type_name(type)
      ->check(peregrine::cli::parsed_by(parse));
}

}  // namespace

int main(int argc, char** argv) {
  using namespace peregrine;
  app::mark_startup(app::StartupPhase::Main);
  std::string config_path = "config/demo.yaml";
  config::FlagOverrides flags;
  bool check_only = false;
  app::ServerOptions server_options;

  CLI::App cli_app{kDescription, "peregrine"};
  cli::apply_house_style(cli_app);
  cli_app.footer(kFooter);
  const auto parse_listen = [](std::string_view v) { return config::parse_listen(v); };
  cli_app.add_option("--config", config_path, "service configuration (default: config/demo.yaml); see\ndocs/configuration.md")
      ->type_name("FILE");
  add_parsed(cli_app, "--ouch-listen", flags.ouch_listen, parse_listen, "HOST:PORT", "OUCH/SoupBinTCP listener (file: gateway.ouch_listen)");
  add_parsed(cli_app, "--itch-listen", flags.itch_listen, parse_listen, "HOST:PORT", "ITCH/SoupBinTCP listener (file: gateway.itch_listen)");
  add_parsed(cli_app, "--http-listen", flags.http_listen, parse_listen, "HOST:PORT", "HTTP listener (file: gateway.http_listen)");
  add_parsed(cli_app, "--core-cpu", flags.core_cpu, config::parse_cpu, "N",
             "pin the matching thread to CPU N; -1: do not pin (file: core.cpu)");
  add_parsed(cli_app, "--idle-strategy", flags.idle_strategy, config::parse_idle, "NAME",
             "the matching thread's wait: busy-spin, yield, backoff,\nspin-then-park or park (file: core.idle_strategy); default:\npark with fewer than 3 CPUs, else spin-then-park (busy-spin\nunder --low-latency-mode); other threads: tuning.io_wait,\ntuning.journal_wait, tuning.spin_us");
  add_parsed(cli_app, "--low-latency-mode", flags.low_latency_mode, config::parse_bool, "BOOL",
             "the customer's tuning switches (true/false/1/0; file:\ntuning.low_latency_mode); see the table in\ndocs/configuration.md");
  add_parsed(cli_app, "--cpu-affinity", flags.cpu_affinity, config::parse_bool, "BOOL", "tuning switch (file: tuning.cpu_affinity)");
  add_parsed(cli_app, "--network-optimization", flags.network_optimization, config::parse_bool, "BOOL",
             "tuning switch (file: tuning.network_optimization)");
  add_parsed(cli_app, "--cache-enabled", flags.cache_enabled, config::parse_bool, "BOOL", "tuning switch (file: tuning.cache_enabled)");
  add_parsed(cli_app, "--ingress", flags.ingress, config::parse_ingress, "asio|dpdk",
             "order entry over SoupBinTCP only (asio, the default), or also\nMoldUDP64/OUCH over UDP from a DPDK port (file: ingress.kind;\ndocs/dpdk.md)");
  cli_app
      .add_option_function<std::string>(
          "--eal-args", [&](const std::string& v) { flags.eal_args = config::split_words(v); },
          "DPDK EAL arguments, split on spaces (file: ingress.eal_args),\ne.g. \"--no-huge --no-pci -m 256 -l 0 --no-shconf --vdev net_af_packet0,iface=eth1\"")
      ->type_name("\"ARGS\"");
  // "" (or --journal-dir=) turns the journal off: the one option whose value may be empty.
  cli_app
      .add_option_function<std::string>(
          "--journal-dir", [&](const std::string& v) { flags.journal_dir = v; },
          "the journal's directory, \"\" for none (file: journal.dir)")
      ->type_name("DIR");
  add_parsed(cli_app, "--journal-durability", flags.journal_durability, config::parse_durability, "P",
             "fsync, fdatasync, none, replicated or replicated+fsync\n(file: journal.durability; docs/ha.md)");
  cli_app.add_flag("--recover-truncate-at-corruption", server_options.truncate_at_corruption,
                   "at start-up, when the journal is corrupt (a CRC mismatch that is\nnot a torn last record), keep what comes before "
                   "the damage and\ndrop the rest instead of refusing to start; the dropped segments\nare kept as *.corrupt "
                   "(docs/operations.md, \"Start-up errors\")");
  cli_app.add_flag("--startup-trace", server_options.startup_trace,
                   "print how long each start-up phase took, and its page faults,\non one line before the ready line "
                   "(docs/operations.md, \"Start-up\")");
  cli_app.add_flag("--check", check_only,
                   "load and check the configuration, print the effective settings,\nand exit (0 when it is good)");
  if (const int status = cli::parse(cli_app, argc, argv, {"--journal-dir"}); status >= 0) return status;

  try {
    // On every way out, after the server and all its threads are gone: the last lines are
    // written and spdlog's worker is joined. Inside the try, so that on an error it happens
    // during unwinding, before the handler below prints the error: the error stays the last line.
    struct StopLogging {
      ~StopLogging() { ops::stop_logging(std::chrono::seconds{2}); }
    } stop_logging;
    config::ServiceConfig cfg = config::load_service_config(config_path);
    config::apply_overrides(cfg, config::read_environment(), flags);
    const config::EffectiveSettings eff = config::resolve(cfg, config::allowed_cpus());
    app::mark_startup(app::StartupPhase::Config);
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
