#pragma once
/// The drop-copy publisher (docs/dropcopy.md): on a thread of its own, it follows the command
/// journal up to the durable record number with its own engine replica (replay::EngineReplay, as
/// peregrine-journal replays a day), turns the order events into messages numbered densely per
/// market, and publishes them to RabbitMQ as persistent, mandatory messages with pipelined
/// publisher confirms. The checkpoint (the last number confirmed with every number before it)
/// moves only over contiguous confirms; a nack, a returned message or a lost connection sends
/// everything after the checkpoint again. A restart replays the day from its first record and
/// resumes after the checkpoint. Matching never waits for it: nothing on the core's or the io
/// thread's path knows it exists.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "peregrine/agent/parker.hpp"
#include "peregrine/config/service.hpp"

namespace peregrine::dropcopy {

namespace detail {
class AmqpLink;
}

/// Counts for metrics (docs/dropcopy.md, "Metrics"); written by the publisher's thread, read by
/// any thread with relaxed loads.
struct PublisherStats {
  std::atomic<std::uint64_t> published{0};         ///< messages published, re-sends included
  std::atomic<std::uint64_t> confirmed{0};         ///< events confirmed in order (the checkpoint's moves)
  std::atomic<std::uint64_t> confirmed_seq{0};     ///< the checkpoint: last contiguously confirmed number
  std::atomic<std::uint64_t> produced_seq{0};      ///< the last number the replica gave an event
  std::atomic<std::uint64_t> returned{0};          ///< messages the broker returned (no queue bound)
  std::atomic<std::uint64_t> nacked{0};            ///< messages the broker refused (basic.nack)
  std::atomic<std::uint64_t> rewinds{0};           ///< times everything after the checkpoint was re-sent
  std::atomic<std::uint64_t> connects{0};          ///< connections established
  std::atomic<std::uint64_t> reconnects{0};        ///< of which after a lost or failed one
  std::atomic<std::uint64_t> connect_failures{0};  ///< attempts that failed (refused, login, unreachable)
  std::atomic<std::uint64_t> connected{0};         ///< 1 while a connection is up
  std::atomic<std::uint64_t> replica_seq{0};       ///< journal records the replica has applied
  /// Exchange-clock ns (since midnight) of the oldest event produced and not confirmed, plus 1;
  /// 0 when none waits.
  std::atomic<std::uint64_t> oldest_unconfirmed_ts{0};
  std::atomic<std::uint64_t> failed{0};  ///< 1 when the publisher stopped for good (journal unreadable, checkpoint mismatch)
};

/// What the app knows about the day.
struct PublisherOptions {
  std::string thread_name = "pg-dropcopy";
  std::filesystem::path day_dir;   ///< the day's journal directory (RecoveryPlan::dir)
  std::uint64_t fingerprint = 0;   ///< the journal's configuration fingerprint
  std::string day;                 ///< exchange date YYYY-MM-DD
  std::int32_t utc_offset_seconds = 0;
  /// The exchange's midnight on the steady clock (ns, modulo 2^64): events' timestamps count from it.
  std::uint64_t origin_mono_ns = 0;
  /// PEREGRINE_DROPCOPY_PASSWORD as read at start-up (used when dropcopy.password_file is empty).
  std::string env_password;
  /// The broker link's module (rabbitmq-c, OpenSSL); empty: peregrine-amqp.so beside the binary.
  std::string amqp_module;
};

class Publisher {
 public:
  using Log = std::function<void(std::string_view level, const std::string& line)>;
  /// `durable_seq` returns the journal's durable record number (any thread); `log` is thread-safe.
  /// `svc` outlives the publisher. Loads the broker link's module (opts.amqp_module); throws
  /// std::runtime_error naming it when it cannot.
  Publisher(const config::ServiceConfig& svc, PublisherOptions opts, std::function<std::uint64_t()> durable_seq, Log log);
  ~Publisher();
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  /// Starts the thread. Startup thread.
  void start();
  /// Saves the checkpoint, drops the connection and joins. Safe to call twice. Any thread but
  /// its own.
  void stop();
  /// Wakes the thread (more durable records). Any thread; optional: it looks every 20 ms anyway.
  void wake() noexcept { parker_.wake(); }
  [[nodiscard]] const PublisherStats& stats() const noexcept { return stats_; }
  /// Age in seconds of the oldest event produced and not confirmed (0 when none); any thread.
  [[nodiscard]] double lag_seconds() const noexcept;
  /// Durable journal records the replica has not applied yet; any thread.
  [[nodiscard]] std::uint64_t lag_records() const noexcept;

 private:
  struct State;
  void run();
  void close_link();

  const config::ServiceConfig& svc_;
  PublisherOptions opts_;
  std::function<std::uint64_t()> durable_seq_;
  Log log_;
  PublisherStats stats_;
  std::unique_ptr<detail::AmqpLink> link_;  // the publisher thread's alone once started
  agent::Parker parker_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> exited_{false};  // run() has returned
  std::mutex fd_mutex_;              // fd_, and closing the connection
  int fd_ = -1;                      // the connection's socket while it is open
  std::thread thread_;
};

}  // namespace peregrine::dropcopy
