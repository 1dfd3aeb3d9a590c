// The service configuration: users, credentials file, gateway, core, admin and tuning sections;
// environment and flag overrides; and resolve(), which turns the customer's tuning switches into
// concrete settings.

#include "peregrine/config/service.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "support/temp_dir.hpp"

namespace peregrine::config {
namespace service_test {  // named, not anonymous: the sanitizer presets' unity builds compile it beside other tests

const std::string kConfigDir = std::string(PEREGRINE_SOURCE_DIR) + "/config";

/// Five lines (instruments on 1-2, firms FRMA and FRMB on 3-5); what follows starts at line 6.
constexpr std::string_view kBase =
    "instruments:\n  - {symbol: \"600519\", reference_price: \"1700.00\"}\nfirms:\n  - {name: FRMA}\n"
    "  - {name: FRMB}\n";

std::string with(std::string_view rest) { return std::string(kBase) + std::string(rest); }

ServiceConfig load(std::string_view text) { return load_service_config_from_string(text, "test.yaml", "/etc/p"); }

/// Checks that `fn` throws ConfigError with this file, line, field, and a reason containing `reason`.
template <typename Fn>
::testing::AssertionResult throws_at(Fn fn, const std::string& file, int line, const std::string& field,
                                     const std::string& reason) {
  try {
    fn();
  } catch (const ConfigError& e) {
    if (e.file() != file || e.line() != line || e.field() != field || e.reason().find(reason) == std::string::npos) {
      return ::testing::AssertionFailure() << "expected " << file << ":" << line << ": " << field << ": ..." << reason
                                           << "..., got \"" << e.what() << "\"";
    }
    return ::testing::AssertionSuccess() << e.what();
  }
  return ::testing::AssertionFailure() << "nothing was thrown";
}

::testing::AssertionResult refused(std::string_view text, int line, const std::string& field,
                                   const std::string& reason) {
  return throws_at([&] { (void)load(text); }, "test.yaml", line, field, reason);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// A fresh directory under the system's temporary directory, removed at the end of the test
/// (tests/support/temp_dir.hpp), and files written into it.
struct TempDir : peregrine::testing::TempDir {
  TempDir() : peregrine::testing::TempDir("peregrine-config") {}
  std::string write(const std::string& name, std::string_view text) const {
    const std::filesystem::path p = path() / name;
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }
};

// --- the shipped files -------------------------------------------------------------------------

TEST(ServiceConfigTest, LoadsTheDemoFileWithItsCredentials) {
  const ServiceConfig cfg = load_service_config(kConfigDir + "/demo.yaml");
  EXPECT_EQ(cfg.engine.instruments.size(), 6u);
  ASSERT_EQ(cfg.users.size(), 3u);
  EXPECT_EQ(cfg.users[0].username, "DEMO1");
  EXPECT_EQ(cfg.users[0].firm, "FRMA");
  EXPECT_EQ(cfg.users[1].username, "DEMO2");
  EXPECT_EQ(cfg.users[1].firm, "FRMB");
  EXPECT_EQ(cfg.users[1].throttle_per_second, 1000u);
  EXPECT_EQ(cfg.users[2].username, "MM1");
  EXPECT_EQ(cfg.users[2].firm, "MM01");
  EXPECT_EQ(cfg.users[2].throttle_per_second, 0u);
  EXPECT_EQ(cfg.credentials_file, kConfigDir + "/demo-credentials.txt");
  ASSERT_EQ(cfg.credentials.entries.size(), 3u);
  ASSERT_NE(cfg.credentials.find("DEMO1"), nullptr);
  EXPECT_EQ(cfg.credentials.find("DEMO1")->password, "demo1pass");
  EXPECT_EQ(cfg.gateway.ouch_listen, (ListenAddress{"127.0.0.1", 9001}));
  EXPECT_FALSE(cfg.core.idle_strategy.has_value());  // the default: park on fewer than three CPUs
  EXPECT_FALSE(cfg.tuning.low_latency_mode);
  EXPECT_FALSE(cfg.tuning.cpu_affinity);
  EXPECT_FALSE(cfg.tuning.network_optimization);
  EXPECT_FALSE(cfg.tuning.cache_enabled);
}

TEST(ServiceConfigTest, TheEngineLoaderAcceptsAServiceFile) {
  const EngineConfig engine = load_engine_config(kConfigDir + "/demo.yaml");
  EXPECT_EQ(engine.firms.size(), 3u);
}

TEST(ServiceConfigTest, TheK8sExampleTurnsEveryTuningSwitchOn) {
  const ServiceConfig cfg =
      load_service_config_from_string(read_file(kConfigDir + "/k8s.yaml"), "k8s.yaml", kConfigDir);
  EXPECT_TRUE(cfg.tuning.low_latency_mode);
  EXPECT_TRUE(cfg.tuning.cpu_affinity);
  EXPECT_TRUE(cfg.tuning.network_optimization);
  EXPECT_TRUE(cfg.tuning.cache_enabled);
  EXPECT_EQ(cfg.gateway.http_listen, (ListenAddress{"0.0.0.0", 8080}));
  EXPECT_EQ(cfg.credentials_file, "/etc/peregrine/secrets/credentials.txt");
  EXPECT_EQ(cfg.admin.token_file, "/etc/peregrine/secrets/admin-token");

  const EffectiveSettings s = resolve(cfg, {0, 1, 2, 3, 4, 5, 6, 7});
  EXPECT_EQ(s.core_idle, agent::IdleStrategyKind::BusySpin);
  EXPECT_EQ(s.core_cpu, 7);
  EXPECT_EQ(s.gateway_cpu, 6);
  EXPECT_TRUE(s.tcp_nodelay);
  EXPECT_EQ(s.socket_send_buffer, 4 << 20);
  EXPECT_EQ(s.socket_recv_buffer, 4 << 20);
  EXPECT_EQ(s.busy_poll_us, 50);
  EXPECT_TRUE(s.mlock_all);
  EXPECT_TRUE(s.pretouch);
}

TEST(ServiceConfigTest, TheDemoCredentialsAreMarkedDemoOnly) {
  EXPECT_NE(read_file(kConfigDir + "/demo-credentials.txt").find("DEMO ONLY"), std::string::npos);
}

// make run's admin API works with the token the README's curl reads; the file holds the token
// alone (no room for a comment), so the token itself says it is for the demo only.
TEST(ServiceConfigTest, TheDemoHasAnAdminTokenThatSaysItIsDemoOnly) {
  const ServiceConfig cfg = load_service_config(kConfigDir + "/demo.yaml");
  EXPECT_EQ(cfg.admin.token_file, kConfigDir + "/demo-admin-token.txt");
  EXPECT_EQ(read_file(cfg.admin.token_file).rfind("DEMO-ONLY.", 0), 0u);
}

// --- defaults and every field --------------------------------------------------------------------

TEST(ServiceConfigTest, DefaultsWhenNoServiceSectionIsWritten) {
  const ServiceConfig cfg = load(kBase);
  EXPECT_EQ(cfg.source, "test.yaml");
  EXPECT_TRUE(cfg.users.empty());
  EXPECT_TRUE(cfg.credentials_file.empty());
  EXPECT_EQ(cfg.gateway.ouch_listen, (ListenAddress{"127.0.0.1", 9001}));
  EXPECT_EQ(cfg.gateway.itch_listen, (ListenAddress{"127.0.0.1", 9002}));
  EXPECT_EQ(cfg.gateway.mold_destination, (ListenAddress{"127.0.0.1", 9003}));
  EXPECT_EQ(cfg.gateway.http_listen, (ListenAddress{"127.0.0.1", 8080}));
  EXPECT_EQ(cfg.gateway.session_name, "PEREGRINE1");
  EXPECT_EQ(cfg.gateway.heartbeat_interval_ms, 1000u);
  EXPECT_EQ(cfg.gateway.session_timeout_ms, 15000u);
  EXPECT_EQ(cfg.gateway.retention_messages, 1000000u);
  EXPECT_EQ(cfg.gateway.max_outbound_queue_bytes, 8u * 1024 * 1024);
  EXPECT_FALSE(cfg.core.cpu.has_value());
  EXPECT_FALSE(cfg.core.idle_strategy.has_value());
  EXPECT_TRUE(cfg.admin.token_file.empty());
  EXPECT_FALSE(cfg.tuning.low_latency_mode);
  EXPECT_FALSE(cfg.tuning.cpu_affinity);
  EXPECT_FALSE(cfg.tuning.network_optimization);
  EXPECT_FALSE(cfg.tuning.cache_enabled);
}

TEST(ServiceConfigTest, ReadsEveryUserField) {
  const ServiceConfig cfg = load(with(R"(users:
  - {username: A1, firm: FRMA}
  - username: abcdef
    firm: FRMB
    cancel_on_disconnect: false
    throttle_per_second: 250
credentials_file: creds.txt
)"));
  ASSERT_EQ(cfg.users.size(), 2u);
  EXPECT_EQ(cfg.users[0].username, "A1");
  EXPECT_EQ(cfg.users[0].firm, "FRMA");
  EXPECT_TRUE(cfg.users[0].cancel_on_disconnect);
  EXPECT_EQ(cfg.users[0].throttle_per_second, 10000u);
  EXPECT_EQ(cfg.users[0].line, 7);
  EXPECT_EQ(cfg.users[1].username, "abcdef");
  EXPECT_FALSE(cfg.users[1].cancel_on_disconnect);
  EXPECT_EQ(cfg.users[1].throttle_per_second, 250u);
  EXPECT_EQ(cfg.credentials_file, "/etc/p/creds.txt");
  ASSERT_NE(cfg.find_user("abcdef"), nullptr);
  EXPECT_EQ(cfg.find_user("abcdef")->firm, "FRMB");
  EXPECT_EQ(cfg.find_user("nobody"), nullptr);
}

TEST(ServiceConfigTest, ReadsEveryGatewayCoreAdminAndTuningField) {
  const ServiceConfig cfg = load(with(R"(gateway:
  ouch_listen: "0.0.0.0:0"
  itch_listen: "[::1]:7002"
  mold_destination: "239.1.1.1:7003"
  http_listen: "localhost:0"
  session_name: "2026112501"
  heartbeat_interval_ms: 500
  session_timeout_ms: 5000
  retention_messages: 42
  max_outbound_queue_bytes: 1024
core:
  cpu: 3
  idle_strategy: yield
admin:
  token_file: secrets/token
tuning:
  low_latency_mode: true
  cpu_affinity: "true"
  network_optimization: false
  cache_enabled: true
)"));
  EXPECT_EQ(cfg.gateway.ouch_listen, (ListenAddress{"0.0.0.0", 0}));
  EXPECT_EQ(cfg.gateway.itch_listen, (ListenAddress{"::1", 7002}));
  EXPECT_EQ(cfg.gateway.mold_destination, (ListenAddress{"239.1.1.1", 7003}));
  EXPECT_EQ(cfg.gateway.http_listen, (ListenAddress{"localhost", 0}));
  EXPECT_EQ(cfg.gateway.session_name, "2026112501");
  EXPECT_EQ(cfg.gateway.heartbeat_interval_ms, 500u);
  EXPECT_EQ(cfg.gateway.session_timeout_ms, 5000u);
  EXPECT_EQ(cfg.gateway.retention_messages, 42u);
  EXPECT_EQ(cfg.gateway.max_outbound_queue_bytes, 1024u);
  EXPECT_EQ(cfg.core.cpu, 3);
  EXPECT_EQ(cfg.core.idle_strategy, agent::IdleStrategyKind::Yield);
  EXPECT_EQ(cfg.admin.token_file, "/etc/p/secrets/token");
  EXPECT_TRUE(cfg.tuning.low_latency_mode);
  EXPECT_TRUE(cfg.tuning.cpu_affinity);
  EXPECT_FALSE(cfg.tuning.network_optimization);
  EXPECT_TRUE(cfg.tuning.cache_enabled);
}

TEST(ServiceConfigTest, CoreCpuMinusOneMeansNeverPinned) {
  EXPECT_EQ(load(with("core: {cpu: -1}\n")).core.cpu, -1);
}

TEST(ServiceConfigTest, AbsolutePathsAreKeptAsWritten) {
  const ServiceConfig cfg = load(with("admin: {token_file: /run/token}\n"));
  EXPECT_EQ(cfg.admin.token_file, "/run/token");
}

// --- bad values ------------------------------------------------------------------------------------

TEST(ServiceConfigTest, RefusesBadUsers) {
  EXPECT_TRUE(refused(with("users: {username: A}\n"), 6, "users", "must be a list of users"));
  EXPECT_TRUE(refused(with("users:\n  - {username: ABCDEFG, firm: FRMA}\n"), 7, "users[0].username",
                      "must be 1 to 6 letters or digits (SoupBinTCP Username), got \"ABCDEFG\""));
  EXPECT_TRUE(refused(with("users:\n  - {username: \"A B\", firm: FRMA}\n"), 7, "users[0].username",
                      "must be 1 to 6 letters or digits"));
  EXPECT_TRUE(refused(with("users:\n  - {username: \"\", firm: FRMA}\n"), 7, "users[0].username",
                      "must be 1 to 6 letters or digits"));
  EXPECT_TRUE(refused(with("users:\n  - {firm: FRMA}\n"), 7, "users[0].username", "is required"));
  EXPECT_TRUE(refused(with("users:\n  - {username: U1}\n"), 7, "users[0].firm", "is required"));
  EXPECT_TRUE(refused(with("users:\n  - {username: U1,\n     firm: FRMZ}\n"), 8, "users[0].firm",
                      "no firm named \"FRMZ\" in firms (FRMA, FRMB)"));
  EXPECT_TRUE(refused(with("users:\n  - {username: U1, firm: FRMA}\n  - {username: U1, firm: FRMB}\n"), 8,
                      "users[1].username", "duplicate username \"U1\", already used by users[0] at line 7"));
  EXPECT_TRUE(refused(with("users:\n  - {username: U1, firm: FRMA, cancel_on_disconnect: yes}\n"), 7,
                      "users[0].cancel_on_disconnect", "must be one of true, false; got \"yes\""));
  EXPECT_TRUE(refused(with("users:\n  - {username: U1, firm: FRMA, throttle_per_second: -5}\n"), 7,
                      "users[0].throttle_per_second", "must not be negative"));
  EXPECT_TRUE(refused(with("users:\n  - {username: U1, firm: FRMA, throttle_per_second: 4294967296}\n"), 7,
                      "users[0].throttle_per_second", "must be at most 4294967295"));
  EXPECT_TRUE(refused(with("users:\n  - {username: U1, firm: FRMA, throtle_per_second: 5}\n"), 7,
                      "users[0].throtle_per_second", "did you mean 'throttle_per_second'?"));
  EXPECT_TRUE(refused(with("users:\n  - {username: U1, firm: FRMA, password: x}\n"), 7, "users[0].password",
                      "unknown key"));
}

TEST(ServiceConfigTest, UsersNeedACredentialsFile) {
  EXPECT_TRUE(refused(with("users:\n  - {username: U1, firm: FRMA}\n"), 6, "credentials_file",
                      "is required when there are users"));
  EXPECT_TRUE(refused(with("credentials_file: \"\"\n"), 6, "credentials_file", "must not be empty"));
  EXPECT_TRUE(refused(with("credentials_file: [a, b]\n"), 6, "credentials_file", "must be a file path"));
}

TEST(ServiceConfigTest, RefusesBadGatewayValues) {
  EXPECT_TRUE(refused(with("gateway: 5\n"), 6, "gateway", "must be a map"));
  EXPECT_TRUE(refused(with("gateway:\n  ouch_listen: \"127.0.0.1\"\n"), 7, "gateway.ouch_listen",
                      "the port is missing"));
  EXPECT_TRUE(refused(with("gateway:\n  ouch_listen: \"127.0.0.1:65536\"\n"), 7, "gateway.ouch_listen",
                      "at most 65535"));
  EXPECT_TRUE(refused(with("gateway:\n  itch_listen: \"300.0.0.1:9002\"\n"), 7, "gateway.itch_listen",
                      "not an IPv4 address"));
  EXPECT_TRUE(refused(with("gateway:\n  itch_listen: \"::1:9002\"\n"), 7, "gateway.itch_listen",
                      "goes in brackets"));
  EXPECT_TRUE(refused(with("gateway:\n  http_listen: \":8080\"\n"), 7, "gateway.http_listen", "host is missing"));
  EXPECT_TRUE(refused(with("gateway:\n  http_listen: \"a_b:8080\"\n"), 7, "gateway.http_listen",
                      "not an IP address or host name"));
  EXPECT_TRUE(refused(with("gateway:\n  mold_destination: \"127.0.0.1:0\"\n"), 7, "gateway.mold_destination",
                      "must not be 0"));
  EXPECT_TRUE(refused(with("gateway:\n  session_name: ABCDEFGHIJK\n"), 7, "gateway.session_name",
                      "must be 1 to 10 letters or digits"));
  EXPECT_TRUE(refused(with("gateway:\n  heartbeat_interval_ms: 0\n"), 7, "gateway.heartbeat_interval_ms",
                      "must be positive"));
  EXPECT_TRUE(refused(with("gateway:\n  heartbeat_interval_ms: 2000\n  session_timeout_ms: 2000\n"), 8,
                      "gateway.session_timeout_ms", "must be longer than heartbeat_interval_ms (2000)"));
  EXPECT_TRUE(refused(with("gateway:\n  heartbeat_interval_ms: 20000\n"), 6, "gateway.session_timeout_ms",
                      "must be longer than heartbeat_interval_ms"));
  EXPECT_TRUE(refused(with("gateway:\n  retention_messages: 0\n"), 7, "gateway.retention_messages",
                      "must be positive"));
  EXPECT_TRUE(refused(with("gateway:\n  max_outbound_queue_bytes: 1023\n"), 7,
                      "gateway.max_outbound_queue_bytes", "must be at least 1024"));
  EXPECT_TRUE(refused(with("gateway:\n  ouch_listen: \"127.0.0.1:7000\"\n  itch_listen: \"0.0.0.0:7000\"\n"), 8,
                      "gateway.itch_listen", "port 7000 is also gateway.ouch_listen's"));
  EXPECT_TRUE(refused(with("gateway:\n  http_listen: \"127.0.0.1:9001\"\n"), 7, "gateway.http_listen",
                      "port 9001 is also gateway.ouch_listen's (127.0.0.1:9001)"));
}

TEST(ServiceConfigTest, DifferentHostsOrPortZeroDoNotClash) {
  EXPECT_NO_THROW(load(with("gateway: {ouch_listen: \"127.0.0.1:7000\", itch_listen: \"127.0.0.2:7000\"}\n")));
  EXPECT_NO_THROW(load(with("gateway: {ouch_listen: \"0.0.0.0:0\", itch_listen: \"0.0.0.0:0\", "
                            "http_listen: \"0.0.0.0:0\"}\n")));
}

TEST(ServiceConfigTest, RefusesBadCoreAdminAndTuningValues) {
  EXPECT_TRUE(refused(with("core:\n  cpu: abc\n"), 7, "core.cpu", "must be a CPU number 0-1023, or -1"));
  EXPECT_TRUE(refused(with("core:\n  cpu: 1024\n"), 7, "core.cpu", "got \"1024\""));
  EXPECT_TRUE(refused(with("core:\n  cpu: -2\n"), 7, "core.cpu", "got \"-2\""));
  EXPECT_TRUE(refused(with("core:\n  idle_strategy: spin\n"), 7, "core.idle_strategy",
                      "must be one of busy-spin, yield, backoff, spin-then-park, park; got \"spin\""));
  EXPECT_TRUE(refused(with("core:\n  idle: yield\n"), 7, "core.idle", "unknown key"));
  EXPECT_TRUE(refused(with("admin:\n  token_file: \"\"\n"), 7, "admin.token_file", "must not be empty"));
  EXPECT_TRUE(refused(with("admin:\n  token: abc\n"), 7, "admin.token", "did you mean 'token_file'?"));
  EXPECT_TRUE(refused(with("tuning:\n  low_latency_mode: yes\n"), 7, "tuning.low_latency_mode",
                      "must be one of true, false; got \"yes\""));
  EXPECT_TRUE(refused(with("tuning:\n  cache_enabled: 1\n"), 7, "tuning.cache_enabled", "got \"1\""));
  EXPECT_TRUE(refused(with("tuning:\n  cpu_afinity: true\n"), 7, "tuning.cpu_afinity",
                      "did you mean 'cpu_affinity'?"));
  EXPECT_TRUE(refused(with("tuning:\n  dpdk: true\n"), 7, "tuning.dpdk",
                      "expected one of: low_latency_mode, cpu_affinity, network_optimization, cache_enabled"));
  EXPECT_TRUE(refused(with("tunning: {}\n"), 6, "tunning", "did you mean 'tuning'?"));
}

// --- credentials -----------------------------------------------------------------------------------

::testing::AssertionResult credentials_refused(std::string_view text, int line, const std::string& field,
                                               const std::string& reason) {
  return throws_at([&] { (void)load_credentials_from_string(text, "creds.txt"); }, "creds.txt", line, field, reason);
}

TEST(CredentialsTest, ReadsLinesSkippingCommentsAndBlanks) {
  const Credentials c = load_credentials_from_string(
      "# comment\n\nDEMO1:secret\r\n   # indented comment\n  U2:a:b~!  \nABCDEF:0123456789", "creds.txt");
  ASSERT_EQ(c.entries.size(), 3u);
  EXPECT_EQ(c.file, "creds.txt");
  EXPECT_EQ(c.entries[0].username, "DEMO1");
  EXPECT_EQ(c.entries[0].password, "secret");
  EXPECT_EQ(c.entries[0].line, 3);
  EXPECT_EQ(c.entries[1].username, "U2");
  EXPECT_EQ(c.entries[1].password, "a:b~!");
  EXPECT_EQ(c.entries[1].line, 5);
  EXPECT_EQ(c.entries[2].password, "0123456789");
  EXPECT_EQ(c.entries[2].line, 6);
  EXPECT_TRUE(load_credentials_from_string("", "x").entries.empty());
}

TEST(CredentialsTest, RefusesBadLinesWithoutQuotingPasswords) {
  EXPECT_TRUE(credentials_refused("U1:ok\nhunter2\n", 2, "", "expected username:password"));
  EXPECT_TRUE(credentials_refused("TOOLONGU:pw\n", 1, "username", "must be 1 to 6 letters or digits"));
  EXPECT_TRUE(credentials_refused(":pw\n", 1, "username", "must be 1 to 6 letters or digits"));
  EXPECT_TRUE(credentials_refused("U1:\n", 1, "password", "must be 1 to 10 characters"));
  EXPECT_TRUE(credentials_refused("U1:hunter2hunter2\n", 1, "password", "got 14 for user \"U1\""));
  EXPECT_TRUE(credentials_refused("U1:hunter 2\n", 1, "password", "without spaces"));
  EXPECT_TRUE(credentials_refused("U1: hunter2\n", 1, "password", "without spaces"));
  EXPECT_TRUE(credentials_refused("U1:a\nU2:b\nU1:c\n", 3, "username", "duplicate username \"U1\", first at line 1"));
  for (const char* text : {"U1:hunter 2\n", "U1:hunter2hunter2\n", "hunter2\n"}) {
    try {
      (void)load_credentials_from_string(text, "creds.txt");
      ADD_FAILURE() << text;
    } catch (const ConfigError& e) {
      EXPECT_EQ(std::string(e.what()).find("hunter"), std::string::npos) << e.what();
    }
  }
}

TEST(CredentialsTest, ReportsAMissingFile) {
  TempDir dir;
  const std::string path = (dir.path() / "nope.txt").string();
  EXPECT_TRUE(throws_at([&] { (void)load_credentials(path); }, path, 0, "", "cannot open the credentials file"));
  EXPECT_TRUE(throws_at([&] { (void)load_credentials(dir.path().string()); }, dir.path().string(), 0, "",
                        "is a directory"));
}

TEST(CredentialsTest, EveryUserNeedsACredentialAndViceVersa) {
  const ServiceConfig cfg = load(with("users:\n  - {username: U1, firm: FRMA}\n  - {username: U2, firm: FRMB}\n"
                                      "credentials_file: c.txt\n"));
  EXPECT_NO_THROW(check_credentials(cfg, load_credentials_from_string("U1:a\nU2:b\n", "c.txt")));
  EXPECT_TRUE(throws_at([&] { check_credentials(cfg, load_credentials_from_string("U1:a\n", "c.txt")); },
                        "test.yaml", 8, "users[1].username", "user \"U2\" has no password in c.txt"));
  EXPECT_TRUE(throws_at([&] { check_credentials(cfg, load_credentials_from_string("U1:a\nU2:b\nU3:c\n", "c.txt")); },
                        "c.txt", 3, "username", "user \"U3\" is not in the users of test.yaml"));
}

TEST(CredentialsTest, LoadServiceConfigReadsTheCredentialsFileNextToTheConfig) {
  TempDir dir;
  const std::string yaml = dir.write("svc.yaml", with("users:\n  - {username: U1, firm: FRMA}\n"
                                                     "credentials_file: creds.txt\n"));
  dir.write("creds.txt", "U1:pw1\n");
  const ServiceConfig cfg = load_service_config(yaml);
  EXPECT_EQ(cfg.credentials_file, (dir.path() / "creds.txt").string());
  ASSERT_EQ(cfg.credentials.entries.size(), 1u);
  EXPECT_EQ(cfg.credentials.entries[0].password, "pw1");

  dir.write("creds.txt", "U1:pw1\nU9:pw9\n");
  EXPECT_TRUE(throws_at([&] { (void)load_service_config(yaml); }, (dir.path() / "creds.txt").string(), 2,
                        "username", "user \"U9\" is not in the users of " + yaml));
  std::filesystem::remove(dir.path() / "creds.txt");
  EXPECT_TRUE(throws_at([&] { (void)load_service_config(yaml); }, (dir.path() / "creds.txt").string(), 0, "",
                        "cannot open"));
}

// --- single values ---------------------------------------------------------------------------------

TEST(ParseTest, Bools) {
  EXPECT_EQ(parse_bool("true").value, true);
  EXPECT_EQ(parse_bool("1").value, true);
  EXPECT_EQ(parse_bool("false").value, false);
  EXPECT_EQ(parse_bool("0").value, false);
  for (const char* bad : {"", "TRUE", "yes", "on", "2", " true"}) {
    const Parsed<bool> p = parse_bool(bad);
    EXPECT_FALSE(p) << bad;
    EXPECT_NE(p.error.find("must be true, false, 1 or 0"), std::string::npos);
  }
}

TEST(ParseTest, ListenAddressesRoundTrip) {
  for (const char* text : {"127.0.0.1:9001", "0.0.0.0:0", "[::1]:80", "[::]:65535", "my-host.example:8080"}) {
    const Parsed<ListenAddress> p = parse_listen(text);
    ASSERT_TRUE(p) << text << ": " << p.error;
    EXPECT_EQ(p.value->to_string(), text);
  }
  EXPECT_EQ(parse_listen("[::1]:80").value->host, "::1");
  EXPECT_FALSE(parse_listen("127.0.0.1:0", false));
  for (const char* bad : {"", "9001", "127.0.0.1:", "127.0.0.1:x", "127.0.0.1:-1", "127.0.0.1:123456",
                          "1.2.3:80", "[::1]80", "[zz]:80", "-host:80", "host-:80", "a..b:80", " 127.0.0.1:80"}) {
    const Parsed<ListenAddress> p = parse_listen(bad);
    EXPECT_FALSE(p) << bad;
    EXPECT_FALSE(p.error.empty()) << bad;
  }
}

TEST(ParseTest, CpusAndIdleStrategies) {
  EXPECT_EQ(parse_cpu("0").value, 0);
  EXPECT_EQ(parse_cpu("1023").value, 1023);
  EXPECT_EQ(parse_cpu("-1").value, -1);
  for (const char* bad : {"", "1024", "-2", "x", "1.5", "99999"}) EXPECT_FALSE(parse_cpu(bad)) << bad;
  EXPECT_EQ(parse_idle("busy-spin").value, agent::IdleStrategyKind::BusySpin);
  EXPECT_EQ(parse_idle("yield").value, agent::IdleStrategyKind::Yield);
  EXPECT_EQ(parse_idle("backoff").value, agent::IdleStrategyKind::BackOff);
  EXPECT_FALSE(parse_idle("busy_spin"));
}

// --- overrides -------------------------------------------------------------------------------------

TEST(OverridesTest, EveryEnvironmentVariableOverridesTheFile) {
  ServiceConfig cfg = load(kBase);
  apply_overrides(cfg, Environment{{"PEREGRINE_OUCH_LISTEN", "0.0.0.0:1"},
                                   {"PEREGRINE_ITCH_LISTEN", "0.0.0.0:2"},
                                   {"PEREGRINE_HTTP_LISTEN", "0.0.0.0:3"},
                                   {"PEREGRINE_CORE_CPU", "1"},
                                   {"PEREGRINE_IDLE_STRATEGY", "yield"},
                                   {"LOW_LATENCY_MODE", "true"},
                                   {"CPU_AFFINITY", "1"},
                                   {"NETWORK_OPTIMIZATION", "true"},
                                   {"CACHE_ENABLED", "1"},
                                   {"SOMETHING_ELSE", "ignored"}});
  EXPECT_EQ(cfg.gateway.ouch_listen, (ListenAddress{"0.0.0.0", 1}));
  EXPECT_EQ(cfg.gateway.itch_listen, (ListenAddress{"0.0.0.0", 2}));
  EXPECT_EQ(cfg.gateway.http_listen, (ListenAddress{"0.0.0.0", 3}));
  EXPECT_EQ(cfg.core.cpu, 1);
  EXPECT_EQ(cfg.core.idle_strategy, agent::IdleStrategyKind::Yield);
  EXPECT_TRUE(cfg.tuning.low_latency_mode);
  EXPECT_TRUE(cfg.tuning.cpu_affinity);
  EXPECT_TRUE(cfg.tuning.network_optimization);
  EXPECT_TRUE(cfg.tuning.cache_enabled);

  // And back off again: false/0 beat a file's true.
  ServiceConfig on = load(with("tuning: {low_latency_mode: true, cpu_affinity: true, network_optimization: true, "
                               "cache_enabled: true}\n"));
  apply_overrides(on, Environment{{"LOW_LATENCY_MODE", "false"},
                                  {"CPU_AFFINITY", "0"},
                                  {"NETWORK_OPTIMIZATION", "false"},
                                  {"CACHE_ENABLED", "0"}});
  EXPECT_FALSE(on.tuning.low_latency_mode);
  EXPECT_FALSE(on.tuning.cpu_affinity);
  EXPECT_FALSE(on.tuning.network_optimization);
  EXPECT_FALSE(on.tuning.cache_enabled);
}

TEST(OverridesTest, ABadEnvironmentValueNamesTheVariable) {
  const std::array<std::pair<const char*, const char*>, 9> cases{{
      {"LOW_LATENCY_MODE", "yes"},
      {"CPU_AFFINITY", "TRUE"},
      {"NETWORK_OPTIMIZATION", ""},
      {"CACHE_ENABLED", "2"},
      {"PEREGRINE_OUCH_LISTEN", "9001"},
      {"PEREGRINE_ITCH_LISTEN", "x:y"},
      {"PEREGRINE_HTTP_LISTEN", "[::1]"},
      {"PEREGRINE_CORE_CPU", "first"},
      {"PEREGRINE_IDLE_STRATEGY", "spin"},
  }};
  for (const auto& [name, value] : cases) {
    ServiceConfig cfg = load(kBase);
    EXPECT_TRUE(throws_at([&] { apply_overrides(cfg, Environment{{name, value}}); }, "environment", 0, name,
                          std::string("got \"") + value + "\""));
  }
  ServiceConfig cfg = load(kBase);
  try {
    apply_overrides(cfg, Environment{{"LOW_LATENCY_MODE", "yes"}});
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "environment: LOW_LATENCY_MODE: must be true, false, 1 or 0, got \"yes\"");
  }
}

TEST(OverridesTest, FlagsBeatTheEnvironmentWhichBeatsTheFile) {
  ServiceConfig cfg = load(with("gateway: {ouch_listen: \"127.0.0.1:7001\", http_listen: \"127.0.0.1:7003\"}\n"
                                "tuning: {low_latency_mode: false, cache_enabled: false}\n"));
  FlagOverrides flags;
  flags.ouch_listen = ListenAddress{"127.0.0.1", 5001};
  flags.low_latency_mode = false;
  apply_overrides(cfg,
                  Environment{{"PEREGRINE_OUCH_LISTEN", "127.0.0.1:6001"}, {"LOW_LATENCY_MODE", "true"},
                              {"CACHE_ENABLED", "true"}},
                  flags);
  EXPECT_EQ(cfg.gateway.ouch_listen.port, 5001);   // flag > env > file
  EXPECT_EQ(cfg.gateway.http_listen.port, 7003);   // file > default
  EXPECT_EQ(cfg.gateway.itch_listen.port, 9002);   // default
  EXPECT_FALSE(cfg.tuning.low_latency_mode);       // flag > env
  EXPECT_TRUE(cfg.tuning.cache_enabled);           // env > file
}

TEST(OverridesTest, EveryFlagApplies) {
  ServiceConfig cfg = load(kBase);
  FlagOverrides f;
  f.ouch_listen = ListenAddress{"::1", 1};
  f.itch_listen = ListenAddress{"::1", 2};
  f.http_listen = ListenAddress{"::1", 3};
  f.core_cpu = -1;
  f.idle_strategy = agent::IdleStrategyKind::BusySpin;
  f.low_latency_mode = true;
  f.cpu_affinity = true;
  f.network_optimization = true;
  f.cache_enabled = true;
  apply_overrides(cfg, {}, f);
  EXPECT_EQ(cfg.gateway.ouch_listen.port, 1);
  EXPECT_EQ(cfg.gateway.itch_listen.port, 2);
  EXPECT_EQ(cfg.gateway.http_listen.port, 3);
  EXPECT_EQ(cfg.core.cpu, -1);
  EXPECT_EQ(cfg.core.idle_strategy, agent::IdleStrategyKind::BusySpin);
  EXPECT_TRUE(cfg.tuning.low_latency_mode && cfg.tuning.cpu_affinity && cfg.tuning.network_optimization &&
              cfg.tuning.cache_enabled);
}

TEST(OverridesTest, APortClashCreatedByAnOverrideIsRefused) {
  ServiceConfig cfg = load(kBase);
  EXPECT_TRUE(throws_at([&] { apply_overrides(cfg, Environment{{"PEREGRINE_HTTP_LISTEN", "0.0.0.0:9002"}}); },
                        "test.yaml", 0, "gateway.http_listen", "after environment and flag overrides"));
}

TEST(OverridesTest, ReadEnvironmentReadsOnlyPeregrinesVariables) {
  ::setenv("CACHE_ENABLED", "true", 1);
  ::setenv("PEREGRINE_NOT_A_SETTING", "x", 1);
  const Environment env = read_environment();
  ::unsetenv("CACHE_ENABLED");
  ::unsetenv("PEREGRINE_NOT_A_SETTING");
  ASSERT_TRUE(env.contains("CACHE_ENABLED"));
  EXPECT_EQ(env.at("CACHE_ENABLED"), "true");
  EXPECT_FALSE(env.contains("PEREGRINE_NOT_A_SETTING"));
}

// --- resolve() -----------------------------------------------------------------------------------

TEST(ResolveTest, TruthTableOfTheFourSwitches) {
  const std::vector<int> cpus{0, 1, 2, 3};
  for (unsigned bits = 0; bits < 16; ++bits) {
    ServiceConfig cfg;
    cfg.tuning.low_latency_mode = (bits & 1u) != 0;
    cfg.tuning.cpu_affinity = (bits & 2u) != 0;
    cfg.tuning.network_optimization = (bits & 4u) != 0;
    cfg.tuning.cache_enabled = (bits & 8u) != 0;
    const TuningConfig& t = cfg.tuning;
    const EffectiveSettings s = resolve(cfg, cpus);
    SCOPED_TRACE("bits " + std::to_string(bits));
    EXPECT_EQ(s.core_idle, t.low_latency_mode ? agent::IdleStrategyKind::BusySpin : agent::IdleStrategyKind::SpinThenPark);
    EXPECT_EQ(s.io_idle, t.low_latency_mode && t.cpu_affinity ? agent::IdleStrategyKind::BusySpin
                                                              : agent::IdleStrategyKind::SpinThenPark);
    EXPECT_EQ(s.journal_idle, agent::IdleStrategyKind::SpinThenPark);
    EXPECT_EQ(s.core_cpu, t.cpu_affinity ? 3 : -1);
    EXPECT_EQ(s.gateway_cpu, t.cpu_affinity ? 2 : -1);
    EXPECT_EQ(s.tcp_nodelay, t.low_latency_mode || t.network_optimization);
    EXPECT_EQ(s.socket_send_buffer, t.network_optimization ? kOptimizedSocketBuffer : 0);
    EXPECT_EQ(s.socket_recv_buffer, t.network_optimization ? kOptimizedSocketBuffer : 0);
    EXPECT_EQ(s.busy_poll_us, t.network_optimization ? kBusyPollMicros : 0);
    EXPECT_EQ(s.mlock_all, t.cache_enabled);
    EXPECT_EQ(s.pretouch, t.cache_enabled);
    EXPECT_FALSE(s.notes.empty());
  }
}

TEST(ResolveTest, AnExplicitIdleStrategyWinsOverLowLatencyMode) {
  ServiceConfig cfg;
  cfg.tuning.low_latency_mode = true;
  cfg.core.idle_strategy = agent::IdleStrategyKind::BackOff;
  const EffectiveSettings s = resolve(cfg, {0, 1});
  EXPECT_EQ(s.core_idle, agent::IdleStrategyKind::BackOff);
  EXPECT_TRUE(s.tcp_nodelay);  // low_latency_mode still turns TCP_NODELAY on
  cfg.tuning.low_latency_mode = false;
  cfg.core.idle_strategy = agent::IdleStrategyKind::BusySpin;
  EXPECT_EQ(resolve(cfg, {0, 1}).core_idle, agent::IdleStrategyKind::BusySpin);
}

TEST(ResolveTest, AnExplicitCoreCpuWinsOverCpuAffinity) {
  ServiceConfig cfg;
  cfg.core.cpu = 1;
  EffectiveSettings s = resolve(cfg, {0, 1, 2, 3});
  EXPECT_EQ(s.core_cpu, 1);      // pinned although cpu_affinity is false
  EXPECT_EQ(s.gateway_cpu, -1);  // the gateway is pinned only under cpu_affinity
  cfg.tuning.cpu_affinity = true;
  s = resolve(cfg, {0, 1, 2, 3});
  EXPECT_EQ(s.core_cpu, 1);
  EXPECT_EQ(s.gateway_cpu, 3);
  cfg.core.cpu = 3;
  EXPECT_EQ(resolve(cfg, {3, 0, 1, 2}).gateway_cpu, 2);  // unsorted input is fine
  cfg.core.cpu = -1;
  s = resolve(cfg, {0, 1, 2, 3});
  EXPECT_EQ(s.core_cpu, -1);
  EXPECT_EQ(s.gateway_cpu, 3);
}

TEST(ResolveTest, RefusesACpuTheProcessMayNotUse) {
  ServiceConfig cfg;
  cfg.source = "svc.yaml";
  cfg.core.cpu = 5;
  EXPECT_TRUE(throws_at([&] { (void)resolve(cfg, {0, 1}); }, "svc.yaml", 0, "core.cpu",
                        "CPU 5 is not one this process may run on (allowed: 0,1)"));
}

TEST(ResolveTest, OneAllowedCpuLeavesTheGatewayUnpinnedAndWarnsAboutBusySpin) {
  ServiceConfig cfg;
  cfg.tuning.cpu_affinity = true;
  cfg.tuning.low_latency_mode = true;
  const EffectiveSettings s = resolve(cfg, {4});
  EXPECT_EQ(s.core_cpu, 4);
  EXPECT_EQ(s.gateway_cpu, -1);
  bool warned = false;
  for (const std::string& n : s.notes) warned = warned || n.rfind("warning:", 0) == 0;
  EXPECT_TRUE(warned);
  EXPECT_EQ(resolve(cfg, {}).core_cpu, -1);
}

TEST(ResolveTest, IsPure) {
  ServiceConfig cfg;
  cfg.tuning.cpu_affinity = true;
  cfg.tuning.network_optimization = true;
  EXPECT_EQ(resolve(cfg, {0, 1}), resolve(cfg, {1, 0}));
}

TEST(ResolveTest, AllowedCpusListsAtLeastTheCurrentOne) {
  const std::vector<int> cpus = allowed_cpus();
  ASSERT_FALSE(cpus.empty());
  EXPECT_TRUE(std::is_sorted(cpus.begin(), cpus.end()));
}

}  // namespace service_test
}  // namespace peregrine::config

// --- market: the trading day ---------------------------------------------------------------

namespace peregrine::config {
namespace service_test {  // named, not anonymous: the sanitizer presets' unity builds compile it beside other tests

constexpr std::uint32_t hm(std::uint32_t h, std::uint32_t m) { return h * 3600 + m * 60; }

TEST(MarketConfigTest, DefaultsToTheAShareDayInChinaStandardTime) {
  const ServiceConfig cfg = load_service_config_from_string(
      "instruments: [{symbol: \"600519\", board: main, reference_price: \"10\"}]\nfirms: [{name: FRMA}]\n",
      "test.yaml", "/etc/p");
  EXPECT_TRUE(cfg.market.scheduled);
  EXPECT_EQ(cfg.market.schedule, a_share_schedule());
  EXPECT_EQ(cfg.market.utc_offset_seconds, 8 * 3600);
  EXPECT_TRUE(cfg.market.resume_via_call);
  EXPECT_EQ(cfg.market.resume_call_seconds, 180u);
  EXPECT_FALSE(cfg.engine.halt_accepts_orders);
  EXPECT_TRUE(cfg.engine.halt_accepts_cancels);
}

TEST(MarketConfigTest, TheAShareDayPhaseByPhase) {
  const std::vector<ScheduleStep> day = a_share_schedule();
  EXPECT_EQ(phase_at(day, 0), TradingStatus::Closed);
  EXPECT_EQ(phase_at(day, hm(9, 14) + 59), TradingStatus::Closed);
  EXPECT_EQ(phase_at(day, hm(9, 15)), TradingStatus::OpeningCall);
  EXPECT_EQ(phase_at(day, hm(9, 19) + 59), TradingStatus::OpeningCall);
  EXPECT_EQ(phase_at(day, hm(9, 20)), TradingStatus::OpeningCallFrozen);
  EXPECT_EQ(phase_at(day, hm(9, 25)), TradingStatus::Break);
  EXPECT_EQ(phase_at(day, hm(9, 30)), TradingStatus::Trading);
  EXPECT_EQ(phase_at(day, hm(11, 30)), TradingStatus::Break);
  EXPECT_EQ(phase_at(day, hm(13, 0)), TradingStatus::Trading);
  EXPECT_EQ(phase_at(day, hm(14, 57)), TradingStatus::ClosingCall);
  EXPECT_EQ(phase_at(day, hm(15, 0)), TradingStatus::Closed);
  EXPECT_EQ(phase_at(day, 86399), TradingStatus::Closed);
  EXPECT_EQ(seconds_to_next_step(day, hm(9, 0)), 15u * 60);
  EXPECT_EQ(seconds_to_next_step(day, hm(14, 59)), 60u);
  EXPECT_EQ(seconds_to_next_step(day, hm(15, 0)), 86400u - hm(15, 0) + hm(9, 15));  // tomorrow's open
  EXPECT_EQ(seconds_to_next_step({}, 5), 0u);
}

TEST(MarketConfigTest, ReadsEveryKey) {
  const ServiceConfig cfg = load_service_config_from_string(
      "instruments: [{symbol: \"600519\", board: main, reference_price: \"10\"}]\nfirms: [{name: FRMA}]\n"
      "market:\n"
      "  schedule:\n"
      "    - {at: \"09:00\", phase: opening_call}\n"
      "    - {at: \"09:30:30\", phase: trading}\n"
      "  utc_offset: \"-05:30\"\n"
      "  halt_accepts_orders: true\n"
      "  halt_accepts_cancels: false\n"
      "  resume_via_call: false\n"
      "  resume_call_seconds: 60\n",
      "test.yaml", "/etc/p");
  EXPECT_TRUE(cfg.market.scheduled);
  EXPECT_EQ(cfg.market.schedule, (std::vector<ScheduleStep>{{hm(9, 0), TradingStatus::OpeningCall},
                                                             {hm(9, 30) + 30, TradingStatus::Trading}}));
  EXPECT_EQ(cfg.market.utc_offset_seconds, -(5 * 3600 + 30 * 60));
  EXPECT_TRUE(cfg.engine.halt_accepts_orders);
  EXPECT_FALSE(cfg.engine.halt_accepts_cancels);
  EXPECT_FALSE(cfg.market.resume_via_call);
  EXPECT_EQ(cfg.market.resume_call_seconds, 60u);
  const ServiceConfig cont = load_service_config_from_string(
      "instruments: [{symbol: \"600519\", board: main, reference_price: \"10\"}]\nfirms: [{name: FRMA}]\n"
      "market: {schedule: continuous}\n",
      "test.yaml", "/etc/p");
  EXPECT_FALSE(cont.market.scheduled);
}

TEST(MarketConfigTest, RefusesBadSchedulesWithTheirLine) {
  const std::string head =
      "instruments: [{symbol: \"600519\", board: main, reference_price: \"10\"}]\nfirms: [{name: FRMA}]\nmarket:\n";
  EXPECT_TRUE(refused(head + "  schedule: weekdays\n", 4, "market.schedule", "must be a_share, continuous"));
  EXPECT_TRUE(refused(head + "  schedule:\n    - {at: \"9:15\", phase: opening_call}\n", 5, "market.schedule[0].at",
                      "must be a time of day"));
  EXPECT_TRUE(refused(head + "  schedule:\n    - {at: \"24:00\", phase: opening_call}\n", 5, "market.schedule[0].at",
                      "must be a time of day"));
  EXPECT_TRUE(refused(head + "  schedule:\n    - {at: \"09:15\", phase: halted}\n", 5, "market.schedule[0].phase",
                      "must be a phase of the market's day"));
  EXPECT_TRUE(refused(head + "  schedule:\n    - {at: \"09:15\", phase: lunch}\n", 5, "market.schedule[0].phase",
                      "must be one of trading, halted"));
  EXPECT_TRUE(refused(head + "  schedule:\n    - {at: \"09:30\", phase: trading}\n    - {at: \"09:15\", phase: break}\n",
                      6, "market.schedule[1].at", "must be later than the step before it"));
  EXPECT_TRUE(refused(head + "  utc_offset: \"8\"\n", 4, "market.utc_offset", "must be an offset"));
  EXPECT_TRUE(refused(head + "  resume_call_seconds: 0\n", 4, "market.resume_call_seconds", "must be positive"));
  EXPECT_TRUE(refused(head + "  surprise: 1\n", 4, "market.surprise", ""));
}


TEST(JournalConfigTest, OffUnlessADirectoryIsGivenWithSafeDefaults) {
  const ServiceConfig cfg = load(kBase);
  EXPECT_TRUE(cfg.journal.dir.empty());
  EXPECT_EQ(cfg.journal.durability, JournalDurability::Fsync);
  EXPECT_EQ(cfg.journal.segment_bytes, std::uint64_t{256} << 20);
  EXPECT_EQ(cfg.journal.min_free_bytes, std::uint64_t{1} << 30);
  EXPECT_EQ(cfg.journal.keep_snapshots, 2u);
  EXPECT_GT(cfg.journal.snapshot_every_commands, 0u);
}

TEST(JournalConfigTest, ReadsEveryKeyAndResolvesTheDirectory) {
  const ServiceConfig cfg = load(with("journal:\n"
                                      "  dir: state/journal\n"
                                      "  durability: fdatasync\n"
                                      "  segment_mb: 64\n"
                                      "  snapshot_every_commands: 1000\n"
                                      "  snapshot_every_seconds: 0\n"
                                      "  keep_snapshots: 3\n"
                                      "  retention_hours: 0\n"
                                      "  min_free_mb: 10\n"));
  EXPECT_EQ(cfg.journal.dir, "/etc/p/state/journal");
  EXPECT_EQ(cfg.journal.durability, JournalDurability::Fdatasync);
  EXPECT_EQ(cfg.journal.segment_bytes, std::uint64_t{64} << 20);
  EXPECT_EQ(cfg.journal.snapshot_every_commands, 1000u);
  EXPECT_EQ(cfg.journal.snapshot_every_seconds, 0u);
  EXPECT_EQ(cfg.journal.keep_snapshots, 3u);
  EXPECT_EQ(cfg.journal.retention_hours, 0u);
  EXPECT_EQ(cfg.journal.min_free_bytes, std::uint64_t{10} << 20);
}

TEST(JournalConfigTest, RefusesBadValuesNamingTheField) {
  // kBase is five lines: journal: on 6, dir on 7, the bad key on 8.
  EXPECT_TRUE(refused(with("journal:\n  dir: /j\n  durability: sometimes\n"), 8, "journal.durability", "sometimes"));
  EXPECT_TRUE(refused(with("journal:\n  dir: /j\n  segment_mb: 0\n"), 8, "journal.segment_mb", "must be positive"));
  EXPECT_TRUE(refused(with("journal:\n  dir: /j\n  keep_snapshots: 0\n"), 8, "journal.keep_snapshots", "must be positive"));
  EXPECT_TRUE(refused(with("journal:\n  dir: /j\n  fsync: true\n"), 8, "journal.fsync", ""));
}

TEST(JournalConfigTest, FlagsOverrideTheDirectoryAndThePolicy) {
  ServiceConfig cfg = load(with("journal:\n  dir: /j\n"));
  FlagOverrides flags;
  flags.journal_dir = "/elsewhere";
  flags.journal_durability = JournalDurability::None;
  apply_overrides(cfg, {}, flags);
  EXPECT_EQ(cfg.journal.dir, "/elsewhere");
  EXPECT_EQ(cfg.journal.durability, JournalDurability::None);
  EXPECT_EQ(parse_durability("fdatasync").value, JournalDurability::Fdatasync);
  EXPECT_FALSE(parse_durability("fsync ").value.has_value());
}

}  // namespace service_test
}  // namespace peregrine::config
