#pragma once
/// Translation between the wire and the matching core, as pure functions the gateway calls:
///
/// - inbound: an OUCH 4.2 Enter/Replace/Cancel from one session -> a core Command, or, when the
///   edge itself refuses the message, a ready OUCH Rejected (translate());
/// - outbound: a core order Event -> the OUCH message for the order's owner (to_ouch());
/// - market data: a core book/status Event -> the ITCH 5.0 message (to_itch()).
///
/// Reference data (symbol of an instrument, name of a firm, attribution) comes through the
/// ReferenceLookup interface, so there is no global state; ConfigLookup implements it over the
/// engine configuration.
///
/// Timestamps: the core's Timestamp is nanoseconds since midnight (local exchange time), stamped
/// by the gateway; OUCH carries it in 8 bytes and ITCH in 6 (docs/protocol.md).
/// Every mapping is tabulated in docs/protocol.md. No allocation, no exceptions; any thread.

#include <cstdint>
#include <vector>

#include "peregrine/core/command.hpp"
#include "peregrine/core/config.hpp"
#include "peregrine/core/event.hpp"
#include "peregrine/core/types.hpp"
#include "peregrine/proto/itch50.hpp"
#include "peregrine/proto/ouch42.hpp"

namespace peregrine::proto {

/// OUCH 4.2 Rejected "Reject Reason" for a core RejectCode ('O' "Other" where OUCH has nothing
/// closer). Gateway maps to 'O' here; to_ouch() takes the reason from the event's ref instead.
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

/// OUCH 4.2 Canceled "Reason" for a core CancelReason.
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

/// Reference data the translation reads. Implementations must be cheap and must not allocate.
class ReferenceLookup {
 public:
  virtual ~ReferenceLookup() = default;
  /// OUCH/ITCH Stock of an instrument; spaces for an unknown id.
  [[nodiscard]] virtual Symbol symbol(InstrumentId id) const noexcept = 0;
  /// OUCH Firm / ITCH MPID of a firm; spaces for an unknown id.
  [[nodiscard]] virtual FirmName firm_name(FirmId id) const noexcept = 0;
  /// True when the firm's resting orders are published with attribution (ITCH Add Order 'F'
  /// carrying its MPID) and echoed with OUCH display 'A'. The core does not carry a per-order
  /// attribution flag, so this is a per-firm setting.
  [[nodiscard]] virtual bool attributed(FirmId id) const noexcept = 0;
  /// The instrument's reference price (previous close), for NOII's price variation; 0 = unknown.
  [[nodiscard]] virtual Price reference_price(InstrumentId) const noexcept { return Price{0}; }
};

/// ReferenceLookup over an EngineConfig (InstrumentId = index + 1, FirmId = index). Keeps a
/// reference to `cfg`, which must outlive it. No firm is attributed until set_attributed().
class ConfigLookup final : public ReferenceLookup {
 public:
  explicit ConfigLookup(const EngineConfig& cfg);
  /// Startup only.
  void set_attributed(FirmId id, bool attributed);

  [[nodiscard]] Symbol symbol(InstrumentId id) const noexcept override;
  [[nodiscard]] FirmName firm_name(FirmId id) const noexcept override;
  [[nodiscard]] bool attributed(FirmId id) const noexcept override;
  [[nodiscard]] Price reference_price(InstrumentId id) const noexcept override;

