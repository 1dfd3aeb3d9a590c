// Failover by the Lease (ha.failover: lease; docs/ha.md, "The Lease in the server"): two real
// `peregrine` processes on 127.0.0.1 and the real kube-apiserver of the fixture ha.apiserver_start
// (tests/ha/apiserver.sh), with the kit's Lease and the identity its RBAC grants the pods
// (`trading-service`: get and update on that one Lease).
//   - a leader stopped with SIGTERM releases the Lease: the standby acquires it without waiting
//     for its expiry, promotes itself, takes orders, and its epoch is the Lease's;
//   - a leader killed with -9 releases nothing: the standby takes over once the Lease has gone
//     unrenewed for its duration;
//   - a leader SIGSTOPped past its Lease: the standby takes over; once the old leader runs again it
//     acknowledges nothing (no Accepted, no reply at all, for an order sent to it), says it is
//     deposed, refuses orders (none enters its book; each counted as a refusal for the Lease) and
//     does not take the Lease back;
//   - a standby that wins the Lease and cannot promote gives it back and exits.
// Every wait is for an event, with a bound. Label `kube`: `make check` leaves them out.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "peregrine/client/ouch_client.hpp"
#include "peregrine/ha/lease_client.hpp"
#include "ha_node.hpp"
#include "support/http_client.hpp"
#include "support/metrics.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace peregrine {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using OT = proto::ouch::OutboundType;

// What deploy/k3s/base/lease.yaml ships, and what tests/ha/apiserver.sh applies.
constexpr const char* kKitLease = "trading-service-leader";
constexpr const char* kNamespace = "peregrine";

