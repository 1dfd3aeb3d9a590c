#pragma once
/// The collectors that export metrics to Prometheus.
///
/// The core thread counts in a metrics::CoreCounters (peregrine/metrics/counters.hpp: relaxed
/// single-writer cells, no prometheus-cpp); the metrics thread (OpsServer's) calls
/// CoreCountersCollector::Collect() at scrape time, which only loads the cells and builds
/// prometheus::MetricFamily values.
/// CallbackMetrics adds values that are read by a function at scrape time (ready state, ring
/// occupancy): those functions run on the metrics thread and must be safe to call from it.

#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "peregrine/core/command.hpp"
#include "peregrine/metrics/counters.hpp"

namespace peregrine::ops {

/// Stable metric label value of a command type ("new_order", "cancel", ...). Any thread.
[[nodiscard]] std::string_view to_label(CommandType t) noexcept;

/// Exports a CoreCounters as Prometheus metric families (see docs/operations-http.md for the
/// names). Collect() only loads cells, so it may run on any thread, concurrently with the core
/// thread's writes. `counters` must outlive the collector.
class CoreCountersCollector final : public prometheus::Collectable {
 public:
  explicit CoreCountersCollector(const metrics::CoreCounters& counters) noexcept : counters_(counters) {}

  /// Any thread. One family per metric, every known label value present (zeros included).
  [[nodiscard]] std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const metrics::CoreCounters& counters_;
};

/// Metrics whose values are read by a callback at scrape time: ready state, ring occupancy,
/// anything owned elsewhere that can be read safely from the metrics thread.
/// Thread-safe: add_* and Collect() may be called from any thread; callbacks run on the thread
/// that calls Collect() (the metrics thread), with an internal lock held, so they must not call
/// back into this object.
class CallbackMetrics final : public prometheus::Collectable {
 public:
  /// A label name and value.
  using Labels = std::vector<std::pair<std::string, std::string>>;
  /// Returns the current value; called on the metrics thread.
  using ValueFn = std::function<double()>;

  /// Adds one gauge series. Series with the same name share one family (same help required).
  /// Throws std::invalid_argument on an invalid metric or label name, a help text that differs
  /// from the family's, or a name already used as a counter.
  void add_gauge(const std::string& name, const std::string& help, Labels labels, ValueFn fn);
  /// Adds one counter series; `name` must end in "_total" and `fn` must never decrease.
  /// Throws as add_gauge does, and when `name` lacks the "_total" suffix.
  void add_counter(const std::string& name, const std::string& help, Labels labels, ValueFn fn);

  /// Any thread. Calls every callback once.
  [[nodiscard]] std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  struct Series {
    Labels labels;
    ValueFn fn;
  };
  struct Family {
    std::string name;
    std::string help;
    bool counter;
    std::vector<Series> series;
  };
  void add(const std::string& name, const std::string& help, bool counter, Labels labels, ValueFn fn);

  mutable std::mutex mutex_;
  std::vector<Family> families_;
};

}  // namespace peregrine::ops
