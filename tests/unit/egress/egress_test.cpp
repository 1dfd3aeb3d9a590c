// Egress driven by a real Engine: every core event goes through Egress, then the OUCH buffers,
// the ITCH stream (as a subscriber rebuilds it), the depth books (which follow the ITCH stream)
// and the MoldUDP64 datagrams are checked against the engine itself.

#include "peregrine/egress/egress.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "egress_test_util.hpp"
#include "peregrine/core/engine.hpp"
#include "peregrine/proto/moldudp64.hpp"
#include "peregrine/proto/ouch42.hpp"
#include "peregrine/proto/ouch_translate.hpp"

namespace peregrine {

inline bool operator==(const DepthLevel& a, const DepthLevel& b) noexcept {
  return a.price == b.price && a.qty == b.qty && a.orders == b.orders;
}
inline std::ostream& operator<<(std::ostream& os, const DepthLevel& l) {
  return os << "{" << l.price.value() << " x " << l.qty << " (" << l.orders << ")}";
}

namespace egress {
namespace {

using namespace test;
namespace ouch = proto::ouch;
namespace mold = proto::mold;

constexpr std::size_t kAllLevels = 100000;

EngineConfig small_config() {
  EngineConfig cfg;
  InstrumentConfig a;
  a.symbol = Symbol::from("600000");
  a.name = "main";
  a.reference_price = Price{100'000};  // 10.00: limits 9.00 .. 11.00
  cfg.instruments.push_back(a);
  InstrumentConfig b = a;
  b.symbol = Symbol::from("600001");
  b.reference_price = Price{200'000};
  b.initial_status = TradingStatus::Halted;
  cfg.instruments.push_back(b);
  FirmConfig f0;
  f0.name = FirmName::from("AAAA");
  cfg.firms.push_back(f0);
  FirmConfig f1;
  f1.name = FirmName::from("BBBB");
  f1.stp = StpMode::CancelOldest;
  cfg.firms.push_back(f1);
  cfg.max_orders = 1u << 14;
  cfg.max_tokens = 1u << 17;
  return cfg;
}

// Owners 1 and 2 trade for firm 0, owner 3 for firm 1.
constexpr std::array<std::uint16_t, 4> kFirmOf{0, 0, 0, 1};

struct EngineEgress : ::testing::Test {
  EngineEgress()
      : cfg(small_config()), engine(cfg), lookup(cfg), users(1u << 20),
        sink(buffer.data(), buffer.size(), &EngineEgress::on_flush, this) {
    lookup.set_attributed(FirmId{0}, true);  // firm 0's orders go out as 'F'
    for (std::uint32_t o = 1; o <= 3; ++o) {
      sessions::UserAccount a;
      a.username = Alpha<6>::from(std::string("USER") + static_cast<char>('0' + o));
      a.password = Alpha<10>::from("pw");
      a.owner = OwnerId{o};
      a.firm = FirmId{kFirmOf[o]};
      a.firm_name = cfg.firms[kFirmOf[o]].name;
      a.cancel_on_disconnect = false;
      users.add(a);
    }
    EgressConfig ec;
    ec.mold.mtu = 1400;
    egress = std::make_unique<Egress>(cfg, lookup, users, ec,
                                      [this](std::span<const std::uint8_t> d) { datagrams.push_back(to_bytes(d)); });
  }

  static void on_flush(void* ctx, const Event* ev, std::size_t n) noexcept {
    auto* self = static_cast<EngineEgress*>(ctx);
    for (std::size_t i = 0; i < n; ++i) {
      self->events.push_back(ev[i]);
      self->egress->on_event(ev[i]);
    }
  }

  void run(const Command& c) {
    engine.process(c, sink);
    sink.flush();
    egress->flush(now);
    now += 1000;
  }

  // What a subscriber rebuilds from ITCH messages 1..end: order ref -> (instrument, side, price, shares).
  struct ItchOrder {
    std::uint16_t instrument;
    char side;
    std::uint32_t price;
    std::uint32_t shares;
  };
  std::map<std::uint64_t, ItchOrder> rebuild_from_itch(std::vector<char>& system_events) const {
    std::map<std::uint64_t, ItchOrder> book;
    const ItchBuffer& j = egress->itch_buffer();
    EXPECT_EQ(j.first_retained(), 1u);
    for (std::uint64_t s = 1; s < j.next_seq(); ++s) {
      itch::Message m{};
      EXPECT_EQ(itch::decode(j.get(s), m), itch::Status::Ok) << "message " << s;
      switch (m.type) {
        case itch::MessageType::SystemEvent: system_events.push_back(m.system_event.event_code); break;
        case itch::MessageType::AddOrder:
        case itch::MessageType::AddOrderMpid:
          EXPECT_TRUE(book.emplace(m.add.order_ref, ItchOrder{m.add.h.stock_locate, m.add.side, m.add.price, m.add.shares}).second);
          EXPECT_EQ(m.add.stock, cfg.instruments.at(m.add.h.stock_locate - 1u).symbol);
          break;
        case itch::MessageType::OrderExecuted: {
          ItchOrder& o = book.at(m.executed.order_ref);
          EXPECT_LE(m.executed.shares, o.shares);
          o.shares -= m.executed.shares;
          if (o.shares == 0) book.erase(m.executed.order_ref);
          break;
        }
        case itch::MessageType::OrderCancel: {
          ItchOrder& o = book.at(m.cancel.order_ref);
          EXPECT_LT(m.cancel.shares, o.shares);  // a full cancel is a Delete
          o.shares -= m.cancel.shares;
          break;
        }
        case itch::MessageType::OrderDelete: EXPECT_EQ(book.erase(m.del.order_ref), 1u); break;
        case itch::MessageType::OrderReplace: {
          const ItchOrder old = book.at(m.replace.original_ref);
          book.erase(m.replace.original_ref);
          EXPECT_TRUE(book.emplace(m.replace.new_ref, ItchOrder{old.instrument, old.side, m.replace.price, m.replace.shares}).second);
          break;
        }
        default: break;
      }
    }
    return book;
  }

  static std::vector<DepthLevel> aggregate(const std::map<std::uint64_t, ItchOrder>& book, std::uint16_t instrument, char side) {
    std::map<std::uint32_t, DepthLevel> levels;
    for (const auto& [ref, o] : book) {
      if (o.instrument != instrument || o.side != side) continue;
      DepthLevel& l = levels[o.price];
      l.price = Price{o.price};
      l.qty += o.shares;
      ++l.orders;
    }
    std::vector<DepthLevel> out;
    for (const auto& [p, l] : levels) out.push_back(l);
    if (side == 'B') std::reverse(out.begin(), out.end());
    return out;
  }

  std::vector<DepthLevel> engine_depth(InstrumentId id, Side side) const {
    std::vector<DepthLevel> out(1000);
    out.resize(engine.depth(id, side, out.data(), out.size()));
    return out;
  }

  EngineConfig cfg;
  Engine engine;
  proto::ConfigLookup lookup;
  sessions::UserDirectory users;
  std::array<Event, 7> buffer{};  // small: many commands flush mid-way
  EventSink sink;
  std::unique_ptr<Egress> egress;
  std::vector<Event> events;
  std::vector<Bytes> datagrams;
  std::uint64_t now = 1'000'000'000;
};

TEST_F(EngineEgress, StartOfDayPublishesSystemEventsDirectoryAndTradingActions) {
  egress->start_of_day(Timestamp{34'200'000'000'000});
  egress->flush(now);
  const ItchBuffer& j = egress->itch_buffer();
  ASSERT_EQ(j.next_seq(), 8u);
  std::vector<itch::Message> m(7);
  for (std::uint64_t s = 1; s <= 7; ++s) ASSERT_EQ(itch::decode(j.get(s), m[s - 1]), itch::Status::Ok);
  EXPECT_EQ(m[0].type, itch::MessageType::SystemEvent);
  EXPECT_EQ(m[0].system_event.event_code, 'O');
  EXPECT_EQ(m[0].system_event.h.timestamp, 34'200'000'000'000u);
  EXPECT_EQ(m[1].system_event.event_code, 'S');
  EXPECT_EQ(m[2].type, itch::MessageType::StockDirectory);
  EXPECT_EQ(m[2].stock_directory.stock, Symbol::from("600000"));
  EXPECT_EQ(m[2].stock_directory.h.stock_locate, 1u);
  EXPECT_EQ(m[3].stock_directory.stock, Symbol::from("600001"));
  EXPECT_EQ(m[3].stock_directory.h.stock_locate, 2u);
  EXPECT_EQ(m[4].type, itch::MessageType::StockTradingAction);
  EXPECT_EQ(m[4].trading_action.trading_state, 'T');
  EXPECT_EQ(m[5].trading_action.trading_state, 'H');  // configured halted
  EXPECT_EQ(m[5].trading_action.stock, Symbol::from("600001"));
  EXPECT_EQ(m[6].system_event.event_code, 'Q');
  // One datagram carries them all.
  ASSERT_EQ(datagrams.size(), 1u);
  mold::Packet p{};
  ASSERT_EQ(mold::parse(datagrams[0], p), mold::Status::Ok);
  EXPECT_EQ(p.header.sequence, 1u);
  EXPECT_EQ(p.header.count, 7u);
}

TEST_F(EngineEgress, OrderEventsGoToTheOwnerAndAreDeliveredOncePerFlush) {
  RecordingOrderHost host;
  sessions::SessionLimits limits;
  sessions::SessionCounters sc;
  sessions::SoupServerSession session(users, host, limits, sc, now);
  session.on_bytes(login_bytes("USER1", "pw", 1), now);
  ASSERT_EQ(session.state(), sessions::SoupServerSession::State::LoggedIn);
  host.wire.clear();

  const Symbol sym = Symbol::from("600000");
  const Command buy = make_new_order(Timestamp{1}, OwnerId{1}, FirmId{0}, sym, Token::from("B1"), Side::Buy, Qty{300}, Price{100'000});
  const Command sell = make_new_order(Timestamp{2}, OwnerId{3}, FirmId{1}, sym, Token::from("S1"), Side::Sell, Qty{500}, Price{100'000});
  engine.process(buy, sink);
  engine.process(sell, sink);
  sink.flush();
  EXPECT_TRUE(host.wire.empty());  // nothing before flush()
  egress->flush(now);
  EXPECT_EQ(egress->counters().session_deliveries, 1u);

  // Owner 1: Accepted, Executed. Owner 3: Accepted, Executed. Owner 2: nothing.
  const auto journal_types = [&](std::uint32_t owner) {
    std::vector<ouch::OutboundType> t;
    const sessions::OutboundBuffer& j = users.find(OwnerId{owner})->outbound;
    for (std::uint64_t s = j.first_retained(); s < j.next_seq(); ++s) {
      ouch::Outbound m{};
      EXPECT_EQ(ouch::decode_outbound(j.get(s), m), ouch::Status::Ok);
      t.push_back(m.type);
    }
    return t;
  };
  using T = ouch::OutboundType;
  EXPECT_EQ(journal_types(1), (std::vector<T>{T::Accepted, T::Executed}));
  EXPECT_EQ(journal_types(3), (std::vector<T>{T::Accepted, T::Executed}));
  EXPECT_TRUE(journal_types(2).empty());
  const SoupPackets p = decode_server_stream(host.wire);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].second, to_bytes(users.find(OwnerId{1})->outbound.get(1)));
  EXPECT_EQ(p[1].second, to_bytes(users.find(OwnerId{1})->outbound.get(2)));
  EXPECT_EQ(egress->counters().unknown_owner_dropped, 0u);
}

TEST_F(EngineEgress, AdminRefusalsWithOwnerZeroAreCountedAndDropped) {
  run(make_trading_status(Timestamp{1}, InstrumentId{99}, TradingStatus::Halted));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, EventType::Rejected);
  EXPECT_EQ(egress->counters().unknown_owner_dropped, 1u);
  EXPECT_EQ(egress->itch_buffer().next_seq(), 1u);
}

TEST_F(EngineEgress, RandomDayMatchesTheEngineEverywhere) {
  egress->start_of_day(Timestamp{1});
  egress->flush(now);

  // Owner 1 is logged in all day on the order gateway.
  RecordingOrderHost host1;
  sessions::SessionLimits limits;
  sessions::SessionCounters sc;
  sessions::SoupServerSession session1(users, host1, limits, sc, now);
  session1.on_bytes(login_bytes("USER1", "pw", 1), now);
  ASSERT_EQ(session1.state(), sessions::SoupServerSession::State::LoggedIn);

  // A feed subscriber from message 1.
  RecordingFeedHost feed_host;
  FeedLimits feed_limits;
  FeedCounters feed_counters;
  FeedSession feed(egress->feeds(), users, feed_host, feed_limits, feed_counters, now);
  feed.on_bytes(login_bytes("USER2", "pw", 1), now);
  ASSERT_EQ(feed.state(), FeedSession::State::LoggedIn);

  std::mt19937_64 rng(20261125);
  auto pick = [&](std::uint64_t n) { return static_cast<std::uint64_t>(rng() % n); };
  std::array<std::vector<Token>, 4> tokens;  // per owner, every token issued
  std::array<std::set<Token>, 4> issued;
  std::uint64_t next_token = 0;
  auto new_token = [&](std::uint32_t owner) {
    const Token t = Token::from("T" + std::to_string(++next_token));
    tokens[owner].push_back(t);
    issued[owner].insert(t);
    return t;
  };
  bool b_halted = true;
  bool kill = false;
  constexpr int kCommands = 30000;
  for (int i = 0; i < kCommands; ++i) {
    const Timestamp ts{static_cast<std::uint64_t>(i + 2) * 1000};
    const std::uint32_t owner = 1 + static_cast<std::uint32_t>(pick(3));
    const FirmId firm{kFirmOf[owner]};
    const std::uint64_t r = pick(1000);
    const std::uint16_t ins = static_cast<std::uint16_t>(1 + pick(2));
    const std::int64_t ref = ins == 1 ? 100'000 : 200'000;
    const Side side = pick(2) == 0 ? Side::Buy : Side::Sell;
    // Buys a little below the reference, sells a little above: a book that crosses now and then.
    const std::int64_t offset = (static_cast<std::int64_t>(pick(12)) - 3) * 100;
    const Price price{side == Side::Buy ? ref - offset : ref + offset};
    const Qty qty{static_cast<std::uint32_t>(100 * (1 + pick(10)))};
    if (r < 550) {
      OrderType type = OrderType::Limit;
      TimeInForce tif = TimeInForce::Day;
      if (r < 20) type = OrderType::MarketBestFiveIoc;
      else if (r < 35) type = OrderType::MarketBestFiveToLimit;
      else if (r < 60) tif = TimeInForce::Ioc;
      run(make_new_order(ts, OwnerId{owner}, firm, cfg.instruments[ins - 1u].symbol, new_token(owner), side, qty, price,
                         type, tif, Qty{0}, r >= 60 && r < 80));
    } else if (r < 780) {
      if (tokens[owner].empty()) continue;
      const Token t = tokens[owner][pick(tokens[owner].size())];
      run(make_cancel(ts, OwnerId{owner}, t, pick(3) == 0 ? Qty{100} : Qty{0}));
    } else if (r < 960) {
      if (tokens[owner].empty()) continue;
      const Token t = tokens[owner][pick(tokens[owner].size())];
      run(make_replace(ts, OwnerId{owner}, t, new_token(owner), qty, price));
    } else if (r < 975) {
      run(make_mass_cancel(ts, firm, InstrumentId{static_cast<std::uint16_t>(pick(3))}));
    } else if (r < 985) {
      b_halted = !b_halted;
      run(make_trading_status(ts, InstrumentId{2}, b_halted ? TradingStatus::Halted : TradingStatus::Trading));
    } else if (r < 992) {
      kill = !kill;
      run(make_kill_switch(ts, FirmId{1}, kill, pick(2) == 0));
    } else {
      run(make_trading_status(ts, InstrumentId{static_cast<std::uint16_t>(50 + pick(10))}, TradingStatus::Trading));
    }
    if (i % 97 == 0) egress->on_tick(now);
  }
  ASSERT_TRUE(engine.validate_internal_state());

  // 1. Each owner's journal holds exactly the OUCH messages of its order events, in order.
  std::uint64_t owner_zero = 0;
  std::array<std::vector<Bytes>, 4> expected;
  for (const Event& e : events) {
    if (e.type > EventType::CancelRejected) continue;
    if (e.owner.value() == 0) {
      ++owner_zero;
      continue;
    }
    ouch::Outbound m{};
    ASSERT_TRUE(proto::to_ouch(e, lookup, m));
    std::array<std::uint8_t, ouch::kMaxMessageSize> buf{};
    const std::size_t n = ouch::encode(m, buf);
    expected.at(e.owner.value()).emplace_back(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
  }
  EXPECT_GT(owner_zero, 0u);
  EXPECT_EQ(egress->counters().unknown_owner_dropped, owner_zero);
  EXPECT_EQ(egress->counters().untranslated, 0u);
  EXPECT_TRUE(egress->follow_depth());
  EXPECT_EQ(egress->depth_inconsistencies(), 0u);
  for (std::uint32_t o = 1; o <= 3; ++o) {
    const sessions::OutboundBuffer& j = users.find(OwnerId{o})->outbound;
    ASSERT_EQ(j.first_retained(), 1u);
    ASSERT_EQ(j.next_seq() - 1, expected[o].size()) << "owner " << o;
    std::map<ouch::OutboundType, int> kinds;
    for (std::uint64_t s = 1; s < j.next_seq(); ++s) {
      ASSERT_EQ(to_bytes(j.get(s)), expected[o][s - 1]) << "owner " << o << " message " << s;
      ouch::Outbound m{};
      ASSERT_EQ(ouch::decode_outbound(j.get(s), m), ouch::Status::Ok);
      ++kinds[m.type];
      const Token& t = m.type == ouch::OutboundType::Accepted       ? m.accepted.token
                       : m.type == ouch::OutboundType::Replaced     ? m.replaced.replacement
                       : m.type == ouch::OutboundType::Canceled     ? m.canceled.token
                       : m.type == ouch::OutboundType::Executed     ? m.executed.token
                       : m.type == ouch::OutboundType::Rejected     ? m.rejected.token
                                                                    : m.cancel_reject.token;
      EXPECT_TRUE(issued[o].contains(t)) << "owner " << o << " got a message for a token it never sent";
    }
    // The random day exercises every kind of order message.
    EXPECT_EQ(kinds.size(), 6u) << "owner " << o;
  }
  // Owner 1's session was sent its whole journal, in order.
  const SoupPackets p1 = decode_server_stream(host1.wire);
  ASSERT_EQ(p1.size(), 1 + expected[1].size());
  for (std::size_t k = 0; k < expected[1].size(); ++k) EXPECT_EQ(p1[k + 1].second, expected[1][k]);

  // 2. The ITCH stream rebuilds the engine's book, and so do the depth books that follow it.
  std::vector<char> system_events;
  const auto book = rebuild_from_itch(system_events);
  EXPECT_EQ(system_events, (std::vector<char>{'O', 'S', 'Q'}));
  std::size_t levels_seen = 0;
  for (std::uint16_t ins = 1; ins <= 2; ++ins) {
    for (const Side side : {Side::Buy, Side::Sell}) {
      const auto want = engine_depth(InstrumentId{ins}, side);
      levels_seen += want.size();
      EXPECT_EQ(aggregate(book, ins, static_cast<char>(side)), want) << "instrument " << ins << " side " << static_cast<char>(side);
      EXPECT_EQ(egress->depth(InstrumentId{ins}, side, kAllLevels), want);
      const auto top3 = egress->depth(InstrumentId{ins}, side, 3);
      EXPECT_EQ(top3, std::vector<DepthLevel>(want.begin(), want.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(3, want.size()))));
    }
  }
  EXPECT_GT(levels_seen, 4u);
  EXPECT_TRUE(egress->depth(InstrumentId{0}, Side::Buy, 5).empty());
  EXPECT_TRUE(egress->depth(InstrumentId{3}, Side::Buy, 5).empty());

  // 3. End of day, then every MoldUDP64 datagram: parses, continuous, within the MTU, and
  // together they are the ITCH buffer.
  egress->end_of_day(Timestamp{99'000'000}, now);
  const ItchBuffer& j = egress->itch_buffer();
  std::uint64_t next = 1;
  bool saw_end = false;
  std::size_t heartbeats = 0;
  for (const Bytes& d : datagrams) {
    ASSERT_LE(d.size(), egress->mold().config().mtu);
    mold::Packet p{};
    ASSERT_EQ(mold::parse(d, p), mold::Status::Ok);
    ASSERT_FALSE(saw_end) << "datagram after end of session";
    if (p.kind == mold::PacketKind::Heartbeat) {
      EXPECT_EQ(p.header.sequence, next);
      ++heartbeats;
      continue;
    }
    if (p.kind == mold::PacketKind::EndOfSession) {
      EXPECT_EQ(p.header.sequence, next);
      saw_end = true;
      continue;
    }
    ASSERT_EQ(p.header.sequence, next);
    mold::MessageIterator it(p);
    std::span<const std::uint8_t> m;
    std::uint64_t seq = 0;
    while (it.next(m, seq)) {
      ASSERT_EQ(seq, next);
      ASSERT_EQ(to_bytes(m), to_bytes(j.get(seq)));
      ++next;
    }
  }
  EXPECT_TRUE(saw_end);
  EXPECT_EQ(next, j.next_seq());
  EXPECT_EQ(heartbeats, 0u);  // never idle: the ticks always found traffic
  std::vector<char> all_system_events;
  (void)rebuild_from_itch(all_system_events);
  EXPECT_EQ(all_system_events, (std::vector<char>{'O', 'S', 'Q', 'M', 'E', 'C'}));

  // 4. The feed subscriber got the whole stream, then End of Session.
  const SoupPackets f = decode_server_stream(feed_host.wire);
  ASSERT_EQ(f.size(), 1 + (j.next_seq() - 1) + 1);
  for (std::uint64_t s = 1; s < j.next_seq(); ++s) ASSERT_EQ(f[s].second, to_bytes(j.get(s)));
  EXPECT_EQ(f.back().first, soup::PacketType::EndOfSession);
  EXPECT_EQ(feed_host.reason, sessions::CloseReason::EndOfSession);

  // 5. A re-request after the close is still answered from the journal.
  std::array<std::uint8_t, mold::kRequestSize> req{};
  ASSERT_EQ(mold::encode_request(mold::Request{egress->mold().config().session, 100, 50}, req), mold::kRequestSize);
  std::uint64_t got = 0;
  for (const Bytes& d : egress->mold().on_request(req)) {
    mold::Packet p{};
    ASSERT_EQ(mold::parse(d, p), mold::Status::Ok);
    got += p.header.count;
  }
  EXPECT_EQ(got, 50u);
}

TEST_F(EngineEgress, IdleFeedGetsMoldHeartbeats) {
  egress->start_of_day(Timestamp{1});
  egress->flush(now);
  datagrams.clear();
  egress->on_tick(now + kSec / 2);
  EXPECT_TRUE(datagrams.empty());
  egress->on_tick(now + kSec);
  ASSERT_EQ(datagrams.size(), 1u);
  mold::Packet p{};
  ASSERT_EQ(mold::parse(datagrams[0], p), mold::Status::Ok);
  EXPECT_EQ(p.kind, mold::PacketKind::Heartbeat);
  EXPECT_EQ(p.header.sequence, 8u);
}

TEST_F(EngineEgress, DepthCanBeReadFromAnotherThreadWhileEventsArrive) {
  // The HTTP thread's view: it follows the ITCH buffer while this (io) thread appends to it, with
  // no lock (run under the tsan preset, this checks the buffer's acquire/release protocol).
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> reads{0};
  std::thread ops([&] {
    do {  // at least one read, however fast the events below go
      const auto bids = egress->depth(InstrumentId{1}, Side::Buy, 10);
      for (std::size_t k = 1; k < bids.size(); ++k) EXPECT_GT(bids[k - 1].price, bids[k].price);
      reads.fetch_add(1, std::memory_order_relaxed);
    } while (!stop.load(std::memory_order_relaxed));
  });
  const Symbol sym = Symbol::from("600000");
  for (int i = 0; i < 2000; ++i) {
    const Token t = Token::from("D" + std::to_string(i));
    run(make_new_order(Timestamp{static_cast<std::uint64_t>(i + 1)}, OwnerId{1}, FirmId{0}, sym, t, Side::Buy,
                       Qty{100}, Price{100'000 - 100 * (i % 20)}));
    if (i % 3 == 0) run(make_cancel(Timestamp{static_cast<std::uint64_t>(i + 1)}, OwnerId{1}, t));
  }
  stop.store(true);
  ops.join();
  EXPECT_GT(reads.load(), 0u);
  EXPECT_EQ(egress->depth(InstrumentId{1}, Side::Buy, kAllLevels), engine_depth(InstrumentId{1}, Side::Buy));
}

TEST(DepthBookTest, AppliesEachOrderMessageAndRefusesUnknownOrders) {
  DepthBook b;
  auto add = [](std::uint64_t ref, char side, std::uint32_t px, std::uint32_t shares) {
    itch::Message m{};
    m.type = itch::MessageType::AddOrder;
    m.add = itch::AddOrder{};
    m.add.order_ref = ref;
    m.add.side = side;
    m.add.shares = shares;
    m.add.price = px;
    return m;
  };
  auto executed = [](std::uint64_t ref, std::uint32_t shares) {
    itch::Message m{};
    m.type = itch::MessageType::OrderExecuted;
    m.executed = itch::OrderExecuted{};
    m.executed.order_ref = ref;
    m.executed.shares = shares;
    return m;
  };
  auto crossed = [](std::uint64_t ref, std::uint32_t shares) {
    itch::Message m{};
    m.type = itch::MessageType::OrderExecutedWithPrice;
    m.executed_with_price = itch::OrderExecutedWithPrice{};
    m.executed_with_price.order_ref = ref;
    m.executed_with_price.shares = shares;
    m.executed_with_price.price = 1;  // the cross price: not the order's
    return m;
  };
  auto cancel = [](std::uint64_t ref, std::uint32_t shares) {
    itch::Message m{};
    m.type = itch::MessageType::OrderCancel;
    m.cancel = itch::OrderCancel{};
    m.cancel.order_ref = ref;
    m.cancel.shares = shares;
    return m;
  };
  auto del = [](std::uint64_t ref) {
    itch::Message m{};
    m.type = itch::MessageType::OrderDelete;
    m.del = itch::OrderDelete{};
    m.del.order_ref = ref;
    return m;
  };
  auto replace = [](std::uint64_t old_ref, std::uint64_t new_ref, std::uint32_t px, std::uint32_t shares) {
    itch::Message m{};
    m.type = itch::MessageType::OrderReplace;
    m.replace = itch::OrderReplace{};
    m.replace.original_ref = old_ref;
    m.replace.new_ref = new_ref;
    m.replace.shares = shares;
    m.replace.price = px;
    return m;
  };
  EXPECT_TRUE(b.apply(add(1, 'B', 100, 300)));
  EXPECT_TRUE(b.apply(add(2, 'B', 100, 200)));
  EXPECT_TRUE(b.apply(add(3, 'B', 200, 100)));
  EXPECT_TRUE(b.apply(add(4, 'S', 300, 100)));
  EXPECT_FALSE(b.apply(add(4, 'S', 300, 100)));  // duplicate reference
  EXPECT_FALSE(b.apply(add(7, 'X', 300, 100)));  // no such side
  EXPECT_EQ(b.depth(Side::Buy, 10), (std::vector<DepthLevel>{{Price{200}, 100, 1}, {Price{100}, 500, 2}}));
  EXPECT_TRUE(b.apply(executed(1, 100)));
  EXPECT_TRUE(b.apply(cancel(2, 50)));
  EXPECT_EQ(b.depth(Side::Buy, 10), (std::vector<DepthLevel>{{Price{200}, 100, 1}, {Price{100}, 350, 2}}));
  EXPECT_TRUE(b.apply(crossed(3, 100)));  // fully filled: gone
  EXPECT_TRUE(b.apply(replace(1, 5, 150, 700)));  // 1 -> 5 at 150
  EXPECT_EQ(b.depth(Side::Buy, 10), (std::vector<DepthLevel>{{Price{150}, 700, 1}, {Price{100}, 150, 1}}));
  EXPECT_TRUE(b.apply(del(2)));
  EXPECT_EQ(b.depth(Side::Buy, 1), (std::vector<DepthLevel>{{Price{150}, 700, 1}}));
  EXPECT_EQ(b.depth(Side::Sell, 10), (std::vector<DepthLevel>{{Price{300}, 100, 1}}));
  EXPECT_FALSE(b.apply(del(99)));
  EXPECT_FALSE(b.apply(executed(4, 500)));  // more than it has
  EXPECT_FALSE(b.apply(replace(42, 6, 150, 700)));
  EXPECT_FALSE(b.apply(replace(4, 5, 150, 700)));  // the new reference is taken
  EXPECT_EQ(b.orders(), 2u);
}

}  // namespace
}  // namespace egress
}  // namespace peregrine

namespace peregrine::egress {
namespace {

// OUCH 4.2 System Event: end of day when the last instrument closes, start of day when the
// first one opens again; every user's journal gets each once, in sequence with its replies.
TEST_F(EngineEgress, OuchSystemEventsMarkTheEndAndTheStartOfTheDay) {
  const auto system_events = [&](std::uint32_t owner) {
    std::string codes;
    const sessions::OutboundBuffer& j = users.find(OwnerId{owner})->outbound;
    for (std::uint64_t s = j.first_retained(); s < j.next_seq(); ++s) {
      ouch::Outbound m{};
      EXPECT_EQ(ouch::decode_outbound(j.get(s), m), ouch::Status::Ok);
      if (m.type == ouch::OutboundType::SystemEvent) codes += m.system_event.event_code;
    }
    return codes;
  };
  // 600000 trades, 600001 starts halted: both count as open.
  run(make_trading_status(Timestamp{1}, InstrumentId{1}, TradingStatus::Closed));
  EXPECT_EQ(system_events(1), "");  // 600001 is still open (halted)
  run(make_trading_status(Timestamp{2}, InstrumentId{2}, TradingStatus::Closed));
  run(make_schedule_phase(Timestamp{3}, InstrumentId{0}, TradingStatus::Closed));  // no change: nothing
  run(make_schedule_phase(Timestamp{4}, InstrumentId{0}, TradingStatus::OpeningCall));
  for (std::uint32_t owner = 1; owner <= 3; ++owner) EXPECT_EQ(system_events(owner), "ES") << "owner " << owner;
}

}  // namespace
}  // namespace peregrine::egress
