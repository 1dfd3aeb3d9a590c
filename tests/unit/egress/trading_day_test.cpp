// A whole simulated A-share trading day driven by phase commands, as the scheduler and the admin
// API send them: the opening call and its uncross, continuous trading, the lunch break, a halt
// and a resumption call, the closing call and the close. The core's events go out as ITCH 5.0
// bytes; a subscriber that knows only those bytes rebuilds the book and must agree with the
// engine after every phase. Then the day's command stream (what the journal records) is replayed
// into a fresh engine: the same events, byte for byte, and the same state hash.

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "peregrine/core/codes.hpp"
#include "peregrine/core/command.hpp"
#include "peregrine/core/engine.hpp"
#include "peregrine/proto/itch50.hpp"
#include "peregrine/proto/ouch_translate.hpp"

namespace peregrine {
namespace {

namespace itch = proto::itch;

EngineConfig day_config() {
  EngineConfig cfg;
  InstrumentConfig a;
  a.symbol = Symbol::from("600519");
  a.reference_price = Price{17'000'000};  // 1700.00
  a.initial_status = TradingStatus::Closed;
  cfg.instruments.push_back(a);
  InstrumentConfig b = a;
  b.symbol = Symbol::from("601318");
  b.reference_price = Price{523'000};  // 52.30
  cfg.instruments.push_back(b);
  for (const char* n : {"FRMA", "FRMB", "FRMC"}) {
    FirmConfig f;
    f.name = FirmName::from(n);
    cfg.firms.push_back(f);
  }
  cfg.max_orders = 1u << 14;
  cfg.max_tokens = 1u << 16;
  cfg.halt_accepts_orders = true;
  return cfg;
}

/// What an ITCH subscriber knows: orders by reference, rebuilt from the bytes alone.
struct ItchBook {
  struct Order {
    std::uint16_t locate;
    char side;
    std::uint32_t price;
    std::uint32_t shares;
  };
  std::map<std::uint64_t, Order> orders;
  std::map<std::uint16_t, char> state;
  std::map<char, std::size_t> count;  // messages by type
  std::uint64_t cross_shares = 0;
  std::uint64_t executed_in_crosses = 0;
  std::vector<itch::Noii> noii;

  void apply(const itch::Message& m) {
    ++count[static_cast<char>(m.type)];
    switch (m.type) {
      case itch::MessageType::AddOrder:
      case itch::MessageType::AddOrderMpid:
        orders[m.add.order_ref] = {m.add.h.stock_locate, m.add.side, m.add.price, m.add.shares};
        break;
      case itch::MessageType::OrderExecuted: take(m.executed.order_ref, m.executed.shares); break;
      case itch::MessageType::OrderExecutedWithPrice:
        ASSERT_EQ(m.executed_with_price.printable, 'N');
        executed_in_crosses += m.executed_with_price.shares;
        take(m.executed_with_price.order_ref, m.executed_with_price.shares);
        break;
      case itch::MessageType::OrderCancel: take(m.cancel.order_ref, m.cancel.shares); break;
      case itch::MessageType::OrderDelete:
        ASSERT_EQ(orders.erase(m.del.order_ref), 1u) << "delete of unknown order " << m.del.order_ref;
        break;
      case itch::MessageType::OrderReplace: {
        const auto it = orders.find(m.replace.original_ref);
        ASSERT_NE(it, orders.end());
        Order o = it->second;
        orders.erase(it);
        o.price = m.replace.price;
        o.shares = m.replace.shares;
        orders[m.replace.new_ref] = o;
        break;
      }
      case itch::MessageType::StockTradingAction: state[m.trading_action.h.stock_locate] = m.trading_action.trading_state; break;
      case itch::MessageType::CrossTrade: cross_shares += m.cross.shares; break;
      case itch::MessageType::Noii: noii.push_back(m.noii); break;
      default: break;
    }
  }
  void take(std::uint64_t ref, std::uint32_t shares) {
    const auto it = orders.find(ref);
    ASSERT_NE(it, orders.end()) << "execution or cancel of unknown order " << ref;
    ASSERT_LE(shares, it->second.shares);
    it->second.shares -= shares;
    if (it->second.shares == 0) orders.erase(it);
  }
  /// Aggregated levels of one side, best first.
  std::vector<DepthLevel> levels(std::uint16_t locate, Side side) const {
    std::map<std::uint32_t, DepthLevel> by_price;
    for (const auto& [ref, o] : orders) {
      if (o.locate != locate || o.side != static_cast<char>(side)) continue;
      DepthLevel& l = by_price[o.price];
      l.price = Price{o.price};
      l.qty += o.shares;
      ++l.orders;
    }
    std::vector<DepthLevel> out;
    for (const auto& [p, l] : by_price) out.push_back(l);
    if (side == Side::Buy) std::reverse(out.begin(), out.end());
    return out;
  }
};

class TradingDay {
 public:
  explicit TradingDay(const EngineConfig& cfg) : cfg_(cfg), engine_(cfg_), lookup_(cfg_) {}

  void run(const Command& c) {
    commands.push_back(c);
    std::array<Event, 8> buf{};
    EventSink sink(buf.data(), buf.size(), &TradingDay::collect, this);
    engine_.process(c, sink);
    sink.flush();
    ASSERT_TRUE(engine_.validate_internal_state());
  }
  Timestamp ts() { return Timestamp{now_ += 1000}; }

  Engine& engine() { return engine_; }
  std::vector<Command> commands;
  std::vector<Event> events;
  ItchBook feed;
  std::vector<Event> order_events;

 private:
  static void collect(void* ctx, const Event* e, std::size_t n) noexcept {
    auto* self = static_cast<TradingDay*>(ctx);
    for (std::size_t i = 0; i < n; ++i) self->on_event(e[i]);
  }
  void on_event(const Event& e) {
    events.push_back(e);
    itch::Message m{};
    if (!proto::to_itch(e, lookup_, m)) {
      order_events.push_back(e);
      return;
    }
    std::array<std::uint8_t, itch::kMaxMessageSize> bytes{};
    const std::size_t n = itch::encode(m, bytes);
    ASSERT_GT(n, 0u);
    itch::Message back{};
    ASSERT_EQ(itch::decode(std::span<const std::uint8_t>(bytes.data(), n), back), itch::Status::Ok);
    feed.apply(back);
  }
  EngineConfig cfg_;
  Engine engine_;
  proto::ConfigLookup lookup_;
  std::uint64_t now_ = 0;
};

void expect_feed_matches_engine(TradingDay& day, const char* when) {
  for (std::uint16_t id = 1; id <= 2; ++id) {
    for (Side side : {Side::Buy, Side::Sell}) {
      std::vector<DepthLevel> want(4096);
      want.resize(day.engine().depth(InstrumentId{id}, side, want.data(), want.size()));
      const std::vector<DepthLevel> got = day.feed.levels(id, side);
      ASSERT_EQ(got.size(), want.size()) << when << " instrument " << id;
      for (std::size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i].price, want[i].price) << when;
        EXPECT_EQ(got[i].qty, want[i].qty) << when;
        EXPECT_EQ(got[i].orders, want[i].orders) << when;
      }
    }
    EXPECT_EQ(day.feed.state[id], proto::trading_action_of(day.engine().status(InstrumentId{id})).state) << when;
  }
}

/// Random day limit orders from three owners around each instrument's reference.
class Flow {
 public:
  explicit Flow(std::uint64_t seed) : rng_(seed) {}
  Command order(TradingDay& day, std::uint16_t instrument) {
    const Symbol sym = instrument == 1 ? Symbol::from("600519") : Symbol::from("601318");
    const std::int64_t ref = instrument == 1 ? 17'000'000 : 523'000;
    const std::int64_t tick = 100;
    const Side side = rng_() % 2 ? Side::Buy : Side::Sell;
    const std::int64_t offset = (static_cast<std::int64_t>(rng_() % 21) - 10) * tick;
    const std::uint32_t owner = 1 + static_cast<std::uint32_t>(rng_() % 3);
    std::string tok = "T";
    tok += std::to_string(++n_);
    return make_new_order(day.ts(), OwnerId{owner}, FirmId{static_cast<std::uint16_t>(owner - 1)}, sym,
                          Token::from(tok), side, Qty{static_cast<std::uint32_t>(100 * (1 + rng_() % 5))},
                          Price{ref + offset});
  }

