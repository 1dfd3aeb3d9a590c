// The core thread: same events as the engine run directly, through real rings and threads.

#include "peregrine/app/core_loop.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <thread>
#include <vector>

#include "differential/command_gen.hpp"

namespace peregrine::app {
namespace {

std::uint64_t hash_events(const std::vector<Event>& events) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const Event& e : events) h = fnv1a(&e, sizeof e, h);
  return h;
}

// The events of `n` generated commands run straight through an Engine.
std::vector<Event> direct_events(std::uint64_t seed, std::size_t n, std::uint64_t* state_hash) {
  Engine engine(differential::CommandGen::config());
  differential::CommandGen gen(seed);
  std::vector<Event> out;
  std::vector<Event> buf(64);
  EventSink sink(buf.data(), buf.size(),
                 [](void* ctx, const Event* e, std::size_t k) noexcept {
                   auto* v = static_cast<std::vector<Event>*>(ctx);
                   v->insert(v->end(), e, e + k);
                 },
                 &out);
  for (std::size_t i = 0; i < n; ++i) engine.process(gen.next(), sink);
  sink.flush();
  *state_hash = engine.state_hash();
  return out;
}

// "A0", "B3", ... (std::string concatenation trips GCC 12's false -Wrestrict at -O3).
Token numbered(char letter, int i) {
  const char text[3] = {letter, static_cast<char>('0' + i), '\0'};
  return Token::from(text);
}

struct Rig {
  Rig() : engine(differential::CommandGen::config()) {}
  Engine engine;
  std::unique_ptr<CommandRing> in = std::make_unique<CommandRing>();
  std::unique_ptr<EventRing> out = std::make_unique<EventRing>();
  std::unique_ptr<metrics::CoreCounters> counters = std::make_unique<metrics::CoreCounters>();
};

TEST(CoreLoopTest, DoWorkGivesTheSameEventsAsTheEngineRunDirectly) {
  constexpr std::size_t kCommands = 20000;
  std::uint64_t expected_hash = 0;
  const std::vector<Event> expected = direct_events(7, kCommands, &expected_hash);

  Rig rig;
  CoreLoop loop(rig.engine, {rig.in.get()}, *rig.out, *rig.counters, CoreLoopOptions{});
  differential::CommandGen gen(7);
  std::vector<Event> got;
  std::size_t pushed = 0;
  while (pushed < kCommands || !rig.in->empty()) {
    while (pushed < kCommands && rig.in->try_push(gen.next()) == PushResult::Ok) ++pushed;
    (void)loop.do_work();
    rig.out->drain([&](Event& e) noexcept { got.push_back(e); }, EventRing::capacity());
  }
  ASSERT_EQ(got.size(), expected.size());
  EXPECT_EQ(hash_events(got), hash_events(expected));
  EXPECT_EQ(rig.engine.state_hash(), expected_hash);
  std::uint64_t commands = 0;
  for (const auto& c : rig.counters->commands) commands += c.load();
  EXPECT_EQ(commands, kCommands);
  EXPECT_EQ(rig.counters->live_orders.load(), rig.engine.stats().live_orders);
}

TEST(CoreLoopTest, CoreThreadBetweenProducerAndConsumerThreadsLosesNothing) {
  constexpr std::size_t kCommands = 200000;
  std::uint64_t expected_hash = 0;
  const std::vector<Event> expected = direct_events(11, kCommands, &expected_hash);

  Rig rig;
  CoreLoop loop(rig.engine, {rig.in.get()}, *rig.out, *rig.counters,
                CoreLoopOptions{-1, IdleStrategyKind::Yield, 64});
  loop.start();
  std::thread producer([&] {
    differential::CommandGen gen(11);
    for (std::size_t i = 0; i < kCommands; ++i) {
      const Command c = gen.next();
      while (rig.in->try_push(c) != PushResult::Ok) std::this_thread::yield();
    }
  });
  std::vector<Event> got;
  got.reserve(expected.size());
  while (got.size() < expected.size()) {
    if (rig.out->drain([&](Event& e) noexcept { got.push_back(e); }, 1024) == 0) std::this_thread::yield();
  }
  producer.join();
  loop.stop();
  EXPECT_FALSE(loop.running());
  EXPECT_TRUE(rig.out->empty());
  EXPECT_EQ(hash_events(got), hash_events(expected));
  EXPECT_EQ(rig.engine.state_hash(), expected_hash);
}

