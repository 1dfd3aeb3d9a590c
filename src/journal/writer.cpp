// JournalWriter: drains the core's ring on its own thread, writes batches to segment files and
// makes them durable (group commit: whatever arrived while the previous sync ran is the next
// batch), then publishes durable_seq with release.
//
// Failure (a write or sync error, free space below min_free_bytes): failed() is set, the
// unwritten records stay in memory (the ring keeps being drained into it, so nothing is lost
// or reordered), the file is truncated back to its last synced size (after a failed fsync the
// page cache cannot be trusted, so everything since is written again), and the batch is retried
// every 100 ms; failed() clears when a write and sync succeed.

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <mutex>
#include <system_error>
#include <thread>

#include "format.hpp"
#include "peregrine/agent/thread_registry.hpp"
#include "peregrine/journal/journal.hpp"

namespace peregrine::journal {

namespace {
constexpr std::uint64_t kRetryNs = 100'000'000;       // retry a failed batch every 100 ms
constexpr std::uint64_t kFreeCheckNs = 10'000'000;    // statvfs at most every 10 ms while healthy
// Segments grow into space allocated this many bytes at a time (fallocate, FALLOC_FL_KEEP_SIZE):
// the block allocation is done when a chunk is opened, not by the write before a sync. At most
// one chunk per segment is left allocated past its end.
constexpr std::uint64_t kPreallocateChunk = std::uint64_t{4} << 20;
}  // namespace

struct JournalWriter::Impl {
  JournalWriter& w;
  explicit Impl(JournalWriter& writer) : w(writer) {}

  // --- state owned by whichever thread writes (the writer thread once started) ---
  std::uint64_t next_seq = 1;             // seq the next record gets
  std::vector<std::uint8_t> pending;      // encoded records not yet durable, oldest first
  std::uint64_t pending_first_seq = 0;    // seq of the first record in `pending`
  std::uint64_t pending_last_seq = 0;
  std::size_t written_off = 0;            // bytes of `pending` written to the current segment, not synced
  std::uint64_t write_seq = 1;            // seq of the record at pending[written_off]
  std::uint64_t unsynced_since_ns = 0;    // monotonic ns of the oldest unsynced write (0 = none)
  int fd = -1;                            // current segment
  std::filesystem::path file;
  std::uint64_t file_size = 0;            // bytes in the current segment, header included
  std::uint64_t synced_size = 0;          // bytes of it known durable
  std::uint64_t allocated = 0;            // bytes of it fallocate'd
  std::uint64_t next_attempt_ns = 0;      // while failed: when to retry
  std::uint64_t free_checked_ns = 0;
  bool opened = false;

  // --- shared ---
  std::atomic<std::uint64_t> min_free{0};
  std::atomic<bool> stop_requested{false};
  std::thread thread;
  bool running = false;
  std::mutex mu;  // markers, error text
  std::condition_variable cv;
  struct Marker {
    RecordKind kind;
    std::vector<std::uint8_t> payload;
    std::uint64_t seq = 0;  // assigned by the writer thread
    bool assigned = false;
  };
  std::deque<Marker*> markers;
  std::atomic<bool> has_markers{false};  // lets the thread skip the mutex when there are none
  std::string last_error;

  ~Impl() { close_file(); }

  void close_file() noexcept {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }

  void set_error(std::string text) {
    std::lock_guard lock(mu);
    last_error = std::move(text);
  }

  void append(RecordKind kind, const void* payload, std::uint32_t len) {
    if (pending.empty()) {
      pending_first_seq = next_seq;
      w.stats_.oldest_pending_ns.store(detail::monotonic_ns(), std::memory_order_relaxed);
    }
    detail::encode_record(pending, next_seq, kind, payload, len);
    pending_last_seq = next_seq;
    w.assigned_.store(next_seq, std::memory_order_release);
    ++next_seq;
  }

  /// Moves everything in the ring into `pending`; returns how many commands.
  std::size_t drain_ring() {
    return w.ring_->drain([this](Command& c) { append(RecordKind::Command, &c, sizeof c); }, w.ring_->capacity());
  }

