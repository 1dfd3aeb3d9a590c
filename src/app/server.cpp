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

#include "server.hpp"

#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <boost/asio.hpp>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <span>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "peregrine/agent/parker.hpp"
#include "peregrine/agent/thread_registry.hpp"
#include "peregrine/app/core_loop.hpp"
#include "peregrine/egress/datagram_batch.hpp"
#include "peregrine/egress/egress.hpp"
#include "peregrine/egress/feed_session.hpp"
#include "peregrine/ingress/udp_ingress.hpp"
#include "peregrine/ingress/udp_replier.hpp"
#include "peregrine/ops/http_server.hpp"
#include "peregrine/ops/logging.hpp"
#include "peregrine/sessions/soup_session.hpp"
#include <spdlog/spdlog.h>
#include "peregrine/ops/metrics.hpp"
#include "peregrine/proto/ouch_translate.hpp"
#include "peregrine/replay/day_start.hpp"
#include "peregrine/replay/record_applier.hpp"
#include "peregrine/replay/recovery_plan.hpp"
#include "peregrine/replay/service_state.hpp"
#include "exchange_clock.hpp"
#include "snapshotter.hpp"
#include "tcp_session_host.hpp"
#ifdef PEREGRINE_HAVE_DPDK
#include "ingress/dpdk/dpdk_ingress.hpp"
#endif

#include <prometheus/collectable.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

namespace peregrine::app {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;

namespace {

std::atomic<int> g_signal{0};
std::atomic<int> g_wake_fd{-1};  // the io thread's eventfd: a signal ends its wait in epoll

extern "C" void on_signal(int sig) {
  g_signal.store(sig, std::memory_order_relaxed);
  if (const int fd = g_wake_fd.load(std::memory_order_relaxed); fd >= 0) {
    const std::uint64_t one = 1;
    (void)!::write(fd, &one, sizeof one);  // async-signal-safe
  }
}

/// peregrine_journal_sync_seconds: the writer's sync-duration buckets (WriterStats), read at
/// scrape time on the metrics thread with relaxed loads.
class SyncHistogram final : public prometheus::Collectable {
 public:
  explicit SyncHistogram(const journal::WriterStats& stats) : stats_(stats) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    prometheus::MetricFamily f;
    f.name = "peregrine_journal_sync_seconds";
    f.help = "Duration of each fsync or fdatasync of a journal segment.";
    f.type = prometheus::MetricType::Histogram;
    prometheus::ClientMetric m;
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < stats_.sync_buckets.size(); ++i) {
      cumulative += stats_.sync_buckets[i].load(std::memory_order_relaxed);
      const double bound = i < journal::kSyncBucketBoundsNs.size()
                               ? static_cast<double>(journal::kSyncBucketBoundsNs[i]) * 1e-9
                               : std::numeric_limits<double>::infinity();
      m.histogram.bucket.push_back({cumulative, bound});
    }
    m.histogram.sample_count = cumulative;
    m.histogram.sample_sum = static_cast<double>(stats_.sync_ns_total.load(std::memory_order_relaxed)) * 1e-9;
    f.metric.push_back(std::move(m));
    return {std::move(f)};
  }

 private:
  const journal::WriterStats& stats_;
};

std::uint64_t mono_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

tcp::endpoint endpoint_of(asio::io_context& io, const config::ListenAddress& a) {
  tcp::resolver resolver(io);
  boost::system::error_code ec;
  const auto results = resolver.resolve(a.host, std::to_string(a.port), ec);
  if (ec || results.empty()) throw std::runtime_error("cannot resolve " + a.to_string() + ": " + ec.message());
  return results.begin()->endpoint();
}

/// UDP ingress -> egress: gap notifications, re-requests (ingress::UdpNotice).
using NoticeRing = ring::SpscRing<ingress::UdpNotice, 4096>;

/// The UDP ingress's outputs on the lcore: its command ring into the core, the notice ring to
/// the io thread. Never blocks.
class RingIngressHost final : public ingress::UdpIngressHost {
 public:
  RingIngressHost(CommandRing& commands, NoticeRing& notices, const std::atomic<bool>& refusing_orders,
                  agent::Parker& core, agent::Parker& io)
      : commands_(commands), notices_(notices), refusing_orders_(refusing_orders), core_(core), io_(io) {}
  bool submit(const Command& cmd) noexcept override {
    // Low journal disk space: new orders and replaces are not taken (as with a full ring, the
    // client is asked to send them again later); cancels are.
    if ((cmd.type == CommandType::NewOrder || cmd.type == CommandType::Replace) &&
        refusing_orders_.load(std::memory_order_relaxed))
      return false;
    if (commands_.try_push(cmd) != PushResult::Ok) return false;
    core_.wake();
    return true;
  }
  bool notify(const ingress::UdpNotice& n) noexcept override {
    if (notices_.try_push(n) != PushResult::Ok) return false;
    io_.wake();
    return true;
  }

 private:
  CommandRing& commands_;
  NoticeRing& notices_;
  const std::atomic<bool>& refusing_orders_;
  agent::Parker& core_;  // woken after a command
  agent::Parker& io_;    // woken after a notice
};

std::vector<CommandRing*> present(std::initializer_list<CommandRing*> rings) {
  std::vector<CommandRing*> out;
  for (CommandRing* r : rings)
    if (r != nullptr) out.push_back(r);
  return out;
}

journal::Durability durability_of(config::JournalDurability d) {
  switch (d) {
    case config::JournalDurability::Fsync: return journal::Durability::Fsync;
    case config::JournalDurability::Fdatasync: return journal::Durability::Fdatasync;
    case config::JournalDurability::None: return journal::Durability::None;
  }
  return journal::Durability::Fsync;
}

using OuchHost = TcpSessionHost<sessions::SoupServerSession>;
using FeedHost = TcpSessionHost<egress::FeedSession>;

