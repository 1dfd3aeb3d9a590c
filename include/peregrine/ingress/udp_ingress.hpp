#pragma once
/// Order entry over UDP, without I/O: MoldUDP64 packets carrying OUCH 4.2 inbound messages, from
/// configured client endpoints, turned into core Commands in sequence. The DPDK lcore calls
/// on_datagram() for every UDP datagram parse_udp_frame() accepted; tests and the fuzzer call it
/// directly. The rules (endpoints, sequencing, duplicates, gap notification, back-pressure) are
/// defined in docs/protocol.md, "Order entry over UDP"; this class is their implementation.
///
/// Threads: everything except the peer MAC cells and the counters belongs to one thread (the
/// ingress lcore). Counters are single-writer cells that the metrics thread reads; peer MACs are
/// written here and read by the egress thread to address replies. No allocation after
/// construction, no exceptions after construction, no syscalls, no logging.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "peregrine/core/command.hpp"
#include "peregrine/ingress/packet.hpp"
#include "peregrine/metrics/counters.hpp"
#include "peregrine/proto/moldudp64.hpp"
#include "peregrine/proto/ouch42.hpp"
#include "peregrine/proto/ouch_translate.hpp"
#include "peregrine/sessions/inbound_gate.hpp"

namespace peregrine::ingress {

/// One client endpoint bound to one user (configuration: ingress.bindings).
struct UdpBinding {
  std::uint32_t ip = 0;     ///< client IPv4 address, host order
  std::uint16_t port = 0;   ///< client UDP source port
  proto::mold::SessionId session{};  ///< the client's MoldUDP64 session name
  proto::OuchSession ouch{};         ///< owner, firm: as a SoupBinTCP login of the same user
  std::uint32_t throttle_per_second = 0;  ///< 0 = unlimited
};

/// Something only the egress thread can do, asked by the ingress (through an SPSC ring). Replies
/// to the client's messages are not notices: they all come from the core (edge refusals as
/// EdgeReject commands), so that the user's outbound sequence is the core's alone.
struct UdpNotice {
  enum class Kind : std::uint8_t {
    Gap,         ///< send a gap notification: next expected inbound `sequence`, `count` missing
    Retransmit,  ///< the client re-requests outbound messages [`sequence`, `sequence` + `count`)
  };
  Kind kind = Kind::Gap;
  std::uint16_t binding = 0;  ///< index into the bindings
  std::uint16_t count = 0;
  std::uint64_t sequence = 0;
};

/// Where the ingress hands its output. Both calls must not block; false means "no room now".
class UdpIngressHost {
 public:
  virtual ~UdpIngressHost() = default;
  /// A command for the core's ring (an order, cancel or replace, or an EdgeReject).
  [[nodiscard]] virtual bool submit(const Command& cmd) noexcept = 0;
  /// A notice for the egress thread.
  [[nodiscard]] virtual bool notify(const UdpNotice& notice) noexcept = 0;
};

/// What became of one datagram (the metrics label of each is to_string()).
enum class PacketOutcome : std::uint8_t {
  Applied = 0,      ///< every new message in it was taken (some may have been old: partial resend)
  Heartbeat,        ///< count 0 (or a client's End of Session, 0xFFFF): nothing to do
  Request,          ///< a 20-byte re-request for outbound messages: passed to egress
  Malformed,        ///< not a MoldUDP64 packet (short, counts overrun or underrun, sequence 0)
  UnknownEndpoint,  ///< no binding for (source IP, source port, session)
  Duplicate,        ///< every message already taken: dropped (idempotent resend)
  Gap,              ///< starts after the next expected number: dropped, gap notification
  Backpressure,     ///< the core's ring was full: the rest is not taken
  kCount
};

[[nodiscard]] constexpr std::string_view to_string(PacketOutcome o) noexcept {
  switch (o) {
    case PacketOutcome::Applied: return "applied";
    case PacketOutcome::Heartbeat: return "heartbeat";
    case PacketOutcome::Request: return "request";
    case PacketOutcome::Malformed: return "malformed";
    case PacketOutcome::UnknownEndpoint: return "unknown_endpoint";
    case PacketOutcome::Duplicate: return "duplicate";
    case PacketOutcome::Gap: return "gap";
    case PacketOutcome::Backpressure: return "backpressure";
    case PacketOutcome::kCount: break;
  }
  return "unknown";
}

/// Counters of the ingress; the lcore writes, the metrics thread reads.
struct alignas(metrics::kCounterBlockAlign) UdpIngressCounters {
  std::array<metrics::CounterCell, static_cast<std::size_t>(PacketOutcome::kCount)> packets{};  ///< by outcome
  metrics::CounterCell messages_applied;     ///< messages taken (each submitted, edge-rejected or bad)
  metrics::CounterCell messages_duplicate;   ///< messages skipped as already taken
  metrics::CounterCell commands;             ///< commands pushed to the core's ring (EdgeRejects included)
  metrics::CounterCell edge_rejects;         ///< refused at the edge (translation): an EdgeReject pushed
  metrics::CounterCell throttled;            ///< refused for the per-second limit: an EdgeReject pushed
  metrics::CounterCell bad_messages;         ///< not OUCH 4.2 inbound: taken, no reply
  metrics::CounterCell ring_full;            ///< the core's ring refused a command
  metrics::CounterCell notice_ring_full;     ///< the notice ring refused a notice
  metrics::CounterCell gap_notices;          ///< gap notifications asked for
};

struct UdpIngressConfig {
  /// A gap notification for the same expected number is not repeated sooner than this.
  std::uint64_t gap_notice_interval_ns = 1'000'000;
};

class UdpIngress {
 public:
  /// Throws std::invalid_argument on two bindings with the same (IP, port, session) or more than
  /// 65535 bindings. Start-up only.
  UdpIngress(std::vector<UdpBinding> bindings, const UdpIngressConfig& cfg, UdpIngressHost& host,
             UdpIngressCounters& counters);
  UdpIngress(const UdpIngress&) = delete;
  UdpIngress& operator=(const UdpIngress&) = delete;

