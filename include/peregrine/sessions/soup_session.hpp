#pragma once
/// SoupBinTCP 3.00 server sessions carrying OUCH 4.2, without I/O: bytes in, bytes and core
/// commands out. The Asio gateway owns the sockets and timers and calls these classes from its
/// io_context thread; tests drive them directly. All classes here belong to that one thread.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "peregrine/core/command.hpp"
#include "peregrine/core/types.hpp"
#include "peregrine/proto/ouch42.hpp"
#include "peregrine/proto/ouch_translate.hpp"
#include "peregrine/proto/soupbintcp.hpp"
#include "peregrine/sessions/inbound_gate.hpp"
#include "peregrine/sessions/retransmit_buffer.hpp"
#include "peregrine/sessions/soup_server_core.hpp"

namespace peregrine::sessions {

/// A user who may log in, bound to one firm.
struct UserAccount {
  proto::soup::Username username;
  proto::soup::Password password;
  OwnerId owner;  ///< the core's owner id for this user's orders (unique, not 0)
  FirmId firm;
  FirmName firm_name;
  bool cancel_on_disconnect = true;
  std::uint32_t throttle_per_second = 0;  ///< inbound messages per second; 0 = unlimited
};

/// One user's outbound OUCH messages for the day, numbered from 1 and kept for replay (the most
/// recent `retention`). Survives the user's connections: a re-login replays from here.
using OutboundBuffer = RetransmitBuffer<proto::ouch::kMaxMessageSize>;

class SoupServerSession;

/// Per-user state shared by that user's successive connections.
struct UserState {
  UserAccount account;
  OutboundBuffer outbound;
  SoupServerSession* active = nullptr;  ///< the logged-in session, if any (one at a time)
};

/// The users who may log in, by username and by owner id. Built at start-up.
class UserDirectory {
 public:
  explicit UserDirectory(std::size_t retention) : retention_(retention) {}
  /// Start-up only. Throws std::invalid_argument on a duplicate username or owner.
  void add(const UserAccount& account);
  [[nodiscard]] UserState* find(const proto::soup::Username& username) noexcept;
  [[nodiscard]] UserState* find(OwnerId owner) noexcept;
  [[nodiscard]] std::size_t size() const noexcept { return users_.size(); }
  /// The i-th user added (0 <= i < size()).
  [[nodiscard]] UserState& at(std::size_t i) noexcept { return *users_[i]; }

 private:
  std::size_t retention_;
  std::vector<std::unique_ptr<UserState>> users_;
  std::unordered_map<std::string, UserState*> by_name_;
  std::unordered_map<std::uint32_t, UserState*> by_owner_;
};

/// What an order-entry session needs from the connection that carries it: SoupHost's bytes and
/// close, and the way to the core.
class SessionHost : public SoupHost {
 public:
  /// Hands a client's command to the core; false when the ring is full (the session then
  /// refuses the message).
  virtual bool submit(const Command& cmd) = 0;
  /// Hands a command the session itself generates (cancel-on-disconnect, the EdgeReject of a
  /// message refused at the edge) to the core. It must not be lost: when the ring is full the
  /// host keeps it and retries, in order, before anything else (and submit() returns false
  /// while it holds any, so nothing overtakes them).
  virtual void submit_control(const Command& cmd) = 0;
  /// Bytes handed to send() that the socket has not taken yet.
  [[nodiscard]] virtual std::size_t queued_bytes() const noexcept { return 0; }
};

/// SoupServerLimits plus the order-entry session's pacing and throttle bounds.
struct SessionLimits : SoupServerLimits {
  /// deliver() stops handing sequenced messages to the host while it holds this many unsent
  /// bytes (0 = never stops), and goes on at the next deliver() or tick: a replay larger than
  /// the connection's queue is paced by the client's reading instead of overflowing it.
  std::size_t deliver_high_water = 0;
  /// A session that stays behind (messages waiting, host over the high water) without the
  /// socket taking a byte for this long is cut off as a slow consumer; so is one whose next
  /// message has left the outbound buffer's retention.
  std::uint64_t stall_timeout_ns = 1'000'000'000;
  /// A throttled session stops reading and logs out once the core's Rejected of the throttled
  /// message has been sent; if that takes longer than this, it logs out without it.
  std::uint64_t throttle_close_wait_ns = 1'000'000'000;
};

/// Counts kept by the gateway thread for metrics.
struct SessionCounters {
  std::uint64_t logins = 0;
  std::uint64_t login_rejects = 0;
  std::uint64_t messages_in = 0;
  std::uint64_t edge_rejects = 0;      ///< OUCH messages refused at the edge (sent as EdgeReject)
  std::uint64_t ring_full_rejects = 0; ///< refused because the core's ring was full (EdgeReject)
  std::uint64_t throttled = 0;
  std::uint64_t protocol_errors = 0;
  std::uint64_t replayed = 0;          ///< sequenced messages re-sent on login
  std::uint64_t cancel_on_disconnect = 0;
  std::uint64_t slow_consumers = 0;    ///< sessions cut off for not reading
};

/// One TCP connection's SoupBinTCP order-entry session: the SoupServerCore, with the user's
/// OUCH replies as its stream and OUCH orders as its Unsequenced Data.
class SoupServerSession final : public SoupServerCore {
 public:
  SoupServerSession(UserDirectory& users, SessionHost& host, const SessionLimits& limits,
                    SessionCounters& counters, std::uint64_t now_ns);
  ~SoupServerSession();

