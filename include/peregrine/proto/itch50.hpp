#pragma once
/// ITCH 5.0 (Nasdaq TotalView-ITCH) messages Peregrine publishes, byte-exact: System Event 'S',
/// Stock Directory 'R', Stock Trading Action 'H', Add Order 'A' / with MPID 'F', Order Executed
/// 'E', Order Executed With Price 'C', Order Cancel 'X', Order Delete 'D', Order Replace 'U',
/// Trade 'P', Cross Trade 'Q' and NOII 'I'.
///
/// Every message starts with the same 11 bytes: type, stock locate (2; Peregrine: the
/// InstrumentId, 0 for system-wide messages), tracking number (2; Peregrine: 0) and timestamp
/// (6: nanoseconds since midnight). Integers big-endian, alphanumerics left-justified and
/// space-padded, prices 4-byte unsigned with 4 implied decimals. Messages travel in MoldUDP64
/// message blocks (moldudp64.hpp). Offsets: docs/protocol.md.
///
/// Decoders (for the feed reader, tools and tests) check the type and the exact size; other ITCH
/// 5.0 types are UnknownType. Encoders return the size written, or 0 if `out` is too small.
/// No allocation, no exceptions. Pure functions: any thread.
/// Hand-written: no Debian 12 package speaks ITCH 5.0, and a codec on the hot path must neither
/// allocate nor throw.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "peregrine/core/types.hpp"
#include "peregrine/proto/wire.hpp"

