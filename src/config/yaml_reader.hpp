#pragma once
// The YAML reader of the configuration file (internal to src/config): exact decimal numbers,
// where each key and entry was written (for messages at a line), the choices a field may take,
// and the Parser whose section readers live in the *_sections.cpp files. See
// docs/configuration.md for the file format.

#include <yaml-cpp/yaml.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "peregrine/config/loader.hpp"
#include "peregrine/config/service.hpp"
#include "peregrine/core/codes.hpp"
#include "text.hpp"

namespace peregrine::config::detail {

// ---------------------------------------------------------------------------------------------
// Exact decimal numbers: read from the YAML text itself, never through floating point.

enum class NumberError : std::uint8_t { None, Syntax, Negative, TooManyPlaces, TooLarge };

struct Number {
  std::uint64_t scaled = 0;  ///< the value × 10^places
  NumberError error = NumberError::None;
};

/// Parses "123" or "12.34" (digits, optionally a point and more digits) into value × 10^places,
/// exactly. No sign, exponent, separators or spaces; a leading '-' is reported as Negative.
Number parse_fixed(std::string_view s, unsigned places);

/// `scaled` / 10^places as decimal text without trailing zeros: (123400, 4) -> "12.34".
std::string format_fixed(std::uint64_t scaled, unsigned places);

/// How a numeric field is written and what it may hold.
struct NumberSpec {
  unsigned places;         ///< decimal places kept (4 for CNY, 2 for percent, 0 for counts)
  std::uint64_t max;       ///< largest scaled value
  const char* zero;        ///< message for 0, or nullptr when 0 is allowed
  const char* what;        ///< "must be <what>" for text that is not a number
  const char* off_step;    ///< message for too many decimal places
};

inline constexpr std::uint64_t kInt64Max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
inline constexpr std::uint64_t kUint32Max = std::numeric_limits<std::uint32_t>::max();
inline constexpr std::uint64_t kUint64Max = std::numeric_limits<std::uint64_t>::max();

/// OUCH's price field is a signed 32-bit integer; no price above it can be traded or quoted.
inline constexpr std::uint64_t kMaxWirePrice = static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max());

inline constexpr NumberSpec kPrice{4, kMaxWirePrice, "must be a positive multiple of 0.0001",
                            "a price in CNY such as \"12.34\"", "must be a positive multiple of 0.0001"};
inline constexpr NumberSpec kShares{0, kUint32Max, "must be positive", "a whole number of shares",
                             "must be a whole number of shares"};
inline constexpr NumberSpec kSharesOrNone{0, kUint32Max, nullptr, "a whole number of shares (0 = no limit)",
                                   "must be a whole number of shares"};
inline constexpr NumberSpec kShares64OrNone{0, kUint64Max, nullptr, "a whole number of shares (0 = no limit)",
                                     "must be a whole number of shares"};
inline constexpr NumberSpec kAmountOrNone{4, kInt64Max, nullptr,
                                   "an amount in CNY such as \"50000000\" or \"1234.56\" (0 = no limit)",
                                   "must be a multiple of 0.0001 CNY"};
inline constexpr NumberSpec kPercent{2, 10000, nullptr, "a percentage such as 10 or \"2.5\"",
                              "must be a multiple of 0.01 (a whole number of basis points)"};
inline constexpr NumberSpec kCount{0, kUint32Max, "must be positive", "a whole number", "must be a whole number"};
inline constexpr NumberSpec kCountOrNone{0, kUint32Max, nullptr, "a whole number (0 = no limit)", "must be a whole number"};
inline constexpr NumberSpec kBytes{0, kUint64Max, "must be positive", "a whole number of bytes",
                            "must be a whole number of bytes"};

/// Smallest gateway.max_outbound_queue_bytes: room for a few of the largest messages.
inline constexpr std::uint64_t kMinOutboundQueueBytes = 1024;