  /// One datagram received at `now_ns` (monotonic; commands are stamped now_ns - clock origin).
  PacketOutcome on_datagram(const UdpDatagram& d, std::uint64_t now_ns) noexcept;

  /// Command timestamps: nanoseconds since this origin (the host sets the exchange's midnight).
  void set_clock_origin(std::uint64_t midnight_ns) noexcept { origin_ns_ = midnight_ns; }

  [[nodiscard]] std::size_t size() const noexcept { return bindings_.size(); }
  [[nodiscard]] const UdpBinding& binding(std::size_t i) const noexcept { return bindings_[i].cfg; }
  /// Index of the binding for (ip, port, session), or -1.
  [[nodiscard]] int find(std::uint32_t ip, std::uint16_t port, const proto::mold::SessionId& session) const noexcept;
  /// Next inbound sequence number expected from binding `i`.
  [[nodiscard]] std::uint64_t next_expected(std::size_t i) const noexcept { return bindings_[i].next_expected; }
  /// The MAC address binding `i` last sent from, as 48 bits (0 before its first packet). Any thread.
  [[nodiscard]] std::uint64_t peer_mac(std::size_t i) const noexcept {
    return bindings_[i].peer_mac.load(std::memory_order_relaxed);
  }

 private:
  struct State {
    UdpBinding cfg;
    std::uint64_t next_expected = 1;
    std::uint64_t noticed_seq = 0;  // expected number of the last gap notification
    std::uint64_t noticed_ns = 0;
    sessions::InboundGate gate;
    std::atomic<std::uint64_t> peer_mac{0};
  };

  PacketOutcome count(PacketOutcome o) noexcept {
    counters_.packets[static_cast<std::size_t>(o)].add();
    return o;
  }
  void notice_gap(std::size_t i, std::uint64_t missing, std::uint64_t now_ns) noexcept;
  [[nodiscard]] bool notify(const UdpNotice& n) noexcept;

  std::vector<State> bindings_;  // in configuration order; never resized after construction
  std::vector<std::pair<std::uint64_t, std::uint16_t>> index_;  // (ip << 16 | port, binding), sorted
  UdpIngressConfig cfg_;
  UdpIngressHost& host_;
  UdpIngressCounters& counters_;
  std::uint64_t origin_ns_ = 0;
};

/// 48-bit MAC <-> bytes.
[[nodiscard]] constexpr std::uint64_t mac_to_u64(const MacAddress& m) noexcept {
  std::uint64_t v = 0;
  for (std::uint8_t b : m) v = (v << 8) | b;
  return v;
}
[[nodiscard]] constexpr MacAddress mac_from_u64(std::uint64_t v) noexcept {
  MacAddress m{};
  for (int i = 5; i >= 0; --i) {
    m[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v);
    v >>= 8;
  }
  return m;
}

}  // namespace peregrine::ingress
