#include "dpdk_ingress.hpp"

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_prefetch.h>

#include <bit>
#include <cstring>
#include <stdexcept>
#include <variant>


namespace peregrine::ingress::dpdk {

namespace {

constexpr std::uint16_t kRxDescriptors = 1024;
constexpr std::uint16_t kTxDescriptors = 1024;

std::runtime_error dpdk_error(const std::string& what, int err) {
  return std::runtime_error("dpdk: " + what + ": " + rte_strerror(err < 0 ? -err : err));
}

bool g_eal_ready = false;

std::size_t burst_bucket(unsigned n) noexcept {
  // 1 -> 0, 2-3 -> 1, 4-7 -> 2, ... 64 -> 6
  const auto b = static_cast<std::size_t>(std::bit_width(n) - 1);
  return b < kBurstBuckets ? b : kBurstBuckets - 1;
}

}  // namespace

DpdkPort::DpdkPort(const DpdkSettings& s) : s_(s) {
  if (s_.burst == 0 || s_.burst > kMaxBurst) s_.burst = 32;
  if (g_eal_ready) throw std::runtime_error("dpdk: the EAL is already initialised in this process");
  std::vector<std::string> args;
  args.emplace_back("peregrine");
  args.insert(args.end(), s_.eal_args.begin(), s_.eal_args.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  if (rte_eal_init(static_cast<int>(args.size()), argv.data()) < 0)
    throw dpdk_error("rte_eal_init with the EAL arguments given (ingress.eal_args)", rte_errno);
  g_eal_ready = true;
  if (!rte_eth_dev_is_valid_port(s_.port)) {
    const auto n = rte_eth_dev_count_avail();
    rte_eal_cleanup();
    g_eal_ready = false;
    throw std::runtime_error("dpdk: no ethdev port " + std::to_string(s_.port) + " (" + std::to_string(n) +
                             " available; add --vdev or bind a NIC, docs/dpdk.md)");
  }
  const unsigned socket = static_cast<unsigned>(std::max(0, rte_eth_dev_socket_id(s_.port)));
  pool_ = rte_pktmbuf_pool_create("peregrine_mbufs", s_.mbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                  static_cast<int>(socket));
  if (pool_ == nullptr) throw dpdk_error("mbuf pool of " + std::to_string(s_.mbufs), rte_errno);

  rte_eth_conf conf{};
  const std::uint16_t nrx = static_cast<std::uint16_t>(s_.rx_queue + 1);
  const std::uint16_t ntx = static_cast<std::uint16_t>(s_.tx_queue + 1);
  if (int rc = rte_eth_dev_configure(s_.port, nrx, ntx, &conf); rc < 0)
    throw dpdk_error("configure port " + std::to_string(s_.port) + " with " + std::to_string(nrx) + " rx / " +
                         std::to_string(ntx) + " tx queues",
                     rc);
  for (std::uint16_t q = 0; q < nrx; ++q) {
    if (int rc = rte_eth_rx_queue_setup(s_.port, q, kRxDescriptors, socket, nullptr, pool_); rc < 0)
      throw dpdk_error("rx queue " + std::to_string(q), rc);
  }
  for (std::uint16_t q = 0; q < ntx; ++q) {
    if (int rc = rte_eth_tx_queue_setup(s_.port, q, kTxDescriptors, socket, nullptr); rc < 0)
      throw dpdk_error("tx queue " + std::to_string(q), rc);
  }
  if (int rc = rte_eth_dev_start(s_.port); rc < 0) throw dpdk_error("start port " + std::to_string(s_.port), rc);
  started_ = true;
  (void)rte_eth_promiscuous_enable(s_.port);  // some vdevs do not support it; harmless
  rte_ether_addr addr{};
  if (rte_eth_macaddr_get(s_.port, &addr) == 0) std::memcpy(mac_.data(), addr.addr_bytes, 6);
}

DpdkPort::~DpdkPort() {
  if (started_) {
    flush_tx();
    (void)rte_eth_dev_stop(s_.port);
    (void)rte_eth_dev_close(s_.port);
  }
  if (pool_ != nullptr) rte_mempool_free(pool_);
  if (g_eal_ready) {
    rte_eal_cleanup();
    // The EAL cannot be initialised twice in one process even after cleanup.
  }
}

std::string DpdkPort::name() const {
  char buf[RTE_ETH_NAME_MAX_LEN] = {};
  if (rte_eth_dev_get_name_by_port(s_.port, buf) != 0) return "port " + std::to_string(s_.port);
  return buf;
}

bool DpdkPort::send(const UdpAddressing& addr, std::span<const std::uint8_t> payload) noexcept {
  rte_mbuf* m = rte_pktmbuf_alloc(pool_);
  if (m == nullptr) {
    counters_.tx_dropped.add();
    return false;
  }
  const std::size_t room = rte_pktmbuf_tailroom(m);
  auto* data = rte_pktmbuf_mtod(m, std::uint8_t*);
  const std::size_t n = build_udp_frame(addr, ip_id_++, payload, {data, room});
  if (n == 0) {
    rte_pktmbuf_free(m);
    counters_.tx_dropped.add();
    return false;
  }
  m->data_len = static_cast<std::uint16_t>(n);
  m->pkt_len = static_cast<std::uint32_t>(n);
  tx_batch_[tx_count_++] = m;
  if (tx_count_ == tx_batch_.size()) flush_tx();
  return true;
}

void DpdkPort::flush_tx() noexcept {
  if (tx_count_ == 0) return;
  const std::uint16_t sent = rte_eth_tx_burst(s_.port, s_.tx_queue, tx_batch_.data(), tx_count_);
  counters_.tx_packets.add(sent);
  if (sent < tx_count_) {
    rte_pktmbuf_free_bulk(tx_batch_.data() + sent, tx_count_ - sent);
    counters_.tx_dropped.add(tx_count_ - sent);
  }
  tx_count_ = 0;
}

NicStats DpdkPort::nic_stats() const noexcept {
  rte_eth_stats st{};
  NicStats out;
  if (rte_eth_stats_get(s_.port, &st) != 0) return out;
  out.ipackets = st.ipackets;
  out.opackets = st.opackets;
  out.ibytes = st.ibytes;
  out.obytes = st.obytes;
  out.imissed = st.imissed;
  out.ierrors = st.ierrors;
  out.oerrors = st.oerrors;
  out.rx_nombuf = st.rx_nombuf;
  return out;
}

// ---- the ingress lcore ----

DpdkIngressLoop::DpdkIngressLoop(DpdkPort& port, LcoreHost& host)
    : port_(port),
      host_(host),
      port_id_(port.settings().port),
      queue_(port.settings().rx_queue),
      burst_(port.settings().burst),
      local_ip_(port.settings().local_ip),
      udp_port_(port.settings().udp_port) {
  tsc0_ = rte_get_tsc_cycles();
  const std::uint64_t hz = rte_get_tsc_hz();
  ns_per_tsc_ = hz == 0 ? 1.0 : 1e9 / static_cast<double>(hz);
}

DpdkIngressLoop::~DpdkIngressLoop() { stop(); }

std::uint64_t DpdkIngressLoop::now_ns() const noexcept {
  return mono0_ + static_cast<std::uint64_t>(static_cast<double>(rte_get_tsc_cycles() - tsc0_) * ns_per_tsc_);
}

int DpdkIngressLoop::poll_once() noexcept {
  std::array<rte_mbuf*, kMaxBurst> pkts;
  const std::uint16_t n = rte_eth_rx_burst(port_id_, queue_, pkts.data(), burst_);
  if (n == 0) return 0;
  DpdkCounters& c = port_.counters();
  c.rx_packets.add(n);
  c.rx_bursts.add();
  c.burst_sizes[burst_bucket(n)].add();
  const std::uint64_t now = now_ns();
  for (std::uint16_t i = 0; i < n; ++i) {
    if (i + 1 < n) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void*));
    const rte_mbuf* m = pkts[i];
    if (m->nb_segs != 1) {
      c.rx_multi_segment.add();
      continue;
    }
    UdpDatagram d{};
    const FrameDrop drop =
        parse_udp_frame({rte_pktmbuf_mtod(m, const std::uint8_t*), m->data_len}, local_ip_, udp_port_, d);
    if (drop != FrameDrop::None) {
      c.frame_drops[static_cast<std::size_t>(drop)].add();
      continue;
    }
    host_.on_datagram(d, now);
  }
  rte_pktmbuf_free_bulk(pkts.data(), n);
  return n;
}