std::map<std::string, std::string> server_env() {
  std::map<std::string, std::string> env;
  const char* dir = std::getenv("PEREGRINE_KUBE_DIR");
  if (dir == nullptr) return env;
  std::ifstream in(std::string(dir) + "/env");
  for (std::string line; std::getline(in, line);) {
    if (const auto eq = line.find('='); eq != std::string::npos) env[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return env;
}

using ha_test::Node;

// The elector's timers for a test: the brief's short ones, or a long Lease (a takeover within
// less than its duration shows that it was released, not expired).
// Short enough for a kill -9 test, long enough that one slow renewal on a loaded 2-vCPU machine
// (the API server, etcd and both servers on it) does not depose a healthy leader.
constexpr const char* kShort = "duration_ms: 6000, renew_deadline_ms: 4000, retry_ms: 500";
constexpr const char* kLong = "duration_ms: 30000, renew_deadline_ms: 20000, retry_ms: 250";

class LeaseFailoverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = server_env();
    ASSERT_FALSE(env_.empty()) << "no API server: run through ctest (fixture ha.apiserver_start), or "
                                  "scripts/kube-apiserver start DIR and PEREGRINE_KUBE_DIR=DIR";
    std::ofstream(tmp_.path() / "creds.txt") << "USR1:pw1\nUSR2:pw2\n";
    ASSERT_NO_FATAL_FAILURE(free_kit_lease());
  }
  void TearDown() override {
    for (Node* n : {&standby_, &leader_}) {
      if (n->proc.pid() > 0) (void)::kill(n->proc.pid(), SIGCONT);
      (void)n->proc.stop();
    }
  }

  ha::ApiServerConfig api(const std::string& token) const {
    ha::ApiServerConfig c;
    c.host = env_.at("KUBE_HOST");
    c.port = static_cast<std::uint16_t>(std::stoi(env_.at("KUBE_PORT")));
    c.ca_file = env_.at("KUBE_CA");
    c.token_file = env_.at("KUBE_TOKEN_DIR") + "/" + token;
    c.namespace_name = kNamespace;
    c.timeout = 5s;
    return c;
  }
  /// The kit's Lease as the API server holds it now.
  ha::LeaseRecord kit_lease() const {
    ha::LeaseClient client(api("lease-creator"));
    const ha::LeaseResult r = client.get(kKitLease);
    EXPECT_TRUE(r.ok()) << r.message;
    return r.ok() ? *r.lease : ha::LeaseRecord{};
  }
  /// Nobody holds the kit's Lease (the tests before may have left a holder that is gone), and
  /// its epoch is 0, as the kit ships it: each test is a new market whose nodes start on empty
  /// journals, which take no Lease of a newer epoch than they hold.
  void free_kit_lease() const {
    ha::LeaseClient admin(api("lease-creator"));
    for (int attempt = 0; attempt < 5; ++attempt) {
      const ha::LeaseResult got = admin.get(kKitLease);
      ASSERT_TRUE(got.ok()) << got.message;
      ha::LeaseRecord l = *got.lease;
      l.holder_identity.clear();
      l.lease_transitions = 0;
      l.acquire_time.clear();
      l.renew_time.clear();
      if (admin.update(l).ok()) return;
    }
    FAIL() << "could not free " << kKitLease;
  }

  std::string base(const std::string& journal_dir) const {
    return "market: {schedule: continuous}\n"
           "instruments:\n"
           "  - {symbol: \"600000\", board: main, reference_price: \"10.00\"}\n"
           "firms: [{name: FRMA}, {name: FRMB}]\n"
           "users: [{username: USR1, firm: FRMA, cancel_on_disconnect: false},"
           " {username: USR2, firm: FRMB, cancel_on_disconnect: false}]\n"
           "credentials_file: creds.txt\n"
           "gateway: {ouch_listen: \"127.0.0.1:0\", itch_listen: \"127.0.0.1:0\", http_listen: \"127.0.0.1:0\","
           " mold_destination: \"" + mold_ + "\"}\n"
           "journal: {dir: " + journal_dir + ", segment_mb: 1, snapshot_every_commands: 0, snapshot_every_seconds: 0,"
           " min_free_mb: 0}\n";
  }
  /// ha.lease for `identity`, on the fixture's server, as the kit's pods (token trading-service).
  std::string lease(const std::string& identity, const char* timers) const {
    return "lease: {name: " + std::string(kKitLease) + ", namespace: " + kNamespace + ", identity: " + identity +
           ", api_server: \"https://" + env_.at("KUBE_HOST") + ":" + env_.at("KUBE_PORT") + "\", token_file: " +
           env_.at("KUBE_TOKEN_DIR") + "/trading-service, ca_file: " + env_.at("KUBE_CA") + ", timeout_ms: 1000, " +
           timers + "}";
  }
  void write_leader(const char* timers) {
    std::ofstream(tmp_.path() / "leader.yaml")
        << base("leader-journal") << "ha: {role: leader, listen: \"127.0.0.1:0\", heartbeat_ms: 20, standby_timeout_ms: 1000,"
        << " failover: lease, " << lease("peregrine-a", timers) << "}\n";
  }
  void write_standby(const char* timers, std::uint16_t listen_port = 0) {
    std::ofstream(tmp_.path() / "standby.yaml")
        << base("standby-journal") << "ha: {role: standby, peer: \"127.0.0.1:" << leader_.repl
        << "\", listen: \"127.0.0.1:" << listen_port << "\", heartbeat_ms: 20, leader_timeout_ms: 500, failover: lease, "
        << lease("peregrine-b", timers) << "}\n";
  }

  bool start(Node& n, const std::string& name) { return ha_test::start_node(n, PEREGRINE_BINARY, tmp_.path(), name); }
  /// The standby's "promoted" line within `limit`: its epoch (0 when it did not come).
  static std::uint64_t wait_promoted(Node& n, std::chrono::seconds limit) {
    const std::smatch m = n.proc.wait_line(std::regex(R"(promoted: leader at epoch (\d+) from seq \d+)"), limit);
    return m.empty() ? 0 : std::stoull(m[1].str());
  }


  /// `peregrine-journal print` of a node's day.
  std::string journal_print(const std::string& journal_dir) const {
    fs::path day;
    for (const auto& e : fs::directory_iterator(tmp_.path() / journal_dir))
      if (e.is_directory()) day = e.path();
    const std::string out = (tmp_.path() / "tool.out").string();
    const std::string cmd = std::string(PEREGRINE_JOURNAL_BINARY) + " print " + day.string() + " > " + out + " 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    std::ifstream f(out);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
  }

  /// A leader holding the Lease and its standby in sync, the standby a candidate (its ha.listen
  /// on `standby_listen`, 0: an ephemeral port).
  void start_pair(const char* timers, std::uint16_t standby_listen = 0) {
    write_leader(timers);
    ASSERT_TRUE(start(leader_, "leader")) << leader_.proc.log();
    EXPECT_NE(leader_.proc.last_line().find("holding the Lease peregrine/trading-service-leader as peregrine-a"),
              std::string::npos)
        << leader_.proc.last_line();
    EXPECT_EQ(testing::metric(leader_.http, "peregrine_ha_lease_holding"), 1);
    EXPECT_EQ(testing::metric(leader_.http, "peregrine_ha_lease_acquisitions_total"), 1);
    write_standby(timers, standby_listen);
    ASSERT_TRUE(start(standby_, "standby")) << standby_.proc.log();
    EXPECT_NE(standby_.proc.last_line().find("failover lease, candidate for the Lease"), std::string::npos)
        << standby_.proc.last_line();
    ASSERT_TRUE(testing::wait_metric(leader_.http, "peregrine_ha_standby_in_sync", 1)) << leader_.proc.log();
    EXPECT_EQ(testing::metric(standby_.http, "peregrine_ha_lease_holding"), 0);
    const ha::LeaseRecord l = kit_lease();
    EXPECT_EQ(l.holder_identity, "peregrine-a");
    EXPECT_EQ(static_cast<double>(l.lease_transitions), testing::metric(leader_.http, "peregrine_ha_epoch"));
  }

  /// After a takeover: the standby leads at the Lease's epoch (one above the old leader's), holds
  /// the Lease, and takes orders.
  void expect_new_leader(std::uint64_t promoted_epoch, double old_epoch) {
    ASSERT_NE(promoted_epoch, 0u) << standby_.proc.log();
    const ha::LeaseRecord l = kit_lease();
    EXPECT_EQ(l.holder_identity, "peregrine-b");
    EXPECT_EQ(static_cast<std::uint64_t>(l.lease_transitions), promoted_epoch);
    EXPECT_EQ(static_cast<double>(promoted_epoch), old_epoch + 1);
    EXPECT_EQ(testing::metric(standby_.http, "peregrine_ha_epoch"), static_cast<double>(promoted_epoch));
    EXPECT_EQ(testing::metric(standby_.http, "peregrine_ha_role"), 1);
    EXPECT_EQ(testing::metric(standby_.http, "peregrine_ha_lease_holding"), 1);
    EXPECT_EQ(testing::metric(standby_.http, "peregrine_ha_lease_acquisitions_total"), 1);
    client::OuchClient c;
    c.connect("127.0.0.1", standby_.ouch);
    ASSERT_TRUE(c.login("USR2", "pw2").accepted) << standby_.proc.log();
    c.enter_order(client::OrderSpec{"NEWLDR1", 'B', 100, "600000", 99000});
    EXPECT_TRUE(c.next_of(OT::Accepted, 10000ms).is(OT::Accepted)) << standby_.proc.log();
    c.logout();
  }

  std::map<std::string, std::string> env_;
  std::string mold_ = "127.0.0.1:9";  // both nodes' MoldUDP64 destination (discard, unless a test reads it)
  testing::TempDir tmp_{"peregrine-ha-lease"};
  Node leader_;
  Node standby_;
};

