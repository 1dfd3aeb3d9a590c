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

namespace peregrine::gateway {

/// Messages of at most `MaxSize` bytes, numbered from 1; keeps the most recent `retention`.
template <std::size_t MaxSize>
class MessageJournal {
  static_assert(MaxSize <= 255, "sizes are stored in one byte");

 public:
  /// Keeps the most recent `retention` messages (at least 1).
  explicit MessageJournal(std::size_t retention) : retention_(retention == 0 ? 1 : retention) {}

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

 private:
  struct Record {
    std::uint8_t size;
    std::array<std::uint8_t, MaxSize> bytes;
  };
  std::size_t retention_;
  std::uint64_t first_ = 1;
  std::deque<Record> records_;
};

}  // namespace peregrine::gateway
