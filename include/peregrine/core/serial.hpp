#pragma once
/// Little-endian integer writing and bounds-checked reading, for snapshots (Engine::save/load,
/// Egress::save/load). Not for the hot path: ByteWriter appends to a std::vector. No exceptions
/// (the core is built with -fno-exceptions). One thread at a time per object.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

namespace peregrine {

/// Appends little-endian integers and raw bytes to a vector it does not own.
class ByteWriter {
 public:
  explicit ByteWriter(std::vector<std::uint8_t>& out) noexcept : out_(out) {}

  void u8(std::uint8_t v) { out_.push_back(v); }
  void u16(std::uint16_t v) { put(v, 2); }
  void u32(std::uint32_t v) { put(v, 4); }
  void u64(std::uint64_t v) { put(v, 8); }
  void i64(std::int64_t v) { put(static_cast<std::uint64_t>(v), 8); }
  void bytes(const void* p, std::size_t n) {
    const auto* b = static_cast<const std::uint8_t*>(p);
    out_.insert(out_.end(), b, b + n);
  }
  /// Bytes written so far into the vector (including what it held before).
  [[nodiscard]] std::size_t size() const noexcept { return out_.size(); }
  /// Overwrites a u32 written earlier at `offset` (a count known only afterwards).
  void patch_u32(std::size_t offset, std::uint32_t v) noexcept {
    for (std::size_t i = 0; i < 4; ++i) out_[offset + i] = static_cast<std::uint8_t>(v >> (8 * i));
  }

 private:
  void put(std::uint64_t v, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) out_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  std::vector<std::uint8_t>& out_;
};

/// Reads little-endian integers from a span. Reading past the end sets a sticky failure and
/// yields zeros from then on, so a loader may read a whole record and check ok() once.
class ByteReader {
 public:
  explicit ByteReader(std::span<const std::uint8_t> in) noexcept : in_(in) {}

  std::uint8_t u8() noexcept { return static_cast<std::uint8_t>(get(1)); }
  std::uint16_t u16() noexcept { return static_cast<std::uint16_t>(get(2)); }
  std::uint32_t u32() noexcept { return static_cast<std::uint32_t>(get(4)); }
  std::uint64_t u64() noexcept { return get(8); }
  std::int64_t i64() noexcept { return static_cast<std::int64_t>(get(8)); }
  /// Copies `n` bytes to `p` (zeros after a failure).
  void bytes(void* p, std::size_t n) noexcept {
    if (!take(n)) {
      std::memset(p, 0, n);
      return;
    }
    std::memcpy(p, in_.data() + pos_ - n, n);
  }
  /// The next `n` bytes as a view (empty after a failure).
  std::span<const std::uint8_t> view(std::size_t n) noexcept {
    if (!take(n)) return {};
    return in_.subspan(pos_ - n, n);
  }

  /// False once any read ran past the end.
  [[nodiscard]] bool ok() const noexcept { return ok_; }
  /// Offset of the next byte to read (where the first failed read started, after a failure).
  [[nodiscard]] std::size_t offset() const noexcept { return pos_; }
  [[nodiscard]] std::size_t remaining() const noexcept { return ok_ ? in_.size() - pos_ : 0; }
  /// True when `count` records of at least `min_record` bytes each could still follow: a check
  /// before reserving memory for a count read from untrusted input.
  [[nodiscard]] bool can_hold(std::uint64_t count, std::size_t min_record) const noexcept {
    return min_record == 0 || count <= remaining() / min_record;
  }

 private:
  bool take(std::size_t n) noexcept {
    if (!ok_ || in_.size() - pos_ < n) {
      ok_ = false;
      return false;
    }
    pos_ += n;
    return true;
  }
  std::uint64_t get(std::size_t n) noexcept {
    if (!take(n)) return 0;
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v |= std::uint64_t{in_[pos_ - n + i]} << (8 * i);
    return v;
  }
  std::span<const std::uint8_t> in_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace peregrine
