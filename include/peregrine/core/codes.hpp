#pragma once
/// Why the core refuses or cancels: values, never exceptions. The core knows no wire format: the
/// OUCH 4.2 characters for these codes are proto's (peregrine/proto/ouch_translate.hpp,
/// to_ouch_reject_reason() / to_ouch_cancel_reason()). Any thread.

#include <array>
#include <cstdint>
#include <string_view>
#include <utility>

#include "peregrine/core/types.hpp"

namespace peregrine {

/// Why a command was refused. Grouped by subsystem; a refused command changes no state.
enum class RejectCode : std::uint8_t {
  None = 0,
  // reference data and validation (1..)
  UnknownSymbol = 1,    ///< symbol not configured
  UnknownFirm,          ///< firm id not configured
  InvalidSide,          ///< side is neither buy nor sell
  InvalidOrderType,     ///< unknown order type / TIF, or a bad combination
  InvalidQuantity,      ///< zero shares
  QuantityAboveMax,     ///< above the instrument's max order quantity
  InvalidLot,           ///< not a valid board lot
  InvalidMinQty,        ///< minimum quantity above the order quantity
  InvalidPrice,         ///< zero, negative, too large or off tick
  PriceOutsideLimits,   ///< outside the daily price limits
  PriceOutsideCage,     ///< outside the price cage (STAR)
  PostOnlyWouldCross,   ///< a post-only order would take liquidity
  // trading state (32..)
  Halted = 32,          ///< instrument halted or suspended
  MarketClosed,         ///< closed or in a break: no new orders
  OrderTypeNotInPhase,  ///< market, IOC, FOK or min qty outside continuous trading
  PostOnlyNotInPhase,   ///< post-only outside continuous trading
  CancelNotInPhase,     ///< cancel or replace in a call phase that forbids it (Cancel Reject)
  InvalidTransition,    ///< admin: a phase command the instrument's state does not allow
  // broker controls (48..)
  KillSwitch = 48,      ///< firm kill switch engaged
  FirmQuantityAboveMax, ///< above the firm's max order quantity
  FirmNotional,         ///< above the firm's max order notional
  FirmOpenShares,       ///< would exceed the firm's max open shares
  // order identity (64..)
  DuplicateToken = 64,  ///< token already used today by this owner
  UnknownOrder,         ///< no live order with that token                (Cancel Reject)
  NothingToCancel,      ///< cancel target not below the open quantity    (Cancel Reject)
  // capacity (80..)
  OrderPoolFull = 80,   ///< no free order slot
  TokenTableFull,       ///< the day's token table is full
  // gateway (96..)
  Gateway = 96,         ///< refused at the edge (EdgeReject command); the edge's own reason is the event's ref
};

/// Why a live order (or part of it) was cancelled.
enum class CancelReason : std::uint8_t {
  UserRequested = 1,  ///< the owner asked for it
  Immediate,          ///< IOC/FOK/market remainder, or minimum quantity not met
  SelfMatch,          ///< self-trade prevention
  Supervisory,        ///< kill switch / admin mass cancel
  Halted,             ///< the instrument was halted or suspended
  Disconnected,       ///< cancel-on-disconnect (the user logged off)
  System,             ///< a system cancel
  Expired,            ///< a day order still open at the close (time in force expired)
};

/// Every trading phase, and its stable name (configuration, admin API, logs, metrics labels).
inline constexpr std::array<std::pair<TradingStatus, std::string_view>, 9> kTradingStatusNames{{
    {TradingStatus::Trading, "trading"},
    {TradingStatus::Halted, "halted"},
    {TradingStatus::Suspended, "suspended"},
    {TradingStatus::Closed, "closed"},
    {TradingStatus::OpeningCall, "opening_call"},
    {TradingStatus::OpeningCallFrozen, "opening_call_frozen"},
    {TradingStatus::Break, "break"},
    {TradingStatus::ClosingCall, "closing_call"},
    {TradingStatus::ResumeCall, "resume_call"},
}};

[[nodiscard]] constexpr std::string_view to_string(TradingStatus s) noexcept {
  for (const auto& [status, name] : kTradingStatusNames)
    if (status == s) return name;
  return "unknown";
}

/// A short stable name for logs and metrics labels.
[[nodiscard]] std::string_view to_string(RejectCode c) noexcept;
/// A short stable name for logs and metrics labels.
[[nodiscard]] std::string_view to_string(CancelReason r) noexcept;

}  // namespace peregrine
