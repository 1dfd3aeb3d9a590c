#pragma once
/// Replication over TCP between a leader and its standby (issue #15; docs/ha.md, "Replication"),
/// on the wire format and epoch rules of peregrine/ha/replication.hpp.
///
///   leader                                       standby
///   LeaderLink (thread pg-repl)                  StandbyLink (thread pg-repl)
///     listens on ha.listen                         connects to ha.peer, sends Subscribe
///     reads its journal files from the             (epoch, highest seq held, fingerprint)
///     standby's held seq + 1 up to what the        appends each Record to its own journal
///     writer has written (JournalTail): the        (same seq), hands it to the replica,
///     catch-up and the live stream are one path    acknowledges what its journal holds
///     heartbeats when idle                         reconnects after silence or a refusal
///     acks -> JournalWriter::on_replica_ack
///
/// The leader's writer releases replies by its durability policy (journal::Durability::Replicated):
/// a command's events leave once the standby's Ack covers it. Whether the standby is there is the
/// link's `in_sync` state: caught up (its Ack reached what was written) and heard from within
/// standby_timeout; lost on a disconnect, on silence, or when written records wait longer than
/// standby_timeout for an Ack. The owner decides what losing it means (fall back to fsync, or
/// refuse orders: config::StandbyLost) through the callback.
///
/// Neither link is on the matching path: each has its own thread, blocking only in poll(2).

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "peregrine/agent/parker.hpp"
#include "peregrine/journal/journal.hpp"

namespace peregrine::ha {

/// A log line from a link's thread: level "info", "warn" or "error".
using LinkLog = std::function<void(std::string_view level, const std::string& line)>;

/// Counts for metrics; written by the link's thread, read by any.
struct LinkStats {
  std::atomic<bool> connected{false};
  std::atomic<bool> in_sync{false};              ///< leader: the standby holds what was written
  std::atomic<bool> deposed{false};              ///< leader: a newer epoch was seen; it acknowledges nothing more
  std::atomic<std::uint64_t> records{0};         ///< records sent (leader) or appended (standby)
  std::atomic<std::uint64_t> acked_seq{0};       ///< leader: the standby's last Ack; standby: last sent
  std::atomic<std::uint64_t> epoch{0};           ///< standby: the newest epoch accepted
  std::atomic<std::uint64_t> connections{0};     ///< connections made (standby) or accepted (leader)
  std::atomic<std::uint64_t> standby_lost{0};    ///< leader: in_sync turned false
  std::atomic<std::uint64_t> refused{0};         ///< broken frames, refused subscribes, older epochs, gaps
  std::atomic<std::uint64_t> leader_seq{0};      ///< standby: the leader's last written seq (its heartbeats)
  /// standby: steady-clock ns of the last frame from a leader; 0 until one is heard. What the
  /// owner judges a leader's silence by (ha.failover: auto).
  std::atomic<std::uint64_t> last_rx_ns{0};
};

struct LeaderLinkOptions {
  std::string host = "127.0.0.1";  ///< ha.listen
  std::uint16_t port = 0;          ///< 0: an ephemeral port (port() after bind())
  std::uint64_t epoch = 1;         ///< stamped on every Record and Heartbeat
  std::filesystem::path dir;       ///< the leader's journal (the day's directory)
  std::uint64_t fingerprint = 0;   ///< journal::config_fingerprint; a Subscribe must match it
  std::chrono::milliseconds heartbeat{50};
  std::chrono::milliseconds standby_timeout{500};
  /// The wake-up channel for new records (the writer's written listener), when the owner keeps
  /// one across roles (a standby promoted: its writer's listener was set before it started);
  /// nullptr: the link's own. One link at a time may use it.
  agent::Parker* parker = nullptr;
};

/// The leader's end: one standby at a time (a new connection replaces the old one: a restarted
/// standby's old socket may linger half-open).
class LeaderLink {
 public:
  /// `on_sync(true, why)` when the standby has caught up, `on_sync(false, why)` when it is lost
  /// or when this leader learns it is deposed (stats().deposed: then it must acknowledge nothing
  /// more, whatever the fallback); on the link's thread. The writer must be opened; it must outlive the link.
  LeaderLink(LeaderLinkOptions opts, journal::JournalWriter& writer, LinkLog log,
             std::function<void(bool in_sync, const std::string& why)> on_sync);
  ~LeaderLink();  ///< stop()
  LeaderLink(const LeaderLink&) = delete;
  LeaderLink& operator=(const LeaderLink&) = delete;

