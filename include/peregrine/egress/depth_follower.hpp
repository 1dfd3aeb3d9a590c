#pragma once
/// The admin API's depth (issue 13 §4: off the io thread): a DepthBook and the last published
/// indicative auction per instrument, built from the ITCH stream alone, as a subscriber builds
/// them. It reads the ITCH buffer's messages it has not seen yet (ItchBuffer::read) on its own
/// thread, so the io thread that appends them does no depth work and takes no lock.
///
/// One thread at a time calls everything here: in the service the HTTP thread (on each depth
/// request and on its timer), at start-up the recovering thread, in the snapshot thread's
/// replica the snapshot thread.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "peregrine/core/engine.hpp"
#include "peregrine/core/serial.hpp"
#include "peregrine/core/types.hpp"
#include "peregrine/egress/depth_book.hpp"
#include "peregrine/egress/itch_buffer.hpp"
#include "peregrine/proto/itch50.hpp"

namespace peregrine::egress {

class DepthFollower {
 public:
  explicit DepthFollower(std::size_t instruments) : books_(instruments), indicative_(instruments) {}

  /// Applies every message of `itch` not seen yet. False once the follower fell too far behind
  /// and was dropped (see ItchBuffer): its books are then stale for good.
  bool follow(ItchBuffer& itch);
  /// Applies one encoded ITCH message (the stream in order); anything that does not decode or
  /// does not fit the books is counted as an inconsistency.
  void apply(std::span<const std::uint8_t> message);
  /// Applies one decoded message.
  void apply(const proto::itch::Message& m);

  /// Up to `max_levels` levels of one side, best first; empty for an unknown instrument.
  [[nodiscard]] std::vector<DepthLevel> depth(InstrumentId id, Side side, std::size_t max_levels) const;
  /// The indicative last published by NOII in the instrument's current call phase; nothing
  /// outside call phases (a Stock Trading Action other than 'Q' clears it).
  [[nodiscard]] std::optional<AuctionInfo> indicative(InstrumentId id) const;
  /// False once dropped (follow() returned false).
  [[nodiscard]] bool available() const noexcept { return available_; }
  /// Messages that named an unknown instrument or order, or did not decode (a bug).
  [[nodiscard]] std::uint64_t inconsistencies() const noexcept { return inconsistencies_; }
  void set_inconsistencies(std::uint64_t n) noexcept { inconsistencies_ = n; }

  /// Snapshot of one instrument: its DepthBook (DepthBook::save), then u8 indicative present
  /// and, if so, i64 price, u64 paired, u64 imbalance, u8 surplus side (0 = none).
  void save_instrument(std::size_t i, ByteWriter& w) const;
  /// Restores save_instrument() into a fresh follower; false with the reason in `error`.
  bool load_instrument(std::size_t i, ByteReader& in, std::string& error);

 private:
  std::vector<DepthBook> books_;                        // index = stock locate (InstrumentId) - 1
  std::vector<std::optional<AuctionInfo>> indicative_;  // index = stock locate - 1
  std::uint64_t inconsistencies_ = 0;
  bool available_ = true;
};

}  // namespace peregrine::egress
