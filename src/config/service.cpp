// Service configuration outside the YAML parser: single-value parsers shared by the file, the
// environment and the command line; the credentials file; environment and flag overrides.
// See docs/configuration.md.

#include "peregrine/config/service.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <utility>

namespace peregrine::config {

namespace {

std::string in_quotes(std::string_view s) { return "\"" + std::string(s) + "\""; }

bool all_digits(std::string_view s) noexcept {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_alnum(std::string_view s) noexcept {
  return std::all_of(s.begin(), s.end(), [](char ch) {
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
  });
}

/// RFC 1123 host name: dot-separated labels of letters, digits and '-', 1-63 characters each,
/// not starting or ending with '-'; at most 253 characters.
bool is_host_name(std::string_view s) noexcept {
  if (s.empty() || s.size() > 253) return false;
  std::size_t start = 0;
  while (start <= s.size()) {
    const std::size_t dot = std::min(s.find('.', start), s.size());
    const std::string_view label = s.substr(start, dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (const char ch : label) {
      if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-')) {
        return false;
      }
    }
    start = dot + 1;
  }
  return true;
}

template <typename T>
Parsed<T> failed(std::string reason) {
  Parsed<T> p;
  p.error = std::move(reason);
  return p;
}

template <typename T>
Parsed<T> parsed(T value) {
  Parsed<T> p;
  p.value = std::move(value);
  return p;
}

bool is_wildcard(std::string_view host) noexcept { return host == "0.0.0.0" || host == "::"; }

}  // namespace

// --- values ------------------------------------------------------------------------------------

std::string ListenAddress::to_string() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

const Credential* Credentials::find(std::string_view username) const noexcept {
  for (const Credential& c : entries) {
    if (c.username == username) return &c;
  }
  return nullptr;
}

const UserConfig* ServiceConfig::find_user(std::string_view username) const noexcept {
  for (const UserConfig& u : users) {
    if (u.username == username) return &u;
  }
  return nullptr;
}

// --- single values -------------------------------------------------------------------------------

Parsed<bool> parse_bool(std::string_view text) {
  if (text == "true" || text == "1") return parsed(true);
  if (text == "false" || text == "0") return parsed(false);
  return failed<bool>("must be true, false, 1 or 0, got " + in_quotes(text));
}

Parsed<ListenAddress> parse_listen(std::string_view text, bool allow_port_zero) {
  const std::string got = ", got " + in_quotes(text);
  const std::string form = "must be host:port such as 127.0.0.1:9001, 0.0.0.0:9001 or [::1]:9001";
  std::string_view host;
  std::string_view port;
  bool v6 = false;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return failed<ListenAddress>(form + got);
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
    v6 = true;
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return failed<ListenAddress>(form + " (the port is missing)" + got);
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return failed<ListenAddress>("an IPv6 address goes in brackets, such as [::1]:9001" + got);
    }
  }
  if (host.empty()) return failed<ListenAddress>(form + " (the host is missing; 0.0.0.0 is every interface)" + got);

  const std::string host_text(host);
  if (v6) {
    in6_addr a6{};
    if (inet_pton(AF_INET6, host_text.c_str(), &a6) != 1) {
      return failed<ListenAddress>("not an IPv6 address inside the brackets" + got);
    }
  } else if (std::all_of(host.begin(), host.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; })) {
    in_addr a4{};
    if (inet_pton(AF_INET, host_text.c_str(), &a4) != 1) {
      return failed<ListenAddress>("not an IPv4 address (four numbers 0-255 separated by dots)" + got);
    }
  } else if (!is_host_name(host)) {
    return failed<ListenAddress>("not an IP address or host name" + got);
  }

  if (!all_digits(port) || port.size() > 5) {
    return failed<ListenAddress>(form + " (the port is a number 0-65535)" + got);
  }
  const unsigned long value = std::stoul(std::string(port));
  if (value > 65535) return failed<ListenAddress>("the port must be at most 65535" + got);
  if (value == 0 && !allow_port_zero) return failed<ListenAddress>("the port must not be 0" + got);
  return parsed(ListenAddress{host_text, static_cast<std::uint16_t>(value)});
}

Parsed<int> parse_cpu(std::string_view text) {
  if (text == "-1") return parsed(-1);
  if (!all_digits(text) || text.size() > 4 || std::stoi(std::string(text)) > 1023) {
    return failed<int>("must be a CPU number 0-1023, or -1 for not pinned, got " + in_quotes(text));
  }
  return parsed(std::stoi(std::string(text)));
}

