#pragma once
/// The command journal (docs/operations.md, "Journal"): every command the core processes, in the
/// order it processed them, appended by a writer thread to segment files under one directory,
/// and read back at start-up (recovery), by `peregrine-journal`, and by benchmarks.
///
/// On disk (all integers little-endian):
///
///   segment file  `journal-<first seq, 20 digits>.pjl`
///     header (64 bytes): magic "PGJOURNL" | u32 version (kFormatVersion) | u32 header size (64)
///                        | u64 first seq | u64 config fingerprint | u64 created (Unix ns)
///                        | 20 bytes zero | u32 CRC32C of the 60 bytes before it
///     records, back to back:
///       u32 payload length | u32 CRC32C of (seq .. end of payload) | u64 seq | u8 kind
///       | 7 bytes zero | payload
///   Sequence numbers start at 1 and have no gaps across segments; a segment's first record
///   has the seq its name and header give. A new segment starts when the current one would
///   pass `segment_bytes`.
///
/// Record kinds: Command (payload: one 64-byte peregrine::Command, byte for byte), Start
/// (payload: StartRecord; the first record of a day's journal), EndOfDay (payload: EndOfDayRecord),
/// EpochStart (payload: EpochStartRecord; a standby promoted to leader, issue #15).
///
/// Threads: JournalWriter's ring has one producer (the core thread; after the core has stopped,
/// the thread that stopped it); its own thread writes and syncs; durable_seq(), failed() and
/// the stats may be read from any thread.

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "peregrine/agent/parker.hpp"
#include "peregrine/agent/wait_strategy.hpp"
#include "peregrine/core/command.hpp"
#include "peregrine/core/config.hpp"
#include "peregrine/ring/spsc_ring.hpp"

