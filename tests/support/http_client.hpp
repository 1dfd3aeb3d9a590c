#pragma once
/// The tests' one HTTP/1.1 client (the ops unit tests and the integration tests), blocking, on Beast. Every operation has a deadline
/// (tcp_stream timeouts), so a misbehaving server fails a test instead of hanging it.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace peregrine::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

/// One response as the client saw it.
struct Reply {
  unsigned status = 0;
  std::string body;
  /// Header names in lower case.
  std::map<std::string, std::string> headers;
  bool keep_alive = false;

  [[nodiscard]] std::string header(const std::string& lower_name) const {
    const auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

/// One connection to 127.0.0.1:port.
class Client {
 public:
  static constexpr std::chrono::seconds kDeadline{5};

  explicit Client(std::uint16_t port) : stream_(ioc_) {
    beast::error_code result = asio::error::would_block;
    stream_.expires_after(kDeadline);
    stream_.async_connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                          [&](beast::error_code ec) { result = ec; });
    run();
    connected_ = !result;
  }

  [[nodiscard]] bool connected() const noexcept { return connected_; }

  /// Sends `bytes` as they are; false on a write error (say, the server reset the connection).
  bool write_raw(std::string_view bytes) {
    beast::error_code result = asio::error::would_block;
    stream_.expires_after(kDeadline);
    asio::async_write(stream_, asio::buffer(bytes.data(), bytes.size()),
                      [&](beast::error_code ec, std::size_t) { result = ec; });
    run();
    return !result;
  }

  /// Sends one request.
  bool send(http::verb method, std::string_view target, std::string body = {},
            const std::map<std::string, std::string>& headers = {}, bool keep_alive = true) {
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "127.0.0.1");
    for (const auto& [k, v] : headers) req.set(k, v);
    if (!body.empty() || method == http::verb::post) {
      req.set(http::field::content_type, "application/json");
      req.body() = std::move(body);
    }
    req.keep_alive(keep_alive);
    req.prepare_payload();
    beast::error_code result = asio::error::would_block;
    stream_.expires_after(kDeadline);
    http::async_write(stream_, req, [&](beast::error_code ec, std::size_t) { result = ec; });
    run();
    return !result;
  }

  /// Reads one response; nothing if the connection ended (or failed) first.
  std::optional<Reply> read_reply() {
    http::response_parser<http::string_body> parser;
    parser.body_limit(16 * 1024 * 1024);
    beast::error_code result = asio::error::would_block;
    stream_.expires_after(kDeadline);
    http::async_read(stream_, buffer_, parser, [&](beast::error_code ec, std::size_t) { result = ec; });
    run();
    if (result) {
      last_error_ = result;
      return std::nullopt;
    }
    Reply r;
    const auto& res = parser.get();
    r.status = res.result_int();
    r.body = res.body();
    r.keep_alive = res.keep_alive();
    for (const auto& field : res) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
      r.headers[name] = std::string(field.value());
    }
    return r;
  }

  /// Sends one request and reads its response.
  std::optional<Reply> request(http::verb method, std::string_view target, std::string body = {},
                               const std::map<std::string, std::string>& headers = {}) {
    if (!send(method, target, std::move(body), headers)) return std::nullopt;
    return read_reply();
  }

  /// True when the server ends the connection (end of stream or reset) before the deadline,
  /// discarding whatever it sends first.
  bool closed_by_peer() {
    char scratch[4096];
    for (;;) {
      beast::error_code result = asio::error::would_block;
      stream_.expires_after(kDeadline);
      stream_.async_read_some(asio::buffer(scratch), [&](beast::error_code ec, std::size_t) { result = ec; });
      run();
      if (result == beast::error::timeout) return false;
      if (result) return true;
    }
  }

  [[nodiscard]] beast::error_code last_error() const noexcept { return last_error_; }

 private:
  void run() {
    ioc_.restart();
    ioc_.run();
  }

  asio::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  beast::error_code last_error_;
  bool connected_ = false;
};

/// One request on a fresh connection.
inline std::optional<Reply> fetch(std::uint16_t port, http::verb method, std::string_view target, std::string body = {},
                                  const std::map<std::string, std::string>& headers = {}) {
  Client c(port);
  if (!c.connected()) return std::nullopt;
  return c.request(method, target, std::move(body), headers);
}

}  // namespace peregrine::testing
