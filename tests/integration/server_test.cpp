// Integration tests: the real `peregrine` binary (PEREGRINE_BINARY) on 127.0.0.1 with ephemeral
// ports, driven through the client library. Each test starts its own server from a temporary
// configuration and stops it with SIGTERM.

#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include "peregrine/client/itch_client.hpp"
#include "peregrine/client/ouch_client.hpp"
#include "support/depth_json.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"

namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using peregrine::client::BookBuilder;
using peregrine::client::ItchFeedClient;
using peregrine::client::LoginResult;
using peregrine::client::OrderSpec;
using peregrine::client::OuchClient;
using peregrine::client::OuchEvent;
using peregrine::client::SoupEvent;
using Kind = peregrine::client::SoupEvent::Kind;
using OT = peregrine::proto::ouch::OutboundType;
namespace ouch = peregrine::proto::ouch;
using peregrine::testing::Depth;
using peregrine::testing::DepthIndicative;
using peregrine::testing::DepthLevel;
using peregrine::testing::parse_depth;

constexpr const char* kToken = "integration-test-token";
constexpr auto kWait = 3000ms;

/// An HTTP answer (status 0: none).
struct HttpResponse {
  int status = 0;
  std::string body;
};

/// One HTTP/1.1 request on a fresh connection (the tests' HTTP client), with a bearer token when
/// `auth` is not empty.
HttpResponse http(std::uint16_t port, const std::string& method, const std::string& target,
                  const std::string& body = "", const std::string& auth = "") {
  std::map<std::string, std::string> headers;
  if (!auth.empty()) headers["Authorization"] = "Bearer " + auth;
  const auto verb = boost::beast::http::string_to_verb(method);
  const std::optional<peregrine::testing::Reply> r = peregrine::testing::fetch(port, verb, target, body, headers);
  if (!r) return {};
  return {static_cast<int>(r->status), r->body};
}

/// Options that differ between tests.
struct ServerOptions {
  std::size_t max_outbound_queue_bytes = 8u << 20;
  std::uint32_t session_timeout_ms = 3000;
  std::string idle_strategy = "backoff";
  std::uint32_t max_tokens = 262144;  ///< the day's tokens; a flood must not use them all up
  /// The `market` section: the tests trade around the clock unless they say otherwise.
  std::string market = "{schedule: continuous}";
};

