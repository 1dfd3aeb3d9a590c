#include "peregrine/ops/json.hpp"

#include <cassert>
#include <charconv>

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

void append_utf8(std::string& out, std::uint32_t cp) {
  const auto push = [&](std::uint32_t b) { out.push_back(static_cast<char>(static_cast<unsigned char>(b))); };
  if (cp < 0x80) {
    push(cp);
  } else if (cp < 0x800) {
    push(0xC0 | (cp >> 6));
    push(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    push(0xE0 | (cp >> 12));
    push(0x80 | ((cp >> 6) & 0x3F));
    push(0x80 | (cp & 0x3F));
  } else {
    push(0xF0 | (cp >> 18));
    push(0x80 | ((cp >> 12) & 0x3F));
    push(0x80 | ((cp >> 6) & 0x3F));
    push(0x80 | (cp & 0x3F));
  }
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

std::optional<std::uint64_t> Value::as_uint64() const noexcept {
  if (kind != Kind::Number || text.empty()) return std::nullopt;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  std::uint64_t v = 0;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), v);
  if (r.ec != std::errc{} || r.ptr != text.data() + text.size()) return std::nullopt;
  return v;
}

const Value* FlatObject::find(std::string_view key) const noexcept {
  for (const Member& m : members) {
    if (m.key == key) return &m.value;
  }
  return nullptr;
}

namespace {

class Parser {
 public:
  explicit Parser(std::string_view text) noexcept : s_(text) {}

  ParseResult run() {
    ParseResult result;
    FlatObject obj;
    skip_ws();
    if (!consume('{')) return fail(result, "expected '{' at the start of the body");
    skip_ws();
    if (consume('}')) return finish(result, std::move(obj));
    for (;;) {
      skip_ws();
      if (peek() != '"') return fail(result, "expected a field name in double quotes");
      const std::size_t key_start = pos_;
      std::string key;
      if (!parse_string(key)) return fail(result, error_);
      if (obj.find(key) != nullptr) {
        pos_ = key_start;
        return fail(result, "field '" + printable(key) + "' appears more than once");
      }
      if (obj.members.size() == kMaxMembers) return fail(result, "too many fields");
      skip_ws();
      if (!consume(':')) return fail(result, "expected ':' after field '" + printable(key) + "'");
      skip_ws();
      Value v;
      if (!parse_value(key, v)) return fail(result, error_);
      obj.members.push_back(FlatObject::Member{std::move(key), std::move(v)});
      skip_ws();
      if (consume(',')) continue;
      if (consume('}')) break;
      return fail(result, "expected ',' or '}' after a field");
    }
    return finish(result, std::move(obj));
  }

 private:
  /// A key made safe to quote in an error message: printable ASCII only, at most 64 bytes.
  static std::string printable(std::string_view key) {
    std::string out;
    for (const char c : key.substr(0, 64)) out.push_back(c >= 0x20 && c < 0x7F ? c : '?');
    if (key.size() > 64) out += "...";
    return out;
  }

  ParseResult finish(ParseResult& r, FlatObject obj) {
    skip_ws();
    if (pos_ != s_.size()) return fail(r, "unexpected data after the object");
    r.object = std::move(obj);
    return std::move(r);
  }

  ParseResult fail(ParseResult& r, std::string message) {
    r.object.reset();
    r.error = "invalid JSON at byte " + std::to_string(pos_) + ": " + message;
    r.offset = pos_;
    return std::move(r);
  }