Parsed<agent::IdleStrategyKind> parse_idle(std::string_view text) {
  if (const std::optional<agent::IdleStrategyKind> kind = agent::parse_idle_strategy(text)) return parsed(*kind);
  return failed<agent::IdleStrategyKind>("must be one of busy-spin, yield, backoff, spin-then-park, park; got " + in_quotes(text));
}

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    const std::size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t') ++i;
    if (i > start) out.emplace_back(text.substr(start, i - start));
  }
  return out;
}

Parsed<IngressKind> parse_ingress(std::string_view text) {
  if (text == "asio") return parsed(IngressKind::Asio);
  if (text == "dpdk") return parsed(IngressKind::Dpdk);
  return failed<IngressKind>("must be asio or dpdk; got " + in_quotes(text));
}

Parsed<JournalDurability> parse_durability(std::string_view text) {
  if (text == "fsync") return parsed(JournalDurability::Fsync);
  if (text == "fdatasync") return parsed(JournalDurability::Fdatasync);
  if (text == "none") return parsed(JournalDurability::None);
  return failed<JournalDurability>("must be fsync, fdatasync or none; got " + in_quotes(text));
}

std::optional<GatewayConflict> gateway_conflict(const GatewayConfig& gw) {
  const std::array<std::pair<const char*, const ListenAddress*>, 3> listeners{{
      {"gateway.ouch_listen", &gw.ouch_listen},
      {"gateway.itch_listen", &gw.itch_listen},
      {"gateway.http_listen", &gw.http_listen},
  }};
  for (std::size_t i = 1; i < listeners.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      const ListenAddress& a = *listeners[i].second;
      const ListenAddress& b = *listeners[j].second;
      if (a.port == 0 || a.port != b.port) continue;
      if (a.host == b.host || is_wildcard(a.host) || is_wildcard(b.host)) {
        return GatewayConflict{listeners[i].first, "port " + std::to_string(a.port) + " is also " +
                                                       listeners[j].first + "'s (" + b.to_string() + ")"};
      }
    }
  }
  return std::nullopt;
}

// --- credentials ---------------------------------------------------------------------------------

Credentials load_credentials_from_string(std::string_view text, const std::string& name) {
  Credentials out;
  out.file = name;
  int line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t end = std::min(text.find('\n', pos), text.size());
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
      line.remove_suffix(1);
    }
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.empty() || line.front() == '#') continue;

    // Never quote the line or the password in a message: it is a secret.
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      throw ConfigError(name, line_no, "", "expected username:password (no ':' on this line)");
    }
    const std::string_view username = line.substr(0, colon);
    const std::string_view password = line.substr(colon + 1);
    if (username.empty() || username.size() > 6 || !is_alnum(username)) {
      throw ConfigError(name, line_no, "username",
                        "must be 1 to 6 letters or digits (SoupBinTCP Username), got " + in_quotes(username));
    }
    if (password.empty() || password.size() > 10) {
      throw ConfigError(name, line_no, "password",
                        "must be 1 to 10 characters (SoupBinTCP Password), got " + std::to_string(password.size()) +
                            " for user " + in_quotes(username));
    }
    if (!std::all_of(password.begin(), password.end(), [](char c) { return c > ' ' && c <= '~'; })) {
      throw ConfigError(name, line_no, "password",
                        "must be printable ASCII without spaces, for user " + in_quotes(username));
    }
    if (const Credential* first = out.find(username)) {
      throw ConfigError(name, line_no, "username",
                        "duplicate username " + in_quotes(username) + ", first at line " + std::to_string(first->line));
    }
    out.entries.push_back(Credential{std::string(username), std::string(password), line_no});
  }
  return out;
}

