// The market's day as a schedule of phases: the A-share day, and which phase holds at a time of
// day (docs/market-rules.md, "Trading phases").

#include "peregrine/config/service.hpp"

namespace peregrine::config {

std::vector<ScheduleStep> a_share_schedule() {
  constexpr auto at = [](std::uint32_t h, std::uint32_t m) { return h * 3600 + m * 60; };
  return {
      {at(9, 15), TradingStatus::OpeningCall},  {at(9, 20), TradingStatus::OpeningCallFrozen},
      {at(9, 25), TradingStatus::Break},        {at(9, 30), TradingStatus::Trading},
      {at(11, 30), TradingStatus::Break},       {at(13, 0), TradingStatus::Trading},
      {at(14, 57), TradingStatus::ClosingCall}, {at(15, 0), TradingStatus::Closed},
  };
}

TradingStatus phase_at(const std::vector<ScheduleStep>& schedule, std::uint32_t second_of_day) noexcept {
  TradingStatus phase = TradingStatus::Closed;
  for (const ScheduleStep& s : schedule) {
    if (s.second_of_day > second_of_day) break;
    phase = s.phase;
  }
  return phase;
}

std::uint32_t seconds_to_next_step(const std::vector<ScheduleStep>& schedule, std::uint32_t second_of_day) noexcept {
  if (schedule.empty()) return 0;
  for (const ScheduleStep& s : schedule) {
    if (s.second_of_day > second_of_day) return s.second_of_day - second_of_day;
  }
  return 86400 - second_of_day + schedule.front().second_of_day;
}

}  // namespace peregrine::config
