// The YAML reader's shared pieces: exact numbers, messages' helpers, and the Parser's readers of
// one map, text, number, path and listen address that every section uses.

#include "yaml_reader.hpp"

#include <algorithm>
#include <filesystem>

namespace peregrine::config::detail {

namespace {

/// Multiplies `v` by ten and adds `digit`; false on overflow.
bool push_digit(std::uint64_t& v, unsigned digit) noexcept {
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  if (v > (kMax - digit) / 10) return false;
  v = v * 10 + digit;
  return true;
}

}  // namespace

Number parse_fixed(std::string_view s, unsigned places) {
  Number n;
  if (!s.empty() && s.front() == '-') {
    n.error = parse_fixed(s.substr(1), places).error == NumberError::Syntax ? NumberError::Syntax
                                                                             : NumberError::Negative;
    return n;
  }
  const std::size_t dot = s.find('.');
  const std::string_view whole = s.substr(0, dot);
  const std::string_view frac = dot == std::string_view::npos ? std::string_view{} : s.substr(dot + 1);
  if (whole.empty() || (dot != std::string_view::npos && frac.empty()) || !all_digits(whole) ||
      !all_digits(frac)) {
    n.error = NumberError::Syntax;
    return n;
  }
  if (frac.size() > places) {
    n.error = NumberError::TooManyPlaces;
    return n;
  }
  for (const char c : whole) {
    if (!push_digit(n.scaled, static_cast<unsigned>(c - '0'))) {
      n.error = NumberError::TooLarge;
      return n;
    }
  }
  for (std::size_t i = 0; i < places; ++i) {
    const unsigned digit = i < frac.size() ? static_cast<unsigned>(frac[i] - '0') : 0u;
    if (!push_digit(n.scaled, digit)) {
      n.error = NumberError::TooLarge;
      return n;
    }
  }
  return n;
}

std::string format_fixed(std::uint64_t scaled, unsigned places) {
  std::uint64_t unit = 1;
  for (unsigned i = 0; i < places; ++i) unit *= 10;
  std::string out = std::to_string(scaled / unit);
  std::uint64_t frac = scaled % unit;
  if (frac == 0) return out;
  std::string digits(places, '0');
  for (unsigned i = places; i > 0; --i) {
    digits[i - 1] = static_cast<char>('0' + frac % 10);
    frac /= 10;
  }
  while (!digits.empty() && digits.back() == '0') digits.pop_back();
  return out + "." + digits;
}

const Entry* find_entry(const std::vector<Entry>& entries, std::string_view key) noexcept {
  for (const Entry& e : entries) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

std::string_view yaml_key(std::string_view field) noexcept {
  if (field == "limit_bps") return "limit_pct";
  if (field == "cage_bps") return "cage_pct";
  return field;
}

std::string join(std::string_view path, std::string_view key) {
  if (path.empty()) return std::string(key);
  if (key.empty()) return std::string(path);
  return std::string(path) + "." + std::string(key);
}

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return in_quotes(node.Scalar());
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0u : 1u)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

std::string list_words(std::span<const std::string_view> words) {
  std::string out;
  for (const std::string_view w : words) {
    if (!out.empty()) out += ", ";
    out += w;
  }
  return out;
}

std::vector<Entry> Parser::read_map(const YAML::Node& node, int line, const std::string& path,
                                    std::span<const std::string_view> keys, std::string_view what) const {
  if (!node.IsMap()) {
    fail(line, path, "must be " + std::string(what) + " (keys: " + list_words(keys) + "), got " + describe(node));
  }
  std::vector<Entry> entries;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node key_node = it->first;
    const int key_line = line_of(key_node.Mark());
    if (!key_node.IsScalar()) fail(key_line, path, "keys must be plain words, got " + describe(key_node));
    std::string key = key_node.Scalar();
    const std::string key_path = join(path, key);
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
      // Suggest a close match: a typo ("refrence_price") or a longer spelling ("tick_size").
      std::string_view best;
      std::size_t best_distance = 3;
      for (const std::string_view k : keys) {
        const std::size_t d = edit_distance(key, k);
        if (d < best_distance) {
          best = k;
          best_distance = d;
        }
      }
      if (best.empty() && key.size() >= 3) {
        for (const std::string_view k : keys) {
          if (k.find(key) != std::string_view::npos || key.find(k) != std::string::npos) {
            best = k;
            break;
          }
        }
      }
      if (!best.empty()) fail(key_line, key_path, "unknown key; did you mean '" + std::string(best) + "'?");
      fail(key_line, key_path, "unknown key; expected one of: " + list_words(keys));
    }
    if (const Entry* first = find_entry(entries, key)) {
      fail(key_line, key_path, "given twice (first at line " + std::to_string(first->line) + ")");
    }
    entries.push_back(Entry{std::move(key), key_line, it->second});
  }
  return entries;
}

std::string Parser::read_text(const Entry& e, const std::string& path, std::string_view what) const {
  if (!e.value.IsScalar()) fail(e.line, path, "must be " + std::string(what) + ", got " + describe(e.value));
  return e.value.Scalar();
}

std::uint64_t Parser::read_number(const Entry& e, const std::string& path, const NumberSpec& spec) const {
  const std::string text = read_text(e, path, spec.what);
  const Number n = parse_fixed(text, spec.places);
  const std::string got = ", got " + in_quotes(text);
  switch (n.error) {
    case NumberError::None:
      break;
    case NumberError::Syntax:
      fail(e.line, path, std::string("must be ") + spec.what + got);
    case NumberError::Negative:
      fail(e.line, path, "must not be negative" + got);
    case NumberError::TooManyPlaces:
      fail(e.line, path, spec.off_step + got);
    case NumberError::TooLarge:
      fail(e.line, path, "must be at most " + format_fixed(spec.max, spec.places) + got);
  }
  if (n.scaled > spec.max) fail(e.line, path, "must be at most " + format_fixed(spec.max, spec.places) + got);
  if (n.scaled == 0 && spec.zero != nullptr) fail(e.line, path, spec.zero + got);
  return n.scaled;
}

std::string Parser::read_path(const Entry& e, const std::string& path) const {
  const std::string text = read_text(e, path, "a file path");
  if (text.empty()) fail(e.line, path, "must not be empty");
  const std::filesystem::path p(text);
  if (p.is_absolute() || base_dir_.empty() || base_dir_ == ".") return text;
  return (std::filesystem::path(base_dir_) / p).lexically_normal().string();
}

std::vector<Entry> Parser::read_single(const Entry& section, std::string_view name,
                                       std::span<const std::string_view> keys) {
  SectionPlace& place = places_[std::string(name)];
  place.line = section.line;
  place.keys = keys;
  std::vector<Entry> fields = read_map(section.value, section.line, std::string(name), keys, "a map");
  EntryPlace& ep = place.entries.emplace_back();
  ep.line = section.line;
  for (const Entry& e : fields) ep.fields.emplace_back(e.key, e.line);
  return fields;
}

void Parser::read_listen(const Entry& e, const std::string& path, bool allow_zero, ListenAddress& out) const {
  const Parsed<ListenAddress> a = parse_listen(read_text(e, path, "host:port"), allow_zero);
  if (!a) fail(e.line, path, a.error);
  out = *a.value;
}

int Parser::line_in(std::string_view section, std::string_view key) const {
  const auto it = places_.find(section);
  if (it == places_.end()) return 1;
  if (!it->second.entries.empty()) {
    if (const int l = it->second.entries.front().field_line(key); l > 0) return l;
  }
  return std::max(1, it->second.line);
}

}  // namespace peregrine::config::detail
