// The SoupBinTCP ITCH feed session driven byte by byte, as the Asio shell will drive it.

#include "peregrine/egress/feed_session.hpp"

#include <gtest/gtest.h>

#include <memory>

#include "egress_test_util.hpp"

namespace peregrine::egress {
namespace {

using namespace test;

struct FeedFixture : ::testing::Test {
  FeedFixture() : users(100), buffer(20), registry(buffer) {
    sessions::UserAccount a;
    a.username = Alpha<6>::from("DEMO1");
    a.password = Alpha<10>::from("secret1");
    a.owner = OwnerId{1};
    a.firm = FirmId{0};
    a.firm_name = FirmName::from("FRMA");
    users.add(a);
    limits.session_name = Alpha<10>::from("ITCHFEED01");
  }
  void append(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) buffer.append(itch_delete(buffer.next_seq()));
  }
  std::unique_ptr<FeedSession> open(std::uint64_t now = 0) {
    return std::make_unique<FeedSession>(registry, users, host, limits, counters, now);
  }
  // Checks that `p` are Sequenced Data packets carrying buffer messages first, first+1, ...
  void expect_messages(const SoupPackets& p, std::uint64_t first, std::size_t count, std::size_t offset = 0) {
    ASSERT_EQ(p.size(), offset + count);
    for (std::size_t i = 0; i < count; ++i) {
      EXPECT_EQ(p[offset + i].first, soup::PacketType::SequencedData);
      EXPECT_EQ(p[offset + i].second, to_bytes(buffer.get(first + i))) << "message " << first + i;
      itch::Message m{};
      EXPECT_EQ(itch::decode(p[offset + i].second, m), itch::Status::Ok);
    }
  }
  static std::uint64_t accepted_sequence(const SoupPackets& p) {
    EXPECT_FALSE(p.empty());
    if (p.empty()) return 0;
    EXPECT_EQ(p[0].first, soup::PacketType::LoginAccepted);
    soup::LoginAccepted acc{};
    EXPECT_EQ(soup::decode_login_accepted(soup::Packet{p[0].first, p[0].second}, acc), soup::DecodeStatus::Ok);
    EXPECT_EQ(acc.session.view(), "ITCHFEED01");
    return acc.sequence;
  }

  sessions::UserDirectory users;
  ItchBuffer buffer;
  FeedRegistry registry;
  RecordingFeedHost host;
  FeedLimits limits;
  FeedCounters counters;
};

using FeedSessionTest = FeedFixture;

TEST_F(FeedSessionTest, LoginReplaysFromTheRequestedSequenceThenGoesLive) {
  append(10);
  auto s = open();
  s->on_bytes(login_bytes("DEMO1", "secret1", 4), 1);
  const SoupPackets p = host.packets();
  EXPECT_EQ(accepted_sequence(p), 4u);
  expect_messages(p, 4, 7, 1);
  EXPECT_EQ(counters.replayed, 7u);
  append(2);
  registry.deliver_all(2);
  expect_messages(host.packets(), 11, 2);
  EXPECT_EQ(s->next_to_send(), 13u);
  EXPECT_EQ(counters.messages_sent, 9u);
  EXPECT_EQ(counters.replayed, 7u);
}

TEST_F(FeedSessionTest, SequenceZeroStartsWithTheNextLiveMessage) {
  append(5);
  auto s = open();
  s->on_bytes(login_bytes("DEMO1", "secret1", 0), 1);
  SoupPackets p = host.packets();
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(accepted_sequence(p), 6u);
  append(1);
  s->deliver(2);
  expect_messages(host.packets(), 6, 1);
}

TEST_F(FeedSessionTest, SequenceBeyondTheStreamStartsWithTheNextMessage) {
  append(3);
  auto s = open();
  s->on_bytes(login_bytes("DEMO1", "secret1", 999), 1);
  EXPECT_EQ(accepted_sequence(host.packets()), 4u);
}

TEST_F(FeedSessionTest, SequenceOlderThanRetentionIsRejectedSessionNotAvailable) {
  append(30);  // retention 20: 11..30 kept
  auto s = open();
  s->on_bytes(login_bytes("DEMO1", "secret1", 10), 1);
  SoupPackets p = host.packets();
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].first, soup::PacketType::LoginRejected);
  EXPECT_EQ(p[0].second.at(0), 'S');
  EXPECT_TRUE(host.closed);
  EXPECT_EQ(host.reason, sessions::CloseReason::BadLogin);

  RecordingFeedHost host2;
  FeedSession s2(registry, users, host2, limits, counters, 0);
  s2.on_bytes(login_bytes("DEMO1", "secret1", 11), 1);
  p = host2.packets();
  EXPECT_EQ(accepted_sequence(p), 11u);
  EXPECT_EQ(p.size(), 21u);
}

