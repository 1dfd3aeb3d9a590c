#pragma once
/// The ITCH 5.0 feed over SoupBinTCP (TCP port 9002), without I/O: bytes in, bytes out, like
/// sessions::SoupServerSession. A client logs in with any configured username and password (the
/// gateway's UserDirectory; a feed login does not take the user's order-entry `active` slot),
/// asks for a sequence number, gets the ItchBuffer replayed from exactly that number, then the
/// live stream as Sequenced Data. The feed takes no orders: Unsequenced Data ends the session.
/// Everything here belongs to the gateway's io thread.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "peregrine/egress/itch_buffer.hpp"
#include "peregrine/proto/soupbintcp.hpp"
#include "peregrine/sessions/soup_session.hpp"

namespace peregrine::egress {

/// What a feed session needs from the connection that carries it (sessions::SessionHost without
/// the order paths).
class FeedHost {
 public:
  virtual ~FeedHost() = default;
  /// Queues bytes for the socket. Never blocks.
  virtual void send(std::span<const std::uint8_t> bytes) = 0;
  /// Closes the connection after the queued bytes; the session has already finished itself.
  /// Must not destroy the session synchronously (post the teardown).
  virtual void close(sessions::CloseReason why) = 0;
};

struct FeedLimits {
  proto::soup::SessionId session_name = Alpha<10>::from("PEREGRINE1");
  std::uint64_t heartbeat_interval_ns = 1'000'000'000;  ///< server heartbeat after 1 s quiet
  std::uint64_t timeout_ns = 15'000'000'000;            ///< client silent this long: gone
  std::size_t max_packet_length = 1024;                 ///< inbound SoupBinTCP length bound
  /// Most messages one deliver() sends (a replay is spread over successive flushes and ticks);
  /// 0 = no limit.
  std::size_t max_messages_per_deliver = 0;
};

/// Counts for metrics; written by the io thread.
struct FeedCounters {
  std::uint64_t logins = 0;
  std::uint64_t login_rejects = 0;
  std::uint64_t protocol_errors = 0;  ///< garbage, unexpected packets, order messages
  std::uint64_t replayed = 0;         ///< messages sent that were older than the login
  std::uint64_t messages_sent = 0;    ///< Sequenced Data packets, replay included
  std::uint64_t fell_behind = 0;      ///< closed because the ITCH buffer no longer held their next message
};

class FeedSession;

/// The live feed sessions, so that Egress can deliver to all of them. A FeedSession registers
/// itself in its constructor and leaves in its destructor. io thread only.
class FeedRegistry {
 public:
  explicit FeedRegistry(const ItchBuffer& buffer) : buffer_(buffer) {}
  FeedRegistry(const FeedRegistry&) = delete;
  FeedRegistry& operator=(const FeedRegistry&) = delete;

  /// deliver(now) on every session.
  void deliver_all(std::uint64_t now_ns);
  /// on_tick(now) on every session.
  void tick_all(std::uint64_t now_ns);
  /// Sends what is left, then End of Session, to every session.
  void end_all(std::uint64_t now_ns);

  [[nodiscard]] const ItchBuffer& buffer() const noexcept { return buffer_; }
  /// Sessions registered (open or finished but not yet destroyed).
  [[nodiscard]] std::size_t size() const noexcept { return sessions_.size(); }

 private:
  friend class FeedSession;
  const ItchBuffer& buffer_;
  std::vector<FeedSession*> sessions_;
};

/// One TCP connection of the ITCH feed. io thread only.
class FeedSession {
 public:
  enum class State : std::uint8_t { AwaitingLogin, LoggedIn, Closed };

  FeedSession(FeedRegistry& registry, sessions::UserDirectory& users, FeedHost& host, const FeedLimits& limits,
              FeedCounters& counters, std::uint64_t now_ns);
  ~FeedSession();
  FeedSession(const FeedSession&) = delete;
  FeedSession& operator=(const FeedSession&) = delete;

  /// Bytes read from the socket at `now_ns` (monotonic clock).
  void on_bytes(std::span<const std::uint8_t> bytes, std::uint64_t now_ns);
  /// Timer tick: heartbeats, ends a silent session, continues a throttled replay.
  void on_tick(std::uint64_t now_ns);
  /// Sends buffered messages not sent yet (at most max_messages_per_deliver).
  void deliver(std::uint64_t now_ns);
  /// The server ends the day: what is left of the stream, End of Session, then close.
  void end_session(std::uint64_t now_ns);
  /// The connection went away: finish without sending.
  void on_disconnect();

  [[nodiscard]] State state() const noexcept { return state_; }
  /// Sequence number of the next message this session will send.
  [[nodiscard]] std::uint64_t next_to_send() const noexcept { return next_to_send_; }

 private:
  void handle(const proto::soup::Packet& p, std::uint64_t now_ns);
  void handle_login(const proto::soup::Packet& p, std::uint64_t now_ns);
  void send_packet(proto::soup::PacketType type, std::span<const std::uint8_t> payload, std::uint64_t now_ns);
  void finish(sessions::CloseReason why, bool tell_host);

  FeedRegistry& registry_;
  sessions::UserDirectory& users_;
  FeedHost& host_;
  FeedLimits limits_;
  FeedCounters& counters_;
  proto::soup::StreamDecoder decoder_;
  State state_ = State::AwaitingLogin;
  std::uint64_t next_to_send_ = 1;
  std::uint64_t live_from_ = 1;  // the buffer's next_seq at login: earlier messages count as replay
  std::uint64_t last_rx_ns_;
  std::uint64_t last_tx_ns_;
};

}  // namespace peregrine::egress