  /// Markers queued by append_marker() while the thread runs: the commands pushed before each
  /// are already in the ring, so drain it first.
  void take_markers() {
    if (!has_markers.load(std::memory_order_acquire)) return;
    std::unique_lock lock(mu);
    has_markers.store(false, std::memory_order_relaxed);
    if (markers.empty()) return;
    drain_ring();
    while (!markers.empty()) {
      Marker* m = markers.front();
      markers.pop_front();
      m->seq = next_seq;
      append(m->kind, m->payload.data(), static_cast<std::uint32_t>(m->payload.size()));
      m->assigned = true;
    }
    lock.unlock();
    cv.notify_all();
  }

  int sync_fd() {
    const std::uint64_t t0 = detail::monotonic_ns();
    int rc = 0;
    switch (w.opts_.durability) {
      case Durability::Fsync:
      case Durability::Replicated:  // in the background, within sync_window (flush())
      case Durability::ReplicatedFsync: rc = ::fsync(fd); break;
      case Durability::Fdatasync: rc = ::fdatasync(fd); break;
      case Durability::None: return 0;
    }
    if (rc != 0) return errno;
    const std::uint64_t took = detail::monotonic_ns() - t0;
    std::size_t bucket = 0;
    while (bucket < kSyncBucketBoundsNs.size() && took > kSyncBucketBoundsNs[bucket]) ++bucket;
    w.stats_.sync_buckets[bucket].fetch_add(1, std::memory_order_relaxed);
    w.stats_.syncs.fetch_add(1, std::memory_order_relaxed);
    w.stats_.sync_ns_total.fetch_add(took, std::memory_order_relaxed);
    return 0;
  }

  /// Allocates the current segment's blocks up to `upto` bytes (a chunk at a time) without
  /// changing its size, so readers see no difference. Best effort: a file system without
  /// fallocate, or without the space, is left to the write (which reports ENOSPC itself).
  void preallocate(std::uint64_t upto) noexcept {
    if (upto <= allocated) return;
    std::uint64_t end = std::min(w.opts_.segment_bytes, std::max(upto, allocated + kPreallocateChunk));
    if (end < upto) end = upto;  // one record bigger than the segment size
    if (::fallocate(fd, FALLOC_FL_KEEP_SIZE, static_cast<off_t>(allocated), static_cast<off_t>(end - allocated)) == 0) {
      allocated = end;
    } else {
      allocated = upto;  // do not retry for every batch
    }
  }

  /// Writes all of [p, p+n) at `offset`, through short writes and EINTR; errno or 0.
  int write_all(const std::uint8_t* p, std::size_t n, std::uint64_t offset) {
    while (n > 0) {
      const ssize_t k = ::pwrite(fd, p, n, static_cast<off_t>(offset));
      if (k < 0) {
        if (errno == EINTR) continue;
        return errno;
      }
      if (k == 0) return ENOSPC;
      p += k;
      n -= static_cast<std::size_t>(k);
      offset += static_cast<std::uint64_t>(k);
    }
    return 0;
  }

  /// Creates the segment whose first record is `first_seq`: header written and synced, the
  /// directory synced. Returns an error text, empty on success.
  std::string create_segment(std::uint64_t first_seq) {
    close_file();
    const auto path = w.opts_.dir / detail::segment_name(first_seq);
    int f = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (f < 0 && errno == EEXIST) {
      // Left by an earlier failed creation (or a repaired journal): only a file without a
      // whole record may be replaced.
      struct stat st {};
      if (::stat(path.c_str(), &st) == 0 && static_cast<std::uint64_t>(st.st_size) <= kSegmentHeaderSize) {
        ::unlink(path.c_str());
        f = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      } else {
        return path.string() + ": exists and holds records (refusing to overwrite)";
      }
    }
    if (f < 0) return detail::errno_text(path.string(), errno);
    fd = f;
    file = path;
    allocated = 0;
    preallocate(kSegmentHeaderSize);
    std::uint8_t hdr[kSegmentHeaderSize];
    detail::encode_segment_header({kFormatVersion, first_seq, w.opts_.fingerprint, detail::unix_ns()}, hdr);
    int err = write_all(hdr, sizeof hdr, 0);
    if (err == 0) err = sync_fd();
    if (err == 0 && w.opts_.durability != Durability::None) err = detail::fsync_dir(w.opts_.dir);
    if (err != 0) {
      close_file();
      ::unlink(path.c_str());
      return detail::errno_text(path.string(), err);
    }
    file_size = synced_size = kSegmentHeaderSize;
    w.stats_.segments.fetch_add(1, std::memory_order_relaxed);
    return {};
  }