/// Starts the server from a temporary configuration; stops it at the end of the test.
class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override { start(ServerOptions{}); }
  void TearDown() override {
    stop();
    if (HasFailure()) std::fprintf(stderr, "---- server log ----\n%s\n", server_log().c_str());
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void start(const ServerOptions& opt) {
    stop();
    std::random_device rd;
    dir_ = fs::temp_directory_path() / ("peregrine-it-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    fs::create_directories(dir_);
    mold_sink_.open(asio::ip::udp::v4());
    mold_sink_.bind({asio::ip::make_address("127.0.0.1"), 0});
    const auto mold_port = mold_sink_.local_endpoint().port();
    std::ofstream(dir_ / "creds.txt") << "DEMO1:demo1pass\nDEMO2:demo2pass\nMM1:mm1pass\nTHR1:thr1pass\n";
    std::ofstream(dir_ / "token.txt") << kToken << "\n";
    std::ofstream(dir_ / "test.yaml")
        << "engine: {max_orders: 65536, max_tokens: " << opt.max_tokens << "}\n"
           "instruments:\n"
           "  - {symbol: \"600519\", board: main, reference_price: \"1700.00\"}\n"
           "  - {symbol: \"601318\", board: main, reference_price: \"52.30\"}\n"
           "firms:\n"
           "  - {name: FRMA}\n"
           "  - {name: FRMB}\n"
           "  - {name: MM01}\n"
           "  - {name: THRT}\n"
           "users:\n"
           "  - {username: DEMO1, firm: FRMA, throttle_per_second: 0}\n"
           "  - {username: DEMO2, firm: FRMB, throttle_per_second: 0}\n"
           "  - {username: MM1, firm: MM01, cancel_on_disconnect: false, throttle_per_second: 0}\n"
           "  - {username: THR1, firm: THRT, throttle_per_second: 5}\n"
           "credentials_file: creds.txt\n"
           "gateway:\n"
           "  ouch_listen: \"127.0.0.1:0\"\n"
           "  itch_listen: \"127.0.0.1:0\"\n"
           "  http_listen: \"127.0.0.1:0\"\n"
           "  mold_destination: \"127.0.0.1:"
        << mold_port
        << "\"\n"
           "  session_name: PEREGRINE1\n"
           "  heartbeat_interval_ms: 200\n"
           "  session_timeout_ms: "
        << opt.session_timeout_ms
        << "\n"
           "  max_outbound_queue_bytes: "
        << opt.max_outbound_queue_bytes
        << "\n"
           "admin: {token_file: token.txt}\n"
           "core: {idle_strategy: "
        << opt.idle_strategy
        << "}\n"
           "tuning: {low_latency_mode: true}\n"  // TCP_NODELAY: no Nagle/delayed-ACK stalls
           "market: "
        << opt.market << "\n";

    const std::vector<std::string> args{PEREGRINE_BINARY, "--config", (dir_ / "test.yaml").string()};
    ASSERT_TRUE(proc_.spawn(args, (dir_ / "server.log").string())) << "spawning " << PEREGRINE_BINARY;
    // Read the ready line (ASan builds start slower: allow 20 s).
    const std::smatch m = proc_.wait_line(
        std::regex(R"(ready: OUCH [^:]+:(\d+), ITCH [^:]+:(\d+), MoldUDP64 to \S+, HTTP [^:]+:(\d+))"), 20s);
    ASSERT_FALSE(m.empty()) << "no ready line, got: '" << proc_.last_line() << "'\n" << server_log();
    ouch_port_ = static_cast<std::uint16_t>(std::stoi(m[1].str()));
    itch_port_ = static_cast<std::uint16_t>(std::stoi(m[2].str()));
    http_port_ = static_cast<std::uint16_t>(std::stoi(m[3].str()));
    // Every start-up line is written before the ready line (ops::flush_logs), so the last of
    // them, the ops server's, is in the log already: read at once, with no wait.
    EXPECT_NE(server_log().find("ops server listening on"), std::string::npos)
        << "a start-up line came after the ready line; log:\n" << server_log();
  }

  /// SIGTERM, then waits up to `limit` (SIGKILL after). Returns the exit status or -1; a
  /// sanitizer report in the server's stderr fails the test.
  int stop(std::chrono::milliseconds limit = 5000ms) { return proc_.stop(limit); }

  std::string server_log() const {
    std::ifstream f(dir_ / "server.log");
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }

  /// A logged-in OUCH client.
  std::unique_ptr<OuchClient> ouch_login(std::string_view user, std::string_view pass, std::uint64_t seq = 0) {
    auto c = std::make_unique<OuchClient>();
    c->connect("127.0.0.1", ouch_port_);
    // A previous session of the same user may still be closing: retry 'S' briefly.
    for (int i = 0; i < 50; ++i) {
      const LoginResult r = c->login(user, pass, "", seq);
      if (r.accepted) return c;
      if (r.reject_reason != 'S') break;
      std::this_thread::sleep_for(20ms);
      c->connect("127.0.0.1", ouch_port_);
    }
    ADD_FAILURE() << "login " << user << " failed";
    return c;
  }

  HttpResponse depth(std::string_view symbol) {
    return http(http_port_, "GET", "/admin/depth?symbol=" + std::string(symbol) + "&levels=10");
  }

  /// GET /admin/depth for `symbol`, parsed; nullopt (and the reason in `error`) when the answer
  /// is not a depth.
  std::optional<Depth> depth_of(std::string_view symbol, std::string* error = nullptr) {
    return parse_depth(depth(symbol).body, error);
  }

  /// True when the depth of `symbol` parses and `pred` holds for it.
  bool depth_is(std::string_view symbol, const std::function<bool(const Depth&)>& pred) {
    const std::optional<Depth> d = depth_of(symbol);
    return d && pred(*d);
  }

  /// The levels (ten a side) that the ITCH book `book` predicts for one side of `symbol`.
  static std::vector<DepthLevel> expected_levels(const std::vector<BookBuilder::Level>& levels) {
    std::vector<DepthLevel> out;
    for (const auto& l : levels) out.push_back({l.price, l.qty, l.orders});
    return out;
  }

  /// Polls `pred` every 20 ms until it holds or `limit` passes.
  static bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds limit = 3000ms) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (pred()) return true;
      std::this_thread::sleep_for(20ms);
    }
    return pred();
  }

  /// Sends raw bytes on a fresh connection to `port`, and reports whether the server closed it
  /// within `limit`; `reply` gets what it sent before closing.
  static bool raw_closed(std::uint16_t port, const std::vector<std::uint8_t>& bytes, std::string* reply = nullptr,
                         std::chrono::milliseconds limit = 2000ms) {
    peregrine::client::SoupClient c;
    c.connect("127.0.0.1", port);
    c.send_raw(bytes);
    return drained_to_close(c, reply, limit);
  }

  static bool drained_to_close(peregrine::client::SoupClient& c, std::string* reply,
                               std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      const SoupEvent e = c.next(100ms);
      if (e.kind == Kind::Closed) return true;
      if (e.kind == Kind::Data && reply != nullptr) reply->append(e.payload.begin(), e.payload.end());
    }
    return false;
  }

  static std::vector<std::uint8_t> login_bytes(std::string_view user, std::string_view pass) {
    std::vector<std::uint8_t> b(peregrine::proto::soup::kLoginRequestSize);
    const peregrine::proto::soup::LoginRequest req{peregrine::proto::soup::Username::from(user),
                                                   peregrine::proto::soup::Password::from(pass),
                                                   peregrine::proto::soup::SessionId::from(""), 0};
    (void)peregrine::proto::soup::encode_login_request(req, b);
    return b;
  }

  /// Waits until the server's rings are empty: after a flood the core and egress may still be
  /// working through a backlog, and a full command ring refuses orders (OUCH Rejected 'O').
  void wait_until_idle() {
    EXPECT_TRUE(eventually(
        [&] {
          const std::string m = http(http_port_, "GET", "/metrics").body;
          return m.find("peregrine_ring_occupancy{ring=\"gateway_commands\"} 0\n") != std::string::npos &&
                 m.find("peregrine_ring_occupancy{ring=\"events\"} 0\n") != std::string::npos;
        },
        10000ms));
  }

  /// A trade between DEMO1 and DEMO2 still works (used after hostile input).
  void expect_trading_works(std::string_view buy_token, std::string_view sell_token) {
    wait_until_idle();
    auto a = ouch_login("DEMO1", "demo1pass");
    auto b = ouch_login("DEMO2", "demo2pass");
    a->enter_order(OrderSpec{buy_token, 'B', 100, "601318", 523000});
    ASSERT_TRUE(a->next_of(OT::Accepted, kWait).is(OT::Accepted));
    b->enter_order(OrderSpec{sell_token, 'S', 100, "601318", 523000});
    const OuchEvent e = b->next_of(OT::Executed, kWait);
    ASSERT_TRUE(e.is(OT::Executed));
    EXPECT_EQ(e.msg.executed.shares, 100u);
    EXPECT_TRUE(a->next_of(OT::Executed, kWait).is(OT::Executed));
  }

  fs::path dir_;
  peregrine::testing::Process proc_;
  std::uint16_t ouch_port_ = 0;
  std::uint16_t itch_port_ = 0;
  std::uint16_t http_port_ = 0;
  asio::io_context io_;
  asio::ip::udp::socket mold_sink_{io_};
};

// (a) ----------------------------------------------------------------------------------------

TEST_F(ServerTest, LoginAcceptedWithGoodCredentials) {
  OuchClient c;
  c.connect("127.0.0.1", ouch_port_);
  const LoginResult r = c.login("DEMO1", "demo1pass");
  ASSERT_TRUE(r.accepted);
  EXPECT_EQ(r.session, "PEREGRINE1");
  EXPECT_EQ(r.next_seq, 1u);
}

TEST_F(ServerTest, LoginRejectedWithBadCredentialsOrSession) {
  {
    OuchClient c;
    c.connect("127.0.0.1", ouch_port_);
    const LoginResult r = c.login("DEMO1", "wrongpass");
    EXPECT_FALSE(r.accepted);
    EXPECT_EQ(r.reject_reason, 'A');
    EXPECT_EQ(c.next(2000ms).kind, Kind::Closed);
  }
  {
    OuchClient c;
    c.connect("127.0.0.1", ouch_port_);
    const LoginResult r = c.login("NOBODY", "demo1pass");
    EXPECT_FALSE(r.accepted);
    EXPECT_EQ(r.reject_reason, 'A');
  }
  {
    OuchClient c;
    c.connect("127.0.0.1", ouch_port_);
    const LoginResult r = c.login("DEMO1", "demo1pass", "OTHERSESS");
    EXPECT_FALSE(r.accepted);
    EXPECT_EQ(r.reject_reason, 'S');
  }
  {  // one session per user at a time
    auto first = ouch_login("DEMO1", "demo1pass");
    OuchClient second;
    second.connect("127.0.0.1", ouch_port_);
    const LoginResult r = second.login("DEMO1", "demo1pass");
    EXPECT_FALSE(r.accepted);
    EXPECT_EQ(r.reject_reason, 'S');
  }
}

