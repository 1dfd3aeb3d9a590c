/// Cost of constructing an Engine: wall time and minor page faults (getrusage), for the
/// instruments and capacities of a configuration file (default config/demo.yaml).
///
///   peregrine_engine_construct [config.yaml] [repeats]
///
/// The first construction is the one a starting server pays (a fresh process); the repeats show
/// the steady state once the allocator has memory to reuse. Each line also gives the faults of
/// the first order on every instrument (the pages a first use brings in). Loading the file is
/// not timed. No timing thresholds: this is a measurement, not a test.

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "peregrine/config/loader.hpp"
#include "peregrine/core/command.hpp"
#include "peregrine/core/engine.hpp"
#include "peregrine/core/event.hpp"

namespace {

long minor_faults() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_minflt;
}

struct Sample {
  double construct_us;
  long construct_faults;
  long first_orders_faults;
};

void discard(void*, const peregrine::Event*, std::size_t) noexcept {}

Sample measure(const peregrine::EngineConfig& cfg) {
  const long f0 = minor_faults();
  const auto t0 = std::chrono::steady_clock::now();
  auto engine = std::make_unique<peregrine::Engine>(cfg);
  const auto t1 = std::chrono::steady_clock::now();
  const long f1 = minor_faults();
  // One resting buy at the limit down of every instrument: touches a level, a bitmap word, a
  // pool slot and a token bucket per instrument.
  std::vector<peregrine::Event> buf(64);
  peregrine::EventSink sink(buf.data(), buf.size(), &discard, nullptr);
  for (std::size_t i = 0; i < cfg.instruments.size(); ++i) {
    const auto id = peregrine::InstrumentId{static_cast<std::uint16_t>(i + 1)};
    peregrine::Command c{};
    c.type = peregrine::CommandType::NewOrder;
    c.new_order.owner = peregrine::OwnerId{1};
    c.new_order.firm = peregrine::FirmId{0};
    c.new_order.symbol = cfg.instruments[i].symbol;
    c.new_order.side = peregrine::Side::Buy;
    c.new_order.type = peregrine::OrderType::Limit;
    c.new_order.tif = peregrine::TimeInForce::Day;
    c.new_order.price = engine->limits(id).down;
    c.new_order.qty = cfg.instruments[i].min_qty;
    c.new_order.token = peregrine::Token::from(std::string("T") + std::to_string(i));
    engine->process(c, sink);
  }
  sink.flush();
  const long f2 = minor_faults();
  return {std::chrono::duration<double, std::micro>(t1 - t0).count(), f1 - f0, f2 - f1};
}

}  // namespace

int main(int argc, char** argv) {
  const std::string path = argc > 1 ? argv[1] : "config/demo.yaml";
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 20;
  const peregrine::EngineConfig cfg = peregrine::config::load_engine_config(path);
  std::printf("%s: %zu instruments, max_orders %u, max_tokens %u\n", path.c_str(), cfg.instruments.size(),
              cfg.max_orders, cfg.max_tokens);
  const Sample first = measure(cfg);
  std::printf("first:  construct %.1f us, %ld page faults; first order per instrument: %ld page faults\n",
              first.construct_us, first.construct_faults, first.first_orders_faults);
  if (repeats <= 0) return 0;
  std::vector<Sample> rest;
  for (int i = 0; i < repeats; ++i) rest.push_back(measure(cfg));
  const auto median = [&](auto field) {
    std::vector<double> v;
    for (const Sample& s : rest) v.push_back(static_cast<double>(field(s)));
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::printf("median of %d more: construct %.1f us, %.0f page faults; first order per instrument: %.0f page faults\n",
              repeats, median([](const Sample& s) { return s.construct_us; }),
              median([](const Sample& s) { return s.construct_faults; }),
              median([](const Sample& s) { return s.first_orders_faults; }));
  return 0;
}
