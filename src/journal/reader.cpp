// read_journal (start-up recovery, the tool, benchmarks) and JournalTail (the snapshot thread's
// follower). Torn tail versus corruption, as journal.hpp documents:
//   - torn: the last segment ends inside a record (or inside its header, or in zero bytes
//     after the last whole record): a crash mid-write. Reported; truncated only with `repair`.
//   - corruption: anything else wrong (CRC, bad header, seq out of order, a short segment that
//     is not the last): JournalError, or with truncate_at_corruption the journal ends there.

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <system_error>

#include "format.hpp"
#include "peregrine/journal/journal.hpp"

namespace peregrine::journal {
namespace {

using detail::ParseStatus;

std::string at(const std::filesystem::path& file, std::uint64_t offset) {
  return file.string() + ": offset " + std::to_string(offset) + ": ";
}


/// A whole file mapped read-only.
class MappedFile {
 public:
  explicit MappedFile(const std::filesystem::path& file) {
    fd_ = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw JournalError(detail::errno_text(file.string(), errno));
    struct stat st {};
    if (::fstat(fd_, &st) != 0) {
      const int err = errno;
      ::close(fd_);
      throw JournalError(detail::errno_text(file.string(), err));
    }
    size_ = static_cast<std::size_t>(st.st_size);
    if (size_ != 0) {
      void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd_, 0);
      if (p == MAP_FAILED) {
        const int err = errno;
        ::close(fd_);
        throw JournalError(detail::errno_text(file.string() + ": mmap", err));
      }
      ::madvise(p, size_, MADV_SEQUENTIAL);
      data_ = static_cast<const std::uint8_t*>(p);
    }
  }
  ~MappedFile() { release(); }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  void release() noexcept {
    if (data_ != nullptr) ::munmap(const_cast<std::uint8_t*>(data_), size_);
    if (fd_ >= 0) ::close(fd_);
    data_ = nullptr;
    fd_ = -1;
  }
  [[nodiscard]] const std::uint8_t* data() const noexcept { return data_; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }

 private:
  int fd_ = -1;
  const std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

void truncate_file(const std::filesystem::path& file, std::uint64_t size) {
  if (::truncate(file.c_str(), static_cast<off_t>(size)) != 0) {
    throw JournalError(detail::errno_text(file.string() + ": truncating to " + std::to_string(size), errno));
  }
  const int fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd >= 0) {
    (void)::fsync(fd);
    ::close(fd);
  }
}

void move_aside(const std::filesystem::path& file) {
  std::filesystem::path to = file;
  to += ".corrupt";
  std::error_code ec;
  std::filesystem::rename(file, to, ec);
  if (ec) throw JournalError(file.string() + ": cannot move aside to " + to.string() + ": " + ec.message());
}

bool all_zero(const std::uint8_t* p, std::size_t n) noexcept {
  return std::all_of(p, p + n, [](std::uint8_t b) { return b == 0; });
}

}  // namespace

