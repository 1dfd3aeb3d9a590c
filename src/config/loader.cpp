// Loads an EngineConfig from YAML. See docs/configuration.md for the file format.
//
// Numbers are read from the YAML text itself, never through floating point: "12.34" is 1234
// hundredths, scaled to 123400. Every key is checked against the keys allowed where it appears,
// so a typo is an error rather than a silently ignored default.

#include "peregrine/config/loader.hpp"

#include "peregrine/config/service.hpp"
#include "peregrine/core/codes.hpp"
#include "peregrine/ingress/packet.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace peregrine::config {

namespace {

std::string format_what(const std::string& file, int line, const std::string& field,
                        const std::string& reason) {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line);
  out += ": ";
  if (!field.empty()) out += field + ": ";
  out += reason;
  return out;
}

}  // namespace

ConfigError::ConfigError(std::string file, int line, std::string field, std::string reason)
    : std::runtime_error(format_what(file, line, field, reason)),
      file_(std::move(file)),
      line_(line),
      field_(std::move(field)),
      reason_(std::move(reason)) {}

namespace {

// ---------------------------------------------------------------------------------------------
// Exact decimal numbers.

enum class NumberError : std::uint8_t { None, Syntax, Negative, TooManyPlaces, TooLarge };

struct Number {
  std::uint64_t scaled = 0;  ///< the value × 10^places
  NumberError error = NumberError::None;
};

bool all_digits(std::string_view s) noexcept {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// Multiplies `v` by ten and adds `digit`; false on overflow.
bool push_digit(std::uint64_t& v, unsigned digit) noexcept {
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  if (v > (kMax - digit) / 10) return false;
  v = v * 10 + digit;
  return true;
}

/// Parses "123" or "12.34" (digits, optionally a point and more digits) into value × 10^places,
/// exactly. No sign, exponent, separators or spaces; a leading '-' is reported as Negative.
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

/// `scaled` / 10^places as decimal text without trailing zeros: (123400, 4) -> "12.34".
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

/// How a numeric field is written and what it may hold.
struct NumberSpec {
  unsigned places;         ///< decimal places kept (4 for CNY, 2 for percent, 0 for counts)
  std::uint64_t max;       ///< largest scaled value
  const char* zero;        ///< message for 0, or nullptr when 0 is allowed
  const char* what;        ///< "must be <what>" for text that is not a number
  const char* off_step;    ///< message for too many decimal places
};

constexpr std::uint64_t kInt64Max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
constexpr std::uint64_t kUint32Max = std::numeric_limits<std::uint32_t>::max();
constexpr std::uint64_t kUint64Max = std::numeric_limits<std::uint64_t>::max();

/// OUCH's price field is a signed 32-bit integer; no price above it can be traded or quoted.
constexpr std::uint64_t kMaxWirePrice = static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max());

constexpr NumberSpec kPrice{4, kMaxWirePrice, "must be a positive multiple of 0.0001",
                            "a price in CNY such as \"12.34\"", "must be a positive multiple of 0.0001"};
constexpr NumberSpec kShares{0, kUint32Max, "must be positive", "a whole number of shares",
                             "must be a whole number of shares"};
constexpr NumberSpec kSharesOrNone{0, kUint32Max, nullptr, "a whole number of shares (0 = no limit)",
                                   "must be a whole number of shares"};
constexpr NumberSpec kShares64OrNone{0, kUint64Max, nullptr, "a whole number of shares (0 = no limit)",
                                     "must be a whole number of shares"};
constexpr NumberSpec kAmountOrNone{4, kInt64Max, nullptr,
                                   "an amount in CNY such as \"50000000\" or \"1234.56\" (0 = no limit)",
                                   "must be a multiple of 0.0001 CNY"};
constexpr NumberSpec kPercent{2, 10000, nullptr, "a percentage such as 10 or \"2.5\"",
                              "must be a multiple of 0.01 (a whole number of basis points)"};
constexpr NumberSpec kCount{0, kUint32Max, "must be positive", "a whole number", "must be a whole number"};
constexpr NumberSpec kCountOrNone{0, kUint32Max, nullptr, "a whole number (0 = no limit)", "must be a whole number"};
constexpr NumberSpec kBytes{0, kUint64Max, "must be positive", "a whole number of bytes",
                            "must be a whole number of bytes"};

/// Smallest gateway.max_outbound_queue_bytes: room for a few of the largest messages.
constexpr std::uint64_t kMinOutboundQueueBytes = 1024;

// ---------------------------------------------------------------------------------------------
// Locations, so that check_config() issues can be reported at a line.

int line_of(const YAML::Mark& m) noexcept { return m.is_null() ? 0 : m.line + 1; }

/// A key: value pair of a YAML map and the 1-based line of its key.
struct Entry {
  std::string key;
  int line;
  YAML::Node value;
};

const Entry* find_entry(const std::vector<Entry>& entries, std::string_view key) noexcept {
  for (const Entry& e : entries) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

/// Where one entry of a section (one instrument, one firm, the engine map) was written.
struct EntryPlace {
  int line = 0;                                      ///< first line of the entry
  std::vector<std::pair<std::string, int>> fields;  ///< key and line of each field given
  std::string board;                                 ///< board preset, if any
  int board_line = 0;

  [[nodiscard]] int field_line(std::string_view key) const noexcept {
    for (const auto& [k, l] : fields) {
      if (k == key) return l;
    }
    return 0;
  }
};

/// Where a top-level section was written.
struct SectionPlace {
  int line = 0;                          ///< line of the section's key
  bool list = false;                     ///< a list of entries (else a single map, entries[0])
  std::span<const std::string_view> keys;  ///< the keys allowed in each entry
  std::vector<EntryPlace> entries;
};

// ---------------------------------------------------------------------------------------------
// Choices.

struct BoardPreset {
  std::string_view name;
  Qty lot_size;
  Qty min_qty;
  Qty max_order_qty;
  std::uint32_t limit_bps;
  std::uint32_t cage_bps;
};

/// docs/market-rules.md, "Instruments (reference data)". Tick and odd-lot sells are the same on
/// every board (0.01, true) and come from InstrumentConfig's defaults.
constexpr std::array<BoardPreset, 4> kBoards{{
    {"main", Qty{100}, Qty{100}, Qty{1000000}, 1000, 0},
    {"star", Qty{1}, Qty{200}, Qty{100000}, 2000, 200},
    {"chinext", Qty{100}, Qty{100}, Qty{300000}, 2000, 200},
    {"risk_warning", Qty{100}, Qty{100}, Qty{1000000}, 500, 0},
}};

/// Fields a board preset fills in.
constexpr std::array<std::string_view, 5> kBoardFields{"lot_size", "min_qty", "max_order_qty", "limit_pct",
                                                       "cage_pct"};

template <typename T>
struct Choice {
  std::string_view name;
  T value;
};

constexpr std::array<Choice<StpMode>, 5> kStpModes{{
    {"none", StpMode::None},
    {"cancel_newest", StpMode::CancelNewest},
    {"cancel_oldest", StpMode::CancelOldest},
    {"cancel_both", StpMode::CancelBoth},
    {"decrement", StpMode::Decrement},
}};

constexpr auto kStatuses = [] {
  std::array<Choice<TradingStatus>, kTradingStatusNames.size()> a{};
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = {kTradingStatusNames[i].second, kTradingStatusNames[i].first};
  return a;
}();

constexpr std::array<Choice<bool>, 2> kBools{{{"true", true}, {"false", false}}};

/// The YAML key for a field name check_config() may use (InstrumentConfig member names).
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

std::string in_quotes(std::string_view s) { return "\"" + std::string(s) + "\""; }

/// A short description of a node, for "got ..." in messages.
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

template <typename Rule, std::size_t N>
constexpr std::array<std::string_view, N> keys_of(const std::array<Rule, N>& rules) {
  std::array<std::string_view, N> keys{};
  for (std::size_t i = 0; i < N; ++i) keys[i] = rules[i].key;
  return keys;
}

// ---------------------------------------------------------------------------------------------

class Parser {
 public:
  /// `base_dir`: where relative paths in the file are taken from.
  Parser(const std::string& file, std::string base_dir) : file_(file), base_dir_(std::move(base_dir)) {}

  ServiceConfig parse(std::string_view text);

 private:
  /// A top-level section: its key, whether it must be present, and how to read it.
  struct Section {
    std::string_view key;
    bool required;
    void (Parser::*read)(const Entry&, ServiceConfig&);
  };

  /// A field of an entry: its key and how to store it.
  template <typename Target>
  struct Field {
    std::string_view key;
    void (*read)(const Parser&, const Entry&, const std::string& path, Target&);
  };

  [[noreturn]] void fail(int line, std::string field, std::string reason) const {
    throw ConfigError(file_, line, std::move(field), std::move(reason));
  }

  std::vector<Entry> read_map(const YAML::Node& node, int line, const std::string& path,
                              std::span<const std::string_view> keys, std::string_view what) const;
  std::string read_text(const Entry& e, const std::string& path, std::string_view what) const;
  std::uint64_t read_number(const Entry& e, const std::string& path, const NumberSpec& spec) const;
  template <typename T, std::size_t N>
  T read_choice(const Entry& e, const std::string& path, const std::array<Choice<T>, N>& choices) const;

  std::string read_path(const Entry& e, const std::string& path) const;
  /// A `host:port` field into `out`; `allow_zero` as in parse_listen().
  void read_listen(const Entry& e, const std::string& path, bool allow_zero, ListenAddress& out) const;
  std::vector<Entry> read_single(const Entry& section, std::string_view name,
                                 std::span<const std::string_view> keys);

  void read_engine(const Entry& section, ServiceConfig& svc);
  void read_instruments(const Entry& section, ServiceConfig& svc);
  void read_firms(const Entry& section, ServiceConfig& svc);
  void read_users(const Entry& section, ServiceConfig& svc);
  void read_credentials_file(const Entry& section, ServiceConfig& svc);
  void read_gateway(const Entry& section, ServiceConfig& svc);
  void read_core(const Entry& section, ServiceConfig& svc);
  void read_admin(const Entry& section, ServiceConfig& svc);
  void read_tuning(const Entry& section, ServiceConfig& svc);
  void read_ingress(const Entry& section, ServiceConfig& svc);
  void read_market(const Entry& section, ServiceConfig& svc);
  void read_journal(const Entry& section, ServiceConfig& svc);
  std::uint32_t read_time_of_day(const YAML::Node& node, int line, const std::string& path) const;

  /// Line of `key` in the single-map section `section`, else the section's line, else 1.
  [[nodiscard]] int line_in(std::string_view section, std::string_view key) const;

  [[noreturn]] void fail_issue(const ConfigIssue& issue) const;

  static const std::array<Field<InstrumentConfig>, 12> kInstrumentFields;
  static const std::array<std::string_view, 12> kInstrumentKeys;
  static const std::array<Field<FirmConfig>, 5> kFirmFields;
  static const std::array<std::string_view, 5> kFirmKeys;
  static const std::array<Field<EngineConfig>, 2> kEngineFields;
  static const std::array<std::string_view, 2> kEngineKeys;
  static const std::array<Field<UserConfig>, 4> kUserFields;
  static const std::array<std::string_view, 4> kUserKeys;
  static const std::array<Field<GatewayConfig>, 9> kGatewayFields;
  static const std::array<std::string_view, 9> kGatewayKeys;
  static const std::array<Field<CoreConfig>, 2> kCoreFields;
  static const std::array<std::string_view, 2> kCoreKeys;
  static const std::array<Field<AdminConfig>, 1> kAdminFields;
  static const std::array<std::string_view, 1> kAdminKeys;
  static const std::array<Field<TuningConfig>, 4> kTuningFields;
  static const std::array<std::string_view, 4> kTuningKeys;
  static const std::array<Field<IngressConfig>, 12> kIngressFields;
  static const std::array<std::string_view, 12> kIngressKeys;
  static const std::array<Field<ServiceConfig>, 6> kMarketFields;
  static const std::array<std::string_view, 6> kMarketKeys;
  static const std::array<Field<JournalConfig>, 8> kJournalFields;
  static const std::array<std::string_view, 8> kJournalKeys;

  const std::string& file_;
  std::string base_dir_;
  std::map<std::string, SectionPlace, std::less<>> places_;
};

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

template <typename T, std::size_t N>
T Parser::read_choice(const Entry& e, const std::string& path, const std::array<Choice<T>, N>& choices) const {
  std::array<std::string_view, N> names{};
  for (std::size_t i = 0; i < N; ++i) names[i] = choices[i].name;
  const std::string what = "one of " + list_words(names);
  const std::string text = read_text(e, path, what);
  for (const Choice<T>& c : choices) {
    if (c.name == text) return c.value;
  }
  fail(e.line, path, "must be " + what + "; got " + in_quotes(text));
}

// --- engine ----------------------------------------------------------------------------------

const std::array<Parser::Field<EngineConfig>, 2> Parser::kEngineFields{{
    {"max_orders",
     [](const Parser& p, const Entry& e, const std::string& path, EngineConfig& c) {
       c.max_orders = static_cast<std::uint32_t>(p.read_number(e, path, kCount));
     }},
    {"max_tokens",
     [](const Parser& p, const Entry& e, const std::string& path, EngineConfig& c) {
       c.max_tokens = static_cast<std::uint32_t>(p.read_number(e, path, kCount));
     }},
}};
const std::array<std::string_view, 2> Parser::kEngineKeys = keys_of(kEngineFields);

void Parser::read_engine(const Entry& section, ServiceConfig& svc) {
  EngineConfig& cfg = svc.engine;
  SectionPlace& place = places_["engine"];
  place.line = section.line;
  place.keys = kEngineKeys;
  const std::vector<Entry> fields = read_map(section.value, section.line, "engine", kEngineKeys, "a map");
  EntryPlace& ep = place.entries.emplace_back();
  ep.line = section.line;
  for (const Entry& e : fields) {
    ep.fields.emplace_back(e.key, e.line);
    for (const auto& f : kEngineFields) {
      if (f.key == e.key) f.read(*this, e, join("engine", e.key), cfg);
    }
  }
}

// --- instruments -----------------------------------------------------------------------------

const std::array<Parser::Field<InstrumentConfig>, 12> Parser::kInstrumentFields{{
    {"symbol",
     [](const Parser& p, const Entry& e, const std::string& path, InstrumentConfig& c) {
       const std::string s = p.read_text(e, path, "six digits such as \"600519\"");
       if (s.size() != 6 || !all_digits(s)) p.fail(e.line, path, "must be exactly six digits, got " + in_quotes(s));
       c.symbol = Symbol::from(s);
     }},
    {"name",
     [](const Parser& p, const Entry& e, const std::string& path, InstrumentConfig& c) {
       c.name = p.read_text(e, path, "text");
     }},
    {"board", [](const Parser&, const Entry&, const std::string&, InstrumentConfig&) {}},  // applied first
    {"reference_price",
     [](const Parser& p, const Entry& e, const std::string& path, InstrumentConfig& c) {
       c.reference_price = Price{static_cast<std::int64_t>(p.read_number(e, path, kPrice))};
     }},
    {"tick",
     [](const Parser& p, const Entry& e, const std::string& path, InstrumentConfig& c) {
       c.tick = Price{static_cast<std::int64_t>(p.read_number(e, path, kPrice))};
     }},
    {"lot_size",
     [](const Parser& p, const Entry& e, const std::string& path, InstrumentConfig& c) {
       c.lot_size = Qty{static_cast<std::uint32_t>(p.read_number(e, path, kShares))};
     }},
    {"min_qty",
     [](const Parser& p, const Entry& e, const std::string& path, InstrumentConfig& c) {
       c.min_qty = Qty{static_cast<std::uint32_t>(p.read_number(e, path, kShares))};
     }},
    {"max_order_qty",
     [](const Parser& p, const Entry& e, const std::string& path, InstrumentConfig& c) {
       c.max_order_qty = Qty{static_cast<std::uint32_t>(p.read_number(e, path, kShares))};
     }},
    {"odd_lot_sell",
     [](const Parser& p, const Entry& e, const std::string& path, InstrumentConfig& c) {
       c.odd_lot_sell = p.read_choice(e, path, kBools);
     }},
    {"limit_pct",
     [](const Parser& p, const Entry& e, const std::string& path, InstrumentConfig& c) {
       c.limit_bps = static_cast<std::uint32_t>(p.read_number(e, path, kPercent));
     }},
    {"cage_pct",
     [](const Parser& p, const Entry& e, const std::string& path, InstrumentConfig& c) {
       c.cage_bps = static_cast<std::uint32_t>(p.read_number(e, path, kPercent));
     }},
    {"initial_status",
     [](const Parser& p, const Entry& e, const std::string& path, InstrumentConfig& c) {
       c.initial_status = p.read_choice(e, path, kStatuses);
     }},
}};
const std::array<std::string_view, 12> Parser::kInstrumentKeys = keys_of(kInstrumentFields);

void Parser::read_instruments(const Entry& section, ServiceConfig& svc) {
  EngineConfig& cfg = svc.engine;
  SectionPlace& place = places_["instruments"];
  place.line = section.line;
  place.list = true;
  place.keys = kInstrumentKeys;
  if (!section.value.IsSequence()) {
    fail(section.line, "instruments", "must be a list of instruments, got " + describe(section.value));
  }
  std::size_t index = 0;
  for (auto it = section.value.begin(); it != section.value.end(); ++it, ++index) {
    const YAML::Node item = *it;
    const std::string path = "instruments[" + std::to_string(index) + "]";
    const int line = line_of(item.Mark());
    const std::vector<Entry> fields = read_map(item, line, path, kInstrumentKeys, "an instrument");
    EntryPlace& ep = place.entries.emplace_back();
    ep.line = line;
    for (const Entry& e : fields) ep.fields.emplace_back(e.key, e.line);

    InstrumentConfig inst;
    if (const Entry* b = find_entry(fields, "board")) {
      std::array<Choice<const BoardPreset*>, kBoards.size()> boards{};
      for (std::size_t i = 0; i < kBoards.size(); ++i) boards[i] = {kBoards[i].name, &kBoards[i]};
      const BoardPreset* preset = read_choice(*b, join(path, "board"), boards);
      inst.lot_size = preset->lot_size;
      inst.min_qty = preset->min_qty;
      inst.max_order_qty = preset->max_order_qty;
      inst.limit_bps = preset->limit_bps;
      inst.cage_bps = preset->cage_bps;
      ep.board = preset->name;
      ep.board_line = b->line;
    }
    for (const Entry& e : fields) {
      for (const auto& f : kInstrumentFields) {
        if (f.key == e.key) f.read(*this, e, join(path, e.key), inst);
      }
    }
    if (find_entry(fields, "symbol") == nullptr) {
      fail(line, join(path, "symbol"), "is required (six digits such as \"600519\")");
    }
    if (find_entry(fields, "reference_price") == nullptr) {
      fail(line, join(path, "reference_price"), "is required (the previous close in CNY, such as \"12.34\")");
    }
    for (std::size_t j = 0; j < cfg.instruments.size(); ++j) {
      if (cfg.instruments[j].symbol == inst.symbol) {
        fail(ep.field_line("symbol"), join(path, "symbol"),
             "duplicate symbol " + in_quotes(inst.symbol.view()) + ", already used by instruments[" +
                 std::to_string(j) + "] at line " + std::to_string(place.entries[j].field_line("symbol")));
      }
    }
    cfg.instruments.push_back(std::move(inst));
  }
}

// --- firms -----------------------------------------------------------------------------------

const std::array<Parser::Field<FirmConfig>, 5> Parser::kFirmFields{{
    {"name",
     [](const Parser& p, const Entry& e, const std::string& path, FirmConfig& c) {
       const std::string s = p.read_text(e, path, "1 to 4 uppercase letters or digits");
       const bool ok = !s.empty() && s.size() <= 4 && std::all_of(s.begin(), s.end(), [](char ch) {
         return (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
       });
       if (!ok) p.fail(e.line, path, "must be 1 to 4 uppercase letters or digits, got " + in_quotes(s));
       c.name = FirmName::from(s);
     }},
    {"stp",
     [](const Parser& p, const Entry& e, const std::string& path, FirmConfig& c) {
       c.stp = p.read_choice(e, path, kStpModes);
     }},
    {"max_order_qty",
     [](const Parser& p, const Entry& e, const std::string& path, FirmConfig& c) {
       c.max_order_qty = Qty{static_cast<std::uint32_t>(p.read_number(e, path, kSharesOrNone))};
     }},
    {"max_order_notional",
     [](const Parser& p, const Entry& e, const std::string& path, FirmConfig& c) {
       c.max_order_notional = static_cast<std::int64_t>(p.read_number(e, path, kAmountOrNone));
     }},
    {"max_open_shares",
     [](const Parser& p, const Entry& e, const std::string& path, FirmConfig& c) {
       c.max_open_shares = p.read_number(e, path, kShares64OrNone);
     }},
}};
const std::array<std::string_view, 5> Parser::kFirmKeys = keys_of(kFirmFields);

void Parser::read_firms(const Entry& section, ServiceConfig& svc) {
  EngineConfig& cfg = svc.engine;
  SectionPlace& place = places_["firms"];
  place.line = section.line;
  place.list = true;
  place.keys = kFirmKeys;
  if (!section.value.IsSequence()) {
    fail(section.line, "firms", "must be a list of firms, got " + describe(section.value));
  }
  std::size_t index = 0;
  for (auto it = section.value.begin(); it != section.value.end(); ++it, ++index) {
    const YAML::Node item = *it;
    const std::string path = "firms[" + std::to_string(index) + "]";
    const int line = line_of(item.Mark());
    const std::vector<Entry> fields = read_map(item, line, path, kFirmKeys, "a firm");
    EntryPlace& ep = place.entries.emplace_back();
    ep.line = line;
    for (const Entry& e : fields) ep.fields.emplace_back(e.key, e.line);

    FirmConfig firm;
    for (const Entry& e : fields) {
      for (const auto& f : kFirmFields) {
        if (f.key == e.key) f.read(*this, e, join(path, e.key), firm);
      }
    }
    if (find_entry(fields, "name") == nullptr) {
      fail(line, join(path, "name"), "is required (1 to 4 uppercase letters or digits, such as \"FRMA\")");
    }
    for (std::size_t j = 0; j < cfg.firms.size(); ++j) {
      if (cfg.firms[j].name == firm.name) {
        fail(ep.field_line("name"), join(path, "name"),
             "duplicate firm name " + in_quotes(firm.name.view()) + ", already used by firms[" + std::to_string(j) +
                 "] at line " + std::to_string(place.entries[j].field_line("name")));
      }
    }
    cfg.firms.push_back(firm);
  }
}

// --- service sections: users, credentials_file, gateway, core, admin, tuning --------------------

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

bool is_alnum(std::string_view s) noexcept {
  return std::all_of(s.begin(), s.end(), [](char ch) {
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
  });
}

const std::array<Parser::Field<UserConfig>, 4> Parser::kUserFields{{
    {"username",
     [](const Parser& p, const Entry& e, const std::string& path, UserConfig& c) {
       const std::string s = p.read_text(e, path, "1 to 6 letters or digits");
       if (s.empty() || s.size() > 6 || !is_alnum(s)) {
         p.fail(e.line, path, "must be 1 to 6 letters or digits (SoupBinTCP Username), got " + in_quotes(s));
       }
       c.username = s;
     }},
    {"firm",
     [](const Parser& p, const Entry& e, const std::string& path, UserConfig& c) {
       c.firm = p.read_text(e, path, "a firm name");  // checked against the firms by read_users
     }},
    {"cancel_on_disconnect",
     [](const Parser& p, const Entry& e, const std::string& path, UserConfig& c) {
       c.cancel_on_disconnect = p.read_choice(e, path, kBools);
     }},
    {"throttle_per_second",
     [](const Parser& p, const Entry& e, const std::string& path, UserConfig& c) {
       c.throttle_per_second = static_cast<std::uint32_t>(p.read_number(e, path, kCountOrNone));
     }},
}};
const std::array<std::string_view, 4> Parser::kUserKeys = keys_of(kUserFields);

void Parser::read_users(const Entry& section, ServiceConfig& svc) {
  SectionPlace& place = places_["users"];
  place.line = section.line;
  place.list = true;
  place.keys = kUserKeys;
  if (!section.value.IsSequence()) {
    fail(section.line, "users", "must be a list of users, got " + describe(section.value));
  }
  std::size_t index = 0;
  for (auto it = section.value.begin(); it != section.value.end(); ++it, ++index) {
    const YAML::Node item = *it;
    const std::string path = "users[" + std::to_string(index) + "]";
    const int line = line_of(item.Mark());
    const std::vector<Entry> fields = read_map(item, line, path, kUserKeys, "a user");
    EntryPlace& ep = place.entries.emplace_back();
    ep.line = line;
    for (const Entry& e : fields) ep.fields.emplace_back(e.key, e.line);

    UserConfig user;
    user.line = line;
    for (const Entry& e : fields) {
      for (const auto& f : kUserFields) {
        if (f.key == e.key) f.read(*this, e, join(path, e.key), user);
      }
    }
    if (find_entry(fields, "username") == nullptr) {
      fail(line, join(path, "username"), "is required (1 to 6 letters or digits, such as \"DEMO1\")");
    }
    if (find_entry(fields, "firm") == nullptr) {
      fail(line, join(path, "firm"), "is required (the name of one of the firms)");
    }
    const bool known_firm = std::any_of(svc.engine.firms.begin(), svc.engine.firms.end(),
                                        [&](const FirmConfig& f) { return f.name.view() == user.firm; });
    if (!known_firm) {
      std::vector<std::string_view> names;
      for (const FirmConfig& f : svc.engine.firms) names.push_back(f.name.view());
      fail(ep.field_line("firm"), join(path, "firm"),
           "no firm named " + in_quotes(user.firm) + " in firms (" + list_words(names) + ")");
    }
    for (std::size_t j = 0; j < svc.users.size(); ++j) {
      if (svc.users[j].username == user.username) {
        fail(ep.field_line("username"), join(path, "username"),
             "duplicate username " + in_quotes(user.username) + ", already used by users[" + std::to_string(j) +
                 "] at line " + std::to_string(place.entries[j].field_line("username")));
      }
    }
    svc.users.push_back(user);
  }
}

void Parser::read_credentials_file(const Entry& section, ServiceConfig& svc) {
  places_["credentials_file"].line = section.line;
  svc.credentials_file = read_path(section, "credentials_file");
}

const std::array<Parser::Field<GatewayConfig>, 9> Parser::kGatewayFields{{
    {"ouch_listen",
     [](const Parser& p, const Entry& e, const std::string& path, GatewayConfig& c) {
       p.read_listen(e, path, true, c.ouch_listen);
     }},
    {"itch_listen",
     [](const Parser& p, const Entry& e, const std::string& path, GatewayConfig& c) {
       p.read_listen(e, path, true, c.itch_listen);
     }},
    {"mold_destination",
     [](const Parser& p, const Entry& e, const std::string& path, GatewayConfig& c) {
       p.read_listen(e, path, false, c.mold_destination);
     }},
    {"http_listen",
     [](const Parser& p, const Entry& e, const std::string& path, GatewayConfig& c) {
       p.read_listen(e, path, true, c.http_listen);
     }},
    {"session_name",
     [](const Parser& p, const Entry& e, const std::string& path, GatewayConfig& c) {
       const std::string s = p.read_text(e, path, "1 to 10 letters or digits");
       if (s.empty() || s.size() > 10 || !is_alnum(s)) {
         p.fail(e.line, path, "must be 1 to 10 letters or digits (SoupBinTCP Session), got " + in_quotes(s));
       }
       c.session_name = s;
     }},
    {"heartbeat_interval_ms",
     [](const Parser& p, const Entry& e, const std::string& path, GatewayConfig& c) {
       c.heartbeat_interval_ms = static_cast<std::uint32_t>(p.read_number(e, path, kCount));
     }},
    {"session_timeout_ms",
     [](const Parser& p, const Entry& e, const std::string& path, GatewayConfig& c) {
       c.session_timeout_ms = static_cast<std::uint32_t>(p.read_number(e, path, kCount));
     }},
    {"retention_messages",
     [](const Parser& p, const Entry& e, const std::string& path, GatewayConfig& c) {
       c.retention_messages = static_cast<std::uint32_t>(p.read_number(e, path, kCount));
     }},
    {"max_outbound_queue_bytes",
     [](const Parser& p, const Entry& e, const std::string& path, GatewayConfig& c) {
       c.max_outbound_queue_bytes = p.read_number(e, path, kBytes);
       if (c.max_outbound_queue_bytes < kMinOutboundQueueBytes) {
         p.fail(e.line, path,
                "must be at least " + std::to_string(kMinOutboundQueueBytes) + ", got " + in_quotes(e.value.Scalar()));
       }
     }},
}};
const std::array<std::string_view, 9> Parser::kGatewayKeys = keys_of(kGatewayFields);

void Parser::read_gateway(const Entry& section, ServiceConfig& svc) {
  for (const Entry& e : read_single(section, "gateway", kGatewayKeys)) {
    for (const auto& f : kGatewayFields) {
      if (f.key == e.key) f.read(*this, e, join("gateway", e.key), svc.gateway);
    }
  }
}

const std::array<Parser::Field<CoreConfig>, 2> Parser::kCoreFields{{
    {"cpu",
     [](const Parser& p, const Entry& e, const std::string& path, CoreConfig& c) {
       const Parsed<int> cpu = parse_cpu(p.read_text(e, path, "a CPU number or -1"));
       if (!cpu) p.fail(e.line, path, cpu.error);
       c.cpu = cpu.value;
     }},
    {"idle_strategy",
     [](const Parser& p, const Entry& e, const std::string& path, CoreConfig& c) {
       const Parsed<agent::IdleStrategyKind> idle = parse_idle(p.read_text(e, path, "busy-spin, yield or backoff"));
       if (!idle) p.fail(e.line, path, idle.error);
       c.idle_strategy = idle.value;
     }},
}};
const std::array<std::string_view, 2> Parser::kCoreKeys = keys_of(kCoreFields);

void Parser::read_core(const Entry& section, ServiceConfig& svc) {
  for (const Entry& e : read_single(section, "core", kCoreKeys)) {
    for (const auto& f : kCoreFields) {
      if (f.key == e.key) f.read(*this, e, join("core", e.key), svc.core);
    }
  }
}

const std::array<Parser::Field<AdminConfig>, 1> Parser::kAdminFields{{
    {"token_file",
     [](const Parser& p, const Entry& e, const std::string& path, AdminConfig& c) {
       c.token_file = p.read_path(e, path);
     }},
}};
const std::array<std::string_view, 1> Parser::kAdminKeys = keys_of(kAdminFields);

void Parser::read_admin(const Entry& section, ServiceConfig& svc) {
  for (const Entry& e : read_single(section, "admin", kAdminKeys)) {
    for (const auto& f : kAdminFields) {
      if (f.key == e.key) f.read(*this, e, join("admin", e.key), svc.admin);
    }
  }
}

const std::array<Parser::Field<TuningConfig>, 4> Parser::kTuningFields{{
    {"low_latency_mode",
     [](const Parser& p, const Entry& e, const std::string& path, TuningConfig& c) {
       c.low_latency_mode = p.read_choice(e, path, kBools);
     }},
    {"cpu_affinity",
     [](const Parser& p, const Entry& e, const std::string& path, TuningConfig& c) {
       c.cpu_affinity = p.read_choice(e, path, kBools);
     }},
    {"network_optimization",
     [](const Parser& p, const Entry& e, const std::string& path, TuningConfig& c) {
       c.network_optimization = p.read_choice(e, path, kBools);
     }},
    {"cache_enabled",
     [](const Parser& p, const Entry& e, const std::string& path, TuningConfig& c) {
       c.cache_enabled = p.read_choice(e, path, kBools);
     }},
}};
const std::array<std::string_view, 4> Parser::kTuningKeys = keys_of(kTuningFields);

void Parser::read_tuning(const Entry& section, ServiceConfig& svc) {
  for (const Entry& e : read_single(section, "tuning", kTuningKeys)) {
    for (const auto& f : kTuningFields) {
      if (f.key == e.key) f.read(*this, e, join("tuning", e.key), svc.tuning);
    }
  }
}

// --- ingress: the DPDK packet ingress (docs/dpdk.md) ------------------------------------------

constexpr std::array<Choice<IngressKind>, 2> kIngressKinds{{{"asio", IngressKind::Asio}, {"dpdk", IngressKind::Dpdk}}};
constexpr NumberSpec kPort{0, 65535, "must be 1 to 65535", "a UDP port (1 to 65535)", "must be a whole number"};
constexpr NumberSpec kPortId{0, 65535, nullptr, "a number (0 to 65535)", "must be a whole number"};
constexpr NumberSpec kBurst{0, 64, "must be 1 to 64", "a burst size (1 to 64)", "must be a whole number"};

const std::array<Parser::Field<IngressConfig>, 12> Parser::kIngressFields{{
    {"kind",
     [](const Parser& p, const Entry& e, const std::string& path, IngressConfig& c) {
       c.kind = p.read_choice(e, path, kIngressKinds);
     }},
    {"eal_args",
     [](const Parser& p, const Entry& e, const std::string& path, IngressConfig& c) {
       c.eal_args.clear();
       if (e.value.IsSequence()) {
         for (const YAML::Node& n : e.value) {
           if (!n.IsScalar()) p.fail(e.line, path, "must be a list of words or one string, got " + describe(n));
           c.eal_args.push_back(n.Scalar());
         }
         return;
       }
       c.eal_args = split_words(p.read_text(e, path, "EAL arguments (a list, or one string split on spaces)"));
     }},
    {"port",
     [](const Parser& p, const Entry& e, const std::string& path, IngressConfig& c) {
       c.port = static_cast<std::uint16_t>(p.read_number(e, path, kPortId));
     }},
    {"rx_queue",
     [](const Parser& p, const Entry& e, const std::string& path, IngressConfig& c) {
       c.rx_queue = static_cast<std::uint16_t>(p.read_number(e, path, kPortId));
     }},
    {"tx_queue",
     [](const Parser& p, const Entry& e, const std::string& path, IngressConfig& c) {
       c.tx_queue = static_cast<std::uint16_t>(p.read_number(e, path, kPortId));
     }},
    {"ip",
     [](const Parser& p, const Entry& e, const std::string& path, IngressConfig& c) {
       c.ip = p.read_text(e, path, "an IPv4 address");
       std::uint32_t ip = 0;
       if (!ingress::parse_ipv4(c.ip, ip)) p.fail(e.line, path, "must be an IPv4 address such as 10.0.0.1, got " + in_quotes(c.ip));
     }},
    {"udp_port",
     [](const Parser& p, const Entry& e, const std::string& path, IngressConfig& c) {
       c.udp_port = static_cast<std::uint16_t>(p.read_number(e, path, kPort));
     }},
    {"burst",
     [](const Parser& p, const Entry& e, const std::string& path, IngressConfig& c) {
       c.burst = static_cast<std::uint16_t>(p.read_number(e, path, kBurst));
     }},
    {"idle_strategy",
     [](const Parser& p, const Entry& e, const std::string& path, IngressConfig& c) {
       const Parsed<agent::IdleStrategyKind> idle = parse_idle(p.read_text(e, path, "busy-spin, yield or backoff"));
       if (!idle) p.fail(e.line, path, idle.error);
       c.idle_strategy = idle.value;
     }},
    {"itch_destination",
     [](const Parser& p, const Entry& e, const std::string& path, IngressConfig& c) {
       ListenAddress a;
       p.read_listen(e, path, false, a);
       std::uint32_t ip = 0;
       if (!ingress::parse_ipv4(a.host, ip)) p.fail(e.line, path, "must be an IPv4 address:port, got " + in_quotes(a.to_string()));
       c.itch_destination = a;
     }},
    {"itch_mac",
     [](const Parser& p, const Entry& e, const std::string& path, IngressConfig& c) {
       c.itch_mac = p.read_text(e, path, "a MAC address such as 02:00:00:00:00:01");
       ingress::MacAddress mac{};
       if (!ingress::parse_mac(c.itch_mac, mac)) p.fail(e.line, path, "must be a MAC address such as 02:00:00:00:00:01, got " + in_quotes(c.itch_mac));
     }},
    {"bindings", nullptr},  // read by read_ingress: a list
}};
const std::array<std::string_view, 12> Parser::kIngressKeys = keys_of(kIngressFields);

void Parser::read_ingress(const Entry& section, ServiceConfig& svc) {
  static constexpr std::array<std::string_view, 4> kBindingKeys{"user", "ip", "port", "session"};
  for (const Entry& e : read_single(section, "ingress", kIngressKeys)) {
    const std::string path = join("ingress", e.key);
    for (const auto& f : kIngressFields) {
      if (f.key == e.key && f.read != nullptr) f.read(*this, e, path, svc.ingress);
    }
    if (e.key != "bindings") continue;
    if (!e.value.IsSequence()) fail(e.line, path, "must be a list of {user, ip, port, session}, got " + describe(e.value));
    std::size_t index = 0;
    for (auto it = e.value.begin(); it != e.value.end(); ++it, ++index) {
      const std::string at = path + "[" + std::to_string(index) + "]";
      const int line = line_of(it->Mark());
      UdpBindingConfig b;
      b.line = line;
      for (const Entry& f : read_map(*it, line, at, kBindingKeys, "a binding")) {
        const std::string fp = join(at, f.key);
        if (f.key == "user") {
          b.user = read_text(f, fp, "a user name");
          if (svc.find_user(b.user) == nullptr) fail(f.line, fp, "no user named " + in_quotes(b.user) + " in users");
        } else if (f.key == "ip") {
          b.ip = read_text(f, fp, "an IPv4 address");
          std::uint32_t ip = 0;
          if (!ingress::parse_ipv4(b.ip, ip)) fail(f.line, fp, "must be an IPv4 address such as 10.0.0.2, got " + in_quotes(b.ip));
        } else if (f.key == "port") {
          b.port = static_cast<std::uint16_t>(read_number(f, fp, kPort));
        } else {
          b.session = read_text(f, fp, "1 to 10 letters or digits");
          if (b.session.empty() || b.session.size() > 10 || !is_alnum(b.session))
            fail(f.line, fp, "must be 1 to 10 letters or digits (MoldUDP64 session), got " + in_quotes(b.session));
        }
      }
      for (const char* required : {"user", "ip", "port", "session"}) {
        if ((std::string_view(required) == "user" && b.user.empty()) || (std::string_view(required) == "ip" && b.ip.empty()) ||
            (std::string_view(required) == "port" && b.port == 0) || (std::string_view(required) == "session" && b.session.empty()))
          fail(line, join(at, required), "is required");
      }
      for (std::size_t j = 0; j < svc.ingress.bindings.size(); ++j) {
        const UdpBindingConfig& o = svc.ingress.bindings[j];
        if (o.ip == b.ip && o.port == b.port && o.session == b.session)
          fail(line, at, "the same ip, port and session as " + path + "[" + std::to_string(j) + "]");
      }
      svc.ingress.bindings.push_back(b);
    }
  }
}

// --- market ------------------------------------------------------------------------------------

std::uint32_t Parser::read_time_of_day(const YAML::Node& node, int line, const std::string& path) const {
  const std::string what = "a time of day \"HH:MM\" or \"HH:MM:SS\"";
  if (!node.IsScalar()) fail(line, path, "must be " + what);
  const std::string t = node.Scalar();
  const auto two = [&](std::size_t at, unsigned max) -> std::uint32_t {
    if (at + 2 > t.size() || !all_digits(t.substr(at, 2))) fail(line, path, "must be " + what + ", got " + in_quotes(t));
    const unsigned v = static_cast<unsigned>((t[at] - '0') * 10 + (t[at + 1] - '0'));
    if (v > max) fail(line, path, "must be " + what + ", got " + in_quotes(t));
    return v;
  };
  if ((t.size() != 5 && t.size() != 8) || t[2] != ':' || (t.size() == 8 && t[5] != ':'))
    fail(line, path, "must be " + what + ", got " + in_quotes(t));
  const std::uint32_t h = two(0, 23);
  const std::uint32_t m = two(3, 59);
  const std::uint32_t sec = t.size() == 8 ? two(6, 59) : 0;
  return h * 3600 + m * 60 + sec;
}

const std::array<Parser::Field<ServiceConfig>, 6> Parser::kMarketFields{{
    {"schedule",
     [](const Parser& p, const Entry& e, const std::string& path, ServiceConfig& c) {
       MarketConfig& m = c.market;
       if (e.value.IsScalar()) {
         const std::string v = e.value.Scalar();
         if (v == "a_share") {
           m.scheduled = true;
           m.schedule = a_share_schedule();
         } else if (v == "continuous") {
           m.scheduled = false;
           m.schedule.clear();
         } else {
           p.fail(e.line, path, "must be a_share, continuous or a list of {at, phase}; got " + in_quotes(v));
         }
         return;
       }
       if (!e.value.IsSequence() || e.value.size() == 0)
         p.fail(e.line, path, "must be a_share, continuous or a non-empty list of {at, phase}");
       m.scheduled = true;
       m.schedule.clear();
       std::size_t i = 0;
       for (const YAML::Node& item : e.value) {
         const int line = std::max(e.line, line_of(item.Mark()));
         std::string ip = path;
         ip += '[';
         ip += std::to_string(i++);
         ip += ']';
         if (!item.IsMap() || !item["at"] || !item["phase"] || item.size() != 2)
           p.fail(line, ip, "must be a map with exactly the keys at and phase");
         ScheduleStep step;
         step.second_of_day = p.read_time_of_day(item["at"], line, join(ip, "at"));
         const Entry pe{"phase", line, item["phase"]};
         step.phase = p.read_choice(pe, join(ip, "phase"), kStatuses);
         if (!is_session_phase(step.phase))
           p.fail(line, join(ip, "phase"), "must be a phase of the market's day (not halted, suspended or resume_call)");
         if (!m.schedule.empty() && step.second_of_day <= m.schedule.back().second_of_day)
           p.fail(line, join(ip, "at"), "must be later than the step before it");
         m.schedule.push_back(step);
       }
     }},
    {"utc_offset",
     [](const Parser& p, const Entry& e, const std::string& path, ServiceConfig& c) {
       const std::string t = p.read_text(e, path, "an offset such as \"+08:00\"");
       if (t.size() != 6 || (t[0] != '+' && t[0] != '-') || t[3] != ':' || !all_digits(t.substr(1, 2)) ||
           !all_digits(t.substr(4, 2)))
         p.fail(e.line, path, "must be an offset such as \"+08:00\", got " + in_quotes(t));
       const int h = (t[1] - '0') * 10 + (t[2] - '0');
       const int m = (t[4] - '0') * 10 + (t[5] - '0');
       if (h > 14 || m > 59) p.fail(e.line, path, "must be between -14:00 and +14:00, got " + in_quotes(t));
       c.market.utc_offset_seconds = (t[0] == '-' ? -1 : 1) * (h * 3600 + m * 60);
     }},
    {"halt_accepts_orders",
     [](const Parser& p, const Entry& e, const std::string& path, ServiceConfig& c) {
       c.engine.halt_accepts_orders = p.read_choice(e, path, kBools);
     }},
    {"halt_accepts_cancels",
     [](const Parser& p, const Entry& e, const std::string& path, ServiceConfig& c) {
       c.engine.halt_accepts_cancels = p.read_choice(e, path, kBools);
     }},
    {"resume_via_call",
     [](const Parser& p, const Entry& e, const std::string& path, ServiceConfig& c) {
       c.market.resume_via_call = p.read_choice(e, path, kBools);
     }},
    {"resume_call_seconds",
     [](const Parser& p, const Entry& e, const std::string& path, ServiceConfig& c) {
       c.market.resume_call_seconds = static_cast<std::uint32_t>(p.read_number(e, path, kCount));
     }},
}};
const std::array<std::string_view, 6> Parser::kMarketKeys = keys_of(kMarketFields);

void Parser::read_market(const Entry& section, ServiceConfig& svc) {
  for (const Entry& e : read_single(section, "market", kMarketKeys)) {
    for (const auto& f : kMarketFields) {
      if (f.key == e.key) f.read(*this, e, join("market", e.key), svc);
    }
  }
}

// --- journal: durability, snapshots, retention (docs/operations.md) ---------------------------

constexpr std::array<Choice<JournalDurability>, 3> kDurabilities{
    {{"fsync", JournalDurability::Fsync}, {"fdatasync", JournalDurability::Fdatasync}, {"none", JournalDurability::None}}};
constexpr NumberSpec kMegabytes{0, std::uint64_t{1} << 30, "must be positive", "a size in MiB", "must be a whole number of MiB"};
constexpr NumberSpec kMegabytesOrNone{0, std::uint64_t{1} << 30, nullptr, "a size in MiB (0 = none)",
                                      "must be a whole number of MiB"};
constexpr NumberSpec kCount64OrNone{0, kUint64Max, nullptr, "a whole number (0 = off)", "must be a whole number"};
constexpr NumberSpec kSecondsOrNone{0, kUint32Max, nullptr, "a number of seconds (0 = off)", "must be a whole number"};

const std::array<Parser::Field<JournalConfig>, 8> Parser::kJournalFields{{
    {"dir", [](const Parser& p, const Entry& e, const std::string& path, JournalConfig& c) { c.dir = p.read_path(e, path); }},
    {"durability",
     [](const Parser& p, const Entry& e, const std::string& path, JournalConfig& c) {
       c.durability = p.read_choice(e, path, kDurabilities);
     }},
    {"segment_mb",
     [](const Parser& p, const Entry& e, const std::string& path, JournalConfig& c) {
       c.segment_bytes = p.read_number(e, path, kMegabytes) << 20;
     }},
    {"snapshot_every_commands",
     [](const Parser& p, const Entry& e, const std::string& path, JournalConfig& c) {
       c.snapshot_every_commands = p.read_number(e, path, kCount64OrNone);
     }},
    {"snapshot_every_seconds",
     [](const Parser& p, const Entry& e, const std::string& path, JournalConfig& c) {
       c.snapshot_every_seconds = static_cast<std::uint32_t>(p.read_number(e, path, kSecondsOrNone));
     }},
    {"keep_snapshots",
     [](const Parser& p, const Entry& e, const std::string& path, JournalConfig& c) {
       c.keep_snapshots = static_cast<std::uint32_t>(p.read_number(e, path, kCount));
     }},
    {"retention_hours",
     [](const Parser& p, const Entry& e, const std::string& path, JournalConfig& c) {
       c.retention_hours = static_cast<std::uint32_t>(p.read_number(e, path, kCountOrNone));
     }},
    {"min_free_mb",
     [](const Parser& p, const Entry& e, const std::string& path, JournalConfig& c) {
       c.min_free_bytes = p.read_number(e, path, kMegabytesOrNone) << 20;
     }},
}};
const std::array<std::string_view, 8> Parser::kJournalKeys = keys_of(kJournalFields);

void Parser::read_journal(const Entry& section, ServiceConfig& svc) {
  for (const Entry& e : read_single(section, "journal", kJournalKeys)) {
    for (const auto& f : kJournalFields) {
      if (f.key == e.key) f.read(*this, e, join("journal", e.key), svc.journal);
    }
  }
}

// --- the whole file --------------------------------------------------------------------------

void Parser::fail_issue(const ConfigIssue& issue) const {
  // A field named like its section ("instruments", index 0) is about the whole list.
  const std::string_view key = issue.field == issue.section ? std::string_view{} : yaml_key(issue.field);
  const auto section = places_.find(issue.section);
  if (section == places_.end()) {
    // The section was left out: its defaults are at fault.
    fail(1, join(issue.section, key), issue.message + (key.empty() ? "" : " (default value)"));
  }
  const SectionPlace& place = section->second;
  if (issue.index >= place.entries.size()) fail(place.line, join(issue.section, key), issue.message);

  const EntryPlace& ep = place.entries[issue.index];
  const std::string path =
      place.list ? issue.section + "[" + std::to_string(issue.index) + "]" : std::string(issue.section);
  int line = ep.field_line(key);
  std::string note;
  if (line == 0 && !key.empty()) {
    const bool from_board =
        !ep.board.empty() && std::find(kBoardFields.begin(), kBoardFields.end(), key) != kBoardFields.end();
    if (from_board) {
      line = ep.board_line;
      note = " (value from board: " + ep.board + ")";
    } else {
      line = ep.line;
      if (std::find(place.keys.begin(), place.keys.end(), key) != place.keys.end()) note = " (default value)";
    }
  }
  if (line == 0) line = ep.line;
  fail(line, join(path, key), issue.message + note);
}

ServiceConfig Parser::parse(std::string_view text) {
  // Sections are read in this order whatever their order in the file, so a later section may
  // refer to an earlier one. To add a section: a key, whether it is required, a reader.
  static constexpr std::array<Section, 12> kSections{{
      {"engine", false, &Parser::read_engine},
      {"instruments", true, &Parser::read_instruments},
      {"firms", true, &Parser::read_firms},
      {"users", false, &Parser::read_users},  // after firms: a user names its firm
      {"credentials_file", false, &Parser::read_credentials_file},
      {"gateway", false, &Parser::read_gateway},
      {"core", false, &Parser::read_core},
      {"admin", false, &Parser::read_admin},
      {"tuning", false, &Parser::read_tuning},
      {"ingress", false, &Parser::read_ingress},  // after users: a binding names its user
      {"market", false, &Parser::read_market},
      {"journal", false, &Parser::read_journal},
  }};
  static constexpr std::array<std::string_view, kSections.size()> kSectionKeys = keys_of(kSections);

  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    fail(line_of(e.mark), "", "YAML syntax error: " + e.msg);
  }
  if (docs.empty() || docs.front().IsNull()) {
    std::vector<std::string_view> required;
    for (const Section& s : kSections) {
      if (s.required) required.push_back(s.key);
    }
    fail(1, "", "the file is empty; it needs at least the sections " + list_words(required));
  }
  if (docs.size() > 1) {
    fail(line_of(docs[1].Mark()), "", "more than one YAML document ('---'); a configuration is one document");
  }
  const YAML::Node root = docs.front();
  const int root_line = std::max(1, line_of(root.Mark()));

  ServiceConfig svc;
  svc.source = file_;
  EngineConfig& cfg = svc.engine;
  try {
    const std::vector<Entry> sections = read_map(root, root_line, "", kSectionKeys, "a map of sections");
    for (const Section& s : kSections) {
      if (const Entry* e = find_entry(sections, s.key)) {
        (this->*s.read)(*e, svc);
      } else if (s.required) {
        fail(root_line, std::string(s.key), "section is missing");
      }
    }
  } catch (const YAML::Exception& e) {
    fail(line_of(e.mark), "", e.msg);
  }

  if (const std::optional<ConfigIssue> issue = check_config(cfg)) fail_issue(*issue);

  if (!svc.users.empty() && svc.credentials_file.empty()) {
    fail(line_in("users", ""), "credentials_file",
         "is required when there are users (a file of username:password lines)");
  }
  const GatewayConfig& gw = svc.gateway;
  if (gw.session_timeout_ms <= gw.heartbeat_interval_ms) {
    fail(line_in("gateway", "session_timeout_ms"), "gateway.session_timeout_ms",
         "must be longer than heartbeat_interval_ms (" + std::to_string(gw.heartbeat_interval_ms) + "), got " +
             std::to_string(gw.session_timeout_ms));
  }
  if (const std::optional<GatewayConflict> clash = gateway_conflict(gw)) {
    const std::string key = clash->field.substr(clash->field.find('.') + 1);
    fail(line_in("gateway", key), clash->field, clash->reason);
  }
  return svc;
}

}  // namespace

EngineConfig load_engine_config_from_string(std::string_view text, const std::string& name) {
  return Parser(name, ".").parse(text).engine;
}

ServiceConfig load_service_config_from_string(std::string_view text, const std::string& name,
                                              const std::string& base_dir) {
  return Parser(name, base_dir).parse(text);
}

namespace {

std::string read_config_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw ConfigError(path, 0, "", "is a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    const std::string why = err != 0 ? std::generic_category().message(err) : "unknown error";
    throw ConfigError(path, 0, "", "cannot open: " + why);
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ConfigError(path, 0, "", "cannot read the file");
  return text.str();
}

std::string directory_of(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  return dir.empty() ? std::string(".") : dir;
}

}  // namespace

EngineConfig load_engine_config(const std::string& path) {
  return Parser(path, directory_of(path)).parse(read_config_file(path)).engine;
}

ServiceConfig load_service_config(const std::string& path) {
  ServiceConfig svc = Parser(path, directory_of(path)).parse(read_config_file(path));
  if (!svc.credentials_file.empty()) {
    svc.credentials = load_credentials(svc.credentials_file);
    check_credentials(svc, svc.credentials);
  }
  return svc;
}

}  // namespace peregrine::config
