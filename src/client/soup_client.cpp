// SoupClient: blocking SoupBinTCP over Boost.Asio. Each wait runs the io_context for at most the
// timeout (run_for); an operation still pending then is cancelled and drained, so the socket is
// left in a usable state.

#include "peregrine/client/soup_client.hpp"

#include <array>
#include <algorithm>
#include <string>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

namespace peregrine::client {

namespace asio = boost::asio;
using asio::ip::tcp;
namespace soup = proto::soup;

struct SoupClient::Impl {
  asio::io_context io;
  tcp::socket socket{io};
};

namespace {
constexpr std::size_t kReadChunk = 64 * 1024;

/// Runs `io` until `done` or the timeout; cancels the socket's operations on timeout and lets the
/// handlers run. Returns true when the operation completed in time.
bool run_until(asio::io_context& io, tcp::socket& s, const bool& done, std::chrono::milliseconds timeout) {
  io.restart();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) break;
    io.run_one_for(deadline - now);
  }
  if (done) return true;
  boost::system::error_code ignored;
  s.cancel(ignored);
  io.restart();
  while (!done) io.run_one();
  return false;
}
}  // namespace

SoupClient::SoupClient() : impl_(std::make_unique<Impl>()), rx_(kReadChunk) {}
SoupClient::~SoupClient() { close(); }

void SoupClient::connect(std::string_view host, std::uint16_t port, Duration timeout) {
  close();
  impl_ = std::make_unique<Impl>();
  decoder_.reset();
  pending_ = false;
  eof_ = false;
  next_seq_ = 1;
  heartbeats_ = 0;
  boost::system::error_code ec;
  tcp::resolver resolver(impl_->io);
  const auto endpoints = resolver.resolve(std::string(host), std::to_string(port), ec);
  if (ec) throw ClientError("resolve " + std::string(host) + ": " + ec.message());
  bool done = false;
  boost::system::error_code result;
  asio::async_connect(impl_->socket, endpoints, [&](const boost::system::error_code& e, const tcp::endpoint&) {
    result = e;
    done = true;
  });
  if (!run_until(impl_->io, impl_->socket, done, timeout)) {
    throw ClientError("connect " + std::string(host) + ":" + std::to_string(port) + ": timed out");
  }
  if (result) throw ClientError("connect " + std::string(host) + ":" + std::to_string(port) + ": " + result.message());
  impl_->socket.set_option(tcp::no_delay(true), ec);
  last_tx_ = std::chrono::steady_clock::now();
}

bool SoupClient::is_open() const noexcept { return impl_ && impl_->socket.is_open() && !eof_; }

void SoupClient::close() noexcept {
  if (!impl_) return;
  boost::system::error_code ignored;
  impl_->socket.shutdown(tcp::socket::shutdown_both, ignored);
  impl_->socket.close(ignored);
}

void SoupClient::write_all(std::span<const std::uint8_t> bytes) {
  if (!impl_ || !impl_->socket.is_open()) throw ClientError("write: not connected");
  boost::system::error_code ec;
  asio::write(impl_->socket, asio::buffer(bytes.data(), bytes.size()), ec);
  if (ec) throw ClientError("write: " + ec.message());
  last_tx_ = std::chrono::steady_clock::now();
}

void SoupClient::send_raw(std::span<const std::uint8_t> bytes) { write_all(bytes); }

void SoupClient::send_unsequenced(std::span<const std::uint8_t> message) {
  std::vector<std::uint8_t> buf(soup::kHeaderSize + message.size());
  if (soup::encode_unsequenced_data(message, buf) == 0) throw ClientError("message too long");
  write_all(buf);
}

void SoupClient::send_heartbeat() {
  std::array<std::uint8_t, soup::kEmptyPacketSize> buf{};
  write_all({buf.data(), soup::encode_empty(soup::PacketType::ClientHeartbeat, buf)});
}

void SoupClient::logout() {
  std::array<std::uint8_t, soup::kEmptyPacketSize> buf{};
  write_all({buf.data(), soup::encode_empty(soup::PacketType::LogoutRequest, buf)});
}