  /// The free-space check; an error text when below the minimum.
  std::string check_free(bool force) {
    const std::uint64_t now = detail::monotonic_ns();
    if (!force && now - free_checked_ns < kFreeCheckNs) return {};
    free_checked_ns = now;
    struct statvfs vfs {};
    if (::statvfs(w.opts_.dir.c_str(), &vfs) != 0) return {};  // cannot tell: let the write decide
    const std::uint64_t free = static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
    const std::uint64_t min = min_free.load(std::memory_order_relaxed);
    if (free < min) {
      return w.opts_.dir.string() + ": " + std::to_string(free) + " bytes free, below min_free_bytes " +
             std::to_string(min);
    }
    return {};
  }

  void fail(const std::string& why) {
    set_error(why);
    w.stats_.write_errors.fetch_add(1, std::memory_order_relaxed);
    w.failed_.store(true, std::memory_order_release);
    next_attempt_ns = detail::monotonic_ns() + kRetryNs;
  }

  /// Durability::Replicated: records are written at once and synced later (sync_pending).
  [[nodiscard]] bool lazy_sync() const noexcept { return w.opts_.durability == Durability::Replicated; }

  /// Back to the last synced size after a failed write or sync: everything in `pending` is
  /// written again (the same bytes, so a reader that saw them sees them again).
  void truncate_back() noexcept {
    if (fd >= 0) (void)::ftruncate(fd, static_cast<off_t>(synced_size));
    file_size = synced_size;
    written_off = 0;
    write_seq = pending_first_seq;
    unsynced_since_ns = 0;
  }

  /// Syncs what is written but not synced (pending[0, written_off), all in the current segment)
  /// and drops it from `pending`. False after a failure.
  bool sync_pending() {
    if (written_off == 0) return true;
    if (const int err = sync_fd(); err != 0) {
      truncate_back();
      fail(detail::errno_text(file.string(), err));
      return false;
    }
    synced_size = file_size;
    pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(written_off));
    pending_first_seq = write_seq;
    written_off = 0;
    unsynced_since_ns = 0;
    // Before the release below: whoever sees this durable seq sees no stale pending time.
    if (pending.empty()) w.stats_.oldest_pending_ns.store(0, std::memory_order_relaxed);
    w.synced_.store(write_seq - 1, std::memory_order_release);
    w.publish_durable();
    return true;
  }

  /// Writes everything in `pending` not yet written, rolling segments on the way, and syncs it:
  /// per batch, or (lazy_sync) when `sync_now` or the oldest unsynced write is `sync_window`
  /// old. True when all of it is written (and synced when due); false after a failure (what is
  /// not durable stays in `pending`).
  bool flush(bool sync_now) {
    if (pending.empty()) return true;
    const bool failing = w.failed_.load(std::memory_order_relaxed);
    if (written_off < pending.size() || failing) {
      if (std::string why = check_free(failing); !why.empty()) {
        fail(why);
        return false;
      }
    }
    if (failing && fd >= 0) {
      // Whatever a failed attempt left past the synced size must go before anything follows it.
      if (::ftruncate(fd, static_cast<off_t>(synced_size)) != 0) {
        fail(detail::errno_text(file.string() + ": truncating to " + std::to_string(synced_size), errno));
        return false;
      }
      truncate_back();
    }
    bool ok = true;
    while (written_off < pending.size()) {
      if (fd < 0) {
        if (std::string why = create_segment(write_seq); !why.empty()) {
          fail(why);
          ok = false;
          break;
        }
      }
      // The run of whole records that fits in the current segment (at least one record in an
      // empty segment, whatever its size).
      std::size_t end = written_off;
      std::uint64_t records = 0;
      std::uint64_t size = file_size;
      while (end < pending.size()) {
        const std::size_t rec = kRecordHeaderSize + detail::get<std::uint32_t>(pending.data() + end);
        if (size > kSegmentHeaderSize && size + rec > w.opts_.segment_bytes) break;
        size += rec;
        end += rec;
        ++records;
      }
      if (end == written_off) {
        // Full: what it holds is synced before the next record starts a new segment.
        if (!sync_pending()) {
          ok = false;
          break;
        }
        close_file();
        continue;
      }
      preallocate(file_size + (end - written_off));
      if (const int err = write_all(pending.data() + written_off, end - written_off, file_size); err != 0) {
        truncate_back();
        fail(detail::errno_text(file.string(), err));
        ok = false;
        break;
      }
      w.stats_.batches.fetch_add(1, std::memory_order_relaxed);
      w.stats_.records.fetch_add(records, std::memory_order_relaxed);
      w.stats_.bytes.fetch_add(end - written_off, std::memory_order_relaxed);
      file_size += end - written_off;
      written_off = end;
      write_seq += records;
      if (unsynced_since_ns == 0) unsynced_since_ns = detail::monotonic_ns();
      // Never backwards: after a failure the same records are written again.
      if (write_seq - 1 > w.written_.load(std::memory_order_relaxed)) {
        w.written_.store(write_seq - 1, std::memory_order_release);
        if (w.written_listener_ != nullptr) w.written_listener_->wake();
      }
      if (!lazy_sync()) {
        if (!sync_pending()) {
          ok = false;
          break;
        }
      } else {
        w.publish_durable();
      }
    }
    if (ok && written_off > 0 &&
        (sync_now || detail::monotonic_ns() - unsynced_since_ns >= static_cast<std::uint64_t>(w.opts_.sync_window.count())))
      ok = sync_pending();
    if (ok && written_off == pending.size() && w.failed_.load(std::memory_order_relaxed))
      w.failed_.store(false, std::memory_order_release);
    return ok;
  }

