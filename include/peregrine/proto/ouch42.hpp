#pragma once
/// OUCH 4.2 (Nasdaq) messages, byte-exact: the three a client sends (Enter Order 'O', Replace
/// Order 'U', Cancel Order 'X') and the seven Peregrine sends (System Event 'S', Accepted 'A',
/// Replaced 'U', Canceled 'C', Executed 'E', Rejected 'J', Cancel Reject 'I'). Each travels in one
/// SoupBinTCP packet: inbound in Unsequenced Data, outbound in Sequenced Data.
///
/// Integers are big-endian, alphanumerics left-justified and space-padded, prices 4-byte unsigned
/// with 4 implied decimals, timestamps 8-byte nanoseconds since midnight. Structs hold wire values
/// as they are; meaning (and refusal) is decided by the translation (ouch_translate.hpp).
/// Offsets are listed in docs/protocol.md and checked byte by byte in tests/unit/proto.
///
/// Decoders check the type byte and the exact size and never read outside the input; encoders
/// return the size written, or 0 if the output is too small. No allocation, no exceptions. Pure
/// functions: any thread.
/// Hand-written: no Debian 12 package speaks OUCH 4.2, and a codec on the hot path must neither
/// allocate nor throw.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "peregrine/core/types.hpp"
#include "peregrine/proto/wire.hpp"

