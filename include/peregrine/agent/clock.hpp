#pragma once
/// The monotonic clock the service's threads time their waits, deadlines and lags with.

#include <chrono>
#include <cstdint>

namespace peregrine::agent {

/// Nanoseconds of std::chrono::steady_clock (CLOCK_MONOTONIC): for intervals only, never a date.
inline std::uint64_t mono_ns() noexcept {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

}  // namespace peregrine::agent
