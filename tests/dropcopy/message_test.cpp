// The drop copy's messages, numbering helpers, checkpoint file and configuration section, without
// a broker (docs/dropcopy.md). The broker tests are broker_test.cpp.

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <fstream>
#include <string>

#include "peregrine/config/loader.hpp"
#include "peregrine/config/service.hpp"
#include "peregrine/dropcopy/checkpoint.hpp"
#include "peregrine/dropcopy/message.hpp"
#include "support/temp_dir.hpp"

namespace peregrine::dropcopy {
namespace {

constexpr const char* kBase =
    "instruments:\n"
    "  - {symbol: \"600519\", board: main, reference_price: \"1700.00\"}\n"
    "  - {symbol: \"000001\", board: main, reference_price: \"10.00\"}\n"
    "firms:\n"
    "  - {name: ALFA}\n"
    "  - {name: BETA}\n"
    "users:\n"
    "  - {username: alice, firm: ALFA}\n"
    "  - {username: bob, firm: BETA}\n"
    "credentials_file: creds.txt\n";

config::ServiceConfig load(const std::string& rest = "") {
  return config::load_service_config_from_string(std::string(kBase) + rest, "test.yaml", "/etc/p");
}

std::string refusal(const std::string& rest) {
  try {
    (void)load(rest);
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "";
}

Event order_event(EventType t) {
  Event e = Event::make(t, Timestamp{(9ULL * 3600 + 30 * 60) * 1'000'000'000 + 123});
  e.owner = OwnerId{2};
  e.firm = FirmId{1};
  e.instrument = InstrumentId{1};
  e.side = Side::Sell;
  e.order_id = OrderId{77};
  e.token = Token::from("TOK1");
  return e;
}

Numbering numbering(std::uint64_t seq, std::uint64_t cum = 0) {
  Numbering n;
  n.market = "PEREGRINE1";
  n.day = "2026-12-07";
  n.utc_offset_seconds = 8 * 3600;
  n.seq = seq;
  n.firm_seq = 3;
  n.journal_seq = 41;
  n.cum_qty = cum;
  return n;
}

boost::json::object parse(const std::string& s) { return boost::json::parse(s).as_object(); }

TEST(DropCopyMessageTest, ExecutedCarriesTheExecutionReportFields) {
  const config::ServiceConfig cfg = load();
  const Directory dir(cfg);
  Event e = order_event(EventType::Executed);
  e.price = Price{17001000};
  e.qty = Qty{300};
  e.leaves = Qty{200};
  e.ref = 9;
  e.code = static_cast<std::uint8_t>(Liquidity::Removed);
  const Message m = format(e, Kind::Executed, numbering(12, 300), dir, "dc");
  EXPECT_EQ(m.routing_key, "dc.BETA.600519.executed");
  EXPECT_EQ(m.message_id, "PEREGRINE1:2026-12-07:12");
  // 09:30 in Beijing is 01:30 UTC.
  EXPECT_EQ(m.unix_seconds, 1796607000ULL);
  const boost::json::object o = parse(m.body);
  EXPECT_EQ(o.at("seq").as_int64(), 12);
  EXPECT_EQ(o.at("firm_seq").as_int64(), 3);
  EXPECT_EQ(o.at("journal_seq").as_int64(), 41);
  EXPECT_EQ(o.at("exec_type").as_string(), "F");
  EXPECT_EQ(o.at("ord_status").as_string(), "1");
  EXPECT_EQ(o.at("firm").as_string(), "BETA");
  EXPECT_EQ(o.at("user").as_string(), "bob");
  EXPECT_EQ(o.at("symbol").as_string(), "600519");
  EXPECT_EQ(o.at("side").as_string(), "sell");
  EXPECT_EQ(o.at("token").as_string(), "TOK1");
  EXPECT_EQ(o.at("order_id").as_int64(), 77);
  EXPECT_EQ(o.at("last_qty").as_int64(), 300);
  EXPECT_EQ(o.at("cum_qty").as_int64(), 300);
  EXPECT_EQ(o.at("leaves_qty").as_int64(), 200);
  EXPECT_EQ(o.at("order_qty").as_int64(), 500);
  EXPECT_EQ(o.at("match_number").as_int64(), 9);
  EXPECT_EQ(o.at("liquidity").as_string(), "R");
  EXPECT_EQ(o.at("transact_time").as_string(), "2026-12-07T09:30:00.000000123+08:00");
  // Prices are exact decimals, not floating point.
  EXPECT_NE(m.body.find("\"last_px\":1700.1000"), std::string::npos) << m.body;
}

TEST(DropCopyMessageTest, EveryKindHasItsExecTypeAndStatus) {
  const config::ServiceConfig cfg = load();
  const Directory dir(cfg);
  Event filled = order_event(EventType::Executed);
  filled.qty = Qty{100};
  EXPECT_EQ(parse(format(filled, Kind::Executed, numbering(1, 100), dir, "dc").body).at("ord_status").as_string(), "2");
  Event acc = order_event(EventType::Accepted);
  acc.qty = acc.leaves = Qty{100};
  const auto a = parse(format(acc, Kind::Accepted, numbering(1), dir, "dc").body);
  EXPECT_EQ(a.at("exec_type").as_string(), "0");
  EXPECT_EQ(a.at("leaves_qty").as_int64(), 100);
  Event can = order_event(EventType::Canceled);
  can.qty = Qty{100};
  can.code = static_cast<std::uint8_t>(CancelReason::UserRequested);
  const auto c = parse(format(can, Kind::Canceled, numbering(1), dir, "dc").body);
  EXPECT_EQ(c.at("exec_type").as_string(), "4");
  EXPECT_EQ(c.at("ord_status").as_string(), "4");
  EXPECT_EQ(c.at("canceled_qty").as_int64(), 100);
  Event rej = Event::make(EventType::Rejected, Timestamp{1});
  rej.owner = OwnerId{1};
  rej.code = static_cast<std::uint8_t>(RejectCode::InvalidPrice);
  rej.token = Token::from("BAD");
  Numbering n = numbering(1);
  n.command_symbol = "600519";
  const Message rm = format(rej, Kind::Rejected, n, dir, "dc");
  // A reject carries no firm or instrument of its own: the owner's firm, the command's symbol.
  EXPECT_EQ(rm.routing_key, "dc.ALFA.600519.rejected");
  EXPECT_EQ(parse(rm.body).at("exec_type").as_string(), "8");
  Event ks = Event::make(EventType::KillSwitchChanged, Timestamp{1});
  ks.firm = FirmId{1};
  ks.code = 1;
  const Message km = format(ks, Kind::KillSwitch, numbering(2), dir, "dc");
  EXPECT_EQ(km.routing_key, "dc.BETA.-.kill_switch");
  EXPECT_TRUE(parse(km.body).at("engaged").as_bool());
  EXPECT_FALSE(kind_of(EventType::BookAdd));
  EXPECT_FALSE(kind_of(EventType::TradingStatusChanged));
}

TEST(DropCopyMessageTest, RoutingWordsEscapeDotsAndWildcards) {
  EXPECT_EQ(routing_word("600519"), "600519");
  EXPECT_EQ(routing_word("BRK.A"), "BRK%2EA");
  EXPECT_EQ(routing_word("a*b#c d%"), "a%2Ab%23c%20d%25");
  // Configured symbols are six digits; a reject of an unknown one names what the order said.
  const config::ServiceConfig cfg = load();
  Event e = Event::make(EventType::Rejected, Timestamp{1});
  e.owner = OwnerId{2};
  e.code = static_cast<std::uint8_t>(RejectCode::UnknownSymbol);
  Numbering n = numbering(1);
  n.command_symbol = "BRK.A";
  EXPECT_EQ(format(e, Kind::Rejected, n, Directory(cfg), "dc").routing_key, "dc.BETA.BRK%2EA.rejected");
}

TEST(DropCopyMessageTest, OrderTrackerCarriesCumulativeQuantityAcrossReplaces) {
  OrderTracker t;
  Event ex = order_event(EventType::Executed);
  ex.qty = Qty{100};
  ex.leaves = Qty{400};
  EXPECT_EQ(t.apply(ex), 100U);
  EXPECT_EQ(t.apply(ex), 200U);
  Event rep = order_event(EventType::Replaced);
  rep.ref = 77;
  rep.order_id = OrderId{78};
  rep.leaves = Qty{300};
  EXPECT_EQ(t.apply(rep), 200U);
  Event ex2 = order_event(EventType::Executed);
  ex2.order_id = OrderId{78};
  ex2.qty = Qty{300};
  ex2.leaves = Qty{0};
  EXPECT_EQ(t.apply(ex2), 500U);
  EXPECT_EQ(t.size(), 0U);  // filled: forgotten
}

TEST(DropCopyMessageTest, ExchangeTimeIsTheExchangesClock) {
  EXPECT_EQ(exchange_time("2026-12-07", 0, 8 * 3600), "2026-12-07T00:00:00.000000000+08:00");
  EXPECT_EQ(exchange_time("2026-12-07", 86'399'999'999'999, -5 * 3600 - 1800), "2026-12-07T23:59:59.999999999-05:30");
  EXPECT_EQ(exchange_time("not a day", 0, 0), "");
}

TEST(DropCopyCheckpointTest, RoundTripsAndRefusesOtherFiles) {
  testing::TempDir dir("dropcopy");
  const auto file = checkpoint_path(dir.path(), "MKT.1");
  EXPECT_EQ(file.filename().string(), "dropcopy-MKT%2E1.checkpoint");
  EXPECT_FALSE(load_checkpoint(file));
  save_checkpoint(file, Checkpoint{"MKT.1", "2026-12-07", 1234, 99});
  const auto cp = load_checkpoint(file);
  ASSERT_TRUE(cp);
  EXPECT_EQ(cp->market, "MKT.1");
  EXPECT_EQ(cp->day, "2026-12-07");
  EXPECT_EQ(cp->seq, 1234U);
  EXPECT_EQ(cp->journal_seq, 99U);
  std::ofstream(file) << "something else\n";
  EXPECT_THROW((void)load_checkpoint(file), std::runtime_error);
}

TEST(DropCopyConfigTest, SectionReadsAndDefaults) {
  const config::ServiceConfig none = load();
  EXPECT_FALSE(none.dropcopy.enabled);
  const config::ServiceConfig c = load("dropcopy:\n  url: amqp://peregrine@broker:5672/trading\n  password_file: pw\n  window: 64\n");
  EXPECT_TRUE(c.dropcopy.enabled);
  EXPECT_EQ(c.dropcopy.url, "amqp://peregrine@broker:5672/trading");
  EXPECT_EQ(c.dropcopy.password_file, "/etc/p/pw");
  EXPECT_EQ(c.dropcopy.window, 64U);
  EXPECT_EQ(c.dropcopy.exchange, "peregrine.dropcopy");
  EXPECT_EQ(c.dropcopy.routing_prefix, "dc");
  EXPECT_EQ(c.dropcopy.market, "PEREGRINE1");  // gateway.session_name
  EXPECT_FALSE(load("dropcopy:\n  enabled: false\n").dropcopy.enabled);
}

TEST(DropCopyConfigTest, RefusesWhatCannotWork) {
  EXPECT_NE(refusal("dropcopy:\n  window: 10\n").find("dropcopy.url: is required"), std::string::npos);
  EXPECT_NE(refusal("dropcopy:\n  url: amqp://u:secret@h/\n").find("must not hold a password"), std::string::npos);
  EXPECT_EQ(refusal("dropcopy:\n  url: amqp://u:secret@h/\n").find("secret"), std::string::npos);  // never echoed
  EXPECT_NE(refusal("dropcopy:\n  url: http://h/\n").find("must start with amqp://"), std::string::npos);
  EXPECT_NE(refusal("dropcopy:\n  url: amqp://h/\n  window: 0\n").find("dropcopy.window: must be positive"),
            std::string::npos);
  EXPECT_NE(refusal("dropcopy:\n  url: amqp://h/\n  routing_prefix: a.b\n").find("dropcopy.routing_prefix"),
            std::string::npos);
  EXPECT_NE(refusal("dropcopy:\n  url: amqp://h/\n  tls_ca_file: ca.pem\n").find("amqps:// URLs only"), std::string::npos);
  EXPECT_NE(refusal("dropcopy:\n  url: amqp://h/\n  windw: 3\n").find("windw"), std::string::npos);
}

}  // namespace
}  // namespace peregrine::dropcopy
