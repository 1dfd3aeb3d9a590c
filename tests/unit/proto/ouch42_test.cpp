// OUCH 4.2: every message against a golden vector built from the spec's offsets, round trips,
// and every decoder error.

#include "peregrine/proto/ouch42.hpp"

#include <gtest/gtest.h>

#include "unit/proto/proto_test_util.hpp"

namespace peregrine::proto::ouch {
namespace ouch42_test {  // named, not anonymous: the sanitizer presets' unity builds compile it beside other tests

using test::A;
using test::Bytes;
using test::cat;
using test::encoded;
using test::H;
using test::hex;

// 09:30:00.123456789 in nanoseconds since midnight.
constexpr std::uint64_t kTs = 34200ull * 1'000'000'000ull + 123'456'789ull;
const Bytes kTsBytes = H("00 00 1f 1a d6 35 bd 15");

EnterOrder sample_enter() {
  return {Token::from("ORD00000000001"), 'B', 1000, Symbol::from("600519"), 15'000'000, kTifMarketHours,
          FirmName::from("FRMA"), 'Y', 'A', 'N', 0, 'N', ' '};
}

ReplaceOrder sample_replace() {
  return {Token::from("ORD00000000001"), Token::from("ORD00000000002"), 500, 15'010'000, kTifSystemHours, 'P', 'N', 0};
}

Accepted sample_accepted() {
  return {kTs, Token::from("ORD00000000001"), 'B', 1000, Symbol::from("600519"), 15'000'000, kTifMarketHours,
          FirmName::from("FRMA"), 'Y', 123456789012ull, 'A', 'N', 0, 'N', 'L', ' '};
}

Replaced sample_replaced() {
  return {kTs, Token::from("ORD00000000002"), 'S', 500, Symbol::from("600519"), 15'010'000, kTifMarketHours,
          FirmName::from("FRMA"), 'P', 77, 'A', 'N', 0, 'N', 'L', Token::from("ORD00000000001"), ' '};
}

// --- golden vectors ---------------------------------------------------------------------------

TEST(Ouch42EncodeTest, EnterOrderMatchesTheSpecLayout) {
  const Bytes expected = cat({
      A("O"),               // 0  type
      A("ORD00000000001"),  // 1  order token, 14
      A("B"),               // 15 buy/sell indicator
      H("00 00 03 e8"),     // 16 shares 1000
      A("600519  "),        // 20 stock, 8
      H("00 e4 e1 c0"),     // 28 price 1500.0000
      H("00 01 86 9e"),     // 32 time in force 99998
      A("FRMA"),            // 36 firm, 4
      A("Y"),               // 40 display
      A("A"),               // 41 capacity
      A("N"),               // 42 intermarket sweep eligibility
      H("00 00 00 00"),     // 43 minimum quantity
      A("N"),               // 47 cross type
      A(" "),               // 48 customer type
  });
  ASSERT_EQ(expected.size(), kEnterOrderSize);
  EXPECT_EQ(encoded([](auto out) { return encode(sample_enter(), out); }), expected);
}

TEST(Ouch42EncodeTest, ReplaceOrderMatchesTheSpecLayout) {
  const Bytes expected = cat({
      A("U"),               // 0  type
      A("ORD00000000001"),  // 1  existing order token
      A("ORD00000000002"),  // 15 replacement order token
      H("00 00 01 f4"),     // 29 shares 500
      H("00 e5 08 d0"),     // 33 price 1501.0000
      H("00 01 86 9f"),     // 37 time in force 99999
      A("P"),               // 41 display
      A("N"),               // 42 intermarket sweep eligibility
      H("00 00 00 00"),     // 43 minimum quantity
  });
  ASSERT_EQ(expected.size(), kReplaceOrderSize);
  EXPECT_EQ(encoded([](auto out) { return encode(sample_replace(), out); }), expected);
}

TEST(Ouch42EncodeTest, CancelOrderMatchesTheSpecLayout) {
  const Bytes expected = cat({A("X"), A("ORD00000000001"), H("00 00 00 00")});  // 0 type, 1 token, 15 shares
  ASSERT_EQ(expected.size(), kCancelOrderSize);
  EXPECT_EQ(encoded([](auto out) { return encode(CancelOrder{Token::from("ORD00000000001"), 0}, out); }), expected);
}

TEST(Ouch42EncodeTest, SystemEventMatchesTheSpecLayout) {
  const Bytes expected = cat({A("S"), kTsBytes, A("S")});  // 0 type, 1 timestamp, 9 event code
  ASSERT_EQ(expected.size(), kSystemEventSize);
  EXPECT_EQ(encoded([](auto out) { return encode(SystemEvent{kTs, 'S'}, out); }), expected);
}

TEST(Ouch42EncodeTest, AcceptedMatchesTheSpecLayout) {
  const Bytes expected = cat({
      A("A"),                       // 0  type
      kTsBytes,                     // 1  timestamp, 8
      A("ORD00000000001"),          // 9  order token
      A("B"),                       // 23 buy/sell indicator
      H("00 00 03 e8"),             // 24 shares
      A("600519  "),                // 28 stock
      H("00 e4 e1 c0"),             // 36 price
      H("00 01 86 9e"),             // 40 time in force
      A("FRMA"),                    // 44 firm
      A("Y"),                       // 48 display
      H("00 00 00 1c be 99 1a 14"), // 49 order reference number 123456789012
      A("A"),                       // 57 capacity
      A("N"),                       // 58 intermarket sweep eligibility
      H("00 00 00 00"),             // 59 minimum quantity
      A("N"),                       // 63 cross type
      A("L"),                       // 64 order state
      A(" "),                       // 65 BBO weight indicator
  });
  ASSERT_EQ(expected.size(), kAcceptedSize);
  EXPECT_EQ(encoded([](auto out) { return encode(sample_accepted(), out); }), expected);
}

TEST(Ouch42EncodeTest, ReplacedMatchesTheSpecLayout) {
  const Bytes expected = cat({
      A("U"),                       // 0  type
      kTsBytes,                     // 1  timestamp
      A("ORD00000000002"),          // 9  replacement order token
      A("S"),                       // 23 buy/sell indicator
      H("00 00 01 f4"),             // 24 shares
      A("600519  "),                // 28 stock
      H("00 e5 08 d0"),             // 36 price
      H("00 01 86 9e"),             // 40 time in force
      A("FRMA"),                    // 44 firm
      A("P"),                       // 48 display
      H("00 00 00 00 00 00 00 4d"), // 49 order reference number 77
      A("A"),                       // 57 capacity
      A("N"),                       // 58 intermarket sweep eligibility
      H("00 00 00 00"),             // 59 minimum quantity
      A("N"),                       // 63 cross type
      A("L"),                       // 64 order state
      A("ORD00000000001"),          // 65 previous order token
      A(" "),                       // 79 BBO weight indicator
  });
  ASSERT_EQ(expected.size(), kReplacedSize);
  EXPECT_EQ(encoded([](auto out) { return encode(sample_replaced(), out); }), expected);
}

TEST(Ouch42EncodeTest, CanceledMatchesTheSpecLayout) {
  // 0 type, 1 timestamp, 9 token, 23 decrement shares, 27 reason
  const Bytes expected = cat({A("C"), kTsBytes, A("ORD00000000001"), H("00 00 01 f4"), A("U")});
  ASSERT_EQ(expected.size(), kCanceledSize);
  EXPECT_EQ(encoded([](auto out) { return encode(Canceled{kTs, Token::from("ORD00000000001"), 500, 'U'}, out); }),
            expected);
}

TEST(Ouch42EncodeTest, ExecutedMatchesTheSpecLayout) {
  // 0 type, 1 timestamp, 9 token, 23 executed shares, 27 execution price, 31 liquidity, 32 match
  const Bytes expected = cat({A("E"), kTsBytes, A("ORD00000000001"), H("00 00 01 f4"), H("00 e4 e1 c0"), A("R"),
                              H("00 00 00 00 00 00 00 4d")});
  ASSERT_EQ(expected.size(), kExecutedSize);
  EXPECT_EQ(encoded([](auto out) {
              return encode(Executed{kTs, Token::from("ORD00000000001"), 500, 15'000'000, 'R', 77}, out);
            }),
            expected);
}

TEST(Ouch42EncodeTest, RejectedMatchesTheSpecLayout) {
  const Bytes expected = cat({A("J"), kTsBytes, A("ORD00000000001"), A("X")});  // 0, 1, 9 token, 23 reason
  ASSERT_EQ(expected.size(), kRejectedSize);
  EXPECT_EQ(encoded([](auto out) { return encode(Rejected{kTs, Token::from("ORD00000000001"), 'X'}, out); }),
            expected);
}

TEST(Ouch42EncodeTest, CancelRejectMatchesTheSpecLayout) {
  const Bytes expected = cat({A("I"), kTsBytes, A("ORD00000000001")});  // 0 type, 1 timestamp, 9 token
  ASSERT_EQ(expected.size(), kCancelRejectSize);
  EXPECT_EQ(encoded([](auto out) { return encode(CancelReject{kTs, Token::from("ORD00000000001")}, out); }),
            expected);
}

TEST(Ouch42EncodeTest, TaggedMessagesEncodeLikeTheirMember) {
  Outbound o{};
  o.type = OutboundType::Accepted;
  o.accepted = sample_accepted();
  EXPECT_EQ(encoded([&](auto out) { return encode(o, out); }),
            encoded([](auto out) { return encode(sample_accepted(), out); }));
  Inbound i{};
  i.type = InboundType::ReplaceOrder;
  i.replace = sample_replace();
  EXPECT_EQ(encoded([&](auto out) { return encode(i, out); }),
            encoded([](auto out) { return encode(sample_replace(), out); }));
}

TEST(Ouch42EncodeTest, EncodersWriteNothingIntoATooSmallBuffer) {
  Bytes buf(kMaxMessageSize, 0xAB);
  EXPECT_EQ(encode(sample_enter(), std::span(buf).first(kEnterOrderSize - 1)), 0u);
  EXPECT_EQ(encode(sample_replace(), std::span(buf).first(kReplaceOrderSize - 1)), 0u);
  EXPECT_EQ(encode(CancelOrder{}, std::span(buf).first(kCancelOrderSize - 1)), 0u);
  EXPECT_EQ(encode(SystemEvent{}, std::span(buf).first(kSystemEventSize - 1)), 0u);
  EXPECT_EQ(encode(sample_accepted(), std::span(buf).first(kAcceptedSize - 1)), 0u);
  EXPECT_EQ(encode(sample_replaced(), std::span(buf).first(kReplacedSize - 1)), 0u);
  EXPECT_EQ(encode(Canceled{}, std::span(buf).first(kCanceledSize - 1)), 0u);
  EXPECT_EQ(encode(Executed{}, std::span(buf).first(kExecutedSize - 1)), 0u);
  EXPECT_EQ(encode(Rejected{}, std::span(buf).first(kRejectedSize - 1)), 0u);
  EXPECT_EQ(encode(CancelReject{}, std::span(buf).first(kCancelRejectSize - 1)), 0u);
  EXPECT_EQ(buf, Bytes(kMaxMessageSize, 0xAB));
}

// --- round trips ------------------------------------------------------------------------------

TEST(Ouch42DecodeTest, InboundMessagesRoundTrip) {
  Inbound in{};
  ASSERT_EQ(decode_inbound(encoded([](auto out) { return encode(sample_enter(), out); }), in), Status::Ok);
  ASSERT_EQ(in.type, InboundType::EnterOrder);
  EXPECT_EQ(in.enter, sample_enter());

  ASSERT_EQ(decode_inbound(encoded([](auto out) { return encode(sample_replace(), out); }), in), Status::Ok);
  ASSERT_EQ(in.type, InboundType::ReplaceOrder);
  EXPECT_EQ(in.replace, sample_replace());

  const CancelOrder c{Token::from("T"), 300};
  ASSERT_EQ(decode_inbound(encoded([&](auto out) { return encode(c, out); }), in), Status::Ok);
  ASSERT_EQ(in.type, InboundType::CancelOrder);
  EXPECT_EQ(in.cancel, c);
}

TEST(Ouch42DecodeTest, OutboundMessagesRoundTrip) {
  Outbound o{};
  const auto check = [&o](const Bytes& b, OutboundType t) {
    ASSERT_EQ(decode_outbound(b, o), Status::Ok) << hex(b);
    ASSERT_EQ(o.type, t);
    EXPECT_EQ(encoded([&](auto out) { return encode(o, out); }), b);
  };
  check(encoded([](auto out) { return encode(SystemEvent{kTs, 'E'}, out); }), OutboundType::SystemEvent);
  check(encoded([](auto out) { return encode(sample_accepted(), out); }), OutboundType::Accepted);
  EXPECT_EQ(o.accepted, sample_accepted());
  check(encoded([](auto out) { return encode(sample_replaced(), out); }), OutboundType::Replaced);
  EXPECT_EQ(o.replaced, sample_replaced());
  check(encoded([](auto out) { return encode(Canceled{kTs, Token::from("C1"), 5, 'I'}, out); }),
        OutboundType::Canceled);
  check(encoded([](auto out) { return encode(Executed{kTs, Token::from("E1"), 5, 1, 'A', 9}, out); }),
        OutboundType::Executed);
  check(encoded([](auto out) { return encode(Rejected{kTs, Token::from("J1"), 'H'}, out); }),
        OutboundType::Rejected);
  check(encoded([](auto out) { return encode(CancelReject{kTs, Token::from("I1")}, out); }),
        OutboundType::CancelReject);
}

TEST(Ouch42DecodeTest, ReplaceOrderAndReplacedAreToldApartByDirection) {
  // Both are type 'U': 47 bytes from a client, 80 bytes from the exchange.
  const Bytes replace = encoded([](auto out) { return encode(sample_replace(), out); });
  const Bytes replaced = encoded([](auto out) { return encode(sample_replaced(), out); });
  Inbound in{};
  Outbound o{};
  EXPECT_EQ(decode_inbound(replace, in), Status::Ok);
  EXPECT_EQ(decode_inbound(replaced, in), Status::BadLength);
  EXPECT_EQ(decode_outbound(replaced, o), Status::Ok);
  EXPECT_EQ(decode_outbound(replace, o), Status::BadLength);
}

// --- decoder errors ---------------------------------------------------------------------------

TEST(Ouch42DecodeTest, EmptyInputIsEmpty) {
  Inbound in{};
  Outbound o{};
  EXPECT_EQ(decode_inbound({}, in), Status::Empty);
  EXPECT_EQ(decode_outbound({}, o), Status::Empty);
}

TEST(Ouch42DecodeTest, TypesOfTheOtherDirectionAreUnknown) {
  Inbound in{};
  Outbound o{};
  for (char t : {'S', 'A', 'C', 'E', 'J', 'I', 'M', 'Z', '\0'}) {
    Bytes b(50, ' ');
    b[0] = static_cast<std::uint8_t>(t);
    EXPECT_EQ(decode_inbound(b, in), Status::UnknownType) << t;
  }
  for (char t : {'O', 'X', 'M', 'D', 'B', 'K', 'P', '\xff'}) {
    Bytes b(50, ' ');
    b[0] = static_cast<std::uint8_t>(t);
    EXPECT_EQ(decode_outbound(b, o), Status::UnknownType) << t;
  }
}

TEST(Ouch42DecodeTest, EverySizeButTheRightOneIsBadLength) {
  Inbound in{};
  Outbound o{};
  for (char t : {'O', 'U', 'X'}) {
    const std::size_t right = inbound_size(static_cast<std::uint8_t>(t));
    for (std::size_t n = 1; n <= kMaxMessageSize + 1; ++n) {
      Bytes b(n, '0');
      b[0] = static_cast<std::uint8_t>(t);
      EXPECT_EQ(decode_inbound(b, in), n == right ? Status::Ok : Status::BadLength) << t << " size " << n;
    }
  }
  for (char t : {'S', 'A', 'U', 'C', 'E', 'J', 'I'}) {
    const std::size_t right = outbound_size(static_cast<std::uint8_t>(t));
    for (std::size_t n = 1; n <= kMaxMessageSize + 1; ++n) {
      Bytes b(n, '0');
      b[0] = static_cast<std::uint8_t>(t);
      EXPECT_EQ(decode_outbound(b, o), n == right ? Status::Ok : Status::BadLength) << t << " size " << n;
    }
  }
}

TEST(Ouch42DecodeTest, EnterOrderSizeWithoutCustomerTypeIsBadLength) {
  // OUCH 4.0 Enter Order had no customer type (48 bytes); 4.2 requires 49.
  Bytes b = encoded([](auto out) { return encode(sample_enter(), out); });
  b.pop_back();
  Inbound in{};
  EXPECT_EQ(decode_inbound(b, in), Status::BadLength);
}

TEST(Ouch42DecodeTest, StatusNamesAreStable) {
  EXPECT_EQ(to_string(Status::Ok), "ok");
  EXPECT_EQ(to_string(Status::Empty), "empty");
  EXPECT_EQ(to_string(Status::UnknownType), "unknown_type");
  EXPECT_EQ(to_string(Status::BadLength), "bad_length");
}

}  // namespace ouch42_test
}  // namespace peregrine::proto::ouch