Credentials load_credentials(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw ConfigError(path, 0, "", "is a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    const std::string why = err != 0 ? std::generic_category().message(err) : "unknown error";
    throw ConfigError(path, 0, "", "cannot open the credentials file: " + why);
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ConfigError(path, 0, "", "cannot read the credentials file");
  return load_credentials_from_string(text.str(), path);
}

void check_credentials(const ServiceConfig& cfg, const Credentials& credentials) {
  for (std::size_t i = 0; i < cfg.users.size(); ++i) {
    const UserConfig& u = cfg.users[i];
    if (credentials.find(u.username) == nullptr) {
      throw ConfigError(cfg.source, u.line, "users[" + std::to_string(i) + "].username",
                        "user " + in_quotes(u.username) + " has no password in " + credentials.file);
    }
  }
  for (const Credential& c : credentials.entries) {
    if (cfg.find_user(c.username) == nullptr) {
      throw ConfigError(credentials.file, c.line, "username",
                        "user " + in_quotes(c.username) + " is not in the users of " + cfg.source);
    }
  }
}

// --- overrides -----------------------------------------------------------------------------------

Environment read_environment() {
  Environment env;
  for (const std::string_view name : kEnvironmentVariables) {
    // Startup, before any thread: getenv is safe here.
    if (const char* value = std::getenv(std::string(name).c_str())) env.emplace(std::string(name), value);
  }
  return env;
}

namespace {

template <typename T, typename Parse>
void from_env(const Environment& env, std::string_view name, Parse parse, T& target) {
  const auto it = env.find(name);
  if (it == env.end()) return;
  const auto result = parse(it->second);
  if (!result) throw ConfigError("environment", 0, std::string(name), result.error);
  target = *result.value;
}

template <typename T, typename U>
void from_flag(const std::optional<T>& flag, U& target) {
  if (flag) target = *flag;
}

}  // namespace

void apply_overrides(ServiceConfig& cfg, const Environment& env, const FlagOverrides& flags) {
  const auto listen = [](std::string_view t) { return parse_listen(t, true); };
  from_env(env, "PEREGRINE_OUCH_LISTEN", listen, cfg.gateway.ouch_listen);
  from_env(env, "PEREGRINE_ITCH_LISTEN", listen, cfg.gateway.itch_listen);
  from_env(env, "PEREGRINE_HTTP_LISTEN", listen, cfg.gateway.http_listen);
  from_env(env, "PEREGRINE_CORE_CPU", parse_cpu, cfg.core.cpu);
  from_env(env, "PEREGRINE_IDLE_STRATEGY", parse_idle, cfg.core.idle_strategy);
  from_env(env, "LOW_LATENCY_MODE", parse_bool, cfg.tuning.low_latency_mode);
  from_env(env, "CPU_AFFINITY", parse_bool, cfg.tuning.cpu_affinity);
  from_env(env, "NETWORK_OPTIMIZATION", parse_bool, cfg.tuning.network_optimization);
  from_env(env, "CACHE_ENABLED", parse_bool, cfg.tuning.cache_enabled);

  from_flag(flags.ouch_listen, cfg.gateway.ouch_listen);
  from_flag(flags.itch_listen, cfg.gateway.itch_listen);
  from_flag(flags.http_listen, cfg.gateway.http_listen);
  from_flag(flags.core_cpu, cfg.core.cpu);
  from_flag(flags.idle_strategy, cfg.core.idle_strategy);
  from_flag(flags.low_latency_mode, cfg.tuning.low_latency_mode);
  from_flag(flags.cpu_affinity, cfg.tuning.cpu_affinity);
  from_flag(flags.network_optimization, cfg.tuning.network_optimization);
  from_flag(flags.cache_enabled, cfg.tuning.cache_enabled);
  from_flag(flags.ingress, cfg.ingress.kind);
  from_flag(flags.journal_dir, cfg.journal.dir);
  from_flag(flags.journal_durability, cfg.journal.durability);
  from_flag(flags.eal_args, cfg.ingress.eal_args);

  if (const std::optional<GatewayConflict> clash = gateway_conflict(cfg.gateway)) {
    throw ConfigError(cfg.source, 0, clash->field, clash->reason + " (after environment and flag overrides)");
  }
}

}  // namespace peregrine::config

namespace peregrine::config {

std::vector<ScheduleStep> a_share_schedule() {
  constexpr auto at = [](std::uint32_t h, std::uint32_t m) { return h * 3600 + m * 60; };
  return {
      {at(9, 15), TradingStatus::OpeningCall},  {at(9, 20), TradingStatus::OpeningCallFrozen},
      {at(9, 25), TradingStatus::Break},        {at(9, 30), TradingStatus::Trading},
      {at(11, 30), TradingStatus::Break},       {at(13, 0), TradingStatus::Trading},
      {at(14, 57), TradingStatus::ClosingCall}, {at(15, 0), TradingStatus::Closed},
  };
}

TradingStatus phase_at(const std::vector<ScheduleStep>& schedule, std::uint32_t second_of_day) noexcept {
  TradingStatus phase = TradingStatus::Closed;
  for (const ScheduleStep& s : schedule) {
    if (s.second_of_day > second_of_day) break;
    phase = s.phase;
  }
  return phase;
}

std::uint32_t seconds_to_next_step(const std::vector<ScheduleStep>& schedule, std::uint32_t second_of_day) noexcept {
  if (schedule.empty()) return 0;
  for (const ScheduleStep& s : schedule) {
    if (s.second_of_day > second_of_day) return s.second_of_day - second_of_day;
  }
  return 86400 - second_of_day + schedule.front().second_of_day;
}

}  // namespace peregrine::config
