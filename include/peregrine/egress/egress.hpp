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
/// - book events -> a DepthBook per instrument, for the admin API (depth(), ops thread).
///
/// Typical io-thread loop: for each event drained: on_event(ev); then flush(now). A timer calls
/// on_tick(now) (every 100 ms or so). At the open: start_of_day(ts) before the first command;
/// at the close: end_of_day(ts, now).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "peregrine/core/config.hpp"
#include "peregrine/core/engine.hpp"
#include "peregrine/core/event.hpp"
#include "peregrine/core/types.hpp"
#include "peregrine/egress/depth_book.hpp"
#include "peregrine/egress/feed_session.hpp"
#include "peregrine/egress/itch_buffer.hpp"
#include "peregrine/egress/mold_packetizer.hpp"
#include "peregrine/proto/itch50.hpp"
#include "peregrine/proto/ouch_translate.hpp"
#include "peregrine/sessions/soup_session.hpp"

namespace peregrine::egress {

struct EgressConfig {
  std::size_t itch_retention = std::size_t{1} << 20;  ///< ITCH messages kept for replay/retransmission
  MoldConfig mold;
};

/// Counts for metrics; written by the io thread only (read them there, or copy them out).
struct EgressCounters {
  std::uint64_t events = 0;
  std::uint64_t ouch_messages = 0;          ///< appended to owners' buffers
  std::uint64_t unknown_owner_dropped = 0;  ///< order events for an owner not in the directory (admin refusals: owner 0)
  std::uint64_t untranslated = 0;           ///< order events to_ouch() refused for a known owner (a bug)
  std::uint64_t itch_messages = 0;
  std::uint64_t depth_inconsistencies = 0;  ///< book events the DepthBook could not apply (a bug)
  std::uint64_t session_deliveries = 0;     ///< SoupServerSession::deliver() calls made by flush()
};

/// io thread, except depth() (any thread).
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
  /// book; empty for an unknown instrument. Any thread (the ops thread): copies under a mutex
  /// that the io thread holds only while applying one book event.
  [[nodiscard]] std::vector<DepthLevel> depth(InstrumentId id, Side side, std::size_t max_levels) const;
  /// The indicative auction last published for an instrument in its current call phase (from
  /// the Indicative events, as the NOII feed shows it); nothing outside call phases. Any thread.
  [[nodiscard]] std::optional<AuctionInfo> indicative(InstrumentId id) const;

  [[nodiscard]] const ItchBuffer& itch_buffer() const noexcept { return itch_; }
  [[nodiscard]] MoldUdpPacketizer& mold() noexcept { return mold_; }
  [[nodiscard]] const MoldUdpPacketizer& mold() const noexcept { return mold_; }
  /// Where FeedSessions register (pass it to their constructor).
  [[nodiscard]] FeedRegistry& feeds() noexcept { return feeds_; }
  [[nodiscard]] const EgressCounters& counters() const noexcept { return counters_; }

  /// Snapshot format version written by save() and the only one load() accepts.
  static constexpr std::uint32_t kSnapshotVersion = 1;

  /// Everything that shapes future output, as bytes: every user's OUCH buffer (first retained
  /// sequence number and records), the ITCH buffer, the MoldUDP64 packetizer's sequencing and
  /// the datagram it is building, the depth books, the published indicatives, each instrument's
  /// last status (OUCH start/end of day) and the counters. Not sessions (connections end with
  /// the process) nor the batch of users waiting for flush(): take it after a flush(). The
  /// thread that owns this Egress (the snapshot thread's replica).
  [[nodiscard]] std::vector<std::uint8_t> save() const;
  /// Restores a save() into a freshly constructed Egress with the same configuration and user
  /// directory (same users, same order, same retention), before any event. Afterwards the same
  /// events give the same outbound and ITCH buffers and the same MoldUDP64 datagrams as the saved Egress. False,
  /// with the reason in `error`, on any malformed input (never reads out of bounds); the Egress
  /// and the users' buffers are then unusable. The owning thread, at start-up.
  [[nodiscard]] bool load(std::span<const std::uint8_t> in, std::string& error);

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
  mutable std::mutex depth_mutex_;
  std::vector<DepthBook> books_;  // index = InstrumentId - 1; guarded by depth_mutex_
  std::vector<std::optional<AuctionInfo>> indicative_;  // index = InstrumentId - 1; guarded by depth_mutex_
  // OUCH System Event: start of day when the first instrument leaves Closed, end of day when
  // the last one enters it (io thread).
  std::vector<TradingStatus> status_;  // index = InstrumentId - 1
  std::size_t open_instruments_ = 0;
  void on_status(const Event& ev);
  void ouch_system_event(Timestamp ts, char code);
  EgressCounters counters_;
};

}  // namespace peregrine::egress