ReadEnd read_journal(const std::filesystem::path& dir, std::uint64_t fingerprint, const ReadOptions& opts,
                     const std::function<void(const Record&)>& fn) {
  ReadEnd end;
  const auto segs = detail::list_segments(dir);
  std::uint64_t expected = 0;  // seq of the next record; 0 until the first segment's header is read
  bool stopped = false;

  // Corruption at (segment i, offset): throw, or end the journal there (and repair).
  const auto corrupt = [&](std::size_t i, MappedFile& mf, std::uint64_t offset, const std::string& why) {
    const auto& file = segs[i].second;
    if (!opts.truncate_at_corruption) throw JournalError(at(file, offset) + why);
    end.torn_tail.emplace(file, offset);
    stopped = true;
    if (!opts.repair) return;
    mf.release();
    if (offset < kSegmentHeaderSize) {
      move_aside(file);  // a bad header: keep the evidence, nothing in it was readable
    } else if (offset == kSegmentHeaderSize) {
      truncate_file(file, offset);
      std::filesystem::remove(file);  // no record left: the writer's next segment takes its name
    } else {
      truncate_file(file, offset);
    }
    for (std::size_t j = i + 1; j < segs.size(); ++j) move_aside(segs[j].second);
    (void)detail::fsync_dir(dir);
  };
  // A torn tail in the last segment at `offset`.
  const auto torn = [&](std::size_t i, MappedFile& mf, std::uint64_t offset) {
    const auto& file = segs[i].second;
    end.torn_tail.emplace(file, offset);
    stopped = true;
    if (!opts.repair) return;
    mf.release();
    if (offset <= kSegmentHeaderSize) {
      std::filesystem::remove(file);  // no whole record in it
    } else {
      truncate_file(file, offset);
    }
    (void)detail::fsync_dir(dir);
  };

  for (std::size_t i = 0; i < segs.size() && !stopped; ++i) {
    const auto& [name_seq, file] = segs[i];
    const bool last = i + 1 == segs.size();
    MappedFile mf(file);
    const std::uint8_t* base = mf.data();
    const std::size_t size = mf.size();

    if (size < kSegmentHeaderSize) {
      if (last) {
        torn(i, mf, 0);
      } else {
        corrupt(i, mf, 0, "segment shorter than its header (" + std::to_string(size) + " bytes) and not the last");
      }
      break;
    }
    std::string why;
    bool version_mismatch = false;
    const auto h = detail::decode_segment_header(base, why, version_mismatch);
    if (version_mismatch) throw JournalError(file.string() + ": " + why);
    if (!h) {
      corrupt(i, mf, 0, why);
      break;
    }
    if (h->first_seq != name_seq) {
      corrupt(i, mf, 0, "header says first seq " + std::to_string(h->first_seq) + ", the file name " +
                            std::to_string(name_seq));
      break;
    }
    if (fingerprint != 0 && h->fingerprint != fingerprint) {
      throw JournalError(file.string() + ": configuration fingerprint mismatch: the journal was written with " +
                         detail::fingerprint_hex(h->fingerprint) + ", this configuration is " +
                         detail::fingerprint_hex(fingerprint));
    }
    if (expected == 0) {
      if (h->first_seq == 0) {
        corrupt(i, mf, 0, "first seq is 0");
        break;
      }
      if (opts.from_seq > 1 && h->first_seq > opts.from_seq) {
        throw JournalError(file.string() + ": the journal starts at seq " + std::to_string(h->first_seq) +
                           "; records from seq " + std::to_string(opts.from_seq) + " are missing");
      }
      expected = h->first_seq;
    } else if (h->first_seq != expected) {
      corrupt(i, mf, 0, "segment starts at seq " + std::to_string(h->first_seq) + ", expected " +
                            std::to_string(expected));
      break;
    }

    std::size_t off = kSegmentHeaderSize;
    while (off < size) {
      const std::size_t avail = size - off;
      const detail::Parsed p = detail::parse_record(base + off, avail);
      if (p.status == ParseStatus::Incomplete || (last && all_zero(base + off, avail))) {
        if (last) {
          torn(i, mf, off);
        } else {
          corrupt(i, mf, off, "incomplete record at the end of a segment that is not the last");
        }
        break;
      }
      if (p.status == ParseStatus::Corrupt) {
        corrupt(i, mf, off, p.why);
        break;
      }
      if (p.seq != expected) {
        corrupt(i, mf, off, "seq " + std::to_string(p.seq) + ", expected " + std::to_string(expected));
        break;
      }
      if (p.seq >= opts.from_seq) {
        Record r;
        r.seq = p.seq;
        r.kind = p.kind;
        r.payload = std::span<const std::uint8_t>(base + off + kRecordHeaderSize, p.len);
        fn(r);
        ++end.records;
      }
      end.last_seq = p.seq;
      ++expected;
      off += kRecordHeaderSize + p.len;
    }
  }
  return end;
}

// --- JournalTail ------------------------------------------------------------------------------

struct JournalTail::Impl {
  std::filesystem::path dir;
  std::uint64_t fingerprint = 0;
  std::uint64_t next = 1;  // next seq to deliver
  int fd = -1;
  std::filesystem::path file;
  std::uint64_t expect = 0;       // seq of the record at buf_file_off + pos
  std::uint64_t buf_file_off = 0;  // file offset of buf[0]
  std::vector<std::uint8_t> buf = std::vector<std::uint8_t>(std::size_t{1} << 16);
  std::size_t pos = 0;
  std::size_t len = 0;

  ~Impl() { close_file(); }
  void close_file() noexcept {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }

  /// Opens `path` and reads its header; false when the header is not all on disk yet.
  bool open_file(const std::filesystem::path& path) {
    const int f = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (f < 0) throw JournalError(detail::errno_text(path.string(), errno));
    std::uint8_t hdr[kSegmentHeaderSize];
    const ssize_t n = ::pread(f, hdr, sizeof hdr, 0);
    if (n != static_cast<ssize_t>(sizeof hdr)) {
      ::close(f);
      return false;
    }
    std::string why;
    bool version_mismatch = false;
    const auto h = detail::decode_segment_header(hdr, why, version_mismatch);
    if (!h) {
      ::close(f);
      throw JournalError(at(path, 0) + why);
    }
    if (fingerprint != 0 && h->fingerprint != fingerprint) {
      ::close(f);
      throw JournalError(path.string() + ": configuration fingerprint mismatch: the journal was written with " +
                         detail::fingerprint_hex(h->fingerprint) + ", this configuration is " +
                         detail::fingerprint_hex(fingerprint));
    }
    close_file();
    fd = f;
    file = path;
    expect = h->first_seq;
    buf_file_off = kSegmentHeaderSize;
    pos = len = 0;
    return true;
  }

  /// Opens the segment holding `next`; false when there is none yet.
  bool open_for_next() {
    const auto segs = detail::list_segments(dir);
    const std::filesystem::path* pick = nullptr;
    for (const auto& [first, path] : segs) {
      if (first <= next) pick = &path;
    }
    if (pick == nullptr) {
      if (!segs.empty()) {
        throw JournalError(dir.string() + ": seq " + std::to_string(next) + " is no longer in the journal (it starts at " +
                           std::to_string(segs.front().first) + ")");
      }
      return false;
    }
    return open_file(*pick);
  }

  /// Reads more of the current file after what is buffered; returns bytes added.
  std::size_t refill() {
    if (pos != 0) {
      std::copy(buf.begin() + static_cast<std::ptrdiff_t>(pos), buf.begin() + static_cast<std::ptrdiff_t>(len),
                buf.begin());
      buf_file_off += pos;
      len -= pos;
      pos = 0;
    }
    std::size_t added = 0;
    while (len < buf.size()) {
      const ssize_t n = ::pread(fd, buf.data() + len, buf.size() - len, static_cast<off_t>(buf_file_off + len));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw JournalError(detail::errno_text(file.string(), errno));
      if (n == 0) break;
      len += static_cast<std::size_t>(n);
      added += static_cast<std::size_t>(n);
    }
    return added;
  }
};

JournalTail::JournalTail(std::filesystem::path dir, std::uint64_t fingerprint, std::uint64_t from_seq)
    : impl_(std::make_unique<Impl>()) {
  impl_->dir = std::move(dir);
  impl_->fingerprint = fingerprint;
  impl_->next = from_seq == 0 ? 1 : from_seq;
}

JournalTail::~JournalTail() = default;

std::uint64_t JournalTail::next_seq() const noexcept { return impl_->next; }

std::size_t JournalTail::poll(std::uint64_t upto, std::size_t max, const std::function<void(const Record&)>& fn) {
  Impl& s = *impl_;
  std::size_t delivered = 0;
  while (delivered < max && s.next <= upto) {
    if (s.fd < 0 && !s.open_for_next()) break;
    // Every record up to `upto` is durable, so the record at this offset (seq s.expect <= s.next
    // <= upto) is whole on disk unless it lives in the next segment.
    detail::Parsed p = detail::parse_record(s.buf.data() + s.pos, s.len - s.pos);
    if (p.status == ParseStatus::Incomplete) {
      s.refill();
      p = detail::parse_record(s.buf.data() + s.pos, s.len - s.pos);
    }
    const std::uint64_t off = s.buf_file_off + s.pos;
    if (p.status == ParseStatus::Incomplete) {
      // The writer rolled to a segment named after the seq expected here.
      const auto next_file = s.dir / detail::segment_name(s.expect);
      std::error_code ec;
      if (s.len == s.pos && next_file != s.file && std::filesystem::exists(next_file, ec)) {
        if (!s.open_file(next_file)) break;
        continue;
      }
      break;
    }
    if (p.status == ParseStatus::Corrupt) throw JournalError(at(s.file, off) + p.why);
    if (p.seq != s.expect) {
      throw JournalError(at(s.file, off) + "seq " + std::to_string(p.seq) + ", expected " + std::to_string(s.expect));
    }
    if (p.seq >= s.next) {
      Record r;
      r.seq = p.seq;
      r.kind = p.kind;
      r.payload = std::span<const std::uint8_t>(s.buf.data() + s.pos + kRecordHeaderSize, p.len);
      fn(r);
      s.next = p.seq + 1;
      ++delivered;
    }
    ++s.expect;
    s.pos += kRecordHeaderSize + p.len;
  }
  return delivered;
}

}  // namespace peregrine::journal