namespace peregrine::proto::ouch {

/// Price of a market order (OUCH's "market" price, $214,748.3647).
inline constexpr std::uint32_t kMarketPrice = 0x7FFFFFFF;
/// Time in force: immediate or cancel.
inline constexpr std::uint32_t kTifImmediate = 0;
/// Time in force: until the end of market hours.
inline constexpr std::uint32_t kTifMarketHours = 99998;
/// Time in force: until the end of system hours.
inline constexpr std::uint32_t kTifSystemHours = 99999;

/// Message sizes, type byte included.
inline constexpr std::size_t kEnterOrderSize = 49;
inline constexpr std::size_t kReplaceOrderSize = 47;
inline constexpr std::size_t kCancelOrderSize = 19;
inline constexpr std::size_t kSystemEventSize = 10;
inline constexpr std::size_t kAcceptedSize = 66;
inline constexpr std::size_t kReplacedSize = 80;
inline constexpr std::size_t kCanceledSize = 28;
inline constexpr std::size_t kExecutedSize = 40;
inline constexpr std::size_t kRejectedSize = 24;
inline constexpr std::size_t kCancelRejectSize = 23;
/// The largest OUCH 4.2 message (Replaced): a buffer this big holds any of them.
inline constexpr std::size_t kMaxMessageSize = kReplacedSize;

/// Messages a client sends.
enum class InboundType : std::uint8_t { EnterOrder = 'O', ReplaceOrder = 'U', CancelOrder = 'X' };

/// Messages Peregrine sends.
enum class OutboundType : std::uint8_t {
  SystemEvent = 'S',
  Accepted = 'A',
  Replaced = 'U',
  Canceled = 'C',
  Executed = 'E',
  Rejected = 'J',
  CancelReject = 'I',
};

/// Rejected "Reject Reason" codes Peregrine sends (OUCH 4.2 list; the core's codes map to these
/// through to_ouch_reject_reason(), the edge refusals are in ouch_translate.hpp).
namespace reject {
inline constexpr char kHalted = 'H';
inline constexpr char kQuantity = 'Z';  ///< shares exceed the configured safety threshold
inline constexpr char kInvalidStock = 'S';
inline constexpr char kInvalidDisplay = 'D';
inline constexpr char kFirmNotAuthorized = 'L';  ///< requested firm not authorized
inline constexpr char kCrossNotAllowed = 'R';    ///< this order is not allowed in this type of cross
inline constexpr char kInvalidPrice = 'X';
inline constexpr char kInvalidMinQty = 'N';
inline constexpr char kOther = 'O';
inline constexpr char kRejectAll = 'a';  ///< kill switch
inline constexpr char kIsoRestriction = 'd';
inline constexpr char kOddLot = 'e';
inline constexpr char kSharesLimit = 'm';
inline constexpr char kDollarLimit = 'n';
}  // namespace reject

/// Enter Order 'O' (49 bytes).
struct EnterOrder {
  Token token;
  char side;  ///< B buy, S sell, T sell short, E sell short exempt
  std::uint32_t shares;
  Symbol stock;
  std::uint32_t price;  ///< kMarketPrice for a market order
  std::uint32_t tif;    ///< seconds; kTifImmediate, kTifMarketHours, kTifSystemHours
  FirmName firm;
  char display;
  char capacity;
  char iso;  ///< intermarket sweep eligibility Y/N
  std::uint32_t min_qty;
  char cross_type;
  char customer_type;
  friend constexpr bool operator==(const EnterOrder&, const EnterOrder&) noexcept = default;
};

/// An Enter Order with the fields a plain A-share limit order leaves at their usual values:
/// capacity A (agency), ISO N, cross type N, display Y, no minimum quantity, firm and customer
/// type as given (blank by default). For clients, tools and tests.
[[nodiscard]] constexpr EnterOrder plain_enter_order(const Token& token, char side, std::uint32_t shares,
                                                     const Symbol& stock, std::uint32_t price,
                                                     std::uint32_t tif = kTifMarketHours,
                                                     const FirmName& firm = FirmName::from(""),
                                                     char customer_type = ' ') noexcept {
  return EnterOrder{token, side, shares, stock, price, tif, firm, 'Y', 'A', 'N', 0, 'N', customer_type};
}

/// Replace Order 'U' (47 bytes).
struct ReplaceOrder {
  Token existing;
  Token replacement;
  std::uint32_t shares;
  std::uint32_t price;
  std::uint32_t tif;
  char display;
  char iso;
  std::uint32_t min_qty;
  friend constexpr bool operator==(const ReplaceOrder&, const ReplaceOrder&) noexcept = default;
};

/// Cancel Order 'X' (19 bytes). `shares` is the new intended open quantity (0 cancels all).
struct CancelOrder {
  Token token;
  std::uint32_t shares;
  friend constexpr bool operator==(const CancelOrder&, const CancelOrder&) noexcept = default;
};

/// System Event 'S' (10 bytes): 'S' start of day, 'E' end of day.
struct SystemEvent {
  std::uint64_t timestamp;
  char event_code;
  friend constexpr bool operator==(const SystemEvent&, const SystemEvent&) noexcept = default;
};

/// Accepted 'A' (66 bytes).
struct Accepted {
  std::uint64_t timestamp;
  Token token;
  char side;
  std::uint32_t shares;
  Symbol stock;
  std::uint32_t price;
  std::uint32_t tif;
  FirmName firm;
  char display;
  std::uint64_t order_ref;
  char capacity;
  char iso;
  std::uint32_t min_qty;
  char cross_type;
  char order_state;  ///< L live, D dead
  char bbo_weight;   ///< ' ' unspecified
  friend constexpr bool operator==(const Accepted&, const Accepted&) noexcept = default;
};

/// Replaced 'U' (80 bytes).
struct Replaced {
  std::uint64_t timestamp;
  Token replacement;
  char side;
  std::uint32_t shares;
  Symbol stock;
  std::uint32_t price;
  std::uint32_t tif;
  FirmName firm;
  char display;
  std::uint64_t order_ref;
  char capacity;
  char iso;
  std::uint32_t min_qty;
  char cross_type;
  char order_state;
  Token previous;
  char bbo_weight;
  friend constexpr bool operator==(const Replaced&, const Replaced&) noexcept = default;
};

/// Canceled 'C' (28 bytes).
struct Canceled {
  std::uint64_t timestamp;
  Token token;
  std::uint32_t decrement;
  char reason;
  friend constexpr bool operator==(const Canceled&, const Canceled&) noexcept = default;
};

/// Executed 'E' (40 bytes).
struct Executed {
  std::uint64_t timestamp;
  Token token;
  std::uint32_t shares;
  std::uint32_t price;
  char liquidity;  ///< A added, R removed
  std::uint64_t match_number;
  friend constexpr bool operator==(const Executed&, const Executed&) noexcept = default;
};

/// Rejected 'J' (24 bytes).
struct Rejected {
  std::uint64_t timestamp;
  Token token;
  char reason;
  friend constexpr bool operator==(const Rejected&, const Rejected&) noexcept = default;
};

/// Cancel Reject 'I' (23 bytes).
struct CancelReject {
  std::uint64_t timestamp;
  Token token;
  friend constexpr bool operator==(const CancelReject&, const CancelReject&) noexcept = default;
};

/// One inbound message; the member named by `type` is set.
struct Inbound {
  InboundType type;
  union {
    EnterOrder enter;
    ReplaceOrder replace;
    CancelOrder cancel;
  };
};

/// One outbound message; the member named by `type` is set.
struct Outbound {
  OutboundType type;
  union {
    SystemEvent system_event;
    Accepted accepted;
    Replaced replaced;
    Canceled canceled;
    Executed executed;
    Rejected rejected;
    CancelReject cancel_reject;
  };
};

/// What a decoder found.
/// Decoder result (shared with the other fixed-size codecs; to_string() is found by ADL).
using Status = wire::MessageStatus;

/// Size of an inbound message type, or 0 if unknown.
[[nodiscard]] constexpr std::size_t inbound_size(std::uint8_t type) noexcept {
  switch (type) {
    case 'O': return kEnterOrderSize;
    case 'U': return kReplaceOrderSize;
    case 'X': return kCancelOrderSize;
    default: return 0;
  }
}

/// Size of an outbound message type, or 0 if unknown.
[[nodiscard]] constexpr std::size_t outbound_size(std::uint8_t type) noexcept {
  switch (type) {
    case 'S': return kSystemEventSize;
    case 'A': return kAcceptedSize;
    case 'U': return kReplacedSize;
    case 'C': return kCanceledSize;
    case 'E': return kExecutedSize;
    case 'J': return kRejectedSize;
    case 'I': return kCancelRejectSize;
    default: return 0;
  }
}

// --- encoders ------------------------------------------------------------------------------

namespace detail {
/// Checks room for `size` bytes and writes the type byte; returns a writer after it or nullptr.
[[nodiscard]] constexpr std::uint8_t* begin(std::span<std::uint8_t> out, std::size_t size, char type) noexcept {
  if (out.size() < size) return nullptr;
  out[0] = static_cast<std::uint8_t>(type);
  return out.data() + 1;
}
}  // namespace detail

[[nodiscard]] constexpr std::size_t encode(const EnterOrder& m, std::span<std::uint8_t> out) noexcept {
  std::uint8_t* p = detail::begin(out, kEnterOrderSize, 'O');
  if (p == nullptr) return 0;
  wire::Writer(p).alpha(m.token).ch(m.side).u32(m.shares).alpha(m.stock).u32(m.price).u32(m.tif)
      .alpha(m.firm).ch(m.display).ch(m.capacity).ch(m.iso).u32(m.min_qty).ch(m.cross_type)
      .ch(m.customer_type);
  return kEnterOrderSize;
}

[[nodiscard]] constexpr std::size_t encode(const ReplaceOrder& m, std::span<std::uint8_t> out) noexcept {
  std::uint8_t* p = detail::begin(out, kReplaceOrderSize, 'U');
  if (p == nullptr) return 0;
  wire::Writer(p).alpha(m.existing).alpha(m.replacement).u32(m.shares).u32(m.price).u32(m.tif)
      .ch(m.display).ch(m.iso).u32(m.min_qty);
  return kReplaceOrderSize;
}

[[nodiscard]] constexpr std::size_t encode(const CancelOrder& m, std::span<std::uint8_t> out) noexcept {
  std::uint8_t* p = detail::begin(out, kCancelOrderSize, 'X');
  if (p == nullptr) return 0;
  wire::Writer(p).alpha(m.token).u32(m.shares);
  return kCancelOrderSize;
}

[[nodiscard]] constexpr std::size_t encode(const SystemEvent& m, std::span<std::uint8_t> out) noexcept {
  std::uint8_t* p = detail::begin(out, kSystemEventSize, 'S');
  if (p == nullptr) return 0;
  wire::Writer(p).u64(m.timestamp).ch(m.event_code);
  return kSystemEventSize;
}

[[nodiscard]] constexpr std::size_t encode(const Accepted& m, std::span<std::uint8_t> out) noexcept {
  std::uint8_t* p = detail::begin(out, kAcceptedSize, 'A');
  if (p == nullptr) return 0;
  wire::Writer(p).u64(m.timestamp).alpha(m.token).ch(m.side).u32(m.shares).alpha(m.stock)
      .u32(m.price).u32(m.tif).alpha(m.firm).ch(m.display).u64(m.order_ref).ch(m.capacity)
      .ch(m.iso).u32(m.min_qty).ch(m.cross_type).ch(m.order_state).ch(m.bbo_weight);
  return kAcceptedSize;
}

[[nodiscard]] constexpr std::size_t encode(const Replaced& m, std::span<std::uint8_t> out) noexcept {
  std::uint8_t* p = detail::begin(out, kReplacedSize, 'U');
  if (p == nullptr) return 0;
  wire::Writer(p).u64(m.timestamp).alpha(m.replacement).ch(m.side).u32(m.shares).alpha(m.stock)
      .u32(m.price).u32(m.tif).alpha(m.firm).ch(m.display).u64(m.order_ref).ch(m.capacity)
      .ch(m.iso).u32(m.min_qty).ch(m.cross_type).ch(m.order_state).alpha(m.previous)
      .ch(m.bbo_weight);
  return kReplacedSize;
}

[[nodiscard]] constexpr std::size_t encode(const Canceled& m, std::span<std::uint8_t> out) noexcept {
  std::uint8_t* p = detail::begin(out, kCanceledSize, 'C');
  if (p == nullptr) return 0;
  wire::Writer(p).u64(m.timestamp).alpha(m.token).u32(m.decrement).ch(m.reason);
  return kCanceledSize;
}

[[nodiscard]] constexpr std::size_t encode(const Executed& m, std::span<std::uint8_t> out) noexcept {
  std::uint8_t* p = detail::begin(out, kExecutedSize, 'E');
  if (p == nullptr) return 0;
  wire::Writer(p).u64(m.timestamp).alpha(m.token).u32(m.shares).u32(m.price).ch(m.liquidity)
      .u64(m.match_number);
  return kExecutedSize;
}

[[nodiscard]] constexpr std::size_t encode(const Rejected& m, std::span<std::uint8_t> out) noexcept {
  std::uint8_t* p = detail::begin(out, kRejectedSize, 'J');
  if (p == nullptr) return 0;
  wire::Writer(p).u64(m.timestamp).alpha(m.token).ch(m.reason);
  return kRejectedSize;
}

[[nodiscard]] constexpr std::size_t encode(const CancelReject& m, std::span<std::uint8_t> out) noexcept {
  std::uint8_t* p = detail::begin(out, kCancelRejectSize, 'I');
  if (p == nullptr) return 0;
  wire::Writer(p).u64(m.timestamp).alpha(m.token);
  return kCancelRejectSize;
}

[[nodiscard]] constexpr std::size_t encode(const Inbound& m, std::span<std::uint8_t> out) noexcept {
  switch (m.type) {
    case InboundType::EnterOrder: return encode(m.enter, out);
    case InboundType::ReplaceOrder: return encode(m.replace, out);
    case InboundType::CancelOrder: return encode(m.cancel, out);
  }
  return 0;
}

[[nodiscard]] constexpr std::size_t encode(const Outbound& m, std::span<std::uint8_t> out) noexcept {
  switch (m.type) {
    case OutboundType::SystemEvent: return encode(m.system_event, out);
    case OutboundType::Accepted: return encode(m.accepted, out);
    case OutboundType::Replaced: return encode(m.replaced, out);
    case OutboundType::Canceled: return encode(m.canceled, out);
    case OutboundType::Executed: return encode(m.executed, out);
    case OutboundType::Rejected: return encode(m.rejected, out);
    case OutboundType::CancelReject: return encode(m.cancel_reject, out);
  }
  return 0;
}

// --- decoders ------------------------------------------------------------------------------

/// Decodes one message a client sent (the payload of a SoupBinTCP Unsequenced Data packet).
[[nodiscard]] constexpr Status decode_inbound(std::span<const std::uint8_t> in, Inbound& out) noexcept {
  if (in.empty()) return Status::Empty;
  const std::size_t size = inbound_size(in[0]);
  if (size == 0) return Status::UnknownType;
  if (in.size() != size) return Status::BadLength;
  wire::Reader r(in.data() + 1);
  switch (in[0]) {
    case 'O': {
      EnterOrder m{};
      m.token = r.alpha<14>();
      m.side = r.ch();
      m.shares = r.u32();
      m.stock = r.alpha<8>();
      m.price = r.u32();
      m.tif = r.u32();
      m.firm = r.alpha<4>();
      m.display = r.ch();
      m.capacity = r.ch();
      m.iso = r.ch();
      m.min_qty = r.u32();
      m.cross_type = r.ch();
      m.customer_type = r.ch();
      out.type = InboundType::EnterOrder;
      out.enter = m;
      break;
    }
    case 'U': {
      ReplaceOrder m{};
      m.existing = r.alpha<14>();
      m.replacement = r.alpha<14>();
      m.shares = r.u32();
      m.price = r.u32();
      m.tif = r.u32();
      m.display = r.ch();
      m.iso = r.ch();
      m.min_qty = r.u32();
      out.type = InboundType::ReplaceOrder;
      out.replace = m;
      break;
    }
    default: {  // 'X'
      CancelOrder m{};
      m.token = r.alpha<14>();
      m.shares = r.u32();
      out.type = InboundType::CancelOrder;
      out.cancel = m;
      break;
    }
  }
  return Status::Ok;
}

/// Decodes one message Peregrine sent (the payload of a SoupBinTCP Sequenced Data packet), for
/// clients, load generators and tests.
[[nodiscard]] constexpr Status decode_outbound(std::span<const std::uint8_t> in, Outbound& out) noexcept {
  if (in.empty()) return Status::Empty;
  const std::size_t size = outbound_size(in[0]);
  if (size == 0) return Status::UnknownType;
  if (in.size() != size) return Status::BadLength;
  wire::Reader r(in.data() + 1);
  switch (in[0]) {
    case 'S': {
      SystemEvent m{};
      m.timestamp = r.u64();
      m.event_code = r.ch();
      out.type = OutboundType::SystemEvent;
      out.system_event = m;
      break;
    }
    case 'A': {
      Accepted m{};
      m.timestamp = r.u64();
      m.token = r.alpha<14>();
      m.side = r.ch();
      m.shares = r.u32();
      m.stock = r.alpha<8>();
      m.price = r.u32();
      m.tif = r.u32();
      m.firm = r.alpha<4>();
      m.display = r.ch();
      m.order_ref = r.u64();
      m.capacity = r.ch();
      m.iso = r.ch();
      m.min_qty = r.u32();
      m.cross_type = r.ch();
      m.order_state = r.ch();
      m.bbo_weight = r.ch();
      out.type = OutboundType::Accepted;
      out.accepted = m;
      break;
    }
    case 'U': {
      Replaced m{};
      m.timestamp = r.u64();
      m.replacement = r.alpha<14>();
      m.side = r.ch();
      m.shares = r.u32();
      m.stock = r.alpha<8>();
      m.price = r.u32();
      m.tif = r.u32();
      m.firm = r.alpha<4>();
      m.display = r.ch();
      m.order_ref = r.u64();
      m.capacity = r.ch();
      m.iso = r.ch();
      m.min_qty = r.u32();
      m.cross_type = r.ch();
      m.order_state = r.ch();
      m.previous = r.alpha<14>();
      m.bbo_weight = r.ch();
      out.type = OutboundType::Replaced;
      out.replaced = m;
      break;
    }
    case 'C': {
      Canceled m{};
      m.timestamp = r.u64();
      m.token = r.alpha<14>();
      m.decrement = r.u32();
      m.reason = r.ch();
      out.type = OutboundType::Canceled;
      out.canceled = m;
      break;
    }
    case 'E': {
      Executed m{};
      m.timestamp = r.u64();
      m.token = r.alpha<14>();
      m.shares = r.u32();
      m.price = r.u32();
      m.liquidity = r.ch();
      m.match_number = r.u64();
      out.type = OutboundType::Executed;
      out.executed = m;
      break;
    }
    case 'J': {
      Rejected m{};
      m.timestamp = r.u64();
      m.token = r.alpha<14>();
      m.reason = r.ch();
      out.type = OutboundType::Rejected;
      out.rejected = m;
      break;
    }
    default: {  // 'I'
      CancelReject m{};
      m.timestamp = r.u64();
      m.token = r.alpha<14>();
      out.type = OutboundType::CancelReject;
      out.cancel_reject = m;
      break;
    }
  }
  return Status::Ok;
}

}  // namespace peregrine::proto::ouch
