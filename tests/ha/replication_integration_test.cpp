// Replication with two real `peregrine` processes on 127.0.0.1 (issue #15; docs/ha.md): a leader
// (ha.role leader, durability replicated) and a standby (ha.role standby) on their own journals.
//   - every Accepted token is in the standby's journal, the two journals hold the same records,
//     and replaying each gives the same state hash, across a kill -9 and restart of the standby
//     mid-stream (it catches up from its journal, then the leader's);
//   - the standby refuses OUCH logins (Login Rejected 'S');
//   - with `replicated`, no Accepted leaves the leader while its standby is SIGSTOPped; it comes
//     once the standby runs again, or once ha.standby_timeout_ms declares it lost (fallback to the
//     leader's fsync, ha.standby_lost: fsync);
//   - `strict` refuses orders while no standby is in sync;
//   - failover (docs/ha.md, "Promotion"): after a kill -9 of the leader, POST /admin/promote (or
//     ha.failover auto) makes the standby the leader at epoch + 1: every Accepted token is in its
//     journal, a re-login from seq 1 gets byte for byte what the client got live and nothing more,
//     the ITCH feed continues its sequence, a resent token is refused, and the old leader restarted
//     as a standby follows it, or is refused with the reason when its journal holds records the new
//     leader never had.
// Every wait is for an event, with a bound.

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "peregrine/client/itch_client.hpp"
#include "peregrine/client/ouch_client.hpp"
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

constexpr const char* kAdminToken = "ha-test-token";

using ha_test::Node;

class ReplicationIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(tmp_.path() / "creds.txt") << "USR1:pw1\nUSR2:pw2\n";
    std::ofstream(tmp_.path() / "token.txt") << kAdminToken << "\n";
  }
  void TearDown() override {
    for (Node* n : {&standby_, &leader_}) {
      if (n->proc.pid() > 0) (void)::kill(n->proc.pid(), SIGCONT);
      (void)n->proc.stop();
    }
  }

  std::string base() const {
    return "market: {schedule: continuous}\n"
           "instruments:\n"
           "  - {symbol: \"600000\", board: main, reference_price: \"10.00\"}\n"
           "firms: [{name: FRMA}, {name: FRMB}]\n"
           "users: [{username: USR1, firm: FRMA, cancel_on_disconnect: false},"
           " {username: USR2, firm: FRMB, cancel_on_disconnect: false}]\n"
           "credentials_file: creds.txt\n"
           "admin: {token_file: token.txt}\n"
           "gateway: {ouch_listen: \"127.0.0.1:0\", itch_listen: \"127.0.0.1:0\", http_listen: \"127.0.0.1:0\","
           " mold_destination: \"127.0.0.1:9\"}\n";
  }
  std::string journal(const std::string& dir) const {
    return "journal: {dir: " + dir + ", segment_mb: 1, snapshot_every_commands: 0, snapshot_every_seconds: 0, min_free_mb: 0}\n";
  }

  void write_leader(const std::string& ha) {
    std::ofstream(tmp_.path() / "leader.yaml") << base() << journal("leader-journal")
                                               << "ha: {role: leader, listen: \"127.0.0.1:0\", heartbeat_ms: 20, " << ha
                                               << "}\n";
  }
  void write_standby(const std::string& extra = "") {
    std::ofstream(tmp_.path() / "standby.yaml")
        << base() << journal("standby-journal") << "ha: {role: standby, peer: \"127.0.0.1:" << leader_.repl
        << "\", heartbeat_ms: 20, leader_timeout_ms: 1000" << extra << "}\n";
  }
  /// The old leader, restarted as a standby of `leader` (its own journal, as it was).
  void write_old_leader_as_standby(const Node& leader) {
    std::ofstream(tmp_.path() / "rejoin.yaml")
        << base() << journal("leader-journal") << "ha: {role: standby, peer: \"127.0.0.1:" << leader.repl
        << "\", heartbeat_ms: 20, leader_timeout_ms: 1000}\n";
  }

  /// POST /admin/promote on `n` (with the token unless `token` is false): the status and body.
  static std::pair<unsigned, std::string> promote(const Node& n, bool token = true) {
    std::map<std::string, std::string> headers;
    if (token) headers["Authorization"] = std::string("Bearer ") + kAdminToken;
    const auto r = testing::fetch(n.http, boost::beast::http::verb::post, "/admin/promote", "", headers);
    if (!r) return {0, "no answer"};
    return {r->status, r->body};
  }
  /// After a promotion: the "promoted" line on stdout; the replication port goes to `n.repl`.
  static bool wait_promoted(Node& n, std::chrono::seconds limit = 30s) {
    const std::smatch m = n.proc.wait_line(std::regex(R"(promoted: leader at epoch (\d+) from seq \d+, replication on [^,]+:(\d+))"), limit);
    if (m.empty()) return false;
    n.repl = static_cast<std::uint16_t>(std::stoi(m[2].str()));
    return true;
  }

  bool start(Node& n, const std::string& name) { return ha_test::start_node(n, PEREGRINE_BINARY, tmp_.path(), name); }


  /// `peregrine-journal ARGS` output.
  std::string journal_tool(const std::string& args) const {
    const std::string out = (tmp_.path() / "tool.out").string();
    const std::string cmd = std::string(PEREGRINE_JOURNAL_BINARY) + " " + args + " > " + out + " 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    std::ifstream f(out);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
  }
  /// The day's directory in `journal_dir` (beside it: the `ha-epoch` file).
  fs::path day(const std::string& journal_dir) const {
    for (const auto& e : fs::directory_iterator(tmp_.path() / journal_dir))
      if (e.is_directory()) return e.path();
    return {};
  }

  /// A leader with `ha` settings and its standby, in sync; a client logged in on the leader.
  void start_pair(const std::string& ha, client::OuchClient& c) {
    write_leader(ha);
    ASSERT_TRUE(start(leader_, "leader")) << leader_.proc.log();
    write_standby();
    ASSERT_TRUE(start(standby_, "standby")) << standby_.proc.log();
    ASSERT_TRUE(testing::wait_metric(leader_.http, "peregrine_ha_standby_in_sync", 1)) << leader_.proc.log();
    c.connect("127.0.0.1", leader_.ouch);
    ASSERT_TRUE(c.login("USR1", "pw1").accepted);
  }

  testing::TempDir tmp_{"peregrine-ha-int"};
  Node leader_;
  Node standby_;
};

