#pragma once
/// The replication stream between a leader and its standby (issue #15; docs/ha.md,
/// "Replication wire format"): the codec and the epoch rules, sans I/O. Nothing here opens a
/// socket yet; the journal writer's stream and the standby's applier come next.
///
/// One TCP connection, frames both ways, every integer little-endian:
///
///   frame  u32 length (bytes after this field) | u32 CRC32C of the bytes after it
///          | u8 type | u64 epoch | body
///   'S' Subscribe  standby -> leader   u32 version (kVersion) | u64 highest seq held
///                                      | u64 config fingerprint (journal::config_fingerprint)
///   'R' Record     leader -> standby   u64 seq | u8 kind (journal::RecordKind) | payload: one
///                                      journal record, byte for byte (1..kMaxPayload bytes)
///   'H' Heartbeat  leader -> standby   u64 last seq written by the leader | u64 leader's clock
///                                      (Unix ns, for the lag in seconds)
///   'A' Ack        standby -> leader   u64 highest seq held (appended to its own journal)
///
/// The epoch in every frame is the sender's: the leader's (leaseTransitions of its Lease, see
/// peregrine/ha/lease.hpp) on Record and Heartbeat; on Subscribe and Ack, the newest epoch the
/// standby has accepted. StandbyGate and LeaderAckGate apply the rules that make a deposed
/// leader harmless: a standby refuses records from an older epoch, and a leader that sees a
/// newer epoch in an Ack knows it is deposed and acknowledges nothing more.
///
/// Threads: plain functions and values; a gate belongs to one thread (the connection's).

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace peregrine::ha::repl {

inline constexpr std::uint32_t kVersion = 1;
/// length + CRC + type + epoch.
inline constexpr std::size_t kFrameHeaderSize = 4 + 4 + 1 + 8;
/// The largest record payload (a command is 64 bytes; the largest journal record today is 64).
inline constexpr std::size_t kMaxPayload = 4096;
inline constexpr std::size_t kRecordBodyHeader = 8 + 1;
/// The largest frame on the wire.
inline constexpr std::size_t kMaxFrameSize = kFrameHeaderSize + kRecordBodyHeader + kMaxPayload;

enum class FrameType : std::uint8_t { Subscribe = 'S', Record = 'R', Heartbeat = 'H', Ack = 'A' };

/// One decoded frame. `payload` points into the decoded input (Record only).
struct Frame {
  FrameType type = FrameType::Heartbeat;
  std::uint64_t epoch = 0;
  std::uint64_t seq = 0;  ///< Record: its seq; Heartbeat: last written; Ack, Subscribe: highest held
  std::uint8_t kind = 0;  ///< Record: journal::RecordKind
  std::span<const std::uint8_t> payload;  ///< Record
  std::uint64_t leader_time_ns = 0;       ///< Heartbeat
  std::uint32_t version = 0;              ///< Subscribe
  std::uint64_t config_fingerprint = 0;   ///< Subscribe
};

enum class DecodeStatus : std::uint8_t {
  Ok,           ///< a frame; `consumed` bytes used
  NeedMore,     ///< the input holds the start of a frame only
  BadLength,    ///< the length cannot be a frame (short, or over kMaxFrameSize)
  BadCrc,       ///< the CRC does not match
  UnknownType,  ///< a type byte not in FrameType
  BadBody,      ///< the body's size does not fit the type, or a Record's kind or size is invalid
  BadVersion    ///< a Subscribe of another version
};
std::string_view to_string(DecodeStatus status) noexcept;

/// Decodes the frame at the start of `in`. Anything but Ok and NeedMore is a broken peer: close
/// the connection (and count it). Never reads outside `in`.
DecodeStatus decode(std::span<const std::uint8_t> in, Frame& out, std::size_t& consumed) noexcept;

/// Encoders: write one frame into `out` and return its size, or 0 when `out` is too small
/// (or, for encode_record, the payload is empty or over kMaxPayload).
std::size_t encode_subscribe(std::span<std::uint8_t> out, std::uint64_t epoch, std::uint64_t held_seq,
                             std::uint64_t config_fingerprint) noexcept;
std::size_t encode_record(std::span<std::uint8_t> out, std::uint64_t epoch, std::uint64_t seq, std::uint8_t kind,
                          std::span<const std::uint8_t> payload) noexcept;
std::size_t encode_heartbeat(std::span<std::uint8_t> out, std::uint64_t epoch, std::uint64_t last_seq,
                             std::uint64_t leader_time_ns) noexcept;
std::size_t encode_ack(std::span<std::uint8_t> out, std::uint64_t epoch, std::uint64_t held_seq) noexcept;
/// Encodes any decoded frame again (the fuzzer's round trip).
std::size_t encode(std::span<std::uint8_t> out, const Frame& frame) noexcept;

/// What a standby does with a frame from the leader.
enum class Verdict : std::uint8_t {
  Append,      ///< the next record: append it, apply it, then ack()
  Duplicate,   ///< a record already held (a resend after reconnecting): skip it
  Accept,      ///< a heartbeat of the current (or a newer) epoch
  OlderEpoch,  ///< from a deposed leader: refuse, close the connection
  Gap,         ///< a record past the next one: refuse, close, subscribe again from held()
  Unexpected   ///< a Subscribe or an Ack, which only a leader receives: a broken peer, close
};
std::string_view to_string(Verdict verdict) noexcept;

/// The standby's side: the newest epoch it has accepted and the highest record it holds. A
/// frame from an older epoch is refused; a newer epoch is adopted (a new leader); records must
/// follow one another without gaps.
class StandbyGate {
 public:
  /// From the standby's own journal at start: the epoch of its last record, and its seq.
  StandbyGate(std::uint64_t epoch, std::uint64_t held_seq) noexcept : epoch_(epoch), held_(held_seq) {}

  Verdict on_frame(const Frame& frame) noexcept;
  std::uint64_t epoch() const noexcept { return epoch_; }
  std::uint64_t held() const noexcept { return held_; }
  /// Counts of refusals, for metrics.
  std::uint64_t refused_older_epoch() const noexcept { return refused_older_; }

 private:
  std::uint64_t epoch_;
  std::uint64_t held_;
  std::uint64_t refused_older_ = 0;
};

/// What a leader does with an Ack.
enum class AckVerdict : std::uint8_t {
  Advanced,  ///< acked() moved on: events of commands up to it may be released
  Stale,     ///< not beyond acked(), or from an older epoch: nothing to do
  Deposed,   ///< the standby has accepted a newer epoch: this leader is deposed and must
             ///< acknowledge nothing more (step down)
  Invalid    ///< beyond what this leader has written: a broken peer, close the connection
};
std::string_view to_string(AckVerdict verdict) noexcept;

/// The leader's side of the acknowledgement rule for one standby.
class LeaderAckGate {
 public:
  explicit LeaderAckGate(std::uint64_t epoch) noexcept : epoch_(epoch) {}
  /// `written`: the highest seq this leader has sent.
  AckVerdict on_ack(const Frame& ack, std::uint64_t written) noexcept;
  std::uint64_t acked() const noexcept { return acked_; }
  bool deposed() const noexcept { return deposed_; }

 private:
  std::uint64_t epoch_;
  std::uint64_t acked_ = 0;
  bool deposed_ = false;
};

}  // namespace peregrine::ha::repl
