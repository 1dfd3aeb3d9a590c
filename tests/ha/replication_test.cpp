// The replication stream's codec and epoch rules (peregrine/ha/replication.hpp).
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "peregrine/ha/replication.hpp"
#include "peregrine/journal/journal.hpp"

namespace peregrine::ha::repl {
namespace {

std::vector<std::uint8_t> command_payload(std::uint8_t fill) { return std::vector<std::uint8_t>(64, fill); }

Frame decoded(std::span<const std::uint8_t> bytes) {
  Frame f;
  std::size_t used = 0;
  EXPECT_EQ(decode(bytes, f, used), DecodeStatus::Ok);
  EXPECT_EQ(used, bytes.size());
  return f;
}

TEST(ReplicationCodecTest, RoundTripsEveryFrameType) {
  std::array<std::uint8_t, kMaxFrameSize> buf{};
  const auto payload = command_payload(0xAB);
  std::size_t n = encode_record(buf, 7, 42, 1, payload);
  ASSERT_EQ(n, kFrameHeaderSize + kRecordBodyHeader + 64);
  Frame r = decoded({buf.data(), n});
  EXPECT_EQ(r.type, FrameType::Record);
  EXPECT_EQ(r.epoch, 7u);
  EXPECT_EQ(r.seq, 42u);
  EXPECT_EQ(r.kind, 1);
  ASSERT_EQ(r.payload.size(), 64u);
  EXPECT_EQ(std::memcmp(r.payload.data(), payload.data(), 64), 0);

  n = encode_heartbeat(buf, 7, 99, 1'796'608'461'000'000'000ull);
  Frame h = decoded({buf.data(), n});
  EXPECT_EQ(h.type, FrameType::Heartbeat);
  EXPECT_EQ(h.seq, 99u);
  EXPECT_EQ(h.leader_time_ns, 1'796'608'461'000'000'000ull);

  n = encode_ack(buf, 6, 41);
  Frame a = decoded({buf.data(), n});
  EXPECT_EQ(a.type, FrameType::Ack);
  EXPECT_EQ(a.epoch, 6u);
  EXPECT_EQ(a.seq, 41u);

  n = encode_subscribe(buf, 6, 40, 0x1122334455667788ull);
  Frame s = decoded({buf.data(), n});
  EXPECT_EQ(s.type, FrameType::Subscribe);
  EXPECT_EQ(s.version, kVersion);
  EXPECT_EQ(s.seq, 40u);
  EXPECT_EQ(s.config_fingerprint, 0x1122334455667788ull);
}

TEST(ReplicationCodecTest, LaysAnAckOutAsDocumented) {
  std::array<std::uint8_t, 64> buf{};
  ASSERT_EQ(encode_ack(buf, 0x0102, 0x0304), 25u);
  // length 21 | CRC | 'A' | epoch LE | seq LE
  const std::uint8_t want_head[] = {21, 0, 0, 0};
  EXPECT_EQ(std::memcmp(buf.data(), want_head, 4), 0);
  EXPECT_EQ(buf[8], 'A');
  EXPECT_EQ(buf[9], 0x02);
  EXPECT_EQ(buf[10], 0x01);
  EXPECT_EQ(buf[17], 0x04);
  EXPECT_EQ(buf[18], 0x03);
}

TEST(ReplicationCodecTest, NeedsMoreUntilTheWholeFrameIsThereWhateverTheSplit) {
  std::array<std::uint8_t, kMaxFrameSize> buf{};
  const auto payload = command_payload(1);
  const std::size_t n = encode_record(buf, 1, 1, 1, payload);
  for (std::size_t cut = 0; cut < n; ++cut) {
    Frame f;
    std::size_t used = 99;
    EXPECT_EQ(decode({buf.data(), cut}, f, used), DecodeStatus::NeedMore) << cut;
    EXPECT_EQ(used, 0u);
  }
  // Two frames back to back: the first is decoded, and `consumed` points at the second.
  std::vector<std::uint8_t> two(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
  std::array<std::uint8_t, 64> ack{};
  const std::size_t m = encode_ack(ack, 1, 1);
  two.insert(two.end(), ack.begin(), ack.begin() + static_cast<std::ptrdiff_t>(m));
  Frame f;
  std::size_t used = 0;
  ASSERT_EQ(decode(two, f, used), DecodeStatus::Ok);
  ASSERT_EQ(used, n);
  ASSERT_EQ(decode(std::span(two).subspan(used), f, used), DecodeStatus::Ok);
  EXPECT_EQ(f.type, FrameType::Ack);
}

TEST(ReplicationCodecTest, RefusesBrokenFrames) {
  std::array<std::uint8_t, kMaxFrameSize + 16> buf{};
  Frame f;
  std::size_t used = 0;
  const std::size_t n = encode_ack(buf, 1, 1);

  auto corrupt = [&](auto change) {
    std::array<std::uint8_t, kMaxFrameSize + 16> b = buf;
    change(b);
    return decode({b.data(), b.size()}, f, used);
  };
  EXPECT_EQ(corrupt([](auto& b) { b[0] = 3; }), DecodeStatus::BadLength);                      // shorter than a header
  EXPECT_EQ(corrupt([](auto& b) { b[0] = 0xFF; b[1] = 0xFF; }), DecodeStatus::BadLength);      // over the maximum
  EXPECT_EQ(corrupt([&](auto& b) { b[n - 1] ^= 1; }), DecodeStatus::BadCrc);                   // a flipped bit
  EXPECT_EQ(corrupt([](auto& b) { b[4] ^= 1; }), DecodeStatus::BadCrc);

  // A valid CRC around content of the wrong shape: an unknown type, a body of the wrong size for
  // its type, an unknown record kind, seq 0, another version.
  auto sealed = [&](std::uint8_t type, std::size_t body, std::uint8_t fill) {
    std::vector<std::uint8_t> b(kFrameHeaderSize + body, fill);
    const auto length = static_cast<std::uint32_t>(b.size() - 4);
    std::memcpy(b.data(), &length, 4);
    b[8] = type;
    const std::uint32_t crc = journal::crc32c(b.data() + 8, b.size() - 8);
    std::memcpy(b.data() + 4, &crc, 4);
    return b;
  };
  EXPECT_EQ(decode(sealed('Z', 8, 0), f, used), DecodeStatus::UnknownType);
  EXPECT_EQ(decode(sealed('A', 9, 0), f, used), DecodeStatus::BadBody);
  EXPECT_EQ(decode(sealed('H', 8, 0), f, used), DecodeStatus::BadBody);
  EXPECT_EQ(decode(sealed('S', 16, 0), f, used), DecodeStatus::BadBody);
  EXPECT_EQ(decode(sealed('S', 20, 0), f, used), DecodeStatus::BadVersion);  // version 0
  EXPECT_EQ(decode(sealed('R', 9, 1), f, used), DecodeStatus::BadBody);      // no payload
  EXPECT_EQ(decode(sealed('R', 9 + 64, 9), f, used), DecodeStatus::BadBody);  // kind 9
  EXPECT_EQ(decode(sealed('R', 9 + 64, 1), f, used), DecodeStatus::Ok);      // kind 1, seq 0x0101..
  EXPECT_EQ(used, kFrameHeaderSize + 9 + 64);

  const std::vector<std::uint8_t> empty;
  EXPECT_EQ(encode_record(buf, 1, 1, 1, empty), 0u);
  const std::vector<std::uint8_t> huge(kMaxPayload + 1, 0);
  EXPECT_EQ(encode_record(buf, 1, 1, 1, huge), 0u);
  std::array<std::uint8_t, 8> tiny{};
  EXPECT_EQ(encode_ack(tiny, 1, 1), 0u);
}

// Frames with a correct CRC whose content is wrong: built by the encoders, then re-typed and
// re-sealed through encode() on a decoded Frame where possible, else by the record encoder.
TEST(ReplicationCodecTest, RefusesWellSealedFramesOfTheWrongShape) {
  std::array<std::uint8_t, kMaxFrameSize> buf{};
  Frame f;
  std::size_t used = 0;
  // kind 9 is no journal record kind.
  const auto payload = command_payload(2);
  std::size_t n = encode_record(buf, 1, 5, 9, payload);
  EXPECT_EQ(decode({buf.data(), n}, f, used), DecodeStatus::BadBody);
  // seq 0 is no record.
  n = encode_record(buf, 1, 0, 1, payload);
  EXPECT_EQ(decode({buf.data(), n}, f, used), DecodeStatus::BadBody);
}

// The fuzzer's seeds are written by a separate encoder (Python, from docs/ha.md's layout):
// the codec must read them as meant.
TEST(ReplicationCodecTest, ReadsTheFuzzSeedsWrittenFromTheDocumentedLayout) {
  std::ifstream in(std::string(PEREGRINE_SOURCE_DIR) + "/tests/fuzz/corpus/replication/stream_in_order", std::ios::binary);
  const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(bytes.empty());
  std::span<const std::uint8_t> rest(bytes);
  std::vector<Frame> frames;
  while (!rest.empty()) {
    Frame f;
    std::size_t used = 0;
    ASSERT_EQ(decode(rest, f, used), DecodeStatus::Ok) << frames.size();
    frames.push_back(f);
    rest = rest.subspan(used);
  }
  ASSERT_EQ(frames.size(), 5u);
  EXPECT_EQ(frames[0].type, FrameType::Subscribe);
  EXPECT_EQ(frames[0].config_fingerprint, 0x1122334455667788ull);
  EXPECT_EQ(frames[2].type, FrameType::Record);
  EXPECT_EQ(frames[2].seq, 102u);
  EXPECT_EQ(frames[2].payload[63], 63);
  EXPECT_EQ(frames[3].leader_time_ns, 1'796'608'461'000'000'000ull);
  EXPECT_EQ(frames[4].type, FrameType::Ack);
  EXPECT_EQ(frames[4].seq, 102u);
}

TEST(StandbyGateTest, AppendsInOrderSkipsDuplicatesAndRefusesGaps) {
  StandbyGate g(/*epoch=*/3, /*held=*/10);
  Frame r{FrameType::Record, 3, 11, 1, {}, 0, 0, 0};
  EXPECT_EQ(g.on_frame(r), Verdict::Append);
  EXPECT_EQ(g.held(), 11u);
  EXPECT_EQ(g.on_frame(r), Verdict::Duplicate);
  r.seq = 13;
  EXPECT_EQ(g.on_frame(r), Verdict::Gap);
  EXPECT_EQ(g.held(), 11u);
}

TEST(StandbyGateTest, RefusesRecordsAndHeartbeatsFromAnOlderEpoch) {
  StandbyGate g(5, 100);
  Frame old_record{FrameType::Record, 4, 101, 1, {}, 0, 0, 0};
  EXPECT_EQ(g.on_frame(old_record), Verdict::OlderEpoch);
  Frame old_heartbeat{FrameType::Heartbeat, 4, 150, 0, {}, 0, 0, 0};
  EXPECT_EQ(g.on_frame(old_heartbeat), Verdict::OlderEpoch);
  EXPECT_EQ(g.held(), 100u);
  EXPECT_EQ(g.refused_older_epoch(), 2u);
  // A new leader's epoch is adopted; then the old one is refused even for the next seq.
  Frame new_record{FrameType::Record, 6, 101, 1, {}, 0, 0, 0};
  EXPECT_EQ(g.on_frame(new_record), Verdict::Append);
  EXPECT_EQ(g.epoch(), 6u);
  Frame from_five{FrameType::Record, 5, 102, 1, {}, 0, 0, 0};
  EXPECT_EQ(g.on_frame(from_five), Verdict::OlderEpoch);
  Frame ack{FrameType::Ack, 6, 1, 0, {}, 0, 0, 0};
  EXPECT_EQ(g.on_frame(ack), Verdict::Unexpected);
}

TEST(LeaderAckGateTest, AdvancesOnlyOnItsOwnEpochAndKnowsWhenItIsDeposed) {
  LeaderAckGate g(7);
  Frame ack{FrameType::Ack, 7, 10, 0, {}, 0, 0, 0};
  EXPECT_EQ(g.on_ack(ack, 20), AckVerdict::Advanced);
  EXPECT_EQ(g.acked(), 10u);
  EXPECT_EQ(g.on_ack(ack, 20), AckVerdict::Stale);
  ack.seq = 25;
  EXPECT_EQ(g.on_ack(ack, 20), AckVerdict::Invalid);  // beyond what was written
  ack.epoch = 6;
  ack.seq = 15;
  EXPECT_EQ(g.on_ack(ack, 20), AckVerdict::Stale);  // a standby not yet on our epoch
  EXPECT_EQ(g.acked(), 10u);
  ack.epoch = 8;
  EXPECT_EQ(g.on_ack(ack, 20), AckVerdict::Deposed);
  EXPECT_TRUE(g.deposed());
  ack.epoch = 7;
  ack.seq = 18;
  EXPECT_EQ(g.on_ack(ack, 20), AckVerdict::Deposed);  // once deposed, nothing more is acknowledged
  EXPECT_EQ(g.acked(), 10u);
}

}  // namespace
}  // namespace peregrine::ha::repl
