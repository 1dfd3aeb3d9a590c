#pragma once
/// What a thread that a producer can wake (it owns an agent::Parker) does when a pass found no
/// work: the idle strategies of idle_strategy.hpp, plus `spin-then-park` (spin for a configured
/// time, then sleep until woken: the default) and `park` (sleep at once). The duty-cycle loop:
///
///   for (;;) { wait.idle(agent.do_work(), [&] { return agent.has_work(); }); }
///
/// `has_work` is the re-check of parker.hpp's protocol: called after the announcement, it must
/// look at every input a producer wakes this thread for (the rings' indices, a stop flag).
/// One object per thread; that thread alone calls `idle` and `reset`.

#include <chrono>
#include <cstdint>
#include <thread>

#include "peregrine/agent/idle_strategy.hpp"
#include "peregrine/agent/parker.hpp"

namespace peregrine::agent {

/// The spin before parking when the configuration says nothing: long enough to catch the next
/// message of a burst without a system call, short enough that a quiet thread sleeps.
inline constexpr std::chrono::microseconds kDefaultSpin{50};

/// A waiting thread's choice.
struct WaitOptions {
  IdleStrategyKind kind = IdleStrategyKind::SpinThenPark;
  std::chrono::nanoseconds spin = kDefaultSpin;  ///< SpinThenPark: idle time spent spinning first
  /// Longest single park (negative: until woken). A bound for threads that also have timed
  /// duties; a wake-up is never needed to end it early.
  std::chrono::nanoseconds max_park{-1};
};

/// See the file comment.
class WaitStrategy {
 public:
  /// `parker` is the owning thread's channel; it must outlive the strategy.
  WaitStrategy(Parker& parker, WaitOptions options) noexcept
      : parker_(parker), options_(options) {
    if (options_.kind == IdleStrategyKind::Park) options_.spin = std::chrono::nanoseconds{0};
  }

  /// Owning thread. `work_count` > 0: starts the spin over. 0: one step of the strategy; a park
  /// re-checks with `has_work()` after announcing itself and does not sleep if it says true.
  template <typename HasWork>
  void idle(int work_count, HasWork&& has_work) noexcept {
    idle(work_count, has_work, [](Parker& p, std::chrono::nanoseconds timeout) noexcept { return p.park(timeout); });
  }

  /// As above, with the park step given: `park(parker, timeout)` waits until woken or `timeout`
  /// (negative: no bound), ends with `parker.finish_park()`, and returns true when woken (an
  /// event loop waiting on `parker.fd()`, a bound of the caller's). The owning thread.
  template <typename HasWork, typename Park>
  void idle(int work_count, HasWork&& has_work, Park&& park) {
    if (work_count > 0) {
      reset();
      return;
    }
    switch (options_.kind) {
      case IdleStrategyKind::BusySpin:
        cpu_relax();
        return;
      case IdleStrategyKind::Yield:
        std::this_thread::yield();
        return;
      case IdleStrategyKind::BackOff:
        backoff_.idle(0);
        return;
      case IdleStrategyKind::SpinThenPark:
      case IdleStrategyKind::Park:
        break;
    }
    if (options_.spin.count() > 0) {
      const auto now = std::chrono::steady_clock::now();
      if (!spinning_) {
        spinning_ = true;
        spin_until_ = now + options_.spin;
      }
      if (now < spin_until_) {
        cpu_relax();
        return;
      }
    }
    parker_.prepare_park();
    if (has_work()) {
      parker_.cancel_park();
      return;
    }
    ++parks_;
    if (!park(parker_, options_.max_park)) ++timeouts_;
    spinning_ = false;  // woken: spin again before the next park
  }

  /// Owning thread. Back to the start of the spin.
  void reset() noexcept {
    spinning_ = false;
    backoff_.reset();
  }

  /// Owning thread. How many times it has slept (tests, diagnostics).
  [[nodiscard]] std::uint64_t parks() const noexcept { return parks_; }
  /// Owning thread. Parks that ended at `max_park` rather than by a wake.
  [[nodiscard]] std::uint64_t timeouts() const noexcept { return timeouts_; }
  [[nodiscard]] const WaitOptions& options() const noexcept { return options_; }

 private:
  Parker& parker_;
  WaitOptions options_;
  BackOffIdle backoff_;  // kind BackOff only
  bool spinning_ = false;
  std::chrono::steady_clock::time_point spin_until_{};
  std::uint64_t parks_ = 0;
  std::uint64_t timeouts_ = 0;
};

}  // namespace peregrine::agent
