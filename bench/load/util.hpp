#pragma once
// Small pieces every peregrine-bench mode shares: the clock, CPU lists and pinning, the
// histogram summary as text. The JSON results are peregrine/bench/report_json.hpp's (Boost.JSON).
// Single-threaded use.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "peregrine/bench/histogram.hpp"
#include "peregrine/bench/report_json.hpp"

namespace peregrine::bench {

/// CLOCK_MONOTONIC in ns (vDSO, ~10 ns here; the TSC is the clocksource).
[[nodiscard]] inline std::uint64_t now_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

/// A steady_clock time point in now_ns()'s terms (libstdc++'s steady_clock is CLOCK_MONOTONIC).
[[nodiscard]] inline std::uint64_t ns_of(std::chrono::steady_clock::time_point t) noexcept {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

/// Parses "0", "1,3", "0-2,5" into CPU numbers; false on a malformed list.
[[nodiscard]] bool parse_cpu_list(std::string_view text, std::vector<int>& out);

/// Pins the calling thread (0) or process `pid` to `cpus`; empty: no change. Returns an error
/// text, empty on success.
[[nodiscard]] std::string pin_to(const std::vector<int>& cpus, int pid = 0);

/// Lowers the calling thread's timer slack to 1 ns so that short waits are not stretched by the
/// default 50 us slack.
void tighten_timer_slack() noexcept;

/// One line: name, count, p50 ... p99.99, max, mean, in microseconds with 2 decimals.
void print_histogram_row(std::FILE* f, const char* name, const LatencyHistogram& h);
/// The header line that goes with print_histogram_row.
void print_histogram_header(std::FILE* f);

/// The command line as one shell-quoted string (for reports).
[[nodiscard]] std::string join_argv(int argc, char** argv);

}  // namespace peregrine::bench
