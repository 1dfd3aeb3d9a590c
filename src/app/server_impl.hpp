#pragma once
// The service's one object, `Server`, split by job over the files of src/app (server.hpp says
// what it does; topology.hpp lists its threads):
//   server.cpp          construction (the stages), run(), the shut-down;
//   io_loop.cpp         the io thread: its loop and wait, the sessions, egress, MoldUDP64, the tick;
//   admin_backend.cpp   the admin API (ops thread) and the schedule's commands;
//   recovery.cpp        the day's recovery at start-up, the journal's writer and health;
//   dpdk_wiring.cpp     4b: the DPDK port, its lcore and the UDP replier;
//   metrics_wiring.cpp  what /metrics shows, registered once and read at scrape time;
//   ha_wiring.cpp       replication: the leader's link, the standby's recovery, link and replica.
// App-internal: only those files include it.

#include <sys/socket.h>
#include <sys/uio.h>

#include <boost/asio.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/spdlog.h>

#include "peregrine/agent/agent_runner.hpp"
#include "peregrine/agent/clock.hpp"
#include "peregrine/agent/parker.hpp"
#include "peregrine/app/core_loop.hpp"
#include "peregrine/dropcopy/publisher.hpp"
#include "peregrine/egress/datagram_batch.hpp"
#include "peregrine/egress/egress.hpp"
#include "peregrine/egress/feed_session.hpp"
#include "peregrine/ingress/dpdk_host.hpp"
#include "peregrine/ha/elector.hpp"
#include "peregrine/ha/held_seq.hpp"
#include "peregrine/ha/lease_client.hpp"
#include "peregrine/ha/replication_link.hpp"
#include "peregrine/ingress/udp_ingress.hpp"
#include "peregrine/ingress/udp_replier.hpp"
#include "peregrine/ops/http_server.hpp"
#include "peregrine/ops/metrics.hpp"
#include "peregrine/proto/ouch_translate.hpp"
#include "peregrine/replay/record_applier.hpp"
#include "peregrine/replay/recovery_plan.hpp"
#include "peregrine/sessions/soup_session.hpp"
#include "exchange_clock.hpp"
#include "server.hpp"
#include "snapshotter.hpp"
#include "tcp_session_host.hpp"

namespace prometheus {
class Histogram;
class Registry;
}  // namespace prometheus

