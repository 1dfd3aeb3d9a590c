#include "peregrine/proto/moldudp64.hpp"

namespace peregrine::proto::mold {

Status parse_request(std::span<const std::uint8_t> in, Request& out) noexcept {
  if (in.size() != kRequestSize) return Status::BadLength;
  wire::Reader r(in.data());
  out.session = r.alpha<10>();
  out.sequence = r.u64();
  out.count = r.u16();
  return Status::Ok;
}

Status parse(std::span<const std::uint8_t> in, Packet& out) noexcept {
  if (in.size() < kHeaderSize) return Status::TooShort;
  wire::Reader r(in.data());
  Header h{};
  h.session = r.alpha<10>();
  h.sequence = r.u64();
  h.count = r.u16();
  const std::span<const std::uint8_t> blocks = in.subspan(kHeaderSize);
  if (h.count == kHeartbeatCount || h.count == kEndOfSessionCount) {
    if (!blocks.empty()) return Status::TrailingBytes;
    out = {h, h.count == kHeartbeatCount ? PacketKind::Heartbeat : PacketKind::EndOfSession, blocks};
    return Status::Ok;
  }
  std::size_t off = 0;
  for (std::uint32_t i = 0; i < h.count; ++i) {
    if (blocks.size() - off < kBlockHeaderSize) return Status::Truncated;
    const std::size_t len = wire::get_u16(blocks.data() + off);
    off += kBlockHeaderSize;
    if (blocks.size() - off < len) return Status::Truncated;
    off += len;
  }
  if (off != blocks.size()) return Status::TrailingBytes;
  out = {h, PacketKind::Messages, blocks};
  return Status::Ok;
}

}  // namespace peregrine::proto::mold
