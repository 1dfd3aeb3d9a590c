/// peregrine_differential: runs seeded random command streams through peregrine::Engine and
/// through the naive ReferenceBook (reference_book.hpp, written from docs/market-rules.md) and
/// requires identical events (byte for byte) and identical state hashes.
///
///   peregrine_differential [--commands N] [--seeds 1,2,3,4] [--quiet]
///
/// On the first difference it prints the command index, the last few commands, the command and
/// both event streams for it, and exits 1. Otherwise it prints one line per seed, counts by event
/// type / reject code / path (so one can see every path is exercised) and a summary line, and
/// exits 0. Exit 2 on bad arguments.

#include <array>
#include <cinttypes>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "differential/command_gen.hpp"
#include "differential/reference_book.hpp"
#include "peregrine/core/codes.hpp"
#include "peregrine/core/command.hpp"
#include "peregrine/core/config.hpp"
#include "peregrine/core/engine.hpp"
#include "peregrine/core/event.hpp"
#include "peregrine/core/types.hpp"

namespace {

using namespace peregrine;
using peregrine::differential::ReferenceBook;

// ------------------------------------------------------------------ names and formatting

/// A printable rendering of a one-byte enum: its character, or its number.
std::string ch(std::uint8_t v) {
  if (v >= 0x21 && v < 0x7f) return std::string(1, static_cast<char>(v));
  return "#" + std::to_string(v);
}

std::string_view event_name(EventType t) {
  switch (t) {
    case EventType::Accepted: return "Accepted";
    case EventType::Rejected: return "Rejected";
    case EventType::Executed: return "Executed";
    case EventType::Canceled: return "Canceled";
    case EventType::Replaced: return "Replaced";
    case EventType::CancelRejected: return "CancelRejected";
    case EventType::BookAdd: return "BookAdd";
    case EventType::BookExecute: return "BookExecute";
    case EventType::BookCancel: return "BookCancel";
    case EventType::BookDelete: return "BookDelete";
    case EventType::BookReplace: return "BookReplace";
    case EventType::TradingStatusChanged: return "TradingStatusChanged";
    case EventType::KillSwitchChanged: return "KillSwitchChanged";
    case EventType::CrossTrade: return "CrossTrade";
    case EventType::Indicative: return "Indicative";
  }
  return "?";
}

std::string_view reject_name(std::uint8_t c) {
  switch (static_cast<RejectCode>(c)) {
    case RejectCode::None: return "None";
    case RejectCode::UnknownSymbol: return "UnknownSymbol";
    case RejectCode::UnknownFirm: return "UnknownFirm";
    case RejectCode::InvalidSide: return "InvalidSide";
    case RejectCode::InvalidOrderType: return "InvalidOrderType";
    case RejectCode::InvalidQuantity: return "InvalidQuantity";
    case RejectCode::QuantityAboveMax: return "QuantityAboveMax";
    case RejectCode::InvalidLot: return "InvalidLot";
    case RejectCode::InvalidMinQty: return "InvalidMinQty";
    case RejectCode::InvalidPrice: return "InvalidPrice";
    case RejectCode::PriceOutsideLimits: return "PriceOutsideLimits";
    case RejectCode::PriceOutsideCage: return "PriceOutsideCage";
    case RejectCode::PostOnlyWouldCross: return "PostOnlyWouldCross";
    case RejectCode::Halted: return "Halted";
    case RejectCode::MarketClosed: return "MarketClosed";
    case RejectCode::OrderTypeNotInPhase: return "OrderTypeNotInPhase";
    case RejectCode::PostOnlyNotInPhase: return "PostOnlyNotInPhase";
    case RejectCode::CancelNotInPhase: return "CancelNotInPhase";
    case RejectCode::InvalidTransition: return "InvalidTransition";
    case RejectCode::KillSwitch: return "KillSwitch";
    case RejectCode::FirmQuantityAboveMax: return "FirmQuantityAboveMax";
    case RejectCode::FirmNotional: return "FirmNotional";
    case RejectCode::FirmOpenShares: return "FirmOpenShares";
    case RejectCode::DuplicateToken: return "DuplicateToken";
    case RejectCode::UnknownOrder: return "UnknownOrder";
    case RejectCode::NothingToCancel: return "NothingToCancel";
    case RejectCode::OrderPoolFull: return "OrderPoolFull";
    case RejectCode::TokenTableFull: return "TokenTableFull";
    case RejectCode::Gateway: return "Gateway";
  }
  return "?";
}

std::string_view cancel_reason_name(std::uint8_t c) {
  switch (static_cast<CancelReason>(c)) {
    case CancelReason::UserRequested: return "UserRequested";
    case CancelReason::Immediate: return "Immediate";
    case CancelReason::SelfMatch: return "SelfMatch";
    case CancelReason::Supervisory: return "Supervisory";
    case CancelReason::Halted: return "Halted";
    case CancelReason::Disconnected: return "Disconnected";
    case CancelReason::System: return "System";
    case CancelReason::Expired: return "Expired";
  }
  return "?";
}

std::string token_str(const Token& t) {
  std::string s = "'";
  for (char c : t.c) s += (c >= 0x20 && c < 0x7f) ? c : '?';
  return s + "'";
}

std::string symbol_str(const Symbol& t) {
  std::string s = "'";
  for (char c : t.c) s += (c >= 0x20 && c < 0x7f) ? c : '?';
  return s + "'";
}

std::string u(std::uint64_t v) { return std::to_string(v); }
std::string i64(std::int64_t v) { return std::to_string(v); }

std::string command_str(const Command& c) {
  std::string s = "ts=" + u(c.ts.value()) + " ";
  switch (c.type) {
    case CommandType::NewOrder: {
      const NewOrderCmd& o = c.new_order;
      s += "NewOrder owner=" + u(o.owner.value()) + " firm=" + u(o.firm.value()) + " sym=" + symbol_str(o.symbol) +
           " tok=" + token_str(o.token) + " side=" + ch(static_cast<std::uint8_t>(o.side)) +
           " type=" + ch(static_cast<std::uint8_t>(o.type)) + " tif=" + ch(static_cast<std::uint8_t>(o.tif)) +
           " post_only=" + u(o.post_only) + " qty=" + u(o.qty.value()) + " min_qty=" + u(o.min_qty.value()) +
           " price=" + i64(o.price.value());
      break;
    }
    case CommandType::Cancel:
      s += "Cancel owner=" + u(c.cancel.owner.value()) + " tok=" + token_str(c.cancel.token) +
           " target_qty=" + u(c.cancel.target_qty.value());
      break;
    case CommandType::Replace: {
      const ReplaceCmd& r = c.replace;
      s += "Replace owner=" + u(r.owner.value()) + " existing=" + token_str(r.existing) +
           " replacement=" + token_str(r.replacement) + " qty=" + u(r.qty.value()) + " price=" + i64(r.price.value()) +
           " tif=" + ch(static_cast<std::uint8_t>(r.tif)) + " post_only=" + u(r.post_only);
      break;
    }
    case CommandType::MassCancel:
      s += "MassCancel firm=" + u(c.mass_cancel.firm.value()) + " instrument=" + u(c.mass_cancel.instrument.value()) +
           " owner=" + u(c.mass_cancel.owner.value()) + " reason=" +
           std::string(cancel_reason_name(static_cast<std::uint8_t>(c.mass_cancel.reason)));
      break;
    case CommandType::SetKillSwitch:
      s += "SetKillSwitch firm=" + u(c.kill_switch.firm.value()) + " engaged=" + u(c.kill_switch.engaged) +
           " cancel_open=" + u(c.kill_switch.cancel_open);
      break;
    case CommandType::SetTradingStatus:
      s += "SetTradingStatus instrument=" + u(c.trading_status.instrument.value()) +
           " status=" + ch(static_cast<std::uint8_t>(c.trading_status.status));
      break;
    default: s += "type=#" + u(static_cast<std::uint8_t>(c.type)); break;
  }
  return s;
}

/// Every non-zero field of an event (so a stray byte shows up too).
std::string event_str(const Event& e) {
  std::string s(event_name(e.type));
  if (s == "?") s = "type=#" + u(static_cast<std::uint8_t>(e.type));
  if (e.side != Side{}) s += " side=" + ch(static_cast<std::uint8_t>(e.side));
  if (e.code != 0) {
    s += " code=" + u(e.code);
    if (e.type == EventType::Rejected || e.type == EventType::CancelRejected) {
      s += "(" + std::string(reject_name(e.code)) + ")";
    } else if (e.type == EventType::Canceled) {
      s += "(" + std::string(cancel_reason_name(e.code)) + ")";
    } else if (e.type == EventType::Executed || e.type == EventType::TradingStatusChanged) {
      s += "(" + ch(e.code) + ")";
    }
  }
  if (e.order_type != OrderType{}) s += " type=" + ch(static_cast<std::uint8_t>(e.order_type));
  if (e.tif != TimeInForce{}) s += " tif=" + ch(static_cast<std::uint8_t>(e.tif));
  if (e.post_only != 0) s += " post_only=" + u(e.post_only);
  if (e.instrument.value() != 0) s += " inst=" + u(e.instrument.value());
  if (e.owner.value() != 0) s += " owner=" + u(e.owner.value());
  if (e.firm.value() != 0) s += " firm=" + u(e.firm.value());
  if (e.reserved0_ != 0) s += " reserved0=" + u(e.reserved0_);
  if (e.order_id.value() != 0) s += " id=" + u(e.order_id.value());
  if (e.ref != 0) s += " ref=" + u(e.ref);
  if (e.price.value() != 0) s += " price=" + i64(e.price.value());
  if (e.qty.value() != 0) s += " qty=" + u(e.qty.value());
  if (e.leaves.value() != 0) s += " leaves=" + u(e.leaves.value());
  if (e.min_qty.value() != 0) s += " min_qty=" + u(e.min_qty.value());
  if (e.reserved1_ != 0) s += " reserved1=" + u(e.reserved1_);
  if (e.token != Token{}) s += " tok=" + token_str(e.token);
  if (e.token2 != Token{}) s += " tok2=" + token_str(e.token2);
  if (e.reserved2_ != 0) s += " reserved2=" + u(e.reserved2_);
  s += " ts=" + u(e.ts.value());
  return s;
}

// ------------------------------------------------------------------ coverage counters

/// Paths through the rules, counted from the reference's events so one can see what was exercised.
enum Path : std::size_t {
  kLimitDay,
  kLimitIoc,
  kLimitFok,
  kMinQty,
  kPostOnly,
  kMarketIoc,
  kMarketToLimit,
  kMarketToLimitRested,
  kMarketEmptySide,
  kMinQtyNotMet,
  kStpCancelNewest,
  kStpCancelOldest,
  kStpCancelBoth,
  kStpDecrement,
  kRestedAfterTrade,
  kMultiLevelSweep,
  kCancelFull,
  kCancelReduce,
  kReplaceKeepPriority,
  kReplaceKeepPriorityReduce,
  kReplaceMove,
  kReplaceCross,
  kMassCancelOrders,
  kKillSwitchCancelOrders,
  kKillSwitchEngage,
  kKillSwitchRelease,
  kHalt,
  kResume,
  kPathCount
};

constexpr std::array<std::string_view, kPathCount> kPathNames{
    "limit day accepted",
    "limit IOC accepted",
    "limit FOK accepted",
    "minimum-quantity order accepted",
    "post-only accepted",
    "market best-five IOC accepted",
    "market best-five to-limit accepted",
    "market to-limit remainder rested",
    "market order on an empty side",
    "minimum quantity not met",
    "STP cancel_newest",
    "STP cancel_oldest",
    "STP cancel_both",
    "STP decrement",
    "partly filled then rested",
    "trades at 2+ price levels in one command",
    "cancel (full)",
    "cancel (reduce)",
    "replace keeping priority",
    "replace keeping priority, smaller",
    "replace moving in the book",
    "replace crossing",
    "mass cancel that cancelled orders",
    "kill switch that cancelled orders",
    "kill switch engaged",
    "kill switch released",
    "halt",
    "resume",
};

struct Coverage {
  std::array<std::uint64_t, 256> events{};
  std::array<std::uint64_t, 256> rejects{};         ///< Rejected, by code
  std::array<std::uint64_t, 256> cancel_rejects{};  ///< CancelRejected, by code
  std::array<std::uint64_t, 256> cancel_reasons{};  ///< Canceled, by reason
  std::array<std::uint64_t, kPathCount> paths{};

