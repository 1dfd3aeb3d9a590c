#include "persistence.hpp"

#include <chrono>
#include <cstring>
#include <ctime>
#include <system_error>

#include "peregrine/proto/ouch_translate.hpp"
#include "peregrine/sessions/soup_session.hpp"

namespace peregrine::app {

namespace fs = std::filesystem;

namespace {

std::uint64_t mono_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

bool is_day_name(const std::string& s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) return false;
  return true;
}

}  // namespace

fs::path journal_day_dir(const config::ServiceConfig& cfg, const ExchangeClock& clock) {
  if (cfg.journal.dir.empty()) return {};
  return fs::path(cfg.journal.dir) / clock.date_string();
}

EngineConfig engine_config_for_start(const EngineConfig& base, TradingStatus session) {
  EngineConfig e = base;
  for (InstrumentConfig& i : e.instruments) {
    if (i.initial_status == TradingStatus::Trading) i.initial_status = session;
  }
  return e;
}

std::vector<std::uint8_t> save_service_section(const journal::StartRecord& start) {
  std::vector<std::uint8_t> out(sizeof start);
  std::memcpy(out.data(), &start, sizeof start);
  return out;
}

std::optional<journal::StartRecord> load_service_section(const std::vector<std::uint8_t>& bytes) {
  if (bytes.size() != sizeof(journal::StartRecord)) return std::nullopt;
  journal::StartRecord s;
  std::memcpy(&s, bytes.data(), sizeof s);
  if (!is_known_status(s.session)) return std::nullopt;
  return s;
}

RecoveryPlan plan_recovery(const config::ServiceConfig& cfg, const ExchangeClock& clock) {
  RecoveryPlan plan;
  plan.dir = journal_day_dir(cfg, clock);
  if (plan.dir.empty()) return plan;
  plan.fingerprint = journal::config_fingerprint(cfg.engine);
  std::error_code ec;
  if (!fs::exists(plan.dir, ec)) return plan;  // a new day
  plan.snapshot = journal::newest_valid_snapshot(plan.dir, plan.fingerprint, &plan.skipped_snapshots);
  if (plan.snapshot) {
    const std::vector<std::uint8_t>* svc = plan.snapshot->find(journal::SnapshotSection::Service);
    if (svc == nullptr || !(plan.start = load_service_section(*svc)))
      throw journal::JournalError(plan.snapshot->file.string() + ": the service section is missing or malformed");
    return plan;
  }
  // No snapshot: the day's first record says how it started.
  journal::JournalTail tail(plan.dir, plan.fingerprint, 1);
  std::optional<journal::Record> first;
  std::vector<std::uint8_t> payload;
  (void)tail.poll(~std::uint64_t{0}, 1, [&](const journal::Record& r) {
    first = r;
    payload.assign(r.payload.begin(), r.payload.end());
  });
  if (!first) return plan;  // no record yet: as a new day
  if (first->seq != 1 || first->kind != journal::RecordKind::Start || payload.size() != sizeof(journal::StartRecord))
    throw journal::JournalError(plan.dir.string() + ": the journal does not begin with its Start record (seq 1) and "
                                "there is no snapshot to start from");
  journal::StartRecord s;
  std::memcpy(&s, payload.data(), sizeof s);
  if (!is_known_status(s.session)) throw journal::JournalError(plan.dir.string() + ": the Start record names no known phase");
  plan.start = s;
  return plan;
}

// ---- RecordApplier ----

RecordApplier::RecordApplier(Engine& engine, egress::Egress& egress, std::function<void(const Event&)> observe)
    : engine_(engine), egress_(egress), observe_(std::move(observe)), buffer_(256), sink_(buffer_.data(), buffer_.size(), &RecordApplier::on_flush, this) {}

void RecordApplier::on_flush(void* self, const Event* events, std::size_t n) noexcept {
  auto* a = static_cast<RecordApplier*>(self);
  for (std::size_t i = 0; i < n; ++i) {
    a->egress_.on_event(events[i]);
    if (a->observe_) a->observe_(events[i]);
  }
}

void RecordApplier::apply(const journal::Record& r) {
  switch (r.kind) {
    case journal::RecordKind::Command:
      engine_.process(r.command(), sink_);
      sink_.flush();
      ++commands_;
      break;
    case journal::RecordKind::Start: {
      journal::StartRecord s;
      if (r.payload.size() == sizeof s) {
        std::memcpy(&s, r.payload.data(), sizeof s);
        start_ = s;
        egress_.start_of_day(s.ts);
      }
      break;
    }
    case journal::RecordKind::EndOfDay: {
      journal::EndOfDayRecord e;
      if (r.payload.size() == sizeof e) {
        std::memcpy(&e, r.payload.data(), sizeof e);
        egress_.end_of_day(e.ts, mono_ns());
      }
      break;
    }
  }
  last_seq_ = r.seq;
}

