#pragma once
/// The whole service's configuration: the engine's reference data (EngineConfig) plus users,
/// gateway addresses and sessions, the matching core's thread, the admin API and the customer's
/// four tuning switches. Loaded from one YAML file (docs/configuration.md), overridden by
/// environment variables and command-line flags (precedence: flag > env > file > default), then
/// turned into concrete thread/socket/memory settings by resolve(). Native builds only; startup
/// code, so errors are ConfigError exceptions. Thread-safe: no shared state.

#include <cstdint>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "peregrine/agent/idle_strategy.hpp"
#include "peregrine/agent/wait_strategy.hpp"
#include "peregrine/config/dropcopy.hpp"
#include "peregrine/config/loader.hpp"
#include "peregrine/core/config.hpp"

namespace peregrine::config {

// --- values ------------------------------------------------------------------------------------

/// A `host:port` pair. `host` is an IPv4 address, a bracketed IPv6 address's inside (`::1`, the
/// brackets dropped) or a host name; port 0 means "any free port" (tests).
struct ListenAddress {
  std::string host;
  std::uint16_t port = 0;

  /// `host:port`, with brackets around an IPv6 host: parse_listen(to_string()) gives it back.
  [[nodiscard]] std::string to_string() const;
  friend bool operator==(const ListenAddress&, const ListenAddress&) = default;
};

/// One SoupBinTCP login and the OUCH firm its orders are entered for.
struct UserConfig {
  std::string username;              ///< 1-6 letters or digits (SoupBinTCP Username, case-sensitive)
  std::string firm;                  ///< a configured firm's name; every order of the user is this firm's
  bool cancel_on_disconnect = true;  ///< cancel the user's open orders when its last session ends
  std::uint32_t throttle_per_second = 10000;  ///< inbound OUCH messages per second per session; 0 = none
  int line = 0;  ///< 1-based line of the entry in the config file; 0 when not from a file
};

/// One line of the credentials file.
struct Credential {
  std::string username;
  std::string password;  ///< 1-10 printable characters, no spaces (SoupBinTCP Password)
  int line = 0;          ///< 1-based line in the file
};

/// The credentials file, as read by load_credentials().
struct Credentials {
  std::string file;                  ///< path as given
  std::vector<Credential> entries;   ///< in file order; usernames are unique

