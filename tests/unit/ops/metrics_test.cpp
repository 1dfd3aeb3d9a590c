// CoreCounters (written by the core thread) and the collectors that export them at scrape time.

#include "peregrine/ops/metrics.hpp"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>

namespace peregrine::ops {
namespace {

using metrics::CoreCounters;
using metrics::CounterCell;
using metrics::kCancelReasons;
using metrics::kCommandTypes;
using metrics::kRejectCodes;
using prometheus::MetricFamily;
using prometheus::MetricType;

/// family name -> (label value, or "" when unlabelled) -> value
using Flat = std::map<std::string, std::map<std::string, double>>;

Flat flatten(const std::vector<MetricFamily>& families) {
  Flat out;
  for (const auto& f : families) {
    for (const auto& m : f.metric) {
      const std::string label = m.label.empty() ? "" : m.label[0].value;
      out[f.name][label] = f.type == MetricType::Counter ? m.counter.value : m.gauge.value;
    }
  }
  return out;
}

Event event(EventType t, std::uint8_t code = 0, std::uint32_t qty = 0) {
  Event e = Event::make(t, Timestamp{1});
  e.code = code;
  e.qty = Qty{qty};
  return e;
}

TEST(CoreCountersTest, CellsArePackedAndTheBlockOwnsItsCacheLines) {
  static_assert(sizeof(CounterCell) == 8 && alignof(CounterCell) == 8);
  static_assert(alignof(CoreCounters) == 128 && sizeof(CoreCounters) % 128 == 0);
  auto c = std::make_unique<CoreCounters>();
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(c.get()) % 128, 0U);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(&c->rejected[1]) - reinterpret_cast<std::uintptr_t>(&c->rejected[0]), 8U);
}

TEST(CoreCountersTest, CountsCommandsByType) {
  auto c = std::make_unique<CoreCounters>();
  c->on_command(make_cancel(Timestamp{1}, OwnerId{1}, Token::from("A")));
  c->on_command(make_cancel(Timestamp{1}, OwnerId{1}, Token::from("B")));
  c->on_command(make_kill_switch(Timestamp{1}, FirmId{0}, true, false));
  Command odd = make_cancel(Timestamp{1}, OwnerId{1}, Token::from("C"));
  odd.type = static_cast<CommandType>(99);
  c->on_command(odd);
  const Flat f = flatten(CoreCountersCollector(*c).Collect());
  const auto& commands = f.at("peregrine_core_commands_total");
  EXPECT_EQ(commands.at("cancel"), 2.0);
  EXPECT_EQ(commands.at("set_kill_switch"), 1.0);
  EXPECT_EQ(commands.at("new_order"), 0.0);
  EXPECT_EQ(commands.at("unknown"), 1.0);
  EXPECT_EQ(commands.size(), kCommandTypes.size() + 1);
}

TEST(CoreCountersTest, CountsEventsByKindAndReason) {
  auto c = std::make_unique<CoreCounters>();
  c->on_event(event(EventType::Accepted));
  c->on_event(event(EventType::Rejected, static_cast<std::uint8_t>(RejectCode::PriceOutsideLimits)));
  c->on_event(event(EventType::Rejected, static_cast<std::uint8_t>(RejectCode::PriceOutsideLimits)));
  c->on_event(event(EventType::Rejected, 250));  // a code nobody listed
  c->on_event(event(EventType::CancelRejected, static_cast<std::uint8_t>(RejectCode::UnknownOrder)));
  c->on_event(event(EventType::Canceled, static_cast<std::uint8_t>(CancelReason::SelfMatch)));
  c->on_event(event(EventType::Replaced));
  c->on_event(event(EventType::Executed));
  c->on_event(event(EventType::Executed));
  c->on_event(event(EventType::BookExecute, 0, 300));
  c->on_event(event(EventType::BookAdd, 0, 100));  // not counted
  c->on_event(event(EventType::TradingStatusChanged));
  c->on_event(event(EventType::KillSwitchChanged));
  c->note_event_ring_full();
  c->note_poll();
  c->note_poll();
  c->set_live_orders(17);

  const Flat f = flatten(CoreCountersCollector(*c).Collect());
  EXPECT_EQ(f.at("peregrine_core_accepted_total").at(""), 1.0);
  EXPECT_EQ(f.at("peregrine_core_rejected_total").at("price_outside_limits"), 2.0);
  EXPECT_EQ(f.at("peregrine_core_rejected_total").at("unknown"), 1.0);
  EXPECT_EQ(f.at("peregrine_core_rejected_total").at("halted"), 0.0);
  EXPECT_EQ(f.at("peregrine_core_cancel_rejected_total").at("unknown_order"), 1.0);
  EXPECT_EQ(f.at("peregrine_core_canceled_total").at("self_match"), 1.0);
  EXPECT_EQ(f.at("peregrine_core_canceled_total").at("user_requested"), 0.0);
  EXPECT_EQ(f.at("peregrine_core_replaced_total").at(""), 1.0);
  EXPECT_EQ(f.at("peregrine_core_executions_total").at(""), 2.0);
  EXPECT_EQ(f.at("peregrine_core_trades_total").at(""), 1.0);
  EXPECT_EQ(f.at("peregrine_core_traded_shares_total").at(""), 300.0);
  EXPECT_EQ(f.at("peregrine_core_trading_status_changes_total").at(""), 1.0);
  EXPECT_EQ(f.at("peregrine_core_kill_switch_changes_total").at(""), 1.0);
  EXPECT_EQ(f.at("peregrine_core_event_ring_full_total").at(""), 1.0);
  EXPECT_EQ(f.at("peregrine_core_polls_total").at(""), 2.0);
  EXPECT_EQ(f.at("peregrine_core_live_orders").at(""), 17.0);
}

