#include "peregrine/ops/json.hpp"

#include <cassert>
#include <charconv>
#include <string>
#include <utility>

#include <boost/json/basic_parser_impl.hpp>

namespace peregrine::ops::json {

namespace {

constexpr char kHex[] = "0123456789abcdef";

/// Length of the valid UTF-8 sequence starting at s[i], or 0 if the bytes there are not one
/// (overlong forms, surrogates and code points above U+10FFFF are invalid).
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) noexcept {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) return 1;
  std::size_t n = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    if (b0 == 0xE0) lo = 0xA0;  // overlong
    if (b0 == 0xED) hi = 0x9F;  // UTF-16 surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    if (b0 == 0xF0) lo = 0x90;  // overlong
    if (b0 == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  const unsigned char b1 = byte(i + 1);
  if (b1 < lo || b1 > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    const unsigned char b = byte(i + k);
    if (b < 0x80 || b > 0xBF) return 0;
  }
  return n;
}

}  // namespace

void append_string(std::string& out, std::string_view s) {
  out.push_back('"');
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"': out += "\\\""; ++i; continue;
      case '\\': out += "\\\\"; ++i; continue;
      case '\b': out += "\\b"; ++i; continue;
      case '\f': out += "\\f"; ++i; continue;
      case '\n': out += "\\n"; ++i; continue;
      case '\r': out += "\\r"; ++i; continue;
      case '\t': out += "\\t"; ++i; continue;
      default: break;
    }
    if (c < 0x20 || c == 0x7F) {
      out += "\\u00";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
      ++i;
      continue;
    }
    const std::size_t n = utf8_sequence_length(s, i);
    if (n == 0) {
      out += "\\ufffd";
      ++i;
      continue;
    }
    out.append(s.substr(i, n));
    i += n;
  }
  out.push_back('"');
}

void Writer::before_value() {
  if (first_.empty()) {
    assert(out_.empty() && "one top-level value per document");
    return;
  }
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_.back()) out_.push_back(',');
  first_.back() = false;
}

Writer& Writer::begin_object() {
  before_value();
  out_.push_back('{');
  first_.push_back(true);
  return *this;
}

Writer& Writer::end_object() {
  assert(!first_.empty() && !after_key_);
  out_.push_back('}');
  first_.pop_back();
  return *this;
}

Writer& Writer::begin_array() {
  before_value();
  out_.push_back('[');
  first_.push_back(true);
  return *this;
}

Writer& Writer::end_array() {
  assert(!first_.empty() && !after_key_);
  out_.push_back(']');
  first_.pop_back();
  return *this;
}

Writer& Writer::key(std::string_view k) {
  assert(!first_.empty() && !after_key_);
  if (!first_.back()) out_.push_back(',');
  first_.back() = false;
  append_string(out_, k);
  out_.push_back(':');
  after_key_ = true;
  return *this;
}

Writer& Writer::string(std::string_view v) {
  before_value();
  append_string(out_, v);
  return *this;
}

Writer& Writer::boolean(bool v) {
  before_value();
  out_ += v ? "true" : "false";
  return *this;
}

Writer& Writer::integer(std::int64_t v) {
  before_value();
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out_.append(buf, r.ptr);
  return *this;
}

Writer& Writer::unsigned_integer(std::uint64_t v) {
  before_value();
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out_.append(buf, r.ptr);
  return *this;
}

Writer& Writer::fixed_point(std::int64_t units, unsigned decimals) {
  assert(decimals <= 18);
  before_value();
  // Work on the magnitude as unsigned so INT64_MIN is fine.
  const bool negative = units < 0;
  const std::uint64_t magnitude =
      negative ? std::uint64_t{0} - static_cast<std::uint64_t>(units) : static_cast<std::uint64_t>(units);
  std::uint64_t scale = 1;
  for (unsigned i = 0; i < decimals; ++i) scale *= 10;
  if (negative) out_.push_back('-');
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, magnitude / scale);
  out_.append(buf, r.ptr);
  if (decimals > 0) {
    out_.push_back('.');
    r = std::to_chars(buf, buf + sizeof buf, magnitude % scale);
    const auto digits = static_cast<std::size_t>(r.ptr - buf);
    out_.append(decimals - digits, '0');
    out_.append(buf, r.ptr);
  }
  return *this;
}

Writer& Writer::null() {
  before_value();
  out_ += "null";
  return *this;
}

