#pragma once
// Small pieces every peregrine-bench mode shares: the clock, CPU lists and pinning, the
// histogram summary as text and JSON, and a minimal JSON writer. Single-threaded use.

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "peregrine/bench/histogram.hpp"

namespace peregrine::bench {

/// CLOCK_MONOTONIC in ns (vDSO, ~10 ns here; the TSC is the clocksource).
[[nodiscard]] inline std::uint64_t now_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

/// Parses "0", "1,3", "0-2,5" into CPU numbers; false on a malformed list.
[[nodiscard]] bool parse_cpu_list(std::string_view text, std::vector<int>& out);

/// Pins the calling thread (0) or process `pid` to `cpus`; empty: no change. Returns an error
/// text, empty on success.
[[nodiscard]] std::string pin_to(const std::vector<int>& cpus, int pid = 0);

/// Lowers the calling thread's timer slack to 1 ns so that short waits are not stretched by the
/// default 50 us slack.
void tighten_timer_slack() noexcept;

/// The percentiles every report prints.
inline constexpr double kReportPercentiles[] = {50, 90, 99, 99.9, 99.99};
inline constexpr const char* kReportPercentileNames[] = {"p50", "p90", "p99", "p99.9", "p99.99"};

/// One line: name, count, p50 ... p99.99, max, mean, in microseconds with 2 decimals.
void print_histogram_row(std::FILE* f, const char* name, const LatencyHistogram& h);
/// The header line that goes with print_histogram_row.
void print_histogram_header(std::FILE* f);

/// A minimal streaming JSON writer: objects, arrays, numbers, strings, booleans. Keys and
/// values are written in call order; commas are placed automatically.
class Json {
 public:
  Json& begin_object(std::string_view key = {});
  Json& end_object();
  Json& begin_array(std::string_view key = {});
  Json& end_array();
  Json& num(std::string_view key, double v);
  Json& num(std::string_view key, std::uint64_t v);
  Json& num(std::string_view key, std::int64_t v);
  Json& num(std::string_view key, int v) { return num(key, static_cast<std::int64_t>(v)); }
  Json& str(std::string_view key, std::string_view v);
  Json& boolean(std::string_view key, bool v);
  /// count, min, p50, p90, p99, p99.9, p99.99, max (ns, integers) and mean.
  Json& histogram(std::string_view key, const LatencyHistogram& h);
  [[nodiscard]] const std::string& text() const noexcept { return out_; }
  /// Writes the text (and a newline) to `path`; false with errno set on failure.
  [[nodiscard]] bool save(const std::string& path) const;

 private:
  void key(std::string_view k);
  void escape(std::string_view s);
  std::string out_;
  std::vector<bool> first_{true};
};

/// The command line as one shell-quoted string (for reports).
[[nodiscard]] std::string join_argv(int argc, char** argv);

}  // namespace peregrine::bench
