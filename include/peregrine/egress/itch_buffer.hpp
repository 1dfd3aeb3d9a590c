#pragma once
/// The day's ITCH 5.0 stream as encoded messages, numbered from 1: the one sequence that both
/// the MoldUDP64 feed and the SoupBinTCP feed (FeedSession) carry, kept for replay and
/// retransmission (the most recent `retention` messages). Owned by Egress.
///
/// Two sides (issue 13 §4: the admin depth books are built off the io thread):
/// - the writer (the thread that owns the Egress: the io thread) appends, and alone uses
///   next_seq(), first_retained(), contains(), get(), save() and load();
/// - one reader (DepthFollower; in the service the HTTP thread) reads every message once, in
///   order, with read(), concurrently with the writer.
///
/// Storage is a singly linked list of fixed-size chunks (up to 1024 records each) that never
/// move. The writer publishes how many messages exist with a release store; the reader reads up
/// to an acquire load of it, follows the chunks' `next` links, and publishes the chunk it has
/// reached. A chunk that falls out of the retention is reused for the newest messages only once
/// the reader has left it, so appending allocates nothing in steady state while the reader keeps
/// up; a reader that falls more than `reader_lag_limit` messages behind the retention (never, with
/// 0) is dropped (read() then answers Lost for good) and its chunks are reused. The writer never
/// waits for the reader.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "peregrine/core/serial.hpp"
#include "peregrine/proto/itch50.hpp"
#include "peregrine/sessions/retained_codec.hpp"

namespace peregrine::egress {

class ItchBuffer {
 public:
  static constexpr std::size_t kMaxSize = proto::itch::kMaxMessageSize;
  static_assert(kMaxSize <= 255, "sizes are stored in one byte");

  /// Keeps the most recent `retention` messages (at least 1). The reader may fall
  /// `reader_lag_limit` messages behind the oldest retained one before it is dropped (0: never;
  /// the buffer then grows while the reader does not read).
  explicit ItchBuffer(std::size_t retention, std::size_t reader_lag_limit = 0);
  ItchBuffer(const ItchBuffer&) = delete;
  ItchBuffer& operator=(const ItchBuffer&) = delete;

  // ---- the writer ----
  /// Appends one encoded message (longer input is cut at kMaxSize, which no encoder produces);
  /// returns its sequence number.
  std::uint64_t append(std::span<const std::uint8_t> message);
  /// Sequence number the next message will get.
  [[nodiscard]] std::uint64_t next_seq() const noexcept { return next_; }
  /// Oldest sequence number still kept (next_seq() when empty).
  [[nodiscard]] std::uint64_t first_retained() const noexcept { return first_; }
  /// True when `seq` can be read with get().
  [[nodiscard]] bool contains(std::uint64_t seq) const noexcept { return seq >= first_ && seq < next_; }
  /// The message numbered `seq`; precondition contains(seq).
  [[nodiscard]] std::span<const std::uint8_t> get(std::uint64_t seq) const noexcept {
    if (seq < loaded_.end()) [[unlikely]] return loaded_.get(seq);  // loaded in place (load with storage)
    const Record& r = ring_[chunk_of(seq) % ring_.size()]->records[offset_of(seq)];
    return {r.bytes, r.size};
  }
  /// Chunks allocated so far (they are never freed before the buffer): constant once the
  /// retention is reached, while the reader keeps up.
  [[nodiscard]] std::size_t chunks_allocated() const noexcept { return owned_.size(); }

  /// Snapshot: the first retained sequence number, the record count and each record (u8 size,
  /// bytes). The retention itself is configuration, not state.
  void save(ByteWriter& w) const;
  /// Replaces the content with what save() wrote, and puts the reader at its end (next_seq()).
  /// Before the reader's thread reads. False, with the reason in `error`, on truncated or
  /// malformed input, or more records than this buffer retains; the content is then unspecified.
  /// With `storage` (the owner of `in`'s bytes, which it keeps unchanged: a snapshot's mapping)
  /// the messages are read where they lie (sessions::RetainedView), not copied into chunks; the
  /// chunks start at next_seq(), and get() reads the older ones from the view.
  bool load(ByteReader& in, std::string& error, std::shared_ptr<const void> storage = {});

