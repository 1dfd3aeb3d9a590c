#pragma once
// The day's order tokens: (owner, token) -> order slot (docs/adr/0006-token-fingerprint-index.md,
// docs/adr/0007-token-index-16-bit-tags.md).
//
// Three arrays:
//   - keys: every token accepted today, append-only, in acceptance order (a TokenEntry: owner,
//     token, the order slot it was last given to). A token's key index is its place here.
//   - tags: the lookup table, 64-byte lines of 32 16-bit fingerprints of the key's hash (0 =
//     empty way), linear probing line by line, load <= 3/4. Ways fill in order, so the first
//     empty way ends a line's used part; a line with an empty way ends a probe.
//   - way_keys: for every way of every line, the key index stored there (4 bytes a way, read
//     only on a tag match and written on insert).
// A lookup compares one line of tags at once and touches way_keys and keys only on a tag match
// (about 1 in 2,700 for a token never seen at full load), so proving a new token absent (every
// new order and replace brings one) reads one line of an 11 MB table for the default 2^22
// tokens: small enough to stay in the last-level cache, unlike the 45 MB of 32-bit tags and
// key indices side by side it replaces.
//
// Tokens are never removed during a day (OUCH tokens are day-unique), so there are no
// tombstones; a finished order's entry stays and still refuses the token. Whether the entry's
// order is live is the engine's business (its slot points back at the key index), so finishing
// an order writes nothing here. The layout never shows outside the core: state_hash and
// snapshots see only the set of (owner, token) pairs. Core-internal.

#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "large_array.hpp"
#include "peregrine/core/types.hpp"

namespace peregrine::detail {

inline constexpr std::uint32_t kEmptyEntry = 0xFFFFFFFFu;

// A token accepted today. All-zero bytes are a valid (unused) record, so a new array is
// untouched zero pages (see LargeArray): start-up does not write hundreds of megabytes.
struct TokenEntry {
  std::uint32_t slot_plus_one;  // the order slot it was last given to, plus one
  std::uint32_t owner;
  Token token;
  [[nodiscard]] std::uint32_t slot() const noexcept { return slot_plus_one - 1; }
};
static_assert(sizeof(TokenEntry) == 24);

class TokenIndex {
 public:
  static constexpr std::uint32_t kLineWays = 32;
  // At most 24 of every 32 ways used (load <= 3/4): a probe ends in its first line almost always.
  static constexpr std::uint32_t kTokensPerLine = 24;

  explicit TokenIndex(std::uint32_t max_tokens) : limit_(max_tokens) {
    nlines_ = (std::uint64_t{max_tokens} + kTokensPerLine - 1) / kTokensPerLine;
    if (nlines_ == 0) nlines_ = 1;
    tags_ = LargeArray<TagLine>(static_cast<std::size_t>(nlines_), kZeroFilled);
    way_keys_ = LargeArray<std::uint32_t>(static_cast<std::size_t>(nlines_ * kLineWays), kZeroFilled);
    keys_ = LargeArray<TokenEntry>(max_tokens, kZeroFilled);
  }

  /// Where a lookup of (owner, token) ended: the key index found, or kEmptyEntry and the first
  /// empty way, where insert_at() records the token without probing again.
  struct Probe {
    std::uint32_t key;
    std::uint32_t tag;  // 16 bits; held in 32 (see matches())
    std::uint64_t way;  // line * kLineWays + way of the first empty way (when key == kEmptyEntry)
  };

