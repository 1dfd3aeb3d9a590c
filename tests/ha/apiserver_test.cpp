// The Lease client and the elector against a real kube-apiserver v1.30.14 (on etcd), started on
// loopback by the ctest fixture ha.apiserver_start (tests/ha/apiserver.sh, scripts/kube-apiserver),
// with the kit's own RBAC for the Lease (deploy/k3s/base/lease.yaml) applied. PEREGRINE_KUBE_DIR
// names the server's directory (its env file, CA and tokens).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <unistd.h>

#include "peregrine/ha/elector.hpp"
#include "peregrine/ha/lease_client.hpp"

namespace peregrine::ha {
namespace {

using namespace std::chrono_literals;

// What deploy/k3s/base/lease.yaml ships: the Lease the pods share, in their namespace.
constexpr const char* kKitLease = "trading-service-leader";
constexpr const char* kNamespace = "peregrine";

std::map<std::string, std::string> server_env() {
  const char* dir = std::getenv("PEREGRINE_KUBE_DIR");
  std::map<std::string, std::string> env;
  if (dir == nullptr) {
    return env;
  }
  std::ifstream in(std::string(dir) + "/env");
  for (std::string line; std::getline(in, line);) {
    if (auto eq = line.find('='); eq != std::string::npos) {
      env[line.substr(0, eq)] = line.substr(eq + 1);
    }
  }
  return env;
}

class ApiServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = server_env();
    ASSERT_FALSE(env_.empty()) << "no API server: run through ctest (fixture ha.apiserver_start), or "
                                  "scripts/kube-apiserver start DIR and PEREGRINE_KUBE_DIR=DIR";
  }

  ApiServerConfig config(const std::string& token) const {
    ApiServerConfig c;
    c.host = env_.at("KUBE_HOST");
    c.port = static_cast<std::uint16_t>(std::stoi(env_.at("KUBE_PORT")));
    c.ca_file = env_.at("KUBE_CA");
    c.token_file = env_.at("KUBE_TOKEN_DIR") + "/" + token;
    c.namespace_name = kNamespace;
    c.timeout = 5s;  // the test VM is shared and slow; the elector's own calls use the same
    return c;
  }

  // A Lease name of this test only (the server outlives the test).
  static std::string unique(const std::string& stem) {
    return stem + "-" + std::to_string(::getpid()) + "-" +
           std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1'000'000'000);
  }

  // The kit's Lease with nobody holding it, as `kubectl apply` leaves it (by the lease-creator,
  // which may update any Lease; the pods' identity may only touch this one).
  void free_kit_lease() {
    LeaseClient admin(config("lease-creator"));
    for (int attempt = 0; attempt < 5; ++attempt) {
      auto got = admin.get(kKitLease);
      ASSERT_TRUE(got.ok()) << got.message;
      LeaseRecord l = *got.lease;
      l.holder_identity.clear();
      l.renew_time.clear();
      l.acquire_time.clear();
      if (admin.update(l).ok()) return;
    }
    FAIL() << "could not free " << kKitLease;
  }

  static ElectorConfig elector_config(std::string identity) {
    ElectorConfig c;
    c.lease_name = kKitLease;
    c.identity = std::move(identity);
    c.lease_duration = 2s;
    c.renew_deadline = 1500ms;
    c.retry_period = 200ms;
    c.create_if_missing = false;  // the kit ships the Lease: the pods cannot create
    return c;
  }

  std::map<std::string, std::string> env_;
};

