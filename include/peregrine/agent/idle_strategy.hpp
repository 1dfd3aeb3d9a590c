#pragma once
/// What a polling thread does when a pass found no work: pluggable idle strategies, after Aeron's
/// agents (BusySpinIdleStrategy, YieldingIdleStrategy, BackoffIdleStrategy).
///
/// A duty-cycle loop reads:
///
///   for (;;) { idle.idle(agent.do_work()); }
///
/// `idle(work_count)` with `work_count > 0` returns at once and resets any back-off; with 0 it
/// waits a little, in the strategy's way. Each object belongs to one thread: the thread that runs
/// the loop calls `idle` and `reset`. `parse_idle_strategy` and `make_idle_strategy` are for
/// configuration, at startup, on any thread.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <thread>
#include <variant>

namespace peregrine::agent {

/// Tells the CPU this is a spin-wait loop: on x86 `pause` (saves power, gives the sibling
/// hyperthread the core, avoids the memory-order mis-speculation penalty on loop exit). Nothing on
/// other architectures. Any thread.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

/// Never gives up the CPU: the lowest wake-up latency, one core burnt at 100%. For a thread pinned
/// to an isolated core (the matching core), never for threads that share a core.
class BusySpinIdle {
 public:
  /// Owning thread. Pauses once (see `cpu_relax`) when there was no work.
  void idle(int work_count) noexcept {
    if (work_count <= 0) {
      cpu_relax();
    }
  }
  /// Owning thread. Nothing to reset.
  void reset() noexcept {}
};

/// Yields the CPU to another runnable thread when there was no work: `sched_yield` on Linux.
/// Wakes quickly, still shows 100% CPU, but lets a thread sharing the core run.
class YieldIdle {
 public:
  /// Owning thread. Yields once when there was no work.
  void idle(int work_count) noexcept {
    if (work_count <= 0) {
      std::this_thread::yield();
    }
  }
  /// Owning thread. Nothing to reset.
  void reset() noexcept {}
};

/// Tuning of `BackOffIdle`; the defaults are Aeron's.
struct BackOffParams {
  std::int64_t max_spins = 10;                          ///< idle passes spent spinning (cpu_relax)
  std::int64_t max_yields = 5;                          ///< then this many passes spent yielding
  std::chrono::nanoseconds min_park{1'000};             ///< then sleep, starting here...
  std::chrono::nanoseconds max_park{1'000'000};         ///< ...doubling up to this
};

/// Spins, then yields, then sleeps with an exponentially growing period, as consecutive idle
/// passes accumulate; any pass with work starts over at spinning. Costs little CPU when quiet;
/// the first item after a long quiet spell waits up to `max_park` (plus the OS's timer slack).
class BackOffIdle {
 public:
  /// Aeron's defaults: 10 spins, 5 yields, parks of 1 us doubling to 1 ms.
  BackOffIdle() noexcept = default;
  /// Custom tuning; a `max_park` below `min_park` is raised to `min_park`.
  explicit BackOffIdle(const BackOffParams& params) noexcept : params_(params) {
    if (params_.max_park < params_.min_park) {
      params_.max_park = params_.min_park;
    }
    park_ = params_.min_park;
  }

  /// Owning thread. With work: reset. Without: the next step of spin / yield / park.
  void idle(int work_count) noexcept {
    if (work_count > 0) {
      reset();
      return;
    }
    if (spins_ < params_.max_spins) {
      ++spins_;
      cpu_relax();
    } else if (yields_ < params_.max_yields) {
      ++yields_;
      std::this_thread::yield();
    } else {
      std::this_thread::sleep_for(park_);
      park_ = park_ * 2 < params_.max_park ? park_ * 2 : params_.max_park;
    }
  }

  /// Owning thread. Back to the spinning phase and the shortest park.
  void reset() noexcept {
    spins_ = 0;
    yields_ = 0;
    park_ = params_.min_park;
  }

  /// Owning thread (tests, diagnostics). The sleep the next parking step would take.
  [[nodiscard]] std::chrono::nanoseconds next_park() const noexcept { return park_; }

 private:
  BackOffParams params_{};
  std::int64_t spins_ = 0;
  std::int64_t yields_ = 0;
  std::chrono::nanoseconds park_ = params_.min_park;
};

/// The strategies a configuration file or command line can name. The last two need a producer
/// that wakes the thread (agent::Parker, wait_strategy.hpp); a thread that has none (the DPDK
/// lcore polling a NIC) runs them as BackOff.
enum class IdleStrategyKind : std::uint8_t {
  BusySpin,      ///< "busy-spin": never gives up the CPU
  Yield,         ///< "yield"
  BackOff,       ///< "backoff": spin, yield, then sleep 1 us doubling to 1 ms
  SpinThenPark,  ///< "spin-then-park": spin a configured time, then sleep until woken
  Park,          ///< "park": sleep until woken as soon as a pass finds nothing
};

/// Any of the strategies, chosen at startup; call through `std::visit` (one predictable branch).
using AnyIdleStrategy = std::variant<BusySpinIdle, YieldIdle, BackOffIdle>;

/// "busy-spin", "yield", "backoff", "spin-then-park" or "park" (exact, lower case) to its kind;
/// nullopt for anything else.
[[nodiscard]] constexpr std::optional<IdleStrategyKind> parse_idle_strategy(std::string_view name) noexcept {
  if (name == "busy-spin") {
    return IdleStrategyKind::BusySpin;
  }
  if (name == "yield") {
    return IdleStrategyKind::Yield;
  }
  if (name == "backoff") {
    return IdleStrategyKind::BackOff;
  }
  if (name == "spin-then-park") {
    return IdleStrategyKind::SpinThenPark;
  }
  if (name == "park") {
    return IdleStrategyKind::Park;
  }
  return std::nullopt;
}

/// The configuration name of `kind`; `parse_idle_strategy(to_string(k)) == k`.
[[nodiscard]] constexpr std::string_view to_string(IdleStrategyKind kind) noexcept {
  switch (kind) {
    case IdleStrategyKind::BusySpin:
      return "busy-spin";
    case IdleStrategyKind::Yield:
      return "yield";
    case IdleStrategyKind::BackOff:
      return "backoff";
    case IdleStrategyKind::SpinThenPark:
      return "spin-then-park";
    case IdleStrategyKind::Park:
      return "park";
  }
  return "unknown";
}

/// A strategy of the given kind with default tuning. SpinThenPark and Park, which need a waker
/// (`agent::WaitStrategy`), give BackOff here: for threads nobody wakes.
[[nodiscard]] inline AnyIdleStrategy make_idle_strategy(IdleStrategyKind kind) noexcept {
  switch (kind) {
    case IdleStrategyKind::BusySpin:
      return BusySpinIdle{};
    case IdleStrategyKind::Yield:
      return YieldIdle{};
    case IdleStrategyKind::BackOff:
    case IdleStrategyKind::SpinThenPark:
    case IdleStrategyKind::Park:
      return BackOffIdle{};
  }
  return BackOffIdle{};
}

/// Calls `idle(work_count)` on whichever strategy `strategy` holds. Owning thread.
inline void idle(AnyIdleStrategy& strategy, int work_count) noexcept {
  std::visit([work_count](auto& s) noexcept { s.idle(work_count); }, strategy);
}

/// Calls `reset()` on whichever strategy `strategy` holds. Owning thread.
inline void reset(AnyIdleStrategy& strategy) noexcept {
  std::visit([](auto& s) noexcept { s.reset(); }, strategy);
}

}  // namespace peregrine::agent
