#pragma once
/// Bearer-token checks for the admin API's mutating routes. Any thread; no shared state.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace peregrine::ops {

/// Reads the admin token from `path` (a mounted Kubernetes Secret, or any file), dropping
/// trailing whitespace such as the newline `echo` adds. Startup only.
/// Throws std::runtime_error naming `path` when the file cannot be read, when the token is
/// empty, or when it holds characters a bearer token cannot carry (RFC 6750 b64token:
/// letters, digits and - . _ ~ + / with trailing '=').
[[nodiscard]] std::string read_token_file(const std::filesystem::path& path);

/// True when `a` and `b` are equal. The time taken depends on the lengths only, never on where
/// the first difference is, so it does not reveal a secret a byte at a time.
[[nodiscard]] bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

/// The token of an `Authorization: Bearer <token>` header value (scheme case-insensitive,
/// spaces around the token ignored), or nothing when the value is not a bearer credential.
[[nodiscard]] std::optional<std::string_view> bearer_token(std::string_view authorization) noexcept;

}  // namespace peregrine::ops
