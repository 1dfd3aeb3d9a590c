#pragma once
/// OpsServer: the service's HTTP/1.1 port for operators and the platform (default 8080).
///   GET  /metrics             Prometheus text format 0.0.4
///   GET  /healthz             200 while the process runs (liveness)
///   GET  /readyz              200 once set_ready(true), else 503 (readiness)
///   GET  /admin/depth         ?symbol=600519&levels=5: book depth as JSON
///   POST /admin/halt          {"symbol": "600519"}                  (bearer token)
///   POST /admin/resume        {"symbol": "600519"}                  (bearer token)
///   POST /admin/phase         {"symbol": "600519", "phase": "opening_call"} (bearer token)
///   POST /admin/kill          {"firm": "FRMA", "cancel_open": true} (bearer token)
///   POST /admin/release       {"firm": "FRMA"}                      (bearer token)
///   POST /admin/mass-cancel   {"firm": "FRMA", "symbol": "600519"}  (bearer token; symbol optional)
/// Details, status codes and metric names: docs/operations-http.md.
///
/// Threads: the server owns one thread, which runs its io_context, serves every connection and
/// calls the AdminBackend and the metric collectables. The core thread never calls OpsServer.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "peregrine/ops/admin.hpp"

namespace prometheus {
class Collectable;
class Registry;
}  // namespace prometheus

namespace spdlog {
class logger;
}  // namespace spdlog

namespace peregrine::ops {

/// Where and how OpsServer listens.
struct OpsServerConfig {
  /// IPv4 or IPv6 address to bind ("0.0.0.0" in a pod, "127.0.0.1" in tests).
  std::string address = "0.0.0.0";
  /// TCP port; 0 picks a free one (see OpsServer::port()).
  std::uint16_t port = 8080;
  /// File holding the bearer token for the mutating admin routes (a mounted Kubernetes Secret).
  /// Read once by start(). Empty: no token, and every mutating admin call is refused (401).
  std::filesystem::path admin_token_file;
  /// Largest request line plus headers; more gets 431 and the connection is closed.
  std::size_t max_header_bytes = 8 * 1024;
  /// Largest request body; more gets 413 and the connection is closed.
  std::size_t max_body_bytes = 4 * 1024;
  /// A connection must deliver a complete request within this time (the wait for the next
  /// request on a kept-alive connection included), or it is closed.
  std::chrono::milliseconds read_timeout{30'000};
  /// A response must be written within this time, or the connection is closed.
  std::chrono::milliseconds write_timeout{10'000};
  /// Connections served at once; beyond it new connections are closed at once (and counted).
  std::size_t max_connections = 64;
  /// Starts the server's thread running `body` (the app's topology names it `pg-http` and
  /// counts its CPU time); empty: a plain std::thread.
  std::function<std::thread(std::function<void()>)> spawn;
  /// Called on the server's thread every `tick_interval` while it runs (nothing when empty):
  /// upkeep that belongs on this thread rather than a hot one (the admin depth books follow the
  /// ITCH stream here).
  std::function<void()> tick;
  std::chrono::milliseconds tick_interval{50};
};

/// See the file comment. Construct, register collectables, start(); stop() (or destruction) ends
/// it. Not restartable: one start() per object.
class OpsServer {
 public:
  /// `backend` must outlive the server. `logger` may be null: make_logger() then builds one.
  OpsServer(OpsServerConfig config, AdminBackend& backend, std::shared_ptr<spdlog::logger> logger = nullptr);
  /// Stops the server (see stop()).
  ~OpsServer();
  OpsServer(const OpsServer&) = delete;
  OpsServer& operator=(const OpsServer&) = delete;

  /// Reads the token file, binds and listens, then starts the server thread; returns once
  /// connections are being accepted. Throws std::runtime_error naming the file when the token
  /// file is missing, unreadable or empty, naming the address when binding fails, and
  /// std::logic_error when called twice. Any thread, not concurrently with stop().
  void start();

  /// Stops accepting, closes every connection, and joins the server thread. Idempotent. Waits for
  /// an AdminBackend call in progress to return. Any thread except the server's own.
  void stop() noexcept;

  /// The bound port (the actual one when the configured port was 0); 0 before start().
  [[nodiscard]] std::uint16_t port() const noexcept;

  /// Sets readiness: /readyz answers 200 while true, 503 while false (the initial state).
  /// Also exported as the gauge peregrine_ready. Any thread.
  void set_ready(bool ready) noexcept;
  /// Any thread.
  [[nodiscard]] bool ready() const noexcept;

  /// Adds metrics to /metrics; kept as a weak reference, dropped once it expires. Every family
  /// name must be unique across the registry and all collectables. Any thread.
  void add_collectable(const std::weak_ptr<prometheus::Collectable>& collectable);

  /// The server's own registry, which /metrics always exports (HTTP and auth counters live here;
  /// the application may add families too). Thread-safe, as prometheus::Registry is.
  [[nodiscard]] prometheus::Registry& registry() noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace peregrine::ops
