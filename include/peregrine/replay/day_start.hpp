#pragma once
// How a trading day starts (docs/operations.md, "Recovery"): the phase it starts in, the day's
// Start record that keeps that phase (the journal's first record; a snapshot's Service section),
// and the engine configuration it implies. Recovery, the snapshot thread, `peregrine-journal
// replay` and the tests all start a day through these.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "peregrine/config/service.hpp"
#include "peregrine/core/config.hpp"
#include "peregrine/core/types.hpp"
#include "peregrine/journal/journal.hpp"
#include "peregrine/replay/recovery_plan.hpp"

namespace peregrine::replay {

/// The phase instruments configured as Trading start the day in: the phase the day's Start
/// record names when the day's journal exists (so a replay starts alike), else the schedule's
/// phase at `second_of_day` (exchange time; so no order is matched under a phase the market is
/// not in), or Trading without a schedule.
[[nodiscard]] TradingStatus start_phase(const config::ServiceConfig& cfg, const RecoveryPlan& plan,
                                        std::uint32_t second_of_day);

/// The engine configuration a day starts from: instruments configured as Trading start in
/// `session` (the schedule's phase when the day's journal began, as its Start record says);
/// every other instrument keeps its configured status. Any thread.
[[nodiscard]] EngineConfig engine_config_for_start(const EngineConfig& base, TradingStatus session);

/// The StartRecord in `payload` (a Start record's payload, or a snapshot's Service section), or
/// nothing when it is not one: not the record's size, or a phase no TradingStatus names.
[[nodiscard]] std::optional<journal::StartRecord> decode_start(std::span<const std::uint8_t> payload) noexcept;

/// The Service section of a snapshot: the day's Start record, byte for byte.
[[nodiscard]] std::vector<std::uint8_t> save_service_section(const journal::StartRecord& start);

/// The Start record a snapshot's Service section holds (decode_start).
[[nodiscard]] std::optional<journal::StartRecord> load_service_section(std::span<const std::uint8_t> bytes);

}  // namespace peregrine::replay
