// ITCH 5.0: every message Peregrine publishes against a golden vector from the spec's offsets,
// round trips, and every decoder error.

#include "peregrine/proto/itch50.hpp"

#include <gtest/gtest.h>

#include "unit/proto/proto_test_util.hpp"

namespace peregrine::proto::itch {
namespace itch50_test {  // named, not anonymous: the sanitizer presets' unity builds compile it beside other tests

using test::A;
using test::Bytes;
using test::cat;
using test::encoded;
using test::H;
using test::hex;

constexpr std::uint64_t kTs = 34200ull * 1'000'000'000ull + 123'456'789ull;  // 09:30:00.123456789
const Header kHdr{7, 0, kTs};
// 0 type, then: 1 stock locate (2), 3 tracking number (2), 5 timestamp (6)
const Bytes kHdrBytes = H("00 07  00 00  1f 1a d6 35 bd 15");

TEST(Itch50EncodeTest, SystemEventMatchesTheSpecLayout) {
  const Bytes expected = cat({A("S"), H("00 00 00 00 1f 1a d6 35 bd 15"), A("O")});  // 11 event code
  ASSERT_EQ(expected.size(), kSystemEventSize);
  EXPECT_EQ(encoded([](auto out) { return encode(SystemEvent{{0, 0, kTs}, event::kStartOfMessages}, out); }),
            expected);
}

StockDirectory sample_directory() {
  return {kHdr, Symbol::from("600519"), ' ', ' ', 100, 'N', 'C', Alpha<2>::from("Z"), 'P', ' ', ' ', ' ', 'N', 0, 'N'};
}

TEST(Itch50EncodeTest, StockDirectoryMatchesTheSpecLayout) {
  const Bytes expected = cat({
      A("R"), kHdrBytes,
      A("600519  "),     // 11 stock
      A(" "),            // 19 market category
      A(" "),            // 20 financial status indicator
      H("00 00 00 64"),  // 21 round lot size 100
      A("N"),            // 25 round lots only
      A("C"),            // 26 issue classification
      A("Z "),           // 27 issue sub-type, 2
      A("P"),            // 29 authenticity
      A(" "),            // 30 short sale threshold indicator
      A(" "),            // 31 IPO flag
      A(" "),            // 32 LULD reference price tier
      A("N"),            // 33 ETP flag
      H("00 00 00 00"),  // 34 ETP leverage factor
      A("N"),            // 38 inverse indicator
  });
  ASSERT_EQ(expected.size(), kStockDirectorySize);
  EXPECT_EQ(encoded([](auto out) { return encode(sample_directory(), out); }), expected);
}

TEST(Itch50EncodeTest, StockTradingActionMatchesTheSpecLayout) {
  // 11 stock, 19 trading state, 20 reserved, 21 reason (4)
  const Bytes expected = cat({A("H"), kHdrBytes, A("600519  "), A("H"), A(" "), A("    ")});
  ASSERT_EQ(expected.size(), kStockTradingActionSize);
  EXPECT_EQ(encoded([](auto out) {
              return encode(StockTradingAction{kHdr, Symbol::from("600519"), 'H', ' ', Alpha<4>::from("")}, out);
            }),
            expected);
}

AddOrder sample_add() {
  return {kHdr, 123456789012ull, 'B', 1000, Symbol::from("600519"), 15'000'000, FirmName::from("FRMA")};
}

TEST(Itch50EncodeTest, AddOrderMatchesTheSpecLayout) {
  const Bytes expected = cat({
      A("A"), kHdrBytes,
      H("00 00 00 1c be 99 1a 14"),  // 11 order reference number
      A("B"),                        // 19 buy/sell indicator
      H("00 00 03 e8"),              // 20 shares
      A("600519  "),                 // 24 stock
      H("00 e4 e1 c0"),              // 32 price
  });
  ASSERT_EQ(expected.size(), kAddOrderSize);
  EXPECT_EQ(encoded([](auto out) { return encode(sample_add(), false, out); }), expected);
}

TEST(Itch50EncodeTest, AddOrderWithMpidMatchesTheSpecLayout) {
  const Bytes expected = cat({A("F"), kHdrBytes, H("00 00 00 1c be 99 1a 14"), A("B"), H("00 00 03 e8"),
                              A("600519  "), H("00 e4 e1 c0"),
                              A("FRMA")});  // 36 attribution
  ASSERT_EQ(expected.size(), kAddOrderMpidSize);
  EXPECT_EQ(encoded([](auto out) { return encode(sample_add(), true, out); }), expected);
}

TEST(Itch50EncodeTest, OrderExecutedMatchesTheSpecLayout) {
  // 11 order reference, 19 executed shares, 23 match number
  const Bytes expected = cat({A("E"), kHdrBytes, H("00 00 00 00 00 00 00 05"), H("00 00 01 f4"),
                              H("00 00 00 00 00 00 00 4d")});
  ASSERT_EQ(expected.size(), kOrderExecutedSize);
  EXPECT_EQ(encoded([](auto out) { return encode(OrderExecuted{kHdr, 5, 500, 77}, out); }), expected);
}

TEST(Itch50EncodeTest, OrderCancelMatchesTheSpecLayout) {
  // 11 order reference, 19 cancelled shares
  const Bytes expected = cat({A("X"), kHdrBytes, H("00 00 00 00 00 00 00 05"), H("00 00 01 f4")});
  ASSERT_EQ(expected.size(), kOrderCancelSize);
  EXPECT_EQ(encoded([](auto out) { return encode(OrderCancel{kHdr, 5, 500}, out); }), expected);
}

TEST(Itch50EncodeTest, OrderDeleteMatchesTheSpecLayout) {
  const Bytes expected = cat({A("D"), kHdrBytes, H("00 00 00 00 00 00 00 05")});  // 11 order reference
  ASSERT_EQ(expected.size(), kOrderDeleteSize);
  EXPECT_EQ(encoded([](auto out) { return encode(OrderDelete{kHdr, 5}, out); }), expected);
}

TEST(Itch50EncodeTest, OrderReplaceMatchesTheSpecLayout) {
  // 11 original reference, 19 new reference, 27 shares, 31 price
  const Bytes expected = cat({A("U"), kHdrBytes, H("00 00 00 00 00 00 00 05"), H("00 00 00 00 00 00 00 06"),
                              H("00 00 01 f4"), H("00 e5 08 d0")});
  ASSERT_EQ(expected.size(), kOrderReplaceSize);
  EXPECT_EQ(encoded([](auto out) { return encode(OrderReplace{kHdr, 5, 6, 500, 15'010'000}, out); }), expected);
}

TEST(Itch50EncodeTest, OrderExecutedWithPriceMatchesTheSpecLayout) {
  // 11 order reference, 19 executed shares, 23 match number, 31 printable, 32 execution price
  const Bytes expected = cat({A("C"), kHdrBytes, H("00 00 00 00 00 00 00 05"), H("00 00 01 f4"),
                              H("00 00 00 00 00 00 00 4d"), A("N"), H("00 e4 e1 c0")});
  ASSERT_EQ(expected.size(), kOrderExecutedWithPriceSize);
  EXPECT_EQ(encoded([](auto out) { return encode(OrderExecutedWithPrice{kHdr, 5, 500, 77, 'N', 15'000'000}, out); }),
            expected);
}

TEST(Itch50EncodeTest, CrossTradeMatchesTheSpecLayout) {
  // 11 shares (8), 19 stock, 27 cross price, 31 match number, 39 cross type
  const Bytes expected = cat({A("Q"), kHdrBytes, H("00 00 00 01 00 00 00 00"), A("600519  "), H("00 e4 e1 c0"),
                              H("00 00 00 00 00 00 00 4d"), A("O")});
  ASSERT_EQ(expected.size(), kCrossTradeSize);
  EXPECT_EQ(encoded([](auto out) {
              return encode(CrossTrade{kHdr, 1ull << 32, Symbol::from("600519"), 15'000'000, 77, 'O'}, out);
            }),
            expected);
}

TEST(Itch50EncodeTest, TradeMatchesTheSpecLayout) {
  // 11 order reference, 19 side, 20 shares, 24 stock, 32 price, 36 match number
  const Bytes expected = cat({A("P"), kHdrBytes, H("00 00 00 00 00 00 00 00"), A("S"), H("00 00 01 f4"),
                              A("600519  "), H("00 e4 e1 c0"), H("00 00 00 00 00 00 00 4d")});
  ASSERT_EQ(expected.size(), kTradeSize);
  EXPECT_EQ(encoded([](auto out) {
              return encode(Trade{kHdr, 0, 'S', 500, Symbol::from("600519"), 15'000'000, 77}, out);
            }),
            expected);
}

TEST(Itch50EncodeTest, NoiiMatchesTheSpecLayout) {
  const Bytes expected = cat({
      A("I"), kHdrBytes,
      H("00 00 00 00 00 00 03 e8"),  // 11 paired shares
      H("00 00 00 00 00 00 01 f4"),  // 19 imbalance shares
      A("B"),                        // 27 imbalance direction
      A("600519  "),                 // 28 stock
      H("00 e5 08 d0"),              // 36 far price
      H("00 e4 e1 c0"),              // 40 near price
      H("00 e4 ba b0"),              // 44 current reference price
      A("O"),                        // 48 cross type
      A(" "),                        // 49 price variation indicator
  });
  ASSERT_EQ(expected.size(), kNoiiSize);
  const Noii m{kHdr, 1000, 500, 'B', Symbol::from("600519"), 15'010'000, 15'000'000, 14'990'000, 'O', ' '};
  EXPECT_EQ(encoded([&](auto out) { return encode(m, out); }), expected);
}

TEST(Itch50EncodeTest, TimestampKeepsItsLow48Bits) {
  const Bytes b = encoded([](auto out) { return encode(OrderDelete{{1, 0, 0xABCD'0102'0304'0506ull}, 1}, out); });
  EXPECT_EQ(Bytes(b.begin() + 5, b.begin() + 11), H("01 02 03 04 05 06"));
}

TEST(Itch50EncodeTest, EncodersWriteNothingIntoATooSmallBuffer) {
  Bytes buf(kMaxMessageSize, 0xAB);
  for (char t : {'S', 'R', 'H', 'A', 'F', 'E', 'C', 'X', 'D', 'U', 'P', 'Q', 'I'}) {
    const std::size_t size = message_size(static_cast<std::uint8_t>(t));
    Bytes zeros(size, 0);
    zeros[0] = static_cast<std::uint8_t>(t);
    Message m{};
    ASSERT_EQ(decode(zeros, m), Status::Ok);  // sets the member `t` names
    EXPECT_EQ(encode(m, std::span(buf).first(size - 1)), 0u) << t;
    EXPECT_EQ(encode(m, std::span(buf).first(size)), size) << t;
  }
}

// --- decoding ---------------------------------------------------------------------------------

TEST(Itch50DecodeTest, EveryMessageRoundTrips) {
  std::vector<Bytes> all = {
      encoded([](auto out) { return encode(SystemEvent{{0, 0, kTs}, 'Q'}, out); }),
      encoded([](auto out) { return encode(sample_directory(), out); }),
      encoded([](auto out) { return encode(StockTradingAction{kHdr, Symbol::from("1"), 'T', ' ', Alpha<4>::from("")}, out); }),
      encoded([](auto out) { return encode(sample_add(), false, out); }),
      encoded([](auto out) { return encode(sample_add(), true, out); }),
      encoded([](auto out) { return encode(OrderExecuted{kHdr, 1, 2, 3}, out); }),
      encoded([](auto out) { return encode(OrderExecutedWithPrice{kHdr, 1, 2, 3, 'N', 4}, out); }),
      encoded([](auto out) { return encode(CrossTrade{kHdr, 1, Symbol::from("X"), 2, 3, 'C'}, out); }),
      encoded([](auto out) { return encode(OrderCancel{kHdr, 1, 2}, out); }),
      encoded([](auto out) { return encode(OrderDelete{kHdr, 1}, out); }),
      encoded([](auto out) { return encode(OrderReplace{kHdr, 1, 2, 3, 4}, out); }),
      encoded([](auto out) { return encode(Trade{kHdr, 0, 'B', 1, Symbol::from("X"), 2, 3}, out); }),
      encoded([](auto out) {
        return encode(Noii{kHdr, 1, 2, 'S', Symbol::from("X"), 3, 4, 5, 'C', 'L'}, out);
      }),
  };
  for (const Bytes& b : all) {
    Message m{};
    ASSERT_EQ(decode(b, m), Status::Ok) << hex(b);
    EXPECT_EQ(static_cast<std::uint8_t>(m.type), b[0]);
    EXPECT_EQ(encoded([&](auto out) { return encode(m, out); }), b);
  }
}

TEST(Itch50DecodeTest, DecodedFieldsAreTheEncodedOnes) {
  Message m{};
  ASSERT_EQ(decode(encoded([](auto out) { return encode(sample_add(), true, out); }), m), Status::Ok);
  ASSERT_EQ(m.type, MessageType::AddOrderMpid);
  EXPECT_EQ(m.add, sample_add());
  ASSERT_EQ(decode(encoded([](auto out) { return encode(sample_add(), false, out); }), m), Status::Ok);
  ASSERT_EQ(m.type, MessageType::AddOrder);
  AddOrder plain = sample_add();
  plain.attribution = FirmName::from("");
  EXPECT_EQ(m.add, plain);
  ASSERT_EQ(decode(encoded([](auto out) { return encode(sample_directory(), out); }), m), Status::Ok);
  EXPECT_EQ(m.stock_directory, sample_directory());
}

TEST(Itch50DecodeTest, EmptyInputIsEmpty) {
  Message m{};
  EXPECT_EQ(decode({}, m), Status::Empty);
}

TEST(Itch50DecodeTest, TypesPeregrineDoesNotPublishAreUnknown) {
  Message m{};
  for (char t : {'B', 'Y', 'L', 'V', 'W', 'K', 'J', 'h', 'N', 'a', '\0'}) {
    Bytes b(40, 0);
    b[0] = static_cast<std::uint8_t>(t);
    EXPECT_EQ(decode(b, m), Status::UnknownType) << t;
  }
}

TEST(Itch50DecodeTest, EverySizeButTheRightOneIsBadLength) {
  Message m{};
  for (char t : {'S', 'R', 'H', 'A', 'F', 'E', 'C', 'X', 'D', 'U', 'P', 'Q', 'I'}) {
    const std::size_t right = message_size(static_cast<std::uint8_t>(t));
    for (std::size_t n = 1; n <= kMaxMessageSize + 1; ++n) {
      Bytes b(n, 0);
      b[0] = static_cast<std::uint8_t>(t);
      EXPECT_EQ(decode(b, m), n == right ? Status::Ok : Status::BadLength) << t << " size " << n;
    }
  }
}

}  // namespace itch50_test
}  // namespace peregrine::proto::itch