  // ---- the reader (one thread at a time) ----
  enum class ReadResult : std::uint8_t { Ok, Lost };
  /// Calls `f(seq, bytes)` for every message the reader has not seen yet, in order, up to the
  /// last one published when it starts; Lost (calling nothing) once the reader was dropped.
  template <typename F>
  ReadResult read(F&& f);
  /// The sequence number the reader reads next.
  [[nodiscard]] std::uint64_t reader_next() const noexcept { return rseq_; }

 private:
  struct Record {
    std::uint8_t size;
    std::uint8_t bytes[kMaxSize];
  };
  struct Chunk {
    std::atomic<Chunk*> next{nullptr};  ///< the chunk after this one; set by the writer before it publishes into it
    std::unique_ptr<Record[]> records;
  };
  static constexpr std::size_t kMaxChunk = 1024;
  // The reader's published state: (number of the chunk it is in) << 2 | flags. Chunks numbered
  // below it are free for the writer; kReading is set while read() runs, kLost once dropped.
  static constexpr std::uint64_t kReading = 1;
  static constexpr std::uint64_t kLost = 2;

  [[nodiscard]] std::uint64_t chunk_of(std::uint64_t seq) const noexcept { return (seq - 1) / chunk_; }
  [[nodiscard]] std::size_t offset_of(std::uint64_t seq) const noexcept { return static_cast<std::size_t>((seq - 1) % chunk_); }
  /// A chunk for the newest messages: the oldest one when it is out of the retention and the
  /// reader has left it (or was dropped), else a new one.
  Chunk* take_chunk();
  /// Empties the buffer and starts it (writer and reader) at `first`.
  void reset(std::uint64_t first);
  /// Links a chunk numbered `n` after the tail (the first chunk when there is none).
  void add_chunk(std::uint64_t n);
  void reader_done_with(std::uint64_t chunk) noexcept;

  std::size_t retention_;
  std::size_t lag_limit_;
  std::size_t chunk_;
  // Writer side.
  std::uint64_t first_ = 1;
  std::uint64_t next_ = 1;
  std::vector<Chunk*> ring_;  ///< chunk n in ring_[n % size]: the retained window spans at most ring_.size() chunks
  Chunk* oldest_ = nullptr;   ///< the oldest chunk not yet reused (the head of the list)
  std::uint64_t oldest_n_ = 0;
  Chunk* tail_ = nullptr;     ///< the chunk of next_
  std::vector<std::unique_ptr<Chunk>> owned_;  ///< every chunk ever allocated
  bool reader_dropped_ = false;                ///< the writer's memory of having dropped the reader
  sessions::RetainedView loaded_;              ///< messages loaded in place, below the first chunk's
  // Shared.
  std::atomic<std::uint64_t> published_{1};  ///< next_ as the reader may see it (release)
  std::atomic<std::uint64_t> reader_{0};     ///< see kReading
  // Reader side.
  Chunk* rchunk_ = nullptr;
  std::uint64_t rseq_ = 1;
};

template <typename F>
ItchBuffer::ReadResult ItchBuffer::read(F&& f) {
  std::uint64_t state = reader_.load(std::memory_order_acquire);
  // Marks the read as running, so that the writer cannot drop the reader under it.
  if ((state & kLost) != 0 || !reader_.compare_exchange_strong(state, state | kReading, std::memory_order_acq_rel))
    return ReadResult::Lost;  // the exchange fails only when the writer has just dropped the reader
  const std::uint64_t end = published_.load(std::memory_order_acquire);
  while (rseq_ < end) {
    const std::size_t off = offset_of(rseq_);
    const Record& r = rchunk_->records[off];
    f(rseq_, std::span<const std::uint8_t>{r.bytes, r.size});
    ++rseq_;
    if (off == chunk_ - 1) {
      // The writer linked the next chunk before it published the message that filled this one.
      rchunk_ = rchunk_->next.load(std::memory_order_acquire);
      reader_done_with(chunk_of(rseq_));
    }
  }
  reader_.store(chunk_of(rseq_) << 2, std::memory_order_release);
  return ReadResult::Ok;
}

}  // namespace peregrine::egress
