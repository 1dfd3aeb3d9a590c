// The drop copy against a real RabbitMQ (Debian's rabbitmq-server, started by the ctest fixture
// dropcopy.broker_start with scripts/rabbitmq; PEREGRINE_RABBITMQ_DIR names its directory): the
// real `peregrine` binary with a journal and a dropcopy section, OUCH clients trading through it,
// and the reference consumer (scripts/dropcopy-tail) reading what the broker delivers.
//
//   - steady state: every event, numbered 1..N without a gap, equal per user to what the OUCH
//     sessions received (same executions, quantities, prices, match numbers);
//   - broker outage: kill -9 the broker mid-stream, keep trading, restart it on the same data
//     directory: after dedupe every event exactly once and in order, and duplicates were dropped;
//   - engine crash: kill -9 the engine mid-stream, restart it: the publisher resumes after its
//     checkpoint and nothing is missing;
//   - unroutable: with no queue bound the messages come back, the checkpoint stays, and they all
//     arrive once a queue is bound; a wrong password and an unreachable broker are a log line and a
//     metric while trading goes on.
// Every wait is bounded; none is a sleep.

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "peregrine/client/ouch_client.hpp"
#include "peregrine/proto/ouch42.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace peregrine {
namespace {

namespace fs = std::filesystem;
namespace ouch = proto::ouch;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using OT = ouch::OutboundType;

const fs::path kSource = PEREGRINE_SOURCE_DIR;

// ---- the broker (the fixture's) ---------------------------------------------------------------

struct Broker {
  fs::path dir;
  std::string port;
  std::string tls_port;  // the same broker over TLS, its certificate signed by tls_ca_file
  fs::path tls_ca_file;
  fs::path password_file;

  static Broker from_env() {
    Broker b;
    const char* d = std::getenv("PEREGRINE_RABBITMQ_DIR");
    if (d == nullptr) return b;
    b.dir = d;
    b.password_file = b.dir / "password";
    std::ifstream env(b.dir / "env");
    std::string line;
    while (std::getline(env, line))
      if (line.rfind("AMQP_PORT=", 0) == 0) {
        b.port = line.substr(10);
      } else if (line.rfind("AMQPS_PORT=", 0) == 0) {
        b.tls_port = line.substr(11);
      } else if (line.rfind("TLS_CA_FILE=", 0) == 0) {
        b.tls_ca_file = line.substr(12);
      }
    return b;
  }
  [[nodiscard]] std::string url() const { return "amqp://peregrine@127.0.0.1:" + port + "/"; }
  /// By name: rabbitmq-c checks the certificate's host names (DNS), not its IP addresses.
  [[nodiscard]] std::string tls_url() const { return "amqps://peregrine@localhost:" + tls_port + "/"; }
  bool run(const char* cmd) const {
    const std::string c = (kSource / "scripts/rabbitmq").string() + " " + cmd + " " + dir.string() + " >>" +
                          (dir / "test-script.log").string() + " 2>&1";
    return std::system(c.c_str()) == 0;
  }
};

// ---- the consumer -----------------------------------------------------------------------------

/// scripts/dropcopy-tail on one queue: its lines, taken as they come.
class Tail {
 public:
  Tail(const Broker& b, const fs::path& dir, const std::string& exchange, const std::string& queue) {
    const std::vector<std::string> args{"/usr/bin/python3", (kSource / "scripts/dropcopy-tail").string(),
                                        "--url", b.url(), "--password-file", b.password_file.string(),
                                        "--exchange", exchange, "--queue", queue, "--bind", "dc.#"};
    ok_ = proc_.spawn(args, (dir / ("tail-" + queue + ".log")).string()) &&
          !proc_.wait_line(std::regex("^ready "), 60s).empty();
  }
  [[nodiscard]] bool ok() const noexcept { return ok_; }

  /// Reads lines until `n` events have been taken or `limit` passes; true when they have.
  bool collect(std::size_t n, std::chrono::seconds limit) {
    const auto deadline = Clock::now() + limit;
    static const std::regex kLine("^(event|duplicate|gap|connection lost|connected)(.*)$");
    while (events.size() < n && Clock::now() < deadline) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      const std::smatch m = proc_.wait_line(kLine, std::max(left, 1ms));
      if (m.empty()) break;
      const std::string what = m[1].str();
      if (what == "event") {
        events.push_back(boost::json::parse(m[2].str().substr(1)).as_object());
      } else if (what == "duplicate") {
        ++duplicates;
      } else if (what == "gap") {
        ++gaps;
      } else if (what == "connection lost") {
        ++disconnects;
      }
    }
    return events.size() >= n;
  }

