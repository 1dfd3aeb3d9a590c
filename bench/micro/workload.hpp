#pragma once
/// Workloads for the core micro benchmarks (core_bench, peregrine_core_latency).
///
/// Commands are generated ahead of the measurement against a *shadow* Engine: every generated
/// command is applied to the shadow at once and its events keep a view of the live orders
/// (LiveOrders), so later cancels and replaces always name a live order and crossing orders are
/// sized from the real book. The engine is deterministic, so a fresh Engine built from the same
/// configuration and fed the same seed and commands goes through exactly the same states; the
/// benchmarks check that (event count and state_hash) at the end of each pass.
///
/// Reference data: A-share main-board instruments (tick 0.01, lot 100, ±10 % around 100.00,
/// no price cage), 8 firms without limits or self-trade prevention, 64 owners. Capacities are
/// the EngineConfig defaults (2^20 orders, 2^22 tokens) unless a workload needs more tokens.
/// Tokens are 14 decimal digits of a counter, unique across owners.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "peregrine/core/command.hpp"
#include "peregrine/core/config.hpp"
#include "peregrine/core/engine.hpp"
#include "peregrine/core/event.hpp"
#include "peregrine/core/types.hpp"

namespace peregrine::bench {

inline constexpr std::int64_t kTick = 100;             ///< 0.01 CNY
inline constexpr std::int64_t kReference = 1'000'000;  ///< 100.00 CNY
inline constexpr std::uint32_t kLot = 100;
inline constexpr std::uint32_t kOwners = 64;
inline constexpr std::uint32_t kFirms = 8;

/// xoshiro256** seeded through splitmix64: fast, reproducible across platforms.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) noexcept;
  std::uint64_t next() noexcept;
  /// Uniform in [0, n); n > 0.
  std::uint32_t below(std::uint32_t n) noexcept;
  /// True with probability pct/100.
  bool chance(std::uint32_t pct) noexcept { return below(100) < pct; }

 private:
  std::array<std::uint64_t, 4> s_{};
};

/// The benchmark configuration: `instruments` instruments (symbols 600000, 600001, ...),
/// kFirms firms, default order capacity and `max_tokens` tokens.
[[nodiscard]] EngineConfig make_config(std::uint32_t instruments,
                                       std::uint32_t max_tokens = EngineConfig{}.max_tokens);

[[nodiscard]] Symbol symbol_of(InstrumentId id);
[[nodiscard]] FirmId firm_of(OwnerId owner) noexcept;
[[nodiscard]] Token token_from_number(std::uint64_t n) noexcept;
[[nodiscard]] std::uint64_t token_number(const Token& t) noexcept;

/// What a timed command exercises.
enum class OpKind : std::uint8_t {
  AddPassive,   ///< a new limit order that rests without trading
  AddCross,     ///< a new limit order that trades on arrival (IOC or day)
  Cancel,       ///< a full or partial cancel of a live order
  ReplaceKeep,  ///< a replace at the same price, same or lower quantity: keeps priority
  ReplaceMove,  ///< a replace to another (non-crossing) price: loses priority
};
inline constexpr std::size_t kOpKinds = 5;
[[nodiscard]] std::string_view to_string(OpKind k) noexcept;

/// A live order as seen from the event stream.
struct LiveOrder {
  std::uint64_t token;
  OwnerId owner;
  InstrumentId instrument;
  Side side;
  Price price;
  Qty open;
};

/// The live orders of an engine, kept from its events. O(1) update and random pick.
class LiveOrders {
 public:
  void on_event(const Event& e);
  [[nodiscard]] std::size_t size() const noexcept { return orders_.size(); }
  [[nodiscard]] const LiveOrder& at(std::size_t i) const noexcept { return orders_[i]; }
  /// Live orders on one side of one instrument.
  [[nodiscard]] std::uint32_t count(InstrumentId id, Side side) const noexcept;

 private:
  void add(const LiveOrder& o);
  void set_open(std::uint64_t token, Qty open);
  void erase(std::uint64_t token);
  std::uint32_t& counter(InstrumentId id, Side side);

  std::vector<LiveOrder> orders_;
  std::unordered_map<std::uint64_t, std::uint32_t> index_;  // token -> position in orders_
  std::vector<std::uint32_t> counts_;                       // per instrument and side
};

/// An Engine plus the live-order view of its events; hands out timestamps and tokens.
/// Any Rejected or CancelRejected is a generator bug: it prints the command and aborts.
class Shadow {
 public:
  explicit Shadow(const EngineConfig& cfg);
  Shadow(const Shadow&) = delete;
  Shadow& operator=(const Shadow&) = delete;

  struct Outcome {
    std::uint32_t events = 0;
    std::uint32_t fills = 0;  ///< trades (Executed events with liquidity Removed)
  };
  /// Applies `cmd` to the shadow engine and the live-order view.
  Outcome apply(const Command& cmd);

  [[nodiscard]] Engine& engine() noexcept { return engine_; }
  [[nodiscard]] const LiveOrders& live() const noexcept { return live_; }
  [[nodiscard]] Timestamp next_ts() noexcept { return Timestamp{++now_}; }
  [[nodiscard]] Token next_token() noexcept { return token_from_number(next_token_++); }
  [[nodiscard]] std::uint64_t tokens_issued() const noexcept { return next_token_ - 1; }

  /// A day limit order (or `tif`) with a fresh token.
  Command new_order(OwnerId owner, InstrumentId id, Side side, Price price, Qty qty,
                    TimeInForce tif = TimeInForce::Day);

 private:
  static void collect(void* ctx, const Event* events, std::size_t n) noexcept;

