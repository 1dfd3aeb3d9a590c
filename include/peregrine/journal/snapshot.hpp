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
/// exists under its final name is whole unless the disk corrupted it, and is never written again
/// (only removed): a reader maps it and may keep using the mapping after it is removed.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
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

/// A snapshot read and verified: its sections are views into the file's bytes, mapped read-only,
/// which `storage` keeps (a copy of the Snapshot shares them). A loader may keep `storage` too,
/// to read what it loaded where it lies (the retained messages: Egress::load) instead of copying
/// it; the mapping outlives the file's removal (retention), and nothing writes a snapshot file
/// once it has its final name.
struct Snapshot {
  std::filesystem::path file;
  std::uint64_t seq = 0;
  std::shared_ptr<const void> storage;  ///< owns the bytes the sections view (a read-only mapping)
  std::vector<std::pair<SnapshotSection, std::span<const std::uint8_t>>> sections;
  /// The section with this tag, or nullptr.
  [[nodiscard]] const std::span<const std::uint8_t>* find(SnapshotSection tag) const noexcept;
};

/// Writes a snapshot of the state after `seq` into `dir` (atomically, as above); returns its
/// path. Throws JournalError on I/O failure (the temporary file is removed).
std::filesystem::path write_snapshot(const std::filesystem::path& dir, std::uint64_t seq, std::uint64_t fingerprint,
                                     std::span<const SnapshotPart> parts);

/// The snapshots in `dir`, newest (highest seq) first; names only, nothing is read.
[[nodiscard]] std::vector<std::pair<std::uint64_t, std::filesystem::path>> list_snapshots(const std::filesystem::path& dir);

/// Maps and verifies one snapshot file (the whole payload's CRC is checked here, so a section is
/// never read unverified). Throws JournalError naming the file and what is wrong (magic,
/// version, fingerprint, CRC, truncated).
[[nodiscard]] Snapshot read_snapshot(const std::filesystem::path& file, std::uint64_t fingerprint);

/// The newest snapshot that verifies; each newer one that does not is reported in `skipped`
/// ("<file>: <reason>") and left in place. Nothing when there is none.
[[nodiscard]] std::optional<Snapshot> newest_valid_snapshot(const std::filesystem::path& dir, std::uint64_t fingerprint,
                                                            std::vector<std::string>* skipped);

/// Removes snapshots other than the newest `keep` (at least 1); returns how many.
std::size_t prune_snapshots(const std::filesystem::path& dir, std::size_t keep);

}  // namespace peregrine::journal
