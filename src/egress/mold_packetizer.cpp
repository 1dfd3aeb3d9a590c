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

MoldUdpPacketizer::MoldUdpPacketizer(const ItchBuffer& buffer, const MoldConfig& cfg, DatagramFn send)
    : buffer_(buffer),
      cfg_(cfg),
      send_(std::move(send)),
      buf_(checked_mtu(cfg.mtu)),
      request_buf_(cfg.mtu),
      builder_(buf_, buf_.size()),
      next_seq_(buffer.next_seq()),
      sent_next_(buffer.next_seq()) {}

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

void MoldUdpPacketizer::emit_pending(std::uint64_t now_ns) {
  if (builder_.size() != 0 && builder_.count() != 0) {
    emit();
    last_tx_ns_ = now_ns;
    sent_since_tick_ = false;  // now_ns is later than any send from add()
  }
}

void MoldUdpPacketizer::flush(std::uint64_t now_ns) {
  emit_pending(now_ns);
  batch_end();
}

void MoldUdpPacketizer::send_header_only(std::uint16_t count, std::uint64_t now_ns) {
  std::array<std::uint8_t, mold::kHeaderSize> buf{};
  const std::size_t n = mold::encode_header(mold::Header{cfg_.session, sent_next_, count}, buf);
  last_tx_ns_ = now_ns;
  send_({buf.data(), n});
}

void MoldUdpPacketizer::on_tick(std::uint64_t now_ns) {
  emit_pending(now_ns);
  if (sent_since_tick_) {
    sent_since_tick_ = false;
    last_tx_ns_ = std::max(last_tx_ns_, now_ns);
  } else if (now_ns - last_tx_ns_ >= cfg_.heartbeat_interval_ns) {
    ++counters_.heartbeats;
    send_header_only(ended_ ? mold::kEndOfSessionCount : mold::kHeartbeatCount, now_ns);
  }
  batch_end();
}

void MoldUdpPacketizer::end_of_session(std::uint64_t now_ns) {
  emit_pending(now_ns);
  ended_ = true;
  send_header_only(mold::kEndOfSessionCount, now_ns);
  sent_since_tick_ = false;
  batch_end();
}

std::vector<std::vector<std::uint8_t>> MoldUdpPacketizer::on_request(std::span<const std::uint8_t> request) {
  std::vector<std::vector<std::uint8_t>> out;
  (void)on_request(request, [&out](std::span<const std::uint8_t> d) { out.emplace_back(d.begin(), d.end()); });
  return out;
}

std::size_t MoldUdpPacketizer::on_request(std::span<const std::uint8_t> request, const DatagramFn& reply) {
  mold::Request r{};
  if (mold::parse_request(request, r) != mold::Status::Ok || !(r.session == cfg_.session)) {
    ++counters_.bad_requests;
    return 0;
  }
  ++counters_.requests;
  if (r.count == 0) return 0;
  if (r.sequence < buffer_.first_retained() || r.sequence >= sent_next_) {
    ++counters_.unavailable_requests;
    return 0;
  }
  const std::uint64_t want = std::min<std::uint64_t>(r.count, cfg_.max_request_count);
  const std::uint64_t end = std::min(r.sequence + want, sent_next_);
  mold::Builder b(request_buf_, request_buf_.size());
  std::size_t sent = 0;
  auto finish = [&] {
    reply(b.finish());
    ++counters_.retransmitted_packets;
    ++sent;
  };
  (void)b.begin(cfg_.session, r.sequence);
  for (std::uint64_t s = r.sequence; s < end; ++s) {
    const std::span<const std::uint8_t> m = buffer_.get(s);
    if (!b.add(m)) {
      finish();
      (void)b.begin(cfg_.session, s);
      (void)b.add(m);
    }
    ++counters_.retransmitted_messages;
  }
  finish();
  return sent;
}

}  // namespace peregrine::egress