TEST_F(FeedSessionTest, BadCredentialsAndWrongSessionAreRejected) {
  {
    auto s = open();
    s->on_bytes(login_bytes("DEMO1", "wrong", 1), 1);
    const SoupPackets p = host.packets();
    ASSERT_EQ(p.size(), 1u);
    EXPECT_EQ(p[0].first, soup::PacketType::LoginRejected);
    EXPECT_EQ(p[0].second.at(0), 'A');
  }
  {
    auto s = open();
    s->on_bytes(login_bytes("NOBODY", "secret1", 1), 1);
    EXPECT_EQ(host.packets().at(0).second.at(0), 'A');
  }
  {
    auto s = open();
    s->on_bytes(login_bytes("DEMO1", "secret1", 1, "PEREGRINE1"), 1);
    EXPECT_EQ(host.packets().at(0).second.at(0), 'S');
    EXPECT_EQ(s->state(), FeedSession::State::Closed);
  }
  {
    auto s = open();
    s->on_bytes(login_bytes("DEMO1", "secret1", 1, "ITCHFEED01"), 1);
    EXPECT_EQ(accepted_sequence(host.packets()), 1u);
  }
  EXPECT_EQ(counters.login_rejects, 3u);
  EXPECT_EQ(counters.logins, 1u);
}

TEST_F(FeedSessionTest, FeedLoginDoesNotTakeTheOrderSessionSlot) {
  append(2);
  auto a = open();
  auto b = open();
  a->on_bytes(login_bytes("DEMO1", "secret1", 1), 1);
  b->on_bytes(login_bytes("DEMO1", "secret1", 1), 1);
  EXPECT_EQ(a->state(), FeedSession::State::LoggedIn);
  EXPECT_EQ(b->state(), FeedSession::State::LoggedIn);
  EXPECT_EQ(users.find(OwnerId{1})->active, nullptr);
  EXPECT_EQ(registry.size(), 2u);
  b.reset();
  EXPECT_EQ(registry.size(), 1u);
}

TEST_F(FeedSessionTest, OrderMessagesEndTheSession) {
  auto s = open();
  s->on_bytes(login_bytes("DEMO1", "secret1", 1), 1);
  host.packets();
  std::array<std::uint8_t, 8> buf{};
  const std::array<std::uint8_t, 3> payload{'O', 'X', 'Y'};
  const std::size_t n = soup::encode_unsequenced_data(payload, buf);
  s->on_bytes({buf.data(), n}, 2);
  EXPECT_TRUE(host.closed);
  EXPECT_EQ(host.reason, sessions::CloseReason::ProtocolError);
  EXPECT_EQ(counters.protocol_errors, 1u);
}

TEST_F(FeedSessionTest, GarbageEndsTheSession) {
  {
    auto s = open();
    const Bytes zero_length{0, 0, 'L'};
    s->on_bytes(zero_length, 1);
    EXPECT_EQ(host.reason, sessions::CloseReason::ProtocolError);
  }
  {
    RecordingFeedHost h;
    FeedSession s(registry, users, h, limits, counters, 0);
    const Bytes unknown_type{0, 1, 'Q'};
    s.on_bytes(unknown_type, 1);
    EXPECT_TRUE(h.closed);
    EXPECT_EQ(h.reason, sessions::CloseReason::ProtocolError);
  }
  {
    RecordingFeedHost h;
    FeedSession s(registry, users, h, limits, counters, 0);
    const Bytes too_long{0xFF, 0xFF, 'L'};
    s.on_bytes(too_long, 1);
    EXPECT_EQ(h.reason, sessions::CloseReason::ProtocolError);
  }
  {
    RecordingFeedHost h;
    FeedSession s(registry, users, h, limits, counters, 0);
    s.on_bytes(login_bytes("DEMO1", "secret1", 1), 1);
    s.on_bytes(login_bytes("DEMO1", "secret1", 1), 2);  // a second login
    EXPECT_EQ(h.reason, sessions::CloseReason::ProtocolError);
  }
  {
    RecordingFeedHost h;
    FeedSession s(registry, users, h, limits, counters, 0);
    s.on_bytes(empty_packet(soup::PacketType::ClientHeartbeat), 1);  // before login
    EXPECT_EQ(h.reason, sessions::CloseReason::NotLoggedIn);
  }
}