  std::vector<boost::json::object> events;
  std::size_t duplicates = 0;
  std::size_t gaps = 0;
  std::size_t disconnects = 0;

 private:
  testing::Process proc_;
  bool ok_ = false;
};

// ---- the engine -------------------------------------------------------------------------------

struct User {
  const char* name;
  const char* password;
  const char* firm;
};
constexpr User kUsers[] = {{"alice", "alicepw", "ALFA"}, {"bob", "bobpw", "BETA"}, {"carol", "carolpw", "GAMA"}};

struct EngineOptions {
  std::string url;
  fs::path password_file;
  std::string exchange;
  std::uint32_t window = 256;
  fs::path tls_ca_file;  // amqps: the CA the broker's certificate must chain to ("": the system's)
};

class Engine {
 public:
  Engine(const fs::path& dir, const EngineOptions& o) : dir_(dir) {
    {
      std::ofstream creds(dir_ / "creds.txt");
      for (const User& u : kUsers) creds << u.name << ":" << u.password << "\n";
    }
    std::ofstream y(dir_ / "engine.yaml");
    y << "market: {schedule: continuous}\n"
         "engine: {max_orders: 65536, max_tokens: 65536}\n"
         "instruments:\n"
         "  - {symbol: \"600519\", board: main, reference_price: \"1700.00\"}\n"
         "  - {symbol: \"000001\", board: main, reference_price: \"11.52\"}\n"
         "firms:\n";
    for (const User& u : kUsers) y << "  - {name: " << u.firm << "}\n";
    y << "users:\n";
    for (const User& u : kUsers) y << "  - {username: " << u.name << ", firm: " << u.firm << ", throttle_per_second: 0}\n";
    y << "credentials_file: creds.txt\n"
         "gateway: {ouch_listen: \"127.0.0.1:0\", itch_listen: \"127.0.0.1:0\", http_listen: \"127.0.0.1:0\", "
         "session_timeout_ms: 600000}\n"
         "journal: {dir: journal, durability: fdatasync}\n"
         "dropcopy:\n"
         "  url: \""
      << o.url << "\"\n  password_file: \"" << o.password_file.string() << "\"\n  exchange: " << o.exchange
      << "\n  window: " << o.window << "\n  reconnect_max_ms: 500\n";
    if (!o.tls_ca_file.empty()) y << "  tls_ca_file: \"" << o.tls_ca_file.string() << "\"\n";
  }

  bool start(const std::string& log_name) {
    log_ = dir_ / log_name;
    if (!proc_.spawn({PEREGRINE_BINARY, "--config", (dir_ / "engine.yaml").string()}, log_.string())) return false;
    const std::smatch m = proc_.wait_line(std::regex(R"(ready: OUCH [^:]+:(\d+), ITCH [^:]+:(\d+), .* HTTP [^:]+:(\d+))"), 60s);
    if (m.empty()) return false;
    ouch_port = static_cast<std::uint16_t>(std::stoi(m[1].str()));
    http_port = static_cast<std::uint16_t>(std::stoi(m[3].str()));
    return true;
  }
  int kill_now() { return proc_.kill_now(); }
  int stop() { return proc_.stop(15000ms); }
  [[nodiscard]] pid_t pid() const { return proc_.pid(); }

