#pragma once
/// MoldUDP64 1.00 (Nasdaq): the UDP framing under ITCH 5.0.
///
/// Downstream packet: session (10, alphanumeric), sequence number of the first message (8),
/// message count (2), then `count` message blocks, each a 2-byte length and that many bytes.
/// Count 0 is a heartbeat (sequence = the next message's number), 0xFFFF is end of session;
/// neither carries blocks. Request packet (client to the re-request server): session (10),
/// sequence (8), requested message count (2). All integers big-endian.
///
/// Builder packs messages into one datagram up to an MTU; parse() validates a datagram (the
/// blocks must account for every byte, exactly `count` of them) so that MessageIterator can walk
/// it without further checks. No allocation, no exceptions. Builder: one thread at a time; the
/// free functions are pure (any thread).
/// Hand-written: no Debian 12 package speaks MoldUDP64, and a codec on the hot path must neither
/// allocate nor throw.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "peregrine/core/types.hpp"
#include "peregrine/proto/wire.hpp"

namespace peregrine::proto::mold {

using SessionId = Alpha<10>;

inline constexpr std::size_t kHeaderSize = 20;  ///< session 10 + sequence 8 + count 2
inline constexpr std::size_t kRequestSize = 20;
inline constexpr std::size_t kBlockHeaderSize = 2;
inline constexpr std::uint16_t kHeartbeatCount = 0;
inline constexpr std::uint16_t kEndOfSessionCount = 0xFFFF;
/// The most message blocks a packet can announce (0xFFFF means end of session).
inline constexpr std::uint16_t kMaxCount = 0xFFFE;
/// The largest message one block can carry.
inline constexpr std::size_t kMaxMessageSize = 0xFFFF;

/// Downstream packet header.
struct Header {
  SessionId session;
  std::uint64_t sequence;
  std::uint16_t count;
  friend constexpr bool operator==(const Header&, const Header&) noexcept = default;
};

/// Request (retransmission) packet.
struct Request {
  SessionId session;
  std::uint64_t sequence;  ///< first message wanted
  std::uint16_t count;     ///< how many messages
  friend constexpr bool operator==(const Request&, const Request&) noexcept = default;
};

enum class PacketKind : std::uint8_t { Messages, Heartbeat, EndOfSession };

/// A validated downstream packet: `blocks` are its message blocks, exactly `header.count` of them
/// (none for a heartbeat or end of session). Views the datagram.
struct Packet {
  Header header;
  PacketKind kind;
  std::span<const std::uint8_t> blocks;
};

enum class Status : std::uint8_t {
  Ok = 0,
  TooShort,       ///< fewer than 20 bytes
  Truncated,      ///< a block's length runs past the datagram, or fewer blocks than `count`
  TrailingBytes,  ///< bytes left after `count` blocks (or after a heartbeat / end of session)
  BadLength,      ///< a request packet that is not exactly 20 bytes
};

[[nodiscard]] constexpr std::string_view to_string(Status s) noexcept {
  switch (s) {
    case Status::Ok: return "ok";
    case Status::TooShort: return "too_short";
    case Status::Truncated: return "truncated";
    case Status::TrailingBytes: return "trailing_bytes";
    case Status::BadLength: return "bad_length";
  }
  return "unknown";
}

/// Writes a 20-byte header (downstream) at the front of `out`; 0 if `out` is too small.
[[nodiscard]] constexpr std::size_t encode_header(const Header& h, std::span<std::uint8_t> out) noexcept {
  if (out.size() < kHeaderSize) return 0;
  wire::Writer(out.data()).alpha(h.session).u64(h.sequence).u16(h.count);
  return kHeaderSize;
}

/// A heartbeat: `next_sequence` is the sequence number of the next message to be sent.
[[nodiscard]] constexpr std::size_t encode_heartbeat(const SessionId& session, std::uint64_t next_sequence,
                                                     std::span<std::uint8_t> out) noexcept {
  return encode_header({session, next_sequence, kHeartbeatCount}, out);
}

/// End of session: `next_sequence` is one past the last message of the session.
[[nodiscard]] constexpr std::size_t encode_end_of_session(const SessionId& session, std::uint64_t next_sequence,
                                                          std::span<std::uint8_t> out) noexcept {
  return encode_header({session, next_sequence, kEndOfSessionCount}, out);
}

[[nodiscard]] constexpr std::size_t encode_request(const Request& r, std::span<std::uint8_t> out) noexcept {
  if (out.size() < kRequestSize) return 0;
  wire::Writer(out.data()).alpha(r.session).u64(r.sequence).u16(r.count);
  return kRequestSize;
}

/// Reads a 20-byte request packet; BadLength for any other size.
[[nodiscard]] Status parse_request(std::span<const std::uint8_t> in, Request& out) noexcept;

/// Validates a downstream datagram: header, then exactly `count` blocks covering every byte.
/// Out of line (src/proto/moldudp64.cpp): once per datagram, and GCC 12 at -O3 misreads the
/// inlined bounds check (-Warray-bounds false positive).
[[nodiscard]] Status parse(std::span<const std::uint8_t> in, Packet& out) noexcept;

/// Walks the message blocks of a packet that parse() accepted.
class MessageIterator {
 public:
  explicit constexpr MessageIterator(const Packet& p) noexcept : rest_(p.blocks), seq_(p.header.sequence) {}

