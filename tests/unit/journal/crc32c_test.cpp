// CRC32C: both implementations against the standard check value and RFC 3720's vectors, and
// against each other on random data of every alignment and length.

#include "journal/crc32c.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string_view>
#include <vector>

#include "peregrine/journal/journal.hpp"

namespace peregrine::journal {
namespace crc32c_test {  // named, not anonymous: the sanitizer presets' unity builds compile it beside other tests

using Impl = std::uint32_t (*)(const void*, std::size_t, std::uint32_t) noexcept;

void check_vectors(Impl f) {
  const std::string_view check = "123456789";
  EXPECT_EQ(f(check.data(), check.size(), 0), 0xE3069283u);
  std::vector<std::uint8_t> zeros(32, 0), ones(32, 0xFF), inc(32), dec(32);
  for (std::uint8_t i = 0; i < 32; ++i) {
    inc[i] = i;
    dec[i] = static_cast<std::uint8_t>(31 - i);
  }
  // RFC 3720, B.4.
  EXPECT_EQ(f(zeros.data(), zeros.size(), 0), 0x8A9136AAu);
  EXPECT_EQ(f(ones.data(), ones.size(), 0), 0x62A8AB43u);
  EXPECT_EQ(f(inc.data(), inc.size(), 0), 0x46DD794Eu);
  EXPECT_EQ(f(dec.data(), dec.size(), 0), 0x113FDB5Cu);
  EXPECT_EQ(f(nullptr, 0, 0), 0u);
  // Chaining: crc(a + b) == crc(b, crc(a)).
  EXPECT_EQ(f(check.data() + 4, 5, f(check.data(), 4, 0)), 0xE3069283u);
}

TEST(Crc32cTest, TableImplementationGivesTheKnownVectors) { check_vectors(&detail::crc32c_table); }

TEST(Crc32cTest, Sse42ImplementationGivesTheKnownVectors) {
  if (!detail::crc32c_hw_available()) GTEST_SKIP() << "this CPU has no SSE4.2";
  check_vectors(&detail::crc32c_sse42);
}

TEST(Crc32cTest, PublicFunctionGivesTheCheckValue) {
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);
}

TEST(Crc32cTest, BothImplementationsAgreeOnRandomDataAtEveryAlignment) {
  if (!detail::crc32c_hw_available()) GTEST_SKIP() << "this CPU has no SSE4.2";
  std::mt19937_64 rng(7);
  std::vector<std::uint8_t> buf(4096 + 16);
  for (auto& b : buf) b = static_cast<std::uint8_t>(rng());
  for (std::size_t align = 0; align < 8; ++align) {
    for (std::size_t len : {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{8}, std::size_t{9},
                            std::size_t{63}, std::size_t{64}, std::size_t{88}, std::size_t{1000}, std::size_t{4096}}) {
      const std::uint32_t seed = static_cast<std::uint32_t>(rng());
      EXPECT_EQ(detail::crc32c_table(buf.data() + align, len, seed), detail::crc32c_sse42(buf.data() + align, len, seed))
          << "align " << align << " len " << len;
    }
  }
}

TEST(Crc32cTest, DetectsEverySingleBitFlipInARecordSizedBuffer) {
  std::vector<std::uint8_t> buf(88);
  for (std::size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<std::uint8_t>(i * 37);
  const std::uint32_t good = crc32c(buf.data(), buf.size());
  for (std::size_t bit = 0; bit < buf.size() * 8; ++bit) {
    buf[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    EXPECT_NE(crc32c(buf.data(), buf.size()), good) << bit;
    buf[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
  }
}

}  // namespace crc32c_test
}  // namespace peregrine::journal