  /// The entry for `username`, or nullptr.
  [[nodiscard]] const Credential* find(std::string_view username) const noexcept;
};

/// Network endpoints and SoupBinTCP session parameters.
struct GatewayConfig {
  ListenAddress ouch_listen{"127.0.0.1", 9001};       ///< OUCH 4.2 over SoupBinTCP (TCP)
  ListenAddress itch_listen{"127.0.0.1", 9002};       ///< ITCH 5.0 over SoupBinTCP (TCP)
  ListenAddress mold_destination{"127.0.0.1", 9003};  ///< ITCH 5.0 over MoldUDP64 (UDP, sent here)
  ListenAddress http_listen{"127.0.0.1", 8080};       ///< /metrics, /healthz, /readyz, admin API
  std::string session_name = "PEREGRINE1";            ///< SoupBinTCP session, 1-10 letters or digits
  std::uint32_t heartbeat_interval_ms = 1000;         ///< server heartbeat when otherwise silent
  std::uint32_t session_timeout_ms = 15000;           ///< client silent this long: session ends
  std::uint32_t retention_messages = 1000000;         ///< outbound messages kept per user for replay
  std::uint64_t max_outbound_queue_bytes = 8u << 20;  ///< a session queueing more is cut off (slow consumer)
};

/// The matching core's thread. Absent fields are decided by resolve() from the tuning switches.
struct CoreConfig {
  /// CPU for the core thread: a CPU number, -1 for "never pin", or absent for "auto" (pinned to
  /// the last allowed CPU when tuning.cpu_affinity is true, else not pinned).
  std::optional<int> cpu;
  /// What the core thread does when idle; absent: busy-spin with tuning.low_latency_mode, else
  /// spin-then-park.
  std::optional<agent::IdleStrategyKind> idle_strategy;
};

/// The HTTP admin API.
struct AdminConfig {
  /// File holding the bearer token for mutating admin calls (resolved against the config file's
  /// directory). Empty: no token, and every mutating admin call is refused with 401.
  std::string token_file;
};

/// Which order-entry ingress runs beside the SoupBinTCP gateway.
enum class IngressKind : std::uint8_t {
  Asio,  ///< SoupBinTCP only (the default)
  Dpdk,  ///< also MoldUDP64/OUCH over UDP from a DPDK port (docs/dpdk.md)
};

/// One UDP client endpoint bound to a user (docs/protocol.md, "Order entry over UDP").
struct UdpBindingConfig {
  std::string user;      ///< a configured user's name: its owner, firm and throttle apply
  std::string ip;        ///< the client's IPv4 address (dotted quad)
  std::uint16_t port = 0;  ///< the client's UDP source port (1-65535)
  std::string session;   ///< the client's MoldUDP64 session, 1-10 letters or digits
  int line = 0;
};

/// The DPDK packet ingress. Read only when kind is Dpdk.
struct IngressConfig {
  IngressKind kind = IngressKind::Asio;
  std::vector<std::string> eal_args{"--no-huge", "--no-pci", "-m", "256", "-l", "0", "--no-shconf"};
  std::uint16_t port = 0;      ///< DPDK ethdev port id
  std::uint16_t rx_queue = 0;  ///< polled by the ingress lcore
  std::uint16_t tx_queue = 0;  ///< replies, sent by the egress thread
  std::string ip = "10.0.0.1";  ///< our IPv4 address on that port
  std::uint16_t udp_port = 9010;  ///< our UDP port for order entry
  std::uint16_t burst = 32;    ///< rx burst, 1-64
  std::optional<agent::IdleStrategyKind> idle_strategy;  ///< absent: as the core's
  std::vector<UdpBindingConfig> bindings;
  /// When set, the ITCH MoldUDP64 feed goes out on the DPDK port (TX queue tx_queue) to this
  /// IPv4 address:port instead of gateway.mold_destination's kernel socket.
  std::optional<ListenAddress> itch_destination;
  /// Destination MAC for itch_destination ("aa:bb:cc:dd:ee:ff"); empty: derived for a multicast
  /// group (01:00:5e + the group's low 23 bits), required for a unicast address.
  std::string itch_mac;
};
/// One step of the market's day: from `second_of_day` (exchange time) the market is in `phase`.
struct ScheduleStep {
  std::uint32_t second_of_day = 0;
  TradingStatus phase = TradingStatus::Trading;
  friend bool operator==(const ScheduleStep&, const ScheduleStep&) = default;
};

/// The A-share day (SSE/SZSE): opening call 9:15 (cancels until 9:20), uncross 9:25, continuous
/// 9:30-11:30 and 13:00-14:57, closing call 14:57-15:00, then closed.
[[nodiscard]] std::vector<ScheduleStep> a_share_schedule();

/// The trading day and what halts do (docs/configuration.md, `market`).
struct MarketConfig {
  /// True: the scheduler drives every instrument through `schedule` by the wall clock.
  /// False (`schedule: continuous`): no scheduler; instruments stay in their initial status.
  bool scheduled = true;
  std::vector<ScheduleStep> schedule = a_share_schedule();  ///< ascending; before the first step: closed
  std::int32_t utc_offset_seconds = 8 * 3600;               ///< the exchange's clock (China Standard Time)
  bool resume_via_call = true;              ///< /admin/resume goes through a resumption call
  std::uint32_t resume_call_seconds = 180;  ///< how long that call lasts
};

/// The phase the schedule gives at `second_of_day` (closed before its first step).
[[nodiscard]] TradingStatus phase_at(const std::vector<ScheduleStep>& schedule, std::uint32_t second_of_day) noexcept;
/// Seconds from `second_of_day` to the schedule's next step (wrapping past midnight to the first
/// step of the next day); 0 for an empty schedule.
[[nodiscard]] std::uint32_t seconds_to_next_step(const std::vector<ScheduleStep>& schedule,
                                                 std::uint32_t second_of_day) noexcept;

/// How the journal makes a batch durable before its replies leave (docs/operations.md).
enum class JournalDurability : std::uint8_t {
  Fsync,      ///< fsync per batch (group commit), the default
  Fdatasync,  ///< fdatasync per batch
  None,       ///< write only; benchmarks only (start-up warns)
  /// Issue #15, a leader with a standby (docs/ha.md): replies wait for the command written here
  /// and held by the standby; fsync in the background within ha.fsync_window_ms. The default
  /// under ha.role: leader.
  Replicated,
  ReplicatedFsync,  ///< `replicated+fsync`: replies wait for the fsync here and the standby's hold
};

/// The command journal, snapshots and recovery (docs/operations.md, "Journal").
struct JournalConfig {
  /// Directory of the journal (one sub-directory per trading day, exchange date); resolved
  /// against the config file's directory. Empty: no journal, and a crash loses the day's state
  /// (start-up warns).
  std::string dir;
  JournalDurability durability = JournalDurability::Fsync;
  std::uint64_t segment_bytes = std::uint64_t{256} << 20;  ///< `segment_mb`: a new segment file past this size
  /// A snapshot after this many commands since the last one (0 = not by count). It bounds what a
  /// restart replays after the newest snapshot (docs/operations.md, "Recovery time").
  std::uint64_t snapshot_every_commands = 1'000'000;
  /// A snapshot this often when commands arrived since the last one (0 = not by time).
  std::uint32_t snapshot_every_seconds = 300;
  std::uint32_t keep_snapshots = 2;  ///< snapshot files kept (the newest ones)
  /// Segments wholly before the newest snapshot, and earlier days' directories, are removed
  /// this long after they were last written.
  std::uint32_t retention_hours = 72;
  /// `min_free_mb`: below this much free space on the journal's file system the engine refuses
  /// new orders and replaces (cancels still go through), and /readyz turns false.
  std::uint64_t min_free_bytes = std::uint64_t{1} << 30;
  /// `durability` was given in the file (else ha.role: leader makes it `replicated`).
  bool durability_set = false;
};

/// This process's part in replication (docs/ha.md): the role it starts in. A standby becomes the
/// leader at run time (ha.failover); with `lease`, a leader leads only while it holds the Lease.
enum class HaRole : std::uint8_t {
  None,     ///< one node, no replication (the default)
  Leader,   ///< takes orders, streams its journal to the standby on `listen`
  Standby,  ///< follows the leader at `peer`: its own journal and replica; refuses logins
};

/// What a leader does when its standby is gone (disconnected, silent or behind for
/// standby_timeout_ms, or never connected): `fsync` releases replies on its own fsync;
/// `strict` refuses new orders and replaces until the standby is back and caught up.
enum class StandbyLost : std::uint8_t { Fsync, Strict };

/// Who leads (docs/ha.md, "Promotion", "The Lease in the server"): `manual`, a standby is promoted
/// by POST /admin/promote only; `auto`, a standby also promotes itself after ha.leader_timeout_ms
/// without a frame from the leader it followed (no Lease: it can split the brain); `lease`, the
/// Kubernetes Lease ha.lease decides: the leader must hold it to lead, and a standby promotes
/// itself when it acquires it (both nodes run an elector).
enum class HaFailover : std::uint8_t { Manual, Auto, Lease };

/// The service account's files in a pod (client-go's rest.InClusterConfig reads the same).
inline constexpr const char* kServiceAccountTokenFile = "/var/run/secrets/kubernetes.io/serviceaccount/token";
inline constexpr const char* kServiceAccountCaFile = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
inline constexpr const char* kServiceAccountNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";
namespace detail {
/// Where the loader reads the Lease's namespace when POD_NAMESPACE is not set:
/// kServiceAccountNamespaceFile. Tests point it at a file of their own (one thread, before
/// loading, put back after), so that what they check does not depend on running in a pod.
extern const char* service_account_namespace_file;
}  // namespace detail

/// The highest epoch under ha.failover: lease: the Lease holds it as leaseTransitions, an int32
/// in Kubernetes (the elector refuses to write a higher one too).
inline constexpr std::uint64_t kMaxLeaseEpoch = 2'147'483'647;

/// `ha.lease` (with ha.failover: lease): the Lease, who this process is, the API server, and the
/// elector's timers (peregrine/ha/elector.hpp; the loader checks its rules). Defaults that come
/// from the environment are resolved when the file is loaded, so this holds what will be used.
struct HaLeaseConfig {
  std::string name = "trading-service-leader";  ///< the kit's Lease (deploy/k3s/base/lease.yaml)
  /// `namespace`: the Lease's; default $POD_NAMESPACE, else the service account's namespace file.
  std::string namespace_name;
  std::string identity;   ///< holderIdentity; default $POD_NAME, else the host name
  std::string api_host;   ///< from `api_server` ("https://HOST:PORT"); default $KUBERNETES_SERVICE_HOST
  std::uint16_t api_port = 443;  ///< default $KUBERNETES_SERVICE_PORT
  std::string token_file = kServiceAccountTokenFile;  ///< read on every call (a projected token rotates)
  std::string ca_file = kServiceAccountCaFile;        ///< the CA that signed the API server's certificate
  std::uint32_t duration_ms = 15'000;       ///< leaseDurationSeconds × 1000: whole seconds, at least 1 s
  std::uint32_t renew_deadline_ms = 10'000;  ///< less than duration_ms
  std::uint32_t retry_ms = 2'000;           ///< less than renew_deadline_ms
  std::uint32_t timeout_ms = 1'000;         ///< bound on each call to the API server
};

/// The `ha` section (docs/ha.md, docs/configuration.md).
struct HaConfig {
  HaRole role = HaRole::None;
  ListenAddress listen;  ///< leader (and a standby, once promoted): where the standby connects (port 0: ephemeral)
  ListenAddress peer;    ///< standby: the leader's `listen`
  /// The leader's epoch, carried by every replicated record; a standby refuses older ones. The
  /// least one: a node leads at the newest it has kept, and with the Lease at least its epoch.
  /// At most kMaxLeaseEpoch under ha.failover: lease.
  std::uint64_t epoch = 1;
  std::uint32_t heartbeat_ms = 50;         ///< leader -> standby heartbeats when idle
  std::uint32_t standby_timeout_ms = 500;  ///< leader: a standby behind or silent this long is lost
  std::uint32_t leader_timeout_ms = 1000;  ///< standby: a leader silent this long: reconnect
  StandbyLost standby_lost = StandbyLost::Fsync;
  std::uint32_t fsync_window_ms = 10;  ///< `replicated`: the longest a written command waits for its fsync
  HaFailover failover = HaFailover::Manual;  ///< who leads: the admin API, the leader's silence, or the Lease
  HaLeaseConfig lease;  ///< with failover: lease
};

/// The customer's four ConfigMap switches; resolve() says what each does. All default to false.
struct TuningConfig {
  bool low_latency_mode = false;      ///< busy-spin core, TCP_NODELAY
  bool cpu_affinity = false;          ///< pin the core and gateway threads
  bool network_optimization = false;  ///< TCP_NODELAY, 4 MiB socket buffers, SO_BUSY_POLL
  bool cache_enabled = false;         ///< mlockall + pre-touch the engine's tables
  /// `io_wait`: the io thread's wait strategy (spin, spin-then-park or park); absent: spin under
  /// low_latency_mode when it has a CPU of its own, else the default (resolve()).
  std::optional<agent::IdleStrategyKind> io_wait;
  /// `journal_wait`: the journal writer's (spin, spin-then-park or park); absent: the default.
  std::optional<agent::IdleStrategyKind> journal_wait;
  /// `spin_us`: how long a spin-then-park thread spins before it parks, in microseconds.
  std::optional<std::uint32_t> spin_us;
};

/// Largest tuning.spin_us (one second).
inline constexpr std::uint32_t kMaxSpinMicros = 1'000'000;

/// Everything the service reads at startup.
struct ServiceConfig {
  std::string source;               ///< the file it was read from (or the name given with the text)
  EngineConfig engine;              ///< instruments, firms, capacities
  std::vector<UserConfig> users;    ///< in file order
  std::string credentials_file;     ///< resolved path; empty when the file names none
  Credentials credentials;          ///< filled by load_service_config(), not by the _from_string form
  GatewayConfig gateway;
  CoreConfig core;
  AdminConfig admin;
  TuningConfig tuning;
  IngressConfig ingress;
  MarketConfig market;
  JournalConfig journal;
  DropCopyConfig dropcopy;  ///< docs/dropcopy.md
  HaConfig ha;

