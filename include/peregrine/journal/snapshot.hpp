#pragma once
/// Snapshot files (docs/operations.md, "Snapshots"): the state after the command numbered
/// `seq`, in named sections (the engine's, egress's), beside the journal segments.
///
/// On disk (little-endian): `snapshot-<seq, 20 digits>.pgs`
///   header (64 bytes): magic "PGSNAPSH" | u32 version (kFormatVersion) | u32 header size (64)
///                      | u64 seq | u64 config fingerprint | u64 created (Unix ns)
///                      | u64 payload length | u32 payload CRC32C | 8 bytes zero
///                      | u32 CRC32C of the 60 bytes before it
///   payload: sections back to back: u32 tag | u32 zero | u64 length | bytes
/// Written to `<name>.tmp`, fsynced, renamed, and the directory fsynced: a snapshot file that
/// exists under its final name is whole unless the disk corrupted it.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace peregrine::journal {

/// Section tags.
enum class SnapshotSection : std::uint32_t {
  Engine = 1,   ///< Engine::save()
  Egress = 2,   ///< egress::Egress::save() (users' outbound buffers, ITCH buffer, depth)
  Service = 3,  ///< app-level state (the start record, the schedule's last phase)
};

struct SnapshotPart {
  SnapshotSection tag;
  std::span<const std::uint8_t> bytes;
};

struct Snapshot {
  std::filesystem::path file;
  std::uint64_t seq = 0;
  std::vector<std::pair<SnapshotSection, std::vector<std::uint8_t>>> sections;
  /// The section with this tag, or nullptr.
  [[nodiscard]] const std::vector<std::uint8_t>* find(SnapshotSection tag) const noexcept;
};

/// Writes a snapshot of the state after `seq` into `dir` (atomically, as above); returns its
/// path. Throws JournalError on I/O failure (the temporary file is removed).
std::filesystem::path write_snapshot(const std::filesystem::path& dir, std::uint64_t seq, std::uint64_t fingerprint,
                                     std::span<const SnapshotPart> parts);

/// The snapshots in `dir`, newest (highest seq) first; names only, nothing is read.
[[nodiscard]] std::vector<std::pair<std::uint64_t, std::filesystem::path>> list_snapshots(const std::filesystem::path& dir);

/// Reads and verifies one snapshot file. Throws JournalError naming the file and what is wrong
/// (magic, version, fingerprint, CRC, truncated).
[[nodiscard]] Snapshot read_snapshot(const std::filesystem::path& file, std::uint64_t fingerprint);

/// The newest snapshot that verifies; each newer one that does not is reported in `skipped`
/// ("<file>: <reason>") and left in place. Nothing when there is none.
[[nodiscard]] std::optional<Snapshot> newest_valid_snapshot(const std::filesystem::path& dir, std::uint64_t fingerprint,
                                                            std::vector<std::string>* skipped);

/// Removes snapshots other than the newest `keep` (at least 1); returns how many.
std::size_t prune_snapshots(const std::filesystem::path& dir, std::size_t keep);

}  // namespace peregrine::journal
