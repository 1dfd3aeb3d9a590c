#pragma once
/// A numbered, bounded record of encoded messages: the outbound OUCH messages of one user
/// (replayed on re-login) and the day's ITCH stream (replayed to feed sessions, retransmitted
/// over MoldUDP64) are both one of these. Single-threaded: the gateway's io thread.
///
/// Storage is a ring of fixed-size chunks (up to 1024 records each): a chunk is allocated the
/// first time the buffer grows into it, and once the retention is reached every chunk that falls
/// out of it is reused for the newest messages, so appending allocates nothing in steady state
/// (issue #13: no heap allocation on the io thread). A new chunk's pages are filled in with one
/// system call (prefault.hpp), not a page fault per 4 KiB of messages. Loaded from a snapshot's
/// mapping, the messages it held are read where they lie (retained_codec.hpp, RetainedView).

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "peregrine/core/serial.hpp"
#include "peregrine/sessions/prefault.hpp"
#include "peregrine/sessions/retained_codec.hpp"

namespace peregrine::sessions {

/// Messages of at most `MaxSize` bytes, numbered from 1; keeps the most recent `retention`.
template <std::size_t MaxSize>
class RetransmitBuffer {
  static_assert(MaxSize <= 255, "sizes are stored in one byte");

 public:
  /// Keeps the most recent `retention` messages (at least 1).
  explicit RetransmitBuffer(std::size_t retention)
      : retention_(retention == 0 ? 1 : retention),
        chunk_(std::min<std::size_t>(kMaxChunk, retention_)),
        ring_((retention_ + chunk_ - 1) / chunk_ + 1, nullptr) {
    free_.reserve(ring_.size());
  }

  /// Appends one encoded message (longer input is cut at MaxSize, which no encoder produces);
  /// returns its sequence number.
  std::uint64_t append(std::span<const std::uint8_t> message) {
    const std::uint64_t seq = next_;
    Record*& chunk = ring_[slot_of(seq)];
    if (chunk == nullptr) chunk = take_chunk();
    Record& r = chunk[offset_of(seq)];
    r.size = static_cast<std::uint8_t>(std::min(message.size(), r.bytes.size()));
    std::copy_n(message.begin(), r.size, r.bytes.begin());
    ++next_;
    if (next_ - first_ > retention_) evict_oldest();
    return seq;
  }
  /// Sequence number the next message will get.
  [[nodiscard]] std::uint64_t next_seq() const noexcept { return next_; }
  /// Oldest sequence number still kept (next_seq() when empty).
  [[nodiscard]] std::uint64_t first_retained() const noexcept { return first_; }
  /// True when `seq` can be read with get().
  [[nodiscard]] bool contains(std::uint64_t seq) const noexcept { return seq >= first_ && seq < next_; }
  /// The message numbered `seq`; precondition contains(seq).
  [[nodiscard]] std::span<const std::uint8_t> get(std::uint64_t seq) const noexcept {
    if (seq < loaded_.end()) [[unlikely]] return loaded_.get(seq);  // loaded in place, not appended since
    const Record& r = ring_[slot_of(seq)][offset_of(seq)];
    return {r.bytes.data(), r.size};
  }

  /// Snapshot: what the buffer retains, in retained_codec.hpp's form.
  void save(ByteWriter& w) const { save_retained(*this, w); }
  /// Replaces the content with what save() wrote. False, with the reason in `error`, on
  /// truncated or malformed input, or more records than this buffer retains; the content is
  /// then unspecified. With `storage` (the owner of `in`'s bytes, which it keeps unchanged: a
  /// snapshot's mapping) the records are read where they lie (RetainedView) instead of being
  /// copied in; what is appended later goes to the buffer's chunks as usual.
  bool load(ByteReader& in, std::string& error, std::shared_ptr<const void> storage = {}) {
    const auto restart = [this](std::uint64_t first) {
      for (Record*& chunk : ring_) {
        if (chunk != nullptr) free_.push_back(chunk);
        chunk = nullptr;
      }
      loaded_ = RetainedView{};
      first_ = next_ = first;
    };
    if (storage) {
      RetainedView view;
      if (!load_retained_in_place<MaxSize>(in, retention_, error, std::move(storage), view)) return false;
      restart(view.first());
      next_ = view.end();
      loaded_ = std::move(view);
      return true;
    }
    return load_retained<MaxSize>(in, retention_, error, restart,
                                  [this](std::span<const std::uint8_t> bytes) { (void)append(bytes); });
  }

 private:
  struct Record {
    std::uint8_t size;
    std::array<std::uint8_t, MaxSize> bytes;
  };
  static constexpr std::size_t kMaxChunk = 1024;  ///< records per chunk (~80 KiB for OUCH)

  // Chunk n (counted from sequence 1) holds sequences [n * chunk_ + 1, (n + 1) * chunk_]; it
  // lives in ring_[n % ring_.size()]. The retained messages span at most ring_.size() chunks.
  [[nodiscard]] std::size_t slot_of(std::uint64_t seq) const noexcept {
    return static_cast<std::size_t>((seq - 1) / chunk_ % ring_.size());
  }
  [[nodiscard]] std::size_t offset_of(std::uint64_t seq) const noexcept { return static_cast<std::size_t>((seq - 1) % chunk_); }
  Record* take_chunk() {
    if (!free_.empty()) {
      Record* c = free_.back();
      free_.pop_back();
      return c;
    }
    owned_.push_back(std::make_unique_for_overwrite<Record[]>(chunk_));
    prefault_for_write(owned_.back().get(), chunk_ * sizeof(Record));  // one call, not ~20 faults
    return owned_.back().get();
  }
  // Drops the oldest message; its chunk goes back to the free list once wholly dropped.
  // A message loaded in place has no chunk (its slot is null); the view is kept until the next
  // load or the buffer's end (dropping it here would unmap on the io thread).
  void evict_oldest() noexcept {
    const std::uint64_t gone = first_++;
    if (offset_of(gone) == chunk_ - 1) {
      Record*& chunk = ring_[slot_of(gone)];
      if (chunk != nullptr) free_.push_back(chunk);  // never reallocates: at most ring_.size() chunks exist
      chunk = nullptr;
    }
  }

  std::size_t retention_;
  std::size_t chunk_;
  std::uint64_t first_ = 1;
  std::uint64_t next_ = 1;
  std::vector<Record*> ring_;                   ///< chunk pointers by slot (nullptr: none yet)
  std::vector<Record*> free_;                   ///< chunks no message uses (capacity ring_.size())
  std::vector<std::unique_ptr<Record[]>> owned_;  ///< every chunk ever allocated
  RetainedView loaded_;  ///< messages [loaded_.first(), loaded_.end()) as a snapshot held them (load with storage)
};

}  // namespace peregrine::sessions
