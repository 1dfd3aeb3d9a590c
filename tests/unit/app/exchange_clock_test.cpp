// The exchange clock: fixed instants under offsets east, zero and west of UTC, the exchange's
// date when it differs from UTC's, and a process running across the exchange's midnight.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>

#include "app/exchange_clock.hpp"

namespace peregrine::app {
namespace {

using namespace std::chrono;
using namespace std::chrono_literals;

constexpr std::int32_t kChina = 8 * 3600;
constexpr std::int32_t kIndia = 5 * 3600 + 30 * 60;
constexpr std::uint64_t kMono = 1'000'000'000'000;  // an arbitrary monotonic reading: 1,000 s
constexpr std::uint64_t kSec = 1'000'000'000;

// 2024-03-15 19:34:44.5 UTC: the instant of the report (03:34:44.5 the next day in China).
const system_clock::time_point kReport = sys_days{2024y / March / 15} + 19h + 34min + 44s + 500ms;

constexpr std::uint64_t ns_of(hours h, minutes m, seconds s, milliseconds ms = 0ms) {
  return static_cast<std::uint64_t>(duration_cast<nanoseconds>(h + m + s + ms).count());
}
constexpr std::uint32_t sec_of(hours h, minutes m, seconds s) {
  return static_cast<std::uint32_t>((h + m + s).count());
}

TEST(ExchangeClockTest, EastOfUtcIsAlreadyTomorrowInTheEvening) {
  const ExchangeClock c(kChina, kReport, kMono);
  EXPECT_EQ(c.date(), 2024y / March / 16);
  EXPECT_EQ(c.date_string(), "2024-03-16");
  EXPECT_EQ(c.since_midnight(kMono).value(), ns_of(3h, 34min, 44s, 500ms));
  EXPECT_EQ(c.second_of_day(kReport), sec_of(3h, 34min, 44s));
  EXPECT_EQ(c.utc_offset_seconds(), kChina);
}

TEST(ExchangeClockTest, ZeroOffsetIsUtc) {
  const ExchangeClock c(0, kReport, kMono);
  EXPECT_EQ(c.date_string(), "2024-03-15");
  EXPECT_EQ(c.since_midnight(kMono).value(), ns_of(19h, 34min, 44s, 500ms));
  EXPECT_EQ(c.second_of_day(kReport), sec_of(19h, 34min, 44s));
}

TEST(ExchangeClockTest, NegativeOffsetIsBehindUtc) {
  const ExchangeClock c(-kIndia, kReport, kMono);  // -05:30
  EXPECT_EQ(c.date_string(), "2024-03-15");
  EXPECT_EQ(c.since_midnight(kMono).value(), ns_of(14h, 4min, 44s, 500ms));
  EXPECT_EQ(c.second_of_day(kReport), sec_of(14h, 4min, 44s));
}

TEST(ExchangeClockTest, NegativeOffsetIsStillYesterdayEarlyInTheUtcDay) {
  const system_clock::time_point t = sys_days{2024y / March / 1} + 2h;  // 21:00 on 29 February in New York
  const ExchangeClock c(-5 * 3600, t, kMono);
  EXPECT_EQ(c.date_string(), "2024-02-29");
  EXPECT_EQ(c.since_midnight(kMono).value(), ns_of(21h, 0min, 0s));
  EXPECT_EQ(c.second_of_day(t), sec_of(21h, 0min, 0s));
}

TEST(ExchangeClockTest, ExchangeMidnightStartsTheNewYear) {
  const system_clock::time_point t = sys_days{2023y / December / 31} + 16h;  // 00:00:00 in China
  const ExchangeClock c(kChina, t, kMono);
  EXPECT_EQ(c.date_string(), "2024-01-01");
  EXPECT_EQ(c.since_midnight(kMono).value(), 0u);
  EXPECT_EQ(c.second_of_day(t), 0u);
  EXPECT_EQ(c.midnight_mono_ns(), kMono);
}

TEST(ExchangeClockTest, TimestampsFollowTheMonotonicClock) {
  const ExchangeClock c(kChina, kReport, kMono);
  EXPECT_EQ(c.since_midnight(kMono + 1).value(), ns_of(3h, 34min, 44s, 500ms) + 1);
  EXPECT_EQ(c.since_midnight(kMono + 60 * kSec).value(), ns_of(3h, 35min, 44s, 500ms));
  EXPECT_EQ(c.midnight_mono_ns() + ns_of(3h, 34min, 44s, 500ms), kMono);
}

TEST(ExchangeClockTest, RunningAcrossTheExchangesMidnightKeepsTheTradingDay) {
  // Built at 23:59:59 in China on 15 March; the process is still running 2 s later.
  const system_clock::time_point built = sys_days{2024y / March / 15} + 15h + 59min + 59s;
  const ExchangeClock c(kChina, built, kMono);
  EXPECT_EQ(c.date_string(), "2024-03-15");
  EXPECT_EQ(c.since_midnight(kMono).value(), ns_of(23h, 59min, 59s));
  // Timestamps go on past 24:00:00 (no wrap, no step back); the date stays the trading day's.
  EXPECT_EQ(c.since_midnight(kMono + 2 * kSec).value(), ns_of(24h, 0min, 1s));
  EXPECT_EQ(c.date_string(), "2024-03-15");
  // The schedule's time of day follows the wall clock and wraps at midnight.
  EXPECT_EQ(c.second_of_day(built), sec_of(23h, 59min, 59s));
  EXPECT_EQ(c.second_of_day(built + 2s), 1u);
  // A clock built after midnight (a restart) is on the new day.
  const ExchangeClock next(kChina, built + 2s, kMono + 2 * kSec);
  EXPECT_EQ(next.date_string(), "2024-03-16");
  EXPECT_EQ(next.since_midnight(kMono + 2 * kSec).value(), ns_of(0h, 0min, 1s));
}

TEST(ExchangeClockTest, MidnightBeforeTheMonotonicEpochStillGivesExactTimestamps) {
  // A machine booted 5 s before the clock was built, long after the exchange's midnight.
  const ExchangeClock c(kChina, kReport, 5 * kSec);
  EXPECT_EQ(c.since_midnight(6 * kSec).value(), ns_of(3h, 34min, 45s, 500ms));
}

TEST(ExchangeClockTest, SecondOfDayWrapsAtEveryExchangeMidnight) {
  const ExchangeClock c(kChina, kReport, kMono);
  const system_clock::time_point midnight = sys_days{2024y / March / 20} - 8h;  // 00:00 on 20 March in China
  EXPECT_EQ(c.second_of_day(midnight - 1s), 86399u);
  EXPECT_EQ(c.second_of_day(midnight), 0u);
  EXPECT_EQ(c.second_of_day(midnight + 500ms), 0u);
}

// The live clock reads no time zone: under a TZ far from the exchange's, it agrees with a
// clock built from the same instants.
TEST(ExchangeClockTest, TheProcessTimeZoneChangesNothing) {
  const char* old = std::getenv("TZ");
  const std::optional<std::string> saved = old ? std::optional<std::string>(old) : std::nullopt;
  ::setenv("TZ", "America/Los_Angeles", 1);
  ::tzset();
  const system_clock::time_point wall0 = system_clock::now();
  const std::uint64_t mono0 = ExchangeClock::mono_now_ns();
  const ExchangeClock live(kChina);
  const system_clock::time_point wall1 = system_clock::now();
  const std::uint64_t mono1 = ExchangeClock::mono_now_ns();
  if (saved) {
    ::setenv("TZ", saved->c_str(), 1);
  } else {
    ::unsetenv("TZ");
  }
  ::tzset();
  const ExchangeClock before(kChina, wall0, mono0);
  const ExchangeClock after(kChina, wall1, mono1);
  // Built between the two fixed clocks: its midnight is theirs, up to the wall clock and the
  // monotonic clock drifting apart between the reads (far below a second). Differences are
  // taken modulo 2^64, as the origins are.
  const auto apart = [&](const ExchangeClock& other) {
    const auto d = static_cast<std::int64_t>(live.midnight_mono_ns() - other.midnight_mono_ns());
    return d < 0 ? -d : d;
  };
  EXPECT_LT(std::min(apart(before), apart(after)), static_cast<std::int64_t>(kSec));
  EXPECT_TRUE(live.date() == before.date() || live.date() == after.date());
}

}  // namespace
}  // namespace peregrine::app
