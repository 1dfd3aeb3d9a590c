#pragma once
/// Why the core refuses or cancels: values, never exceptions. Mapped to OUCH 4.2 codes at the edge
/// with to_ouch_reject_reason() / to_ouch_cancel_reason(). Any thread.

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
  UnknownSymbol = 1,    ///< symbol not configured                       OUCH 'S'
  UnknownFirm,          ///< firm id not configured                       OUCH 'O'
  InvalidSide,          ///< side is neither buy nor sell                 OUCH 'O'
  InvalidOrderType,     ///< unknown order type / TIF, or a bad combination OUCH 'O'
  InvalidQuantity,      ///< zero shares                                  OUCH 'Z'
  QuantityAboveMax,     ///< above the instrument's max order quantity    OUCH 'Z'
  InvalidLot,           ///< not a valid board lot                        OUCH 'e'
  InvalidMinQty,        ///< minimum quantity above the order quantity    OUCH 'N'
  InvalidPrice,         ///< zero, negative, too large or off tick        OUCH 'X'
  PriceOutsideLimits,   ///< outside the daily price limits               OUCH 'X'
  PriceOutsideCage,     ///< outside the price cage (STAR)                OUCH 'X'
  PostOnlyWouldCross,   ///< a post-only order would take liquidity       OUCH 'O'
  // trading state (32..)
  Halted = 32,          ///< instrument halted or suspended               OUCH 'H'
  MarketClosed,         ///< closed or in a break: no new orders          OUCH 'C'
  OrderTypeNotInPhase,  ///< market, IOC, FOK or min qty outside continuous trading OUCH 'O'
  PostOnlyNotInPhase,   ///< post-only outside continuous trading         OUCH 'O'
  CancelNotInPhase,     ///< cancel or replace in a call phase that forbids it (Cancel Reject)
  InvalidTransition,    ///< admin: a phase command the instrument's state does not allow
  // broker controls (48..)
  KillSwitch = 48,      ///< firm kill switch engaged                     OUCH 'a'
  FirmQuantityAboveMax, ///< above the firm's max order quantity          OUCH 'Z'
  FirmNotional,         ///< above the firm's max order notional          OUCH 'n'
  FirmOpenShares,       ///< would exceed the firm's max open shares      OUCH 'm'
  // order identity (64..)
  DuplicateToken = 64,  ///< token already used today by this owner       OUCH 'O'
  UnknownOrder,         ///< no live order with that token                (Cancel Reject)
  NothingToCancel,      ///< cancel target not below the open quantity    (Cancel Reject)
  // capacity (80..)
  OrderPoolFull = 80,   ///< no free order slot                           OUCH 'O'
  TokenTableFull,       ///< the day's token table is full                OUCH 'O'
  // gateway (96..)
  Gateway = 96,         ///< refused at the edge (EdgeReject command); the OUCH reason is the event's ref
};

/// Why a live order (or part of it) was cancelled.
enum class CancelReason : std::uint8_t {
  UserRequested = 1,  ///< OUCH 'U'
  Immediate,          ///< IOC/FOK/market remainder, or minimum quantity not met: OUCH 'I'
  SelfMatch,          ///< self-trade prevention: OUCH 'Q'
  Supervisory,        ///< kill switch / admin mass cancel: OUCH 'S'
  Halted,             ///< OUCH 'H'
  Disconnected,       ///< cancel-on-disconnect: OUCH 'U' (user logged off)
  System,             ///< OUCH 'Z'
  Expired,            ///< a day order still open at the close: OUCH 'T' (time in force expired)
};

/// OUCH 4.2 Rejected "Reject Reason" for a code ('O' "Other" where OUCH has nothing closer).
/// Gateway maps to 'O' here; proto::to_ouch takes the reason from the event's ref instead.
[[nodiscard]] constexpr char to_ouch_reject_reason(RejectCode c) noexcept {
  switch (c) {
    case RejectCode::UnknownSymbol: return 'S';
    case RejectCode::InvalidQuantity:
    case RejectCode::QuantityAboveMax:
    case RejectCode::FirmQuantityAboveMax: return 'Z';
    case RejectCode::InvalidLot: return 'e';
    case RejectCode::InvalidMinQty: return 'N';
    case RejectCode::InvalidPrice:
    case RejectCode::PriceOutsideLimits:
    case RejectCode::PriceOutsideCage: return 'X';
    case RejectCode::Halted: return 'H';
    case RejectCode::MarketClosed: return 'C';
    case RejectCode::KillSwitch: return 'a';
    case RejectCode::FirmNotional: return 'n';
    case RejectCode::FirmOpenShares: return 'm';
    default: return 'O';
  }
}

/// OUCH 4.2 Canceled "Reason".
[[nodiscard]] constexpr char to_ouch_cancel_reason(CancelReason r) noexcept {
  switch (r) {
    case CancelReason::UserRequested: return 'U';
    case CancelReason::Immediate: return 'I';
    case CancelReason::SelfMatch: return 'Q';
    case CancelReason::Supervisory: return 'S';
    case CancelReason::Halted: return 'H';
    case CancelReason::Disconnected: return 'U';
    case CancelReason::System: return 'Z';
    case CancelReason::Expired: return 'T';
  }
  return 'Z';
}

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
