#pragma once
// The DPDK packet ingress (docs/dpdk.md): the EAL, one ethdev port, the receive lcore and the
// egress side's transmit queue. Internal to the service (src/app/server.cpp): DPDK's headers stay
// in dpdk_ingress.cpp, so nothing else needs them.
//
// Threads, in the style of DPDK's l3fwd:
//   - the main thread (the service's io thread, EAL's main lcore) builds a DpdkPort, sends the
//     replies through send()/flush_tx() on the port's one TX queue, and owns its life;
//   - the ingress lcore runs DpdkIngressLoop::run(): rx burst -> parse_udp_frame -> UdpIngress
//     -> the core's command ring, mbufs freed in bulk. Per-lcore state is resolved once before
//     the loop; inside it there is no allocation, no syscall, no lock, no log;
//   - the metrics thread calls DpdkPort::nic_stats() (rte_eth_stats_get) and reads the counters.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "peregrine/agent/idle_strategy.hpp"
#include "peregrine/ingress/packet.hpp"
#include "peregrine/ingress/udp_ingress.hpp"
#include "peregrine/metrics/counters.hpp"

struct rte_mbuf;
struct rte_mempool;

namespace peregrine::ingress::dpdk {

struct DpdkSettings {
  std::vector<std::string> eal_args;  ///< argv for rte_eal_init after the program name
  std::uint16_t port = 0;             ///< ethdev port id (in probe order: --vdev, then PCI)
  std::uint16_t rx_queue = 0;         ///< the queue the ingress lcore polls
  std::uint16_t tx_queue = 0;         ///< the queue egress sends replies on
  std::uint32_t local_ip = 0;         ///< our IPv4 address (host order); 0 = any
  std::uint16_t udp_port = 0;         ///< our UDP port for order entry
  std::uint16_t burst = 32;           ///< rx burst size (at most kMaxBurst)
  std::uint32_t mbufs = 8191;         ///< mbufs in the pool
  agent::IdleStrategyKind idle = agent::IdleStrategyKind::BusySpin;  ///< lcore behaviour when rx is empty
};

inline constexpr std::uint16_t kMaxBurst = 64;
/// Burst-size histogram buckets: 1, 2-3, 4-7, 8-15, 16-31, 32-63, 64.
inline constexpr std::size_t kBurstBuckets = 7;
inline constexpr std::array<std::string_view, kBurstBuckets> kBurstBucketLabels{"1", "2-3", "4-7", "8-15", "16-31",
                                                                               "32-63", "64"};

/// The lcore's and the TX side's counters (single writer each; any thread reads).
struct alignas(metrics::kCounterBlockAlign) DpdkCounters {
  // ingress lcore
  metrics::CounterCell rx_packets;
  metrics::CounterCell rx_bursts;  ///< non-empty bursts
  metrics::CounterCell rx_multi_segment;  ///< chained mbufs: dropped (frames are one segment here)
  std::array<metrics::CounterCell, static_cast<std::size_t>(FrameDrop::kCount)> frame_drops{};
  std::array<metrics::CounterCell, kBurstBuckets> burst_sizes{};
  alignas(metrics::kCounterBlockAlign) metrics::CounterCell tx_packets;  // egress thread from here
  metrics::CounterCell tx_dropped;  ///< no mbuf, or the TX queue refused the packet
};

/// Per-port NIC counters from rte_eth_stats_get.
struct NicStats {
  std::uint64_t ipackets = 0, opackets = 0, ibytes = 0, obytes = 0, imissed = 0, ierrors = 0, oerrors = 0,
                rx_nombuf = 0;
};

/// EAL, mempool, and one started port with `rx_queue + 1` RX and `tx_queue + 1` TX queues.
class DpdkPort {
 public:
  /// Initialises the EAL (once per process) and the port. Throws std::runtime_error naming what
  /// failed (EAL arguments, no such port, queue setup). Main thread.
  explicit DpdkPort(const DpdkSettings& s);
  /// Stops and closes the port (a pcap port writes its file here) and cleans up the EAL.
  ~DpdkPort();
  DpdkPort(const DpdkPort&) = delete;
  DpdkPort& operator=(const DpdkPort&) = delete;

  [[nodiscard]] MacAddress mac() const noexcept { return mac_; }
  [[nodiscard]] const DpdkSettings& settings() const noexcept { return s_; }
  [[nodiscard]] std::string name() const;

  /// Egress thread: one reply frame (addresses, payload) into the TX batch; sent at flush_tx()
  /// or when the batch is full. False (counted) when no mbuf is free.
  bool send(const UdpAddressing& addr, std::span<const std::uint8_t> payload) noexcept;
  /// Egress thread: rte_eth_tx_burst of the batch; what the queue refuses is freed and counted.
  void flush_tx() noexcept;

  /// Metrics thread.
  [[nodiscard]] NicStats nic_stats() const noexcept;

  DpdkCounters& counters() noexcept { return counters_; }
  [[nodiscard]] const DpdkCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] rte_mempool* pool() const noexcept { return pool_; }

 private:
  DpdkSettings s_;
  rte_mempool* pool_ = nullptr;
  MacAddress mac_{};
  bool started_ = false;
  std::uint16_t ip_id_ = 0;
  std::array<rte_mbuf*, kMaxBurst> tx_batch_{};
  std::uint16_t tx_count_ = 0;
  DpdkCounters counters_;
};

/// The ingress lcore: polls the port's RX queue and feeds a UdpIngress.
class DpdkIngressLoop {
 public:
  /// `port` and `ingress` outlive the loop. `mono_now_ns` / `tsc_hz` come from the main thread:
  /// the loop converts the TSC to that monotonic clock without a syscall.
  DpdkIngressLoop(DpdkPort& port, UdpIngress& ingress);
  ~DpdkIngressLoop();
  DpdkIngressLoop(const DpdkIngressLoop&) = delete;
  DpdkIngressLoop& operator=(const DpdkIngressLoop&) = delete;

  /// Launches the loop on the first worker lcore (pinned by EAL's -l/--lcores), or, when EAL
  /// has none, on a thread registered with EAL (rte_thread_register) pinned to `fallback_cpu`.
  /// Returns a description ("lcore 1" / "registered thread"). Main thread.
  std::string start(std::uint64_t mono_now_ns, int fallback_cpu);
  /// Asks the loop to finish and waits for it. Safe twice.
  void stop();
  /// One rx burst, parsed and handed over; returns packets received. The loop calls this; tests
  /// and the benchmark may call it from one thread without start().
  int poll_once() noexcept;

 private:
  static int lcore_entry(void* self);
  void run() noexcept;
  [[nodiscard]] std::uint64_t now_ns() const noexcept;

  DpdkPort& port_;
  UdpIngress& ingress_;
  std::uint16_t port_id_;
  std::uint16_t queue_;
  std::uint16_t burst_;
  std::uint32_t local_ip_;
  std::uint16_t udp_port_;
  std::uint64_t tsc0_ = 0;
  std::uint64_t mono0_ = 0;
  double ns_per_tsc_ = 1.0;
  std::atomic<bool> stop_{false};
  unsigned lcore_ = ~0u;  // worker lcore in use, or ~0u
  std::thread thread_;
};

}  // namespace peregrine::ingress::dpdk