  /// Looks (owner, token) up.
  [[nodiscard]] Probe probe(OwnerId owner, const Token& t) const noexcept {
    const std::uint64_t h = hash(owner, t);
    const std::uint32_t tag = tag_of(h);
    for (std::uint64_t l = line_of(h);; l = l + 1 == nlines_ ? 0 : l + 1) {
      const TagLine& line = tags_[static_cast<std::size_t>(l)];
      std::uint32_t empty = 0;
      for (std::uint32_t m = matches(line, tag, empty); m != 0; m &= m - 1) {
        const std::uint64_t way = l * kLineWays + static_cast<std::uint32_t>(__builtin_ctz(m));
        const std::uint32_t k = way_keys_[static_cast<std::size_t>(way)];
        const TokenEntry& key = keys_[k];
        if (key.owner == owner.value() && same(key.token, t)) return Probe{k, tag, 0};
      }
      if (empty != 0) return Probe{kEmptyEntry, tag, l * kLineWays + static_cast<std::uint32_t>(__builtin_ctz(empty))};
    }
  }

  /// Key index of (owner, token), or kEmptyEntry when the token was never accepted.
  [[nodiscard]] std::uint32_t find(OwnerId owner, const Token& t) const noexcept { return probe(owner, t).key; }

  /// Starts loading the line of tags where (owner, token) would be found, and its ways' key
  /// indices (two lines), which a found token reads and an inserted one writes. Always inlined:
  /// GCC 12 takes a function of nothing but prefetches for one without effects (IPA pure-const)
  /// and deletes its calls.
  [[gnu::always_inline]] void prefetch(OwnerId owner, const Token& t) const noexcept {
    const std::uint64_t l = line_of(hash(owner, t));
    __builtin_prefetch(&tags_[static_cast<std::size_t>(l)]);
    const std::uint32_t* ways = &way_keys_[static_cast<std::size_t>(l * kLineWays)];
    __builtin_prefetch(ways);
    __builtin_prefetch(ways + kLineWays / 2);
  }

  /// Records a new token for `slot` where its probe ended (a miss, with nothing inserted since)
  /// and returns its key index; the caller checked full().
  std::uint32_t insert_at(const Probe& p, OwnerId owner, const Token& t, std::uint32_t slot) noexcept {
    const auto k = static_cast<std::uint32_t>(count_);
    TokenEntry& key = keys_[k];
    key.slot_plus_one = slot + 1;
    key.owner = owner.value();
    key.token = t;
    tags_[static_cast<std::size_t>(p.way / kLineWays)].tag[p.way % kLineWays] = static_cast<std::uint16_t>(p.tag);
    way_keys_[static_cast<std::size_t>(p.way)] = k;
    ++count_;
    return k;
  }

  /// Records a new token for `slot` and returns its key index; the caller checked find() and
  /// full().
  std::uint32_t insert(OwnerId owner, const Token& t, std::uint32_t slot) noexcept {
    return insert_at(probe(owner, t), owner, t, slot);
  }