/// A UDP socket on 127.0.0.1 that a test names as both nodes' MoldUDP64 destination: what each
/// sender sent, in the order it arrived (one socket: loopback keeps the order of the sends).
class UdpSink {
 public:
  struct Datagram {
    std::uint16_t from;  // the sender's port: one per node
    std::vector<std::uint8_t> bytes;
  };
  UdpSink() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in at{};
    at.sin_family = AF_INET;
    at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof at;
    const int size = 8 << 20;  // room for the whole test's feed (the kernel may cap it)
    (void)::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&at), sizeof at) == 0 &&
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&at), &len) == 0)
      port_ = ntohs(at.sin_port);
  }
  ~UdpSink() { ::close(fd_); }
  UdpSink(const UdpSink&) = delete;
  UdpSink& operator=(const UdpSink&) = delete;
  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  /// Everything received until none comes for `quiet`.
  std::vector<Datagram> drain(std::chrono::milliseconds quiet = 500ms) {
    std::vector<Datagram> out;
    for (;;) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(quiet.count())) <= 0) return out;
      std::uint8_t buf[2048];
      sockaddr_in from{};
      socklen_t len = sizeof from;
      const ssize_t n = ::recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n < 0) return out;
      out.push_back({ntohs(from.sin_port), std::vector<std::uint8_t>(buf, buf + n)});
    }
  }
  /// MoldUDP64's End of Session: the message count (header bytes 18-19, big-endian) is 0xFFFF.
  static bool end_of_session(const Datagram& d) {
    return d.bytes.size() >= 20 && d.bytes[18] == 0xFF && d.bytes[19] == 0xFF;
  }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

