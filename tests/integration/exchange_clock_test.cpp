// The exchange clock against the real binary (issue 13, section 6; docs/protocol.md,
// "Timestamps"): the same configuration (market.utc_offset +08:00) run under TZ=UTC,
// TZ=Asia/Shanghai and TZ=America/New_York gives the same exchange time. The ITCH start of day,
// the OUCH Accepted and the journal's day directory each agree, within a few seconds, with this
// test's own wall clock turned into exchange time with the same offset. The process's time zone
// is set in the spawned server's environment only (`env TZ=...`).

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "peregrine/client/itch_client.hpp"
#include "peregrine/client/ouch_client.hpp"
#include "support/process.hpp"

namespace peregrine {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using std::chrono::system_clock;
using peregrine::testing::Process;
using OT = proto::ouch::OutboundType;

constexpr std::chrono::seconds kUtcOffset = 8h;  // the configuration's market.utc_offset
constexpr std::int64_t kDayNs = 86'400'000'000'000;
constexpr std::int64_t kSlackNs = 3'000'000'000;  // the bound either side of the test's own readings

// The exchange's time of day at wall-clock instant `t`, in ns: UTC plus the offset, modulo a day.
std::int64_t exchange_ns(system_clock::time_point t) {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch() + kUtcOffset).count();
  return ((ns % kDayNs) + kDayNs) % kDayNs;
}

// `a - b` on the clock face, in [-12 h, 12 h): a timestamp past 24:00 (a server started before
// the exchange's midnight) compares as the time of day it is.
std::int64_t face_diff(std::int64_t a, std::int64_t b) {
  std::int64_t d = ((a - b) % kDayNs + kDayNs) % kDayNs;
  return d >= kDayNs / 2 ? d - kDayNs : d;
}

// The exchange's date at `t`, YYYY-MM-DD.
std::string exchange_date(system_clock::time_point t) {
  const std::chrono::year_month_day d{std::chrono::floor<std::chrono::days>(t + kUtcOffset)};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(d.year()), static_cast<unsigned>(d.month()),
                static_cast<unsigned>(d.day()));
  return buf;
}

