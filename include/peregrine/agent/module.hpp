#pragma once
/// The service's optional modules: shared objects installed beside the `peregrine` binary and
/// loaded only when the configuration asks for what they hold, so that a start that does not need
/// them maps, relocates and faults in none of their libraries (issue 14: start-up). Today:
/// peregrine-dpdk.so (DPDK ingress), peregrine-kube.so (the Lease client: HTTPS over OpenSSL) and
/// peregrine-amqp.so (the drop copy's broker link: rabbitmq-c, which loads OpenSSL too).

#include <string>
#include <string_view>

namespace peregrine::agent {

/// `file` in the directory of the running binary (/proc/self/exe); `file` alone, left to the
/// dynamic loader's search path, when there is no /proc. Start-up thread.
[[nodiscard]] std::string beside_binary(std::string_view file);

/// Loads the module at `path` (dlopen RTLD_NOW | RTLD_LOCAL, never unloaded: what it returns keeps
/// running its code) and returns the address of `symbol` in it, or nullptr with `error` set to
/// dlerror()'s words. Start-up thread.
[[nodiscard]] void* module_symbol(const std::string& path, const char* symbol, std::string& error);

}  // namespace peregrine::agent
