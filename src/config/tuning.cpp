// From the customer's tuning switches and the explicit fields to concrete thread, socket and
// memory settings. The rule throughout: a tuning switch chooses a default; an explicit field
// (file, environment or flag) wins over it. docs/configuration.md, "tuning", has the table.

#include <sched.h>

#include <algorithm>
#include <chrono>
#include <string>

#include "peregrine/config/service.hpp"

namespace peregrine::config {

namespace {

std::string cpu_list(const std::vector<int>& cpus) {
  std::string out;
  for (const int c : cpus) {
    if (!out.empty()) out += ",";
    out += std::to_string(c);
  }
  return out.empty() ? "none" : out;
}

std::string on_off(bool b) { return b ? "true" : "false"; }

}  // namespace

Parsed<agent::IdleStrategyKind> parse_wait(std::string_view text) {
  if (text == "spin") return {agent::IdleStrategyKind::BusySpin, {}};
  if (text == "spin-then-park") return {agent::IdleStrategyKind::SpinThenPark, {}};
  if (text == "park") return {agent::IdleStrategyKind::Park, {}};
  return {{}, "must be spin, spin-then-park or park, got \"" + std::string(text) + "\""};
}

EffectiveSettings resolve(const ServiceConfig& cfg, const std::vector<int>& allowed_cpus) {
  EffectiveSettings s;
  const TuningConfig& t = cfg.tuning;
  std::vector<int> allowed = allowed_cpus;
  std::sort(allowed.begin(), allowed.end());
  allowed.erase(std::unique(allowed.begin(), allowed.end()), allowed.end());

  // 0. The default wait of the threads a producer wakes: on fewer than three CPUs a spinning
  // thread takes the CPU from the very thread that would give it work (measured on 2 vCPUs,
  // docs/benchmarks.md), so they park at once; with more, they spin tuning.spin_us first.
  s.default_wait = allowed.size() < 3 ? agent::IdleStrategyKind::Park : agent::IdleStrategyKind::SpinThenPark;
  if (t.spin_us) s.park_after = std::chrono::microseconds{*t.spin_us};
  const std::string default_why = s.default_wait == agent::IdleStrategyKind::Park
                                      ? "default: " + std::to_string(allowed.size()) + " allowed CPUs, fewer than three"
                                      : "default: spin " + std::to_string(s.park_after.count() / 1000) + " us, then park";

  // 1. The core thread's idle strategy: explicit, else busy-spin under low_latency_mode, else
  // the default (woken by its producers: an idle core costs nothing).
  if (cfg.core.idle_strategy) {
    s.core_idle = *cfg.core.idle_strategy;
    std::string note = "core idle strategy " + std::string(agent::to_string(s.core_idle)) + " (core.idle_strategy)";
    if (t.low_latency_mode && s.core_idle != agent::IdleStrategyKind::BusySpin) {
      note += "; tuning.low_latency_mode would have chosen busy-spin, the explicit value wins";
    }
    s.notes.push_back(note);
  } else if (t.low_latency_mode) {
    s.core_idle = agent::IdleStrategyKind::BusySpin;
    s.notes.emplace_back("core idle strategy busy-spin (tuning.low_latency_mode)");
  } else {
    s.core_idle = s.default_wait;
    s.notes.push_back("core idle strategy " + std::string(agent::to_string(s.core_idle)) + " (" + default_why + ")");
  }

  // 2. Pinning: core.cpu when given (-1: never), else the last allowed CPU under cpu_affinity.
  if (cfg.core.cpu && *cfg.core.cpu >= 0) {
    const int cpu = *cfg.core.cpu;
    if (!std::binary_search(allowed.begin(), allowed.end(), cpu)) {
      throw ConfigError(cfg.source, 0, "core.cpu",
                        "CPU " + std::to_string(cpu) + " is not one this process may run on (allowed: " +
                            cpu_list(allowed) + ")");
    }
    s.core_cpu = cpu;
    std::string note = "core thread pinned to CPU " + std::to_string(cpu) + " (core.cpu)";
    if (!t.cpu_affinity) note += "; tuning.cpu_affinity is false, but an explicit core.cpu wins";
    s.notes.push_back(note);
  } else if (cfg.core.cpu) {
    std::string note = "core thread not pinned (core.cpu: -1)";
    if (t.cpu_affinity) note += "; tuning.cpu_affinity is true, but an explicit core.cpu wins";
    s.notes.push_back(note);
  } else if (t.cpu_affinity && !allowed.empty()) {
    s.core_cpu = allowed.back();
    s.notes.push_back("core thread pinned to CPU " + std::to_string(s.core_cpu) +
                      " (tuning.cpu_affinity: the last of the allowed CPUs " + cpu_list(allowed) + ")");
  } else if (t.cpu_affinity) {
    s.notes.emplace_back("core thread not pinned: no allowed CPU is known");
  } else {
    s.notes.emplace_back("core thread not pinned (tuning.cpu_affinity false)");
  }

  if (t.cpu_affinity) {
    // The highest allowed CPU that is not the core's.
    for (auto it = allowed.rbegin(); it != allowed.rend(); ++it) {
      if (*it != s.core_cpu) {
        s.gateway_cpu = *it;
        break;
      }
    }
    if (s.gateway_cpu >= 0) {
      s.notes.push_back("gateway thread pinned to CPU " + std::to_string(s.gateway_cpu) + " (tuning.cpu_affinity)");
    } else {
      s.notes.emplace_back("gateway thread not pinned: no allowed CPU other than the core's");
    }
  }
  // The io thread spins only where it has a CPU of its own; the journal writer never has one.
  if (t.io_wait) {
    s.io_idle = *t.io_wait;
    s.notes.push_back("io thread idle strategy " + std::string(agent::to_string(s.io_idle)) + " (tuning.io_wait)");
  } else if (t.low_latency_mode && s.gateway_cpu >= 0) {
    s.io_idle = agent::IdleStrategyKind::BusySpin;
    s.notes.push_back("io thread idle strategy busy-spin (tuning.low_latency_mode, pinned to CPU " +
                      std::to_string(s.gateway_cpu) + ")");
  } else {
    s.io_idle = s.default_wait;
    s.notes.push_back("io thread idle strategy " + std::string(agent::to_string(s.io_idle)) + " (" + default_why +
                      "; it parks in epoll)");
  }
  if (t.journal_wait) {
    s.journal_idle = *t.journal_wait;
    s.notes.push_back("journal writer idle strategy " + std::string(agent::to_string(s.journal_idle)) +
                      " (tuning.journal_wait)");
  } else {
    s.journal_idle = s.default_wait;
    s.notes.push_back("journal writer idle strategy " + std::string(agent::to_string(s.journal_idle)) + " (" +
                      default_why + ")");
  }
  if (s.core_cpu >= 0 && s.core_idle == agent::IdleStrategyKind::BusySpin && allowed.size() < 2) {
    s.notes.emplace_back(
        "warning: a busy-spinning core thread pinned to the only allowed CPU starves every other thread; "
        "allow the process two CPUs or more, or use idle strategy backoff");
  }

  // 3. Sockets.
  s.tcp_nodelay = t.low_latency_mode || t.network_optimization;
  s.notes.push_back("TCP_NODELAY " + std::string(s.tcp_nodelay ? "on" : "off") + " (tuning.low_latency_mode " +
                    on_off(t.low_latency_mode) + ", tuning.network_optimization " + on_off(t.network_optimization) +
                    ")");
  if (t.network_optimization) {
    s.socket_send_buffer = kOptimizedSocketBuffer;
    s.socket_recv_buffer = kOptimizedSocketBuffer;
    s.busy_poll_us = kBusyPollMicros;
    s.notes.push_back("SO_SNDBUF and SO_RCVBUF " + std::to_string(kOptimizedSocketBuffer) + " bytes, SO_BUSY_POLL " +
                      std::to_string(kBusyPollMicros) + " us (tuning.network_optimization)");
  } else {
    s.notes.emplace_back("socket buffers and busy polling left to the OS (tuning.network_optimization false)");
  }

  // 4. Memory.
  s.mlock_all = t.cache_enabled;
  s.pretouch = t.cache_enabled;
  s.notes.emplace_back(t.cache_enabled
                           ? "mlockall(MCL_CURRENT | MCL_FUTURE) and pre-touched tables (tuning.cache_enabled)"
                           : "memory neither locked nor pre-touched (tuning.cache_enabled false)");
  return s;
}

std::vector<int> allowed_cpus() {
  std::vector<int> out;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return out;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) out.push_back(cpu);
  }
  return out;
}

}  // namespace peregrine::config
