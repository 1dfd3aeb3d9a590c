// peregrine-amqp.so: the drop copy's link to the broker over rabbitmq-c (which loads OpenSSL),
// loaded by the service only when `dropcopy.enabled` (src/dropcopy/amqp_link.hpp).
#include "../amqp_link.hpp"

#include <amqp.h>
#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>

#include <sys/time.h>

#include <exception>
#include <string>

namespace peregrine::dropcopy::detail {

namespace {

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>(ms.count() % 1000 * 1000);
  return tv;
}

std::string bytes(amqp_bytes_t b) { return std::string(static_cast<const char*>(b.bytes), b.len); }

/// One AMQP 0-9-1 connection with one channel in confirm mode (AmqpLink's contract).
class RabbitmqLink final : public AmqpLink {
 public:
  RabbitmqLink() = default;
  ~RabbitmqLink() override { close(); }
  RabbitmqLink(const RabbitmqLink&) = delete;
  RabbitmqLink& operator=(const RabbitmqLink&) = delete;

  std::string connect(const AmqpTarget& t, const std::string& exchange, std::chrono::milliseconds timeout) override;
  void close() noexcept override;
  [[nodiscard]] bool connected() const noexcept override { return conn_ != nullptr; }
  [[nodiscard]] int fd() const noexcept override { return conn_ != nullptr ? amqp_get_sockfd(conn_) : -1; }
  std::uint64_t publish(const std::string& exchange, const std::string& routing_key, const std::string& body,
                        const std::string& message_id, std::uint64_t unix_seconds) override;
  bool poll(std::chrono::milliseconds timeout, std::vector<Confirm>& out) override;
  [[nodiscard]] const std::string& error() const noexcept override { return error_; }

 private:
  bool read_one(const struct timeval* tv, std::vector<Confirm>& out, bool& got);
  std::string reply_error(const char* what, const amqp_rpc_reply_t& r);

  amqp_connection_state_t conn_ = nullptr;
  std::uint64_t next_tag_ = 1;
  std::string error_;
};

}  // namespace


std::string RabbitmqLink::reply_error(const char* what, const amqp_rpc_reply_t& r) {
  switch (r.reply_type) {
    case AMQP_RESPONSE_NORMAL: return {};
    case AMQP_RESPONSE_NONE: return std::string(what) + ": no reply";
    case AMQP_RESPONSE_LIBRARY_EXCEPTION: return std::string(what) + ": " + amqp_error_string2(r.library_error);
    case AMQP_RESPONSE_SERVER_EXCEPTION:
      if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
        const auto* c = static_cast<const amqp_connection_close_t*>(r.reply.decoded);
        return std::string(what) + ": the broker closed the connection: " + std::to_string(c->reply_code) + " " +
               bytes(c->reply_text);
      }
      if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
        const auto* c = static_cast<const amqp_channel_close_t*>(r.reply.decoded);
        return std::string(what) + ": the broker closed the channel: " + std::to_string(c->reply_code) + " " +
               bytes(c->reply_text);
      }
      return std::string(what) + ": the broker answered with method " + std::to_string(r.reply.id);
  }
  return std::string(what) + ": failed";
}

std::string RabbitmqLink::connect(const AmqpTarget& t, const std::string& exchange, std::chrono::milliseconds timeout) {
  close();
  conn_ = amqp_new_connection();
  if (conn_ == nullptr) return "out of memory";
  amqp_socket_t* sock = nullptr;
  if (t.tls) {
    sock = amqp_ssl_socket_new(conn_);
    if (sock != nullptr) {
      amqp_ssl_socket_set_verify_peer(sock, 1);
      amqp_ssl_socket_set_verify_hostname(sock, 1);
      const std::string ca = t.ca_file.empty() ? std::string("/etc/ssl/certs/ca-certificates.crt") : t.ca_file;
      if (const int st = amqp_ssl_socket_set_cacert(sock, ca.c_str()); st != AMQP_STATUS_OK) {
        close();
        return "TLS CA file " + ca + ": " + amqp_error_string2(st);
      }
    }
  } else {
    sock = amqp_tcp_socket_new(conn_);
  }
  if (sock == nullptr) {
    close();
    return "cannot create a socket";
  }
  timeval tv = to_timeval(timeout);
  (void)amqp_set_handshake_timeout(conn_, &tv);
  (void)amqp_set_rpc_timeout(conn_, &tv);
  const std::string where = t.host + ":" + std::to_string(t.port);
  if (const int st = amqp_socket_open_noblock(sock, t.host.c_str(), t.port, &tv); st != AMQP_STATUS_OK) {
    close();
    // rabbitmq-c keeps the socket's own error to itself (errno says EINPROGRESS): name the cases.
    std::string why = amqp_error_string2(st);
    if (st == AMQP_STATUS_SOCKET_ERROR) why += " (refused or unreachable)";
    return "cannot connect to " + where + ": " + why;
  }
  // Each step's reply: "" when normal, else what the broker said, the connection dropped.
  const auto refused = [this](const std::string& what, const amqp_rpc_reply_t& r) -> std::string {
    if (r.reply_type == AMQP_RESPONSE_NORMAL) return {};
    std::string e = reply_error(what.c_str(), r);
    close();
    return e;
  };
  if (std::string e = refused("login to " + where + " as " + t.user,
                              amqp_login(conn_, t.vhost.c_str(), 0, 131072, t.heartbeat_seconds, AMQP_SASL_METHOD_PLAIN,
                                         t.user.c_str(), t.password.c_str()));
      !e.empty())
    return e;
  amqp_channel_open(conn_, 1);
  if (std::string e = refused("channel.open", amqp_get_rpc_reply(conn_)); !e.empty()) return e;
  amqp_exchange_declare(conn_, 1, amqp_cstring_bytes(exchange.c_str()), amqp_cstring_bytes("topic"), 0, 1, 0, 0,
                        amqp_empty_table);
  if (std::string e = refused("exchange.declare " + exchange, amqp_get_rpc_reply(conn_)); !e.empty()) return e;
  amqp_confirm_select(conn_, 1);
  if (std::string e = refused("confirm.select", amqp_get_rpc_reply(conn_)); !e.empty()) return e;
  next_tag_ = 1;
  error_.clear();
  return {};
}