  [[nodiscard]] bool full() const noexcept { return count_ >= limit_; }
  [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
  [[nodiscard]] std::uint32_t limit() const noexcept { return limit_; }
  /// Key records at(0) .. at(count() - 1): every token accepted today, in acceptance order.
  TokenEntry& at(std::uint32_t k) noexcept { return keys_[k]; }
  [[nodiscard]] const TokenEntry& at(std::uint32_t k) const noexcept { return keys_[k]; }
  /// Bytes of the three arrays, allocated at construction for `limit()` tokens.
  [[nodiscard]] std::uint64_t bytes() const noexcept {
    return nlines_ * (sizeof(TagLine) + kLineWays * sizeof(std::uint32_t)) + std::uint64_t{limit_} * sizeof(TokenEntry);
  }

  /// Writes every page of the arrays (cache_enabled pre-touch): no page faults later.
  void pretouch() noexcept {
    tags_.pretouch();
    way_keys_.pretouch();
    keys_.pretouch();
  }

 private:
  struct alignas(64) TagLine {
    std::uint16_t tag[kLineWays];
  };
  static_assert(sizeof(TagLine) == 64, "a line of tags is one cache line");

  // Bit w set for each way w holding `tag`; `empty` gets bit w for each empty way (tag 0).
  static std::uint32_t matches(const TagLine& line, std::uint32_t tag, std::uint32_t& empty) noexcept {
#if defined(__SSE2__)
    // Broadcast from a 32-bit value: with _mm_set1_epi16, GCC 12 stored the 16-bit tag to the
    // stack and read it back 32 bits wide, a failed store-to-load forward on every lookup.
    const __m128i want = _mm_set1_epi32(static_cast<int>(tag * 0x00010001u));
    const __m128i zero = _mm_setzero_si128();
    const auto* v = reinterpret_cast<const __m128i*>(line.tag);
    const __m128i v0 = _mm_load_si128(v);
    const __m128i v1 = _mm_load_si128(v + 1);
    const __m128i v2 = _mm_load_si128(v + 2);
    const __m128i v3 = _mm_load_si128(v + 3);
    // Each comparison gives 0 or -1 per 16-bit way; packing two to bytes keeps one bit per way.
    const auto mask = [](__m128i lo, __m128i hi) {
      return static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_packs_epi16(lo, hi)));
    };
    empty = mask(_mm_cmpeq_epi16(v0, zero), _mm_cmpeq_epi16(v1, zero)) |
            mask(_mm_cmpeq_epi16(v2, zero), _mm_cmpeq_epi16(v3, zero)) << 16;
    return mask(_mm_cmpeq_epi16(v0, want), _mm_cmpeq_epi16(v1, want)) |
           mask(_mm_cmpeq_epi16(v2, want), _mm_cmpeq_epi16(v3, want)) << 16;
#else
    std::uint32_t hit = 0;
    std::uint32_t none = 0;
    for (std::uint32_t w = 0; w < kLineWays; ++w) {
      hit |= static_cast<std::uint32_t>(line.tag[w] == tag) << w;
      none |= static_cast<std::uint32_t>(line.tag[w] == 0) << w;
    }
    empty = none;
    return hit;
#endif
  }
  // Token equality as two overlapping 8-byte loads a side (operator== calls memcmp).
  static bool same(const Token& x, const Token& y) noexcept {
    std::uint64_t x0 = 0;
    std::uint64_t x1 = 0;
    std::uint64_t y0 = 0;
    std::uint64_t y1 = 0;
    std::memcpy(&x0, x.c.data(), 8);
    std::memcpy(&x1, x.c.data() + sizeof x.c - 8, 8);
    std::memcpy(&y0, y.c.data(), 8);
    std::memcpy(&y1, y.c.data() + sizeof y.c - 8, 8);
    return ((x0 ^ y0) | (x1 ^ y1)) == 0;
  }

  static std::uint64_t hash(OwnerId owner, const Token& t) noexcept {
    std::uint64_t a = 0;
    std::uint64_t b = 0;
    std::memcpy(&a, t.c.data(), 8);
    std::memcpy(&b, t.c.data() + sizeof t.c - 8, 8);  // bytes 6..13: one load, not 4 + 2
    std::uint64_t h = a * 0x9E3779B97F4A7C15ULL ^ (b + owner.value()) * 0xC2B2AE3D27D4EB4FULL;
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 32;
    return h;
  }
  // The high half picks the line (multiply-shift onto [0, nlines)), the low 16 bits are the tag
  // (0 means empty, so a hash whose low bits are 0 takes tag 1): independent bits, so keys
  // sharing a line rarely share a tag.
  [[nodiscard]] std::uint64_t line_of(std::uint64_t h) const noexcept { return ((h >> 32) * nlines_) >> 32; }
  static std::uint32_t tag_of(std::uint64_t h) noexcept {
    const auto t = static_cast<std::uint32_t>(h & 0xFFFFu);
    return t == 0 ? 1u : t;
  }

  LargeArray<TagLine> tags_;
  LargeArray<std::uint32_t> way_keys_;
  LargeArray<TokenEntry> keys_;
  std::uint64_t nlines_ = 0;
  std::uint64_t count_ = 0;
  std::uint32_t limit_;
};

}  // namespace peregrine::detail