  /// The next message and its sequence number; false after the last one.
  [[nodiscard]] constexpr bool next(std::span<const std::uint8_t>& message, std::uint64_t& sequence) noexcept {
    if (rest_.size() < kBlockHeaderSize) return false;
    const std::size_t len = wire::get_u16(rest_.data());
    if (rest_.size() - kBlockHeaderSize < len) return false;  // not a parse()d packet
    message = rest_.subspan(kBlockHeaderSize, len);
    rest_ = rest_.subspan(kBlockHeaderSize + len);
    sequence = seq_++;
    return true;
  }

 private:
  std::span<const std::uint8_t> rest_;
  std::uint64_t seq_;
};

/// Packs messages into one downstream datagram of at most `mtu` bytes (the UDP payload).
///
///   Builder b(buffer, 1400);
///   b.begin(session, next_seq);
///   while (b.add(msg)) { ... }      // false: this one does not fit; finish() and begin again
///   send(b.finish());               // the header's count is written here
class Builder {
 public:
  /// `buffer` holds the datagram; the usable size is min(buffer size, mtu).
  constexpr Builder(std::span<std::uint8_t> buffer, std::size_t mtu) noexcept
      : buf_(buffer.first(mtu < buffer.size() ? mtu : buffer.size())) {}

  /// Starts a packet whose first message will have `sequence`. False if not even the header fits.
  constexpr bool begin(const SessionId& session, std::uint64_t sequence) noexcept {
    if (buf_.size() < kHeaderSize) return false;
    header_ = {session, sequence, 0};
    size_ = kHeaderSize;
    return true;
  }

  /// Room for a message of `len` bytes: a pointer to write it to, or nullptr when it does not fit
  /// (MTU, or kMaxCount messages already). The block's length field is written here.
  [[nodiscard]] constexpr std::uint8_t* reserve(std::size_t len) noexcept {
    if (size_ < kHeaderSize || header_.count == kMaxCount || len > kMaxMessageSize) return nullptr;
    if (buf_.size() - size_ < kBlockHeaderSize + len) return nullptr;
    wire::put_u16(buf_.data() + size_, static_cast<std::uint16_t>(len));
    std::uint8_t* p = buf_.data() + size_ + kBlockHeaderSize;
    size_ += kBlockHeaderSize + len;
    ++header_.count;
    return p;
  }

  /// Copies `message` in as the next block; false when it does not fit.
  [[nodiscard]] constexpr bool add(std::span<const std::uint8_t> message) noexcept {
    std::uint8_t* p = reserve(message.size());
    if (p == nullptr) return false;
    for (std::size_t i = 0; i < message.size(); ++i) p[i] = message[i];
    return true;
  }

  /// Writes the header (with the final count) and returns the datagram. The builder is then empty
  /// until the next begin().
  [[nodiscard]] constexpr std::span<const std::uint8_t> finish() noexcept {
    if (size_ < kHeaderSize) return {};
    (void)encode_header(header_, buf_);
    const std::size_t n = size_;
    size_ = 0;
    return std::span<const std::uint8_t>(buf_.data(), n);
  }

  /// Messages in the packet being built.
  [[nodiscard]] constexpr std::uint16_t count() const noexcept { return header_.count; }
  /// Bytes of the packet being built (0 before begin()).
  [[nodiscard]] constexpr std::size_t size() const noexcept { return size_; }
  /// Sequence number the next packet should start at (after finish(): first + count).
  [[nodiscard]] constexpr std::uint64_t next_sequence() const noexcept { return header_.sequence + header_.count; }

 private:
  std::span<std::uint8_t> buf_;
  Header header_{};
  std::size_t size_ = 0;
};

}  // namespace peregrine::proto::mold
