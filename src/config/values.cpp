// Single configuration values, parsed the same way from the file, the environment and the command
// line (parse_bool, parse_listen, parse_cpu, parse_idle, parse_ingress, parse_durability), the
// gateway's address conflicts, and the small lookups of the configuration's types. See
// docs/configuration.md.

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <utility>

#include "peregrine/config/service.hpp"
#include "text.hpp"

namespace peregrine::config {

using detail::all_digits;
using detail::in_quotes;

namespace {

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

  if (port.empty() || !all_digits(port) || port.size() > 5) {
    return failed<ListenAddress>(form + " (the port is a number 0-65535)" + got);
  }
  const unsigned long value = std::stoul(std::string(port));
  if (value > 65535) return failed<ListenAddress>("the port must be at most 65535" + got);
  if (value == 0 && !allow_port_zero) return failed<ListenAddress>("the port must not be 0" + got);
  return parsed(ListenAddress{host_text, static_cast<std::uint16_t>(value)});
}

Parsed<int> parse_cpu(std::string_view text) {
  if (text == "-1") return parsed(-1);
  if (text.empty() || !all_digits(text) || text.size() > 4 || std::stoi(std::string(text)) > 1023) {
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
  if (text == "replicated") return parsed(JournalDurability::Replicated);
  if (text == "replicated+fsync") return parsed(JournalDurability::ReplicatedFsync);
  return failed<JournalDurability>("must be fsync, fdatasync, none, replicated or replicated+fsync; got " + in_quotes(text));
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

}  // namespace peregrine::config