TEST(CoreCountersCollectorTest, EveryFamilyHasHelpAPrefixAndTheRightSuffix) {
  auto c = std::make_unique<CoreCounters>();
  const auto families = CoreCountersCollector(*c).Collect();
  std::set<std::string> names;
  for (const auto& f : families) {
    EXPECT_TRUE(names.insert(f.name).second) << "duplicate family " << f.name;
    EXPECT_EQ(f.name.rfind("peregrine_core_", 0), 0U) << f.name;
    EXPECT_FALSE(f.help.empty()) << f.name;
    const bool total = f.name.size() > 6 && f.name.compare(f.name.size() - 6, 6, "_total") == 0;
    EXPECT_EQ(total, f.type == MetricType::Counter) << f.name;
    EXPECT_FALSE(f.metric.empty()) << f.name;
  }
  // Every reject reason is present from the start (zeros), so rate() works from the first scrape.
  for (const auto& f : families) {
    if (f.name == "peregrine_core_rejected_total") {
      EXPECT_EQ(f.metric.size(), kRejectCodes.size() + 1);
    }
    if (f.name == "peregrine_core_canceled_total") {
      EXPECT_EQ(f.metric.size(), kCancelReasons.size() + 1);
    }
  }
}

TEST(CoreCountersCollectorTest, SerializesToPrometheusText) {
  auto c = std::make_unique<CoreCounters>();
  c->on_event(event(EventType::Canceled, static_cast<std::uint8_t>(CancelReason::Halted)));
  const std::string text = prometheus::TextSerializer().Serialize(CoreCountersCollector(*c).Collect());
  EXPECT_NE(text.find("# HELP peregrine_core_canceled_total Orders cancelled in whole or in part, by cancel reason.\n"
                      "# TYPE peregrine_core_canceled_total counter\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("peregrine_core_canceled_total{reason=\"halted\"} 1\n"), std::string::npos) << text;
}

TEST(CoreCountersTest, ScrapesWhileTheOwnerWritesSeeMonotonicValues) {
  // The TSan preset runs this as a data-race check; here it checks that readers see progress only.
  auto c = std::make_unique<CoreCounters>();
  std::atomic<bool> done{false};
  std::thread owner([&] {
    for (int i = 0; i < 200000; ++i) {
      c->on_event(event(EventType::Accepted));
      c->set_live_orders(static_cast<std::uint64_t>(i));
    }
    done.store(true);
  });
  CoreCountersCollector collector(*c);
  double last = 0;
  while (!done.load()) {
    const double v = flatten(collector.Collect()).at("peregrine_core_accepted_total").at("");
    EXPECT_GE(v, last);
    last = v;
  }
  owner.join();
  EXPECT_EQ(flatten(collector.Collect()).at("peregrine_core_accepted_total").at(""), 200000.0);
}

TEST(CallbackMetricsTest, ReadsValuesAtCollectTimeAndGroupsSeriesIntoFamilies) {
  CallbackMetrics m;
  double depth = 1;
  m.add_gauge("peregrine_ring_occupancy", "Items in a ring.", {{"ring", "commands"}}, [&] { return depth; });
  m.add_gauge("peregrine_ring_occupancy", "Items in a ring.", {{"ring", "events"}}, [] { return 5.0; });
  m.add_counter("peregrine_gateway_ring_full_total", "Full rings seen by gateways.", {}, [] { return 9.0; });
  depth = 3;
  const auto families = m.Collect();
  ASSERT_EQ(families.size(), 2U);
  EXPECT_EQ(families[0].type, MetricType::Gauge);
  ASSERT_EQ(families[0].metric.size(), 2U);
  EXPECT_EQ(families[0].metric[0].gauge.value, 3.0);
  EXPECT_EQ(families[0].metric[1].label[0].value, "events");
  EXPECT_EQ(families[1].type, MetricType::Counter);
  EXPECT_EQ(families[1].metric[0].counter.value, 9.0);
}

TEST(CallbackMetricsTest, RefusesBadNamesAndMismatchedFamilies) {
  CallbackMetrics m;
  const auto one = [] { return 1.0; };
  EXPECT_THROW(m.add_gauge("bad name", "h", {}, one), std::invalid_argument);
  EXPECT_THROW(m.add_gauge("ok_name", "h", {{"bad-label", "v"}}, one), std::invalid_argument);
  EXPECT_THROW(m.add_gauge("ok_name", "h", {}, nullptr), std::invalid_argument);
  EXPECT_THROW(m.add_counter("peregrine_things", "h", {}, one), std::invalid_argument);
  m.add_gauge("peregrine_x", "help", {}, one);
  EXPECT_THROW(m.add_gauge("peregrine_x", "other help", {{"a", "b"}}, one), std::invalid_argument);
  m.add_counter("peregrine_y_total", "help", {}, one);
  EXPECT_THROW(m.add_gauge("peregrine_y_total", "help", {{"a", "b"}}, one), std::invalid_argument);
}

}  // namespace
}  // namespace peregrine::ops
