#pragma once
/// Replies to UDP order-entry clients, without I/O: each bound user's outbound OUCH messages
/// (its sessions::OutboundBuffer, the same numbered record a SoupBinTCP login replays) go to
/// its endpoint as MoldUDP64 packets (session = the endpoint's session, sequence = the outbound buffer's
/// numbers); that buffer is what MoldUDP64 request packets read. Every
/// message in it comes from the core (edge rejects too, as EdgeReject commands); gap
/// notifications and re-requests come from the ingress as UdpNotices. docs/protocol.md, "Order
/// entry over UDP", defines every packet.
///
/// Thread: the egress (io) thread, which owns the outbound buffers. No allocation after construction.

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "peregrine/ingress/udp_ingress.hpp"
#include "peregrine/proto/moldudp64.hpp"
#include "peregrine/sessions/soup_session.hpp"

namespace peregrine::ingress {

struct UdpReplyConfig {
  /// Largest UDP payload of a reply packet (1472 fits a 1500-byte Ethernet MTU).
  std::size_t mtu = 1472;
  /// A heartbeat (count 0, sequence = next) goes to an endpoint silent this long.
  std::uint64_t heartbeat_interval_ns = 1'000'000'000;
  /// The most messages one request is answered with.
  std::uint16_t max_request_count = 1024;
};

/// Counts for metrics; written by the egress thread (copy them out there).
struct UdpReplyCounters {
  std::uint64_t packets = 0;          ///< live reply packets with messages
  std::uint64_t messages = 0;         ///< live messages sent
  std::uint64_t heartbeats = 0;
  std::uint64_t gap_notices = 0;      ///< gap notification packets sent
  std::uint64_t requests = 0;         ///< re-requests answered (possibly with nothing)
  std::uint64_t unavailable_requests = 0;  ///< first message not retained or not sent yet
  std::uint64_t retransmitted_packets = 0;
  std::uint64_t retransmitted_messages = 0;
  std::uint64_t skipped = 0;          ///< messages that left the outbound buffer before they could be sent
};

class UdpReplier {
 public:
  /// Receives each datagram for binding `binding`; the bytes are valid only during the call.
  using SendFn = std::function<void(std::size_t binding, std::span<const std::uint8_t> datagram)>;

  /// `users[i]` is the user of binding i (of the same UdpIngress configuration); each must
  /// outlive this. Messages already in an outbound buffer are not sent (the day starts empty).
  UdpReplier(std::vector<sessions::UserState*> users, std::vector<proto::mold::SessionId> sessions,
             const UdpReplyConfig& cfg, SendFn send);

  /// A notice from the ingress.
  void on_notice(const UdpNotice& n, std::uint64_t now_ns);
  /// Sends every message appended to the bound users' buffers since the last flush.
  void flush(std::uint64_t now_ns);
  /// Timer: flush, then heartbeats to endpoints silent for heartbeat_interval_ns.
  void on_tick(std::uint64_t now_ns);

  /// Sequence number of the next live message for binding i.
  [[nodiscard]] std::uint64_t next_to_send(std::size_t i) const noexcept { return ends_[i].next_to_send; }
  [[nodiscard]] const UdpReplyCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] std::size_t size() const noexcept { return ends_.size(); }

 private:
  struct End {
    sessions::UserState* user;
    proto::mold::SessionId session;
    std::uint64_t next_to_send;
    std::uint64_t last_tx_ns = 0;
  };
  // Sends messages [from, to) of binding i's outbound buffer in as many packets as needed; returns packets.
  std::uint64_t send_range(std::size_t i, std::uint64_t from, std::uint64_t to, std::uint64_t now_ns);
  void send_header(std::size_t i, std::uint64_t sequence, std::uint16_t count, std::uint64_t now_ns);

  std::vector<End> ends_;
  UdpReplyConfig cfg_;
  SendFn send_;
  std::vector<std::uint8_t> buf_;
  UdpReplyCounters counters_;
};

}  // namespace peregrine::ingress