// ---------------------------------------------------------------------------------------------
// Locations, so that check_config() issues can be reported at a line.

inline int line_of(const YAML::Mark& m) noexcept { return m.is_null() ? 0 : m.line + 1; }

/// A key: value pair of a YAML map and the 1-based line of its key.
struct Entry {
  std::string key;
  int line;
  YAML::Node value;
};

const Entry* find_entry(const std::vector<Entry>& entries, std::string_view key) noexcept;

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
inline constexpr std::array<BoardPreset, 4> kBoards{{
    {"main", Qty{100}, Qty{100}, Qty{1000000}, 1000, 0},
    {"star", Qty{1}, Qty{200}, Qty{100000}, 2000, 200},
    {"chinext", Qty{100}, Qty{100}, Qty{300000}, 2000, 200},
    {"risk_warning", Qty{100}, Qty{100}, Qty{1000000}, 500, 0},
}};

/// Fields a board preset fills in.
inline constexpr std::array<std::string_view, 5> kBoardFields{"lot_size", "min_qty", "max_order_qty", "limit_pct",
                                                       "cage_pct"};

template <typename T>
struct Choice {
  std::string_view name;
  T value;
};

inline constexpr std::array<Choice<StpMode>, 5> kStpModes{{
    {"none", StpMode::None},
    {"cancel_newest", StpMode::CancelNewest},
    {"cancel_oldest", StpMode::CancelOldest},
    {"cancel_both", StpMode::CancelBoth},
    {"decrement", StpMode::Decrement},
}};

inline constexpr auto kStatuses = [] {
  std::array<Choice<TradingStatus>, kTradingStatusNames.size()> a{};
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = {kTradingStatusNames[i].second, kTradingStatusNames[i].first};
  return a;
}();

inline constexpr std::array<Choice<bool>, 2> kBools{{{"true", true}, {"false", false}}};

/// The YAML key for a field name check_config() may use (InstrumentConfig member names).
std::string_view yaml_key(std::string_view field) noexcept;
/// `path`.`key` (either may be empty).
std::string join(std::string_view path, std::string_view key);
/// A short description of a node, for "got ..." in messages.
std::string describe(const YAML::Node& node);
/// Levenshtein distance, for "did you mean" on an unknown key.
std::size_t edit_distance(std::string_view a, std::string_view b);
/// "a, b, c".
std::string list_words(std::span<const std::string_view> words);

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
  void read_dropcopy(const Entry& section, ServiceConfig& svc);
  void read_ha(const Entry& section, ServiceConfig& svc);
  /// ha.lease: the map, and the elector's timer rules (ha_section.cpp).
  void read_ha_lease(const Entry& section, const std::string& path, HaLeaseConfig& c) const;
  /// ha.lease's defaults from the environment (POD_NAME, KUBERNETES_SERVICE_HOST, ...).
  void resolve_ha_lease(HaLeaseConfig& c) const;
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
  static const std::array<Field<TuningConfig>, 7> kTuningFields;
  static const std::array<std::string_view, 7> kTuningKeys;
  static const std::array<Field<IngressConfig>, 12> kIngressFields;
  static const std::array<std::string_view, 12> kIngressKeys;
  static const std::array<Field<ServiceConfig>, 6> kMarketFields;
  static const std::array<std::string_view, 6> kMarketKeys;
  static const std::array<Field<JournalConfig>, 8> kJournalFields;
  static const std::array<std::string_view, 8> kJournalKeys;
  static const std::array<Field<DropCopyConfig>, 10> kDropCopyFields;
  static const std::array<std::string_view, 10> kDropCopyKeys;
  static const std::array<Field<HaConfig>, 11> kHaFields;
  static const std::array<std::string_view, 11> kHaKeys;

  const std::string& file_;
  std::string base_dir_;
  std::map<std::string, SectionPlace, std::less<>> places_;
};

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

}  // namespace peregrine::config::detail
