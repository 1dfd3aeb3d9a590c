#pragma once
/// A numbered, bounded record of encoded messages: the outbound OUCH messages of one user
/// (replayed on re-login) and the day's ITCH stream (replayed to feed sessions, retransmitted
/// over MoldUDP64) are both one of these. Single-threaded: the gateway's io thread.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <string>

#include "peregrine/core/serial.hpp"

namespace peregrine::sessions {

/// Messages of at most `MaxSize` bytes, numbered from 1; keeps the most recent `retention`.
template <std::size_t MaxSize>
class RetransmitBuffer {
  static_assert(MaxSize <= 255, "sizes are stored in one byte");

 public:
  /// Keeps the most recent `retention` messages (at least 1).
  explicit RetransmitBuffer(std::size_t retention) : retention_(retention == 0 ? 1 : retention) {}

  /// Appends one encoded message (longer input is cut at MaxSize, which no encoder produces);
  /// returns its sequence number.
  std::uint64_t append(std::span<const std::uint8_t> message) {
    Record r{};
    r.size = static_cast<std::uint8_t>(std::min(message.size(), r.bytes.size()));
    std::copy_n(message.begin(), r.size, r.bytes.begin());
    records_.push_back(r);
    if (records_.size() > retention_) {
      records_.pop_front();
      ++first_;
    }
    return next_seq() - 1;
  }
  /// Sequence number the next message will get.
  [[nodiscard]] std::uint64_t next_seq() const noexcept { return first_ + records_.size(); }
  /// Oldest sequence number still kept (next_seq() when empty).
  [[nodiscard]] std::uint64_t first_retained() const noexcept { return first_; }
  /// True when `seq` can be read with get().
  [[nodiscard]] bool contains(std::uint64_t seq) const noexcept { return seq >= first_ && seq < next_seq(); }
  /// The message numbered `seq`; precondition contains(seq).
  [[nodiscard]] std::span<const std::uint8_t> get(std::uint64_t seq) const noexcept {
    const Record& r = records_[static_cast<std::size_t>(seq - first_)];
    return {r.bytes.data(), r.size};
  }

  /// Snapshot: appends the first retained sequence number, the record count and each record
  /// (u8 size, bytes). The retention itself is configuration, not state.
  void save(ByteWriter& w) const {
    w.u64(first_);
    w.u64(records_.size());
    for (const Record& r : records_) {
      w.u8(r.size);
      w.bytes(r.bytes.data(), r.size);
    }
  }
  /// Replaces the content with what save() wrote. False, with the reason in `error`, on
  /// truncated or malformed input, or more records than this buffer retains; the content is
  /// then unspecified.
  bool load(ByteReader& in, std::string& error) {
    const std::uint64_t first = in.u64();
    const std::uint64_t count = in.u64();
    if (!in.ok()) return fail(error, "truncated retransmit buffer header");
    if (first == 0 || first > (std::uint64_t{1} << 62) || count > (std::uint64_t{1} << 62))
      return fail(error, "retransmit buffer sequence out of range");
    if (count > retention_) return fail(error, "retransmit buffer holds more records than its retention");
    if (!in.can_hold(count, 1)) return fail(error, "retransmit buffer record count exceeds the input");
    records_.clear();
    first_ = first;
    for (std::uint64_t i = 0; i < count; ++i) {
      Record r{};
      r.size = in.u8();
      if (r.size > MaxSize) return fail(error, "retransmit buffer record longer than the largest message");
      in.bytes(r.bytes.data(), r.size);
      if (!in.ok()) return fail(error, "truncated retransmit buffer record");
      records_.push_back(r);
    }
    return true;
  }

 private:
  struct Record {
    std::uint8_t size;
    std::array<std::uint8_t, MaxSize> bytes;
  };
  static bool fail(std::string& error, const char* what) {
    error = what;
    return false;
  }

  std::size_t retention_;
  std::uint64_t first_ = 1;
  std::deque<Record> records_;
};

}  // namespace peregrine::sessions