 private:
  std::mt19937_64 rng_;
  std::uint64_t n_ = 0;
};

std::size_t count_of(const std::vector<Event>& ev, EventType t, std::size_t from = 0) {
  std::size_t n = 0;
  for (std::size_t i = from; i < ev.size(); ++i) n += ev[i].type == t ? 1 : 0;
  return n;
}

TEST(TradingDayTest, AFullDayOnTheFeedAndItsReplay) {
  TradingDay day(day_config());
  Flow flow(7);
  const InstrumentId all{0};
  const InstrumentId moutai{1};

  // Before the open: closed, nothing is taken.
  day.run(flow.order(day, 1));
  ASSERT_EQ(day.events.back().type, EventType::Rejected);
  EXPECT_EQ(day.events.back().code, static_cast<std::uint8_t>(RejectCode::MarketClosed));

  // 9:15 opening call: orders rest crossed, the feed carries the indicative (NOII).
  day.run(make_schedule_phase(day.ts(), all, TradingStatus::OpeningCall));
  for (int i = 0; i < 300; ++i) day.run(flow.order(day, static_cast<std::uint16_t>(1 + (i % 2))));
  EXPECT_GT(day.feed.noii.size(), 2u);
  EXPECT_EQ(count_of(day.events, EventType::Executed), 0u);
  expect_feed_matches_engine(day, "opening call");
  const AuctionInfo opening = day.engine().indicative(moutai);
  ASSERT_GT(opening.paired, 0u) << "random flow around the reference should cross";
  // The last NOII for 600519 says what the uncross will do.
  const itch::Noii* last = nullptr;
  for (const itch::Noii& n : day.feed.noii) {
    if (n.h.stock_locate == 1) last = &n;
  }
  ASSERT_NE(last, nullptr);
  EXPECT_EQ(last->paired_shares, opening.paired);
  EXPECT_EQ(last->near_price, static_cast<std::uint32_t>(opening.price.value()));
  EXPECT_EQ(last->cross_type, 'O');

  // 9:20 no more cancels; 9:25 the uncross (into the break before continuous trading).
  day.run(make_schedule_phase(day.ts(), all, TradingStatus::OpeningCallFrozen));
  const std::size_t before_uncross = day.events.size();
  day.run(make_schedule_phase(day.ts(), all, TradingStatus::Break));
  EXPECT_EQ(count_of(day.events, EventType::CrossTrade, before_uncross), 2u);
  EXPECT_EQ(day.feed.executed_in_crosses, 2 * day.feed.cross_shares);
  expect_feed_matches_engine(day, "after the opening uncross");
  for (std::uint16_t id = 1; id <= 2; ++id) {
    const auto bid = day.engine().best(InstrumentId{id}, Side::Buy);
    const auto ask = day.engine().best(InstrumentId{id}, Side::Sell);
    if (bid && ask) {
      EXPECT_LT(bid->value(), ask->value());
    }
  }

  // 9:30 continuous trading; 11:30 lunch; 13:00 again.
  day.run(make_schedule_phase(day.ts(), all, TradingStatus::Trading));
  for (int i = 0; i < 300; ++i) day.run(flow.order(day, static_cast<std::uint16_t>(1 + (i % 2))));
  EXPECT_GT(count_of(day.events, EventType::Executed), 0u);
  day.run(make_schedule_phase(day.ts(), all, TradingStatus::Break));
  expect_feed_matches_engine(day, "lunch");
  day.run(make_schedule_phase(day.ts(), all, TradingStatus::Trading));

  // A halt of 600519 that collects orders, and a resumption call that uncrosses them.
  day.run(make_trading_status(day.ts(), moutai, TradingStatus::Halted));
  for (int i = 0; i < 100; ++i) day.run(flow.order(day, 1));
  day.run(make_resume(day.ts(), moutai, true));
  EXPECT_EQ(day.engine().status(moutai), TradingStatus::ResumeCall);
  expect_feed_matches_engine(day, "resumption call");
  day.run(make_resume(day.ts(), moutai, false));
  EXPECT_EQ(day.engine().status(moutai), TradingStatus::Trading);
  for (int i = 0; i < 200; ++i) day.run(flow.order(day, static_cast<std::uint16_t>(1 + (i % 2))));

  // 14:57 the closing call, 15:00 the close: the closing uncross, then every day order expires.
  day.run(make_schedule_phase(day.ts(), all, TradingStatus::ClosingCall));
  for (int i = 0; i < 200; ++i) day.run(flow.order(day, static_cast<std::uint16_t>(1 + (i % 2))));
  expect_feed_matches_engine(day, "closing call");
  const std::size_t before_close = day.events.size();
  day.run(make_schedule_phase(day.ts(), all, TradingStatus::Closed));
  bool closing_cross = false;
  for (std::size_t i = before_close; i < day.events.size(); ++i) {
    if (day.events[i].type == EventType::CrossTrade) closing_cross |= day.events[i].code == 'C';
    if (day.events[i].type == EventType::Canceled) {
      EXPECT_EQ(day.events[i].code, static_cast<std::uint8_t>(CancelReason::Expired));
    }
  }
  EXPECT_TRUE(closing_cross);
  EXPECT_EQ(day.engine().stats().live_orders, 0u);
  EXPECT_TRUE(day.feed.orders.empty()) << "the feed must show an empty book after the close";
  expect_feed_matches_engine(day, "closed");
  EXPECT_GT(day.feed.count['Q'], 0u);
  EXPECT_GT(day.feed.count['C'], 0u);
  EXPECT_GT(day.feed.count['I'], 0u);
  EXPECT_GT(day.feed.count['H'], 0u);

  // Replay the day's command stream into a fresh engine.
  TradingDay replay(day_config());
  for (const Command& c : day.commands) replay.run(c);
  EXPECT_EQ(replay.engine().state_hash(), day.engine().state_hash());
  ASSERT_EQ(replay.events.size(), day.events.size());
  EXPECT_TRUE(replay.events == day.events) << "the replayed day's events differ";
}

}  // namespace
}  // namespace peregrine
