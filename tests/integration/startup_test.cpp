// Start-up against the real binary (issue 14): a server sized for 2^24 orders and 2^24 tokens,
// with a journal, is small right after ready (its day-sized tables are untouched zero pages, so
// its resident memory stays under 64 MB), and then takes orders at both ends of its price band;
// --startup-trace prints every phase, in order, on one line just before the ready line.

#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "peregrine/client/ouch_client.hpp"
#include "support/process.hpp"

namespace peregrine {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using peregrine::testing::Process;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;  // the sanitizers' runtimes hold tens of MB of their own
#else
constexpr bool kSanitized = false;
#endif

class StartupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("peregrine-startup-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "-" +
            std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::ofstream(dir_ / "creds.txt") << "USR1:pw1\n";
    // 2^24 orders and tokens; a 1700.00 stock with a ±10 % band: 34,001 price levels a side.
    std::ofstream(dir_ / "big.yaml") << "engine: {max_orders: 16777216, max_tokens: 16777216}\n"
                                        "market: {schedule: continuous}\n"
                                        "instruments:\n"
                                        "  - {symbol: \"600519\", board: main, reference_price: \"1700.00\"}\n"
                                        "firms: [{name: FRMA}]\n"
                                        "users: [{username: USR1, firm: FRMA}]\n"
                                        "credentials_file: creds.txt\n"
                                        "gateway: {ouch_listen: \"127.0.0.1:0\", itch_listen: \"127.0.0.1:0\","
                                        " http_listen: \"127.0.0.1:0\", mold_destination: \"127.0.0.1:9\"}\n"
                                        "journal: {dir: journal, durability: none}\n";
  }
  void TearDown() override {
    (void)proc_.stop();
    if (!HasFailure()) fs::remove_all(dir_);
  }

  // The server's resident set in bytes (VmRSS in /proc/<pid>/status), or 0.
  std::uint64_t resident_bytes() const {
    std::ifstream in("/proc/" + std::to_string(proc_.pid()) + "/status");
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;  // "VmRSS:   12345 kB"
    }
    return 0;
  }

  fs::path dir_;
  Process proc_;
};

TEST_F(StartupTest, ServerForTwoToThe24OrdersIsUnder64MBResidentRightAfterReady) {
  ASSERT_TRUE(proc_.spawn({PEREGRINE_BINARY, "--config", (dir_ / "big.yaml").string()}, (dir_ / "log.txt").string()));
  const std::smatch m = proc_.wait_line(std::regex(R"(ready: OUCH [^:]+:(\d+), )"), 60s);
  ASSERT_FALSE(m.empty()) << proc_.log();
  const std::uint16_t ouch = static_cast<std::uint16_t>(std::stoi(m[1].str()));
  const std::uint64_t rss = resident_bytes();
  ASSERT_GT(rss, 0u);
  if (kSanitized) {
    std::printf("resident right after ready: %.1f MB (not checked: a sanitizer's runtime is in it)\n",
                static_cast<double>(rss) / 1e6);
  } else {
    EXPECT_LT(rss, std::uint64_t{64} << 20) << "resident right after ready: " << rss << " bytes";
  }

  // The untouched tables work: a buy at the limit down and a sell at the limit up both rest.
  client::OuchClient c;
  c.connect("127.0.0.1", ouch);
  ASSERT_TRUE(c.login("USR1", "pw1").accepted);
  c.enter_order(client::OrderSpec{"LOW", 'B', 100, "600519", 15300000});   // 1530.00
  c.enter_order(client::OrderSpec{"HIGH", 'S', 100, "600519", 18700000});  // 1870.00
  int accepted = 0;
  for (int k = 0; k < 10 && accepted < 2; ++k)
    if (c.next(5000ms).is(proto::ouch::OutboundType::Accepted)) ++accepted;
  EXPECT_EQ(accepted, 2);
  c.logout();
}

// What only a Lease (ha.failover lease) or the drop copy needs is in modules beside the binary,
// loaded when configured (include/peregrine/agent/module.hpp): a server without either maps none
// of OpenSSL, rabbitmq-c or the modules themselves (issue 14: each start spared ~150 page faults).
TEST_F(StartupTest, AServerWithoutLeaseOrDropCopyMapsNoOpenSslNorRabbitmqNorTheirModules) {
  ASSERT_TRUE(proc_.spawn({PEREGRINE_BINARY, "--config", (dir_ / "big.yaml").string()}, (dir_ / "log.txt").string()));
  ASSERT_FALSE(proc_.wait_line(std::regex(R"(ready: OUCH )"), 60s).empty()) << proc_.log();
  std::ifstream f("/proc/" + std::to_string(proc_.pid()) + "/maps");
  const std::string maps{std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
  ASSERT_NE(maps.find("libstdc++"), std::string::npos) << maps;  // the file was read
  for (const char* lib : {"libssl.so", "libcrypto.so", "librabbitmq.so", "peregrine-kube.so", "peregrine-amqp.so"})
    EXPECT_EQ(maps.find(lib), std::string::npos) << lib << " is mapped:\n" << maps;
}

TEST_F(StartupTest, StartupTracePrintsEveryPhaseInOrderJustBeforeTheReadyLine) {
  ASSERT_TRUE(proc_.spawn({PEREGRINE_BINARY, "--config", (dir_ / "big.yaml").string(), "--startup-trace"},
                          (dir_ / "log.txt").string()));
  const std::smatch trace = proc_.wait_line(std::regex(R"(^peregrine: startup: (.*)$)"), 60s);
  ASSERT_FALSE(trace.empty()) << proc_.log();
  const std::string text = trace[1].str();
  // The next line is the ready line.
  ASSERT_FALSE(proc_.wait_line(std::regex(R"(^peregrine: ready: )"), 5s).empty()) << proc_.log();

  const std::regex item(R"(([a-z]+) (\d+\.\d{3}) ms (\d+) faults)");
  std::vector<std::string> names;
  double sum_ms = 0, total_ms = 0;
  std::uint64_t sum_faults = 0, total_faults = 0;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), item); it != std::sregex_iterator(); ++it) {
    const std::string name = (*it)[1].str();
    const double ms = std::stod((*it)[2].str());
    const std::uint64_t faults = std::stoull((*it)[3].str());
    if (name == "total") {
      total_ms = ms;
      total_faults = faults;
      continue;
    }
    names.push_back(name);
    sum_ms += ms;
    sum_faults += faults;
  }
  const std::vector<std::string> expected{"main", "config", "engine", "journal", "core", "listeners", "ops", "ready"};
  EXPECT_EQ(names, expected) << text;
  // The phases add up to the total (each printed to the microsecond), and the process has
  // faulted in at least its own code.
  EXPECT_NEAR(sum_ms, total_ms, 0.001 * static_cast<double>(names.size() + 1)) << text;
  EXPECT_EQ(sum_faults, total_faults) << text;
  EXPECT_GT(total_faults, 0u) << text;
  EXPECT_GT(total_ms, 0.0) << text;
  // The log's ready line carries the same breakdown.
  (void)proc_.stop();
  EXPECT_NE(proc_.log().find("ready; start-up: main "), std::string::npos) << proc_.log();
}

}  // namespace
}  // namespace peregrine