// ---- Snapshotter ----

struct Snapshotter::Replica {
  explicit Replica(const config::ServiceConfig& cfg, const EngineConfig& ecfg)
      : engine(ecfg), users(cfg.gateway.retention_messages), lookup(ecfg) {}
  Engine engine;
  sessions::UserDirectory users;
  proto::ConfigLookup lookup;
  std::unique_ptr<egress::Egress> egress;
  std::unique_ptr<RecordApplier> applier;
  std::unique_ptr<journal::JournalTail> tail;
  std::uint64_t since_snapshot = 0;
  std::uint64_t last_snapshot_mono = 0;
};

Snapshotter::Snapshotter(const config::ServiceConfig& cfg, const EngineConfig& engine_cfg, const RecoveryPlan& plan,
                         journal::JournalWriter& writer,
                         std::function<void(std::string_view, const std::string&)> log)
    : cfg_(cfg), engine_cfg_(engine_cfg), plan_(plan), writer_(writer), log_(std::move(log)) {}

Snapshotter::~Snapshotter() { stop(); }

void Snapshotter::start() {
  if (thread_.joinable()) return;
  stop_.store(false, std::memory_order_release);
  thread_ = std::thread([this] { run(); });
}

void Snapshotter::stop() {
  if (!thread_.joinable()) return;
  stop_.store(true, std::memory_order_release);
  thread_.join();
}

// Users are the service's accounts (owner ids in config order, as the server numbers them);
// only their outbound buffers matter to the replica.
void Snapshotter::build_replica() {
  replica_ = std::make_unique<Replica>(cfg_, engine_cfg_);
  Replica& r = *replica_;
  std::uint32_t owner = 1;
  for (const config::UserConfig& u : cfg_.users) {
    sessions::UserAccount a;
    a.username = Alpha<6>::from(u.username);
    a.owner = OwnerId{owner++};
    for (std::size_t i = 0; i < cfg_.engine.firms.size(); ++i) {
      if (cfg_.engine.firms[i].name.view() == u.firm) {
        a.firm = FirmId{static_cast<std::uint16_t>(i)};
        a.firm_name = cfg_.engine.firms[i].name;
      }
    }
    a.cancel_on_disconnect = u.cancel_on_disconnect;
    a.throttle_per_second = u.throttle_per_second;
    r.users.add(a);
  }
  egress::EgressConfig ecfg;
  ecfg.mold.session = Alpha<10>::from(cfg_.gateway.session_name);
  r.egress = std::make_unique<egress::Egress>(engine_cfg_, r.lookup, r.users, ecfg, [](std::span<const std::uint8_t>) {});
  r.applier = std::make_unique<RecordApplier>(r.engine, *r.egress);
  std::uint64_t from = 1;
  if (plan_.snapshot) {
    std::string error;
    const auto* e = plan_.snapshot->find(journal::SnapshotSection::Engine);
    const auto* g = plan_.snapshot->find(journal::SnapshotSection::Egress);
    if (e == nullptr || g == nullptr || !r.engine.load(*e, error) || !r.egress->load(*g, error))
      throw journal::JournalError(plan_.snapshot->file.string() + ": " + (error.empty() ? "a section is missing" : error));
    r.applier->set_start(*plan_.start, plan_.snapshot->seq);
    from = plan_.snapshot->seq + 1;
  }
  r.tail = std::make_unique<journal::JournalTail>(plan_.dir, plan_.fingerprint, from);
  r.last_snapshot_mono = mono_ns();
  stats_.replica_seq.store(from - 1, std::memory_order_relaxed);
}