/// The line of `text` that starts with `prefix`, or "".
std::string line_of(const std::string& text, const std::string& prefix) {
  std::size_t at = text.rfind("\n" + prefix);
  at = text.rfind(prefix, 0) == 0 ? 0 : (at == std::string::npos ? at : at + 1);
  if (at == std::string::npos) return {};
  return text.substr(at, text.find('\n', at) - at);
}

/// Enters `n` orders O<first>.. (buys and sells around 10.00 that sometimes trade); the tokens
/// that were Accepted go to `accepted`.
void trade(std::uint16_t port, const char* user, const char* pw, int first, int n, std::set<std::string>& accepted) {
  client::OuchClient c;
  c.connect("127.0.0.1", port);
  ASSERT_TRUE(c.login(user, pw).accepted);
  for (int i = first; i < first + n; ++i) {
    const std::string tok = std::string(user) + "O" + std::to_string(i);
    const char side = i % 2 == 0 ? 'B' : 'S';
    const auto price = static_cast<std::uint32_t>(100000 + (i % 7 - 3) * 100);
    c.enter_order(client::OrderSpec{tok, side, 100, "600000", price});
    bool answered = false;
    while (!answered) {
      const client::OuchEvent e = c.next(10000ms);
      ASSERT_EQ(e.kind, client::SoupEvent::Kind::Data) << tok << ": no answer";
      if (e.is(OT::Accepted)) {
        accepted.insert(tok);
        answered = true;
      } else if (e.is(OT::Rejected)) {
        answered = true;
      }
    }
  }
  c.logout();
}

