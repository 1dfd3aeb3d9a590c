// Replies to UDP clients: journal messages as MoldUDP64 packets, re-requests answered from the
// journal, gap notifications, edge rejects (through the core), heartbeats.

#include "peregrine/ingress/udp_replier.hpp"

#include <gtest/gtest.h>

#include <array>

#include "ingress_test_util.hpp"
#include "peregrine/core/engine.hpp"
#include "peregrine/core/event.hpp"
#include "support/engine_configs.hpp"

namespace peregrine::ingress {
namespace {

using namespace test;

struct Sent {
  std::size_t binding;
  Bytes bytes;
};

// Decodes one reply packet into (header, messages).
struct Decoded {
  mold::Header header;
  std::vector<Bytes> messages;
};
Decoded decode(const Bytes& b) {
  Decoded d{};
  mold::Packet p{};
  if (b.size() == mold::kHeaderSize) {
    proto::wire::Reader r(b.data());
    d.header = {r.alpha<10>(), r.u64(), r.u16()};
    return d;
  }
  EXPECT_EQ(mold::parse(b, p), mold::Status::Ok);
  d.header = p.header;
  mold::MessageIterator it(p);
  std::span<const std::uint8_t> m;
  std::uint64_t seq = 0;
  while (it.next(m, seq)) d.messages.emplace_back(m.begin(), m.end());
  return d;
}

Bytes rejected(std::string_view token, char reason) {
  ouch::Rejected r{1, Token::from(token), reason};
  Bytes b(ouch::kRejectedSize);
  b.resize(ouch::encode(r, b));
  return b;
}

class UdpReplierTest : public ::testing::Test {
 protected:
  UdpReplierTest() : users_(100) {
    sessions::UserAccount a{};
    a.username = Alpha<6>::from("U1");
    a.owner = OwnerId{1};
    users_.add(a);
    a.username = Alpha<6>::from("U2");
    a.owner = OwnerId{2};
    users_.add(a);
    u1_ = users_.find(OwnerId{1});
    u2_ = users_.find(OwnerId{2});
    UdpReplyConfig cfg;
    cfg.mtu = 200;  // small, so that a few messages need several packets
    cfg.max_request_count = 5;
    replier_ = std::make_unique<UdpReplier>(
        std::vector<sessions::UserState*>{u1_, u2_},
        std::vector<mold::SessionId>{mold::SessionId::from("SESSA"), mold::SessionId::from("SESSB")}, cfg,
        [this](std::size_t b, std::span<const std::uint8_t> d) { sent_.push_back({b, Bytes(d.begin(), d.end())}); });
  }

  sessions::UserDirectory users_;
  sessions::UserState* u1_;
  sessions::UserState* u2_;
  std::vector<Sent> sent_;
  std::unique_ptr<UdpReplier> replier_;
};

TEST_F(UdpReplierTest, SendsNewJournalMessagesInNumberedPackets) {
  for (int i = 0; i < 10; ++i) u1_->outbound.append(rejected("T" + std::to_string(i), 'O'));
  replier_->flush(1);
  // 200-byte packets: 20 header + 7 blocks of 26 = 202 > 200, so 6 per packet: 6 + 4.
  ASSERT_EQ(sent_.size(), 2u);
  const Decoded a = decode(sent_[0].bytes);
  const Decoded b = decode(sent_[1].bytes);
  EXPECT_EQ(sent_[0].binding, 0u);
  EXPECT_EQ(a.header.session, mold::SessionId::from("SESSA"));
  EXPECT_EQ(a.header.sequence, 1u);
  EXPECT_EQ(a.header.count, 6u);
  EXPECT_EQ(b.header.sequence, 7u);
  EXPECT_EQ(b.header.count, 4u);
  EXPECT_EQ(b.messages.back(), rejected("T9", 'O'));
  EXPECT_EQ(replier_->next_to_send(0), 11u);
  EXPECT_EQ(replier_->next_to_send(1), 1u);
  sent_.clear();
  replier_->flush(2);
  EXPECT_TRUE(sent_.empty());  // nothing new
  EXPECT_EQ(replier_->counters().messages, 10u);
}

TEST_F(UdpReplierTest, AnswersARequestFromTheJournalCutAtTheLimitAndAtWhatWasSent) {
  for (int i = 0; i < 8; ++i) u1_->outbound.append(rejected("T" + std::to_string(i), 'O'));
  replier_->flush(1);
  sent_.clear();
  replier_->on_notice(UdpNotice{UdpNotice::Kind::Retransmit, 0, 100, 2}, 5);
  ASSERT_EQ(sent_.size(), 1u);
  const Decoded d = decode(sent_[0].bytes);
  EXPECT_EQ(d.header.sequence, 2u);
  EXPECT_EQ(d.header.count, 5u);  // max_request_count
  EXPECT_EQ(d.messages[0], rejected("T1", 'O'));
  sent_.clear();
  replier_->on_notice(UdpNotice{UdpNotice::Kind::Retransmit, 0, 5, 7}, 5);
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(decode(sent_[0].bytes).header.count, 2u);  // 7 and 8 exist
  sent_.clear();
  u1_->outbound.append(rejected("NEW", 'O'));  // appended but not flushed: not yet re-requestable
  // {kind, binding, count, sequence}
  replier_->on_notice(UdpNotice{UdpNotice::Kind::Retransmit, 0, 1, 9}, 5);
  replier_->on_notice(UdpNotice{UdpNotice::Kind::Retransmit, 0, 1, 0}, 5);
  replier_->on_notice(UdpNotice{UdpNotice::Kind::Retransmit, 7, 1, 1}, 5);  // no such binding
  EXPECT_TRUE(sent_.empty());
  EXPECT_EQ(replier_->counters().unavailable_requests, 2u);
}

TEST_F(UdpReplierTest, SendsAGapNotificationInTheRequestForm) {
  replier_->on_notice(UdpNotice{UdpNotice::Kind::Gap, 1, 3, 42}, 5);
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0].binding, 1u);
  ASSERT_EQ(sent_[0].bytes.size(), mold::kRequestSize);
  mold::Request r{};
  ASSERT_EQ(mold::parse_request(sent_[0].bytes, r), mold::Status::Ok);
  EXPECT_EQ(r.session, mold::SessionId::from("SESSB"));
  EXPECT_EQ(r.sequence, 42u);
  EXPECT_EQ(r.count, 3u);
}