void Snapshotter::run() {
  try {
    build_replica();
  } catch (const std::exception& e) {
    log_("error", std::string("snapshots: cannot build the replica: ") + e.what() + "; no snapshots will be taken");
    stats_.failed.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  Replica& r = *replica_;
  const std::uint64_t every = cfg_.journal.snapshot_every_commands;
  const std::uint64_t every_ns = std::uint64_t{cfg_.journal.snapshot_every_seconds} * 1'000'000'000;
  while (!stop_.load(std::memory_order_acquire)) {
    std::size_t n = 0;
    try {
      n = r.tail->poll(writer_.durable_seq(), 65536, [&](const journal::Record& rec) {
        r.applier->apply(rec);
        if (rec.kind == journal::RecordKind::Command) ++r.since_snapshot;
      });
    } catch (const std::exception& e) {
      log_("error", std::string("snapshots: reading the journal: ") + e.what() + "; snapshots stop");
      stats_.failed.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    stats_.replica_seq.store(r.applier->last_seq(), std::memory_order_relaxed);
    const std::uint64_t now = mono_ns();
    const bool by_count = every != 0 && r.since_snapshot >= every;
    const bool by_time = every_ns != 0 && r.since_snapshot > 0 && now - r.last_snapshot_mono >= every_ns;
    const bool asked = requested_.load(std::memory_order_acquire) && r.tail->next_seq() > writer_.durable_seq();
    if (by_count || by_time || asked) {
      requested_.store(false, std::memory_order_release);
      take_snapshot();
    }
    if (n == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void Snapshotter::take_snapshot() {
  Replica& r = *replica_;
  const std::uint64_t t0 = mono_ns();
  const std::uint64_t seq = r.applier->last_seq();
  try {
    if (!r.applier->start()) throw journal::JournalError("the day has no Start record yet");
    r.egress->flush(mono_ns());  // the datagram being built goes "out" (nowhere), as the service's flush does
    std::vector<std::uint8_t> engine_bytes;
    r.engine.save(engine_bytes);
    const std::vector<std::uint8_t> egress_bytes = r.egress->save();
    const std::vector<std::uint8_t> service_bytes = save_service_section(*r.applier->start());
    const journal::SnapshotPart parts[] = {{journal::SnapshotSection::Engine, engine_bytes},
                                           {journal::SnapshotSection::Egress, egress_bytes},
                                           {journal::SnapshotSection::Service, service_bytes}};
    const fs::path file = journal::write_snapshot(plan_.dir, seq, plan_.fingerprint, parts);
    const std::uint64_t took = mono_ns() - t0;
    const std::uint64_t bytes = engine_bytes.size() + egress_bytes.size() + service_bytes.size();
    stats_.taken.fetch_add(1, std::memory_order_relaxed);
    stats_.last_seq.store(seq, std::memory_order_relaxed);
    stats_.last_bytes.store(bytes, std::memory_order_relaxed);
    stats_.last_duration_ns.store(took, std::memory_order_relaxed);
    stats_.last_unix_seconds.store(static_cast<std::uint64_t>(std::time(nullptr)), std::memory_order_relaxed);
    log_("info", "snapshot " + file.filename().string() + ": seq " + std::to_string(seq) + ", " + std::to_string(bytes) +
                     " bytes, " + std::to_string(took / 1'000'000) + " ms");
    r.since_snapshot = 0;
    r.last_snapshot_mono = mono_ns();
    apply_retention(seq);
  } catch (const std::exception& e) {
    stats_.failed.fetch_add(1, std::memory_order_relaxed);
    log_("error", "snapshot at seq " + std::to_string(seq) + " failed: " + e.what());
    r.last_snapshot_mono = mono_ns();  // not again at once: the next interval
    if (r.since_snapshot > 0 && cfg_.journal.snapshot_every_commands != 0) r.since_snapshot = 0;
  }
}

// Old snapshots beyond keep_snapshots; segments wholly before the snapshot the oldest kept
// snapshot leaves replayable, once past retention; earlier days' directories past retention.
void Snapshotter::apply_retention(std::uint64_t snapshot_seq) {
  (void)journal::prune_snapshots(plan_.dir, cfg_.journal.keep_snapshots);
  const std::uint64_t retention_s = std::uint64_t{cfg_.journal.retention_hours} * 3600;
  // Segments are removed only up to the oldest snapshot kept, so every kept snapshot can still
  // be replayed forward.
  std::uint64_t oldest_kept = snapshot_seq;
  for (const auto& [seq, path] : journal::list_snapshots(plan_.dir)) oldest_kept = std::min(oldest_kept, seq);
  const std::size_t removed =
      writer_.remove_segments_through(oldest_kept, retention_s);
  stats_.segments_removed.fetch_add(removed, std::memory_order_relaxed);
  // Earlier days.
  std::error_code ec;
  const fs::path root = plan_.dir.parent_path();
  const auto now = fs::file_time_type::clock::now();
  for (const fs::directory_entry& d : fs::directory_iterator(root, ec)) {
    const std::string name = d.path().filename().string();
    if (!d.is_directory(ec) || !is_day_name(name) || d.path() == plan_.dir) continue;
    const auto written = fs::last_write_time(d.path(), ec);
    if (ec) continue;
    if (now - written < std::chrono::seconds(retention_s)) continue;
    if (fs::remove_all(d.path(), ec) != static_cast<std::uintmax_t>(-1) && !ec) {
      stats_.days_removed.fetch_add(1, std::memory_order_relaxed);
      log_("info", "retention: removed the journal of " + name);
    }
  }
}

}  // namespace peregrine::app
