// Snapshot files: written whole to `<name>.tmp`, fsynced, renamed, the directory fsynced.

#include "peregrine/journal/snapshot.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <memory>
#include <system_error>

#include "format.hpp"
#include "peregrine/journal/durable_file.hpp"
#include "peregrine/journal/journal.hpp"

namespace peregrine::journal {
namespace {

constexpr std::size_t kHeaderSize = 64;
constexpr std::size_t kSectionHeaderSize = 16;

std::string snapshot_name(std::uint64_t seq) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "snapshot-%020llu.pgs", static_cast<unsigned long long>(seq));
  return buf;
}

std::optional<std::uint64_t> parse_snapshot_name(std::string_view name) {
  constexpr std::string_view kPrefix = "snapshot-";
  constexpr std::string_view kSuffix = ".pgs";
  if (name.size() != kPrefix.size() + 20 + kSuffix.size()) return std::nullopt;
  if (name.substr(0, kPrefix.size()) != kPrefix || name.substr(name.size() - kSuffix.size()) != kSuffix) {
    return std::nullopt;
  }
  std::uint64_t v = 0;
  for (char c : name.substr(kPrefix.size(), 20)) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}


}  // namespace

const std::span<const std::uint8_t>* Snapshot::find(SnapshotSection tag) const noexcept {
  for (const auto& [t, bytes] : sections) {
    if (t == tag) return &bytes;
  }
  return nullptr;
}

// The parts are written from where they are, not copied behind the header first: a snapshot
// of a busy day is hundreds of megabytes, and a copy of it was as much fresh memory again, on
// the snapshot thread, at every snapshot.
std::filesystem::path write_snapshot(const std::filesystem::path& dir, std::uint64_t seq, std::uint64_t fingerprint,
                                     std::span<const SnapshotPart> parts) {
  std::vector<std::array<std::uint8_t, kSectionHeaderSize>> section_headers(parts.size());
  std::uint64_t payload = 0;
  std::uint32_t crc = 0;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    std::uint8_t* sh = section_headers[i].data();
    detail::put<std::uint32_t>(sh, static_cast<std::uint32_t>(parts[i].tag));
    detail::put<std::uint32_t>(sh + 4, 0);
    detail::put<std::uint64_t>(sh + 8, parts[i].bytes.size());
    crc = crc32c(sh, kSectionHeaderSize, crc);
    if (!parts[i].bytes.empty()) crc = crc32c(parts[i].bytes.data(), parts[i].bytes.size(), crc);
    payload += kSectionHeaderSize + parts[i].bytes.size();
  }
  std::uint8_t h[kHeaderSize] = {};
  std::memcpy(h, detail::kSnapshotMagic, 8);
  detail::put<std::uint32_t>(h + 8, kFormatVersion);
  detail::put<std::uint32_t>(h + 12, static_cast<std::uint32_t>(kHeaderSize));
  detail::put<std::uint64_t>(h + 16, seq);
  detail::put<std::uint64_t>(h + 24, fingerprint);
  detail::put<std::uint64_t>(h + 32, detail::unix_ns());
  detail::put<std::uint64_t>(h + 40, payload);
  detail::put<std::uint32_t>(h + 48, crc);
  detail::put<std::uint32_t>(h + 60, crc32c(h, 60));

  std::vector<std::span<const std::uint8_t>> pieces;
  pieces.reserve(1 + 2 * parts.size());
  pieces.emplace_back(h, kHeaderSize);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    pieces.emplace_back(section_headers[i].data(), kSectionHeaderSize);
    pieces.emplace_back(parts[i].bytes.data(), parts[i].bytes.size());
  }
  const auto final_path = dir / snapshot_name(seq);
  replace_file_durably(final_path, pieces);
  return final_path;
}

std::vector<std::pair<std::uint64_t, std::filesystem::path>> list_snapshots(const std::filesystem::path& dir) {
  std::vector<std::pair<std::uint64_t, std::filesystem::path>> out;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (!e.is_regular_file(ec)) continue;
    if (auto seq = parse_snapshot_name(e.path().filename().string())) out.emplace_back(*seq, e.path());
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  return out;
}

