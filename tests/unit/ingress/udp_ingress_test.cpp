// UDP order entry without I/O: endpoints, MoldUDP64 sequencing (duplicates, partial resends,
// gaps), the edge checks shared with SoupBinTCP, back-pressure, hostile packets.

#include "peregrine/ingress/udp_ingress.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <stdexcept>

#include "ingress_test_util.hpp"

namespace peregrine::ingress {
namespace udp_ingress_test {  // named, not anonymous: the sanitizer presets' unity builds compile it beside other tests

using namespace test;

class RecordingHost : public UdpIngressHost {
 public:
  bool submit(const Command& cmd) noexcept override {
    if (room_for_commands == 0) return false;
    --room_for_commands;
    commands.push_back(cmd);
    return true;
  }
  bool notify(const UdpNotice& n) noexcept override {
    if (!notices_open) return false;
    notices.push_back(n);
    return true;
  }
  std::vector<Command> commands;
  std::vector<UdpNotice> notices;
  std::size_t room_for_commands = 1000;
  bool notices_open = true;
};

constexpr std::uint64_t kMs = 1'000'000;

UdpBinding binding(std::uint16_t port, std::string_view session, std::uint32_t owner, std::uint16_t firm,
                   std::uint32_t throttle = 0) {
  UdpBinding b;
  b.ip = kClientIp;
  b.port = port;
  b.session = proto::mold::SessionId::from(session);
  b.ouch = proto::OuchSession{OwnerId{owner}, FirmId{firm}, FirmName::from(firm == 0 ? "FRMA" : "FRMB")};
  b.throttle_per_second = throttle;
  return b;
}

class UdpIngressTest : public ::testing::Test {
 protected:
  UdpIngressTest() : ingress_({binding(kClientPort, "SESSA", 7, 0), binding(kClientPort + 1, "SESSB", 8, 1, 2)}, {}, host_, counters_) {
    ingress_.set_clock_origin(1000);
  }

  PacketOutcome send(const Bytes& mold, std::uint64_t now = 5 * kMs, std::uint16_t port = kClientPort) {
    const Bytes f = frame(client_to_server(port), mold);
    UdpDatagram d{};
    EXPECT_EQ(parse_udp_frame(f, kServerIp, kServerPort, d), FrameDrop::None);
    return ingress_.on_datagram(d, now);
  }
  std::uint64_t packets(PacketOutcome o) const { return counters_.packets[static_cast<std::size_t>(o)].load(); }

