#include "peregrine/egress/itch_buffer.hpp"

#include <algorithm>
#include <utility>

#include "peregrine/sessions/prefault.hpp"
#include "peregrine/sessions/retained_codec.hpp"

namespace peregrine::egress {

ItchBuffer::ItchBuffer(std::size_t retention, std::size_t reader_lag_limit)
    : retention_(retention == 0 ? 1 : retention),
      lag_limit_(reader_lag_limit),
      chunk_(std::min<std::size_t>(kMaxChunk, retention_)),
      ring_((retention_ + chunk_ - 1) / chunk_ + 1, nullptr) {
  reset(1);
}

void ItchBuffer::reset(std::uint64_t first) {
  // Every chunk goes: load() runs before the reader's thread reads, so no reader holds one.
  loaded_ = sessions::RetainedView{};
  std::fill(ring_.begin(), ring_.end(), nullptr);
  owned_.clear();
  oldest_ = tail_ = nullptr;
  reader_dropped_ = false;
  first_ = next_ = first;
  add_chunk(chunk_of(first));
  published_.store(first, std::memory_order_release);
  rchunk_ = tail_;
  rseq_ = first;
  reader_.store(chunk_of(first) << 2, std::memory_order_release);
}

void ItchBuffer::add_chunk(std::uint64_t n) {
  Chunk* c = take_chunk();
  c->next.store(nullptr, std::memory_order_relaxed);
  ring_[n % ring_.size()] = c;
  if (tail_ == nullptr) {
    oldest_ = c;
    oldest_n_ = n;
  } else {
    tail_->next.store(c, std::memory_order_release);
  }
  tail_ = c;
}

ItchBuffer::Chunk* ItchBuffer::take_chunk() {
  if (oldest_ != nullptr && oldest_ != tail_ && (oldest_n_ + 1) * chunk_ < first_) {
    // The oldest chunk is wholly out of the retention; free once the reader has left it.
    bool free = reader_dropped_;
    if (!free) {
      std::uint64_t state = reader_.load(std::memory_order_acquire);
      free = (state >> 2) > oldest_n_;
      const std::uint64_t held = (chunk_of(first_) - oldest_n_) * chunk_;
      if (!free && lag_limit_ != 0 && held > lag_limit_ && (state & kReading) == 0 &&
          reader_.compare_exchange_strong(state, state | kLost, std::memory_order_acq_rel)) {
        // Dropped while not reading: it never reads a chunk again.
        reader_dropped_ = true;
        free = true;
      }
    }
    if (free) {
      Chunk* c = oldest_;
      oldest_ = c->next.load(std::memory_order_relaxed);
      ++oldest_n_;
      return c;
    }
  }
  auto c = std::make_unique<Chunk>();
  c->records = std::make_unique_for_overwrite<Record[]>(chunk_);
  sessions::prefault_for_write(c->records.get(), chunk_ * sizeof(Record));  // one call, not ~12 faults
  owned_.push_back(std::move(c));
  return owned_.back().get();
}

std::uint64_t ItchBuffer::append(std::span<const std::uint8_t> message) {
  const std::uint64_t seq = next_;
  const std::size_t off = offset_of(seq);
  Record& r = tail_->records[off];
  r.size = static_cast<std::uint8_t>(std::min(message.size(), kMaxSize));
  std::copy_n(message.begin(), r.size, r.bytes);
  ++next_;
  if (next_ - first_ > retention_) ++first_;
  // The chunk of next_ exists (and is linked) before next_ is published.
  if (off == chunk_ - 1) add_chunk(chunk_of(next_));
  published_.store(next_, std::memory_order_release);
  return seq;
}

void ItchBuffer::reader_done_with(std::uint64_t chunk) noexcept {
  reader_.store(chunk << 2 | kReading, std::memory_order_release);
}

void ItchBuffer::save(ByteWriter& w) const { sessions::save_retained(*this, w); }

bool ItchBuffer::load(ByteReader& in, std::string& error, std::shared_ptr<const void> storage) {
  if (storage) {
    // The chunks (and the reader) start after the loaded messages; first_ goes back to the
    // oldest of them, so the chunk of next_ is reused only once the retention has passed it.
    sessions::RetainedView view;
    if (!sessions::load_retained_in_place<kMaxSize>(in, retention_, error, std::move(storage), view)) return false;
    reset(view.end());
    first_ = view.first();
    loaded_ = std::move(view);
    return true;  // reset() put the reader at next_
  }
  if (!sessions::load_retained<kMaxSize>(
          in, retention_, error, [this](std::uint64_t first) { reset(first); },
          [this](std::span<const std::uint8_t> bytes) { (void)append(bytes); }))
    return false;
  // The loaded messages are the past of the depth state loaded with them: the reader starts after them.
  rchunk_ = tail_;
  rseq_ = next_;
  reader_.store(chunk_of(next_) << 2, std::memory_order_release);
  return true;
}

}  // namespace peregrine::egress