 private:
  const EngineConfig& cfg_;
  std::vector<std::uint8_t> attributed_;
};

/// Who is on the other end of one OUCH session (established at SoupBinTCP login).
struct OuchSession {
  OwnerId owner;
  FirmId firm;
  FirmName firm_name;  ///< the Enter Order firm field must be blank or equal to this
};

/// Result of translating one inbound message: a Command for the core, or the Rejected the edge
/// answers with (the gateway sends it through the core as an EdgeReject command, so that it is
/// sequenced and journaled; the message itself never reaches the core).
struct InboundTranslation {
  enum class Kind : std::uint8_t { Command, Reject };
  Kind kind;
  Command command;        ///< valid when kind == Command
  ouch::Rejected reject;  ///< valid when kind == Reject
  [[nodiscard]] bool is_command() const noexcept { return kind == Kind::Command; }
};

/// Enter Order -> make_new_order, or an edge Rejected (token = the order's token):
/// side B buy, S/T/E sell, else 'O'; price kMarketPrice = market (TIF 0: best five IOC, TIF
/// 99998/99999: best five to limit); TIF 0 -> IOC (FOK when min qty = shares > 0), 99998/99999 ->
/// Day, any other number of seconds -> 'O' (timed orders are not supported); display P
/// post-only, Y/A displayed, else 'D'; firm blank or the session's, else 'L'; capacity A/O/P/R
/// else 'O'; ISO N (Y -> 'd', else 'O'); cross type N, else 'R'; customer type R/N/space else 'O';
/// token must be printable ASCII, else 'O'. Everything else (symbol, quantity, lot, price range,
/// min qty > shares, ...) is the core's to check.
[[nodiscard]] InboundTranslation translate(const ouch::EnterOrder& m, const OuchSession& s, Timestamp ts) noexcept;

/// Replace Order -> make_replace, or an edge Rejected (token = the replacement token):
/// min qty non-zero -> 'N'; price kMarketPrice -> 'X'; TIF 99998/99999 -> Day, 0 -> IOC (the core
/// refuses it: 'O'), other seconds -> 'O'; display as for Enter Order ('D'); ISO as for Enter
/// Order; replacement token printable, else 'O'.
[[nodiscard]] InboundTranslation translate(const ouch::ReplaceOrder& m, const OuchSession& s, Timestamp ts) noexcept;

/// Cancel Order -> make_cancel (shares = the intended open quantity). Never refused at the edge.
[[nodiscard]] InboundTranslation translate(const ouch::CancelOrder& m, const OuchSession& s, Timestamp ts) noexcept;

/// Dispatches on the message type.
[[nodiscard]] InboundTranslation translate(const ouch::Inbound& m, const OuchSession& s, Timestamp ts) noexcept;

/// The OUCH message a core event sends to the order's owner (`ev.owner`): Accepted, Rejected
/// (reason to_ouch_reject_reason(code); for code Gateway, the edge's own reason char(ref)),
/// Executed, Canceled, Replaced, or Cancel Reject (for CancelRejected). False, leaving `out`
/// untouched, for events no session receives: book and status events, and refusals of admin
/// commands (owner 0).
[[nodiscard]] bool to_ouch(const Event& ev, const ReferenceLookup& ref, ouch::Outbound& out) noexcept;

/// The ITCH message a core event publishes: BookAdd -> 'A' (or 'F' for an attributed firm),
/// BookExecute -> 'E' (an uncross's, code 1: 'C' at the cross price, not printable),
/// BookCancel -> 'X', BookDelete -> 'D', BookReplace -> 'U', CrossTrade -> 'Q',
/// Indicative -> NOII 'I', TradingStatusChanged -> 'H' (trading_action_of()). Stock locate =
/// instrument id, tracking number 0. False for events that publish nothing (order events, kill
/// switch).
[[nodiscard]] bool to_itch(const Event& ev, const ReferenceLookup& ref, itch::Message& out) noexcept;

/// ITCH Stock Trading Action state and reason for a phase: continuous trading 'T'; call phases
/// 'Q' (quotation only); halted and suspended 'H'; closed and breaks 'P'. The 4-character
/// reason names the phase (docs/protocol.md).
struct TradingActionCode {
  char state;
  std::string_view reason;
};
[[nodiscard]] TradingActionCode trading_action_of(TradingStatus s) noexcept;

/// NOII Price Variation Indicator: |price - reference| / reference as ITCH 5.0 buckets (L under
/// 1 %, 1..9, A 10-19.99 %, B 20-29.99 %, C 30 % or more; space when either price is 0).
[[nodiscard]] char price_variation(Price price, Price reference) noexcept;

/// The Stock Directory 'R' message for one configured instrument (start of day).
[[nodiscard]] itch::StockDirectory make_stock_directory(InstrumentId id, const InstrumentConfig& ins,
                                                        Timestamp ts) noexcept;

/// A core price as a 4-byte wire price: negative -> 0, above 0xFFFFFFFF -> 0xFFFFFFFF (the core
/// only produces 0 < price <= 2^31 - 1).
[[nodiscard]] constexpr std::uint32_t to_wire_price(Price p) noexcept {
  const std::int64_t v = p.value();
  if (v < 0) return 0;
  if (v > 0xFFFFFFFFLL) return 0xFFFFFFFFu;
  return static_cast<std::uint32_t>(v);
}

/// Values Peregrine writes into OUCH fields the core does not carry.
namespace ouch_defaults {
inline constexpr char kCapacity = 'A';    ///< agency
inline constexpr char kIso = 'N';         ///< not an intermarket sweep
inline constexpr char kCrossType = 'N';   ///< continuous trading
inline constexpr char kOrderState = 'L';  ///< live: the end of an order is always a Canceled
inline constexpr char kBboWeight = ' ';   ///< unspecified
/// Day orders are echoed with "market hours": A-share orders expire at the close.
inline constexpr std::uint32_t kDayTif = ouch::kTifMarketHours;
}  // namespace ouch_defaults

}  // namespace peregrine::proto
