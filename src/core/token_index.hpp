#pragma once
// The day's order tokens: (owner, token) -> order slot, open addressing with linear probing.
// Tokens are never removed during a day (OUCH tokens are day-unique), so there are no
// tombstones; a finished order's entry stays and still refuses the token. Whether the entry's
// order is live is the engine's business (its slot points back at the entry), so finishing an
// order writes nothing here. Sized at construction to twice the token limit (load factor
// <= 0.5). Core-internal.

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "large_array.hpp"
#include "peregrine/core/types.hpp"

namespace peregrine::detail {

inline constexpr std::uint32_t kEmptyEntry = 0xFFFFFFFFu;

// All-zero bytes mean "empty", so a new table is untouched zero pages (see LargeArray): start-up
// does not write hundreds of megabytes.
struct TokenEntry {
  std::uint32_t slot_plus_one;  // the order slot it was last given to, plus one; 0 = empty
  std::uint32_t owner;
  Token token;
  [[nodiscard]] std::uint32_t slot() const noexcept { return slot_plus_one - 1; }
};

class TokenIndex {
 public:
  explicit TokenIndex(std::uint32_t max_tokens) : limit_(max_tokens) {
    std::size_t cap = 16;
    while (cap < std::size_t{max_tokens} * 2) cap <<= 1;
    entries_ = LargeArray<TokenEntry>(cap, kZeroFilled);
    mask_ = cap - 1;
  }

  /// Entry index of (owner, token), or kEmptyEntry when the token was never accepted.
  [[nodiscard]] std::uint32_t find(OwnerId owner, const Token& t) const noexcept {
    for (std::size_t i = static_cast<std::size_t>(hash(owner, t)) & mask_;; i = (i + 1) & mask_) {
      const TokenEntry& e = entries_[i];
      if (e.slot_plus_one == 0) return kEmptyEntry;
      if (e.owner == owner.value() && e.token == t) return static_cast<std::uint32_t>(i);
    }
  }

  /// Starts loading the cache line where (owner, token) would be found.
  void prefetch(OwnerId owner, const Token& t) const noexcept {
    __builtin_prefetch(&entries_[static_cast<std::size_t>(hash(owner, t)) & mask_]);
  }

  /// Records a new token for `slot`; the caller checked find() and full().
  std::uint32_t insert(OwnerId owner, const Token& t, std::uint32_t slot) noexcept {
    std::size_t i = static_cast<std::size_t>(hash(owner, t)) & mask_;
    while (entries_[i].slot_plus_one != 0) i = (i + 1) & mask_;
    entries_[i].slot_plus_one = slot + 1;
    entries_[i].owner = owner.value();
    entries_[i].token = t;
    ++count_;
    return static_cast<std::uint32_t>(i);
  }

  [[nodiscard]] bool full() const noexcept { return count_ >= limit_; }
  [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
  [[nodiscard]] std::uint32_t limit() const noexcept { return limit_; }
  /// Number of entries (slots) of the table, for a full scan (snapshots).
  [[nodiscard]] std::size_t capacity() const noexcept { return mask_ + 1; }
  TokenEntry& at(std::uint32_t i) noexcept { return entries_[i]; }
  [[nodiscard]] const TokenEntry& at(std::uint32_t i) const noexcept { return entries_[i]; }

 private:
  static std::uint64_t hash(OwnerId owner, const Token& t) noexcept {
    std::uint64_t a = 0;
    std::uint64_t b = 0;
    std::memcpy(&a, t.c.data(), 8);
    std::memcpy(&b, t.c.data() + 8, 6);
    std::uint64_t h = a * 0x9E3779B97F4A7C15ULL ^ (b + owner.value()) * 0xC2B2AE3D27D4EB4FULL;
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 32;
    return h;
  }

  LargeArray<TokenEntry> entries_;
 public:
  /// Writes every page of the table (cache_enabled pre-touch): no page faults later.
  void pretouch() noexcept { entries_.pretouch(); }
  std::size_t mask_ = 0;
  std::uint64_t count_ = 0;
  std::uint32_t limit_;
};

}  // namespace peregrine::detail