TEST_F(UdpReplierTest, AnEdgeRejectReachesTheClientFromTheCoreAsTheJournalsNextMessage) {
  u2_->outbound.append(rejected("A", 'O'));  // message 1
  // The ingress refuses a message (FRMB is not the user's firm) with an EdgeReject command...
  struct Ring final : UdpIngressHost {
    bool submit(const Command& c) noexcept override {
      commands.push_back(c);
      return true;
    }
    bool notify(const UdpNotice&) noexcept override { return true; }
    std::vector<Command> commands;
  } ring;
  UdpIngressCounters counters;
  UdpBinding b;
  b.ip = kClientIp;
  b.port = kClientPort;
  b.session = mold::SessionId::from("SESSB");
  b.ouch = proto::OuchSession{OwnerId{2}, FirmId{0}, FirmName::from("FRMA")};
  UdpIngress ingress({b}, {}, ring, counters);
  const Bytes f = frame(client_to_server(), mold_packet("SESSB", 1, {enter_order("BAD", 'B', 100, 17'000'000, "600519", "FRMB")}));
  UdpDatagram dg{};
  ASSERT_EQ(parse_udp_frame(f, kServerIp, kServerPort, dg), FrameDrop::None);
  ASSERT_EQ(ingress.on_datagram(dg, 9), PacketOutcome::Applied);
  ASSERT_EQ(ring.commands.size(), 1u);
  // ... which the core answers; egress puts the answer in the user's journal (as Egress does).
  Engine engine(testing::one_instrument_config(16, 16, Price{17'000'000}));
  const proto::ConfigLookup lookup(engine.config());
  std::vector<Event> events;
  std::array<Event, 4> buf{};
  EventSink sink(buf.data(), buf.size(), [](void* ctx, const Event* ev, std::size_t n) noexcept {
    auto* out = static_cast<std::vector<Event>*>(ctx);
    out->insert(out->end(), ev, ev + n);
  }, &events);
  engine.process(ring.commands[0], sink);
  sink.flush();
  ASSERT_EQ(events.size(), 1u);
  ouch::Outbound o{};
  ASSERT_TRUE(proto::to_ouch(events[0], lookup, o));
  Bytes msg(ouch::kMaxMessageSize);
  msg.resize(ouch::encode(o, msg));
  u2_->outbound.append(msg);
  EXPECT_EQ(u2_->outbound.next_seq(), 3u);
  replier_->flush(10);
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0].binding, 1u);
  const Decoded d = decode(sent_[0].bytes);
  EXPECT_EQ(d.header.sequence, 1u);
  ASSERT_EQ(d.messages.size(), 2u);
  ouch::Outbound out{};
  ASSERT_EQ(ouch::decode_outbound(d.messages[1], out), ouch::Status::Ok);
  EXPECT_EQ(out.type, ouch::OutboundType::Rejected);
  EXPECT_EQ(out.rejected, (ouch::Rejected{9, Token::from("BAD"), 'L'}));
}

TEST_F(UdpReplierTest, HeartbeatsOnlySilentEndpoints) {
  constexpr std::uint64_t kSec = 1'000'000'000;
  replier_->on_tick(1);  // the first tick starts the clocks: nothing sent
  EXPECT_TRUE(sent_.empty());
  u1_->outbound.append(rejected("A", 'O'));
  replier_->flush(kSec / 2);  // binding 0 sends at 0.5 s
  sent_.clear();
  replier_->on_tick(kSec + 1);  // binding 1 silent since the first tick
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0].binding, 1u);
  const Decoded hb = decode(sent_[0].bytes);
  EXPECT_EQ(hb.header.count, 0u);
  EXPECT_EQ(hb.header.sequence, 1u);
  sent_.clear();
  replier_->on_tick(kSec + kSec / 2 + 2);
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0].binding, 0u);
  EXPECT_EQ(decode(sent_[0].bytes).header.sequence, 2u);
}

}  // namespace
}  // namespace peregrine::ingress