void RabbitmqLink::close() noexcept {
  if (conn_ == nullptr) return;
  amqp_destroy_connection(conn_);  // closes the socket; no closing handshake
  conn_ = nullptr;
}

std::uint64_t RabbitmqLink::publish(const std::string& exchange, const std::string& routing_key, const std::string& body,
                                const std::string& message_id, std::uint64_t unix_seconds) {
  amqp_basic_properties_t props{};
  props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG |
                 AMQP_BASIC_TIMESTAMP_FLAG;
  props.content_type = amqp_cstring_bytes("application/json");
  props.delivery_mode = 2;  // persistent
  props.message_id = amqp_cstring_bytes(message_id.c_str());
  props.timestamp = unix_seconds;
  amqp_bytes_t b;
  b.len = body.size();
  b.bytes = const_cast<char*>(body.data());
  const int st = amqp_basic_publish(conn_, 1, amqp_cstring_bytes(exchange.c_str()), amqp_cstring_bytes(routing_key.c_str()),
                                    1 /* mandatory */, 0, &props, b);
  if (st != AMQP_STATUS_OK) {
    error_ = std::string("publish: ") + amqp_error_string2(st);
    return 0;
  }
  return next_tag_++;
}

// One frame: false on a connection error; `got` false on a timeout.
bool RabbitmqLink::read_one(const timeval* tv, std::vector<Confirm>& out, bool& got) {
  amqp_frame_t frame;
  timeval copy{};
  if (tv != nullptr) copy = *tv;
  const int st = amqp_simple_wait_frame_noblock(conn_, &frame, tv != nullptr ? &copy : nullptr);
  got = false;
  if (st == AMQP_STATUS_TIMEOUT) return true;
  if (st != AMQP_STATUS_OK) {
    error_ = std::string("connection lost: ") + amqp_error_string2(st);
    return false;
  }
  got = true;
  if (frame.frame_type != AMQP_FRAME_METHOD) return true;  // heartbeats are the library's
  switch (frame.payload.method.id) {
    case AMQP_BASIC_ACK_METHOD: {
      const auto* a = static_cast<const amqp_basic_ack_t*>(frame.payload.method.decoded);
      out.push_back({Confirm::Type::Ack, a->delivery_tag, a->multiple != 0, {}, {}});
      return true;
    }
    case AMQP_BASIC_NACK_METHOD: {
      const auto* n = static_cast<const amqp_basic_nack_t*>(frame.payload.method.decoded);
      out.push_back({Confirm::Type::Nack, n->delivery_tag, n->multiple != 0, {}, {}});
      return true;
    }
    case AMQP_BASIC_RETURN_METHOD: {
      const auto* r = static_cast<const amqp_basic_return_t*>(frame.payload.method.decoded);
      Confirm c;
      c.type = Confirm::Type::Return;
      c.reply = std::to_string(r->reply_code) + " " + bytes(r->reply_text);
      amqp_message_t msg;
      const amqp_rpc_reply_t rr = amqp_read_message(conn_, frame.channel, &msg, 0);
      if (rr.reply_type != AMQP_RESPONSE_NORMAL) {
        error_ = reply_error("reading a returned message", rr);
        return false;
      }
      if ((msg.properties._flags & AMQP_BASIC_MESSAGE_ID_FLAG) != 0) c.message_id = bytes(msg.properties.message_id);
      amqp_destroy_message(&msg);
      out.push_back(std::move(c));
      return true;
    }
    case AMQP_CHANNEL_CLOSE_METHOD: {
      const auto* c = static_cast<const amqp_channel_close_t*>(frame.payload.method.decoded);
      error_ = "the broker closed the channel: " + std::to_string(c->reply_code) + " " + bytes(c->reply_text);
      return false;
    }
    case AMQP_CONNECTION_CLOSE_METHOD: {
      const auto* c = static_cast<const amqp_connection_close_t*>(frame.payload.method.decoded);
      error_ = "the broker closed the connection: " + std::to_string(c->reply_code) + " " + bytes(c->reply_text);
      return false;
    }
    default: return true;
  }
}

bool RabbitmqLink::poll(std::chrono::milliseconds timeout, std::vector<Confirm>& out) {
  const timeval tv = to_timeval(timeout);
  bool got = false;
  if (!read_one(&tv, out, got)) return false;
  // Whatever else is there already: a zero wait.
  const timeval zero{};
  while (got) {
    if (!read_one(&zero, out, got)) return false;
  }
  amqp_maybe_release_buffers(conn_);
  return true;
}

}  // namespace peregrine::dropcopy::detail

extern "C" peregrine::dropcopy::detail::AmqpLink* peregrine_amqp_open(std::uint32_t abi, std::string* error) noexcept {
  using peregrine::dropcopy::detail::kAmqpModuleAbi;
  try {
    if (abi != kAmqpModuleAbi) {
      *error = "peregrine-amqp.so is of module ABI " + std::to_string(kAmqpModuleAbi) + ", the binary of " +
               std::to_string(abi) + ": install the two from one build";
      return nullptr;
    }
    return new peregrine::dropcopy::detail::RabbitmqLink();
  } catch (const std::exception& e) {
    *error = e.what();
  }
  return nullptr;
}
