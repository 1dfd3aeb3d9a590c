// Engine::save / Engine::load (issue #5): a snapshot restores the whole engine. An engine loaded
// from the snapshot of another after k commands must have its state hash and its internal
// invariants, save the very same bytes, and answer every later command with the same events,
// byte for byte. The stream is the differential test's generator (orders of every type, cancels,
// replaces, mass cancels, kill switches, halts, bad input) with call phases, resumption calls
// and reused tokens mixed in. Malformed snapshots (every truncation, random byte flips) are
// refused or give a valid engine, never a crash (this binary runs under ASan + UBSan).

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "differential/command_gen.hpp"
#include "peregrine/core/codes.hpp"
#include "peregrine/core/command.hpp"
#include "peregrine/core/engine.hpp"
#include "peregrine/core/event.hpp"

namespace peregrine {
namespace {

using differential::CommandGen;
using differential::SplitMix64;
using Bytes = std::vector<std::uint8_t>;

EngineConfig snapshot_config() {
  EngineConfig cfg = CommandGen::config();
  cfg.max_tokens = 1u << 16;  // a small token index: engines are built by the hundred
  return cfg;
}

// The differential generator plus what it does not send: the market's schedule (call phases and
// their uncrosses, breaks, the close), halts that resume through a call, and new orders that
// reuse a token already taken today (DuplicateToken).
class SnapshotStream {
 public:
  explicit SnapshotStream(std::uint64_t seed) : gen_(seed), rng_(seed ^ 0x5eed5eedULL) {}

  Command next() {
    Command c = gen_.next();
    ts_ = c.ts.value();
    const std::uint64_t roll = rng_.below(1000);
    if (roll < 6) {
      // Walk the day's phases in order, for one instrument or all.
      static constexpr TradingStatus kDay[] = {TradingStatus::OpeningCall, TradingStatus::OpeningCallFrozen,
                                               TradingStatus::Trading,     TradingStatus::Break,
                                               TradingStatus::Trading,     TradingStatus::ClosingCall,
                                               TradingStatus::Trading,     TradingStatus::Closed,
                                               TradingStatus::Trading};
      const TradingStatus phase = kDay[phase_++ % std::size(kDay)];
      const std::size_t i = rng_.index(CommandGen::kInstruments + 1);
      return make_schedule_phase(c.ts, InstrumentId{static_cast<std::uint16_t>(i)}, phase);
    }
    if (roll < 9) {
      const auto id = InstrumentId{static_cast<std::uint16_t>(1 + rng_.index(CommandGen::kInstruments))};
      return make_trading_status(c.ts, id, rng_.chance(1, 2) ? TradingStatus::Halted : TradingStatus::Suspended);
    }
    if (roll < 13) {
      const auto id = InstrumentId{static_cast<std::uint16_t>(1 + rng_.index(CommandGen::kInstruments))};
      return make_resume(c.ts, id, rng_.chance(2, 3));
    }
    if (c.type == CommandType::NewOrder) {
      if (roll < 40 && !used_.empty()) {
        const auto& [owner, token] = used_[rng_.index(used_.size())];
        c.new_order.owner = OwnerId{owner};
        c.new_order.firm = FirmId{static_cast<std::uint16_t>((owner - 1) / 2)};
        c.new_order.token = token;
      } else if (used_.size() < 4096) {
        used_.emplace_back(c.new_order.owner.value(), c.new_order.token);
      }
    }
    return c;
  }

 private:
  CommandGen gen_;
  SplitMix64 rng_;
  std::uint64_t ts_ = 0;
  std::size_t phase_ = 0;
  std::vector<std::pair<std::uint32_t, Token>> used_;
};

std::vector<Command> make_stream(std::uint64_t seed, std::size_t n) {
  SnapshotStream s(seed);
  std::vector<Command> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) out.push_back(s.next());
  return out;
}

// Runs commands, collecting every event.
class Runner {
 public:
  explicit Runner(const EngineConfig& cfg) : engine(cfg), sink_(buf_.data(), buf_.size(), &Runner::on_flush, this) {}

