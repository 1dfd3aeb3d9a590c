// The DPDK ingress against the real binary (docs/dpdk.md):
//
//  - DpdkPcapTest: a generated pcap of valid and hostile order packets goes through
//    --ingress=dpdk on `net_pcap` (rx_pcap/tx_pcap, --no-huge --no-pci); the tx pcap must hold
//    exactly the OUCH replies that the same orders get through the SoupBinTCP gateway (decoded
//    and compared message by message, timestamps aside), tshark must decode it cleanly, the
//    books of both engines must be equal, and every hostile packet is dropped and counted.
//  - DpdkNetnsTest: two network namespaces joined by a veth pair; the engine runs
//    `net_af_packet` on one end, the test is the UDP client on the other: replies, a
//    re-request after a lost reply, a duplicate, a gap notification. Skipped (with the reason)
//    where namespaces cannot be made.
//  - DpdkModuleTest: DPDK's libraries are mapped only when the configuration asks for DPDK
//    ingress (peregrine-dpdk.so, loaded from beside the binary); without the module, DPDK ingress
//    is refused with the loader's reason.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/wait.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <random>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "peregrine/client/ouch_client.hpp"
#include "peregrine/ingress/packet.hpp"
#include "peregrine/proto/moldudp64.hpp"
#include "peregrine/proto/ouch42.hpp"
#include "support/depth_json.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "unit/ingress/ingress_test_util.hpp"
#include "unit/proto/pcap_writer.hpp"

