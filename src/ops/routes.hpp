#pragma once
/// Internal to peregrine_ops: turns one parsed HTTP request into one response. No sockets here,
/// so every route can be reasoned about (and tested through OpsServer) request by request.
/// Used on the server thread only, except add_collectable() (any thread).

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/http.hpp>
#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>

#include "peregrine/ops/admin.hpp"

namespace spdlog {
class logger;
}  // namespace spdlog

namespace peregrine::ops::detail {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

/// Collectables added through OpsServer::add_collectable(), weakly held. Thread-safe.
class CollectableList {
 public:
  void add(const std::weak_ptr<prometheus::Collectable>& c) {
    std::lock_guard lock(mutex_);
    items_.push_back(c);
  }
  /// The live ones; expired entries are dropped.
  [[nodiscard]] std::vector<std::shared_ptr<prometheus::Collectable>> live() {
    std::vector<std::shared_ptr<prometheus::Collectable>> out;
    std::lock_guard lock(mutex_);
    std::erase_if(items_, [](const auto& w) { return w.expired(); });
    for (const auto& w : items_) {
      if (auto c = w.lock()) out.push_back(std::move(c));
    }
    return out;
  }

 private:
  std::mutex mutex_;
  std::vector<std::weak_ptr<prometheus::Collectable>> items_;
};

/// Routing, authentication, validation and the calls to the backend.
class Router {
 public:
  /// All references must outlive the router.
  Router(AdminBackend& backend, std::string token, std::shared_ptr<spdlog::logger> logger,
         const std::atomic<bool>& ready, prometheus::Registry& registry, CollectableList& collectables);

  /// The response to `req` from `peer` ("address:port", for log lines). Never throws: a failure
  /// inside becomes a 500. Counts the request in peregrine_http_requests_total.
  [[nodiscard]] Response handle(const Request& req, std::string_view peer) noexcept;

  /// A JSON error response to a request that could not be parsed (no route known); counted with
  /// route="none". The connection is to be closed after it.
  [[nodiscard]] Response unparsed_error(http::status status, std::string_view message) noexcept;

 private:
  enum class RouteId : std::uint8_t { Metrics, Healthz, Readyz, Depth, Halt, Resume, Phase, Kill, Release, MassCancel, Snapshot, Promote };
  struct Route {
    std::string_view path;
    http::verb method;
    RouteId id;
    bool mutating;
  };
  static const Route* find_route(std::string_view path) noexcept;

  Response dispatch(const Request& req, std::string_view peer, std::string_view& route_label);
  Response metrics(const Request& req);
  Response depth(const Request& req, std::string_view query);
  Response mutate(const Request& req, const Route& route, std::string_view peer);
  bool authorized(const Request& req, const Route& route, std::string_view peer);

  AdminBackend& backend_;
  const std::string token_;
  std::shared_ptr<spdlog::logger> logger_;
  const std::atomic<bool>& ready_;
  prometheus::Registry& registry_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Counter>& unauthorized_;
  prometheus::Counter& unauthorized_missing_;
  prometheus::Counter& unauthorized_invalid_;
  prometheus::Counter& unauthorized_unconfigured_;
  CollectableList& collectables_;
};

}  // namespace peregrine::ops::detail
