#pragma once
/// The matching core: every instrument's book, the matching rules and the broker controls.
/// No I/O, no threads, no clocks, no exceptions, no allocation after construction.
/// Not thread-safe: one thread (the core thread, replay, a test) owns an Engine.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "peregrine/core/command.hpp"
#include "peregrine/core/config.hpp"
#include "peregrine/core/event.hpp"
#include "peregrine/core/types.hpp"

namespace peregrine {

/// One aggregated price level of a depth snapshot.
struct DepthLevel {
  Price price;
  std::uint64_t qty;
  std::uint32_t orders;
};

/// The auction a call phase would hold now (docs/market-rules.md, "Call auctions").
struct AuctionInfo {
  Price price;                     ///< 0 when the book does not cross
  std::uint64_t paired = 0;        ///< shares that would execute
  std::uint64_t imbalance = 0;     ///< surplus shares at that price
  std::optional<Side> surplus;     ///< the side with the surplus, none when balanced or no cross
};

/// Engine-wide counts, for metrics and tests.
struct EngineStats {
  std::uint64_t live_orders;
  std::uint64_t tokens_used;
  std::uint32_t max_orders;
  std::uint32_t max_tokens;
  std::uint64_t pool_bytes = 0;         ///< the order pool: max_orders slots of 64 bytes
  std::uint64_t token_index_bytes = 0;  ///< the token index (lookup table + key array) for max_tokens
};

namespace detail {
struct EngineState;
}

class Engine {
 public:
  /// Builds books and pools for `cfg`, which must pass check_config(). All memory the engine
  /// will use is allocated here.
  explicit Engine(const EngineConfig& cfg);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// Applies one command and writes its events to `sink`. Never fails: a refused command
  /// produces a Rejected or CancelRejected event and changes nothing else.
  void process(const Command& cmd, EventSink& sink) noexcept;

  /// A hint: starts loading the memory `cmd` will touch first (its token's entry in the day's
  /// token table, a likely cache miss). Callers that hold a batch of commands (the core thread
  /// draining its ring, replay) call it a couple of commands ahead of process(). Changes nothing.
  void prefetch(const Command& cmd) const noexcept;

  /// Writes every page of the price levels, the order pool and the token table once. They start
  /// as untouched zero pages (fast start-up); an operator who prefers no page faults while
  /// trading calls this before the first order (`tuning.cache_enabled`). Changes no state.
  void pretouch() noexcept;

  /// The instrument with this symbol, or InstrumentId{0}.
  [[nodiscard]] InstrumentId find_instrument(const Symbol& s) const noexcept;
  /// The firm with this name, or nothing.
  [[nodiscard]] std::optional<FirmId> find_firm(const FirmName& n) const noexcept;

  /// Best price on `side`, or nothing when that side is empty.
  [[nodiscard]] std::optional<Price> best(InstrumentId id, Side side) const noexcept;
  /// Up to `max_levels` levels of `side`, best first; returns how many were written.
  std::size_t depth(InstrumentId id, Side side, DepthLevel* out, std::size_t max_levels) const noexcept;
  /// Daily price limits of an instrument (zero for an unknown id).
  [[nodiscard]] PriceLimits limits(InstrumentId id) const noexcept;
  [[nodiscard]] TradingStatus status(InstrumentId id) const noexcept;
  /// The market's phase for the instrument, as the schedule (or an admin Set) last put it.
  [[nodiscard]] TradingStatus session(InstrumentId id) const noexcept;
  /// The uncross the book would give now (in any phase; the price of a book that does not cross is 0).
  [[nodiscard]] AuctionInfo indicative(InstrumentId id) const noexcept;
  /// Sum of open shares of the firm's live orders.
  [[nodiscard]] std::uint64_t firm_open_shares(FirmId id) const noexcept;
  [[nodiscard]] bool kill_switch(FirmId id) const noexcept;
  [[nodiscard]] EngineStats stats() const noexcept;

  /// Canonical hash of books, firms, tokens and counters (see state_hash.hpp).
  [[nodiscard]] std::uint64_t state_hash() const noexcept;
  /// Walks every structure and checks its invariants (links, level totals, bitmaps, firm
  /// exposures, token index). For tests; O(state).
  [[nodiscard]] bool validate_internal_state() const noexcept;

  [[nodiscard]] const EngineConfig& config() const noexcept;

  /// Snapshot format version written by save() and the only one load() accepts.
  static constexpr std::uint32_t kSnapshotVersion = 1;

  /// Appends the engine's whole state to `out`: the configuration's shape (checked by load()),
  /// counters, every instrument's phase, last trade and published indicative, every live order
  /// in book and time-priority order, kill switches, and every token used today (finished
  /// orders' tokens too). Compact: O(live orders + tokens), not the tables' sizes; it reads the
  /// day's token keys once. Allocates: not for the core thread; any thread that owns the
  /// Engine (the snapshot thread's replica).
  void save(std::vector<std::uint8_t>& out) const;

  /// Restores a save() into this Engine, which must be freshly constructed from the same
  /// EngineConfig. Afterwards state_hash() equals the saved engine's and every future command
  /// produces the same events. Returns false with a message in `error` on input that is not a
  /// well-formed snapshot of this configuration (any bytes: it never reads out of bounds); the
  /// Engine is then unusable and must be destroyed. Allocates; any thread that owns the Engine.
  [[nodiscard]] bool load(std::span<const std::uint8_t> in, std::string& error);

 private:
  std::unique_ptr<detail::EngineState> s_;
};

}  // namespace peregrine