namespace peregrine {
namespace {

namespace fs = std::filesystem;
namespace ouch = proto::ouch;
namespace mold = proto::mold;
using namespace std::chrono_literals;
using Bytes = std::vector<std::uint8_t>;
using testing::Process;

// ---- messages and packets ----

// Messages and packets: the unit tests' builders (tests/unit/ingress/ingress_test_util.hpp).
Bytes enter(std::string_view token, char side, std::uint32_t shares, std::uint32_t price, std::string_view firm = "") {
  return ingress::test::enter_order(token, side, shares, price, "600519", firm);
}
using ingress::test::mold_header;
using ingress::test::mold_packet;
Bytes cancel(std::string_view token) { return ingress::test::cancel_order(token); }

// A decoded outbound OUCH message with its timestamp cleared, comparable across engines.
std::string canonical(std::span<const std::uint8_t> msg) {
  ouch::Outbound out{};
  if (ouch::decode_outbound(msg, out) != ouch::Status::Ok) return "undecodable";
  switch (out.type) {
    case ouch::OutboundType::Accepted: out.accepted.timestamp = 0; break;
    case ouch::OutboundType::Replaced: out.replaced.timestamp = 0; break;
    case ouch::OutboundType::Canceled: out.canceled.timestamp = 0; break;
    case ouch::OutboundType::Executed: out.executed.timestamp = 0; break;
    case ouch::OutboundType::Rejected: out.rejected.timestamp = 0; break;
    case ouch::OutboundType::CancelReject: out.cancel_reject.timestamp = 0; break;
    default: break;
  }
  Bytes b(ouch::kMaxMessageSize);
  b.resize(ouch::encode(out, b));
  std::string s;
  for (std::uint8_t c : b) {
    char x[3];
    std::snprintf(x, sizeof x, "%02x", c);
    s += x;
  }
  return std::string(1, static_cast<char>(out.type)) + ":" + s;
}

// ---- the engine's configuration ----

struct User {
  const char* name;
  const char* firm;
  const char* password;
  std::uint32_t ip;  // host order
  std::uint16_t port;
  const char* session;
};

void write_config(const fs::path& dir, const std::string& ingress_yaml, const std::vector<User>& users) {
  std::ofstream creds(dir / "creds.txt");
  for (const User& u : users) creds << u.name << ":" << u.password << "\n";
  std::ofstream y(dir / "test.yaml");
  y << "engine: {max_orders: 65536, max_tokens: 65536}\n"
       "instruments:\n"
       "  - {symbol: \"600519\", board: main, reference_price: \"1700.00\"}\n"
       "firms:\n  - {name: FRMA}\n  - {name: FRMB}\n"
       "users:\n";
  for (const User& u : users) y << "  - {username: " << u.name << ", firm: " << u.firm << ", throttle_per_second: 0, cancel_on_disconnect: false}\n";
  y << "credentials_file: creds.txt\n"
       "gateway:\n"
       "  ouch_listen: \"127.0.0.1:0\"\n"
       "  itch_listen: \"127.0.0.1:0\"\n"
       "  http_listen: \"127.0.0.1:0\"\n"
       "  heartbeat_interval_ms: 60000\n"  // no heartbeats within a test: the capture is exact
       "  session_timeout_ms: 120000\n"
       "core: {idle_strategy: backoff}\n"
       "market: {schedule: continuous}\n"  // trading around the clock, whatever the time of the test
    << ingress_yaml;
}

std::string ingress_yaml(const std::string& eal, const std::vector<User>& users, const std::string& more = "") {
  std::string s = "ingress:\n  kind: dpdk\n  eal_args: \"" + eal +
                  "\"\n  ip: 10.77.0.1\n  udp_port: 9010\n  idle_strategy: backoff\n" + more + "  bindings:\n";
  for (const User& u : users) {
    in_addr a{htonl(u.ip)};
    s += "    - {user: " + std::string(u.name) + ", ip: " + inet_ntoa(a) + ", port: " + std::to_string(u.port) +
         ", session: " + u.session + "}\n";
  }
  return s;
}

fs::path temp_dir(const char* what) {
  std::random_device rd;
  const fs::path d = fs::temp_directory_path() / (std::string("peregrine-") + what + "-" + std::to_string(::getpid()) + "-" +
                                                  std::to_string(rd()));
  fs::create_directories(d);
  return d;
}

struct Ports {
  std::uint16_t ouch = 0;
  std::uint16_t http = 0;
};

bool start(Process& p, const std::vector<std::string>& prefix, const fs::path& dir, const std::vector<std::string>& extra,
           Ports& ports) {
  std::vector<std::string> args = prefix;
  args.push_back(PEREGRINE_BINARY);
  args.push_back("--config");
  args.push_back((dir / "test.yaml").string());
  args.insert(args.end(), extra.begin(), extra.end());
  if (!p.spawn(args, (dir / "server.log").string())) return false;
  const std::smatch m = p.wait_line(std::regex(R"(ready: OUCH [^:]+:(\d+), .* HTTP [^:]+:(\d+))"), 30s);
  if (m.empty()) return false;
  ports.ouch = static_cast<std::uint16_t>(std::stoi(m[1].str()));
  ports.http = static_cast<std::uint16_t>(std::stoi(m[2].str()));
  return true;
}

std::string http_get(std::uint16_t port, const std::string& target) {
  const auto r = testing::fetch(port, boost::beast::http::verb::get, target);
  return r ? r->body : std::string();
}

/// The value of one metric series (exact name with labels), or -1.
double metric(std::uint16_t port, const std::string& series) {
  const std::string text = http_get(port, "/metrics");
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

bool wait_metric(std::uint16_t port, const std::string& series, double want, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (metric(port, series) >= want) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

// ---- pcap ----

std::vector<Bytes> read_pcap(const fs::path& path) {
  std::vector<Bytes> frames;
  std::ifstream f(path, std::ios::binary);
  std::array<char, 24> header{};
  if (!f.read(header.data(), header.size())) return frames;
  for (;;) {
    std::array<std::uint8_t, 16> rec{};
    if (!f.read(reinterpret_cast<char*>(rec.data()), rec.size())) break;
    const std::uint32_t len = rec[8] | (rec[9] << 8) | (rec[10] << 16) | (static_cast<std::uint32_t>(rec[11]) << 24);
    Bytes b(len);
    if (!f.read(reinterpret_cast<char*>(b.data()), len)) break;
    frames.push_back(std::move(b));
  }
  return frames;
}

constexpr std::array<std::uint8_t, 6> kEngineMac{0x02, 0, 0, 0, 0, 0x01};
constexpr std::uint32_t kEngineIp = 0x0A4D0001;  // 10.77.0.1
constexpr std::uint16_t kEnginePort = 9010;

const std::vector<User> kUsers{
    {"DEMO1", "FRMA", "demo1pass", 0x0A4D0002, 40000, "CLIENT1"},
    {"DEMO2", "FRMB", "demo2pass", 0x0A4D0003, 40001, "CLIENT2"},
};

/// One scripted order-entry message of one user.
struct Step {
  std::size_t user;
  Bytes message;
};

const std::vector<Step>& scenario() {
  static const std::vector<Step> steps{
      {0, enter("B1", 'B', 300, 17'000'000)},
      {1, enter("S1", 'S', 100, 17'000'000)},          // trades 100 with B1
      {0, enter("B2", 'B', 200, 16'990'000)},
      {1, enter("S2", 'S', 200, 17'010'000)},
      {0, enter("B3", 'B', 100, 17'000'000, "FRMB")},  // firm not the user's: OUCH 'L' at the edge
      {0, enter("B4", 'B', 100, 99'990'000)},          // outside the daily limit: the core rejects
      {1, enter("S3", 'S', 150, 16'990'000)},          // takes 150 of B1's 200 left, at 1700
      {0, cancel("B2")},
      {1, cancel("NOPE")},                              // nothing to cancel
      {0, enter("B5", 'B', 100, 17'010'000)},          // takes 100 of S2
  };
  return steps;
}

// Runs the scenario through the SoupBinTCP gateway: one step at a time, each after the previous
// step's first reply, so the core sees the same order as the UDP run. Returns each user's replies.
std::vector<std::vector<std::string>> run_tcp(std::uint16_t ouch_port) {
  std::vector<std::unique_ptr<client::OuchClient>> clients;
  for (const User& u : kUsers) {
    auto c = std::make_unique<client::OuchClient>();
    c->connect("127.0.0.1", ouch_port);
    EXPECT_TRUE(c->login(u.name, u.password).accepted);
    clients.push_back(std::move(c));
  }
  std::vector<std::vector<std::string>> replies(kUsers.size());
  // Reads one message of user u; its token in `token` (the order's, for any order reply).
  auto take = [&](std::size_t u, std::chrono::milliseconds t, Token* token) {
    const client::OuchEvent e = clients[u]->next(t);
    if (e.kind != client::SoupEvent::Kind::Data) return false;
    const ouch::Outbound& out = e.msg;
    Bytes b(ouch::kMaxMessageSize);
    b.resize(ouch::encode(out, b));
    replies[u].push_back(canonical(b));
    if (token != nullptr) {
      switch (out.type) {
        case ouch::OutboundType::Accepted: *token = out.accepted.token; break;
        case ouch::OutboundType::Rejected: *token = out.rejected.token; break;
        case ouch::OutboundType::Canceled: *token = out.canceled.token; break;
        case ouch::OutboundType::CancelReject: *token = out.cancel_reject.token; break;
        default: *token = Token{}; break;
      }
    }
    return true;
  };
  for (const Step& s : scenario()) {
    clients[s.user]->soup().send_unsequenced(s.message);
    // The step's own answer (by token) before the next step: the core sees the UDP run's order.
    ouch::Inbound in{};
    EXPECT_EQ(ouch::decode_inbound(s.message, in), ouch::Status::Ok);
    const Token want = in.type == ouch::InboundType::EnterOrder ? in.enter.token : in.cancel.token;
    Token got{};
    bool answered = false;
    while (!answered && take(s.user, 3000ms, &got)) answered = got == want;
    EXPECT_TRUE(answered) << "no answer to a step of " << kUsers[s.user].name;
  }
  for (std::size_t u = 0; u < kUsers.size(); ++u)
    while (take(u, 300ms, nullptr)) {
    }
  return replies;
}

TEST(DpdkPcapTest, RepliesAndBooksEqualTheTcpGatewaysAndHostilePacketsAreDropped) {
  const fs::path dir = temp_dir("dpdk-pcap");
  // 1. The same orders through the SoupBinTCP gateway (the same binary, --ingress=asio).
  write_config(dir, "", kUsers);
  std::vector<std::vector<std::string>> tcp;
  std::string tcp_depth;
  {
    Process p;
    Ports ports;
    ASSERT_TRUE(start(p, {}, dir, {}, ports)) << p.log();
    tcp = run_tcp(ports.ouch);
    tcp_depth = http_get(ports.http, "/admin/depth?symbol=600519&levels=10");
    EXPECT_EQ(p.stop(), 0);
  }
  std::size_t tcp_messages = 0;
  for (const auto& r : tcp) tcp_messages += r.size();
  ASSERT_GE(tcp_messages, scenario().size());

  // 2. The pcap: the scenario as MoldUDP64 packets, with hostile frames in between.
  std::vector<std::uint64_t> next_seq(kUsers.size(), 1);
  std::vector<Bytes> frames;
  std::uint16_t ip_id = 1;
  auto frame_from = [&](std::size_t u, std::span<const std::uint8_t> payload, std::uint16_t dst_port = kEnginePort) {
    const proto::test::Endpoint src{{0x02, 0, 0, 0, 0, static_cast<std::uint8_t>(0x10 + u)}, kUsers[u].ip, kUsers[u].port};
    const proto::test::Endpoint dst{kEngineMac, kEngineIp, dst_port};
    return proto::test::make_frame(src, dst, false, 0, 0, 0, ip_id++, payload);
  };
  std::map<std::string, int> hostile;  // drop reason -> frames
  Bytes first_packet;
  for (std::size_t i = 0; i < scenario().size(); ++i) {
    const Step& s = scenario()[i];
    const Bytes pkt = mold_packet(kUsers[s.user].session, next_seq[s.user]++, {s.message});
    if (i == 0) first_packet = pkt;
    frames.push_back(frame_from(s.user, pkt));
    switch (i) {  // hostile frames between the steps
      case 0: {
        Bytes f = frame_from(0, pkt);
        f.resize(30);  // cut inside the IP header
        frames.push_back(f);
        ++hostile["truncated"];
        frames.push_back(frame_from(0, first_packet));  // a resend: duplicate
        break;
      }
      case 1: {
        Bytes f = frame_from(1, pkt);
        f[14 + 8] ^= 1;  // TTL: header checksum wrong
        frames.push_back(f);
        ++hostile["ip_checksum"];
        Bytes g = frame_from(1, pkt);
        g.back() ^= 0x55;  // payload: UDP checksum wrong
        frames.push_back(g);
        ++hostile["udp_checksum"];
        break;
      }
      case 2: {
        Bytes f = frame_from(0, pkt);
        f[14 + 6] |= 0x20;  // more fragments
        f[14 + 10] = f[14 + 11] = 0;
        const std::uint16_t c = ingress::checksum_finish(ingress::checksum_add({f.data() + 14, 20}, 0));
        f[14 + 10] = static_cast<std::uint8_t>(c >> 8);
        f[14 + 11] = static_cast<std::uint8_t>(c);
        frames.push_back(f);
        ++hostile["fragment"];
        frames.push_back(frame_from(0, pkt, 9999));  // another port
        ++hostile["not_for_us"];
        Bytes arp = frame_from(0, pkt);
        arp[12] = 0x08;
        arp[13] = 0x06;
        frames.push_back(arp);
        ++hostile["not_ipv4"];
        break;
      }
      case 3: {
        Bytes overrun = mold_packet(kUsers[1].session, next_seq[1], {enter("X1", 'B', 100, 17'000'000)});
        overrun[19] = 5;  // count 5, one block
        frames.push_back(frame_from(1, overrun));
        // A stranger: a port no binding has.
        const proto::test::Endpoint src{{0x02, 0, 0, 0, 0, 0x99}, kUsers[1].ip, 40099};
        const proto::test::Endpoint dst{kEngineMac, kEngineIp, kEnginePort};
        frames.push_back(proto::test::make_frame(src, dst, false, 0, 0, 0, ip_id++,
                                                 mold_packet("CLIENT2", 1, {enter("X2", 'B', 100, 17'000'000)})));
        // A gap: DEMO2 jumps ahead; dropped and notified.
        frames.push_back(frame_from(1, mold_packet(kUsers[1].session, next_seq[1] + 10, {enter("X3", 'S', 100, 17'000'000)})));
        break;
      }
      default: break;
    }
  }
  {
    proto::test::PcapWriter w((dir / "in.pcap").string());
    ASSERT_TRUE(w.ok());
    std::uint64_t t = 1'700'000'000'000'000;
    for (const Bytes& f : frames) w.write(f, t += 100);
  }

  // 3. The same binary with --ingress=dpdk on net_pcap.
  const std::string eal = "--no-huge --no-pci -m 256 -l 0 --no-shconf --vdev net_pcap0,rx_pcap=" +
                          (dir / "in.pcap").string() + ",tx_pcap=" + (dir / "out.pcap").string();
  // The ITCH feed leaves on the same port, to a multicast group.
  write_config(dir, ingress_yaml(eal, kUsers, "  itch_destination: \"239.1.1.1:9020\"\n"), kUsers);
  std::string udp_depth;
  {
    Process p;
    Ports ports;
    ASSERT_TRUE(start(p, {}, dir, {}, ports)) << p.log();
    ASSERT_TRUE(wait_metric(ports.http, "peregrine_dpdk_rx_packets_total", static_cast<double>(frames.size()), 10s))
        << p.log();
    ASSERT_TRUE(wait_metric(ports.http, "peregrine_udp_replies_total{kind=\"messages\"}",
                            static_cast<double>(tcp_messages), 10s))
        << http_get(ports.http, "/metrics");
    udp_depth = http_get(ports.http, "/admin/depth?symbol=600519&levels=10");
    // Every hostile frame dropped and counted by reason; MoldUDP64-level drops by outcome.
    for (const auto& [reason, n] : hostile)
      EXPECT_EQ(metric(ports.http, "peregrine_dpdk_frame_drops_total{reason=\"" + reason + "\"}"), n) << reason;
    EXPECT_EQ(metric(ports.http, "peregrine_udp_packets_total{outcome=\"duplicate\"}"), 1);
    EXPECT_EQ(metric(ports.http, "peregrine_udp_packets_total{outcome=\"malformed\"}"), 1);
    EXPECT_EQ(metric(ports.http, "peregrine_udp_packets_total{outcome=\"unknown_endpoint\"}"), 1);
    EXPECT_EQ(metric(ports.http, "peregrine_udp_packets_total{outcome=\"gap\"}"), 1);
    EXPECT_EQ(metric(ports.http, "peregrine_udp_packets_total{outcome=\"applied\"}"), static_cast<double>(scenario().size()));
    EXPECT_EQ(metric(ports.http, "peregrine_dpdk_nic_ipackets_total{port=\"net_pcap0\"}"), static_cast<double>(frames.size()));
    EXPECT_EQ(p.stop(), 0) << p.log();
  }

  // 4. The books are the same.
  EXPECT_FALSE(tcp_depth.empty());
  EXPECT_EQ(udp_depth, tcp_depth);

  // 5. The tx pcap: per user, MoldUDP64 packets numbered 1, 2, ... with exactly the TCP replies
  // (as a multiset: edge rejects now come from the core too, but the two runs feed it through
  // different rings, so a reply's place may differ), plus DEMO2's one gap notification.
  std::vector<std::vector<std::string>> udp(kUsers.size());
  std::vector<std::uint64_t> expect_seq(kUsers.size(), 1);
  int gap_notices = 0;
  std::uint64_t itch_next = 1;
  std::map<char, int> itch_types;
  for (const Bytes& f : read_pcap(dir / "out.pcap")) {
    ingress::UdpDatagram d{};
    ASSERT_EQ(ingress::parse_udp_frame(f, 0, 0, d), ingress::FrameDrop::None);
    EXPECT_EQ(d.addr.src_ip, kEngineIp);
    EXPECT_EQ(d.addr.src_port, kEnginePort);
    if (d.addr.dst_ip == 0xEF010101) {  // the ITCH feed: 239.1.1.1:9020, MAC 01:00:5e:01:01:01
      EXPECT_EQ(d.addr.dst_port, 9020);
      EXPECT_EQ(d.addr.dst_mac, (ingress::MacAddress{0x01, 0x00, 0x5e, 0x01, 0x01, 0x01}));
      mold::Packet pkt{};
      ASSERT_EQ(mold::parse(d.payload, pkt), mold::Status::Ok);
      if (pkt.kind != mold::PacketKind::Messages) continue;
      EXPECT_EQ(pkt.header.sequence, itch_next);
      mold::MessageIterator it(pkt);
      std::span<const std::uint8_t> m;
      std::uint64_t seq = 0;
      while (it.next(m, seq)) {
        ++itch_types[static_cast<char>(m[0])];
        ++itch_next;
      }
      continue;
    }
    const auto u = static_cast<std::size_t>(
        std::find_if(kUsers.begin(), kUsers.end(), [&](const User& x) { return x.ip == d.addr.dst_ip && x.port == d.addr.dst_port; }) -
        kUsers.begin());
    ASSERT_LT(u, kUsers.size()) << "a reply to nobody";
    EXPECT_EQ(d.addr.dst_mac[5], 0x10 + u) << "replies go to the MAC the client sent from";
    if (d.payload.size() == mold::kRequestSize) {
      mold::Request r{};
      ASSERT_EQ(mold::parse_request(d.payload, r), mold::Status::Ok);
      if (r.count == 0) continue;  // heartbeat (none expected with a 60 s interval)
      EXPECT_EQ(u, 1u);
      EXPECT_EQ(r.session, mold::SessionId::from(kUsers[u].session));
      EXPECT_EQ(r.sequence, 3u);  // DEMO2's next expected: it had sent S1 and S2 by then
      EXPECT_EQ(r.count, 10u);
      ++gap_notices;
      continue;
    }
    mold::Packet pkt{};
    ASSERT_EQ(mold::parse(d.payload, pkt), mold::Status::Ok);
    EXPECT_EQ(pkt.header.session, mold::SessionId::from(kUsers[u].session));
    EXPECT_EQ(pkt.header.sequence, expect_seq[u]);
    mold::MessageIterator it(pkt);
    std::span<const std::uint8_t> m;
    std::uint64_t seq = 0;
    while (it.next(m, seq)) {
      udp[u].push_back(canonical(m));
      ++expect_seq[u];
    }
  }
  EXPECT_EQ(gap_notices, 1);
  // The ITCH feed: the directory, then the book as the scenario builds it.
  EXPECT_EQ(itch_types['R'], 1);            // one instrument in the directory
  EXPECT_EQ(itch_types['A'], 3);            // resting adds: B1, B2, S2 (S1, S3 and B5 fill at once)
  EXPECT_GE(itch_types['E'], 3);            // executions against B1 (S1, S3) and S2 (B5)
  EXPECT_EQ(itch_types['D'], 1);            // B2 canceled
  for (std::size_t u = 0; u < kUsers.size(); ++u) {
    std::vector<std::string> a = tcp[u], b = udp[u];
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    EXPECT_EQ(b, a) << kUsers[u].name;
  }
  // Not merely equal: they hold what the scenario implies.
  const auto count_type = [&](std::size_t u, char t) {
    return std::count_if(udp[u].begin(), udp[u].end(), [t](const std::string& s) { return s[0] == t; });
  };
  EXPECT_EQ(count_type(0, 'A'), 3);  // B1, B2, B5 (B3 and B4 are rejected)
  EXPECT_EQ(count_type(0, 'J'), 2);  // B3 at the edge ('L'), B4 by the core
  EXPECT_GE(count_type(0, 'E'), 2);  // B1 traded with S1 and S3; B5 with S2
  EXPECT_EQ(count_type(1, 'I'), 1);  // cancel of NOPE

  // 6. tshark decodes every reply cleanly at the MoldUDP64 level (checksums verified), with as
  // many messages as we decoded.
  const std::string cmd = "tshark -r " + (dir / "out.pcap").string() +
                          " -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE -d udp.port==40000,moldudp64"
                          " -d udp.port==40001,moldudp64 -d udp.port==9020,moldudp64 -T fields -e _ws.malformed -e _ws.expert -e moldudp64.count"
                          " -e moldudp64.msglen 2>/dev/null";
  FILE* t = ::popen(cmd.c_str(), "r");
  ASSERT_NE(t, nullptr);
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, t)) out.append(buf, n);
  const int rc = ::pclose(t);
  if (rc != 0 && out.empty()) GTEST_SKIP() << "tshark not available (apt-get install tshark)";
  std::size_t tshark_messages = 0, lines = 0;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line); ++lines) {
    std::vector<std::string> cols;
    std::size_t start = 0;
    for (std::size_t tab; (tab = line.find('\t', start)) != std::string::npos; start = tab + 1)
      cols.push_back(line.substr(start, tab - start));
    cols.push_back(line.substr(start));
    ASSERT_EQ(cols.size(), 4u) << line;
    // Expert comments (tshark notes a request's count) are fine; warnings and errors are not.
    EXPECT_TRUE(cols[0].empty() && cols[1].find("Warning") == std::string::npos &&
                cols[1].find("Error") == std::string::npos)
        << "tshark: malformed or expert warning: " << line;
    if (!cols[3].empty()) tshark_messages += static_cast<std::size_t>(std::count(cols[3].begin(), cols[3].end(), ',') + 1);
  }
  EXPECT_GT(lines, 0u);
  EXPECT_EQ(tshark_messages, tcp_messages + (itch_next - 1));
  std::error_code ec;
  if (!HasFailure()) fs::remove_all(dir, ec);
}

