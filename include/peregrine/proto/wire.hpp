#pragma once
/// Byte-level helpers shared by the wire codecs (SoupBinTCP, OUCH 4.2, ITCH 5.0, MoldUDP64):
/// big-endian integers, space-padded alphanumerics and SoupBinTCP's ASCII numerics, and a
/// cursor pair (Writer, Reader) that the codecs use so every message is written and read in
/// field order. No allocation, no exceptions, no bounds checks here: each codec checks the
/// whole message size once before it creates a cursor. Any thread.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "peregrine/core/types.hpp"

namespace peregrine::proto::wire {

/// A space-padded alphanumeric field of N bytes (same representation as the core's Alpha).
template <std::size_t N>
using Chars = Alpha<N>;

/// True when every byte is printable ASCII (0x20..0x7E), as OUCH/ITCH "Alpha" fields require.
[[nodiscard]] constexpr bool is_printable(const char* p, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    const auto b = static_cast<unsigned char>(p[i]);
    if (b < 0x20 || b > 0x7E) return false;
  }
  return true;
}

template <std::size_t N>
[[nodiscard]] constexpr bool is_printable(const Alpha<N>& a) noexcept {
  return is_printable(a.c.data(), N);
}

/// True when the field holds only spaces.
template <std::size_t N>
[[nodiscard]] constexpr bool is_blank(const Alpha<N>& a) noexcept {
  for (char ch : a.c) {
    if (ch != ' ') return false;
  }
  return true;
}

/// `a` right-justified: its content (without leading or trailing spaces) moved to the end of the
/// field, spaces before it. SoupBinTCP writes sessions this way ("left padded with spaces").
template <std::size_t N>
[[nodiscard]] constexpr Alpha<N> right_justified(const Alpha<N>& a) noexcept {
  std::size_t b = 0;
  std::size_t e = N;
  while (b < N && a.c[b] == ' ') ++b;
  while (e > b && a.c[e - 1] == ' ') --e;
  Alpha<N> out{};
  const std::size_t n = e - b;
  for (std::size_t i = 0; i < N; ++i) out.c[i] = i < N - n ? ' ' : a.c[b + (i - (N - n))];
  return out;
}

/// `a` left-justified: leading spaces removed, spaces after the content (the canonical Alpha).
template <std::size_t N>
[[nodiscard]] constexpr Alpha<N> left_justified(const Alpha<N>& a) noexcept {
  std::size_t b = 0;
  while (b < N && a.c[b] == ' ') ++b;
  Alpha<N> out{};
  for (std::size_t i = 0; i < N; ++i) out.c[i] = b + i < N ? a.c[b + i] : ' ';
  return out;
}

/// Writes `v` as ASCII decimal digits right-justified in `width` bytes, spaces on the left.
/// Returns false (and writes nothing) when the digits do not fit.
[[nodiscard]] constexpr bool put_numeric(std::uint8_t* p, std::size_t width, std::uint64_t v) noexcept {
  char digits[20] = {};
  std::size_t n = 0;
  do {
    digits[n++] = static_cast<char>('0' + static_cast<int>(v % 10));
    v /= 10;
  } while (v != 0);
  if (n > width) return false;
  for (std::size_t i = 0; i < width; ++i) {
    p[i] = static_cast<std::uint8_t>(i < width - n ? ' ' : digits[width - 1 - i]);
  }
  return true;
}

