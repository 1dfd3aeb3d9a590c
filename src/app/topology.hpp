#pragma once
// The service's threads, in one table: every thread the process starts, what it owns, what it
// takes in and gives out, where it runs and how it waits. docs/architecture.md's "Threads of the
// service" is this table, cell for cell (tests/unit/app/topology_test.cpp compares them).
// Threads of our own run under agent::AgentRunner (a duty-cycle loop with a wait strategy) or,
// when their loop is a library's event loop, agent::launch_named; both name them (`pg-...`) and
// register their CPU time, which /metrics reports as peregrine_thread_cpu_seconds_total{thread}.
// App-internal.

#include <array>
#include <string_view>

namespace peregrine::app {

inline constexpr std::string_view kCoreThread = "pg-core";
inline constexpr std::string_view kIoThread = "pg-io";
inline constexpr std::string_view kJournalThread = "pg-journal";
inline constexpr std::string_view kSnapshotThread = "pg-snapshot";
inline constexpr std::string_view kHttpThread = "pg-http";
inline constexpr std::string_view kDpdkThread = "pg-dpdk";
inline constexpr std::string_view kDropCopyThread = "pg-dropcopy";
inline constexpr std::string_view kReplThread = "pg-repl";  // src/ha names it (replication_link.cpp)

/// When a thread exists.
enum class ThreadPresence : unsigned char {
  Always,
  WithJournal,  ///< journal.dir is set
  WithDpdk,     ///< --ingress=dpdk
  WithDropCopy,  ///< the dropcopy section is enabled (it needs journal.dir)
  WithHa,       ///< ha.role leader or standby
};

/// One row of the table. The text cells are the documentation's (Markdown).
struct ThreadSpec {
  std::string_view name;     ///< the thread's name (OS and /metrics); empty: not ours to name
  std::string_view thread;   ///< the first cell: the name and how it runs
  std::string_view role;     ///< what it owns
  std::string_view inputs;   ///< what it takes in, and who wakes it
  std::string_view outputs;  ///< what it gives out, and whom it wakes
  std::string_view cpu;      ///< where it runs
  std::string_view wait;     ///< what it does when it has nothing to do
  ThreadPresence presence;
};

/// Every thread of the service: the main thread, then the others in the order they start.
inline constexpr std::array<ThreadSpec, 9> kTopology{{
    {kIoThread,
     "`pg-io`: the main thread (the OS shows the process's name); `agent::AgentRunner::run_here`",
     "the Asio `io_context`: OUCH and ITCH listeners and sessions, `Egress`, the MoldUDP64 socket, the 100 ms tick "
     "(heartbeats, the schedule, journal health); before ready, the day's recovery",
     "sockets; the event ring, released by the boundary ring against the durable seq; with DPDK the notice ring. "
     "Woken by the core, the journal writer and the DPDK lcore",
     "commands into the gateway ring (one wake of the core per pass); OUCH and ITCH bytes (one write per connection "
     "per pass); MoldUDP64 datagrams (one `sendmmsg` per pass); wakes the snapshot thread from its tick",
     "under `tuning.cpu_affinity` the highest allowed CPU that is not the core's; else not pinned",
     "`tuning.io_wait`; else `spin` under `tuning.low_latency_mode` when it has a CPU of its own; else the default. "
     "It parks in epoll (Asio `run_one_for`, up to the next tick) with its eventfd registered",
     ThreadPresence::Always},
    {{},
     "spdlog's worker (not named)",
     "log lines",
     "spdlog's queue (never written by the core thread)",
     "the log",
     "not pinned",
     "spdlog's condition variable",
     ThreadPresence::Always},
    {kJournalThread,
     "`pg-journal`: `journal::JournalWriter`'s thread",
     "the day's segment files",
     "the journal ring (the core pushes each command before it processes it, and wakes it)",
     "segments written and synced (group commit); the durable seq, waking the io thread",
     "not pinned",
     "`tuning.journal_wait`; else the default",
     ThreadPresence::WithJournal},
    {kReplThread,
     "`pg-repl`: `ha::LeaderLink`'s or `ha::StandbyLink`'s thread",
     "the replication connection (docs/ha.md): a leader's listener and its standby's socket, or a standby's socket to "
     "its leader",
     "leader: the journal's files up to the written seq (the writer wakes it) and the standby's Acks; standby: the "
     "leader's Records and Heartbeats, and its own journal's durable seq (its writer wakes it)",
     "leader: Records and Heartbeats; the standby's acknowledgements into the writer, which releases replies (waking "
     "the io thread). Standby: records into its journal ring (waking its writer) and the replica ring (waking the io "
     "thread, which applies them); Acks",
     "not pinned",
     "poll(2) on its sockets and eventfd, up to half the heartbeat (leader) or 10 ms (standby)",
     ThreadPresence::WithHa},
    {kSnapshotThread,
     "`pg-snapshot`: `Snapshotter` under `agent::AgentRunner`",
     "a replica: its own Engine, user directory and Egress, fed by the `replay` library as recovery is",
     "the journal's files up to the durable seq; snapshot requests (`POST /admin/snapshot`)",
     "snapshot files; old snapshots, segments and days removed per retention",
     "not pinned",
     "`park`: woken by the io thread's tick when the durable seq is past the replica, by a request, or at the next "
     "timed snapshot",
     ThreadPresence::WithJournal},
    {kCoreThread,
     "`pg-core`: `CoreLoop` under `agent::AgentRunner`",
     "the `Engine`",
     "the gateway and admin command rings, and with DPDK the UDP command ring. Woken by their producers",
     "the event ring, waking the io thread; with a journal the journal ring (waking the writer) and the boundary "
     "ring; relaxed counter cells",
     "`core.cpu`; else under `tuning.cpu_affinity` the last allowed CPU; else not pinned",
     "`core.idle_strategy`; else `spin` under `tuning.low_latency_mode`; else the default",
     ThreadPresence::Always},
    {kDpdkThread,
     "`pg-dpdk`: an EAL worker lcore, or a thread registered with the EAL",
     "the port's RX queue, `UdpIngress` (endpoints, inbound sequence numbers)",
     "frames from the RX queue",
     "commands (edge rejects included) into the UDP command ring, waking the core; gap notices and re-requests into "
     "the notice ring, waking the io thread",
     "the EAL's lcore (`ingress.eal_args`)",
     "`ingress.idle_strategy`: it polls a NIC, which wakes nobody, so `spin-then-park` and `park` back off",
     ThreadPresence::WithDpdk},
    {kHttpThread,
     "`pg-http`: `ops::OpsServer`'s thread, started by `agent::launch_named`",
     "HTTP: `/metrics`, `/healthz`, `/readyz`, the admin API; the admin depth books (`egress::DepthFollower`)",
     "HTTP requests; egress's ITCH buffer, read without a lock (a published length over chunks that never move)",
     "admin commands into the admin ring (one producer: a mutex among handlers; it wakes the core); metrics read with "
     "relaxed loads at scrape time; depth from its own books, which follow the ITCH buffer on each request and a 50 ms "
     "timer",
     "not pinned",
     "epoll (Asio `run`)",
     ThreadPresence::Always},
    {kDropCopyThread,
     "`pg-dropcopy`: `dropcopy::Publisher`'s own loop, started by `agent::launch_named` (rabbitmq-c's I/O blocks)",
     "a replica: its own Engine (`replay::EngineReplay`), the day's drop-copy numbering, the unconfirmed window, one "
     "AMQP connection, the checkpoint file",
     "the journal's files up to the durable seq (it looks every 20 ms); the broker's confirms and returns",
     "JSON messages to RabbitMQ (persistent, mandatory, publisher confirms); the checkpoint",
     "not pinned",
     "the broker's socket (up to 20 ms), or its eventfd between reconnection attempts",
     ThreadPresence::WithDropCopy},
}};

}  // namespace peregrine::app