// ---- live: two network namespaces and a veth pair ----

/// Runs a shell command; its exit code, and its output in `out`.
int sh(const std::string& cmd, std::string* out = nullptr) {
  FILE* f = ::popen((cmd + " 2>&1").c_str(), "r");
  if (f == nullptr) return -1;
  std::string text;
  char buf[512];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, f)) text.append(buf, n);
  const int rc = ::pclose(f);
  if (out != nullptr) *out = text;
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/// Two namespaces (engine, client) joined by a veth pair; removed on destruction.
class VethPair {
 public:
  VethPair() {
    const std::string id = std::to_string(::getpid() % 100000);
    engine_ns = "pgE" + id;
    client_ns = "pgC" + id;
    engine_if = "pga" + id;
    client_if = "pgb" + id;
    if (::geteuid() != 0) {
      why_not = "not root: network namespaces need CAP_SYS_ADMIN";
      return;
    }
    std::string out;
    // Left over from a run that was killed (same pid): not a reason to skip.
    (void)sh("ip netns del " + engine_ns);
    (void)sh("ip netns del " + client_ns);
    if (sh("ip netns add " + engine_ns, &out) != 0) {
      why_not = "ip netns add failed (namespaces forbidden here?): " + out;
      return;
    }
    made_ = true;
    const std::vector<std::string> steps{
        "ip netns add " + client_ns,
        "ip link add " + engine_if + " type veth peer name " + client_if,
        "ip link set " + engine_if + " netns " + engine_ns,
        "ip link set " + client_if + " netns " + client_ns,
        "ip -n " + engine_ns + " link set lo up",
        "ip -n " + engine_ns + " link set " + engine_if + " up",
        "ip -n " + client_ns + " link set lo up",
        "ip -n " + client_ns + " addr add 10.77.0.2/24 dev " + client_if,
        "ip -n " + client_ns + " link set " + client_if + " up",
    };
    for (const std::string& s : steps) {
      if (sh(s, &out) != 0) {
        why_not = "'" + s + "' failed: " + out;
        return;
      }
    }
    // veth hands a packet socket UDP frames whose checksum the kernel left to "hardware"
    // (CHECKSUM_PARTIAL), which the engine rightly drops: the client computes its checksums.
    // Without ethtool, the client sends none (SO_NO_CHECK, checksum 0, allowed over IPv4).
    checksums_in_software = sh("ip netns exec " + client_ns + " ethtool -K " + client_if + " tx off") == 0;
    (void)sh("ip netns exec " + engine_ns + " sysctl -qw net.ipv6.conf.all.disable_ipv6=1");
    (void)sh("ip netns exec " + client_ns + " sysctl -qw net.ipv6.conf.all.disable_ipv6=1");
    // The engine answers no ARP (docs/dpdk.md): the client gets a static neighbour entry.
    (void)sh("ip -n " + engine_ns + " -o link show " + engine_if, &out);
    const std::smatch m = [&] {
      std::smatch r;
      static const std::regex re("link/ether ([0-9a-f:]{17})");
      std::regex_search(out, r, re);
      return r;
    }();
    if (m.empty()) {
      why_not = "no MAC address for " + engine_if + ": " + out;
      return;
    }
    engine_mac = m[1].str();
    if (sh("ip -n " + client_ns + " neigh replace 10.77.0.1 lladdr " + engine_mac + " nud permanent dev " + client_if, &out) != 0) {
      why_not = "static neighbour: " + out;
      return;
    }
    ok = true;
  }
  ~VethPair() {
    if (!made_) return;
    (void)sh("ip netns del " + engine_ns);
    (void)sh("ip netns del " + client_ns);
  }
  VethPair(const VethPair&) = delete;
  VethPair& operator=(const VethPair&) = delete;

