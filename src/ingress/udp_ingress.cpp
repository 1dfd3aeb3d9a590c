#include "peregrine/ingress/udp_ingress.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "peregrine/proto/wire.hpp"

namespace peregrine::ingress {

namespace mold = proto::mold;
using Kind = sessions::InboundDecision::Kind;

namespace {
constexpr std::uint64_t key_of(std::uint32_t ip, std::uint16_t port) noexcept {
  return (std::uint64_t{ip} << 16) | port;
}
}  // namespace

UdpIngress::UdpIngress(std::vector<UdpBinding> bindings, const UdpIngressConfig& cfg, UdpIngressHost& host,
                       UdpIngressCounters& counters)
    : bindings_(bindings.size()), cfg_(cfg), host_(host), counters_(counters) {
  if (bindings.size() > std::numeric_limits<std::uint16_t>::max())
    throw std::invalid_argument("more than 65535 UDP bindings");
  for (std::size_t i = 0; i < bindings.size(); ++i) {
    bindings_[i].cfg = bindings[i];
    index_.emplace_back(key_of(bindings[i].ip, bindings[i].port), static_cast<std::uint16_t>(i));
  }
  std::sort(index_.begin(), index_.end());
  for (std::size_t i = 0; i + 1 < index_.size(); ++i) {
    for (std::size_t j = i + 1; j < index_.size() && index_[j].first == index_[i].first; ++j) {
      if (bindings_[index_[i].second].cfg.session == bindings_[index_[j].second].cfg.session)
        throw std::invalid_argument("two UDP bindings for the same address, port and session");
    }
  }
}

int UdpIngress::find(std::uint32_t ip, std::uint16_t port, const mold::SessionId& session) const noexcept {
  const std::uint64_t key = key_of(ip, port);
  auto it = std::lower_bound(index_.begin(), index_.end(), std::pair<std::uint64_t, std::uint16_t>{key, 0});
  for (; it != index_.end() && it->first == key; ++it) {
    if (bindings_[it->second].cfg.session == session) return it->second;
  }
  return -1;
}

bool UdpIngress::notify(const UdpNotice& n) noexcept {
  if (host_.notify(n)) return true;
  counters_.notice_ring_full.add();
  return false;
}

void UdpIngress::notice_gap(std::size_t i, std::uint64_t missing, std::uint64_t now_ns) noexcept {
  State& b = bindings_[i];
  if (b.noticed_seq == b.next_expected && b.noticed_ns != 0 && now_ns - b.noticed_ns < cfg_.gap_notice_interval_ns)
    return;  // this gap was just reported; the client is resending
  UdpNotice n;
  n.kind = UdpNotice::Kind::Gap;
  n.binding = static_cast<std::uint16_t>(i);
  n.sequence = b.next_expected;
  n.count = static_cast<std::uint16_t>(std::min<std::uint64_t>(missing, mold::kMaxCount));
  if (!notify(n)) return;
  counters_.gap_notices.add();
  b.noticed_seq = b.next_expected;
  b.noticed_ns = now_ns == 0 ? 1 : now_ns;
}

PacketOutcome UdpIngress::on_datagram(const UdpDatagram& d, std::uint64_t now_ns) noexcept {
  const std::span<const std::uint8_t> p = d.payload;
  if (p.size() < mold::kHeaderSize) return count(PacketOutcome::Malformed);
  proto::wire::Reader r(p.data());
  const auto session = r.alpha<10>();
  const std::uint64_t seq = r.u64();
  const std::uint16_t n = r.u16();
  const int found = find(d.addr.src_ip, d.addr.src_port, session);
  if (found < 0) return count(PacketOutcome::UnknownEndpoint);
  const auto i = static_cast<std::size_t>(found);
  State& b = bindings_[i];
  b.peer_mac.store(mac_to_u64(d.addr.src_mac), std::memory_order_relaxed);

  if (p.size() == mold::kHeaderSize) {
    if (n == mold::kHeartbeatCount || n == mold::kEndOfSessionCount) return count(PacketOutcome::Heartbeat);
    if (seq == 0) return count(PacketOutcome::Malformed);
    UdpNotice req;
    req.kind = UdpNotice::Kind::Retransmit;
    req.binding = static_cast<std::uint16_t>(i);
    req.sequence = seq;
    req.count = n;
    (void)notify(req);  // lost when the ring is full: the client asks again
    return count(PacketOutcome::Request);
  }
  mold::Packet pkt{};
  if (mold::parse(p, pkt) != mold::Status::Ok || pkt.kind != mold::PacketKind::Messages || seq == 0 ||
      seq > std::numeric_limits<std::uint64_t>::max() - n)
    return count(PacketOutcome::Malformed);

  const std::uint64_t end = seq + n;  // one past the last message in the packet
  if (end <= b.next_expected) {
    counters_.messages_duplicate.add(n);
    return count(PacketOutcome::Duplicate);
  }
  if (seq > b.next_expected) {
    notice_gap(i, seq - b.next_expected, now_ns);
    return count(PacketOutcome::Gap);
  }
  const Timestamp ts{now_ns - origin_ns_};
  mold::MessageIterator it(pkt);
  std::span<const std::uint8_t> msg;
  std::uint64_t s = 0;
  while (it.next(msg, s)) {
    if (s < b.next_expected) {
      counters_.messages_duplicate.add();
      continue;
    }
    const sessions::InboundDecision dec = b.gate.admit(msg, b.cfg.ouch, b.cfg.throttle_per_second, now_ns, ts);
    switch (dec.kind) {
      case Kind::Submit:
      case Kind::EdgeReject:
      case Kind::Throttled:
        // An order, cancel or replace, or the EdgeReject the core answers with the refusal: either
        // way a command, so that every reply is sequenced (and journaled) by the core.
        if (!host_.submit(dec.command)) {
          // Not taken: the client is told to resend from here (nothing lost, nothing doubled).
          counters_.ring_full.add();
          notice_gap(i, end - s, now_ns);
          return count(PacketOutcome::Backpressure);
        }
        counters_.commands.add();
        if (dec.kind == Kind::EdgeReject) counters_.edge_rejects.add();
        if (dec.kind == Kind::Throttled) counters_.throttled.add();
        break;
      case Kind::BadMessage:
        counters_.bad_messages.add();
        break;
    }
    b.next_expected = s + 1;
    counters_.messages_applied.add();
  }
  return count(PacketOutcome::Applied);
}

}  // namespace peregrine::ingress
