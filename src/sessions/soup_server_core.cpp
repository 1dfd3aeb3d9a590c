#include "peregrine/sessions/soup_server_core.hpp"

#include <algorithm>

#include "peregrine/sessions/soup_session.hpp"

namespace peregrine::sessions {

namespace soup = proto::soup;

std::string_view to_string(CloseReason r) noexcept {
  switch (r) {
    case CloseReason::Logout: return "logout";
    case CloseReason::BadLogin: return "bad_login";
    case CloseReason::ProtocolError: return "protocol_error";
    case CloseReason::BadMessage: return "bad_message";
    case CloseReason::NotLoggedIn: return "not_logged_in";
    case CloseReason::Timeout: return "timeout";
    case CloseReason::Throttled: return "throttled";
    case CloseReason::SlowConsumer: return "slow_consumer";
    case CloseReason::EndOfSession: return "end_of_session";
    case CloseReason::PeerClosed: return "peer_closed";
  }
  return "unknown";
}

namespace {
// Constant-time comparison of two fixed-size fields, so a wrong password's timing says nothing.
template <std::size_t N>
bool same(const Alpha<N>& a, const Alpha<N>& b) noexcept {
  unsigned diff = 0;
  for (std::size_t i = 0; i < N; ++i) diff |= static_cast<unsigned>(a.c[i] ^ b.c[i]);
  return diff == 0;
}
}  // namespace

SoupServerCore::SoupServerCore(UserDirectory& users, SoupHost& host, const SoupServerLimits& limits,
                               SoupServerCounters counters, std::uint64_t now_ns)
    : users_(users),
      host_(host),
      limits_(limits),
      counters_(counters),
      decoder_(soup::Role::Server, limits.max_packet_length),
      last_rx_ns_(now_ns),
      last_tx_ns_(now_ns) {}

void SoupServerCore::on_bytes(std::span<const std::uint8_t> bytes, std::uint64_t now_ns) {
  if (state_ == State::Closed || !reading()) return;
  last_rx_ns_ = now_ns;
  const soup::DecodeStatus st = decoder_.dispatch(bytes, [&](const soup::Packet& p) {
    handle(p, now_ns);
    return state_ != State::Closed && reading();
  });
  if (st != soup::DecodeStatus::Ok) protocol_error();
}

void SoupServerCore::handle(const soup::Packet& p, std::uint64_t now_ns) {
  switch (p.type) {
    case soup::PacketType::Debug: return;  // free text, ignored
    case soup::PacketType::LoginRequest:
      if (state_ != State::AwaitingLogin) return protocol_error();
      return handle_login(p, now_ns);
    case soup::PacketType::ClientHeartbeat:
      if (state_ != State::LoggedIn) return finish(CloseReason::NotLoggedIn, true);
      return;
    case soup::PacketType::LogoutRequest:
      return finish(CloseReason::Logout, true);
    case soup::PacketType::UnsequencedData:
      if (state_ != State::LoggedIn) return finish(CloseReason::NotLoggedIn, true);
      return on_unsequenced(p, now_ns);
    default:
      return protocol_error();
  }
}

void SoupServerCore::handle_login(const soup::Packet& p, std::uint64_t now_ns) {
  soup::LoginRequest req{};
  if (soup::decode_login_request(p, req) != soup::DecodeStatus::Ok) return protocol_error();
  auto reject = [&](soup::LoginRejectReason why) {
    std::array<std::uint8_t, soup::kLoginRejectedSize> buf{};
    const std::size_t n = soup::encode_login_rejected(why, buf);
    host_.send({buf.data(), n});
    ++counters_.login_rejects;
    finish(CloseReason::BadLogin, true);
  };
  if (limits_.refuse_logins) return reject(soup::LoginRejectReason::SessionNotAvailable);
  UserState* u = users_.find(req.username);
  if (u == nullptr || !same(u->account.password, req.password)) return reject(soup::LoginRejectReason::NotAuthorized);
  const bool any_session = req.session.view().empty();
  if (!any_session && !(req.session == limits_.session_name)) return reject(soup::LoginRejectReason::SessionNotAvailable);
  if (!may_log_in(*u)) return reject(soup::LoginRejectReason::SessionNotAvailable);
  const StreamWindow w = stream_window(*u);
  const std::uint64_t start = req.sequence == 0 ? w.next_seq : std::min(req.sequence, w.next_seq);
  // Messages older than the retention window are gone: refuse rather than silently skip them.
  if (start < w.first_retained) return reject(soup::LoginRejectReason::SessionNotAvailable);

  state_ = State::LoggedIn;
  ++counters_.logins;
  next_to_send_ = start;
  on_login(*u, start, now_ns);
}

void SoupServerCore::send_login_accepted(std::uint64_t start, std::uint64_t now_ns) {
  std::array<std::uint8_t, soup::kLoginAcceptedSize> buf{};
  const std::size_t n = soup::encode_login_accepted(soup::LoginAccepted{limits_.session_name, start}, buf);
  host_.send({buf.data(), n});
  last_tx_ns_ = now_ns;
}

void SoupServerCore::on_tick(std::uint64_t now_ns) {
  if (state_ == State::Closed) return;
  if (now_ns - last_rx_ns_ >= limits_.timeout_ns) return finish(CloseReason::Timeout, true);
  if (state_ != State::LoggedIn) return;
  tick_logged_in(now_ns);
  if (state_ == State::LoggedIn && now_ns - last_tx_ns_ >= limits_.heartbeat_interval_ns) {
    std::array<std::uint8_t, soup::kEmptyPacketSize> buf{};
    const std::size_t n = soup::encode_empty(soup::PacketType::ServerHeartbeat, buf);
    host_.send({buf.data(), n});
    last_tx_ns_ = now_ns;
  }
}

void SoupServerCore::send_end_of_session() {
  if (state_ == State::Closed) return;
  std::array<std::uint8_t, soup::kEmptyPacketSize> buf{};
  const std::size_t n = soup::encode_empty(soup::PacketType::EndOfSession, buf);
  host_.send({buf.data(), n});
  finish(CloseReason::EndOfSession, true);
}

void SoupServerCore::on_disconnect() {
  if (state_ != State::Closed) finish(CloseReason::PeerClosed, false);
}

void SoupServerCore::protocol_error() {
  ++counters_.protocol_errors;
  finish(CloseReason::ProtocolError, true);
}

void SoupServerCore::finish(CloseReason why, bool tell_host) {
  if (state_ == State::Closed) return;
  const bool was_logged_in = state_ == State::LoggedIn;
  state_ = State::Closed;
  on_closed(was_logged_in);
  if (tell_host) host_.close(why);
}

}  // namespace peregrine::sessions
