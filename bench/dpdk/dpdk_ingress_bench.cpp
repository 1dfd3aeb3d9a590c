// peregrine_dpdk_bench: the DPDK ingress from rx burst to the core's command ring, on a virtual
// port, beside the same measurement for the SoupBinTCP gateway's session (bytes of one socket
// read -> SoupServerSession -> command ring, no kernel in either). scripts/bench-dpdk runs it and
// writes the dpdk section of docs/benchmarks.md.
//
// DPDK: EAL with --no-huge --no-pci and --vdev=net_ring0 (its TX feeds its own RX). A generator
// (untimed) allocates a burst of mbufs, copies pre-built frames into them (each a MoldUDP64
// packet of K OUCH Enter Orders from one bound endpoint, numbered in sequence) and sends them
// with rte_eth_tx_burst; then one DpdkIngressLoop::poll_once() is timed: rte_eth_rx_burst,
// parse, the host's on_datagram (one virtual call, as in the server, which loads the loop from
// peregrine-dpdk.so), sequencing, edge checks, one push per message into an SpscRing of
// Commands, bulk free.
// The ring is drained (untimed) after each burst. Per-packet latency: from just before the rx
// burst to the push of the packet's last command (TSC).
//
// usage: peregrine_dpdk_bench [--packets N] [--per-packet K] [--burst B] (--help says more; pin it with taskset)
// Output: one line per figure, `name value`, for the script.

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "peregrine/bench/histogram.hpp"
#include "peregrine/cli/args.hpp"
#include "ingress/dpdk/dpdk_ingress.hpp"
#include "peregrine/ingress/dpdk_host.hpp"
#include "peregrine/app/core_loop.hpp"
#include "peregrine/ingress/packet.hpp"
#include "peregrine/ingress/udp_ingress.hpp"
#include "peregrine/proto/moldudp64.hpp"
#include "peregrine/proto/ouch42.hpp"
#include "peregrine/proto/soupbintcp.hpp"
#include "peregrine/sessions/soup_session.hpp"
#include "unit/ingress/ingress_test_util.hpp"

using namespace peregrine;
namespace ouch = proto::ouch;
namespace mold = proto::mold;
namespace soup = proto::soup;
using Bytes = std::vector<std::uint8_t>;

namespace {

Bytes enter_order(std::uint64_t n) {
  char tok[15];
  std::snprintf(tok, sizeof tok, "T%llu", static_cast<unsigned long long>(n));
  return ingress::test::enter_order(tok, (n & 1) != 0 ? 'B' : 'S');
}

// The consumer side of the command ring stands in for the core: it only counts.
class TimingHost final : public ingress::UdpIngressHost {
 public:
  explicit TimingHost(app::CommandRing& ring) : ring_(ring) {}
  bool submit(const Command& cmd) noexcept override {
    last_push_tsc = rte_rdtsc();
    return ring_.try_push(cmd) == ring::PushResult::Ok;
  }
  bool notify(const ingress::UdpNotice&) noexcept override { return true; }
  std::uint64_t last_push_tsc = 0;

 private:
  app::CommandRing& ring_;
};

struct Args {
  std::uint64_t packets = 2'000'000;
  unsigned per_packet = 4;
  unsigned burst = 32;
};

void print(const char* name, double v) { std::printf("%s %.6g\n", name, v); }

}  // namespace

