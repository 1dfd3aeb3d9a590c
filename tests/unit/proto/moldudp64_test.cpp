// MoldUDP64: golden header, heartbeat, end of session and request packets; the builder's MTU
// and count limits; the parser's validation of counts against the datagram length.

#include "peregrine/proto/moldudp64.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "unit/proto/proto_test_util.hpp"

namespace peregrine::proto::mold {
namespace {

using test::A;
using test::Bytes;
using test::cat;
using test::encoded;
using test::H;
using test::hex;

const SessionId kSession = SessionId::from("2026112501");

TEST(MoldUdp64EncodeTest, DownstreamPacketMatchesTheSpecLayout) {
  Bytes buf(1500);
  Builder b(buf, 1400);
  ASSERT_TRUE(b.begin(kSession, 1000));
  ASSERT_TRUE(b.add(A("abc")));
  ASSERT_TRUE(b.add(A("")));
  ASSERT_TRUE(b.add(H("ff")));
  const auto dgram = b.finish();
  const Bytes expected = cat({
      A("2026112501"),               // 0  session, 10
      H("00 00 00 00 00 00 03 e8"),  // 10 sequence number of the first message: 1000
      H("00 03"),                    // 18 message count
      H("00 03"), A("abc"),          // 20 message block: length, data
      H("00 00"),                    // 25 an empty message
      H("00 01"), H("ff"),           // 27
  });
  EXPECT_EQ(Bytes(dgram.begin(), dgram.end()), expected);
  EXPECT_EQ(b.next_sequence(), 1003u);
}

TEST(MoldUdp64EncodeTest, HeartbeatAndEndOfSessionAreHeadersWithSpecialCounts) {
  EXPECT_EQ(encoded([](auto out) { return encode_heartbeat(kSession, 42, out); }),
            cat({A("2026112501"), H("00 00 00 00 00 00 00 2a"), H("00 00")}));
  EXPECT_EQ(encoded([](auto out) { return encode_end_of_session(kSession, 42, out); }),
            cat({A("2026112501"), H("00 00 00 00 00 00 00 2a"), H("ff ff")}));
}

TEST(MoldUdp64EncodeTest, RequestPacketMatchesTheSpecLayout) {
  const Request r{kSession, 500, 25};
  const Bytes expected = cat({A("2026112501"), H("00 00 00 00 00 00 01 f4"), H("00 19")});
  EXPECT_EQ(encoded([&](auto out) { return encode_request(r, out); }), expected);
  Request back{};
  ASSERT_EQ(parse_request(expected, back), Status::Ok);
  EXPECT_EQ(back, r);
}

TEST(MoldUdp64EncodeTest, ShortSessionNamesArePaddedWithSpaces) {
  EXPECT_EQ(encoded([](auto out) { return encode_heartbeat(SessionId::from("S1"), 1, out); }),
            cat({A("S1        "), H("00 00 00 00 00 00 00 01"), H("00 00")}));
}

TEST(MoldUdp64EncodeTest, EncodersWriteNothingIntoATooSmallBuffer) {
  Bytes small(19);
  EXPECT_EQ(encode_heartbeat(kSession, 1, small), 0u);
  EXPECT_EQ(encode_end_of_session(kSession, 1, small), 0u);
  EXPECT_EQ(encode_request({kSession, 1, 1}, small), 0u);
}

TEST(MoldUdp64BuilderTest, StopsAtTheMtu) {
  Bytes buf(2000);
  Builder b(buf, 100);  // header 20 + 80 bytes of blocks
  ASSERT_TRUE(b.begin(kSession, 1));
  const Bytes msg(36, 'A');  // an ITCH Add Order: 38 bytes with its length field
  EXPECT_TRUE(b.add(msg));
  EXPECT_TRUE(b.add(msg));
  EXPECT_FALSE(b.add(msg));        // 20 + 3 * 38 = 134 > 100
  EXPECT_TRUE(b.add(Bytes(2, 'x')));  // 20 + 76 + 4 = 100 fits exactly
  EXPECT_FALSE(b.add({}));
  EXPECT_EQ(b.size(), 100u);
  const auto dgram = b.finish();
  EXPECT_EQ(dgram.size(), 100u);
  Packet p{};
  ASSERT_EQ(parse(dgram, p), Status::Ok);
  EXPECT_EQ(p.header.count, 3u);
}

TEST(MoldUdp64BuilderTest, UsableSizeIsTheSmallerOfBufferAndMtu) {
  Bytes buf(30);
  Builder b(buf, 1400);
  ASSERT_TRUE(b.begin(kSession, 1));
  EXPECT_TRUE(b.add(Bytes(8, 'x')));  // 20 + 10 = 30
  EXPECT_FALSE(b.add({}));
  Bytes tiny(19);
  Builder t(tiny, 1400);
  EXPECT_FALSE(t.begin(kSession, 1));
  EXPECT_EQ(t.reserve(0), nullptr);
  EXPECT_TRUE(t.finish().empty());
}

TEST(MoldUdp64BuilderTest, StopsAtTheLargestCount) {
  Bytes buf(kHeaderSize + kBlockHeaderSize * (kMaxCount + 1));
  Builder b(buf, buf.size());
  ASSERT_TRUE(b.begin(kSession, 1));
  for (std::uint32_t i = 0; i < kMaxCount; ++i) ASSERT_TRUE(b.add({})) << i;
  EXPECT_FALSE(b.add({}));  // 0xFFFF would mean end of session
  const auto dgram = b.finish();
  Packet p{};
  ASSERT_EQ(parse(dgram, p), Status::Ok);
  EXPECT_EQ(p.header.count, kMaxCount);
  EXPECT_EQ(p.kind, PacketKind::Messages);
}

TEST(MoldUdp64BuilderTest, ReserveLetsTheCallerEncodeInPlace) {
  Bytes buf(100);
  Builder b(buf, 100);
  ASSERT_TRUE(b.begin(kSession, 9));
  std::uint8_t* p = b.reserve(2);
  ASSERT_NE(p, nullptr);
  p[0] = 'h';
  p[1] = 'i';
  const auto dgram = b.finish();
  EXPECT_EQ(Bytes(dgram.begin() + 18, dgram.end()), cat({H("00 01"), H("00 02"), A("hi")}));
  EXPECT_EQ(b.size(), 0u);
}

// --- parsing ----------------------------------------------------------------------------------

Bytes packet(std::uint16_t count, const std::vector<Bytes>& blocks, const Bytes& extra = {}) {
  Bytes out = cat({A("2026112501"), H("00 00 00 00 00 00 00 07")});
  out.push_back(static_cast<std::uint8_t>(count >> 8));
  out.push_back(static_cast<std::uint8_t>(count));
  for (const Bytes& b : blocks) {
    out.push_back(static_cast<std::uint8_t>(b.size() >> 8));
    out.push_back(static_cast<std::uint8_t>(b.size()));
    out.insert(out.end(), b.begin(), b.end());
  }
  out.insert(out.end(), extra.begin(), extra.end());
  return out;
}

TEST(MoldUdp64ParseTest, MessagesComeOutInOrderWithTheirSequenceNumbers) {
  const Bytes d = packet(3, {A("one"), A(""), A("three")});
  Packet p{};
  ASSERT_EQ(parse(d, p), Status::Ok);
  EXPECT_EQ(p.kind, PacketKind::Messages);
  EXPECT_EQ(p.header.session, kSession);
  EXPECT_EQ(p.header.sequence, 7u);
  MessageIterator it(p);
  std::span<const std::uint8_t> m;
  std::uint64_t seq = 0;
  std::vector<std::pair<Bytes, std::uint64_t>> got;
  while (it.next(m, seq)) got.emplace_back(Bytes(m.begin(), m.end()), seq);
  const std::vector<std::pair<Bytes, std::uint64_t>> want = {{A("one"), 7}, {A(""), 8}, {A("three"), 9}};
  EXPECT_EQ(got, want);
}

TEST(MoldUdp64ParseTest, HeartbeatAndEndOfSessionHaveNoMessages) {
  Packet p{};
  ASSERT_EQ(parse(packet(0, {}), p), Status::Ok);
  EXPECT_EQ(p.kind, PacketKind::Heartbeat);
  ASSERT_EQ(parse(packet(0xFFFF, {}), p), Status::Ok);
  EXPECT_EQ(p.kind, PacketKind::EndOfSession);
  MessageIterator it(p);
  std::span<const std::uint8_t> m;
  std::uint64_t seq = 0;
  EXPECT_FALSE(it.next(m, seq));
}

TEST(MoldUdp64ParseTest, FewerThanTwentyBytesIsTooShort) {
  Packet p{};
  for (std::size_t n = 0; n < kHeaderSize; ++n) {
    EXPECT_EQ(parse(Bytes(n, 0), p), Status::TooShort) << n;
  }
}

TEST(MoldUdp64ParseTest, CountAboveTheBlocksPresentIsTruncated) {
  Packet p{};
  EXPECT_EQ(parse(packet(2, {A("one")}), p), Status::Truncated);
  EXPECT_EQ(parse(packet(1, {}), p), Status::Truncated);
  EXPECT_EQ(parse(packet(0xFFFE, {A("x")}), p), Status::Truncated);
}

TEST(MoldUdp64ParseTest, BlockLongerThanTheDatagramIsTruncated) {
  Bytes d = packet(1, {A("abcd")});
  d.pop_back();
  Packet p{};
  EXPECT_EQ(parse(d, p), Status::Truncated);
  // A lone first byte of a length field.
  EXPECT_EQ(parse(packet(2, {A("a")}, H("00")), p), Status::Truncated);
}

TEST(MoldUdp64ParseTest, BytesAfterTheLastBlockAreTrailing) {
  Packet p{};
  EXPECT_EQ(parse(packet(1, {A("a"), A("b")}), p), Status::TrailingBytes);
  EXPECT_EQ(parse(packet(1, {A("a")}, H("00")), p), Status::TrailingBytes);
  EXPECT_EQ(parse(packet(0, {A("a")}), p), Status::TrailingBytes);       // heartbeat with data
  EXPECT_EQ(parse(packet(0xFFFF, {}, H("00")), p), Status::TrailingBytes);  // end of session with data
}

TEST(MoldUdp64ParseTest, RequestMustBeExactlyTwentyBytes) {
  Request r{};
  EXPECT_EQ(parse_request(Bytes(19, 0), r), Status::BadLength);
  EXPECT_EQ(parse_request(Bytes(21, 0), r), Status::BadLength);
  EXPECT_EQ(parse_request(Bytes(20, 0), r), Status::Ok);
}

TEST(MoldUdp64ParseTest, BuilderOutputAlwaysParsesBackToTheSameMessages) {
  Bytes buf(1400);
  Builder b(buf, 1400);
  std::vector<Bytes> sent;
  ASSERT_TRUE(b.begin(kSession, 1));
  for (std::size_t i = 0;; ++i) {
    Bytes msg(i % 50, static_cast<std::uint8_t>(i));
    if (!b.add(msg)) break;
    sent.push_back(msg);
  }
  const auto dgram = b.finish();
  Packet p{};
  ASSERT_EQ(parse(dgram, p), Status::Ok);
  ASSERT_EQ(p.header.count, sent.size());
  MessageIterator it(p);
  std::span<const std::uint8_t> m;
  std::uint64_t seq = 0;
  for (std::size_t i = 0; i < sent.size(); ++i) {
    ASSERT_TRUE(it.next(m, seq));
    EXPECT_EQ(Bytes(m.begin(), m.end()), sent[i]);
    EXPECT_EQ(seq, 1 + i);
  }
  EXPECT_FALSE(it.next(m, seq));
}

}  // namespace
}  // namespace peregrine::proto::mold
