#pragma once
/// Egress: everything the matching core says, turned into wire messages. It runs on the
/// gateway's io thread, which drains the core's event ring and calls on_event() for every event
/// in order:
///
/// - order events (Accepted, Rejected, Executed, Canceled, Replaced, CancelRejected) ->
///   proto::to_ouch -> the owner's sessions::OutboundBuffer; the owner's logged-in session is
///   sent the new messages at the next flush() (one deliver() per session per flush: batching);
/// - book and status events -> proto::to_itch -> the ItchBuffer (sequence from 1) -> the
///   MoldUDP64 packetizer and the SoupBinTCP feed sessions;
/// - nothing else: the admin API's depth books follow the ITCH buffer on the thread that asks for
///   them (depth(), DepthFollower), so the io thread does no depth work and takes no lock.
///
/// Typical io-thread loop: for each event drained: on_event(ev); then flush(now). A timer calls
/// on_tick(now) (every 100 ms or so). At the open: start_of_day(ts) before the first command;
/// at the close: end_of_day(ts, now).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "peregrine/core/config.hpp"
#include "peregrine/core/engine.hpp"
#include "peregrine/core/event.hpp"
#include "peregrine/core/types.hpp"
#include "peregrine/egress/depth_follower.hpp"
#include "peregrine/egress/feed_session.hpp"
#include "peregrine/egress/itch_buffer.hpp"
#include "peregrine/egress/mold_packetizer.hpp"
#include "peregrine/proto/itch50.hpp"
#include "peregrine/proto/ouch_translate.hpp"
#include "peregrine/sessions/soup_session.hpp"

namespace peregrine::egress {

struct EgressConfig {
  std::size_t itch_retention = std::size_t{1} << 20;  ///< ITCH messages kept for replay/retransmission
  /// How far (messages) the depth books may fall behind the oldest retained ITCH message before
  /// they are dropped (depth_available() false) rather than the ITCH buffer growing further; 0:
  /// never (whoever owns the Egress follows the depth itself, as the snapshot replica does).
  std::size_t depth_lag_limit = 0;
  MoldConfig mold;
};

/// Counts for metrics; written by the io thread only (read them there, or copy them out).
struct EgressCounters {
  std::uint64_t events = 0;
  std::uint64_t ouch_messages = 0;          ///< appended to owners' buffers
  std::uint64_t unknown_owner_dropped = 0;  ///< order events for an owner not in the directory (admin refusals: owner 0)
  std::uint64_t untranslated = 0;           ///< order events to_ouch() refused for a known owner (a bug)
  std::uint64_t itch_messages = 0;
  std::uint64_t session_deliveries = 0;     ///< SoupServerSession::deliver() calls made by flush()
};

/// io thread, except the depth reader's calls (depth(), indicative(), follow_depth(),
/// depth_available(), depth_inconsistencies()): one other thread at a time, or the io thread itself.
class Egress {
 public:
  /// `cfg` (instruments, for start of day), `ref`, `users` and the callback's target must
  /// outlive the Egress. `send_datagram` receives every live MoldUDP64 datagram.
  Egress(const EngineConfig& cfg, const proto::ReferenceLookup& ref, sessions::UserDirectory& users,
         const EgressConfig& ecfg, MoldUdpPacketizer::DatagramFn send_datagram);
  Egress(const Egress&) = delete;
  Egress& operator=(const Egress&) = delete;

  /// One core event, in the order the core emitted it.
  void on_event(const Event& ev);
  /// A batch of events (as drained from the ring), in order.
  void on_events(std::span<const Event> events);
  /// Sends what on_event() produced: deliver() once per OUCH session that got messages, the
  /// pending MoldUDP64 datagram, and the feed sessions. Call after each drained batch.
  void flush(std::uint64_t now_ns);
  /// Timer: MoldUDP64 heartbeat when idle, and on_tick() of every feed session (so the shell
  /// need not tick feed sessions itself; OUCH sessions it still ticks).
  void on_tick(std::uint64_t now_ns);

  /// Start of day, before the first command: System Event 'O' (start of messages), 'S' (start
  /// of system hours), one Stock Directory 'R' and one Stock Trading Action 'H' (its configured
  /// initial status) per instrument, then 'Q' (start of market hours). Queued; flush() sends.
  void start_of_day(Timestamp ts);
  /// End of day, after the last event: System Event 'M' (end of market hours), 'E' (end of system
  /// hours), 'C' (end of messages); flushes; MoldUDP64 End of Session; feed sessions get the rest
  /// of the stream and End of Session. OUCH sessions are the gateway's to end.
  void end_of_day(Timestamp ts, std::uint64_t now_ns);
  /// Publishes one System Event (any ITCH 5.0 code, proto::itch::event). Queued; flush() sends.
  void system_event(Timestamp ts, char code);

