#pragma once
// Hierarchical bitmap over a book side's price levels: which levels hold orders. Finding the
// next non-empty level above or below any index costs one word test per level of the
// hierarchy (at most 4 for 2^24 levels). Core-internal.

#include <bit>
#include <cstdint>
#include <vector>

namespace peregrine::detail {

inline constexpr std::uint32_t kNone = 0xFFFFFFFFu;

class LevelBitmap {
 public:
  LevelBitmap() = default;
  explicit LevelBitmap(std::uint32_t n) {
    std::uint32_t words = n;
    do {
      words = (words + 63) / 64;
      layers_.emplace_back(words, 0);
    } while (words > 1);
  }

  void set(std::uint32_t i) noexcept {
    for (auto& layer : layers_) {
      std::uint64_t& w = layer[i >> 6];
      const bool was_empty = w == 0;
      w |= std::uint64_t{1} << (i & 63);
      if (!was_empty) return;
      i >>= 6;
    }
  }

  void clear(std::uint32_t i) noexcept {
    for (auto& layer : layers_) {
      std::uint64_t& w = layer[i >> 6];
      w &= ~(std::uint64_t{1} << (i & 63));
      if (w != 0) return;
      i >>= 6;
    }
  }

  [[nodiscard]] bool test(std::uint32_t i) const noexcept {
    return (layers_[0][i >> 6] >> (i & 63)) & 1u;
  }

  /// Lowest set index >= i, or kNone.
  [[nodiscard]] std::uint32_t next_ge(std::uint32_t i) const noexcept {
    std::size_t d = 0;
    for (;;) {
      if (d == layers_.size()) return kNone;
      const std::uint32_t w = i >> 6;
      if (w >= layers_[d].size()) return kNone;
      const std::uint64_t m = layers_[d][w] & (~std::uint64_t{0} << (i & 63));
      if (m != 0) {
        i = (w << 6) | static_cast<std::uint32_t>(std::countr_zero(m));
        break;
      }
      i = w + 1;
      ++d;
    }
    while (d > 0) {
      --d;
      i = (i << 6) | static_cast<std::uint32_t>(std::countr_zero(layers_[d][i]));
    }
    return i;
  }

  /// Highest set index <= i, or kNone.
  [[nodiscard]] std::uint32_t prev_le(std::uint32_t i) const noexcept {
    std::size_t d = 0;
    for (;;) {
      if (d == layers_.size()) return kNone;
      std::uint32_t w = i >> 6;
      if (w >= layers_[d].size()) {
        w = static_cast<std::uint32_t>(layers_[d].size() - 1);
        i = (w << 6) | 63;
      }
      const std::uint32_t b = i & 63;
      const std::uint64_t mask = b == 63 ? ~std::uint64_t{0} : ((std::uint64_t{1} << (b + 1)) - 1);
      const std::uint64_t m = layers_[d][w] & mask;
      if (m != 0) {
        i = (w << 6) | static_cast<std::uint32_t>(63 - std::countl_zero(m));
        break;
      }
      if (w == 0) return kNone;
      i = w - 1;
      ++d;
    }
    while (d > 0) {
      --d;
      i = (i << 6) | static_cast<std::uint32_t>(63 - std::countl_zero(layers_[d][i]));
    }
    return i;
  }

 private:
  std::vector<std::vector<std::uint64_t>> layers_;  // layers_[0] = one bit per level
};

}  // namespace peregrine::detail
