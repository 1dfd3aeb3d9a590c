#pragma once
/// Reading a running server's /metrics from a test: one series' value, and a bounded wait for it.

#include <chrono>
#include <cstdint>
#include <regex>
#include <string>
#include <thread>

#include "support/http_client.hpp"

namespace peregrine::testing {

/// The value of the series `name` (a metric without labels, or one with its labels written out)
/// on the /metrics of the server whose HTTP port is `port`; -1 when it cannot be read or is
/// absent.
inline double metric(std::uint16_t port, const std::string& name) {
  const auto r = fetch(port, http::verb::get, "/metrics");
  if (!r) return -1;
  std::smatch m;
  if (!std::regex_search(r->body, m, std::regex("\n" + name + " ([0-9.e+-]+)"))) return -1;
  return std::stod(m[1].str());
}

/// Waits (polling every 20 ms, up to `limit`) until the series satisfies `pred`.
template <class Pred>
bool wait_metric_until(std::uint16_t port, const std::string& name, Pred pred,
                       std::chrono::milliseconds limit = std::chrono::seconds{30}) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (pred(metric(port, name))) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  return false;
}

/// Waits (up to `limit`) until the series equals `value`.
inline bool wait_metric(std::uint16_t port, const std::string& name, double value,
                        std::chrono::milliseconds limit = std::chrono::seconds{30}) {
  return wait_metric_until(port, name, [value](double v) { return v == value; }, limit);
}

}  // namespace peregrine::testing