TEST_F(ReplicationIntegrationTest, TheStandbyHoldsEveryAcceptedOrderAcrossItsKillAndRestart) {
  write_leader("standby_timeout_ms: 2000");
  ASSERT_TRUE(start(leader_, "leader")) << leader_.proc.log();
  ASSERT_NE(leader_.repl, 0) << leader_.proc.last_line();
  write_standby();
  ASSERT_TRUE(start(standby_, "standby")) << standby_.proc.log();
  ASSERT_TRUE(testing::wait_metric(leader_.http, "peregrine_ha_standby_in_sync", 1)) << leader_.proc.log();

  // The standby refuses logins: Login Rejected 'S'.
  {
    client::OuchClient c;
    c.connect("127.0.0.1", standby_.ouch);
    const client::LoginResult r = c.login("USR1", "pw1");
    EXPECT_FALSE(r.accepted);
    EXPECT_EQ(r.reject_reason, 'S');
  }

  std::set<std::string> accepted;
  trade(leader_.ouch, "USR1", "pw1", 0, 150, accepted);
  // kill -9 of the standby mid-stream: the leader falls back (the connection closes), keeps
  // trading, and the restarted standby catches up from its journal, then the leader's files.
  std::thread other([&] {
    std::set<std::string> mine;
    trade(leader_.ouch, "USR2", "pw2", 0, 300, mine);
    accepted.merge(mine);
  });
  // Mid-stream: once the standby has acknowledged some of USR2's orders (150 + the Start before).
  ASSERT_TRUE(testing::wait_metric_until(leader_.http, "peregrine_ha_acked_seq", [](double v) { return v > 180; }));
  ASSERT_EQ(standby_.proc.kill_now(), 128 + 9);
  other.join();
  ASSERT_TRUE(start(standby_, "standby")) << standby_.proc.log();
  EXPECT_NE(standby_.proc.last_line().find("ha: standby of"), std::string::npos) << standby_.proc.last_line();
  trade(leader_.ouch, "USR1", "pw1", 150, 150, accepted);
  ASSERT_TRUE(testing::wait_metric(leader_.http, "peregrine_ha_standby_in_sync", 1)) << leader_.proc.log();
  ASSERT_TRUE(testing::wait_metric(leader_.http, "peregrine_ha_lag_records", 0)) << leader_.proc.log();
  EXPECT_GT(accepted.size(), 300u);

  // Both stopped where they are (no end of day on either): the same records, the same state.
  ASSERT_EQ(leader_.proc.kill_now(), 128 + 9);
  ASSERT_EQ(standby_.proc.stop(), 0);
  const std::string leader_records = journal_tool("print " + day("leader-journal").string());
  const std::string standby_records = journal_tool("print " + day("standby-journal").string());
  EXPECT_EQ(leader_records, standby_records);
  for (const std::string& tok : accepted) ASSERT_NE(standby_records.find(tok), std::string::npos) << tok;
  const std::string cfg = " --config " + (tmp_.path() / "leader.yaml").string();
  const std::string leader_state = journal_tool("replay " + day("leader-journal").string() + cfg);
  const std::string standby_state = journal_tool("replay " + day("standby-journal").string() + cfg);
  for (const char* what : {"last seq: ", "events: ", "state hash: "}) {
    ASSERT_FALSE(line_of(leader_state, what).empty()) << leader_state;
    EXPECT_EQ(line_of(leader_state, what), line_of(standby_state, what));
  }
}

// With `replicated` an Accepted waits for the standby: none while it is stopped, then it comes.
TEST_F(ReplicationIntegrationTest, NoAcceptedLeavesBeforeTheStandbyHoldsTheOrder) {
  client::OuchClient c;
  ASSERT_NO_FATAL_FAILURE(start_pair("standby_timeout_ms: 60000", c));
  // What the leader and the stopped standby say, for a failure's message.
  auto state = [this] {
    std::string out = "leader:";
    for (const char* m : {"peregrine_ha_lag_records", "peregrine_ha_acked_seq", "peregrine_ha_standby_in_sync",
                          "peregrine_ha_connected", "peregrine_journal_durable_seq"})
      out += std::string(" ") + m + "=" + std::to_string(testing::metric(leader_.http, m));
    return out + "\nleader log:\n" + leader_.proc.log() + "\nstandby log:\n" + standby_.proc.log();
  };
  // Every thread of the standby stopped, not only signalled: until then its replication thread
  // may still acknowledge what comes (seen on a loaded machine).
  ASSERT_TRUE(standby_.proc.pause());
  c.enter_order(client::OrderSpec{"HELD1", 'B', 100, "600000", 99000});
  // The order is journaled and sent; its Accepted waits for the stopped standby. At least one
  // record unacknowledged: the standby may have been stopped before it acknowledged an earlier
  // one too (then the lag is 2, never 1).
  ASSERT_TRUE(testing::wait_metric_until(leader_.http, "peregrine_ha_lag_records", [](double v) { return v >= 1; })) << state();
  const client::OuchEvent held = c.next(1500ms);
  EXPECT_EQ(held.kind, client::SoupEvent::Kind::Timeout)
      << "a reply left before the standby held the order: kind " << static_cast<int>(held.kind) << ", type '"
      << static_cast<char>(held.msg.type) << "'\n" << state();
  ASSERT_TRUE(standby_.proc.resume());
  const client::OuchEvent e = c.next(10000ms);
  EXPECT_TRUE(e.is(OT::Accepted));
  EXPECT_EQ(testing::metric(leader_.http, "peregrine_ha_standby_lost_total"), 0);
}