class Server final : public ConnectionOwner, public ops::AdminBackend {
 public:
  Server(const config::ServiceConfig& cfg, const config::EffectiveSettings& eff, const ServerOptions& opts,
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
        // 3. matching
        core_(engine_, present({gateway_ring_.get(), admin_ring_.get(), udp_ring_.get()}), *event_ring_, *counters_,
              CoreLoopOptions{eff.core_cpu, eff.core_idle, 256, eff.park_after}),
        // OUCH and ITCH timestamps: nanoseconds since the exchange's midnight (ExchangeClock).
        origin_ns_(clock.midnight_mono_ns()),
        ouch_acceptor_(io_),
        itch_acceptor_(io_),
        mold_socket_(io_) {
    replay::add_users(cfg, users_);
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
    const egress::EgressConfig ecfg = replay::egress_config(cfg);
    egress_ = std::make_unique<egress::Egress>(engine_cfg_, lookup_, users_, ecfg,
                                               [this](std::span<const std::uint8_t> d) { send_datagram(d); });
    mold_batch_ = std::make_unique<egress::DatagramBatch>(kMoldBatch, ecfg.mold.mtu);
    egress_->mold().set_batch_end([this] { send_mold_batch(); });  // one sendmmsg per pass
    statuses_ = std::make_unique<std::atomic<std::uint8_t>[]>(cfg.engine.instruments.size() + 1);
    for (std::size_t i = 0; i < cfg.engine.instruments.size(); ++i)
      statuses_[i + 1].store(static_cast<std::uint8_t>(engine_cfg_.instruments[i].initial_status));
    awaited_status_ = std::make_unique<std::atomic<int>[]>(cfg.engine.instruments.size() + 1);
    for (std::size_t i = 0; i <= cfg.engine.instruments.size(); ++i) awaited_status_[i].store(kNoneAwaited);
    core_.set_event_consumer(&io_parker_);  // the core wakes this (io) thread when it pushes events
  }

  ~Server() override {
    g_wake_fd.store(-1, std::memory_order_relaxed);
    core_.stop();  // the core pushes to the writer's ring
    if (snapshotter_) snapshotter_->stop();
    if (writer_) writer_->stop();
  }

  int run() {
    // The io thread is the main thread: it keeps the process's name (ps, pidof, systemd).
    const agent::ThreadCpuRegistration io_registration("pg-io", false);
    for (const std::string& note : eff_.notes) log_->info("tuning: {}", note);
    if (eff_.mlock_all && ::mlockall(MCL_CURRENT | MCL_FUTURE) != 0)
      log_->warn("cache_enabled: mlockall failed ({}); memory stays pageable", std::strerror(errno));

    if (udp_ring_) start_dpdk_port();  // 4b: the EAL before any of our threads
    recover();  // the day so far, from the snapshot and the journal; then the journal continues
    if (eff_.pretouch) {  // the engine's tables start as untouched zero pages
      engine_.pretouch();
      pretouch_rings();
    }
    // 3. matching
    core_.start();
    const std::string dpdk_where = start_dpdk_loop();
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
    // The schedule resumes from the phase the engine is in (after a recovery, the phase of
    // the moment of the crash): the first tick moves it on if the clock says so.
    if (cfg_.market.scheduled && !cfg_.engine.instruments.empty()) scheduled_phase_ = engine_.session(InstrumentId{1});
    // 5. ops
    ops::OpsServerConfig ocfg;
    ocfg.address = cfg_.gateway.http_listen.host;
    ocfg.port = cfg_.gateway.http_listen.port;
    ocfg.admin_token_file = cfg_.admin.token_file;
    ops_ = std::make_unique<ops::OpsServer>(ocfg, *this, log_);
    register_metrics();
    ops_->start();
    // 6. lifecycle
    std::signal(SIGTERM, on_signal);
    std::signal(SIGINT, on_signal);
    check_journal(mono_ns());  // disk space before the first order, not a tick later
    // Every start-up line is in the log before the ready line: a kill -9 after ready loses none.
    if (!ops::flush_logs(std::chrono::seconds{2})) log_->warn("start-up log lines were still being written at ready");
    ops_->set_ready(journal_healthy());
    // The ready line says how the day was taken up (recover()), so that whoever reads it (an
    // operator, a test) knows without the log.
    std::printf("peregrine: ready: OUCH %s:%u, ITCH %s:%u, MoldUDP64 to %s, HTTP %s:%u%s; %s\n",
                cfg_.gateway.ouch_listen.host.c_str(), ouch_acceptor_.local_endpoint().port(),
                cfg_.gateway.itch_listen.host.c_str(), itch_acceptor_.local_endpoint().port(),
                cfg_.gateway.mold_destination.to_string().c_str(), cfg_.gateway.http_listen.host.c_str(),
                ops_->port(), dpdk_where.c_str(), recovery_summary_.c_str());
    std::fflush(stdout);
    log_->info("ready");

    if (const std::string err = pin_current_thread(eff_.gateway_cpu); !err.empty()) log_->warn("gateway thread: {}", err);
    io_loop();
    log_->info("signal {}: draining", g_signal.load());
    return shut_down();
  }

  // The io thread's loop: socket completions (io_.poll()), events from the core into egress
  // (pump), the 100 ms tick; when a pass found nothing, it spins for eff_.park_after, then
  // waits in epoll (Asio's run_one_for, up to the next tick) with its eventfd registered: the
  // core wakes it when it pushes events, the journal writer when the durable seq advances (which
  // releases events), the DPDK lcore when it queues a notice, a signal to stop. The wait follows
  // agent::Parker's protocol: announce, re-check (io_has_work), then wait; no wake-up is lost.
  // With io_idle busy-spin (low_latency_mode on its own CPU) it never waits; yield and backoff
  // behave as their names say.
  void io_loop() {
    io_wake_.assign(::dup(io_parker_.fd()));
    arm_io_wake();
    g_wake_fd.store(io_parker_.fd(), std::memory_order_relaxed);
    const bool parks = eff_.io_idle == agent::IdleStrategyKind::SpinThenPark || eff_.io_idle == agent::IdleStrategyKind::Park;
    AnyIdleStrategy idle = make_idle_strategy(eff_.io_idle);
    const std::uint64_t spin_ns = eff_.io_idle == agent::IdleStrategyKind::Park ? 0 : static_cast<std::uint64_t>(eff_.park_after.count());
    std::uint64_t next_tick = 0;
    std::uint64_t spin_until = 0;  // 0: not spinning
    while (g_signal.load(std::memory_order_relaxed) == 0) {
      int work = static_cast<int>(io_.poll());
      work += pump(mono_ns());
      const std::uint64_t now = mono_ns();
      if (now >= next_tick) {
        tick(now);
        next_tick = now + 100'000'000;  // 100 ms: heartbeats are per second
      }
      if (!parks) {
        std::visit([work](auto& s) { s.idle(work); }, idle);
        continue;
      }
      if (work > 0) {
        spin_until = 0;
        continue;
      }
      if (spin_until == 0) spin_until = now + spin_ns;
      if (now < spin_until) {
        agent::cpu_relax();
        continue;
      }
      io_parker_.prepare_park();
      if (io_has_work()) {
        io_parker_.cancel_park();
        continue;
      }
      const std::uint64_t until_tick = next_tick > now ? next_tick - now : 0;
      io_.run_one_for(std::chrono::nanoseconds(until_tick));
      io_parker_.finish_park();
      spin_until = 0;
    }
  }

  // The io thread's re-check before it waits: anything a producer wakes it for.
  bool io_has_work() {
    if (g_signal.load(std::memory_order_relaxed) != 0 || !pending_control_.empty()) return true;
    if (event_ring_->front() != nullptr && releasable_events(1) > 0) return true;
    return notice_ring_ && notice_ring_->front() != nullptr;
  }

  // The eventfd's wait, always armed: it reads the count so the next write is a new edge.
  void arm_io_wake() {
    io_wake_.async_wait(asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
      if (ec) return;  // closed at the end
      io_parker_.consume();
      arm_io_wake();
    });
  }

  // ---- ConnectionOwner (io thread) ----
  bool submit(const Command& cmd) override {
    if (!pending_control_.empty()) return false;  // control commands first, in order
    if (refusing_orders_.load(std::memory_order_relaxed) &&
        (cmd.type == CommandType::NewOrder || cmd.type == CommandType::Replace)) {
      ++journal_refusals_;  // the session refuses it (OUCH Rejected 'O'); cancels still go through
      return false;
    }
    if (gateway_ring_->try_push(cmd) != PushResult::Ok) return false;
    core_wake_pending_ = true;  // pump() wakes the core once per pass
    return true;
  }
  void submit_control(const Command& cmd) override {
    if (pending_control_.empty() && gateway_ring_->try_push(cmd) == PushResult::Ok) {
      core_wake_pending_ = true;
      return;
    }
    pending_control_.push_back(cmd);
  }
  void on_closed(const std::string& peer, sessions::CloseReason why) override {
    ++closed_connections_;
    log_->info("session {} closed: {}", peer, sessions::to_string(why));
  }
  std::uint64_t now_ns() const override { return mono_ns(); }