namespace peregrine::proto::itch {

enum class MessageType : std::uint8_t {
  SystemEvent = 'S',
  StockDirectory = 'R',
  StockTradingAction = 'H',
  AddOrder = 'A',
  AddOrderMpid = 'F',
  OrderExecuted = 'E',
  OrderExecutedWithPrice = 'C',
  OrderCancel = 'X',
  OrderDelete = 'D',
  OrderReplace = 'U',
  Trade = 'P',
  CrossTrade = 'Q',
  Noii = 'I',
};

/// Message sizes, type byte included.
inline constexpr std::size_t kHeaderSize = 11;
inline constexpr std::size_t kSystemEventSize = 12;
inline constexpr std::size_t kStockDirectorySize = 39;
inline constexpr std::size_t kStockTradingActionSize = 25;
inline constexpr std::size_t kAddOrderSize = 36;
inline constexpr std::size_t kAddOrderMpidSize = 40;
inline constexpr std::size_t kOrderExecutedSize = 31;
inline constexpr std::size_t kOrderExecutedWithPriceSize = 36;
inline constexpr std::size_t kOrderCancelSize = 23;
inline constexpr std::size_t kOrderDeleteSize = 19;
inline constexpr std::size_t kOrderReplaceSize = 35;
inline constexpr std::size_t kTradeSize = 44;
inline constexpr std::size_t kCrossTradeSize = 40;
inline constexpr std::size_t kNoiiSize = 50;
/// The largest message here (NOII): a buffer this big holds any of them.
inline constexpr std::size_t kMaxMessageSize = kNoiiSize;
/// Timestamps are 48 bits on the wire; larger values are cut to their low 48 bits.
inline constexpr std::uint64_t kTimestampMask = (std::uint64_t{1} << 48) - 1;

/// System Event codes.
namespace event {
inline constexpr char kStartOfMessages = 'O';
inline constexpr char kStartOfSystemHours = 'S';
inline constexpr char kStartOfMarketHours = 'Q';
inline constexpr char kEndOfMarketHours = 'M';
inline constexpr char kEndOfSystemHours = 'E';
inline constexpr char kEndOfMessages = 'C';
}  // namespace event

/// The fields every message starts with (after the type byte).
struct Header {
  std::uint16_t stock_locate;
  std::uint16_t tracking_number;
  std::uint64_t timestamp;  ///< nanoseconds since midnight, 48 bits on the wire
  friend constexpr bool operator==(const Header&, const Header&) noexcept = default;
};

struct SystemEvent {
  Header h;
  char event_code;
  friend constexpr bool operator==(const SystemEvent&, const SystemEvent&) noexcept = default;
};

struct StockDirectory {
  Header h;
  Symbol stock;
  char market_category;
  char financial_status;
  std::uint32_t round_lot_size;
  char round_lots_only;
  char issue_classification;
  Alpha<2> issue_subtype;
  char authenticity;
  char short_sale_threshold;
  char ipo_flag;
  char luld_tier;
  char etp_flag;
  std::uint32_t etp_leverage_factor;
  char inverse_indicator;
  friend constexpr bool operator==(const StockDirectory&, const StockDirectory&) noexcept = default;
};

struct StockTradingAction {
  Header h;
  Symbol stock;
  char trading_state;  ///< H halted, P paused, Q quotation only, T trading
  char reserved;
  Alpha<4> reason;
  friend constexpr bool operator==(const StockTradingAction&, const StockTradingAction&) noexcept = default;
};

/// Add Order 'A'; with `attribution` set by the MPID variant 'F'.
struct AddOrder {
  Header h;
  std::uint64_t order_ref;
  char side;  ///< B or S
  std::uint32_t shares;
  Symbol stock;
  std::uint32_t price;
  FirmName attribution;  ///< 'F' only
  friend constexpr bool operator==(const AddOrder&, const AddOrder&) noexcept = default;
};

struct OrderExecuted {
  Header h;
  std::uint64_t order_ref;
  std::uint32_t shares;
  std::uint64_t match_number;
  friend constexpr bool operator==(const OrderExecuted&, const OrderExecuted&) noexcept = default;
};

/// Order Executed With Price 'C': an execution at a price other than the order's (an uncross);
/// `printable` 'N' when the Cross Trade message carries the print.
struct OrderExecutedWithPrice {
  Header h;
  std::uint64_t order_ref;
  std::uint32_t shares;
  std::uint64_t match_number;
  char printable;  ///< Y or N
  std::uint32_t price;
  friend constexpr bool operator==(const OrderExecutedWithPrice&, const OrderExecutedWithPrice&) noexcept = default;
};

struct OrderCancel {
  Header h;
  std::uint64_t order_ref;
  std::uint32_t shares;  ///< cancelled shares
  friend constexpr bool operator==(const OrderCancel&, const OrderCancel&) noexcept = default;
};

struct OrderDelete {
  Header h;
  std::uint64_t order_ref;
  friend constexpr bool operator==(const OrderDelete&, const OrderDelete&) noexcept = default;
};

struct OrderReplace {
  Header h;
  std::uint64_t original_ref;
  std::uint64_t new_ref;
  std::uint32_t shares;
  std::uint32_t price;
  friend constexpr bool operator==(const OrderReplace&, const OrderReplace&) noexcept = default;
};

/// Trade (non-cross) 'P': an execution against a non-displayed order.
struct Trade {
  Header h;
  std::uint64_t order_ref;
  char side;
  std::uint32_t shares;
  Symbol stock;
  std::uint32_t price;
  std::uint64_t match_number;
  friend constexpr bool operator==(const Trade&, const Trade&) noexcept = default;
};

/// Cross Trade 'Q': the single print of an uncross.
struct CrossTrade {
  Header h;
  std::uint64_t shares;
  Symbol stock;
  std::uint32_t cross_price;
  std::uint64_t match_number;
  char cross_type;  ///< O opening, C closing, H halt/IPO, I intraday
  friend constexpr bool operator==(const CrossTrade&, const CrossTrade&) noexcept = default;
};

/// Net Order Imbalance Indicator 'I' (call auctions).
struct Noii {
  Header h;
  std::uint64_t paired_shares;
  std::uint64_t imbalance_shares;
  char imbalance_direction;  ///< B buy, S sell, N none, O insufficient orders
  Symbol stock;
  std::uint32_t far_price;
  std::uint32_t near_price;
  std::uint32_t current_reference_price;
  char cross_type;
  char price_variation;
  friend constexpr bool operator==(const Noii&, const Noii&) noexcept = default;
};

/// One message; the member named by `type` is set (AddOrder and AddOrderMpid share `add`).
struct Message {
  MessageType type;
  union {
    SystemEvent system_event;
    StockDirectory stock_directory;
    StockTradingAction trading_action;
    AddOrder add;
    OrderExecuted executed;
    OrderExecutedWithPrice executed_with_price;
    OrderCancel cancel;
    OrderDelete del;
    OrderReplace replace;
    Trade trade;
    CrossTrade cross;
    Noii noii;
  };
};

/// Decoder result (shared with the other fixed-size codecs; to_string() is found by ADL).
using Status = wire::MessageStatus;

/// Size of a message type, or 0 if it is not one Peregrine uses.
[[nodiscard]] constexpr std::size_t message_size(std::uint8_t type) noexcept {
  switch (type) {
    case 'S': return kSystemEventSize;
    case 'R': return kStockDirectorySize;
    case 'H': return kStockTradingActionSize;
    case 'A': return kAddOrderSize;
    case 'F': return kAddOrderMpidSize;
    case 'E': return kOrderExecutedSize;
    case 'C': return kOrderExecutedWithPriceSize;
    case 'X': return kOrderCancelSize;
    case 'D': return kOrderDeleteSize;
    case 'U': return kOrderReplaceSize;
    case 'P': return kTradeSize;
    case 'Q': return kCrossTradeSize;
    case 'I': return kNoiiSize;
    default: return 0;
  }
}

// --- encoders ------------------------------------------------------------------------------

namespace detail {
[[nodiscard]] constexpr std::uint8_t* begin(std::span<std::uint8_t> out, std::size_t size, char type,
                                            const Header& h) noexcept {
  if (out.size() < size) return nullptr;
  wire::Writer(out.data()).ch(type).u16(h.stock_locate).u16(h.tracking_number).u48(h.timestamp);
  return out.data() + kHeaderSize;
}
[[nodiscard]] constexpr Header read_header(wire::Reader& r) noexcept {
  Header h{};
  h.stock_locate = r.u16();
  h.tracking_number = r.u16();
  h.timestamp = r.u48();
  return h;
}
}  // namespace detail

[[nodiscard]] constexpr std::size_t encode(const SystemEvent& m, std::span<std::uint8_t> out) noexcept {
  std::uint8_t* p = detail::begin(out, kSystemEventSize, 'S', m.h);
  if (p == nullptr) return 0;
  wire::Writer(p).ch(m.event_code);
  return kSystemEventSize;
}

[[nodiscard]] constexpr std::size_t encode(const StockDirectory& m, std::span<std::uint8_t> out) noexcept {
  std::uint8_t* p = detail::begin(out, kStockDirectorySize, 'R', m.h);
  if (p == nullptr) return 0;
  wire::Writer(p).alpha(m.stock).ch(m.market_category).ch(m.financial_status).u32(m.round_lot_size)
      .ch(m.round_lots_only).ch(m.issue_classification).alpha(m.issue_subtype).ch(m.authenticity)
      .ch(m.short_sale_threshold).ch(m.ipo_flag).ch(m.luld_tier).ch(m.etp_flag)
      .u32(m.etp_leverage_factor).ch(m.inverse_indicator);
  return kStockDirectorySize;
}

[[nodiscard]] constexpr std::size_t encode(const StockTradingAction& m, std::span<std::uint8_t> out) noexcept {
  std::uint8_t* p = detail::begin(out, kStockTradingActionSize, 'H', m.h);
  if (p == nullptr) return 0;
  wire::Writer(p).alpha(m.stock).ch(m.trading_state).ch(m.reserved).alpha(m.reason);
  return kStockTradingActionSize;
}

/// Add Order: 'A' (36 bytes), or 'F' (40 bytes, with `attribution`) when `with_mpid`.
[[nodiscard]] constexpr std::size_t encode(const AddOrder& m, bool with_mpid, std::span<std::uint8_t> out) noexcept {
  const std::size_t size = with_mpid ? kAddOrderMpidSize : kAddOrderSize;
  std::uint8_t* p = detail::begin(out, size, with_mpid ? 'F' : 'A', m.h);
  if (p == nullptr) return 0;
  wire::Writer w(p);
  w.u64(m.order_ref).ch(m.side).u32(m.shares).alpha(m.stock).u32(m.price);
  if (with_mpid) w.alpha(m.attribution);
  return size;
}

[[nodiscard]] constexpr std::size_t encode(const OrderExecuted& m, std::span<std::uint8_t> out) noexcept {
  std::uint8_t* p = detail::begin(out, kOrderExecutedSize, 'E', m.h);
  if (p == nullptr) return 0;
  wire::Writer(p).u64(m.order_ref).u32(m.shares).u64(m.match_number);
  return kOrderExecutedSize;
}

[[nodiscard]] constexpr std::size_t encode(const OrderExecutedWithPrice& m, std::span<std::uint8_t> out) noexcept {
  std::uint8_t* p = detail::begin(out, kOrderExecutedWithPriceSize, 'C', m.h);
  if (p == nullptr) return 0;
  wire::Writer(p).u64(m.order_ref).u32(m.shares).u64(m.match_number).ch(m.printable).u32(m.price);
  return kOrderExecutedWithPriceSize;
}

[[nodiscard]] constexpr std::size_t encode(const OrderCancel& m, std::span<std::uint8_t> out) noexcept {
  std::uint8_t* p = detail::begin(out, kOrderCancelSize, 'X', m.h);
  if (p == nullptr) return 0;
  wire::Writer(p).u64(m.order_ref).u32(m.shares);
  return kOrderCancelSize;
}

[[nodiscard]] constexpr std::size_t encode(const OrderDelete& m, std::span<std::uint8_t> out) noexcept {
  std::uint8_t* p = detail::begin(out, kOrderDeleteSize, 'D', m.h);
  if (p == nullptr) return 0;
  wire::Writer(p).u64(m.order_ref);
  return kOrderDeleteSize;
}

[[nodiscard]] constexpr std::size_t encode(const OrderReplace& m, std::span<std::uint8_t> out) noexcept {
  std::uint8_t* p = detail::begin(out, kOrderReplaceSize, 'U', m.h);
  if (p == nullptr) return 0;
  wire::Writer(p).u64(m.original_ref).u64(m.new_ref).u32(m.shares).u32(m.price);
  return kOrderReplaceSize;
}

[[nodiscard]] constexpr std::size_t encode(const Trade& m, std::span<std::uint8_t> out) noexcept {
  std::uint8_t* p = detail::begin(out, kTradeSize, 'P', m.h);
  if (p == nullptr) return 0;
  wire::Writer(p).u64(m.order_ref).ch(m.side).u32(m.shares).alpha(m.stock).u32(m.price)
      .u64(m.match_number);
  return kTradeSize;
}

[[nodiscard]] constexpr std::size_t encode(const CrossTrade& m, std::span<std::uint8_t> out) noexcept {
  std::uint8_t* p = detail::begin(out, kCrossTradeSize, 'Q', m.h);
  if (p == nullptr) return 0;
  wire::Writer(p).u64(m.shares).alpha(m.stock).u32(m.cross_price).u64(m.match_number).ch(m.cross_type);
  return kCrossTradeSize;
}

[[nodiscard]] constexpr std::size_t encode(const Noii& m, std::span<std::uint8_t> out) noexcept {
  std::uint8_t* p = detail::begin(out, kNoiiSize, 'I', m.h);
  if (p == nullptr) return 0;
  wire::Writer(p).u64(m.paired_shares).u64(m.imbalance_shares).ch(m.imbalance_direction)
      .alpha(m.stock).u32(m.far_price).u32(m.near_price).u32(m.current_reference_price)
      .ch(m.cross_type).ch(m.price_variation);
  return kNoiiSize;
}

[[nodiscard]] constexpr std::size_t encode(const Message& m, std::span<std::uint8_t> out) noexcept {
  switch (m.type) {
    case MessageType::SystemEvent: return encode(m.system_event, out);
    case MessageType::StockDirectory: return encode(m.stock_directory, out);
    case MessageType::StockTradingAction: return encode(m.trading_action, out);
    case MessageType::AddOrder: return encode(m.add, false, out);
    case MessageType::AddOrderMpid: return encode(m.add, true, out);
    case MessageType::OrderExecuted: return encode(m.executed, out);
    case MessageType::OrderExecutedWithPrice: return encode(m.executed_with_price, out);
    case MessageType::OrderCancel: return encode(m.cancel, out);
    case MessageType::OrderDelete: return encode(m.del, out);
    case MessageType::OrderReplace: return encode(m.replace, out);
    case MessageType::Trade: return encode(m.trade, out);
    case MessageType::CrossTrade: return encode(m.cross, out);
    case MessageType::Noii: return encode(m.noii, out);
  }
  return 0;
}

// --- decoder -------------------------------------------------------------------------------

/// Decodes one message (one MoldUDP64 message block).
[[nodiscard]] constexpr Status decode(std::span<const std::uint8_t> in, Message& out) noexcept {
  if (in.empty()) return Status::Empty;
  const std::size_t size = message_size(in[0]);
  if (size == 0) return Status::UnknownType;
  if (in.size() != size) return Status::BadLength;
  wire::Reader r(in.data() + 1);
  const Header h = detail::read_header(r);
  switch (in[0]) {
    case 'S': {
      SystemEvent m{};
      m.h = h;
      m.event_code = r.ch();
      out.type = MessageType::SystemEvent;
      out.system_event = m;
      break;
    }
    case 'R': {
      StockDirectory m{};
      m.h = h;
      m.stock = r.alpha<8>();
      m.market_category = r.ch();
      m.financial_status = r.ch();
      m.round_lot_size = r.u32();
      m.round_lots_only = r.ch();
      m.issue_classification = r.ch();
      m.issue_subtype = r.alpha<2>();
      m.authenticity = r.ch();
      m.short_sale_threshold = r.ch();
      m.ipo_flag = r.ch();
      m.luld_tier = r.ch();
      m.etp_flag = r.ch();
      m.etp_leverage_factor = r.u32();
      m.inverse_indicator = r.ch();
      out.type = MessageType::StockDirectory;
      out.stock_directory = m;
      break;
    }
    case 'H': {
      StockTradingAction m{};
      m.h = h;
      m.stock = r.alpha<8>();
      m.trading_state = r.ch();
      m.reserved = r.ch();
      m.reason = r.alpha<4>();
      out.type = MessageType::StockTradingAction;
      out.trading_action = m;
      break;
    }
    case 'A':
    case 'F': {
      AddOrder m{};
      m.h = h;
      m.order_ref = r.u64();
      m.side = r.ch();
      m.shares = r.u32();
      m.stock = r.alpha<8>();
      m.price = r.u32();
      if (in[0] == 'F') {
        m.attribution = r.alpha<4>();
        out.type = MessageType::AddOrderMpid;
      } else {
        m.attribution = FirmName::from("");
        out.type = MessageType::AddOrder;
      }
      out.add = m;
      break;
    }
    case 'E': {
      OrderExecuted m{};
      m.h = h;
      m.order_ref = r.u64();
      m.shares = r.u32();
      m.match_number = r.u64();
      out.type = MessageType::OrderExecuted;
      out.executed = m;
      break;
    }
    case 'C': {
      OrderExecutedWithPrice m{};
      m.h = h;
      m.order_ref = r.u64();
      m.shares = r.u32();
      m.match_number = r.u64();
      m.printable = r.ch();
      m.price = r.u32();
      out.type = MessageType::OrderExecutedWithPrice;
      out.executed_with_price = m;
      break;
    }
    case 'X': {
      OrderCancel m{};
      m.h = h;
      m.order_ref = r.u64();
      m.shares = r.u32();
      out.type = MessageType::OrderCancel;
      out.cancel = m;
      break;
    }
    case 'D': {
      OrderDelete m{};
      m.h = h;
      m.order_ref = r.u64();
      out.type = MessageType::OrderDelete;
      out.del = m;
      break;
    }
    case 'U': {
      OrderReplace m{};
      m.h = h;
      m.original_ref = r.u64();
      m.new_ref = r.u64();
      m.shares = r.u32();
      m.price = r.u32();
      out.type = MessageType::OrderReplace;
      out.replace = m;
      break;
    }
    case 'P': {
      Trade m{};
      m.h = h;
      m.order_ref = r.u64();
      m.side = r.ch();
      m.shares = r.u32();
      m.stock = r.alpha<8>();
      m.price = r.u32();
      m.match_number = r.u64();
      out.type = MessageType::Trade;
      out.trade = m;
      break;
    }
    case 'Q': {
      CrossTrade m{};
      m.h = h;
      m.shares = r.u64();
      m.stock = r.alpha<8>();
      m.cross_price = r.u32();
      m.match_number = r.u64();
      m.cross_type = r.ch();
      out.type = MessageType::CrossTrade;
      out.cross = m;
      break;
    }
    default: {  // 'I'
      Noii m{};
      m.h = h;
      m.paired_shares = r.u64();
      m.imbalance_shares = r.u64();
      m.imbalance_direction = r.ch();
      m.stock = r.alpha<8>();
      m.far_price = r.u32();
      m.near_price = r.u32();
      m.current_reference_price = r.u32();
      m.cross_type = r.ch();
      m.price_variation = r.ch();
      out.type = MessageType::Noii;
      out.noii = m;
      break;
    }
  }
  return Status::Ok;
}

}  // namespace peregrine::proto::itch