  /// Up to `max_levels` aggregated levels of one side, best first, as ITCH subscribers see the
  /// book after every message published so far; empty for an unknown instrument, or once the
  /// depth is unavailable. The depth reader (follows the ITCH buffer first).
  [[nodiscard]] std::vector<DepthLevel> depth(InstrumentId id, Side side, std::size_t max_levels);
  /// The indicative auction last published for an instrument in its current call phase (as the
  /// NOII feed shows it); nothing outside call phases. The depth reader (follows first).
  [[nodiscard]] std::optional<AuctionInfo> indicative(InstrumentId id);
  /// Applies the ITCH messages published since the last call to the depth books; false once the
  /// books were dropped for falling more than EgressConfig::depth_lag_limit behind. The depth
  /// reader: the HTTP thread's timer calls it so that the ITCH buffer need not hold messages
  /// for it; an owner that is its own reader calls it now and then (or never, with a limit of 0).
  bool follow_depth() { return depth_.follow(itch_); }
  /// The depth books as last followed (no follow: read several answers at one point of the
  /// stream). The depth reader.
  [[nodiscard]] const DepthFollower& depth_books() const noexcept { return depth_; }
  /// False once the depth books were dropped (they stay stale until the next start). The depth reader.
  [[nodiscard]] bool depth_available() const noexcept { return depth_.available(); }
  /// ITCH messages the depth books could not apply (a bug). The depth reader.
  [[nodiscard]] std::uint64_t depth_inconsistencies() const noexcept { return depth_.inconsistencies(); }

  [[nodiscard]] const ItchBuffer& itch_buffer() const noexcept { return itch_; }
  [[nodiscard]] MoldUdpPacketizer& mold() noexcept { return mold_; }
  [[nodiscard]] const MoldUdpPacketizer& mold() const noexcept { return mold_; }
  /// Where FeedSessions register (pass it to their constructor).
  [[nodiscard]] FeedRegistry& feeds() noexcept { return feeds_; }
  [[nodiscard]] const EgressCounters& counters() const noexcept { return counters_; }

  /// Snapshot format version written by save(); load() also reads version 1 (the depth books
  /// and indicatives interleaved with the statuses, kept by the io thread before issue 13 §4).
  static constexpr std::uint32_t kSnapshotVersion = 2;

  /// Everything that shapes future output, as bytes: every user's OUCH buffer (first retained
  /// sequence number and records), the ITCH buffer, the MoldUDP64 packetizer's sequencing and
  /// the datagram it is building, each instrument's last status (OUCH start/end of day) and the
  /// counters; then the depth books and published indicatives as of the ITCH buffer's end (the
  /// depth follows first: a restart cannot rebuild them from a buffer that retains only the
  /// day's last messages). Not sessions (connections end with the process) nor the batch of
  /// users waiting for flush(): take it after a flush(). The thread that owns this Egress and is
  /// its depth reader (the snapshot thread's replica). Throws std::runtime_error when the depth
  /// books were dropped.
  [[nodiscard]] std::vector<std::uint8_t> save();
  /// As save(), into `out` (cleared first; its capacity is kept, so a caller that saves again
  /// and again, the snapshot thread, does not fault in hundreds of megabytes of fresh memory
  /// each time).
  void save(std::vector<std::uint8_t>& out);
  /// Restores a save() into a freshly constructed Egress with the same configuration and user
  /// directory (same users, same order, same retention), before any event. Afterwards the same
  /// events give the same outbound and ITCH buffers and the same MoldUDP64 datagrams as the saved Egress. False,
  /// with the reason in `error`, on any malformed input (never reads out of bounds); the Egress
  /// and the users' buffers are then unusable. The owning thread, at start-up. With `storage`
  /// (the owner of `in`'s bytes, which it keeps unchanged: journal::Snapshot::storage) the
  /// retained OUCH and ITCH messages are read where they lie rather than copied (most of a
  /// snapshot's bytes; issue 14); the buffers keep `storage` alive.
  [[nodiscard]] bool load(std::span<const std::uint8_t> in, std::string& error, std::shared_ptr<const void> storage = {});

 private:
  void publish(const proto::itch::Message& m);

  const EngineConfig& cfg_;
  const proto::ReferenceLookup& ref_;
  sessions::UserDirectory& users_;
  ItchBuffer itch_;
  MoldUdpPacketizer mold_;
  FeedRegistry feeds_;
  // Users with messages since the last flush(), each once: dirty_ in order, and a preallocated
  // open-addressing set of them (linear probing, at most half full; dirty_slots_ remembers the
  // slots used, so flush() empties it in O(dirty)). No allocation per event.
  void mark_dirty(sessions::UserState* u);
  std::vector<sessions::UserState*> dirty_;
  std::vector<const sessions::UserState*> dirty_set_;
  std::vector<std::size_t> dirty_slots_;
  DepthFollower depth_;  // the depth reader's, not the io thread's
  // OUCH System Event: start of day when the first instrument leaves Closed, end of day when
  // the last one enters it (io thread).
  std::vector<TradingStatus> status_;  // index = InstrumentId - 1
  std::size_t open_instruments_ = 0;
  void on_status(const Event& ev);
  void ouch_system_event(Timestamp ts, char code);
  EgressCounters counters_;
};

}  // namespace peregrine::egress