  /// The user called `username`, or nullptr.
  [[nodiscard]] const UserConfig* find_user(std::string_view username) const noexcept;
};

// --- loading -----------------------------------------------------------------------------------

/// Reads the YAML file at `path` (all sections), then the credentials file it names, and checks
/// that every user has a credential and every credential a user. Relative paths in the file are
/// taken from the file's directory. Throws ConfigError on the first problem.
[[nodiscard]] ServiceConfig load_service_config(const std::string& path);

/// As load_service_config() from text, but does not read the credentials file: `credentials`
/// stays empty and `credentials_file` is resolved against `base_dir`. `name` stands for the file
/// name in errors.
[[nodiscard]] ServiceConfig load_service_config_from_string(std::string_view text,
                                                            const std::string& name = "<string>",
                                                            const std::string& base_dir = ".");

/// Reads a credentials file: one `username:password` per line; blank lines and lines starting
/// with `#` (after leading spaces) are skipped; a CR before the newline is ignored. Errors read
/// `<path>:<line>: <reason>` and never quote a password.
[[nodiscard]] Credentials load_credentials(const std::string& path);

/// As load_credentials(), from text; `name` stands for the file name in errors.
[[nodiscard]] Credentials load_credentials_from_string(std::string_view text, const std::string& name);

/// Throws ConfigError unless `users` and `credentials` name exactly the same usernames. The
/// error is at the credential's line (a credential without a user) or the config file's
/// (`source`, user not credentialed).
void check_credentials(const ServiceConfig& cfg, const Credentials& credentials);

// --- parsing single values (shared by the file, the environment and the command line) -----------

/// A parsed value, or why the text is not one.
template <typename T>
struct Parsed {
  std::optional<T> value;
  std::string error;  ///< empty when `value` is set; else "must be ..., got \"...\""

