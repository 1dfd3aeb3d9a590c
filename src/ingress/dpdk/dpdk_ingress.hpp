#pragma once
// The DPDK packet ingress's parts inside the module (peregrine-dpdk.so, docs/dpdk.md): the EAL and
// one ethdev port (DpdkPort), and the receive lcore (DpdkIngressLoop). DPDK's headers stay in
// dpdk_ingress.cpp. The service sees them only through peregrine/ingress/dpdk_module.hpp's
// DpdkIngress (dpdk_module.cpp); the benchmark (bench/dpdk) uses them directly.
//
// Threads: see dpdk_module.hpp.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <thread>

#include "peregrine/ingress/dpdk_module.hpp"
#include "peregrine/ingress/packet.hpp"

struct rte_mbuf;
struct rte_mempool;

namespace peregrine::ingress::dpdk {

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

/// The ingress lcore: polls the port's RX queue and hands each datagram to the host.
class DpdkIngressLoop {
 public:
  /// `port` and `host` outlive the loop. The loop converts the TSC to the main thread's
  /// monotonic clock (start()'s `mono_now_ns`) without a syscall.
  DpdkIngressLoop(DpdkPort& port, LcoreHost& host);
  ~DpdkIngressLoop();
  DpdkIngressLoop(const DpdkIngressLoop&) = delete;
  DpdkIngressLoop& operator=(const DpdkIngressLoop&) = delete;

  /// Launches the loop on the first worker lcore (pinned by EAL's -l/--lcores), or, when EAL
  /// has none, on a thread registered with EAL (rte_thread_register), unpinned. Returns a
  /// description ("lcore 1" / "registered thread"). Throws std::runtime_error when the launch
  /// fails. Main thread.
  std::string start(std::uint64_t mono_now_ns);
  /// Asks the loop to finish and waits for it. Safe twice.
  void stop() noexcept;
  /// One rx burst, parsed and handed over; returns packets received. The loop calls this; tests
  /// and the benchmark may call it from one thread without start().
  int poll_once() noexcept;

 private:
  static int lcore_entry(void* self);
  void run() noexcept;
  [[nodiscard]] std::uint64_t now_ns() const noexcept;

  DpdkPort& port_;
  LcoreHost& host_;
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
