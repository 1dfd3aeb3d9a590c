// agent::AgentRunner: the thread is named and registered, the agent parks and is woken, a stop
// drains (or not, as asked), and a CPU that cannot be had is refused with its number.

#include "peregrine/agent/agent_runner.hpp"

#include <gtest/gtest.h>
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <system_error>
#include <thread>

#include "peregrine/agent/thread_registry.hpp"

namespace peregrine::agent {
namespace {

using namespace std::chrono_literals;

// A mailbox: producers add to it and wake the agent; the agent takes it all at once.
struct Mailbox {
  std::atomic<std::uint64_t> pending{0};
  void push(std::uint64_t v) { pending.fetch_add(v, std::memory_order_release); }
};

// Takes what the mailbox holds and sums it; remembers its thread's name.
class SummingAgent final : public Agent {
 public:
  explicit SummingAgent(Mailbox& in) : in_(in) {}
  int do_work() override {
    ++passes;
    const std::uint64_t v = in_.pending.exchange(0, std::memory_order_acquire);
    sum.store(sum.load(std::memory_order_relaxed) + v, std::memory_order_relaxed);
    return v != 0 ? 1 : 0;
  }
  bool has_work() override { return in_.pending.load(std::memory_order_acquire) != 0; }
  void on_start() override {
    char buf[16] = {};
    (void)pthread_getname_np(pthread_self(), buf, sizeof buf);
    name = buf;
    started.store(true);
  }
  void on_close() override { closed.store(true); }

  std::atomic<std::uint64_t> sum{0};
  std::uint64_t passes = 0;  // runner thread only
  std::string name;          // set before `started`
  std::atomic<bool> started{false};
  std::atomic<bool> closed{false};

 private:
  Mailbox& in_;
};

// Waits for `done()` for up to 10 s (an event with a bound, never a sleep as the check).
template <typename F>
bool eventually(F done) {
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::yield();
  }
  return true;
}

TEST(AgentRunnerTest, ParkingAgentIsNamedWokenByItsProducerAndLosesNothing) {
  Mailbox box;
  SummingAgent agent(box);
  AgentRunner runner(agent, AgentOptions{"pg-test-agent", -1, {IdleStrategyKind::Park, {}, -1ns}, true, true});
  runner.start();
  ASSERT_TRUE(eventually([&] { return agent.started.load(); }));
  EXPECT_EQ(agent.name, "pg-test-agent");
  EXPECT_TRUE(runner.running());
  std::uint64_t expected = 0;
  for (std::uint64_t i = 1; i <= 100'000; ++i) {
    box.push(i);
    runner.parker().wake();
    expected += i;
  }
  ASSERT_TRUE(eventually([&] { return agent.sum.load() == expected; })) << agent.sum.load();
  // Parked by now or soon: nothing wakes it but its producer, and it still answers.
  box.push(7);
  runner.parker().wake();
  ASSERT_TRUE(eventually([&] { return agent.sum.load() == expected + 7; }));
  runner.stop();
  EXPECT_TRUE(agent.closed.load());
  EXPECT_FALSE(runner.running());
  EXPECT_GE(thread_cpu_seconds("pg-test-agent"), 0.0);
  bool registered = false;
  for (const std::string& n : registered_threads()) registered = registered || n == "pg-test-agent";
  EXPECT_TRUE(registered);
}

TEST(AgentRunnerTest, StopDrainsWhatWasPushedBeforeIt) {
  Mailbox box;
  SummingAgent agent(box);
  AgentRunner runner(agent, AgentOptions{"pg-test-drain", -1, {IdleStrategyKind::Park, {}, -1ns}, true, true});
  runner.start();
  std::uint64_t expected = 0;
  for (std::uint64_t i = 1; i <= 1000; ++i) {
    box.push(i);
    expected += i;
  }
  // No wake: the stop request itself must be enough for the last passes to take all of it.
  runner.stop();
  EXPECT_EQ(agent.sum.load(), expected);
  EXPECT_EQ(box.pending.load(), 0u);
}

TEST(AgentRunnerTest, RunHereRunsOnTheCallingThreadUntilAsked) {
  Mailbox box;
  SummingAgent agent(box);
  AgentRunner runner(agent, AgentOptions{"pg-test-here", -1, {IdleStrategyKind::SpinThenPark, 10us, -1ns}, true, false});
  std::thread producer([&] {
    ASSERT_TRUE(eventually([&] { return agent.started.load(); }));
    box.push(41);
    runner.parker().wake();
    ASSERT_TRUE(eventually([&] { return agent.sum.load() == 41; }));
    runner.request_stop();
  });
  runner.run_here();
  producer.join();
  EXPECT_EQ(agent.sum.load(), 41u);
  EXPECT_EQ(agent.name, "pg-test-here");
  EXPECT_TRUE(runner.pin_error().empty());
}

TEST(AgentRunnerTest, StartFailsNamingTheThreadAndTheCpuWhenItCannotPin) {
  Mailbox box;
  SummingAgent agent(box);
  AgentRunner runner(agent, AgentOptions{"pg-test-pin", 100000, {IdleStrategyKind::Park, {}, -1ns}, true, true});
  try {
    runner.start();
    FAIL() << "start() should have thrown";
  } catch (const std::system_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("pg-test-pin"), std::string::npos) << what;
    EXPECT_NE(what.find("100000"), std::string::npos) << what;
  }
  EXPECT_FALSE(runner.running());
  EXPECT_FALSE(agent.started.load());
}

TEST(AgentRunnerTest, LaunchNamedNamesTheThreadAndCountsItsCpu) {
  std::string name;
  std::thread t = launch_named("pg-test-launch", -1, [&name] {
    char buf[16] = {};
    (void)pthread_getname_np(pthread_self(), buf, sizeof buf);
    name = buf;
  });
  t.join();
  EXPECT_EQ(name, "pg-test-launch");
  bool registered = false;
  for (const std::string& n : registered_threads()) registered = registered || n == "pg-test-launch";
  EXPECT_TRUE(registered);
}

}  // namespace
}  // namespace peregrine::agent
