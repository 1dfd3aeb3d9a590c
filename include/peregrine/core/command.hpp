#pragma once
/// Commands into the matching core: fixed-size, trivially copyable, 64 bytes, so they travel
/// through SPSC rings and the journal as plain bytes. Build them with the make_* helpers,
/// which zero every byte (padding included) so equal commands are equal byte for byte.

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "peregrine/core/codes.hpp"
#include "peregrine/core/types.hpp"

namespace peregrine {

enum class CommandType : std::uint8_t {
  NewOrder = 1,
  Cancel = 2,
  Replace = 3,
  MassCancel = 4,
  SetKillSwitch = 5,
  SetTradingStatus = 6,
  EdgeReject = 7,
};

/// Enter an order (OUCH Enter Order 'O').
struct NewOrderCmd {
  OwnerId owner;
  FirmId firm;
  Side side;
  OrderType type;
  TimeInForce tif;
  std::uint8_t post_only;  ///< 1 = post-only (OUCH display 'P'): rejected if it would take
  Symbol symbol;
  Token token;
  Qty qty;
  Qty min_qty;  ///< 0 = none; FOK implies min_qty = qty
  Price price;  ///< limit price; ignored for market types
};

/// Cancel or reduce an order (OUCH Cancel Order 'X'): its open quantity becomes `target_qty`.
struct CancelCmd {
  OwnerId owner;
  Token token;
  Qty target_qty;  ///< 0 = cancel all that is open
};

/// Replace an order (OUCH Replace Order 'U'): new token, price and open quantity; same side,
/// symbol and firm. OUCH's minimum quantity is not carried: it applies on entry only, so the
/// gateway refuses a replace with a non-zero minimum quantity (OUCH 'N') before it gets here.
struct ReplaceCmd {
  OwnerId owner;
  TimeInForce tif;  ///< must be Day
  std::uint8_t post_only;
  Token existing;
  Token replacement;
  Qty qty;  ///< the replacement's open quantity
  Price price;
};

/// Cancel every live order that matches: one firm, optionally one owner and one instrument.
struct MassCancelCmd {
  FirmId firm;
  InstrumentId instrument;  ///< 0 = every instrument
  OwnerId owner;            ///< 0 = every owner of the firm
  CancelReason reason;
};

/// Engage or release a firm's kill switch; while engaged every new order and replace is refused.
struct SetKillSwitchCmd {
  FirmId firm;
  std::uint8_t engaged;
  std::uint8_t cancel_open;  ///< 1 = also cancel the firm's live orders (reason Supervisory)
};

/// How a trading-status command applies (docs/market-rules.md, "Trading phases").
enum class StatusAction : std::uint8_t {
  /// Admin: the instrument takes `status` now, whatever its state (a session phase also becomes
  /// its session phase).
  Set = 0,
  /// The market's schedule: `status` (a session phase) becomes the session phase; a halted or
  /// suspended instrument stays so, one in a resumption call joins a call phase or stays.
  Schedule = 1,
  /// Admin: end a halt, suspension or resumption call. With `status` = ResumeCall the
  /// instrument first goes through a resumption call when its session is continuous trading;
  /// otherwise it takes its session phase.
  Resume = 2,
};

/// Change an instrument's trading phase (instrument 0 = every instrument, Schedule only).
struct SetTradingStatusCmd {
  InstrumentId instrument;
  TradingStatus status;
  StatusAction action;
};

/// A message the gateway refused before the core (InboundGate: translation, throttle, a full
/// ring). The core only answers it with one Rejected event (code Gateway, ref = `reason`) so
/// that the refusal is sequenced, journaled and replayed like every other reply; it changes no
/// state. `reason` is the gateway's OUCH reject reason, opaque to the core.
struct EdgeRejectCmd {
  OwnerId owner;
  Token token;
  std::uint8_t reason;
};

/// One command. `ts` is stamped by the caller (gateway or replay); the core reads no clock.
struct Command {
  CommandType type;
  std::uint8_t reserved_[7];
  Timestamp ts;
  union {
    NewOrderCmd new_order;
    CancelCmd cancel;
    ReplaceCmd replace;
    MassCancelCmd mass_cancel;
    SetKillSwitchCmd kill_switch;
    SetTradingStatusCmd trading_status;
    EdgeRejectCmd edge_reject;
  };
};

static_assert(std::is_trivially_copyable_v<Command>);
static_assert(sizeof(Command) == 64, "a command is one cache line");

namespace detail {
inline Command blank_command(CommandType t, Timestamp ts) noexcept {
  Command c;
  std::memset(static_cast<void*>(&c), 0, sizeof c);
  c.type = t;
  c.ts = ts;
  return c;
}
}  // namespace detail

/// A limit (or market, by `type`) order. `price` is ignored for market types.
inline Command make_new_order(Timestamp ts, OwnerId owner, FirmId firm, Symbol symbol, Token token,
                              Side side, Qty qty, Price price,
                              OrderType type = OrderType::Limit,
                              TimeInForce tif = TimeInForce::Day, Qty min_qty = Qty{0},
                              bool post_only = false) noexcept {
  Command c = detail::blank_command(CommandType::NewOrder, ts);
  c.new_order.owner = owner;
  c.new_order.firm = firm;
  c.new_order.side = side;
  c.new_order.type = type;
  c.new_order.tif = tif;
  c.new_order.post_only = post_only ? 1 : 0;
  c.new_order.symbol = symbol;
  c.new_order.token = token;
  c.new_order.qty = qty;
  c.new_order.min_qty = min_qty;
  c.new_order.price = price;
  return c;
}

inline Command make_cancel(Timestamp ts, OwnerId owner, Token token, Qty target_qty = Qty{0}) noexcept {
  Command c = detail::blank_command(CommandType::Cancel, ts);
  c.cancel.owner = owner;
  c.cancel.token = token;
  c.cancel.target_qty = target_qty;
  return c;
}

inline Command make_replace(Timestamp ts, OwnerId owner, Token existing, Token replacement, Qty qty,
                            Price price, TimeInForce tif = TimeInForce::Day,
                            bool post_only = false) noexcept {
  Command c = detail::blank_command(CommandType::Replace, ts);
  c.replace.owner = owner;
  c.replace.tif = tif;
  c.replace.post_only = post_only ? 1 : 0;
  c.replace.existing = existing;
  c.replace.replacement = replacement;
  c.replace.qty = qty;
  c.replace.price = price;
  return c;
}

inline Command make_mass_cancel(Timestamp ts, FirmId firm, InstrumentId instrument = InstrumentId{0},
                                OwnerId owner = OwnerId{0},
                                CancelReason reason = CancelReason::Supervisory) noexcept {
  Command c = detail::blank_command(CommandType::MassCancel, ts);
  c.mass_cancel.firm = firm;
  c.mass_cancel.instrument = instrument;
  c.mass_cancel.owner = owner;
  c.mass_cancel.reason = reason;
  return c;
}

inline Command make_kill_switch(Timestamp ts, FirmId firm, bool engaged, bool cancel_open) noexcept {
  Command c = detail::blank_command(CommandType::SetKillSwitch, ts);
  c.kill_switch.firm = firm;
  c.kill_switch.engaged = engaged ? 1 : 0;
  c.kill_switch.cancel_open = cancel_open ? 1 : 0;
  return c;
}

inline Command make_trading_status(Timestamp ts, InstrumentId instrument, TradingStatus status,
                                   StatusAction action = StatusAction::Set) noexcept {
  Command c = detail::blank_command(CommandType::SetTradingStatus, ts);
  c.trading_status.instrument = instrument;
  c.trading_status.status = status;
  c.trading_status.action = action;
  return c;
}

/// The schedule's phase change for one instrument, or for all of them (InstrumentId{0}).
inline Command make_schedule_phase(Timestamp ts, InstrumentId instrument, TradingStatus phase) noexcept {
  return make_trading_status(ts, instrument, phase, StatusAction::Schedule);
}

/// Resume a halted or suspended instrument (through a resumption call when `via_call`), or end
/// its resumption call.
inline Command make_resume(Timestamp ts, InstrumentId instrument, bool via_call) noexcept {
  return make_trading_status(ts, instrument, via_call ? TradingStatus::ResumeCall : TradingStatus::Trading,
                             StatusAction::Resume);
}

/// The gateway's refusal of `token` from `owner`, for the core to sequence (EdgeRejectCmd).
inline Command make_edge_reject(Timestamp ts, OwnerId owner, Token token, std::uint8_t reason) noexcept {
  Command c = detail::blank_command(CommandType::EdgeReject, ts);
  c.edge_reject.owner = owner;
  c.edge_reject.token = token;
  c.edge_reject.reason = reason;
  return c;
}

}  // namespace peregrine
