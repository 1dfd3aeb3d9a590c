#pragma once
// Hierarchical bitmap over a book side's price levels: which levels hold orders. Finding the
// next non-empty level above or below any index costs one word test per level of the
// hierarchy (at most 4 for 2^24 levels). The words live in storage the caller provides (the
// engine's zero-page store, so an empty bitmap is untouched zero pages). Core-internal.

#include <bit>
#include <cstddef>
#include <cstdint>

namespace peregrine::detail {

inline constexpr std::uint32_t kNone = 0xFFFFFFFFu;

class LevelBitmap {
 public:
  /// Layers for 2^32 levels (64^6 >= 2^32); the configuration allows at most 2^22.
  static constexpr std::size_t kMaxLayers = 6;

  /// Words a bitmap of `n` levels needs, all layers together.
  static std::size_t words_for(std::uint32_t n) noexcept {
    std::size_t total = 0;
    std::uint32_t words = n;
    do {
      words = (words + 63) / 64;
      total += words;
    } while (words > 1);
    return total;
  }

  LevelBitmap() = default;
  /// A bitmap of `n` levels over words_for(n) zero words at `storage` (all levels empty). The
  /// storage outlives the bitmap and is not written here.
  LevelBitmap(std::uint32_t n, std::uint64_t* storage) noexcept {
    std::uint32_t words = n;
    do {
      words = (words + 63) / 64;
      layers_[nlayers_] = storage;
      sizes_[nlayers_] = words;
      ++nlayers_;
      storage += words;
    } while (words > 1);
  }

  void set(std::uint32_t i) noexcept {
    for (std::size_t d = 0; d < nlayers_; ++d) {
      std::uint64_t& w = layers_[d][i >> 6];
      const bool was_empty = w == 0;
      w |= std::uint64_t{1} << (i & 63);
      if (!was_empty) return;
      i >>= 6;
    }
  }

  void clear(std::uint32_t i) noexcept {
    for (std::size_t d = 0; d < nlayers_; ++d) {
      std::uint64_t& w = layers_[d][i >> 6];
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
      if (d == nlayers_) return kNone;
      const std::uint32_t w = i >> 6;
      if (w >= sizes_[d]) return kNone;
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
      if (d == nlayers_) return kNone;
      std::uint32_t w = i >> 6;
      if (w >= sizes_[d]) {
        w = sizes_[d] - 1;
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
  std::uint64_t* layers_[kMaxLayers] = {};  // layers_[0] = one bit per level
  std::uint32_t sizes_[kMaxLayers] = {};    // words in each layer
  std::size_t nlayers_ = 0;
};

}  // namespace peregrine::detail
