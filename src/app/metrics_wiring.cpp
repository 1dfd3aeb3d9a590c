// What /metrics shows beyond the core's counters (docs/operations.md, "Metrics"): the io
// thread's counters published by its tick, the journal's and the snapshot thread's, DPDK's, the
// thread CPU times and the acknowledgement-latency histogram. Registered once before ready;
// the callbacks run on the metrics thread at scrape time and only load.

#include "server_impl.hpp"

#include <limits>

#include <prometheus/collectable.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include "peregrine/agent/thread_registry.hpp"
#include "topology.hpp"

namespace peregrine::app {

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

void Server::publish_io_counters() {
  const auto set = [this](IoCounter c, std::uint64_t v) { io_cells_[c].value.store(v, std::memory_order_relaxed); };
  set(kOuchLogins, session_counters_.logins);
  set(kOuchLoginRejects, session_counters_.login_rejects);
  set(kOuchMessagesIn, session_counters_.messages_in);
  set(kOuchEdgeRejects, session_counters_.edge_rejects);
  // The session counts every order the server did not take as a full ring; the refusals by
  // rule (the journal's, the Lease's) have counters of their own.
  const std::uint64_t refused = journal_refusals_ + lease_refusals_;
  set(kOuchRingFull, session_counters_.ring_full_rejects > refused ? session_counters_.ring_full_rejects - refused : 0);
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
  lease_refusals_cell_.store(lease_refusals_, std::memory_order_relaxed);
  itch_connections_.store(feed_hosts_.size(), std::memory_order_relaxed);
}

void Server::publish_reply_counters() {
  if (!replier_) return;
  const ingress::UdpReplyCounters& c = replier_->counters();
  const std::array<std::uint64_t, 6> v{c.packets, c.messages, c.heartbeats, c.gap_notices,
                                       c.requests, c.retransmitted_packets};
  for (std::size_t i = 0; i < v.size(); ++i) reply_cells_[i].store(v[i], std::memory_order_relaxed);
}

// DPDK and UDP order-entry metrics (docs/dpdk.md, "Metrics"). The lcore's cells are loaded
// here; the NIC's counters are read with rte_eth_stats_get on this (the metrics) thread.
void Server::register_dpdk_metrics() {
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
}

// The journal's and the snapshot thread's metrics (docs/operations.md, "Metrics").
void Server::register_journal_metrics() {
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
  m.add_gauge("peregrine_journal_state",
              "0 ok, 1 refusing new orders (free space below journal.min_free_mb, no standby in sync under "
              "ha.standby_lost strict, or a deposed leader), 2 cannot write.",
              {}, [this] {
                if (writer_->failed()) return 2.0;
                return refusing_orders_.load(std::memory_order_relaxed) ? 1.0 : 0.0;
              });
  m.add_counter("peregrine_journal_refused_orders_total",
                "New orders and replaces refused: low journal disk space, no standby in sync (ha.standby_lost strict), "
                "or a leader deposed by a newer epoch.", {},
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

void Server::register_metrics() {
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
  // CPU time of every named thread of the topology this process runs (agent::ThreadCpuRegistration),
  // read at scrape time; 0 until the thread has started.
  for (const ThreadSpec& t : kTopology) {
    if (t.name.empty()) continue;
    if (t.presence == ThreadPresence::WithJournal && !writer_) continue;
    if (t.presence == ThreadPresence::WithDpdk && !udp_ring_) continue;
    if (t.presence == ThreadPresence::WithDropCopy && !dropcopy_) continue;
    if (t.presence == ThreadPresence::WithHa && !leader_link_ && !standby_link_) continue;
    const std::string name(t.name);
    io_collector_->add_counter("peregrine_thread_cpu_seconds_total", "CPU time of a thread of the service.",
                               {{"thread", name}}, [name] { return agent::thread_cpu_seconds(name); });
  }
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
  register_ha_metrics();
  register_dpdk_metrics();
}

}  // namespace peregrine::app
