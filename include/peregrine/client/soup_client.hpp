#pragma once
/// A blocking SoupBinTCP 3.00 client connection: the transport under OuchClient and
/// ItchFeedClient (and the bench harness). Boost.Asio synchronous style with timeouts: every
/// call that waits takes a timeout and returns when it elapses.
///
/// Threads: one object belongs to one thread at a time; nothing here is shared, so run one client
/// object per thread (or several on one thread) and never call one object from two threads.
/// Errors the peer causes (EOF, garbage) are values (SoupEvent::Kind); misuse and local socket
/// failures (connect refused, write error) throw ClientError.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "peregrine/proto/soupbintcp.hpp"

namespace peregrine::client {

/// A local failure: connect refused or timed out, write failed, call out of order.
class ClientError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Result of login(): Login Accepted (session, next sequence number) or Login Rejected (reason).
struct LoginResult {
  bool accepted = false;
  std::string session;         ///< Login Accepted: session, left-justified, padding dropped
  std::uint64_t next_seq = 0;  ///< Login Accepted: sequence number of the next Sequenced Data
  char reject_reason = 0;      ///< Login Rejected: 'A' not authorized, 'S' session not available
  /// Neither arrived: the server closed the connection (true) or the timeout elapsed (false).
  bool closed = false;
};

/// One thing the server sent, after heartbeats have been handled.
struct SoupEvent {
  enum class Kind : std::uint8_t {
    Data,           ///< a Sequenced Data packet: `seq` and `payload` are set
    EndOfSession,   ///< End of Session 'Z'
    Closed,         ///< the server closed the connection (EOF or reset)
    Timeout,        ///< nothing within the timeout
    ProtocolError,  ///< the server sent something this client cannot frame or does not expect
  };
  Kind kind = Kind::Timeout;
  std::uint64_t seq = 0;              ///< Data: its SoupBinTCP sequence number
  std::vector<std::uint8_t> payload;  ///< Data: the message (OUCH outbound or ITCH)
};

/// A SoupBinTCP client session over one TCP connection.
class SoupClient {
 public:
  using Duration = std::chrono::milliseconds;

  SoupClient();
  ~SoupClient();
  SoupClient(const SoupClient&) = delete;
  SoupClient& operator=(const SoupClient&) = delete;

  /// Connects to host:port (numeric or resolvable host). Throws ClientError on failure.
  void connect(std::string_view host, std::uint16_t port, Duration timeout = Duration{2000});

  /// Sends Login Request and waits for Login Accepted / Rejected. `session` empty: the current
  /// session; `seq` 0: from the most recent message on, n: replay from sequence number n.
  LoginResult login(std::string_view user, std::string_view password, std::string_view session = "",
                    std::uint64_t seq = 0, Duration timeout = Duration{2000});

  /// The next Sequenced Data packet or session event. Server heartbeats are answered with a
  /// Client Heartbeat and skipped, and a Client Heartbeat is sent whenever this client has sent
  /// nothing for heartbeat_interval(), so a caller that keeps calling next() stays logged in.
  SoupEvent next(Duration timeout);

  /// Sends one Unsequenced Data packet carrying `message`.
  void send_unsequenced(std::span<const std::uint8_t> message);
  /// Sends raw bytes as they are (tests of hostile input).
  void send_raw(std::span<const std::uint8_t> bytes);
  /// Sends a Client Heartbeat.
  void send_heartbeat();
  /// Sends Logout Request (the server then closes the connection).
  void logout();
  /// Closes the socket at once (no Logout Request).
  void close() noexcept;

  /// True while the socket is open and no EOF has been seen.
  [[nodiscard]] bool is_open() const noexcept;
  /// Sequence number the next Sequenced Data packet will carry.
  [[nodiscard]] std::uint64_t next_seq() const noexcept { return next_seq_; }
  /// Server heartbeats seen since connect().
  [[nodiscard]] std::uint64_t heartbeats_received() const noexcept { return heartbeats_; }
  /// Idle time after which next() sends a Client Heartbeat (default 1 s, as SoupBinTCP says).
  void set_heartbeat_interval(Duration d) noexcept { heartbeat_interval_ = d; }
  [[nodiscard]] Duration heartbeat_interval() const noexcept { return heartbeat_interval_; }

 private:
  struct Impl;
  enum class ReadResult : std::uint8_t { Ok, Eof, Timeout };
  ReadResult read_some(Duration timeout);
  void write_all(std::span<const std::uint8_t> bytes);

  std::unique_ptr<Impl> impl_;
  proto::soup::StreamDecoder decoder_{proto::soup::Role::Client};
  std::vector<std::uint8_t> rx_;
  bool pending_ = false;  ///< rx_ is fed to the decoder and not drained yet
  bool eof_ = false;
  std::uint64_t next_seq_ = 1;
  std::uint64_t heartbeats_ = 0;
  Duration heartbeat_interval_{1000};
  std::chrono::steady_clock::time_point last_tx_{};
};

}  // namespace peregrine::client