  // ---- AdminBackend (ops thread) ----
  ops::AdminResult depth(const Symbol& symbol, std::size_t levels, ops::DepthSnapshot& out) override {
    const InstrumentId id = engine_.find_instrument(symbol);
    if (id.value() == 0) return {ops::AdminStatus::UnknownSymbol, "unknown symbol"};
    out.status = static_cast<TradingStatus>(statuses_[id.value()].load(std::memory_order_relaxed));
    out.bids = egress_->depth(id, Side::Buy, levels);
    out.asks = egress_->depth(id, Side::Sell, levels);
    out.indicative = egress_->indicative(id);
    return {};
  }
  ops::AdminResult halt(const Symbol& symbol) override { return status(symbol, TradingStatus::Halted); }
  // Resume: through a resumption call when configured (the core decides: only when the market is
  // in continuous trading; otherwise the instrument joins the market's phase). The call ends
  // resume_call_seconds later with a second Resume, which the io thread's tick sends.
  // The core refuses a Resume of an instrument that is not halted, suspended or in a resumption
  // call (InvalidTransition); that is checked here, on the status last published, so that the
  // operator gets the verdict instead of a 202 for nothing. While a halt or phase asked for here
  // is still on its way through the core, the published status is stale: the command is queued
  // then, and should the core still refuse it, the io thread logs the refusal (observe_status).
  ops::AdminResult resume(const Symbol& symbol) override {
    const InstrumentId id = engine_.find_instrument(symbol);
    if (id.value() == 0) return {ops::AdminStatus::UnknownSymbol, "unknown symbol"};
    const auto seen = static_cast<TradingStatus>(statuses_[id.value()].load(std::memory_order_relaxed));
    if (!resumable(seen) && awaited_status_[id.value()].load(std::memory_order_acquire) == kNoneAwaited) {
      return {ops::AdminStatus::InvalidTransition,
              fmt::format("{} is {}: only a halted, suspended or resume_call instrument can be resumed",
                          symbol.view(), to_string(seen))};
    }
    const bool via_call = cfg_.market.resume_via_call;
    ops::AdminResult r = admin(make_resume(admin_ts(), id, via_call));
    if (via_call && r.status == ops::AdminStatus::Accepted) {
      const std::lock_guard<std::mutex> lock(admin_mutex_);
      resume_call_ends_.push_back({id, mono_ns() + std::uint64_t{cfg_.market.resume_call_seconds} * 1'000'000'000});
    }
    return r;
  }
  ops::AdminResult set_phase(const Symbol& symbol, TradingStatus phase) override { return status(symbol, phase); }
  ops::AdminResult kill(const FirmName& firm, bool cancel_open) override {
    const auto f = engine_.find_firm(firm);  // config-only lookup: safe from this thread
    if (!f) return {ops::AdminStatus::UnknownFirm, "unknown firm"};
    return admin(make_kill_switch(admin_ts(), *f, true, cancel_open));
  }
  ops::AdminResult release(const FirmName& firm) override {
    const auto f = engine_.find_firm(firm);
    if (!f) return {ops::AdminStatus::UnknownFirm, "unknown firm"};
    return admin(make_kill_switch(admin_ts(), *f, false, false));
  }
  ops::AdminResult mass_cancel(const FirmName& firm, const std::optional<Symbol>& symbol) override {
    const auto f = engine_.find_firm(firm);
    if (!f) return {ops::AdminStatus::UnknownFirm, "unknown firm"};
    InstrumentId id{0};
    if (symbol) {
      id = engine_.find_instrument(*symbol);
      if (id.value() == 0) return {ops::AdminStatus::UnknownSymbol, "unknown symbol"};
    }
    return admin(make_mass_cancel(admin_ts(), *f, id, OwnerId{0}, CancelReason::Supervisory));
  }
  ops::AdminResult snapshot() override {
    if (!snapshotter_) return {ops::AdminStatus::Unavailable, "no journal: snapshots need journal.dir"};
    snapshotter_->request();
    return {ops::AdminStatus::Accepted, "the snapshot thread writes it once it has caught up with the journal"};
  }

 private:
  Timestamp admin_ts() const { return Timestamp{mono_ns() - origin_ns_}; }
  static bool resumable(TradingStatus s) noexcept {
    return s == TradingStatus::Halted || s == TradingStatus::Suspended || s == TradingStatus::ResumeCall;
  }
  ops::AdminResult status(const Symbol& symbol, TradingStatus st) {
    const InstrumentId id = engine_.find_instrument(symbol);
    if (id.value() == 0) return {ops::AdminStatus::UnknownSymbol, "unknown symbol"};
    // A Set always applies and always publishes its status: until that event is seen, the status
    // resume() reads is stale. Marked before the push, so the event cannot overtake the mark.
    std::atomic<int>& awaited = awaited_status_[id.value()];
    const int before = awaited.exchange(static_cast<int>(st), std::memory_order_acq_rel);
    ops::AdminResult r = admin(make_trading_status(admin_ts(), id, st));
    if (r.status != ops::AdminStatus::Accepted) {
      int mine = static_cast<int>(st);
      (void)awaited.compare_exchange_strong(mine, before, std::memory_order_acq_rel);
    }
    return r;
  }
  // Called from the io thread's tick (and once before ready): sends the schedule's phase when it
  // changes, and ends resumption calls that are due. The core reads no clock; these commands go
  // through the admin ring like any other, so a replay of the command stream is exact.
  void run_schedule(std::uint64_t now) {
    if (cfg_.market.scheduled) {
      const TradingStatus phase = config::phase_at(cfg_.market.schedule, clock_.second_of_day_now());
      if (!scheduled_phase_ || *scheduled_phase_ != phase) {
        if (admin(make_schedule_phase(admin_ts(), InstrumentId{0}, phase)).status == ops::AdminStatus::Accepted) {
          log_->info("schedule: market phase {}", to_string(phase));
          scheduled_phase_ = phase;
        }
      }
    }
    std::vector<InstrumentId> due;
    {
      const std::lock_guard<std::mutex> lock(admin_mutex_);
      std::erase_if(resume_call_ends_, [&](const ResumeCallEnd& r) {
        if (r.at > now) return false;
        due.push_back(r.instrument);
        return true;
      });
    }
    for (const InstrumentId id : due) (void)admin(make_resume(admin_ts(), id, false));
  }

  ops::AdminResult admin(const Command& cmd) {
    std::lock_guard<std::mutex> lock(admin_mutex_);  // one producer at a time on the admin ring
    if (stopping_.load(std::memory_order_acquire)) return {ops::AdminStatus::Unavailable, "stopping"};
    if (admin_ring_->try_push(cmd) != PushResult::Ok) return {ops::AdminStatus::Busy, "admin ring full"};
    core_.parker().wake();
    return {ops::AdminStatus::Accepted, ""};
  }

  void listen(tcp::acceptor& acc, const config::ListenAddress& where, const char* what) {
    const tcp::endpoint ep = endpoint_of(io_, where);
    boost::system::error_code ec;
    acc.open(ep.protocol(), ec);
    if (!ec) acc.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acc.bind(ep, ec);
    if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) throw std::runtime_error(std::string("cannot listen for ") + what + " on " + where.to_string() + ": " + ec.message());
  }

  void accept_ouch() {
    ouch_acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket s) {
      if (ec) return;  // acceptor closed (shut-down) or transient error
      auto host = std::make_shared<OuchHost>(std::move(s), *this, conn_);
      host->start([this](OuchHost& h) {
        auto session = std::make_unique<sessions::SoupServerSession>(users_, h, limits_, session_counters_, mono_ns());
        session->set_clock_origin(origin_ns_);
        return session;
      });
      ouch_hosts_.push_back(host);
      accept_ouch();
    });
  }

  void accept_itch() {
    itch_acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket s) {
      if (ec) return;
      auto host = std::make_shared<FeedHost>(std::move(s), *this, conn_);
      host->start([this](FeedHost& h) {
        return std::make_unique<egress::FeedSession>(egress_->feeds(), users_, h, feed_limits_, feed_counters_, mono_ns());
      });
      feed_hosts_.push_back(host);
      accept_itch();
    });
  }

  // Moves events from the core to the sessions and feeds; returns how many it took.
  int pump(std::uint64_t now) {
    while (!pending_control_.empty() && gateway_ring_->try_push(pending_control_.front()) == PushResult::Ok) {
      pending_control_.pop_front();
      core_wake_pending_ = true;
    }
    if (core_wake_pending_) {  // what this pass's handlers pushed: one wake for all of it
      core_wake_pending_ = false;
      core_.parker().wake();
    }
    // Order acknowledgement latency: the gateway's receive stamp (the command's ts) to the reply
    // reaching egress, for Accepted and Rejected of orders from sessions.
    const std::uint64_t now_since_origin = now - origin_ns_;
    const std::size_t n = event_ring_->drain(
        [this, now_since_origin](Event& e) {
          if ((e.type == EventType::Accepted || e.type == EventType::Rejected) && e.owner.value() != 0 &&
              ack_latency_ != nullptr && now_since_origin >= e.ts.value())
            ack_latency_->Observe(static_cast<double>(now_since_origin - e.ts.value()) * 1e-9);
          observe_status(e);
          egress_->on_event(e);
        },
        releasable_events(4096));
    consumed_events_ += n;
    if (n > 0) egress_->flush(now);
    return static_cast<int>(n) + pump_udp(now, n > 0);
  }

  void observe_status(const Event& e) {
    if (e.instrument.value() < 1 || e.instrument.value() > cfg_.engine.instruments.size()) return;
    if (e.type == EventType::TradingStatusChanged) {
      statuses_[e.instrument.value()].store(e.code, std::memory_order_relaxed);
      int awaited = e.code;  // the awaited Set has landed (or the status it sets is already shown)
      (void)awaited_status_[e.instrument.value()].compare_exchange_strong(awaited, kNoneAwaited,
                                                                          std::memory_order_acq_rel);
    } else if (e.type == EventType::Rejected && e.owner.value() == 0 && !recovering_ &&
               e.code == static_cast<std::uint8_t>(RejectCode::InvalidTransition)) {
      // Owner 0: an admin or schedule command, which no session hears about; resume() could not
      // refuse it beforehand (a halt or phase was in flight), so this line is the operator's answer.
      // Not during recovery: a replayed refusal was logged when it happened.
      const auto now = static_cast<TradingStatus>(statuses_[e.instrument.value()].load(std::memory_order_relaxed));
      log_->warn("core refused a trading-status command for {}: invalid_transition (it is {})",
                 cfg_.engine.instruments[e.instrument.value() - 1].symbol.view(), to_string(now));
    }
  }

  // Durability before acknowledgement: with a journal, egress takes an event only once the
  // commands up to the boundary that covers it are durable (docs/operations.md, "Journal").
  std::size_t releasable_events(std::size_t max) {
    if (!writer_) return max;
    const std::uint64_t durable = writer_->durable_seq();
    while (const Boundary* b = boundaries_->front()) {
      if (b->seq > durable) break;
      released_events_ = std::max(released_events_, b->events);
      boundaries_->pop();
    }
    return static_cast<std::size_t>(std::min<std::uint64_t>(max, released_events_ - consumed_events_));
  }

  // ---- the journal: recovery at start-up, health, the shut-down ----

  void journal_log(std::string_view level, const std::string& line) {
    if (level == "error") {
      log_->error("{}", line);
    } else if (level == "warn") {
      log_->warn("{}", line);
    } else {
      log_->info("{}", line);
    }
  }

  // Replays the day (newest snapshot, then the journal after it) into the engine and egress on
  // this thread before any session can connect, then opens the journal for appending and
  // starts its writer and the snapshot thread. Without journal.dir: start of day, and a warning.
  void recover() {
    const Timestamp now_ts{mono_ns() - origin_ns_};
    if (plan_.dir.empty()) {
      log_->warn("journal: off (no journal.dir): a crash loses the day's orders and sequence numbers");
      recovery_summary_ = "journal: off";
      egress_->start_of_day(now_ts);
      return;
    }
    if (cfg_.journal.durability == config::JournalDurability::None)
      log_->warn("journal: durability none: replies leave before their commands reach the disk; a machine crash "
                 "loses them. For benchmarks only");
    for (const std::string& s : plan_.skipped_snapshots) log_->warn("snapshot skipped: {}", s);
    const std::uint64_t t0 = mono_ns();
    recovering_ = true;  // egress sends no datagrams while it replays
    replay::RecordApplier applier(engine_, *egress_, [this](const Event& e) { observe_status(e); });
    const std::uint64_t from = applier.start_from(plan_);
    journal::ReadOptions ro;
    ro.from_seq = from;
    ro.truncate_at_corruption = opts_.truncate_at_corruption;
    ro.repair = true;
    const journal::ReadEnd end =
        journal::read_journal(plan_.dir, plan_.fingerprint, ro, [&](const journal::Record& r) { applier.apply(r); });
    if (end.torn_tail)
      log_->warn("journal: {} cut at offset {}: {}", end.torn_tail->first.string(), end.torn_tail->second,
                 opts_.truncate_at_corruption ? "a torn last record or, as --recover-truncate-at-corruption allows, corruption; "
                                                "what followed was dropped (moved aside as *.corrupt)"
                                              : "a torn last record (a crash mid-write), never acknowledged");
    egress_->flush(mono_ns());
    recovering_ = false;
    // A restart on the day of a clean stop: the replayed end of day closed the MoldUDP64
    // session; the day goes on (docs/operations.md, "Recovery").
    if (egress_->mold().ended()) egress_->mold().reopen();
    const std::uint64_t last = applier.last_seq();
    recovered_records_ = end.records;
    for (std::size_t i = 0; i < cfg_.engine.instruments.size(); ++i)
      statuses_[i + 1].store(static_cast<std::uint8_t>(engine_.status(InstrumentId{static_cast<std::uint16_t>(i + 1)})));

    journal::WriterOptions wo;
    wo.dir = plan_.dir;
    wo.durability = durability_of(cfg_.journal.durability);
    wo.segment_bytes = cfg_.journal.segment_bytes;
    wo.fingerprint = plan_.fingerprint;
    wo.min_free_bytes = cfg_.journal.min_free_bytes / 4;  // the last reserve: orders stopped at min_free_bytes
    wo.wait = {eff_.journal_idle, eff_.park_after, std::chrono::nanoseconds{-1}};  // woken by the core
    writer_ = std::make_unique<journal::JournalWriter>(wo);
    writer_->set_durable_listener(&io_parker_);  // durability releases events: wake the io thread
    writer_->open(last);
    if (last == 0) {  // a new day: the Start record, then the start of day it describes
      journal::StartRecord sr{};
      sr.ts = now_ts;
      sr.session = start_phase_;
      const auto* b = reinterpret_cast<const std::uint8_t*>(&sr);
      (void)writer_->append_marker(journal::RecordKind::Start, {b, sizeof sr});
      egress_->start_of_day(now_ts);
    }
    writer_->start();
    boundaries_ = std::make_unique<BoundaryRing>();
    core_.attach_journal(writer_->ring(), *boundaries_, writer_->last_seq(), &writer_->parker());
    recovery_seconds_ = static_cast<double>(mono_ns() - t0) * 1e-9;
    if (last == 0) {
      recovery_summary_ = "journal: new day";
      log_->info("journal: new day in {} ({} durability)", plan_.dir.string(), journal::to_string(wo.durability));
    } else {
      recovery_summary_ =
          "journal: recovered " + std::to_string(end.records) + " records after " +
          (plan_.snapshot ? "snapshot " + plan_.snapshot->file.filename().string() : std::string("the day's start"));
      log_->info("{} in {:.3f} s; continuing at seq {} in {}", recovery_summary_, recovery_seconds_,
                 writer_->last_seq() + 1, plan_.dir.string());
      resume_after_recovery();
    }
    snapshotter_ = std::make_unique<Snapshotter>(cfg_, engine_cfg_, plan_, *writer_,
                                                 [this](std::string_view level, const std::string& line) { journal_log(level, line); });
    snapshotter_->start();
  }

  // After a restart no session is connected: users with cancel-on-disconnect lose their live
  // orders as if their sessions had closed (journaled like any command), and resumption calls
  // that were running get their end again.
  void resume_after_recovery() {
    for (std::size_t i = 0; i < users_.size(); ++i) {
      const sessions::UserAccount& a = users_.at(i).account;
      if (!a.cancel_on_disconnect) continue;
      if (admin(make_mass_cancel(admin_ts(), a.firm, InstrumentId{0}, a.owner, CancelReason::Disconnected)).status !=
          ops::AdminStatus::Accepted)
        log_->error("recovery: cannot queue cancel-on-disconnect for {}", a.username.view());
    }
    const std::lock_guard<std::mutex> lock(admin_mutex_);
    for (std::size_t i = 0; i < cfg_.engine.instruments.size(); ++i) {
      const InstrumentId id{static_cast<std::uint16_t>(i + 1)};
      if (engine_.status(id) == TradingStatus::ResumeCall)
        resume_call_ends_.push_back({id, mono_ns() + std::uint64_t{cfg_.market.resume_call_seconds} * 1'000'000'000});
    }
  }

  // Disk and writer health, once a second from the tick: below journal.min_free_mb new orders
  // are refused; a writer that cannot write makes the service unready (nothing is acknowledged
  // until it can).
  bool journal_healthy() const {
    return !writer_ || (!writer_->failed() && !refusing_orders_.load(std::memory_order_relaxed));
  }

  void check_journal(std::uint64_t now) {
    if (!writer_ || now < next_disk_check_) return;
    next_disk_check_ = now + 1'000'000'000;
    const journal::DiskUsage du = journal::disk_usage(plan_.dir);
    disk_used_.store(du.used, std::memory_order_relaxed);
    disk_free_.store(du.free, std::memory_order_relaxed);
    const bool low = du.free < cfg_.journal.min_free_bytes;
    if (low != refusing_orders_.load(std::memory_order_relaxed)) {
      refusing_orders_.store(low, std::memory_order_relaxed);
      if (low) {
        log_->error("journal: {} MiB free on {} (journal.min_free_mb {}): refusing new orders and replaces until space is freed",
                    du.free >> 20, plan_.dir.string(), cfg_.journal.min_free_bytes >> 20);
      } else {
        log_->info("journal: {} MiB free again: taking orders", du.free >> 20);
      }
    }
    const bool failed = writer_->failed();
    if (failed != writer_failed_seen_) {
      writer_failed_seen_ = failed;
      if (failed) {
        log_->error("journal: cannot write ({}): nothing is acknowledged until it can; /readyz is false", writer_->last_error());
      } else {
        log_->info("journal: writing again");
      }
    }
    if (!stopping_.load(std::memory_order_acquire)) ops_->set_ready(journal_healthy());
  }

  void send_datagram(std::span<const std::uint8_t> d) {
    if (recovering_) return;  // the replay of the day rebuilds the feed; it does not resend it
#ifdef PEREGRINE_HAVE_DPDK
    if (itch_via_dpdk_) {  // ingress.itch_destination: the feed leaves on the DPDK port
      (void)port_->send(itch_addr_, d);
      return;
    }
#endif
    if (mold_batch_->full()) send_mold_batch();
    mold_batch_->add(d);  // sent at the packetizer's batch end: flush, tick, end of session
  }

  // The MoldUDP64 datagrams of one pass in one sendmmsg (a lost one is re-requested).
  void send_mold_batch() {
    const std::size_t n = mold_batch_->size();
    if (n == 0) return;
    for (std::size_t i = 0; i < n; ++i) {
      const std::span<const std::uint8_t> d = (*mold_batch_)[i];
      mold_iov_[i] = iovec{const_cast<std::uint8_t*>(d.data()), d.size()};
      mold_msgs_[i] = mmsghdr{};
      mold_msgs_[i].msg_hdr.msg_name = mold_destination_.data();
      mold_msgs_[i].msg_hdr.msg_namelen = static_cast<socklen_t>(mold_destination_.size());
      mold_msgs_[i].msg_hdr.msg_iov = &mold_iov_[i];
      mold_msgs_[i].msg_hdr.msg_iovlen = 1;
    }
    std::size_t done = 0;
    while (done < n) {
      const int sent = ::sendmmsg(mold_socket_.native_handle(), mold_msgs_.data() + done, static_cast<unsigned>(n - done), 0);
      if (sent <= 0) {
        if (sent < 0 && errno == EINTR) continue;
        ++done;  // the kernel refused this one (sendto would have too): skip it, the rest still go
        continue;
      }
      done += static_cast<std::size_t>(sent);
    }
    mold_batch_->clear();
  }

  // MoldUDP64 re-request server on the sending socket: answers with the retransmission packets.
  void receive_requests() {
    mold_socket_.async_receive_from(asio::buffer(request_buf_), request_from_, [this](const boost::system::error_code& ec,
                                                                                       std::size_t n) {
      if (ec) return;  // socket closed at stop
      (void)egress_->mold().on_request({request_buf_.data(), n}, [this](std::span<const std::uint8_t> reply) {
        boost::system::error_code ignored;
        mold_socket_.send_to(asio::buffer(reply.data(), reply.size()), request_from_, 0, ignored);
      });
      receive_requests();
    });
  }

  // ---- 4b. the DPDK ingress ----

  // The EAL, the port and the UDP ingress/replier objects (main thread, before other threads).
  void start_dpdk_port() {
#ifdef PEREGRINE_HAVE_DPDK
    const config::IngressConfig& ic = cfg_.ingress;
    if (!ingress::parse_ipv4(ic.ip, local_ip_)) throw std::runtime_error("ingress.ip: not an IPv4 address: " + ic.ip);
    std::vector<ingress::UdpBinding> bindings;
    std::vector<sessions::UserState*> users;
    std::vector<proto::mold::SessionId> sessions;
    for (const config::UdpBindingConfig& b : ic.bindings) {
      const config::UserConfig* uc = cfg_.find_user(b.user);
      sessions::UserState* u = uc == nullptr ? nullptr : users_.find(Alpha<6>::from(b.user));
      if (u == nullptr) throw std::runtime_error("ingress.bindings: unknown user " + b.user);
      ingress::UdpBinding ub;
      if (!ingress::parse_ipv4(b.ip, ub.ip)) throw std::runtime_error("ingress.bindings: not an IPv4 address: " + b.ip);
      ub.port = b.port;
      ub.session = proto::mold::SessionId::from(b.session);
      ub.ouch = proto::OuchSession{u->account.owner, u->account.firm, u->account.firm_name};
      ub.throttle_per_second = u->account.throttle_per_second;
      bindings.push_back(ub);
      users.push_back(u);
      sessions.push_back(ub.session);
      binding_ips_.push_back(ub.ip);
      binding_ports_.push_back(ub.port);
    }
    ingress::dpdk::DpdkSettings ds;
    ds.eal_args = ic.eal_args;
    ds.port = ic.port;
    ds.rx_queue = ic.rx_queue;
    ds.tx_queue = ic.tx_queue;
    ds.local_ip = local_ip_;
    ds.udp_port = ic.udp_port;
    ds.burst = ic.burst;
    ds.idle = ic.idle_strategy.value_or(eff_.core_idle);
    port_ = std::make_unique<ingress::dpdk::DpdkPort>(ds);
    notice_ring_ = std::make_unique<NoticeRing>();
    udp_host_ = std::make_unique<RingIngressHost>(*udp_ring_, *notice_ring_, refusing_orders_, core_.parker(), io_parker_);
    udp_counters_ = std::make_unique<ingress::UdpIngressCounters>();
    udp_ingress_ = std::make_unique<ingress::UdpIngress>(bindings, ingress::UdpIngressConfig{}, *udp_host_, *udp_counters_);
    udp_ingress_->set_clock_origin(origin_ns_);
    ingress::UdpReplyConfig rc;
    rc.heartbeat_interval_ns = limits_.heartbeat_interval_ns;
    replier_ = std::make_unique<ingress::UdpReplier>(
        users, sessions, rc, [this](std::size_t b, std::span<const std::uint8_t> d) { send_udp(b, d); });
    loop_ = std::make_unique<ingress::dpdk::DpdkIngressLoop>(*port_, *udp_ingress_);
    if (ic.itch_destination) {
      itch_addr_.src_mac = port_->mac();
      itch_addr_.src_ip = local_ip_;
      itch_addr_.src_port = ic.udp_port;
      itch_addr_.dst_port = ic.itch_destination->port;
      (void)ingress::parse_ipv4(ic.itch_destination->host, itch_addr_.dst_ip);  // checked by the loader
      const bool mac_ok = ic.itch_mac.empty() ? ingress::multicast_mac(itch_addr_.dst_ip, itch_addr_.dst_mac)
                                              : ingress::parse_mac(ic.itch_mac, itch_addr_.dst_mac);
      if (!mac_ok)
        throw std::runtime_error("ingress.itch_destination " + ic.itch_destination->to_string() +
                                 " is not a multicast group: ingress.itch_mac must name the next hop's MAC");
      itch_via_dpdk_ = true;
    }
#else
    throw std::runtime_error(
        "--ingress=dpdk: this peregrine was built without DPDK (PEREGRINE_DPDK=OFF: install libdpdk-dev and rebuild)");
#endif
  }

  std::string start_dpdk_loop() {
#ifdef PEREGRINE_HAVE_DPDK
    if (!loop_) return {};
    const std::string where = loop_->start(mono_ns(), -1);
    log_->info("dpdk: port {} ({}) mac {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}, UDP {}:{}, rx on {}", port_->settings().port,
               port_->name(), port_->mac()[0], port_->mac()[1], port_->mac()[2], port_->mac()[3], port_->mac()[4],
               port_->mac()[5], cfg_.ingress.ip, cfg_.ingress.udp_port, where);
    std::string line = ", DPDK UDP " + cfg_.ingress.ip + ":" + std::to_string(cfg_.ingress.udp_port) + " on " +
                       port_->name() + " (" + where + ")";
    if (itch_via_dpdk_) line += ", ITCH MoldUDP64 via DPDK to " + cfg_.ingress.itch_destination->to_string();
    return line;
#else
    return {};
#endif
  }

  void stop_dpdk_loop() {
#ifdef PEREGRINE_HAVE_DPDK
    if (loop_) loop_->stop();
#endif
  }

  void close_dpdk_port() {
#ifdef PEREGRINE_HAVE_DPDK
    if (!port_) return;
    flush_udp_tx();
    if (dpdk_collector_) dpdk_collector_.reset();
    port_.reset();
#endif
  }

  // One reply datagram to binding `b`, addressed to the MAC it last sent from.
  void send_udp(std::size_t b, std::span<const std::uint8_t> datagram) {
#ifdef PEREGRINE_HAVE_DPDK
    const std::uint64_t mac = udp_ingress_->peer_mac(b);
    if (mac == 0) return;  // never heard from: no address to send to (it re-requests later)
    ingress::UdpAddressing a;
    a.src_mac = port_->mac();
    a.dst_mac = ingress::mac_from_u64(mac);
    a.src_ip = local_ip_;
    a.dst_ip = binding_ips_[b];
    a.src_port = cfg_.ingress.udp_port;
    a.dst_port = binding_ports_[b];
    (void)port_->send(a, datagram);
#else
    (void)b;
    (void)datagram;
#endif
  }

  void flush_udp_tx() {
#ifdef PEREGRINE_HAVE_DPDK
    if (port_) port_->flush_tx();
#endif
  }

  // Notices from the lcore, then the replies egress queued in the bound users' buffers.
  int pump_udp(std::uint64_t now, bool events) {
    if (!replier_) return 0;
    const std::size_t n = notice_ring_->drain([this, now](ingress::UdpNotice& notice) { replier_->on_notice(notice, now); }, 1024);
    if (n > 0 || events) {
      replier_->flush(now);
      flush_udp_tx();
    }
    return static_cast<int>(n);
  }

  // cache_enabled: fault in every slot of the rings before the threads start (a push and a
  // pop per slot), so the first burst of orders does not take page faults.
  void pretouch_rings() {
    for (CommandRing* r : {gateway_ring_.get(), admin_ring_.get()}) {
      for (std::size_t i = 0; i < CommandRing::capacity(); ++i) (void)r->try_push(Command{});
      (void)r->drain([](Command&) noexcept {}, CommandRing::capacity());
    }
    for (std::size_t i = 0; i < EventRing::capacity(); ++i) (void)event_ring_->try_push(Event{});
    (void)event_ring_->drain([](Event&) noexcept {}, EventRing::capacity());
  }

  // The io thread's counters are plain integers it alone writes; a tick copies them into
  // relaxed atomics that the metrics thread reads at scrape time.
  struct IoCell {
    const char* name;
    const char* help;
    const char* label_key;
    const char* label_value;
    std::atomic<std::uint64_t> value{0};
  };
  enum IoCounter : std::size_t {
    kOuchLogins, kOuchLoginRejects, kOuchMessagesIn, kOuchEdgeRejects, kOuchRingFull, kOuchThrottled,
    kOuchProtocolErrors, kOuchReplayed, kCancelOnDisconnect, kOuchMessagesOut, kItchMessages, kFeedLogins,
    kFeedLoginRejects, kFeedProtocolErrors, kFeedFellBehind, kMoldPackets, kMoldRequests, kMoldRetransmitted,
    kConnectionsClosed, kIoCounterCount
  };
  std::array<IoCell, kIoCounterCount> io_cells_{{
      {"peregrine_ouch_logins_total", "SoupBinTCP logins accepted on the order-entry port.", nullptr, nullptr, {}},
      {"peregrine_ouch_login_rejects_total", "SoupBinTCP logins rejected on the order-entry port.", nullptr, nullptr, {}},
      {"peregrine_ouch_messages_in_total", "OUCH messages received.", nullptr, nullptr, {}},
      {"peregrine_ouch_edge_rejects_total", "OUCH messages refused by the gateway before the core.", nullptr, nullptr, {}},
      {"peregrine_ouch_ring_full_rejects_total", "OUCH messages refused because the core's ring was full.", nullptr, nullptr, {}},
      {"peregrine_ouch_throttled_total", "Sessions logged out for going over their message rate.", nullptr, nullptr, {}},
      {"peregrine_ouch_protocol_errors_total", "Order-entry sessions closed for bad framing or messages.", nullptr, nullptr, {}},
      {"peregrine_ouch_replayed_total", "OUCH messages re-sent on re-login.", nullptr, nullptr, {}},
      {"peregrine_cancel_on_disconnect_total", "Mass cancels sent for disconnected users.", nullptr, nullptr, {}},
      {"peregrine_ouch_messages_out_total", "OUCH messages appended to users' buffers.", nullptr, nullptr, {}},
      {"peregrine_itch_messages_total", "ITCH 5.0 messages published.", nullptr, nullptr, {}},
      {"peregrine_itch_feed_logins_total", "ITCH feed logins accepted.", nullptr, nullptr, {}},
      {"peregrine_itch_feed_login_rejects_total", "ITCH feed logins rejected.", nullptr, nullptr, {}},
      {"peregrine_itch_feed_protocol_errors_total", "ITCH feed sessions closed for bad input.", nullptr, nullptr, {}},
      {"peregrine_itch_feed_fell_behind_total", "ITCH feed sessions closed for falling behind retention.", nullptr, nullptr, {}},
      {"peregrine_moldudp64_packets_total", "MoldUDP64 datagrams sent with messages.", nullptr, nullptr, {}},
      {"peregrine_moldudp64_requests_total", "MoldUDP64 re-requests answered.", nullptr, nullptr, {}},
      {"peregrine_moldudp64_retransmitted_packets_total", "MoldUDP64 datagrams re-sent on request.", nullptr, nullptr, {}},
      {"peregrine_connections_closed_total", "TCP connections closed (every reason).", nullptr, nullptr, {}},
  }};
  std::atomic<std::uint64_t> ouch_connections_{0};
  std::atomic<std::uint64_t> itch_connections_{0};
  std::uint64_t closed_connections_ = 0;
  bool busy_poll_warned_ = false;
  std::shared_ptr<ops::CoreCountersCollector> core_collector_;
  std::shared_ptr<ops::CallbackMetrics> io_collector_;
  std::shared_ptr<prometheus::Registry> latency_registry_;
  std::shared_ptr<SyncHistogram> sync_histogram_;
  prometheus::Histogram* ack_latency_ = nullptr;  // observed on the io thread only

  void publish_io_counters() {
    const auto set = [this](IoCounter c, std::uint64_t v) { io_cells_[c].value.store(v, std::memory_order_relaxed); };
    set(kOuchLogins, session_counters_.logins);
    set(kOuchLoginRejects, session_counters_.login_rejects);
    set(kOuchMessagesIn, session_counters_.messages_in);
    set(kOuchEdgeRejects, session_counters_.edge_rejects);
    set(kOuchRingFull, session_counters_.ring_full_rejects);
    set(kOuchThrottled, session_counters_.throttled);
    set(kOuchProtocolErrors, session_counters_.protocol_errors);
    set(kOuchReplayed, session_counters_.replayed);
    set(kCancelOnDisconnect, session_counters_.cancel_on_disconnect);
    set(kOuchMessagesOut, egress_->counters().ouch_messages);
    set(kItchMessages, egress_->counters().itch_messages);
    set(kFeedLogins, feed_counters_.logins);
    set(kFeedLoginRejects, feed_counters_.login_rejects);
    set(kFeedProtocolErrors, feed_counters_.protocol_errors);
    set(kFeedFellBehind, feed_counters_.fell_behind);
    set(kMoldPackets, egress_->mold().counters().packets);
    set(kMoldRequests, egress_->mold().counters().requests);
    set(kMoldRetransmitted, egress_->mold().counters().retransmitted_packets);
    set(kConnectionsClosed, closed_connections_);
    ouch_connections_.store(ouch_hosts_.size(), std::memory_order_relaxed);
    journal_refusals_cell_.store(journal_refusals_, std::memory_order_relaxed);
    itch_connections_.store(feed_hosts_.size(), std::memory_order_relaxed);
  }

  // The UDP replier's counters are the io thread's plain integers: tick() copies them here.
  std::array<std::atomic<std::uint64_t>, 6> reply_cells_{};

  void publish_reply_counters() {
    if (!replier_) return;
    const ingress::UdpReplyCounters& c = replier_->counters();
    const std::array<std::uint64_t, 6> v{c.packets, c.messages, c.heartbeats, c.gap_notices,
                                         c.requests, c.retransmitted_packets};
    for (std::size_t i = 0; i < v.size(); ++i) reply_cells_[i].store(v[i], std::memory_order_relaxed);
  }

  // DPDK and UDP order-entry metrics (docs/dpdk.md, "Metrics"). The lcore's cells are loaded
  // here; the NIC's counters are read with rte_eth_stats_get on this (the metrics) thread.
  void register_dpdk_metrics() {
#ifdef PEREGRINE_HAVE_DPDK
    if (!port_) return;
    auto m = std::make_shared<ops::CallbackMetrics>();
    const ingress::dpdk::DpdkCounters& dc = port_->counters();
    const ingress::UdpIngressCounters& uc = *udp_counters_;
    const auto cell = [](const metrics::CounterCell& c) { return [&c] { return static_cast<double>(c.load()); }; };
    m->add_counter("peregrine_dpdk_rx_packets_total", "Frames received by the ingress lcore (rte_eth_rx_burst).", {}, cell(dc.rx_packets));
    m->add_counter("peregrine_dpdk_rx_bursts_total", "Non-empty rx bursts.", {}, cell(dc.rx_bursts));
    for (std::size_t i = 0; i < ingress::dpdk::kBurstBuckets; ++i)
      m->add_counter("peregrine_dpdk_rx_burst_size_total", "Non-empty rx bursts by size.",
                     {{"size", std::string(ingress::dpdk::kBurstBucketLabels[i])}}, cell(dc.burst_sizes[i]));
    for (std::size_t i = 1; i < static_cast<std::size_t>(ingress::FrameDrop::kCount); ++i)
      m->add_counter("peregrine_dpdk_frame_drops_total", "Frames dropped before MoldUDP64, by reason.",
                     {{"reason", std::string(ingress::to_string(static_cast<ingress::FrameDrop>(i)))}}, cell(dc.frame_drops[i]));
    m->add_counter("peregrine_dpdk_frame_drops_total", "Frames dropped before MoldUDP64, by reason.",
                   {{"reason", "multi_segment"}}, cell(dc.rx_multi_segment));
    m->add_counter("peregrine_dpdk_tx_packets_total", "Reply frames the TX queue took.", {}, cell(dc.tx_packets));
    m->add_counter("peregrine_dpdk_tx_dropped_total", "Reply frames dropped (no mbuf, TX queue full).", {}, cell(dc.tx_dropped));
    for (std::size_t i = 0; i < static_cast<std::size_t>(ingress::PacketOutcome::kCount); ++i)
      m->add_counter("peregrine_udp_packets_total", "MoldUDP64 order-entry packets by outcome.",
                     {{"outcome", std::string(ingress::to_string(static_cast<ingress::PacketOutcome>(i)))}}, cell(uc.packets[i]));
    m->add_counter("peregrine_udp_messages_total", "OUCH messages in UDP packets.", {{"result", "taken"}}, cell(uc.messages_applied));
    m->add_counter("peregrine_udp_messages_total", "OUCH messages in UDP packets.", {{"result", "duplicate"}}, cell(uc.messages_duplicate));
    m->add_counter("peregrine_udp_commands_total", "Commands the UDP ingress pushed to the core.", {}, cell(uc.commands));
    m->add_counter("peregrine_udp_edge_rejects_total", "UDP OUCH messages refused at the edge.", {}, cell(uc.edge_rejects));
    m->add_counter("peregrine_udp_throttled_total", "UDP OUCH messages refused for the per-second limit.", {}, cell(uc.throttled));
    m->add_counter("peregrine_udp_bad_messages_total", "UDP messages that are not OUCH 4.2 inbound.", {}, cell(uc.bad_messages));
    m->add_counter("peregrine_udp_ring_full_total", "Commands the core's UDP ring refused (back-pressure).", {}, cell(uc.ring_full));
    m->add_counter("peregrine_udp_notice_ring_full_total", "Notices the notice ring refused.", {}, cell(uc.notice_ring_full));
    static constexpr std::array<const char*, 6> kReply{"packets", "messages", "heartbeats", "gap_notices",
                                                       "requests", "retransmitted_packets"};
    for (std::size_t i = 0; i < kReply.size(); ++i)
      m->add_counter("peregrine_udp_replies_total", "UDP reply-side counts by kind.", {{"kind", kReply[i]}},
                     [this, i] { return static_cast<double>(reply_cells_[i].load(std::memory_order_relaxed)); });
    const std::string name = port_->name();
    using Stat = std::uint64_t ingress::dpdk::NicStats::*;
    static constexpr std::array<std::pair<const char*, Stat>, 8> kNic{{
        {"ipackets", &ingress::dpdk::NicStats::ipackets}, {"opackets", &ingress::dpdk::NicStats::opackets},
        {"ibytes", &ingress::dpdk::NicStats::ibytes},     {"obytes", &ingress::dpdk::NicStats::obytes},
        {"imissed", &ingress::dpdk::NicStats::imissed},   {"ierrors", &ingress::dpdk::NicStats::ierrors},
        {"oerrors", &ingress::dpdk::NicStats::oerrors},   {"rx_nombuf", &ingress::dpdk::NicStats::rx_nombuf},
    }};
    for (const auto& [stat, member] : kNic)
      m->add_counter(std::string("peregrine_dpdk_nic_") + stat + "_total", std::string("rte_eth_stats_get: ") + stat + ".",
                     {{"port", name}}, [this, member] { return static_cast<double>(port_->nic_stats().*member); });
    // Same family as the other rings: the series go to the io collector.
    io_collector_->add_gauge("peregrine_ring_occupancy", "Items waiting in an SPSC ring.", {{"ring", "udp_commands"}},
                 [this] { return static_cast<double>(udp_ring_->size_approx()); });
    io_collector_->add_gauge("peregrine_ring_occupancy", "Items waiting in an SPSC ring.", {{"ring", "udp_notices"}},
                 [this] { return static_cast<double>(notice_ring_->size_approx()); });
    dpdk_collector_ = m;
    ops_->add_collectable(dpdk_collector_);
#endif
  }

  // The journal's and the snapshot thread's metrics (docs/operations.md, "Metrics").
  void register_journal_metrics() {
    ops::CallbackMetrics& m = *io_collector_;
    m.add_gauge("peregrine_journal_enabled", "1 when commands are journaled (journal.dir set).", {},
                [this] { return writer_ ? 1.0 : 0.0; });
    if (!writer_) return;
    const journal::WriterStats& st = writer_->stats();
    const auto cell = [](const std::atomic<std::uint64_t>& c) { return [&c] { return static_cast<double>(c.load(std::memory_order_relaxed)); }; };
    m.add_gauge("peregrine_journal_durable_seq", "Highest journal sequence number durable under the policy.", {},
                [this] { return static_cast<double>(writer_->durable_seq()); });
    m.add_counter("peregrine_journal_records_total", "Records appended to the journal.", {}, cell(st.records));
    m.add_counter("peregrine_journal_bytes_total", "Bytes written to journal segments.", {}, cell(st.bytes));
    m.add_counter("peregrine_journal_batches_total", "Write-and-sync rounds (group commits).", {}, cell(st.batches));
    m.add_counter("peregrine_journal_syncs_total", "fsync or fdatasync calls on journal segments.", {}, cell(st.syncs));
    m.add_counter("peregrine_journal_sync_seconds_total", "Time spent in fsync or fdatasync.", {},
                  [&st] { return static_cast<double>(st.sync_ns_total.load(std::memory_order_relaxed)) * 1e-9; });
    sync_histogram_ = std::make_shared<SyncHistogram>(st);
    ops_->add_collectable(sync_histogram_);
    m.add_counter("peregrine_journal_write_errors_total", "Failed journal writes or syncs (each retried).", {}, cell(st.write_errors));
    m.add_counter("peregrine_journal_segments_total", "Journal segment files created.", {}, cell(st.segments));
    m.add_gauge("peregrine_journal_sync_lag_seconds", "Age of the oldest journal record not yet durable (0 when none waits).", {},
                [&st] {
                  const std::uint64_t oldest = st.oldest_pending_ns.load(std::memory_order_relaxed);
                  const std::uint64_t now = mono_ns();
                  return oldest == 0 || now < oldest ? 0.0 : static_cast<double>(now - oldest) * 1e-9;
                });
    m.add_gauge("peregrine_journal_disk_used_bytes", "Bytes of the journal directory's files (segments, snapshots).", {},
                cell(disk_used_));
    m.add_gauge("peregrine_journal_disk_free_bytes", "Free bytes on the journal's file system.", {}, cell(disk_free_));
    m.add_gauge("peregrine_journal_min_free_bytes", "journal.min_free_mb: below this free space new orders are refused.", {},
                [this] { return static_cast<double>(cfg_.journal.min_free_bytes); });
    m.add_gauge("peregrine_journal_state", "0 ok, 1 refusing new orders (free space below journal.min_free_mb), 2 cannot write.",
                {}, [this] {
                  if (writer_->failed()) return 2.0;
                  return refusing_orders_.load(std::memory_order_relaxed) ? 1.0 : 0.0;
                });
    m.add_counter("peregrine_journal_refused_orders_total", "New orders and replaces refused for low journal disk space.", {},
                  cell(journal_refusals_cell_));
    m.add_gauge("peregrine_recovery_records", "Journal records replayed at start-up.", {},
                [this] { return static_cast<double>(recovered_records_); });
    m.add_gauge("peregrine_recovery_seconds", "Time start-up spent recovering (snapshot load and replay).", {},
                [this] { return recovery_seconds_; });
    const SnapshotStats& ss = snapshotter_->stats();
    m.add_counter("peregrine_snapshots_total", "Snapshots by result.", {{"result", "written"}}, cell(ss.taken));
    m.add_counter("peregrine_snapshots_total", "Snapshots by result.", {{"result", "failed"}}, cell(ss.failed));
    m.add_gauge("peregrine_snapshot_last_seq", "Journal sequence number of the newest snapshot written.", {}, cell(ss.last_seq));
    m.add_gauge("peregrine_snapshot_last_bytes", "Size of the newest snapshot written.", {}, cell(ss.last_bytes));
    m.add_gauge("peregrine_snapshot_last_duration_seconds", "Time the newest snapshot took to serialize and write.", {},
                [&ss] { return static_cast<double>(ss.last_duration_ns.load(std::memory_order_relaxed)) * 1e-9; });
    m.add_gauge("peregrine_snapshot_last_timestamp_seconds", "Unix time of the newest snapshot written.", {}, cell(ss.last_unix_seconds));
    m.add_gauge("peregrine_snapshot_replica_lag_records", "Durable journal records the snapshot replica has not applied yet.", {},
                [this, &ss] {
                  const std::uint64_t d = writer_->durable_seq();
                  const std::uint64_t r = ss.replica_seq.load(std::memory_order_relaxed);
                  return d > r ? static_cast<double>(d - r) : 0.0;
                });
    m.add_counter("peregrine_journal_segments_removed_total", "Journal segments removed by retention.", {}, cell(ss.segments_removed));
    m.add_gauge("peregrine_ring_occupancy", "Items waiting in an SPSC ring.", {{"ring", "journal"}},
                [this] { return static_cast<double>(writer_->ring().size_approx()); });
  }

  void register_metrics() {
    core_collector_ = std::make_shared<ops::CoreCountersCollector>(*counters_);
    io_collector_ = std::make_shared<ops::CallbackMetrics>();
    for (IoCell& c : io_cells_)
      io_collector_->add_counter(c.name, c.help, {}, [&c] { return static_cast<double>(c.value.load(std::memory_order_relaxed)); });
    io_collector_->add_gauge("peregrine_sessions", "Open TCP connections by port.", {{"port", "ouch"}},
                             [this] { return static_cast<double>(ouch_connections_.load(std::memory_order_relaxed)); });
    io_collector_->add_gauge("peregrine_sessions", "Open TCP connections by port.", {{"port", "itch"}},
                             [this] { return static_cast<double>(itch_connections_.load(std::memory_order_relaxed)); });
    // Ring occupancy: size_approx() only loads the two indices, so any thread may read it.
    io_collector_->add_gauge("peregrine_ring_occupancy", "Items waiting in an SPSC ring.", {{"ring", "gateway_commands"}},
                             [this] { return static_cast<double>(gateway_ring_->size_approx()); });
    io_collector_->add_gauge("peregrine_ring_occupancy", "Items waiting in an SPSC ring.", {{"ring", "admin_commands"}},
                             [this] { return static_cast<double>(admin_ring_->size_approx()); });
    io_collector_->add_gauge("peregrine_ring_occupancy", "Items waiting in an SPSC ring.", {{"ring", "events"}},
                             [this] { return static_cast<double>(event_ring_->size_approx()); });
    io_collector_->add_gauge("peregrine_ring_capacity", "Capacity of an SPSC ring.", {{"ring", "events"}},
                             [] { return static_cast<double>(EventRing::capacity()); });
    // CPU time of the threads that registered (agent::ThreadCpuRegistration), read at scrape time.
    for (const std::string& name : agent::registered_threads())
      io_collector_->add_counter("peregrine_thread_cpu_seconds_total", "CPU time of a thread of the service.",
                                 {{"thread", name}}, [name] { return agent::thread_cpu_seconds(name); });
    ops_->add_collectable(core_collector_);
    ops_->add_collectable(io_collector_);
    latency_registry_ = std::make_shared<prometheus::Registry>();
    ack_latency_ = &prometheus::BuildHistogram()
                        .Name("peregrine_order_ack_latency_seconds")
                        .Help("Enter Order received by the gateway to its Accepted or Rejected reaching egress.")
                        .Register(*latency_registry_)
                        .Add({}, prometheus::Histogram::BucketBoundaries{0.000005, 0.00001, 0.000025, 0.00005, 0.0001,
                                                                        0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                                        0.025, 0.05, 0.1, 0.25, 1.0});
    ops_->add_collectable(latency_registry_);
    register_journal_metrics();
    register_dpdk_metrics();
  }

  void tick(std::uint64_t now) {
    check_journal(now);
    run_schedule(now);
    std::erase_if(ouch_hosts_, [](const std::shared_ptr<OuchHost>& h) { return h->closed(); });
    std::erase_if(feed_hosts_, [](const std::shared_ptr<FeedHost>& h) { return h->closed(); });
    for (auto& h : ouch_hosts_)
      if (h->session() != nullptr) h->session()->on_tick(now);
    egress_->on_tick(now);  // MoldUDP64 heartbeat and the feed sessions' ticks
    if (replier_) {
      replier_->on_tick(now);
      flush_udp_tx();
      publish_reply_counters();
    }
    publish_io_counters();
    if (!busy_poll_warned_ && g_busy_poll_refused.load(std::memory_order_relaxed)) {
      busy_poll_warned_ = true;
      log_->warn("network_optimization: SO_BUSY_POLL refused (needs CAP_NET_ADMIN); sockets poll normally");
    }
  }

  // SIGTERM: stop taking orders, let the core finish what it has, hand out every event, end the
  // sessions with End of Session, flush, stop.
  int shut_down() {
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
    if (writer_) {
      // The core has stopped: this thread may append. The end of day is journaled so a restart
      // today rebuilds the feed with it; then everything is synced and every event released.
      if (snapshotter_) snapshotter_->stop();
      const journal::EndOfDayRecord eod{end_ts};
      (void)writer_->append_marker(journal::RecordKind::EndOfDay, {reinterpret_cast<const std::uint8_t*>(&eod), sizeof eod});
      writer_->stop();
      if (writer_->durable_seq() >= core_.last_seq()) {
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
    ops_->stop();
    close_dpdk_port();  // a pcap port writes its file out here
    log_->info("stopped");
    log_->flush();
    return 0;
  }

  const config::ServiceConfig& cfg_;
  config::EffectiveSettings eff_;
  ServerOptions opts_;
  const replay::RecoveryPlan& plan_;
  const ExchangeClock& clock_;
  TradingStatus start_phase_;
  std::shared_ptr<spdlog::logger> log_;
  EngineConfig engine_cfg_;  // cfg_.engine, starting in the schedule's phase
  Engine engine_;
  sessions::UserDirectory users_;
  proto::ConfigLookup lookup_;
  std::unique_ptr<CommandRing> gateway_ring_;
  std::unique_ptr<CommandRing> admin_ring_;
  std::unique_ptr<CommandRing> udp_ring_;  // only with --ingress=dpdk
  std::unique_ptr<EventRing> event_ring_;
  std::unique_ptr<metrics::CoreCounters> counters_;
  // The io thread's wake-up channel (the core, the journal writer, the DPDK lcore and signals
  // wake it); declared before everything that wakes it, so it is destroyed after them.
  agent::Parker io_parker_;
  CoreLoop core_;
  std::uint64_t origin_ns_;
  asio::io_context io_;
  asio::posix::stream_descriptor io_wake_{io_};  // a dup of io_parker_'s eventfd, in io_'s epoll
  bool core_wake_pending_ = false;  // io thread: commands pushed since the last wake of the core
  tcp::acceptor ouch_acceptor_;
  tcp::acceptor itch_acceptor_;
  udp::socket mold_socket_;
  udp::endpoint mold_destination_;
  static constexpr std::size_t kMoldBatch = 64;  // datagrams per sendmmsg
  std::unique_ptr<egress::DatagramBatch> mold_batch_;
  std::array<mmsghdr, kMoldBatch> mold_msgs_{};
  std::array<iovec, kMoldBatch> mold_iov_{};
  sessions::SessionLimits limits_;
  sessions::SessionCounters session_counters_;
  egress::FeedLimits feed_limits_;
  egress::FeedCounters feed_counters_;
  std::unique_ptr<std::atomic<std::uint8_t>[]> statuses_;  // per InstrumentId, for the ops thread
  // Per InstrumentId: the status of a Set the ops thread queued and the io thread has not yet seen
  // published, or kNoneAwaited.
  static constexpr int kNoneAwaited = -1;
  std::unique_ptr<std::atomic<int>[]> awaited_status_;
  std::array<std::uint8_t, 64> request_buf_{};
  udp::endpoint request_from_;
  ConnectionSettings conn_;
  std::unique_ptr<egress::Egress> egress_;
  std::unique_ptr<ops::OpsServer> ops_;
  std::vector<std::shared_ptr<OuchHost>> ouch_hosts_;
  std::vector<std::shared_ptr<FeedHost>> feed_hosts_;
  std::deque<Command> pending_control_;
  std::mutex admin_mutex_;
  struct ResumeCallEnd {
    InstrumentId instrument;
    std::uint64_t at;  // mono_ns
  };
  std::vector<ResumeCallEnd> resume_call_ends_;  // guarded by admin_mutex_
  std::optional<TradingStatus> scheduled_phase_;  // io thread
  std::atomic<bool> stopping_{false};
  // 4b. the DPDK ingress (with --ingress=dpdk)
  std::unique_ptr<NoticeRing> notice_ring_;
  std::unique_ptr<RingIngressHost> udp_host_;
  std::unique_ptr<ingress::UdpIngressCounters> udp_counters_;
  std::unique_ptr<ingress::UdpIngress> udp_ingress_;
  std::unique_ptr<ingress::UdpReplier> replier_;
  std::vector<std::uint32_t> binding_ips_;
  std::vector<std::uint16_t> binding_ports_;
  std::uint32_t local_ip_ = 0;
  bool itch_via_dpdk_ = false;
  ingress::UdpAddressing itch_addr_;
#ifdef PEREGRINE_HAVE_DPDK
  std::unique_ptr<ingress::dpdk::DpdkPort> port_;
  std::unique_ptr<ingress::dpdk::DpdkIngressLoop> loop_;
#endif
  std::shared_ptr<ops::CallbackMetrics> dpdk_collector_;
  // The journal (with journal.dir). The writer outlives the snapshot thread that follows it.
  std::unique_ptr<journal::JournalWriter> writer_;
  std::unique_ptr<BoundaryRing> boundaries_;
  std::unique_ptr<Snapshotter> snapshotter_;
  bool recovering_ = false;
  std::uint64_t released_events_ = 0;  // io thread: events egress may take (durable)
  std::uint64_t consumed_events_ = 0;  // io thread: events egress took
  std::atomic<bool> refusing_orders_{false};
  std::uint64_t journal_refusals_ = 0;  // io thread
  std::atomic<std::uint64_t> journal_refusals_cell_{0};
  std::atomic<std::uint64_t> disk_used_{0};
  std::atomic<std::uint64_t> disk_free_{0};
  std::uint64_t next_disk_check_ = 0;
  bool writer_failed_seen_ = false;
  std::uint64_t recovered_records_ = 0;
  double recovery_seconds_ = 0;
  std::string recovery_summary_;  // how recover() took the day up, for the ready line
};

}  // namespace

int run_server(const config::ServiceConfig& cfg, const config::EffectiveSettings& eff, const ServerOptions& opts) {
  // One exchange clock for the process: the trading day's date (the journal's directory), the
  // timestamps' origin and the schedule's time of day, all from market.utc_offset.
  const ExchangeClock clock(cfg.market.utc_offset_seconds);
  const replay::RecoveryPlan plan = replay::plan_recovery(cfg, clock.date_string());
  Server server(cfg, eff, opts, plan, clock);
  return server.run();
}

}  // namespace peregrine::app
