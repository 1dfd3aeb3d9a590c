#pragma once
// The exchange's clock (docs/protocol.md, "Timestamps"; docs/configuration.md, `market.utc_offset`):
// the one place the service turns the machine's clocks into exchange time: the OUCH and ITCH
// timestamps, the schedule's time of day and the journal's day directory. App-internal.

#include <chrono>
#include <cstdint>
#include <string>

#include "peregrine/core/types.hpp"

namespace peregrine::app {

/// The exchange's clock: UTC plus `market.utc_offset`. The process's time zone (`TZ`,
/// /etc/localtime) is never read, so a container without `TZ` keeps the exchange's time.
///
/// The trading day is the exchange's date at the instant the clock is built (start-up).
/// Timestamps count from that day's exchange midnight on the monotonic clock (`steady_clock`),
/// so they never step back when the wall clock is adjusted. A process that runs across the
/// exchange's midnight keeps its trading day: timestamps go on past 24:00:00 (86,400 s; ITCH's
/// 48 bits hold 78 hours), date() and the journal's directory stay those of the day it started
/// in, while second_of_day() follows the wall clock and wraps to 0 at midnight (the schedule
/// reads it). A restart on the new day starts a new trading day.
///
/// Immutable once built: any thread may call it.
class ExchangeClock {
 public:
  /// The clock built now: reads the system clock and the monotonic clock once, back to back.
  explicit ExchangeClock(std::int32_t utc_offset_seconds);

  /// The clock as if built at wall-clock instant `wall`, when the monotonic clock read
  /// `mono_ns` (tests).
  ExchangeClock(std::int32_t utc_offset_seconds, std::chrono::system_clock::time_point wall,
                std::uint64_t mono_ns) noexcept;

  /// The monotonic clock: `steady_clock` in nanoseconds since its epoch. Every `mono_ns`
  /// argument and result of this class is such a reading.
  [[nodiscard]] static std::uint64_t mono_now_ns() noexcept;

  /// `market.utc_offset`, in seconds east of UTC.
  [[nodiscard]] std::int32_t utc_offset_seconds() const noexcept { return utc_offset_seconds_; }

  /// The trading day: the exchange's date when the clock was built.
  [[nodiscard]] std::chrono::year_month_day date() const noexcept { return date_; }

  /// date() as `YYYY-MM-DD`: the name of the journal's day directory.
  [[nodiscard]] std::string date_string() const;

  /// The monotonic reading at the exchange's midnight that began date(): the origin that the
  /// sessions and the UDP ingress subtract (`set_clock_origin`). Modulo 2^64: it may lie before
  /// the monotonic clock's epoch (a machine booted after that midnight); differences from it
  /// are exact.
  [[nodiscard]] std::uint64_t midnight_mono_ns() const noexcept { return midnight_mono_ns_; }

  /// Nanoseconds since the exchange's midnight that began date(), at monotonic reading
  /// `mono_ns` (not before the clock was built): the OUCH and ITCH timestamp. Past 24 h once
  /// the process has run across midnight (no wrap).
  [[nodiscard]] Timestamp since_midnight(std::uint64_t mono_ns) const noexcept {
    return Timestamp{mono_ns - midnight_mono_ns_};
  }

  /// since_midnight() now.
  [[nodiscard]] Timestamp now() const noexcept { return since_midnight(mono_now_ns()); }

  /// The exchange's time of day at wall-clock instant `wall`, in seconds, [0, 86400): the
  /// schedule's clock. Wraps to 0 at the exchange's midnight.
  [[nodiscard]] std::uint32_t second_of_day(std::chrono::system_clock::time_point wall) const noexcept;

  /// second_of_day() of the system clock now.
  [[nodiscard]] std::uint32_t second_of_day_now() const noexcept {
    return second_of_day(std::chrono::system_clock::now());
  }

 private:
  std::int32_t utc_offset_seconds_;
  std::chrono::year_month_day date_;
  std::uint64_t midnight_mono_ns_;
};

}  // namespace peregrine::app