std::string hms(std::int64_t ns) {
  const std::int64_t s = ((ns / 1'000'000'000) % 86400 + 86400) % 86400;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  return buf;
}

// Expects the server's timestamp `ts` between the test's readings `before` and `after` (as
// exchange time), give or take kSlackNs. Returns its distance from `before`.
std::int64_t expect_between(const char* what, const std::string& tz, std::uint64_t ts, system_clock::time_point before,
                            system_clock::time_point after) {
  const std::int64_t t = static_cast<std::int64_t>(ts);
  const std::int64_t from_before = face_diff(t, exchange_ns(before));
  const std::int64_t to_after = face_diff(exchange_ns(after), t);
  EXPECT_GE(from_before, -kSlackNs) << what << " under TZ=" << tz << ": " << hms(t) << ", expected from "
                                    << hms(exchange_ns(before)) << " (exchange time, UTC+08:00)";
  EXPECT_GE(to_after, -kSlackNs) << what << " under TZ=" << tz << ": " << hms(t) << ", expected until "
                                 << hms(exchange_ns(after)) << " (exchange time, UTC+08:00)";
  return from_before;
}

class ExchangeClockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("peregrine-clock-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    (void)proc_.stop();
    if (!HasFailure()) fs::remove_all(dir_);
  }

  // One run of the server under `tz`, in its own directory (its own journal); the same
  // configuration every time.
  struct Run {
    std::uint64_t start_of_day_ts = 0;  ///< ITCH System Event 'S'
    std::uint64_t accepted_ts = 0;      ///< OUCH Accepted
    std::int64_t accepted_from_send = 0;
  };
  Run run_under(const std::string& tz) {
    Run r;
    const fs::path d = dir_ / ("tz-" + std::to_string(runs_++));
    fs::create_directories(d);
    std::ofstream(d / "creds.txt") << "USR1:pw1\n";
    std::ofstream(d / "c.yaml")
        << "market: {schedule: continuous, utc_offset: \"+08:00\"}\n"
           "instruments: [{symbol: \"600000\", board: main, reference_price: \"10.00\"}]\n"
           "firms: [{name: FRMA}]\n"
           "users: [{username: USR1, firm: FRMA}]\n"
           "credentials_file: creds.txt\n"
           "gateway: {ouch_listen: \"127.0.0.1:0\", itch_listen: \"127.0.0.1:0\", http_listen: \"127.0.0.1:0\","
           " mold_destination: \"127.0.0.1:9\"}\n"
           "journal: {dir: journal, durability: none, snapshot_every_commands: 0, snapshot_every_seconds: 0}\n";

    const system_clock::time_point spawned = system_clock::now();
    EXPECT_TRUE(proc_.spawn({"env", "TZ=" + tz, PEREGRINE_BINARY, "--config", (d / "c.yaml").string()},
                            (d / "server.log").string()));
    const std::smatch m = proc_.wait_line(std::regex(R"(ready: OUCH [^:]+:(\d+), ITCH [^:]+:(\d+))"), 60s);
    const system_clock::time_point ready = system_clock::now();
    if (m.empty()) {
      ADD_FAILURE() << "TZ=" << tz << ": no ready line; log:\n" << proc_.log();
      return r;
    }
    const auto ouch_port = static_cast<std::uint16_t>(std::stoi(m[1].str()));
    const auto itch_port = static_cast<std::uint16_t>(std::stoi(m[2].str()));

    // The ITCH start of day, stamped as the server took up the day.
    client::ItchFeedClient feed;
    feed.connect("127.0.0.1", itch_port);
    EXPECT_TRUE(feed.login("USR1", "pw1", "", 1).accepted);
    bool seen = false;
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (!seen && std::chrono::steady_clock::now() < until) {
      const client::ItchEvent e = feed.next(500ms);
      if (e.kind == client::SoupEvent::Kind::Data && e.decoded && e.msg.type == proto::itch::MessageType::SystemEvent &&
          e.msg.system_event.event_code == 'O') {
        r.start_of_day_ts = e.msg.system_event.h.timestamp;
        seen = true;
      }
    }
    EXPECT_TRUE(seen) << "TZ=" << tz << ": no ITCH start of messages";
    if (seen) (void)expect_between("ITCH start of day", tz, r.start_of_day_ts, spawned, ready);

    // An order's Accepted, stamped when the gateway received it.
    client::OuchClient c;
    c.connect("127.0.0.1", ouch_port);
    EXPECT_TRUE(c.login("USR1", "pw1").accepted);
    const system_clock::time_point sent = system_clock::now();
    c.enter_order(client::OrderSpec{"CLK1", 'B', 100, "600000", 100000});
    const client::OuchEvent a = c.next_of(OT::Accepted, 10s);
    const system_clock::time_point answered = system_clock::now();
    EXPECT_TRUE(a.is(OT::Accepted)) << "TZ=" << tz;
    if (a.is(OT::Accepted)) {
      r.accepted_ts = a.msg.accepted.timestamp;
      r.accepted_from_send = expect_between("OUCH Accepted", tz, r.accepted_ts, sent, answered);
    }
    c.logout();

    // The journal's day is the exchange's date (either side of the reads, should they straddle
    // the exchange's midnight).
    std::vector<std::string> days;
    for (const auto& e : fs::directory_iterator(d / "journal")) days.push_back(e.path().filename().string());
    EXPECT_EQ(days.size(), 1u) << "TZ=" << tz;
    if (days.size() == 1) {
      EXPECT_TRUE(days[0] == exchange_date(spawned) || days[0] == exchange_date(answered))
          << "TZ=" << tz << ": journal day " << days[0] << ", the exchange's date is " << exchange_date(answered);
    }
    EXPECT_EQ(proc_.stop(), 0) << "TZ=" << tz;
    return r;
  }

  fs::path dir_;
  Process proc_;
  int runs_ = 0;
};

TEST_F(ExchangeClockTest, TimestampsAreTheExchangesWhateverTheProcessTimeZone) {
  const Run utc = run_under("UTC");
  const Run shanghai = run_under("Asia/Shanghai");
  const Run new_york = run_under("America/New_York");
  // Each Accepted lies where the test's clock put it (checked above); then all three agree
  // with one another to within the bound, which the 8 h (or 12-13 h) of a time-zone error exceeds.
  for (const auto& [tz, r] : {std::pair{"Asia/Shanghai", &shanghai}, std::pair{"America/New_York", &new_york}}) {
    const std::int64_t d = r->accepted_from_send - utc.accepted_from_send;
    EXPECT_LT(d < 0 ? -d : d, 2 * kSlackNs) << "TZ=" << tz << " stamps " << hms(static_cast<std::int64_t>(r->accepted_ts))
                                            << ", TZ=UTC " << hms(static_cast<std::int64_t>(utc.accepted_ts));
  }
}

}  // namespace
}  // namespace peregrine
