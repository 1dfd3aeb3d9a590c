#include "peregrine/ingress/udp_replier.hpp"

#include <algorithm>
#include <stdexcept>

namespace peregrine::ingress {

namespace mold = proto::mold;
namespace ouch = proto::ouch;

UdpReplier::UdpReplier(std::vector<sessions::UserState*> users, std::vector<mold::SessionId> sessions,
                       const UdpReplyConfig& cfg, SendFn send)
    : cfg_(cfg), send_(std::move(send)), buf_(cfg.mtu) {
  if (users.size() != sessions.size()) throw std::invalid_argument("UdpReplier: one session per user");
  if (cfg.mtu < mold::kHeaderSize + mold::kBlockHeaderSize + ouch::kMaxMessageSize)
    throw std::invalid_argument("UdpReplier: the MTU cannot hold one OUCH message");
  for (std::size_t i = 0; i < users.size(); ++i) {
    if (users[i] == nullptr) throw std::invalid_argument("UdpReplier: no user");
    ends_.push_back(End{users[i], sessions[i], users[i]->outbound.next_seq(), 0});
  }
}

std::uint64_t UdpReplier::send_range(std::size_t i, std::uint64_t from, std::uint64_t to, std::uint64_t now_ns) {
  const sessions::OutboundBuffer& j = ends_[i].user->outbound;
  mold::Builder b(buf_, cfg_.mtu);
  std::uint64_t packets = 0;
  std::uint64_t seq = from;
  while (seq < to) {
    (void)b.begin(ends_[i].session, seq);
    while (seq < to && b.add(j.get(seq))) ++seq;
    send_(i, b.finish());
    ++packets;
  }
  if (packets > 0) ends_[i].last_tx_ns = now_ns;
  return packets;
}

void UdpReplier::send_header(std::size_t i, std::uint64_t sequence, std::uint16_t count, std::uint64_t now_ns) {
  std::array<std::uint8_t, mold::kHeaderSize> h{};
  (void)mold::encode_header(mold::Header{ends_[i].session, sequence, count}, h);
  send_(i, h);
  ends_[i].last_tx_ns = now_ns;
}

void UdpReplier::flush(std::uint64_t now_ns) {
  for (std::size_t i = 0; i < ends_.size(); ++i) {
    End& e = ends_[i];
    const sessions::OutboundBuffer& j = e.user->outbound;
    if (e.next_to_send < j.first_retained()) {  // only with a tiny retention and a huge burst
      counters_.skipped += j.first_retained() - e.next_to_send;
      e.next_to_send = j.first_retained();
    }
    if (e.next_to_send == j.next_seq()) continue;
    counters_.messages += j.next_seq() - e.next_to_send;
    counters_.packets += send_range(i, e.next_to_send, j.next_seq(), now_ns);
    e.next_to_send = j.next_seq();
  }
}

void UdpReplier::on_tick(std::uint64_t now_ns) {
  flush(now_ns);
  for (std::size_t i = 0; i < ends_.size(); ++i) {
    if (ends_[i].last_tx_ns == 0) {  // the first tick starts every endpoint's clock
      ends_[i].last_tx_ns = now_ns;
      continue;
    }
    if (now_ns - ends_[i].last_tx_ns < cfg_.heartbeat_interval_ns) continue;
    send_header(i, ends_[i].next_to_send, mold::kHeartbeatCount, now_ns);
    ++counters_.heartbeats;
  }
}

void UdpReplier::on_notice(const UdpNotice& n, std::uint64_t now_ns) {
  if (n.binding >= ends_.size()) return;
  const std::size_t i = n.binding;
  End& e = ends_[i];
  switch (n.kind) {
    case UdpNotice::Kind::Gap:
      // Inbound gap: the 20-byte request form, sequence = next expected, count = missing.
      send_header(i, n.sequence, n.count == 0 ? 1 : n.count, now_ns);
      ++counters_.gap_notices;
      return;
    case UdpNotice::Kind::Retransmit: {
      ++counters_.requests;
      const sessions::OutboundBuffer& j = e.user->outbound;
      const std::uint64_t count = std::min<std::uint64_t>(n.count, cfg_.max_request_count);
      if (n.sequence < j.first_retained() || n.sequence >= e.next_to_send || count == 0) {
        ++counters_.unavailable_requests;
        return;
      }
      const std::uint64_t to = std::min(n.sequence + count, e.next_to_send);
      counters_.retransmitted_messages += to - n.sequence;
      counters_.retransmitted_packets += send_range(i, n.sequence, to, now_ns);
      return;
    }
  }
}

}  // namespace peregrine::ingress
