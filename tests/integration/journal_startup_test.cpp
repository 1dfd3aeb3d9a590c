// Start-up on a damaged journal, against the real binary (docs/operations.md, "Start-up errors
// and what to do"): a flipped byte mid-journal stops start-up naming the file and offset (exit
// 3) unless --recover-truncate-at-corruption; a record cut short at the end, and an empty last
// segment, are torn tails: truncated with a warning, the rest recovered; a segment of another
// format version, or a journal of another configuration, stop start-up with a clear error.

#include <gtest/gtest.h>
#include <sys/statvfs.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "peregrine/client/ouch_client.hpp"
#include "support/depth_json.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"

namespace peregrine {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using peregrine::testing::Process;

class JournalStartupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("peregrine-jstart-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "-" +
            std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::ofstream(dir_ / "creds.txt") << "USR1:pw1\n";
    write_config("600519");
  }
  void TearDown() override {
    (void)proc_.stop();
    if (!HasFailure()) fs::remove_all(dir_);
  }

  void write_config(const std::string& second_symbol, std::uint64_t min_free_mb = 0) {
    std::ofstream y(dir_ / "j.yaml");
    y << "market: {schedule: continuous}\n"
         "instruments:\n"
         "  - {symbol: \"600000\", board: main, reference_price: \"10.00\"}\n"
         "  - {symbol: \"" << second_symbol << "\", board: main, reference_price: \"20.00\"}\n"
         "firms: [{name: FRMA}]\n"
         "users: [{username: USR1, firm: FRMA, cancel_on_disconnect: false}]\n"
         "credentials_file: creds.txt\n"
         "gateway: {ouch_listen: \"127.0.0.1:0\", itch_listen: \"127.0.0.1:0\", http_listen: \"127.0.0.1:0\","
         " mold_destination: \"127.0.0.1:9\"}\n"
         "journal:\n"
         "  dir: journal\n"
         "  durability: fsync\n"
         "  segment_mb: 1\n"
         "  snapshot_every_commands: 0\n"
         "  snapshot_every_seconds: 0\n"
         "  min_free_mb: " << min_free_mb << "\n";
  }

  // Starts the binary; true once it is ready (ports read), false when it exits first.
  bool start(std::vector<std::string> extra = {}) {
    std::vector<std::string> args{PEREGRINE_BINARY, "--config", (dir_ / "j.yaml").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    ++runs_;
    EXPECT_TRUE(proc_.spawn(args, (dir_ / ("log" + std::to_string(runs_) + ".txt")).string()));
    const std::smatch m = proc_.wait_line(std::regex(R"(ready: OUCH [^:]+:(\d+), .* HTTP [^:]+:(\d+))"), 60s);
    if (m.empty()) return false;
    ouch_port_ = static_cast<std::uint16_t>(std::stoi(m[1].str()));
    http_port_ = static_cast<std::uint16_t>(std::stoi(m[2].str()));
    return true;
  }
  // The exit code of a process that stopped by itself.
  int exit_code() { return proc_.signal(0, 20000ms); }
  std::string log() const { return proc_.log(); }

  // Enters `n` resting buy orders B<first>.. at 10.00 - i ticks, each acknowledged.
  void enter(int first, int n) {
    client::OuchClient c;
    c.connect("127.0.0.1", ouch_port_);
    ASSERT_TRUE(c.login("USR1", "pw1").accepted);
    for (int i = first; i < first + n; ++i) {
      const std::string tok = "B" + std::to_string(i);
      c.enter_order(client::OrderSpec{tok, 'B', 100, "600000", static_cast<std::uint32_t>(100000 - i * 100)});
      bool accepted = false;
      for (int k = 0; k < 10 && !accepted; ++k) accepted = c.next(2000ms).is(proto::ouch::OutboundType::Accepted);
      ASSERT_TRUE(accepted) << tok;
    }
    c.logout();
  }
  // Orders on the bid side of 600000 per /admin/depth.
  int resting() const {
    const auto r = testing::fetch(http_port_, boost::beast::http::verb::get, "/admin/depth?symbol=600000&levels=100");
    if (!r) return -1;
    const std::optional<testing::Depth> d = testing::parse_depth(r->body);
    if (!d) return -1;
    int n = 0;
    for (const testing::DepthLevel& l : d->bids) n += static_cast<int>(l.orders);
    return n;
  }
  // The day's directory (the only one under journal/) and its segments, oldest first.
  fs::path day() const {
    for (const auto& e : fs::directory_iterator(dir_ / "journal")) return e.path();
    return {};
  }
  std::vector<fs::path> segments() const {
    std::vector<fs::path> v;
    for (const auto& e : fs::directory_iterator(day()))
      if (e.path().extension() == ".pjl") v.push_back(e.path());
    std::sort(v.begin(), v.end());
    return v;
  }
  // A day with two segments: 20 orders, a clean stop, 5 more, a clean stop.
  void make_day() {
    ASSERT_TRUE(start()) << log();
    enter(0, 20);
    ASSERT_EQ(proc_.stop(), 0);
    ASSERT_TRUE(start()) << log();
    enter(20, 5);
    ASSERT_EQ(proc_.stop(), 0);
    ASSERT_EQ(segments().size(), 2u);
  }

  fs::path dir_;
  Process proc_;
  int runs_ = 0;
  std::uint16_t ouch_port_ = 0;
  std::uint16_t http_port_ = 0;
};

void flip_byte(const fs::path& file, std::uint64_t offset) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x40);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(&c, 1);
}

TEST_F(JournalStartupTest, RestartRecoversEveryAcknowledgedOrder) {
  make_day();
  ASSERT_TRUE(start()) << log();
  EXPECT_EQ(resting(), 25);
  EXPECT_NE(log().find("journal: recovered"), std::string::npos) << log();
}