TEST(CoreLoopTest, EventRingFullMakesTheCoreWaitAndCountNotDrop) {
  // One mass-producing stream against a consumer that starts late: the core must wait for room.
  constexpr std::size_t kCommands = 60000;
  std::uint64_t expected_hash = 0;
  const std::vector<Event> expected = direct_events(3, kCommands, &expected_hash);
  ASSERT_GT(expected.size(), EventRing::capacity());

  Rig rig;
  CoreLoop loop(rig.engine, {rig.in.get()}, *rig.out, *rig.counters,
                CoreLoopOptions{-1, IdleStrategyKind::Yield, 256});
  loop.start();
  differential::CommandGen gen(3);
  for (std::size_t i = 0; i < kCommands; ++i) {
    const Command c = gen.next();
    while (rig.in->try_push(c) != PushResult::Ok) std::this_thread::yield();
  }
  // Let the core fill the event ring before anyone drains it.
  while (rig.counters->event_ring_full.load() == 0) std::this_thread::yield();
  std::vector<Event> got;
  while (got.size() < expected.size()) {
    if (rig.out->drain([&](Event& e) noexcept { got.push_back(e); }, 1024) == 0) std::this_thread::yield();
  }
  loop.stop();
  EXPECT_GE(rig.counters->event_ring_full.load(), 1u);
  EXPECT_EQ(hash_events(got), hash_events(expected));
}

TEST(CoreLoopTest, TakesEveryRingInOrderWithinEachRing) {
  Rig rig;
  auto second = std::make_unique<CommandRing>();
  CoreLoop loop(rig.engine, {rig.in.get(), second.get()}, *rig.out, *rig.counters, CoreLoopOptions{-1, IdleStrategyKind::BusySpin, 2});
  const Symbol sym = differential::CommandGen::config().instruments[0].symbol;
  const Price px = differential::CommandGen::config().instruments[0].reference_price;
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(rig.in->try_push(make_new_order(Timestamp{1}, OwnerId{1}, FirmId{0}, sym,
                                              numbered('A', i), Side::Buy, Qty{100}, px)),
              PushResult::Ok);
    ASSERT_EQ(second->try_push(make_new_order(Timestamp{2}, OwnerId{2}, FirmId{1}, sym,
                                              numbered('B', i), Side::Buy, Qty{100}, px)),
              PushResult::Ok);
  }
  while (loop.do_work() > 0) {
  }
  std::vector<std::string> accepted;
  rig.out->drain([&](Event& e) noexcept {
    if (e.type == EventType::Accepted) accepted.emplace_back(e.token.view());
  }, EventRing::capacity());
  // Batch of 2 per ring per pass: A0 A1 B0 B1 A2 A3 B2 B3 A4 B4.
  const std::vector<std::string> want{"A0", "A1", "B0", "B1", "A2", "A3", "B2", "B3", "A4", "B4"};
  EXPECT_EQ(accepted, want);
}

