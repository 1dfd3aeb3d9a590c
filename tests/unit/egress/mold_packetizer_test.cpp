// MoldUDP64 packing, heartbeats, end of session and re-requests, checked with proto's parser.

#include "peregrine/egress/mold_packetizer.hpp"

#include <gtest/gtest.h>

#include <array>
#include <stdexcept>
#include <vector>

#include "egress_test_util.hpp"
#include "peregrine/proto/moldudp64.hpp"

namespace peregrine::egress {
namespace {

using namespace test;
namespace mold = proto::mold;

struct Parsed {
  mold::Header header;
  mold::PacketKind kind;
  std::vector<std::pair<std::uint64_t, Bytes>> messages;  // (sequence, bytes)
};

Parsed parse_ok(const Bytes& d) {
  mold::Packet p{};
  EXPECT_EQ(mold::parse(d, p), mold::Status::Ok);
  Parsed out{p.header, p.kind, {}};
  mold::MessageIterator it(p);
  std::span<const std::uint8_t> m;
  std::uint64_t seq = 0;
  while (it.next(m, seq)) out.messages.emplace_back(seq, to_bytes(m));
  return out;
}

Bytes request(std::string_view session, std::uint64_t seq, std::uint16_t count) {
  std::array<std::uint8_t, mold::kRequestSize> buf{};
  EXPECT_EQ(mold::encode_request(mold::Request{Alpha<10>::from(session), seq, count}, buf), mold::kRequestSize);
  return {buf.begin(), buf.end()};
}

struct MoldFixture : ::testing::Test {
  explicit MoldFixture(std::size_t mtu = 200, std::size_t retention = 1000) : buffer(retention), cfg(make_cfg(mtu)),
      packetizer(buffer, cfg, [this](std::span<const std::uint8_t> d) { sent.push_back(to_bytes(d)); }) {}
  static MoldConfig make_cfg(std::size_t mtu) {
    MoldConfig c;
    c.session = Alpha<10>::from("TESTSESS01");
    c.mtu = mtu;
    c.max_request_count = 25;
    return c;
  }
  // Appends `n` messages (alternating sizes) to the buffer and the packetizer.
  void publish(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint64_t seq = buffer.next_seq();
      const Bytes m = seq % 3 == 0 ? itch_add(seq) : itch_delete(seq);
      ASSERT_EQ(buffer.append(m), seq);
      packetizer.add(seq, m);
    }
  }
  ItchBuffer buffer;
  MoldConfig cfg;
  std::vector<Bytes> sent;
  MoldUdpPacketizer packetizer;
};

using MoldPacketizerTest = MoldFixture;

TEST_F(MoldPacketizerTest, PacksMessagesIntoDatagramsWithinTheMtuAndContinuousSequences) {
  publish(500);
  packetizer.flush(1 * kSec);
  ASSERT_GT(sent.size(), 50u);
  std::uint64_t expect_seq = 1;
  for (const Bytes& d : sent) {
    EXPECT_LE(d.size(), cfg.mtu);
    const Parsed p = parse_ok(d);
    EXPECT_EQ(p.kind, mold::PacketKind::Messages);
    EXPECT_EQ(p.header.session, cfg.session);
    EXPECT_EQ(p.header.sequence, expect_seq);
    ASSERT_EQ(p.messages.size(), p.header.count);
    for (const auto& [seq, bytes] : p.messages) {
      EXPECT_EQ(seq, expect_seq);
      EXPECT_EQ(bytes, to_bytes(buffer.get(seq)));
      ++expect_seq;
    }
  }
  EXPECT_EQ(expect_seq, 501u);
  EXPECT_EQ(packetizer.sent_sequence(), 501u);
  EXPECT_EQ(packetizer.counters().messages, 500u);
}

TEST_F(MoldPacketizerTest, FullDatagramsAreSentWithoutWaitingAndTheRestOnFlush) {
  publish(3);
  EXPECT_TRUE(sent.empty());  // fits: waits for flush()
  packetizer.flush(1 * kSec);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(parse_ok(sent[0]).header.count, 3u);
  packetizer.flush(2 * kSec);  // nothing pending: nothing sent
  EXPECT_EQ(sent.size(), 1u);
  publish(100);
  EXPECT_GT(sent.size(), 1u);  // datagrams filled up and went out from add()
}

TEST_F(MoldPacketizerTest, SendsAHeartbeatOnlyWhenIdleForASecond) {
  publish(4);
  packetizer.flush(10 * kSec);
  sent.clear();
  packetizer.on_tick(10 * kSec + kSec / 2);
  EXPECT_TRUE(sent.empty());
  packetizer.on_tick(11 * kSec);
  ASSERT_EQ(sent.size(), 1u);
  const Parsed hb = parse_ok(sent[0]);
  EXPECT_EQ(hb.kind, mold::PacketKind::Heartbeat);
  EXPECT_EQ(hb.header.count, 0u);
  EXPECT_EQ(hb.header.sequence, 5u);  // the next message's number
  EXPECT_EQ(sent[0].size(), mold::kHeaderSize);
  packetizer.on_tick(11 * kSec + kSec / 2);
  EXPECT_EQ(sent.size(), 1u);
  packetizer.on_tick(12 * kSec);
  EXPECT_EQ(sent.size(), 2u);
  EXPECT_EQ(packetizer.counters().heartbeats, 2u);
}

TEST_F(MoldPacketizerTest, ATickFlushesPendingMessagesInsteadOfAHeartbeat) {
  packetizer.on_tick(1 * kSec);
  sent.clear();
  publish(2);
  packetizer.on_tick(5 * kSec);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(parse_ok(sent[0]).kind, mold::PacketKind::Messages);
}

TEST_F(MoldPacketizerTest, EndOfSessionIsSentAndRepeatedAsTheHeartbeat) {
  publish(5);  // fits one 200-byte datagram
  packetizer.end_of_session(3 * kSec);
  ASSERT_EQ(sent.size(), 2u);  // the pending messages, then end of session
  const Parsed eos = parse_ok(sent[1]);
  EXPECT_EQ(eos.kind, mold::PacketKind::EndOfSession);
  EXPECT_EQ(eos.header.count, 0xFFFFu);
  EXPECT_EQ(eos.header.sequence, 6u);
  packetizer.on_tick(4 * kSec);
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(parse_ok(sent[2]).kind, mold::PacketKind::EndOfSession);
}

TEST_F(MoldPacketizerTest, RequestIsAnsweredWithExactlyTheRequestedMessages) {
  publish(60);
  packetizer.flush(1 * kSec);
  const auto replies = packetizer.on_request(request("TESTSESS01", 5, 10));
  ASSERT_FALSE(replies.empty());
  std::uint64_t expect_seq = 5;
  for (const Bytes& d : replies) {
    EXPECT_LE(d.size(), cfg.mtu);
    const Parsed p = parse_ok(d);
    EXPECT_EQ(p.header.sequence, expect_seq);
    for (const auto& [seq, bytes] : p.messages) {
      EXPECT_EQ(seq, expect_seq++);
      EXPECT_EQ(bytes, to_bytes(buffer.get(seq)));
    }
  }
  EXPECT_EQ(expect_seq, 15u);
  EXPECT_EQ(packetizer.counters().retransmitted_messages, 10u);
}

TEST_F(MoldPacketizerTest, RequestCountIsCutToTheLimitAndToWhatWasSent) {
  publish(60);
  packetizer.flush(1 * kSec);
  auto count_messages = [](const std::vector<Bytes>& ds, std::uint64_t& first) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < ds.size(); ++i) {
      const Parsed p = parse_ok(ds[i]);
      if (i == 0) first = p.header.sequence;
      n += p.messages.size();
    }
    return n;
  };
  std::uint64_t first = 0;
  EXPECT_EQ(count_messages(packetizer.on_request(request("TESTSESS01", 1, 1000)), first), 25u);  // max_request_count
  EXPECT_EQ(first, 1u);
  EXPECT_EQ(count_messages(packetizer.on_request(request("TESTSESS01", 50, 20)), first), 11u);  // 50..60
  EXPECT_EQ(first, 50u);
  publish(2);  // pending, not sent: not retransmittable yet
  EXPECT_TRUE(packetizer.on_request(request("TESTSESS01", 61, 2)).empty());
  EXPECT_EQ(packetizer.counters().unavailable_requests, 1u);
}

