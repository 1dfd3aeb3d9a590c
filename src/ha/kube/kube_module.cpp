// peregrine-kube.so: the Lease client (HTTPS to the Kubernetes API server over OpenSSL), loaded
// by the service only under `ha.failover: lease` (peregrine/ha/lease_client.hpp).

#include <exception>

#include "peregrine/ha/lease_client.hpp"

extern "C" peregrine::ha::LeaseApi* peregrine_kube_open(std::uint32_t abi, const peregrine::ha::ApiServerConfig* config,
                                                        std::string* error) noexcept {
  try {
    if (abi != peregrine::ha::kKubeModuleAbi) {
      *error = "peregrine-kube.so is of module ABI " + std::to_string(peregrine::ha::kKubeModuleAbi) +
               ", the binary of " + std::to_string(abi) + ": install the two from one build";
      return nullptr;
    }
    return new peregrine::ha::LeaseClient(*config);
  } catch (const std::exception& e) {
    *error = e.what();
  } catch (...) {
    *error = "peregrine-kube.so: unknown error";
  }
  return nullptr;
}
