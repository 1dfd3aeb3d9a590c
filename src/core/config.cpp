#include "peregrine/core/config.hpp"

#include <cstdint>
#include <limits>
#include <set>
#include <string>

namespace peregrine {

namespace {
constexpr std::int64_t kMaxWirePrice = std::numeric_limits<std::int32_t>::max();  // OUCH price field
constexpr std::int64_t kMaxLevels = std::int64_t{1} << 22;

std::int64_t round_half_up_to_tick(std::int64_t scaled, std::int64_t tick) noexcept {
  // `scaled` is price × 10000 (basis-point arithmetic); round to a whole tick.
  const std::int64_t unit = tick * 10000;
  return (scaled + unit / 2) / unit * tick;
}
}  // namespace

PriceLimits compute_price_limits(Price reference, std::uint32_t bps, Price tick) noexcept {
  const std::int64_t ref = reference.value();
  const std::int64_t b = bps;
  return PriceLimits{Price{round_half_up_to_tick(ref * (10000 - b), tick.value())},
                     Price{round_half_up_to_tick(ref * (10000 + b), tick.value())}};
}

std::optional<ConfigIssue> check_config(const EngineConfig& cfg) {
  auto issue = [](std::string section, std::size_t index, std::string field, std::string message) {
    return std::optional<ConfigIssue>(ConfigIssue{std::move(section), index, std::move(field), std::move(message)});
  };
  if (cfg.instruments.empty()) return issue("instruments", 0, "instruments", "at least one instrument is required");
  if (cfg.instruments.size() > 65534) return issue("instruments", 0, "instruments", "at most 65534 instruments");
  std::set<std::string> symbols;
  for (std::size_t i = 0; i < cfg.instruments.size(); ++i) {
    const InstrumentConfig& in = cfg.instruments[i];
    const std::string sym(in.symbol.view());
    if (sym.empty()) return issue("instruments", i, "symbol", "must not be blank");
    if (!symbols.insert(sym).second) return issue("instruments", i, "symbol", "duplicate symbol " + sym);
    if (in.tick.value() <= 0) return issue("instruments", i, "tick", "must be positive");
    if (in.tick.value() > kMaxWirePrice) return issue("instruments", i, "tick", "does not fit OUCH's price field");
    if (in.lot_size.value() == 0) return issue("instruments", i, "lot_size", "must be at least 1");
    if (in.min_qty.value() == 0) return issue("instruments", i, "min_qty", "must be at least 1");
    if (in.max_order_qty.value() < in.min_qty.value())
      return issue("instruments", i, "max_order_qty", "must be at least min_qty");
    if (in.reference_price.value() <= 0) return issue("instruments", i, "reference_price", "must be positive");
    if (in.reference_price.value() > kMaxWirePrice)
      return issue("instruments", i, "reference_price", "does not fit OUCH's price field");
    if (in.reference_price.value() % in.tick.value() != 0)
      return issue("instruments", i, "reference_price", "must be a multiple of the tick");
    if (in.limit_bps == 0 || in.limit_bps >= 10000)
      return issue("instruments", i, "limit_pct", "must be above 0 and below 100 percent");
    if (in.cage_bps >= 10000) return issue("instruments", i, "cage_pct", "must be below 100 percent");
    const PriceLimits lim = compute_price_limits(in.reference_price, in.limit_bps, in.tick);
    if (lim.down.value() <= 0) return issue("instruments", i, "limit_pct", "lower price limit is not above zero");
    if (lim.up.value() > kMaxWirePrice)
      return issue("instruments", i, "reference_price", "upper price limit does not fit OUCH's price field");
    if ((lim.up.value() - lim.down.value()) / in.tick.value() + 1 > kMaxLevels)
      return issue("instruments", i, "tick", "too many price levels between the limits (max 4194304)");
  }
  if (cfg.firms.empty()) return issue("firms", 0, "firms", "at least one firm is required");
  if (cfg.firms.size() > 65535) return issue("firms", 0, "firms", "at most 65535 firms");
  std::set<std::string> names;
  for (std::size_t i = 0; i < cfg.firms.size(); ++i) {
    const std::string name(cfg.firms[i].name.view());
    if (name.empty()) return issue("firms", i, "name", "must not be blank");
    if (!names.insert(name).second) return issue("firms", i, "name", "duplicate firm " + name);
    if (cfg.firms[i].max_order_notional < 0) return issue("firms", i, "max_order_notional", "must not be negative");
  }
  if (cfg.max_orders == 0 || cfg.max_orders > (1u << 30))
    return issue("engine", 0, "max_orders", "must be between 1 and 1073741824");
  if (cfg.max_tokens == 0 || cfg.max_tokens > (1u << 30))
    return issue("engine", 0, "max_tokens", "must be between 1 and 1073741824");
  return std::nullopt;
}

}  // namespace peregrine
