#pragma once
// Checks shared by new orders and replaces: phase, lot, price (limits and cage), exposure.
// Inline: on the hot path of matching.cpp, its only includer. Core-internal.

#include <cstdint>

#include "engine_state.hpp"

namespace peregrine::detail {

// Orders rest without matching: call phases, and a halt that accepts orders.
inline bool EngineState::resting_phase(const Book& b) const noexcept {
  return is_call_phase(b.status) || (b.status == TradingStatus::Halted && cfg.halt_accepts_orders);
}

// May a new order (or the new half of a replace) enter now?
inline RejectCode EngineState::entry_phase_check(const Book& b) const noexcept {
  switch (b.status) {
    case TradingStatus::Closed:
    case TradingStatus::Break: return RejectCode::MarketClosed;
    case TradingStatus::Suspended: return RejectCode::Halted;
    case TradingStatus::Halted: return cfg.halt_accepts_orders ? RejectCode::None : RejectCode::Halted;
    default: return RejectCode::None;
  }
}

// May a live order be cancelled or reduced by its owner now (a replace too)?
inline RejectCode EngineState::cancel_phase_check(const Book& b) const noexcept {
  switch (b.status) {
    case TradingStatus::OpeningCallFrozen:
    case TradingStatus::ClosingCall: return RejectCode::CancelNotInPhase;
    case TradingStatus::Halted:
    case TradingStatus::Suspended: return cfg.halt_accepts_cancels ? RejectCode::None : RejectCode::Halted;
    default: return RejectCode::None;
  }
}

inline bool EngineState::lot_ok(const Book& b, Side side, std::uint32_t qty) noexcept {
  if (side == Side::Sell && b.cfg.odd_lot_sell) return true;
  return qty >= b.cfg.min_qty.value() && qty % b.cfg.lot_size.value() == 0;
}

inline RejectCode EngineState::check_qty(const Book& b, const FirmState& f, Side side, std::uint32_t qty) const noexcept {
  if (qty == 0) return RejectCode::InvalidQuantity;
  if (qty > b.cfg.max_order_qty.value()) return RejectCode::QuantityAboveMax;
  if (f.cfg.max_order_qty.value() != 0 && qty > f.cfg.max_order_qty.value()) return RejectCode::FirmQuantityAboveMax;
  if (!lot_ok(b, side, qty)) return RejectCode::InvalidLot;
  return RejectCode::None;
}

inline RejectCode EngineState::check_price(const Book& b, Side side, std::int64_t price) const noexcept {
  if (price <= 0 || price > kMaxPrice || !b.on_tick(price)) return RejectCode::InvalidPrice;
  if (price < b.down || price > b.up) return RejectCode::PriceOutsideLimits;
  if (b.cfg.cage_bps != 0 && b.status == TradingStatus::Trading) {
    const std::int64_t bps = b.cfg.cage_bps;
    if (side == Side::Buy) {
      const std::int64_t base = cage_base(b, b.asks, b.bids);
      if (price * 10000 > base * (10000 + bps)) return RejectCode::PriceOutsideCage;
    } else {
      const std::int64_t base = cage_base(b, b.bids, b.asks);
      if (price * 10000 < base * (10000 - bps)) return RejectCode::PriceOutsideCage;
    }
  }
  return RejectCode::None;
}

inline std::int64_t EngineState::cage_base(const Book& b, const BookSide& first, const BookSide& second) noexcept {
  if (first.best != kNone) return b.price_of(first.best);
  if (second.best != kNone) return b.price_of(second.best);
  if (b.last_trade != 0) return b.last_trade;
  return b.cfg.reference_price.value();
}

inline bool EngineState::would_cross(const Book& b, Side side, std::int64_t price) const noexcept {
  const BookSide& opp = b.side(opposite(side));
  return opp.best != kNone && crosses(side, price, b.price_of(opp.best));
}

inline RejectCode EngineState::check_exposure(const FirmState& f, std::int64_t price, std::uint32_t qty,
                                              std::int64_t open_change) noexcept {
  if (f.cfg.max_order_notional != 0 && price * std::int64_t{qty} > f.cfg.max_order_notional)
    return RejectCode::FirmNotional;
  if (f.cfg.max_open_shares != 0 &&
      static_cast<std::int64_t>(f.open_shares) + open_change > static_cast<std::int64_t>(f.cfg.max_open_shares))
    return RejectCode::FirmOpenShares;
  return RejectCode::None;
}

}  // namespace peregrine::detail
