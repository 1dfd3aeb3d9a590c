// libFuzzer target: the journal reader and the snapshot reader on arbitrary file contents.
//
// Input: byte 0 is a flag byte, the rest is a file. Bit 0 set: the segment header's and every
// whole record's CRC are recomputed first (bit 1: the snapshot header's and payload's CRCs), so mutations reach the structural checks (lengths,
// kinds, seq continuity) instead of stopping at a CRC. The file is read as the only segment of a
// journal (named after its header's first seq, so the name check passes), check-only, then with
// truncate_at_corruption, then repaired (which may truncate or move it aside), and read again:
// a repaired journal must read clean. The same bytes are read as a snapshot file.
// Invariants: no crash, only JournalError thrown, delivered seqs consecutive.

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "peregrine/journal/journal.hpp"
#include "peregrine/journal/snapshot.hpp"

namespace {

using namespace peregrine::journal;

/// A directory of this process on tmpfs when there is one (the reader fsyncs when it repairs).
std::filesystem::path work_dir() {
  static const std::filesystem::path dir = [] {
    std::error_code ec;
    const std::filesystem::path base =
        std::filesystem::is_directory("/dev/shm", ec) ? std::filesystem::path("/dev/shm") : std::filesystem::temp_directory_path();
    auto d = base / ("peregrine-journal-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    static std::filesystem::path cleanup = d;
    std::atexit([] {
      std::error_code e;
      std::filesystem::remove_all(cleanup, e);
    });
    return d;
  }();
  return dir;
}

void fix_crcs(std::vector<std::uint8_t>& b) {
  if (b.size() < kSegmentHeaderSize) return;
  const std::uint32_t h = crc32c(b.data(), 60);
  std::memcpy(b.data() + 60, &h, 4);
  std::size_t off = kSegmentHeaderSize;
  while (b.size() - off >= kRecordHeaderSize) {
    std::uint32_t len = 0;
    std::memcpy(&len, b.data() + off, 4);
    if (len > b.size() - off - kRecordHeaderSize) break;
    const std::uint32_t c = crc32c(b.data() + off + 8, kRecordHeaderSize - 8 + len);
    std::memcpy(b.data() + off + 4, &c, 4);
    off += kRecordHeaderSize + len;
  }
}

std::uint64_t read_checked(const std::filesystem::path& dir, const ReadOptions& opts, bool& threw) {
  std::uint64_t last = 0;
  threw = false;
  try {
    const ReadEnd end = read_journal(dir, 0, opts, [&](const Record& r) {
      if (last != 0 && r.seq != last + 1) std::abort();
      last = r.seq;
      if (r.kind == RecordKind::Command && r.payload.size() != 64) std::abort();
      (void)r.command();
    });
    if (end.records != 0 && end.last_seq != last) std::abort();
  } catch (const JournalError&) {
    threw = true;
  }
  return last;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t flags = data[0];
  std::vector<std::uint8_t> file(data + 1, data + size);
  if ((flags & 1) != 0) fix_crcs(file);

  const auto dir = work_dir() / "j";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::uint64_t first = 1;
  if (file.size() >= 24) std::memcpy(&first, file.data() + 16, 8);
  char name[48];
  std::snprintf(name, sizeof name, "journal-%020llu.pjl", static_cast<unsigned long long>(first));
  {
    std::ofstream out(dir / name, std::ios::binary);
    out.write(reinterpret_cast<const char*>(file.data()), static_cast<std::streamsize>(file.size()));
  }

  bool threw = false;
  const std::uint64_t plain = read_checked(dir, {}, threw);
  ReadOptions cut;
  cut.truncate_at_corruption = true;
  bool cut_threw = false;
  const std::uint64_t cut_last = read_checked(dir, cut, cut_threw);
  if (!threw && cut_last != plain) std::abort();
  cut.repair = true;
  (void)read_checked(dir, cut, cut_threw);
  if (!cut_threw) {
    // Repaired: reads clean, to the same place, without a torn tail.
    bool again_threw = false;
    const std::uint64_t again = read_checked(dir, {}, again_threw);
    if (again_threw || again != cut_last) std::abort();
  }

  std::vector<std::uint8_t> snap_bytes(data + 1, data + size);
  if ((flags & 2) != 0 && snap_bytes.size() >= 64) {
    const std::uint32_t payload = crc32c(snap_bytes.data() + 64, snap_bytes.size() - 64);
    std::memcpy(snap_bytes.data() + 48, &payload, 4);
    const std::uint32_t header = crc32c(snap_bytes.data(), 60);
    std::memcpy(snap_bytes.data() + 60, &header, 4);
  }
  const auto snap = work_dir() / "snapshot-00000000000000000001.pgs";
  {
    std::ofstream out(snap, std::ios::binary);
    out.write(reinterpret_cast<const char*>(snap_bytes.data()), static_cast<std::streamsize>(snap_bytes.size()));
  }
  try {
    const Snapshot s = read_snapshot(snap, 0);
    std::size_t total = 0;
    for (const auto& [tag, bytes] : s.sections) total += 16 + bytes.size();
    if (total + 64 != size - 1) std::abort();
  } catch (const JournalError&) {
  }
  return 0;
}
