// The threads' waits in the configuration (issue 13, section 3): tuning.io_wait,
// tuning.journal_wait and tuning.spin_us, and the default, which parks on fewer than three CPUs.

#include "peregrine/config/service.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "config_text.hpp"

namespace peregrine::config {
namespace wait_config_test {  // named, not anonymous: the sanitizer presets' unity builds compile it beside other tests

using agent::IdleStrategyKind;

constexpr std::string_view kBase =
    "instruments:\n  - {symbol: \"600519\", reference_price: \"1700.00\"}\nfirms:\n  - {name: FRMA}\n";

ServiceConfig load(std::string_view rest) { return config_text::load(kBase, rest); }

// The error for `rest`: its field and reason; fails the test when nothing is thrown.
std::string error_of(std::string_view rest) {
  if (const auto e = config_text::refusal(kBase, rest)) return e->field() + ": " + e->reason();
  ADD_FAILURE() << "accepted: " << rest;
  return {};
}

TEST(WaitConfigTest, ReadsEachThreadsWaitAndTheSpin) {
  const ServiceConfig cfg = load("tuning:\n  io_wait: spin\n  journal_wait: park\n  spin_us: 20\n");
  EXPECT_EQ(cfg.tuning.io_wait, IdleStrategyKind::BusySpin);
  EXPECT_EQ(cfg.tuning.journal_wait, IdleStrategyKind::Park);
  EXPECT_EQ(cfg.tuning.spin_us, 20u);
  const ServiceConfig other = load("tuning:\n  io_wait: spin-then-park\n  spin_us: 0\n");
  EXPECT_EQ(other.tuning.io_wait, IdleStrategyKind::SpinThenPark);
  EXPECT_FALSE(other.tuning.journal_wait.has_value());
  EXPECT_EQ(other.tuning.spin_us, 0u);
  const ServiceConfig none = load("");
  EXPECT_FALSE(none.tuning.io_wait.has_value());
  EXPECT_FALSE(none.tuning.spin_us.has_value());
}

TEST(WaitConfigTest, BadValuesAreRefusedNamingTheKey) {
  EXPECT_EQ(error_of("tuning:\n  io_wait: sleep\n"), "tuning.io_wait: must be spin, spin-then-park or park, got \"sleep\"");
  // The core's other strategies are not threads' waits here.
  EXPECT_EQ(error_of("tuning:\n  journal_wait: backoff\n"),
            "tuning.journal_wait: must be spin, spin-then-park or park, got \"backoff\"");
  EXPECT_NE(error_of("tuning:\n  spin_us: 1000001\n").find("tuning.spin_us: "), std::string::npos);
  EXPECT_NE(error_of("tuning:\n  spin_us: -5\n").find("tuning.spin_us: "), std::string::npos);
  EXPECT_NE(error_of("tuning:\n  spin_us: fast\n").find("tuning.spin_us: "), std::string::npos);
  EXPECT_NE(error_of("tuning:\n  io_waits: park\n").find("io_waits"), std::string::npos);
}

TEST(WaitConfigTest, TheDefaultParksOnFewerThanThreeCpusAndSpinsThenParksOtherwise) {
  const ServiceConfig cfg;
  for (const std::vector<int>& cpus : {std::vector<int>{0}, std::vector<int>{0, 1}}) {
    const EffectiveSettings s = resolve(cfg, cpus);
    SCOPED_TRACE(cpus.size());
    EXPECT_EQ(s.default_wait, IdleStrategyKind::Park);
    EXPECT_EQ(s.core_idle, IdleStrategyKind::Park);
    EXPECT_EQ(s.io_idle, IdleStrategyKind::Park);
    EXPECT_EQ(s.journal_idle, IdleStrategyKind::Park);
  }
  for (const std::vector<int>& cpus : {std::vector<int>{0, 1, 2}, std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}}) {
    const EffectiveSettings s = resolve(cfg, cpus);
    SCOPED_TRACE(cpus.size());
    EXPECT_EQ(s.default_wait, IdleStrategyKind::SpinThenPark);
    EXPECT_EQ(s.core_idle, IdleStrategyKind::SpinThenPark);
    EXPECT_EQ(s.io_idle, IdleStrategyKind::SpinThenPark);
    EXPECT_EQ(s.journal_idle, IdleStrategyKind::SpinThenPark);
    EXPECT_EQ(s.park_after, std::chrono::microseconds{50});
  }
}

TEST(WaitConfigTest, ExplicitWaitsAndTheSpinWinOverTheDefault) {
  ServiceConfig cfg;
  cfg.tuning.io_wait = IdleStrategyKind::SpinThenPark;
  cfg.tuning.journal_wait = IdleStrategyKind::BusySpin;
  cfg.tuning.spin_us = 7;
  const EffectiveSettings s = resolve(cfg, {0, 1});
  EXPECT_EQ(s.core_idle, IdleStrategyKind::Park);  // left to the default
  EXPECT_EQ(s.io_idle, IdleStrategyKind::SpinThenPark);
  EXPECT_EQ(s.journal_idle, IdleStrategyKind::BusySpin);
  EXPECT_EQ(s.park_after, std::chrono::microseconds{7});
  cfg.core.idle_strategy = IdleStrategyKind::SpinThenPark;
  EXPECT_EQ(resolve(cfg, {0, 1}).core_idle, IdleStrategyKind::SpinThenPark);
}

TEST(WaitConfigTest, LowLatencyModeSpinsWhereThereIsACore) {
  ServiceConfig cfg;
  cfg.tuning.low_latency_mode = true;
  cfg.tuning.cpu_affinity = true;
  // Two CPUs: the core gets 1, the io thread 0; both spin; the journal writer has none and parks.
  EffectiveSettings s = resolve(cfg, {0, 1});
  EXPECT_EQ(s.core_idle, IdleStrategyKind::BusySpin);
  EXPECT_EQ(s.io_idle, IdleStrategyKind::BusySpin);
  EXPECT_EQ(s.journal_idle, IdleStrategyKind::Park);
  // One CPU: the io thread has no CPU of its own, so it takes the default.
  s = resolve(cfg, {0});
  EXPECT_EQ(s.io_idle, IdleStrategyKind::Park);
  // An explicit io_wait wins over low_latency_mode.
  cfg.tuning.io_wait = IdleStrategyKind::Park;
  EXPECT_EQ(resolve(cfg, {0, 1, 2, 3}).io_idle, IdleStrategyKind::Park);
}

}  // namespace wait_config_test
}  // namespace peregrine::config
