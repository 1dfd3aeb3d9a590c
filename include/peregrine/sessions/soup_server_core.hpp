#pragma once
/// The server side of SoupBinTCP 3.00 that both of our TCP services speak, without I/O: framing,
/// the packet types a client may send, login against the UserDirectory, heartbeats both ways,
/// the client timeout and End of Session. Two sessions build on it: order entry
/// (SoupServerSession, OUCH 4.2) and the ITCH feed (egress::FeedSession); each adds what its
/// stream is (the user's OUCH replies or the market's ITCH) and what a client's Unsequenced Data
/// means. Everything here belongs to the io thread that hosts the sessions.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "peregrine/proto/soupbintcp.hpp"

namespace peregrine::sessions {

class UserDirectory;
struct UserState;

/// Why a session ended.
enum class CloseReason : std::uint8_t {
  Logout = 1,          ///< the client sent Logout Request
  BadLogin,            ///< Login Rejected sent
  ProtocolError,       ///< unframeable bytes, unknown or unexpected packet, bad field
  BadMessage,          ///< an OUCH message that does not decode
  NotLoggedIn,         ///< data before a login
  Timeout,             ///< no packet from the client within the timeout
  Throttled,           ///< over the per-second message limit
  SlowConsumer,        ///< outbound queue over its limit (the host decides this)
  EndOfSession,        ///< the server ended the day
  PeerClosed,          ///< the connection closed under us
};

[[nodiscard]] std::string_view to_string(CloseReason r) noexcept;

/// What every SoupBinTCP server session needs from the connection that carries it.
class SoupHost {
 public:
  virtual ~SoupHost() = default;
  /// Queues bytes for the socket. Never blocks. May end the session at once (on_disconnect) when
  /// the connection's queue overflows.
  virtual void send(std::span<const std::uint8_t> bytes) = 0;
  /// Closes the connection after the queued bytes (SlowConsumer: at once, dropping them); the
  /// session has already finished itself. Must not destroy the session synchronously (post the
  /// teardown).
  virtual void close(CloseReason why) = 0;
};

/// The SoupBinTCP settings every server session has.
struct SoupServerLimits {
  proto::soup::SessionId session_name = Alpha<10>::from("PEREGRINE1");
  std::uint64_t heartbeat_interval_ns = 1'000'000'000;  ///< server heartbeat after 1 s quiet
  std::uint64_t timeout_ns = 15'000'000'000;            ///< client silent this long: gone
  std::size_t max_packet_length = 1024;                 ///< inbound SoupBinTCP length bound
  /// A hot standby (docs/ha.md): every login is refused with Login Rejected 'S' (session not
  /// available) until it leads.
  bool refuse_logins = false;
};

/// The counters the shared part increments; they live in each use's own counter struct.
struct SoupServerCounters {
  std::uint64_t& logins;
  std::uint64_t& login_rejects;
  std::uint64_t& protocol_errors;  ///< garbage, unknown or unexpected packets, bad login fields
};

/// One TCP connection's SoupBinTCP server session, less what its stream is. A use derives from
/// it, fills in the hooks below and calls finish() from its own destructor (the hooks cannot run
/// from this one).
class SoupServerCore {
 public:
  enum class State : std::uint8_t { AwaitingLogin, LoggedIn, Closed };

  SoupServerCore(const SoupServerCore&) = delete;
  SoupServerCore& operator=(const SoupServerCore&) = delete;

  /// Bytes read from the socket at `now_ns` (a monotonic clock).
  void on_bytes(std::span<const std::uint8_t> bytes, std::uint64_t now_ns);
  /// Timer tick: ends a silent session; a logged-in one does its own tick work (tick_logged_in),
  /// then sends a heartbeat if it has sent nothing for the heartbeat interval.
  void on_tick(std::uint64_t now_ns);
  /// The connection went away (read error, EOF): finish without sending.
  void on_disconnect();

  [[nodiscard]] State state() const noexcept { return state_; }
  /// Sequence number of the next sequenced message this session will send.
  [[nodiscard]] std::uint64_t next_to_send() const noexcept { return next_to_send_; }

 protected:
  /// The sequence numbers a user's stream still holds: [first_retained, next_seq).
  struct StreamWindow {
    std::uint64_t first_retained;
    std::uint64_t next_seq;
  };

  SoupServerCore(UserDirectory& users, SoupHost& host, const SoupServerLimits& limits, SoupServerCounters counters,
                 std::uint64_t now_ns);
  ~SoupServerCore() = default;

  // ---- what each use decides ----
  /// False while the session is on its way out and reads no more input.
  [[nodiscard]] virtual bool reading() const noexcept { return true; }
  /// Whether `user`, whose password matched, may log in now (else: Session Not Available).
  [[nodiscard]] virtual bool may_log_in(const UserState& /*user*/) const noexcept { return true; }
  /// The stream a login by `user` would be served from.
  [[nodiscard]] virtual StreamWindow stream_window(const UserState& user) const noexcept = 0;
  /// The login is accepted, from sequence number `start` (already next_to_send()): take the user
  /// before any byte leaves (a send may end the session), then send_login_accepted and deliver.
  virtual void on_login(UserState& user, std::uint64_t start, std::uint64_t now_ns) = 0;
  /// Unsequenced Data from a logged-in client.
  virtual void on_unsequenced(const proto::soup::Packet& p, std::uint64_t now_ns) = 0;
  /// A logged-in session's own tick work (delivery, its deadlines), before the heartbeat check.
  virtual void tick_logged_in(std::uint64_t now_ns) = 0;
  /// The session has just become Closed (the host is not told yet).
  virtual void on_closed(bool was_logged_in) { (void)was_logged_in; }

  // ---- what the uses call ----
  void send_login_accepted(std::uint64_t start, std::uint64_t now_ns);
  /// One Sequenced Data packet; `MaxPayload` bounds the stream's messages.
  template <std::size_t MaxPayload>
  void send_sequenced(std::span<const std::uint8_t> message, std::uint64_t now_ns) {
    std::array<std::uint8_t, proto::soup::kHeaderSize + MaxPayload> buf{};
    const std::size_t n = proto::soup::encode_with_payload(proto::soup::PacketType::SequencedData, message, buf);
    host_.send({buf.data(), n});
    last_tx_ns_ = now_ns;
  }
  /// End of Session, then finish (nothing if already Closed).
  void send_end_of_session();
  /// Counts a protocol error and finishes with ProtocolError.
  void protocol_error();
  /// Becomes Closed (once), runs on_closed, and tells the host if `tell_host`.
  void finish(CloseReason why, bool tell_host);

  [[nodiscard]] std::uint64_t last_rx_ns() const noexcept { return last_rx_ns_; }

  std::uint64_t next_to_send_ = 1;

 private:
  void handle(const proto::soup::Packet& p, std::uint64_t now_ns);
  void handle_login(const proto::soup::Packet& p, std::uint64_t now_ns);

  UserDirectory& users_;
  SoupHost& host_;
  SoupServerLimits limits_;
  SoupServerCounters counters_;
  proto::soup::StreamDecoder decoder_;
  State state_ = State::AwaitingLogin;
  std::uint64_t last_rx_ns_;
  std::uint64_t last_tx_ns_;
};

}  // namespace peregrine::sessions
