// ItchBuffer (issue 13 §4): the retention the feeds see, and the one reader (the depth books'
// thread) that reads every message once, in order, while the writer appends, without a lock.
// The writer never waits for it: chunks out of the retention wait for the reader until it
// falls more than the lag limit behind, then it is dropped.

#include "peregrine/egress/itch_buffer.hpp"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

namespace peregrine::egress {
namespace {

// A message that names its sequence number, with a length that varies.
std::vector<std::uint8_t> message(std::uint64_t seq) {
  std::vector<std::uint8_t> m(8 + seq % 29);
  std::memcpy(m.data(), &seq, 8);
  for (std::size_t i = 8; i < m.size(); ++i) m[i] = static_cast<std::uint8_t>(seq * 31 + i);
  return m;
}

bool is_message(std::uint64_t seq, std::span<const std::uint8_t> bytes) {
  const std::vector<std::uint8_t> want = message(seq);
  return bytes.size() == want.size() && std::memcmp(bytes.data(), want.data(), want.size()) == 0;
}

void append(ItchBuffer& b, std::uint64_t n) {
  for (std::uint64_t i = 0; i < n; ++i) {
    const std::uint64_t seq = b.next_seq();
    ASSERT_EQ(b.append(message(seq)), seq);
  }
}

// Reads what is new; expects exactly `from`, `from + 1`, ... with their content; returns the count.
std::uint64_t read_checked(ItchBuffer& b, std::uint64_t from, ItchBuffer::ReadResult want = ItchBuffer::ReadResult::Ok) {
  std::uint64_t n = 0;
  const ItchBuffer::ReadResult r = b.read([&](std::uint64_t seq, std::span<const std::uint8_t> bytes) {
    EXPECT_EQ(seq, from + n);
    EXPECT_TRUE(is_message(seq, bytes)) << "message " << seq;
    ++n;
  });
  EXPECT_EQ(r, want);
  return n;
}

TEST(ItchBufferTest, TheReaderSeesEveryMessageOnceInOrderAcrossChunks) {
  ItchBuffer b(5000);  // chunks of 1024
  EXPECT_EQ(read_checked(b, 1), 0u);
  append(b, 1);
  EXPECT_EQ(read_checked(b, 1), 1u);
  append(b, 3000);
  EXPECT_EQ(read_checked(b, 2), 3000u);
  EXPECT_EQ(read_checked(b, 3002), 0u);
  append(b, 1023);
  EXPECT_EQ(read_checked(b, 3002), 1023u);
  EXPECT_EQ(b.reader_next(), 4025u);
  // The writer's view is unchanged by the reader.
  EXPECT_EQ(b.first_retained(), 1u);
  EXPECT_TRUE(is_message(4024, b.get(4024)));
}

TEST(ItchBufferTest, ChunksOutOfTheRetentionWaitForTheReaderThenAreReused) {
  ItchBuffer b(16);  // chunks of 16
  append(b, 200);
  // The feeds see only the retention...
  EXPECT_EQ(b.first_retained(), 185u);
  EXPECT_FALSE(b.contains(184));
  EXPECT_TRUE(is_message(185, b.get(185)));
  // ...but the reader, which has read nothing, still gets all 200: their chunks were kept.
  EXPECT_GE(b.chunks_allocated(), 13u);
  EXPECT_EQ(read_checked(b, 1), 200u);
  // Once it keeps up, the old chunks are reused: nothing more is allocated.
  const std::size_t chunks = b.chunks_allocated();
  for (std::uint64_t round = 0; round < 50; ++round) {
    append(b, 7);
    EXPECT_EQ(read_checked(b, 201 + round * 7), 7u);
  }
  EXPECT_EQ(b.chunks_allocated(), chunks);
  for (std::uint64_t s = b.first_retained(); s < b.next_seq(); ++s) ASSERT_TRUE(is_message(s, b.get(s)));
}

TEST(ItchBufferTest, AReaderTooFarBehindIsDroppedAndTheWriterCarriesOn) {
  ItchBuffer b(16, 64);
  append(b, 40);
  EXPECT_EQ(read_checked(b, 1), 40u);
  append(b, 16 + 64 + 64);  // more than the retention and the lag limit beyond it
  EXPECT_EQ(read_checked(b, 41, ItchBuffer::ReadResult::Lost), 0u);
  EXPECT_EQ(read_checked(b, 41, ItchBuffer::ReadResult::Lost), 0u);  // for good
  const std::size_t chunks = b.chunks_allocated();
  EXPECT_LE(chunks, (16 + 64) / 16 + 4u);  // the retention, the lag limit and a few in between
  append(b, 1000);
  EXPECT_EQ(b.chunks_allocated(), chunks);
  EXPECT_EQ(b.first_retained(), b.next_seq() - 16);
  for (std::uint64_t s = b.first_retained(); s < b.next_seq(); ++s) ASSERT_TRUE(is_message(s, b.get(s)));
}

TEST(ItchBufferTest, AReaderIsNotDroppedWhileItReads) {
  ItchBuffer b(16, 32);
  append(b, 10);
  // The writer runs far ahead while the reader is inside read(): it must hold the chunks (this
  // is what happens when the HTTP thread is preempted mid-read).
  std::uint64_t n = 0;
  const auto r = b.read([&](std::uint64_t seq, std::span<const std::uint8_t> bytes) {
    EXPECT_TRUE(is_message(seq, bytes));
    if (n++ == 0) append(b, 500);
  });
  EXPECT_EQ(r, ItchBuffer::ReadResult::Ok);
  EXPECT_EQ(n, 10u);  // what was published when the read began
  EXPECT_EQ(read_checked(b, 11), 500u);
}

TEST(ItchBufferTest, LoadPutsTheReaderAtTheEndOfTheLoadedMessages) {
  ItchBuffer a(100);
  append(a, 250);
  std::vector<std::uint8_t> bytes;
  ByteWriter w(bytes);
  a.save(w);
  ItchBuffer b(100);
  ByteReader in(bytes);
  std::string error;
  ASSERT_TRUE(b.load(in, error)) << error;
  EXPECT_EQ(b.first_retained(), 151u);
  EXPECT_EQ(b.next_seq(), 251u);
  for (std::uint64_t s = 151; s < 251; ++s) ASSERT_TRUE(is_message(s, b.get(s)));
  EXPECT_EQ(read_checked(b, 251), 0u);
  append(b, 3000);
  EXPECT_EQ(read_checked(b, 251), 3000u);
}

TEST(ItchBufferTest, AReaderOnAnotherThreadSeesEveryMessageWhileTheWriterAppends) {
  // Under the tsan preset this checks the publication protocol (no lock anywhere).
  constexpr std::uint64_t kMessages = 400'000;
  for (const std::size_t lag_limit : {std::size_t{0}, std::size_t{4096}}) {
    ItchBuffer b(1000, lag_limit);
    std::atomic<bool> done{false};
    std::uint64_t seen = 0;
    bool lost = false;
    std::thread reader([&] {
      bool last = false;
      while (!last) {
        last = done.load(std::memory_order_acquire);  // one more read after the writer's end
        const auto r = b.read([&](std::uint64_t seq, std::span<const std::uint8_t> bytes) {
          if (seq != seen + 1 || !is_message(seq, bytes)) ADD_FAILURE() << "message " << seq << " after " << seen;
          seen = seq;
        });
        if (r == ItchBuffer::ReadResult::Lost) {
          lost = true;
          return;
        }
      }
    });
    append(b, kMessages);
    done.store(true, std::memory_order_release);
    reader.join();
    if (lag_limit == 0 || !lost) {
      EXPECT_FALSE(lost);
      EXPECT_EQ(seen, kMessages) << "lag limit " << lag_limit;
    }
    for (std::uint64_t s = b.first_retained(); s < b.next_seq(); ++s) ASSERT_TRUE(is_message(s, b.get(s)));
  }
}

}  // namespace
}  // namespace peregrine::egress