// Past ha.standby_timeout_ms the leader declares its stopped standby lost and falls back to its
// own fsync (ha.standby_lost: fsync): the Accepted comes without the standby.
TEST_F(ReplicationIntegrationTest, AStandbyStoppedTooLongIsLostAndTheLeaderFallsBackToFsync) {
  client::OuchClient c;
  ASSERT_NO_FATAL_FAILURE(start_pair("standby_timeout_ms: 1000, standby_lost: fsync", c));
  ASSERT_TRUE(standby_.proc.pause());
  c.enter_order(client::OrderSpec{"LOST1", 'B', 100, "600000", 99000});
  const client::OuchEvent e = c.next(15000ms);
  EXPECT_TRUE(e.is(OT::Accepted));
  // Released by the fallback: the standby was declared lost first.
  EXPECT_EQ(testing::metric(leader_.http, "peregrine_ha_standby_lost_total"), 1) << leader_.proc.log();
  EXPECT_EQ(testing::metric(leader_.http, "peregrine_ha_standby_in_sync"), 0);
  ASSERT_TRUE(standby_.proc.resume());
  // It catches up and is in sync again.
  EXPECT_TRUE(testing::wait_metric(leader_.http, "peregrine_ha_standby_in_sync", 1)) << leader_.proc.log();
}

