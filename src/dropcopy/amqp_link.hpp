#pragma once
// One AMQP 0-9-1 connection to the broker, with one channel in confirm mode: what the drop-copy
// publisher needs and nothing more. Internal to src/dropcopy.
//
// The implementation (src/dropcopy/amqp/rabbitmq_link.cpp, over rabbitmq-c: Debian's
// librabbitmq 0.11, which links OpenSSL) lives in the module peregrine-amqp.so beside the binary,
// loaded only when the drop copy is enabled, so that every other start maps and relocates none of
// rabbitmq-c and OpenSSL (issue 14). rabbitmq-c's I/O blocks, so only the publisher's own thread
// uses a link.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

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
  virtual ~AmqpLink() = default;
  AmqpLink(const AmqpLink&) = delete;
  AmqpLink& operator=(const AmqpLink&) = delete;

  /// Connects (TCP or TLS, bounded by `timeout`), logs in, opens channel 1, declares `exchange`
  /// (a durable topic exchange) and selects publisher confirms. Returns "" or what failed, as the
  /// broker or the library said it ("login refused: 403 ACCESS_REFUSED ...").
  virtual std::string connect(const AmqpTarget& t, const std::string& exchange, std::chrono::milliseconds timeout) = 0;
  /// Drops the connection without the closing handshake (a broker that is gone would not answer).
  virtual void close() noexcept = 0;
  [[nodiscard]] virtual bool connected() const noexcept = 0;
  /// The connection's socket, or -1.
  [[nodiscard]] virtual int fd() const noexcept = 0;

  /// Publishes one persistent, mandatory message (content type application/json); returns its
  /// delivery tag, or 0 when the connection failed (error() says why; close() it).
  virtual std::uint64_t publish(const std::string& exchange, const std::string& routing_key, const std::string& body,
                                const std::string& message_id, std::uint64_t unix_seconds) = 0;
  /// Waits up to `timeout` for the broker's frames and appends the confirms and returns among
  /// them to `out`; then takes whatever else is already buffered without waiting. False when the
  /// connection failed (error() says why; close() it).
  virtual bool poll(std::chrono::milliseconds timeout, std::vector<Confirm>& out) = 0;
  [[nodiscard]] virtual const std::string& error() const noexcept = 0;
};

/// Bumped whenever AmqpTarget, Confirm or AmqpLink change in a way that matters across the
/// module boundary.
inline constexpr std::uint32_t kAmqpModuleAbi = 1;
/// The module's file name; the service looks for it beside its own binary.
inline constexpr std::string_view kAmqpModuleFile = "peregrine-amqp.so";
/// The factory's symbol.
inline constexpr const char* kAmqpOpenSymbol = "peregrine_amqp_open";

/// A link made by the module at `module_path` (kAmqpModuleFile beside the running binary when
/// empty), not yet connected. Start-up thread. Throws std::runtime_error: "the drop copy's broker
/// link (<path>) could not be loaded: <dlerror>".
[[nodiscard]] std::unique_ptr<AmqpLink> open_amqp_link(const std::string& module_path = {});


}  // namespace peregrine::dropcopy::detail

extern "C" {
/// The module's one entry point: a link owned by the caller (its code lives in the module, which
/// stays loaded), or nullptr with `*error` set (another kAmqpModuleAbi).
[[gnu::visibility("default")]] peregrine::dropcopy::detail::AmqpLink* peregrine_amqp_open(std::uint32_t abi,
                                                                                          std::string* error) noexcept;
}
