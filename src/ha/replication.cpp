// The replication stream's codec and epoch rules (peregrine/ha/replication.hpp).
#include "peregrine/ha/replication.hpp"

#include <cstring>

#include "peregrine/journal/journal.hpp"

namespace peregrine::ha::repl {

namespace {

constexpr std::size_t kLengthAndCrc = 8;
constexpr std::size_t kSubscribeBody = 4 + 8 + 8;
constexpr std::size_t kHeartbeatBody = 8 + 8;
constexpr std::size_t kAckBody = 8;

template <class T>
T load_le(const std::uint8_t* p) noexcept {
  T v = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    v = static_cast<T>(v | static_cast<T>(static_cast<T>(p[i]) << (8 * i)));
  }
  return v;
}

template <class T>
void store_le(std::uint8_t* p, T v) noexcept {
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    p[i] = static_cast<std::uint8_t>(v >> (8 * i));
  }
}

bool known_kind(std::uint8_t kind) noexcept {
  switch (static_cast<journal::RecordKind>(kind)) {
    case journal::RecordKind::Command:
    case journal::RecordKind::Start:
    case journal::RecordKind::EndOfDay:
    case journal::RecordKind::EpochStart: return true;
  }
  return false;
}

// Writes the header around a body already at out[kFrameHeaderSize..]; returns the frame size.
std::size_t finish(std::span<std::uint8_t> out, FrameType type, std::uint64_t epoch, std::size_t body) noexcept {
  const std::size_t size = kFrameHeaderSize + body;
  store_le<std::uint32_t>(out.data(), static_cast<std::uint32_t>(size - 4));
  out[8] = static_cast<std::uint8_t>(type);
  store_le<std::uint64_t>(out.data() + 9, epoch);
  store_le<std::uint32_t>(out.data() + 4, journal::crc32c(out.data() + kLengthAndCrc, size - kLengthAndCrc));
  return size;
}

}  // namespace

std::string_view to_string(DecodeStatus status) noexcept {
  switch (status) {
    case DecodeStatus::Ok: return "ok";
    case DecodeStatus::NeedMore: return "need more";
    case DecodeStatus::BadLength: return "bad length";
    case DecodeStatus::BadCrc: return "bad CRC";
    case DecodeStatus::UnknownType: return "unknown type";
    case DecodeStatus::BadBody: return "bad body";
    case DecodeStatus::BadVersion: return "bad version";
  }
  return "unknown";
}

DecodeStatus decode(std::span<const std::uint8_t> in, Frame& out, std::size_t& consumed) noexcept {
  consumed = 0;
  if (in.size() < 4) {
    return DecodeStatus::NeedMore;
  }
  const std::uint32_t length = load_le<std::uint32_t>(in.data());
  if (length < kFrameHeaderSize - 4 || length > kMaxFrameSize - 4) {
    return DecodeStatus::BadLength;
  }
  const std::size_t size = std::size_t{length} + 4;
  if (in.size() < size) {
    return DecodeStatus::NeedMore;
  }
  const std::uint8_t* p = in.data();
  if (load_le<std::uint32_t>(p + 4) != journal::crc32c(p + kLengthAndCrc, size - kLengthAndCrc)) {
    return DecodeStatus::BadCrc;
  }
  Frame f;
  f.epoch = load_le<std::uint64_t>(p + 9);
  const std::uint8_t* body = p + kFrameHeaderSize;
  const std::size_t body_size = size - kFrameHeaderSize;
  switch (static_cast<FrameType>(p[8])) {
    case FrameType::Subscribe:
      if (body_size != kSubscribeBody) return DecodeStatus::BadBody;
      f.type = FrameType::Subscribe;
      f.version = load_le<std::uint32_t>(body);
      if (f.version != kVersion) return DecodeStatus::BadVersion;
      f.seq = load_le<std::uint64_t>(body + 4);
      f.config_fingerprint = load_le<std::uint64_t>(body + 12);
      break;
    case FrameType::Record:
      if (body_size <= kRecordBodyHeader) return DecodeStatus::BadBody;
      f.type = FrameType::Record;
      f.seq = load_le<std::uint64_t>(body);
      f.kind = body[8];
      if (!known_kind(f.kind) || f.seq == 0) return DecodeStatus::BadBody;
      f.payload = std::span<const std::uint8_t>(body + kRecordBodyHeader, body_size - kRecordBodyHeader);
      break;
    case FrameType::Heartbeat:
      if (body_size != kHeartbeatBody) return DecodeStatus::BadBody;
      f.type = FrameType::Heartbeat;
      f.seq = load_le<std::uint64_t>(body);
      f.leader_time_ns = load_le<std::uint64_t>(body + 8);
      break;
    case FrameType::Ack:
      if (body_size != kAckBody) return DecodeStatus::BadBody;
      f.type = FrameType::Ack;
      f.seq = load_le<std::uint64_t>(body);
      break;
    default: return DecodeStatus::UnknownType;
  }
  out = f;
  consumed = size;
  return DecodeStatus::Ok;
}

