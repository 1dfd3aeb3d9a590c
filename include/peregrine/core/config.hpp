#pragma once
/// Reference data for the core: instruments, firms and capacities. Plain values; loading from a
/// file lives in peregrine/config (native builds only). Startup only, any thread.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "peregrine/core/types.hpp"

namespace peregrine {

/// One instrument's market rules. Prices in 1/10000 currency units.
struct InstrumentConfig {
  Symbol symbol;             ///< six digits, e.g. "600519"
  std::string name;          ///< display name, for docs and admin output only
  Price tick{100};           ///< price step; 0.01 CNY
  Qty lot_size{100};         ///< buys are multiples of this
  Qty min_qty{100};          ///< buys are at least this (STAR: 200 with lot_size 1)
  bool odd_lot_sell = true;  ///< sells may be any quantity (the odd remainder goes in one order)
  Qty max_order_qty{1000000};
  Price reference_price;     ///< previous close; price limits derive from it
  std::uint32_t limit_bps = 1000;  ///< daily limit, basis points: 1000 = ±10 %
  std::uint32_t cage_bps = 0;      ///< price cage, basis points (STAR: 200); 0 = none
  TradingStatus initial_status = TradingStatus::Trading;
};

/// One firm's broker-side controls. A limit of 0 means "no limit".
struct FirmConfig {
  FirmName name;                      ///< OUCH Firm / ITCH MPID
  StpMode stp = StpMode::None;
  Qty max_order_qty{0};
  std::int64_t max_order_notional = 0;  ///< price units × shares (1 CNY = 10000)
  std::uint64_t max_open_shares = 0;    ///< open shares over all the firm's live orders
};

struct EngineConfig {
  std::vector<InstrumentConfig> instruments;  ///< InstrumentId = index + 1
  std::vector<FirmConfig> firms;              ///< FirmId = index
  std::uint32_t max_orders = 1u << 20;        ///< live orders (pool size)
  std::uint32_t max_tokens = 1u << 22;        ///< tokens accepted in a day (all owners)
  /// While an instrument is Halted: are new orders (and replaces) accepted? They rest unmatched
  /// until the instrument resumes (through an uncross when the book is crossed).
  bool halt_accepts_orders = false;
  /// While an instrument is Halted or Suspended: are cancels accepted?
  bool halt_accepts_cancels = true;
};

/// Daily price limits of an instrument.
struct PriceLimits {
  Price down;
  Price up;
};

/// reference × (1 ± bps/10000), each rounded half up to the tick (SSE/SZSE rule).
[[nodiscard]] PriceLimits compute_price_limits(Price reference, std::uint32_t bps, Price tick) noexcept;

/// What is wrong with a configuration: which list, which entry, which field, and why.
/// A problem with a whole list has `field` equal to `section` and index 0. Field names are the
/// configuration file's keys (`limit_pct`, `cage_pct`), not the member names.
struct ConfigIssue {
  std::string section;  ///< "instruments", "firms" or "engine"
  std::size_t index;    ///< entry in that list (0 for "engine")
  std::string field;    ///< e.g. "tick"
  std::string message;
};

/// The first problem with `cfg`, or nothing when the core can run it.
[[nodiscard]] std::optional<ConfigIssue> check_config(const EngineConfig& cfg);

}  // namespace peregrine
