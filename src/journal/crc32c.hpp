#pragma once
/// CRC32C internals: both implementations, so tests can check each against known vectors.

#include <cstddef>
#include <cstdint>

namespace peregrine::journal::detail {

/// Slicing-by-8 table implementation; any CPU.
[[nodiscard]] std::uint32_t crc32c_table(const void* data, std::size_t n, std::uint32_t crc) noexcept;
/// SSE4.2 `crc32` instruction; only when crc32c_hw_available().
[[nodiscard]] std::uint32_t crc32c_sse42(const void* data, std::size_t n, std::uint32_t crc) noexcept;
/// True when the CPU has SSE4.2 (cpuid, checked once).
[[nodiscard]] bool crc32c_hw_available() noexcept;

}  // namespace peregrine::journal::detail