  void add(const Coverage& o) {
    for (std::size_t i = 0; i < 256; ++i) {
      events[i] += o.events[i];
      rejects[i] += o.rejects[i];
      cancel_rejects[i] += o.cancel_rejects[i];
      cancel_reasons[i] += o.cancel_reasons[i];
    }
    for (std::size_t i = 0; i < kPathCount; ++i) paths[i] += o.paths[i];
  }

  /// Classifies one command's (matching) events.
  void count(const Command& c, const std::vector<Event>& ev, const EngineConfig& cfg) {
    std::int64_t first_trade_px = -1;
    bool multi_level = false;
    bool traded = false;
    std::size_t canceled_orders = 0;
    for (const Event& e : ev) {
      ++events[static_cast<std::uint8_t>(e.type)];
      switch (e.type) {
        case EventType::Rejected: ++rejects[e.code]; break;
        case EventType::CancelRejected: ++cancel_rejects[e.code]; break;
        case EventType::Canceled:
          ++cancel_reasons[e.code];
          ++canceled_orders;
          if (static_cast<CancelReason>(e.code) == CancelReason::SelfMatch && e.firm.value() < cfg.firms.size()) {
            switch (cfg.firms[e.firm.value()].stp) {
              case StpMode::CancelNewest: ++paths[kStpCancelNewest]; break;
              case StpMode::CancelOldest: ++paths[kStpCancelOldest]; break;
              case StpMode::CancelBoth: ++paths[kStpCancelBoth]; break;
              case StpMode::Decrement: ++paths[kStpDecrement]; break;
              case StpMode::None: break;
            }
          }
          break;
        case EventType::BookExecute:
          traded = true;
          if (first_trade_px < 0) first_trade_px = e.price.value();
          else if (first_trade_px != e.price.value()) multi_level = true;
          break;
        case EventType::Accepted:
          if (e.order_type == OrderType::Limit) {
            if (e.tif == TimeInForce::Day) ++paths[kLimitDay];
            if (e.tif == TimeInForce::Ioc) ++paths[kLimitIoc];
            if (e.tif == TimeInForce::Fok) ++paths[kLimitFok];
          }
          if (e.order_type == OrderType::MarketBestFiveIoc) ++paths[kMarketIoc];
          if (e.order_type == OrderType::MarketBestFiveToLimit) ++paths[kMarketToLimit];
          if (e.min_qty.value() != 0 && e.tif != TimeInForce::Fok) ++paths[kMinQty];
          if (e.post_only != 0) ++paths[kPostOnly];
          break;
        case EventType::Replaced:
          if (e.order_id.value() == e.ref) ++paths[kReplaceKeepPriority];
          break;
        case EventType::BookReplace: ++paths[kReplaceMove]; break;
        case EventType::KillSwitchChanged: ++paths[e.code != 0 ? kKillSwitchEngage : kKillSwitchRelease]; break;
        case EventType::TradingStatusChanged:
          ++paths[static_cast<TradingStatus>(e.code) == TradingStatus::Halted ? kHalt : kResume];
          break;
        default: break;
      }
    }
    if (multi_level) ++paths[kMultiLevelSweep];
    if (ev.empty()) return;
    const Event& first = ev.front();
    const Event& last = ev.back();
    if (c.type == CommandType::NewOrder && first.type == EventType::Accepted) {
      const bool market = first.order_type != OrderType::Limit;
      if (market && ev.size() == 2 && last.type == EventType::Canceled) {
        // Accepted + Canceled(Immediate) in full: empty side or minimum quantity not met.
        if (first.min_qty.value() != 0) ++paths[kMinQtyNotMet];
        else ++paths[kMarketEmptySide];
      } else if (!market && first.min_qty.value() != 0 && ev.size() == 2 && last.type == EventType::Canceled &&
                 static_cast<CancelReason>(last.code) == CancelReason::Immediate) {
        ++paths[kMinQtyNotMet];
      }
      if (traded && last.type == EventType::BookAdd) {
        ++paths[first.order_type == OrderType::MarketBestFiveToLimit ? kMarketToLimitRested : kRestedAfterTrade];
      }
    }
    if (c.type == CommandType::Cancel && first.type == EventType::Canceled) {
      ++paths[first.leaves.value() == 0 ? kCancelFull : kCancelReduce];
    }
    if (c.type == CommandType::Replace && first.type == EventType::Replaced) {
      if (ev.size() > 1 && ev[1].type == EventType::BookDelete) ++paths[kReplaceCross];
      if (first.order_id.value() == first.ref && ev.size() > 1 && ev[1].type == EventType::BookCancel)
        ++paths[kReplaceKeepPriorityReduce];
    }
    if (c.type == CommandType::MassCancel && canceled_orders > 0) ++paths[kMassCancelOrders];
    if (c.type == CommandType::SetKillSwitch && canceled_orders > 0) ++paths[kKillSwitchCancelOrders];
  }

