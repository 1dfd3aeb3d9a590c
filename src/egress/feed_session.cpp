#include "peregrine/egress/feed_session.hpp"

#include <algorithm>
#include <array>

namespace peregrine::egress {

namespace soup = proto::soup;
using sessions::CloseReason;

// ---- FeedRegistry ----

void FeedRegistry::deliver_all(std::uint64_t now_ns) {
  // By index: a session's host may not destroy it synchronously (FeedHost::close), so the
  // vector does not change under us, but indexing keeps this safe even if one registers.
  for (std::size_t i = 0; i < sessions_.size(); ++i) sessions_[i]->deliver(now_ns);
}

void FeedRegistry::tick_all(std::uint64_t now_ns) {
  for (std::size_t i = 0; i < sessions_.size(); ++i) sessions_[i]->on_tick(now_ns);
}

void FeedRegistry::end_all(std::uint64_t now_ns) {
  for (std::size_t i = 0; i < sessions_.size(); ++i) sessions_[i]->end_session(now_ns);
}

// ---- FeedSession ----

namespace {
// Constant-time comparison, as in the order gateway: a wrong password's timing says nothing.
template <std::size_t N>
bool same(const Alpha<N>& a, const Alpha<N>& b) noexcept {
  unsigned diff = 0;
  for (std::size_t i = 0; i < N; ++i) diff |= static_cast<unsigned>(a.c[i] ^ b.c[i]);
  return diff == 0;
}
}  // namespace

FeedSession::FeedSession(FeedRegistry& registry, sessions::UserDirectory& users, FeedHost& host,
                         const FeedLimits& limits, FeedCounters& counters, std::uint64_t now_ns)
    : registry_(registry),
      users_(users),
      host_(host),
      limits_(limits),
      counters_(counters),
      decoder_(soup::Role::Server, limits.max_packet_length),
      last_rx_ns_(now_ns),
      last_tx_ns_(now_ns) {
  registry_.sessions_.push_back(this);
}

FeedSession::~FeedSession() {
  if (state_ != State::Closed) finish(CloseReason::PeerClosed, false);
  auto& v = registry_.sessions_;
  v.erase(std::remove(v.begin(), v.end(), this), v.end());
}

void FeedSession::on_bytes(std::span<const std::uint8_t> bytes, std::uint64_t now_ns) {
  if (state_ == State::Closed) return;
  last_rx_ns_ = now_ns;
  const soup::DecodeStatus st = decoder_.dispatch(bytes, [&](const soup::Packet& p) {
    handle(p, now_ns);
    return state_ != State::Closed;
  });
  if (st != soup::DecodeStatus::Ok) {
    ++counters_.protocol_errors;
    finish(CloseReason::ProtocolError, true);
  }
}

void FeedSession::handle(const soup::Packet& p, std::uint64_t now_ns) {
  switch (p.type) {
    case soup::PacketType::Debug: return;
    case soup::PacketType::LoginRequest:
      if (state_ != State::AwaitingLogin) {
        ++counters_.protocol_errors;
        return finish(CloseReason::ProtocolError, true);
      }
      return handle_login(p, now_ns);
    case soup::PacketType::ClientHeartbeat:
      if (state_ != State::LoggedIn) return finish(CloseReason::NotLoggedIn, true);
      return;
    case soup::PacketType::LogoutRequest:
      return finish(CloseReason::Logout, true);
    case soup::PacketType::UnsequencedData:
      // The feed takes no orders.
      if (state_ != State::LoggedIn) return finish(CloseReason::NotLoggedIn, true);
      ++counters_.protocol_errors;
      return finish(CloseReason::ProtocolError, true);
    default:
      ++counters_.protocol_errors;
      return finish(CloseReason::ProtocolError, true);
  }
}

void FeedSession::handle_login(const soup::Packet& p, std::uint64_t now_ns) {
  soup::LoginRequest req{};
  if (soup::decode_login_request(p, req) != soup::DecodeStatus::Ok) {
    ++counters_.protocol_errors;
    return finish(CloseReason::ProtocolError, true);
  }
  auto reject = [&](soup::LoginRejectReason why) {
    std::array<std::uint8_t, soup::kLoginRejectedSize> buf{};
    const std::size_t n = soup::encode_login_rejected(why, buf);
    host_.send({buf.data(), n});
    ++counters_.login_rejects;
    finish(CloseReason::BadLogin, true);
  };
  const sessions::UserState* u = users_.find(req.username);
  if (u == nullptr || !same(u->account.password, req.password)) return reject(soup::LoginRejectReason::NotAuthorized);
  if (!req.session.view().empty() && !(req.session == limits_.session_name))
    return reject(soup::LoginRejectReason::SessionNotAvailable);
  const ItchBuffer& j = registry_.buffer();
  const std::uint64_t start = req.sequence == 0 ? j.next_seq() : std::min(req.sequence, j.next_seq());
  // Messages older than the retention window are gone: refuse rather than silently skip them.
  if (start < j.first_retained()) return reject(soup::LoginRejectReason::SessionNotAvailable);

  state_ = State::LoggedIn;
  ++counters_.logins;
  next_to_send_ = start;
  live_from_ = j.next_seq();
  std::array<std::uint8_t, soup::kLoginAcceptedSize> buf{};
  const std::size_t n = soup::encode_login_accepted(soup::LoginAccepted{limits_.session_name, start}, buf);
  host_.send({buf.data(), n});
  last_tx_ns_ = now_ns;
  deliver(now_ns);
}

void FeedSession::send_packet(soup::PacketType type, std::span<const std::uint8_t> payload, std::uint64_t now_ns) {
  std::array<std::uint8_t, soup::kHeaderSize + proto::itch::kMaxMessageSize> buf{};
  const std::size_t n = soup::encode_with_payload(type, payload, buf);
  host_.send({buf.data(), n});
  last_tx_ns_ = now_ns;
}

void FeedSession::deliver(std::uint64_t now_ns) {
  if (state_ != State::LoggedIn) return;
  const ItchBuffer& j = registry_.buffer();
  if (next_to_send_ < j.first_retained()) {
    // Only possible with max_messages_per_deliver: the stream outran this client's replay.
    ++counters_.fell_behind;
    return finish(CloseReason::SlowConsumer, true);
  }
  std::uint64_t end = j.next_seq();
  if (limits_.max_messages_per_deliver != 0)
    end = std::min<std::uint64_t>(end, next_to_send_ + limits_.max_messages_per_deliver);
  for (; next_to_send_ < end; ++next_to_send_) {
    send_packet(soup::PacketType::SequencedData, j.get(next_to_send_), now_ns);
    ++counters_.messages_sent;
    if (next_to_send_ < live_from_) ++counters_.replayed;
  }
}

void FeedSession::on_tick(std::uint64_t now_ns) {
  if (state_ == State::Closed) return;
  if (now_ns - last_rx_ns_ >= limits_.timeout_ns) return finish(CloseReason::Timeout, true);
  if (state_ != State::LoggedIn) return;
  deliver(now_ns);
  if (state_ == State::LoggedIn && now_ns - last_tx_ns_ >= limits_.heartbeat_interval_ns)
    send_packet(soup::PacketType::ServerHeartbeat, {}, now_ns);
}

void FeedSession::end_session(std::uint64_t now_ns) {
  if (state_ == State::Closed) return;
  if (state_ == State::LoggedIn) {
    // The whole rest of the day's stream goes before End of Session, whatever the burst limit.
    const std::size_t limit = limits_.max_messages_per_deliver;
    limits_.max_messages_per_deliver = 0;
    deliver(now_ns);
    limits_.max_messages_per_deliver = limit;
    if (state_ == State::Closed) return;
  }
  std::array<std::uint8_t, soup::kEmptyPacketSize> buf{};
  const std::size_t n = soup::encode_empty(soup::PacketType::EndOfSession, buf);
  host_.send({buf.data(), n});
  finish(CloseReason::EndOfSession, true);
}

void FeedSession::on_disconnect() {
  if (state_ != State::Closed) finish(CloseReason::PeerClosed, false);
}

void FeedSession::finish(CloseReason why, bool tell_host) {
  if (state_ == State::Closed) return;
  state_ = State::Closed;
  if (tell_host) host_.close(why);
}

}  // namespace peregrine::egress
