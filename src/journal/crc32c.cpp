// CRC32C (Castagnoli, reflected polynomial 0x82F63B78): a slicing-by-8 table version for any CPU
// and the SSE4.2 instruction when cpuid says the CPU has it. crc32c(b, crc32c(a)) == crc32c(a+b).
// Hand-written: Debian 12 packages no CRC32C library for C++ (Google's crc32c is not in it).

#include "crc32c.hpp"

#include <array>
#include <cstring>

#include "peregrine/journal/journal.hpp"

#if defined(__x86_64__)
#include <cpuid.h>
#include <nmmintrin.h>
#endif

namespace peregrine::journal {
namespace detail {
namespace {

constexpr std::uint32_t kPoly = 0x82F63B78u;

using Tables = std::array<std::array<std::uint32_t, 256>, 8>;

constexpr Tables make_tables() noexcept {
  Tables t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1u) != 0 ? (c >> 1) ^ kPoly : c >> 1;
    t[0][i] = c;
  }
  for (std::size_t s = 1; s < 8; ++s) {
    for (std::uint32_t i = 0; i < 256; ++i) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xFFu];
  }
  return t;
}

constexpr Tables kTables = make_tables();

}  // namespace

std::uint32_t crc32c_table(const void* data, std::size_t n, std::uint32_t crc) noexcept {
  const auto* p = static_cast<const std::uint8_t*>(data);
  std::uint32_t c = ~crc;
  while (n >= 8) {
    std::uint64_t v;
    std::memcpy(&v, p, 8);  // little-endian host (static_assert in format.hpp)
    v ^= c;
    c = kTables[7][v & 0xFFu] ^ kTables[6][(v >> 8) & 0xFFu] ^ kTables[5][(v >> 16) & 0xFFu] ^
        kTables[4][(v >> 24) & 0xFFu] ^ kTables[3][(v >> 32) & 0xFFu] ^ kTables[2][(v >> 40) & 0xFFu] ^
        kTables[1][(v >> 48) & 0xFFu] ^ kTables[0][v >> 56];
    p += 8;
    n -= 8;
  }
  while (n-- != 0) c = (c >> 8) ^ kTables[0][(c ^ *p++) & 0xFFu];
  return ~c;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) std::uint32_t crc32c_sse42(const void* data, std::size_t n,
                                                             std::uint32_t crc) noexcept {
  const auto* p = static_cast<const std::uint8_t*>(data);
  std::uint64_t c = ~crc;
  while (n >= 8) {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    c = _mm_crc32_u64(c, v);
    p += 8;
    n -= 8;
  }
  auto c32 = static_cast<std::uint32_t>(c);
  while (n-- != 0) c32 = _mm_crc32_u8(c32, *p++);
  return ~c32;
}

bool crc32c_hw_available() noexcept {
  static const bool available = [] {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (__get_cpuid(1, &a, &b, &c, &d) == 0) return false;
    return (c & bit_SSE4_2) != 0;
  }();
  return available;
}
#else
std::uint32_t crc32c_sse42(const void* data, std::size_t n, std::uint32_t crc) noexcept {
  return crc32c_table(data, n, crc);
}
bool crc32c_hw_available() noexcept { return false; }
#endif

}  // namespace detail

std::uint32_t crc32c(const void* data, std::size_t n, std::uint32_t crc) noexcept {
  static const bool hw = detail::crc32c_hw_available();
  return hw ? detail::crc32c_sse42(data, n, crc) : detail::crc32c_table(data, n, crc);
}

}  // namespace peregrine::journal
