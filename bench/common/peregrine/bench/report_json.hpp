#pragma once
/// The benchmarks' JSON results, written with Boost.JSON (scripts/bench-* and
/// scripts/bench_report_doc.py read them). Counts and nanoseconds are integers; rates, means
/// and ratios are doubles, which Boost.JSON writes in shortest round-trip form (5E-1). Not for
/// exact prices: those go through ops::json::Writer. Any thread; no shared state.

#include <boost/json.hpp>

#include <cstdint>
#include <string>

#include "peregrine/bench/histogram.hpp"

namespace peregrine::bench {

/// The percentiles every report prints and writes, and their names.
inline constexpr double kReportPercentiles[] = {50, 90, 99, 99.9, 99.99};
inline constexpr const char* kReportPercentileNames[] = {"p50", "p90", "p99", "p99.9", "p99.99"};

/// A double as a JSON value: finite values as numbers, NaN and the infinities as null (Boost.JSON
/// 1.81 would write NaN and Infinity, which are not JSON).
[[nodiscard]] boost::json::value json_number(double v);

/// A rate or a count computed as a double, written as the nearest integer (null when not finite).
[[nodiscard]] boost::json::value json_rounded(double v);

/// A histogram's summary: count, min, p50, p90, p99, p99.9, p99.99, max (integers) and mean.
[[nodiscard]] boost::json::object histogram_json(const LatencyHistogram& h);

/// Writes `doc` and a newline to `path`; false with errno set on failure.
[[nodiscard]] bool save_json(const std::string& path, const boost::json::value& doc);

}  // namespace peregrine::bench
