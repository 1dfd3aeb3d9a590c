#pragma once
/// The snapshot form of a retention buffer, written once for both kinds: the OUCH users'
/// RetransmitBuffer (sessions) and the ITCH stream's ItchBuffer (egress). The first retained
/// sequence number (u64), the record count (u64), then each record as a u8 size and its bytes.
/// The retention itself is configuration, not state.
///
/// A restart reads the records where they lie in the snapshot's mapped bytes (RetainedView,
/// load_retained_in_place) instead of copying each into the buffer's chunks: for a day of 5 M
/// commands that is some 250 MB of fresh memory not written before ready (issue 14).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

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

/// The header save_retained() writes: the first sequence number and the record count, checked
/// against the input and `retention`. nullptr when they hold, else what is wrong.
inline const char* read_retained_header(ByteReader& in, std::uint64_t retention, std::uint64_t& first,
                                        std::uint64_t& count) {
  first = in.u64();
  count = in.u64();
  if (!in.ok()) return "truncated retransmit buffer header";
  if (first == 0 || first > (std::uint64_t{1} << 62) || count > (std::uint64_t{1} << 62))
    return "retransmit buffer sequence out of range";
  if (count > retention) return "retransmit buffer holds more records than its retention";
  if (!in.can_hold(count, 1)) return "retransmit buffer record count exceeds the input";
  return nullptr;
}

/// Walks what save_retained() wrote, checking it as it goes: `header(first, count)` once the
/// header holds, then `record(i, bytes)` for each record, `bytes` viewing `in`'s own bytes.
/// False, with the reason in `error`, on truncated or malformed input, a record longer than
/// `MaxSize` or more records than `retention`; the callbacks have then seen part of the input.
template <std::size_t MaxSize, class Header, class Record>
bool read_retained(ByteReader& in, std::uint64_t retention, std::string& error, Header&& header, Record&& record) {
  static_assert(MaxSize <= 255, "sizes are stored in one byte");
  auto fail = [&error](const char* what) {
    error = what;
    return false;
  };
  std::uint64_t first = 0;
  std::uint64_t count = 0;
  if (const char* bad = read_retained_header(in, retention, first, count)) return fail(bad);
  header(first, count);
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::uint8_t size = in.u8();
    if (size > MaxSize) return fail("retransmit buffer record longer than the largest message");
    const std::span<const std::uint8_t> bytes = in.view(size);
    if (!in.ok()) return fail("truncated retransmit buffer record");
    record(i, bytes);
  }
  return true;
}

/// Reads what save_retained() wrote into a buffer that keeps `retention` records of at most
/// `MaxSize` bytes: `restart(first)` empties it to start at `first`, then `append(bytes)` takes
/// each record in order. False, with the reason in `error`, on truncated or malformed input or
/// more records than the retention; what was appended until then is unspecified.
template <std::size_t MaxSize, class Restart, class Append>
bool load_retained(ByteReader& in, std::uint64_t retention, std::string& error, Restart&& restart, Append&& append) {
  return read_retained<MaxSize>(
      in, retention, error, [&restart](std::uint64_t first, std::uint64_t) { restart(first); },
      [&append](std::uint64_t, std::span<const std::uint8_t> bytes) { append(bytes); });
}

/// Retained records read where a snapshot holds them (save_retained()'s form), for sequence
/// numbers [first(), end()): a retention buffer loaded in place answers get() for these from
/// here and keeps its own chunks for what it appends after them. `storage` keeps the bytes alive
/// and unchanged (a snapshot's mapping, journal::Snapshot::storage). An index of every
/// kIndexEvery-th record's offset and a cursor make a read in sequence order (a replay to a
/// client, a retransmission, the next snapshot's save) constant time, any other at most
/// kIndexEvery size bytes apart. Not thread-safe, even get() (the cursor): the buffer's owner only.
class RetainedView {
 public:
  static constexpr std::uint64_t kIndexEvery = 32;

  RetainedView() = default;
  [[nodiscard]] std::uint64_t first() const noexcept { return first_; }
  /// One past the last sequence number held (0 when nothing was loaded: below every seq).
  [[nodiscard]] std::uint64_t end() const noexcept { return end_; }
  /// The record numbered `seq`; precondition first() <= seq < end().
  [[nodiscard]] std::span<const std::uint8_t> get(std::uint64_t seq) const noexcept {
    std::uint64_t s = 0;
    std::size_t at = 0;
    if (seq >= cursor_seq_ && seq - cursor_seq_ < kIndexEvery) {
      s = cursor_seq_;
      at = cursor_at_;
    } else {
      const std::uint64_t i = (seq - first_) / kIndexEvery;
      s = first_ + i * kIndexEvery;
      at = index_[static_cast<std::size_t>(i)];
    }
    for (; s < seq; ++s) at += std::size_t{1} + base_[at];
    cursor_seq_ = seq;
    cursor_at_ = at;
    return {base_ + at + 1, base_[at]};
  }

 private:
  template <std::size_t MaxSize>
  friend bool load_retained_in_place(ByteReader& in, std::uint64_t retention, std::string& error,
                                     std::shared_ptr<const void> storage, RetainedView& out);
  std::shared_ptr<const void> storage_;
  const std::uint8_t* base_ = nullptr;  ///< the size byte of record first_
  std::uint64_t first_ = 0;
  std::uint64_t end_ = 0;
  std::vector<std::size_t> index_;      ///< offset (from base_) of record first_ + i * kIndexEvery
  mutable std::uint64_t cursor_seq_ = 0;  ///< the record last read, and its offset
  mutable std::size_t cursor_at_ = 0;
};

/// What load_retained() reads, checked alike (the same errors), but kept where it lies in `in`'s
/// bytes, which `storage` owns and keeps unchanged: `out` reads them from there. On false `out`
/// is left as it was.
template <std::size_t MaxSize>
bool load_retained_in_place(ByteReader& in, std::uint64_t retention, std::string& error,
                            std::shared_ptr<const void> storage, RetainedView& out) {
  RetainedView v;
  const bool ok = read_retained<MaxSize>(
      in, retention, error,
      [&](std::uint64_t first, std::uint64_t count) {
        v.base_ = in.view(0).data();  // after the header: the first record's size byte
        v.first_ = v.cursor_seq_ = first;
        v.end_ = first + count;
        v.index_.reserve(static_cast<std::size_t>((count + RetainedView::kIndexEvery - 1) / RetainedView::kIndexEvery));
      },
      [&v](std::uint64_t i, std::span<const std::uint8_t> bytes) {
        if (i % RetainedView::kIndexEvery == 0) v.index_.push_back(static_cast<std::size_t>(bytes.data() - 1 - v.base_));
      });
  if (!ok) return false;
  v.storage_ = std::move(storage);
  out = std::move(v);
  return true;
}

}  // namespace peregrine::sessions
