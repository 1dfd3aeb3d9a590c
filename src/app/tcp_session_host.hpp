#pragma once
// The Asio shell around a sans-I/O SoupBinTCP session: one TCP connection, its reads, its
// bounded write queue, and the session object that turns bytes into commands and replies.
// Everything here runs on the gateway's io thread. App-internal.

#include <boost/asio.hpp>

#include <sys/socket.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "peregrine/egress/feed_session.hpp"
#include "peregrine/sessions/soup_session.hpp"

namespace peregrine::app {

/// Settings shared by every connection of a listener.
struct ConnectionSettings {
  std::size_t max_outbound_bytes = 8u << 20;  ///< queued beyond this: slow consumer, cut off
  bool tcp_nodelay = true;
  int send_buffer = 0;  ///< SO_SNDBUF, 0 = OS default
  int recv_buffer = 0;  ///< SO_RCVBUF, 0 = OS default
  int busy_poll_us = 0;  ///< SO_BUSY_POLL in µs, 0 = not set (needs CAP_NET_ADMIN)
};

/// Set when SO_BUSY_POLL was refused on some connection, so the server warns once.
inline std::atomic<bool> g_busy_poll_refused{false};

/// What a connection needs from the server: the core's command ring and where to report.
class ConnectionOwner {
 public:
  virtual ~ConnectionOwner() = default;
  /// Client command into the core's ring; false when full.
  virtual bool submit(const Command& cmd) = 0;
  /// A command that must reach the core (cancel-on-disconnect): queued and retried if full.
  virtual void submit_control(const Command& cmd) = 0;
  /// The connection ended (for counters and the one log line).
  virtual void on_closed(const std::string& peer, sessions::CloseReason why) = 0;
  /// The monotonic clock, in ns.
  [[nodiscard]] virtual std::uint64_t now_ns() const = 0;
};

/// A TCP connection carrying a session of type `Session` (SoupServerSession for OUCH,
/// egress::FeedSession for ITCH); it is the host interface of either. `make_session(host)`
/// builds the session for this connection.
template <typename Session>
class TcpSessionHost final : public sessions::SessionHost,
                             public egress::FeedHost,
                             public std::enable_shared_from_this<TcpSessionHost<Session>> {
 public:
  using SessionFactory = std::function<std::unique_ptr<Session>(TcpSessionHost&)>;

  TcpSessionHost(boost::asio::ip::tcp::socket socket, ConnectionOwner& owner, const ConnectionSettings& settings)
      : socket_(std::move(socket)), owner_(owner), settings_(settings) {
    boost::system::error_code ec;
    const auto ep = socket_.remote_endpoint(ec);
    peer_ = ec ? std::string("unknown") : ep.address().to_string() + ":" + std::to_string(ep.port());
    if (settings_.tcp_nodelay) socket_.set_option(boost::asio::ip::tcp::no_delay(true), ec);
    if (settings_.send_buffer > 0) socket_.set_option(boost::asio::socket_base::send_buffer_size(settings_.send_buffer), ec);
    if (settings_.recv_buffer > 0)
      socket_.set_option(boost::asio::socket_base::receive_buffer_size(settings_.recv_buffer), ec);
    if (settings_.busy_poll_us > 0) {
      const int us = settings_.busy_poll_us;
      if (::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_BUSY_POLL, &us, sizeof us) != 0)
        g_busy_poll_refused.store(true, std::memory_order_relaxed);
    }
  }

  /// Builds the session and starts reading.
  void start(const SessionFactory& make_session) {
    session_ = make_session(*this);
    read();
  }

  [[nodiscard]] Session* session() noexcept { return session_.get(); }
  [[nodiscard]] bool closed() const noexcept { return closing_; }
  [[nodiscard]] const std::string& peer() const noexcept { return peer_; }

