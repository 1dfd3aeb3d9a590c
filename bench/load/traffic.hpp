#pragma once
// The order flow peregrine-bench sends, generated from a seed: instruments drawn with a Zipf skew
// (a few hot symbols), each with a mid price random-walking on its tick well inside the daily
// limits; a mix of passive new orders near the touch, cancels, replaces and aggressive IOC orders
// that trade. The generator decides *what* to send; the session decides which live order a
// cancel or replace names (it alone knows which are live).

#include <cstdint>
#include <random>
#include <vector>

#include "peregrine/core/config.hpp"
#include "peregrine/core/types.hpp"

namespace peregrine::bench {

/// Percent of each kind of message; they need not sum to 100 (they are weights).
struct Mix {
  double passive = 60;     ///< new day limit order 1-10 ticks behind the mid (rests, near the touch)
  double cancel = 25;      ///< full cancel of one of the session's live orders
  double replace = 10;     ///< new price (+-0..2 ticks) and size for a live order
  double aggressive = 5;   ///< IOC limit order 5 ticks through the mid: trades with what rests
};

enum class MsgKind : std::uint8_t { Passive, Cancel, Replace, Aggressive };

/// One instrument as the generator sees it.
struct InstrumentModel {
  Symbol symbol;
  std::int64_t tick = 100;
  std::uint32_t lot = 100;
  std::uint32_t min_qty = 100;
  std::int64_t lo = 0;   ///< lowest price the walk may reach (inside the limit down)
  std::int64_t hi = 0;   ///< highest (inside the limit up)
  std::int64_t mid = 0;  ///< current mid, on tick
};

/// A new order's fields (limit price on tick unless `invalid`).
struct NewOrder {
  std::uint32_t instrument = 0;
  char side = 'B';
  std::uint32_t shares = 0;
  std::uint32_t price = 0;
  bool ioc = false;
  bool invalid = false;  ///< deliberately off tick: must be Rejected (X invalid price)
};

class Traffic {
 public:
  /// `instruments` from the engine configuration; the walk stays within the inner
  /// `walk_pct` percent of each instrument's limits band.
  Traffic(const std::vector<InstrumentConfig>& instruments, const Mix& mix, double zipf, double reject_ratio,
          std::uint64_t seed);

  /// The kind of the next message.
  [[nodiscard]] MsgKind next_kind();
  /// A passive (or, with `aggressive`, a crossing IOC) new order; moves the instrument's mid.
  [[nodiscard]] NewOrder new_order(bool aggressive);
  /// A replacement price and size for a live order of `instrument` at `price`.
  void replace_terms(std::uint32_t instrument, std::uint32_t old_price, std::uint32_t& price, std::uint32_t& shares);
  /// Uniform in [0, n).
  [[nodiscard]] std::uint32_t pick(std::uint32_t n) { return static_cast<std::uint32_t>(rng_() % n); }

  [[nodiscard]] const std::vector<InstrumentModel>& instruments() const noexcept { return inst_; }

 private:
  std::uint32_t draw_instrument();
  std::uint32_t draw_shares(const InstrumentModel& m);
  void walk(InstrumentModel& m);

  std::vector<InstrumentModel> inst_;
  std::vector<double> cdf_;  ///< Zipf cumulative weights
  double kind_cdf_[4] = {};
  double reject_ratio_;
  std::mt19937_64 rng_;
  std::uniform_real_distribution<double> unit_{0.0, 1.0};
};

}  // namespace peregrine::bench