  /// A series of /metrics, or -1.
  [[nodiscard]] double metric(const std::string& name) const {
    const auto r = testing::fetch(http_port, boost::beast::http::verb::get, "/metrics");
    if (!r) return -1;
    std::istringstream in(r->body);
    std::string line;
    while (std::getline(in, line))
      if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
    return -1;
  }
  /// Waits (bounded) until `name` satisfies `ok`.
  template <typename Pred>
  bool wait_metric(const std::string& name, Pred ok, std::chrono::seconds limit) const {
    const auto deadline = Clock::now() + limit;
    while (Clock::now() < deadline) {
      if (ok(metric(name))) return true;
      std::this_thread::sleep_for(20ms);  // a poll interval, not a wait for an outcome
    }
    return false;
  }
  /// Waits (bounded) until the log holds `text` (the publisher logs from its own thread, through
  /// spdlog's queue).
  bool wait_log(const std::string& text, std::chrono::seconds limit) const {
    const auto deadline = Clock::now() + limit;
    while (Clock::now() < deadline) {
      if (log().find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(20ms);  // a poll interval
    }
    return false;
  }
  [[nodiscard]] std::string log() const {
    std::ifstream f(log_);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }

  std::uint16_t ouch_port = 0;
  std::uint16_t http_port = 0;

 private:
  fs::path dir_;
  fs::path log_;
  testing::Process proc_;
};

// ---- the traders --------------------------------------------------------------------------------

std::string trim(std::string_view s) {
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return std::string(s);
}

/// What an OUCH message says, in the words the drop copy's events are compared in.
std::string describe(const ouch::Outbound& m) {
  char buf[160];
  switch (m.type) {
    case OT::Accepted: return "accepted " + trim(m.accepted.token.view());
    case OT::Executed:
      std::snprintf(buf, sizeof buf, "executed %s %u %u %llu", trim(m.executed.token.view()).c_str(), m.executed.shares,
                    m.executed.price, static_cast<unsigned long long>(m.executed.match_number));
      return buf;
    case OT::Canceled:
      std::snprintf(buf, sizeof buf, "canceled %s %u", trim(m.canceled.token.view()).c_str(), m.canceled.decrement);
      return buf;
    case OT::Replaced: return "replaced " + trim(m.replaced.replacement.view());
    case OT::Rejected: return "rejected " + trim(m.rejected.token.view());
    case OT::CancelReject: return "cancel_rejected " + trim(m.cancel_reject.token.view());
    default: return "other";
  }
}

/// The same words from a drop-copy event.
std::string describe(const boost::json::object& e) {
  const std::string kind(e.at("kind").as_string());
  const std::string token = e.contains("token") ? std::string(e.at("token").as_string()) : "";
  char buf[160];
  if (kind == "executed") {
    const auto px = static_cast<unsigned>(std::llround(e.at("last_px").to_number<double>() * 10000));
    std::snprintf(buf, sizeof buf, "executed %s %lld %u %lld", token.c_str(),
                  static_cast<long long>(e.at("last_qty").as_int64()), px,
                  static_cast<long long>(e.at("match_number").as_int64()));
    return buf;
  }
  if (kind == "canceled") {
    std::snprintf(buf, sizeof buf, "canceled %s %lld", token.c_str(), static_cast<long long>(e.at("canceled_qty").as_int64()));
    return buf;
  }
  return kind + " " + token;
}

/// One OUCH session per user; what each received, in order.
class Traders {
 public:
  explicit Traders(std::uint16_t port) { connect(port); }

  void connect(std::uint16_t port) {
    clients_.clear();
    for (const User& u : kUsers) {
      auto c = std::make_unique<client::OuchClient>();
      c->connect("127.0.0.1", port);
      const client::LoginResult r = c->login(u.name, u.password);
      ok_ = ok_ && r.accepted;
      clients_.push_back(std::move(c));
    }
  }
  [[nodiscard]] bool ok() const noexcept { return ok_; }

  /// Reads user `i`'s next message other than a System Event, requiring type `t`.
  void expect(std::size_t i, OT t) {
    for (;;) {
      const client::OuchEvent ev = clients_[i]->next(10s);
      if (ev.kind == client::SoupEvent::Kind::Data && ev.decoded && ev.msg.type == OT::SystemEvent) continue;
      if (!ev.is(t)) {
        ok_ = false;
        ADD_FAILURE() << kUsers[i].name << ": expected OUCH '" << static_cast<char>(t) << "', got kind "
                      << static_cast<int>(ev.kind) << (ev.decoded ? std::string(" type ") + static_cast<char>(ev.msg.type) : "");
        return;
      }
      received[i].push_back(describe(ev.msg));
      ++total;
      return;
    }
  }

