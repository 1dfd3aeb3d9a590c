#pragma once
// One AMQP 0-9-1 connection to the broker over rabbitmq-c (Debian's librabbitmq 0.11), with one
// channel in confirm mode: what the drop-copy publisher needs and nothing more. rabbitmq-c's
// I/O blocks, so only the publisher's own thread uses it. Internal to src/dropcopy.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <amqp.h>

namespace peregrine::dropcopy::detail {

/// Where and as whom to connect.
struct AmqpTarget {
  bool tls = false;
  std::string host;
  int port = 5672;
  std::string vhost = "/";
  std::string user = "guest";
  std::string password;
  std::string ca_file;  ///< TLS: the CA bundle (verified, with the host name)
  int heartbeat_seconds = 10;
};

/// Parses `amqp://[user@]host[:port][/vhost]` (amqps: TLS, port 5671 by default) into `out`;
/// returns "" or why not.
std::string parse_target(const std::string& url, AmqpTarget& out);

/// What the broker said about published messages.
struct Confirm {
  enum class Type : std::uint8_t { Ack, Nack, Return };
  Type type = Type::Ack;
  std::uint64_t tag = 0;     ///< Ack, Nack: the delivery tag
  bool multiple = false;     ///< Ack, Nack: every tag up to `tag`
  std::string message_id;    ///< Return: the returned message's id
  std::string reply;         ///< Return: the broker's reply code and text
};

class AmqpLink {
 public:
  AmqpLink() = default;
  ~AmqpLink() { close(); }
  AmqpLink(const AmqpLink&) = delete;
  AmqpLink& operator=(const AmqpLink&) = delete;

  /// Connects (TCP or TLS, bounded by `timeout`), logs in, opens channel 1, declares `exchange`
  /// (a durable topic exchange) and selects publisher confirms. Returns "" or what failed, as the
  /// broker or the library said it ("login refused: 403 ACCESS_REFUSED ...").
  std::string connect(const AmqpTarget& t, const std::string& exchange, std::chrono::milliseconds timeout);
  /// Drops the connection without the closing handshake (a broker that is gone would not answer).
  void close() noexcept;
  [[nodiscard]] bool connected() const noexcept { return conn_ != nullptr; }
  /// The connection's socket, or -1.
  [[nodiscard]] int fd() const noexcept { return conn_ != nullptr ? amqp_get_sockfd(conn_) : -1; }

  /// Publishes one persistent, mandatory message (content type application/json); returns its
  /// delivery tag, or 0 when the connection failed (error() says why; close() it).
  std::uint64_t publish(const std::string& exchange, const std::string& routing_key, const std::string& body,
                        const std::string& message_id, std::uint64_t unix_seconds);
  /// Waits up to `timeout` for the broker's frames and appends the confirms and returns among
  /// them to `out`; then takes whatever else is already buffered without waiting. False when the
  /// connection failed (error() says why; close() it).
  bool poll(std::chrono::milliseconds timeout, std::vector<Confirm>& out);
  [[nodiscard]] const std::string& error() const noexcept { return error_; }

 private:
  bool read_one(const struct timeval* tv, std::vector<Confirm>& out, bool& got);
  std::string reply_error(const char* what, const amqp_rpc_reply_t& r);

  amqp_connection_state_t conn_ = nullptr;
  std::uint64_t next_tag_ = 1;
  std::string error_;
};

}  // namespace peregrine::dropcopy::detail