void DpdkIngressLoop::run() noexcept {
  agent::AnyIdleStrategy idle = agent::make_idle_strategy(port_.settings().idle);
  while (!stop_.load(std::memory_order_relaxed)) {
    const int work = poll_once();
    std::visit([work](auto& s) noexcept { s.idle(work); }, idle);
  }
}

int DpdkIngressLoop::lcore_entry(void* self) {
  auto* loop = static_cast<DpdkIngressLoop*>(self);
  loop->host_.on_lcore_start();
  loop->run();
  loop->host_.on_lcore_stop();
  return 0;
}

std::string DpdkIngressLoop::start(std::uint64_t mono_now_ns) {
  tsc0_ = rte_get_tsc_cycles();
  mono0_ = mono_now_ns;
  stop_.store(false, std::memory_order_relaxed);
  const unsigned worker = rte_get_next_lcore(static_cast<unsigned>(-1), 1, 0);
  if (worker < RTE_MAX_LCORE) {
    if (int rc = rte_eal_remote_launch(&DpdkIngressLoop::lcore_entry, this, worker); rc != 0)
      throw dpdk_error("launch on lcore " + std::to_string(worker), rc);
    lcore_ = worker;
    return "lcore " + std::to_string(worker);
  }
  thread_ = std::thread([this] {
    host_.on_lcore_start();
    (void)rte_thread_register();  // an lcore id: mempool caches work on this thread
    run();
    rte_thread_unregister();
    host_.on_lcore_stop();
  });
  return "registered thread";
}

void DpdkIngressLoop::stop() noexcept {
  stop_.store(true, std::memory_order_relaxed);
  if (lcore_ != ~0u) {
    (void)rte_eal_wait_lcore(lcore_);
    lcore_ = ~0u;
  }
  if (thread_.joinable()) thread_.join();
}

}  // namespace peregrine::ingress::dpdk
