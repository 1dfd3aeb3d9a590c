// The preallocated structures of the io thread (issue #13): the ITCH/OUCH buffer as a ring of
// reused chunks, the datagram batch that one sendmmsg sends, and the allocation-free MoldUDP64
// re-request answer.

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "egress_test_util.hpp"
#include "peregrine/core/serial.hpp"
#include "peregrine/egress/datagram_batch.hpp"
#include "peregrine/egress/itch_buffer.hpp"
#include "peregrine/egress/mold_packetizer.hpp"
#include "peregrine/proto/moldudp64.hpp"

namespace peregrine::egress {
namespace {

using namespace test;
namespace mold = proto::mold;

TEST(ChunkedBuffer, KeepsExactlyTheLastRetentionMessagesAcrossManyChunkWraps) {
  // 3000 is not a multiple of the 1024-record chunk: the oldest chunk is partly retained.
  ItchBuffer b(3000);
  for (std::uint64_t ref = 1; ref <= 20'000; ++ref) {
    ASSERT_EQ(b.append(itch_delete(ref)), ref);
    const std::uint64_t first = ref > 3000 ? ref - 2999 : 1;
    ASSERT_EQ(b.first_retained(), first);
    ASSERT_EQ(b.next_seq(), ref + 1);
    // The oldest and newest retained messages are the ones appended with those numbers.
    ASSERT_EQ(to_bytes(b.get(first)), itch_delete(first)) << "at " << ref;
    ASSERT_EQ(to_bytes(b.get(ref)), itch_delete(ref));
  }
  EXPECT_FALSE(b.contains(17'000));
  EXPECT_TRUE(b.contains(17'001));
  for (std::uint64_t s = 17'001; s <= 20'000; ++s) ASSERT_EQ(to_bytes(b.get(s)), itch_delete(s));
}

TEST(ChunkedBuffer, SaveAndLoadRoundTripAfterWrappingAndAppendingGoesOnTheSame) {
  ItchBuffer a(1500);
  for (std::uint64_t ref = 1; ref <= 5'000; ++ref) (void)a.append(itch_delete(ref));
  std::vector<std::uint8_t> saved;
  ByteWriter w(saved);
  a.save(w);
  ItchBuffer b(1500);
  (void)b.append(itch_delete(99));  // load replaces whatever was there
  ByteReader r(saved);
  std::string error;
  ASSERT_TRUE(b.load(r, error)) << error;
  EXPECT_EQ(b.first_retained(), a.first_retained());
  EXPECT_EQ(b.next_seq(), a.next_seq());
  for (std::uint64_t ref = 5'001; ref <= 8'000; ++ref) ASSERT_EQ(a.append(itch_delete(ref)), b.append(itch_delete(ref)));
  for (std::uint64_t s = a.first_retained(); s < a.next_seq(); ++s) ASSERT_EQ(to_bytes(a.get(s)), to_bytes(b.get(s)));
}

TEST(ChunkedBuffer, RetentionOfOneKeepsOnlyTheLastMessage) {
  ItchBuffer b(1);
  for (std::uint64_t ref = 1; ref <= 10; ++ref) (void)b.append(itch_delete(ref));
  EXPECT_EQ(b.first_retained(), 10u);
  EXPECT_EQ(to_bytes(b.get(10)), itch_delete(10));
}

TEST(DatagramBatchTest, HoldsCopiesUntilClearedAndSaysWhenFull) {
  DatagramBatch batch(2, 8);
  EXPECT_TRUE(batch.empty());
  Bytes one{1, 2, 3};
  batch.add(one);
  one[0] = 9;  // the batch holds its own copy
  batch.add(Bytes{4, 5, 6, 7, 8, 9, 10, 11, 12});  // cut at the 8-byte slot
  EXPECT_TRUE(batch.full());
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(to_bytes(batch[0]), (Bytes{1, 2, 3}));
  EXPECT_EQ(to_bytes(batch[1]), (Bytes{4, 5, 6, 7, 8, 9, 10, 11}));
  batch.clear();
  EXPECT_TRUE(batch.empty());
  EXPECT_FALSE(batch.full());
}

TEST(MoldBatching, EveryDatagramOfAFlushOrTickComesBeforeItsBatchEnd) {
  ItchBuffer buffer(1 << 12);
  MoldConfig cfg;
  cfg.mtu = 200;
  std::vector<std::string> log;
  MoldUdpPacketizer p(buffer, cfg, [&](std::span<const std::uint8_t>) { log.emplace_back("datagram"); });
  p.set_batch_end([&] { log.emplace_back("end"); });
  for (std::uint64_t ref = 1; ref <= 12; ++ref) {  // 36-byte messages: several datagrams of 200 bytes
    const Bytes m = itch_add(ref);
    p.add(buffer.append(m), m);
  }
  p.flush(kSec);
  ASSERT_GE(log.size(), 3u);
  EXPECT_EQ(log.back(), "end");
  EXPECT_EQ(std::count(log.begin(), log.end(), "end"), 1);
  log.clear();
  p.on_tick(3 * kSec);  // idle: a heartbeat, then the batch end
  EXPECT_EQ(log, (std::vector<std::string>{"datagram", "end"}));
  log.clear();
  p.end_of_session(4 * kSec);
  EXPECT_EQ(log, (std::vector<std::string>{"datagram", "end"}));
}

TEST(MoldBatching, RequestAnsweredThroughTheCallbackEqualsTheCopyingAnswer) {
  ItchBuffer buffer(1 << 12);
  MoldConfig cfg;
  cfg.mtu = 200;
  MoldUdpPacketizer p(buffer, cfg, [](std::span<const std::uint8_t>) {});
  for (std::uint64_t ref = 1; ref <= 50; ++ref) {
    const Bytes m = itch_add(ref);
    p.add(buffer.append(m), m);
  }
  p.flush(kSec);
  std::array<std::uint8_t, mold::kRequestSize> req{};
  ASSERT_GT(mold::encode_request(mold::Request{cfg.session, 5, 30}, req), 0u);
  const std::vector<Bytes> copied = p.on_request(req);
  std::vector<Bytes> streamed;
  EXPECT_EQ(p.on_request(req, [&](std::span<const std::uint8_t> d) { streamed.push_back(to_bytes(d)); }), copied.size());
  ASSERT_GT(copied.size(), 1u);
  EXPECT_EQ(streamed, copied);
  EXPECT_EQ(p.counters().requests, 2u);
}

}  // namespace
}  // namespace peregrine::egress