  void run() {
    // Sleeps of a few microseconds when idle: without this the default 50 us timer slack would
    // add up to 50 us to the first batch after a quiet spell.
    (void)::prctl(PR_SET_TIMERSLACK, 1000UL, 0UL, 0UL, 0UL);
    agent::WaitStrategy wait(w.parker_, w.opts_.wait);
    // The re-check before a park: everything the producers wake this thread for.
    const auto has_work = [this]() noexcept {
      return w.ring_->front() != nullptr || has_markers.load(std::memory_order_acquire) ||
             stop_requested.load(std::memory_order_acquire);
    };
    for (;;) {
      const bool stopping = stop_requested.load(std::memory_order_acquire);
      std::size_t got = drain_ring();
      take_markers();
      if (!pending.empty()) {
        if (w.failed_.load(std::memory_order_relaxed) && detail::monotonic_ns() < next_attempt_ns) {
          // Keep emptying the ring into memory while waiting to retry.
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
          continue;
        }
        // Nothing new since the last write: sync what is written (lazy_sync) rather than wait.
        flush(got == 0 && written_off == pending.size());
        wait.reset();
        continue;
      }
      if (got != 0) continue;
      if (stopping) {
        // Everything pushed before stop() is written: the ring was drained after the request.
        if (drain_ring() == 0) {
          take_markers();
          if (pending.empty()) break;
        }
        continue;
      }
      wait.idle(0, has_work);
    }
  }
};

// The ring is default-initialised, not value-initialised: its 4 MiB of slots stay untouched zero
// pages until commands are pushed (zeroing them was ~1,000 page faults at every start).
JournalWriter::JournalWriter(WriterOptions opts)
    : opts_(std::move(opts)), ring_(std::make_unique_for_overwrite<JournalRing>()), impl_(std::make_unique<Impl>(*this)) {
  impl_->min_free.store(opts_.min_free_bytes, std::memory_order_relaxed);
}

JournalWriter::~JournalWriter() { stop(); }

void JournalWriter::open(std::uint64_t last_seq) {
  std::error_code ec;
  std::filesystem::create_directories(opts_.dir, ec);
  if (ec) throw JournalError(opts_.dir.string() + ": cannot create the journal directory: " + ec.message());
  if (::access(opts_.dir.c_str(), W_OK) != 0) {
    throw JournalError(detail::errno_text(opts_.dir.string() + ": not writable", errno));
  }
  Impl& s = *impl_;
  s.close_file();
  s.next_seq = last_seq + 1;
  s.pending_first_seq = s.next_seq;
  s.write_seq = s.next_seq;
  s.written_off = 0;
  s.opened = true;
  assigned_.store(last_seq, std::memory_order_release);
  written_.store(last_seq, std::memory_order_release);
  synced_.store(last_seq, std::memory_order_release);
  durable_.store(last_seq, std::memory_order_release);
  // The new segment is created with the first record, so its name is that record's seq.
}

