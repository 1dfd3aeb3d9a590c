// The admin API's JSON: a writer that always emits valid JSON, and the flat-object rules on top of
// Boost.JSON's parser (every refusal an exact message naming the byte, never a crash).

#include "peregrine/ops/json.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>

namespace peregrine::ops::json {
namespace {

std::string quoted(std::string_view s) {
  std::string out;
  append_string(out, s);
  return out;
}

TEST(JsonWriterTest, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(quoted("plain"), "\"plain\"");
  EXPECT_EQ(quoted("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(quoted("\b\f\n\r\t"), "\"\\b\\f\\n\\r\\t\"");
  EXPECT_EQ(quoted(std::string_view("\x00\x01\x1f\x7f", 4)), "\"\\u0000\\u0001\\u001f\\u007f\"");
}

TEST(JsonWriterTest, PassesValidUtf8AndReplacesInvalidBytes) {
  EXPECT_EQ(quoted("贵州茅台"), "\"贵州茅台\"");
  EXPECT_EQ(quoted("\xF0\x9F\x98\x80"), "\"\xF0\x9F\x98\x80\"");
  EXPECT_EQ(quoted("a\xff" "b"), "\"a\\ufffdb\"");
  EXPECT_EQ(quoted("\xC0\xAF"), "\"\\ufffd\\ufffd\"");      // overlong '/'
  EXPECT_EQ(quoted("\xED\xA0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");  // a UTF-16 surrogate
  EXPECT_EQ(quoted("\xE4\xB8"), "\"\\ufffd\\ufffd\"");      // truncated sequence
}

TEST(JsonWriterTest, NestsObjectsAndArraysWithCommasInTheRightPlaces) {
  Writer w;
  w.begin_object().key("a").integer(-1).key("b").begin_array().unsigned_integer(1).boolean(true).null().end_array();
  w.key("c").begin_object().end_object().key("d").begin_array().end_array().end_object();
  EXPECT_EQ(w.str(), R"({"a":-1,"b":[1,true,null],"c":{},"d":[]})");
  EXPECT_EQ(w.take(), R"({"a":-1,"b":[1,true,null],"c":{},"d":[]})");
  EXPECT_EQ(w.str(), "");
}

TEST(JsonWriterTest, WritesExtremeIntegersExactly) {
  Writer w;
  w.begin_array()
      .integer(std::numeric_limits<std::int64_t>::min())
      .integer(std::numeric_limits<std::int64_t>::max())
      .unsigned_integer(std::numeric_limits<std::uint64_t>::max())
      .end_array();
  EXPECT_EQ(w.str(), "[-9223372036854775808,9223372036854775807,18446744073709551615]");
}

TEST(JsonWriterTest, WritesFixedPointPricesExactly) {
  const auto fp = [](std::int64_t v, unsigned d) {
    Writer w;
    w.fixed_point(v, d);
    return w.take();
  };
  EXPECT_EQ(fp(18000100, 4), "1800.0100");
  EXPECT_EQ(fp(1, 4), "0.0001");
  EXPECT_EQ(fp(0, 4), "0.0000");
  EXPECT_EQ(fp(-5, 4), "-0.0005");
  EXPECT_EQ(fp(-123456, 2), "-1234.56");
  EXPECT_EQ(fp(42, 0), "42");
  EXPECT_EQ(fp(std::numeric_limits<std::int64_t>::min(), 4), "-922337203685477.5808");
}

TEST(JsonParserTest, ParsesAFlatObjectOfEveryValueKind) {
  const auto r = parse_flat_object(R"( { "s" : "x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00" , "n": -12.5e+3, "i": 0,
      "t": true, "f": false, "z": null } )");
  ASSERT_TRUE(r) << r.error;
  const FlatObject& o = *r.object;
  ASSERT_EQ(o.members.size(), 6U);
  EXPECT_EQ(o.members[0].key, "s");
  EXPECT_EQ(o.find("s")->text, "x\"\\/\b\f\n\r\t\xC3\xA9\xF0\x9F\x98\x80");
  EXPECT_EQ(o.find("n")->kind, Value::Kind::Number);
  EXPECT_EQ(o.find("n")->text, "-12.5e+3");
  EXPECT_EQ(o.find("i")->text, "0");
  EXPECT_TRUE(o.find("t")->boolean);
  EXPECT_EQ(o.find("f")->kind, Value::Kind::Bool);
  EXPECT_FALSE(o.find("f")->boolean);
  EXPECT_EQ(o.find("z")->kind, Value::Kind::Null);
  EXPECT_EQ(o.find("missing"), nullptr);
}

TEST(JsonParserTest, ParsesAnEmptyObject) {
  const auto r = parse_flat_object("{}");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r.object->members.empty());
}

TEST(JsonParserTest, KeepsNumbersAsWrittenWhateverTheirSize) {
  const auto r = parse_flat_object(R"({"a":18446744073709551615,"b":184467440737095516160000,"c":-1,"d":1e3})");
  ASSERT_TRUE(r) << r.error;
  EXPECT_EQ(r.object->find("a")->text, "18446744073709551615");
  EXPECT_EQ(r.object->find("b")->text, "184467440737095516160000");
  EXPECT_EQ(r.object->find("c")->text, "-1");
  EXPECT_EQ(r.object->find("d")->text, "1e3");
}

TEST(JsonParserTest, RefusesWhatRfc8259Refuses) {
  const char* bad[] = {
      "",
      "[]",
      "\"s\"",
      "{",
      "{\"a\"}",
      "{\"a\":}",
      "{\"a\":1,}",
      "{,}",
      "{a:1}",
      "{'a':1}",
      "{\"a\":01}",
      "{\"a\":1.}",
      "{\"a\":.5}",
      "{\"a\":-}",
      "{\"a\":1e}",
      "{\"a\":+1}",
      "{\"a\":tru}",
      "{\"a\":True}",
      "{\"a\":NaN}",
      "{\"a\":\"\\x\"}",
      "{\"a\":\"\\u12\"}",
      "{\"a\":\"\\ud800\"}",
      "{\"a\":\"\\udc00\"}",
      "{\"a\":\"\\ud800\\u0041\"}",
      "{\"a\":\"tab\there\"}",
      "{\"a\":\"\xff\"}",
      "{\"a\":\"unterminated}",
      "{\"a\":1} trailing",
      "{\"a\":1}{}",
  };
  for (const char* text : bad) {
    const auto r = parse_flat_object(text);
    EXPECT_FALSE(r) << "accepted: " << text;
    EXPECT_FALSE(r.error.empty()) << text;
  }
}

TEST(JsonParserTest, RefusesNestingAndDuplicatesNamingTheField) {
  auto r = parse_flat_object(R"({"ok":1,"inner":{"a":1}})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error, "invalid JSON at byte 16: field 'inner': nested objects and arrays are not supported");
  EXPECT_EQ(r.offset, 16U);
  r = parse_flat_object(R"({"list":[1]})");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error.find("field 'list'"), std::string::npos);
  r = parse_flat_object(R"({"a":1,"a":2})");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error.find("field 'a' appears more than once"), std::string::npos);
}

TEST(JsonParserTest, ErrorMessagesNeverEchoControlBytesFromKeys) {
  const auto r = parse_flat_object("{\"a\\nb\":{}}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error.find('\n'), std::string::npos);
  EXPECT_NE(r.error.find("field 'a?b'"), std::string::npos) << r.error;
}

TEST(JsonParserTest, RefusesMoreThanTheMaximumNumberOfMembers) {
  std::string text = "{";
  for (std::size_t i = 0; i <= kMaxMembers; ++i) {
    if (i != 0) text += ",";
    text += "\"k" + std::to_string(i) + "\":1";
  }
  text += "}";
  const auto r = parse_flat_object(text);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error.find("too many fields"), std::string::npos);
}

std::string error_of(std::string_view text) {
  const auto r = parse_flat_object(text);
  return r ? "accepted" : r.error;
}

TEST(JsonParserTest, HostileInputGetsAPreciseError) {
  // Deep nesting: refused at the first bracket, however deep it goes.
  EXPECT_EQ(error_of(std::string(100000, '[')), "invalid JSON at byte 0: expected '{' at the start of the body");
  EXPECT_EQ(error_of(R"({"a":)" + std::string(100000, '{')),
            "invalid JSON at byte 5: field 'a': nested objects and arrays are not supported");
  EXPECT_EQ(error_of(R"({"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[)"),
            "invalid JSON at byte 5: field 'a': nested objects and arrays are not supported");
  // Huge numbers.
  EXPECT_EQ(error_of(R"({"a":1e99999999999999999999})"), "invalid JSON at byte 16: field 'a': number out of range");
  EXPECT_EQ(error_of(R"({"a":)" + std::string(3000, '9') + "}"), "accepted");
  EXPECT_EQ(error_of(R"({"a":01})"), "invalid JSON at byte 6: expected ',' or '}' after a field");
  EXPECT_EQ(error_of(R"({"a":1.})"), "invalid JSON at byte 7: field 'a': malformed number");
  // Bad UTF-8, in a value and in a key; bad escapes and surrogates.
  EXPECT_EQ(error_of("{\"a\":\"x\xff\"}"), "invalid JSON at byte 7: invalid UTF-8 in a string");
  EXPECT_EQ(error_of("{\"a\":\"\xC0\xAF\"}"), "invalid JSON at byte 6: invalid UTF-8 in a string");
  EXPECT_EQ(error_of("{\"\xED\xA0\x80\":1}"), "invalid JSON at byte 4: invalid UTF-8 in a string");
  EXPECT_EQ(error_of(R"({"a":"\x"})"), "invalid JSON at byte 7: bad escape in a string");
  EXPECT_EQ(error_of(R"({"a":"\u12"})"), "invalid JSON at byte 10: bad \\u escape");
  EXPECT_EQ(error_of(R"({"a":"\ud800"})"), "invalid JSON at byte 12: lone surrogate in \\u escape");
  EXPECT_EQ(error_of(R"({"a":"\ud800\u0041"})"), "invalid JSON at byte 17: lone surrogate in \\u escape");
  EXPECT_EQ(error_of(R"({"a":"\udc00"})"), "invalid JSON at byte 11: lone surrogate in \\u escape");
  EXPECT_EQ(error_of("{\"a\":\"tab\there\"}"), "invalid JSON at byte 9: control character in a string");
  EXPECT_EQ(error_of(R"({"a":"unterminated})"), "invalid JSON at byte 19: unterminated string");
  // Duplicate keys, also when spelled differently.
  EXPECT_EQ(error_of(R"({"a":1,"a":2})"), "invalid JSON at byte 7: field 'a' appears more than once");
  EXPECT_EQ(error_of(R"({"a":1,"\u0061":2})"), "invalid JSON at byte 7: field 'a' appears more than once");
  // Trailing garbage, and other places a token cannot go.
  EXPECT_EQ(error_of(R"({"a":1} trailing)"), "invalid JSON at byte 8: unexpected data after the object");
  EXPECT_EQ(error_of(R"({"a":1}{})"), "invalid JSON at byte 7: unexpected data after the object");
  EXPECT_EQ(error_of(std::string_view("{\"a\":1}\0", 8)), "invalid JSON at byte 7: unexpected data after the object");
  EXPECT_EQ(error_of(R"({"a" 1})"), "invalid JSON at byte 5: expected ':' after field 'a'");
  EXPECT_EQ(error_of(R"({"a":1,})"), "invalid JSON at byte 7: expected a field name in double quotes");
  EXPECT_EQ(error_of(R"({a:1})"), "invalid JSON at byte 1: expected a field name in double quotes");
  EXPECT_EQ(error_of(R"({"a":tru})"), "invalid JSON at byte 8: field 'a': expected a string, number, true, false or null");
  EXPECT_EQ(error_of(R"({"a":1 2})"), "invalid JSON at byte 7: expected ',' or '}' after a field");
  EXPECT_EQ(error_of("  "), "invalid JSON at byte 2: expected '{' at the start of the body");
  EXPECT_EQ(error_of(R"({"a":)"), "invalid JSON at byte 5: field 'a': expected a string, number, true, false or null");
}

TEST(JsonParserTest, RandomJsonLikeBytesGetAnObjectOrAnErrorNamingAByteWithinTheText) {
  std::mt19937 rng(17);
  const std::string_view alphabet = "{}[]:,\"\\/ \t\nabeflnrstu0123456789+-.eE\x01\x7f\xc3\xa9\xed\xa0\xff";
  std::size_t accepted = 0;
  for (int n = 0; n < 20000; ++n) {
    std::string text = n % 2 == 0 ? "{\"" : "";
    const std::size_t len = rng() % 24;
    for (std::size_t k = 0; k < len; ++k) text.push_back(alphabet[rng() % alphabet.size()]);
    const auto r = parse_flat_object(text);
    if (r) {
      ++accepted;
      continue;
    }
    ASSERT_EQ(r.error.rfind("invalid JSON at byte " + std::to_string(r.offset) + ": ", 0), 0U) << r.error;
    ASSERT_LE(r.offset, text.size()) << r.error;
  }
  EXPECT_GT(accepted, 0U);
}

TEST(JsonRoundTripTest, WhatTheWriterEscapesTheParserRestores) {
  std::string all;
  for (int c = 1; c < 0x80; ++c) all.push_back(static_cast<char>(c));
  all += "贵州茅台\xF0\x9F\x98\x80";
  Writer w;
  w.begin_object().key("k").string(all).end_object();
  const auto r = parse_flat_object(w.str());
  ASSERT_TRUE(r) << r.error;
  EXPECT_EQ(r.object->find("k")->text, all);
}

}  // namespace
}  // namespace peregrine::ops::json
