#pragma once
/// The `dropcopy:` section (docs/dropcopy.md, docs/configuration.md): where the drop-copy
/// publisher sends every order event of the day. Startup code; any thread.

#include <cstdint>
#include <string>

namespace peregrine::config {

/// The drop copy to RabbitMQ. Absent section: no drop copy.
struct DropCopyConfig {
  bool enabled = false;  ///< true when the section is present, unless `enabled: false`
  /// `amqp://[user@]host[:port][/vhost]` or `amqps://...`. A password in the URL is refused: it
  /// comes from `password_file` or the environment variable PEREGRINE_DROPCOPY_PASSWORD.
  std::string url;
  /// File whose first line is the broker user's password (a Kubernetes Secret's key mounted as a
  /// file); read at every connection, so a rotated Secret takes effect at the next reconnect.
  /// Resolved against the config file's directory. Empty: PEREGRINE_DROPCOPY_PASSWORD.
  std::string password_file;
  std::string exchange = "peregrine.dropcopy";  ///< a durable topic exchange, declared at connect
  std::string routing_prefix = "dc";            ///< the routing key's first word: `<prefix>.<firm>.<symbol>.<kind>`
  /// The market the sequence numbers count: `market` in every message, and the checkpoint's
  /// name. Empty: gateway.session_name.
  std::string market;
  std::uint32_t window = 1024;            ///< messages published and not yet confirmed, at most
  std::uint32_t reconnect_max_ms = 30000;  ///< reconnect back-off: 100 ms doubling up to this
  std::uint32_t heartbeat_seconds = 10;    ///< AMQP heartbeat (0 = none)
  /// amqps only: the CA bundle that signed the broker's certificate (verified, with its host
  /// name). Empty with amqps: the system's bundle (/etc/ssl/certs/ca-certificates.crt).
  std::string tls_ca_file;
};

}  // namespace peregrine::config
