#pragma once
/// HeldSeq: how far a leader under ha.failover: lease may publish what it has made durable
/// beside its replies (the drop copy; docs/ha.md, "Split brain"): up to the durable seq it read
/// while it held the Lease, and no further while it does not. A leader past its renew deadline, or
/// deposed, may hold records the next leader never received (they became durable on its own
/// fsync once its standby was gone); published, they would be orders the market never had.
///
/// The caller reads the durable seq first, then asks whether it holds the Lease (the io thread's
/// rule for replies, Server::releasable_events): held now, it held it when it read that seq, since
/// a holder that stops holding it either is deposed for good or, when a renewal stuck past the
/// deadline succeeds after all, was the only holder meanwhile (the renewal's precondition).
///
/// Threads: bound() from any thread (the drop copy's, the metrics thread's); lock-free.

#include <atomic>
#include <cstdint>

namespace peregrine::ha {

class HeldSeq {
 public:
  /// `durable`, read before `holding` was asked: returned as it is while holding (and
  /// remembered); when not, the largest seq returned while holding (0 before any). Never
  /// decreases for one caller.
  std::uint64_t bound(std::uint64_t durable, bool holding) noexcept {
    if (!holding) return held_.load(std::memory_order_acquire);
    std::uint64_t seen = held_.load(std::memory_order_relaxed);
    while (seen < durable && !held_.compare_exchange_weak(seen, durable, std::memory_order_acq_rel)) {
    }
    return durable;
  }
  /// The largest seq returned while held so far.
  [[nodiscard]] std::uint64_t held() const noexcept { return held_.load(std::memory_order_acquire); }

 private:
  std::atomic<std::uint64_t> held_{0};
};

}  // namespace peregrine::ha
