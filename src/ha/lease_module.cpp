// The service's side of the Kubernetes module: find it, load it, call its factory
// (peregrine/ha/lease_client.hpp). No OpenSSL here.

#include <stdexcept>

#include "peregrine/agent/module.hpp"
#include "peregrine/ha/lease_client.hpp"

namespace peregrine::ha {

std::unique_ptr<LeaseApi> open_lease_client(const ApiServerConfig& config, const std::string& module_path) {
  const std::string path = module_path.empty() ? agent::beside_binary(kKubeModuleFile) : module_path;
  std::string error;
  void* symbol = agent::module_symbol(path, kKubeOpenSymbol, error);
  if (symbol == nullptr) throw std::runtime_error("the Kubernetes Lease client (" + path + ") could not be loaded: " + error);
  const auto open = reinterpret_cast<decltype(&peregrine_kube_open)>(symbol);
  LeaseApi* client = open(kKubeModuleAbi, &config, &error);
  if (client == nullptr) throw std::runtime_error(error.empty() ? path + " refused to make a Lease client" : error);
  return std::unique_ptr<LeaseApi>(client);
}

}  // namespace peregrine::ha
