#pragma once
/// Events out of the matching core, and the allocation-free sink they are written to.
/// Every event is a fixed 96-byte record with all unused bytes zero, so an event stream can be
/// compared and hashed byte for byte (determinism tests, replay, replication).

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "peregrine/core/codes.hpp"
#include "peregrine/core/types.hpp"

namespace peregrine {

/// Event kinds. "Order" events go to the owner of an order (OUCH); "Book" events describe the
/// public book (ITCH 5.0). Field use per kind is listed on Event.
enum class EventType : std::uint8_t {
  // order events (to the owner)
  Accepted = 1,
  Rejected = 2,
  Executed = 3,
  Canceled = 4,
  Replaced = 5,
  CancelRejected = 6,
  // book events (market data)
  BookAdd = 16,
  BookExecute = 17,
  BookCancel = 18,
  BookDelete = 19,
  BookReplace = 20,
  CrossTrade = 21,  ///< an uncross's single print (ITCH Cross Trade 'Q')
  Indicative = 22,  ///< a call phase's indicative auction (ITCH NOII 'I')
  // status events
  TradingStatusChanged = 32,
  KillSwitchChanged = 33,
};

/// One event. Fields a kind does not list are zero. `a=b` means field a holds b; `qty=leaves`
/// means both fields hold the open quantity.
///
/// | type | fields |
/// |---|---|
/// | Accepted | owner firm instrument side order_type tif post_only order_id price(0 for market) qty=leaves min_qty token |
/// | Rejected | owner firm instrument(0 if unresolved; a trading-status command's id as given) code=RejectCode token (replace: token=replacement, token2=existing) |
/// | Rejected (code Gateway: an EdgeReject command) | owner code=Gateway ref=the gateway's OUCH reject reason token; firm=0 instrument=0 |
/// | Executed | owner firm instrument side order_id price qty leaves ref=match number code=Liquidity token |
/// | Canceled | owner firm instrument side order_id qty(decrement) leaves code=CancelReason token |
/// | Replaced | owner firm instrument side order_type tif post_only order_id ref=previous order id price qty=leaves token token2=previous token |
/// | CancelRejected | owner code=RejectCode qty(requested target) token |
/// | BookAdd | instrument side order_id price qty firm |
/// | BookExecute | instrument side order_id price qty leaves ref=match number code=0 (continuous) / 1 (uncross: at `price`, not printable) |
/// | BookCancel | instrument side order_id qty(cancelled) leaves |
/// | BookDelete | instrument side order_id |
/// | BookReplace | instrument side order_id(new) ref(old order id) price qty |
/// | CrossTrade | instrument price order_id=paired shares (64 bits) ref=match number code=CrossType |
/// | Indicative | instrument price(0 = no cross) ref=paired shares order_id=imbalance shares (64 bits each) side(surplus side; 0 if none) code=CrossType |
/// | TradingStatusChanged | instrument code=TradingStatus |
/// | KillSwitchChanged | firm code=1 engaged / 0 released |
struct Event {
  EventType type;
  Side side;
  std::uint8_t code;
  OrderType order_type;
  TimeInForce tif;
  std::uint8_t post_only;
  InstrumentId instrument;
  OwnerId owner;
  FirmId firm;
  std::uint16_t reserved0_;
  Timestamp ts;
  OrderId order_id;
  std::uint64_t ref;
  Price price;
  Qty qty;
  Qty leaves;
  Qty min_qty;
  std::uint32_t reserved1_;
  Token token;
  Token token2;
  std::uint32_t reserved2_;

  /// A zeroed event of `t` at `ts`.
  static Event make(EventType t, Timestamp ts) noexcept {
    Event e;
    std::memset(static_cast<void*>(&e), 0, sizeof e);
    e.type = t;
    e.ts = ts;
    return e;
  }
  friend bool operator==(const Event& a, const Event& b) noexcept {
    return std::memcmp(&a, &b, sizeof(Event)) == 0;
  }
};

static_assert(std::is_trivially_copyable_v<Event>);
static_assert(sizeof(Event) == 96);

/// Where the core writes events: a caller-owned buffer, handed to `flush_fn` when full and
/// whenever the caller calls flush(). No allocation; one indirect call per buffer, not per event.
/// Single-threaded: used by the thread that calls Engine::process.
class EventSink {
 public:
  using FlushFn = void (*)(void* ctx, const Event* events, std::size_t n) noexcept;

  EventSink(Event* buffer, std::size_t capacity, FlushFn flush_fn, void* ctx) noexcept
      : buf_(buffer), cap_(capacity), fn_(flush_fn), ctx_(ctx) {}

  /// Appends one event; flushes first if the buffer is full.
  void push(const Event& e) noexcept {
    if (n_ == cap_) flush();
    buf_[n_++] = e;
  }
  /// Starts a new zeroed event of `t` at `ts` in place and returns it for the caller to fill
  /// in; the reference is valid until the next push(), emplace() or flush().
  Event& emplace(EventType t, Timestamp ts) noexcept {
    if (n_ == cap_) flush();
    Event& e = buf_[n_++];
    zero(e);
    e.type = t;
    e.ts = ts;
    return e;
  }
  /// Hands the buffered events to the flush function and empties the buffer.
  void flush() noexcept {
    if (n_ != 0) fn_(ctx_, buf_, n_);
    n_ = 0;
  }
  [[nodiscard]] std::size_t buffered() const noexcept { return n_; }

 private:
  // Six 16-byte stores. A memset of the 96 bytes compiles (GCC 12, x86-64 generic tuning) to a
  // `rep stos`, whose start-up costs more than the stores themselves, on every event.
  static void zero(Event& e) noexcept {
    using Chunk = long long __attribute__((vector_size(16), may_alias, aligned(8)));
    static_assert(sizeof(Event) == 6 * sizeof(Chunk));
    // Written out: GCC turns a loop of these back into a memset.
    auto* p = reinterpret_cast<Chunk*>(&e);
    const Chunk z = {0, 0};
    p[0] = z;
    p[1] = z;
    p[2] = z;
    p[3] = z;
    p[4] = z;
    p[5] = z;
  }

  Event* buf_;
  std::size_t cap_;
  std::size_t n_ = 0;
  FlushFn fn_;
  void* ctx_;
};

/// FNV-1a 64 over bytes: the one hash the core, the tests and replay share.
[[nodiscard]] inline std::uint64_t fnv1a(const void* data, std::size_t n,
                                            std::uint64_t h = 0xcbf29ce484222325ULL) noexcept {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

}  // namespace peregrine
