#pragma once
/// On-disk layout helpers shared by the reader, the writer, the tail and snapshots
/// (the format itself is documented in peregrine/journal/journal.hpp and snapshot.hpp).

#include <bit>
#include <cinttypes>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "peregrine/journal/journal.hpp"

namespace peregrine::journal::detail {

static_assert(std::endian::native == std::endian::little, "the journal format is little-endian; so is this code");

inline constexpr char kSegmentMagic[8] = {'P', 'G', 'J', 'O', 'U', 'R', 'N', 'L'};
inline constexpr char kSnapshotMagic[8] = {'P', 'G', 'S', 'N', 'A', 'P', 'S', 'H'};

template <typename T>
inline void put(std::uint8_t* p, T v) noexcept {
  std::memcpy(p, &v, sizeof v);
}
template <typename T>
[[nodiscard]] inline T get(const std::uint8_t* p) noexcept {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

/// A configuration fingerprint as errors show it: 16 hex digits.
[[nodiscard]] inline std::string fingerprint_hex(std::uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "%016" PRIx64, v);
  return b;
}

/// The payload size a record kind must have; 0 for an unknown kind.
[[nodiscard]] inline std::uint32_t payload_size(std::uint8_t kind) noexcept {
  switch (kind) {
    case static_cast<std::uint8_t>(RecordKind::Command): return sizeof(Command);
    case static_cast<std::uint8_t>(RecordKind::Start): return sizeof(StartRecord);
    case static_cast<std::uint8_t>(RecordKind::EndOfDay): return sizeof(EndOfDayRecord);
    case static_cast<std::uint8_t>(RecordKind::EpochStart): return sizeof(EpochStartRecord);
    default: return 0;
  }
}

/// A segment header's fields.
struct SegmentHeader {
  std::uint32_t version = kFormatVersion;
  std::uint64_t first_seq = 0;
  std::uint64_t fingerprint = 0;
  std::uint64_t created_ns = 0;
};

void encode_segment_header(const SegmentHeader& h, std::uint8_t* out) noexcept;
/// Decodes and checks magic, version, size and CRC; on failure returns nothing and sets `why`.
/// A version other than kFormatVersion sets `version_mismatch` (not corruption: a clear error).
[[nodiscard]] std::optional<SegmentHeader> decode_segment_header(const std::uint8_t* in, std::string& why,
                                                                 bool& version_mismatch);

/// Appends one record (header + payload) to `out`.
void encode_record(std::vector<std::uint8_t>& out, std::uint64_t seq, RecordKind kind, const void* payload,
                   std::uint32_t len);

enum class ParseStatus : std::uint8_t { Ok, Incomplete, Corrupt };
struct Parsed {
  ParseStatus status = ParseStatus::Incomplete;
  std::uint64_t seq = 0;
  RecordKind kind = RecordKind::Command;
  std::uint32_t len = 0;  ///< payload length
  std::string why;        ///< when Corrupt
};
/// Parses the record at `p` with `avail` bytes available.
[[nodiscard]] Parsed parse_record(const std::uint8_t* p, std::size_t avail);

/// `journal-<20 digits>.pjl`
[[nodiscard]] std::string segment_name(std::uint64_t first_seq);
/// The first seq in a segment file name, or nothing for any other name.
[[nodiscard]] std::optional<std::uint64_t> parse_segment_name(std::string_view name);
/// Segments of `dir`, by first seq ascending. Empty when the directory does not exist.
[[nodiscard]] std::vector<std::pair<std::uint64_t, std::filesystem::path>> list_segments(
    const std::filesystem::path& dir);

/// Unix / monotonic nanoseconds.
[[nodiscard]] std::uint64_t unix_ns() noexcept;
[[nodiscard]] std::uint64_t monotonic_ns() noexcept;

/// fsync of a directory (after creating, renaming or removing a file in it); errno-style result.
[[nodiscard]] int fsync_dir(const std::filesystem::path& dir) noexcept;
/// "<what>: <strerror(err)>"
[[nodiscard]] std::string errno_text(const std::string& what, int err);

}  // namespace peregrine::journal::detail