std::size_t encode_subscribe(std::span<std::uint8_t> out, std::uint64_t epoch, std::uint64_t held_seq,
                             std::uint64_t config_fingerprint) noexcept {
  if (out.size() < kFrameHeaderSize + kSubscribeBody) return 0;
  std::uint8_t* b = out.data() + kFrameHeaderSize;
  store_le<std::uint32_t>(b, kVersion);
  store_le<std::uint64_t>(b + 4, held_seq);
  store_le<std::uint64_t>(b + 12, config_fingerprint);
  return finish(out, FrameType::Subscribe, epoch, kSubscribeBody);
}

std::size_t encode_record(std::span<std::uint8_t> out, std::uint64_t epoch, std::uint64_t seq, std::uint8_t kind,
                          std::span<const std::uint8_t> payload) noexcept {
  if (payload.empty() || payload.size() > kMaxPayload || out.size() < kFrameHeaderSize + kRecordBodyHeader + payload.size()) {
    return 0;
  }
  std::uint8_t* b = out.data() + kFrameHeaderSize;
  store_le<std::uint64_t>(b, seq);
  b[8] = kind;
  std::memcpy(b + kRecordBodyHeader, payload.data(), payload.size());
  return finish(out, FrameType::Record, epoch, kRecordBodyHeader + payload.size());
}

std::size_t encode_heartbeat(std::span<std::uint8_t> out, std::uint64_t epoch, std::uint64_t last_seq,
                             std::uint64_t leader_time_ns) noexcept {
  if (out.size() < kFrameHeaderSize + kHeartbeatBody) return 0;
  std::uint8_t* b = out.data() + kFrameHeaderSize;
  store_le<std::uint64_t>(b, last_seq);
  store_le<std::uint64_t>(b + 8, leader_time_ns);
  return finish(out, FrameType::Heartbeat, epoch, kHeartbeatBody);
}

std::size_t encode_ack(std::span<std::uint8_t> out, std::uint64_t epoch, std::uint64_t held_seq) noexcept {
  if (out.size() < kFrameHeaderSize + kAckBody) return 0;
  store_le<std::uint64_t>(out.data() + kFrameHeaderSize, held_seq);
  return finish(out, FrameType::Ack, epoch, kAckBody);
}

std::size_t encode(std::span<std::uint8_t> out, const Frame& f) noexcept {
  switch (f.type) {
    case FrameType::Subscribe: return encode_subscribe(out, f.epoch, f.seq, f.config_fingerprint);
    case FrameType::Record: return encode_record(out, f.epoch, f.seq, f.kind, f.payload);
    case FrameType::Heartbeat: return encode_heartbeat(out, f.epoch, f.seq, f.leader_time_ns);
    case FrameType::Ack: return encode_ack(out, f.epoch, f.seq);
  }
  return 0;
}

std::string_view to_string(Verdict verdict) noexcept {
  switch (verdict) {
    case Verdict::Append: return "append";
    case Verdict::Duplicate: return "duplicate";
    case Verdict::Accept: return "accept";
    case Verdict::OlderEpoch: return "older epoch";
    case Verdict::Gap: return "gap";
    case Verdict::Unexpected: return "unexpected";
  }
  return "unknown";
}

Verdict StandbyGate::on_frame(const Frame& frame) noexcept {
  if (frame.type == FrameType::Subscribe || frame.type == FrameType::Ack) {
    return Verdict::Unexpected;
  }
  if (frame.epoch < epoch_) {
    ++refused_older_;
    return Verdict::OlderEpoch;
  }
  epoch_ = frame.epoch;  // the same, or a new leader's
  if (frame.type != FrameType::Record) {
    return Verdict::Accept;
  }
  if (frame.seq <= held_) {
    return Verdict::Duplicate;
  }
  if (frame.seq != held_ + 1) {
    return Verdict::Gap;
  }
  held_ = frame.seq;
  return Verdict::Append;
}

std::string_view to_string(AckVerdict verdict) noexcept {
  switch (verdict) {
    case AckVerdict::Advanced: return "advanced";
    case AckVerdict::Stale: return "stale";
    case AckVerdict::Deposed: return "deposed";
    case AckVerdict::Invalid: return "invalid";
  }
  return "unknown";
}

AckVerdict LeaderAckGate::on_ack(const Frame& ack, std::uint64_t written) noexcept {
  if (deposed_ || ack.epoch > epoch_) {
    deposed_ = true;
    return AckVerdict::Deposed;
  }
  if (ack.epoch < epoch_ || ack.seq <= acked_) {
    return AckVerdict::Stale;
  }
  if (ack.seq > written) {
    return AckVerdict::Invalid;
  }
  acked_ = ack.seq;
  return AckVerdict::Advanced;
}

}  // namespace peregrine::ha::repl
