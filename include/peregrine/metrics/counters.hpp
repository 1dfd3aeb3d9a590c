#pragma once
/// Counter cells: the values a thread counts for the metrics thread, without any exporter.
///
/// Two threads, two roles (docs/operations-http.md):
///   - the owning thread (the core thread for CoreCounters, the ingress lcore for its counters)
///     writes its cells with relaxed stores; it never takes a lock, allocates, or calls into an
///     exporter;
///   - the metrics thread loads the cells at scrape time (ops::CoreCountersCollector turns them
///     into Prometheus families; this header knows nothing of Prometheus).

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "peregrine/core/codes.hpp"
#include "peregrine/core/command.hpp"
#include "peregrine/core/event.hpp"

namespace peregrine::metrics {

/// Size of one counter cell. Cells are packed: every cell of a block has the same single writer,
/// so packing them only means the core thread touches fewer cache lines per command; the metrics
/// thread reads them once per scrape. The block as a whole is aligned (below) so that nothing
/// another thread writes shares its lines.
inline constexpr std::size_t kCounterCellSize = 8;
/// Alignment of a whole CoreCounters block: 128 bytes, the adjacent-line prefetcher's pair, so
/// nothing another thread writes shares a line (or a prefetched pair) with the block.
inline constexpr std::size_t kCounterBlockAlign = 128;

/// One 64-bit value written by exactly one thread (its owner) and read by any thread.
/// The owner updates it with a relaxed load and a relaxed store, not a read-modify-write: with a
/// single writer nothing can be lost, and a plain store costs no locked instruction. Readers see
/// a value the owner stored (never a torn one), possibly a slightly old one.
class alignas(kCounterCellSize) CounterCell {
 public:
  /// Owner thread only. Adds `n` to the value.
  void add(std::uint64_t n = 1) noexcept {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  /// Owner thread only. Replaces the value (for gauges such as live orders).
  void set(std::uint64_t v) noexcept { value_.store(v, std::memory_order_relaxed); }
  /// Any thread.
  [[nodiscard]] std::uint64_t load() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
  static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
};

static_assert(sizeof(CounterCell) == kCounterCellSize);

/// Every RejectCode except None, in declaration order: the label values of the reject metrics.
inline constexpr std::array kRejectCodes{
    RejectCode::UnknownSymbol,      RejectCode::UnknownFirm,          RejectCode::InvalidSide,
    RejectCode::InvalidOrderType,   RejectCode::InvalidQuantity,      RejectCode::QuantityAboveMax,
    RejectCode::InvalidLot,         RejectCode::InvalidMinQty,        RejectCode::InvalidPrice,
    RejectCode::PriceOutsideLimits, RejectCode::PriceOutsideCage,     RejectCode::PostOnlyWouldCross,
    RejectCode::Halted,             RejectCode::MarketClosed,         RejectCode::OrderTypeNotInPhase,
    RejectCode::PostOnlyNotInPhase, RejectCode::CancelNotInPhase,     RejectCode::InvalidTransition,
    RejectCode::KillSwitch,         RejectCode::FirmQuantityAboveMax,
    RejectCode::FirmNotional,       RejectCode::FirmOpenShares,       RejectCode::DuplicateToken,
    RejectCode::UnknownOrder,       RejectCode::NothingToCancel,      RejectCode::OrderPoolFull,
    RejectCode::TokenTableFull,     RejectCode::Gateway,
};

/// Every CancelReason, in declaration order.
inline constexpr std::array kCancelReasons{
    CancelReason::UserRequested, CancelReason::Immediate, CancelReason::SelfMatch,
    CancelReason::Supervisory,   CancelReason::Halted,    CancelReason::Disconnected,
    CancelReason::System,        CancelReason::Expired,
};

/// Every CommandType, in declaration order.
inline constexpr std::array kCommandTypes{
    CommandType::NewOrder,   CommandType::Cancel,        CommandType::Replace,
    CommandType::MassCancel, CommandType::SetKillSwitch, CommandType::SetTradingStatus,
    CommandType::EdgeReject,
};

namespace detail {
/// Dense slot of each code, by its byte value; codes not in `codes` (or a new code someone
/// forgot to list) map to the extra last slot, exported as "unknown".
template <typename Code, std::size_t N>
constexpr std::array<std::uint8_t, 256> dense_index(const std::array<Code, N>& codes) noexcept {
  std::array<std::uint8_t, 256> index{};
  for (auto& slot : index) slot = static_cast<std::uint8_t>(N);
  for (std::size_t i = 0; i < N; ++i) index[static_cast<std::uint8_t>(codes[i])] = static_cast<std::uint8_t>(i);
  return index;
}
inline constexpr auto kRejectIndex = dense_index(kRejectCodes);
inline constexpr auto kCancelIndex = dense_index(kCancelReasons);
inline constexpr auto kCommandIndex = dense_index(kCommandTypes);
}  // namespace detail

/// The core thread's counters. The core thread (the only writer) calls on_command() for each
/// command it processes, on_event() for each event the engine emits, and the note_* functions
/// from its loop; the metrics thread reads the cells through CoreCountersCollector.
/// Build it before the core thread starts and destroy it after that thread is joined and the
/// collector is gone; keep it off the stack of short-lived frames (it is a few kilobytes).
struct alignas(kCounterBlockAlign) CoreCounters {
  /// Commands processed, by type; the last slot counts unknown types.
  std::array<CounterCell, kCommandTypes.size() + 1> commands;
  /// Orders accepted (Accepted events).
  CounterCell accepted;
  /// Orders and replaces refused (Rejected events), by RejectCode; last slot: unknown codes.
  std::array<CounterCell, kRejectCodes.size() + 1> rejected;
  /// Cancels refused (CancelRejected events), by RejectCode; last slot: unknown codes.
  std::array<CounterCell, kRejectCodes.size() + 1> cancel_rejected;
  /// Orders cancelled in whole or in part (Canceled events), by CancelReason; last slot: unknown.
  std::array<CounterCell, kCancelReasons.size() + 1> canceled;
  /// Orders replaced (Replaced events).
  CounterCell replaced;
  /// Executed events: one per order per fill, so two per trade.
  CounterCell executions;
  /// Trades (matches): one per BookExecute event.
  CounterCell trades;
  /// Shares traded: the sum of the trades' quantities.
  CounterCell traded_shares;
  /// Trading status changes applied (TradingStatusChanged events).
  CounterCell trading_status_changes;
  /// Kill switch changes applied (KillSwitchChanged events).
  CounterCell kill_switch_changes;
  /// Times the core found its outbound event ring full (it then applies the written policy).
  CounterCell event_ring_full;
  /// Passes in which the core left a command ring alone because the journal's ring was full.
  CounterCell journal_ring_full;
  /// Iterations of the core loop (polls of the inbound ring, empty or not): a liveness signal.
  CounterCell polls;
  /// Gauge: live (resting) orders, as of the core's last update (Engine::stats().live_orders).
  CounterCell live_orders;

