#pragma once
/// Elector: leadership of one market through one Lease, on a thread of its own (never the
/// matching thread), with the semantics of client-go's leaderelection package:
///
/// - A candidate reads the Lease every `retry_period`. It may take it when nobody holds it,
///   when its own identity holds it (a restarted process of the same pod), or when the record
///   has not changed for `lease_duration` as measured by the candidate's own monotonic clock
///   from the moment it first saw that version (never by comparing renewTime with its clock:
///   clocks of two machines differ). Taking it is an update with the resourceVersion it read
///   (or a create when the Lease does not exist and `create_if_missing`): of two candidates,
///   the server lets exactly one through; the other gets 409 and stays a candidate.
/// - The leader renews (renewTime) every `retry_period` with the resourceVersion of its own
///   last write. A 409 means someone else wrote the Lease: it steps down at once (client-go
///   would retry until its deadline; a write by another is what a takeover looks like). A 403
///   or 401 steps down at once too. Any other failure is retried until `renew_deadline` has
///   passed since the start of the last successful renewal, then it steps down.
/// - is_leader() answers from that deadline, not only from the thread's last decision: a
///   renewal stuck in a slow call cannot leave the process believing it leads after others may
///   take over (renew_deadline < lease_duration, checked at construction).
/// - Each acquisition writes leaseTransitions + 1 (or `min_epoch()` when larger), the new epoch
///   (peregrine/ha/lease.hpp). An epoch above kMaxLeaseEpoch (leaseTransitions is an int32) is
///   never written, nor clamped: the Lease is not taken, and last_error() says why.
///   A Lease alone is no fence (a paused leader may still act on its belief): the epoch on every
///   replicated record is; docs/ha.md says how the two fit.
/// - With `single_term`, a process leads at most once: after stepping down its thread ends.
/// - stop() with `release_on_stop` releases a held Lease (holder emptied, renewTime now), so a
///   standby takes over without waiting for the lease to expire (client-go's ReleaseOnCancel).
///
/// Threads: the constructor, start() and stop() from one owning thread; is_leader(), epoch(),
/// holder(), last_error() and the waits from any thread. The callbacks run on the elector's
/// thread and must not call stop().

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "peregrine/ha/lease.hpp"