TEST_F(ApiServerTest, CreatesALeaseWith201AndRefusesASecondCreateWith409) {
  LeaseClient client(config("lease-creator"));
  LeaseRecord l;
  l.name = unique("create");
  l.holder_identity = "pod-a";
  l.lease_duration_seconds = 15;
  l.acquire_time = format_micro_time(std::chrono::system_clock::now());
  l.renew_time = l.acquire_time;
  l.lease_transitions = 1;
  l.annotations["peregrine.io/test"] = "yes";
  auto r = client.create(l);
  ASSERT_EQ(r.status, LeaseStatus::Created) << r.message;
  EXPECT_EQ(r.http_status, 201);
  ASSERT_TRUE(r.lease);
  EXPECT_FALSE(r.lease->resource_version.empty());
  EXPECT_EQ(r.lease->namespace_name, kNamespace);
  EXPECT_EQ(r.lease->holder_identity, "pod-a");
  EXPECT_EQ(r.lease->acquire_time, l.acquire_time);  // MicroTime round-trips exactly
  EXPECT_EQ(r.lease->lease_transitions, 1);
  EXPECT_EQ(r.lease->annotations.at("peregrine.io/test"), "yes");

  auto again = client.create(l);
  EXPECT_EQ(again.status, LeaseStatus::AlreadyExists) << again.message;
  EXPECT_EQ(again.http_status, 409);

  auto missing = client.get(unique("missing"));
  EXPECT_EQ(missing.status, LeaseStatus::NotFound);
  EXPECT_EQ(missing.http_status, 404);
}

TEST_F(ApiServerTest, RenewsWith200AndRefusesAStaleResourceVersionWith409) {
  LeaseClient client(config("lease-creator"));
  LeaseRecord l;
  l.name = unique("renew");
  l.holder_identity = "pod-a";
  l.lease_duration_seconds = 15;
  auto created = client.create(l);
  ASSERT_TRUE(created.ok()) << created.message;

  LeaseRecord renewal = *created.lease;
  renewal.renew_time = format_micro_time(std::chrono::system_clock::now());
  auto renewed = client.update(renewal);
  ASSERT_EQ(renewed.status, LeaseStatus::Ok) << renewed.message;
  EXPECT_EQ(renewed.http_status, 200);
  EXPECT_NE(renewed.lease->resource_version, created.lease->resource_version);
  EXPECT_EQ(renewed.lease->renew_time, renewal.renew_time);

  // The first version again: someone wrote since, so the precondition fails.
  LeaseRecord stale = *created.lease;
  stale.holder_identity = "pod-b";
  auto refused = client.update(stale);
  EXPECT_EQ(refused.status, LeaseStatus::Conflict);
  EXPECT_EQ(refused.http_status, 409);
  EXPECT_NE(refused.message.find("the object has been modified"), std::string::npos) << refused.message;
  auto now = client.get(l.name);
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now.lease->holder_identity, "pod-a");
}

TEST_F(ApiServerTest, RefusesATokenWithNoRoleWith403AndSaysWhy) {
  LeaseClient client(config("norole"));
  auto r = client.get(kKitLease);
  EXPECT_EQ(r.status, LeaseStatus::Forbidden);
  EXPECT_EQ(r.http_status, 403);
  EXPECT_NE(r.message.find("User \"peregrine-test-norole\" cannot get resource \"leases\""), std::string::npos)
      << r.message;
  EXPECT_NE(r.message.find("deploy/k3s/base/lease.yaml"), std::string::npos) << r.message;

  // The elector with that token never leads and keeps the reason.
  auto c = elector_config("pod-norole");
  Elector e(client, c);
  e.start();
  ASSERT_TRUE(e.wait_for_calls(2, 20s));
  EXPECT_FALSE(e.is_leader());
  EXPECT_NE(e.last_error().find("403 forbidden"), std::string::npos) << e.last_error();
  e.stop();
}

TEST_F(ApiServerTest, RefusesAnUnknownTokenWith401) {
  const std::string token = ::testing::TempDir() + "/bogus-token";
  std::ofstream(token) << "not-a-token-the-server-knows\n";
  auto c = config("admin");
  c.token_file = token;
  LeaseClient client(c);
  auto r = client.get(kKitLease);
  EXPECT_EQ(r.status, LeaseStatus::Unauthorized) << r.message;
  EXPECT_EQ(r.http_status, 401);
}

TEST_F(ApiServerTest, RefusesAServerItsCaDidNotSign) {
  auto c = config("admin");
  c.ca_file = "/etc/ssl/certs/ca-certificates.crt";  // the public CAs: none signed the test server
  LeaseClient client(c);
  auto r = client.get(kKitLease);
  EXPECT_EQ(r.status, LeaseStatus::TransportError);
  EXPECT_NE(r.message.find("certificate verify failed"), std::string::npos) << r.message;
}

