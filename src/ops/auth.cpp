#include "peregrine/ops/auth.hpp"

#include <fstream>
#include <iterator>
#include <stdexcept>

namespace peregrine::ops {

namespace {

bool is_token_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~' || c == '+' || c == '/';
}

/// RFC 6750 b64token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
bool is_b64token(std::string_view t) noexcept {
  std::size_t i = 0;
  while (i < t.size() && is_token_char(t[i])) ++i;
  if (i == 0) return false;
  while (i < t.size() && t[i] == '=') ++i;
  return i == t.size();
}

bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

}  // namespace

std::string read_token_file(const std::filesystem::path& path) {
  if (path.empty()) {
    throw std::runtime_error("admin token file: no path configured");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("admin token file " + path.string() + ": cannot open");
  }
  std::string token((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) {
    throw std::runtime_error("admin token file " + path.string() + ": read error");
  }
  while (!token.empty() && is_space(token.back())) token.pop_back();
  if (token.empty()) {
    throw std::runtime_error("admin token file " + path.string() + ": empty");
  }
  if (!is_b64token(token)) {
    // Never quote the token itself: it is a secret.
    throw std::runtime_error("admin token file " + path.string() +
                             ": the token must be one line of letters, digits and - . _ ~ + / (then '=')");
  }
  return token;
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  // Walks all of `a` whatever `b` holds; the lengths are compared without branching on content.
  std::size_t diff = a.size() ^ b.size();
  for (std::size_t i = 0; i < a.size(); ++i) {
    const unsigned char other = b.empty() ? 0 : static_cast<unsigned char>(b[i % b.size()]);
    diff |= static_cast<std::size_t>(static_cast<unsigned char>(a[i]) ^ other);
  }
  // Keep the compiler from turning the loop into an early-exit compare.
  volatile std::size_t sink = diff;
  return sink == 0;
}

std::optional<std::string_view> bearer_token(std::string_view authorization) noexcept {
  constexpr std::string_view kScheme = "bearer";
  std::size_t i = 0;
  while (i < authorization.size() && authorization[i] == ' ') ++i;
  if (authorization.size() - i <= kScheme.size()) return std::nullopt;
  for (std::size_t k = 0; k < kScheme.size(); ++k) {
    char c = authorization[i + k];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kScheme[k]) return std::nullopt;
  }
  i += kScheme.size();
  if (authorization[i] != ' ') return std::nullopt;
  while (i < authorization.size() && authorization[i] == ' ') ++i;
  std::size_t end = authorization.size();
  while (end > i && (authorization[end - 1] == ' ' || authorization[end - 1] == '\t')) --end;
  if (end == i) return std::nullopt;
  return authorization.substr(i, end - i);
}

}  // namespace peregrine::ops