  /// Core thread only. Counts one processed command.
  void on_command(const Command& cmd) noexcept {
    commands[detail::kCommandIndex[static_cast<std::uint8_t>(cmd.type)]].add();
  }

  /// Core thread only. Counts one event the engine emitted.
  void on_event(const Event& e) noexcept {
    switch (e.type) {
      case EventType::Accepted: accepted.add(); break;
      case EventType::Rejected: rejected[detail::kRejectIndex[e.code]].add(); break;
      case EventType::CancelRejected: cancel_rejected[detail::kRejectIndex[e.code]].add(); break;
      case EventType::Canceled: canceled[detail::kCancelIndex[e.code]].add(); break;
      case EventType::Replaced: replaced.add(); break;
      case EventType::Executed: executions.add(); break;
      case EventType::BookExecute:
        trades.add();
        traded_shares.add(e.qty.value());
        break;
      case EventType::TradingStatusChanged: trading_status_changes.add(); break;
      case EventType::KillSwitchChanged: kill_switch_changes.add(); break;
      default: break;  // the other book events repeat what the order events already counted
    }
  }

  /// Core thread only. Counts a full outbound ring.
  void note_event_ring_full() noexcept { event_ring_full.add(); }
  /// Core thread only.
  void note_journal_ring_full() noexcept { journal_ring_full.add(); }
  /// Core thread only. Counts one loop iteration.
  void note_poll() noexcept { polls.add(); }
  /// Core thread only. Publishes the number of live orders.
  void set_live_orders(std::uint64_t n) noexcept { live_orders.set(n); }
};

static_assert(alignof(CoreCounters) == kCounterBlockAlign);
static_assert(sizeof(CoreCounters) % kCounterBlockAlign == 0);

}  // namespace peregrine::metrics