  void print() const {
    std::printf("  events:");
    for (std::size_t i = 0; i < 256; ++i) {
      if (events[i] != 0) std::printf(" %s=%" PRIu64, std::string(event_name(static_cast<EventType>(i))).c_str(), events[i]);
    }
    std::printf("\n  rejects:");
    for (std::size_t i = 0; i < 256; ++i) {
      if (rejects[i] != 0) std::printf(" %s=%" PRIu64, std::string(reject_name(static_cast<std::uint8_t>(i))).c_str(), rejects[i]);
    }
    std::printf("\n  cancel rejects:");
    for (std::size_t i = 0; i < 256; ++i) {
      if (cancel_rejects[i] != 0)
        std::printf(" %s=%" PRIu64, std::string(reject_name(static_cast<std::uint8_t>(i))).c_str(), cancel_rejects[i]);
    }
    std::printf("\n  cancel reasons:");
    for (std::size_t i = 0; i < 256; ++i) {
      if (cancel_reasons[i] != 0)
        std::printf(" %s=%" PRIu64, std::string(cancel_reason_name(static_cast<std::uint8_t>(i))).c_str(),
                    cancel_reasons[i]);
    }
    std::printf("\n  paths:\n");
    for (std::size_t i = 0; i < kPathCount; ++i) {
      std::printf("    %-42s %" PRIu64 "\n", std::string(kPathNames[i]).c_str(), paths[i]);
    }
  }