TEST_F(JournalStartupTest, AFlippedByteMidJournalStopsStartUpUnlessTheOperatorChoosesToCut) {
  make_day();
  const fs::path first = segments().front();
  // Segment header 64 bytes, the Start record 24 + 16, then 88 bytes per command: a byte inside
  // the tenth command (seq 11).
  const std::uint64_t tenth = 64 + 40 + 9 * 88;
  flip_byte(first, tenth + 50);
  EXPECT_FALSE(start());
  EXPECT_EQ(exit_code(), 3);
  const std::string err = log();
  EXPECT_NE(err.find(first.filename().string()), std::string::npos) << err;
  EXPECT_NE(err.find("offset " + std::to_string(tenth)), std::string::npos) << err;
  // Nothing was changed on disk by the refusal.
  EXPECT_EQ(segments().size(), 2u);

  ASSERT_TRUE(start({"--recover-truncate-at-corruption"})) << log();
  EXPECT_NE(log().find("cut at offset"), std::string::npos) << log();
  // The start record and nine commands before the damage: nine orders.
  EXPECT_EQ(resting(), 9);
  bool moved_aside = false;
  for (const auto& e : fs::directory_iterator(day())) moved_aside |= e.path().extension() == ".corrupt";
  EXPECT_TRUE(moved_aside);
}

TEST_F(JournalStartupTest, ARecordCutShortAtTheEndIsATornTailDroppedWithAWarning) {
  make_day();
  const fs::path last = segments().back();
  const std::uint64_t size = fs::file_size(last);
  fs::resize_file(last, size - 30);
  ASSERT_TRUE(start()) << log();
  EXPECT_NE(log().find(last.string()), std::string::npos) << log();
  EXPECT_NE(log().find("torn"), std::string::npos) << log();
  // The cut record was the end of day of the second run: all 25 orders are there.
  EXPECT_EQ(resting(), 25);
}

TEST_F(JournalStartupTest, AnEmptyLastSegmentIsATornTail) {
  make_day();
  std::ofstream(day() / "journal-00000000000000009999.pjl").close();
  ASSERT_TRUE(start()) << log();
  EXPECT_EQ(resting(), 25);
}

TEST_F(JournalStartupTest, AnotherFormatVersionStopsStartUpNamingIt) {
  make_day();
  const fs::path first = segments().front();
  {
    std::fstream f(first, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(8);
    const char v2[4] = {2, 0, 0, 0};
    f.write(v2, 4);
  }
  EXPECT_FALSE(start());
  EXPECT_EQ(exit_code(), 3);
  EXPECT_NE(log().find("format version 2"), std::string::npos) << log();
}

TEST_F(JournalStartupTest, AJournalOfAnotherConfigurationStopsStartUp) {
  make_day();
  write_config("600036");
  EXPECT_FALSE(start());
  EXPECT_EQ(exit_code(), 3);
  EXPECT_NE(log().find("fingerprint"), std::string::npos) << log();
}

// Free space under journal.min_free_mb (but above the writer's own floor, a quarter of it): new
// orders are refused with a reason (OUCH Rejected 'O', journaled like any reply), cancels still
// go through, /readyz answers 503 and the journal state metric says 1.
TEST_F(JournalStartupTest, LowDiskSpaceRefusesNewOrdersKeepsCancelsAndTurnsUnready) {
  ASSERT_TRUE(start()) << log();
  enter(0, 1);
  ASSERT_EQ(proc_.stop(), 0);
  struct statvfs v {};
  ASSERT_EQ(::statvfs(dir_.c_str(), &v), 0);
  const std::uint64_t free_mb = (static_cast<std::uint64_t>(v.f_bavail) * v.f_frsize) >> 20;
  write_config("600519", 2 * free_mb + 1);
  ASSERT_TRUE(start()) << log();
  const auto readyz = [&] {
    const auto r = testing::fetch(http_port_, boost::beast::http::verb::get, "/readyz");
    return r ? static_cast<int>(r->status) : -1;
  };
  EXPECT_EQ(readyz(), 503) << log();
  client::OuchClient c;
  c.connect("127.0.0.1", ouch_port_);
  const auto login = c.login("USR1", "pw1");
  ASSERT_TRUE(login.accepted);
  c.enter_order(client::OrderSpec{"N1", 'B', 100, "600000", 90000});
  client::OuchEvent e;
  for (int k = 0; k < 10 && !(e = c.next(2000ms)).is(proto::ouch::OutboundType::Rejected); ++k) {
  }
  ASSERT_TRUE(e.is(proto::ouch::OutboundType::Rejected)) << log();
  EXPECT_EQ(e.msg.rejected.reason, 'O');
  EXPECT_EQ(e.msg.rejected.token.view(), "N1");
  c.cancel("B0");
  for (int k = 0; k < 10 && !(e = c.next(2000ms)).is(proto::ouch::OutboundType::Canceled); ++k) {
  }
  EXPECT_TRUE(e.is(proto::ouch::OutboundType::Canceled)) << log();
  // The io thread publishes its counters on its 100 ms tick.
  std::string metrics;
  for (int k = 0; k < 100; ++k) {
    const auto m = testing::fetch(http_port_, boost::beast::http::verb::get, "/metrics");
    metrics = m ? m->body : std::string();
    if (metrics.find("peregrine_journal_refused_orders_total 1") != std::string::npos) break;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_NE(metrics.find("peregrine_journal_state 1"), std::string::npos);
  EXPECT_NE(metrics.find("peregrine_journal_refused_orders_total 1"), std::string::npos);
  EXPECT_NE(log().find("refusing new orders"), std::string::npos) << log();
}

}  // namespace
}  // namespace peregrine
