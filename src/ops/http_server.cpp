#include "peregrine/ops/http_server.hpp"

#include <algorithm>
#include <atomic>
#include <limits>
#include <exception>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <spdlog/logger.h>

#include "peregrine/ops/auth.hpp"
#include "peregrine/ops/logging.hpp"
#include "routes.hpp"

namespace peregrine::ops {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

class Session;

/// What the acceptor and every session share. Lives in OpsServer::Impl; touched on the server
/// thread only (the prometheus metrics are thread-safe anyway).
struct Shared {
  const OpsServerConfig& config;
  detail::Router& router;
  spdlog::logger& logger;
  prometheus::Gauge& connections_active;
  prometheus::Counter& connections_rejected;
  std::vector<std::weak_ptr<Session>> sessions;
};

std::string endpoint_text(const tcp::endpoint& ep) {
  // Built with append: GCC 12's -Wrestrict misfires on `"[" + std::string&&` at -O3.
  const auto addr = ep.address();
  std::string out;
  if (addr.is_v6()) out.push_back('[');
  out.append(addr.to_string());
  if (addr.is_v6()) out.push_back(']');
  out.push_back(':');
  out.append(std::to_string(ep.port()));
  return out;
}

/// One connection: read a request, answer it, repeat while both sides keep the connection alive.
/// Every failure ends the connection only, never the server.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, Shared& shared)
      : stream_(std::move(socket)),
        shared_(shared),
        // Room for a full request; the parser's own limits trip first.
        buffer_(shared.config.max_header_bytes + shared.config.max_body_bytes + 4096) {
    beast::error_code ec;
    const tcp::endpoint ep = stream_.socket().remote_endpoint(ec);
    peer_ = ec ? std::string("unknown") : endpoint_text(ep);
    shared_.connections_active.Increment();
  }

  ~Session() { shared_.connections_active.Decrement(); }

  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void start() { asio::dispatch(stream_.get_executor(), beast::bind_front_handler(&Session::do_read, shared_from_this())); }

  /// Server thread. Ends the connection now; pending operations complete with an error.
  void close() noexcept {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
  }

 private:
  void do_read() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(shared_.config.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
    parser_->body_limit(shared_.config.max_body_bytes);
    stream_.expires_after(shared_.config.read_timeout);
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t /*bytes*/) {
    if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted) {
      return close();
    }
    if (ec == beast::error::timeout) {
      shared_.logger.debug("connection from {} timed out", peer_);
      return close();  // tcp_stream already closed the socket
    }
    if (ec) {
      std::optional<http::status> status;
      std::string_view message;
      if (ec == http::error::header_limit) {
        status = http::status::request_header_fields_too_large;
        message = "request header too large";
      } else if (ec == http::error::body_limit) {
        status = http::status::payload_too_large;
        message = "request body too large";
      } else if (ec != http::error::partial_message &&
                 ec.category() == http::make_error_code(http::error::header_limit).category()) {
        status = http::status::bad_request;
        message = "malformed HTTP request";
      }
      if (!status) {
        return close();  // reset, closed mid-request, ...: nobody to answer
      }
      shared_.logger.debug("bad request from {}: {}", peer_, ec.message());
      return send(shared_.router.unparsed_error(*status, message));
    }
    send(shared_.router.handle(parser_->get(), peer_));
  }

  void send(detail::Response&& res) {
    response_ = std::move(res);
    stream_.expires_after(shared_.config.write_timeout);
    http::async_write(stream_, response_,
                      beast::bind_front_handler(&Session::on_write, shared_from_this(), !response_.keep_alive()));
  }

  void on_write(bool close_after, beast::error_code ec, std::size_t /*bytes*/) {
    if (ec || close_after) {
      // Half-close first, so the client reads the whole response before the end of stream.
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      return close();
    }
    do_read();
  }

  beast::tcp_stream stream_;
  Shared& shared_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  detail::Response response_;
  std::string peer_;
};

}  // namespace

struct OpsServer::Impl {
  Impl(OpsServerConfig cfg, AdminBackend& backend_ref, std::shared_ptr<spdlog::logger> log)
      : config(std::move(cfg)), backend(backend_ref), logger(log ? std::move(log) : make_logger()) {}

  void do_accept() {
    acceptor.async_accept(ioc, [this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
      if (ec) {
        // Out of descriptors, say: back off rather than spin, then try again.
        logger->error("accept failed: {}", ec.message());
        accept_retry.expires_after(std::chrono::milliseconds(100));
        accept_retry.async_wait([this](beast::error_code wait_ec) {
          if (!wait_ec && acceptor.is_open()) do_accept();
        });
        return;
      }
      std::erase_if(shared->sessions, [](const auto& w) { return w.expired(); });
      if (shared->sessions.size() >= config.max_connections) {
        shared->connections_rejected.Increment();
        logger->warn("connection refused: {} connections open (max_connections)", shared->sessions.size());
        beast::error_code ignored;
        socket.close(ignored);
      } else {
        auto session = std::make_shared<Session>(std::move(socket), *shared);
        shared->sessions.push_back(session);
        session->start();
      }
      do_accept();
    });
  }