  void run(std::span<const Command> cmds) {
    for (const Command& c : cmds) engine.process(c, sink_);
    sink_.flush();
  }

  Engine engine;
  std::vector<Event> events;

 private:
  static void on_flush(void* ctx, const Event* e, std::size_t n) noexcept {
    auto* self = static_cast<Runner*>(ctx);
    self->events.insert(self->events.end(), e, e + n);
  }
  std::array<Event, 64> buf_{};
  EventSink sink_;
};

Bytes save_of(const Engine& e) {
  Bytes out;
  e.save(out);
  return out;
}

std::size_t count_type(const std::vector<Event>& ev, EventType t) {
  std::size_t n = 0;
  for (const Event& e : ev) n += e.type == t;
  return n;
}

TEST(EngineSnapshotTest, LoadedEngineContinuesTheStreamByteForByte) {
  const EngineConfig cfg = snapshot_config();
  constexpr std::size_t kCommands = 30000;
  for (const std::uint64_t seed : {1u, 2u, 3u}) {
    const std::vector<Command> cmds = make_stream(seed, kCommands);
    // The uninterrupted run: the reference for every split.
    Runner whole(cfg);
    whole.run(cmds);
    ASSERT_TRUE(whole.engine.validate_internal_state());
    // The stream must reach what the snapshot has to carry.
    ASSERT_GT(count_type(whole.events, EventType::Indicative), 0u);
    ASSERT_GT(count_type(whole.events, EventType::CrossTrade), 0u);
    ASSERT_GT(count_type(whole.events, EventType::KillSwitchChanged), 0u);
    std::size_t dup = 0;
    for (const Event& e : whole.events)
      dup += e.type == EventType::Rejected && e.code == static_cast<std::uint8_t>(RejectCode::DuplicateToken);
    ASSERT_GT(dup, 0u);

    for (const std::size_t k : {std::size_t{0}, std::size_t{1}, std::size_t{777}, kCommands / 3,
                                kCommands / 2 + 13, kCommands - 1, kCommands}) {
      SCOPED_TRACE("seed " + std::to_string(seed) + " split at " + std::to_string(k));
      Runner a(cfg);
      a.run({cmds.data(), k});
      const Bytes snap = save_of(a.engine);
      Runner b(cfg);
      std::string error;
      ASSERT_TRUE(b.engine.load(snap, error)) << error;
      EXPECT_EQ(b.engine.state_hash(), a.engine.state_hash());
      EXPECT_TRUE(b.engine.validate_internal_state());
      EXPECT_EQ(b.engine.stats().live_orders, a.engine.stats().live_orders);
      EXPECT_EQ(b.engine.stats().tokens_used, a.engine.stats().tokens_used);
      EXPECT_EQ(save_of(b.engine), snap) << "the save of a loaded engine differs from the snapshot";

      const std::size_t before = a.events.size();
      a.run({cmds.data() + k, kCommands - k});
      b.run({cmds.data() + k, kCommands - k});
      ASSERT_EQ(b.events.size(), a.events.size() - before);
      for (std::size_t i = 0; i < b.events.size(); ++i)
        ASSERT_TRUE(b.events[i] == a.events[before + i]) << "event " << i << " after the split differs";
      EXPECT_EQ(b.engine.state_hash(), a.engine.state_hash());
      EXPECT_EQ(a.engine.state_hash(), whole.engine.state_hash());
      EXPECT_TRUE(b.engine.validate_internal_state());
    }
  }
}

TEST(EngineSnapshotTest, SnapshotTakenInACallPhaseKeepsThePublishedIndicative) {
  // Everyone in the opening call: the uncross after the load must match.
  const EngineConfig cfg = snapshot_config();
  std::vector<Command> cmds;
  cmds.push_back(make_schedule_phase(Timestamp{1}, InstrumentId{0}, TradingStatus::OpeningCall));
  SnapshotStream s(42);
  for (int i = 0; i < 3000; ++i) cmds.push_back(s.next());
  const std::size_t k = cmds.size();
  cmds.push_back(make_schedule_phase(Timestamp{1u << 30}, InstrumentId{0}, TradingStatus::Trading));
  for (int i = 0; i < 2000; ++i) cmds.push_back(s.next());

  Runner a(cfg);
  a.run({cmds.data(), k});
  Runner b(cfg);
  std::string error;
  ASSERT_TRUE(b.engine.load(save_of(a.engine), error)) << error;
  for (std::uint16_t id = 1; id <= CommandGen::kInstruments; ++id) {
    EXPECT_EQ(b.engine.status(InstrumentId{id}), a.engine.status(InstrumentId{id}));
    EXPECT_EQ(b.engine.session(InstrumentId{id}), a.engine.session(InstrumentId{id}));
  }
  const std::size_t before = a.events.size();
  a.run({cmds.data() + k, cmds.size() - k});
  b.run({cmds.data() + k, cmds.size() - k});
  ASSERT_EQ(b.events.size(), a.events.size() - before);
  EXPECT_GT(count_type(b.events, EventType::CrossTrade), 0u);
  for (std::size_t i = 0; i < b.events.size(); ++i) ASSERT_TRUE(b.events[i] == a.events[before + i]) << i;
}

TEST(EngineSnapshotTest, RefusesAnotherConfigurationANonFreshEngineAndAnotherVersion) {
  const EngineConfig cfg = snapshot_config();
  Runner a(cfg);
  a.run(make_stream(5, 500));
  const Bytes snap = save_of(a.engine);
  std::string error;

  EngineConfig more_orders = cfg;
  more_orders.max_orders += 1;
  EXPECT_FALSE(Engine(more_orders).load(snap, error));
  EXPECT_NE(error.find("max_orders"), std::string::npos) << error;

  EngineConfig fewer = cfg;
  fewer.instruments.pop_back();
  EXPECT_FALSE(Engine(fewer).load(snap, error));
  EXPECT_NE(error.find("instrument count"), std::string::npos) << error;

  EngineConfig other_ref = cfg;
  other_ref.instruments[0].reference_price = Price{other_ref.instruments[0].reference_price.value() + 1000};
  EXPECT_FALSE(Engine(other_ref).load(snap, error));
  EXPECT_NE(error.find("price grid"), std::string::npos) << error;

  Runner used(cfg);
  used.run(make_stream(6, 50));
  EXPECT_FALSE(used.engine.load(snap, error));
  EXPECT_NE(error.find("fresh"), std::string::npos) << error;

  Bytes v2 = snap;
  v2[4] = 2;
  EXPECT_FALSE(Engine(cfg).load(v2, error));
  EXPECT_NE(error.find("version"), std::string::npos) << error;

  Bytes longer = snap;
  longer.push_back(0);
  EXPECT_FALSE(Engine(cfg).load(longer, error));
  EXPECT_NE(error.find("trailing"), std::string::npos) << error;
}

// A small engine with live orders on both sides, dead tokens and a kill switch.
Bytes small_snapshot(const EngineConfig& cfg) {
  Runner a(cfg);
  a.run(make_stream(9, 120));
  a.run(std::vector<Command>{make_kill_switch(Timestamp{1}, FirmId{2}, true, false)});
  EXPECT_GT(a.engine.stats().live_orders, 3u);
  EXPECT_GT(a.engine.stats().tokens_used, a.engine.stats().live_orders);
  return save_of(a.engine);
}

// After a load that succeeded, the engine must be sound and keep working.
void exercise(Engine& e) {
  ASSERT_TRUE(e.validate_internal_state());
  std::array<Event, 64> buf{};
  EventSink sink(buf.data(), buf.size(), [](void*, const Event*, std::size_t) noexcept {}, nullptr);
  SnapshotStream s(77);
  for (int i = 0; i < 300; ++i) e.process(s.next(), sink);
  sink.flush();
  ASSERT_TRUE(e.validate_internal_state());
}

TEST(EngineSnapshotTest, EveryTruncationIsRefused) {
  const EngineConfig cfg = snapshot_config();
  const Bytes snap = small_snapshot(cfg);
  for (std::size_t n = 0; n < snap.size(); ++n) {
    Engine e(cfg);
    std::string error;
    ASSERT_FALSE(e.load({snap.data(), n}, error)) << "a snapshot cut at " << n << " bytes loaded";
    ASSERT_FALSE(error.empty());
  }
  Engine e(cfg);
  std::string error;
  ASSERT_TRUE(e.load(snap, error)) << error;
  exercise(e);
}

TEST(EngineSnapshotTest, RandomByteFlipsAreRefusedOrGiveASoundEngine) {
  const EngineConfig cfg = snapshot_config();
  const Bytes snap = small_snapshot(cfg);
  SplitMix64 rng(2024);
  std::size_t loaded = 0;
  for (int round = 0; round < 1500; ++round) {
    Bytes bad = snap;
    const int flips = 1 + static_cast<int>(rng.below(4));
    for (int f = 0; f < flips; ++f) {
      const std::size_t at = rng.index(bad.size());
      if (rng.chance(1, 3)) bad[at] = static_cast<std::uint8_t>(rng.below(256));
      else bad[at] ^= static_cast<std::uint8_t>(1u << rng.below(8));
    }
    Engine e(cfg);
    std::string error;
    if (e.load(bad, error)) {
      ++loaded;
      exercise(e);
    } else {
      ASSERT_FALSE(error.empty());
    }
  }
  // Flips inside tokens, owners and quantities load: the check above ran on real engines.
  EXPECT_GT(loaded, 0u);
}

// Not a benchmark (no thresholds): prints the size and times of a snapshot of 100,000 live
// orders for the record. Full token table (the default 4M tokens: the save scans 192 MB).
TEST(EngineSnapshotTest, HundredThousandLiveOrders) {
  EngineConfig cfg = CommandGen::config();
  cfg.max_orders = 1u << 17;
  Runner a(cfg);
  std::vector<Command> cmds;
  constexpr std::uint32_t kOrders = 100000;
  for (std::uint32_t i = 0; i < kOrders; ++i) {
    const std::size_t inst = i % CommandGen::kInstruments == 3 ? 0 : i % CommandGen::kInstruments;
    const auto& spec = CommandGen::kSpecs[inst];
    const bool buy = (i / 4) % 2 == 0;
    const std::int64_t off = static_cast<std::int64_t>(1 + (i / 8) % 10) * spec.tick;
    const std::uint32_t owner = 1 + i % CommandGen::kOwners;
    char tok[15];
    std::snprintf(tok, sizeof tok, "H%u", i);
    cmds.push_back(make_new_order(Timestamp{i + 1u}, OwnerId{owner}, FirmId{static_cast<std::uint16_t>((owner - 1) / 2 % 5)},
                                  Symbol::from(spec.symbol), Token::from(tok), buy ? Side::Buy : Side::Sell,
                                  Qty{spec.min_qty}, Price{spec.reference + (buy ? -off : off)}));
  }
  a.run(cmds);
  ASSERT_EQ(a.engine.stats().live_orders, kOrders);
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  const Bytes snap = save_of(a.engine);
  const auto t1 = Clock::now();
  Engine b(cfg);
  std::string error;
  ASSERT_TRUE(b.load(snap, error)) << error;
  const auto t2 = Clock::now();
  EXPECT_EQ(b.state_hash(), a.engine.state_hash());
  EXPECT_TRUE(b.validate_internal_state());
  const auto ms = [](auto d) { return std::chrono::duration<double, std::milli>(d).count(); };
  std::printf("snapshot of %u live orders: %zu bytes, save %.1f ms, load %.1f ms (this build)\n", kOrders,
              snap.size(), ms(t1 - t0), ms(t2 - t1));
}

}  // namespace
}  // namespace peregrine