/// Reads an ASCII decimal field padded with spaces on either side. All spaces reads as 0.
/// Returns false on any other character, on spaces between digits, or on overflow.
[[nodiscard]] constexpr bool get_numeric(const std::uint8_t* p, std::size_t width, std::uint64_t& out) noexcept {
  std::size_t b = 0;
  std::size_t e = width;
  while (b < width && p[b] == ' ') ++b;
  while (e > b && p[e - 1] == ' ') --e;
  std::uint64_t v = 0;
  for (std::size_t i = b; i < e; ++i) {
    if (p[i] < '0' || p[i] > '9') return false;
    const auto d = static_cast<std::uint64_t>(p[i] - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  out = v;
  return true;
}

/// Sequential big-endian writer over a buffer the caller has sized.
class Writer {
 public:
  explicit constexpr Writer(std::uint8_t* p) noexcept : p_(p) {}

  constexpr Writer& u8(std::uint8_t v) noexcept {
    *p_++ = v;
    return *this;
  }
  constexpr Writer& ch(char v) noexcept { return u8(static_cast<std::uint8_t>(v)); }
  constexpr Writer& u16(std::uint16_t v) noexcept { return be(v, 2); }
  constexpr Writer& u32(std::uint32_t v) noexcept { return be(v, 4); }
  /// The low 48 bits of `v` (ITCH 5.0 timestamps).
  constexpr Writer& u48(std::uint64_t v) noexcept { return be(v, 6); }
  constexpr Writer& u64(std::uint64_t v) noexcept { return be(v, 8); }
  template <std::size_t N>
  constexpr Writer& alpha(const Alpha<N>& a) noexcept {
    for (std::size_t i = 0; i < N; ++i) *p_++ = static_cast<std::uint8_t>(a.c[i]);
    return *this;
  }
  [[nodiscard]] constexpr std::uint8_t* pos() const noexcept { return p_; }

 private:
  constexpr Writer& be(std::uint64_t v, int bytes) noexcept {
    for (int i = bytes - 1; i >= 0; --i) *p_++ = static_cast<std::uint8_t>(v >> (8 * i));
    return *this;
  }
  std::uint8_t* p_;
};

/// Sequential big-endian reader over bytes whose size the caller has checked.
class Reader {
 public:
  explicit constexpr Reader(const std::uint8_t* p) noexcept : p_(p) {}

  constexpr std::uint8_t u8() noexcept { return *p_++; }
  constexpr char ch() noexcept { return static_cast<char>(*p_++); }
  constexpr std::uint16_t u16() noexcept { return static_cast<std::uint16_t>(be(2)); }
  constexpr std::uint32_t u32() noexcept { return static_cast<std::uint32_t>(be(4)); }
  constexpr std::uint64_t u48() noexcept { return be(6); }
  constexpr std::uint64_t u64() noexcept { return be(8); }
  template <std::size_t N>
  constexpr Alpha<N> alpha() noexcept {
    Alpha<N> a{};
    for (std::size_t i = 0; i < N; ++i) a.c[i] = static_cast<char>(*p_++);
    return a;
  }
  constexpr void skip(std::size_t n) noexcept { p_ += n; }
  [[nodiscard]] constexpr const std::uint8_t* pos() const noexcept { return p_; }

 private:
  constexpr std::uint64_t be(int bytes) noexcept {
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | *p_++;
    return v;
  }
  const std::uint8_t* p_;
};

/// Reads a big-endian u16 at `p`.
[[nodiscard]] constexpr std::uint16_t get_u16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

/// Writes a big-endian u16 at `p`.
constexpr void put_u16(std::uint8_t* p, std::uint16_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}

/// Bytes of a string literal or text as a span (for tests and Debug packets).
[[nodiscard]] inline std::span<const std::uint8_t> bytes_of(std::string_view s) noexcept {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

/// What a fixed-size message decoder (OUCH 4.2, ITCH 5.0) found.
enum class MessageStatus : std::uint8_t {
  Ok = 0,
  Empty,        ///< no bytes
  UnknownType,  ///< the type byte is not a message of this protocol and direction
  BadLength,    ///< size differs from the type's fixed size
};

/// A short stable name, for logs and metrics labels.
[[nodiscard]] constexpr std::string_view to_string(MessageStatus s) noexcept {
  switch (s) {
    case MessageStatus::Ok: return "ok";
    case MessageStatus::Empty: return "empty";
    case MessageStatus::UnknownType: return "unknown_type";
    case MessageStatus::BadLength: return "bad_length";
  }
  return "unknown";
}

}  // namespace peregrine::proto::wire
