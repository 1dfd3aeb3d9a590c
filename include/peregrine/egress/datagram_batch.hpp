#pragma once
/// The datagrams of one io-thread pass, gathered so that the shell sends them with one
/// `sendmmsg` instead of one `sendto` each (issue #13). Fixed capacity, allocated once: adding
/// never allocates. When it is full the shell sends it (and clears it) before adding more.
/// Single-threaded: the gateway's io thread.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace peregrine::egress {

class DatagramBatch {
 public:
  /// Room for `capacity` datagrams (at least 1) of at most `max_size` bytes each.
  DatagramBatch(std::size_t capacity, std::size_t max_size)
      : max_size_(max_size), bytes_(std::max<std::size_t>(capacity, 1) * max_size), sizes_(std::max<std::size_t>(capacity, 1)) {}

  /// Copies one datagram in (cut at max_size, which no packetizer exceeds); precondition !full().
  void add(std::span<const std::uint8_t> d) noexcept {
    const std::size_t n = std::min(d.size(), max_size_);
    std::copy_n(d.data(), n, bytes_.data() + count_ * max_size_);
    sizes_[count_++] = n;
  }
  [[nodiscard]] bool full() const noexcept { return count_ == sizes_.size(); }
  [[nodiscard]] bool empty() const noexcept { return count_ == 0; }
  [[nodiscard]] std::size_t size() const noexcept { return count_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return sizes_.size(); }
  /// Datagram `i` (< size()).
  [[nodiscard]] std::span<const std::uint8_t> operator[](std::size_t i) const noexcept {
    return {bytes_.data() + i * max_size_, sizes_[i]};
  }
  void clear() noexcept { count_ = 0; }

 private:
  std::size_t max_size_;
  std::vector<std::uint8_t> bytes_;
  std::vector<std::size_t> sizes_;
  std::size_t count_ = 0;
};

}  // namespace peregrine::egress