namespace peregrine::app {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;

/// The last signal received (SIGTERM, SIGINT), 0 before: the io loop ends when it is set.
inline std::atomic<int> g_signal{0};
/// The io thread's eventfd, or -1: a signal writes it to end the io thread's wait in epoll.
inline std::atomic<int> g_wake_fd{-1};

using agent::mono_ns;

/// The journal writer's policy for the configuration's durability.
inline journal::Durability durability_of(config::JournalDurability d) {
  switch (d) {
    case config::JournalDurability::Fsync: return journal::Durability::Fsync;
    case config::JournalDurability::Fdatasync: return journal::Durability::Fdatasync;
    case config::JournalDurability::None: return journal::Durability::None;
    case config::JournalDurability::Replicated: return journal::Durability::Replicated;
    case config::JournalDurability::ReplicatedFsync: return journal::Durability::ReplicatedFsync;
  }
  return journal::Durability::Fsync;
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

class SyncHistogram;  // metrics_wiring.cpp

using OuchHost = TcpSessionHost<sessions::SoupServerSession>;
using FeedHost = TcpSessionHost<egress::FeedSession>;

class Server final : public ConnectionOwner, public ops::AdminBackend, public agent::Agent {
 public:
  Server(const config::ServiceConfig& cfg, const config::EffectiveSettings& eff, const ServerOptions& opts,
         const replay::RecoveryPlan& plan, const ExchangeClock& clock);
  ~Server() override;

  // server.cpp
  int run();

  // io_loop.cpp
  void io_loop();
  bool io_has_work();
  void arm_io_wake();

  // ---- agent::Agent: the io thread's pass and wait (io_loop.cpp) ----
  void on_start() override;
  int do_work() override;
  bool has_work() override;
  std::chrono::nanoseconds park_timeout() override;
  bool park(agent::Parker& parker, std::chrono::nanoseconds timeout) override;

  // ---- ConnectionOwner (io thread; io_loop.cpp) ----
  bool submit(const Command& cmd) override;
  void submit_control(const Command& cmd) override;
  void on_closed(const std::string& peer, sessions::CloseReason why) override;
  std::uint64_t now_ns() const override { return mono_ns(); }

  // ---- AdminBackend (ops thread; admin_backend.cpp) ----
  ops::AdminResult depth(const Symbol& symbol, std::size_t levels, ops::DepthSnapshot& out) override;
  void depth_tick();                // the HTTP thread's timer (admin_backend.cpp)
  bool depth_drop_logged_ = false;  // HTTP thread
  ops::AdminResult halt(const Symbol& symbol) override { return status(symbol, TradingStatus::Halted); }
  ops::AdminResult resume(const Symbol& symbol) override;
  ops::AdminResult set_phase(const Symbol& symbol, TradingStatus phase) override { return status(symbol, phase); }
  ops::AdminResult kill(const FirmName& firm, bool cancel_open) override;
  ops::AdminResult release(const FirmName& firm) override;
  ops::AdminResult mass_cancel(const FirmName& firm, const std::optional<Symbol>& symbol) override;
  ops::AdminResult snapshot() override;
  ops::AdminResult promote() override;  // ha_wiring.cpp: asks the io thread, waits for its answer

 private:
  // admin_backend.cpp
  Timestamp admin_ts() const { return Timestamp{mono_ns() - origin_ns_}; }
  static bool resumable(TradingStatus s) noexcept {
    return s == TradingStatus::Halted || s == TradingStatus::Suspended || s == TradingStatus::ResumeCall;
  }
  ops::AdminResult status(const Symbol& symbol, TradingStatus st);
  void run_schedule(std::uint64_t now);
  ops::AdminResult admin(const Command& cmd);

  // io_loop.cpp
  void listen(tcp::acceptor& acc, const config::ListenAddress& where, const char* what);
  void accept_ouch();
  void accept_itch();
  int pump(std::uint64_t now);
  void observe_status(const Event& e);
  std::size_t releasable_events(std::size_t max);
  void send_datagram(std::span<const std::uint8_t> d);
  void send_mold_batch();
  void receive_requests();
  void tick(std::uint64_t now);

  // ---- the journal: recovery at start-up, health (recovery.cpp) ----
  void journal_log(std::string_view level, const std::string& line);
  void recover();
  /// Builds the drop-copy publisher when the dropcopy section asks for one (server.cpp).
  void make_dropcopy();
  void resume_after_recovery();
  bool journal_healthy() const;
  void check_journal(std::uint64_t now);

  // ---- 4b. the DPDK ingress (dpdk_wiring.cpp) ----
  void start_dpdk_port();
  std::string start_dpdk_loop();
  void stop_dpdk_loop();
  void close_dpdk_port();
  void send_udp(std::size_t b, std::span<const std::uint8_t> datagram);
  void flush_udp_tx();
  int pump_udp(std::uint64_t now, bool events);

  // ---- ha: replication (ha_wiring.cpp; docs/ha.md) ----
  /// A standby now (ha.role standby, not yet promoted). Any thread.
  [[nodiscard]] bool standby() const noexcept { return role_.load(std::memory_order_acquire) == config::HaRole::Standby; }
  void start_ha_leader();              // recover(): before the writer starts
  void start_leader_link(std::unique_ptr<ha::LeaderLink> link);  // start_ha_leader(), promote_now()
  /// Bound on ha.listen (throws naming it); nullptr without ha.listen (a standby may have none).
  [[nodiscard]] std::unique_ptr<ha::LeaderLink> make_leader_link(std::uint64_t epoch);
  [[nodiscard]] std::filesystem::path epoch_file() const;
  ops::AdminResult promote_now(const std::string& why, bool manual);  // io thread: the promotion (docs/ha.md)
  void check_promotion();              // io thread, each pass: a request from the admin API, or ha.failover auto
  void recover_standby();              // run(): instead of recover()
  int pump_replica();                  // io thread: replicated records into the replica; a promotion
  int pump_replica_records();          // io thread: the records alone
  [[nodiscard]] bool replica_has_work() const;
  void on_standby_sync(bool in_sync, const std::string& why);  // the link's thread
  // ha.failover lease (ha_wiring.cpp; docs/ha.md, "The Lease in the server")
  /// The Lease client and the elector (not started); `floor`: the least epoch it may write;
  /// `holds_epoch`: the newest epoch whose records this node's journal holds (it takes no Lease
  /// of a newer epoch).
  void make_elector(std::function<std::int64_t()> floor, std::function<std::uint64_t()> holds_epoch);
  /// Leader at start-up: starts the elector and waits until it holds the Lease, saying why it
  /// waits; returns the Lease's epoch.
  [[nodiscard]] std::uint64_t acquire_lease_at_start();
  /// True when this process may acknowledge: no Lease in play, or it holds it and was never
  /// deposed. Any thread (a clock read and three atomic loads).
  [[nodiscard]] bool lease_held() const noexcept {
    return !elector_ || (!lease_deposed_.load(std::memory_order_acquire) && elector_->is_leader());
  }
  void on_lease_acquired(std::int64_t epoch);      // the elector's thread
  void on_lease_lost(ha::StepDownReason reason);   // the elector's thread
  void depose_by_lease(const std::string& why);    // the elector's or the io thread: once
  /// shut_down(), ~Server: releases a held Lease; `abandon`: at the epoch it had before (Elector::abandon).
  void stop_elector(bool abandon = false);
  void give_up_lease(const std::string& why);      // io thread: a standby that won it and cannot promote
  /// How far the drop copy publishes: the durable seq, as far as it was read while this node held
  /// the Lease (ha::HeldSeq; without the Lease in play, the durable seq). Any thread.
  [[nodiscard]] std::uint64_t dropcopy_seq() noexcept;
  [[nodiscard]] std::string lease_where() const;   // "Lease NS/NAME as ID", for lines
  void settle_replication();           // shut_down(): the standby's acks for the last records
  void stop_ha();
  [[nodiscard]] std::string ha_summary() const;  // for the ready line
  void register_ha_metrics();
  void publish_statuses();             // statuses_ from the engine, after a replay

  // server.cpp
  void pretouch_rings();
  int shut_down();

  // ---- metrics (metrics_wiring.cpp) ----
  void publish_io_counters();
  void publish_reply_counters();
  void register_dpdk_metrics();
  void register_journal_metrics();
  void register_metrics();

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
  // The UDP replier's counters are the io thread's plain integers: tick() copies them here.
  std::array<std::atomic<std::uint64_t>, 6> reply_cells_{};

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
  agent::AgentRunner io_runner_;
  CoreLoop core_;
  std::uint64_t origin_ns_;
  asio::io_context io_;
  asio::posix::stream_descriptor io_wake_{io_};  // a dup of io_runner_'s eventfd, in io_'s epoll
  std::uint64_t next_tick_ = 0;  // io thread: mono_ns of the next tick
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
  std::unique_ptr<ingress::dpdk::UdpIngressLcoreHost> lcore_host_;
  std::unique_ptr<ingress::dpdk::DpdkIngress> port_;  // from peregrine-dpdk.so; the lcore's host outlives it
  std::shared_ptr<ops::CallbackMetrics> dpdk_collector_;
  // The writer's written listener, whichever replication link runs (a standby's writer starts
  // before its promotion, and a listener is set once, before the writer's start); declared before
  // the writer and the links, so it is destroyed after them.
  agent::Parker repl_parker_;
  // The journal (with journal.dir). The writer outlives the snapshot thread that follows it.
  std::unique_ptr<journal::JournalWriter> writer_;
  std::unique_ptr<BoundaryRing> boundaries_;
  std::unique_ptr<Snapshotter> snapshotter_;
  // The drop copy (the dropcopy section; docs/dropcopy.md): follows the writer's durable seq.
  std::unique_ptr<dropcopy::Publisher> dropcopy_;
  std::shared_ptr<ops::CallbackMetrics> dropcopy_collector_;
  bool recovering_ = false;
  std::uint64_t released_events_ = 0;  // io thread: events egress may take (durable)
  std::uint64_t consumed_events_ = 0;  // io thread: events egress took
  std::atomic<bool> refusing_orders_{false};
  std::uint64_t journal_refusals_ = 0;  // io thread
  std::atomic<std::uint64_t> journal_refusals_cell_{0};
  std::uint64_t lease_refusals_ = 0;  // io thread: orders refused without the Lease (ha.failover lease)
  std::atomic<std::uint64_t> lease_refusals_cell_{0};
  std::atomic<std::uint64_t> disk_used_{0};
  std::atomic<std::uint64_t> disk_free_{0};
  std::uint64_t next_disk_check_ = 0;
  bool writer_failed_seen_ = false;
  std::uint64_t recovered_records_ = 0;
  double recovery_seconds_ = 0;
  std::string recovery_summary_;  // how recover() took the day up, for the ready line
  // ha (ha_wiring.cpp). A standby's replica is this server's own engine and egress, fed on the io
  // thread from the link's ring by the applier recovery uses.
  struct ReplicaRecord {
    std::uint64_t seq;
    std::uint8_t kind;
    std::uint8_t len;
    std::uint8_t payload[sizeof(Command)];
  };
  using ReplicaRing = ring::SpscRing<ReplicaRecord, std::size_t{1} << 14>;
  std::unique_ptr<ha::LeaderLink> leader_link_;
  std::unique_ptr<ha::StandbyLink> standby_link_;
  std::unique_ptr<ReplicaRing> replica_ring_;
  std::unique_ptr<replay::RecordApplier> replica_;
  std::atomic<bool> standby_refusing_{false};  // leader, ha.standby_lost strict: no standby in sync
  std::shared_ptr<ops::CallbackMetrics> ha_collector_;
  // Promotion (docs/ha.md, "Promotion"): the role changes once, standby -> leader, on the io thread.
  std::atomic<config::HaRole> role_{config::HaRole::None};
  std::atomic<std::uint64_t> epoch_{0};      // the leader's epoch, or the newest a standby accepted
  std::atomic<std::uint64_t> failovers_{0};  // promotions of this process
  std::atomic<const ha::LinkStats*> leader_stats_{nullptr};  // once a leader link runs (metrics)
  std::mutex promote_mutex_;
  std::condition_variable promote_cv_;
  std::atomic<bool> promote_requested_{false};
  std::uint64_t promote_round_ = 0;          // guarded by promote_mutex_: answers given so far
  ops::AdminResult promote_answer_;          // guarded by promote_mutex_
  std::uint64_t next_auto_promote_ns_ = 0;   // io thread: ha.failover auto, after a failed attempt
  // ha.failover lease: the elector runs on its own thread; what it decides reaches the io thread
  // through these atomics (and lease_held(), which reads the elector's deadline).
  std::unique_ptr<ha::LeaseApi> lease_client_;  // peregrine-kube.so's LeaseClient
  std::unique_ptr<ha::Elector> elector_;           // after the writer: destroyed (stopped) before it
  bool elector_started_ = false;                   // io thread (a standby starts it once it has heard a leader)
  std::atomic<bool> lease_won_{false};             // standby: the elector holds the Lease; the io thread promotes
  std::atomic<bool> lease_deposed_{false};         // lost the Lease: nothing more is acknowledged
  std::atomic<bool> lease_deposed_said_{false};    // the deposition's lines are written once
  int exit_status_ = 0;                            // io thread, then run(): non-zero ends the process with it
  ha::HeldSeq dropcopy_held_;                      // dropcopy_seq(): the durable seq read while holding the Lease
};

}  // namespace peregrine::app