  void arm_tick() {
    tick_timer.expires_after(config.tick_interval);
    tick_timer.async_wait([this](const beast::error_code& ec) {
      // Cancelled, or stopping: a wait that had already completed when stop() cancelled the timer
      // still runs with no error, and re-arming then would keep the io_context (and join) busy.
      if (ec || stopping) return;
      config.tick();
      arm_tick();
    });
  }

  void run() noexcept {
    for (;;) {
      try {
        ioc.run();
        return;
      } catch (const std::exception& e) {
        // A handler threw: drop that work and keep serving.
        logger->error("ops server handler failed: {}", e.what());
      } catch (...) {
        logger->error("ops server handler failed");
      }
    }
  }

  OpsServerConfig config;
  AdminBackend& backend;
  std::shared_ptr<spdlog::logger> logger;
  std::atomic<bool> ready{false};
  std::atomic<std::uint16_t> bound_port{0};
  prometheus::Registry registry;
  prometheus::Gauge& ready_gauge = prometheus::BuildGauge()
                                       .Name("peregrine_ready")
                                       .Help("1 when the engine can take orders (what /readyz reports), else 0.")
                                       .Register(registry)
                                       .Add({});
  prometheus::Gauge& connections_active = prometheus::BuildGauge()
                                              .Name("peregrine_http_connections_active")
                                              .Help("Open connections to the ops server.")
                                              .Register(registry)
                                              .Add({});
  prometheus::Counter& connections_rejected = prometheus::BuildCounter()
                                                  .Name("peregrine_http_connections_rejected_total")
                                                  .Help("Connections closed at once because max_connections were open.")
                                                  .Register(registry)
                                                  .Add({});
  detail::CollectableList collectables;
  std::optional<detail::Router> router;
  std::optional<Shared> shared;
  bool started = false;
  bool stopping = false;  // set on the server's thread by stop(); the tick no longer re-arms
  // Declared after everything the sessions use: destroyed before it (with any handler still
  // holding a session), and the acceptor and timer before the io_context.
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  asio::steady_timer accept_retry{ioc};
  asio::steady_timer tick_timer{ioc};
  std::thread thread;
};

OpsServer::OpsServer(OpsServerConfig config, AdminBackend& backend, std::shared_ptr<spdlog::logger> logger)
    : impl_(std::make_unique<Impl>(std::move(config), backend, std::move(logger))) {}

OpsServer::~OpsServer() { stop(); }

void OpsServer::start() {
  Impl& s = *impl_;
  if (s.started) throw std::logic_error("OpsServer::start() called twice");
  s.started = true;
  // No token file configured: every mutating admin call is refused (401); reads still work.
  std::string token = s.config.admin_token_file.empty() ? std::string() : read_token_file(s.config.admin_token_file);

  beast::error_code ec;
  const auto address = asio::ip::make_address(s.config.address, ec);
  if (ec) throw std::runtime_error("ops server: bad listen address '" + s.config.address + "': " + ec.message());
  const tcp::endpoint endpoint{address, s.config.port};
  const std::string where = endpoint_text(endpoint);
  s.acceptor.open(endpoint.protocol(), ec);
  if (!ec) s.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor.bind(endpoint, ec);
  if (!ec) s.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    beast::error_code ignored;
    s.acceptor.close(ignored);
    throw std::runtime_error("ops server: cannot listen on " + where + ": " + ec.message());
  }
  s.bound_port.store(s.acceptor.local_endpoint().port(), std::memory_order_release);

  s.router.emplace(s.backend, std::move(token), s.logger, s.ready, s.registry, s.collectables);
  s.shared.emplace(Shared{s.config, *s.router, *s.logger, s.connections_active, s.connections_rejected, {}});
  s.do_accept();
  if (s.config.tick) s.arm_tick();
  s.thread = s.config.spawn ? s.config.spawn([&s] { s.run(); }) : std::thread([&s] { s.run(); });
  s.logger->info("ops server listening on {}", endpoint_text(s.acceptor.local_endpoint()));
  if (s.config.admin_token_file.empty()) {
    // Said once at start, so that the first 401 is no surprise.
    s.logger->warn("admin API: no token file configured (admin.token_file): every halt, resume, phase, kill, "
                   "release, mass-cancel, snapshot and promote call is refused (401); reads still work");
  }
}

void OpsServer::stop() noexcept {
  Impl& s = *impl_;
  if (!s.thread.joinable()) return;
  asio::post(s.ioc, [&s] {
    s.stopping = true;
    beast::error_code ignored;
    s.acceptor.close(ignored);
    s.accept_retry.cancel();
    s.tick_timer.cancel();
    for (const auto& w : s.shared->sessions) {
      if (auto session = w.lock()) session->close();
    }
    s.shared->sessions.clear();
  });
  s.thread.join();
  s.logger->info("ops server stopped");
}

std::uint16_t OpsServer::port() const noexcept { return impl_->bound_port.load(std::memory_order_acquire); }

void OpsServer::set_ready(bool ready) noexcept {
  impl_->ready.store(ready, std::memory_order_release);
  impl_->ready_gauge.Set(ready ? 1.0 : 0.0);
}

bool OpsServer::ready() const noexcept { return impl_->ready.load(std::memory_order_acquire); }

void OpsServer::add_collectable(const std::weak_ptr<prometheus::Collectable>& collectable) {
  impl_->collectables.add(collectable);
}

prometheus::Registry& OpsServer::registry() noexcept { return impl_->registry; }

}  // namespace peregrine::ops