  RecordingHost host_;
  UdpIngressCounters counters_;
  UdpIngress ingress_;
};

TEST_F(UdpIngressTest, AppliesMessagesInSequenceAsCommandsOfTheBoundUser) {
  EXPECT_EQ(send(mold_packet("SESSA", 1, {enter_order("T1"), enter_order("T2", 'S')}), 5000), PacketOutcome::Applied);
  ASSERT_EQ(host_.commands.size(), 2u);
  EXPECT_EQ(host_.commands[0].type, CommandType::NewOrder);
  EXPECT_EQ(host_.commands[0].new_order.owner, OwnerId{7});
  EXPECT_EQ(host_.commands[0].new_order.firm, FirmId{0});
  EXPECT_EQ(host_.commands[0].new_order.token, Token::from("T1"));
  EXPECT_EQ(host_.commands[1].new_order.side, Side::Sell);
  EXPECT_EQ(host_.commands[0].ts, Timestamp{4000});  // now - clock origin
  EXPECT_EQ(ingress_.next_expected(0), 3u);
  EXPECT_EQ(ingress_.peer_mac(0), mac_to_u64(kClientMac));
  EXPECT_EQ(ingress_.peer_mac(1), 0u);
  EXPECT_EQ(counters_.commands.load(), 2u);
  EXPECT_TRUE(host_.notices.empty());
}

TEST_F(UdpIngressTest, DropsAResentPacketAndAppliesOnlyTheNewPartOfAnOverlap) {
  ASSERT_EQ(send(mold_packet("SESSA", 1, {enter_order("T1"), enter_order("T2")})), PacketOutcome::Applied);
  EXPECT_EQ(send(mold_packet("SESSA", 1, {enter_order("T1"), enter_order("T2")})), PacketOutcome::Duplicate);
  EXPECT_EQ(send(mold_packet("SESSA", 2, {enter_order("T2")})), PacketOutcome::Duplicate);
  EXPECT_EQ(host_.commands.size(), 2u);
  EXPECT_EQ(send(mold_packet("SESSA", 2, {enter_order("T2"), enter_order("T3"), enter_order("T4")})),
            PacketOutcome::Applied);
  ASSERT_EQ(host_.commands.size(), 4u);
  EXPECT_EQ(host_.commands[2].new_order.token, Token::from("T3"));
  EXPECT_EQ(host_.commands[3].new_order.token, Token::from("T4"));
  EXPECT_EQ(ingress_.next_expected(0), 5u);
  EXPECT_EQ(counters_.messages_duplicate.load(), 4u);
  EXPECT_EQ(packets(PacketOutcome::Duplicate), 2u);
}

TEST_F(UdpIngressTest, AnswersAGapWithOneNotificationPerIntervalAndAppliesNothingOutOfOrder) {
  ASSERT_EQ(send(mold_packet("SESSA", 1, {enter_order("T1")})), PacketOutcome::Applied);
  EXPECT_EQ(send(mold_packet("SESSA", 4, {enter_order("T4")}), 10 * kMs), PacketOutcome::Gap);
  ASSERT_EQ(host_.notices.size(), 1u);
  EXPECT_EQ(host_.notices[0].kind, UdpNotice::Kind::Gap);
  EXPECT_EQ(host_.notices[0].binding, 0);
  EXPECT_EQ(host_.notices[0].sequence, 2u);  // next expected
  EXPECT_EQ(host_.notices[0].count, 2u);     // 2 and 3 are missing
  // More out-of-order packets within the interval: dropped, not re-notified.
  EXPECT_EQ(send(mold_packet("SESSA", 5, {enter_order("T5")}), 10 * kMs + 100), PacketOutcome::Gap);
  EXPECT_EQ(host_.notices.size(), 1u);
  // After the interval the gap is reported again.
  EXPECT_EQ(send(mold_packet("SESSA", 5, {enter_order("T5")}), 12 * kMs), PacketOutcome::Gap);
  EXPECT_EQ(host_.notices.size(), 2u);
  EXPECT_EQ(host_.commands.size(), 1u);
  // The client resends from 2: all applied in order.
  EXPECT_EQ(send(mold_packet("SESSA", 2, {enter_order("T2"), enter_order("T3"), enter_order("T4"), enter_order("T5")})),
            PacketOutcome::Applied);
  ASSERT_EQ(host_.commands.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i)
    EXPECT_EQ(host_.commands[i].new_order.token, Token::from("T" + std::to_string(i + 1)));
  EXPECT_EQ(counters_.gap_notices.load(), 2u);
}

TEST_F(UdpIngressTest, DropsUnknownEndpoints) {
  EXPECT_EQ(send(mold_packet("SESSB", 1, {enter_order("T1")})), PacketOutcome::UnknownEndpoint);  // wrong session
  EXPECT_EQ(send(mold_packet("SESSA", 1, {enter_order("T1")}), 1, kClientPort + 7), PacketOutcome::UnknownEndpoint);
  EXPECT_EQ(packets(PacketOutcome::UnknownEndpoint), 2u);
  EXPECT_TRUE(host_.commands.empty());
  EXPECT_EQ(ingress_.next_expected(0), 1u);
  EXPECT_EQ(ingress_.peer_mac(0), 0u);
}

TEST_F(UdpIngressTest, DropsMalformedPacketsWithoutTouchingTheSequence) {
  Bytes overrun = mold_packet("SESSA", 1, {enter_order("T1"), enter_order("T2")});
  overrun[19] = 3;  // count 3, two blocks
  EXPECT_EQ(send(overrun), PacketOutcome::Malformed);
  Bytes underrun = mold_packet("SESSA", 1, {enter_order("T1"), enter_order("T2")});
  underrun[19] = 1;  // count 1, two blocks
  EXPECT_EQ(send(underrun), PacketOutcome::Malformed);
  Bytes long_block = mold_packet("SESSA", 1, {enter_order("T1")});
  long_block[21] = 200;  // block length past the end
  EXPECT_EQ(send(long_block), PacketOutcome::Malformed);
  const Bytes header = mold_header("SESSA", 1, 0);
  EXPECT_EQ(send(Bytes(header.begin(), header.begin() + 19)), PacketOutcome::Malformed);
  EXPECT_EQ(send(mold_packet("SESSA", 0, {enter_order("T1")})), PacketOutcome::Malformed);
  EXPECT_EQ(send(mold_packet("SESSA", ~std::uint64_t{0}, {enter_order("T1")})), PacketOutcome::Malformed);
  EXPECT_EQ(send(mold_header("SESSA", 0, 5)), PacketOutcome::Malformed);  // a request for message 0
  EXPECT_EQ(packets(PacketOutcome::Malformed), 7u);
  EXPECT_TRUE(host_.commands.empty());
  EXPECT_TRUE(host_.notices.empty());
  EXPECT_EQ(ingress_.next_expected(0), 1u);
}

TEST_F(UdpIngressTest, PassesHeartbeatsAndRequestsOn) {
  EXPECT_EQ(send(mold_header("SESSA", 1, 0)), PacketOutcome::Heartbeat);
  EXPECT_EQ(send(mold_header("SESSA", 1, 0xFFFF)), PacketOutcome::Heartbeat);
  EXPECT_TRUE(host_.notices.empty());
  EXPECT_EQ(send(mold_header("SESSA", 3, 10)), PacketOutcome::Request);
  ASSERT_EQ(host_.notices.size(), 1u);
  EXPECT_EQ(host_.notices[0].kind, UdpNotice::Kind::Retransmit);
  EXPECT_EQ(host_.notices[0].sequence, 3u);
  EXPECT_EQ(host_.notices[0].count, 10u);
  EXPECT_EQ(ingress_.next_expected(0), 1u);
}

TEST_F(UdpIngressTest, RejectsAtTheEdgeThroughTheCoreAsSoupBinTcpDoesAndConsumesTheNumber) {
  // FRMB is not user 7's firm: OUCH 'L', as translate() decides for a SoupBinTCP session. The
  // refusal is an EdgeReject command in the core's ring, in the message's place.
  EXPECT_EQ(send(mold_packet("SESSA", 1, {enter_order("T1", 'B', 100, 17'000'000, "600519", "FRMB"), enter_order("T2")})),
            PacketOutcome::Applied);
  EXPECT_TRUE(host_.notices.empty());
  ASSERT_EQ(host_.commands.size(), 2u);
  const Command& r = host_.commands[0];
  EXPECT_EQ(r.type, CommandType::EdgeReject);
  EXPECT_EQ(r.ts, Timestamp{5 * kMs - 1000});
  EXPECT_EQ(r.edge_reject.owner, OwnerId{7});
  EXPECT_EQ(r.edge_reject.token, Token::from("T1"));
  EXPECT_EQ(r.edge_reject.reason, static_cast<std::uint8_t>(proto::ouch::reject::kFirmNotAuthorized));
  EXPECT_EQ(host_.commands[1].new_order.token, Token::from("T2"));
  EXPECT_EQ(ingress_.next_expected(0), 3u);
  EXPECT_EQ(counters_.edge_rejects.load(), 1u);
  EXPECT_EQ(counters_.commands.load(), 2u);
}

TEST_F(UdpIngressTest, CountsAndSkipsAMessageThatIsNotOuch) {
  const Bytes junk = {'Q', 1, 2, 3};
  EXPECT_EQ(send(mold_packet("SESSA", 1, {junk, enter_order("T2")})), PacketOutcome::Applied);
  EXPECT_EQ(counters_.bad_messages.load(), 1u);
  ASSERT_EQ(host_.commands.size(), 1u);
  EXPECT_EQ(ingress_.next_expected(0), 3u);
}

TEST_F(UdpIngressTest, ThrottlesPerBindingWithTheSharedGate) {
  // Binding 1 allows 2 messages a second.
  EXPECT_EQ(send(mold_packet("SESSB", 1, {enter_order("T1"), enter_order("T2"), enter_order("T3")}), 5 * kMs,
                 kClientPort + 1),
            PacketOutcome::Applied);
  ASSERT_EQ(host_.commands.size(), 3u);
  EXPECT_TRUE(host_.notices.empty());
  EXPECT_EQ(host_.commands[1].type, CommandType::NewOrder);
  EXPECT_EQ(host_.commands[2].type, CommandType::EdgeReject);
  EXPECT_EQ(host_.commands[2].edge_reject.owner, OwnerId{8});
  EXPECT_EQ(host_.commands[2].edge_reject.token, Token::from("T3"));
  EXPECT_EQ(host_.commands[2].edge_reject.reason, static_cast<std::uint8_t>(proto::ouch::reject::kOther));
  EXPECT_EQ(counters_.throttled.load(), 1u);
  // A second later the window is open again.
  EXPECT_EQ(send(mold_packet("SESSB", 4, {enter_order("T4")}), 1005 * kMs, kClientPort + 1), PacketOutcome::Applied);
  ASSERT_EQ(host_.commands.size(), 4u);
  EXPECT_EQ(host_.commands[3].type, CommandType::NewOrder);
}

TEST_F(UdpIngressTest, StopsAtAFullRingAndAsksForTheRestAgain) {
  host_.room_for_commands = 1;
  EXPECT_EQ(send(mold_packet("SESSA", 1, {enter_order("T1"), enter_order("T2"), enter_order("T3")})),
            PacketOutcome::Backpressure);
  EXPECT_EQ(host_.commands.size(), 1u);
  EXPECT_EQ(ingress_.next_expected(0), 2u);
  ASSERT_EQ(host_.notices.size(), 1u);
  EXPECT_EQ(host_.notices[0].kind, UdpNotice::Kind::Gap);
  EXPECT_EQ(host_.notices[0].sequence, 2u);
  EXPECT_EQ(host_.notices[0].count, 2u);
  EXPECT_EQ(counters_.ring_full.load(), 1u);
  host_.room_for_commands = 10;
  EXPECT_EQ(send(mold_packet("SESSA", 1, {enter_order("T1"), enter_order("T2"), enter_order("T3")})),
            PacketOutcome::Applied);
  ASSERT_EQ(host_.commands.size(), 3u);
  EXPECT_EQ(host_.commands[1].new_order.token, Token::from("T2"));
  EXPECT_EQ(host_.commands[2].new_order.token, Token::from("T3"));
}

TEST_F(UdpIngressTest, DoesNotConsumeAnEdgeRejectTheCommandRingCannotTakeAndAsksForItAgain) {
  // T1 is taken, T2's refusal finds the ring full: T2 and T3 are not taken, a gap notification
  // asks for them again, and the resend is refused exactly once, in order.
  host_.room_for_commands = 1;
  const Bytes pkt = mold_packet("SESSA", 1, {enter_order("T1"), enter_order("T2", 'B', 100, 17'000'000, "600519", "FRMB"),
                                             enter_order("T3")});
  EXPECT_EQ(send(pkt), PacketOutcome::Backpressure);
  ASSERT_EQ(host_.commands.size(), 1u);
  EXPECT_EQ(ingress_.next_expected(0), 2u);
  ASSERT_EQ(host_.notices.size(), 1u);
  EXPECT_EQ(host_.notices[0].kind, UdpNotice::Kind::Gap);
  EXPECT_EQ(host_.notices[0].sequence, 2u);
  EXPECT_EQ(host_.notices[0].count, 2u);
  EXPECT_EQ(counters_.ring_full.load(), 1u);
  EXPECT_EQ(counters_.edge_rejects.load(), 0u);
  host_.room_for_commands = 10;
  EXPECT_EQ(send(pkt, 6 * kMs), PacketOutcome::Applied);
  ASSERT_EQ(host_.commands.size(), 3u);
  EXPECT_EQ(host_.commands[1].type, CommandType::EdgeReject);
  EXPECT_EQ(host_.commands[1].edge_reject.token, Token::from("T2"));
  EXPECT_EQ(host_.commands[1].edge_reject.reason, static_cast<std::uint8_t>(proto::ouch::reject::kFirmNotAuthorized));
  EXPECT_EQ(host_.commands[2].new_order.token, Token::from("T3"));
  EXPECT_EQ(ingress_.next_expected(0), 4u);
  EXPECT_EQ(counters_.edge_rejects.load(), 1u);
}

TEST(UdpIngressConfigTest, RefusesTwoBindingsForOneEndpoint) {
  RecordingHost host;
  UdpIngressCounters counters;
  EXPECT_THROW(UdpIngress({binding(1, "S", 1, 0), binding(2, "S", 2, 0), binding(1, "S", 3, 0)}, {}, host, counters),
               std::invalid_argument);
  // The same address and port with another session is another endpoint.
  UdpIngress ok({binding(1, "S", 1, 0), binding(1, "T", 2, 0)}, {}, host, counters);
  EXPECT_EQ(ok.find(kClientIp, 1, proto::mold::SessionId::from("T")), 1);
  EXPECT_EQ(ok.find(kClientIp, 1, proto::mold::SessionId::from("U")), -1);
}

}  // namespace udp_ingress_test
}  // namespace peregrine::ingress