  /// One round of trading, every kind of event: a cross between three firms on `symbol`, a cancel,
  /// a replace, a reject. `k` makes the tokens unique.
  void round(const std::string& tag, int k) {
    const std::string symbol = k % 2 == 0 ? "600519" : "000001";
    const std::uint32_t px = k % 2 == 0 ? 17000000 : 115200;
    const std::string n = tag + std::to_string(k);
    client::OuchClient& a = *clients_[0];
    client::OuchClient& b = *clients_[1];
    client::OuchClient& c = *clients_[2];
    a.enter_order({("A" + n).c_str(), 'B', 200, symbol, px});
    expect(0, OT::Accepted);
    b.enter_order({("B" + n).c_str(), 'S', 100, symbol, px});
    expect(1, OT::Accepted);
    expect(1, OT::Executed);
    expect(0, OT::Executed);
    c.enter_order({("C" + n).c_str(), 'S', 100, symbol, px});
    expect(2, OT::Accepted);
    expect(2, OT::Executed);
    expect(0, OT::Executed);
    // A resting buy below, replaced, then canceled.
    a.enter_order({("D" + n).c_str(), 'B', 100, symbol, px - 100});
    expect(0, OT::Accepted);
    a.replace("D" + n, "E" + n, 300, px - 200);
    expect(0, OT::Replaced);
    a.cancel("E" + n);
    expect(0, OT::Canceled);
    // Off the tick: rejected.
    b.enter_order({("F" + n).c_str(), 'B', 100, symbol, px + 1});
    expect(1, OT::Rejected);
  }

  std::vector<std::string> received[3];
  std::size_t total = 0;

 private:
  std::vector<std::unique_ptr<client::OuchClient>> clients_;
  bool ok_ = true;
};

/// Every event numbered 1..N once and in order; firm_seq dense per firm.
void expect_dense(const std::vector<boost::json::object>& events) {
  std::map<std::string, std::int64_t> firm_seq;
  for (std::size_t i = 0; i < events.size(); ++i) {
    ASSERT_EQ(events[i].at("seq").as_int64(), static_cast<std::int64_t>(i + 1)) << "event " << i;
    const std::string firm(events[i].at("firm").as_string());
    ASSERT_EQ(events[i].at("firm_seq").as_int64(), ++firm_seq[firm]) << "event " << i;
  }
}

/// The drop copy's events of each user, in order, against what its OUCH session received: equal,
/// or (`prefix_only`) what the session received appears in the drop copy in order.
void expect_matches(const std::vector<boost::json::object>& events, const Traders& t, bool subset) {
  for (std::size_t u = 0; u < 3; ++u) {
    std::vector<std::string> dc;
    for (const auto& e : events)
      if (e.contains("user") && e.at("user").as_string() == kUsers[u].name) dc.push_back(describe(e));
    if (!subset) {
      EXPECT_EQ(dc, t.received[u]) << kUsers[u].name;
      continue;
    }
    std::size_t at = 0;
    for (const std::string& m : t.received[u]) {
      while (at < dc.size() && dc[at] != m) ++at;
      ASSERT_LT(at, dc.size()) << kUsers[u].name << ": " << m << " is not in the drop copy (in order)";
      ++at;
    }
  }
}

class DropCopyBrokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_ = Broker::from_env();
    if (broker_.dir.empty()) GTEST_SKIP() << "PEREGRINE_RABBITMQ_DIR unset: run through ctest (fixture dropcopy.broker_start)";
    const std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    exchange_ = "peregrine.dropcopy.test." + name + "." + std::to_string(::getpid());
    queue_ = "q." + name + "." + std::to_string(::getpid());
  }
  EngineOptions options(std::uint32_t window = 256) const {
    return EngineOptions{broker_.url(), broker_.password_file, exchange_, window, {}};
  }

  Broker broker_;
  std::string exchange_;
  std::string queue_;
};

