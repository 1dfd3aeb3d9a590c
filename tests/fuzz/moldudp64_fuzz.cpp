// libFuzzer target: MoldUDP64. The input is one datagram. A datagram parse() accepts must walk to
// exactly `count` messages inside the input, each decodable (or refused) as ITCH 5.0 without
// incident, and the Builder must rebuild it byte for byte. Request parsing runs on every input.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "peregrine/proto/itch50.hpp"
#include "peregrine/proto/moldudp64.hpp"

using namespace peregrine::proto;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> in(data, size);
  mold::Request r{};
  if (mold::parse_request(in, r) == mold::Status::Ok) {
    std::uint8_t out[mold::kRequestSize];
    if (mold::encode_request(r, out) != size || std::memcmp(out, data, size) != 0) std::abort();
  }

  mold::Packet p{};
  if (mold::parse(in, p) != mold::Status::Ok) return 0;
  if (p.blocks.data() < data || p.blocks.data() + p.blocks.size() != data + size) std::abort();

  std::vector<std::uint8_t> buf(size);
  mold::Builder b(buf, size);
  if (!b.begin(p.header.session, p.header.sequence)) std::abort();
  mold::MessageIterator it(p);
  std::span<const std::uint8_t> msg;
  std::uint64_t seq = 0;
  std::uint32_t n = 0;
  while (it.next(msg, seq)) {
    if (msg.data() < data || msg.data() + msg.size() > data + size) std::abort();
    if (seq != p.header.sequence + n) std::abort();
    itch::Message m{};
    (void)itch::decode(msg, m);
    if (!b.add(msg)) std::abort();
    ++n;
  }
  if (p.kind == mold::PacketKind::Messages) {
    if (n != p.header.count) std::abort();
    const auto again = b.finish();
    if (again.size() != size || std::memcmp(again.data(), data, size) != 0) std::abort();
  } else if (n != 0) {
    std::abort();
  }
  return 0;
}
