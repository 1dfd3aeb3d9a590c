#include "peregrine/egress/feed_session.hpp"

#include <algorithm>

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

FeedSession::FeedSession(FeedRegistry& registry, sessions::UserDirectory& users, FeedHost& host,
                         const FeedLimits& limits, FeedCounters& counters, std::uint64_t now_ns)
    : SoupServerCore(users, host, limits, {counters.logins, counters.login_rejects, counters.protocol_errors}, now_ns),
      registry_(registry),
      limits_(limits),
      counters_(counters) {
  registry_.sessions_.push_back(this);
}

FeedSession::~FeedSession() {
  if (state() != State::Closed) finish(CloseReason::PeerClosed, false);
  auto& v = registry_.sessions_;
  v.erase(std::remove(v.begin(), v.end(), this), v.end());
}

sessions::SoupServerCore::StreamWindow FeedSession::stream_window(const sessions::UserState& /*user*/) const noexcept {
  // Every user reads the same stream; a feed login does not take the user's order-entry slot.
  const ItchBuffer& j = registry_.buffer();
  return {j.first_retained(), j.next_seq()};
}

void FeedSession::on_login(sessions::UserState& /*user*/, std::uint64_t start, std::uint64_t now_ns) {
  live_from_ = registry_.buffer().next_seq();
  send_login_accepted(start, now_ns);
  deliver(now_ns);
}

void FeedSession::on_unsequenced(const soup::Packet& /*p*/, std::uint64_t /*now_ns*/) {
  protocol_error();  // the feed takes no orders
}

void FeedSession::deliver(std::uint64_t now_ns) {
  if (state() != State::LoggedIn) return;
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
    send_sequenced<proto::itch::kMaxMessageSize>(j.get(next_to_send_), now_ns);
    ++counters_.messages_sent;
    if (next_to_send_ < live_from_) ++counters_.replayed;
  }
}

void FeedSession::end_session(std::uint64_t now_ns) {
  if (state() == State::LoggedIn) {
    // The whole rest of the day's stream goes before End of Session, whatever the burst limit.
    const std::size_t limit = limits_.max_messages_per_deliver;
    limits_.max_messages_per_deliver = 0;
    deliver(now_ns);
    limits_.max_messages_per_deliver = limit;
  }
  send_end_of_session();
}

}  // namespace peregrine::egress
