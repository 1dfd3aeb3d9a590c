// The dropcopy section: the RabbitMQ broker the drop copy publishes to (docs/dropcopy.md).

#include <string>

#include "yaml_reader.hpp"

namespace peregrine::config::detail {

namespace {

constexpr NumberSpec kWindow{0, 65535, "must be positive", "a whole number of messages (1-65535)",
                             "must be a whole number"};
constexpr NumberSpec kReconnectMillis{0, kUint32Max, "must be positive", "a number of milliseconds", "must be a whole number"};
constexpr NumberSpec kHeartbeat{0, 65535, nullptr, "a number of seconds (0 = none)", "must be a whole number"};

// amqp://[user@]host[:port][/vhost] or amqps://...; "" when it is one, else why not.
std::string check_url(const std::string& url) {
  std::string rest;
  if (url.rfind("amqp://", 0) == 0) {
    rest = url.substr(7);
  } else if (url.rfind("amqps://", 0) == 0) {
    rest = url.substr(8);
  } else {
    return "must start with amqp:// or amqps://, got " + in_quotes(url);
  }
  const std::string authority = rest.substr(0, rest.find('/'));
  const std::size_t at = authority.rfind('@');
  if (at != std::string::npos && authority.substr(0, at).find(':') != std::string::npos)
    return "must not hold a password (put it in dropcopy.password_file or PEREGRINE_DROPCOPY_PASSWORD)";
  const std::string host = at == std::string::npos ? authority : authority.substr(at + 1);
  if (host.empty() || host[0] == ':') return "names no host, got " + in_quotes(url);
  return {};
}

// A routing-key word or an exchange name: printable, no spaces; the prefix also no AMQP
// wildcards or dots (it is one word of the key).
bool plain_word(const std::string& s, bool key_word) {
  if (s.empty() || s.size() > 127) return false;
  for (const char c : s) {
    if (c <= ' ' || c > '~') return false;
    if (key_word && (c == '.' || c == '*' || c == '#')) return false;
  }
  return true;
}

}  // namespace

const std::array<Parser::Field<DropCopyConfig>, 10> Parser::kDropCopyFields{{
    {"enabled",
     [](const Parser& p, const Entry& e, const std::string& path, DropCopyConfig& c) {
       c.enabled = p.read_choice(e, path, kBools);
     }},
    {"url",
     [](const Parser& p, const Entry& e, const std::string& path, DropCopyConfig& c) {
       c.url = p.read_text(e, path, "an amqp:// or amqps:// URL");
       if (const std::string why = check_url(c.url); !why.empty()) p.fail(e.line, path, why);
     }},
    {"password_file",
     [](const Parser& p, const Entry& e, const std::string& path, DropCopyConfig& c) { c.password_file = p.read_path(e, path); }},
    {"exchange",
     [](const Parser& p, const Entry& e, const std::string& path, DropCopyConfig& c) {
       c.exchange = p.read_text(e, path, "an exchange name");
       if (!plain_word(c.exchange, false)) p.fail(e.line, path, "must be 1-127 printable characters without spaces");
     }},
    {"routing_prefix",
     [](const Parser& p, const Entry& e, const std::string& path, DropCopyConfig& c) {
       c.routing_prefix = p.read_text(e, path, "a routing-key word");
       if (!plain_word(c.routing_prefix, true))
         p.fail(e.line, path, "must be one routing-key word: 1-127 printable characters, no spaces, '.', '*' or '#'");
     }},
    {"market",
     [](const Parser& p, const Entry& e, const std::string& path, DropCopyConfig& c) {
       c.market = p.read_text(e, path, "a market name");
       if (!plain_word(c.market, true))
         p.fail(e.line, path, "must be 1-127 printable characters, no spaces, '.', '*' or '#'");
     }},
    {"window",
     [](const Parser& p, const Entry& e, const std::string& path, DropCopyConfig& c) {
       c.window = static_cast<std::uint32_t>(p.read_number(e, path, kWindow));
     }},
    {"reconnect_max_ms",
     [](const Parser& p, const Entry& e, const std::string& path, DropCopyConfig& c) {
       c.reconnect_max_ms = static_cast<std::uint32_t>(p.read_number(e, path, kReconnectMillis));
     }},
    {"heartbeat_seconds",
     [](const Parser& p, const Entry& e, const std::string& path, DropCopyConfig& c) {
       c.heartbeat_seconds = static_cast<std::uint32_t>(p.read_number(e, path, kHeartbeat));
     }},
    {"tls_ca_file",
     [](const Parser& p, const Entry& e, const std::string& path, DropCopyConfig& c) { c.tls_ca_file = p.read_path(e, path); }},
}};
const std::array<std::string_view, 10> Parser::kDropCopyKeys = keys_of(kDropCopyFields);

void Parser::read_dropcopy(const Entry& section, ServiceConfig& svc) {
  DropCopyConfig& c = svc.dropcopy;
  c.enabled = true;
  for (const Entry& e : read_single(section, "dropcopy", kDropCopyKeys)) {
    for (const auto& f : kDropCopyFields) {
      if (f.key == e.key) f.read(*this, e, join("dropcopy", e.key), c);
    }
  }
  if (c.enabled && c.url.empty()) fail(section.line, "dropcopy.url", "is required (amqp://user@host:port/vhost)");
  if (!c.tls_ca_file.empty() && c.url.rfind("amqps://", 0) != 0)
    fail(line_in("dropcopy", "tls_ca_file"), "dropcopy.tls_ca_file", "applies to amqps:// URLs only");
  if (c.market.empty()) c.market = svc.gateway.session_name;
}

}  // namespace peregrine::config::detail
