// Encoding and decoding of segment headers and records, segment names, small OS helpers.

#include "format.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <system_error>

namespace peregrine::journal::detail {

void encode_segment_header(const SegmentHeader& h, std::uint8_t* out) noexcept {
  std::memset(out, 0, kSegmentHeaderSize);
  std::memcpy(out, kSegmentMagic, 8);
  put<std::uint32_t>(out + 8, h.version);
  put<std::uint32_t>(out + 12, static_cast<std::uint32_t>(kSegmentHeaderSize));
  put<std::uint64_t>(out + 16, h.first_seq);
  put<std::uint64_t>(out + 24, h.fingerprint);
  put<std::uint64_t>(out + 32, h.created_ns);
  put<std::uint32_t>(out + 60, crc32c(out, 60));
}

std::optional<SegmentHeader> decode_segment_header(const std::uint8_t* in, std::string& why, bool& version_mismatch) {
  version_mismatch = false;
  if (std::memcmp(in, kSegmentMagic, 8) != 0) {
    why = "not a journal segment (bad magic)";
    return std::nullopt;
  }
  SegmentHeader h;
  h.version = get<std::uint32_t>(in + 8);
  if (h.version != kFormatVersion) {
    version_mismatch = true;
    why = "written by format version " + std::to_string(h.version) + ", this build reads " +
          std::to_string(kFormatVersion);
    return std::nullopt;
  }
  if (get<std::uint32_t>(in + 12) != kSegmentHeaderSize) {
    why = "bad header size " + std::to_string(get<std::uint32_t>(in + 12));
    return std::nullopt;
  }
  if (get<std::uint32_t>(in + 60) != crc32c(in, 60)) {
    why = "segment header CRC mismatch";
    return std::nullopt;
  }
  h.first_seq = get<std::uint64_t>(in + 16);
  h.fingerprint = get<std::uint64_t>(in + 24);
  h.created_ns = get<std::uint64_t>(in + 32);
  return h;
}

void encode_record(std::vector<std::uint8_t>& out, std::uint64_t seq, RecordKind kind, const void* payload,
                   std::uint32_t len) {
  const std::size_t at = out.size();
  out.resize(at + kRecordHeaderSize + len);
  std::uint8_t* p = out.data() + at;
  std::memset(p, 0, kRecordHeaderSize);
  put<std::uint32_t>(p, len);
  put<std::uint64_t>(p + 8, seq);
  p[16] = static_cast<std::uint8_t>(kind);
  if (len != 0) std::memcpy(p + kRecordHeaderSize, payload, len);
  put<std::uint32_t>(p + 4, crc32c(p + 8, kRecordHeaderSize - 8 + len));
}

Parsed parse_record(const std::uint8_t* p, std::size_t avail) {
  Parsed r;
  if (avail < kRecordHeaderSize) return r;  // Incomplete
  r.len = get<std::uint32_t>(p);
  const std::uint8_t kind = p[16];
  const std::uint32_t want = payload_size(kind);
  if (want == 0) {
    r.status = ParseStatus::Corrupt;
    r.why = "unknown record kind " + std::to_string(kind);
    return r;
  }
  if (r.len != want) {
    r.status = ParseStatus::Corrupt;
    r.why = "record length " + std::to_string(r.len) + " does not match its kind (" + std::to_string(want) + ")";
    return r;
  }
  if (avail < kRecordHeaderSize + r.len) return r;  // Incomplete
  if (get<std::uint32_t>(p + 4) != crc32c(p + 8, kRecordHeaderSize - 8 + r.len)) {
    r.status = ParseStatus::Corrupt;
    r.why = "record CRC mismatch";
    return r;
  }
  r.seq = get<std::uint64_t>(p + 8);
  r.kind = static_cast<RecordKind>(kind);
  r.status = ParseStatus::Ok;
  return r;
}

std::string segment_name(std::uint64_t first_seq) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "journal-%020llu.pjl", static_cast<unsigned long long>(first_seq));
  return buf;
}

std::optional<std::uint64_t> parse_segment_name(std::string_view name) {
  constexpr std::string_view kPrefix = "journal-";
  constexpr std::string_view kSuffix = ".pjl";
  if (name.size() != kPrefix.size() + 20 + kSuffix.size()) return std::nullopt;
  if (name.substr(0, kPrefix.size()) != kPrefix || name.substr(name.size() - kSuffix.size()) != kSuffix) {
    return std::nullopt;
  }
  const std::string_view digits = name.substr(kPrefix.size(), 20);
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
  std::uint64_t v = 0;
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec != std::errc{} || ptr != digits.data() + digits.size()) return std::nullopt;
  return v;
}

std::vector<std::pair<std::uint64_t, std::filesystem::path>> list_segments(const std::filesystem::path& dir) {
  std::vector<std::pair<std::uint64_t, std::filesystem::path>> out;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (!e.is_regular_file(ec)) continue;
    if (auto seq = parse_segment_name(e.path().filename().string())) out.emplace_back(*seq, e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::uint64_t unix_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

std::uint64_t monotonic_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

int fsync_dir(const std::filesystem::path& dir) noexcept {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  const int rc = ::fsync(fd) == 0 ? 0 : errno;
  ::close(fd);
  return rc;
}

std::string errno_text(const std::string& what, int err) {
  return what + ": " + std::system_category().message(err);
}

}  // namespace peregrine::journal::detail