// (b) ----------------------------------------------------------------------------------------

TEST_F(ServerTest, OrderLifecycleFillsBothSidesWithOneMatchNumber) {
  auto buyer = ouch_login("DEMO1", "demo1pass");
  auto seller = ouch_login("DEMO2", "demo2pass");

  buyer->enter_order(OrderSpec{"BUY1", 'B', 300, "601318", 523000});
  const OuchEvent acc = buyer->next(kWait);
  ASSERT_TRUE(acc.is(OT::Accepted));
  EXPECT_EQ(acc.seq, 1u);
  EXPECT_EQ(acc.msg.accepted.token.view(), "BUY1");
  EXPECT_EQ(acc.msg.accepted.side, 'B');
  EXPECT_EQ(acc.msg.accepted.shares, 300u);
  EXPECT_EQ(acc.msg.accepted.stock.view(), "601318");
  EXPECT_EQ(acc.msg.accepted.price, 523000u);
  EXPECT_EQ(acc.msg.accepted.firm.view(), "FRMA");
  EXPECT_EQ(acc.msg.accepted.order_state, 'L');
  EXPECT_NE(acc.msg.accepted.order_ref, 0u);

  seller->enter_order(OrderSpec{"SELL1", 'S', 100, "601318", 522000});
  const OuchEvent sacc = seller->next(kWait);
  ASSERT_TRUE(sacc.is(OT::Accepted)) << static_cast<char>(sacc.msg.type);
  EXPECT_EQ(sacc.seq, 1u);
  const OuchEvent sx = seller->next(kWait);
  ASSERT_TRUE(sx.is(OT::Executed));
  EXPECT_EQ(sx.seq, 2u);
  EXPECT_EQ(sx.msg.executed.token.view(), "SELL1");
  EXPECT_EQ(sx.msg.executed.shares, 100u);
  EXPECT_EQ(sx.msg.executed.price, 523000u);  // the resting order's price
  EXPECT_EQ(sx.msg.executed.liquidity, 'R');

  const OuchEvent bx = buyer->next(kWait);
  ASSERT_TRUE(bx.is(OT::Executed));
  EXPECT_EQ(bx.seq, 2u);
  EXPECT_EQ(bx.msg.executed.token.view(), "BUY1");
  EXPECT_EQ(bx.msg.executed.shares, 100u);
  EXPECT_EQ(bx.msg.executed.price, 523000u);
  EXPECT_EQ(bx.msg.executed.liquidity, 'A');
  EXPECT_EQ(bx.msg.executed.match_number, sx.msg.executed.match_number);

  // The rest of the buy order fills against a second sell.
  seller->enter_order(OrderSpec{"SELL2", 'S', 200, "601318", 523000});
  ASSERT_TRUE(seller->next_of(OT::Executed, kWait).is(OT::Executed));
  const OuchEvent bx2 = buyer->next(kWait);
  ASSERT_TRUE(bx2.is(OT::Executed));
  EXPECT_EQ(bx2.msg.executed.shares, 200u);
  EXPECT_NE(bx2.msg.executed.match_number, bx.msg.executed.match_number);
  EXPECT_TRUE(eventually([&] { return depth_is("601318", [](const Depth& d) { return d.bids.empty(); }); }));
}

// (c) ----------------------------------------------------------------------------------------

TEST_F(ServerTest, ReplaceThenCancel) {
  auto c = ouch_login("DEMO1", "demo1pass");
  c->enter_order(OrderSpec{"R1", 'B', 100, "601318", 520000});
  ASSERT_TRUE(c->next(kWait).is(OT::Accepted));

  c->replace("R1", "R2", 300, 521000);
  const OuchEvent rep = c->next(kWait);
  ASSERT_TRUE(rep.is(OT::Replaced)) << static_cast<char>(rep.msg.type);
  EXPECT_EQ(rep.msg.replaced.replacement.view(), "R2");
  EXPECT_EQ(rep.msg.replaced.previous.view(), "R1");
  EXPECT_EQ(rep.msg.replaced.shares, 300u);
  EXPECT_EQ(rep.msg.replaced.price, 521000u);
  EXPECT_TRUE(eventually([&] {
    return depth_is("601318", [](const Depth& d) { return d.bids == std::vector<DepthLevel>{{521000, 300, 1}}; });
  })) << depth("601318").body;

  // Partial cancel: leave 100 open.
  c->cancel("R2", 100);
  const OuchEvent pc = c->next(kWait);
  ASSERT_TRUE(pc.is(OT::Canceled));
  EXPECT_EQ(pc.msg.canceled.token.view(), "R2");
  EXPECT_EQ(pc.msg.canceled.decrement, 200u);

  c->cancel("R2");
  const OuchEvent can = c->next(kWait);
  ASSERT_TRUE(can.is(OT::Canceled));
  EXPECT_EQ(can.msg.canceled.decrement, 100u);
  EXPECT_TRUE(eventually([&] { return depth_is("601318", [](const Depth& d) { return d.bids.empty(); }); }));

  // The old token is gone: replacing it is refused.
  c->replace("R1", "R3", 100, 521000);
  const OuchEvent bad = c->next(kWait);
  ASSERT_EQ(bad.kind, Kind::Data);
  EXPECT_TRUE(bad.is(OT::Rejected) || bad.is(OT::CancelReject)) << static_cast<char>(bad.msg.type);
}

// (d) ----------------------------------------------------------------------------------------