  bool ok = false;
  bool checksums_in_software = false;
  std::string why_not;
  std::string engine_ns, client_ns, engine_if, client_if, engine_mac;

 private:
  bool made_ = false;
};

/// Runs the calling thread in a named network namespace until destroyed (sockets made meanwhile
/// stay in it).
class InNetns {
 public:
  explicit InNetns(const std::string& name)
      : saved_(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) {
    const int fd = ::open(("/var/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
    ok_ = fd >= 0 && saved_ >= 0 && ::setns(fd, CLONE_NEWNET) == 0;
    if (fd >= 0) ::close(fd);
  }
  ~InNetns() {
    if (saved_ >= 0) {
      (void)::setns(saved_, CLONE_NEWNET);
      ::close(saved_);
    }
  }
  InNetns(const InNetns&) = delete;
  InNetns& operator=(const InNetns&) = delete;
  [[nodiscard]] bool ok() const { return ok_; }

 private:
  int saved_;
  bool ok_ = false;
};

/// A UDP socket in the client namespace, talking to the engine's 10.77.0.1:9010.
class UdpClient {
 public:
  UdpClient(const std::string& ns, bool no_checksum) {
    InNetns in(ns);
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    if (no_checksum && fd_ >= 0) (void)::setsockopt(fd_, SOL_SOCKET, SO_NO_CHECK, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(40000);
    a.sin_addr.s_addr = htonl(0x0A4D0002);
    ok_ = in.ok() && fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~UdpClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  UdpClient(const UdpClient&) = delete;
  UdpClient& operator=(const UdpClient&) = delete;
  [[nodiscard]] bool ok() const { return ok_; }

  void send(const Bytes& b) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(kEnginePort);
    to.sin_addr.s_addr = htonl(kEngineIp);
    EXPECT_EQ(::sendto(fd_, b.data(), b.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to),
              static_cast<ssize_t>(b.size()));
  }
  /// The next datagram within `limit`, or empty.
  Bytes receive(std::chrono::milliseconds limit) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(limit.count())) <= 0) return {};
    Bytes b(2048);
    const ssize_t n = ::recv(fd_, b.data(), b.size(), 0);
    b.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return b;
  }