TEST_F(DropCopyBrokerTest, SteadyStateDeliversEveryEventAsTheSessionsSawIt) {
  testing::TempDir dir("dropcopy");
  Tail tail(broker_, dir.path(), exchange_, queue_);
  ASSERT_TRUE(tail.ok());
  Engine engine(dir.path(), options());
  ASSERT_TRUE(engine.start("engine.log")) << engine.log();
  Traders t(engine.ouch_port);
  ASSERT_TRUE(t.ok());
  for (int k = 0; k < 40; ++k) t.round("S", k);
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE(tail.collect(t.total, 60s)) << tail.events.size() << " of " << t.total << "; engine log:\n" << engine.log();
  expect_dense(tail.events);
  expect_matches(tail.events, t, false);
  EXPECT_EQ(tail.duplicates, 0U);
  EXPECT_EQ(tail.gaps, 0U);
  ASSERT_TRUE(engine.wait_metric("peregrine_dropcopy_confirmed_seq", [&](double v) { return v == static_cast<double>(t.total); }, 30s));
  EXPECT_EQ(engine.metric("peregrine_dropcopy_connected"), 1);
  EXPECT_EQ(engine.metric("peregrine_dropcopy_returned_total"), 0);
  {
    // Its broker link is peregrine-amqp.so's, the module beside the binary (rabbitmq-c is in it).
    std::ifstream f("/proc/" + std::to_string(engine.pid()) + "/maps");
    const std::string maps{std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
    EXPECT_NE(maps.find((fs::path(PEREGRINE_BINARY).parent_path() / "peregrine-amqp.so").string()), std::string::npos)
        << maps;
  }
  EXPECT_EQ(engine.stop(), 0);
}

TEST_F(DropCopyBrokerTest, BrokerKilledMidStreamLosesNothingAfterDedupe) {
  testing::TempDir dir("dropcopy");
  Tail tail(broker_, dir.path(), exchange_, queue_);
  ASSERT_TRUE(tail.ok());
  Engine engine(dir.path(), options(16));  // a small window: messages are in flight when the broker dies
  ASSERT_TRUE(engine.start("engine.log")) << engine.log();
  Traders t(engine.ouch_port);
  ASSERT_TRUE(t.ok());
  // Trading runs on its own thread throughout: the broker dies while messages flow.
  std::atomic<int> rounds{0};
  std::atomic<bool> stop{false};
  std::thread trader([&] {
    while (!stop.load() && t.ok()) t.round("K", rounds++);
  });
  const auto rounds_reach = [&](int n, std::chrono::seconds limit) {
    const auto deadline = Clock::now() + limit;
    while (rounds.load() < n && Clock::now() < deadline) std::this_thread::sleep_for(5ms);  // a poll interval
    return rounds.load() >= n;
  };
  EXPECT_TRUE(tail.collect(50, 60s));
  ASSERT_TRUE(broker_.run("kill"));
  const int at_kill = rounds.load();
  // Trading goes on without the broker: 100 more rounds (several seconds on the reference VM).
  EXPECT_TRUE(rounds_reach(at_kill + 100, 120s));
  EXPECT_TRUE(engine.wait_metric("peregrine_dropcopy_connected", [](double v) { return v == 0; }, 10s));
  // The oldest unconfirmed event ages while the broker is away.
  EXPECT_TRUE(engine.wait_metric("peregrine_dropcopy_lag_seconds", [](double v) { return v > 0.5; }, 30s));
  const bool restarted = broker_.run("start");
  EXPECT_TRUE(rounds_reach(rounds.load() + 20, 120s));
  stop = true;
  trader.join();
  ASSERT_TRUE(restarted) << "the broker did not come back";
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE(tail.collect(t.total, 120s)) << tail.events.size() << " of " << t.total << "; engine log:\n" << engine.log();
  expect_dense(tail.events);
  expect_matches(tail.events, t, false);
  EXPECT_GE(tail.duplicates, 1U) << "no duplicate reached the consumer: the dedupe path did not run";
  EXPECT_GE(tail.disconnects, 1U);
  EXPECT_GE(engine.metric("peregrine_dropcopy_reconnects_total"), 1);
  EXPECT_TRUE(engine.wait_log("drop copy: lost the broker", 10s)) << engine.log();
  std::printf("broker outage: %zu events, %zu duplicates dropped, %zu gaps waited out, %d rounds at the kill\n",
              tail.events.size(), tail.duplicates, tail.gaps, at_kill);
  EXPECT_EQ(engine.stop(), 0);
}

TEST_F(DropCopyBrokerTest, EngineKilledMidStreamResumesFromItsCheckpoint) {
  testing::TempDir dir("dropcopy");
  Tail tail(broker_, dir.path(), exchange_, queue_);
  ASSERT_TRUE(tail.ok());
  Engine engine(dir.path(), options(16));
  ASSERT_TRUE(engine.start("engine-1.log")) << engine.log();
  Traders t(engine.ouch_port);
  ASSERT_TRUE(t.ok());
  for (int k = 0; k < 30; ++k) t.round("P", k);
  ASSERT_TRUE(tail.collect(20, 60s));
  const double confirmed_at_kill = engine.metric("peregrine_dropcopy_confirmed_seq");
  EXPECT_EQ(engine.kill_now(), 128 + 9);
  std::printf("engine crash: %.0f of %zu events confirmed at the kill\n", confirmed_at_kill, t.total);
  ASSERT_TRUE(engine.start("engine-2.log")) << engine.log();
  EXPECT_TRUE(engine.wait_log("drop copy: resuming", 30s)) << engine.log();
  t.connect(engine.ouch_port);
  ASSERT_TRUE(t.ok());
  for (int k = 0; k < 10; ++k) t.round("Q", k);
  // Everything the journal holds is published: the cancels of the restart's cancel-on-disconnect
  // too, which no session saw. Wait until the replica has read the journal and the checkpoint
  // has caught up with it.
  double produced = -1;
  const auto deadline = Clock::now() + 60s;
  while (Clock::now() < deadline) {
    produced = engine.metric("peregrine_dropcopy_produced_seq");
    if (engine.metric("peregrine_dropcopy_lag_records") == 0 && engine.metric("peregrine_dropcopy_confirmed_seq") == produced &&
        engine.metric("peregrine_dropcopy_produced_seq") == produced)
      break;
    std::this_thread::sleep_for(20ms);  // a poll interval
  }
  ASSERT_GE(produced, static_cast<double>(t.total));
  ASSERT_TRUE(tail.collect(static_cast<std::size_t>(produced), 60s)) << tail.events.size() << " of " << produced;
  expect_dense(tail.events);
  expect_matches(tail.events, t, true);
  EXPECT_EQ(engine.stop(), 0);
}

TEST_F(DropCopyBrokerTest, UnroutableMessagesHoldTheCheckpointUntilAQueueIsBound) {
  testing::TempDir dir("dropcopy");
  Engine engine(dir.path(), options());
  ASSERT_TRUE(engine.start("engine.log")) << engine.log();
  Traders t(engine.ouch_port);
  for (int k = 0; k < 5; ++k) t.round("U", k);
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE(engine.wait_metric("peregrine_dropcopy_returned_total", [](double v) { return v >= 1; }, 30s)) << engine.log();
  EXPECT_EQ(engine.metric("peregrine_dropcopy_confirmed_seq"), 0);
  EXPECT_TRUE(engine.wait_log("no queue takes it; the checkpoint stays at 0", 10s)) << engine.log();
  Tail tail(broker_, dir.path(), exchange_, queue_);  // binds a queue: the next re-send is routed
  ASSERT_TRUE(tail.ok());
  ASSERT_TRUE(tail.collect(t.total, 60s)) << tail.events.size() << " of " << t.total << "\n" << engine.log();
  expect_dense(tail.events);
  expect_matches(tail.events, t, false);
  ASSERT_TRUE(engine.wait_metric("peregrine_dropcopy_confirmed_seq", [&](double v) { return v == static_cast<double>(t.total); }, 30s));
  EXPECT_EQ(engine.stop(), 0);
}

// amqps: the broker's TLS listener (scripts/rabbitmq: a test CA and a certificate for
// localhost). With that CA every event arrives; with the system's CAs, which did not sign it, the
// handshake is refused: a log line naming the connection, a metric, and trading goes on.
TEST_F(DropCopyBrokerTest, OverTlsEveryEventArrivesAndAnUntrustedCertificateIsRefused) {
  ASSERT_FALSE(broker_.tls_port.empty()) << "no AMQPS_PORT in " << broker_.dir / "env";
  testing::TempDir dir("dropcopy-tls");
  Tail tail(broker_, dir.path(), exchange_, queue_);
  ASSERT_TRUE(tail.ok());
  EngineOptions o = options();
  o.url = broker_.tls_url();
  o.tls_ca_file = broker_.tls_ca_file;
  {
    Engine engine(dir.path(), o);
    ASSERT_TRUE(engine.start("engine-tls.log")) << engine.log();
    Traders t(engine.ouch_port);
    ASSERT_TRUE(t.ok());
    for (int k = 0; k < 10; ++k) t.round("T", k);
    ASSERT_TRUE(t.ok());
    ASSERT_TRUE(tail.collect(t.total, 60s)) << tail.events.size() << " of " << t.total << "; engine log:\n" << engine.log();
    expect_dense(tail.events);
    expect_matches(tail.events, t, false);
    ASSERT_TRUE(engine.wait_metric("peregrine_dropcopy_confirmed_seq", [&](double v) { return v == static_cast<double>(t.total); }, 30s));
    EXPECT_EQ(engine.metric("peregrine_dropcopy_connected"), 1);
    EXPECT_EQ(engine.stop(), 0);
    EXPECT_NE(engine.log().find("drop copy: connected"), std::string::npos) << engine.log();
  }
  testing::TempDir dir2("dropcopy-tls-untrusted");
  o = options();
  o.url = broker_.tls_url();  // no tls_ca_file: /etc/ssl/certs/ca-certificates.crt, not the test CA
  Engine engine(dir2.path(), o);
  ASSERT_TRUE(engine.start("engine-untrusted.log")) << engine.log();
  ASSERT_TRUE(engine.wait_metric("peregrine_dropcopy_connect_failures_total", [](double v) { return v >= 1; }, 30s)) << engine.log();
  EXPECT_EQ(engine.metric("peregrine_dropcopy_connected"), 0);
  Traders t(engine.ouch_port);
  t.round("U", 0);
  EXPECT_TRUE(t.ok());
  EXPECT_EQ(engine.stop(), 0);
  EXPECT_NE(engine.log().find("drop copy: cannot connect to localhost:" + broker_.tls_port), std::string::npos) << engine.log();
  EXPECT_EQ(engine.log().find("drop copy: connected"), std::string::npos) << engine.log();
}

TEST_F(DropCopyBrokerTest, WrongPasswordOrNoBrokerIsALogLineAndAMetricWhileTradingGoesOn) {
  testing::TempDir dir("dropcopy");
  std::ofstream(dir.path() / "wrong-password") << "not-the-password\n";
  EngineOptions o = options();
  o.password_file = dir.path() / "wrong-password";
  {
    Engine engine(dir.path(), o);
    ASSERT_TRUE(engine.start("engine-password.log")) << engine.log();
    ASSERT_TRUE(engine.wait_metric("peregrine_dropcopy_connect_failures_total", [](double v) { return v >= 1; }, 30s));
    EXPECT_EQ(engine.metric("peregrine_dropcopy_connected"), 0);
    Traders t(engine.ouch_port);
    t.round("W", 0);
    EXPECT_TRUE(t.ok());
    EXPECT_EQ(engine.stop(), 0);
    EXPECT_NE(engine.log().find("ACCESS_REFUSED"), std::string::npos) << engine.log();
  }
  testing::TempDir dir2("dropcopy-unreachable");
  o = options();
  o.url = "amqp://peregrine@127.0.0.1:1/";  // nothing listens on port 1
  Engine engine(dir2.path(), o);
  ASSERT_TRUE(engine.start("engine-unreachable.log")) << engine.log();
  ASSERT_TRUE(engine.wait_metric("peregrine_dropcopy_connect_failures_total", [](double v) { return v >= 2; }, 30s));
  Traders t(engine.ouch_port);
  t.round("N", 0);
  EXPECT_TRUE(t.ok());
  EXPECT_EQ(engine.stop(), 0);
  const std::string log = engine.log();
  EXPECT_NE(log.find("drop copy: cannot connect to 127.0.0.1:1"), std::string::npos) << log;
  // One line for the outage, not one per attempt.
  std::size_t lines = 0;
  for (std::size_t at = log.find("drop copy: cannot connect"); at != std::string::npos; at = log.find("drop copy: cannot connect", at + 1))
    ++lines;
  EXPECT_EQ(lines, 1U) << log;
}

}  // namespace
}  // namespace peregrine