TEST_F(ApiServerTest, TheKitsRoleAllowsGetAndUpdateOfItsLeaseOnly) {
  free_kit_lease();
  LeaseClient pod(config("trading-service"));
  auto got = pod.get(kKitLease);
  ASSERT_EQ(got.status, LeaseStatus::Ok) << got.message;
  LeaseRecord l = *got.lease;
  l.renew_time = format_micro_time(std::chrono::system_clock::now());
  auto updated = pod.update(l);
  EXPECT_EQ(updated.status, LeaseStatus::Ok) << updated.message;

  auto other = pod.get("some-other-lease");
  EXPECT_EQ(other.status, LeaseStatus::Forbidden) << other.message;
  LeaseRecord fresh;
  fresh.name = unique("pod-create");
  auto created = pod.create(fresh);
  EXPECT_EQ(created.status, LeaseStatus::Forbidden) << created.message;
  EXPECT_NE(created.message.find("cannot create resource \"leases\""), std::string::npos) << created.message;
}

TEST_F(ApiServerTest, TheElectorStepsDownWhenItsResourceVersionIsStale) {
  free_kit_lease();
  LeaseClient pod(config("trading-service"));
  std::atomic<int> stops{0};
  std::atomic<StepDownReason> reason{StepDownReason::Stopped};
  ElectorCallbacks cb{{}, [&](StepDownReason r) { reason = r; ++stops; }, {}};
  auto c = elector_config("trading-service-0");
  c.release_on_stop = false;
  Elector e(pod, c, cb);
  e.start();
  ASSERT_TRUE(e.wait_for_leading(true, 20s)) << e.last_error();

  // Another writer (an operator, a takeover) changes the Lease: the elector's next renewal
  // carries a stale resourceVersion, gets 409 and steps down.
  LeaseClient admin(config("lease-creator"));
  for (int attempt = 0;; ++attempt) {
    ASSERT_LT(attempt, 10);
    auto got = admin.get(kKitLease);
    ASSERT_TRUE(got.ok());
    LeaseRecord l = *got.lease;
    l.holder_identity = "trading-service-1";
    l.lease_transitions += 1;
    if (admin.update(l).ok()) break;
  }
  ASSERT_TRUE(e.wait_for_leading(false, 20s));
  e.stop();
  EXPECT_EQ(stops.load(), 1);
  EXPECT_EQ(reason.load(), StepDownReason::Conflict);
  EXPECT_NE(e.last_error().find("409"), std::string::npos) << e.last_error();
}

TEST_F(ApiServerTest, OfTwoElectorsRacingForTheLeaseExactlyOneLeads) {
  LeaseClient pod0(config("trading-service"));
  LeaseClient pod1(config("trading-service"));
  for (int round = 0; round < 3; ++round) {
    free_kit_lease();
    auto c0 = elector_config("trading-service-0");
    auto c1 = elector_config("trading-service-1");
    c0.release_on_stop = c1.release_on_stop = false;
    Elector e0(pod0, c0);
    Elector e1(pod1, c1);
    e0.start();
    e1.start();
    const auto until = std::chrono::steady_clock::now() + 20s;
    while (!e0.is_leader() && !e1.is_leader()) {
      ASSERT_LT(std::chrono::steady_clock::now(), until) << e0.last_error() << " / " << e1.last_error();
      e0.wait_for_leading(true, 20ms);
    }
    // Ten calls of the other later (two seconds, a whole lease duration): still one leader, the
    // same, and the Lease names it with its epoch.
    Elector& leader = e0.is_leader() ? e0 : e1;
    Elector& other = e0.is_leader() ? e1 : e0;
    const std::string leader_identity = &leader == &e0 ? "trading-service-0" : "trading-service-1";
    for (int i = 0; i < 10; ++i) {
      ASSERT_TRUE(other.wait_for_calls(other.calls() + 1, 20s));
      EXPECT_FALSE(e0.is_leader() && e1.is_leader());
      EXPECT_TRUE(leader.is_leader());
    }
    EXPECT_EQ(e0.acquisitions() + e1.acquisitions(), 1u);
    EXPECT_EQ(other.holder(), leader_identity);
    auto got = pod0.get(kKitLease);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(got.lease->holder_identity, leader_identity);
    EXPECT_EQ(got.lease->lease_transitions, leader.epoch());
    e0.stop();
    e1.stop();
  }
}