namespace peregrine::egress {

void MoldUdpPacketizer::save(ByteWriter& w) const {
  w.u64(next_seq_);
  w.u64(sent_next_);
  w.u64(last_tx_ns_);
  w.u8(sent_since_tick_ ? 1 : 0);
  w.u8(ended_ ? 1 : 0);
  // The datagram being built: its blocks (u16 big-endian length + message) as they are in buf_.
  const bool pending = builder_.size() != 0;
  w.u8(pending ? 1 : 0);
  if (pending) {
    w.u64(builder_.next_sequence() - builder_.count());
    w.u16(builder_.count());
    const std::size_t n = builder_.size() - mold::kHeaderSize;
    w.u32(static_cast<std::uint32_t>(n));
    w.bytes(buf_.data() + mold::kHeaderSize, n);
  }
  for (const std::uint64_t c : {counters_.packets, counters_.messages, counters_.heartbeats, counters_.requests,
                                counters_.bad_requests, counters_.unavailable_requests,
                                counters_.retransmitted_packets, counters_.retransmitted_messages})
    w.u64(c);
}

bool MoldUdpPacketizer::load(ByteReader& in, std::string& error) {
  auto fail = [&](const char* what) {
    error = what;
    return false;
  };
  const std::uint64_t next = in.u64();
  const std::uint64_t sent = in.u64();
  const std::uint64_t last_tx = in.u64();
  const std::uint8_t since_tick = in.u8();
  const std::uint8_t ended = in.u8();
  const std::uint8_t pending = in.u8();
  if (!in.ok()) return fail("truncated MoldUDP64 state");
  if (since_tick > 1 || ended > 1 || pending > 1) return fail("bad MoldUDP64 flag");
  if (next != buffer_.next_seq()) return fail("MoldUDP64 next sequence differs from the ITCH buffer");
  if (sent > next || sent == 0) return fail("MoldUDP64 sent sequence out of range");
  if (pending == 0 && sent != next) return fail("MoldUDP64 messages neither sent nor pending");
  builder_ = mold::Builder(buf_, buf_.size());
  if (pending == 1) {
    const std::uint64_t first = in.u64();
    const std::uint16_t count = in.u16();
    const std::uint32_t n = in.u32();
    if (!in.ok()) return fail("truncated MoldUDP64 pending datagram");
    if (first != sent || count == 0 || next - sent != count)
      return fail("MoldUDP64 pending datagram does not continue the sent sequence");
    if (n > buf_.size() - mold::kHeaderSize) return fail("MoldUDP64 pending datagram larger than the MTU");
    const std::span<const std::uint8_t> blocks = in.view(n);
    if (!in.ok()) return fail("truncated MoldUDP64 pending datagram");
    (void)builder_.begin(cfg_.session, first);
    std::size_t at = 0;
    for (std::uint16_t i = 0; i < count; ++i) {
      if (blocks.size() - at < mold::kBlockHeaderSize) return fail("truncated MoldUDP64 message block");
      const std::size_t len = std::size_t{blocks[at]} << 8 | blocks[at + 1];
      at += mold::kBlockHeaderSize;
      if (blocks.size() - at < len) return fail("truncated MoldUDP64 message block");
      if (!builder_.add(blocks.subspan(at, len))) return fail("MoldUDP64 message block does not fit");
      at += len;
    }
    if (at != blocks.size()) return fail("MoldUDP64 pending datagram has bytes after its blocks");
  }
  next_seq_ = next;
  sent_next_ = sent;
  last_tx_ns_ = last_tx;
  sent_since_tick_ = since_tick == 1;
  ended_ = ended == 1;
  for (std::uint64_t* c : {&counters_.packets, &counters_.messages, &counters_.heartbeats, &counters_.requests,
                           &counters_.bad_requests, &counters_.unavailable_requests,
                           &counters_.retransmitted_packets, &counters_.retransmitted_messages})
    *c = in.u64();
  if (!in.ok()) return fail("truncated MoldUDP64 counters");
  return true;
}

}  // namespace peregrine::egress
