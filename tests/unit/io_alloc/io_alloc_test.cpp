// Issue #13: no heap allocation on the io thread in steady state. This binary replaces the global
// operator new (every form) with one that counts the calls made on a thread while counting is
// on, then drives everything the io thread does per message, in process and sans-I/O: OUCH
// bytes into SoupServerSession::on_bytes (decode, the inbound gate, submit), the commands through
// a real Engine, every event through Egress::on_event (OUCH buffers, ITCH buffer, MoldUDP64
// packetizer), Egress::flush (deliver() to the logged-in OUCH sessions, the datagrams
// into a DatagramBatch, the ITCH feed session), and the timers. After a warm-up that takes every
// buffer to its high-water mark (retention reached), 100,000 more messages must allocate nothing.
// The depth books follow the ITCH buffer as the HTTP thread does, outside the count: their
// allocations are not the io thread's (and the buffer must not need new chunks for them).

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <vector>

#include "peregrine/core/command.hpp"
#include "peregrine/core/engine.hpp"
#include "peregrine/egress/datagram_batch.hpp"
#include "peregrine/egress/egress.hpp"
#include "peregrine/egress/feed_session.hpp"
#include "peregrine/proto/ouch42.hpp"
#include "peregrine/proto/ouch_translate.hpp"
#include "peregrine/proto/soupbintcp.hpp"
#include "peregrine/sessions/soup_session.hpp"

