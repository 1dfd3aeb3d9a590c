#pragma once
/// The day's ITCH 5.0 stream as encoded messages, numbered from 1: the one sequence that both
/// the MoldUDP64 feed and the SoupBinTCP feed (FeedSession) carry, kept for replay and
/// retransmission. Like gateway::OutboundJournal, it keeps only the most recent `retention`
/// messages. Owned by Egress; single-threaded: the gateway's io thread.

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>

#include "peregrine/proto/itch50.hpp"

namespace peregrine::egress {

/// Encoded ITCH messages by sequence number (from 1), with bounded retention. io thread only.
class ItchJournal {
 public:
  /// Keeps the most recent `retention` messages (at least 1).
  explicit ItchJournal(std::size_t retention) : retention_(retention == 0 ? 1 : retention) {}

  /// Appends one encoded ITCH message (at most proto::itch::kMaxMessageSize bytes; longer input is
  /// cut, which no encoder produces); returns its sequence number.
  std::uint64_t append(std::span<const std::uint8_t> message);
  /// Sequence number the next message will get.
  [[nodiscard]] std::uint64_t next_seq() const noexcept { return first_ + records_.size(); }
  /// Oldest sequence number still kept (next_seq() when empty).
  [[nodiscard]] std::uint64_t first_retained() const noexcept { return first_; }
  /// True when `seq` can be read with get().
  [[nodiscard]] bool contains(std::uint64_t seq) const noexcept { return seq >= first_ && seq < next_seq(); }
  /// The message numbered `seq`; precondition contains(seq).
  [[nodiscard]] std::span<const std::uint8_t> get(std::uint64_t seq) const noexcept;

 private:
  struct Record {
    std::uint8_t size;
    std::array<std::uint8_t, proto::itch::kMaxMessageSize> bytes;
  };
  std::size_t retention_;
  std::uint64_t first_ = 1;
  std::deque<Record> records_;
};

}  // namespace peregrine::egress
