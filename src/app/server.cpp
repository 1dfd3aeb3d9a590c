// The service topology, in stages (as exchange-core's ExchangeCore constructor lays it out):
//   1. reference data: the Engine, the user directory (owner ids), the wire lookup;
//   2. rings: gateway -> core (commands), ops -> core (admin commands), core -> egress (events);
//   3. matching: the CoreLoop on its own pinned thread;
//   4. ingress + egress: one Asio io thread (this one) runs the OUCH and ITCH listeners, the
//      sessions, the MoldUDP64 sender, and drains the event ring into Egress;
//   4b. with --ingress=dpdk: the DPDK port, its rx lcore (UDP ingress -> its own command ring,
//      notices -> the notice ring), and the UDP replier on this io thread (its own TX queue);
//   5. ops: the HTTP thread (/metrics, /healthz, /readyz, admin API);
//   6. lifecycle: ready once everything listens; SIGTERM/SIGINT shut it down (shut_down()).

#include "server_impl.hpp"

#include <sys/mman.h>

#include <cerrno>
#include <cstdlib>
#include <csignal>
#include <cstdio>
#include <cstring>

#include "peregrine/agent/thread_registry.hpp"
#include "peregrine/dropcopy/metrics.hpp"
#include "peregrine/ops/logging.hpp"
#include "peregrine/replay/day_start.hpp"
#include "peregrine/replay/service_state.hpp"
#include "startup_trace.hpp"
#include "topology.hpp"

