#pragma once
/// The admin API's JSON: a writer that always produces valid JSON (RFC 8259), and the request
/// body rules (one flat object whose values are strings, numbers, booleans or null) on top of
/// Boost.JSON's parser. Not for the hot path (it allocates). Any thread; no shared state.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace peregrine::ops::json {

/// Appends `s` to `out` as a JSON string literal, quotes included. Escapes '"', '\\' and every
/// control character; passes valid UTF-8 through; replaces each byte of an invalid UTF-8 sequence
/// with U+FFFD, so the output is valid JSON whatever the input.
void append_string(std::string& out, std::string_view s);

/// `s` made safe to quote in an error message or a log line: printable ASCII only (others
/// become '?'), at most 64 bytes (then "...").
std::string printable(std::string_view s);

/// Builds one JSON document. Hand-written because prices must be written as exact fixed-point
/// decimals (fixed_point(): 52.1000), which Boost.JSON's double-based serializer cannot promise.
/// Calls must nest correctly (begin/end pairs, a key before each value
/// inside an object); that is the caller's contract, checked by assert in debug builds.
class Writer {
 public:
  /// Opens an object (as a value: top level, array element, or after key()).
  Writer& begin_object();
  /// Closes the innermost object.
  Writer& end_object();
  /// Opens an array.
  Writer& begin_array();
  /// Closes the innermost array.
  Writer& end_array();
  /// The next member's name; only inside an object.
  Writer& key(std::string_view k);
  /// A string value, escaped by append_string().
  Writer& string(std::string_view v);
  /// `true` or `false`.
  Writer& boolean(bool v);
  /// A signed integer, exactly.
  Writer& integer(std::int64_t v);
  /// An unsigned integer, exactly.
  Writer& unsigned_integer(std::uint64_t v);
  /// A fixed-point decimal: `units` / 10^`decimals`, written with exactly `decimals` digits after
  /// the point (e.g. 18000100 with 4 decimals is 1800.0100). Exact: no floating point involved.
  Writer& fixed_point(std::int64_t units, unsigned decimals);
  /// `null`.
  Writer& null();

  /// The document so far.
  [[nodiscard]] const std::string& str() const noexcept { return out_; }
  /// Moves the document out; the writer is empty afterwards.
  [[nodiscard]] std::string take() noexcept;

 private:
  void before_value();
  std::string out_;
  /// Per open container: true until its first element has been written.
  std::vector<bool> first_;
  bool after_key_ = false;
};

/// One member value of a flat object.
struct Value {
  /// Which JSON type the value has.
  enum class Kind : std::uint8_t { String, Number, Bool, Null };
  /// The value's type.
  Kind kind = Kind::Null;
  /// String: the decoded UTF-8 text. Number: the literal exactly as written.
  std::string text;
  /// Bool: the value.
  bool boolean = false;
};

/// A parsed flat object, members in document order; keys are unique.
struct FlatObject {
  struct Member {
    std::string key;
    Value value;
  };
  /// The members, in document order.
  std::vector<Member> members;

  /// The member named `key`, or nullptr.
  [[nodiscard]] const Value* find(std::string_view key) const noexcept;
};

/// The outcome of parse_flat_object.
struct ParseResult {
  /// The object, when the text parsed.
  std::optional<FlatObject> object;
  /// Otherwise what was wrong, for a human: names the field when one is involved.
  std::string error;
  /// Otherwise the byte offset of the problem.
  std::size_t offset = 0;

  /// True when the text parsed.
  [[nodiscard]] explicit operator bool() const noexcept { return object.has_value(); }
};

/// The most members parse_flat_object accepts.
inline constexpr std::size_t kMaxMembers = 64;

/// Parses `text` as one JSON object whose values are strings, numbers, booleans or null
/// (whitespace around tokens allowed, nothing after the object), with Boost.JSON's parser.
/// Refuses nested objects and arrays, duplicate keys, more than kMaxMembers members, invalid
/// UTF-8, unescaped control characters, lone surrogates and anything else RFC 8259 refuses; the
/// error reads "invalid JSON at byte N: ..." and names the field when one is involved.
[[nodiscard]] ParseResult parse_flat_object(std::string_view text);

}  // namespace peregrine::ops::json