TEST_F(MoldPacketizerTest, BadRequestsGetNothing) {
  publish(10);
  packetizer.flush(1 * kSec);
  EXPECT_TRUE(packetizer.on_request(request("OTHERSESS1", 1, 5)).empty());  // another session
  Bytes shortreq = request("TESTSESS01", 1, 5);
  shortreq.pop_back();
  EXPECT_TRUE(packetizer.on_request(shortreq).empty());  // truncated
  Bytes longreq = request("TESTSESS01", 1, 5);
  longreq.push_back(0);
  EXPECT_TRUE(packetizer.on_request(longreq).empty());  // oversized
  EXPECT_TRUE(packetizer.on_request({}).empty());
  EXPECT_EQ(packetizer.counters().bad_requests, 4u);
  EXPECT_TRUE(packetizer.on_request(request("TESTSESS01", 1, 0)).empty());      // count 0
  EXPECT_TRUE(packetizer.on_request(request("TESTSESS01", 0, 5)).empty());      // sequence 0
  EXPECT_TRUE(packetizer.on_request(request("TESTSESS01", 11, 5)).empty());     // not sent yet
  EXPECT_TRUE(packetizer.on_request(request("TESTSESS01", ~0ULL, 5)).empty());  // far future
}

struct SmallRetention : MoldFixture {
  SmallRetention() : MoldFixture(200, 20) {}
};

TEST_F(SmallRetention, RequestForMessagesNoLongerRetainedGetsNothing) {
  publish(50);
  packetizer.flush(1 * kSec);
  EXPECT_EQ(buffer.first_retained(), 31u);
  EXPECT_TRUE(packetizer.on_request(request("TESTSESS01", 30, 5)).empty());
  EXPECT_FALSE(packetizer.on_request(request("TESTSESS01", 31, 5)).empty());
}

TEST(MoldPacketizerConfig, RefusesAnMtuBelowTheLargestMessage) {
  ItchBuffer j(10);
  MoldConfig c;
  c.mtu = 60;
  EXPECT_THROW(MoldUdpPacketizer(j, c, [](std::span<const std::uint8_t>) {}), std::invalid_argument);
  c.mtu = mold::kHeaderSize + mold::kBlockHeaderSize + itch::kMaxMessageSize;
  EXPECT_NO_THROW(MoldUdpPacketizer(j, c, [](std::span<const std::uint8_t>) {}));
}

}  // namespace
}  // namespace peregrine::egress