namespace peregrine::app {

namespace {

extern "C" void on_signal(int sig) {
  g_signal.store(sig, std::memory_order_relaxed);
  if (const int fd = g_wake_fd.load(std::memory_order_relaxed); fd >= 0) {
    const std::uint64_t one = 1;
    (void)!::write(fd, &one, sizeof one);  // async-signal-safe
  }
}

std::vector<CommandRing*> present(std::initializer_list<CommandRing*> rings) {
  std::vector<CommandRing*> out;
  for (CommandRing* r : rings)
    if (r != nullptr) out.push_back(r);
  return out;
}

}  // namespace

Server::Server(const config::ServiceConfig& cfg, const config::EffectiveSettings& eff, const ServerOptions& opts,
               const replay::RecoveryPlan& plan, const ExchangeClock& clock)
    : cfg_(cfg),
      eff_(eff),
      opts_(opts),
      plan_(plan),
      clock_(clock),
      start_phase_(replay::start_phase(cfg, plan, clock.second_of_day_now())),
      // 1024 queued lines (~400 KB): the worker drains them continuously, and at start-up every
      // preconstructed slot is a page fault (8192 slots were 3.3 MB, ~800 faults).
      log_(ops::make_logger(ops::LoggerOptions{"peregrine", {}, "info", 1024})),
      // 1. reference data
      engine_cfg_(replay::engine_config_for_start(cfg.engine, start_phase_)),
      engine_(engine_cfg_),
      users_(cfg.gateway.retention_messages),
      lookup_(engine_cfg_),
      // 2. rings
      // Default-initialised, not value-initialised: the slots are raw bytes that a push
      // constructs, so zeroing 14 MB of them (and faulting every page in) at start-up is
      // wasted work. The pages stay untouched zero pages until used (or until cache_enabled
      // pre-touches them).
      gateway_ring_(std::make_unique_for_overwrite<CommandRing>()),
      admin_ring_(std::make_unique_for_overwrite<CommandRing>()),
      udp_ring_(cfg.ingress.kind == config::IngressKind::Dpdk ? std::make_unique_for_overwrite<CommandRing>() : nullptr),
      event_ring_(std::make_unique_for_overwrite<EventRing>()),
      counters_(std::make_unique<metrics::CoreCounters>()),
      // 4. the io thread (this one, run() below): pg-io, pinned to gateway_cpu if any
      io_runner_(*this, agent::AgentOptions{std::string(kIoThread), eff.gateway_cpu,
                                            {eff.io_idle, eff.park_after, std::chrono::nanoseconds{-1}}, false, false}),
      // 3. matching
      core_(engine_, present({gateway_ring_.get(), admin_ring_.get(), udp_ring_.get()}), *event_ring_, *counters_,
            CoreLoopOptions{eff.core_cpu, eff.core_idle, 256, eff.park_after}),
      // OUCH and ITCH timestamps: nanoseconds since the exchange's midnight (ExchangeClock).
      origin_ns_(clock.midnight_mono_ns()),
      ouch_acceptor_(io_),
      itch_acceptor_(io_),
      mold_socket_(io_) {
  replay::add_users(cfg, users_);
  role_.store(cfg.ha.role, std::memory_order_relaxed);  // a standby's changes once it is promoted (ha_wiring.cpp)
  limits_.session_name = Alpha<10>::from(cfg.gateway.session_name);
  limits_.heartbeat_interval_ns = std::uint64_t{cfg.gateway.heartbeat_interval_ms} * 1'000'000;
  limits_.timeout_ns = std::uint64_t{cfg.gateway.session_timeout_ms} * 1'000'000;
  conn_.max_outbound_bytes = cfg.gateway.max_outbound_queue_bytes;
  // Replies are paced against the write queue: below half of it deliveries go on; a client
  // whose socket takes nothing for a second while replies wait is cut off (SoupServerSession);
  // a queue that overflows is cut off at once (TcpSessionHost).
  limits_.deliver_high_water = cfg.gateway.max_outbound_queue_bytes / 2;
  conn_.tcp_nodelay = eff.tcp_nodelay;
  conn_.send_buffer = eff.socket_send_buffer;
  conn_.recv_buffer = eff.socket_recv_buffer;
  conn_.busy_poll_us = eff.busy_poll_us;
  feed_limits_.session_name = limits_.session_name;
  feed_limits_.heartbeat_interval_ns = limits_.heartbeat_interval_ns;
  feed_limits_.timeout_ns = limits_.timeout_ns;
  // A feed replay from early in the day goes out in slices on each flush and tick, so a
  // reading client is not mistaken for a slow one; one that does not read fills its queue.
  feed_limits_.max_messages_per_deliver = 16384;
  egress::EgressConfig ecfg = replay::egress_config(cfg);
  ecfg.depth_lag_limit = ecfg.itch_retention;  // the HTTP thread's timer keeps the depth books up (depth_tick)
  egress_ = std::make_unique<egress::Egress>(engine_cfg_, lookup_, users_, ecfg,
                                             [this](std::span<const std::uint8_t> d) { send_datagram(d); });
  mold_batch_ = std::make_unique<egress::DatagramBatch>(kMoldBatch, ecfg.mold.mtu);
  egress_->mold().set_batch_end([this] { send_mold_batch(); });  // one sendmmsg per pass
  statuses_ = std::make_unique<std::atomic<std::uint8_t>[]>(cfg.engine.instruments.size() + 1);
  for (std::size_t i = 0; i < cfg.engine.instruments.size(); ++i)
    statuses_[i + 1].store(static_cast<std::uint8_t>(engine_cfg_.instruments[i].initial_status));
  awaited_status_ = std::make_unique<std::atomic<int>[]>(cfg.engine.instruments.size() + 1);
  for (std::size_t i = 0; i <= cfg.engine.instruments.size(); ++i) awaited_status_[i].store(kNoneAwaited);
  core_.set_event_consumer(&io_runner_.parker());  // the core wakes this (io) thread when it pushes events
}

Server::~Server() {
  g_wake_fd.store(-1, std::memory_order_relaxed);
  stop_elector();  // its callbacks use the writer and the log
  core_.stop();  // the core pushes to the writer's ring
  stop_ha();  // the standby's link pushes to it too
  if (snapshotter_) snapshotter_->stop();
  if (dropcopy_) dropcopy_->stop();
  if (writer_) writer_->stop();
}

// The drop copy follows the journal: without one there is nothing to follow, and start-up says so.
void Server::make_dropcopy() {
  if (!cfg_.dropcopy.enabled) return;
  if (!writer_) throw std::runtime_error("dropcopy: needs journal.dir (the drop copy is published from the journal)");
  dropcopy::PublisherOptions o;
  o.thread_name = std::string(kDropCopyThread);
  o.day_dir = plan_.dir;
  o.fingerprint = plan_.fingerprint;
  o.day = plan_.dir.filename().string();
  o.utc_offset_seconds = cfg_.market.utc_offset_seconds;
  o.origin_mono_ns = origin_ns_;
  if (const char* pw = std::getenv("PEREGRINE_DROPCOPY_PASSWORD")) o.env_password = pw;
  dropcopy_ = std::make_unique<dropcopy::Publisher>(
      cfg_, std::move(o), [this] { return dropcopy_seq(); },
      [this](std::string_view level, const std::string& line) { journal_log(level, line); });
}

int Server::run() {
  mark_startup(StartupPhase::Engine);
  for (const std::string& note : eff_.notes) log_->info("tuning: {}", note);
  if (eff_.mlock_all && ::mlockall(MCL_CURRENT | MCL_FUTURE) != 0)
    log_->warn("cache_enabled: mlockall failed ({}); memory stays pageable", std::strerror(errno));

  if (udp_ring_) start_dpdk_port();  // 4b: the EAL before any of our threads
  if (standby()) {
    recover_standby();  // its own journal, then the leader's records (ha_wiring.cpp)
  } else {
    recover();  // the day so far, from the snapshot and the journal; then the journal continues
    make_dropcopy();  // the leader's (or a single server's): a standby publishes nothing (docs/dropcopy.md)
  }
  if (eff_.pretouch) {  // the engine's tables start as untouched zero pages
    engine_.pretouch();
    pretouch_rings();
  }
  mark_startup(StartupPhase::Journal);
  // 3. matching (not on a standby: its engine is the replica, fed by the leader's records)
  if (!standby()) core_.start();
  const std::string dpdk_where = start_dpdk_loop();
  mark_startup(StartupPhase::Core);
  // 4. ingress + egress listeners
  listen(ouch_acceptor_, cfg_.gateway.ouch_listen, "OUCH");
  listen(itch_acceptor_, cfg_.gateway.itch_listen, "ITCH");
  const udp::endpoint mold_to(asio::ip::make_address(cfg_.gateway.mold_destination.host),
                              cfg_.gateway.mold_destination.port);
  mold_socket_.open(mold_to.protocol());
  mold_socket_.bind(udp::endpoint(mold_to.protocol(), 0));  // re-requests come back to this port
  mold_destination_ = mold_to;
  receive_requests();
  accept_ouch();
  accept_itch();
  egress_->flush(mono_ns());
  mark_startup(StartupPhase::Listeners);
  // The schedule resumes from the phase the engine is in (after a recovery, the phase of
  // the moment of the crash): the first tick moves it on if the clock says so.
  if (cfg_.market.scheduled && !cfg_.engine.instruments.empty() && !standby()) scheduled_phase_ = engine_.session(InstrumentId{1});
  // 5. ops
  ops::OpsServerConfig ocfg;
  ocfg.address = cfg_.gateway.http_listen.host;
  ocfg.port = cfg_.gateway.http_listen.port;
  ocfg.admin_token_file = cfg_.admin.token_file;
  ocfg.spawn = [](std::function<void()> body) { return agent::launch_named(std::string(kHttpThread), -1, std::move(body)); };
  ocfg.tick = [this] { depth_tick(); };
  ops_ = std::make_unique<ops::OpsServer>(ocfg, *this, log_);
  register_metrics();
  if (dropcopy_) {
    dropcopy_collector_ = dropcopy::make_collector(*dropcopy_);
    ops_->add_collectable(dropcopy_collector_);
  }
  ops_->start();
  mark_startup(StartupPhase::Ops);
  // 6. lifecycle
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  check_journal(mono_ns());  // disk space before the first order, not a tick later
  // Every start-up line is in the log before the ready line: a kill -9 after ready loses none.
  if (!ops::flush_logs(std::chrono::seconds{2})) log_->warn("start-up log lines were still being written at ready");
  ops_->set_ready(journal_healthy());
  mark_startup(StartupPhase::Ready);
  if (opts_.startup_trace) std::printf("peregrine: startup: %s\n", startup_trace_line().c_str());
  // The ready line says how the day was taken up (recover()), so that whoever reads it (an
  // operator, a test) knows without the log; and the node's part in replication.
  recovery_summary_ += ha_summary();
  std::printf("peregrine: ready: OUCH %s:%u, ITCH %s:%u, MoldUDP64 to %s, HTTP %s:%u%s; %s\n",
              cfg_.gateway.ouch_listen.host.c_str(), ouch_acceptor_.local_endpoint().port(),
              cfg_.gateway.itch_listen.host.c_str(), itch_acceptor_.local_endpoint().port(),
              cfg_.gateway.mold_destination.to_string().c_str(), cfg_.gateway.http_listen.host.c_str(),
              ops_->port(), dpdk_where.c_str(), recovery_summary_.c_str());
  std::fflush(stdout);
  log_->info("ready; start-up: {}", startup_trace_line());
  if (snapshotter_) snapshotter_->start();  // its replica is built beside the first orders (recover())
  if (dropcopy_) dropcopy_->start();  // its replica replays the day from the first record, beside the first orders

  io_loop();  // until a signal, or a standby that gave the Lease back (exit_status_)
  if (exit_status_ == 0) log_->info("signal {}: draining", g_signal.load());
  const int status = shut_down();
  return exit_status_ != 0 ? exit_status_ : status;
}

// cache_enabled: fault in every slot of the rings before the threads start (a push and a
// pop per slot), so the first burst of orders does not take page faults.
void Server::pretouch_rings() {
  for (CommandRing* r : {gateway_ring_.get(), admin_ring_.get()}) {
    for (std::size_t i = 0; i < CommandRing::capacity(); ++i) (void)r->try_push(Command{});
    (void)r->drain([](Command&) noexcept {}, CommandRing::capacity());
  }
  for (std::size_t i = 0; i < EventRing::capacity(); ++i) (void)event_ring_->try_push(Event{});
  (void)event_ring_->drain([](Event&) noexcept {}, EventRing::capacity());
}

// SIGTERM: stop taking orders, let the core finish what it has, hand out every event, end the
// sessions with End of Session, flush, stop.
int Server::shut_down() {
  const std::uint64_t deadline = mono_ns() + 800'000'000;
  stopping_.store(true, std::memory_order_release);
  ops_->set_ready(false);
  boost::system::error_code ec;
  ouch_acceptor_.close(ec);
  itch_acceptor_.close(ec);
  while (!pending_control_.empty() && mono_ns() < deadline) (void)pump(mono_ns());
  stop_dpdk_loop();  // the UDP producer stops before the core
  core_.stop();  // processes everything already in the rings
  const Timestamp end_ts{mono_ns() - origin_ns_};
  if (writer_ && standby()) {
    stop_ha();  // nothing more from the leader; the standby journals no end of day of its own
    writer_->stop();
  } else if (writer_) {
    // The core has stopped: this thread may append. The end of day is journaled so a restart
    // today rebuilds the feed with it; then everything is synced and every event released.
    if (snapshotter_) snapshotter_->stop();
    if (dropcopy_) dropcopy_->stop();  // it resumes after its checkpoint at the next start
    const journal::EndOfDayRecord eod{end_ts};
    (void)writer_->append_marker(journal::RecordKind::EndOfDay, {reinterpret_cast<const std::uint8_t*>(&eod), sizeof eod});
    writer_->stop();
    settle_replication();  // with a standby: its acknowledgement of the last records
    if (!lease_held()) {
      log_->error("ha: the shut-down releases no more replies: this node does not hold the Lease");
    } else if (writer_->durable_seq() >= core_.last_seq()) {
      released_events_ = core_.events_pushed();
    } else {
      log_->error("journal: the shut-down could not make seq {}..{} durable ({}): their replies are not sent",
                  writer_->durable_seq() + 1, core_.last_seq(), writer_->last_error());
    }
  }
  while (pump(mono_ns()) > 0) {
  }
  egress_->end_of_day(end_ts, mono_ns());  // feeds get the rest and 'Z'
  for (auto& h : ouch_hosts_)
    if (h->session() != nullptr) h->session()->end_session();
  while (mono_ns() < deadline) {
    io_.poll();
    std::erase_if(ouch_hosts_, [](const std::shared_ptr<OuchHost>& h) { return h->closed(); });
    std::erase_if(feed_hosts_, [](const std::shared_ptr<FeedHost>& h) { return h->closed(); });
    if (ouch_hosts_.empty() && feed_hosts_.empty()) break;
  }
  for (auto& h : ouch_hosts_) h->abort(sessions::CloseReason::EndOfSession);
  for (auto& h : feed_hosts_) h->abort(sessions::CloseReason::EndOfSession);
  io_.poll();
  // Every reply and every end of session this node will send is out (MoldUDP64's End of Session
  // before any datagram of the next leader): the Lease goes to the standby now, without waiting
  // for its expiry (ha.failover lease; the elector releases it on stop).
  stop_elector();
  ops_->stop();
  close_dpdk_port();  // a pcap port writes its file out here
  log_->info("stopped");
  log_->flush();
  return 0;
}

int run_server(const config::ServiceConfig& cfg, const config::EffectiveSettings& eff, const ServerOptions& opts) {
  // One exchange clock for the process: the trading day's date (the journal's directory), the
  // timestamps' origin and the schedule's time of day, all from market.utc_offset.
  const ExchangeClock clock(cfg.market.utc_offset_seconds);
  const replay::RecoveryPlan plan = replay::plan_recovery(cfg, clock.date_string());
  Server server(cfg, eff, opts, plan, clock);
  return server.run();
}

}  // namespace peregrine::app
