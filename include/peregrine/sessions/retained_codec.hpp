#pragma once
/// The snapshot form of a retention buffer, written once for both kinds: the OUCH users'
/// RetransmitBuffer (sessions) and the ITCH stream's ItchBuffer (egress). The first retained
/// sequence number (u64), the record count (u64), then each record as a u8 size and its bytes.
/// The retention itself is configuration, not state.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "peregrine/core/serial.hpp"

namespace peregrine::sessions {

/// Appends what `buffer` retains: it has first_retained(), next_seq() and get(seq).
template <class Buffer>
void save_retained(const Buffer& buffer, ByteWriter& w) {
  const std::uint64_t first = buffer.first_retained();
  const std::uint64_t next = buffer.next_seq();
  w.u64(first);
  w.u64(next - first);
  for (std::uint64_t seq = first; seq < next; ++seq) {
    const std::span<const std::uint8_t> r = buffer.get(seq);
    w.u8(static_cast<std::uint8_t>(r.size()));
    w.bytes(r.data(), r.size());
  }
}

/// Reads what save_retained() wrote into a buffer that keeps `retention` records of at most
/// `MaxSize` bytes: `restart(first)` empties it to start at `first`, then `append(bytes)` takes
/// each record in order. False, with the reason in `error`, on truncated or malformed input or
/// more records than the retention; what was appended until then is unspecified.
template <std::size_t MaxSize, class Restart, class Append>
bool load_retained(ByteReader& in, std::uint64_t retention, std::string& error, Restart&& restart, Append&& append) {
  static_assert(MaxSize <= 255, "sizes are stored in one byte");
  auto fail = [&error](const char* what) {
    error = what;
    return false;
  };
  const std::uint64_t first = in.u64();
  const std::uint64_t count = in.u64();
  if (!in.ok()) return fail("truncated retransmit buffer header");
  if (first == 0 || first > (std::uint64_t{1} << 62) || count > (std::uint64_t{1} << 62))
    return fail("retransmit buffer sequence out of range");
  if (count > retention) return fail("retransmit buffer holds more records than its retention");
  if (!in.can_hold(count, 1)) return fail("retransmit buffer record count exceeds the input");
  restart(first);
  for (std::uint64_t i = 0; i < count; ++i) {
    std::array<std::uint8_t, MaxSize> bytes{};
    const std::uint8_t size = in.u8();
    if (size > MaxSize) return fail("retransmit buffer record longer than the largest message");
    in.bytes(bytes.data(), size);
    if (!in.ok()) return fail("truncated retransmit buffer record");
    append(std::span<const std::uint8_t>(bytes.data(), size));
  }
  return true;
}

}  // namespace peregrine::sessions