// The file is mapped, not read: its pages are the page cache's, so neither reading it nor
// keeping what is loaded from it (the retained messages, which Egress::load reads where they
// lie) costs fresh memory, which on the development VM is a hypervisor round trip per page
// (issue 14; reading each section into its own vector took 44,800 page faults and 0.4-0.6 s for
// a 183 MB snapshot). MAP_POPULATE maps the pages in one call rather than a fault per 64 KiB as
// the CRC reads them. What is checked, and in which order, is as before: a malformed section is
// reported only once the payload's CRC has matched.
Snapshot read_snapshot(const std::filesystem::path& file, std::uint64_t fingerprint) {
  const auto bad = [&](const std::string& why) { return JournalError(file.string() + ": " + why); };
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw JournalError(detail::errno_text(file.string(), errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } const closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw JournalError(detail::errno_text(file.string(), errno));
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size < kHeaderSize) throw bad("truncated (" + std::to_string(size) + " bytes, shorter than the header)");
  void* m = ::mmap(nullptr, static_cast<std::size_t>(size), PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
  if (m == MAP_FAILED) throw JournalError(detail::errno_text(file.string() + ": mmap", errno));
  Snapshot s;
  s.storage = std::shared_ptr<const void>(m, [size](const void* p) { ::munmap(const_cast<void*>(p), static_cast<std::size_t>(size)); });
  const auto* h = static_cast<const std::uint8_t*>(m);
  if (std::memcmp(h, detail::kSnapshotMagic, 8) != 0) throw bad("not a snapshot (bad magic)");
  const auto version = detail::get<std::uint32_t>(h + 8);
  if (version != kFormatVersion) {
    throw bad("written by format version " + std::to_string(version) + ", this build reads " +
              std::to_string(kFormatVersion));
  }
  if (detail::get<std::uint32_t>(h + 12) != kHeaderSize) throw bad("bad header size");
  if (detail::get<std::uint32_t>(h + 60) != crc32c(h, 60)) throw bad("header CRC mismatch");
  s.file = file;
  s.seq = detail::get<std::uint64_t>(h + 16);
  const auto fp = detail::get<std::uint64_t>(h + 24);
  if (fingerprint != 0 && fp != fingerprint) {
    throw bad("configuration fingerprint mismatch: written with " + detail::fingerprint_hex(fp) + ", this configuration is " +
              detail::fingerprint_hex(fingerprint));
  }
  const auto len = detail::get<std::uint64_t>(h + 40);
  if (len != size - kHeaderSize) {
    throw bad("truncated or oversized: payload is " + std::to_string(size - kHeaderSize) + " bytes, the header says " +
              std::to_string(len));
  }
  const std::uint8_t* payload = h + kHeaderSize;
  if (detail::get<std::uint32_t>(h + 48) != crc32c(payload, static_cast<std::size_t>(len))) throw bad("payload CRC mismatch");
  std::uint64_t off = 0;
  while (off < len) {
    if (len - off < kSectionHeaderSize)
      throw bad("section header truncated at offset " + std::to_string(kHeaderSize + off));
    const auto tag = detail::get<std::uint32_t>(payload + off);
    const auto n = detail::get<std::uint64_t>(payload + off + 8);
    if (n > len - off - kSectionHeaderSize)
      throw bad("section at offset " + std::to_string(kHeaderSize + off) + " runs past the end");
    s.sections.emplace_back(static_cast<SnapshotSection>(tag),
                            std::span<const std::uint8_t>(payload + off + kSectionHeaderSize, static_cast<std::size_t>(n)));
    off += kSectionHeaderSize + n;
  }
  return s;
}

std::optional<Snapshot> newest_valid_snapshot(const std::filesystem::path& dir, std::uint64_t fingerprint,
                                              std::vector<std::string>* skipped) {
  for (const auto& [seq, path] : list_snapshots(dir)) {
    try {
      Snapshot s = read_snapshot(path, fingerprint);
      if (s.seq != seq) throw JournalError(path.string() + ": header says seq " + std::to_string(s.seq));
      return s;
    } catch (const JournalError& e) {
      if (skipped != nullptr) skipped->emplace_back(e.what());
    }
  }
  return std::nullopt;
}

std::size_t prune_snapshots(const std::filesystem::path& dir, std::size_t keep) {
  keep = std::max<std::size_t>(keep, 1);
  const auto all = list_snapshots(dir);
  std::size_t removed = 0;
  for (std::size_t i = keep; i < all.size(); ++i) {
    std::error_code ec;
    if (std::filesystem::remove(all[i].second, ec)) ++removed;
  }
  if (removed != 0) (void)detail::fsync_dir(dir);
  return removed;
}

}  // namespace peregrine::journal
