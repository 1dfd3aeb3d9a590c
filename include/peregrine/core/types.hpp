#pragma once
/// Strong value types shared by the matching core and its callers.
/// Prices use OUCH's scale: integers with 4 implied decimals (1 CNY = 10000).
/// Header-only, no OS calls: safe on any thread and in the wasm32-wasi build.

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace peregrine {

/// A value of representation `Rep` that does not mix with other strong values.
template <typename Tag, typename Rep>
class StrongValue {
 public:
  using rep = Rep;
  /// Uninitialised, like the built-in it wraps, so commands and events stay trivial.
  StrongValue() noexcept = default;
  constexpr explicit StrongValue(Rep v) noexcept : v_(v) {}
  [[nodiscard]] constexpr Rep value() const noexcept { return v_; }
  friend constexpr auto operator<=>(StrongValue, StrongValue) noexcept = default;

 private:
  Rep v_;
};

/// Price in 1/10000 of the currency unit (OUCH/ITCH "4 implied decimals").
using Price = StrongValue<struct PriceTag, std::int64_t>;
/// A number of shares.
using Qty = StrongValue<struct QtyTag, std::uint32_t>;
/// Engine-assigned order reference number (OUCH/ITCH "Order Reference Number"), from 1.
using OrderId = StrongValue<struct OrderIdTag, std::uint64_t>;
/// Engine-assigned match number, unique and increasing, from 1.
using MatchNumber = StrongValue<struct MatchNumberTag, std::uint64_t>;
/// A sequence number (journal, SoupBinTCP, MoldUDP64).
using Seq = StrongValue<struct SeqTag, std::uint64_t>;
/// The session user that owns an order; tokens are unique per owner. 0 is not a valid owner.
using OwnerId = StrongValue<struct OwnerIdTag, std::uint32_t>;
/// Index of a firm in the engine configuration (0-based).
using FirmId = StrongValue<struct FirmIdTag, std::uint16_t>;
/// ITCH "stock locate": index of an instrument in the configuration plus one. 0 = none.
using InstrumentId = StrongValue<struct InstrumentIdTag, std::uint16_t>;
/// Caller-supplied timestamp in nanoseconds; the core reads no clock.
using Timestamp = StrongValue<struct TimestampTag, std::uint64_t>;

inline constexpr std::int64_t kPriceScale = 10000;

/// Fixed-width, space-padded alphanumeric field (OUCH/ITCH "Alpha").
template <std::size_t N>
struct Alpha {
  std::array<char, N> c;

  /// Pads `s` with spaces; longer input is cut at N characters.
  static constexpr Alpha from(std::string_view s) noexcept {
    Alpha a{};
    for (std::size_t i = 0; i < N; ++i) a.c[i] = i < s.size() ? s[i] : ' ';
    return a;
  }
  /// The content without trailing spaces.
  [[nodiscard]] constexpr std::string_view view() const noexcept {
    std::size_t n = N;
    while (n > 0 && (c[n - 1] == ' ' || c[n - 1] == '\0')) --n;
    return std::string_view(c.data(), n);
  }
  friend constexpr bool operator==(const Alpha&, const Alpha&) noexcept = default;
  friend constexpr auto operator<=>(const Alpha&, const Alpha&) noexcept = default;
};

/// OUCH Order Token: 14 characters, day-unique per owner.
using Token = Alpha<14>;
/// OUCH/ITCH Stock: 8 characters; A-share symbols are six digits, e.g. "600519  ".
using Symbol = Alpha<8>;
/// OUCH Firm / ITCH MPID: 4 characters.
using FirmName = Alpha<4>;

enum class Side : std::uint8_t { Buy = 'B', Sell = 'S' };

[[nodiscard]] constexpr Side opposite(Side s) noexcept { return s == Side::Buy ? Side::Sell : Side::Buy; }

/// How an order meets the book.
enum class OrderType : std::uint8_t {
  Limit = 'L',
  /// A-share "best five levels, immediate or cancel" (SSE 最优五档即时成交剩余撤销).
  MarketBestFiveIoc = '5',
  /// A-share "best five levels, remainder to limit" (SSE 最优五档即时成交剩余转限价):
  /// the unfilled rest becomes a limit order at the last fill price.
  MarketBestFiveToLimit = '6',
};

enum class TimeInForce : std::uint8_t {
  Day = 'D',
  /// Immediate or cancel (OUCH TIF 0).
  Ioc = 'I',
  /// Fill or kill: IOC whose minimum quantity is the whole order.
  Fok = 'F',
};

/// Per-instrument trading phase (docs/market-rules.md, "Trading phases"). The core reads no
/// clock: phases change by command only (the app's scheduler, the admin API, replay).
enum class TradingStatus : std::uint8_t {
  Trading = 'T',            ///< continuous trading: orders match on arrival
  Halted = 'H',             ///< no matching; new orders and cancels as EngineConfig's halt policy says
  Suspended = 'S',          ///< no matching, no new orders; cancels as the halt policy says
  Closed = 'C',             ///< before the open and after the close: nothing is accepted
  OpeningCall = 'O',        ///< opening call (9:15-9:20): orders rest unmatched, cancels allowed
  OpeningCallFrozen = 'F',  ///< opening call (9:20-9:25): orders rest unmatched, no cancels
  Break = 'B',              ///< between the uncross and continuous trading, lunch: no new orders
  ClosingCall = 'L',        ///< closing call (14:57-15:00): orders rest unmatched, no cancels
  ResumeCall = 'R',         ///< call after a halt: orders rest unmatched, cancels allowed
};

/// A call phase: orders rest without matching and the indicative price is published.
[[nodiscard]] constexpr bool is_call_phase(TradingStatus s) noexcept {
  return s == TradingStatus::OpeningCall || s == TradingStatus::OpeningCallFrozen ||
         s == TradingStatus::ClosingCall || s == TradingStatus::ResumeCall;
}
/// A phase of the market's day (what the schedule sets), as opposed to an instrument's own state
/// (Halted, Suspended, ResumeCall).
[[nodiscard]] constexpr bool is_session_phase(TradingStatus s) noexcept {
  return s == TradingStatus::Trading || s == TradingStatus::Closed || s == TradingStatus::OpeningCall ||
         s == TradingStatus::OpeningCallFrozen || s == TradingStatus::Break || s == TradingStatus::ClosingCall;
}
[[nodiscard]] constexpr bool is_known_status(TradingStatus s) noexcept {
  return is_session_phase(s) || s == TradingStatus::Halted || s == TradingStatus::Suspended ||
         s == TradingStatus::ResumeCall;
}

/// Which auction an uncross ends (ITCH Cross Type): opening, closing, or after a halt.
enum class CrossType : std::uint8_t { Opening = 'O', Closing = 'C', Halt = 'H' };

/// Self-trade prevention when an incoming order would trade with a resting order of the same firm.
enum class StpMode : std::uint8_t {
  None = 'N',
  CancelNewest = 'n',  ///< the incoming order's remainder is cancelled
  CancelOldest = 'o',  ///< the resting order is cancelled, matching goes on
  CancelBoth = 'b',    ///< both are cancelled
  Decrement = 'd',     ///< both are reduced by the smaller open quantity; the smaller one dies
};

/// OUCH 4.2 liquidity flag of an execution.
enum class Liquidity : std::uint8_t {
  Added = 'A',
  Removed = 'R',
  OpeningCross = 'O',  ///< executed in the opening uncross
  ClosingCross = 'C',  ///< executed in the closing uncross
  HaltCross = 'H',     ///< executed in the uncross that ends a resumption call
};

}  // namespace peregrine
