// The market section: the day's schedule of phases (a_share, continuous or a list of {at, phase}),
// the exchange's UTC offset, and halt and resumption rules (docs/market-rules.md).

#include <algorithm>
#include <string>
#include <vector>

#include "yaml_reader.hpp"

namespace peregrine::config::detail {

// --- market ------------------------------------------------------------------------------------

std::uint32_t Parser::read_time_of_day(const YAML::Node& node, int line, const std::string& path) const {
  const std::string what = "a time of day \"HH:MM\" or \"HH:MM:SS\"";
  if (!node.IsScalar()) fail(line, path, "must be " + what);
  const std::string t = node.Scalar();
  const auto two = [&](std::size_t at, unsigned max) -> std::uint32_t {
    if (at + 2 > t.size() || !all_digits(t.substr(at, 2))) fail(line, path, "must be " + what + ", got " + in_quotes(t));
    const unsigned v = static_cast<unsigned>((t[at] - '0') * 10 + (t[at + 1] - '0'));
    if (v > max) fail(line, path, "must be " + what + ", got " + in_quotes(t));
    return v;
  };
  if ((t.size() != 5 && t.size() != 8) || t[2] != ':' || (t.size() == 8 && t[5] != ':'))
    fail(line, path, "must be " + what + ", got " + in_quotes(t));
  const std::uint32_t h = two(0, 23);
  const std::uint32_t m = two(3, 59);
  const std::uint32_t sec = t.size() == 8 ? two(6, 59) : 0;
  return h * 3600 + m * 60 + sec;
}

const std::array<Parser::Field<ServiceConfig>, 6> Parser::kMarketFields{{
    {"schedule",
     [](const Parser& p, const Entry& e, const std::string& path, ServiceConfig& c) {
       MarketConfig& m = c.market;
       if (e.value.IsScalar()) {
         const std::string v = e.value.Scalar();
         if (v == "a_share") {
           m.scheduled = true;
           m.schedule = a_share_schedule();
         } else if (v == "continuous") {
           m.scheduled = false;
           m.schedule.clear();
         } else {
           p.fail(e.line, path, "must be a_share, continuous or a list of {at, phase}; got " + in_quotes(v));
         }
         return;
       }
       if (!e.value.IsSequence() || e.value.size() == 0)
         p.fail(e.line, path, "must be a_share, continuous or a non-empty list of {at, phase}");
       m.scheduled = true;
       m.schedule.clear();
       std::size_t i = 0;
       for (const YAML::Node& item : e.value) {
         const int line = std::max(e.line, line_of(item.Mark()));
         std::string ip = path;
         ip += '[';
         ip += std::to_string(i++);
         ip += ']';
         if (!item.IsMap() || !item["at"] || !item["phase"] || item.size() != 2)
           p.fail(line, ip, "must be a map with exactly the keys at and phase");
         ScheduleStep step;
         step.second_of_day = p.read_time_of_day(item["at"], line, join(ip, "at"));
         const Entry pe{"phase", line, item["phase"]};
         step.phase = p.read_choice(pe, join(ip, "phase"), kStatuses);
         if (!is_session_phase(step.phase))
           p.fail(line, join(ip, "phase"), "must be a phase of the market's day (not halted, suspended or resume_call)");
         if (!m.schedule.empty() && step.second_of_day <= m.schedule.back().second_of_day)
           p.fail(line, join(ip, "at"), "must be later than the step before it");
         m.schedule.push_back(step);
       }
     }},
    {"utc_offset",
     [](const Parser& p, const Entry& e, const std::string& path, ServiceConfig& c) {
       const std::string t = p.read_text(e, path, "an offset such as \"+08:00\"");
       if (t.size() != 6 || (t[0] != '+' && t[0] != '-') || t[3] != ':' || !all_digits(t.substr(1, 2)) ||
           !all_digits(t.substr(4, 2)))
         p.fail(e.line, path, "must be an offset such as \"+08:00\", got " + in_quotes(t));
       const int h = (t[1] - '0') * 10 + (t[2] - '0');
       const int m = (t[4] - '0') * 10 + (t[5] - '0');
       if (h > 14 || m > 59) p.fail(e.line, path, "must be between -14:00 and +14:00, got " + in_quotes(t));
       c.market.utc_offset_seconds = (t[0] == '-' ? -1 : 1) * (h * 3600 + m * 60);
     }},
    {"halt_accepts_orders",
     [](const Parser& p, const Entry& e, const std::string& path, ServiceConfig& c) {
       c.engine.halt_accepts_orders = p.read_choice(e, path, kBools);
     }},
    {"halt_accepts_cancels",
     [](const Parser& p, const Entry& e, const std::string& path, ServiceConfig& c) {
       c.engine.halt_accepts_cancels = p.read_choice(e, path, kBools);
     }},
    {"resume_via_call",
     [](const Parser& p, const Entry& e, const std::string& path, ServiceConfig& c) {
       c.market.resume_via_call = p.read_choice(e, path, kBools);
     }},
    {"resume_call_seconds",
     [](const Parser& p, const Entry& e, const std::string& path, ServiceConfig& c) {
       c.market.resume_call_seconds = static_cast<std::uint32_t>(p.read_number(e, path, kCount));
     }},
}};
const std::array<std::string_view, 6> Parser::kMarketKeys = keys_of(kMarketFields);

void Parser::read_market(const Entry& section, ServiceConfig& svc) {
  for (const Entry& e : read_single(section, "market", kMarketKeys)) {
    for (const auto& f : kMarketFields) {
      if (f.key == e.key) f.read(*this, e, join("market", e.key), svc);
    }
  }
}

}  // namespace peregrine::config::detail
