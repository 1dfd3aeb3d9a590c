#pragma once
/// Helpers for the wire-codec tests: golden byte vectors are written as a list of pieces, ASCII
/// (A("...")) or hex (H("00 01")), each commented with its spec offset, and compared with what
/// the encoders produce; hex() prints bytes in failure messages.

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace peregrine::proto::test {

using Bytes = std::vector<std::uint8_t>;

/// ASCII characters as bytes.
inline Bytes A(std::string_view s) { return Bytes(s.begin(), s.end()); }

/// Hex pairs ("00 1a ff" or "001aff") as bytes.
inline Bytes H(std::string_view s) {
  Bytes out;
  int hi = -1;
  for (char ch : s) {
    int v = -1;
    if (ch >= '0' && ch <= '9') v = ch - '0';
    else if (ch >= 'a' && ch <= 'f') v = ch - 'a' + 10;
    else if (ch >= 'A' && ch <= 'F') v = ch - 'A' + 10;
    else continue;
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<std::uint8_t>(hi * 16 + v));
      hi = -1;
    }
  }
  return out;
}

/// The pieces one after the other.
inline Bytes cat(std::initializer_list<Bytes> pieces) {
  Bytes out;
  for (const Bytes& p : pieces) out.insert(out.end(), p.begin(), p.end());
  return out;
}

/// "4f 41 ..." for failure messages.
inline std::string hex(std::span<const std::uint8_t> b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i != 0) s += ' ';
    s += kDigits[b[i] >> 4];
    s += kDigits[b[i] & 15];
  }
  return s;
}

/// Encodes with `encode(msg, span)` into a roomy buffer and returns exactly the bytes written.
template <typename F>
Bytes encoded(F&& encode_fn) {
  Bytes buf(256, 0xEE);
  const std::size_t n = encode_fn(std::span<std::uint8_t>(buf));
  buf.resize(n);
  return buf;
}

}  // namespace peregrine::proto::test