std::uint64_t JournalWriter::append_marker(RecordKind kind, std::span<const std::uint8_t> payload) {
  Impl& s = *impl_;
  if (!s.opened) open(0);
  if (!s.running) {
    // No writer thread: the producer has stopped (or not started), so this thread owns the state.
    s.drain_ring();
    const std::uint64_t seq = s.next_seq;
    s.append(kind, payload.data(), static_cast<std::uint32_t>(payload.size()));
    s.flush(true);  // on failure the record stays pending; the thread (or stop()) retries
    return seq;
  }
  Impl::Marker m{kind, std::vector<std::uint8_t>(payload.begin(), payload.end())};
  std::unique_lock lock(s.mu);
  s.markers.push_back(&m);
  s.has_markers.store(true, std::memory_order_release);
  parker_.wake();
  s.cv.wait(lock, [&] { return m.assigned; });
  return m.seq;
}

void JournalWriter::start() {
  Impl& s = *impl_;
  if (s.running) return;
  if (!s.opened) open(0);
  s.stop_requested.store(false, std::memory_order_release);
  s.running = true;
  s.thread = std::thread([this] {
    const agent::ThreadCpuRegistration named("pg-journal");
    impl_->run();
  });
}

void JournalWriter::stop() {
  Impl& s = *impl_;
  if (!s.running) {
    // Not started: flush what append_marker() or the ring left (retrying like the thread would).
    if (!s.opened) return;
    s.drain_ring();
    while (!s.pending.empty()) {
      if (s.flush(true)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      s.drain_ring();
    }
    return;
  }
  s.stop_requested.store(true, std::memory_order_release);
  parker_.signal();
  s.thread.join();
  s.running = false;
}

void JournalWriter::publish_durable() noexcept {
  const std::uint64_t synced = synced_.load(std::memory_order_acquire);
  const std::uint64_t written = written_.load(std::memory_order_acquire);
  // Here: synced, or written for the policies that do not wait for the disk.
  const bool disk_waits = opts_.durability != Durability::None && opts_.durability != Durability::Replicated;
  std::uint64_t target = disk_waits ? synced : written;
  if (replicated(opts_.durability) && opts_.await_replica) {
    target = fallback_.load(std::memory_order_acquire) ? synced : std::min(target, acked_.load(std::memory_order_acquire));
  }
  std::uint64_t cur = durable_.load(std::memory_order_relaxed);
  while (target > cur && !durable_.compare_exchange_weak(cur, target, std::memory_order_acq_rel)) {
  }
  if (target > cur && durable_listener_ != nullptr) durable_listener_->wake();
}

void JournalWriter::on_replica_ack(std::uint64_t seq) noexcept {
  std::uint64_t cur = acked_.load(std::memory_order_relaxed);
  while (seq > cur && !acked_.compare_exchange_weak(cur, seq, std::memory_order_acq_rel)) {
  }
  publish_durable();
}

void JournalWriter::set_replica_fallback(bool on) noexcept {
  fallback_.store(on, std::memory_order_release);
  publish_durable();
}

std::string JournalWriter::last_error() const {
  std::lock_guard lock(impl_->mu);
  return impl_->last_error;
}

void JournalWriter::set_min_free_bytes(std::uint64_t bytes) noexcept {
  impl_->min_free.store(bytes, std::memory_order_relaxed);
}

std::size_t JournalWriter::remove_segments_through(std::uint64_t upto, std::uint64_t older_than_seconds) {
  const auto segs = detail::list_segments(opts_.dir);
  const auto now = std::filesystem::file_time_type::clock::now();
  std::size_t removed = 0;
  // Segment i holds seqs [first_i, first_{i+1}); the newest has no known end and is kept.
  for (std::size_t i = 0; i + 1 < segs.size(); ++i) {
    if (segs[i + 1].first - 1 > upto) break;
    std::error_code ec;
    const auto mtime = std::filesystem::last_write_time(segs[i].second, ec);
    if (ec) continue;
    if (now - mtime < std::chrono::seconds(older_than_seconds)) continue;
    if (std::filesystem::remove(segs[i].second, ec)) ++removed;
  }
  if (removed != 0) (void)detail::fsync_dir(opts_.dir);
  return removed;
}

}  // namespace peregrine::journal
