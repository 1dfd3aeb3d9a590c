#pragma once
// Small text helpers of the configuration code (internal to src/config): the YAML reader, the
// single-value parsers and the credentials file share them.

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>

#include "peregrine/config/service.hpp"

namespace peregrine::config::detail {

inline std::string in_quotes(std::string_view s) { return "\"" + std::string(s) + "\""; }

/// True when every character is a decimal digit (also for "").
inline bool all_digits(std::string_view s) noexcept {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// True when every character is an ASCII letter or digit (also for "").
inline bool is_alnum(std::string_view s) noexcept {
  return std::all_of(s.begin(), s.end(), [](char ch) {
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
  });
}

/// The whole of the file at `path`. Throws ConfigError naming the file: "cannot open[ `what`]: why",
/// "cannot read `what`" (`what` "" for the configuration file itself, which reads "the file").
inline std::string read_text_file(const std::string& path, std::string_view what) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw ConfigError(path, 0, "", "is a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    const std::string why = err != 0 ? std::generic_category().message(err) : "unknown error";
    throw ConfigError(path, 0, "", "cannot open" + (what.empty() ? std::string() : " " + std::string(what)) + ": " + why);
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ConfigError(path, 0, "", "cannot read " + std::string(what.empty() ? "the file" : what));
  return text.str();
}

}  // namespace peregrine::config::detail
