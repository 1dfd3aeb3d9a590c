#include "peregrine/sessions/soup_session.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>

namespace peregrine::sessions {

namespace soup = proto::soup;
namespace ouch = proto::ouch;

// ---- UserDirectory ----

void UserDirectory::add(const UserAccount& account) {
  const std::string name(account.username.view());
  if (name.empty()) throw std::invalid_argument("user with a blank username");
  if (by_name_.contains(name)) throw std::invalid_argument("duplicate user " + name);
  if (by_owner_.contains(account.owner.value()))
    throw std::invalid_argument("duplicate owner id " + std::to_string(account.owner.value()));
  users_.push_back(std::make_unique<UserState>(UserState{account, OutboundBuffer(retention_), nullptr}));
  by_name_[name] = users_.back().get();
  by_owner_[account.owner.value()] = users_.back().get();
}

UserState* UserDirectory::find(const soup::Username& username) noexcept {
  const auto it = by_name_.find(std::string(username.view()));
  return it == by_name_.end() ? nullptr : it->second;
}

UserState* UserDirectory::find(OwnerId owner) noexcept {
  const auto it = by_owner_.find(owner.value());
  return it == by_owner_.end() ? nullptr : it->second;
}

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

// ---- SoupServerSession ----

namespace {
// Constant-time comparison of two fixed-size fields, so a wrong password's timing says nothing.
template <std::size_t N>
bool same(const Alpha<N>& a, const Alpha<N>& b) noexcept {
  unsigned diff = 0;
  for (std::size_t i = 0; i < N; ++i) diff |= static_cast<unsigned>(a.c[i] ^ b.c[i]);
  return diff == 0;
}
}  // namespace

SoupServerSession::SoupServerSession(UserDirectory& users, SessionHost& host, const SessionLimits& limits,
                                     SessionCounters& counters, std::uint64_t now_ns)
    : users_(users),
      host_(host),
      limits_(limits),
      counters_(counters),
      decoder_(soup::Role::Server, limits.max_packet_length),
      last_rx_ns_(now_ns),
      last_tx_ns_(now_ns) {}

SoupServerSession::~SoupServerSession() {
  if (state_ != State::Closed) finish(CloseReason::PeerClosed, false);
}

void SoupServerSession::on_bytes(std::span<const std::uint8_t> bytes, std::uint64_t now_ns) {
  if (state_ == State::Closed || throttle_closing_) return;  // logging out: input is not read
  last_rx_ns_ = now_ns;
  const soup::DecodeStatus st = decoder_.dispatch(bytes, [&](const soup::Packet& p) {
    handle(p, now_ns);
    return state_ != State::Closed && !throttle_closing_;
  });
  if (st != soup::DecodeStatus::Ok) {
    ++counters_.protocol_errors;
    finish(CloseReason::ProtocolError, true);
  }
}

void SoupServerSession::handle(const soup::Packet& p, std::uint64_t now_ns) {
  switch (p.type) {
    case soup::PacketType::Debug: return;  // free text, ignored
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
      if (state_ != State::LoggedIn) return finish(CloseReason::NotLoggedIn, true);
      return handle_data(p, now_ns);
    default:
      ++counters_.protocol_errors;
      return finish(CloseReason::ProtocolError, true);
  }
}

void SoupServerSession::handle_login(const soup::Packet& p, std::uint64_t now_ns) {
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
  UserState* u = users_.find(req.username);
  if (u == nullptr || !same(u->account.password, req.password)) return reject(soup::LoginRejectReason::NotAuthorized);
  const bool any_session = req.session.view().empty();
  if (!any_session && !(req.session == limits_.session_name)) return reject(soup::LoginRejectReason::SessionNotAvailable);
  if (u->active != nullptr) return reject(soup::LoginRejectReason::SessionNotAvailable);
  const OutboundBuffer& j = u->outbound;
  std::uint64_t start = req.sequence == 0 ? j.next_seq() : std::min(req.sequence, j.next_seq());
  // Messages older than the retention window are gone: refuse rather than silently skip them.
  if (start < j.first_retained()) return reject(soup::LoginRejectReason::SessionNotAvailable);

  user_ = u;
  u->active = this;
  ouch_ = proto::OuchSession{u->account.owner, u->account.firm, u->account.firm_name};
  state_ = State::LoggedIn;
  ++counters_.logins;
  next_to_send_ = start;
  std::array<std::uint8_t, soup::kLoginAcceptedSize> buf{};
  const std::size_t n = soup::encode_login_accepted(soup::LoginAccepted{limits_.session_name, start}, buf);
  host_.send({buf.data(), n});
  last_tx_ns_ = now_ns;
  const std::uint64_t before = next_to_send_;
  deliver(now_ns);
  counters_.replayed += next_to_send_ - before;
}

void SoupServerSession::handle_data(const soup::Packet& p, std::uint64_t now_ns) {
  ++counters_.messages_in;
  const Timestamp ts{now_ns - origin_ns_};
  const InboundDecision d = gate_.admit(p.payload, ouch_, user_->account.throttle_per_second, now_ns, ts);
  switch (d.kind) {
    case InboundDecision::Kind::BadMessage:
      ++counters_.protocol_errors;
      return finish(CloseReason::BadMessage, true);
    case InboundDecision::Kind::Throttled:
      // Over the limit: this message is refused, then the session is logged out. The refusal
      // comes back from the core like every reply; the session takes no more input and closes
      // once it has sent it (throttle_closing_).
      ++counters_.throttled;
      host_.submit_control(d.command);
      cancel_on_disconnect();  // at the logout's moment, right behind the refusal
      throttle_closing_ = true;
      throttle_reject_ = ouch::Rejected{ts.value(), d.token, ouch::reject::kOther};
      throttle_since_ns_ = now_ns == 0 ? 1 : now_ns;
      return;
    case InboundDecision::Kind::EdgeReject:
      ++counters_.edge_rejects;
      // Through the core, so that the Rejected is sequenced (and journaled) in the user's stream.
      return host_.submit_control(d.command);
    case InboundDecision::Kind::Submit:
      if (!host_.submit(d.command)) {
        ++counters_.ring_full_rejects;
        // The host keeps the refusal and pushes it, in order, when the ring has room.
        host_.submit_control(edge_reject_of(ouch_, d.token, ouch::reject::kOther, ts));
      }
      return;
  }
}

void SoupServerSession::cancel_on_disconnect() {
  if (cancel_submitted_ || user_ == nullptr || !user_->account.cancel_on_disconnect) return;
  cancel_submitted_ = true;
  ++counters_.cancel_on_disconnect;
  host_.submit_control(make_mass_cancel(Timestamp{last_rx_ns_ - origin_ns_}, user_->account.firm, InstrumentId{0},
                                      user_->account.owner, CancelReason::Disconnected));
}

void SoupServerSession::send_packet(soup::PacketType type, std::span<const std::uint8_t> payload,
                                    std::uint64_t now_ns) {
  std::array<std::uint8_t, soup::kHeaderSize + ouch::kMaxMessageSize> buf{};
  const std::size_t n = soup::encode_with_payload(type, payload, buf);
  host_.send({buf.data(), n});
  last_tx_ns_ = now_ns;
}

void SoupServerSession::deliver(std::uint64_t now_ns) {
  if (state_ != State::LoggedIn) return;
  const OutboundBuffer& j = user_->outbound;
  if (next_to_send_ < j.first_retained()) {
    // The client fell so far behind that its next message is no longer kept: it cannot be
    // served in order, so it is cut off (it may log in again from a retained number).
    ++counters_.slow_consumers;
    return finish(CloseReason::SlowConsumer, true);
  }
  const std::uint64_t before = next_to_send_;
  while (next_to_send_ < j.next_seq()) {
    if (limits_.deliver_high_water != 0 && host_.queued_bytes() >= limits_.deliver_high_water) break;
    const std::span<const std::uint8_t> msg = j.get(next_to_send_);
    send_packet(soup::PacketType::SequencedData, msg, now_ns);
    ++next_to_send_;
    if (throttle_closing_ && is_throttle_reject(msg)) return finish(CloseReason::Throttled, true);
  }
  if (next_to_send_ == j.next_seq() || next_to_send_ != before) {
    stalled_since_ns_ = 0;  // caught up, or the client is reading
  } else if (stalled_since_ns_ == 0) {
    stalled_since_ns_ = now_ns == 0 ? 1 : now_ns;
  }
}

bool SoupServerSession::is_throttle_reject(std::span<const std::uint8_t> msg) const noexcept {
  if (msg.empty() || msg[0] != static_cast<std::uint8_t>(ouch::OutboundType::Rejected)) return false;
  ouch::Outbound m{};
  return ouch::decode_outbound(msg, m) == ouch::Status::Ok && m.type == ouch::OutboundType::Rejected &&
         m.rejected == throttle_reject_;
}

void SoupServerSession::on_tick(std::uint64_t now_ns) {
  if (state_ == State::Closed) return;
  if (now_ns - last_rx_ns_ >= limits_.timeout_ns) return finish(CloseReason::Timeout, true);
  deliver(now_ns);
  if (state_ == State::Closed) return;
  // The core has not answered the throttled message in time: log out without it (it stays in
  // the user's stream and a re-login replays it).
  if (throttle_closing_ && now_ns - throttle_since_ns_ >= limits_.throttle_close_wait_ns)
    return finish(CloseReason::Throttled, true);
  if (stalled_since_ns_ != 0 && now_ns - stalled_since_ns_ >= limits_.stall_timeout_ns) {
    ++counters_.slow_consumers;
    return finish(CloseReason::SlowConsumer, true);
  }
  if (state_ == State::LoggedIn && now_ns - last_tx_ns_ >= limits_.heartbeat_interval_ns)
    send_packet(soup::PacketType::ServerHeartbeat, {}, now_ns);
}

void SoupServerSession::end_session() {
  if (state_ == State::Closed) return;
  std::array<std::uint8_t, soup::kEmptyPacketSize> buf{};
  const std::size_t n = soup::encode_empty(soup::PacketType::EndOfSession, buf);
  host_.send({buf.data(), n});
  finish(CloseReason::EndOfSession, true);
}

void SoupServerSession::on_disconnect() {
  if (state_ != State::Closed) finish(CloseReason::PeerClosed, false);
}

void SoupServerSession::finish(CloseReason why, bool tell_host) {
  if (state_ == State::Closed) return;
  const bool was_logged_in = state_ == State::LoggedIn;
  state_ = State::Closed;
  if (was_logged_in && user_ != nullptr) {
    if (user_->active == this) user_->active = nullptr;
    // Cancel-on-disconnect: however the session ended, this user's live orders go.
    cancel_on_disconnect();
  }
  if (tell_host) host_.close(why);
}

}  // namespace peregrine::sessions
