#pragma once
/// A log-linear latency histogram in the style of HdrHistogram: values below 256 are counted
/// exactly; above, every power of two is split into 128 equal buckets, so a bucket is at most
/// 1/128 (0.78 %) of its values wide. A percentile is reported as the highest value its bucket
/// holds (never below the true value, at most 0.78 % above it), clamped to the exact maximum.
/// Fixed size (about 34 KiB), no allocation, O(1) record. Values are nanoseconds here but the
/// histogram does not care. Values at or above 2^40 land in the last bucket; max() stays exact.
/// Hand-written: Debian 12 packages no C or C++ HdrHistogram, and a recorder on the measured
/// thread must not allocate.

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace peregrine::bench {

class LatencyHistogram {
 public:
  /// Values below 2^kLinearBits are exact.
  static constexpr unsigned kLinearBits = 8;
  /// Buckets per power of two above the linear range: 2^(kLinearBits - 1).
  static constexpr std::uint64_t kSubBuckets = std::uint64_t{1} << (kLinearBits - 1);
  /// Values below 2^kMaxBits have their own buckets; larger ones share one overflow bucket.
  static constexpr unsigned kMaxBits = 40;
  static constexpr std::size_t kBuckets =
      (std::size_t{1} << kLinearBits) + (kMaxBits - kLinearBits) * kSubBuckets + 1;

  /// Counts one value.
  void record(std::uint64_t v) noexcept {
    ++counts_[index(v)];
    ++count_;
    sum_ += v;
    max_ = std::max(max_, v);
    min_ = std::min(min_, v);
  }

  /// Adds every value of `o`.
  void merge(const LatencyHistogram& o) noexcept {
    for (std::size_t i = 0; i < kBuckets; ++i) counts_[i] += o.counts_[i];
    count_ += o.count_;
    sum_ += o.sum_;
    max_ = std::max(max_, o.max_);
    min_ = std::min(min_, o.min_);
  }

  [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
  [[nodiscard]] std::uint64_t max() const noexcept { return count_ == 0 ? 0 : max_; }
  [[nodiscard]] std::uint64_t min() const noexcept { return count_ == 0 ? 0 : min_; }
  /// Exact arithmetic mean; shown beside percentiles, never instead of them.
  [[nodiscard]] double mean() const noexcept {
    return count_ == 0 ? 0.0 : static_cast<double>(sum_) / static_cast<double>(count_);
  }

  /// The value at percentile `p` (0 < p <= 100): the smallest bucket whose cumulative count
  /// reaches ceil(p/100 * count), reported as that bucket's highest value (clamped to max()).
  [[nodiscard]] std::uint64_t percentile(double p) const noexcept {
    if (count_ == 0) return 0;
    const double want = std::ceil(p / 100.0 * static_cast<double>(count_));
    const auto rank = std::clamp<std::uint64_t>(static_cast<std::uint64_t>(want), 1, count_);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen >= rank) return std::min(highest_in_bucket(i), max_);
    }
    return max_;
  }

  /// Bucket of `v`.
  [[nodiscard]] static constexpr std::size_t index(std::uint64_t v) noexcept {
    constexpr std::uint64_t linear = std::uint64_t{1} << kLinearBits;
    if (v < linear) return static_cast<std::size_t>(v);
    const auto msb = static_cast<unsigned>(std::bit_width(v) - 1);  // >= kLinearBits
    if (msb >= kMaxBits) return kBuckets - 1;
    const unsigned shift = msb - kLinearBits + 1;                   // >= 1
    const std::uint64_t sub = (v >> shift) - kSubBuckets;           // 0 .. kSubBuckets-1
    return static_cast<std::size_t>(linear + (shift - 1) * kSubBuckets + sub);
  }

  /// The highest value that falls in bucket `i`.
  [[nodiscard]] static constexpr std::uint64_t highest_in_bucket(std::size_t i) noexcept {
    constexpr std::uint64_t linear = std::uint64_t{1} << kLinearBits;
    if (i < linear) return i;
    if (i == kBuckets - 1) return std::numeric_limits<std::uint64_t>::max();
    const std::uint64_t k = i - linear;
    const std::uint64_t shift = k / kSubBuckets + 1;
    const std::uint64_t sub = k % kSubBuckets + kSubBuckets;
    return ((sub + 1) << shift) - 1;
  }

 private:
  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t max_ = 0;
  std::uint64_t min_ = std::numeric_limits<std::uint64_t>::max();
};

// Bucket layout self-checks: exact below 256, contiguous, and at most 1/128 wide above.
static_assert(LatencyHistogram::index(255) == 255);
static_assert(LatencyHistogram::index(256) == 256);
static_assert(LatencyHistogram::highest_in_bucket(256) == 257);
static_assert(LatencyHistogram::index(257) == 256 && LatencyHistogram::index(258) == 257);
static_assert(LatencyHistogram::index(511) == 383 && LatencyHistogram::index(512) == 384);
static_assert(LatencyHistogram::highest_in_bucket(383) == 511);
static_assert(LatencyHistogram::index((std::uint64_t{1} << 40) - 1) == LatencyHistogram::kBuckets - 2);
static_assert(LatencyHistogram::index(std::uint64_t{1} << 40) == LatencyHistogram::kBuckets - 1);

}  // namespace peregrine::bench
