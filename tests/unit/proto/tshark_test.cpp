// The tshark check: Wireshark's own dissectors must read what Peregrine writes.
//
// This test scripts two OUCH 4.2 sessions over SoupBinTCP through a real Engine (logins, orders, a
// trade, a replace, cancels, refusals, heartbeats, logout) and the ITCH 5.0 feed of the same
// events over MoldUDP64, writes them as pcaps (pcap_writer.hpp), and runs
// tests/unit/proto/tshark_check.sh on them. The script fails on any malformed packet, any expert
// warning or error (checksums included) and on field values that differ from the expected ones.
// Run it by hand on the pcaps this test leaves in <build>/tests/tshark_capture/.

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "peregrine/core/engine.hpp"
#include "peregrine/proto/itch50.hpp"
#include "peregrine/proto/moldudp64.hpp"
#include "peregrine/proto/ouch42.hpp"
#include "peregrine/proto/ouch_translate.hpp"
#include "peregrine/proto/soupbintcp.hpp"
#include "unit/proto/pcap_writer.hpp"
#include "unit/proto/proto_test_util.hpp"

namespace peregrine::proto {
namespace {

using test::Bytes;
using test::Endpoint;
using test::PcapWriter;
using test::TcpConnection;

constexpr std::uint64_t kStartUsec = 1'795'570'200'000'000ull;  // 2026-11-25 09:30 (+08:00) as UTC epoch µs
constexpr std::uint64_t kNsSinceMidnight = 34200ull * 1'000'000'000ull;

EngineConfig capture_config() {
  EngineConfig cfg;
  InstrumentConfig a;
  a.symbol = Symbol::from("600519");
  a.name = "Kweichow Moutai";
  a.reference_price = Price{15'000'000};
  cfg.instruments.push_back(a);
  InstrumentConfig b = a;
  b.symbol = Symbol::from("688001");
  b.name = "STAR sample";
  b.reference_price = Price{500'000};
  b.lot_size = Qty{1};
  b.min_qty = Qty{200};
  b.cage_bps = 200;
  cfg.instruments.push_back(b);
  FirmConfig fa;
  fa.name = FirmName::from("FRMA");
  FirmConfig fb;
  fb.name = FirmName::from("FRMB");
  cfg.firms = {fa, fb};
  cfg.max_orders = 1024;
  cfg.max_tokens = 4096;
  return cfg;
}

/// The exchange side: sessions, the engine, and the bytes each session and the feed receive.
class Exchange {
 public:
  Exchange() : engine_(cfg_), ref_(cfg_) {}

  /// SoupBinTCP packets (Sequenced Data) produced for each owner by the last command.
  std::vector<Bytes> out[3];
  /// ITCH messages of every command so far.
  std::vector<Bytes> itch;

  /// Runs one client OUCH message (the payload of an Unsequenced Data packet) from `s`.
  void handle(const Bytes& ouch_msg, const OuchSession& s, std::uint64_t ts) {
    for (auto& o : out) o.clear();
    ouch::Inbound in{};
    ASSERT_EQ(ouch::decode_inbound(ouch_msg, in), ouch::Status::Ok);
    const InboundTranslation t = translate(in, s, Timestamp{ts});
    if (!t.is_command()) {
      ouch::Outbound o{};
      o.type = ouch::OutboundType::Rejected;
      o.rejected = t.reject;
      send_ouch(s.owner, o);
      return;
    }
    Event buf[16];
    EventSink sink(buf, 16, &Exchange::on_events, this);
    engine_.process(t.command, sink);
    sink.flush();
  }
  void halt(InstrumentId id, TradingStatus st, std::uint64_t ts) {
    Event buf[4];
    EventSink sink(buf, 4, &Exchange::on_events, this);
    engine_.process(make_trading_status(Timestamp{ts}, id, st), sink);
    sink.flush();
  }
  void send_ouch(OwnerId owner, const ouch::Outbound& o) {
    Bytes msg(ouch::kMaxMessageSize);
    msg.resize(ouch::encode(o, msg));
    Bytes pkt(soup::kHeaderSize + msg.size());
    pkt.resize(soup::encode_sequenced_data(msg, pkt));
    out[owner.value()].push_back(pkt);
  }
  const EngineConfig& config() const { return cfg_; }
  const ReferenceLookup& ref() const { return ref_; }

 private:
  static void on_events(void* ctx, const Event* e, std::size_t n) noexcept {
    auto* self = static_cast<Exchange*>(ctx);
    for (std::size_t i = 0; i < n; ++i) {
      ouch::Outbound o{};
      if (to_ouch(e[i], self->ref_, o) && e[i].owner.value() < 3) self->send_ouch(e[i].owner, o);
      itch::Message m{};
      if (to_itch(e[i], self->ref_, m)) {
        Bytes b(itch::kMaxMessageSize);
        b.resize(itch::encode(m, b));
        self->itch.push_back(b);
      }
    }
  }
  EngineConfig cfg_ = capture_config();
  Engine engine_;
  ConfigLookup ref_;
};

Bytes soup_unsequenced(const Bytes& msg) {
  Bytes p(soup::kHeaderSize + msg.size());
  p.resize(soup::encode_unsequenced_data(msg, p));
  return p;
}

template <typename F>
Bytes make(F&& f) {
  Bytes b(256);
  b.resize(f(std::span<std::uint8_t>(b)));
  return b;
}

Bytes join(const std::vector<Bytes>& parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

ouch::EnterOrder order(const char* token, char side, std::uint32_t shares, std::uint32_t price, std::uint32_t tif,
                       const char* firm) {
  return {Token::from(token), side, shares, Symbol::from("600519"), price, tif, FirmName::from(firm),
          'Y', 'A', 'N', 0, 'N', ' '};
}

/// Writes the OUCH capture: ALICE (FRMA) on port 40001 and BOB (FRMB) on port 40002, server :9001.
void write_ouch_capture(const std::string& path, Exchange& ex) {
  PcapWriter pcap(path);
  ASSERT_TRUE(pcap.ok()) << path;
  const Endpoint server{{0x02, 0, 0, 0, 0, 1}, 0x0A000001, 9001};
  std::uint64_t clock = kStartUsec;
  TcpConnection alice(pcap, {{0x02, 0, 0, 0, 0, 2}, 0x0A000002, 40001}, server, clock);
  TcpConnection bob(pcap, {{0x02, 0, 0, 0, 0, 3}, 0x0A000003, 40002}, server, clock);
  const OuchSession sa{OwnerId{1}, FirmId{0}, FirmName::from("FRMA")};
  const OuchSession sb{OwnerId{2}, FirmId{1}, FirmName::from("FRMB")};
  const soup::SessionId session = soup::SessionId::from("2026112501");
  std::uint64_t ts = kNsSinceMidnight;
  // Everything the last command produced, on the connection of each owner it concerns.
  const auto deliver = [&] {
    if (!ex.out[1].empty()) alice.send(false, join(ex.out[1]));
    if (!ex.out[2].empty()) bob.send(false, join(ex.out[2]));
  };
  const auto system_event = [&](char code) {
    ouch::Outbound o{};
    o.type = ouch::OutboundType::SystemEvent;
    o.system_event = {ts, code};
    Bytes msg(ouch::kSystemEventSize);
    (void)ouch::encode(o, msg);
    return make([&](auto out) { return soup::encode_sequenced_data(msg, out); });
  };

  // 1. Logins.
  alice.open();
  alice.send(true, make([](auto out) {
               return soup::encode_login_request(
                   {soup::Username::from("ALICE"), soup::Password::from("secret"), soup::SessionId::from(""), 1}, out);
             }));
  alice.send(false, join({make([&](auto out) { return soup::encode_login_accepted({session, 1}, out); }),
                          system_event('S')}));
  bob.open();
  bob.send(true, make([](auto out) {
             return soup::encode_login_request(
                 {soup::Username::from("BOB"), soup::Password::from("hunter2"), soup::SessionId::from("2026112501"), 1},
                 out);
           }));
  bob.send(false, join({make([&](auto out) { return soup::encode_login_accepted({session, 1}, out); }),
                        system_event('S')}));

  // 2. ALICE sells 1000 @ 1500.00, day.
  const Bytes sell = make([](auto out) { return ouch::encode(order("S1", 'S', 1000, 15'000'000, 99998, "FRMA"), out); });
  alice.send(true, soup_unsequenced(sell));
  ex.handle(sell, sa, ts += 1000);
  deliver();

  // 3. BOB buys 600 @ 1500.00 IOC, and a heartbeat, in one segment: a trade.
  const Bytes buy = make([](auto out) { return ouch::encode(order("B1", 'B', 600, 15'000'000, 0, ""), out); });
  bob.send(true, join({soup_unsequenced(buy), make([](auto out) {
                         return soup::encode_empty(soup::PacketType::ClientHeartbeat, out);
                       })}));
  ex.handle(buy, sb, ts += 1000);
  deliver();

  // 4. ALICE replaces S1 by S2: 400 @ 1501.00. The packet is split across two segments.
  const Bytes rep = make([](auto out) {
    return ouch::encode(ouch::ReplaceOrder{Token::from("S1"), Token::from("S2"), 400, 15'010'000, 99998, 'Y', 'N', 0},
                        out);
  });
  const Bytes rep_pkt = soup_unsequenced(rep);
  alice.send(true, std::span(rep_pkt).first(20));
  alice.send(true, std::span(rep_pkt).subspan(20));
  ex.handle(rep, sa, ts += 1000);
  deliver();

  // 5. ALICE cancels S2 down to 100, then cancels an unknown token.
  const Bytes cxl = make([](auto out) { return ouch::encode(ouch::CancelOrder{Token::from("S2"), 100}, out); });
  alice.send(true, soup_unsequenced(cxl));
  ex.handle(cxl, sa, ts += 1000);
  deliver();
  const Bytes cxl2 = make([](auto out) { return ouch::encode(ouch::CancelOrder{Token::from("NOPE"), 0}, out); });
  alice.send(true, soup_unsequenced(cxl2));
  ex.handle(cxl2, sa, ts += 1000);
  deliver();

  // 6. BOB sends an order with an unsupported display (refused at the edge), then a market order.
  ouch::EnterOrder bad = order("B2", 'B', 100, 15'000'000, 99998, "");
  bad.display = 'N';
  const Bytes bad_msg = make([&](auto out) { return ouch::encode(bad, out); });
  bob.send(true, soup_unsequenced(bad_msg));
  ex.handle(bad_msg, sb, ts += 1000);
  deliver();
  const Bytes mkt = make([](auto out) { return ouch::encode(order("B3", 'B', 100, 0x7FFFFFFF, 0, "FRMB"), out); });
  bob.send(true, soup_unsequenced(mkt));
  ex.handle(mkt, sb, ts += 1000);
  deliver();  // it takes what is left of S2: an Executed for each side

  // 7. Heartbeats and a debug packet, then logouts and end of session.
  alice.send(false, make([](auto out) { return soup::encode_empty(soup::PacketType::ServerHeartbeat, out); }));
  alice.send(true, make([](auto out) { return soup::encode_empty(soup::PacketType::ClientHeartbeat, out); }));
  bob.send(false, make([](auto out) { return soup::encode_debug("peregrine", out); }));
  alice.send(true, make([](auto out) { return soup::encode_empty(soup::PacketType::LogoutRequest, out); }));
  alice.send(false, join({system_event('E'), make([](auto out) {
                            return soup::encode_empty(soup::PacketType::EndOfSession, out);
                          })}));
  alice.close();
  bob.send(true, make([](auto out) { return soup::encode_empty(soup::PacketType::LogoutRequest, out); }));
  bob.send(false, make([](auto out) { return soup::encode_empty(soup::PacketType::EndOfSession, out); }));
  bob.close();

  // 8. A third client whose login is refused.
  clock += 900'000;
  TcpConnection eve(pcap, {{0x02, 0, 0, 0, 0, 4}, 0x0A000004, 40003}, server, clock);
  eve.open();
  eve.send(true, make([](auto out) {
             return soup::encode_login_request(
                 {soup::Username::from("EVE"), soup::Password::from("guess"), soup::SessionId::from(""), 0}, out);
           }));
  eve.send(false, make([](auto out) { return soup::encode_login_rejected(soup::LoginRejectReason::NotAuthorized, out); }));
  eve.close();
}

/// Writes the ITCH capture: MoldUDP64 from 10.0.0.1:9100 to 233.54.12.111:9002, and one
/// retransmission request from 10.0.0.5 to the re-request server at 10.0.0.1:9003.
void write_itch_capture(const std::string& path, Exchange& ex) {
  PcapWriter pcap(path);
  ASSERT_TRUE(pcap.ok()) << path;
  const Endpoint feed{{0x02, 0, 0, 0, 0, 1}, 0x0A000001, 9100};
  const Endpoint group{{0x01, 0x00, 0x5e, 0x36, 0x0c, 0x6f}, 0xE9360C6F, 9002};  // 233.54.12.111
  const mold::SessionId session = mold::SessionId::from("2026112501");
  std::uint64_t usec = kStartUsec;
  std::uint16_t ip_id = 1;
  const auto send = [&](std::span<const std::uint8_t> dgram) {
    pcap.write(test::make_frame(feed, group, false, 0, 0, 0, ip_id++, dgram), usec);
    usec += 200;
  };

  std::vector<Bytes> msgs;
  const auto add = [&msgs](auto&& encode_fn) { msgs.push_back(make(encode_fn)); };
  const std::uint64_t ts = kNsSinceMidnight - 1000;
  add([&](auto out) { return itch::encode(itch::SystemEvent{{0, 0, ts}, itch::event::kStartOfMessages}, out); });
  for (std::size_t i = 0; i < ex.config().instruments.size(); ++i) {
    const InstrumentId id{static_cast<std::uint16_t>(i + 1)};
    add([&](auto out) { return itch::encode(make_stock_directory(id, ex.config().instruments[i], Timestamp{ts}), out); });
  }
  add([&](auto out) { return itch::encode(itch::SystemEvent{{0, 0, ts}, itch::event::kStartOfMarketHours}, out); });
  msgs.insert(msgs.end(), ex.itch.begin(), ex.itch.end());
  add([&](auto out) {
    return itch::encode(itch::Trade{{1, 0, ts + 9000}, 0, 'B', 200, Symbol::from("600519"), 15'000'000, 99}, out);
  });
  add([&](auto out) {
    return itch::encode(itch::Noii{{2, 0, ts + 9500}, 1000, 200, 'B', Symbol::from("688001"), 501'000, 500'500,
                                   500'000, 'C', ' '},
                        out);
  });

  Bytes buf(1500);
  mold::Builder b(buf, 200);  // a small MTU so the messages spread over several datagrams
  std::uint64_t seq = 1;
  std::size_t i = 0;
  while (i < msgs.size()) {
    ASSERT_TRUE(b.begin(session, seq));
    while (i < msgs.size() && b.add(msgs[i])) ++i;
    seq = b.next_sequence();
    send(b.finish());
  }
  Bytes hb(mold::kHeaderSize);
  (void)mold::encode_heartbeat(session, seq, hb);
  send(hb);
  const Endpoint client{{0x02, 0, 0, 0, 0, 5}, 0x0A000005, 45000};
  const Endpoint rerequest{{0x02, 0, 0, 0, 0, 1}, 0x0A000001, 9003};
  Bytes req(mold::kRequestSize);
  (void)mold::encode_request({session, 3, 2}, req);
  pcap.write(test::make_frame(client, rerequest, false, 0, 0, 0, 1, req), usec);
  usec += 200;
  Bytes eos(mold::kHeaderSize);
  (void)mold::encode_end_of_session(session, seq, eos);
  send(eos);
}

TEST(TsharkTest, WiresharkDecodesOurOuchAndItchCapturesWithoutErrors) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::current_path() / "tshark_capture";
  fs::create_directories(dir);
  Exchange ex;
  write_ouch_capture((dir / "ouch_soupbintcp.pcap").string(), ex);
  // A halt and resume of the second instrument, for ITCH 'H'.
  ex.halt(InstrumentId{2}, TradingStatus::Halted, kNsSinceMidnight + 8000);
  ex.halt(InstrumentId{2}, TradingStatus::Trading, kNsSinceMidnight + 8500);
  write_itch_capture((dir / "itch_moldudp64.pcap").string(), ex);

  const std::string script = std::string(PEREGRINE_SOURCE_DIR) + "/tests/unit/proto/tshark_check.sh";
  const std::string cmd = "bash '" + script + "' '" + dir.string() + "' 2>&1";
  std::FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string output;
  char line[512];
  while (std::fgets(line, sizeof line, p) != nullptr) output += line;
  const int status = ::pclose(p);
  EXPECT_EQ(status, 0) << output;
  std::printf("%s", output.c_str());
}

}  // namespace
}  // namespace peregrine::proto
