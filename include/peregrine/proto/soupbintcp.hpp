#pragma once
/// SoupBinTCP 3.00 (Nasdaq): the framing under OUCH. Every logical packet is a 2-byte big-endian
/// length (of what follows: the type byte and the payload), a 1-byte packet type and the payload.
///
/// - Encoders write one packet into a caller buffer and return its size, or 0 when the buffer is
///   too small. No allocation.
/// - parse_frame() looks at the front of a byte range; StreamDecoder turns a TCP byte stream into
///   packets, buffering only a packet split across reads, with precise errors. Neither ever
///   reads out of bounds, whatever the input (fuzzed: tests/fuzz/soupbintcp_ouch_fuzz.cpp).
///
/// Field encodings (docs/protocol.md): usernames and passwords are left-justified, padded on the
/// right with spaces; the session and sequence number of Login Accepted are "left padded with
/// spaces" (right-justified), and we write the Login Request's requested session and sequence the
/// same way. Decoders accept either justification.
/// Single-threaded per object; free functions are pure and may run on any thread.
/// Hand-written: no Debian 12 package speaks SoupBinTCP, and a codec on the hot path must neither
/// allocate nor throw.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "peregrine/core/types.hpp"
#include "peregrine/proto/wire.hpp"

namespace peregrine::proto::soup {

/// Packet type byte.
enum class PacketType : std::uint8_t {
  Debug = '+',            ///< either direction: free text
  LoginAccepted = 'A',    ///< server: session, next sequence number
  LoginRejected = 'J',    ///< server: reason
  SequencedData = 'S',    ///< server: one higher-level message (OUCH outbound), implicitly numbered
  ServerHeartbeat = 'H',  ///< server
  EndOfSession = 'Z',     ///< server
  LoginRequest = 'L',     ///< client: username, password, session, sequence number
  UnsequencedData = 'U',  ///< client: one higher-level message (OUCH inbound)
  ClientHeartbeat = 'R',  ///< client
  LogoutRequest = 'O',    ///< client
};

/// Login Rejected reason codes.
enum class LoginRejectReason : std::uint8_t {
  NotAuthorized = 'A',        ///< bad username or password
  SessionNotAvailable = 'S',  ///< the requested session is not (or no longer) available
};

/// Which side of the connection is decoding: the packets the *other* side may send are accepted.
enum class Role : std::uint8_t {
  Server,  ///< decodes what clients send: L U R O +
  Client,  ///< decodes what servers send: A J S H Z +
  Any,     ///< accepts every packet type (tools, tests, capture readers)
};

using SessionId = Alpha<10>;
using Username = Alpha<6>;
using Password = Alpha<10>;

inline constexpr std::size_t kLengthFieldSize = 2;
inline constexpr std::size_t kHeaderSize = 3;  ///< length + type
/// Largest value of the length field (it counts the type byte and the payload).
inline constexpr std::size_t kMaxPacketLength = 65535;
inline constexpr std::size_t kLoginAcceptedPayload = 30;  ///< session 10 + sequence 20
inline constexpr std::size_t kLoginRejectedPayload = 1;
inline constexpr std::size_t kLoginRequestPayload = 46;  ///< user 6 + password 10 + session 10 + sequence 20
/// Whole-packet sizes of the fixed-size packets, length field included.
inline constexpr std::size_t kLoginAcceptedSize = kHeaderSize + kLoginAcceptedPayload;  // 33
inline constexpr std::size_t kLoginRejectedSize = kHeaderSize + kLoginRejectedPayload;  // 4
inline constexpr std::size_t kLoginRequestSize = kHeaderSize + kLoginRequestPayload;    // 49
inline constexpr std::size_t kEmptyPacketSize = kHeaderSize;  ///< heartbeats, end of session, logout

/// Login Request 'L' payload.
struct LoginRequest {
  Username username;
  Password password;
  SessionId session;     ///< all spaces: the currently active session
  std::uint64_t sequence;  ///< next sequence number wanted; 0: from the most recent message on
  friend constexpr bool operator==(const LoginRequest&, const LoginRequest&) noexcept = default;
};

/// Login Accepted 'A' payload.
struct LoginAccepted {
  SessionId session;
  std::uint64_t sequence;  ///< sequence number of the next Sequenced Data packet
  friend constexpr bool operator==(const LoginAccepted&, const LoginAccepted&) noexcept = default;
};

/// One complete packet, as a view: `payload` is what follows the type byte. It points into the
/// decoder's buffer or the caller's input and is valid until the next poll() or feed().
struct Packet {
  PacketType type;
  std::span<const std::uint8_t> payload;
};

/// What parse_frame() / StreamDecoder::poll() found.
enum class DecodeStatus : std::uint8_t {
  Ok = 0,
  NeedMore,        ///< no complete packet yet; feed more bytes
  ZeroLength,      ///< length field 0: no room for a type byte. Framing lost (sticky).
  TooLong,         ///< length field above the configured maximum. Framing lost (sticky).
  UnknownType,     ///< type byte is not a SoupBinTCP 3.00 packet type (packet skipped)
  UnexpectedType,  ///< a type the decoding role never receives, e.g. 'S' sent by a client (skipped)
  BadLength,       ///< wrong length for a fixed-size type (packet skipped)
  BadField,        ///< (payload decoders) a numeric field is not ASCII digits
  BufferTooSmall,  ///< (encoders) the output does not hold the packet
};

/// A short stable name, for logs and metrics labels.
[[nodiscard]] constexpr std::string_view to_string(DecodeStatus s) noexcept {
  switch (s) {
    case DecodeStatus::Ok: return "ok";
    case DecodeStatus::NeedMore: return "need_more";
    case DecodeStatus::ZeroLength: return "zero_length";
    case DecodeStatus::TooLong: return "too_long";
    case DecodeStatus::UnknownType: return "unknown_type";
    case DecodeStatus::UnexpectedType: return "unexpected_type";
    case DecodeStatus::BadLength: return "bad_length";
    case DecodeStatus::BadField: return "bad_field";
    case DecodeStatus::BufferTooSmall: return "buffer_too_small";
  }
  return "unknown";
}

/// True for the errors after which the byte stream can no longer be framed.
[[nodiscard]] constexpr bool is_sticky(DecodeStatus s) noexcept {
  return s == DecodeStatus::ZeroLength || s == DecodeStatus::TooLong;
}

/// True when `t` is a SoupBinTCP 3.00 packet type.
[[nodiscard]] constexpr bool is_known_type(std::uint8_t t) noexcept {
  switch (t) {
    case '+': case 'A': case 'J': case 'S': case 'H': case 'Z': case 'L': case 'U': case 'R': case 'O':
      return true;
    default:
      return false;
  }
}

/// True when a peer in `role` may receive packet type `t` (Debug goes both ways).
[[nodiscard]] constexpr bool receives(Role role, PacketType t) noexcept {
  switch (t) {
    case PacketType::Debug: return true;
    case PacketType::LoginAccepted:
    case PacketType::LoginRejected:
    case PacketType::SequencedData:
    case PacketType::ServerHeartbeat:
    case PacketType::EndOfSession: return role != Role::Server;
    case PacketType::LoginRequest:
    case PacketType::UnsequencedData:
    case PacketType::ClientHeartbeat:
    case PacketType::LogoutRequest: return role != Role::Client;
  }
  return false;
}

/// Payload size of a fixed-size type, or -1 for the variable ones (Debug, S, U).
[[nodiscard]] constexpr int fixed_payload_size(PacketType t) noexcept {
  switch (t) {
    case PacketType::LoginAccepted: return static_cast<int>(kLoginAcceptedPayload);
    case PacketType::LoginRejected: return static_cast<int>(kLoginRejectedPayload);
    case PacketType::LoginRequest: return static_cast<int>(kLoginRequestPayload);
    case PacketType::ServerHeartbeat:
    case PacketType::EndOfSession:
    case PacketType::ClientHeartbeat:
    case PacketType::LogoutRequest: return 0;
    case PacketType::Debug:
    case PacketType::SequencedData:
    case PacketType::UnsequencedData: return -1;
  }
  return -1;
}

/// Result of parse_frame(): the status and a size. Ok and the skippable errors (UnknownType,
/// UnexpectedType, BadLength): `size` is the whole packet, length field included. NeedMore:
/// `size` is how many bytes the packet needs in all (2 while the length is unknown). Sticky
/// errors: 0.
struct FrameResult {
  DecodeStatus status;
  std::size_t size;
};

/// Frames the packet at the front of `in`. On Ok, and on the skippable errors, `out` views it.
/// `max_length` bounds the length field (at most kMaxPacketLength).
[[nodiscard]] constexpr FrameResult parse_frame(std::span<const std::uint8_t> in, Role role,
                                                std::size_t max_length, Packet& out) noexcept {
  if (in.size() < kLengthFieldSize) return {DecodeStatus::NeedMore, kLengthFieldSize};
  const std::size_t len = wire::get_u16(in.data());
  if (len == 0) return {DecodeStatus::ZeroLength, 0};
  if (len > max_length) return {DecodeStatus::TooLong, 0};
  const std::size_t total = kLengthFieldSize + len;
  if (in.size() < total) return {DecodeStatus::NeedMore, total};
  const std::uint8_t t = in[2];
  out.type = static_cast<PacketType>(t);
  out.payload = in.subspan(kHeaderSize, len - 1);
  if (!is_known_type(t)) return {DecodeStatus::UnknownType, total};
  if (!receives(role, out.type)) return {DecodeStatus::UnexpectedType, total};
  const int fixed = fixed_payload_size(out.type);
  if (fixed >= 0 && static_cast<std::size_t>(fixed) != len - 1) return {DecodeStatus::BadLength, total};
  return {DecodeStatus::Ok, total};
}

/// Turns a TCP byte stream into SoupBinTCP packets without allocating per packet.
///
/// Usage: feed() the bytes of one read, then poll() until it returns NeedMore (which means every
/// fed byte has been taken). Complete packets are returned as views into the fed bytes where
/// possible; only a packet split across reads is copied, into a buffer of max_length + 2 bytes
/// allocated once by the constructor.
///
/// Errors: ZeroLength and TooLong lose the framing: the decoder returns the same error until
/// reset(), dropping whatever is fed meanwhile (so feed() keeps accepting reads). UnknownType,
/// UnexpectedType and BadLength consume the offending packet (`out` views it, for logging) and
/// decoding goes on. A server should end the session on any error.
/// One thread at a time (the session's).
class StreamDecoder {
 public:
  /// `max_length` bounds the length field; values above kMaxPacketLength are clamped, 0 becomes 1.
  explicit StreamDecoder(Role role, std::size_t max_length = kMaxPacketLength);