  // on_bytes (bytes read at `now_ns`, a monotonic clock, also used for the timestamps of
  // commands: the core reads no clock), on_tick, on_disconnect, state() and next_to_send() are
  // SoupServerCore's. A tick goes on with a paced delivery, sends heartbeats, and ends a silent
  // session or one stalled behind a client that does not read.

  /// Egress appended messages to this session's user's outbound buffer: send what is not sent yet.
  void deliver(std::uint64_t now_ns);
  /// The server ends the day: End of Session, then close.
  void end_session() { send_end_of_session(); }

  [[nodiscard]] const UserState* user() const noexcept { return user_; }

  /// Timestamps for commands: nanoseconds since the session's clock origin, which the host
  /// sets to the exchange's midnight (market.utc_offset) so that OUCH/ITCH timestamps read as
  /// the exchange's time of day.
  void set_clock_origin(std::uint64_t midnight_ns) noexcept { origin_ns_ = midnight_ns; }

 private:
  [[nodiscard]] bool reading() const noexcept override { return !throttle_closing_; }
  [[nodiscard]] bool may_log_in(const UserState& user) const noexcept override { return user.active == nullptr; }
  [[nodiscard]] StreamWindow stream_window(const UserState& user) const noexcept override;
  void on_login(UserState& user, std::uint64_t start, std::uint64_t now_ns) override;
  void on_unsequenced(const proto::soup::Packet& p, std::uint64_t now_ns) override;
  void tick_logged_in(std::uint64_t now_ns) override;
  void on_closed(bool was_logged_in) override;
  void cancel_on_disconnect();
  [[nodiscard]] bool is_throttle_reject(std::span<const std::uint8_t> msg) const noexcept;

  SessionHost& host_;
  SessionLimits limits_;
  SessionCounters& counters_;
  UserState* user_ = nullptr;
  proto::OuchSession ouch_{};
  std::uint64_t origin_ns_ = 0;
  std::uint64_t stalled_since_ns_ = 0;  ///< 0 = not stalled
  InboundGate gate_;
  bool cancel_submitted_ = false;  ///< cancel-on-disconnect already sent to the core
  // Throttled: waiting for the core's answer to the throttled message (this OUCH Rejected: same
  // timestamp, token and reason) before logging out.
  bool throttle_closing_ = false;
  proto::ouch::Rejected throttle_reject_{};
  std::uint64_t throttle_since_ns_ = 0;
};

}  // namespace peregrine::sessions
