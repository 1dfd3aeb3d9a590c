#pragma once
// How the configuration tests load a configuration from text: a base (the instruments, firms and
// users the test needs) followed by the section under test, loaded as "test.yaml" from "/etc/p".

#include <optional>
#include <string>
#include <string_view>

#include "peregrine/config/loader.hpp"
#include "peregrine/config/service.hpp"

namespace peregrine::config::config_text {

inline ServiceConfig load(std::string_view base, std::string_view rest) {
  return load_service_config_from_string(std::string(base) + std::string(rest), "test.yaml", "/etc/p");
}

/// The error that loading `base` + `rest` throws; nothing when it loads.
inline std::optional<ConfigError> refusal(std::string_view base, std::string_view rest) {
  try {
    (void)load(base, rest);
  } catch (const ConfigError& e) {
    return e;
  }
  return std::nullopt;
}

}  // namespace peregrine::config::config_text