namespace peregrine::ha {

/// The highest epoch a Lease holds: leaseTransitions is an int32 in Kubernetes.
inline constexpr std::int64_t kMaxLeaseEpoch = 2'147'483'647;

/// Timing and identity of one elector. Defaults are client-go's (15 s, 10 s, 2 s).
struct ElectorConfig {
  /// The Lease's name (one per market).
  std::string lease_name;
  /// This process's identity, written as holderIdentity (the pod's name). Not empty.
  std::string identity;
  /// How long others wait after the last change they saw before taking the Lease. Written as
  /// leaseDurationSeconds, so whole seconds, at least 1 s.
  std::chrono::milliseconds lease_duration{15'000};
  /// How long the leader keeps leading without a successful renewal. Less than lease_duration.
  std::chrono::milliseconds renew_deadline{10'000};
  /// How often the leader renews and a candidate retries.
  std::chrono::milliseconds retry_period{2'000};
  /// Create the Lease when it does not exist (needs the `create` verb on leases; the kit instead
  /// ships the Lease and grants only get and update: docs/ha.md).
  bool create_if_missing = true;
  /// Release the Lease on stop() when leading.
  bool release_on_stop = true;
  /// One leadership at most: after stepping down (for any reason but stop()) the thread ends and
  /// never takes the Lease again. A server that lost the Lease has been deposed: it must be
  /// restarted (as a standby) before it leads again, so its elector must not hold the Lease
  /// against the node that now leads (docs/ha.md, "The Lease in the server").
  bool single_term = false;
  /// The least epoch an acquisition writes: leaseTransitions becomes max(previous + 1,
  /// min_epoch()), so that the Lease's epoch is never below one the owner has already used on
  /// its replication stream. Called on the elector's thread before each acquisition; empty: no
  /// floor.
  std::function<std::int64_t()> min_epoch;
  /// Whether this process may take a Lease whose epoch (leaseTransitions) is `lease_epoch`: ""
  /// when it may, else why not (then last_error()). A node whose journal ends in an older epoch
  /// than the Lease's lacks what that epoch's leader wrote, and must not lead (docs/ha.md,
  /// "Split brain"). Called on the elector's thread before each acquisition; empty: always.
  std::function<std::string(std::int64_t lease_epoch)> may_take;
};

/// Why leadership ended.
enum class StepDownReason : std::uint8_t {
  Conflict,       ///< 409 on renewal: someone else wrote the Lease
  LostHolder,     ///< the Lease names someone else
  Forbidden,      ///< 401 or 403 on renewal: the identity lost its rights
  RenewDeadline,  ///< no successful renewal within renew_deadline
  Stopped         ///< stop()
};

std::string_view to_string(StepDownReason reason) noexcept;

/// Called on the elector's thread.
struct ElectorCallbacks {
  /// Leadership began with this epoch.
  std::function<void(std::int64_t epoch)> on_started_leading;
  /// Leadership ended (called once per on_started_leading).
  std::function<void(StepDownReason reason)> on_stopped_leading;
  /// The holder seen in the Lease changed (empty: nobody holds it); also our own identity.
  std::function<void(const std::string& holder)> on_new_leader;
};

/// See the file comment.
class Elector {
 public:
  using Clock = std::chrono::steady_clock;

  /// `api` must outlive the elector. Throws std::invalid_argument for an empty name or
  /// identity, a lease_duration under 1 s or not whole seconds, renew_deadline >=
  /// lease_duration, or a retry_period that is not below renew_deadline.
  Elector(LeaseApi& api, ElectorConfig config, ElectorCallbacks callbacks = {});
  ~Elector();
  Elector(const Elector&) = delete;
  Elector& operator=(const Elector&) = delete;

  /// Starts the thread (once).
  void start();
  /// Ends the thread; a leader steps down (on_stopped_leading(Stopped)) and, with
  /// release_on_stop, releases the Lease with one bounded call. Idempotent.
  void stop();
  /// stop() for a leader that did nothing with its term (its owner could not act on it: no
  /// record carries the epoch): the release also puts back the epoch the Lease had before this
  /// acquisition, so that the Lease names no epoch whose records nobody holds (a node takes no
  /// Lease of a newer epoch than its journal's; docs/ha.md). With release_on_stop.
  void abandon();

  /// True while this process leads and its last successful renewal began less than
  /// renew_deadline ago.
  bool is_leader() const noexcept;
  /// The epoch of the current or last leadership of this process (0: never led).
  std::int64_t epoch() const noexcept { return epoch_.load(std::memory_order_acquire); }
  /// The holder last seen in the Lease (empty: nobody, or not read yet).
  std::string holder() const;
  /// The last failed call, for people ("" when the last call succeeded), e.g. "403 forbidden:
  /// leases.coordination.k8s.io "m1" is forbidden: User ... cannot update ...".
  std::string last_error() const;
  /// Counts, for tests and metrics: leaderships begun, and calls that failed.
  std::uint64_t acquisitions() const noexcept { return acquisitions_.load(std::memory_order_relaxed); }
  std::uint64_t failed_calls() const noexcept { return failed_calls_.load(std::memory_order_relaxed); }
  /// Calls made so far (get, create, update), failed or not.
  std::uint64_t calls() const noexcept { return calls_.load(std::memory_order_acquire); }

  /// Waits until is_leader() equals `leading`, at most `bound`; returns whether it does.
  bool wait_for_leading(bool leading, std::chrono::milliseconds bound) const;
  /// Waits until the elector has made at least `calls` calls in total, at most `bound`.
  bool wait_for_calls(std::uint64_t calls, std::chrono::milliseconds bound) const;

 private:
  void run();
  void try_acquire();
  void renew();
  void step_down(StepDownReason reason);
  /// Counts a call; the last error becomes its failure, or `refusal` (may_take's) when it succeeded.
  void note_call(const LeaseResult& result, const std::string& refusal = {});
  void observe(const LeaseRecord& lease);
  /// The epoch an acquisition of `previous` writes: its leaseTransitions + 1, or min_epoch().
  std::int64_t next_epoch(const LeaseRecord& previous) const;
  LeaseRecord acquired_from(const LeaseRecord& previous, std::int64_t epoch) const;
  /// Why `epoch` cannot be written ("" when it can).
  static std::string epoch_refusal(std::int64_t epoch);
  void become_leader(const LeaseRecord& written, Clock::time_point sent);


  LeaseApi& api_;
  const ElectorConfig config_;
  const ElectorCallbacks callbacks_;

  // Elector thread only.
  std::optional<LeaseRecord> mine_;  // our last successful write while leading
  std::int32_t epoch_before_ = 0;    // leaseTransitions before our acquisition (abandon())
  std::string observed_version_;     // the resourceVersion seen last, and when it was first seen
  Clock::time_point observed_at_{};

  // Shared.
  std::atomic<bool> leading_{false};
  std::atomic<std::int64_t> leading_until_ns_{0};  // steady clock; is_leader() is false after it
  std::atomic<std::int64_t> epoch_{0};
  std::atomic<std::uint64_t> acquisitions_{0};
  std::atomic<std::uint64_t> failed_calls_{0};
  std::atomic<std::uint64_t> calls_{0};
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  bool stopping_ = false;  // guarded by mutex_
  bool abandoning_ = false;  // guarded by mutex_: the release puts epoch_before_ back
  std::string holder_;     // guarded by mutex_
  std::string last_error_;  // guarded by mutex_
  std::thread thread_;
};

}  // namespace peregrine::ha
