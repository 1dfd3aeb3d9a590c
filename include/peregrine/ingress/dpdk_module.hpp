#pragma once
/// The DPDK ingress as a loadable module (docs/dpdk.md, "The module"). The service links no DPDK
/// library: with `--ingress=dpdk` it loads `peregrine-dpdk.so` from beside its binary
/// (open_dpdk_module) and asks the module's one factory, `peregrine_dpdk_open`, for a DpdkIngress:
/// the EAL, one ethdev port, the receive lcore and the TX queue behind the interface below. A
/// server on asio ingress never loads DPDK's 13 shared libraries (issue 14).
///
/// The module and the binary come from one build (same compiler, same headers): the factory
/// refuses another kDpdkModuleAbi. Only this header's types cross the boundary, and no exception
/// does: errors come back as text.
///
/// Threads, in the style of DPDK's l3fwd:
///   - the main thread (the service's io thread, EAL's main lcore) opens the module, sends the
///     replies through send()/flush_tx() on the port's one TX queue, and owns its life;
///   - the ingress lcore polls the RX queue: rx burst -> parse_udp_frame -> LcoreHost::on_datagram
///     (the service's UdpIngress) -> the core's command ring, mbufs freed in bulk. Inside the loop
///     there is no allocation, no syscall, no lock, no log;
///   - the metrics thread calls nic_stats() (rte_eth_stats_get) and reads counters().

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "peregrine/agent/idle_strategy.hpp"
#include "peregrine/ingress/packet.hpp"
#include "peregrine/metrics/counters.hpp"

namespace peregrine::ingress::dpdk {

/// The port and the lcore, from the `ingress` section (docs/configuration.md).
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

/// What the ingress lcore calls back into: implemented by the service (UdpIngressLcoreHost,
/// dpdk_host.hpp), called on the lcore only.
class LcoreHost {
 public:
  /// The lcore's first act, before its first poll (name and register the thread).
  virtual void on_lcore_start() noexcept = 0;
  /// One datagram for our address and port, parsed from a received frame; `now_ns` on the
  /// monotonic clock. Must not block, allocate or log.
  virtual void on_datagram(const UdpDatagram& d, std::uint64_t now_ns) noexcept = 0;
  /// The lcore's last act, after its last poll.
  virtual void on_lcore_stop() noexcept = 0;

 protected:
  ~LcoreHost() = default;
};

/// The EAL, a started port with `rx_queue + 1` RX and `tx_queue + 1` TX queues, and the ingress
/// lcore. Destroying it stops the lcore, stops and closes the port (a pcap port writes its file
/// here) and cleans up the EAL, which cannot be initialised twice in one process.
class DpdkIngress {
 public:
  virtual ~DpdkIngress() = default;

  /// The port's MAC address. Any thread.
  [[nodiscard]] virtual MacAddress mac() const noexcept = 0;
  /// The ethdev's name (`net_pcap0`, `0000:3b:00.0`). Any thread.
  [[nodiscard]] virtual std::string name() const = 0;
  /// The settings the port was opened with (a burst out of range is 32). Any thread.
  [[nodiscard]] virtual const DpdkSettings& settings() const noexcept = 0;

  /// Egress thread: one reply frame (addresses, payload) into the TX batch; sent at flush_tx()
  /// or when the batch is full. False (counted) when no mbuf is free.
  virtual bool send(const UdpAddressing& addr, std::span<const std::uint8_t> payload) noexcept = 0;
  /// Egress thread: rte_eth_tx_burst of the batch; what the queue refuses is freed and counted.
  virtual void flush_tx() noexcept = 0;

  /// Metrics thread: the NIC's counters (zeros when the driver has none).
  [[nodiscard]] virtual NicStats nic_stats() const noexcept = 0;
  /// Any thread reads; the lcore and the egress thread write.
  [[nodiscard]] virtual const DpdkCounters& counters() const noexcept = 0;

  /// Main thread: launches the lcore on EAL's first worker lcore (pinned by EAL's -l/--lcores),
  /// or, when EAL has none, on a thread registered with EAL (unpinned); `mono_now_ns` anchors
  /// the lcore's TSC clock to the monotonic clock. Returns where it runs ("lcore 1",
  /// "registered thread"), or nullopt with `error` set.
  [[nodiscard]] virtual std::optional<std::string> start(std::uint64_t mono_now_ns, std::string& error) noexcept = 0;
  /// Asks the lcore to finish and waits for it. Safe twice, and without start().
  virtual void stop() noexcept = 0;
};

/// Bumped whenever this header changes in a way that matters across the boundary.
inline constexpr std::uint32_t kDpdkModuleAbi = 1;
/// The module's file name; the service looks for it beside its own binary.
inline constexpr std::string_view kDpdkModuleFile = "peregrine-dpdk.so";
/// The factory's symbol.
inline constexpr const char* kDpdkOpenSymbol = "peregrine_dpdk_open";

/// `kDpdkModuleFile` in the directory of the running binary (/proc/self/exe). Main thread.
[[nodiscard]] std::string dpdk_module_beside_binary();

/// Loads the module at `path` (dlopen, never unloaded: EAL's threads outlive the port) and opens
/// the port. `host` outlives the result. Main thread, before the service's other threads.
/// Throws std::runtime_error: "DPDK ingress requested but <path> could not be loaded: <dlerror>"
/// when the module is missing or is not one, else the module's own error (EAL, port, queues).
[[nodiscard]] std::unique_ptr<DpdkIngress> open_dpdk_module(const std::string& path, const DpdkSettings& settings,
                                                            LcoreHost& host);

}  // namespace peregrine::ingress::dpdk

extern "C" {
/// The module's one entry point: the port opened and ready to start(), owned by the caller (the
/// object's code lives in the module, which must stay loaded), or nullptr with `*error` set
/// (another kDpdkModuleAbi, EAL arguments, no such port, queue setup).
[[gnu::visibility("default")]] peregrine::ingress::dpdk::DpdkIngress* peregrine_dpdk_open(
    std::uint32_t abi, const peregrine::ingress::dpdk::DpdkSettings* settings,
    peregrine::ingress::dpdk::LcoreHost* host, std::string* error) noexcept;
}