namespace {

thread_local bool t_counting = false;
std::atomic<std::uint64_t> g_allocations{0};

void* counted_alloc(std::size_t n, std::size_t align = 0) {
  if (t_counting) g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (n == 0) n = 1;
  void* p = align > alignof(std::max_align_t) ? std::aligned_alloc(align, (n + align - 1) / align * align) : std::malloc(n);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

}  // namespace

void* operator new(std::size_t n) { return counted_alloc(n); }
void* operator new[](std::size_t n) { return counted_alloc(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return counted_alloc(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void* operator new(std::size_t n, std::align_val_t a) { return counted_alloc(n, static_cast<std::size_t>(a)); }
void* operator new[](std::size_t n, std::align_val_t a) { return counted_alloc(n, static_cast<std::size_t>(a)); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace peregrine {
namespace {

namespace soup = proto::soup;
namespace ouch = proto::ouch;

constexpr std::size_t kUsers = 3;
constexpr std::size_t kRetention = 4096;  // OUCH and ITCH: reached during the warm-up
constexpr std::size_t kLivePerUser = 64;  // orders each user keeps resting (the oldest is cancelled or replaced)

/// An OUCH connection: the bytes deliver() sends go into a buffer reserved once.
class CountingOrderHost final : public sessions::SessionHost {
 public:
  CountingOrderHost() {
    wire.reserve(1 << 20);
    commands.reserve(64);
  }
  void send(std::span<const std::uint8_t> bytes) override {
    if (wire.size() + bytes.size() > wire.capacity()) wire.clear();
    wire.insert(wire.end(), bytes.begin(), bytes.end());
    ++sends;
    sent_bytes += bytes.size();
  }
  bool submit(const Command& cmd) override {
    commands.push_back(cmd);
    return true;
  }
  void submit_control(const Command& cmd) override { commands.push_back(cmd); }
  void close(sessions::CloseReason) override { closed = true; }
  std::vector<std::uint8_t> wire;
  std::vector<Command> commands;
  std::uint64_t sends = 0;
  std::uint64_t sent_bytes = 0;
  bool closed = false;
};

class CountingFeedHost final : public egress::FeedHost {
 public:
  void send(std::span<const std::uint8_t> bytes) override { sent_bytes += bytes.size(); }
  void close(sessions::CloseReason) override { closed = true; }
  std::uint64_t sent_bytes = 0;
  bool closed = false;
};

EngineConfig engine_config() {
  EngineConfig cfg;
  for (const char* sym : {"600000", "600001"}) {
    InstrumentConfig i;
    i.symbol = Symbol::from(sym);
    i.name = sym;
    i.reference_price = Price{100'000};
    cfg.instruments.push_back(i);
  }
  FirmConfig f;
  f.name = FirmName::from("AAAA");
  cfg.firms.push_back(f);
  cfg.max_orders = 1u << 14;
  cfg.max_tokens = 1u << 18;
  return cfg;
}

struct IoPath {
  IoPath() : cfg(engine_config()), engine(cfg), lookup(cfg), users(kRetention),
             sink(events.data(), events.size(), &IoPath::on_flush, this) {
    for (std::uint32_t o = 1; o <= kUsers; ++o) {
      sessions::UserAccount a;
      a.username = Alpha<6>::from(std::string("USER") + static_cast<char>('0' + o));
      a.password = Alpha<10>::from("pw");
      a.owner = OwnerId{o};
      a.firm = FirmId{0};
      a.firm_name = cfg.firms[0].name;
      a.cancel_on_disconnect = false;
      users.add(a);
    }
    egress::EgressConfig ec;
    ec.itch_retention = kRetention;
    egress = std::make_unique<egress::Egress>(cfg, lookup, users, ec, [this](std::span<const std::uint8_t> d) {
      if (batch.full()) batch.clear();
      batch.add(d);
      ++datagrams;
    });
    egress->mold().set_batch_end([this] { batch.clear(); });
    for (std::size_t u = 0; u < kUsers; ++u) {
      sessions_[u] = std::make_unique<sessions::SoupServerSession>(users, hosts_[u], limits, session_counters, now);
      const std::string name = "USER" + std::to_string(u + 1);
      std::array<std::uint8_t, soup::kLoginRequestSize> login{};
      (void)soup::encode_login_request(soup::LoginRequest{Alpha<6>::from(name), Alpha<10>::from("pw"), Alpha<10>::from(""), 1}, login);
      sessions_[u]->on_bytes(login, now);
      live_[u].fill(Token{});
    }
    feed = std::make_unique<egress::FeedSession>(egress->feeds(), users, feed_host, feed_limits, feed_counters, now);
    std::array<std::uint8_t, soup::kLoginRequestSize> login{};
    (void)soup::encode_login_request(soup::LoginRequest{Alpha<6>::from("USER1"), Alpha<10>::from("pw"), Alpha<10>::from(""), 1}, login);
    feed->on_bytes(login, now);
    egress->start_of_day(Timestamp{1});
    egress->flush(now);
  }

  static void on_flush(void* ctx, const Event* ev, std::size_t n) noexcept {
    auto* self = static_cast<IoPath*>(ctx);
    for (std::size_t i = 0; i < n; ++i) self->egress->on_event(ev[i]);
  }

  Token next_token(std::size_t u) {
    std::uint64_t v = ++serial_[u];
    char text[14];
    text[0] = static_cast<char>('A' + u);
    for (int i = 13; i >= 1; --i) {
      text[i] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
    return Token::from(std::string_view(text, sizeof text));
  }

  // One OUCH message from user `u`, as the socket would have read it, then everything the io
  // thread does with it: the session decodes it, the core answers, egress publishes and flushes.
  void message(std::uint64_t i) {
    const std::size_t u = i % kUsers;
    std::size_t& n = count_[u];
    std::array<std::uint8_t, soup::kHeaderSize + ouch::kMaxMessageSize> wire{};
    std::array<std::uint8_t, ouch::kMaxMessageSize> msg{};
    std::size_t len = 0;
    // Prices in a band around the reference, buys below and sells above most of the time, with
    // some crossing (executions) as (i / 7) moves them.
    const bool buy = (i / kUsers) % 2 == 0;
    const std::uint32_t step = static_cast<std::uint32_t>((i * 7919) % 20);
    const std::uint32_t price = buy ? 99'000 + step * 100 - (i % 13 == 0 ? 0 : 900) : 100'100 + step * 100 - (i % 11 == 0 ? 2'000 : 0);
    const char* sym = (i / 5) % 2 == 0 ? "600000" : "600001";
    if (n < kLivePerUser) {
      const Token t = next_token(u);
      live_[u][(head_[u] + n) % kLivePerUser] = t;
      ++n;
      len = ouch::encode(ouch::plain_enter_order(t, buy ? 'B' : 'S', 100 + static_cast<std::uint32_t>(i % 5) * 100, Symbol::from(sym), price), msg);
    } else if (i % 3 == 0) {
      const Token old = live_[u][head_[u]];
      const Token t = next_token(u);
      live_[u][head_[u]] = t;
      head_[u] = (head_[u] + 1) % kLivePerUser;
      len = ouch::encode(ouch::ReplaceOrder{old, t, 200, price, ouch::kTifMarketHours, 'Y', 'N', 0}, msg);
    } else {
      const Token old = live_[u][head_[u]];
      head_[u] = (head_[u] + 1) % kLivePerUser;
      --n;
      len = ouch::encode(ouch::CancelOrder{old, 0}, msg);
    }
    const std::size_t total = soup::encode_unsequenced_data({msg.data(), len}, wire);
    sessions_[u]->on_bytes({wire.data(), total}, now);
    for (const Command& c : hosts_[u].commands) engine.process(c, sink);
    hosts_[u].commands.clear();
    sink.flush();
    egress->flush(now);
    now += 1'000;
    if (i % 1000 == 0) {  // the 100 ms timer, compressed
      egress->on_tick(now);
      for (auto& s : sessions_) s->on_tick(now);
      std::array<std::uint8_t, soup::kEmptyPacketSize> hb{};
      (void)soup::encode_empty(soup::PacketType::ClientHeartbeat, hb);
      for (auto& s : sessions_) s->on_bytes(hb, now);
      feed->on_bytes(hb, now);
    }
  }

  EngineConfig cfg;
  Engine engine;
  proto::ConfigLookup lookup;
  sessions::UserDirectory users;
  std::array<Event, 64> events{};
  EventSink sink;
  std::unique_ptr<egress::Egress> egress;
  egress::DatagramBatch batch{64, 1400};
  std::uint64_t datagrams = 0;
  sessions::SessionLimits limits;
  sessions::SessionCounters session_counters;
  std::array<CountingOrderHost, kUsers> hosts_;
  std::array<std::unique_ptr<sessions::SoupServerSession>, kUsers> sessions_;
  CountingFeedHost feed_host;
  egress::FeedLimits feed_limits;
  egress::FeedCounters feed_counters;
  std::unique_ptr<egress::FeedSession> feed;
  std::array<std::array<Token, kLivePerUser>, kUsers> live_{};
  std::array<std::size_t, kUsers> head_{};
  std::array<std::size_t, kUsers> count_{};
  std::array<std::uint64_t, kUsers> serial_{};
  std::uint64_t now = 1'000'000'000;
};

TEST(IoAlloc, TheCountingAllocatorSeesAnAllocationOnThisThread) {
  t_counting = true;
  const std::uint64_t before = g_allocations.load();
  auto p = std::make_unique<std::uint64_t>(7);
  const std::uint64_t after = g_allocations.load();
  t_counting = false;
  EXPECT_EQ(*p, 7u);
  EXPECT_EQ(after - before, 1u);
}

TEST(IoAlloc, HundredThousandMessagesThroughSessionsCoreAndEgressAllocateNothingAfterWarmUp) {
  IoPath io;
  for (std::uint32_t u = 0; u < kUsers; ++u)
    ASSERT_EQ(io.sessions_[u]->state(), sessions::SoupServerSession::State::LoggedIn);
  ASSERT_EQ(io.feed->state(), egress::FeedSession::State::LoggedIn);
  constexpr std::uint64_t kWarmUp = 60'000;
  constexpr std::uint64_t kMeasured = 100'000;
  std::uint64_t i = 0;
  // The depth reader's turn, as the HTTP thread's timer takes it: not counted (another thread).
  auto follow_depth = [&] {
    const bool counting = t_counting;
    t_counting = false;
    EXPECT_TRUE(io.egress->follow_depth());
    t_counting = counting;
  };
  for (; i < kWarmUp; ++i) {
    io.message(i);
    if (i % 512 == 0) follow_depth();
  }
  // Warm-up took the buffers past their retention: from now on they reuse their chunks.
  ASSERT_GT(io.egress->itch_buffer().first_retained(), 1u);
  ASSERT_GT(io.users.at(0).outbound.first_retained(), 1u);
  const std::uint64_t ouch_before = io.egress->counters().ouch_messages;
  const std::uint64_t itch_before = io.egress->counters().itch_messages;
  const std::uint64_t sends_before = io.hosts_[0].sends + io.hosts_[1].sends + io.hosts_[2].sends;
  const std::uint64_t feed_before = io.feed_host.sent_bytes;
  const std::uint64_t datagrams_before = io.datagrams;

  t_counting = true;
  const std::uint64_t before = g_allocations.load();
  for (; i < kWarmUp + kMeasured; ++i) {
    io.message(i);
    if (i % 512 == 0) follow_depth();
  }
  const std::uint64_t allocations = g_allocations.load() - before;
  t_counting = false;

  EXPECT_EQ(allocations, 0u) << "heap allocations on the io path over " << kMeasured << " messages";
  // The path did its work: every message was answered, the feed and MoldUDP64 carried ITCH.
  EXPECT_GE(io.egress->counters().ouch_messages - ouch_before, kMeasured);
  EXPECT_GT(io.egress->counters().itch_messages - itch_before, kMeasured / 2);
  EXPECT_GE(io.hosts_[0].sends + io.hosts_[1].sends + io.hosts_[2].sends - sends_before, kMeasured);
  EXPECT_GT(io.feed_host.sent_bytes, feed_before);
  EXPECT_GT(io.datagrams, datagrams_before);
  follow_depth();
  EXPECT_EQ(io.egress->depth_inconsistencies(), 0u);
  for (const auto& h : io.hosts_) EXPECT_FALSE(h.closed);
  EXPECT_FALSE(io.feed_host.closed);
}

}  // namespace
}  // namespace peregrine