  /// Opens the listening socket. Throws std::runtime_error naming the address. Before start().
  void bind();
  /// The port listened on (after bind()).
  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  /// Wake-up channel for new records: the writer's written listener (set it before the
  /// writer's start()); LeaderLinkOptions::parker when given.
  [[nodiscard]] agent::Parker& parker() noexcept { return parker_; }
  /// Starts the thread (`pg-repl`). Binds first if bind() was not called.
  void start();
  /// Stops and joins the thread, closing the sockets. Safe to call twice.
  void stop();
  [[nodiscard]] const LinkStats& stats() const noexcept { return stats_; }

 private:
  struct Impl;
  LeaderLinkOptions opts_;
  journal::JournalWriter& writer_;
  LinkLog log_;
  std::function<void(bool, const std::string&)> on_sync_;
  agent::Parker own_parker_;
  agent::Parker& parker_;
  LinkStats stats_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::unique_ptr<Impl> impl_;
};

struct StandbyLinkOptions {
  std::string host;        ///< ha.peer
  std::uint16_t port = 0;
  std::uint64_t fingerprint = 0;                    ///< sent in Subscribe
  std::chrono::milliseconds leader_timeout{1000};  ///< silence before reconnecting
  std::chrono::milliseconds retry{100};            ///< between connection attempts
  /// Where the newest epoch accepted is kept (peregrine/ha/epoch_file.hpp); written before the
  /// first record of a newer epoch is appended. Empty: not kept (tests).
  std::filesystem::path epoch_file;
  /// As LeaderLinkOptions::parker: the wake-up channel when the owner keeps one (the writer's
  /// written listener); nullptr: the link's own.
  agent::Parker* parker = nullptr;
};

/// The standby's end. Every record it accepts is appended to `writer` (whose last seq must be
/// `held`: the standby's own journal, recovered) with the leader's seq, then passed to `deliver`
/// (the replica's feed), both on the link's thread. It acknowledges writer.written_seq(): what
/// its journal holds (written; its fsync follows by the writer's policy), whatever the writer's
/// durable_seq() waits for (a standby's writer is set up as it will run once promoted).
class StandbyLink {
 public:
  StandbyLink(StandbyLinkOptions opts, journal::JournalWriter& writer, std::uint64_t held, std::uint64_t epoch,
              std::function<void(const journal::Record&)> deliver, LinkLog log);
  ~StandbyLink();  ///< stop()
  StandbyLink(const StandbyLink&) = delete;
  StandbyLink& operator=(const StandbyLink&) = delete;

  /// `writer` must be opened after `held` (its last seq) before start(), and only this link may
  /// push to its ring while it runs. `epoch`: the newest the standby has accepted (0: none).
  /// The writer's written listener (set before the writer's start()): acks go out when it moves.
  [[nodiscard]] agent::Parker& parker() noexcept { return parker_; }
  /// Starts the thread (`pg-repl`).
  void start();
  /// Asks the thread to stop without waiting (a promotion: the owner keeps draining what
  /// `deliver` waits to hand over until exited()). Any thread.
  void request_stop() noexcept;
  /// True once the thread has left its loop: it appends and delivers nothing more. Any thread.
  [[nodiscard]] bool exited() const noexcept { return exited_.load(std::memory_order_acquire); }
  /// Stops and joins the thread; nothing is appended after it returns. Safe to call twice.
  void stop();
  [[nodiscard]] const LinkStats& stats() const noexcept { return stats_; }

 private:
  struct Impl;
  StandbyLinkOptions opts_;
  journal::JournalWriter& writer_;
  std::function<void(const journal::Record&)> deliver_;
  LinkLog log_;
  agent::Parker own_parker_;
  agent::Parker& parker_;
  LinkStats stats_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> exited_{false};
  std::thread thread_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace peregrine::ha
