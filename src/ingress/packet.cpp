#include "peregrine/ingress/packet.hpp"

#include <cstring>

namespace peregrine::ingress {

namespace {

constexpr std::uint16_t kEtherTypeIpv4 = 0x0800;
constexpr std::uint8_t kProtoUdp = 17;

constexpr std::uint16_t be16(const std::uint8_t* p) noexcept { return static_cast<std::uint16_t>((p[0] << 8) | p[1]); }
constexpr std::uint32_t be32(const std::uint8_t* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}
constexpr void put16(std::uint8_t* p, std::uint16_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
constexpr void put32(std::uint8_t* p, std::uint32_t v) noexcept {
  put16(p, static_cast<std::uint16_t>(v >> 16));
  put16(p + 2, static_cast<std::uint16_t>(v));
}

// The UDP pseudo-header sum: source, destination, protocol, UDP length.
std::uint32_t pseudo_header_sum(std::uint32_t src, std::uint32_t dst, std::uint16_t udp_length) noexcept {
  return (src >> 16) + (src & 0xFFFF) + (dst >> 16) + (dst & 0xFFFF) + kProtoUdp + udp_length;
}

}  // namespace

std::uint32_t checksum_add(std::span<const std::uint8_t> bytes, std::uint32_t sum) noexcept {
  std::size_t i = 0;
  const std::size_t n = bytes.size();
  for (; i + 1 < n; i += 2) {
    sum += static_cast<std::uint32_t>((bytes[i] << 8) | bytes[i + 1]);
    if (sum & 0x80000000u) sum = (sum & 0xFFFF) + (sum >> 16);
  }
  if (i < n) sum += static_cast<std::uint32_t>(bytes[i] << 8);
  return sum;
}

std::uint16_t checksum_finish(std::uint32_t sum) noexcept {
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum & 0xFFFF);
}

FrameDrop parse_udp_frame(std::span<const std::uint8_t> frame, std::uint32_t local_ip, std::uint16_t local_port,
                          UdpDatagram& out) noexcept {
  if (frame.size() < kEthernetHeaderSize) return FrameDrop::Truncated;
  const std::uint8_t* eth = frame.data();
  if (be16(eth + 12) != kEtherTypeIpv4) return FrameDrop::NotIpv4;
  const std::span<const std::uint8_t> l3 = frame.subspan(kEthernetHeaderSize);
  if (l3.size() < kIpv4HeaderSize) return FrameDrop::Truncated;
  const std::uint8_t* ip = l3.data();
  if ((ip[0] >> 4) != 4) return FrameDrop::BadIpHeader;
  const std::size_t ihl = static_cast<std::size_t>(ip[0] & 0x0F) * 4;
  if (ihl < kIpv4HeaderSize) return FrameDrop::BadIpHeader;
  if (ihl > kIpv4HeaderSize) return FrameDrop::IpOptions;
  const std::size_t total = be16(ip + 2);
  if (total < kIpv4HeaderSize) return FrameDrop::BadIpHeader;
  if (total > l3.size()) return FrameDrop::Truncated;
  if (checksum_finish(checksum_add(l3.first(kIpv4HeaderSize), 0)) != 0) return FrameDrop::IpChecksum;
  const std::uint16_t flags_offset = be16(ip + 6);
  if ((flags_offset & 0x2000) != 0 || (flags_offset & 0x1FFF) != 0) return FrameDrop::Fragment;
  if (ip[9] != kProtoUdp) return FrameDrop::NotUdp;
  const std::span<const std::uint8_t> l4 = l3.subspan(kIpv4HeaderSize, total - kIpv4HeaderSize);
  if (l4.size() < kUdpHeaderSize) return FrameDrop::Truncated;
  const std::uint8_t* udp = l4.data();
  const std::uint16_t udp_length = be16(udp + 4);
  if (udp_length != l4.size()) return FrameDrop::UdpLength;
  const std::uint32_t src_ip = be32(ip + 12);
  const std::uint32_t dst_ip = be32(ip + 16);
  if (be16(udp + 6) != 0) {  // 0: the sender computed no checksum (allowed over IPv4)
    const std::uint32_t sum = checksum_add(l4, pseudo_header_sum(src_ip, dst_ip, udp_length));
    if (checksum_finish(sum) != 0) return FrameDrop::UdpChecksum;
  }
  const std::uint16_t dst_port = be16(udp + 2);
  if ((local_ip != 0 && dst_ip != local_ip) || (local_port != 0 && dst_port != local_port)) return FrameDrop::NotForUs;
  std::memcpy(out.addr.dst_mac.data(), eth, 6);
  std::memcpy(out.addr.src_mac.data(), eth + 6, 6);
  out.addr.src_ip = src_ip;
  out.addr.dst_ip = dst_ip;
  out.addr.src_port = be16(udp);
  out.addr.dst_port = dst_port;
  out.payload = l4.subspan(kUdpHeaderSize);
  return FrameDrop::None;
}

std::size_t build_udp_frame(const UdpAddressing& a, std::uint16_t ip_id, std::span<const std::uint8_t> payload,
                            std::span<std::uint8_t> out) noexcept {
  if (payload.size() > 0xFFFF - kIpv4HeaderSize - kUdpHeaderSize) return 0;
  const std::size_t size = kUdpFrameOverhead + payload.size();
  const std::size_t padded = size < kMinFrameSize ? kMinFrameSize : size;
  if (out.size() < padded) return 0;
  std::uint8_t* eth = out.data();
  std::memcpy(eth, a.dst_mac.data(), 6);
  std::memcpy(eth + 6, a.src_mac.data(), 6);
  put16(eth + 12, kEtherTypeIpv4);
  std::uint8_t* ip = eth + kEthernetHeaderSize;
  const auto udp_length = static_cast<std::uint16_t>(kUdpHeaderSize + payload.size());
  ip[0] = 0x45;
  ip[1] = 0;
  put16(ip + 2, static_cast<std::uint16_t>(kIpv4HeaderSize + udp_length));
  put16(ip + 4, ip_id);
  put16(ip + 6, 0x4000);  // DF
  ip[8] = 64;
  ip[9] = kProtoUdp;
  put16(ip + 10, 0);
  put32(ip + 12, a.src_ip);
  put32(ip + 16, a.dst_ip);
  put16(ip + 10, checksum_finish(checksum_add({ip, kIpv4HeaderSize}, 0)));
  std::uint8_t* udp = ip + kIpv4HeaderSize;
  put16(udp, a.src_port);
  put16(udp + 2, a.dst_port);
  put16(udp + 4, udp_length);
  put16(udp + 6, 0);
  if (!payload.empty()) std::memcpy(udp + kUdpHeaderSize, payload.data(), payload.size());
  std::uint16_t csum = checksum_finish(checksum_add({udp, udp_length}, pseudo_header_sum(a.src_ip, a.dst_ip, udp_length)));
  if (csum == 0) csum = 0xFFFF;  // 0 would mean "no checksum"
  put16(udp + 6, csum);
  if (padded > size) std::memset(eth + size, 0, padded - size);
  return padded;
}

}  // namespace peregrine::ingress