  [[nodiscard]] char peek() const noexcept { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  [[nodiscard]] bool at_end() const noexcept { return pos_ >= s_.size(); }

  bool consume(char c) noexcept {
    if (!at_end() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  bool consume_word(std::string_view w) noexcept {
    if (s_.substr(pos_, w.size()) == w) {
      pos_ += w.size();
      return true;
    }
    return false;
  }

  void skip_ws() noexcept {
    while (!at_end() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }

  bool parse_value(const std::string& key, Value& v) {
    const char c = peek();
    if (c == '"') {
      v.kind = Value::Kind::String;
      return parse_string(v.text);
    }
    if (c == '{' || c == '[') {
      error_ = "field '" + printable(key) + "': nested objects and arrays are not supported";
      return false;
    }
    if (consume_word("true")) {
      v.kind = Value::Kind::Bool;
      v.boolean = true;
      return true;
    }
    if (consume_word("false")) {
      v.kind = Value::Kind::Bool;
      v.boolean = false;
      return true;
    }
    if (consume_word("null")) {
      v.kind = Value::Kind::Null;
      return true;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      v.kind = Value::Kind::Number;
      return parse_number(key, v.text);
    }
    error_ = "field '" + printable(key) + "': expected a string, number, true, false or null";
    return false;
  }

  bool digits() noexcept {
    const std::size_t start = pos_;
    while (!at_end() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
    return pos_ != start;
  }

  bool parse_number(const std::string& key, std::string& out) {
    const std::size_t start = pos_;
    consume('-');
    bool ok = true;
    if (consume('0')) {
      // a leading zero stands alone
    } else if (peek() >= '1' && peek() <= '9') {
      digits();
    } else {
      ok = false;
    }
    if (ok && consume('.')) ok = digits();
    if (ok && (peek() == 'e' || peek() == 'E')) {
      ++pos_;
      if (!consume('+')) consume('-');
      ok = digits();
    }
    if (!ok) {
      error_ = "field '" + printable(key) + "': malformed number";
      return false;
    }
    out.assign(s_.substr(start, pos_ - start));
    return true;
  }

  bool hex4(std::uint32_t& out) noexcept {
    if (pos_ + 4 > s_.size()) return false;
    out = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const char c = s_[pos_ + k];
      std::uint32_t d = 0;
      if (c >= '0' && c <= '9') {
        d = static_cast<std::uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        d = static_cast<std::uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        d = static_cast<std::uint32_t>(c - 'A' + 10);
      } else {
        return false;
      }
      out = out * 16 + d;
    }
    pos_ += 4;
    return true;
  }

  /// At an opening quote; decodes the string into `out`.
  bool parse_string(std::string& out) {
    ++pos_;  // the opening quote
    for (;;) {
      if (at_end()) {
        error_ = "unterminated string";
        return false;
      }
      const auto c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) {
        error_ = "control character in a string";
        return false;
      }
      if (c == '\\') {
        ++pos_;
        if (at_end()) {
          error_ = "unterminated string";
          return false;
        }
        const char e = s_[pos_++];
        switch (e) {
          case '"': out.push_back('"'); break;
          case '\\': out.push_back('\\'); break;
          case '/': out.push_back('/'); break;
          case 'b': out.push_back('\b'); break;
          case 'f': out.push_back('\f'); break;
          case 'n': out.push_back('\n'); break;
          case 'r': out.push_back('\r'); break;
          case 't': out.push_back('\t'); break;
          case 'u': {
            std::uint32_t cp = 0;
            if (!hex4(cp)) {
              error_ = "bad \\u escape";
              return false;
            }
            if (cp >= 0xDC00 && cp <= 0xDFFF) {
              error_ = "lone low surrogate in \\u escape";
              return false;
            }
            if (cp >= 0xD800 && cp <= 0xDBFF) {
              std::uint32_t lo = 0;
              if (!consume('\\') || !consume('u') || !hex4(lo) || lo < 0xDC00 || lo > 0xDFFF) {
                error_ = "lone high surrogate in \\u escape";
                return false;
              }
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            append_utf8(out, cp);
            break;
          }
          default:
            --pos_;
            error_ = "bad escape in a string";
            return false;
        }
        continue;
      }
      const std::size_t n = utf8_sequence_length(s_, pos_);
      if (n == 0) {
        error_ = "invalid UTF-8 in a string";
        return false;
      }
      out.append(s_.substr(pos_, n));
      pos_ += n;
    }
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  std::string error_;
};

}  // namespace

ParseResult parse_flat_object(std::string_view text) { return Parser(text).run(); }

}  // namespace peregrine::ops::json