namespace peregrine::journal {

inline constexpr std::uint32_t kFormatVersion = 1;
inline constexpr std::size_t kSegmentHeaderSize = 64;
inline constexpr std::size_t kRecordHeaderSize = 24;

enum class RecordKind : std::uint8_t { Command = 1, Start = 2, EndOfDay = 3, EpochStart = 4 };

/// The first record of a day's journal: what the engine started from, so a replay starts the
/// same way (the schedule's phase at the first start; the egress start-of-day timestamp).
struct StartRecord {
  Timestamp ts;                ///< the ITCH start-of-day timestamp (ns since midnight)
  TradingStatus session;       ///< the phase instruments configured as Trading started in
  std::uint8_t reserved_[7];
};
static_assert(sizeof(StartRecord) == 16);

/// The drain's end of day (SIGTERM): replay emits the same ITCH end-of-day messages.
struct EndOfDayRecord {
  Timestamp ts;
};
static_assert(sizeof(EndOfDayRecord) == 8);

/// Issue #15 (docs/ha.md, "Promotion"): a standby became the leader here; every record after it
/// was written under `epoch`. Replay and the replica apply nothing for it.
struct EpochStartRecord {
  std::uint64_t epoch;
  Timestamp ts;  ///< ns since the exchange's midnight, as the other markers
};
static_assert(sizeof(EpochStartRecord) == 16);

/// CRC32C (Castagnoli), as iSCSI and ext4 use it; SSE4.2 when the CPU has it.
[[nodiscard]] std::uint32_t crc32c(const void* data, std::size_t n, std::uint32_t crc = 0) noexcept;

/// A fingerprint of the parts of the engine configuration a journal depends on (instruments,
/// their order and rules, firms, capacities): a journal is only replayed into the configuration
/// that wrote it.
[[nodiscard]] std::uint64_t config_fingerprint(const EngineConfig& cfg) noexcept;

/// Start-up and tool errors; what() names the file and the byte offset when there is one.
class JournalError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class Durability : std::uint8_t {
  Fsync,      ///< write, then fsync per batch (group commit: what arrived while the last sync ran)
  Fdatasync,  ///< write, then fdatasync per batch
  None,       ///< write only: a crash of the machine (not of the process) loses the tail
  /// Issue #15: write; a record is durable once written here and held by the standby
  /// (on_replica_ack, with WriterOptions::await_replica), or once written alone (the standby's
  /// own journal); fsync runs in the background, at the latest `sync_window` after the write.
  Replicated,
  /// Write and fsync per batch; durable once synced here and held by the standby (both).
  ReplicatedFsync,
};
/// True for the two replicated policies.
[[nodiscard]] constexpr bool replicated(Durability d) noexcept {
  return d == Durability::Replicated || d == Durability::ReplicatedFsync;
}
[[nodiscard]] std::string_view to_string(Durability d) noexcept;
[[nodiscard]] std::optional<Durability> durability_from(std::string_view s) noexcept;

/// One record read back.
struct Record {
  std::uint64_t seq = 0;
  RecordKind kind = RecordKind::Command;
  std::span<const std::uint8_t> payload;  ///< valid during the callback only
  /// The payload as a Command (kind Command; payload.size() == 64).
  [[nodiscard]] Command command() const noexcept;
};

/// What reading found at the end of the journal.
struct ReadEnd {
  std::uint64_t records = 0;      ///< records delivered
  std::uint64_t last_seq = 0;     ///< 0 when none
  /// A torn last record (a crash mid-write): the file and the offset where it starts. Nothing
  /// valid follows it. Recovery truncates the file there (with a warning).
  std::optional<std::pair<std::filesystem::path, std::uint64_t>> torn_tail;
};

struct ReadOptions {
  std::uint64_t from_seq = 1;   ///< deliver records with seq >= this (earlier ones are still checked)
  /// Corruption (a CRC mismatch, a bad header, a seq out of order anywhere but the torn tail):
  /// false = throw JournalError naming the file and offset; true = stop there, as if the
  /// journal ended, and report it in ReadEnd::torn_tail (the operator's
  /// --recover-truncate-at-corruption).
  bool truncate_at_corruption = false;
  /// false = check only: nothing on disk is changed; a torn tail (or, with
  /// truncate_at_corruption, the corruption) is only reported in ReadEnd::torn_tail.
  /// true = repair for appending: the torn segment is truncated at the tail's offset (removed
  /// when no whole record is left in it); with truncate_at_corruption the corrupt segment is
  /// truncated at the offset (moved aside to `<name>.corrupt` when its header is bad) and every
  /// later segment is moved aside to `<name>.corrupt`.
  bool repair = false;
};

/// Reads every segment of `dir` in order, verifying headers, CRCs, seq continuity and the
/// fingerprint (0 = do not check), calling `fn` for each record at or after `from_seq`.
/// Throws JournalError for corruption (see ReadOptions), a wrong version ("written by format
/// version N, this build reads 1"), a fingerprint mismatch, or an I/O error. An empty directory,
/// or one with no segment, is an empty journal. A segment file shorter than its header is torn
/// when it is the last one (a crash right after creating it), corruption otherwise. The torn
/// tail is the last segment ending inside a record, or in zero bytes only after its last whole
/// record. When `from_seq` > 1 and the first segment starts after it, the records in between
/// are missing: JournalError. ReadEnd::last_seq is the last valid record's seq, delivered or not.
ReadEnd read_journal(const std::filesystem::path& dir, std::uint64_t fingerprint, const ReadOptions& opts,
                     const std::function<void(const Record&)>& fn);

struct WriterOptions {
  std::filesystem::path dir;        ///< created if missing
  Durability durability = Durability::Fsync;
  std::uint64_t segment_bytes = std::uint64_t{256} << 20;
  std::uint64_t fingerprint = 0;
  /// Below this many free bytes on the journal's file system the writer stops writing and
  /// reports failed() (the engine then stops taking orders) until space comes back.
  std::uint64_t min_free_bytes = std::uint64_t{256} << 20;
  /// How the writer thread waits for commands. The parking kinds need the producer to call
  /// `parker().wake()` after pushing (the core loop does); the default backs off (spin, yield,
  /// sleep 1 us doubling to 1 ms) for producers that do not.
  agent::WaitOptions wait{agent::IdleStrategyKind::BackOff, agent::kDefaultSpin, std::chrono::nanoseconds{-1}};
  /// Durability::Replicated: the longest a written record waits for its fsync (the writer also
  /// syncs whenever it has nothing new to write).
  std::chrono::nanoseconds sync_window{std::chrono::milliseconds{10}};
  /// Replicated policies: durable_seq() also waits for the standby (on_replica_ack), unless
  /// set_replica_fallback(true). false: the standby's own journal, which nothing else gates.
  bool await_replica = false;
};

/// Upper bounds (ns) of the buckets of WriterStats::sync_buckets; the last bucket is +Inf.
inline constexpr std::array<std::uint64_t, 15> kSyncBucketBoundsNs{
    10'000,     25'000,     50'000,      100'000,     250'000,     500'000,     1'000'000, 2'500'000,
    5'000'000, 10'000'000, 25'000'000, 50'000'000, 100'000'000, 250'000'000, 1'000'000'000};

/// Counts for metrics; any thread.
struct WriterStats {
  std::atomic<std::uint64_t> records{0};
  std::atomic<std::uint64_t> bytes{0};
  std::atomic<std::uint64_t> batches{0};    ///< write+sync rounds
  std::atomic<std::uint64_t> syncs{0};
  std::atomic<std::uint64_t> sync_ns_total{0};
  /// Syncs by duration: [i] counts those <= kSyncBucketBoundsNs[i] and above the bound before;
  /// the last cell those above every bound (peregrine_journal_sync_seconds).
  std::array<std::atomic<std::uint64_t>, kSyncBucketBoundsNs.size() + 1> sync_buckets{};
  std::atomic<std::uint64_t> write_errors{0};  ///< failed write/sync attempts (each retried)
  std::atomic<std::uint64_t> segments{0};      ///< segments created
  /// Monotonic ns of the oldest record appended but not yet durable (0 = none waiting):
  /// peregrine_journal_sync_lag_seconds = now - this.
  std::atomic<std::uint64_t> oldest_pending_ns{0};
};

inline constexpr std::size_t kJournalRingCapacity = std::size_t{1} << 16;
using JournalRing = ring::SpscRing<Command, kJournalRingCapacity>;

/// Appends records and makes them durable on its own thread.
class JournalWriter {
 public:
  explicit JournalWriter(WriterOptions opts);
  ~JournalWriter();  ///< stop()
  JournalWriter(const JournalWriter&) = delete;
  JournalWriter& operator=(const JournalWriter&) = delete;

  /// Opens the journal for appending after `last_seq` (0 = empty journal): always starts a new
  /// segment named after last_seq + 1 (a recovered tail is never appended to). Throws
  /// JournalError when the directory cannot be created or written.
  void open(std::uint64_t last_seq);
  /// Appends a non-command record (Start, EndOfDay) with the next seq, written and made durable
  /// before the writer takes anything else. Only while no producer pushes to ring() (before
  /// start, or after the core has stopped); returns its seq.
  std::uint64_t append_marker(RecordKind kind, std::span<const std::uint8_t> payload);
  /// Starts the writer thread, named pg-journal (opening after seq 0 if open() was not called).
  /// Idle, it waits as WriterOptions::wait says: with a parking kind it sleeps until the
  /// producer's `parker().wake()`; with work waiting it does not wait.
  void start();
  /// Writes and syncs everything pushed so far, then joins the thread. Safe to call twice.
  /// While writes fail it keeps retrying every 100 ms (it never drops a record), so it returns
  /// only once everything is durable. Not concurrently with the producer.
  void stop();

  /// The core thread pushes each command here, in processing order, before processing it; the
  /// k-th command pushed gets seq last_seq + k (after markers).
  [[nodiscard]] JournalRing& ring() noexcept { return *ring_; }
  /// The writer thread's wake-up channel: the producer calls `wake()` after pushing to ring().
  [[nodiscard]] agent::Parker& parker() noexcept { return parker_; }
  /// Woken (`wake()`) each time durable_seq() advances: the thread that releases events on
  /// durability. Before start().
  void set_durable_listener(agent::Parker* listener) noexcept { durable_listener_ = listener; }

  /// Every record with seq <= this is durable under the policy (acquire): synced (fsync,
  /// fdatasync), written (none), written or synced and held by the standby (replicated,
  /// replicated+fsync; synced alone under set_replica_fallback). Never decreases.
  [[nodiscard]] std::uint64_t durable_seq() const noexcept { return durable_.load(std::memory_order_acquire); }
  /// Every record with seq <= this is in the segment files (write(2) returned; maybe not synced):
  /// what the replication sender may read back. Any thread.
  [[nodiscard]] std::uint64_t written_seq() const noexcept { return written_.load(std::memory_order_acquire); }
  /// Every record with seq <= this is synced to the disk. Any thread.
  [[nodiscard]] std::uint64_t synced_seq() const noexcept { return synced_.load(std::memory_order_acquire); }
  /// Woken (`wake()`) each time written_seq() advances: the replication sender. Before start().
  void set_written_listener(agent::Parker* listener) noexcept { written_listener_ = listener; }
  /// The standby holds every record up to `seq` (its acknowledgement; smaller values are
  /// ignored). Recomputes durable_seq() and wakes the durable listener if it advanced. Any thread.
  void on_replica_ack(std::uint64_t seq) noexcept;
  /// The highest seq the standby has acknowledged. Any thread.
  [[nodiscard]] std::uint64_t replica_acked() const noexcept { return acked_.load(std::memory_order_acquire); }
  /// true: the standby is gone, and durable_seq() follows the disk alone (synced records), the
  /// `standby_lost: fsync` rule; false: back to the standby's acknowledgements. Any thread.
  void set_replica_fallback(bool on) noexcept;
  [[nodiscard]] bool replica_fallback() const noexcept { return fallback_.load(std::memory_order_acquire); }
  /// The seq the next pushed command will get... minus one: the last seq assigned (any thread,
  /// approximate while the producer runs).
  [[nodiscard]] std::uint64_t last_seq() const noexcept { return assigned_.load(std::memory_order_acquire); }
  /// True while writes fail (disk full, I/O error, free space below min_free_bytes); the
  /// writer retries every 100 ms and clears it when a write and sync succeed.
  [[nodiscard]] bool failed() const noexcept { return failed_.load(std::memory_order_acquire); }
  /// The last failure, for the log line ("journal-...pjl: No space left on device").
  [[nodiscard]] std::string last_error() const;
  [[nodiscard]] const WriterStats& stats() const noexcept { return stats_; }
  [[nodiscard]] const WriterOptions& options() const noexcept { return opts_; }
  /// Changes the free-space minimum (options() keeps the initial value); any thread. Takes
  /// effect at the next free-space check (at most 10 ms later; at once on a retry).
  void set_min_free_bytes(std::uint64_t bytes) noexcept;
  /// Removes segments all of whose records have seq <= `upto` and whose files were last
  /// written more than `older_than_seconds` ago; returns how many (any thread but the writer's
  /// own: the newest segment is never removed).
  std::size_t remove_segments_through(std::uint64_t upto, std::uint64_t older_than_seconds);

 private:
  struct Impl;
  WriterOptions opts_;
  std::unique_ptr<JournalRing> ring_;
  agent::Parker parker_;
  agent::Parker* durable_listener_ = nullptr;
  agent::Parker* written_listener_ = nullptr;
  std::atomic<std::uint64_t> durable_{0};
  std::atomic<std::uint64_t> written_{0};
  std::atomic<std::uint64_t> synced_{0};
  std::atomic<std::uint64_t> acked_{0};
  std::atomic<bool> fallback_{false};
  /// durable_seq() from written_, synced_, acked_ and fallback_ under the policy (a CAS max:
  /// the writer thread and the acknowledging thread both call it).
  void publish_durable() noexcept;
  std::atomic<std::uint64_t> assigned_{0};
  std::atomic<bool> failed_{false};
  WriterStats stats_;
  std::unique_ptr<Impl> impl_;
};

/// Bytes used by the journal directory's files (segments and snapshots) and bytes free on its
/// file system (statvfs f_bavail); for metrics. Any thread.
struct DiskUsage {
  std::uint64_t used = 0;
  std::uint64_t free = 0;
};
[[nodiscard]] DiskUsage disk_usage(const std::filesystem::path& dir) noexcept;

}  // namespace peregrine::journal

namespace peregrine::journal {

/// Follows a journal as it grows (the snapshot thread's replica): delivers records with seq in
/// [next, upto] that are on disk, keeping its place (file and offset) between calls. Any one
/// thread.
class JournalTail {
 public:
  /// Starts at the first record with seq >= `from_seq`.
  JournalTail(std::filesystem::path dir, std::uint64_t fingerprint, std::uint64_t from_seq);
  ~JournalTail();
  JournalTail(const JournalTail&) = delete;
  JournalTail& operator=(const JournalTail&) = delete;
  /// Delivers records up to and including `upto` (a durable seq), at most `max` of them;
  /// returns how many. Throws JournalError on corruption.
  std::size_t poll(std::uint64_t upto, std::size_t max, const std::function<void(const Record&)>& fn);
  /// The seq of the next record it will deliver.
  [[nodiscard]] std::uint64_t next_seq() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace peregrine::journal
