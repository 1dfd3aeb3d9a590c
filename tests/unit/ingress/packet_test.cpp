// Ethernet / IPv4 / UDP parsing and building: every drop reason, checked against an independent
// frame builder (tests/unit/proto/pcap_writer.hpp, the one the tshark test uses).

#include "peregrine/ingress/packet.hpp"

#include <gtest/gtest.h>

#include "ingress_test_util.hpp"
#include "unit/proto/pcap_writer.hpp"

namespace peregrine::ingress {
namespace {

using test::Bytes;

Bytes reference_frame(std::span<const std::uint8_t> payload) {
  const proto::test::Endpoint src{test::kClientMac, test::kClientIp, test::kClientPort};
  const proto::test::Endpoint dst{test::kServerMac, test::kServerIp, test::kServerPort};
  return proto::test::make_frame(src, dst, false, 0, 0, 0, 7, payload);
}

const Bytes kPayload = {'h', 'e', 'l', 'l', 'o', ' ', 'u', 'd', 'p', '!', 0, 1, 2};

TEST(PacketTest, BuildsTheSameFrameAsTheReferenceBuilder) {
  const Bytes ref = reference_frame(kPayload);
  Bytes out(256);
  const std::size_t n = build_udp_frame(test::client_to_server(), 7, kPayload, out);
  ASSERT_EQ(n, kMinFrameSize);  // 42 + 13 bytes: padded to 60
  out.resize(n);
  ASSERT_GE(out.size(), ref.size());
  EXPECT_TRUE(std::equal(ref.begin(), ref.end(), out.begin()));
  EXPECT_TRUE(std::all_of(out.begin() + static_cast<std::ptrdiff_t>(ref.size()), out.end(), [](auto b) { return b == 0; }));
}

TEST(PacketTest, ParsesAReferenceFrameIncludingItsPadding) {
  Bytes f = reference_frame(kPayload);
  f.resize(kMinFrameSize, 0);
  UdpDatagram d{};
  ASSERT_EQ(parse_udp_frame(f, test::kServerIp, test::kServerPort, d), FrameDrop::None);
  EXPECT_EQ(d.addr.src_ip, test::kClientIp);
  EXPECT_EQ(d.addr.dst_ip, test::kServerIp);
  EXPECT_EQ(d.addr.src_port, test::kClientPort);
  EXPECT_EQ(d.addr.dst_port, test::kServerPort);
  EXPECT_EQ(d.addr.src_mac, test::kClientMac);
  EXPECT_EQ(d.addr.dst_mac, test::kServerMac);
  EXPECT_EQ(Bytes(d.payload.begin(), d.payload.end()), kPayload);
}

TEST(PacketTest, AcceptsAZeroUdpChecksumAsNone) {
  Bytes f = reference_frame(kPayload);
  f[kEthernetHeaderSize + kIpv4HeaderSize + 6] = 0;
  f[kEthernetHeaderSize + kIpv4HeaderSize + 7] = 0;
  UdpDatagram d{};
  EXPECT_EQ(parse_udp_frame(f, 0, 0, d), FrameDrop::None);
}

FrameDrop parse(const Bytes& f) {
  UdpDatagram d{};
  return parse_udp_frame(f, test::kServerIp, test::kServerPort, d);
}

// Recomputes the IPv4 header checksum after a test changed the header.
void fix_ip_checksum(Bytes& f) {
  std::uint8_t* ip = f.data() + kEthernetHeaderSize;
  ip[10] = ip[11] = 0;
  const std::uint16_t c = checksum_finish(checksum_add({ip, kIpv4HeaderSize}, 0));
  ip[10] = static_cast<std::uint8_t>(c >> 8);
  ip[11] = static_cast<std::uint8_t>(c);
}

TEST(PacketTest, DropsEachKindOfBadFrameWithItsReason) {
  const Bytes good = reference_frame(kPayload);
  EXPECT_EQ(parse(good), FrameDrop::None);

  EXPECT_EQ(parse(Bytes(good.begin(), good.begin() + 10)), FrameDrop::Truncated);
  EXPECT_EQ(parse(Bytes(good.begin(), good.begin() + 30)), FrameDrop::Truncated);
  EXPECT_EQ(parse(Bytes(good.begin(), good.end() - 1)), FrameDrop::Truncated);  // IP total length past the end

  Bytes arp = good;
  arp[12] = 0x08;
  arp[13] = 0x06;
  EXPECT_EQ(parse(arp), FrameDrop::NotIpv4);
  Bytes vlan = good;
  vlan[12] = 0x81;
  vlan[13] = 0x00;
  EXPECT_EQ(parse(vlan), FrameDrop::NotIpv4);

  Bytes v6 = good;
  v6[kEthernetHeaderSize] = 0x65;
  EXPECT_EQ(parse(v6), FrameDrop::BadIpHeader);
  Bytes short_ihl = good;
  short_ihl[kEthernetHeaderSize] = 0x44;
  EXPECT_EQ(parse(short_ihl), FrameDrop::BadIpHeader);
  Bytes options = good;
  options[kEthernetHeaderSize] = 0x46;
  EXPECT_EQ(parse(options), FrameDrop::IpOptions);

  Bytes bad_ip_sum = good;
  bad_ip_sum[kEthernetHeaderSize + 8] = 63;  // TTL changed, checksum not
  EXPECT_EQ(parse(bad_ip_sum), FrameDrop::IpChecksum);

  Bytes more_fragments = good;
  more_fragments[kEthernetHeaderSize + 6] = 0x20;
  fix_ip_checksum(more_fragments);
  EXPECT_EQ(parse(more_fragments), FrameDrop::Fragment);
  Bytes offset = good;
  offset[kEthernetHeaderSize + 6] = 0x00;
  offset[kEthernetHeaderSize + 7] = 0x10;
  fix_ip_checksum(offset);
  EXPECT_EQ(parse(offset), FrameDrop::Fragment);

  Bytes tcp = good;
  tcp[kEthernetHeaderSize + 9] = 6;
  fix_ip_checksum(tcp);
  EXPECT_EQ(parse(tcp), FrameDrop::NotUdp);

  Bytes udp_len = good;
  udp_len[kEthernetHeaderSize + kIpv4HeaderSize + 5] ^= 1;
  EXPECT_EQ(parse(udp_len), FrameDrop::UdpLength);

  Bytes bad_udp_sum = good;
  bad_udp_sum.back() ^= 0x40;  // a payload byte
  EXPECT_EQ(parse(bad_udp_sum), FrameDrop::UdpChecksum);

  Bytes other_port = reference_frame(kPayload);
  UdpDatagram d{};
  EXPECT_EQ(parse_udp_frame(other_port, test::kServerIp, 9999, d), FrameDrop::NotForUs);
  EXPECT_EQ(parse_udp_frame(other_port, 0x0A000063, test::kServerPort, d), FrameDrop::NotForUs);
}

TEST(PacketTest, RefusesToBuildIntoATooSmallBuffer) {
  Bytes out(kMinFrameSize - 1);
  EXPECT_EQ(build_udp_frame(test::client_to_server(), 1, kPayload, out), 0u);
}

TEST(PacketTest, ParsesDottedQuads) {
  std::uint32_t ip = 0;
  EXPECT_TRUE(parse_ipv4("10.0.0.1", ip));
  EXPECT_EQ(ip, 0x0A000001u);
  EXPECT_TRUE(parse_ipv4("255.255.255.255", ip));
  EXPECT_EQ(ip, 0xFFFFFFFFu);
  for (const char* bad : {"", "10.0.0", "10.0.0.256", "10.0.0.1.", "a.b.c.d", "10..0.1", "1000.0.0.1", "10.0.0.1 "})
    EXPECT_FALSE(parse_ipv4(bad, ip)) << bad;
}

}  // namespace
}  // namespace peregrine::ingress
