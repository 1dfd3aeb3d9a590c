#include "peregrine/ops/metrics.hpp"

#include <stdexcept>
#include <string_view>

#include <prometheus/check_names.h>
#include <prometheus/client_metric.h>
#include <prometheus/metric_type.h>

namespace peregrine::ops {

std::string_view to_label(CommandType t) noexcept {
  switch (t) {
    case CommandType::NewOrder: return "new_order";
    case CommandType::Cancel: return "cancel";
    case CommandType::Replace: return "replace";
    case CommandType::MassCancel: return "mass_cancel";
    case CommandType::SetKillSwitch: return "set_kill_switch";
    case CommandType::SetTradingStatus: return "set_trading_status";
    case CommandType::EdgeReject: return "edge_reject";
  }
  return "unknown";
}

namespace {

using metrics::CounterCell;
using metrics::kCancelReasons;
using metrics::kCommandTypes;
using metrics::kRejectCodes;
using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

double as_double(std::uint64_t v) noexcept { return static_cast<double>(v); }

MetricFamily family(std::string name, std::string help, MetricType type) {
  MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

void add_value(MetricFamily& f, std::uint64_t value, std::vector<ClientMetric::Label> labels = {}) {
  ClientMetric m;
  m.label = std::move(labels);
  if (f.type == MetricType::Counter) {
    m.counter.value = as_double(value);
  } else {
    m.gauge.value = as_double(value);
  }
  f.metric.push_back(std::move(m));
}

MetricFamily counter(std::string name, std::string help, const CounterCell& cell) {
  MetricFamily f = family(std::move(name), std::move(help), MetricType::Counter);
  add_value(f, cell.load());
  return f;
}

/// One series per listed code plus "unknown" (the overflow slot), labelled `label`.
template <typename Code, std::size_t N, std::size_t M>
MetricFamily by_code(std::string name, std::string help, const char* label, const std::array<Code, N>& codes,
                     const std::array<CounterCell, M>& cells, std::string_view (*name_of)(Code) noexcept) {
  static_assert(M == N + 1, "one cell per code plus the overflow cell");
  MetricFamily f = family(std::move(name), std::move(help), MetricType::Counter);
  for (std::size_t i = 0; i < N; ++i) {
    add_value(f, cells[i].load(), {{label, std::string(name_of(codes[i]))}});
  }
  add_value(f, cells[N].load(), {{label, "unknown"}});
  return f;
}

std::string_view reject_name(RejectCode c) noexcept { return to_string(c); }
std::string_view cancel_name(CancelReason r) noexcept { return to_string(r); }
std::string_view command_name(CommandType t) noexcept { return to_label(t); }

}  // namespace

std::vector<prometheus::MetricFamily> CoreCountersCollector::Collect() const {
  const metrics::CoreCounters& c = counters_;
  std::vector<MetricFamily> out;
  out.reserve(16);
  out.push_back(by_code("peregrine_core_commands_total", "Commands processed by the matching core, by type.",
                        "type", kCommandTypes, c.commands, &command_name));
  out.push_back(counter("peregrine_core_accepted_total", "Orders accepted.", c.accepted));
  out.push_back(by_code("peregrine_core_rejected_total", "Orders and replaces refused, by reject reason.", "reason",
                        kRejectCodes, c.rejected, &reject_name));
  out.push_back(by_code("peregrine_core_cancel_rejected_total", "Cancels refused, by reject reason.", "reason",
                        kRejectCodes, c.cancel_rejected, &reject_name));
  out.push_back(by_code("peregrine_core_canceled_total",
                        "Orders cancelled in whole or in part, by cancel reason.", "reason", kCancelReasons,
                        c.canceled, &cancel_name));
  out.push_back(counter("peregrine_core_replaced_total", "Orders replaced.", c.replaced));
  out.push_back(counter("peregrine_core_executions_total",
                        "Order executions (one per order per fill, so two per trade).", c.executions));
  out.push_back(counter("peregrine_core_trades_total", "Trades (matches).", c.trades));
  out.push_back(counter("peregrine_core_traded_shares_total", "Shares traded.", c.traded_shares));
  out.push_back(counter("peregrine_core_trading_status_changes_total", "Instrument halts and resumes applied.",
                        c.trading_status_changes));
  out.push_back(counter("peregrine_core_kill_switch_changes_total", "Firm kill switch engagements and releases applied.",
                        c.kill_switch_changes));
  out.push_back(counter("peregrine_core_journal_ring_full_total",
                        "Times the matching core waited for room in the journal's ring.", c.journal_ring_full));
  out.push_back(counter("peregrine_core_event_ring_full_total",
                        "Times the matching core found its outbound event ring full.", c.event_ring_full));
  out.push_back(counter("peregrine_core_polls_total", "Iterations of the matching core's loop.", c.polls));
  MetricFamily live = family("peregrine_core_live_orders", "Live (resting) orders in all books.", MetricType::Gauge);
  add_value(live, c.live_orders.load());
  out.push_back(std::move(live));
  return out;
}

void CallbackMetrics::add_gauge(const std::string& name, const std::string& help, Labels labels, ValueFn fn) {
  add(name, help, false, std::move(labels), std::move(fn));
}

void CallbackMetrics::add_counter(const std::string& name, const std::string& help, Labels labels, ValueFn fn) {
  if (name.size() < 6 || name.compare(name.size() - 6, 6, "_total") != 0) {
    throw std::invalid_argument("counter name '" + name + "' must end in _total");
  }
  add(name, help, true, std::move(labels), std::move(fn));
}

void CallbackMetrics::add(const std::string& name, const std::string& help, bool is_counter, Labels labels,
                          ValueFn fn) {
  if (!prometheus::CheckMetricName(name)) {
    throw std::invalid_argument("invalid metric name '" + name + "'");
  }
  for (const auto& [label, value] : labels) {
    if (!prometheus::CheckLabelName(label)) {
      throw std::invalid_argument("metric '" + name + "': invalid label name '" + label + "'");
    }
  }
  if (!fn) {
    throw std::invalid_argument("metric '" + name + "': empty callback");
  }
  std::lock_guard lock(mutex_);
  for (Family& f : families_) {
    if (f.name != name) continue;
    if (f.counter != is_counter || f.help != help) {
      throw std::invalid_argument("metric '" + name + "' already added with another type or help");
    }
    f.series.push_back(Series{std::move(labels), std::move(fn)});
    return;
  }
  families_.push_back(Family{name, help, is_counter, {}});
  families_.back().series.push_back(Series{std::move(labels), std::move(fn)});
}

std::vector<prometheus::MetricFamily> CallbackMetrics::Collect() const {
  std::lock_guard lock(mutex_);
  std::vector<MetricFamily> out;
  out.reserve(families_.size());
  for (const Family& f : families_) {
    MetricFamily mf = family(f.name, f.help, f.counter ? MetricType::Counter : MetricType::Gauge);
    for (const Series& s : f.series) {
      ClientMetric m;
      for (const auto& [label, value] : s.labels) m.label.push_back({label, value});
      const double v = s.fn();
      if (f.counter) {
        m.counter.value = v;
      } else {
        m.gauge.value = v;
      }
      mf.metric.push_back(std::move(m));
    }
    out.push_back(std::move(mf));
  }
  return out;
}

}  // namespace peregrine::ops