  /// Hands the decoder the next bytes of the stream. They must stay valid and unchanged until
  /// poll() returns NeedMore or a sticky error. Returns false, taking nothing, when the previous
  /// bytes have not been drained yet.
  [[nodiscard]] bool feed(std::span<const std::uint8_t> bytes) noexcept;

  /// The next complete packet (Ok; `out` valid until the next poll() or feed()), NeedMore, or an
  /// error (see the class comment).
  [[nodiscard]] DecodeStatus poll(Packet& out) noexcept;

  /// Feeds the bytes of one read and hands every complete packet to `on_packet(const Packet&)`,
  /// which returns false to stop (the session closed). Returns Ok when the bytes were used up or
  /// the callback stopped, else the first decode error (the session should end). The one loop
  /// every server session runs over its reads.
  template <typename OnPacket>
  [[nodiscard]] DecodeStatus dispatch(std::span<const std::uint8_t> bytes, OnPacket&& on_packet) {
    if (!feed(bytes)) return DecodeStatus::ZeroLength;  // earlier bytes not drained: framing lost
    Packet p;
    for (;;) {
      const DecodeStatus st = poll(p);
      if (st == DecodeStatus::NeedMore) return DecodeStatus::Ok;
      if (st != DecodeStatus::Ok) return st;
      if (!on_packet(static_cast<const Packet&>(p))) return DecodeStatus::Ok;
    }
  }

