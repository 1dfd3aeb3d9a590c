#include "peregrine/replay/day_start.hpp"

#include <cstring>

namespace peregrine::replay {

TradingStatus start_phase(const config::ServiceConfig& cfg, const RecoveryPlan& plan, std::uint32_t second_of_day) {
  if (plan.start) return plan.start->session;
  if (!cfg.market.scheduled) return TradingStatus::Trading;
  return config::phase_at(cfg.market.schedule, second_of_day);
}

EngineConfig engine_config_for_start(const EngineConfig& base, TradingStatus session) {
  EngineConfig e = base;
  for (InstrumentConfig& i : e.instruments) {
    if (i.initial_status == TradingStatus::Trading) i.initial_status = session;
  }
  return e;
}

std::optional<journal::StartRecord> decode_start(std::span<const std::uint8_t> payload) noexcept {
  journal::StartRecord s;
  if (payload.size() != sizeof s) return std::nullopt;
  std::memcpy(&s, payload.data(), sizeof s);
  if (!is_known_status(s.session)) return std::nullopt;
  return s;
}

std::vector<std::uint8_t> save_service_section(const journal::StartRecord& start) {
  std::vector<std::uint8_t> out(sizeof start);
  std::memcpy(out.data(), &start, sizeof start);
  return out;
}

std::optional<journal::StartRecord> load_service_section(std::span<const std::uint8_t> bytes) {
  return decode_start(bytes);
}

}  // namespace peregrine::replay
