// Replication in the server (issue #15; docs/ha.md): the leader streams its journal to a standby
// (ha::LeaderLink) and releases replies by the `replicated` policies; a standby recovers its own
// journal, then follows the leader (ha::StandbyLink), appending every record to its journal and
// applying it to its replica (this server's engine and egress, on the io thread, with the applier
// recovery uses), and refuses logins. The role is static (ha.role) until the Lease elector is
// wired: leadership changes, failover and re-login are the next step (docs/ha.md).

#include "server_impl.hpp"

#include <cstring>
#include <thread>

#include "peregrine/replay/record_applier.hpp"

namespace peregrine::app {

void Server::publish_statuses() {
  for (std::size_t i = 0; i < cfg_.engine.instruments.size(); ++i)
    statuses_[i + 1].store(static_cast<std::uint8_t>(engine_.status(InstrumentId{static_cast<std::uint16_t>(i + 1)})));
}

// The leader: the writer wakes the link when it has written records; the link acknowledges into
// the writer. Until the standby has caught up the leader runs by ha.standby_lost (a standby that
// never connected is as good as lost): fsync releases on its own disk, strict refuses orders.
void Server::start_ha_leader() {
  if (cfg_.ha.role != config::HaRole::Leader) return;
  ha::LeaderLinkOptions lo;
  lo.host = cfg_.ha.listen.host;
  lo.port = cfg_.ha.listen.port;
  lo.epoch = cfg_.ha.epoch;
  lo.dir = plan_.dir;
  lo.fingerprint = plan_.fingerprint;
  lo.heartbeat = std::chrono::milliseconds{cfg_.ha.heartbeat_ms};
  lo.standby_timeout = std::chrono::milliseconds{cfg_.ha.standby_timeout_ms};
  leader_link_ = std::make_unique<ha::LeaderLink>(lo, *writer_, [this](std::string_view level, const std::string& line) { journal_log(level, line); },
                                                  [this](bool in_sync, const std::string& why) { on_standby_sync(in_sync, why); });
  writer_->set_written_listener(&leader_link_->parker());
  on_standby_sync(false, "no standby has connected yet");
  leader_link_->start();  // binds: throws naming ha.listen when it cannot
}

// The link's thread (and start-up): the acknowledgement rule's fallback (docs/ha.md).
void Server::on_standby_sync(bool in_sync, const std::string& why) {
  const bool strict = cfg_.ha.standby_lost == config::StandbyLost::Strict;
  if (leader_link_ && leader_link_->stats().deposed.load(std::memory_order_relaxed)) {
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

  journal::WriterOptions wo;
  wo.dir = plan_.dir;
  wo.durability = journal::Durability::Replicated;  // it acknowledges what it has written; fsync follows
  wo.sync_window = std::chrono::milliseconds{cfg_.ha.fsync_window_ms};
  wo.segment_bytes = cfg_.journal.segment_bytes;
  wo.fingerprint = plan_.fingerprint;
  wo.min_free_bytes = cfg_.journal.min_free_bytes / 4;
  wo.wait = {eff_.journal_idle, eff_.park_after, std::chrono::nanoseconds{-1}};
  writer_ = std::make_unique<journal::JournalWriter>(wo);
  boundaries_ = std::make_unique_for_overwrite<BoundaryRing>();  // stays empty: no core, no events to release
  replica_ring_ = std::make_unique_for_overwrite<ReplicaRing>();
  ha::StandbyLinkOptions so;
  so.host = cfg_.ha.peer.host;
  so.port = cfg_.ha.peer.port;
  so.fingerprint = plan_.fingerprint;
  so.leader_timeout = std::chrono::milliseconds{cfg_.ha.leader_timeout_ms};
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
  standby_link_ = std::make_unique<ha::StandbyLink>(so, *writer_, last, 0, deliver, [this](std::string_view level, const std::string& line) { journal_log(level, line); });
  writer_->set_durable_listener(&standby_link_->parker());  // its acks follow the journal
  writer_->open(last);
  writer_->start();
  recovery_seconds_ = static_cast<double>(mono_ns() - t0) * 1e-9;
  recovery_summary_ = last == 0 ? std::string("journal: standby, empty")
                                : "journal: standby, recovered " + std::to_string(end.records) + " records";
  log_->info("{} in {:.3f} s; following the leader at {} after seq {}", recovery_summary_, recovery_seconds_,
             cfg_.ha.peer.to_string(), last);
  standby_link_->start();
  // Snapshots of its own journal, as a leader takes (started after ready, run()): a standby's
  // restart loads the newest one, and retention applies to its journal too.
  snapshotter_ = std::make_unique<Snapshotter>(cfg_, engine_cfg_, plan_, *writer_,
                                               [this](std::string_view level, const std::string& line) { journal_log(level, line); });
}

int Server::pump_replica() {
  if (!replica_ring_) return 0;
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

bool Server::replica_has_work() const { return replica_ring_ && replica_ring_->front() != nullptr; }

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
           ", epoch " + std::to_string(cfg_.ha.epoch) + ", durability " +
           std::string(journal::to_string(writer_->options().durability));
  }
  if (standby_link_) return "; ha: standby of " + cfg_.ha.peer.to_string() + ", logins refused";
  return {};
}

void Server::register_ha_metrics() {
  ops::CallbackMetrics& m = *io_collector_;
  const double role = cfg_.ha.role == config::HaRole::Leader ? 1.0 : cfg_.ha.role == config::HaRole::Standby ? 2.0 : 0.0;
  m.add_gauge("peregrine_ha_role", "Replication role: 0 none, 1 leader, 2 standby (ha.role).", {}, [role] { return role; });
  const ha::LinkStats* st = leader_link_ ? &leader_link_->stats() : standby_link_ ? &standby_link_->stats() : nullptr;
  if (st == nullptr) return;
  const auto cell = [](const auto& c) { return [&c] { return static_cast<double>(c.load(std::memory_order_relaxed)); }; };
  m.add_gauge("peregrine_ha_connected", "1 while the replication connection is up.", {}, cell(st->connected));
  m.add_counter("peregrine_ha_records_total", "Journal records sent to the standby (leader) or appended from the leader (standby).",
                {}, cell(st->records));
  m.add_gauge("peregrine_ha_acked_seq", "Highest journal seq the standby has acknowledged.", {}, cell(st->acked_seq));
  m.add_counter("peregrine_ha_connections_total", "Replication connections accepted (leader) or made (standby).", {},
                cell(st->connections));
  m.add_counter("peregrine_ha_refused_total",
                "Replication connections closed for a broken frame, a refused subscribe, an older epoch or a gap.", {},
                cell(st->refused));
  if (leader_link_) {
    m.add_gauge("peregrine_ha_epoch", "The leader's epoch (ha.epoch), carried by every replicated record.", {},
                [this] { return static_cast<double>(cfg_.ha.epoch); });
    m.add_gauge("peregrine_ha_standby_in_sync", "1 while the standby holds what was written (replies wait for it).", {},
                cell(st->in_sync));
    m.add_gauge("peregrine_ha_deposed", "1 once this leader has seen a newer epoch: it acknowledges nothing more.", {},
                cell(st->deposed));
    m.add_counter("peregrine_ha_standby_lost_total", "Times the standby was declared lost (ha.standby_lost applied).", {},
                  cell(st->standby_lost));
    m.add_gauge("peregrine_ha_lag_records", "Journal records written on the leader and not yet acknowledged by the standby.",
                {}, [this] {
                  const std::uint64_t w = writer_->written_seq();
                  const std::uint64_t a = writer_->replica_acked();
                  return w > a ? static_cast<double>(w - a) : 0.0;
                });
  } else {
    m.add_gauge("peregrine_ha_epoch", "The newest leader epoch this standby has accepted.", {}, cell(st->epoch));
  }
}

}  // namespace peregrine::app