  Engine engine_;
  std::array<Event, 64> buf_{};
  EventSink sink_;
  std::vector<Event> events_;
  LiveOrders live_;
  std::uint64_t next_token_ = 1;
  std::uint64_t now_ = 0;
};

/// A pre-generated benchmark: seed commands that build the starting book on a fresh engine,
/// then timed commands in chunks; after chunk k the untimed commands
/// restore[restore_end[k-1] .. restore_end[k]) bring the book back to its steady state.
/// After the last chunk, the engine is in the state `final_state_hash` and has written
/// `timed_events` events for the timed commands; a new pass needs a fresh engine (tokens are
/// day-unique).
struct Script {
  EngineConfig config;
  std::vector<Command> seed;
  std::vector<Command> timed;
  std::vector<OpKind> kinds;
  std::vector<std::size_t> chunk_end;    ///< exclusive end of each chunk in `timed`
  std::vector<std::size_t> restore_end;  ///< exclusive end of each chunk's restore commands
  std::vector<Command> restore;
  std::uint64_t timed_events = 0;
  std::uint64_t timed_fills = 0;
  std::uint64_t final_state_hash = 0;
};

/// Bounds of a script: at most `max_timed` timed commands and `max_tokens` tokens per pass.
struct ScriptLimits {
  std::size_t max_timed = std::size_t{1} << 21;
  std::uint32_t max_tokens = EngineConfig{}.max_tokens;
};

/// Passive adds near the touch (1-10 ticks deep, 1-10 lots) on a book of 10 levels x 10
/// orders per side; each chunk of 1024 adds is cancelled untimed.
[[nodiscard]] Script build_add_passive(const ScriptLimits& lim);
/// Day limit orders that take exactly `levels` full price levels of `orders` orders each (one
/// fill per resting order, nothing rests); the taken levels are re-added untimed. Chunks
/// alternate buying and selling.
[[nodiscard]] Script build_add_cross(const ScriptLimits& lim, std::uint32_t levels,
                                     std::uint32_t orders);
/// Full cancels of random live orders on a book of 10 levels x 20 orders per side; each
/// chunk of 256 cancelled orders is re-added untimed.
[[nodiscard]] Script build_cancel(const ScriptLimits& lim);
/// Replaces of random live orders on a book of 10 levels x 20 orders per side.
/// keep_priority: same price, one lot less (or the same quantity at one lot): Replaced +
/// BookCancel. Otherwise: a new price 1-19 ticks away on the same side, never crossing:
/// Replaced + BookReplace.
[[nodiscard]] Script build_replace(const ScriptLimits& lim, bool keep_priority);

/// The realistic mix. Per command: cancel `pct_cancel` %, replace `pct_replace` % (half keep
/// priority, half move 1-2 ticks), crossing order `pct_cross` %, else a passive add near the
/// touch (35 % join the touch, 10 % improve inside the spread when it is wider than a tick, the
/// rest 1-4 ticks deep, some up to 20). Crossing orders (70 % IOC, 30 % day with a small
/// remainder that rests) take 1-3 resting orders plus whatever the side holds beyond
/// `target_depth`, so the book stays near its target depth; their side leans against the
/// mid's drift from the reference price so prices stay well inside the limits.
struct MixParams {
  std::uint32_t instruments = 1;
  std::uint32_t target_depth = 200;  ///< resting orders per side and instrument
  std::uint32_t pct_cancel = 28;
  std::uint32_t pct_replace = 10;
  std::uint32_t pct_cross = 5;
  std::uint64_t seed = 20240601;
};

/// What a mix generator has produced so far.
struct MixStats {
  std::array<std::uint64_t, kOpKinds> ops{};
  std::uint64_t commands = 0;
  std::uint64_t events = 0;
  std::uint64_t fills = 0;
  std::uint64_t partial_cancels = 0;
  std::uint64_t depth_samples = 0;
  double depth_sum = 0;  ///< live orders per side and instrument, summed over samples
  [[nodiscard]] double mean_depth() const noexcept {
    return depth_samples == 0 ? 0.0 : depth_sum / static_cast<double>(depth_samples);
  }
};

/// Generates the realistic mix one command at a time against its own shadow engine.
class MixGenerator {
 public:
  MixGenerator(const MixParams& p, const EngineConfig& cfg);
  /// Commands that build the starting book (20 levels x 10 orders per side and instrument);
  /// already applied to the shadow.
  [[nodiscard]] const std::vector<Command>& seed_commands() const noexcept { return seed_; }
  /// The next command, already applied to the shadow engine.
  Command next(OpKind& kind);
  [[nodiscard]] const MixStats& stats() const noexcept { return stats_; }
  [[nodiscard]] Shadow& shadow() noexcept { return *shadow_; }

 private:
  Command passive_add(InstrumentId id, Side side);
  Command cross(InstrumentId id, OpKind& kind);
  Command cancel(const LiveOrder& o);
  Command replace(const LiveOrder& o, OpKind& kind);
  OwnerId random_owner() noexcept;
  Qty random_qty() noexcept;

  MixParams p_;
  std::unique_ptr<Shadow> shadow_;
  Rng rng_;
  std::vector<Command> seed_;
  std::vector<PriceLimits> limits_;  // by instrument id
  MixStats stats_;
};

/// The realistic mix as a script of as many timed commands as `lim` allows (one chunk, no
/// restore); `stats`, when given, receives what the generator produced.
[[nodiscard]] Script build_mix(const ScriptLimits& lim, const MixParams& p, MixStats* stats = nullptr);

}  // namespace peregrine::bench
