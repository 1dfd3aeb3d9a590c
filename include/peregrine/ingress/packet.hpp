#pragma once
/// Ethernet II / IPv4 / UDP frames, without I/O: the DPDK ingress parses every received frame
/// with parse_udp_frame() and builds every reply with build_udp_frame(). Pure functions over
/// bytes: no allocation, no exceptions, any thread. Unit-tested and fuzzed without DPDK.
///
/// parse_udp_frame() accepts exactly: Ethernet II with EtherType 0x0800 (no VLAN tag), IPv4 with
/// a 20-byte header (IHL 5: options are dropped), a correct header checksum, total length within
/// the frame (Ethernet padding after it is ignored), not a fragment (MF clear, offset 0), protocol
/// 17; UDP with length = IP payload length and, when its checksum field is not 0, a correct
/// checksum over the pseudo-header. Anything else is dropped with a reason (docs/protocol.md).

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace peregrine::ingress {

using MacAddress = std::array<std::uint8_t, 6>;

inline constexpr std::size_t kEthernetHeaderSize = 14;
inline constexpr std::size_t kIpv4HeaderSize = 20;
inline constexpr std::size_t kUdpHeaderSize = 8;
inline constexpr std::size_t kUdpFrameOverhead = kEthernetHeaderSize + kIpv4HeaderSize + kUdpHeaderSize;
/// Ethernet payloads shorter than this are padded (the minimum frame without FCS is 60 bytes).
inline constexpr std::size_t kMinFrameSize = 60;

/// Why a frame is not taken. Every value has a metrics label (to_string()).
enum class FrameDrop : std::uint8_t {
  None = 0,
  Truncated,       ///< shorter than the headers it announces
  NotIpv4,         ///< EtherType is not IPv4 (ARP, IPv6, VLAN-tagged, ...)
  BadIpHeader,     ///< version is not 4, or total length smaller than the header
  IpOptions,       ///< IHL > 5
  IpChecksum,      ///< header checksum wrong
  Fragment,        ///< MF set or a fragment offset: fragments are never reassembled
  NotUdp,          ///< IP protocol is not 17
  UdpLength,       ///< UDP length does not match the IP payload length
  UdpChecksum,     ///< UDP checksum present and wrong
  NotForUs,        ///< destination IP or UDP port is not the ingress's
  kCount
};

[[nodiscard]] constexpr std::string_view to_string(FrameDrop d) noexcept {
  switch (d) {
    case FrameDrop::None: return "none";
    case FrameDrop::Truncated: return "truncated";
    case FrameDrop::NotIpv4: return "not_ipv4";
    case FrameDrop::BadIpHeader: return "bad_ip_header";
    case FrameDrop::IpOptions: return "ip_options";
    case FrameDrop::IpChecksum: return "ip_checksum";
    case FrameDrop::Fragment: return "fragment";
    case FrameDrop::NotUdp: return "not_udp";
    case FrameDrop::UdpLength: return "udp_length";
    case FrameDrop::UdpChecksum: return "udp_checksum";
    case FrameDrop::NotForUs: return "not_for_us";
    case FrameDrop::kCount: break;
  }
  return "unknown";
}

/// Addresses of one UDP datagram; IPv4 addresses and ports in host byte order.
struct UdpAddressing {
  MacAddress src_mac{};
  MacAddress dst_mac{};
  std::uint32_t src_ip = 0;
  std::uint32_t dst_ip = 0;
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
};

/// A parsed frame: its addresses and a view of the UDP payload inside the frame.
struct UdpDatagram {
  UdpAddressing addr;
  std::span<const std::uint8_t> payload;
};

/// Parses one frame (see the header comment for what is accepted). `local_ip` / `local_port`
/// filter the destination (0 = any). On FrameDrop::None `out` is filled.
[[nodiscard]] FrameDrop parse_udp_frame(std::span<const std::uint8_t> frame, std::uint32_t local_ip,
                                        std::uint16_t local_port, UdpDatagram& out) noexcept;

/// Writes Ethernet + IPv4 (TTL 64, DF set, `ip_id`) + UDP headers and the payload into `out`,
/// with both checksums; pads to kMinFrameSize. Returns the frame size, or 0 when `out` is too
/// small or the payload larger than an IPv4 datagram can hold.
[[nodiscard]] std::size_t build_udp_frame(const UdpAddressing& addr, std::uint16_t ip_id,
                                          std::span<const std::uint8_t> payload, std::span<std::uint8_t> out) noexcept;

/// RFC 1071 Internet checksum of `bytes` added to `sum` (not folded, not inverted).
[[nodiscard]] std::uint32_t checksum_add(std::span<const std::uint8_t> bytes, std::uint32_t sum) noexcept;
/// Folds and inverts a checksum_add() sum.
[[nodiscard]] std::uint16_t checksum_finish(std::uint32_t sum) noexcept;

/// "a.b.c.d" -> host-order address; false for anything else. (Inline: the configuration loader
/// uses it without linking the ingress.)
[[nodiscard]] constexpr bool parse_ipv4(std::string_view text, std::uint32_t& out) noexcept {
  std::uint32_t v = 0;
  int parts = 0;
  std::size_t i = 0;
  while (parts < 4) {
    if (i >= text.size() || text[i] < '0' || text[i] > '9') return false;
    std::uint32_t part = 0;
    std::size_t digits = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      part = part * 10 + static_cast<std::uint32_t>(text[i] - '0');
      if (++digits > 3 || part > 255) return false;
      ++i;
    }
    v = (v << 8) | part;
    ++parts;
    if (parts < 4) {
      if (i >= text.size() || text[i] != '.') return false;
      ++i;
    }
  }
  if (i != text.size()) return false;
  out = v;
  return true;
}

/// "aa:bb:cc:dd:ee:ff" (hex, either case) -> bytes; false for anything else.
[[nodiscard]] constexpr bool parse_mac(std::string_view text, MacAddress& out) noexcept {
  if (text.size() != 17) return false;
  MacAddress m{};
  for (std::size_t i = 0; i < 6; ++i) {
    std::uint8_t v = 0;
    for (std::size_t k = 0; k < 2; ++k) {
      const char c = text[i * 3 + k];
      const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
      if (d < 0) return false;
      v = static_cast<std::uint8_t>(v * 16 + d);
    }
    if (i < 5 && text[i * 3 + 2] != ':') return false;
    m[i] = v;
  }
  out = m;
  return true;
}

/// The Ethernet multicast MAC of an IPv4 multicast group (224.0.0.0/4): 01:00:5e and the
/// group's low 23 bits. False for a unicast address.
[[nodiscard]] constexpr bool multicast_mac(std::uint32_t group, MacAddress& out) noexcept {
  if ((group >> 28) != 0xE) return false;
  out = MacAddress{0x01, 0x00, 0x5e, static_cast<std::uint8_t>((group >> 16) & 0x7F),
                   static_cast<std::uint8_t>(group >> 8), static_cast<std::uint8_t>(group)};
  return true;
}

}  // namespace peregrine::ingress