  // sessions::SessionHost and egress::FeedHost
  void send(std::span<const std::uint8_t> bytes) override {
    if (closing_ && !flush_then_close_) return;
    if (pending_.size() + writing_.size() + bytes.size() > settings_.max_outbound_bytes) {
      // A client that does not read is cut off, never waited for.
      return abort(sessions::CloseReason::SlowConsumer);
    }
    pending_.insert(pending_.end(), bytes.begin(), bytes.end());
    schedule_write();
  }
  bool submit(const Command& cmd) override { return owner_.submit(cmd); }
  std::size_t queued_bytes() const noexcept override { return pending_.size() + writing_.size(); }
  void submit_control(const Command& cmd) override { owner_.submit_control(cmd); }
  void close(sessions::CloseReason why) override {
    if (why == sessions::CloseReason::SlowConsumer) return abort(why);  // its queue will never drain
    if (closing_) return;
    closing_ = true;
    flush_then_close_ = true;
    reason_ = why;
    if (!write_in_flight_ && pending_.empty()) shutdown();
  }

  /// Ends the connection now, dropping what is queued (slow consumer, server stop).
  void abort(sessions::CloseReason why) {
    if (session_ && session_->state() != Session::State::Closed) session_->on_disconnect();
    if (!closing_) reason_ = why;
    closing_ = true;
    flush_then_close_ = false;
    pending_.clear();
    shutdown();
  }

 private:
  void read() {
    auto self = this->shared_from_this();
    socket_.async_read_some(boost::asio::buffer(rbuf_), [self](const boost::system::error_code& ec, std::size_t n) {
      if (self->closing_) return;
      if (ec) {
        self->session_->on_disconnect();
        self->closing_ = true;
        self->reason_ = sessions::CloseReason::PeerClosed;
        self->shutdown();
        return;
      }
      self->session_->on_bytes({self->rbuf_.data(), n}, self->owner_.now_ns());
      if (!self->closing_) self->read();
    });
  }

  // Batching (issue #13): the messages a pass hands to send() (a session's deliver() sends one
  // per message) gather in pending_, whose capacity is kept; the write starts from a handler
  // posted once, which the io thread runs as soon as the current handler or pump returns, so
  // one pass's replies to a session leave in one send.
  void schedule_write() {
    if (write_in_flight_ || write_posted_) return;
    write_posted_ = true;
    boost::asio::post(socket_.get_executor(), [self = this->shared_from_this()] {
      self->write_posted_ = false;
      if (!self->shut_ && !self->write_in_flight_) self->write();
    });
  }

  void write() {
    if (pending_.empty()) return;
    writing_.swap(pending_);
    pending_.clear();
    write_in_flight_ = true;
    auto self = this->shared_from_this();
    boost::asio::async_write(socket_, boost::asio::buffer(writing_), [self](const boost::system::error_code& ec, std::size_t) {
      self->write_in_flight_ = false;
      self->writing_.clear();
      if (ec) {
        if (!self->closing_) {
          self->session_->on_disconnect();
          self->closing_ = true;
          self->reason_ = sessions::CloseReason::PeerClosed;
        }
        self->pending_.clear();
        self->shutdown();
        return;
      }
      if (!self->pending_.empty() && (!self->closing_ || self->flush_then_close_)) return self->write();
      if (self->closing_) self->shutdown();
    });
  }

  void shutdown() {
    if (shut_) return;
    if (write_in_flight_ && flush_then_close_) return;  // the write completion calls us again
    shut_ = true;
    boost::system::error_code ec;
    socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    owner_.on_closed(peer_, reason_);
  }

  boost::asio::ip::tcp::socket socket_;
  ConnectionOwner& owner_;
  ConnectionSettings settings_;
  std::string peer_;
  std::unique_ptr<Session> session_;
  std::array<std::uint8_t, 16384> rbuf_{};
  std::vector<std::uint8_t> pending_;
  std::vector<std::uint8_t> writing_;
  bool write_in_flight_ = false;
  bool write_posted_ = false;
  bool closing_ = false;
  bool flush_then_close_ = false;
  bool shut_ = false;
  sessions::CloseReason reason_ = sessions::CloseReason::PeerClosed;
};

}  // namespace peregrine::app