std::string Writer::take() noexcept {
  std::string s = std::move(out_);
  out_.clear();
  first_.clear();
  after_key_ = false;
  return s;
}

const Value* FlatObject::find(std::string_view key) const noexcept {
  for (const Member& m : members) {
    if (m.key == key) return &m.value;
  }
  return nullptr;
}

std::string printable(std::string_view s) {
  std::string out;
  for (const char c : s.substr(0, 64)) out.push_back(c >= 0x20 && c < 0x7F ? c : '?');
  if (s.size() > 64) out += "...";
  return out;
}

namespace {

bool is_ws(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/// Where the flat object is: what the next token must be.
enum class Expect : std::uint8_t { Open, Key, Colon, Value, Comma, Done };

/// Boost.JSON's SAX handler: builds the FlatObject and refuses what the flat-object rules refuse
/// (nesting, duplicate keys, too many members). Syntax, escapes and UTF-8 are Boost's.
struct FlatHandler {
  // No limits of Boost's own: the handler's checks give the messages.
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  FlatObject obj;
  Expect expect = Expect::Open;
  std::string key;      // the current member's name
  std::string partial;  // the text of the key or value being read
  std::string refusal;  // set when a handler refuses: the message
  std::size_t depth = 0;

  bool refuse(std::string message, boost::json::error_code& ec) {
    refusal = std::move(message);
    ec = boost::json::error::exception;
    return false;
  }
  bool nested(boost::json::error_code& ec) {
    return refuse("field '" + printable(key) + "': nested objects and arrays are not supported", ec);
  }
  bool value(Value v) {
    obj.members.push_back(FlatObject::Member{std::move(key), std::move(v)});
    key.clear();
    partial.clear();
    expect = Expect::Comma;
    return true;
  }
  bool number(boost::json::string_view s) {
    partial.append(s.data(), s.size());
    return value(Value{Value::Kind::Number, std::move(partial), false});
  }

  bool on_document_begin(boost::json::error_code&) { return true; }
  bool on_document_end(boost::json::error_code&) { return true; }
  bool on_object_begin(boost::json::error_code& ec) {
    if (depth++ != 0) return nested(ec);
    expect = Expect::Key;
    return true;
  }
  bool on_object_end(std::size_t, boost::json::error_code&) {
    --depth;
    expect = Expect::Done;
    return true;
  }
  bool on_array_begin(boost::json::error_code& ec) { return nested(ec); }
  bool on_array_end(std::size_t, boost::json::error_code&) { return true; }
  bool on_key_part(boost::json::string_view s, std::size_t, boost::json::error_code&) {
    partial.append(s.data(), s.size());
    return true;
  }
  bool on_key(boost::json::string_view s, std::size_t, boost::json::error_code& ec) {
    partial.append(s.data(), s.size());
    key = std::move(partial);
    partial.clear();
    if (obj.find(key) != nullptr) return refuse("field '" + printable(key) + "' appears more than once", ec);
    if (obj.members.size() == kMaxMembers) return refuse("too many fields", ec);
    expect = Expect::Colon;
    return true;
  }
  bool on_string_part(boost::json::string_view s, std::size_t, boost::json::error_code&) {
    partial.append(s.data(), s.size());
    return true;
  }
  bool on_string(boost::json::string_view s, std::size_t, boost::json::error_code&) {
    partial.append(s.data(), s.size());
    return value(Value{Value::Kind::String, std::move(partial), false});
  }
  bool on_number_part(boost::json::string_view s, boost::json::error_code&) {
    partial.append(s.data(), s.size());
    return true;
  }
  bool on_int64(std::int64_t, boost::json::string_view s, boost::json::error_code&) { return number(s); }
  bool on_uint64(std::uint64_t, boost::json::string_view s, boost::json::error_code&) { return number(s); }
  bool on_double(double, boost::json::string_view s, boost::json::error_code&) { return number(s); }
  bool on_bool(bool b, boost::json::error_code&) { return value(Value{Value::Kind::Bool, {}, b}); }
  bool on_null(boost::json::error_code&) { return value(Value{}); }
  bool on_comment_part(boost::json::string_view, boost::json::error_code&) { return true; }
  bool on_comment(boost::json::string_view, boost::json::error_code&) { return true; }
};

/// What was wrong inside a string, from Boost's error and the byte it stopped at.
std::string string_error(boost::json::error_code ec, std::string_view text, std::size_t at) {
  using boost::json::error;
  if (ec == error::incomplete) return "unterminated string";
  if (ec == error::illegal_trailing_surrogate || ec == error::illegal_leading_surrogate ||
      ec == error::expected_utf16_escape) {
    return "lone surrogate in \\u escape";
  }
  // A high surrogate not followed by a low one: fed byte by byte, Boost reports a syntax or hex
  // digit error, at the byte after the high surrogate or in the escape after it.
  const auto high_surrogate_at = [&](std::size_t p) {
    return p + 6 <= text.size() && text.substr(p, 2) == "\\u" && (text[p + 2] == 'd' || text[p + 2] == 'D') &&
           std::string_view("89abAB").find(text[p + 3]) != std::string_view::npos;
  };
  const std::size_t escape = text.rfind("\\u", at);
  if (escape != std::string_view::npos &&
      ((at >= escape + 6 && high_surrogate_at(escape)) || (escape >= 6 && high_surrogate_at(escape - 6)))) {
    return "lone surrogate in \\u escape";
  }
  if (ec == error::expected_hex_digit) return "bad \\u escape";
  const auto byte = [&](std::size_t i) { return i < text.size() ? static_cast<unsigned char>(text[i]) : 0U; };
  if (byte(at) >= 0x80 || (at > 0 && byte(at - 1) >= 0x80)) return "invalid UTF-8 in a string";
  if (at < text.size() && byte(at) < 0x20) return "control character in a string";
  return "bad escape in a string";
}

}  // namespace

// The text goes to Boost's parser one byte at a time, so that the byte it stops at, and where the
// current token began, are known exactly for the message. Bodies are at most a few KiB (the HTTP
// server's max_body_bytes).
ParseResult parse_flat_object(std::string_view text) {
  boost::json::basic_parser<FlatHandler> parser{boost::json::parse_options{}};
  FlatHandler& h = parser.handler();
  ParseResult result;
  std::size_t token_start = 0;
  bool in_token = false;
  const auto fail = [&](std::size_t at, const std::string& message) {
    result.error = "invalid JSON at byte " + std::to_string(at) + ": " + message;
    result.offset = at;
    return std::move(result);
  };
  const auto refused = [&](boost::json::error_code ec, std::size_t at) {
    if (!h.refusal.empty()) return fail(in_token ? token_start : at, h.refusal);
    const bool in_string = in_token && text[token_start] == '"';
    const std::string field = "field '" + printable(h.key) + "': ";
    switch (h.expect) {
      case Expect::Open:
      case Expect::Done: break;
      case Expect::Key:
        return fail(at, in_string ? string_error(ec, text, at) : "expected a field name in double quotes");
      case Expect::Colon: return fail(at, "expected ':' after field '" + printable(h.key) + "'");
      case Expect::Value: {
        if (in_string) return fail(at, string_error(ec, text, at));
        if (ec == boost::json::error::exponent_overflow) return fail(at, field + "number out of range");
        const char c = in_token ? text[token_start] : '\0';
        if (c == '-' || (c >= '0' && c <= '9')) return fail(at, field + "malformed number");
        return fail(at, field + "expected a string, number, true, false or null");
      }
      case Expect::Comma: return fail(at, "expected ',' or '}' after a field");
    }
    return fail(at, "expected '{' at the start of the body");
  };

  std::size_t i = 0;
  for (; i < text.size() && h.expect != Expect::Done; ++i) {
    const char c = text[i];
    if (h.expect == Expect::Open && !is_ws(c) && c != '{') return fail(i, "expected '{' at the start of the body");
    if ((h.expect == Expect::Key || h.expect == Expect::Value) && !in_token && !is_ws(c)) {
      in_token = true;
      token_start = i;
    }
    const Expect before = h.expect;
    boost::json::error_code ec;
    parser.write_some(true, &c, 1, ec);
    if (ec) return refused(ec, i);
    if (h.expect != before) in_token = false;
    // ':' and ',' raise no event: they move the state here.
    if (h.expect == Expect::Colon && c == ':') h.expect = Expect::Value;
    if (h.expect == Expect::Comma && c == ',') h.expect = Expect::Key;
  }
  if (h.expect != Expect::Done) {
    boost::json::error_code ec;
    parser.write_some(false, nullptr, 0, ec);
    return refused(ec ? ec : boost::json::error_code(boost::json::error::incomplete), text.size());
  }
  for (; i < text.size(); ++i) {
    if (!is_ws(text[i])) return fail(i, "unexpected data after the object");
  }
  result.object = std::move(h.obj);
  return result;
}

}  // namespace peregrine::ops::json