TEST_F(FeedSessionTest, LoginSplitAcrossReadsIsAccepted) {
  append(1);
  auto s = open();
  const Bytes login = login_bytes("DEMO1", "secret1", 1);
  for (std::size_t i = 0; i < login.size(); ++i) s->on_bytes({login.data() + i, 1}, 1);
  const SoupPackets p = host.packets();
  EXPECT_EQ(accepted_sequence(p), 1u);
  EXPECT_EQ(p.size(), 2u);
}

TEST_F(FeedSessionTest, HeartbeatsWhenQuietAndTimesOutASilentClient) {
  auto s = open(0);
  s->on_bytes(login_bytes("DEMO1", "secret1", 0), 0);
  host.packets();
  s->on_tick(kSec / 2);
  EXPECT_TRUE(host.packets().empty());
  s->on_tick(kSec);
  SoupPackets p = host.packets();
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].first, soup::PacketType::ServerHeartbeat);
  s->on_bytes(empty_packet(soup::PacketType::ClientHeartbeat), 10 * kSec);
  s->on_tick(24 * kSec);
  EXPECT_FALSE(host.closed);
  s->on_tick(25 * kSec);
  EXPECT_TRUE(host.closed);
  EXPECT_EQ(host.reason, sessions::CloseReason::Timeout);
}

TEST_F(FeedSessionTest, SilentBeforeLoginTimesOut) {
  auto s = open(0);
  s->on_tick(15 * kSec);
  EXPECT_EQ(host.reason, sessions::CloseReason::Timeout);
  EXPECT_TRUE(host.packets().empty());
}

TEST_F(FeedSessionTest, LogoutAndDebugAreHandled) {
  auto s = open();
  s->on_bytes(login_bytes("DEMO1", "secret1", 0), 1);
  std::array<std::uint8_t, 16> buf{};
  const std::size_t n = soup::encode_debug("hello", buf);
  s->on_bytes({buf.data(), n}, 2);
  EXPECT_FALSE(host.closed);
  s->on_bytes(empty_packet(soup::PacketType::LogoutRequest), 3);
  EXPECT_EQ(host.reason, sessions::CloseReason::Logout);
}

TEST_F(FeedSessionTest, EndSessionSendsTheRestThenEndOfSession) {
  limits.max_messages_per_deliver = 2;
  append(5);
  auto s = open();
  s->on_bytes(login_bytes("DEMO1", "secret1", 1), 1);
  SoupPackets p = host.packets();
  ASSERT_EQ(p.size(), 3u);  // accepted + 2 (the burst limit)
  s->on_tick(2);            // a tick carries the replay on
  expect_messages(host.packets(), 3, 2);
  registry.end_all(3);
  p = host.packets();
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].second, to_bytes(buffer.get(5)));
  EXPECT_EQ(p[1].first, soup::PacketType::EndOfSession);
  EXPECT_EQ(host.reason, sessions::CloseReason::EndOfSession);
}

TEST_F(FeedSessionTest, AClientThatFallsBehindRetentionIsCutOff) {
  limits.max_messages_per_deliver = 1;
  append(5);
  auto s = open();
  s->on_bytes(login_bytes("DEMO1", "secret1", 1), 1);
  append(30);  // retention 20: message 2 is gone
  s->deliver(2);
  EXPECT_EQ(host.reason, sessions::CloseReason::SlowConsumer);
  EXPECT_EQ(counters.fell_behind, 1u);
}

}  // namespace
}  // namespace peregrine::egress