SoupClient::ReadResult SoupClient::read_some(Duration timeout) {
  if (eof_ || !impl_->socket.is_open()) return ReadResult::Eof;
  bool done = false;
  boost::system::error_code result;
  std::size_t n = 0;
  impl_->socket.async_read_some(asio::buffer(rx_), [&](const boost::system::error_code& e, std::size_t got) {
    result = e;
    n = got;
    done = true;
  });
  if (!run_until(impl_->io, impl_->socket, done, timeout) && n == 0) return ReadResult::Timeout;
  if (n == 0 && result) {
    eof_ = true;
    return ReadResult::Eof;
  }
  (void)decoder_.feed({rx_.data(), n});
  pending_ = true;
  return ReadResult::Ok;
}

LoginResult SoupClient::login(std::string_view user, std::string_view password, std::string_view session,
                              std::uint64_t seq, Duration timeout) {
  std::array<std::uint8_t, soup::kLoginRequestSize> buf{};
  const soup::LoginRequest req{soup::Username::from(user), soup::Password::from(password),
                               soup::SessionId::from(session), seq};
  write_all({buf.data(), soup::encode_login_request(req, buf)});
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  LoginResult out;
  for (;;) {
    soup::Packet p{};
    const soup::DecodeStatus st = pending_ ? decoder_.poll(p) : soup::DecodeStatus::NeedMore;
    if (st == soup::DecodeStatus::Ok) {
      if (p.type == soup::PacketType::LoginAccepted) {
        soup::LoginAccepted a{};
        if (soup::decode_login_accepted(p, a) != soup::DecodeStatus::Ok) return out;
        out.accepted = true;
        out.session = std::string(a.session.view());
        out.next_seq = a.sequence;
        next_seq_ = a.sequence;
        return out;
      }
      if (p.type == soup::PacketType::LoginRejected) {
        out.reject_reason = static_cast<char>(p.payload[0]);
        return out;
      }
      continue;  // Debug, or anything else before the answer
    }
    if (st != soup::DecodeStatus::NeedMore) {
      out.closed = true;  // unframeable answer: treat as a failed login
      return out;
    }
    pending_ = false;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return out;
    const ReadResult r = read_some(std::chrono::duration_cast<Duration>(deadline - now) + Duration{1});
    if (r == ReadResult::Eof) {
      out.closed = true;
      return out;
    }
    if (r == ReadResult::Timeout) return out;
  }
}

SoupEvent SoupClient::next(Duration timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  SoupEvent ev;
  for (;;) {
    soup::Packet p{};
    const soup::DecodeStatus st = pending_ ? decoder_.poll(p) : soup::DecodeStatus::NeedMore;
    if (st == soup::DecodeStatus::Ok) {
      switch (p.type) {
        case soup::PacketType::SequencedData:
          ev.kind = SoupEvent::Kind::Data;
          ev.seq = next_seq_++;
          ev.payload.assign(p.payload.begin(), p.payload.end());
          return ev;
        case soup::PacketType::ServerHeartbeat:
          ++heartbeats_;
          if (is_open()) send_heartbeat();
          continue;
        case soup::PacketType::EndOfSession:
          ev.kind = SoupEvent::Kind::EndOfSession;
          return ev;
        case soup::PacketType::Debug: continue;
        default:  // a second Login Accepted/Rejected
          ev.kind = SoupEvent::Kind::ProtocolError;
          return ev;
      }
    }
    if (st != soup::DecodeStatus::NeedMore) {
      ev.kind = SoupEvent::Kind::ProtocolError;
      return ev;
    }
    pending_ = false;
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      ev.kind = SoupEvent::Kind::Timeout;
      return ev;
    }
    if (is_open() && now - last_tx_ >= heartbeat_interval_) send_heartbeat();
    // Wake in time to send our own heartbeat.
    const auto wait = std::min<std::chrono::steady_clock::duration>(deadline - now, heartbeat_interval_);
    const ReadResult r = read_some(std::chrono::duration_cast<Duration>(wait) + Duration{1});
    if (r == ReadResult::Eof) {
      ev.kind = SoupEvent::Kind::Closed;
      return ev;
    }
  }
}

}  // namespace peregrine::client
