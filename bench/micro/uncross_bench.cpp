/// Uncross time of a call auction by book size (issue #8's benchmark).
///
/// For each size N: an engine in its opening call takes N day limit orders (half buys, half sells,
/// prices uniform over ±1 % around the previous close 100.00, 100-1000 shares, 16 firms), so the
/// book crosses over about 200 price levels and a large part of it pairs. Then two things are
/// timed: Engine::indicative() (the indicative computation the core runs after each command in
/// a call) and the uncross itself (the Schedule command that ends the call: every fill's events
/// into a sink that only counts them, then the status change). Each size is run --reps times on
/// a fresh engine with the same seed; the median is printed, and written as JSON with --json.
///
/// usage: peregrine_uncross_bench [--sizes 10000,100000,1000000] [--reps 5] [--json FILE] (--help says more)

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "peregrine/bench/report_json.hpp"
#include "peregrine/cli/args.hpp"
#include "peregrine/core/command.hpp"
#include "peregrine/core/engine.hpp"
#include "peregrine/core/event.hpp"
#include "workload.hpp"

namespace {

using namespace peregrine;

void count_events(void* ctx, const Event* /*events*/, std::size_t n) noexcept { *static_cast<std::uint64_t*>(ctx) += n; }

struct Result {
  std::size_t orders = 0;
  double indicative_us = 0;
  double uncross_ms = 0;
  std::uint64_t paired = 0;
  std::uint64_t fills = 0;
  std::uint64_t events = 0;
};

std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

Result run_once(std::size_t n) {
  EngineConfig cfg;
  InstrumentConfig ins;
  ins.symbol = Symbol::from("600000");
  ins.reference_price = Price{bench::kReference};
  ins.max_order_qty = Qty{1'000'000};
  ins.initial_status = TradingStatus::OpeningCall;
  cfg.instruments.push_back(ins);
  for (int f = 0; f < 16; ++f) {
    FirmConfig fc;
    std::string name = "F";
    name += std::to_string(f);
    fc.name = FirmName::from(name);
    cfg.firms.push_back(fc);
  }
  cfg.max_orders = static_cast<std::uint32_t>(std::max<std::size_t>(n + 1024, 1u << 16));
  cfg.max_tokens = static_cast<std::uint32_t>(std::max<std::size_t>(2 * n, 1u << 17));
  auto engine = std::make_unique<Engine>(cfg);
  std::vector<Event> buf(256);
  std::uint64_t events = 0;
  EventSink sink(buf.data(), buf.size(), &count_events, &events);
  bench::Rng rng(42);
  char tok[24];
  for (std::size_t i = 0; i < n; ++i) {
    const Side side = rng.below(2) == 0 ? Side::Buy : Side::Sell;
    const std::int64_t price = bench::kReference + (static_cast<std::int64_t>(rng.below(201)) - 100) * bench::kTick;
    const std::uint32_t qty = static_cast<std::uint32_t>(100 * (1 + rng.below(10)));
    std::snprintf(tok, sizeof tok, "%014llu", static_cast<unsigned long long>(i));
    const std::uint16_t firm = static_cast<std::uint16_t>(rng.below(16));
    engine->process(make_new_order(Timestamp{i + 1}, OwnerId{1u + firm}, FirmId{firm}, ins.symbol, Token::from(tok),
                                   side, Qty{qty}, Price{price}),
                    sink);
  }
  sink.flush();
  Result r;
  r.orders = n;
  const std::uint64_t t0 = now_ns();
  const AuctionInfo a = engine->indicative(InstrumentId{1});
  const std::uint64_t t1 = now_ns();
  r.paired = a.paired;
  r.indicative_us = static_cast<double>(t1 - t0) / 1e3;
  events = 0;
  const std::uint64_t t2 = now_ns();
  engine->process(make_schedule_phase(Timestamp{n + 2}, InstrumentId{1}, TradingStatus::Trading), sink);
  sink.flush();
  const std::uint64_t t3 = now_ns();
  r.uncross_ms = static_cast<double>(t3 - t2) / 1e6;
  r.events = events;
  r.fills = (events - 2) / 4;  // four events per fill, then CrossTrade and TradingStatusChanged
  if (engine->status(InstrumentId{1}) != TradingStatus::Trading || !engine->validate_internal_state()) {
    std::fprintf(stderr, "uncross_bench: the engine is not in a valid continuous state after the uncross\n");
    std::exit(1);
  }
  return r;
}

/// "10000,100000" into `out` (base 10); false unless every item is a whole number from 1.
bool parse_sizes(const std::string& text, std::vector<std::size_t>& out) {
  out.clear();
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t comma = std::min(text.find(',', pos), text.size());
    std::size_t v = 0;
    const auto r = std::from_chars(text.data() + pos, text.data() + comma, v, 10);
    if (r.ec != std::errc{} || r.ptr != text.data() + comma || v == 0) return false;
    out.push_back(v);
    pos = comma + 1;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::size_t> sizes{10'000, 100'000, 1'000'000};
  int reps = 5;
  std::string json;
  CLI::App app("Call-auction uncross time by book size: an opening call with N day limit orders, then the Schedule "
               "command that ends it; median of --reps runs on a fresh engine.",
               "peregrine_uncross_bench");
  cli::apply_house_style(app);
  app.add_option_function<std::string>(
         "--sizes", [&](const std::string& text) { (void)parse_sizes(text, sizes); },
         "comma-separated book sizes (default 10000,100000,1000000)")
      ->check(CLI::Validator(
          [](const std::string& text) {
            std::vector<std::size_t> v;
            return parse_sizes(text, v) ? std::string{} : "must be whole numbers from 1, comma-separated, got " + text;
          },
          "", ""))
      ->option_text("LIST");
  cli::add_decimal(app, "--reps", reps, "runs per size; the median is reported (default 5)", 1);
  app.add_option("--json", json, "write the results as JSON")->option_text("FILE");
  if (const int status = cli::parse(app, argc, argv); status >= 0) return status;
  std::vector<Result> medians;
  for (const std::size_t n : sizes) {
    std::vector<Result> runs;
    for (int r = 0; r < reps; ++r) runs.push_back(run_once(n));
    std::sort(runs.begin(), runs.end(), [](const Result& x, const Result& y) { return x.uncross_ms < y.uncross_ms; });
    Result m = runs[runs.size() / 2];
    std::vector<double> ind;
    for (const Result& x : runs) ind.push_back(x.indicative_us);
    std::sort(ind.begin(), ind.end());
    m.indicative_us = ind[ind.size() / 2];
    medians.push_back(m);
    std::printf("%8zu resting orders: uncross %9.3f ms (%llu fills, %llu shares paired, %llu events), indicative %8.1f us\n",
                n, m.uncross_ms, static_cast<unsigned long long>(m.fills), static_cast<unsigned long long>(m.paired),
                static_cast<unsigned long long>(m.events), m.indicative_us);
  }
  if (!json.empty()) {
    boost::json::array results;
    for (const Result& m : medians) {
      results.push_back(boost::json::object{{"orders", m.orders},
                                            {"uncross_ms", bench::json_number(m.uncross_ms)},
                                            {"indicative_us", bench::json_number(m.indicative_us)},
                                            {"fills", m.fills},
                                            {"paired", m.paired},
                                            {"events", m.events}});
    }
    if (!bench::save_json(json, boost::json::object{{"reps", reps}, {"results", std::move(results)}})) {
      std::perror(json.c_str());
      return 1;
    }
  }
  return 0;
}