 private:
  int fd_ = -1;
  bool ok_ = false;
};

/// The messages of a MoldUDP64 reply packet with the header's first sequence number.
struct Reply {
  std::uint64_t sequence = 0;
  std::uint16_t count = 0;
  std::vector<Bytes> messages;
};
Reply decode_reply(const Bytes& b) {
  Reply r;
  mold::Packet p{};
  if (b.size() == mold::kHeaderSize) {
    mold::Request q{};
    EXPECT_EQ(mold::parse_request(b, q), mold::Status::Ok);
    r.sequence = q.sequence;
    r.count = q.count;
    return r;
  }
  EXPECT_EQ(mold::parse(b, p), mold::Status::Ok);
  r.sequence = p.header.sequence;
  r.count = p.header.count;
  mold::MessageIterator it(p);
  std::span<const std::uint8_t> m;
  std::uint64_t seq = 0;
  while (it.next(m, seq)) r.messages.emplace_back(m.begin(), m.end());
  return r;
}

char type_of(const Bytes& m) { return m.empty() ? '?' : static_cast<char>(m[0]); }

TEST(DpdkNetnsTest, AfPacketRepliesResendsALostReplyDropsADuplicateAndNotifiesAGap) {
  VethPair net;
  if (!net.ok) GTEST_SKIP() << "network namespaces unavailable: " << net.why_not;
  const fs::path dir = temp_dir("dpdk-netns");
  const std::vector<User> users{{"DEMO1", "FRMA", "demo1pass", 0x0A4D0002, 40000, "CLIENT1"}};
  write_config(dir,
               ingress_yaml("--no-huge --no-pci -m 256 -l 0 --no-shconf --vdev net_af_packet0,iface=" + net.engine_if, users),
               users);
  Process p;
  Ports ports;
  ASSERT_TRUE(start(p, {"ip", "netns", "exec", net.engine_ns}, dir, {}, ports)) << p.log();
  UdpClient c(net.client_ns, !net.checksums_in_software);
  ASSERT_TRUE(c.ok());
  auto engine_metric = [&](const std::string& series) {
    InNetns in(net.engine_ns);
    return metric(ports.http, series);
  };
  auto depth = [&] {
    InNetns in(net.engine_ns);
    return http_get(ports.http, "/admin/depth?symbol=600519&levels=10");
  };
  auto bids = [&] {  // empty also when the answer is not a depth: the comparison then fails
    const std::optional<testing::Depth> d = testing::parse_depth(depth());
    return d ? d->bids : std::vector<testing::DepthLevel>{};
  };

  // 1. An order, its Accepted.
  c.send(mold_packet("CLIENT1", 1, {enter("B1", 'B', 100, 17'000'000)}));
  Reply r = decode_reply(c.receive(5000ms));
  ASSERT_EQ(r.messages.size(), 1u) << p.log() << [&] {
    InNetns in(net.engine_ns);
    return http_get(ports.http, "/metrics");
  }();
  EXPECT_EQ(r.sequence, 1u);
  EXPECT_EQ(type_of(r.messages[0]), 'A');

  // 2. The reply to the second order is lost; the client re-requests it by number.
  c.send(mold_packet("CLIENT1", 2, {enter("B2", 'B', 100, 17'000'000)}));
  const Bytes lost = c.receive(5000ms);
  ASSERT_FALSE(lost.empty());
  c.send(mold_header("CLIENT1", 2, 1));
  const Bytes again = c.receive(5000ms);
  EXPECT_EQ(again, lost) << "the retransmission is the same packet";
  r = decode_reply(again);
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.sequence, 2u);
  EXPECT_EQ(type_of(r.messages[0]), 'A');

  // 3. A duplicate of the second order: dropped, no reply, not applied twice.
  c.send(mold_packet("CLIENT1", 2, {enter("B2", 'B', 100, 17'000'000)}));
  EXPECT_TRUE(c.receive(300ms).empty());
  EXPECT_EQ(engine_metric("peregrine_udp_packets_total{outcome=\"duplicate\"}"), 1);
  EXPECT_EQ(bids(), (std::vector<testing::DepthLevel>{{17'000'000, 200, 2}})) << depth();

  // 4. A gap: number 5 while 3 is expected: a gap notification (request form: 3, 2 missing).
  c.send(mold_packet("CLIENT1", 5, {enter("B5", 'B', 100, 17'000'000)}));
  r = decode_reply(c.receive(5000ms));
  EXPECT_EQ(r.sequence, 3u);
  EXPECT_EQ(r.count, 2u);
  EXPECT_TRUE(r.messages.empty());

  // 5. The client resends 3 to 5: all three applied, replies 3, 4, 5.
  c.send(mold_packet("CLIENT1", 3,
                     {enter("B3", 'B', 100, 17'000'000), enter("B4", 'B', 100, 17'000'000), enter("B5", 'B', 100, 17'000'000)}));
  std::vector<std::uint64_t> seqs;
  while (seqs.size() < 3) {
    const Bytes b = c.receive(5000ms);
    if (b.empty()) break;
    r = decode_reply(b);
    for (std::size_t i = 0; i < r.messages.size(); ++i) {
      seqs.push_back(r.sequence + i);
      EXPECT_EQ(type_of(r.messages[i]), 'A');
    }
  }
  EXPECT_EQ(seqs, (std::vector<std::uint64_t>{3, 4, 5}));
  EXPECT_EQ(bids(), (std::vector<testing::DepthLevel>{{17'000'000, 500, 5}})) << depth();
  EXPECT_GE(engine_metric("peregrine_dpdk_nic_ipackets_total{port=\"net_af_packet0\"}"), 6);  // the 6 packets sent
  EXPECT_EQ(p.stop(), 0) << p.log();
  std::error_code ec;
  if (!HasFailure()) fs::remove_all(dir, ec);
}