  /// Forgets buffered bytes, pending input and a sticky error (for a new connection).
  void reset() noexcept;

  /// Bytes of an incomplete packet held in the internal buffer.
  [[nodiscard]] std::size_t buffered() const noexcept { return staged_; }
  [[nodiscard]] std::size_t max_length() const noexcept { return max_; }
  [[nodiscard]] Role role() const noexcept { return role_; }

 private:
  Role role_;
  std::size_t max_;
  std::unique_ptr<std::uint8_t[]> buf_;
  std::size_t staged_ = 0;
  const std::uint8_t* in_ = nullptr;
  std::size_t in_size_ = 0;
  DecodeStatus sticky_ = DecodeStatus::Ok;
};

// --- payload decoders ----------------------------------------------------------------------

/// Reads a Login Request payload (`p.type` must be LoginRequest and the packet framed Ok).
/// Session comes back left-justified. BadField if the sequence number is not a number.
[[nodiscard]] constexpr DecodeStatus decode_login_request(const Packet& p, LoginRequest& out) noexcept {
  if (p.type != PacketType::LoginRequest || p.payload.size() != kLoginRequestPayload) {
    return DecodeStatus::BadLength;
  }
  wire::Reader r(p.payload.data());
  out.username = r.alpha<6>();
  out.password = r.alpha<10>();
  out.session = wire::left_justified(r.alpha<10>());
  if (!wire::get_numeric(r.pos(), 20, out.sequence)) return DecodeStatus::BadField;
  return DecodeStatus::Ok;
}

/// Reads a Login Accepted payload. Session comes back left-justified.
[[nodiscard]] constexpr DecodeStatus decode_login_accepted(const Packet& p, LoginAccepted& out) noexcept {
  if (p.type != PacketType::LoginAccepted || p.payload.size() != kLoginAcceptedPayload) {
    return DecodeStatus::BadLength;
  }
  wire::Reader r(p.payload.data());
  out.session = wire::left_justified(r.alpha<10>());
  if (!wire::get_numeric(r.pos(), 20, out.sequence)) return DecodeStatus::BadField;
  return DecodeStatus::Ok;
}

// --- encoders: each returns the packet size written, or 0 if `out` is too small -------------

/// Writes the 3-byte header of a packet whose payload (after the type) is `payload_size` bytes.
/// For building Sequenced/Unsequenced Data in place: write the header, then the message after it.
/// Returns 0 if `out` is too small or the payload does not fit the length field.
[[nodiscard]] constexpr std::size_t encode_header(PacketType t, std::size_t payload_size,
                                                  std::span<std::uint8_t> out) noexcept {
  if (out.size() < kHeaderSize || payload_size + 1 > kMaxPacketLength) return 0;
  wire::put_u16(out.data(), static_cast<std::uint16_t>(payload_size + 1));
  out[2] = static_cast<std::uint8_t>(t);
  return kHeaderSize;
}

/// A packet of type `t` carrying `payload` (Debug, Sequenced Data, Unsequenced Data).
[[nodiscard]] constexpr std::size_t encode_with_payload(PacketType t, std::span<const std::uint8_t> payload,
                                                        std::span<std::uint8_t> out) noexcept {
  if (out.size() < kHeaderSize + payload.size()) return 0;
  if (encode_header(t, payload.size(), out) == 0) return 0;
  for (std::size_t i = 0; i < payload.size(); ++i) out[kHeaderSize + i] = payload[i];
  return kHeaderSize + payload.size();
}

[[nodiscard]] constexpr std::size_t encode_sequenced_data(std::span<const std::uint8_t> message,
                                                          std::span<std::uint8_t> out) noexcept {
  return encode_with_payload(PacketType::SequencedData, message, out);
}

[[nodiscard]] constexpr std::size_t encode_unsequenced_data(std::span<const std::uint8_t> message,
                                                            std::span<std::uint8_t> out) noexcept {
  return encode_with_payload(PacketType::UnsequencedData, message, out);
}

[[nodiscard]] inline std::size_t encode_debug(std::string_view text, std::span<std::uint8_t> out) noexcept {
  return encode_with_payload(PacketType::Debug, wire::bytes_of(text), out);
}

/// A packet with no payload: ServerHeartbeat, EndOfSession, ClientHeartbeat or LogoutRequest.
[[nodiscard]] constexpr std::size_t encode_empty(PacketType t, std::span<std::uint8_t> out) noexcept {
  return encode_header(t, 0, out);
}

/// Login Accepted: session right-justified, sequence number right-justified, both space-padded.
[[nodiscard]] constexpr std::size_t encode_login_accepted(const LoginAccepted& m,
                                                          std::span<std::uint8_t> out) noexcept {
  if (out.size() < kLoginAcceptedSize) return 0;
  (void)encode_header(PacketType::LoginAccepted, kLoginAcceptedPayload, out);
  wire::Writer w(out.data() + kHeaderSize);
  w.alpha(wire::right_justified(m.session));
  if (!wire::put_numeric(w.pos(), 20, m.sequence)) return 0;  // cannot happen: 2^64 has 20 digits
  return kLoginAcceptedSize;
}

[[nodiscard]] constexpr std::size_t encode_login_rejected(LoginRejectReason reason,
                                                          std::span<std::uint8_t> out) noexcept {
  if (out.size() < kLoginRejectedSize) return 0;
  (void)encode_header(PacketType::LoginRejected, kLoginRejectedPayload, out);
  out[kHeaderSize] = static_cast<std::uint8_t>(reason);
  return kLoginRejectedSize;
}

/// Login Request: username and password left-justified; session and sequence right-justified.
[[nodiscard]] constexpr std::size_t encode_login_request(const LoginRequest& m,
                                                         std::span<std::uint8_t> out) noexcept {
  if (out.size() < kLoginRequestSize) return 0;
  (void)encode_header(PacketType::LoginRequest, kLoginRequestPayload, out);
  wire::Writer w(out.data() + kHeaderSize);
  w.alpha(wire::left_justified(m.username)).alpha(wire::left_justified(m.password));
  w.alpha(wire::right_justified(m.session));
  if (!wire::put_numeric(w.pos(), 20, m.sequence)) return 0;
  return kLoginRequestSize;
}

}  // namespace peregrine::proto::soup