TEST_F(ApiServerTest, AStandbyTakesOverAfterTheHolderStopsRenewingWithEpochPlusOne) {
  free_kit_lease();
  LeaseClient pod0(config("trading-service"));
  LeaseClient pod1(config("trading-service"));
  auto c0 = elector_config("trading-service-0");
  auto c1 = elector_config("trading-service-1");
  c0.release_on_stop = c1.release_on_stop = false;  // a holder that dies releases nothing

  auto e0 = std::make_unique<Elector>(pod0, c0);
  e0->start();
  ASSERT_TRUE(e0->wait_for_leading(true, 20s)) << e0->last_error();
  std::int64_t epoch = e0->epoch();
  auto e1 = std::make_unique<Elector>(pod1, c1);
  e1->start();
  ASSERT_TRUE(e1->wait_for_calls(3, 20s));
  EXPECT_FALSE(e1->is_leader());
  EXPECT_EQ(e1->holder(), "trading-service-0");

  // Three takeovers, each after the holder stops renewing: 0 -> 1 -> 0 -> 1.
  for (int takeover = 0; takeover < 3; ++takeover) {
    auto& holder = takeover % 2 == 0 ? e0 : e1;
    auto& standby = takeover % 2 == 0 ? e1 : e0;
    auto& holder_client = takeover % 2 == 0 ? pod0 : pod1;
    auto& holder_config = takeover % 2 == 0 ? c0 : c1;
    holder->stop();  // stops renewing, as a killed pod
    const auto stopped = std::chrono::steady_clock::now();
    ASSERT_TRUE(standby->wait_for_leading(true, 20s)) << standby->last_error();
    // Not before the Lease could have expired (its duration, less one retry period and a call).
    EXPECT_GE(std::chrono::steady_clock::now() - stopped, 2s - 500ms);
    EXPECT_EQ(standby->epoch(), epoch + 1);
    epoch = standby->epoch();
    auto got = holder_client.get(kKitLease);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(got.lease->lease_transitions, epoch);
    EXPECT_EQ(got.lease->holder_identity, takeover % 2 == 0 ? "trading-service-1" : "trading-service-0");
    // The old holder comes back as the standby.
    holder = std::make_unique<Elector>(holder_client, holder_config);
    holder->start();
    ASSERT_TRUE(holder->wait_for_calls(3, 20s));
    EXPECT_FALSE(holder->is_leader());
  }
  e0->stop();
  e1->stop();
}

TEST_F(ApiServerTest, AReleasedLeaseIsTakenWithoutWaitingForExpiry) {
  free_kit_lease();
  LeaseClient pod0(config("trading-service"));
  LeaseClient pod1(config("trading-service"));
  auto c0 = elector_config("trading-service-0");
  auto c1 = elector_config("trading-service-1");
  c0.lease_duration = 10s;  // long: only a release explains a quick takeover
  c0.renew_deadline = 5s;
  c1.lease_duration = 10s;
  c1.renew_deadline = 5s;
  Elector e0(pod0, c0);
  e0.start();
  ASSERT_TRUE(e0.wait_for_leading(true, 20s));
  Elector e1(pod1, c1);
  e1.start();
  ASSERT_TRUE(e1.wait_for_calls(2, 20s));
  const auto epoch = e0.epoch();
  e0.stop();  // releases
  const auto stopped = std::chrono::steady_clock::now();
  ASSERT_TRUE(e1.wait_for_leading(true, 20s));
  EXPECT_LT(std::chrono::steady_clock::now() - stopped, 8s);
  EXPECT_EQ(e1.epoch(), epoch + 1);
  e1.stop();
}

}  // namespace
}  // namespace peregrine::ha
