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

/// What a feed session needs from the connection that carries it: SoupHost's bytes and close
/// (sessions::SessionHost without the order paths).
class FeedHost : public sessions::SoupHost {};

/// SoupServerLimits plus the feed's burst bound.
struct FeedLimits : sessions::SoupServerLimits {
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

/// One TCP connection of the ITCH feed: the sessions::SoupServerCore, with the ItchBuffer as its
/// stream; Unsequenced Data is a protocol error. on_bytes, on_tick (heartbeats, the client
/// timeout, a replay spread over ticks), on_disconnect, state() and next_to_send() are the
/// core's. io thread only.
class FeedSession final : public sessions::SoupServerCore {
 public:
  FeedSession(FeedRegistry& registry, sessions::UserDirectory& users, FeedHost& host, const FeedLimits& limits,
              FeedCounters& counters, std::uint64_t now_ns);
  ~FeedSession();

  /// Sends buffered messages not sent yet (at most max_messages_per_deliver).
  void deliver(std::uint64_t now_ns);
  /// The server ends the day: what is left of the stream, End of Session, then close.
  void end_session(std::uint64_t now_ns);

 private:
  [[nodiscard]] StreamWindow stream_window(const sessions::UserState& user) const noexcept override;
  void on_login(sessions::UserState& user, std::uint64_t start, std::uint64_t now_ns) override;
  void on_unsequenced(const proto::soup::Packet& p, std::uint64_t now_ns) override;
  void tick_logged_in(std::uint64_t now_ns) override { deliver(now_ns); }

  FeedRegistry& registry_;
  FeedLimits limits_;
  FeedCounters& counters_;
  std::uint64_t live_from_ = 1;  // the buffer's next_seq at login: earlier messages count as replay
};

}  // namespace peregrine::egress