TEST_F(ServerTest, ItchFeedFromSequenceOneRebuildsTheAdminDepth) {
  auto a = ouch_login("DEMO1", "demo1pass");
  auto b = ouch_login("DEMO2", "demo2pass");
  // Two symbols, several levels, a partial fill, a replace, a partial cancel and a full cancel.
  for (std::uint32_t i = 0; i < 5; ++i) {
    a->enter_order(OrderSpec{"AB" + std::to_string(i), 'B', 100 * (i + 1), "601318", 520000 - 100 * i});
    b->enter_order(OrderSpec{"BS" + std::to_string(i), 'S', 200 + 100 * i, "601318", 524000 + 100 * i});
    a->enter_order(OrderSpec{"AX" + std::to_string(i), 'S', 100, "600519", 17000000 + 1000 * i});
  }
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(a->next_of(OT::Accepted, kWait).is(OT::Accepted));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(b->next_of(OT::Accepted, kWait).is(OT::Accepted));
  b->enter_order(OrderSpec{"BT", 'S', 150, "601318", 520000});  // fills AB0, partially
  a->replace("AB3", "AB3R", 600, 519900);
  a->cancel("AB4", 200);
  b->cancel("BS2");
  b->enter_order(OrderSpec{"BY", 'B', 100, "600519", 17000000});  // takes AX0 entirely
  ASSERT_TRUE(a->next_of(OT::Replaced, kWait).is(OT::Replaced));

  ItchFeedClient feed;
  feed.connect("127.0.0.1", itch_port_);
  const LoginResult r = feed.login("MM1", "mm1pass", "", 1);
  ASSERT_TRUE(r.accepted);
  EXPECT_EQ(r.next_seq, 1u);

  const std::vector<std::string> symbols{"601318", "600519"};
  BookBuilder book;
  std::uint64_t expect_seq = 1;
  bool matched = false;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!matched && std::chrono::steady_clock::now() < deadline) {
    const auto e = feed.next(200ms);
    if (e.kind == Kind::Data) {
      ASSERT_TRUE(e.decoded) << "seq " << e.seq;
      EXPECT_EQ(e.seq, expect_seq++);
      EXPECT_TRUE(book.apply(e.msg)) << "unknown order reference at seq " << e.seq;
      continue;
    }
    ASSERT_EQ(e.kind, Kind::Timeout);
    matched = true;  // quiet: compare
    for (const auto& s : symbols) {
      if (!depth_is(s, [&](const Depth& d) {
            return d.bids == expected_levels(book.bids(s, 10)) && d.asks == expected_levels(book.asks(s, 10));
          }))
        matched = false;
    }
  }
  for (const auto& s : symbols) {
    std::string error;
    const std::optional<Depth> d = depth_of(s, &error);
    ASSERT_TRUE(d) << error;
    EXPECT_EQ(d->bids, expected_levels(book.bids(s, 10))) << "bids of " << s;
    EXPECT_EQ(d->asks, expected_levels(book.asks(s, 10))) << "asks of " << s;
  }
  EXPECT_FALSE(book.bids("601318", 10).empty());
  EXPECT_FALSE(book.asks("600519", 10).empty());
}

// (e) ----------------------------------------------------------------------------------------

TEST_F(ServerTest, ReconnectWithSequenceNumberGetsExactlyTheMissedMessages) {
  {
    auto mm = ouch_login("MM1", "mm1pass");
    mm->enter_order(OrderSpec{"M1", 'S', 100, "601318", 524000});
    mm->enter_order(OrderSpec{"M2", 'S', 100, "601318", 525000});
    mm->enter_order(OrderSpec{"M3", 'S', 100, "601318", 526000});
    for (std::uint64_t s = 1; s <= 3; ++s) {
      const OuchEvent e = mm->next(kWait);
      ASSERT_TRUE(e.is(OT::Accepted));
      EXPECT_EQ(e.seq, s);
    }
    mm->logout();
  }
  // While MM1 is away (cancel_on_disconnect: false), its M1 is hit: seq 4 is an Executed.
  auto taker = ouch_login("DEMO2", "demo2pass");
  taker->enter_order(OrderSpec{"T1", 'B', 100, "601318", 524000});
  ASSERT_TRUE(taker->next_of(OT::Executed, kWait).is(OT::Executed));

  auto mm = ouch_login("MM1", "mm1pass", 3);
  std::vector<OuchEvent> got;
  for (;;) {
    const OuchEvent e = mm->next(500ms);
    if (e.kind != Kind::Data) {
      EXPECT_EQ(e.kind, Kind::Timeout);
      break;
    }
    got.push_back(e);
  }
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].seq, 3u);
  EXPECT_TRUE(got[0].is(OT::Accepted));
  EXPECT_EQ(got[0].msg.accepted.token.view(), "M3");
  EXPECT_EQ(got[1].seq, 4u);
  ASSERT_TRUE(got[1].is(OT::Executed));
  EXPECT_EQ(got[1].msg.executed.token.view(), "M1");
  mm->logout();

  // Sequence 0: nothing replayed, the next message is 5.
  auto mm2 = ouch_login("MM1", "mm1pass", 0);
  EXPECT_EQ(mm2->soup().next_seq(), 5u);
  EXPECT_EQ(mm2->next(300ms).kind, Kind::Timeout);
  mm2->cancel("M2");
  const OuchEvent c = mm2->next(kWait);
  ASSERT_TRUE(c.is(OT::Canceled));
  EXPECT_EQ(c.seq, 5u);
}

// (f) ----------------------------------------------------------------------------------------

TEST_F(ServerTest, CancelOnDisconnectRemovesRestingOrdersFromDepth) {
  auto keep = ouch_login("MM1", "mm1pass");  // cancel_on_disconnect: false
  keep->enter_order(OrderSpec{"K1", 'S', 100, "601318", 530000});
  ASSERT_TRUE(keep->next(kWait).is(OT::Accepted));
  {
    auto gone = ouch_login("DEMO1", "demo1pass");
    gone->enter_order(OrderSpec{"G1", 'B', 200, "601318", 520000});
    ASSERT_TRUE(gone->next(kWait).is(OT::Accepted));
    ASSERT_TRUE(eventually([&] {
      return depth_is("601318", [](const Depth& d) { return d.bids == std::vector<DepthLevel>{{520000, 200, 1}}; });
    })) << depth("601318").body;
    gone->close();  // TCP drop, no Logout Request
  }
  EXPECT_TRUE(eventually([&] { return depth_is("601318", [](const Depth& d) { return d.bids.empty(); }); }))
      << depth("601318").body;
  keep->close();
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(depth_is("601318", [](const Depth& d) { return d.asks == std::vector<DepthLevel>{{530000, 100, 1}}; }))
      << depth("601318").body;
}

// (g) ----------------------------------------------------------------------------------------

