#pragma once
/// Parking a consumer thread until a producer has published something, without a lost wake-up
/// and at the cost of one atomic operation per publication when nobody sleeps: the idea of LMAX
/// Disruptor's LiteBlockingWaitStrategy, on an eventfd (so an event loop can wait on it too).
///
/// The protocol, for one consumer and any number of producers of the consumer's inputs:
///
///   consumer                                   producer
///   prepare_park()   (announce: flag = 1)      publish (ring index store, release)
///   re-check every input                       wake()  (RMW on the flag; eventfd write if it was 1)
///   found one: cancel_park(), go on
///   none: park(timeout)  (poll the eventfd; flag = 0 after)
///
/// Why no wake-up is lost: `prepare_park` and `wake` are both sequentially consistent
/// read-modify-writes of the one flag, so one of them comes first in the flag's modification
/// order. If the producer's comes first, the consumer's exchange reads the value it wrote, and
/// since the producer's RMW is a release and the consumer's an acquire, the producer's
/// publication (sequenced before its RMW) happens before the consumer's re-check, which
/// therefore sees the item and does not park. If the consumer's comes first, the producer's RMW
/// reads the 1 and writes the eventfd, so the consumer's poll returns (or, if it was not yet in
/// poll, finds the eventfd readable). Either way the item is seen. This is the store-load
/// (Dekker) pattern: it needs a StoreLoad barrier on both sides, here the RMWs (a locked
/// instruction on x86) rather than `atomic_thread_fence(seq_cst)`, which ThreadSanitizer cannot
/// see; a plain load on the producer's side would let its load of the flag pass its store of the
/// ring index and miss a consumer that is just parking.
///
/// A wake may be spurious (an eventfd write that arrives after the consumer found work anyway):
/// the consumer's loop re-checks after every park, so that only costs one empty pass.

#include <atomic>
#include <chrono>
#include <cstdint>

namespace peregrine::agent {

/// One consumer's wake-up channel: an eventfd and the flag that says the consumer is about to
/// sleep on it. Threads: `prepare_park`, `cancel_park`, `park`, `finish_park`, `consume` and `fd`
/// by the consumer only; `wake` by any producer; `signal` by any thread (a stop request).
class Parker {
 public:
  /// A non-blocking eventfd. Throws std::system_error when the kernel refuses one. Startup.
  Parker();
  ~Parker();
  Parker(const Parker&) = delete;
  Parker& operator=(const Parker&) = delete;

  /// Producer, after publishing (the ring push). One atomic RMW of the flag; an eventfd write
  /// only when the consumer has announced that it parks. Never blocks; allocation-free.
  void wake() noexcept {
    // exchange(0): of several producers, only the first after an announcement writes the
    // eventfd. seq_cst (release + acquire): see the file comment.
    if (parking_.exchange(0, std::memory_order_seq_cst) != 0) signal();
  }

  /// Any thread: writes the eventfd whatever the flag says (stop requests, shut-down).
  /// Async-signal-safe (one write(2)).
  void signal() noexcept;

  /// Consumer: announces that it is about to park. It must then re-check every input and call
  /// `cancel_park` (found something) or `park` / wait on `fd` then `finish_park` (found nothing).
  void prepare_park() noexcept { (void)parking_.exchange(1, std::memory_order_seq_cst); }

  /// Consumer: withdraws the announcement (the re-check found work).
  void cancel_park() noexcept { parking_.store(0, std::memory_order_relaxed); }

  /// Consumer, after `prepare_park` and a re-check that found nothing: sleeps in poll(2) until a
  /// producer's wake, a `signal`, or `timeout` (negative: no timeout), then clears the eventfd
  /// and the announcement. True when woken by a write, false on timeout.
  bool park(std::chrono::nanoseconds timeout) noexcept;

  /// Consumer that waits on `fd()` in its own event loop (epoll): clears the announcement after
  /// the wait.
  void finish_park() noexcept { parking_.store(0, std::memory_order_relaxed); }

  /// Consumer: the eventfd, readable after a wake or signal; for an event loop to wait on.
  [[nodiscard]] int fd() const noexcept { return fd_; }

  /// Consumer: reads (clears) the eventfd's count; nothing if it is zero.
  void consume() noexcept;

  /// Eventfd writes so far (wakes that needed a system call); any thread, for tests and metrics.
  [[nodiscard]] std::uint64_t signals() const noexcept { return signals_.load(std::memory_order_relaxed); }

 private:
  // Written by the consumer when it parks and by every producer's wake: its own cache lines.
  alignas(128) std::atomic<std::uint32_t> parking_{0};
  alignas(128) std::atomic<std::uint64_t> signals_{0};
  int fd_ = -1;
};

}  // namespace peregrine::agent
