#pragma once
// Builders for UDP order-entry tests: OUCH messages in MoldUDP64 packets in Ethernet frames.
// Test code: allocates freely.

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "peregrine/ingress/packet.hpp"
#include "peregrine/proto/moldudp64.hpp"
#include "peregrine/proto/ouch42.hpp"

namespace peregrine::ingress::test {

namespace ouch = proto::ouch;
namespace mold = proto::mold;

using Bytes = std::vector<std::uint8_t>;

inline Bytes enter_order(std::string_view token, char side = 'B', std::uint32_t shares = 100,
                         std::uint32_t price = 17'000'000, std::string_view stock = "600519",
                         std::string_view firm = "") {
  const ouch::EnterOrder m = ouch::plain_enter_order(Token::from(token), side, shares, Symbol::from(stock), price,
                                                     ouch::kTifMarketHours, FirmName::from(firm));
  Bytes b(ouch::kEnterOrderSize);
  b.resize(ouch::encode(m, b));
  return b;
}

inline Bytes cancel_order(std::string_view token, std::uint32_t shares = 0) {
  ouch::CancelOrder m{};
  m.token = Token::from(token);
  m.shares = shares;
  Bytes b(ouch::kCancelOrderSize);
  b.resize(ouch::encode(m, b));
  return b;
}

/// A MoldUDP64 packet: header (session, first sequence, count = messages.size()) and blocks.
inline Bytes mold_packet(std::string_view session, std::uint64_t seq, const std::vector<Bytes>& messages) {
  Bytes out(2048);
  mold::Builder b(out, out.size());
  (void)b.begin(mold::SessionId::from(session), seq);
  for (const Bytes& m : messages) (void)b.add(m);
  const auto d = b.finish();
  return Bytes(d.begin(), d.end());
}

inline Bytes mold_header(std::string_view session, std::uint64_t seq, std::uint16_t count) {
  Bytes out(mold::kHeaderSize);
  (void)mold::encode_header({mold::SessionId::from(session), seq, count}, out);
  return out;
}

inline constexpr std::uint32_t kClientIp = 0x0A000002;  // 10.0.0.2
inline constexpr std::uint32_t kServerIp = 0x0A000001;  // 10.0.0.1
inline constexpr std::uint16_t kClientPort = 40000;
inline constexpr std::uint16_t kServerPort = 9010;
inline constexpr MacAddress kClientMac{0x02, 0, 0, 0, 0, 2};
inline constexpr MacAddress kServerMac{0x02, 0, 0, 0, 0, 1};

inline UdpAddressing client_to_server(std::uint16_t src_port = kClientPort) {
  return UdpAddressing{kClientMac, kServerMac, kClientIp, kServerIp, src_port, kServerPort};
}

inline Bytes frame(const UdpAddressing& a, std::span<const std::uint8_t> payload, std::uint16_t id = 1) {
  Bytes out(kUdpFrameOverhead + payload.size() + kMinFrameSize);
  out.resize(build_udp_frame(a, id, payload, out));
  return out;
}

}  // namespace peregrine::ingress::test