TEST_F(ServerTest, ThrottleRejectsThenLogsOut) {
  {
    auto c = ouch_login("THR1", "thr1pass");  // throttle_per_second: 5
    // The eight orders in one write: the server ends the session at the sixth, and a write of
    // the seventh after that would fail with EPIPE in this client, not in the server.
    namespace ouch = peregrine::proto::ouch;
    namespace soup = peregrine::proto::soup;
    std::vector<std::uint8_t> burst;
    for (int i = 0; i < 8; ++i) {
      const std::string tok = "T" + std::to_string(i);
      const ouch::EnterOrder m = ouch::plain_enter_order(peregrine::Token::from(tok), 'B', 100, peregrine::Symbol::from("601318"), 520000,
                                                         ouch::kTifMarketHours, peregrine::FirmName::from(""), 'R');
      std::array<std::uint8_t, ouch::kEnterOrderSize> msg{};
      const std::size_t n = ouch::encode(m, msg);
      std::array<std::uint8_t, soup::kHeaderSize + ouch::kEnterOrderSize> packet{};
      const std::size_t p = soup::encode_unsequenced_data({msg.data(), n}, packet);
      ASSERT_GT(p, 0u);
      burst.insert(burst.end(), packet.begin(), packet.begin() + static_cast<std::ptrdiff_t>(p));
    }
    c->soup().send_raw(burst);
    // The sixth message in the second is refused at the edge ('O'): the refusal goes through the
    // core behind the five orders, and the session ends once it has sent it.
    OuchEvent reject;
    OuchEvent e;
    int live_accepted = 0;
    for (e = c->next(kWait); e.kind == Kind::Data; e = c->next(kWait)) {
      if (e.is(OT::Rejected)) reject = e;
      if (e.is(OT::Accepted)) {
        EXPECT_FALSE(reject.is(OT::Rejected)) << "an Accepted after the Rejected";
        ++live_accepted;
      }
    }
    EXPECT_EQ(e.kind, Kind::Closed);
    EXPECT_EQ(live_accepted, 5);
    ASSERT_TRUE(reject.is(OT::Rejected));
    EXPECT_EQ(reject.msg.rejected.token.view(), "T5");
    EXPECT_EQ(reject.msg.rejected.reason, 'O');
  }
  // The journal holds the whole story: five Accepted, the Rejected, and (cancel on disconnect)
  // five Canceled; T6 and T7 were never read.
  auto again = ouch_login("THR1", "thr1pass", 1);
  int accepted = 0;
  int rejected = 0;
  int canceled = 0;
  for (OuchEvent e = again->next(500ms); e.kind == Kind::Data; e = again->next(500ms)) {
    accepted += e.is(OT::Accepted) ? 1 : 0;
    rejected += e.is(OT::Rejected) ? 1 : 0;
    canceled += e.is(OT::Canceled) ? 1 : 0;
  }
  EXPECT_EQ(accepted, 5);
  EXPECT_EQ(rejected, 1);
  EXPECT_EQ(canceled, 5);
}

// (h) ----------------------------------------------------------------------------------------

TEST_F(ServerTest, KillSwitchNeedsTheTokenAndRefusesOrders) {
  auto c = ouch_login("DEMO1", "demo1pass");
  const HttpResponse none = http(http_port_, "POST", "/admin/kill", R"({"firm":"FRMA","cancel_open":true})");
  EXPECT_EQ(none.status, 401) << none.body;
  const HttpResponse wrong =
      http(http_port_, "POST", "/admin/kill", R"({"firm":"FRMA","cancel_open":true})", "not-the-token");
  EXPECT_EQ(wrong.status, 401) << wrong.body;
  c->enter_order(OrderSpec{"K1", 'B', 100, "601318", 520000});
  ASSERT_TRUE(c->next(kWait).is(OT::Accepted));  // nothing changed

  const HttpResponse ok = http(http_port_, "POST", "/admin/kill", R"({"firm":"FRMA","cancel_open":true})", kToken);
  EXPECT_TRUE(ok.status == 200 || ok.status == 202) << ok.status << " " << ok.body;
  const OuchEvent canceled = c->next(kWait);  // cancel_open: the resting K1 goes
  EXPECT_TRUE(canceled.is(OT::Canceled)) << static_cast<char>(canceled.msg.type);
  c->enter_order(OrderSpec{"K2", 'B', 100, "601318", 520000});
  const OuchEvent e = c->next_of(OT::Rejected, kWait);
  ASSERT_TRUE(e.is(OT::Rejected));
  EXPECT_EQ(e.msg.rejected.token.view(), "K2");
  EXPECT_EQ(e.msg.rejected.reason, 'a');

  // Other firms still trade.
  auto other = ouch_login("DEMO2", "demo2pass");
  other->enter_order(OrderSpec{"O1", 'B', 100, "601318", 520000});
  EXPECT_TRUE(other->next(kWait).is(OT::Accepted));
}

// An admin call the core would refuse is answered as refused, not "accepted" (issue #20): the ops
// thread checks the published phase before queueing. A resume right behind a halt is judged after
// the halt, not on the phase the halt is about to change.
TEST_F(ServerTest, ResumeOfATradingInstrumentIs409AndLoggedAndAResumeBehindAHaltIsQueued) {
  const HttpResponse refused = http(http_port_, "POST", "/admin/resume", R"({"symbol":"601318"})", kToken);
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_EQ(refused.body,
            "{\"action\":\"resume\",\"symbol\":\"601318\",\"result\":\"invalid_transition\",\"detail\":\"601318 is "
            "trading: only a halted, suspended or resume_call instrument can be resumed\"}\n");
  EXPECT_TRUE(eventually([&] {
    return server_log().find("admin resume symbol=601318 from 127.0.0.1:") != std::string::npos &&
           server_log().find(": 409 invalid_transition (601318 is trading") != std::string::npos;
  })) << server_log();
  EXPECT_TRUE(depth_is("601318", [](const Depth& d) { return d.status == "trading"; })) << depth("601318").body;

  // Halt and resume back to back: the resume is queued (202) and the core applies both.
  const HttpResponse halt = http(http_port_, "POST", "/admin/halt", R"({"symbol":"600519"})", kToken);
  EXPECT_EQ(halt.status, 202) << halt.body;
  const HttpResponse resume = http(http_port_, "POST", "/admin/resume", R"({"symbol":"600519"})", kToken);
  EXPECT_EQ(resume.status, 202) << resume.body;
  EXPECT_TRUE(eventually([&] { return server_log().find("admin resume symbol=600519 from") != std::string::npos; }));
  // The phase is named in the audit line, and a halted instrument may be resumed.
  const HttpResponse suspend =
      http(http_port_, "POST", "/admin/phase", R"({"symbol":"601318","phase":"suspended"})", kToken);
  EXPECT_EQ(suspend.status, 202) << suspend.body;
  EXPECT_TRUE(eventually([&] { return depth_is("601318", [](const Depth& d) { return d.status == "suspended"; }); }));
  const HttpResponse back = http(http_port_, "POST", "/admin/resume", R"({"symbol":"601318"})", kToken);
  EXPECT_EQ(back.status, 202) << back.body;
  EXPECT_TRUE(eventually([&] {
    const std::string log = server_log();
    return log.find("admin phase symbol=601318 phase=suspended from 127.0.0.1:") != std::string::npos &&
           log.find("admin halt symbol=600519 from 127.0.0.1:") != std::string::npos;
  })) << server_log();
  EXPECT_EQ(server_log().find("cancel_open"), std::string::npos) << server_log();
  // Nothing reached the core to be refused there.
  wait_until_idle();
  EXPECT_NE(http(http_port_, "GET", "/metrics").body.find("peregrine_core_rejected_total{reason=\"invalid_transition\"} 0\n"),
            std::string::npos);
  EXPECT_EQ(server_log().find("core refused"), std::string::npos) << server_log();
}