// With a journal: every command is pushed to the journal ring in processing order (across
// rings), numbered from last_seq + 1, and the boundaries never claim an event before the
// command that produced it.
TEST(CoreLoopTest, JournalGetsEveryCommandInProcessingOrderAndBoundariesCoverTheirEvents) {
  Rig rig;
  auto second = std::make_unique<CommandRing>();
  auto jring = std::make_unique<journal::JournalRing>();
  auto bounds = std::make_unique<BoundaryRing>();
  CoreLoop loop(rig.engine, {rig.in.get(), second.get()}, *rig.out, *rig.counters,
                CoreLoopOptions{-1, IdleStrategyKind::BusySpin, 3});
  loop.attach_journal(*jring, *bounds, 41);
  differential::CommandGen gen(11);
  std::vector<Command> sent;
  for (int i = 0; i < 2000; ++i) {
    const Command c = gen.next();
    ASSERT_EQ((i % 3 == 0 ? second : rig.in)->try_push(c), PushResult::Ok);
  }
  std::vector<Command> journaled;
  std::vector<Boundary> boundaries;
  std::vector<Event> events;
  while (loop.do_work() > 0) {
    jring->drain([&](Command& c) noexcept { journaled.push_back(c); }, journal::JournalRing::capacity());
    bounds->drain([&](Boundary& b) noexcept { boundaries.push_back(b); }, BoundaryRing::capacity());
    rig.out->drain([&](Event& e) noexcept { events.push_back(e); }, EventRing::capacity());
  }
  ASSERT_EQ(journaled.size(), 2000u);
  EXPECT_EQ(loop.last_seq(), 41u + 2000u);
  EXPECT_EQ(loop.events_pushed(), events.size());
  // Replaying the journal's order into a fresh engine gives the same events: it is the order
  // the core processed them in.
  Engine replay(differential::CommandGen::config());
  std::vector<Event> again;
  std::vector<Event> buf(64);
  EventSink sink(buf.data(), buf.size(),
                 [](void* ctx, const Event* e, std::size_t k) noexcept {
                   auto* v = static_cast<std::vector<Event>*>(ctx);
                   v->insert(v->end(), e, e + k);
                 },
                 &again);
  std::vector<std::uint64_t> events_after(journaled.size() + 1, 0);  // events after the k-th command
  for (std::size_t k = 0; k < journaled.size(); ++k) {
    replay.process(journaled[k], sink);
    sink.flush();
    events_after[k + 1] = again.size();
  }
  EXPECT_EQ(hash_events(again), hash_events(events));
  ASSERT_FALSE(boundaries.empty());
  std::uint64_t prev_events = 0;
  std::uint64_t prev_seq = 41;
  for (const Boundary& b : boundaries) {
    EXPECT_GE(b.events, prev_events);
    EXPECT_GE(b.seq, prev_seq);
    // Every event the boundary releases was emitted by a command numbered b.seq or lower.
    ASSERT_GE(b.seq, 41u);
    EXPECT_LE(b.events, events_after[b.seq - 41]);
    prev_events = b.events;
    prev_seq = b.seq;
  }
  EXPECT_EQ(boundaries.back().events, events.size());
  EXPECT_EQ(boundaries.back().seq, 41u + 2000u);
}

// A full journal ring holds the core back (counted); nothing is processed unjournaled.
TEST(CoreLoopTest, FullJournalRingStopsTheCoreUntilTheWriterTakesCommands) {
  Rig rig;
  auto jring = std::make_unique<journal::JournalRing>();
  auto bounds = std::make_unique<BoundaryRing>();
  CoreLoop loop(rig.engine, {rig.in.get()}, *rig.out, *rig.counters, CoreLoopOptions{-1, IdleStrategyKind::BusySpin, 256});
  loop.attach_journal(*jring, *bounds, 0);
  // Fill the journal ring to one slot short of full.
  for (std::size_t i = 0; i + 1 < journal::JournalRing::capacity(); ++i) ASSERT_EQ(jring->try_push(Command{}), PushResult::Ok);
  differential::CommandGen gen(5);
  for (int i = 0; i < 10; ++i) ASSERT_EQ(rig.in->try_push(gen.next()), PushResult::Ok);
  EXPECT_EQ(loop.do_work(), 1);  // room for one
  EXPECT_EQ(loop.do_work(), 0);
  EXPECT_GE(rig.counters->journal_ring_full.load(), 1u);
  EXPECT_EQ(rig.in->size_approx(), 9u);
  (void)jring->drain([](Command&) noexcept {}, 100);
  EXPECT_EQ(loop.do_work(), 9);
  EXPECT_EQ(loop.last_seq(), 10u);
}

TEST(CoreLoopTest, StartFailsNamingTheCpuWhenItCannotPin) {
  Rig rig;
  CoreLoop loop(rig.engine, {rig.in.get()}, *rig.out, *rig.counters, CoreLoopOptions{100000, IdleStrategyKind::Yield, 16});
  try {
    loop.start();
    FAIL() << "start() should have thrown";
  } catch (const std::system_error& e) {
    EXPECT_NE(std::string(e.what()).find("100000"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(loop.running());
}

TEST(CoreLoopTest, PinsToAnAvailableCpu) {
  Rig rig;
  CoreLoop loop(rig.engine, {rig.in.get()}, *rig.out, *rig.counters, CoreLoopOptions{0, IdleStrategyKind::Yield, 16});
  loop.start();
  EXPECT_TRUE(loop.running());
  loop.stop();
  EXPECT_FALSE(loop.running());
}

}  // namespace
}  // namespace peregrine::app