  explicit operator bool() const noexcept { return value.has_value(); }
};

/// `true`/`1` or `false`/`0`, exactly.
[[nodiscard]] Parsed<bool> parse_bool(std::string_view text);

/// `host:port`: an IPv4 address, `[IPv6]` or a host name, a colon, and a port 0-65535 in
/// decimal. `allow_port_zero` false refuses port 0 (a destination, not a listener).
[[nodiscard]] Parsed<ListenAddress> parse_listen(std::string_view text, bool allow_port_zero = true);

/// A CPU number 0-1023, or -1 for "not pinned".
[[nodiscard]] Parsed<int> parse_cpu(std::string_view text);

/// Words of `text` split on spaces and tabs (EAL arguments from --eal-args or one string).
[[nodiscard]] std::vector<std::string> split_words(std::string_view text);

/// `asio` or `dpdk`.
[[nodiscard]] Parsed<IngressKind> parse_ingress(std::string_view text);

/// `fsync`, `fdatasync` or `none`.
[[nodiscard]] Parsed<JournalDurability> parse_durability(std::string_view text);
/// `busy-spin`, `yield`, `backoff`, `spin-then-park` or `park`.
[[nodiscard]] Parsed<agent::IdleStrategyKind> parse_idle(std::string_view text);
/// A thread's wait in the tuning section: `spin` (busy-spin), `spin-then-park` or `park`.
[[nodiscard]] Parsed<agent::IdleStrategyKind> parse_wait(std::string_view text);

/// Two gateway sockets that cannot both be opened.
struct GatewayConflict {
  std::string field;   ///< the second of the two, e.g. `gateway.itch_listen`
  std::string reason;  ///< e.g. `port 9001 is also gateway.ouch_listen's`
};

/// The first clash between the TCP listeners (ouch, itch, http): the same non-zero port on the
/// same host, or on any host when either is a wildcard (`0.0.0.0`, `::`). Port 0 never clashes.
[[nodiscard]] std::optional<GatewayConflict> gateway_conflict(const GatewayConfig& gw);

// --- overrides ---------------------------------------------------------------------------------

/// Environment variables, name to value. Only the names in kEnvironmentVariables are read.
using Environment = std::map<std::string, std::string, std::less<>>;

/// The environment variables apply_overrides() reads.
inline constexpr std::string_view kEnvironmentVariables[] = {
    "PEREGRINE_OUCH_LISTEN", "PEREGRINE_ITCH_LISTEN", "PEREGRINE_HTTP_LISTEN", "PEREGRINE_CORE_CPU",
    "PEREGRINE_IDLE_STRATEGY", "LOW_LATENCY_MODE", "CPU_AFFINITY", "NETWORK_OPTIMIZATION", "CACHE_ENABLED",
};

/// The process's values of kEnvironmentVariables (unset ones left out). Reads getenv(): call
/// before starting threads.
[[nodiscard]] Environment read_environment();

/// Values given on the command line (the main parses them, e.g. with parse_listen()); unset
/// fields leave the configuration alone.
struct FlagOverrides {
  std::optional<ListenAddress> ouch_listen;
  std::optional<ListenAddress> itch_listen;
  std::optional<ListenAddress> http_listen;
  std::optional<int> core_cpu;
  std::optional<agent::IdleStrategyKind> idle_strategy;
  std::optional<bool> low_latency_mode;
  std::optional<bool> cpu_affinity;
  std::optional<bool> network_optimization;
  std::optional<bool> cache_enabled;
  std::optional<IngressKind> ingress;                ///< --ingress=asio|dpdk
  std::optional<std::vector<std::string>> eal_args;  ///< --eal-args "..." (split on spaces)
  std::optional<std::string> journal_dir;             ///< --journal-dir DIR ("" = no journal)
  std::optional<JournalDurability> journal_durability;  ///< --journal-durability fsync|fdatasync|none
};

/// Applies `env`, then `flags`, over `cfg` (so flag > env > file > default), then re-checks the
/// gateway ports. A bad environment value throws ConfigError with file "environment", the
/// variable as field and the reason, e.g. `environment: LOW_LATENCY_MODE: must be true, false,
/// 1 or 0, got "yes"`. Unknown variables in `env` are ignored.
void apply_overrides(ServiceConfig& cfg, const Environment& env, const FlagOverrides& flags = {});

// --- effective settings --------------------------------------------------------------------------

/// Default socket buffer size under tuning.network_optimization (SO_SNDBUF and SO_RCVBUF).
inline constexpr int kOptimizedSocketBuffer = 4 << 20;
/// SO_BUSY_POLL under tuning.network_optimization, in microseconds (the kernel docs' suggested 50).
inline constexpr int kBusyPollMicros = 50;

/// What the app does at startup, decided from the tuning switches and the explicit fields.
/// Pure values: the app applies them (and logs `notes`), nothing here touches the system.
struct EffectiveSettings {
  agent::IdleStrategyKind core_idle = agent::IdleStrategyKind::SpinThenPark;  ///< the core thread's idle strategy
  /// The io (gateway) thread's: busy-spin under low_latency_mode when it has a CPU of its own
  /// (gateway_cpu), else spin-then-park (it waits in epoll).
  agent::IdleStrategyKind io_idle = agent::IdleStrategyKind::SpinThenPark;
  /// The journal writer's: spin-then-park (it has no CPU of its own to spin on).
  agent::IdleStrategyKind journal_idle = agent::IdleStrategyKind::SpinThenPark;
  /// How long a spin-then-park thread spins before it parks (tuning.spin_us).
  std::chrono::nanoseconds park_after = agent::kDefaultSpin;
  /// The wait of a thread the configuration leaves to the default: park when the process may
  /// run on fewer than three CPUs, else spin-then-park.
  agent::IdleStrategyKind default_wait = agent::IdleStrategyKind::SpinThenPark;
  int core_cpu = -1;      ///< sched_setaffinity for the core thread; -1 = not pinned
  int gateway_cpu = -1;   ///< sched_setaffinity for the gateway (Asio) thread; -1 = not pinned
  bool tcp_nodelay = false;   ///< TCP_NODELAY on every accepted OUCH and ITCH (SoupBinTCP) connection
  int socket_send_buffer = 0;  ///< SO_SNDBUF in bytes on those connections; 0 = leave the OS default
  int socket_recv_buffer = 0;  ///< SO_RCVBUF in bytes on those connections; 0 = leave the OS default
  int busy_poll_us = 0;        ///< SO_BUSY_POLL in microseconds; 0 = not set. Failure (EPERM) is a warning
  bool mlock_all = false;      ///< mlockall(MCL_CURRENT | MCL_FUTURE); failure is a warning
  bool pretouch = false;       ///< write every page of the order pool, token table and rings at startup
  std::vector<std::string> notes;  ///< one line per decision, why it was made (for the startup log)

  friend bool operator==(const EffectiveSettings&, const EffectiveSettings&) = default;
};

/// Decides the effective settings. `allowed_cpus` is the CPUs the process may run on (sorted or
/// not; see allowed_cpus()). Throws ConfigError (field `core.cpu`) when pinning is asked for a
/// CPU not in `allowed_cpus`. Pure: same inputs, same result.
[[nodiscard]] EffectiveSettings resolve(const ServiceConfig& cfg, const std::vector<int>& allowed_cpus);

/// The CPUs this process may run on (sched_getaffinity), ascending. Any thread.
[[nodiscard]] std::vector<int> allowed_cpus();

}  // namespace peregrine::config