// Trading phases: a halt that collects orders, a resumption call with its indicative on
// /admin/depth, and the uncross the server's own timer ends it with (market.resume_call_seconds).
class PhaseTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerOptions o;
    o.market = "{schedule: [{at: \"00:00\", phase: trading}], halt_accepts_orders: true, resume_via_call: true, "
               "resume_call_seconds: 1}";
    start(o);
  }
};

TEST_F(PhaseTest, HaltCollectsOrdersAndTheResumptionCallUncrossesThem) {
  auto buyer = ouch_login("DEMO1", "demo1pass");
  auto seller = ouch_login("DEMO2", "demo2pass");
  const HttpResponse h = http(http_port_, "POST", "/admin/halt", R"({"symbol":"601318"})", kToken);
  ASSERT_TRUE(h.status == 200 || h.status == 202) << h.status << " " << h.body;
  // Wait for the halt to show on /admin/depth (the core applies admin commands asynchronously).
  bool halted = false;
  for (int i = 0; i < 100 && !halted; ++i) {
    halted = depth_is("601318", [](const Depth& d) { return d.status == "halted"; });
    if (!halted) std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(halted) << depth("601318").body;
  // The halt takes day orders without matching them; IOC is refused.
  buyer->enter_order(OrderSpec{"HB1", 'B', 300, "601318", 523000});
  ASSERT_TRUE(buyer->next(kWait).is(OT::Accepted));
  seller->enter_order(OrderSpec{"HS1", 'S', 200, "601318", 522000});
  ASSERT_TRUE(seller->next(kWait).is(OT::Accepted));
  OrderSpec ioc{"HS2", 'S', 100, "601318", 522000};
  ioc.tif = 0;
  seller->enter_order(ioc);
  const OuchEvent refused = seller->next(kWait);
  ASSERT_TRUE(refused.is(OT::Rejected));
  EXPECT_EQ(refused.msg.rejected.reason, 'O');

  // Resume: a one-second resumption call publishes its indicative, then uncrosses at 52.30
  // (the interval 52.20-52.30 pairs 200 with the least surplus; the reference 52.30 is in it).
  const HttpResponse r = http(http_port_, "POST", "/admin/resume", R"({"symbol":"601318"})", kToken);
  ASSERT_TRUE(r.status == 200 || r.status == 202) << r.status << " " << r.body;
  bool in_call = false;
  std::string body;
  std::optional<Depth> d;
  // The depth is built from the ITCH stream (the HTTP thread follows it): the call's status and
  // its indicative are two messages, and a request may come between them.
  for (int i = 0; i < 50 && !in_call; ++i) {
    body = depth("601318").body;
    d = parse_depth(body);
    in_call = d && d->status == "resume_call" && d->indicative.has_value();
    if (!in_call) std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(in_call) << body;
  EXPECT_EQ(d->indicative, (DepthIndicative{523000, 200, 100, "buy"})) << body;
  const OuchEvent sx = seller->next_of(OT::Executed, 5000ms);
  ASSERT_TRUE(sx.is(OT::Executed));
  EXPECT_EQ(sx.msg.executed.shares, 200u);
  EXPECT_EQ(sx.msg.executed.price, 523000u);
  EXPECT_EQ(sx.msg.executed.liquidity, 'H');
  const OuchEvent bx = buyer->next_of(OT::Executed, kWait);
  ASSERT_TRUE(bx.is(OT::Executed));
  EXPECT_EQ(bx.msg.executed.match_number, sx.msg.executed.match_number);
  EXPECT_EQ(bx.msg.executed.liquidity, 'H');
  // Back to continuous trading with the buy remainder resting.
  bool trading = false;
  for (int i = 0; i < 100 && !trading; ++i) {
    body = depth("601318").body;
    d = parse_depth(body);
    trading = d && d->status == "trading";
    if (!trading) std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(trading) << body;
  EXPECT_EQ(d->bids, (std::vector<DepthLevel>{{523000, 100, 1}})) << body;
}

// (i) ----------------------------------------------------------------------------------------

TEST_F(ServerTest, SigtermSendsEndOfSessionAndExitsZeroWithinOneSecond) {
  auto c = ouch_login("DEMO1", "demo1pass");
  c->enter_order(OrderSpec{"D1", 'B', 100, "601318", 520000});
  ASSERT_TRUE(c->next(kWait).is(OT::Accepted));
  ItchFeedClient feed;
  feed.connect("127.0.0.1", itch_port_);
  ASSERT_TRUE(feed.login("DEMO2", "demo2pass", "", 1).accepted);

  const auto t0 = std::chrono::steady_clock::now();
  const int code = stop(5000ms);  // 128 + the signal if one ended it; -1 if it had to be killed
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(code, 0);
  EXPECT_LT(elapsed, 1s) << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms";

  OuchEvent oe;
  do oe = c->next(1000ms);
  while (oe.kind == Kind::Data);
  EXPECT_EQ(oe.kind, Kind::EndOfSession);
  peregrine::client::ItchEvent ie;
  do ie = feed.next(1000ms);
  while (ie.kind == Kind::Data);
  EXPECT_EQ(ie.kind, Kind::EndOfSession);
}

// (j) ----------------------------------------------------------------------------------------

std::vector<std::uint8_t> frame(std::uint16_t len, std::vector<std::uint8_t> rest) {
  rest.insert(rest.begin(), {static_cast<std::uint8_t>(len >> 8), static_cast<std::uint8_t>(len & 0xFF)});
  return rest;
}

TEST_F(ServerTest, HostileInputOnTheHttpAndMoldUdpPortsLeavesTheEngineServing) {
  // HTTP: garbage, an oversized header, a request that never ends its header.
  for (const std::string& bytes : {std::string("\x16\x03\x01 garbage\r\n\r\n"),
                                   "GET /healthz HTTP/1.1\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n"}) {
    asio::ip::tcp::socket s(io_);
    s.connect({asio::ip::make_address("127.0.0.1"), http_port_});
    asio::write(s, asio::buffer(bytes));
    std::string reply(4096, '\0');
    boost::system::error_code ec;
    const std::size_t n = s.read_some(asio::buffer(reply), ec);
    reply.resize(ec ? 0 : n);
    EXPECT_TRUE(reply.rfind("HTTP/1.1 4", 0) == 0 || ec) << reply;  // a 4xx, or closed
  }
  // MoldUDP64: the server re-requests on the socket it sends from; learn it from a datagram.
  std::array<std::uint8_t, 2048> buf{};
  asio::ip::udp::endpoint server_ep;
  mold_sink_.non_blocking(false);
  const std::size_t got = mold_sink_.receive_from(asio::buffer(buf), server_ep);
  ASSERT_GT(got, 20u);
  const std::vector<std::vector<std::uint8_t>> hostile{
      {},                                              // empty
      {'P', 'E', 'R'},                                 // truncated
      std::vector<std::uint8_t>(20, 0xFF),             // wrong session, huge sequence
      std::vector<std::uint8_t>(1500, 0x41),           // oversized
  };
  for (const auto& d : hostile) mold_sink_.send_to(asio::buffer(d), server_ep);
  // A well-formed request for message 1 of the server's own session is still answered.
  std::vector<std::uint8_t> req(buf.begin(), buf.begin() + 10);  // session from the datagram
  const std::uint8_t seq_count[10] = {0, 0, 0, 0, 0, 0, 0, 1, 0, 1};
  req.insert(req.end(), seq_count, seq_count + 10);
  mold_sink_.send_to(asio::buffer(req), server_ep);
  bool answered = false;
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  mold_sink_.non_blocking(true);
  while (!answered && std::chrono::steady_clock::now() < deadline) {
    asio::ip::udp::endpoint from;
    boost::system::error_code ec;
    const std::size_t n = mold_sink_.receive_from(asio::buffer(buf), from, 0, ec);
    if (!ec && from == server_ep && n >= 20 && buf[10] == 0 && buf[17] == 1) answered = true;  // seq 1
    if (ec) std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(answered) << "re-request for message 1 not answered";
  const HttpResponse health = http(http_port_, "GET", "/healthz");
  EXPECT_EQ(health.status, 200);
  expect_trading_works("HB1", "HS1");
}

TEST_F(ServerTest, HostileInputOnTheOuchPortClosesOnlyThatSession) {
  for (const std::uint16_t port : {ouch_port_, itch_port_}) {
    SCOPED_TRACE(port == ouch_port_ ? "OUCH port" : "ITCH port");
    EXPECT_TRUE(raw_closed(port, frame(0, {'L'}))) << "length 0";
    std::vector<std::uint8_t> big(100, 'x');
    EXPECT_TRUE(raw_closed(port, frame(65535, big))) << "length 65535";
    EXPECT_TRUE(raw_closed(port, frame(11, {'L', 'D', 'E', 'M', 'O', '1', ' ', 'd', 'e', 'm', 'o'})))
        << "truncated Login Request";
    EXPECT_TRUE(raw_closed(port, frame(1, {'Q'}))) << "unknown packet type";
    EXPECT_TRUE(raw_closed(port, frame(1, {'S'}))) << "server-only packet type";
    std::mt19937 rng(42);
    std::vector<std::uint8_t> garbage(4096);
    for (auto& g : garbage) g = static_cast<std::uint8_t>(rng());
    garbage[0] = 0x00;
    garbage[1] = 0x05;
    garbage[2] = 0xEE;
    EXPECT_TRUE(raw_closed(port, garbage)) << "garbage";
    EXPECT_TRUE(raw_closed(port, frame(20, std::vector<std::uint8_t>(20, 'U')))) << "data before login";
    EXPECT_TRUE(raw_closed(port, frame(1, {'R'}))) << "heartbeat before login";
    {  // half a frame, then the client goes away: the server must not care
      peregrine::client::SoupClient c;
      c.connect("127.0.0.1", port);
      c.send_raw(std::vector<std::uint8_t>{0x00, 0x31, 'L', 'D'});
      c.close();
    }
    {  // a logged-in session sending an unknown message
      peregrine::client::SoupClient c;
      c.connect("127.0.0.1", port);
      ASSERT_TRUE(c.login("DEMO1", "demo1pass", "", 0).accepted);
      const std::vector<std::uint8_t> unknown{'Z', 1, 2, 3};
      c.send_unsequenced(unknown);
      std::string reply;
      EXPECT_TRUE(drained_to_close(c, &reply, 2000ms)) << "unknown OUCH type after login";
    }
    {  // a logged-in session sending an Enter Order one byte short
      peregrine::client::SoupClient c;
      c.connect("127.0.0.1", port);
      ASSERT_TRUE(c.login("DEMO1", "demo1pass", "", 0).accepted);
      std::vector<std::uint8_t> shortmsg(ouch::kEnterOrderSize - 1, ' ');
      shortmsg[0] = 'O';
      c.send_unsequenced(shortmsg);
      EXPECT_TRUE(drained_to_close(c, nullptr, 2000ms)) << "short Enter Order";
    }
  }
  expect_trading_works("HB1", "HS1");
}

TEST_F(ServerTest, BadOrderFieldsAreRejectedWithPreciseReasons) {
  auto c = ouch_login("DEMO1", "demo1pass");
  auto expect_reject = [&](const OrderSpec& s, char reason) {
    c->enter_order(s);
    const OuchEvent e = c->next(kWait);
    ASSERT_TRUE(e.is(OT::Rejected)) << s.token << " got " << static_cast<char>(e.msg.type);
    EXPECT_EQ(e.msg.rejected.token.view(), s.token);
    EXPECT_EQ(e.msg.rejected.reason, reason) << s.token;
  };
  expect_reject(OrderSpec{"X1", 'B', 100, "999999", 520000}, ouch::reject::kInvalidStock);
  expect_reject(OrderSpec{"X2", 'B', 100, "601318", 520000, ouch::kTifMarketHours, 'Q'}, ouch::reject::kInvalidDisplay);
  expect_reject(OrderSpec{"X3", 'Q', 100, "601318", 520000}, ouch::reject::kOther);
  expect_reject(OrderSpec{"X4", 'B', 100, "601318", 520000, 12345}, ouch::reject::kOther);
  expect_reject(OrderSpec{"X5", 'B', 100, "601318", 999990000}, ouch::reject::kInvalidPrice);
  // The session is still usable.
  c->enter_order(OrderSpec{"OK1", 'B', 100, "601318", 520000});
  EXPECT_TRUE(c->next(kWait).is(OT::Accepted));
  // X2, X3 and X4 were refused at the edge, yet the core answered them (EdgeReject commands):
  // every reply is the core's, so the journal replays it.
  const std::string m = http(http_port_, "GET", "/metrics").body;
  EXPECT_NE(m.find("peregrine_core_commands_total{type=\"edge_reject\"} 3\n"), std::string::npos) << m;
  EXPECT_NE(m.find("peregrine_core_rejected_total{reason=\"gateway\"} 3\n"), std::string::npos);
}

class SlowConsumerTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerOptions o;
    o.max_outbound_queue_bytes = 65536;
    // The floods below enter up to 1.5M orders: room for all their tokens, so that the orders
    // of the trading check afterwards are not refused with TokenTableFull.
    o.max_tokens = 4194304;
    o.session_timeout_ms = 20000;  // the lazy reader sends nothing for a long time
    o.idle_strategy = "yield";     // volume: no back-off sleeps in the core
    start(o);
  }
  std::size_t slow_consumer_closes() const {
    const std::string log = server_log();
    std::size_t n = 0;
    for (auto p = log.find("closed: slow_consumer"); p != std::string::npos; p = log.find("closed: slow_consumer", p + 1)) ++n;
    return n;
  }
};

TEST_F(SlowConsumerTest, AnOuchClientThatNeverReadsIsCutOff) {
  OuchClient flood;
  flood.connect("127.0.0.1", ouch_port_);
  ASSERT_TRUE(flood.login("MM1", "mm1pass").accepted);
  std::uint32_t n = 0;
  std::string error;
  // The flood goes on until the server cuts the session off (the event this test waits for),
  // bounded generously: the cut-off comes after a volume (the kernel's socket buffers, then the
  // session's queue), which a release build reaches in a second or two, but a sanitizer build on
  // a busy 2-vCPU machine processes the flood several times slower (seen: no cut-off within 15 s
  // in debug under load; ctest's limit for the test is 120 s).
  const auto deadline = std::chrono::steady_clock::now() + 90s;
  try {
    while (std::chrono::steady_clock::now() < deadline && slow_consumer_closes() == 0 && n < 1'500'000) {
      for (int i = 0; i < 500; ++i, ++n) {
        const std::string t = "F" + std::to_string(n);
        flood.enter_order(OrderSpec{t, 'B', 100, "601318", 510000 + (n % 50) * 100});
        flood.cancel(t);
      }
    }
  } catch (const peregrine::client::ClientError& e) {
    error = e.what();  // the server closed the flooding session under us
  }
  EXPECT_TRUE(eventually([&] { return slow_consumer_closes() == 1; })) << n << " pairs, " << error;
  flood.close();
  expect_trading_works("SB1", "SS1");
}

TEST_F(SlowConsumerTest, AnItchClientThatNeverReadsIsCutOff) {
  // An ITCH reader that never reads, with a small receive buffer.
  asio::io_context io;
  asio::ip::tcp::socket lazy(io);
  lazy.open(asio::ip::tcp::v4());
  lazy.set_option(asio::socket_base::receive_buffer_size(4096));
  lazy.connect({asio::ip::make_address("127.0.0.1"), itch_port_});
  asio::write(lazy, asio::buffer(login_bytes("MM1", "mm1pass")));

  // A well-behaved OUCH client generates the volume: enter and cancel in batches written with
  // one write each, reading its answers after each batch.
  auto c = ouch_login("DEMO1", "demo1pass");
  std::uint32_t n = 0;
  constexpr int kBatch = 250;
  // Until the cut-off, bounded generously as in the OUCH test above (TSan under load needed more
  // than the 25 s this once allowed: 49,250 pairs where release cuts off after about 47,000).
  const auto deadline = std::chrono::steady_clock::now() + 90s;
  std::vector<std::uint8_t> batch;
  while (std::chrono::steady_clock::now() < deadline && slow_consumer_closes() == 0) {
    batch.clear();
    for (int i = 0; i < kBatch; ++i, ++n) {
      ouch::EnterOrder o{};
      o.token = peregrine::Token::from("V" + std::to_string(n));
      o.side = 'B';
      o.shares = 100;
      o.stock = peregrine::Symbol::from("601318");
      o.price = 510000 + (n % 50) * 100;
      o.tif = ouch::kTifMarketHours;
      o.firm = peregrine::FirmName::from("");
      o.display = 'Y';
      o.capacity = 'A';
      o.iso = 'N';
      o.cross_type = 'N';
      o.customer_type = 'R';
      std::array<std::uint8_t, 3 + ouch::kEnterOrderSize> eb{};
      (void)peregrine::proto::soup::encode_header(peregrine::proto::soup::PacketType::UnsequencedData,
                                                  ouch::kEnterOrderSize, eb);
      (void)ouch::encode(o, std::span<std::uint8_t>(eb).subspan(3));
      batch.insert(batch.end(), eb.begin(), eb.end());
      std::array<std::uint8_t, 3 + ouch::kCancelOrderSize> cb{};
      (void)peregrine::proto::soup::encode_header(peregrine::proto::soup::PacketType::UnsequencedData,
                                                  ouch::kCancelOrderSize, cb);
      (void)ouch::encode(ouch::CancelOrder{o.token, 0}, std::span<std::uint8_t>(cb).subspan(3));
      batch.insert(batch.end(), cb.begin(), cb.end());
    }
    c->soup().send_raw(batch);
    for (int i = 0; i < 2 * kBatch; ++i) ASSERT_EQ(c->next(kWait).kind, Kind::Data) << "after " << n;
  }
  EXPECT_EQ(slow_consumer_closes(), 1u) << n << " order/cancel pairs";
  std::printf("itch slow consumer cut off after %u order/cancel pairs\n", n);
  // The well-behaved session was not affected.
  c->enter_order(OrderSpec{"AFTER", 'B', 100, "601318", 520000});
  EXPECT_TRUE(c->next(kWait).is(OT::Accepted));
  c->logout();
  expect_trading_works("SB2", "SS2");
}

// (k) ----------------------------------------------------------------------------------------

TEST_F(ServerTest, MetricsPassPromtool) {
  auto c = ouch_login("DEMO1", "demo1pass");
  c->enter_order(OrderSpec{"M1", 'B', 100, "601318", 520000});
  ASSERT_TRUE(c->next(kWait).is(OT::Accepted));
  (void)http(http_port_, "POST", "/admin/kill", R"({"firm":"FRMA"})");  // bumps the 401 counter
  const HttpResponse m = http(http_port_, "GET", "/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("peregrine_core_commands_total"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("peregrine_admin_unauthorized_total"), std::string::npos);
#ifdef PEREGRINE_PROMTOOL
  const fs::path file = dir_ / "metrics.txt";
  std::ofstream(file) << m.body;
  const std::string cmd = std::string(PEREGRINE_PROMTOOL) + " check metrics < " + file.string() + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[256];
  while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  const int rc = ::pclose(p);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out, "");
#else
  GTEST_SKIP() << "promtool not found at configure time";
#endif
}

}  // namespace
