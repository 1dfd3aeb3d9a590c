#include "exchange_clock.hpp"

#include <cstdio>

#include "peregrine/agent/clock.hpp"

namespace peregrine::app {

namespace {

using std::chrono::days;
using std::chrono::nanoseconds;
using std::chrono::seconds;
using std::chrono::system_clock;

// The exchange's local time at `wall`: system_clock's epoch is the Unix epoch (UTC, C++20),
// shifted by the offset. A sys_time is used as a plain calendar time, not as UTC.
system_clock::time_point exchange_local(system_clock::time_point wall, std::int32_t utc_offset_seconds) {
  return wall + seconds{utc_offset_seconds};
}

}  // namespace

ExchangeClock::ExchangeClock(std::int32_t utc_offset_seconds)
    : ExchangeClock(utc_offset_seconds, system_clock::now(), mono_now_ns()) {}

ExchangeClock::ExchangeClock(std::int32_t utc_offset_seconds, system_clock::time_point wall,
                             std::uint64_t mono_ns) noexcept
    : utc_offset_seconds_(utc_offset_seconds) {
  const system_clock::time_point local = exchange_local(wall, utc_offset_seconds);
  const auto midnight = std::chrono::floor<days>(local);  // floor: right before 1970 too
  date_ = std::chrono::year_month_day{midnight};
  const auto since = std::chrono::duration_cast<nanoseconds>(local - midnight).count();
  midnight_mono_ns_ = mono_ns - static_cast<std::uint64_t>(since);  // modulo 2^64 (see the header)
}

std::uint64_t ExchangeClock::mono_now_ns() noexcept {
  return agent::mono_ns();
}

std::string ExchangeClock::date_string() const {
  char buf[16];
  const int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(date_.year()),
                              static_cast<unsigned>(date_.month()), static_cast<unsigned>(date_.day()));
  return std::string(buf, static_cast<std::size_t>(n));
}

std::uint32_t ExchangeClock::second_of_day(system_clock::time_point wall) const noexcept {
  const system_clock::time_point local = exchange_local(wall, utc_offset_seconds_);
  return static_cast<std::uint32_t>(
      std::chrono::floor<seconds>(local - std::chrono::floor<days>(local)).count());
}

}  // namespace peregrine::app
