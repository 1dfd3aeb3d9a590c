#pragma once
/// The service's side of the DPDK module's lcore (dpdk_module.hpp): datagrams into its
/// UdpIngress, and the lcore registered in its thread registry. Kept out of dpdk_module.hpp on
/// purpose: the module must not see an implementation of LcoreHost, or the compiler devirtualises
/// the lcore's calls speculatively into this class and the module needs the binary's code.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "peregrine/agent/thread_registry.hpp"
#include "peregrine/ingress/dpdk_module.hpp"
#include "peregrine/ingress/udp_ingress.hpp"

namespace peregrine::ingress::dpdk {

/// The service's LcoreHost: datagrams into its UdpIngress; the lcore registered as `thread_name`
/// while it runs (peregrine_thread_cpu_seconds_total). Lives in the binary, not the module, so
/// the thread registry is the service's own.
class UdpIngressLcoreHost final : public LcoreHost {
 public:
  /// `ingress` outlives this object; an empty `thread_name` registers nothing (benchmarks).
  UdpIngressLcoreHost(UdpIngress& ingress, std::string_view thread_name) : ingress_(ingress), name_(thread_name) {}
  void on_lcore_start() noexcept override {
    if (!name_.empty()) registration_.emplace(name_);
  }
  void on_datagram(const UdpDatagram& d, std::uint64_t now_ns) noexcept override { (void)ingress_.on_datagram(d, now_ns); }
  void on_lcore_stop() noexcept override { registration_.reset(); }

 private:
  UdpIngress& ingress_;
  std::string name_;
  std::optional<agent::ThreadCpuRegistration> registration_;  // constructed and destroyed on the lcore
};

}  // namespace peregrine::ingress::dpdk
