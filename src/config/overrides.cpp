// The environment and command-line overrides of a loaded configuration (apply_overrides), applied
// after the file and checked again. See docs/configuration.md.

#include <cstdlib>
#include <string>

#include "peregrine/config/service.hpp"

namespace peregrine::config {

// --- overrides -----------------------------------------------------------------------------------

Environment read_environment() {
  Environment env;
  for (const std::string_view name : kEnvironmentVariables) {
    // Startup, before any thread: getenv is safe here.
    if (const char* value = std::getenv(std::string(name).c_str())) env.emplace(std::string(name), value);
  }
  return env;
}

namespace {

template <typename T, typename Parse>
void from_env(const Environment& env, std::string_view name, Parse parse, T& target) {
  const auto it = env.find(name);
  if (it == env.end()) return;
  const auto result = parse(it->second);
  if (!result) throw ConfigError("environment", 0, std::string(name), result.error);
  target = *result.value;
}

template <typename T, typename U>
void from_flag(const std::optional<T>& flag, U& target) {
  if (flag) target = *flag;
}

}  // namespace

void apply_overrides(ServiceConfig& cfg, const Environment& env, const FlagOverrides& flags) {
  const auto listen = [](std::string_view t) { return parse_listen(t, true); };
  from_env(env, "PEREGRINE_OUCH_LISTEN", listen, cfg.gateway.ouch_listen);
  from_env(env, "PEREGRINE_ITCH_LISTEN", listen, cfg.gateway.itch_listen);
  from_env(env, "PEREGRINE_HTTP_LISTEN", listen, cfg.gateway.http_listen);
  from_env(env, "PEREGRINE_CORE_CPU", parse_cpu, cfg.core.cpu);
  from_env(env, "PEREGRINE_IDLE_STRATEGY", parse_idle, cfg.core.idle_strategy);
  from_env(env, "LOW_LATENCY_MODE", parse_bool, cfg.tuning.low_latency_mode);
  from_env(env, "CPU_AFFINITY", parse_bool, cfg.tuning.cpu_affinity);
  from_env(env, "NETWORK_OPTIMIZATION", parse_bool, cfg.tuning.network_optimization);
  from_env(env, "CACHE_ENABLED", parse_bool, cfg.tuning.cache_enabled);

  from_flag(flags.ouch_listen, cfg.gateway.ouch_listen);
  from_flag(flags.itch_listen, cfg.gateway.itch_listen);
  from_flag(flags.http_listen, cfg.gateway.http_listen);
  from_flag(flags.core_cpu, cfg.core.cpu);
  from_flag(flags.idle_strategy, cfg.core.idle_strategy);
  from_flag(flags.low_latency_mode, cfg.tuning.low_latency_mode);
  from_flag(flags.cpu_affinity, cfg.tuning.cpu_affinity);
  from_flag(flags.network_optimization, cfg.tuning.network_optimization);
  from_flag(flags.cache_enabled, cfg.tuning.cache_enabled);
  from_flag(flags.ingress, cfg.ingress.kind);
  from_flag(flags.journal_dir, cfg.journal.dir);
  from_flag(flags.journal_durability, cfg.journal.durability);
  from_flag(flags.eal_args, cfg.ingress.eal_args);

  if (const std::optional<GatewayConflict> clash = gateway_conflict(cfg.gateway)) {
    throw ConfigError(cfg.source, 0, clash->field, clash->reason + " (after environment and flag overrides)");
  }
}

}  // namespace peregrine::config
