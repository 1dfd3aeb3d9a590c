// The service's side of the DPDK module: find it, load it, call its factory
// (peregrine/ingress/dpdk_module.hpp). No DPDK here: this file is in every build.

#include "peregrine/ingress/dpdk_module.hpp"

#include <dlfcn.h>

#include <filesystem>
#include <stdexcept>
#include <system_error>

namespace peregrine::ingress::dpdk {

std::string dpdk_module_beside_binary() {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return std::string(kDpdkModuleFile);  // no /proc: the loader's own search path
  return (exe.parent_path() / kDpdkModuleFile).string();
}

std::unique_ptr<DpdkIngress> open_dpdk_module(const std::string& path, const DpdkSettings& settings, LcoreHost& host) {
  const auto refused = [&path](const char* why) {
    return std::runtime_error("DPDK ingress requested but " + path + " could not be loaded: " +
                              (why != nullptr ? why : "unknown error"));
  };
  // Never dlclose'd: the EAL leaves threads of its own (interrupts, telemetry) running in the
  // module's code until the process ends.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) throw refused(dlerror());
  void* symbol = dlsym(handle, kDpdkOpenSymbol);
  if (symbol == nullptr) throw refused(dlerror());
  const auto open = reinterpret_cast<decltype(&peregrine_dpdk_open)>(symbol);
  std::string error;
  DpdkIngress* ingress = open(kDpdkModuleAbi, &settings, &host, &error);
  if (ingress == nullptr) throw std::runtime_error(error.empty() ? "dpdk: the module refused to open the port" : error);
  return std::unique_ptr<DpdkIngress>(ingress);
}

}  // namespace peregrine::ingress::dpdk
