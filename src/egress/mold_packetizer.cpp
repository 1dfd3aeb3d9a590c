#include "peregrine/egress/mold_packetizer.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <utility>

#include "peregrine/proto/itch50.hpp"

namespace peregrine::egress {

namespace mold = proto::mold;

namespace {
constexpr std::size_t kMinMtu = mold::kHeaderSize + mold::kBlockHeaderSize + proto::itch::kMaxMessageSize;

std::size_t checked_mtu(std::size_t mtu) {
  if (mtu < kMinMtu)
    throw std::invalid_argument("MoldUDP64 mtu " + std::to_string(mtu) + " is below " + std::to_string(kMinMtu));
  return mtu;
}
}  // namespace

MoldUdpPacketizer::MoldUdpPacketizer(const ItchJournal& journal, const MoldConfig& cfg, DatagramFn send)
    : journal_(journal),
      cfg_(cfg),
      send_(std::move(send)),
      buf_(checked_mtu(cfg.mtu)),
      builder_(buf_, buf_.size()),
      next_seq_(journal.next_seq()),
      sent_next_(journal.next_seq()) {}

void MoldUdpPacketizer::emit() {
  const std::uint16_t count = builder_.count();
  const std::span<const std::uint8_t> d = builder_.finish();
  sent_next_ = builder_.next_sequence();
  ++counters_.packets;
  counters_.messages += count;
  send_(d);
}

void MoldUdpPacketizer::add(std::uint64_t seq, std::span<const std::uint8_t> message) {
  if (builder_.size() == 0) (void)builder_.begin(cfg_.session, seq);
  if (!builder_.add(message)) {
    emit();
    sent_since_tick_ = true;
    (void)builder_.begin(cfg_.session, seq);
    (void)builder_.add(message);  // fits: the MTU holds the largest ITCH message
  }
  next_seq_ = seq + 1;
}

void MoldUdpPacketizer::flush(std::uint64_t now_ns) {
  if (builder_.size() != 0 && builder_.count() != 0) {
    emit();
    last_tx_ns_ = now_ns;
    sent_since_tick_ = false;  // now_ns is later than any send from add()
  }
}

void MoldUdpPacketizer::send_header_only(std::uint16_t count, std::uint64_t now_ns) {
  std::array<std::uint8_t, mold::kHeaderSize> buf{};
  const std::size_t n = mold::encode_header(mold::Header{cfg_.session, sent_next_, count}, buf);
  last_tx_ns_ = now_ns;
  send_({buf.data(), n});
}

void MoldUdpPacketizer::on_tick(std::uint64_t now_ns) {
  flush(now_ns);
  if (sent_since_tick_) {
    sent_since_tick_ = false;
    last_tx_ns_ = std::max(last_tx_ns_, now_ns);
    return;
  }
  if (now_ns - last_tx_ns_ < cfg_.heartbeat_interval_ns) return;
  ++counters_.heartbeats;
  send_header_only(ended_ ? mold::kEndOfSessionCount : mold::kHeartbeatCount, now_ns);
}

void MoldUdpPacketizer::end_of_session(std::uint64_t now_ns) {
  flush(now_ns);
  ended_ = true;
  send_header_only(mold::kEndOfSessionCount, now_ns);
  sent_since_tick_ = false;
}

std::vector<std::vector<std::uint8_t>> MoldUdpPacketizer::on_request(std::span<const std::uint8_t> request) {
  std::vector<std::vector<std::uint8_t>> out;
  mold::Request r{};
  if (mold::parse_request(request, r) != mold::Status::Ok || !(r.session == cfg_.session)) {
    ++counters_.bad_requests;
    return out;
  }
  ++counters_.requests;
  if (r.count == 0) return out;
  if (r.sequence < journal_.first_retained() || r.sequence >= sent_next_) {
    ++counters_.unavailable_requests;
    return out;
  }
  const std::uint64_t want = std::min<std::uint64_t>(r.count, cfg_.max_request_count);
  const std::uint64_t end = std::min(r.sequence + want, sent_next_);
  std::vector<std::uint8_t> buf(buf_.size());
  mold::Builder b(buf, buf.size());
  auto finish = [&] {
    const std::span<const std::uint8_t> d = b.finish();
    out.emplace_back(d.begin(), d.end());
    ++counters_.retransmitted_packets;
  };
  (void)b.begin(cfg_.session, r.sequence);
  for (std::uint64_t s = r.sequence; s < end; ++s) {
    const std::span<const std::uint8_t> m = journal_.get(s);
    if (!b.add(m)) {
      finish();
      (void)b.begin(cfg_.session, s);
      (void)b.add(m);
    }
    ++counters_.retransmitted_messages;
  }
  finish();
  return out;
}

}  // namespace peregrine::egress
