// The broker's URL (dropcopy.url), parsed on the service's side: no rabbitmq-c here
// (src/dropcopy/amqp_link.hpp).
#include "amqp_link.hpp"

#include <cctype>
#include <cstdlib>

namespace peregrine::dropcopy::detail {

std::string parse_target(const std::string& url, AmqpTarget& out) {
  std::string rest;
  if (url.rfind("amqp://", 0) == 0) {
    out.tls = false;
    out.port = 5672;
    rest = url.substr(7);
  } else if (url.rfind("amqps://", 0) == 0) {
    out.tls = true;
    out.port = 5671;
    rest = url.substr(8);
  } else {
    return "not an amqp:// or amqps:// URL";
  }
  const std::size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  out.vhost = "/";
  if (slash != std::string::npos && slash + 1 < rest.size()) {
    // RabbitMQ's URI spec: the path is the vhost, percent-encoded ("%2F" is "/").
    const std::string enc = rest.substr(slash + 1);
    std::string v;
    for (std::size_t i = 0; i < enc.size(); ++i) {
      if (enc[i] == '%' && i + 2 < enc.size() && std::isxdigit(static_cast<unsigned char>(enc[i + 1])) != 0 &&
          std::isxdigit(static_cast<unsigned char>(enc[i + 2])) != 0) {
        v += static_cast<char>(std::strtol(enc.substr(i + 1, 2).c_str(), nullptr, 16));
        i += 2;
      } else {
        v += enc[i];
      }
    }
    out.vhost = v;
  }
  if (const std::size_t at = authority.rfind('@'); at != std::string::npos) {
    out.user = authority.substr(0, at);
    authority = authority.substr(at + 1);
  }
  std::string host = authority;
  if (!host.empty() && host[0] == '[') {  // [IPv6]:port
    const std::size_t close = host.find(']');
    if (close == std::string::npos) return "an unclosed '[' in the host";
    out.host = host.substr(1, close - 1);
    host = host.substr(close + 1);
    if (!host.empty() && host[0] == ':') out.port = std::atoi(host.c_str() + 1);
  } else if (const std::size_t colon = host.rfind(':'); colon != std::string::npos) {
    out.host = host.substr(0, colon);
    out.port = std::atoi(host.c_str() + colon + 1);
  } else {
    out.host = host;
  }
  if (out.host.empty()) return "no host";
  if (out.port <= 0 || out.port > 65535) return "a port outside 1-65535";
  return {};
}

}  // namespace peregrine::dropcopy::detail