/// Enters `n` orders on `port` as USR1; the tokens Accepted go to `accepted`.
void trade(std::uint16_t port, const std::string& prefix, int n, std::set<std::string>& accepted) {
  client::OuchClient c;
  c.connect("127.0.0.1", port);
  ASSERT_TRUE(c.login("USR1", "pw1").accepted);
  for (int i = 0; i < n; ++i) {
    const std::string tok = prefix + std::to_string(i);
    c.enter_order(client::OrderSpec{tok, i % 2 == 0 ? 'B' : 'S', 100, "600000", static_cast<std::uint32_t>(100000 + (i % 5 - 2) * 100)});
    for (bool answered = false; !answered;) {
      const client::OuchEvent e = c.next(10000ms);
      ASSERT_EQ(e.kind, client::SoupEvent::Kind::Data) << tok << ": no answer";
      if (e.is(OT::Accepted)) accepted.insert(tok);
      answered = e.is(OT::Accepted) || e.is(OT::Rejected);
    }
  }
  c.logout();
}

TEST_F(LeaseFailoverTest, ALeaderStoppedWithSigtermReleasesTheLeaseAndTheStandbyPromotesAtItsEpoch) {
  UdpSink feed;
  ASSERT_NE(feed.port(), 0);
  mold_ = "127.0.0.1:" + std::to_string(feed.port());
  ASSERT_NO_FATAL_FAILURE(start_pair(kLong));
  std::set<std::string> accepted;
  ASSERT_NO_FATAL_FAILURE(trade(leader_.ouch, "T", 20, accepted));
  ASSERT_FALSE(accepted.empty());
  {
    // Its Lease client is peregrine-kube.so's, the module beside the binary (OpenSSL is in it).
    std::ifstream f("/proc/" + std::to_string(leader_.proc.pid()) + "/maps");
    const std::string maps{std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
    EXPECT_NE(maps.find((std::filesystem::path(PEREGRINE_BINARY).parent_path() / "peregrine-kube.so").string()),
              std::string::npos)
        << maps;
  }
  const double old_epoch = testing::metric(leader_.http, "peregrine_ha_epoch");
  ASSERT_EQ(leader_.proc.stop(), 0) << leader_.proc.log();
  EXPECT_NE(leader_.proc.log().find("released the Lease peregrine/trading-service-leader"), std::string::npos)
      << leader_.proc.log();
  // Released, so not after its 30 s: the bound is below the Lease's duration.
  const std::uint64_t epoch = wait_promoted(standby_, 20s);
  ASSERT_NO_FATAL_FAILURE(expect_new_leader(epoch, old_epoch));
  // The old leader released the Lease after its feed's End of Session: no datagram of the new
  // leader (its order's, at least) comes before it, so no listener takes the old one's end for
  // the feed's end after the new leader has begun.
  const std::vector<UdpSink::Datagram> sent = feed.drain();
  const auto eos = std::find_if(sent.begin(), sent.end(), UdpSink::end_of_session);
  ASSERT_NE(eos, sent.end()) << sent.size() << " datagrams, no End of Session";
  const auto first_new = std::find_if(sent.begin(), sent.end(), [&](const UdpSink::Datagram& d) { return d.from != eos->from; });
  ASSERT_NE(first_new, sent.end()) << "no datagram from the new leader";
  EXPECT_GT(first_new - sent.begin(), eos - sent.begin());
  // Every order the old leader acknowledged is in the new leader's journal.
  ASSERT_EQ(standby_.proc.stop(), 0);
  const std::string records = journal_print("standby-journal");
  for (const std::string& tok : accepted) EXPECT_NE(records.find(tok), std::string::npos) << tok;
  EXPECT_NE(records.find("EpochStart epoch=" + std::to_string(epoch)), std::string::npos) << records;
}

// After a failover, the old leader restarted by mistake as a leader (its journal ends in the old
// epoch) waits while the new leader holds the Lease, and does not take it when the new leader
// stops and releases it: it would lead without the new leader's orders.
TEST_F(LeaseFailoverTest, AnOldLeaderRestartedAsALeaderTakesNoLeaseOfANewerEpoch) {
  ASSERT_NO_FATAL_FAILURE(start_pair(kLong));
  std::set<std::string> accepted;
  ASSERT_NO_FATAL_FAILURE(trade(leader_.ouch, "O", 5, accepted));
  const double old_epoch = testing::metric(leader_.http, "peregrine_ha_epoch");
  ASSERT_EQ(leader_.proc.stop(), 0) << leader_.proc.log();
  const std::uint64_t epoch = wait_promoted(standby_, 20s);
  ASSERT_NO_FATAL_FAILURE(expect_new_leader(epoch, old_epoch));

  ++leader_.runs;  // the old leader's own configuration and journal, role leader
  ASSERT_TRUE(leader_.proc.spawn({PEREGRINE_BINARY, "--config", (tmp_.path() / "leader.yaml").string()},
                                 (tmp_.path() / ("leader" + std::to_string(leader_.runs) + ".log")).string()));
  ASSERT_FALSE(leader_.proc.wait_line(std::regex("lease: waiting for the Lease .*: held by peregrine-b"), 30s).empty())
      << leader_.proc.last_line() << "\n" << leader_.proc.log();
  ASSERT_EQ(standby_.proc.stop(), 0) << standby_.proc.log();  // the new leader releases the Lease
  const std::string refused = "lease: waiting for the Lease .*: the Lease is at epoch " + std::to_string(epoch) +
                              " but this node's journal holds epoch " + std::to_string(epoch - 1) + " at most";
  ASSERT_FALSE(leader_.proc.wait_line(std::regex(refused), 30s).empty()) << leader_.proc.last_line() << "\n"
                                                                         << leader_.proc.log();
  const ha::LeaseRecord l = kit_lease();
  EXPECT_EQ(l.holder_identity, "");
  EXPECT_EQ(static_cast<std::uint64_t>(l.lease_transitions), epoch);
  EXPECT_EQ(leader_.proc.log().find("holding the Lease"), std::string::npos) << leader_.proc.log();
}

// A standby that wins the Lease and cannot promote (its ha.listen is taken) would keep every
// other node from leading for as long as it runs: it gives the Lease back, at the epoch the Lease
// had (it led nothing at the new one), and exits with status 1 for the orchestrator to restart it.
// The old leader, started again, then takes the Lease and leads.
TEST_F(LeaseFailoverTest, AStandbyThatWinsTheLeaseButCannotPromoteReleasesItAndExits) {
  const int taken = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(taken, 0);
  sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof at;
  ASSERT_EQ(::bind(taken, reinterpret_cast<sockaddr*>(&at), sizeof at), 0);
  ASSERT_EQ(::listen(taken, 1), 0);
  ASSERT_EQ(::getsockname(taken, reinterpret_cast<sockaddr*>(&at), &len), 0);
  const std::uint16_t busy = ntohs(at.sin_port);

  ASSERT_NO_FATAL_FAILURE(start_pair(kLong, busy));
  const double old_epoch = testing::metric(leader_.http, "peregrine_ha_epoch");
  ASSERT_EQ(leader_.proc.stop(), 0) << leader_.proc.log();
  const std::smatch gave_up =
      standby_.proc.wait_line(std::regex(R"(lease: could not promote \((.*)\); releasing the Lease [^ ]+ as peregrine-b)"), 20s);
  ASSERT_FALSE(gave_up.empty()) << standby_.proc.last_line() << "\n" << standby_.proc.log();
  EXPECT_NE(gave_up[1].str().find(std::to_string(busy)), std::string::npos) << gave_up[1].str();
  EXPECT_EQ(standby_.proc.signal(0, 10s), 1) << standby_.proc.log();  // it exits by itself
  EXPECT_NE(standby_.proc.log().find("ha: released the Lease"), std::string::npos) << standby_.proc.log();
  EXPECT_EQ(standby_.proc.log().find("ha: promoted"), std::string::npos) << standby_.proc.log();
  const ha::LeaseRecord l = kit_lease();
  EXPECT_EQ(l.holder_identity, "");
  EXPECT_EQ(static_cast<double>(l.lease_transitions), old_epoch);
  ::close(taken);

  ASSERT_TRUE(start(leader_, "leader")) << leader_.proc.log();  // well within the Lease's 30 s
  EXPECT_NE(leader_.proc.last_line().find("holding the Lease"), std::string::npos) << leader_.proc.last_line();
  EXPECT_EQ(testing::metric(leader_.http, "peregrine_ha_epoch"), old_epoch + 1);
  EXPECT_EQ(kit_lease().holder_identity, "peregrine-a");
}

TEST_F(LeaseFailoverTest, ALeaderKilledWithSigkillIsReplacedOnceItsLeaseExpires) {
  ASSERT_NO_FATAL_FAILURE(start_pair(kShort));
  std::set<std::string> accepted;
  ASSERT_NO_FATAL_FAILURE(trade(leader_.ouch, "K", 20, accepted));
  const double old_epoch = testing::metric(leader_.http, "peregrine_ha_epoch");
  ASSERT_EQ(leader_.proc.kill_now(), 128 + 9);
  const std::uint64_t epoch = wait_promoted(standby_, 30s);
  ASSERT_NO_FATAL_FAILURE(expect_new_leader(epoch, old_epoch));
  ASSERT_EQ(standby_.proc.stop(), 0);
  const std::string records = journal_print("standby-journal");
  for (const std::string& tok : accepted) EXPECT_NE(records.find(tok), std::string::npos) << tok;
}

TEST_F(LeaseFailoverTest, ALeaderPausedPastItsLeaseAcknowledgesNothingOnceItRunsAgainAndSaysItIsDeposed) {
  ASSERT_NO_FATAL_FAILURE(start_pair(kShort));
  client::OuchClient c;
  c.connect("127.0.0.1", leader_.ouch);
  ASSERT_TRUE(c.login("USR1", "pw1").accepted);
  c.enter_order(client::OrderSpec{"BEFORE1", 'B', 100, "600000", 99000});
  ASSERT_TRUE(c.next_of(OT::Accepted, 10000ms).is(OT::Accepted)) << leader_.proc.log();
  const double old_epoch = testing::metric(leader_.http, "peregrine_ha_epoch");

  ASSERT_TRUE(leader_.proc.pause());
  const std::uint64_t epoch = wait_promoted(standby_, 30s);
  ASSERT_NO_FATAL_FAILURE(expect_new_leader(epoch, old_epoch));
  // An order waits in the stopped leader's socket; it runs again past its renew deadline.
  c.enter_order(client::OrderSpec{"STALE1", 'B', 100, "600000", 99000});
  ASSERT_TRUE(leader_.proc.resume());
  const std::smatch deposed = leader_.proc.wait_line(std::regex(R"(deposed: lost the Lease [^ ]+ as peregrine-a \(([a-z ]+))"), 15s);
  ASSERT_FALSE(deposed.empty()) << leader_.proc.log();
  // The standby wrote the Lease (409), or the renewal could not reach the server in time.
  EXPECT_TRUE(deposed[1].str() == "conflict" || deposed[1].str() == "renew deadline") << deposed[1].str();
  // Refused: neither order enters the book (each counts in peregrine_ha_lease_refused_orders_total,
  // not as a full ring nor as the journal's refusal), and nothing is acknowledged: no Accepted,
  // and not even the refusal, which is journaled like every reply (a deposed leader's replies
  // stay unsent). The bound is on a wait that must fail.
  c.enter_order(client::OrderSpec{"STALE2", 'B', 100, "600000", 99000});
  ASSERT_TRUE(testing::wait_metric(leader_.http, "peregrine_ha_lease_refused_orders_total", 2)) << leader_.proc.log();
  EXPECT_EQ(testing::metric(leader_.http, "peregrine_ouch_ring_full_rejects_total"), 0);
  EXPECT_EQ(testing::metric(leader_.http, "peregrine_journal_refused_orders_total"), 0);
  const client::OuchEvent stale = c.next(3000ms);
  EXPECT_NE(stale.kind, client::SoupEvent::Kind::Data) << "a deposed leader answered: " << static_cast<char>(stale.msg.type);
  EXPECT_EQ(testing::metric(leader_.http, "peregrine_journal_state"), 1);  // refusing orders (and /readyz false)
  EXPECT_EQ(testing::metric(leader_.http, "peregrine_ha_deposed"), 1);
  EXPECT_EQ(testing::metric(leader_.http, "peregrine_ha_lease_holding"), 0);
  // It does not take the Lease back: the new leader holds it still.
  EXPECT_EQ(kit_lease().holder_identity, "peregrine-b");
  EXPECT_EQ(testing::metric(leader_.http, "peregrine_ha_lease_acquisitions_total"), 1);
}

}  // namespace
}  // namespace peregrine
