// The credentials file (username:password lines) and its check against the configuration's users.
// See docs/configuration.md.

#include <algorithm>
#include <string>

#include "peregrine/config/service.hpp"
#include "text.hpp"

namespace peregrine::config {

using detail::in_quotes;
using detail::is_alnum;

// --- credentials ---------------------------------------------------------------------------------

Credentials load_credentials_from_string(std::string_view text, const std::string& name) {
  Credentials out;
  out.file = name;
  int line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t end = std::min(text.find('\n', pos), text.size());
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
      line.remove_suffix(1);
    }
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.empty() || line.front() == '#') continue;

    // Never quote the line or the password in a message: it is a secret.
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      throw ConfigError(name, line_no, "", "expected username:password (no ':' on this line)");
    }
    const std::string_view username = line.substr(0, colon);
    const std::string_view password = line.substr(colon + 1);
    if (username.empty() || username.size() > 6 || !is_alnum(username)) {
      throw ConfigError(name, line_no, "username",
                        "must be 1 to 6 letters or digits (SoupBinTCP Username), got " + in_quotes(username));
    }
    if (password.empty() || password.size() > 10) {
      throw ConfigError(name, line_no, "password",
                        "must be 1 to 10 characters (SoupBinTCP Password), got " + std::to_string(password.size()) +
                            " for user " + in_quotes(username));
    }
    if (!std::all_of(password.begin(), password.end(), [](char c) { return c > ' ' && c <= '~'; })) {
      throw ConfigError(name, line_no, "password",
                        "must be printable ASCII without spaces, for user " + in_quotes(username));
    }
    if (const Credential* first = out.find(username)) {
      throw ConfigError(name, line_no, "username",
                        "duplicate username " + in_quotes(username) + ", first at line " + std::to_string(first->line));
    }
    out.entries.push_back(Credential{std::string(username), std::string(password), line_no});
  }
  return out;
}

Credentials load_credentials(const std::string& path) {
  return load_credentials_from_string(detail::read_text_file(path, "the credentials file"), path);
}

void check_credentials(const ServiceConfig& cfg, const Credentials& credentials) {
  for (std::size_t i = 0; i < cfg.users.size(); ++i) {
    const UserConfig& u = cfg.users[i];
    if (credentials.find(u.username) == nullptr) {
      throw ConfigError(cfg.source, u.line, "users[" + std::to_string(i) + "].username",
                        "user " + in_quotes(u.username) + " has no password in " + credentials.file);
    }
  }
  for (const Credential& c : credentials.entries) {
    if (cfg.find_user(c.username) == nullptr) {
      throw ConfigError(credentials.file, c.line, "username",
                        "user " + in_quotes(c.username) + " is not in the users of " + cfg.source);
    }
  }
}

}  // namespace peregrine::config