  /// What a long enough run must have exercised; returns the names of what it did not.
  std::vector<std::string> missing() const {
    std::vector<std::string> m;
    // Every reject code except TokenTableFull (the token table is sized for the whole day).
    constexpr std::array<RejectCode, 20> kOrderRejects{
        RejectCode::UnknownSymbol,      RejectCode::UnknownFirm,        RejectCode::InvalidSide,
        RejectCode::InvalidOrderType,   RejectCode::InvalidQuantity,    RejectCode::QuantityAboveMax,
        RejectCode::InvalidLot,         RejectCode::InvalidMinQty,      RejectCode::InvalidPrice,
        RejectCode::PriceOutsideLimits, RejectCode::PriceOutsideCage,   RejectCode::PostOnlyWouldCross,
        RejectCode::Halted,             RejectCode::KillSwitch,         RejectCode::FirmQuantityAboveMax,
        RejectCode::FirmNotional,       RejectCode::FirmOpenShares,     RejectCode::DuplicateToken,
        RejectCode::UnknownOrder,       RejectCode::OrderPoolFull};
    for (RejectCode rc : kOrderRejects) {
      if (rejects[static_cast<std::uint8_t>(rc)] == 0) m.push_back("Rejected(" + std::string(reject_name(static_cast<std::uint8_t>(rc))) + ")");
    }
    for (RejectCode rc : {RejectCode::UnknownOrder, RejectCode::NothingToCancel}) {
      if (cancel_rejects[static_cast<std::uint8_t>(rc)] == 0)
        m.push_back("CancelRejected(" + std::string(reject_name(static_cast<std::uint8_t>(rc))) + ")");
    }
    for (CancelReason r : {CancelReason::UserRequested, CancelReason::Immediate, CancelReason::SelfMatch,
                           CancelReason::Supervisory, CancelReason::Disconnected}) {
      if (cancel_reasons[static_cast<std::uint8_t>(r)] == 0)
        m.push_back("Canceled(" + std::string(cancel_reason_name(static_cast<std::uint8_t>(r))) + ")");
    }
    for (EventType t : {EventType::Accepted, EventType::Rejected, EventType::Executed, EventType::Canceled,
                        EventType::Replaced, EventType::CancelRejected, EventType::BookAdd, EventType::BookExecute,
                        EventType::BookCancel, EventType::BookDelete, EventType::BookReplace,
                        EventType::TradingStatusChanged, EventType::KillSwitchChanged}) {
      if (events[static_cast<std::uint8_t>(t)] == 0) m.push_back("event " + std::string(event_name(t)));
    }
    for (std::size_t i = 0; i < kPathCount; ++i) {
      if (paths[i] == 0) m.push_back("path '" + std::string(kPathNames[i]) + "'");
    }
    return m;
  }
};

// ------------------------------------------------------------------ running

struct Collector {
  std::vector<Event> events;
  static void flush(void* ctx, const Event* ev, std::size_t n) noexcept {
    auto* self = static_cast<Collector*>(ctx);
    self->events.insert(self->events.end(), ev, ev + n);
  }
};

/// Our own reading of the price-limit rule (round half up to the tick), to check the core's
/// compute_price_limits (which the reference book uses) independently.
PriceLimits expected_limits(std::int64_t ref, std::uint32_t bps, std::int64_t tick) {
  const std::int64_t unit = tick * 10000;
  const std::int64_t down = (ref * (10000 - static_cast<std::int64_t>(bps)) + unit / 2) / unit * tick;
  const std::int64_t up = (ref * (10000 + static_cast<std::int64_t>(bps)) + unit / 2) / unit * tick;
  return PriceLimits{Price{down}, Price{up}};
}

bool check_price_limits(const EngineConfig& cfg) {
  bool ok = true;
  auto check = [&ok](std::int64_t ref, std::uint32_t bps, std::int64_t tick) {
    const PriceLimits want = expected_limits(ref, bps, tick);
    const PriceLimits got = compute_price_limits(Price{ref}, bps, Price{tick});
    if (want.down != got.down || want.up != got.up) {
      std::printf("compute_price_limits(%" PRId64 ", %u, %" PRId64 ") = [%" PRId64 ", %" PRId64
                  "], expected [%" PRId64 ", %" PRId64 "] (round half up to the tick)\n",
                  ref, bps, tick, got.down.value(), got.up.value(), want.down.value(), want.up.value());
      ok = false;
    }
  };
  // Hand-checked cases: 33300 x 0.95 = 31635 -> 31600, x 1.05 = 34965 -> 35000;
  // 10500 x 0.9 = 9450 -> 9500 (exact half goes up), x 1.1 = 11550 -> 11600.
  for (const auto& [ref, bps, down, up] : std::array<std::array<std::int64_t, 4>, 4>{{
           {33300, 500, 31600, 35000},
           {10500, 1000, 9500, 11600},
           {100000, 1000, 90000, 110000},
           {500000, 2000, 400000, 600000},
       }}) {
    const PriceLimits got = compute_price_limits(Price{ref}, static_cast<std::uint32_t>(bps), Price{100});
    if (got.down.value() != down || got.up.value() != up) {
      std::printf("compute_price_limits(%" PRId64 ", %" PRId64 ", 100) = [%" PRId64 ", %" PRId64 "], expected [%" PRId64
                  ", %" PRId64 "]\n",
                  ref, bps, got.down.value(), got.up.value(), down, up);
      ok = false;
    }
  }
  for (std::int64_t ref = 100; ref <= 200000; ref += 37) {
    for (std::uint32_t bps : {500u, 1000u, 2000u, 3000u}) check(ref, bps, 100);
  }
  for (std::int64_t ref = 1; ref <= 5000; ref += 3) check(ref, 1000, 1);
  Engine engine(cfg);
  for (std::size_t i = 0; i < cfg.instruments.size(); ++i) {
    const InstrumentConfig& ic = cfg.instruments[i];
    const PriceLimits want = expected_limits(ic.reference_price.value(), ic.limit_bps, ic.tick.value());
    const PriceLimits got = engine.limits(InstrumentId{static_cast<std::uint16_t>(i + 1)});
    if (want.down != got.down || want.up != got.up) {
      std::printf("Engine::limits(%zu) = [%" PRId64 ", %" PRId64 "], expected [%" PRId64 ", %" PRId64 "]\n", i + 1,
                  got.down.value(), got.up.value(), want.down.value(), want.up.value());
      ok = false;
    }
  }
  return ok;
}

/// Prints what differs between the engine's and the reference's observable state.
void print_state_diff(const Engine& engine, const ReferenceBook& ref, const EngineConfig& cfg) {
  const EngineStats st = engine.stats();
  std::printf("  live orders: engine %" PRIu64 ", reference %" PRIu64 "\n", st.live_orders, ref.live_orders());
  std::printf("  tokens used: engine %" PRIu64 ", reference %" PRIu64 "\n", st.tokens_used, ref.tokens_used());
  std::printf("  reference next order id %" PRIu64 ", next match %" PRIu64 "\n", ref.next_order_id(), ref.next_match());
  for (std::size_t f = 0; f < cfg.firms.size(); ++f) {
    const FirmId id{static_cast<std::uint16_t>(f)};
    std::printf("  firm %zu: open shares engine %" PRIu64 " reference %" PRIu64 ", kill switch engine %d reference %d\n",
                f, engine.firm_open_shares(id), ref.firm_open_shares(id), engine.kill_switch(id) ? 1 : 0,
                ref.kill_switch(id) ? 1 : 0);
  }
  for (std::size_t i = 0; i < cfg.instruments.size(); ++i) {
    const InstrumentId id{static_cast<std::uint16_t>(i + 1)};
    for (Side s : {Side::Buy, Side::Sell}) {
      const auto eb = engine.best(id, s);
      const auto rb = ref.best(id, s);
      const auto [rq, rn] = ref.side_totals(id, s);
      std::array<DepthLevel, 4096> depth{};
      const std::size_t n = engine.depth(id, s, depth.data(), depth.size());
      std::uint64_t eq = 0;
      std::uint64_t en = 0;
      for (std::size_t k = 0; k < n; ++k) {
        eq += depth[k].qty;
        en += depth[k].orders;
      }
      std::printf("  instrument %zu %c: best engine %" PRId64 " reference %" PRId64 "; qty/orders engine %" PRIu64
                  "/%" PRIu64 " reference %" PRIu64 "/%" PRIu64 "; status engine %c reference %c\n",
                  i + 1, static_cast<char>(s), eb ? eb->value() : -1, rb ? rb->value() : -1, eq, en, rq, rn,
                  static_cast<char>(engine.status(id)), static_cast<char>(ref.status(id)));
    }
  }
}

struct SeedResult {
  bool ok = true;
  std::uint64_t events = 0;
  std::uint64_t final_hash = 0;
  std::uint64_t command_digest = 0xcbf29ce484222325ULL;  ///< FNV-1a of every command's bytes
  Coverage coverage;
};

SeedResult run_seed(const EngineConfig& cfg, std::uint64_t seed, std::uint64_t commands) {
  SeedResult res;
  Engine engine(cfg);
  ReferenceBook ref(cfg);
  CommandGen gen(seed);
  Collector got;
  std::vector<Event> want;
  got.events.reserve(1024);
  want.reserve(1024);
  std::array<Event, 64> buffer{};
  EventSink sink(buffer.data(), buffer.size(), &Collector::flush, &got);
  std::deque<Command> history;  // the last few commands, for a failure report

  auto fail_header = [&](std::uint64_t index, const char* what) {
    std::printf("MISMATCH seed %" PRIu64 " command %" PRIu64 ": %s\n", seed, index, what);
    if (!history.empty()) {
      std::printf("  previous commands:\n");
      std::uint64_t k = index - history.size();
      for (const Command& h : history) std::printf("    [%" PRIu64 "] %s\n", k++, command_str(h).c_str());
    }
  };

  for (std::uint64_t i = 0; i < commands; ++i) {
    const Command cmd = gen.next();
    res.command_digest = fnv1a(&cmd, sizeof cmd, res.command_digest);
    got.events.clear();
    want.clear();
    engine.process(cmd, sink);
    sink.flush();
    ref.process(cmd, want);

    if (got.events != want) {
      fail_header(i, "events differ");
      std::printf("  command [%" PRIu64 "] %s\n", i, command_str(cmd).c_str());
      std::printf("  reference (expected), %zu events:\n", want.size());
      for (std::size_t k = 0; k < want.size(); ++k) {
        const bool diff = k >= got.events.size() || !(got.events[k] == want[k]);
        std::printf("  %s %2zu %s\n", diff ? "*" : " ", k, event_str(want[k]).c_str());
      }
      std::printf("  engine (actual), %zu events:\n", got.events.size());
      for (std::size_t k = 0; k < got.events.size(); ++k) {
        const bool diff = k >= want.size() || !(got.events[k] == want[k]);
        std::printf("  %s %2zu %s\n", diff ? "*" : " ", k, event_str(got.events[k]).c_str());
      }
      res.ok = false;
      return res;
    }
    res.events += want.size();
    res.coverage.count(cmd, want, cfg);

    history.push_back(cmd);
    if (history.size() > 12) history.pop_front();

    const bool last = i + 1 == commands;
    if ((i + 1) % 1000 == 0 || last) {
      if (!engine.validate_internal_state()) {
        fail_header(i, "Engine::validate_internal_state() failed");
        std::printf("  command [%" PRIu64 "] %s\n", i, command_str(cmd).c_str());
        res.ok = false;
        return res;
      }
    }
    if ((i + 1) % 10000 == 0 || last) {
      const std::uint64_t eh = engine.state_hash();
      const std::uint64_t rh = ref.state_hash();
      if (eh != rh) {
        fail_header(i, "state hashes differ");
        std::printf("  command [%" PRIu64 "] %s\n", i, command_str(cmd).c_str());
        std::printf("  engine 0x%016" PRIx64 " reference 0x%016" PRIx64 "\n", eh, rh);
        print_state_diff(engine, ref, cfg);
        res.ok = false;
        return res;
      }
      for (std::size_t f = 0; f < cfg.firms.size(); ++f) {  // the reference's own bookkeeping
        const FirmId id{static_cast<std::uint16_t>(f)};
        if (ref.firm_open_shares(id) != ref.firm_open_shares_counter(id)) {
          fail_header(i, "reference book: firm open-share counter drifted (bug in the test)");
          res.ok = false;
          return res;
        }
      }
      const EngineStats st = engine.stats();
      if (st.live_orders != ref.live_orders() || st.tokens_used != ref.tokens_used()) {
        fail_header(i, "engine stats differ from the reference");
        print_state_diff(engine, ref, cfg);
        res.ok = false;
        return res;
      }
      res.final_hash = eh;
    }
  }
  return res;
}

std::optional<std::uint64_t> parse_u64(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

int usage(const char* argv0) {
  std::fprintf(stderr, "usage: %s [--commands N] [--seeds S1,S2,...] [--quiet]\n", argv0);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t commands = 100000;
  std::vector<std::uint64_t> seeds{1, 2};
  bool quiet = false;
  for (int a = 1; a < argc; ++a) {
    const std::string_view arg = argv[a];
    if (arg == "--quiet") {
      quiet = true;
    } else if (arg == "--commands" && a + 1 < argc) {
      const auto v = parse_u64(argv[++a]);
      if (!v) return usage(argv[0]);
      commands = *v;
    } else if (arg == "--seeds" && a + 1 < argc) {
      seeds.clear();
      std::string_view list = argv[++a];
      while (!list.empty()) {
        const std::size_t comma = list.find(',');
        const auto v = parse_u64(list.substr(0, comma));
        if (!v) return usage(argv[0]);
        seeds.push_back(*v);
        list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
      }
      if (seeds.empty()) return usage(argv[0]);
    } else {
      return usage(argv[0]);
    }
  }

  const EngineConfig cfg = CommandGen::config();
  if (const auto issue = check_config(cfg)) {
    std::printf("CommandGen::config() is refused by check_config: %s[%zu].%s: %s\n", issue->section.c_str(),
                issue->index, issue->field.c_str(), issue->message.c_str());
    return 1;
  }
  if (!check_price_limits(cfg)) return 1;

  Coverage total;
  std::uint64_t total_events = 0;
  for (std::uint64_t seed : seeds) {
    const SeedResult r = run_seed(cfg, seed, commands);
    if (!r.ok) return 1;
    std::printf("seed %" PRIu64 ": %" PRIu64 " commands (digest 0x%016" PRIx64 "), %" PRIu64
                " events, final state hash 0x%016" PRIx64 ": identical\n",
                seed, commands, r.command_digest, r.events, r.final_hash);
    total.add(r.coverage);
    total_events += r.events;
  }
  if (!quiet) {
    std::printf("coverage over all seeds (from the reference's events):\n");
    total.print();
  }
  // A long enough run must reach every reachable reject code and path; a short one need not.
  const std::vector<std::string> missing = total.missing();
  if (!missing.empty()) {
    std::printf("not exercised:");
    for (const std::string& m : missing) std::printf(" %s;", m.c_str());
    std::printf("\n");
    if (commands * seeds.size() >= 100000) {
      std::printf("differential: FAILED: the command generator no longer reaches everything above\n");
      return 1;
    }
  }
  std::printf("differential: %" PRIu64 " commands x %zu seeds: events and state hashes identical (%" PRIu64
              " events)\n",
              commands, seeds.size(), total_events);
  return 0;
}