// ---- the module: DPDK is loaded only for --ingress=dpdk (issue 14) ----

std::string maps_of(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/maps");
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

TEST(DpdkModuleTest, AnAsioServerMapsNoDpdkLibraryAndADpdkServerLoadsTheModuleBesideItsBinary) {
  const fs::path dir = temp_dir("dpdk-module");
  write_config(dir, ingress_yaml("--no-huge --no-pci -m 256 -l 0 --no-shconf --log-level error --vdev net_ring0", kUsers),
               kUsers);
  Ports ports;
  {
    Process p;
    ASSERT_TRUE(start(p, {}, dir, {"--ingress", "asio"}, ports)) << p.log();
    const std::string maps = maps_of(p.pid());
    EXPECT_EQ(maps.find("librte_"), std::string::npos) << maps;
    EXPECT_EQ(maps.find("peregrine-dpdk.so"), std::string::npos) << maps;
    EXPECT_EQ(p.stop(), 0) << p.log();
  }
  {
    Process p;
    ASSERT_TRUE(start(p, {}, dir, {}, ports)) << p.log();
    EXPECT_NE(p.last_line().find("DPDK UDP 10.77.0.1:9010 on net_ring0"), std::string::npos) << p.last_line();
    const std::string maps = maps_of(p.pid());
    EXPECT_NE(maps.find((fs::path(PEREGRINE_BINARY).parent_path() / "peregrine-dpdk.so").string()), std::string::npos);
    EXPECT_NE(maps.find("librte_eal.so"), std::string::npos);
    EXPECT_EQ(p.stop(), 0) << p.log();
  }
  // The same binary without its module beside it: DPDK ingress is refused with the reason, and
  // asio ingress still starts.
  const fs::path alone = dir / "alone";
  fs::create_directories(alone);
  std::error_code link_error;
  fs::create_hard_link(PEREGRINE_BINARY, alone / "peregrine", link_error);  // the loader looks beside the path run
  if (link_error) fs::copy_file(PEREGRINE_BINARY, alone / "peregrine");
  {
    Process p;
    ASSERT_TRUE(p.spawn({(alone / "peregrine").string(), "--config", (dir / "test.yaml").string()},
                        (dir / "alone.log").string()));
    EXPECT_TRUE(p.wait_line(std::regex("ready:"), 30s).empty()) << "started without its module";
    EXPECT_EQ(p.stop(), 1) << p.log();
    const std::string module = (alone / "peregrine-dpdk.so").string();
    EXPECT_NE(p.log().find("peregrine: DPDK ingress requested but " + module + " could not be loaded: " + module +
                           ": cannot open shared object file: No such file or directory"),
              std::string::npos)
        << p.log();
  }
  {
    Process p;
    ASSERT_TRUE(p.spawn({(alone / "peregrine").string(), "--config", (dir / "test.yaml").string(), "--ingress", "asio"},
                        (dir / "alone-asio.log").string()));
    EXPECT_FALSE(p.wait_line(std::regex("ready:"), 30s).empty()) << p.log();
    EXPECT_EQ(p.stop(), 0) << p.log();
  }
  std::error_code ec;
  if (!HasFailure()) fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace peregrine
