// The ha section (issue #15; docs/configuration.md, "ha"): the role and addresses, the timers,
// the standby-lost rule, the `replicated` durability a leader gets by default, and the Lease
// (ha.failover: lease, ha.lease) with its defaults from the pod's environment.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>

#include "config_text.hpp"
#include "peregrine/config/service.hpp"

namespace peregrine::config {
namespace ha_config_test {  // named, not anonymous: the sanitizer presets' unity builds compile it beside other tests

constexpr std::string_view kBase =
    "instruments:\n  - {symbol: \"600519\", reference_price: \"1700.00\"}\nfirms:\n  - {name: FRMA}\n"
    "journal: {dir: /j}\n";

ServiceConfig load(std::string_view rest) { return config_text::load(kBase, rest); }

std::string error_of(std::string_view base, std::string_view rest) {
  if (const auto e = config_text::refusal(base, rest)) return e->field() + ": " + e->reason();
  ADD_FAILURE() << "accepted: " << rest;
  return {};
}
std::string error_of(std::string_view rest) { return error_of(kBase, rest); }

TEST(HaConfigTest, NoSectionIsOneNodeWithTheJournalsOwnPolicy) {
  const ServiceConfig cfg = load("");
  EXPECT_EQ(cfg.ha.role, HaRole::None);
  EXPECT_EQ(cfg.journal.durability, JournalDurability::Fsync);
}

TEST(HaConfigTest, ALeaderDefaultsToReplicatedUnlessTheJournalSaysOtherwise) {
  const ServiceConfig cfg = load("ha: {role: leader, listen: \"127.0.0.1:9010\", epoch: 7, heartbeat_ms: 20,"
                                 " standby_timeout_ms: 300, standby_lost: strict, fsync_window_ms: 3}\n");
  EXPECT_EQ(cfg.ha.role, HaRole::Leader);
  EXPECT_EQ(cfg.ha.listen.port, 9010);
  EXPECT_EQ(cfg.ha.epoch, 7u);
  EXPECT_EQ(cfg.ha.heartbeat_ms, 20u);
  EXPECT_EQ(cfg.ha.standby_timeout_ms, 300u);
  EXPECT_EQ(cfg.ha.standby_lost, StandbyLost::Strict);
  EXPECT_EQ(cfg.ha.fsync_window_ms, 3u);
  EXPECT_EQ(cfg.journal.durability, JournalDurability::Replicated);

  const ServiceConfig both = config_text::load(
      "instruments:\n  - {symbol: \"600519\", reference_price: \"1700.00\"}\nfirms:\n  - {name: FRMA}\n"
      "journal: {dir: /j, durability: replicated+fsync}\n",
      "ha: {role: leader, listen: \"127.0.0.1:0\"}\n");
  EXPECT_EQ(both.journal.durability, JournalDurability::ReplicatedFsync);
}

TEST(HaConfigTest, AStandbyNamesItsLeader) {
  const ServiceConfig cfg = load("ha: {role: standby, peer: \"10.0.0.1:9010\", leader_timeout_ms: 500}\n");
  EXPECT_EQ(cfg.ha.role, HaRole::Standby);
  EXPECT_EQ(cfg.ha.peer.host, "10.0.0.1");
  EXPECT_EQ(cfg.ha.leader_timeout_ms, 500u);
  EXPECT_EQ(cfg.ha.failover, HaFailover::Manual);
  // Its journal runs as it will once promoted; it acknowledges on write whatever the policy (docs/ha.md).
  EXPECT_EQ(cfg.journal.durability, JournalDurability::Replicated);
}

TEST(HaConfigTest, AStandbyMayPromoteItselfAndListenForItsOwnStandby) {
  const ServiceConfig cfg =
      load("ha: {role: standby, peer: \"10.0.0.1:9010\", listen: \"0.0.0.0:9011\", failover: auto, leader_timeout_ms: 250}\n");
  EXPECT_EQ(cfg.ha.failover, HaFailover::Auto);
  EXPECT_EQ(cfg.ha.listen.port, 9011);
  EXPECT_EQ(error_of("ha: {role: leader, listen: \"127.0.0.1:1\", failover: auto}\n"),
            "ha.failover: auto is for a standby (it promotes itself after ha.leader_timeout_ms of silence)");
  EXPECT_NE(error_of("ha: {role: standby, peer: \"127.0.0.1:1\", failover: sometimes}\n").find("ha.failover"),
            std::string::npos);
}

TEST(HaConfigTest, RefusesWhatCannotWork) {
  EXPECT_EQ(error_of("ha: {role: leader}\n"), "ha.listen: is required for ha.role: leader (where the standby connects)");
  EXPECT_EQ(error_of("ha: {role: standby}\n"), "ha.peer: is required for ha.role: standby (the leader's ha.listen)");
  EXPECT_NE(error_of("ha: {role: primary}\n").find("ha.role"), std::string::npos);
  EXPECT_NE(error_of("ha: {role: leader, listen: \"127.0.0.1:1\", standby_lost: maybe}\n").find("ha.standby_lost"),
            std::string::npos);
  EXPECT_NE(error_of("ha: {role: leader, listen: \"127.0.0.1:1\", heartbeat_ms: 500, standby_timeout_ms: 400}\n")
                .find("ha.standby_timeout_ms: must be longer than heartbeat_ms"),
            std::string::npos);
  EXPECT_NE(error_of("ha: {role: leader, listen: \"127.0.0.1:1\", epoch: 0}\n").find("ha.epoch"), std::string::npos);
  const std::string_view no_journal =
      "instruments:\n  - {symbol: \"600519\", reference_price: \"1700.00\"}\nfirms:\n  - {name: FRMA}\n";
  EXPECT_NE(error_of(no_journal, "ha: {role: leader, listen: \"127.0.0.1:1\"}\n").find("needs journal.dir"),
            std::string::npos);
  // replicated without a standby to hold the commands
  EXPECT_EQ(error_of(no_journal, "journal: {dir: /k, durability: replicated}\n"),
            "journal.durability: replicated needs ha.role: leader or standby (a standby to hold the commands; docs/ha.md)");
}

// The environment a test sets, put back as it was afterwards (the loader reads it for ha.lease).
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value == nullptr) {
      ::unsetenv(name);
    } else {
      ::setenv(name, value, 1);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

constexpr std::string_view kLeaseLeader = "ha: {role: leader, listen: \"127.0.0.1:9010\", failover: lease";

std::string lease_leader(std::string_view lease) { return std::string(kLeaseLeader) + ", lease: {" + std::string(lease) + "}}\n"; }

TEST(HaConfigTest, TheLeaseIsReadAsWrittenWithPathsFromTheFilesDirectory) {
  const ServiceConfig cfg = load(lease_leader(
      "name: market-1, namespace: trading, identity: pod-a, api_server: \"https://10.43.0.1:6443\","
      " token_file: token, ca_file: /etc/ca.crt, duration_ms: 2000, renew_deadline_ms: 1500, retry_ms: 250, timeout_ms: 700"));
  EXPECT_EQ(cfg.ha.failover, HaFailover::Lease);
  const HaLeaseConfig& l = cfg.ha.lease;
  EXPECT_EQ(l.name, "market-1");
  EXPECT_EQ(l.namespace_name, "trading");
  EXPECT_EQ(l.identity, "pod-a");
  EXPECT_EQ(l.api_host, "10.43.0.1");
  EXPECT_EQ(l.api_port, 6443);
  EXPECT_EQ(l.token_file, "/etc/p/token");  // relative to the file (loaded from /etc/p)
  EXPECT_EQ(l.ca_file, "/etc/ca.crt");
  EXPECT_EQ(l.duration_ms, 2000u);
  EXPECT_EQ(l.renew_deadline_ms, 1500u);
  EXPECT_EQ(l.retry_ms, 250u);
  EXPECT_EQ(l.timeout_ms, 700u);
  // A standby runs an elector too; an IPv6 server and the default port.
  const ServiceConfig standby = load(
      "ha: {role: standby, peer: \"10.0.0.1:9010\", failover: lease, lease: {namespace: t, identity: pod-b,"
      " api_server: \"https://[fd00::1]\"}}\n");
  EXPECT_EQ(standby.ha.failover, HaFailover::Lease);
  EXPECT_EQ(standby.ha.lease.api_host, "fd00::1");
  EXPECT_EQ(standby.ha.lease.api_port, 443);
}

TEST(HaConfigTest, TheLeaseDefaultsComeFromThePodsEnvironment) {
  const ScopedEnv pod("POD_NAME", "trading-service-1");
  const ScopedEnv ns("POD_NAMESPACE", "peregrine");
  const ScopedEnv host("KUBERNETES_SERVICE_HOST", "10.43.0.1");
  const ScopedEnv port("KUBERNETES_SERVICE_PORT", "443");
  const ServiceConfig cfg = load(std::string(kLeaseLeader) + "}\n");
  const HaLeaseConfig& l = cfg.ha.lease;
  EXPECT_EQ(l.name, "trading-service-leader");  // the kit's Lease
  EXPECT_EQ(l.identity, "trading-service-1");
  EXPECT_EQ(l.namespace_name, "peregrine");
  EXPECT_EQ(l.api_host, "10.43.0.1");
  EXPECT_EQ(l.api_port, 443);
  EXPECT_EQ(l.token_file, "/var/run/secrets/kubernetes.io/serviceaccount/token");
  EXPECT_EQ(l.ca_file, "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt");
  EXPECT_EQ(l.duration_ms, 15000u);  // client-go's
  EXPECT_EQ(l.renew_deadline_ms, 10000u);
  EXPECT_EQ(l.retry_ms, 2000u);
  {
    // No POD_NAME: the host name and the process, so that two processes on one host differ.
    const ScopedEnv no_pod("POD_NAME", nullptr);
    char name[256] = {};
    ASSERT_EQ(::gethostname(name, sizeof name - 1), 0);
    EXPECT_EQ(load(std::string(kLeaseLeader) + "}\n").ha.lease.identity,
              std::string(name) + "_" + std::to_string(::getpid()));
  }
  // An IPv6 service address comes bare in the environment.
  const ScopedEnv v6("KUBERNETES_SERVICE_HOST", "fd00:43::1");
  EXPECT_EQ(load(std::string(kLeaseLeader) + "}\n").ha.lease.api_host, "fd00:43::1");
}

// The service account's namespace file the loader reads, set for a test (a pod has the real one).
class ScopedNamespaceFile {
 public:
  explicit ScopedNamespaceFile(const char* path) : old_(detail::service_account_namespace_file) {
    detail::service_account_namespace_file = path;
  }
  ~ScopedNamespaceFile() { detail::service_account_namespace_file = old_; }
  ScopedNamespaceFile(const ScopedNamespaceFile&) = delete;
  ScopedNamespaceFile& operator=(const ScopedNamespaceFile&) = delete;

 private:
  const char* old_;
};

// Deterministic inside a pod too: the environment and the namespace file are the test's own.
TEST(HaConfigTest, OutsideAPodTheLeaseNeedsItsServerAndNamespace) {
  const ScopedEnv ns("POD_NAMESPACE", nullptr);
  const ScopedEnv host("KUBERNETES_SERVICE_HOST", nullptr);
  const ScopedEnv port("KUBERNETES_SERVICE_PORT", nullptr);
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / ("peregrine-ha-config-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string missing = (dir / "missing").string();
  const ScopedNamespaceFile none(missing.c_str());
  EXPECT_EQ(error_of(lease_leader("namespace: t")),
            "ha.lease.api_server: is required outside a pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set");
  EXPECT_EQ(error_of(lease_leader("api_server: \"https://k:6443\"")),
            "ha.lease.namespace: is required outside a pod: POD_NAMESPACE is not set and " + missing + " cannot be read");
  {
    // In a pod without POD_NAMESPACE: the service account's namespace file, its first line trimmed.
    const std::string file = (dir / "namespace").string();
    std::ofstream(file) << "  trading\n";
    const ScopedNamespaceFile pod(file.c_str());
    EXPECT_EQ(load(lease_leader("api_server: \"https://k:6443\"")).ha.lease.namespace_name, "trading");
  }
  std::filesystem::remove_all(dir);
}

TEST(HaConfigTest, RefusesLeaseTimersTheElectorCannotKeep) {
  const std::string_view where = "namespace: t, api_server: \"https://k:6443\", ";
  auto refusal = [&](std::string_view timers) { return error_of(lease_leader(std::string(where) + std::string(timers))); };
  EXPECT_EQ(refusal("duration_ms: 2500"),
            "ha.lease.duration_ms: must be whole seconds, at least 1000 (the Lease holds leaseDurationSeconds), got 2500");
  EXPECT_EQ(refusal("duration_ms: 500, renew_deadline_ms: 400, retry_ms: 100"),
            "ha.lease.duration_ms: must be whole seconds, at least 1000 (the Lease holds leaseDurationSeconds), got 500");
  // The defaults count too: a 2 s Lease with the default 10 s renew deadline.
  EXPECT_EQ(refusal("duration_ms: 2000"),
            "ha.lease.renew_deadline_ms: must be less than duration_ms (2000), got 10000: a leader must stop leading before "
            "others may take the Lease");
  EXPECT_EQ(refusal("duration_ms: 2000, renew_deadline_ms: 2000, retry_ms: 250"),
            "ha.lease.renew_deadline_ms: must be less than duration_ms (2000), got 2000: a leader must stop leading before "
            "others may take the Lease");
  EXPECT_EQ(refusal("duration_ms: 2000, renew_deadline_ms: 1500, retry_ms: 1500"),
            "ha.lease.retry_ms: must be less than renew_deadline_ms (1500), got 1500: the leader renews every retry_ms");
  EXPECT_NE(refusal("retry_ms: 0").find("ha.lease.retry_ms: must be positive"), std::string::npos);
  EXPECT_NE(refusal("timeout_ms: soon").find("ha.lease.timeout_ms: must be a number of milliseconds"), std::string::npos);
}

// A renewal that fails only when its call times out must leave time for one more before the
// renew deadline: otherwise one slow call to the API server deposes a healthy leader.
TEST(HaConfigTest, RefusesALeaseCallTimeoutThatLeavesNoRetryBeforeTheRenewDeadline) {
  const std::string_view where = "namespace: t, api_server: \"https://k:6443\", ";
  auto refusal = [&](std::string_view timers) { return error_of(lease_leader(std::string(where) + std::string(timers))); };
  EXPECT_EQ(refusal("duration_ms: 6000, renew_deadline_ms: 4000, retry_ms: 500, timeout_ms: 4000"),
            "ha.lease.timeout_ms: must be less than renew_deadline_ms (4000) minus retry_ms (500), got 4000: a renewal "
            "that times out must leave time for another before the leader is deposed");
  EXPECT_EQ(refusal("duration_ms: 6000, renew_deadline_ms: 4000, retry_ms: 500, timeout_ms: 3500"),
            "ha.lease.timeout_ms: must be less than renew_deadline_ms (4000) minus retry_ms (500), got 3500: a renewal "
            "that times out must leave time for another before the leader is deposed");
  // The defaults count too: a 2 s renew deadline with the default 1 s timeout and 1 s retry.
  EXPECT_EQ(refusal("duration_ms: 3000, renew_deadline_ms: 2000, retry_ms: 1000"),
            "ha.lease.timeout_ms: must be less than renew_deadline_ms (2000) minus retry_ms (1000), got 1000: a renewal "
            "that times out must leave time for another before the leader is deposed");
  const ServiceConfig ok =
      load(lease_leader(std::string(where) + "duration_ms: 6000, renew_deadline_ms: 4000, retry_ms: 500, timeout_ms: 3499"));
  EXPECT_EQ(ok.ha.lease.timeout_ms, 3499u);
  EXPECT_EQ(load(lease_leader("namespace: t, api_server: \"https://k:6443\"")).ha.lease.timeout_ms, 1000u);  // 1000 + 2000 < 10000
}

// The Lease holds the epoch as leaseTransitions, an int32: a larger ha.epoch is refused, not
// clamped. Without the Lease the epoch takes 64 bits.
TEST(HaConfigTest, UnderTheLeaseRefusesAnEpochAboveInt32) {
  const std::string lease = ", failover: lease, lease: {namespace: t, api_server: \"https://k:6443\"}}\n";
  EXPECT_EQ(error_of("ha: {role: leader, listen: \"127.0.0.1:1\", epoch: 2147483648" + lease),
            "ha.epoch: must be at most 2147483647 under ha.failover: lease (the Lease holds the epoch as leaseTransitions, "
            "a 32-bit integer), got 2147483648");
  EXPECT_EQ(error_of("ha: {role: standby, peer: \"127.0.0.1:1\", epoch: 4294967296" + lease),
            "ha.epoch: must be at most 2147483647 under ha.failover: lease (the Lease holds the epoch as leaseTransitions, "
            "a 32-bit integer), got 4294967296");
  EXPECT_EQ(load("ha: {role: leader, listen: \"127.0.0.1:1\", epoch: 2147483647" + lease).ha.epoch, 2147483647u);
  EXPECT_EQ(load("ha: {role: leader, listen: \"127.0.0.1:1\", epoch: 2147483648}\n").ha.epoch, 2147483648u);
}

TEST(HaConfigTest, RefusesALeaseThatCannotWork) {
  const ScopedEnv host("KUBERNETES_SERVICE_HOST", "10.43.0.1");
  const ScopedEnv port("KUBERNETES_SERVICE_PORT", "443");
  const ScopedEnv ns("POD_NAMESPACE", "peregrine");
  EXPECT_EQ(error_of("ha: {failover: lease}\n"), "ha.failover: lease needs ha.role: leader or standby (each runs an elector)");
  EXPECT_EQ(error_of("ha: {role: leader, listen: \"127.0.0.1:1\", lease: {name: m}}\n"),
            "ha.lease: applies with ha.failover: lease only");
  EXPECT_EQ(error_of(lease_leader("api_server: \"http://10.0.0.1:6443\"")),
            "ha.lease.api_server: must be an https:// URL such as \"https://10.43.0.1:443\", got \"http://10.0.0.1:6443\"");
  EXPECT_EQ(error_of(lease_leader("api_server: \"https://10.0.0.1:99999\"")),
            "ha.lease.api_server: has no port from 1 to 65535 in \"https://10.0.0.1:99999\"");
  EXPECT_EQ(error_of(lease_leader("api_server: \"https://10.0.0.1/api\"")),
            "ha.lease.api_server: must name the server only (no path), got \"https://10.0.0.1/api\"");
  EXPECT_EQ(error_of(lease_leader("identity: \"\"")), "ha.lease.identity: must not be empty");
  EXPECT_EQ(error_of(lease_leader("duraton_ms: 2000")), "ha.lease.duraton_ms: unknown key; did you mean 'duration_ms'?");
  EXPECT_NE(error_of("ha: {role: leader, listen: \"127.0.0.1:1\", failover: lease, lease: 5}\n").find("ha.lease: must be a map"),
            std::string::npos);
}

}  // namespace ha_config_test
}  // namespace peregrine::config
