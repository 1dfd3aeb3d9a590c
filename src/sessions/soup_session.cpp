#include "peregrine/sessions/soup_session.hpp"

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

// ---- SoupServerSession ----

SoupServerSession::SoupServerSession(UserDirectory& users, SessionHost& host, const SessionLimits& limits,
                                     SessionCounters& counters, std::uint64_t now_ns)
    : SoupServerCore(users, host, limits, {counters.logins, counters.login_rejects, counters.protocol_errors}, now_ns),
      host_(host),
      limits_(limits),
      counters_(counters) {}

SoupServerSession::~SoupServerSession() {
  if (state() != State::Closed) finish(CloseReason::PeerClosed, false);
}

SoupServerCore::StreamWindow SoupServerSession::stream_window(const UserState& user) const noexcept {
  return {user.outbound.first_retained(), user.outbound.next_seq()};
}

void SoupServerSession::on_login(UserState& user, std::uint64_t start, std::uint64_t now_ns) {
  user_ = &user;
  user.active = this;
  ouch_ = proto::OuchSession{user.account.owner, user.account.firm, user.account.firm_name};
  send_login_accepted(start, now_ns);
  const std::uint64_t before = next_to_send_;
  deliver(now_ns);
  counters_.replayed += next_to_send_ - before;
}

void SoupServerSession::on_unsequenced(const soup::Packet& p, std::uint64_t now_ns) {
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
  host_.submit_control(make_mass_cancel(Timestamp{last_rx_ns() - origin_ns_}, user_->account.firm, InstrumentId{0},
                                      user_->account.owner, CancelReason::Disconnected));
}

void SoupServerSession::deliver(std::uint64_t now_ns) {
  if (state() != State::LoggedIn) return;
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
    send_sequenced<ouch::kMaxMessageSize>(msg, now_ns);
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

void SoupServerSession::tick_logged_in(std::uint64_t now_ns) {
  deliver(now_ns);
  if (state() == State::Closed) return;
  // The core has not answered the throttled message in time: log out without it (it stays in
  // the user's stream and a re-login replays it).
  if (throttle_closing_ && now_ns - throttle_since_ns_ >= limits_.throttle_close_wait_ns)
    return finish(CloseReason::Throttled, true);
  if (stalled_since_ns_ != 0 && now_ns - stalled_since_ns_ >= limits_.stall_timeout_ns) {
    ++counters_.slow_consumers;
    return finish(CloseReason::SlowConsumer, true);
  }
}

void SoupServerSession::on_closed(bool was_logged_in) {
  if (was_logged_in && user_ != nullptr) {
    if (user_->active == this) user_->active = nullptr;
    // Cancel-on-disconnect: however the session ended, this user's live orders go.
    cancel_on_disconnect();
  }
}

}  // namespace peregrine::sessions
