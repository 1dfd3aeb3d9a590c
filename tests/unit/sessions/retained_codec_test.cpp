// A retention buffer loaded in place (issue 14: a restart reads the retained messages where they
// lie in the snapshot's mapping) holds what the copying load holds, message for message, in any
// order of reading, and goes on alike as messages are appended and the loaded ones fall out of
// the retention; malformed input is refused with the same reason either way.

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "peregrine/core/serial.hpp"
#include "peregrine/sessions/retained_codec.hpp"
#include "peregrine/sessions/retransmit_buffer.hpp"

namespace peregrine::sessions {
namespace {

using Bytes = std::vector<std::uint8_t>;
using Buffer = RetransmitBuffer<80>;

// Message n: 1 to 80 bytes (sizes vary, so offsets must be found, not computed), its bytes from n.
Bytes message(std::uint64_t n) {
  Bytes m(1 + (n * 37) % 80);
  for (std::size_t i = 0; i < m.size(); ++i) m[i] = static_cast<std::uint8_t>(n * 7 + i);
  return m;
}

Bytes save(const Buffer& b) {
  Bytes out;
  ByteWriter w(out);
  b.save(w);
  return out;
}

void expect_same(const Buffer& a, const Buffer& b, const std::vector<std::uint64_t>& order) {
  ASSERT_EQ(a.first_retained(), b.first_retained());
  ASSERT_EQ(a.next_seq(), b.next_seq());
  for (const std::uint64_t s : order) {
    const auto x = a.get(s);
    const auto y = b.get(s);
    ASSERT_EQ(Bytes(x.begin(), x.end()), Bytes(y.begin(), y.end())) << "message " << s;
  }
}

std::vector<std::uint64_t> orders(const Buffer& b) {
  std::vector<std::uint64_t> v;
  for (std::uint64_t s = b.first_retained(); s < b.next_seq(); ++s) v.push_back(s);  // forward
  for (std::uint64_t s = b.next_seq(); s-- > b.first_retained();) v.push_back(s);  // backward
  std::uint64_t x = 12345;
  for (int i = 0; i < 2000 && b.next_seq() > b.first_retained(); ++i) {  // scattered
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    v.push_back(b.first_retained() + (x >> 33) % (b.next_seq() - b.first_retained()));
  }
  return v;
}

TEST(RetainedCodecTest, ALoadInPlaceHoldsWhatACopyingLoadHoldsAndGoesOnAlike) {
  for (const std::size_t retention : {std::size_t{1}, std::size_t{100}, std::size_t{1500}, std::size_t{5000}}) {
    for (const std::uint64_t written : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{99}, std::uint64_t{2500}}) {
      SCOPED_TRACE("retention " + std::to_string(retention) + ", " + std::to_string(written) + " written");
      Buffer live(retention);
      for (std::uint64_t n = 0; n < written; ++n) (void)live.append(message(n));
      const auto snap = std::make_shared<const Bytes>(save(live));
      Buffer copied(retention);
      Buffer in_place(retention);
      std::string error;
      ByteReader r1(*snap);
      ASSERT_TRUE(copied.load(r1, error)) << error;
      ByteReader r2(*snap);
      ASSERT_TRUE(in_place.load(r2, error, snap)) << error;
      EXPECT_EQ(r2.remaining(), 0u);
      expect_same(copied, in_place, orders(copied));
      EXPECT_EQ(save(in_place), *snap);
      // Appended beside the loaded messages, then past the retention, the loaded ones evicted.
      for (std::uint64_t n = written; n < written + 2 * retention + 3; ++n) {
        const Bytes m = message(n);
        ASSERT_EQ(copied.append(m), in_place.append(m));
        (void)live.append(m);
        if (n % 97 == 0) expect_same(copied, in_place, orders(copied));
      }
      expect_same(live, in_place, orders(live));
      EXPECT_EQ(save(in_place), save(live));
    }
  }
}

TEST(RetainedCodecTest, MalformedInputIsRefusedWithTheSameReasonInPlace) {
  Buffer live(100);
  for (std::uint64_t n = 0; n < 60; ++n) (void)live.append(message(n));
  const Bytes good = save(live);
  std::vector<Bytes> bad;
  for (std::size_t cut = 0; cut < good.size(); cut += 7) bad.emplace_back(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut));
  Bytes too_long = good;
  too_long[16] = 81;  // the first record's size: longer than the largest message
  bad.push_back(too_long);
  Bytes too_many = good;
  too_many[8] = 101;  // the count: more than the retention
  bad.push_back(too_many);
  Bytes zero_first = good;
  zero_first[0] = 0;  // sequence numbers start at 1
  bad.push_back(zero_first);
  for (const Bytes& b : bad) {
    const auto keep = std::make_shared<const Bytes>(b);
    Buffer copied(100);
    Buffer in_place(100);
    std::string copy_error;
    std::string in_place_error;
    ByteReader r1(*keep);
    ByteReader r2(*keep);
    EXPECT_FALSE(copied.load(r1, copy_error));
    EXPECT_FALSE(in_place.load(r2, in_place_error, keep));
    EXPECT_FALSE(in_place_error.empty());
    EXPECT_EQ(copy_error, in_place_error) << "input of " << b.size() << " bytes";
  }
}

}  // namespace
}  // namespace peregrine::sessions