// `strict`: no standby in sync, no new orders (OUCH Rejected); orders again once it is.
TEST_F(ReplicationIntegrationTest, StrictRefusesOrdersUntilAStandbyIsInSync) {
  write_leader("standby_timeout_ms: 1000, standby_lost: strict");
  ASSERT_TRUE(start(leader_, "leader")) << leader_.proc.log();
  client::OuchClient c;
  c.connect("127.0.0.1", leader_.ouch);
  ASSERT_TRUE(c.login("USR1", "pw1").accepted);
  c.enter_order(client::OrderSpec{"STRICT1", 'B', 100, "600000", 99000});
  const client::OuchEvent refused = c.next(10000ms);
  EXPECT_TRUE(refused.is(OT::Rejected)) << static_cast<int>(refused.kind) << " " << static_cast<char>(refused.msg.type)
                                        << "\n" << leader_.proc.log();

  write_standby();
  ASSERT_TRUE(start(standby_, "standby")) << standby_.proc.log();
  ASSERT_TRUE(testing::wait_metric(leader_.http, "peregrine_ha_standby_in_sync", 1)) << leader_.proc.log();
  // The refusal ends at the leader's next health check (once a second).
  bool accepted = false;
  for (int i = 0; i < 100 && !accepted; ++i) {
    const std::string tok = "STRICT" + std::to_string(i + 2);
    c.enter_order(client::OrderSpec{tok, 'B', 100, "600000", 99000});
    const client::OuchEvent e = c.next(10000ms);
    ASSERT_EQ(e.kind, client::SoupEvent::Kind::Data);
    accepted = e.is(OT::Accepted);
    if (!accepted) std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(accepted) << leader_.proc.log();
}

/// What one OUCH session received, message by message (SoupBinTCP seq, payload bytes).
using Received = std::vector<std::pair<std::uint64_t, std::vector<std::uint8_t>>>;

/// Reads `c` until nothing comes for `quiet`, appending every message to `out`.
void drain(client::SoupClient& c, Received& out, std::chrono::milliseconds quiet = 500ms) {
  for (;;) {
    client::SoupEvent e = c.next(quiet);
    if (e.kind != client::SoupEvent::Kind::Data) return;
    out.emplace_back(e.seq, std::move(e.payload));
  }
}

/// Enters `n` orders T<first>.. on a session that is logged in, recording every message it
/// receives in `live` and the Accepted tokens in `accepted`.
void trade_recorded(client::OuchClient& c, const std::string& prefix, int first, int n, std::set<std::string>& accepted,
                    Received& live) {
  for (int i = first; i < first + n; ++i) {
    const std::string tok = prefix + std::to_string(i);
    const char side = i % 2 == 0 ? 'B' : 'S';
    const auto price = static_cast<std::uint32_t>(100000 + (i % 7 - 3) * 100);
    c.enter_order(client::OrderSpec{tok, side, 100, "600000", price});
    for (bool answered = false; !answered;) {
      client::SoupEvent e = c.soup().next(10000ms);
      ASSERT_EQ(e.kind, client::SoupEvent::Kind::Data) << tok << ": no answer";
      proto::ouch::Outbound m{};
      ASSERT_EQ(proto::ouch::decode_outbound(e.payload, m), proto::ouch::Status::Ok);
      const auto type = static_cast<OT>(e.payload[0]);
      live.emplace_back(e.seq, std::move(e.payload));
      if (type == OT::Accepted && m.accepted.token.view() == tok) {
        accepted.insert(tok);
        answered = true;
      } else if (type == OT::Rejected && m.rejected.token.view() == tok) {
        answered = true;
      }
    }
  }
}

/// Every ITCH message of the feed at `port` from seq 1, until nothing comes for a while.
std::vector<std::vector<std::uint8_t>> itch_from_start(std::uint16_t port) {
  client::ItchFeedClient f;
  f.connect("127.0.0.1", port);
  EXPECT_TRUE(f.login("USR1", "pw1", "", 1).accepted);
  std::vector<std::vector<std::uint8_t>> out;
  for (;;) {
    client::SoupEvent e = f.soup().next(700ms);
    if (e.kind != client::SoupEvent::Kind::Data) break;
    EXPECT_EQ(e.seq, out.size() + 1);
    out.push_back(std::move(e.payload));
  }
  f.close();
  return out;
}

// The failover of the brief: kill -9 of the leader, the standby promoted by the admin API; the
// clients' view across it; the old leader back as the new one's standby.
TEST_F(ReplicationIntegrationTest, APromotedStandbyServesEveryAcceptedOrderAndTheOldLeaderFollowsIt) {
  write_leader("standby_timeout_ms: 2000");
  ASSERT_TRUE(start(leader_, "leader")) << leader_.proc.log();
  write_standby(", listen: \"127.0.0.1:0\"");
  ASSERT_TRUE(start(standby_, "standby")) << standby_.proc.log();
  EXPECT_NE(standby_.proc.last_line().find("failover manual"), std::string::npos) << standby_.proc.last_line();
  ASSERT_TRUE(testing::wait_metric(leader_.http, "peregrine_ha_standby_in_sync", 1)) << leader_.proc.log();
  // A standby is no leader: the admin API's commands answer 503 until it is promoted.
  EXPECT_EQ(testing::fetch(standby_.http, boost::beast::http::verb::post, "/admin/halt", "{\"symbol\":\"600000\"}",
                           {{"Authorization", std::string("Bearer ") + kAdminToken}})->status, 503u);
  EXPECT_EQ(testing::metric(standby_.http, "peregrine_ha_role"), 2);

  client::OuchClient c;
  c.connect("127.0.0.1", leader_.ouch);
  ASSERT_TRUE(c.login("USR1", "pw1", "", 1).accepted);
  std::set<std::string> accepted;
  Received live;
  ASSERT_NO_FATAL_FAILURE(trade_recorded(c, "F", 0, 120, accepted, live));
  drain(c.soup(), live);
  ASSERT_GT(accepted.size(), 100u);
  const std::vector<std::vector<std::uint8_t>> itch_live = itch_from_start(leader_.itch);
  ASSERT_FALSE(itch_live.empty());
  // Everything written is held by the standby (so the old leader's journal is not ahead of it).
  ASSERT_TRUE(testing::wait_metric(leader_.http, "peregrine_ha_lag_records", 0)) << leader_.proc.log();
  ASSERT_EQ(leader_.proc.kill_now(), 128 + 9);
  c.close();

  // The promotion: the admin token is needed; then it leads at epoch 2.
  EXPECT_EQ(promote(standby_, false).first, 401u);
  const auto [status, body] = promote(standby_);
  ASSERT_EQ(status, 200u) << body << "\n" << standby_.proc.log();
  EXPECT_NE(body.find("leader at epoch 2"), std::string::npos) << body;
  ASSERT_TRUE(wait_promoted(standby_)) << standby_.proc.last_line();
  EXPECT_EQ(testing::metric(standby_.http, "peregrine_ha_role"), 1);
  EXPECT_EQ(testing::metric(standby_.http, "peregrine_ha_epoch"), 2);
  EXPECT_EQ(testing::metric(standby_.http, "peregrine_ha_failovers_total"), 1);
  EXPECT_EQ(promote(standby_).first, 409u);  // not a standby any more

  // A re-login from seq 1: byte for byte what the client got live, and nothing more.
  client::OuchClient again;
  again.connect("127.0.0.1", standby_.ouch);
  ASSERT_TRUE(again.login("USR1", "pw1", "", 1).accepted) << standby_.proc.log();
  Received replayed;
  drain(again.soup(), replayed);
  ASSERT_EQ(replayed.size(), live.size());
  for (std::size_t i = 0; i < live.size(); ++i) {
    EXPECT_EQ(replayed[i].first, live[i].first);
    ASSERT_EQ(replayed[i].second, live[i].second) << "message " << i + 1;
  }
  // A resent token is refused as a duplicate; a new one trades (released on this node's fsync:
  // no standby of its own yet, ha.standby_lost fsync).
  again.enter_order(client::OrderSpec{"F0", 'B', 100, "600000", 99000});
  const client::OuchEvent dup = again.next(10000ms);
  EXPECT_TRUE(dup.is(OT::Rejected)) << static_cast<char>(dup.msg.type);
  again.enter_order(client::OrderSpec{"NEWLDR1", 'B', 100, "600000", 99000});
  const client::OuchEvent fresh = again.next_of(OT::Accepted, 10000ms);
  EXPECT_TRUE(fresh.is(OT::Accepted)) << standby_.proc.log();
  accepted.insert("NEWLDR1");

  // The ITCH feed continues: the same messages from seq 1, then the new leader's.
  const std::vector<std::vector<std::uint8_t>> itch_after = itch_from_start(standby_.itch);
  ASSERT_GT(itch_after.size(), itch_live.size());
  for (std::size_t i = 0; i < itch_live.size(); ++i) ASSERT_EQ(itch_after[i], itch_live[i]) << "ITCH message " << i + 1;

  // The old leader, restarted as a standby of the new one, follows it: epoch 2 is kept on its disk.
  write_old_leader_as_standby(standby_);
  ASSERT_TRUE(start(leader_, "rejoin")) << leader_.proc.log();
  ASSERT_TRUE(testing::wait_metric(standby_.http, "peregrine_ha_standby_in_sync", 1)) << standby_.proc.log() << leader_.proc.log();
  ASSERT_NO_FATAL_FAILURE(trade_recorded(again, "G", 0, 20, accepted, live));
  ASSERT_TRUE(testing::wait_metric(standby_.http, "peregrine_ha_lag_records", 0)) << standby_.proc.log();
  EXPECT_EQ(testing::metric(leader_.http, "peregrine_ha_epoch"), 2);
  {
    std::ifstream f(tmp_.path() / "leader-journal" / "ha-epoch");
    std::string kept;
    std::getline(f, kept);
    EXPECT_EQ(kept, "2");
  }
  again.close();

  // Both stopped where they are: the same records (the EpochStart among them), the same state;
  // every Accepted token is in the new leader's journal.
  ASSERT_EQ(standby_.proc.kill_now(), 128 + 9);
  ASSERT_EQ(leader_.proc.stop(), 0);
  const std::string new_records = journal_tool("print " + day("standby-journal").string());
  const std::string old_records = journal_tool("print " + day("leader-journal").string());
  EXPECT_EQ(new_records, old_records);
  EXPECT_NE(new_records.find("EpochStart epoch=2"), std::string::npos);
  for (const std::string& tok : accepted) ASSERT_NE(new_records.find(tok), std::string::npos) << tok;
  const std::string cfg = " --config " + (tmp_.path() / "leader.yaml").string();
  const std::string new_state = journal_tool("replay " + day("standby-journal").string() + cfg);
  const std::string old_state = journal_tool("replay " + day("leader-journal").string() + cfg);
  for (const char* what : {"last seq: ", "events: ", "state hash: "}) {
    ASSERT_FALSE(line_of(new_state, what).empty()) << new_state;
    EXPECT_EQ(line_of(new_state, what), line_of(old_state, what));
  }
}

// An old leader whose journal holds records the promoted standby never had (it acknowledged them
// on its own fsync while its standby was gone) is refused when it rejoins, naming the records:
// cutting that tail is not built. Its journal is left as it was.
TEST_F(ReplicationIntegrationTest, AnOldLeaderAheadOfThePromotedStandbyIsRefusedWithTheReason) {
  write_leader("standby_timeout_ms: 1000, standby_lost: fsync");
  ASSERT_TRUE(start(leader_, "leader")) << leader_.proc.log();
  write_standby(", listen: \"127.0.0.1:0\"");
  ASSERT_TRUE(start(standby_, "standby")) << standby_.proc.log();
  std::set<std::string> accepted;
  trade(leader_.ouch, "USR1", "pw1", 0, 20, accepted);
  ASSERT_TRUE(testing::wait_metric(leader_.http, "peregrine_ha_lag_records", 0)) << leader_.proc.log();
  // The standby goes; the leader takes one more order on its own fsync.
  ASSERT_EQ(standby_.proc.stop(), 0);
  ASSERT_TRUE(testing::wait_metric(leader_.http, "peregrine_ha_standby_in_sync", 0));
  trade(leader_.ouch, "USR1", "pw1", 20, 1, accepted);
  ASSERT_EQ(leader_.proc.kill_now(), 128 + 9);
  const std::string old_records = journal_tool("print " + day("leader-journal").string());

  // The standby comes back alone and is promoted (no leader to catch up with).
  ASSERT_TRUE(start(standby_, "standby")) << standby_.proc.log();
  const auto [status, body] = promote(standby_);
  ASSERT_EQ(status, 200u) << body << "\n" << standby_.proc.log();
  ASSERT_TRUE(wait_promoted(standby_)) << standby_.proc.last_line();

  write_old_leader_as_standby(standby_);
  ASSERT_TRUE(start(leader_, "rejoin")) << leader_.proc.log();
  const char* reason = "were never acknowledged by this leader; its journal's tail must be cut before it follows";
  const auto until = std::chrono::steady_clock::now() + 30s;
  while (standby_.proc.log().find(reason) == std::string::npos && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(20ms);
  EXPECT_NE(standby_.proc.log().find(reason), std::string::npos) << standby_.proc.log();
  EXPECT_GE(testing::metric(standby_.http, "peregrine_ha_refused_total"), 1);
  EXPECT_EQ(testing::metric(standby_.http, "peregrine_ha_standby_in_sync"), 0);
  ASSERT_EQ(leader_.proc.stop(), 0);
  EXPECT_EQ(journal_tool("print " + day("leader-journal").string()), old_records);
  ASSERT_EQ(standby_.proc.stop(), 0);
}

// ha.failover auto: the standby promotes itself once the leader it followed has been silent for
// ha.leader_timeout_ms, and takes orders.
TEST_F(ReplicationIntegrationTest, WithFailoverAutoTheStandbyPromotesItselfAfterTheLeadersSilence) {
  write_leader("standby_timeout_ms: 2000");
  ASSERT_TRUE(start(leader_, "leader")) << leader_.proc.log();
  write_standby(", listen: \"127.0.0.1:0\", failover: auto");
  ASSERT_TRUE(start(standby_, "standby")) << standby_.proc.log();
  ASSERT_TRUE(testing::wait_metric(leader_.http, "peregrine_ha_standby_in_sync", 1)) << leader_.proc.log();
  std::set<std::string> accepted;
  trade(leader_.ouch, "USR1", "pw1", 0, 10, accepted);
  ASSERT_EQ(leader_.proc.kill_now(), 128 + 9);
  ASSERT_TRUE(wait_promoted(standby_)) << standby_.proc.log();
  EXPECT_EQ(testing::metric(standby_.http, "peregrine_ha_failovers_total"), 1);
  client::OuchClient c;
  c.connect("127.0.0.1", standby_.ouch);
  ASSERT_TRUE(c.login("USR1", "pw1").accepted);
  c.enter_order(client::OrderSpec{"AUTO1", 'B', 100, "600000", 99000});
  EXPECT_TRUE(c.next_of(OT::Accepted, 10000ms).is(OT::Accepted)) << standby_.proc.log();
}

}  // namespace
}  // namespace peregrine
