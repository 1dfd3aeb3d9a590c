// Replication in the server (issue #15; docs/ha.md): the leader streams its journal to a standby
// (ha::LeaderLink) and releases replies by the `replicated` policies; a standby recovers its own
// journal, then follows the leader (ha::StandbyLink), appending every record to its journal and
// applying it to its replica (this server's engine and egress, on the io thread, with the applier
// recovery uses), and refuses logins. A standby becomes the leader at run time (promote_now():
// POST /admin/promote, ha.failover auto after the leader's silence, or ha.failover lease when its
// elector acquires the Lease). Under ha.failover lease a leader leads only while it holds the
// Lease: at start-up it waits for it, and once it has lost it, it is deposed (docs/ha.md, "The
// Lease in the server"). The elector runs on its own thread; the io thread reads its deadline.

#include "server_impl.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <thread>

#include "peregrine/ha/epoch_file.hpp"
#include "peregrine/replay/record_applier.hpp"

namespace peregrine::app {

namespace {

const char* ha_failover_name(config::HaFailover f) {
  switch (f) {
    case config::HaFailover::Manual: return "manual";
    case config::HaFailover::Auto: return "auto";
    case config::HaFailover::Lease: return "lease";
  }
  return "manual";
}

// The loader's bound on ha.epoch is the elector's (config cannot include ha).
static_assert(config::kMaxLeaseEpoch == static_cast<std::uint64_t>(ha::kMaxLeaseEpoch));

// An epoch as the elector's floor (int64): one above int64 stays above every epoch the Lease can
// hold, so the elector refuses it (kMaxLeaseEpoch) instead of a cast making it negative.
std::int64_t lease_floor(std::uint64_t epoch) {
  return static_cast<std::int64_t>(std::min<std::uint64_t>(epoch, std::numeric_limits<std::int64_t>::max()));
}

}  // namespace

void Server::publish_statuses() {
  for (std::size_t i = 0; i < cfg_.engine.instruments.size(); ++i)
    statuses_[i + 1].store(static_cast<std::uint8_t>(engine_.status(InstrumentId{static_cast<std::uint16_t>(i + 1)})));
}

std::filesystem::path Server::epoch_file() const {
  return std::filesystem::path(cfg_.journal.dir) / ha::kEpochFileName;
}

// A leader's link on ha.listen, bound (throws naming the address when it cannot be).
std::unique_ptr<ha::LeaderLink> Server::make_leader_link(std::uint64_t epoch) {
  if (cfg_.ha.listen.host.empty()) return nullptr;
  ha::LeaderLinkOptions lo;
  lo.host = cfg_.ha.listen.host;
  lo.port = cfg_.ha.listen.port;
  lo.epoch = epoch;
  lo.dir = plan_.dir;
  lo.fingerprint = plan_.fingerprint;
  lo.heartbeat = std::chrono::milliseconds{cfg_.ha.heartbeat_ms};
  lo.standby_timeout = std::chrono::milliseconds{cfg_.ha.standby_timeout_ms};
  lo.parker = &repl_parker_;  // the writer's written listener
  auto link = std::make_unique<ha::LeaderLink>(lo, *writer_, [this](std::string_view level, const std::string& line) { journal_log(level, line); },
                                               [this](bool in_sync, const std::string& why) { on_standby_sync(in_sync, why); });
  link->bind();
  return link;
}

// Until the standby has caught up the leader runs by ha.standby_lost (a standby that never
// connected is as good as lost): fsync releases on its own disk, strict refuses orders.
void Server::start_leader_link(std::unique_ptr<ha::LeaderLink> link) {
  leader_link_ = std::move(link);
  if (!leader_link_) {
    on_standby_sync(false, "ha.listen is not set: no standby can follow this leader");
    return;
  }
  on_standby_sync(false, "no standby has connected yet");
  leader_link_->start();
  leader_stats_.store(&leader_link_->stats(), std::memory_order_release);
}

// The leader: the writer wakes the link when it has written records; the link acknowledges into
// the writer. Its epoch is ha.epoch, or the newest this node has kept (a promoted leader restarted
// as a leader keeps leading at its epoch).
void Server::start_ha_leader() {
  if (cfg_.ha.role != config::HaRole::Leader) return;
  const std::uint64_t kept = ha::read_epoch_file(epoch_file());
  std::uint64_t epoch = std::max(cfg_.ha.epoch, kept);
  if (cfg_.ha.failover == config::HaFailover::Lease) {
    // The Lease first: nothing is journaled, and no login taken, before this node leads. Its
    // epoch is at least the one this node has kept (the elector's floor), so the two agree.
    make_elector([epoch] { return lease_floor(epoch); }, [kept] { return kept; });
    epoch = std::max(epoch, acquire_lease_at_start());
  }
  if (epoch != kept) ha::write_epoch_file(epoch_file(), epoch);
  epoch_.store(epoch, std::memory_order_relaxed);
  writer_->set_written_listener(&repl_parker_);
  start_leader_link(make_leader_link(epoch));  // binds: throws naming ha.listen when it cannot
}

// The link's thread (and start-up): the acknowledgement rule's fallback (docs/ha.md).
void Server::on_standby_sync(bool in_sync, const std::string& why) {
  const bool strict = cfg_.ha.standby_lost == config::StandbyLost::Strict;
  if ((leader_link_ && leader_link_->stats().deposed.load(std::memory_order_relaxed)) ||
      lease_deposed_.load(std::memory_order_acquire)) {
    // A newer leader exists: nothing more is acknowledged, whatever ha.standby_lost says.
    writer_->set_replica_fallback(false);
    standby_refusing_.store(true, std::memory_order_relaxed);
    refusing_orders_.store(true, std::memory_order_relaxed);
    log_->error("ha: {}; refusing orders (restart it as a standby)", why);
    return;
  }
  if (in_sync) {
    writer_->set_replica_fallback(false);
    standby_refusing_.store(false, std::memory_order_relaxed);  // check_journal() takes orders again
    log_->info("ha: standby in sync: {}; replies wait for it ({})", why, journal::to_string(writer_->options().durability));
    return;
  }
  // TODO(#15): record in the Lease that this leader has no synchronous standby before falling
  // back, so that a stale standby never takes over (Patroni's rule); until the elector is wired
  // the record is this log line and peregrine_ha_standby_in_sync.
  if (strict) {
    // Refusals are journaled commands too: they (and cancels, and what was in flight) are
    // released on this node's fsync, or no client would hear why (docs/ha.md).
    standby_refusing_.store(true, std::memory_order_relaxed);
    refusing_orders_.store(true, std::memory_order_relaxed);
    writer_->set_replica_fallback(true);
    log_->error("ha: standby lost: {}; ha.standby_lost strict: refusing new orders and replaces until it is back", why);
  } else {
    writer_->set_replica_fallback(true);
    log_->warn("ha: standby lost: {}; ha.standby_lost fsync: replies wait for this node's fsync alone", why);
  }
  // Deposed by the Lease while this ran (depose_by_lease() sets the flag before it turns the
  // fallback off): the fallback must not outlive it.
  if (lease_deposed_.load(std::memory_order_acquire)) writer_->set_replica_fallback(false);
}

// A standby's day: its own journal (snapshot, then records) into the replica, as recover() does;
// then its writer continues after the last record it holds, with the leader's records only. It
// writes no Start record of its own and queues no command: everything comes from the leader.
void Server::recover_standby() {
  recovering_ = true;  // for good: a standby's egress sends no datagrams (the leader's feed is the feed)
  limits_.refuse_logins = true;
  feed_limits_.refuse_logins = true;
  replica_ = std::make_unique<replay::RecordApplier>(engine_, *egress_, [this](const Event& e) { observe_status(e); });
  const std::uint64_t t0 = mono_ns();
  const std::uint64_t from = replica_->start_from(plan_);
  journal::ReadOptions ro;
  ro.from_seq = from;
  ro.truncate_at_corruption = opts_.truncate_at_corruption;
  ro.repair = true;
  const journal::ReadEnd end =
      journal::read_journal(plan_.dir, plan_.fingerprint, ro, [this](const journal::Record& r) { replica_->apply(r); });
  if (end.torn_tail)
    log_->warn("journal: {} cut at offset {}: a torn last record; the leader sends it again", end.torn_tail->first.string(),
               end.torn_tail->second);
  egress_->flush(mono_ns());
  publish_statuses();
  if (egress_->mold().ended()) egress_->mold().reopen();  // as recover(): the day goes on
  const std::uint64_t last = replica_->last_seq();
  recovered_records_ = end.records;

  // The writer runs as it will once promoted (a listener is set before its start, and its policy
  // is fixed): the configured durability, waiting for a standby of its own, which it does not
  // have yet, so the fallback is on: durable = synced. The link acknowledges what it has written
  // (written_seq), whatever this node's durable seq waits for.
  journal::WriterOptions wo;
  wo.dir = plan_.dir;
  wo.durability = durability_of(cfg_.journal.durability);
  wo.await_replica = true;
  wo.sync_window = std::chrono::milliseconds{cfg_.ha.fsync_window_ms};
  wo.segment_bytes = cfg_.journal.segment_bytes;
  wo.fingerprint = plan_.fingerprint;
  wo.min_free_bytes = cfg_.journal.min_free_bytes / 4;
  wo.wait = {eff_.journal_idle, eff_.park_after, std::chrono::nanoseconds{-1}};
  writer_ = std::make_unique<journal::JournalWriter>(wo);
  writer_->set_replica_fallback(true);
  boundaries_ = std::make_unique_for_overwrite<BoundaryRing>();  // empty until a promotion starts the core
  replica_ring_ = std::make_unique_for_overwrite<ReplicaRing>();
  ha::StandbyLinkOptions so;
  so.host = cfg_.ha.peer.host;
  so.port = cfg_.ha.peer.port;
  so.fingerprint = plan_.fingerprint;
  so.leader_timeout = std::chrono::milliseconds{cfg_.ha.leader_timeout_ms};
  so.epoch_file = epoch_file();
  so.parker = &repl_parker_;
  const std::uint64_t kept_epoch = ha::read_epoch_file(so.epoch_file);  // refuses a deposed leader from the start
  epoch_.store(kept_epoch, std::memory_order_relaxed);
  if (cfg_.ha.failover == config::HaFailover::Lease) {
    // A candidate (started by check_promotion once a leader has been heard). What it writes when
    // it acquires is at least what promote_now() will lead at: the Lease and the stream agree.
    make_elector(
        [this, kept_epoch] {
          const std::uint64_t seen = standby_link_ ? standby_link_->stats().epoch.load(std::memory_order_relaxed) : 0;
          return lease_floor(std::max({seen, kept_epoch, cfg_.ha.epoch}) + 1);
        },
        [this, kept_epoch] {
          // The epoch of the leader it followed (its records are in this node's journal).
          const std::uint64_t seen = standby_link_ ? standby_link_->stats().epoch.load(std::memory_order_relaxed) : 0;
          return std::max(seen, kept_epoch);
        });
  }
  // The replica's feed (the link's thread): a record waits for room in the ring, unless the
  // server is stopping (the journal has it; the replica is being torn down).
  auto deliver = [this](const journal::Record& r) {
    ReplicaRecord rr{r.seq, static_cast<std::uint8_t>(r.kind), static_cast<std::uint8_t>(r.payload.size()), {}};
    std::memcpy(rr.payload, r.payload.data(), std::min(r.payload.size(), sizeof rr.payload));
    while (replica_ring_->try_push(rr) != PushResult::Ok) {
      if (stopping_.load(std::memory_order_acquire)) return;
      io_runner_.parker().wake();
      std::this_thread::yield();
    }
    io_runner_.parker().wake();
  };
  standby_link_ = std::make_unique<ha::StandbyLink>(so, *writer_, last, kept_epoch, deliver,
                                                    [this](std::string_view level, const std::string& line) { journal_log(level, line); });
  writer_->set_written_listener(&repl_parker_);              // its acks follow the journal
  writer_->set_durable_listener(&io_runner_.parker());       // after a promotion, durability releases events
  writer_->open(last);
  writer_->start();
  recovery_seconds_ = static_cast<double>(mono_ns() - t0) * 1e-9;
  recovery_summary_ = last == 0 ? std::string("journal: standby, empty")
                                : "journal: standby, recovered " + std::to_string(end.records) + " records";
  log_->info("{} in {:.3f} s; following the leader at {} after seq {} (epoch {} kept; ha.failover {})", recovery_summary_,
             recovery_seconds_, cfg_.ha.peer.to_string(), last, kept_epoch, ha_failover_name(cfg_.ha.failover));
  standby_link_->start();
  // Snapshots of its own journal, as a leader takes (started after ready, run()): a standby's
  // restart loads the newest one, and retention applies to its journal too.
  snapshotter_ = std::make_unique<Snapshotter>(cfg_, engine_cfg_, plan_, *writer_,
                                               [this](std::string_view level, const std::string& line) { journal_log(level, line); });
}

int Server::pump_replica() {
  if (!replica_ring_) return 0;
  const int n = pump_replica_records();
  if (standby()) check_promotion();
  return n;
}

int Server::pump_replica_records() {
  const std::size_t n = replica_ring_->drain(
      [this](ReplicaRecord& rr) {
        journal::Record r;
        r.seq = rr.seq;
        r.kind = static_cast<journal::RecordKind>(rr.kind);
        r.payload = std::span<const std::uint8_t>(rr.payload, rr.len);
        // Records after an end of day: the leader was restarted the same day, and reopened the
        // MoldUDP64 session as its recovery does (recover()); the replica does the same.
        if (r.kind != journal::RecordKind::EndOfDay && egress_->mold().ended()) egress_->mold().reopen();
        replica_->apply(r);
      },
      1024);
  if (n > 0) egress_->flush(mono_ns());
  return static_cast<int>(n);
}

bool Server::replica_has_work() const {
  return replica_ring_ && (replica_ring_->front() != nullptr || promote_requested_.load(std::memory_order_acquire));
}

// ---- promotion (docs/ha.md, "Promotion") ----------------------------------------------------

// The ops thread: the io thread promotes (it owns the replica, the egress and the sessions'
// settings); this waits for its answer, with a bound.
ops::AdminResult Server::promote() {
  if (standby() && cfg_.ha.failover == config::HaFailover::Lease)
    return {ops::AdminStatus::InvalidTransition,
            "ha.failover lease: the Lease decides who leads; this standby promotes itself when it acquires " + lease_where()};
  if (!standby()) {
    if (cfg_.ha.role == config::HaRole::Standby)
      return {ops::AdminStatus::InvalidTransition, "already promoted: this node leads at epoch " + std::to_string(epoch_.load())};
    return {ops::AdminStatus::InvalidTransition, "not a standby (ha.role: " +
                                                     std::string(cfg_.ha.role == config::HaRole::Leader ? "leader" : "none") + ")"};
  }
  std::unique_lock lock(promote_mutex_);
  const std::uint64_t round = promote_round_;
  promote_requested_.store(true, std::memory_order_release);
  io_runner_.parker().wake();
  if (!promote_cv_.wait_for(lock, std::chrono::seconds(10), [&] { return promote_round_ != round; }))
    return {ops::AdminStatus::Busy, "the promotion has not finished within 10 s; see the log"};
  return promote_answer_;
}

// The io thread, each pass while a standby: an operator's request, or ha.failover auto once the
// leader it followed has been silent (and its connection gone) for ha.leader_timeout_ms. A
// standby that never heard a leader does not promote itself: at a cold start the leader may
// simply not be up yet.
void Server::check_promotion() {
  const std::uint64_t now = mono_ns();
  if (promote_requested_.load(std::memory_order_acquire)) {
    ops::AdminResult r = promote_now("POST /admin/promote", true);
    const std::lock_guard lock(promote_mutex_);
    promote_requested_.store(false, std::memory_order_release);
    promote_answer_ = std::move(r);
    ++promote_round_;
    promote_cv_.notify_all();
    return;
  }
  if (cfg_.ha.failover == config::HaFailover::Lease) {
    if (!standby_link_ || !elector_ || lease_deposed_.load(std::memory_order_acquire)) return;
    // At a cold start the leader may not be up yet: a standby that has never heard one does not
    // campaign (it would lead with nothing, and the configured leader would wait for ever).
    if (!elector_started_ && standby_link_->stats().last_rx_ns.load(std::memory_order_relaxed) != 0) {
      elector_started_ = true;
      log_->info("ha: a leader has been heard; campaigning for the {}", lease_where());
      elector_->start();
    }
    if (!lease_won_.load(std::memory_order_acquire) || exit_status_ != 0) return;
    const ops::AdminResult r = promote_now("acquired the " + lease_where() + " at epoch " + std::to_string(elector_->epoch()), false);
    if (r.status != ops::AdminStatus::Done) give_up_lease(r.detail);
    return;
  }
  if (cfg_.ha.failover != config::HaFailover::Auto || !standby_link_ || now < next_auto_promote_ns_) return;
  const ha::LinkStats& st = standby_link_->stats();
  const std::uint64_t heard = st.last_rx_ns.load(std::memory_order_relaxed);
  const std::uint64_t timeout = std::uint64_t{cfg_.ha.leader_timeout_ms} * 1'000'000;
  if (heard == 0 || st.connected.load(std::memory_order_relaxed) || now - heard <= timeout) return;
  const ops::AdminResult r =
      promote_now("ha.failover auto: no frame from the leader for " + std::to_string((now - heard) / 1'000'000) + " ms", false);
  if (r.status != ops::AdminStatus::Done) next_auto_promote_ns_ = now + 1'000'000'000;  // said in the log; try again
}

// The io thread: the standby becomes the leader. In order: the link to the old leader stops and
// what it handed over is applied; the new epoch (the highest seen + 1) is kept on disk, then
// journaled (an EpochStart record); the core starts after it; the leader's link listens on
// ha.listen; the feed, the logins, the schedule and the admin API open. Nothing before the epoch
// is kept changes this node's state, so a refusal up to there leaves it a standby, following again.
ops::AdminResult Server::promote_now(const std::string& why, bool manual) {
  if (!standby()) return {ops::AdminStatus::InvalidTransition, "already the leader"};
  const ha::LinkStats& st = standby_link_->stats();
  const std::uint64_t held = writer_->written_seq();
  const std::uint64_t leader_seq = st.leader_seq.load(std::memory_order_relaxed);
  if (manual && st.connected.load(std::memory_order_relaxed) && leader_seq > held) {
    log_->warn("ha: promotion refused: still catching up (holds seq {}, the leader has written {})", held, leader_seq);
    return {ops::AdminStatus::Unavailable, "still catching up with the leader: holds seq " + std::to_string(held) +
                                               " of its " + std::to_string(leader_seq) + "; try again"};
  }
  log_->warn("ha: promoting this standby to leader ({})", why);
  const std::uint64_t t0 = mono_ns();
  // 1. The link stops; what it handed over is applied (it may be waiting for room in the ring).
  standby_link_->request_stop();
  while (!standby_link_->exited()) {
    (void)pump_replica_records();
    std::this_thread::yield();
  }
  standby_link_->stop();
  while (pump_replica_records() > 0) {
  }
  // 2. The new epoch: above every one this node has seen (or ha.epoch, the static leaders').
  std::uint64_t epoch = 0;
  std::unique_ptr<ha::LeaderLink> link;
  try {
    epoch = std::max({st.epoch.load(std::memory_order_relaxed), ha::read_epoch_file(epoch_file()), cfg_.ha.epoch}) + 1;
    if (elector_) {
      // The Lease's epoch (its floor was this same figure when it was acquired): the two agree.
      const auto leased = static_cast<std::uint64_t>(std::max<std::int64_t>(0, elector_->epoch()));
      if (leased < epoch)
        log_->warn("ha: the Lease's epoch {} is below the replication epoch {}; leading at {}", leased, epoch, epoch);
      epoch = std::max(epoch, leased);
    }
    link = make_leader_link(epoch);  // binds ha.listen
    ha::write_epoch_file(epoch_file(), epoch);
  } catch (const std::exception& e) {
    // Under ha.failover lease the caller gives the Lease back and ends the process (give_up_lease()).
    log_->error("ha: promotion failed: {}; {}", e.what(),
                elector_ ? "giving the Lease back" : "following the leader again");
    standby_link_->start();
    return {ops::AdminStatus::Unavailable, std::string("promotion failed: ") + e.what()};
  }
  // 3. The journal: a new day's Start record first if nothing came from a leader today, then the
  // EpochStart record; the core numbers its commands after it.
  const Timestamp now_ts{mono_ns() - origin_ns_};
  if (replica_->last_seq() == 0) {  // every record is applied: the replica's last is the journal's
    journal::StartRecord sr{};
    sr.ts = now_ts;
    sr.session = start_phase_;
    (void)writer_->append_marker(journal::RecordKind::Start, {reinterpret_cast<const std::uint8_t*>(&sr), sizeof sr});
    egress_->start_of_day(now_ts);
  }
  const journal::EpochStartRecord es{epoch, now_ts};
  const std::uint64_t es_seq =
      writer_->append_marker(journal::RecordKind::EpochStart, {reinterpret_cast<const std::uint8_t*>(&es), sizeof es});
  // 4. Replies wait for a standby of its own (the writer's policy since start-up); until one is in
  // sync ha.standby_lost applies (start_leader_link()).
  start_leader_link(std::move(link));
  // 5. What the io thread reads of the engine, while it is still the engine's one thread: the
  // schedule resumes from the phase the engine is in; resumption calls under way get their end.
  publish_statuses();
  if (cfg_.market.scheduled && !cfg_.engine.instruments.empty()) scheduled_phase_ = engine_.session(InstrumentId{1});
  {
    const std::lock_guard<std::mutex> lock(admin_mutex_);
    for (std::size_t i = 0; i < cfg_.engine.instruments.size(); ++i) {
      const InstrumentId id{static_cast<std::uint16_t>(i + 1)};
      if (engine_.status(id) == TradingStatus::ResumeCall)
        resume_call_ends_.push_back({id, mono_ns() + std::uint64_t{cfg_.market.resume_call_seconds} * 1'000'000'000});
    }
  }
  // 6. Matching, on the core thread as on a leader.
  core_.attach_journal(writer_->ring(), *boundaries_, es_seq, &writer_->parker());
  core_.start();
  // 7. The io thread's side: the feed sends again (from the sequence the replica reached: no
  // replay of the past; re-requests are answered from the buffer), logins open.
  if (egress_->mold().ended()) egress_->mold().reopen();  // the old leader's end of day (a SIGTERM): the day goes on
  recovering_ = false;
  limits_.refuse_logins = false;
  feed_limits_.refuse_logins = false;
  epoch_.store(epoch, std::memory_order_relaxed);
  failovers_.fetch_add(1, std::memory_order_relaxed);
  role_.store(config::HaRole::Leader, std::memory_order_release);  // the admin API takes commands
  egress_->flush(mono_ns());
  next_disk_check_ = 0;
  check_journal(mono_ns());  // readiness now, not a tick later
  const std::string where = leader_link_ ? "replication on " + cfg_.ha.listen.host + ":" + std::to_string(leader_link_->port())
                                          : std::string("no replication (ha.listen not set)");
  const std::string summary = "leader at epoch " + std::to_string(epoch) + " from seq " + std::to_string(es_seq) + ", " +
                              where + ", durability " + std::string(journal::to_string(writer_->options().durability)) +
                              ", logins open";
  log_->warn("ha: promoted in {:.3f} s: {}", static_cast<double>(mono_ns() - t0) * 1e-9, summary);
  std::printf("peregrine: promoted: %s\n", summary.c_str());
  std::fflush(stdout);
  // The Lease lost while this promotion ran (its callback saw a standby): deposed now.
  if (lease_deposed_.load(std::memory_order_acquire)) depose_by_lease("the " + lease_where() + " was lost during the promotion");
  return {ops::AdminStatus::Done, summary};
}

// ---- the Lease (ha.failover lease; docs/ha.md, "The Lease in the server") ------------------

std::string Server::lease_where() const {
  const config::HaLeaseConfig& l = cfg_.ha.lease;
  return "Lease " + l.namespace_name + "/" + l.name + " as " + l.identity;
}

void Server::make_elector(std::function<std::int64_t()> floor, std::function<std::uint64_t()> holds_epoch) {
  const config::HaLeaseConfig& l = cfg_.ha.lease;
  ha::ApiServerConfig api;
  api.host = l.api_host;
  api.port = l.api_port;
  api.ca_file = l.ca_file;
  api.token_file = l.token_file;
  api.namespace_name = l.namespace_name;
  api.timeout = std::chrono::milliseconds{l.timeout_ms};
  lease_client_ = ha::open_lease_client(api);  // peregrine-kube.so; throws naming the module or the CA file
  ha::ElectorConfig ec;
  ec.lease_name = l.name;
  ec.identity = l.identity;
  ec.lease_duration = std::chrono::milliseconds{l.duration_ms};
  ec.renew_deadline = std::chrono::milliseconds{l.renew_deadline_ms};
  ec.retry_period = std::chrono::milliseconds{l.retry_ms};
  ec.create_if_missing = false;  // the kit ships the Lease and grants get and update only (docs/ha.md)
  ec.release_on_stop = true;     // a clean stop hands over without waiting for expiry
  ec.single_term = true;         // a node that lost the Lease is deposed until restarted
  ec.min_epoch = std::move(floor);
  // A Lease of a newer epoch than this node's journal holds names a leader whose records this
  // node lacks (an old leader restarted as a leader, a node on an empty disk): it must not lead.
  ec.may_take = [holds = std::move(holds_epoch)](std::int64_t lease_epoch) -> std::string {
    const std::uint64_t mine = holds();
    if (lease_epoch <= 0 || static_cast<std::uint64_t>(lease_epoch) <= mine) return {};
    return "the Lease is at epoch " + std::to_string(lease_epoch) + " but this node's journal holds epoch " +
           std::to_string(mine) + " at most: it lacks what epoch " + std::to_string(lease_epoch) +
           "'s leader wrote; start it as that leader's standby";
  };
  ha::ElectorCallbacks cb;
  cb.on_started_leading = [this](std::int64_t epoch) { on_lease_acquired(epoch); };
  cb.on_stopped_leading = [this](ha::StepDownReason reason) { on_lease_lost(reason); };
  cb.on_new_leader = [this](const std::string& holder) {
    log_->info("ha: the {} names {}", "Lease " + cfg_.ha.lease.namespace_name + "/" + cfg_.ha.lease.name,
               holder.empty() ? std::string("nobody (free)") : holder);
  };
  elector_ = std::make_unique<ha::Elector>(*lease_client_, ec, std::move(cb));
}

// Start-up of a leader, before the writer's first record and before any listener: it waits until
// it holds the Lease, and says why while it waits (held by another, a refused call, no answer),
// once per reason. Signals end the wait as they end any start-up: by their default action.
std::uint64_t Server::acquire_lease_at_start() {
  log_->info("ha: acquiring the {} before leading (API server {}:{})", lease_where(), cfg_.ha.lease.api_host,
             cfg_.ha.lease.api_port);
  elector_started_ = true;
  elector_->start();
  std::string said;
  while (!elector_->wait_for_leading(true, std::chrono::milliseconds{500})) {
    // Taken and lost again before this loop saw it: the elector leads one term only, so waiting
    // on would wait for ever.
    if (elector_->acquisitions() > 0)
      throw std::runtime_error("ha: the " + lease_where() + " was lost right after it was taken (" +
                               elector_->last_error() + "); restart to campaign again");
    const std::string holder = elector_->holder();
    const std::string error = elector_->last_error();
    std::string why = !error.empty()                                      ? error
                      : !holder.empty() && holder != cfg_.ha.lease.identity ? "held by " + holder
                                                                            : std::string("no answer from the API server yet");
    if (why == said) continue;
    said = why;
    log_->warn("ha: waiting for the {}: {}", lease_where(), why);
    std::printf("peregrine: lease: waiting for the %s: %s\n", lease_where().c_str(), why.c_str());
    std::fflush(stdout);
  }
  return static_cast<std::uint64_t>(std::max<std::int64_t>(0, elector_->epoch()));
}

// The io thread: a standby that holds the Lease and cannot lead (ha.listen will not bind, the
// epoch file cannot be written) would keep every other node from leading for as long as it runs.
// It gives the Lease back and ends, so that another node may take it and the orchestrator
// restarts this one (a failure that lasts shows as a crash loop, not as a market without a leader).
void Server::give_up_lease(const std::string& why) {
  lease_won_.store(false, std::memory_order_release);
  log_->error("ha: holds the {} but could not promote ({}); releasing it and exiting with status 1", lease_where(), why);
  std::printf("peregrine: lease: could not promote (%s); releasing the %s and exiting\n", why.c_str(), lease_where().c_str());
  std::fflush(stdout);
  // No record carries the new epoch (promote_now() failed before the EpochStart record): the
  // Lease goes back to the epoch it had, or no node could take it (none holds that epoch).
  stop_elector(true);
  exit_status_ = 1;
  io_runner_.request_stop();  // run() shuts down as after a signal, and returns exit_status_
}

// The drop copy publishes what the replies release, no more: a leader past its renew deadline or
// deposed may make records durable on its own fsync (its standby gone, promoting) that the new
// leader never received. The durable seq is read first, then the Lease (as releasable_events()).
std::uint64_t Server::dropcopy_seq() noexcept {
  const std::uint64_t durable = writer_->durable_seq();
  return dropcopy_held_.bound(durable, lease_held());
}

void Server::on_lease_acquired(std::int64_t epoch) {
  log_->warn("ha: acquired the {} at epoch {}", lease_where(), epoch);
  std::printf("peregrine: lease: acquired the %s at epoch %lld\n", lease_where().c_str(), static_cast<long long>(epoch));
  std::fflush(stdout);
  if (standby()) {
    lease_won_.store(true, std::memory_order_release);
    io_runner_.parker().wake();  // check_promotion() promotes
  }
}

void Server::on_lease_lost(ha::StepDownReason reason) {
  lease_won_.store(false, std::memory_order_release);
  if (reason == ha::StepDownReason::Stopped) return;  // stop_elector() says how the release went
  const std::string error = elector_->last_error();
  depose_by_lease("lost the " + lease_where() + " (" + std::string(ha::to_string(reason)) +
                  (error.empty() ? std::string() : ": " + error) + ")");
}

// Whoever leads without the Lease may be one of two leaders: from here this node acknowledges
// nothing (releasable_events() holds every event not yet released; the writer's fallback is off)
// and refuses new orders and replaces, for good: it must be restarted, as a standby of the node
// that now leads. A standby that lost it before its promotion stays a standby.
void Server::depose_by_lease(const std::string& why) {
  lease_deposed_.store(true, std::memory_order_release);
  if (standby()) {
    log_->error("ha: {} before the promotion; staying a standby (restart it to campaign again)", why);
    std::printf("peregrine: lease: %s; staying a standby\n", why.c_str());
    std::fflush(stdout);
    return;
  }
  if (writer_) writer_->set_replica_fallback(false);
  standby_refusing_.store(true, std::memory_order_relaxed);  // check_journal() keeps refusing
  refusing_orders_.store(true, std::memory_order_relaxed);
  if (lease_deposed_said_.exchange(true)) return;
  log_->error("ha: deposed: {}; acknowledging nothing more and refusing orders (restart it as a standby)", why);
  std::printf("peregrine: deposed: %s; acknowledging nothing more, refusing orders\n", why.c_str());
  std::fflush(stdout);
  io_runner_.parker().wake();  // readiness follows at the next health check
}

void Server::stop_elector(bool abandon) {
  if (!elector_) return;
  const bool held = elector_->is_leader();
  // Leading: releases the Lease (one bounded call, after the thread's last one); abandoning, at
  // the epoch it had before (nothing was led at this one).
  if (abandon) {
    elector_->abandon();
  } else {
    elector_->stop();
  }
  if (!held) return;
  if (const std::string error = elector_->last_error(); !error.empty()) {
    log_->warn("ha: could not release the {} ({}); the standby takes it once it expires", lease_where(), error);
    return;
  }
  log_->info("ha: released the {}: the standby may take it now", lease_where());
  std::printf("peregrine: lease: released the %s\n", lease_where().c_str());
  std::fflush(stdout);
}

// A leader's last records (the end of day among them) wait for the standby's acknowledgement,
// within ha.standby_timeout_ms; past it the link declares the standby lost and the fallback
// releases them (fsync), or they stay unanswered (strict), as any other time.
void Server::settle_replication() {
  if (!leader_link_) return;
  const std::uint64_t deadline = mono_ns() + (std::uint64_t{cfg_.ha.standby_timeout_ms} + 200) * 1'000'000;
  while (writer_->durable_seq() < writer_->written_seq() && mono_ns() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

void Server::stop_ha() {
  stopping_.store(true, std::memory_order_release);  // a link waiting for room in the replica's ring gives up
  if (standby_link_) standby_link_->stop();  // before the writer it appends to
  if (leader_link_) leader_link_->stop();
}

std::string Server::ha_summary() const {
  if (leader_link_) {
    return "; ha: leader, replication on " + cfg_.ha.listen.host + ":" + std::to_string(leader_link_->port()) +
           ", epoch " + std::to_string(epoch_.load()) + ", durability " +
           std::string(journal::to_string(writer_->options().durability)) +
           (elector_ ? ", holding the " + lease_where() : std::string());
  }
  if (standby_link_) {
    return "; ha: standby of " + cfg_.ha.peer.to_string() + ", logins refused, epoch " + std::to_string(epoch_.load()) +
           ", failover " + ha_failover_name(cfg_.ha.failover) +
           (elector_ ? ", candidate for the " + lease_where() : std::string());
  }
  return {};
}

// Read at scrape time: a standby's role, epoch and link change when it is promoted, so the
// leader's figures follow leader_stats_ (0 until a leader link runs).
void Server::register_ha_metrics() {
  ops::CallbackMetrics& m = *io_collector_;
  m.add_gauge("peregrine_ha_role", "Replication role: 0 none, 1 leader, 2 standby (ha.role; a promoted standby is a leader).",
              {}, [this] {
                const config::HaRole r = role_.load(std::memory_order_acquire);
                return r == config::HaRole::Leader ? 1.0 : r == config::HaRole::Standby ? 2.0 : 0.0;
              });
  if (cfg_.ha.role == config::HaRole::None) return;
  m.add_gauge("peregrine_ha_epoch", "The leader's epoch; on a standby the newest it has accepted.", {}, [this] {
    if (standby() && standby_link_) return static_cast<double>(standby_link_->stats().epoch.load(std::memory_order_relaxed));
    return static_cast<double>(epoch_.load(std::memory_order_relaxed));
  });
  m.add_counter("peregrine_ha_failovers_total", "Times this process was promoted from standby to leader.", {},
                [this] { return static_cast<double>(failovers_.load(std::memory_order_relaxed)); });
  // Gauges: the link of the current role, the standby's until a promotion, then the leader's.
  // Counters: both links' sums (a counter never decreases).
  const auto current = [this](std::atomic<std::uint64_t> ha::LinkStats::*field) {
    return [this, field] {
      const ha::LinkStats* l = leader_stats_.load(std::memory_order_acquire);
      if (l == nullptr && standby_link_) l = &standby_link_->stats();
      return l == nullptr ? 0.0 : static_cast<double>((l->*field).load(std::memory_order_relaxed));
    };
  };
  const auto summed = [this](std::atomic<std::uint64_t> ha::LinkStats::*field) {
    return [this, field] {
      std::uint64_t n = 0;
      if (const ha::LinkStats* l = leader_stats_.load(std::memory_order_acquire)) n += (l->*field).load(std::memory_order_relaxed);
      if (standby_link_) n += (standby_link_->stats().*field).load(std::memory_order_relaxed);
      return static_cast<double>(n);
    };
  };
  const auto flagged = [this](std::atomic<bool> ha::LinkStats::*field, bool leader_only) {
    return [this, field, leader_only] {
      const ha::LinkStats* l = leader_stats_.load(std::memory_order_acquire);
      if (l == nullptr && !leader_only && standby_link_) l = &standby_link_->stats();
      return l != nullptr && (l->*field).load(std::memory_order_relaxed) ? 1.0 : 0.0;
    };
  };
  m.add_gauge("peregrine_ha_connected", "1 while the replication connection is up.", {}, flagged(&ha::LinkStats::connected, false));
  m.add_counter("peregrine_ha_records_total", "Journal records sent to the standby (leader) or appended from the leader (standby).",
                {}, summed(&ha::LinkStats::records));
  m.add_gauge("peregrine_ha_acked_seq", "Highest journal seq the standby has acknowledged.", {}, current(&ha::LinkStats::acked_seq));
  m.add_counter("peregrine_ha_connections_total", "Replication connections accepted (leader) or made (standby).", {},
                summed(&ha::LinkStats::connections));
  m.add_counter("peregrine_ha_refused_total",
                "Replication connections closed for a broken frame, a refused subscribe, an older epoch or a gap.", {},
                summed(&ha::LinkStats::refused));
  m.add_gauge("peregrine_ha_standby_in_sync", "Leader: 1 while the standby holds what was written (replies wait for it).", {},
              flagged(&ha::LinkStats::in_sync, true));
  m.add_gauge("peregrine_ha_deposed", "Leader: 1 once it has seen a newer epoch or lost the Lease: it acknowledges nothing more.",
              {}, [this, deposed = flagged(&ha::LinkStats::deposed, true)] {
                return !standby() && lease_deposed_.load(std::memory_order_acquire) ? 1.0 : deposed();
              });
  if (elector_) {
    m.add_gauge("peregrine_ha_lease_holding", "1 while this process holds the Lease (ha.failover lease) within its renew deadline.",
                {}, [this] { return elector_->is_leader() ? 1.0 : 0.0; });
    m.add_counter("peregrine_ha_lease_acquisitions_total", "Times this process acquired the Lease.", {},
                  [this] { return static_cast<double>(elector_->acquisitions()); });
    m.add_counter("peregrine_ha_lease_failed_calls_total", "Calls to the Kubernetes API server for the Lease that failed.", {},
                  [this] { return static_cast<double>(elector_->failed_calls()); });
    m.add_counter("peregrine_ha_lease_refused_orders_total",
                  "New orders and replaces refused because this leader did not hold the Lease (deposed, or past its renew "
                  "deadline).",
                  {}, [this] { return static_cast<double>(lease_refusals_cell_.load(std::memory_order_relaxed)); });
  }
  m.add_counter("peregrine_ha_standby_lost_total", "Leader: times the standby was declared lost (ha.standby_lost applied).", {},
                [this] {
                  const ha::LinkStats* l = leader_stats_.load(std::memory_order_acquire);
                  return l == nullptr ? 0.0 : static_cast<double>(l->standby_lost.load(std::memory_order_relaxed));
                });
  m.add_gauge("peregrine_ha_lag_records", "Leader: journal records written and not yet acknowledged by the standby.", {}, [this] {
    if (leader_stats_.load(std::memory_order_acquire) == nullptr) return 0.0;
    const std::uint64_t w = writer_->written_seq();
    const std::uint64_t a = writer_->replica_acked();
    return w > a ? static_cast<double>(w - a) : 0.0;
  });
}

}  // namespace peregrine::app