int main(int argc, char** argv) {
  Args a;
  CLI::App app("The DPDK ingress from rx burst to the core's command ring on net_ring0, beside the SoupBinTCP "
               "gateway's session; one line per figure, `name value`.",
               "peregrine_dpdk_bench");
  cli::apply_house_style(app);
  cli::add_decimal(app, "--packets", a.packets, "packets sent and timed (default 2000000)", std::uint64_t{1});
  cli::add_decimal(app, "--per-packet", a.per_packet, "OUCH Enter Orders per MoldUDP64 packet (default 4)", 1u);
  cli::add_decimal(app, "--burst", a.burst, "packets per rx burst, at most the ingress's kMaxBurst (default 32)", 1u);
  if (const int status = cli::parse(app, argc, argv); status >= 0) return status;
  a.burst = std::clamp(a.burst, 1u, static_cast<unsigned>(ingress::dpdk::kMaxBurst));

  // ---- DPDK: net_ring0, rx burst -> ring ----
  ingress::dpdk::DpdkSettings s;
  s.eal_args = {"--no-huge", "--no-pci", "-m", "512", "-l", "0", "--no-shconf", "--log-level", "error",
                "--vdev=net_ring0"};
  s.local_ip = 0x0A000001;
  s.udp_port = 9010;
  s.burst = static_cast<std::uint16_t>(a.burst);
  s.mbufs = 4095;
  ingress::dpdk::DpdkPort port(s);
  auto ring = std::make_unique<app::CommandRing>();
  TimingHost host(*ring);
  ingress::UdpIngressCounters counters;
  ingress::UdpBinding b;
  b.ip = 0x0A000002;
  b.port = 40000;
  b.session = mold::SessionId::from("BENCH");
  b.ouch = proto::OuchSession{OwnerId{1}, FirmId{0}, FirmName::from("FRMA")};
  ingress::UdpIngress udp({b}, {}, host, counters);
  ingress::dpdk::UdpIngressLcoreHost lcore_host(udp, "");  // the server's path: one virtual call per datagram
  ingress::dpdk::DpdkIngressLoop loop(port, lcore_host);

  // Pre-built frames: 1024 distinct packets, re-numbered as they are sent.
  constexpr std::size_t kTemplates = 1024;
  std::vector<Bytes> frames;
  std::uint64_t msg = 0;
  for (std::size_t i = 0; i < kTemplates; ++i) {
    Bytes pkt(1472);
    mold::Builder mb(pkt, pkt.size());
    (void)mb.begin(b.session, 1);
    for (unsigned k = 0; k < a.per_packet; ++k) (void)mb.add(enter_order(msg++));
    const auto d = mb.finish();
    Bytes f(1600);
    ingress::UdpAddressing ad{{2, 0, 0, 0, 0, 2}, {2, 0, 0, 0, 0, 1}, b.ip, s.local_ip, b.port, s.udp_port};
    f.resize(ingress::build_udp_frame(ad, 1, d, f));
    frames.push_back(std::move(f));
  }
  // Offset of the MoldUDP64 sequence number in a frame; rewriting it invalidates the UDP
  // checksum, so the generator frames carry none (0, allowed over IPv4).
  constexpr std::size_t kSeqAt = ingress::kUdpFrameOverhead + 10;
  for (Bytes& f : frames) f[ingress::kEthernetHeaderSize + ingress::kIpv4HeaderSize + 6] = f[ingress::kEthernetHeaderSize + ingress::kIpv4HeaderSize + 7] = 0;

  bench::LatencyHistogram lat;
  const double ns_per_tsc = 1e9 / static_cast<double>(rte_get_tsc_hz());
  std::uint64_t timed_tsc = 0, received = 0, seq = 1, sent = 0, bursts = 0;
  std::vector<rte_mbuf*> mbufs(a.burst);
  const std::uint64_t warmup = std::min<std::uint64_t>(a.packets / 10, 100'000);
  while (received < a.packets + warmup) {
    // generator (untimed)
    if (rte_pktmbuf_alloc_bulk(port.pool(), mbufs.data(), a.burst) != 0) return 1;
    for (unsigned i = 0; i < a.burst; ++i) {
      const Bytes& f = frames[(sent + i) % kTemplates];
      auto* p = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(mbufs[i], static_cast<std::uint16_t>(f.size())));
      std::memcpy(p, f.data(), f.size());
      for (int k = 7; k >= 0; --k) p[kSeqAt + static_cast<std::size_t>(7 - k)] = static_cast<std::uint8_t>(seq >> (8 * k));
      seq += a.per_packet;
    }
    const std::uint16_t tx = rte_eth_tx_burst(0, 0, mbufs.data(), static_cast<std::uint16_t>(a.burst));
    if (tx < a.burst) rte_pktmbuf_free_bulk(mbufs.data() + tx, a.burst - tx);
    sent += a.burst;
    // rx burst -> ring (timed)
    const std::uint64_t t0 = rte_rdtsc();
    const int n = loop.poll_once();
    const std::uint64_t t1 = rte_rdtsc();
    if (n <= 0) continue;
    received += static_cast<std::uint64_t>(n);
    if (received > warmup) {
      timed_tsc += t1 - t0;
      ++bursts;
      // The burst's packets reach the ring in order; the last push bounds every packet's latency
      // from above, the first packet's is measured exactly by timing single-packet bursts below.
      lat.record(static_cast<std::uint64_t>(static_cast<double>(host.last_push_tsc - t0) * ns_per_tsc));
    }
    ring->drain([](Command&) noexcept {}, app::CommandRing::capacity());
  }
  const double timed_s = static_cast<double>(timed_tsc) * ns_per_tsc / 1e9;
  const double pkts = static_cast<double>(a.packets);
  print("dpdk_packets", pkts);
  print("dpdk_per_packet", a.per_packet);
  print("dpdk_burst", a.burst);
  print("dpdk_packets_per_s", pkts / timed_s);
  print("dpdk_messages_per_s", pkts * a.per_packet / timed_s);
  print("dpdk_ns_per_packet", timed_s * 1e9 / pkts);
  print("dpdk_burst_to_ring_p50_ns", static_cast<double>(lat.percentile(50)));
  print("dpdk_burst_to_ring_p99_ns", static_cast<double>(lat.percentile(99)));
  print("dpdk_burst_to_ring_p999_ns", static_cast<double>(lat.percentile(99.9)));
  print("dpdk_burst_to_ring_max_ns", static_cast<double>(lat.max()));
  print("dpdk_commands", static_cast<double>(counters.commands.load()));
  if (counters.commands.load() != received * a.per_packet) {  // warm-up included
    std::fprintf(stderr, "peregrine_dpdk_bench: %llu commands for %llu messages: the generator's packets are refused\n",
                 static_cast<unsigned long long>(counters.commands.load()),
                 static_cast<unsigned long long>(received * a.per_packet));
    return 1;
  }

  // Single-packet bursts: rx -> ring latency of one packet alone.
  bench::LatencyHistogram one;
  for (std::uint64_t i = 0; i < 200'000; ++i) {
    rte_mbuf* m = rte_pktmbuf_alloc(port.pool());
    if (m == nullptr) return 1;
    const Bytes& f = frames[i % kTemplates];
    auto* p = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, static_cast<std::uint16_t>(f.size())));
    std::memcpy(p, f.data(), f.size());
    for (int k = 7; k >= 0; --k) p[kSeqAt + static_cast<std::size_t>(7 - k)] = static_cast<std::uint8_t>(seq >> (8 * k));
    seq += a.per_packet;
    if (rte_eth_tx_burst(0, 0, &m, 1) != 1) rte_pktmbuf_free(m);
    const std::uint64_t t0 = rte_rdtsc();
    if (loop.poll_once() != 1) continue;
    one.record(static_cast<std::uint64_t>(static_cast<double>(host.last_push_tsc - t0) * ns_per_tsc));
    ring->drain([](Command&) noexcept {}, app::CommandRing::capacity());
  }
  print("dpdk_packet_to_ring_p50_ns", static_cast<double>(one.percentile(50)));
  print("dpdk_packet_to_ring_p99_ns", static_cast<double>(one.percentile(99)));
  print("dpdk_packet_to_ring_p999_ns", static_cast<double>(one.percentile(99.9)));
  print("dpdk_packet_to_ring_max_ns", static_cast<double>(one.max()));

  // ---- the SoupBinTCP session (the Asio gateway's per-read work, no socket) ----
  struct RingHost final : sessions::SessionHost {
    explicit RingHost(app::CommandRing& r) : ring(r) {}
    void send(std::span<const std::uint8_t>) override {}
    bool submit(const Command& cmd) override {
      last_push_tsc = rte_rdtsc();
      return ring.try_push(cmd) == ring::PushResult::Ok;
    }
    void submit_control(const Command&) override {}
    void close(sessions::CloseReason) override {}
    app::CommandRing& ring;
    std::uint64_t last_push_tsc = 0;
  } rh(*ring);
  sessions::UserDirectory users(16);
  sessions::UserAccount acc{};
  acc.username = Alpha<6>::from("BENCH");
  acc.password = Alpha<10>::from("pw");
  acc.owner = OwnerId{1};
  acc.firm_name = FirmName::from("FRMA");
  users.add(acc);
  sessions::SessionCounters sc;
  sessions::SessionLimits limits;
  sessions::SoupServerSession session(users, rh, limits, sc, 1);
  {
    std::array<std::uint8_t, soup::kLoginRequestSize> login{};
    const std::size_t n =
        soup::encode_login_request(soup::LoginRequest{acc.username, acc.password, Alpha<10>::from(""), 0}, login);
    session.on_bytes({login.data(), n}, 1);
  }
  // One "read" = what one burst of packets carried: burst x per_packet messages.
  const std::size_t per_read = static_cast<std::size_t>(a.burst) * a.per_packet;
  std::vector<Bytes> reads;
  msg = 0;
  for (std::size_t r = 0; r < 64; ++r) {
    Bytes bytes;
    for (std::size_t i = 0; i < per_read; ++i) {
      const Bytes m = enter_order(msg++);
      Bytes pkt(soup::kHeaderSize + m.size());
      pkt.resize(soup::encode_unsequenced_data(m, pkt));
      bytes.insert(bytes.end(), pkt.begin(), pkt.end());
    }
    reads.push_back(std::move(bytes));
  }
  bench::LatencyHistogram tcp_lat;
  std::uint64_t tcp_tsc = 0, tcp_msgs = 0;
  const std::uint64_t tcp_reads = a.packets / a.burst;
  for (std::uint64_t r = 0; r < tcp_reads; ++r) {
    const Bytes& bytes = reads[r % reads.size()];
    const std::uint64_t t0 = rte_rdtsc();
    session.on_bytes(bytes, 1 + r);  // same second for the throttle (0 = unlimited anyway)
    const std::uint64_t t1 = rte_rdtsc();
    tcp_tsc += t1 - t0;
    tcp_msgs += per_read;
    tcp_lat.record(static_cast<std::uint64_t>(static_cast<double>(rh.last_push_tsc - t0) * ns_per_tsc));
    ring->drain([](Command&) noexcept {}, app::CommandRing::capacity());
  }
  const double tcp_s = static_cast<double>(tcp_tsc) * ns_per_tsc / 1e9;
  print("soup_messages_per_s", static_cast<double>(tcp_msgs) / tcp_s);
  print("soup_read_to_ring_p50_ns", static_cast<double>(tcp_lat.percentile(50)));
  print("soup_read_to_ring_p99_ns", static_cast<double>(tcp_lat.percentile(99)));
  print("soup_read_to_ring_p999_ns", static_cast<double>(tcp_lat.percentile(99.9)));
  print("soup_commands", static_cast<double>(sc.messages_in));
  return 0;
}
