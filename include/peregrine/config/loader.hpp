#pragma once
/// Loads an EngineConfig (instruments, firms, capacities) from a YAML file. Native builds only;
/// startup code, so errors are exceptions. Every key is described in docs/configuration.md.
/// Thread-safe: no shared state.

#include <stdexcept>
#include <string>
#include <string_view>

#include "peregrine/core/config.hpp"

namespace peregrine::config {

/// A configuration that cannot be used. what() reads
/// `<file>:<line>: <field>: <reason>`, e.g.
/// `config/demo.yaml:14: instruments[2].tick: must be a positive multiple of 0.0001, got "0.00001"`.
/// The line part is left out when there is no line (a file that cannot be read), the field part
/// when the problem is not about one field (a YAML syntax error).
class ConfigError : public std::runtime_error {
 public:
  /// `line` is 1-based, 0 when unknown; `field` may be empty.
  ConfigError(std::string file, int line, std::string field, std::string reason);

  /// The file name as given to the loader (or the name given with the text).
  [[nodiscard]] const std::string& file() const noexcept { return file_; }
  /// 1-based line of the offending key or entry; 0 when there is none.
  [[nodiscard]] int line() const noexcept { return line_; }
  /// Path of the offending field, e.g. `instruments[2].tick` or `engine.max_orders`; may be empty.
  [[nodiscard]] const std::string& field() const noexcept { return field_; }
  /// What is wrong, without the location.
  [[nodiscard]] const std::string& reason() const noexcept { return reason_; }

 private:
  std::string file_;
  int line_;
  std::string field_;
  std::string reason_;
};

/// Reads and checks the YAML file at `path`: parses it, fills in defaults and board presets, then
/// runs peregrine::check_config(). Throws ConfigError on the first problem found. The service
/// sections (users, gateway, core, admin, tuning; peregrine/config/service.hpp) are read and
/// checked too, but only the engine part is returned and the credentials file is not read.
[[nodiscard]] EngineConfig load_engine_config(const std::string& path);

/// As load_engine_config(), from YAML text in memory; `name` stands for the file name in errors.
[[nodiscard]] EngineConfig load_engine_config_from_string(std::string_view text,
                                                          const std::string& name = "<string>");

}  // namespace peregrine::config
