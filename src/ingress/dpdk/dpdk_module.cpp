// peregrine-dpdk.so's one entry point: the port and its lcore behind DpdkIngress
// (peregrine/ingress/dpdk_module.hpp). Built with hidden visibility: peregrine_dpdk_open is the
// only symbol the module exports.

#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "dpdk_ingress.hpp"
#include "peregrine/ingress/dpdk_module.hpp"

namespace peregrine::ingress::dpdk {
namespace {

class ModuleIngress final : public DpdkIngress {
 public:
  ModuleIngress(const DpdkSettings& s, LcoreHost& host) : port_(s), loop_(port_, host) {}
  ~ModuleIngress() override { loop_.stop(); }  // the lcore before the port it polls
  ModuleIngress(const ModuleIngress&) = delete;
  ModuleIngress& operator=(const ModuleIngress&) = delete;

  [[nodiscard]] MacAddress mac() const noexcept override { return port_.mac(); }
  [[nodiscard]] std::string name() const override { return port_.name(); }
  [[nodiscard]] const DpdkSettings& settings() const noexcept override { return port_.settings(); }
  bool send(const UdpAddressing& addr, std::span<const std::uint8_t> payload) noexcept override {
    return port_.send(addr, payload);
  }
  void flush_tx() noexcept override { port_.flush_tx(); }
  [[nodiscard]] NicStats nic_stats() const noexcept override { return port_.nic_stats(); }
  [[nodiscard]] const DpdkCounters& counters() const noexcept override { return port_.counters(); }
  [[nodiscard]] std::optional<std::string> start(std::uint64_t mono_now_ns, std::string& error) noexcept override {
    try {
      return loop_.start(mono_now_ns);
    } catch (const std::exception& e) {
      error = e.what();
      return std::nullopt;
    }
  }
  void stop() noexcept override { loop_.stop(); }

 private:
  DpdkPort port_;
  DpdkIngressLoop loop_;
};

}  // namespace
}  // namespace peregrine::ingress::dpdk

extern "C" peregrine::ingress::dpdk::DpdkIngress* peregrine_dpdk_open(std::uint32_t abi,
                                                                      const peregrine::ingress::dpdk::DpdkSettings* settings,
                                                                      peregrine::ingress::dpdk::LcoreHost* host,
                                                                      std::string* error) noexcept {
  using namespace peregrine::ingress::dpdk;
  try {
    if (abi != kDpdkModuleAbi)
      throw std::runtime_error("dpdk: module ABI " + std::to_string(kDpdkModuleAbi) + ", the binary wants " +
                               std::to_string(abi) + ": peregrine-dpdk.so is from another build");
    return new ModuleIngress(*settings, *host);
  } catch (const std::exception& e) {
    if (error != nullptr) *error = e.what();
    return nullptr;
  }
}
