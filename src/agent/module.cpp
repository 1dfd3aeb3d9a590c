#include "peregrine/agent/module.hpp"

#include <dlfcn.h>

#include <filesystem>
#include <system_error>

namespace peregrine::agent {

std::string beside_binary(std::string_view file) {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return std::string(file);  // no /proc: the loader's own search path
  return (exe.parent_path() / file).string();
}

void* module_symbol(const std::string& path, const char* symbol, std::string& error) {
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    error = why != nullptr ? why : "unknown error";
    return nullptr;
  }
  void* address = dlsym(handle, symbol);
  if (address == nullptr) {
    const char* why = dlerror();
    error = why != nullptr ? why : std::string(symbol) + " not found";
  }
  return address;
}

}  // namespace peregrine::agent
