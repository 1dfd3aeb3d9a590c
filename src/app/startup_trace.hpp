#pragma once
// The start-up trace (issue 14): when each start-up phase of the process ended, and how many page
// faults it took, for `peregrine --startup-trace`, the log and `peregrine-bench startup`.
// App-internal. Main thread only: main() and the server mark the phases in order, before any
// other thread reads the trace (the marks are plain stores; nothing else writes them).

#include <cstdint>
#include <string>

namespace peregrine::app {

/// The phases, in the order they run. Each mark ends its phase.
enum class StartupPhase : std::uint8_t {
  Main,       ///< fork -> main(): exec, the dynamic loader, static constructors
  Config,     ///< the command line, the YAML, the environment, the effective settings
  Engine,     ///< the recovery plan (reading a snapshot), the service's state: engine, rings, egress
  Journal,    ///< with --ingress=dpdk the DPDK module, EAL and port first; recovery (snapshot +
              ///< journal) or a new day's journal; its writer started
  Core,       ///< the matching thread (and with --ingress=dpdk, the DPDK lcore)
  Listeners,  ///< the OUCH and ITCH listeners and the MoldUDP64 socket
  Ops,        ///< the HTTP server and the metrics registry
  Ready,      ///< disk check, the log flushed, /readyz 200
  kCount
};

/// The phases' names as the trace prints them ("main", "config", ...).
[[nodiscard]] const char* to_string(StartupPhase phase) noexcept;

/// Ends `phase` now: the monotonic time and the process's page faults so far (getrusage). The
/// first mark (Main) also reads the main thread's time from fork to main() from
/// /proc/self/schedstat: its run time plus its run-queue wait, in nanoseconds. Before main()
/// the thread never sleeps (unless a page of the binary must be read from disk), so that sum is
/// its wall time since fork. /proc/self/stat's starttime would do too, but counts in 10 ms ticks.
/// A phase marked twice keeps its first mark. Main thread only.
void mark_startup(StartupPhase phase) noexcept;

/// One line, every phase that was marked: its duration and page faults, then the totals, e.g.
/// "main 1.912 ms 380 faults, config 0.412 ms 41 faults, ..., total 9.310 ms 702 faults".
/// Phases not marked (a journal-less start has no recovery to time, but still a mark) are left
/// out. Main thread, after the marks.
[[nodiscard]] std::string startup_trace_line();

/// The time from fork to the last mark, in nanoseconds (0 before Main is marked).
[[nodiscard]] std::uint64_t startup_total_ns() noexcept;

}  // namespace peregrine::app
