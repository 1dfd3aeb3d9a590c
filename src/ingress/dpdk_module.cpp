// The service's side of the DPDK module: find it, load it, call its factory
// (peregrine/ingress/dpdk_module.hpp). No DPDK here: this file is in every build.

#include "peregrine/ingress/dpdk_module.hpp"

#include <stdexcept>

#include "peregrine/agent/module.hpp"

namespace peregrine::ingress::dpdk {

std::string dpdk_module_beside_binary() { return agent::beside_binary(kDpdkModuleFile); }

std::unique_ptr<DpdkIngress> open_dpdk_module(const std::string& path, const DpdkSettings& settings, LcoreHost& host) {
  // Never unloaded: the EAL leaves threads of its own (interrupts, telemetry) running in the
  // module's code until the process ends.
  std::string why;
  void* symbol = agent::module_symbol(path, kDpdkOpenSymbol, why);
  if (symbol == nullptr) throw std::runtime_error("DPDK ingress requested but " + path + " could not be loaded: " + why);
  const auto open = reinterpret_cast<decltype(&peregrine_dpdk_open)>(symbol);
  std::string error;
  DpdkIngress* ingress = open(kDpdkModuleAbi, &settings, &host, &error);
  if (ingress == nullptr) throw std::runtime_error(error.empty() ? "dpdk: the module refused to open the port" : error);
  return std::unique_ptr<DpdkIngress>(ingress);
}

}  // namespace peregrine::ingress::dpdk
