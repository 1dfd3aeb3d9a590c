#pragma once
// The day's order tokens: (owner, token) -> order slot (docs/adr/0006-token-fingerprint-index.md).
//
// Two arrays:
//   - keys: every token accepted today, append-only, in acceptance order (a TokenEntry: owner,
//     token, the order slot it was last given to). A token's key index is its place here.
//   - buckets: the lookup table, 64-byte buckets of eight 8-byte fingerprints (32-bit tag of the
//     key's hash, key index plus one; 0 = empty), linear probing bucket by bucket, load <= 3/4.
// A lookup reads one bucket (rarely two) and touches a key only when its tag matches, so a new
// token (the common case: every new order and replace brings one) costs one cache line of a
// table a quarter the size of one holding the keys themselves; an insert fills that line and
// appends to `keys`, whose tail is in cache.
//
// Tokens are never removed during a day (OUCH tokens are day-unique), so there are no
// tombstones; a finished order's entry stays and still refuses the token. Whether the entry's
// order is live is the engine's business (its slot points back at the key index), so finishing
// an order writes nothing here. The layout never shows outside the core: state_hash and
// snapshots see only the set of (owner, token) pairs. Core-internal.

#include <cstddef>
#include <cstdint>
#include <cstring>

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
  static constexpr std::uint32_t kBucketWays = 8;
  // At most 6 of every 8 fingerprint ways used (load <= 3/4): a miss ends in the first bucket
  // almost always.
  static constexpr std::uint32_t kTokensPerBucket = 6;

  explicit TokenIndex(std::uint32_t max_tokens) : limit_(max_tokens) {
    nbuckets_ = (std::uint64_t{max_tokens} + kTokensPerBucket - 1) / kTokensPerBucket;
    if (nbuckets_ == 0) nbuckets_ = 1;
    buckets_ = LargeArray<Bucket>(static_cast<std::size_t>(nbuckets_), kZeroFilled);
    keys_ = LargeArray<TokenEntry>(max_tokens, kZeroFilled);
  }

  /// Where a lookup of (owner, token) ended: the key index found, or kEmptyEntry and the first
  /// empty way, where insert_at() records the token without probing again.
  struct Probe {
    std::uint32_t key;
    std::uint32_t tag;
    std::uint64_t way;  // bucket * kBucketWays + way of the first empty way (when key == kEmptyEntry)
  };

  /// Looks (owner, token) up.
  [[nodiscard]] Probe probe(OwnerId owner, const Token& t) const noexcept {
    const std::uint64_t h = hash(owner, t);
    const std::uint32_t tag = tag_of(h);
    for (std::uint64_t b = bucket_of(h);; b = b + 1 == nbuckets_ ? 0 : b + 1) {
      const Bucket& bk = buckets_[static_cast<std::size_t>(b)];
      for (std::uint32_t w = 0; w < kBucketWays; ++w) {
        const std::uint64_t e = bk.e[w];
        if (e == 0) return Probe{kEmptyEntry, tag, b * kBucketWays + w};
        if (static_cast<std::uint32_t>(e >> 32) != tag) continue;
        const std::uint32_t k = static_cast<std::uint32_t>(e) - 1;
        const TokenEntry& key = keys_[k];
        if (key.owner == owner.value() && key.token == t) return Probe{k, tag, 0};
      }
    }
  }

  /// Key index of (owner, token), or kEmptyEntry when the token was never accepted.
  [[nodiscard]] std::uint32_t find(OwnerId owner, const Token& t) const noexcept { return probe(owner, t).key; }

  /// Starts loading the bucket where (owner, token) would be found.
  void prefetch(OwnerId owner, const Token& t) const noexcept {
    __builtin_prefetch(&buckets_[static_cast<std::size_t>(bucket_of(hash(owner, t)))]);
  }

  /// Records a new token for `slot` where its probe ended (a miss, with nothing inserted since)
  /// and returns its key index; the caller checked full().
  std::uint32_t insert_at(const Probe& p, OwnerId owner, const Token& t, std::uint32_t slot) noexcept {
    const auto k = static_cast<std::uint32_t>(count_);
    TokenEntry& key = keys_[k];
    key.slot_plus_one = slot + 1;
    key.owner = owner.value();
    key.token = t;
    buckets_[static_cast<std::size_t>(p.way / kBucketWays)].e[p.way % kBucketWays] =
        std::uint64_t{p.tag} << 32 | (std::uint64_t{k} + 1);
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
  /// Bytes of both arrays, allocated at construction for `limit()` tokens.
  [[nodiscard]] std::uint64_t bytes() const noexcept {
    return nbuckets_ * sizeof(Bucket) + std::uint64_t{limit_} * sizeof(TokenEntry);
  }

  /// Writes every page of both arrays (cache_enabled pre-touch): no page faults later.
  void pretouch() noexcept {
    buckets_.pretouch();
    keys_.pretouch();
  }

 private:
  struct alignas(64) Bucket {
    std::uint64_t e[kBucketWays];
  };
  static_assert(sizeof(Bucket) == 64, "a bucket is one cache line");

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
  // The high half picks the bucket (multiply-shift onto [0, nbuckets)), the low half is the tag:
  // independent bits, so keys sharing a bucket rarely share a tag.
  [[nodiscard]] std::uint64_t bucket_of(std::uint64_t h) const noexcept { return ((h >> 32) * nbuckets_) >> 32; }
  static std::uint32_t tag_of(std::uint64_t h) noexcept { return static_cast<std::uint32_t>(h); }

  LargeArray<Bucket> buckets_;
  LargeArray<TokenEntry> keys_;
  std::uint64_t nbuckets_ = 0;
  std::uint64_t count_ = 0;
  std::uint32_t limit_;
};

}  // namespace peregrine::detail
