// OpsServer end to end: a real server on 127.0.0.1 with an ephemeral port, a recording
// AdminBackend, and a Beast client.

#include "peregrine/ops/http_server.hpp"

#include <gtest/gtest.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "peregrine/ops/logging.hpp"
#include "peregrine/ops/metrics.hpp"
#include "support/http_client.hpp"

namespace peregrine::ops {
namespace {

using testing::Client;
using testing::fetch;
using testing::Reply;
using Verb = boost::beast::http::verb;

constexpr const char* kToken = "s3cr3t-T0ken_for.tests~+/=";

/// Records every call; answers with `next_status`.
class RecordingBackend final : public AdminBackend {
 public:
  struct Call {
    Call(std::string a, std::string s = {}, std::string f = {}, bool c = false, std::size_t l = 0)
        : action(std::move(a)), symbol(std::move(s)), firm(std::move(f)), cancel_open(c), levels(l) {}
    std::string action;
    std::string symbol;
    std::string firm;
    bool cancel_open;
    std::size_t levels;
    bool operator==(const Call&) const = default;
  };

  AdminResult depth(const Symbol& symbol, std::size_t levels, DepthSnapshot& out) override {
    record({"depth", std::string(symbol.view()), "", false, levels});
    std::lock_guard lock(mutex_);
    out = depth_reply;
    return {depth_status, ""};
  }
  AdminResult halt(const Symbol& symbol) override { return record({"halt", std::string(symbol.view())}); }
  AdminResult resume(const Symbol& symbol) override { return record({"resume", std::string(symbol.view())}); }
  AdminResult set_phase(const Symbol& symbol, TradingStatus phase) override {
    std::string action = "phase:";
    action += to_string(phase);
    return record({action, std::string(symbol.view())});
  }
  AdminResult kill(const FirmName& firm, bool cancel_open) override {
    return record({"kill", "", std::string(firm.view()), cancel_open});
  }
  AdminResult release(const FirmName& firm) override { return record({"release", "", std::string(firm.view())}); }
  AdminResult mass_cancel(const FirmName& firm, const std::optional<Symbol>& symbol) override {
    return record({"mass_cancel", symbol ? std::string(symbol->view()) : "", std::string(firm.view())});
  }
  AdminResult snapshot() override { return record({"snapshot"}); }

  std::vector<Call> calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
  }

  void set_status(AdminStatus s, std::string detail = {}) {
    std::lock_guard lock(mutex_);
    next_status_ = s;
    next_detail_ = std::move(detail);
  }
  void throw_next() {
    std::lock_guard lock(mutex_);
    throw_next_ = true;
  }

  DepthSnapshot depth_reply;
  AdminStatus depth_status = AdminStatus::Done;

 private:
  AdminResult record(Call c) {
    std::lock_guard lock(mutex_);
    calls_.push_back(std::move(c));
    if (throw_next_) {
      throw_next_ = false;
      throw std::runtime_error("backend exploded");
    }
    return {next_status_, next_detail_};
  }

  mutable std::mutex mutex_;
  std::vector<Call> calls_;
  AdminStatus next_status_ = AdminStatus::Accepted;
  std::string next_detail_;
  bool throw_next_ = false;
};

/// A file under the temp directory, removed on destruction.
class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    static std::atomic<int> n{0};
    path_ = std::filesystem::temp_directory_path() /
            ("peregrine-ops-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    std::ofstream(path_, std::ios::binary) << content;
  }
  ~TempFile() {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

/// The value of the sample line `series` (name plus labels, exactly as serialized), or -1.
double sample(const std::string& metrics_text, const std::string& series) {
  std::size_t pos = 0;
  while (pos < metrics_text.size()) {
    const std::size_t end = metrics_text.find('\n', pos);
    const std::string line = metrics_text.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 && line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  return -1;
}

class OpsServerTest : public ::testing::Test {
 protected:
  void SetUp() override { start_server(OpsServerConfig{}); }

  void start_server(OpsServerConfig cfg) {
    server_.reset();
    log_sink_ = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(1000);
    // Sinks live until exit: spdlog's worker drops its last reference inside libspdlog.so, which
    // TSan does not see, so freeing a sink here would be reported as a (false) race.
    static std::vector<std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt>> keep_alive;
    keep_alive.push_back(log_sink_);
    LoggerOptions lo;
    lo.name = "ops-test";
    lo.sinks = {log_sink_};
    lo.level = "debug";
    logger_ = make_logger(lo);
    cfg.address = "127.0.0.1";
    cfg.port = 0;
    if (with_token_file_) cfg.admin_token_file = token_file_.path();
    server_ = std::make_unique<OpsServer>(cfg, backend_, logger_);
    server_->start();
    ASSERT_NE(server_->port(), 0);
  }

  std::optional<Reply> get(const std::string& target) { return fetch(server_->port(), Verb::get, target); }
  bool with_token_file_ = true;

  std::optional<Reply> post(const std::string& target, const std::string& body, const char* token = kToken) {
    std::map<std::string, std::string> headers;
    if (token != nullptr) headers["Authorization"] = std::string("Bearer ") + token;
    return fetch(server_->port(), Verb::post, target, body, headers);
  }

  /// Every log line written so far: logs a marker and waits for it, since the logger is async.
  std::vector<std::string> log_lines() {
    static std::atomic<int> n{0};
    const std::string marker = "marker-" + std::to_string(n++);
    logger_->info("{}", marker);
    for (int i = 0; i < 500; ++i) {
      auto lines = log_sink_->last_formatted();
      if (!lines.empty() && lines.back().find(marker) != std::string::npos) {
        lines.pop_back();
        return lines;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ADD_FAILURE() << "log marker never appeared";
    return {};
  }

  std::size_t log_lines_containing(const std::string& needle) {
    const auto lines = log_lines();
    return static_cast<std::size_t>(
        std::count_if(lines.begin(), lines.end(), [&](const std::string& l) { return l.find(needle) != std::string::npos; }));
  }

  std::string scrape() {
    const auto r = get("/metrics");
    EXPECT_TRUE(r.has_value());
    if (!r) return {};
    EXPECT_EQ(r->status, 200U);
    return r->body;
  }

  TempFile token_file_{std::string(kToken) + "\n"};
  RecordingBackend backend_;
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> log_sink_;
  std::shared_ptr<spdlog::logger> logger_;
  std::unique_ptr<OpsServer> server_;
};

// --- probes ---

TEST_F(OpsServerTest, HealthzAnswersOkWhileRunning) {
  const auto r = get("/healthz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200U);
  EXPECT_EQ(r->body, "ok\n");
  EXPECT_EQ(r->header("content-type"), "text/plain; charset=utf-8");
}

TEST_F(OpsServerTest, ReadyzAnswers503UntilReadyThen200AndFlipsBack) {
  auto r = get("/readyz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503U);
  EXPECT_EQ(r->body, "not ready\n");
  EXPECT_EQ(sample(scrape(), "peregrine_ready"), 0.0);

  server_->set_ready(true);
  r = get("/readyz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200U);
  EXPECT_EQ(r->body, "ready\n");
  EXPECT_EQ(sample(scrape(), "peregrine_ready"), 1.0);

  server_->set_ready(false);
  r = get("/readyz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503U);
}

// --- /metrics ---

TEST_F(OpsServerTest, MetricsServesCoreCountersInPrometheusTextFormat) {
  auto counters = std::make_unique<metrics::CoreCounters>();
  auto collector = std::make_shared<CoreCountersCollector>(*counters);
  server_->add_collectable(collector);
  auto gauges = std::make_shared<CallbackMetrics>();
  gauges->add_gauge("peregrine_ring_occupancy", "Commands waiting in a ring.", {{"ring", "commands"}}, [] { return 7.0; });
  server_->add_collectable(gauges);

  Event e = Event::make(EventType::Accepted, Timestamp{1});
  counters->on_event(e);
  counters->on_event(e);
  Event rej = Event::make(EventType::Rejected, Timestamp{2});
  rej.code = static_cast<std::uint8_t>(RejectCode::Halted);
  counters->on_event(rej);
  counters->set_live_orders(42);

  const auto r = get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200U);
  EXPECT_EQ(r->header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const std::string& body = r->body;
  EXPECT_NE(body.find("# TYPE peregrine_core_accepted_total counter\n"), std::string::npos) << body;
  EXPECT_NE(body.find("# HELP peregrine_core_accepted_total Orders accepted.\n"), std::string::npos);
  EXPECT_EQ(sample(body, "peregrine_core_accepted_total"), 2.0);
  EXPECT_EQ(sample(body, "peregrine_core_rejected_total{reason=\"halted\"}"), 1.0);
  EXPECT_EQ(sample(body, "peregrine_core_rejected_total{reason=\"kill_switch\"}"), 0.0);
  EXPECT_EQ(sample(body, "peregrine_core_live_orders"), 42.0);
  EXPECT_NE(body.find("# TYPE peregrine_core_live_orders gauge\n"), std::string::npos);
  EXPECT_EQ(sample(body, "peregrine_ring_occupancy{ring=\"commands\"}"), 7.0);
  EXPECT_EQ(sample(body, "peregrine_admin_unauthorized_total{reason=\"missing\"}"), 0.0);

  // A collectable that is gone is dropped, not dereferenced.
  collector.reset();
  counters.reset();
  const std::string after = scrape();
  EXPECT_EQ(after.find("peregrine_core_accepted_total"), std::string::npos);
  EXPECT_EQ(sample(after, "peregrine_ring_occupancy{ring=\"commands\"}"), 7.0);
}

TEST_F(OpsServerTest, MetricsBodyPassesPromtoolCheckMetrics) {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "promtool not found on PATH (Debian package 'prometheus'); metrics not linted";
  }
  auto counters = std::make_unique<metrics::CoreCounters>();
  auto collector = std::make_shared<CoreCountersCollector>(*counters);
  server_->add_collectable(collector);
  auto gauges = std::make_shared<CallbackMetrics>();
  gauges->add_gauge("peregrine_ring_occupancy", "Commands waiting in a ring.", {{"ring", "commands"}}, [] { return 3.0; });
  gauges->add_counter("peregrine_gateway_ring_full_total", "Times a gateway found the command ring full.", {},
                      [] { return 0.0; });
  server_->add_collectable(gauges);
  counters->on_command(make_cancel(Timestamp{1}, OwnerId{1}, Token::from("T1")));
  // Populate the HTTP families too: a 401, a 404, a 200.
  ASSERT_TRUE(post("/admin/halt", R"({"symbol":"600519"})", nullptr));
  ASSERT_TRUE(get("/nope"));
  ASSERT_TRUE(get("/healthz"));

  const std::string body = scrape();
  ASSERT_FALSE(body.empty());
  TempFile metrics_file(body);
  const std::string cmd = "promtool check metrics < '" + metrics_file.path().string() + "' 2>&1";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buf[512];
  while (std::fgets(buf, sizeof buf, pipe) != nullptr) output += buf;
  const int status = ::pclose(pipe);
  EXPECT_EQ(status, 0) << "promtool output:\n" << output;
  EXPECT_EQ(output, "") << "promtool reported problems:\n" << output << "\nbody:\n" << body;
}

// --- admin auth ---

TEST_F(OpsServerTest, AdminWithoutTokenGets401ChangesNothingCountsAndLogsOnce) {
  const auto r = post("/admin/halt", R"({"symbol":"600519"})", nullptr);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401U);
  EXPECT_EQ(r->header("www-authenticate"), "Bearer realm=\"peregrine-admin\"");
  EXPECT_EQ(r->body, "{\"error\":\"missing or invalid bearer token\"}\n");
  EXPECT_TRUE(backend_.calls().empty());
  const std::string m = scrape();
  EXPECT_EQ(sample(m, "peregrine_admin_unauthorized_total{reason=\"missing\"}"), 1.0);
  EXPECT_EQ(sample(m, "peregrine_admin_unauthorized_total{reason=\"invalid\"}"), 0.0);
  EXPECT_EQ(log_lines_containing("refused"), 1U);
}

TEST_F(OpsServerTest, WithoutATokenFileEveryMutatingCallIsRefusedButReadsWork) {
  with_token_file_ = false;
  start_server(OpsServerConfig{});
  for (const char* token : {kToken, ""}) {
    const auto r = post("/admin/halt", R"({"symbol":"600519"})", token);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401U);
  }
  EXPECT_TRUE(backend_.calls().empty());
  const auto health = get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200U);
}

TEST_F(OpsServerTest, WithoutATokenFileThe401SaysNoTokenIsConfiguredAndBlamesNoCredential) {
  with_token_file_ = false;
  start_server(OpsServerConfig{});
  EXPECT_EQ(log_lines_containing("no token file configured (admin.token_file)"), 1U);  // said at start
  for (const char* token : {kToken, static_cast<const char*>(nullptr)}) {
    const auto r = post("/admin/resume", R"({"symbol":"600519"})", token);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401U);
    EXPECT_EQ(r->body,
              "{\"error\":\"no admin token is configured on this server (admin.token_file): admin calls that "
              "change state are disabled\"}\n");
  }
  const std::string m = scrape();
  EXPECT_EQ(sample(m, "peregrine_admin_unauthorized_total{reason=\"no_token_configured\"}"), 2.0);
  EXPECT_EQ(sample(m, "peregrine_admin_unauthorized_total{reason=\"invalid\"}"), 0.0);
  EXPECT_EQ(sample(m, "peregrine_admin_unauthorized_total{reason=\"missing\"}"), 0.0);
  const auto lines = log_lines();
  EXPECT_EQ(std::count_if(lines.begin(), lines.end(),
                          [](const std::string& l) {
                            return l.find("admin POST /admin/resume from 127.0.0.1:") != std::string::npos &&
                                   l.find("refused: no admin token is configured (admin.token_file)") != std::string::npos;
                          }),
            2);
  for (const auto& l : lines) {
    EXPECT_EQ(l.find("wrong bearer token"), std::string::npos) << l;
    EXPECT_EQ(l.find("no bearer token"), std::string::npos) << l;
  }
}

TEST_F(OpsServerTest, AdminWithWrongTokenGets401ChangesNothingCountsAndLogsOnce) {
  for (const char* token : {"wrong", "s3cr3t-T0ken_for.tests~+/", "s3cr3t-T0ken_for.tests~+/==",
                            "S3CR3T-T0KEN_FOR.TESTS~+/="}) {
    const auto r = post("/admin/kill", R"({"firm":"FRMA","cancel_open":true})", token);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401U) << token;
  }
  // Not a bearer credential at all.
  const auto basic = fetch(server_->port(), Verb::post, "/admin/kill", R"({"firm":"FRMA"})",
                           {{"Authorization", "Basic dXNlcjpwYXNz"}});
  ASSERT_TRUE(basic);
  EXPECT_EQ(basic->status, 401U);
  EXPECT_TRUE(backend_.calls().empty());
  const std::string m = scrape();
  EXPECT_EQ(sample(m, "peregrine_admin_unauthorized_total{reason=\"invalid\"}"), 4.0);
  EXPECT_EQ(sample(m, "peregrine_admin_unauthorized_total{reason=\"missing\"}"), 1.0);
  const auto lines = log_lines();
  EXPECT_EQ(std::count_if(lines.begin(), lines.end(),
                          [](const std::string& l) { return l.find("refused") != std::string::npos; }),
            5);
  for (const auto& l : lines) EXPECT_EQ(l.find("s3cr3t"), std::string::npos) << "a token reached the log: " << l;
}

TEST_F(OpsServerTest, AuthIsCheckedBeforeTheBodyIsLookedAt) {
  const auto r = post("/admin/halt", "this is not json", nullptr);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401U);
}

TEST_F(OpsServerTest, ReadRoutesNeedNoToken) {
  const auto r = get("/admin/depth?symbol=600519");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200U);
}

// --- admin actions ---

TEST_F(OpsServerTest, HaltWithTokenCallsBackendWithTheSymbol) {
  const auto r = post("/admin/halt", R"({"symbol": "600519"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 202U);
  EXPECT_EQ(r->header("content-type"), "application/json");
  EXPECT_EQ(r->body, "{\"action\":\"halt\",\"symbol\":\"600519\",\"result\":\"accepted\"}\n");
  EXPECT_EQ(backend_.calls(), (std::vector<RecordingBackend::Call>{{"halt", "600519"}}));
  EXPECT_EQ(log_lines_containing("admin halt symbol=600519 from 127.0.0.1:"), 1U);
}

TEST_F(OpsServerTest, PhaseTakesAnyTradingPhaseByName) {
  const auto r = post("/admin/phase", R"({"symbol": "600519", "phase": "opening_call"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 202U);
  EXPECT_EQ(r->body, "{\"action\":\"phase\",\"symbol\":\"600519\",\"phase\":\"opening_call\",\"result\":\"accepted\"}\n");
  EXPECT_EQ(backend_.calls(), (std::vector<RecordingBackend::Call>{{"phase:opening_call", "600519"}}));
  const auto bad = post("/admin/phase", R"({"symbol": "600519", "phase": "lunch"})");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400U);
  EXPECT_NE(bad->body.find("field 'phase' must be one of trading, halted, suspended, closed"), std::string::npos)
      << bad->body;
  const auto missing = post("/admin/phase", R"({"symbol": "600519"})");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 400U);
  EXPECT_EQ(backend_.calls().size(), 1U);
}

TEST_F(OpsServerTest, EveryMutatingRouteCallsItsBackendFunction) {
  backend_.set_status(AdminStatus::Done);
  struct Case {
    const char* target;
    const char* body;
    RecordingBackend::Call call;
    const char* response;
  };
  const Case cases[] = {
      {"/admin/resume", R"({"symbol":"688981"})", {"resume", "688981"},
       R"({"action":"resume","symbol":"688981","result":"done"})"},
      {"/admin/kill", R"({"firm":"FRMA","cancel_open":true})", {"kill", "", "FRMA", true},
       R"({"action":"kill","firm":"FRMA","cancel_open":true,"result":"done"})"},
      {"/admin/kill", R"({"firm":"FRMB"})", {"kill", "", "FRMB", false},
       R"({"action":"kill","firm":"FRMB","cancel_open":false,"result":"done"})"},
      {"/admin/release", R"({"firm":"FRMA"})", {"release", "", "FRMA"},
       R"({"action":"release","firm":"FRMA","result":"done"})"},
      {"/admin/mass-cancel", R"({"firm":"FRMA"})", {"mass_cancel", "", "FRMA"},
       R"({"action":"mass_cancel","firm":"FRMA","result":"done"})"},
      {"/admin/mass-cancel", R"({"firm":"FRMA","symbol":"600519"})", {"mass_cancel", "600519", "FRMA"},
       R"({"action":"mass_cancel","firm":"FRMA","symbol":"600519","result":"done"})"},
      {"/admin/mass-cancel", R"({"firm":"FRMA","symbol":null})", {"mass_cancel", "", "FRMA"},
       R"({"action":"mass_cancel","firm":"FRMA","result":"done"})"},
  };
  std::vector<RecordingBackend::Call> expected;
  for (const Case& c : cases) {
    const auto r = post(c.target, c.body);
    ASSERT_TRUE(r) << c.target;
    EXPECT_EQ(r->status, 200U) << c.target << " " << c.body;
    EXPECT_EQ(r->body, std::string(c.response) + "\n");
    expected.push_back(c.call);
  }
  EXPECT_EQ(backend_.calls(), expected);
}

TEST_F(OpsServerTest, SnapshotTakesAnEmptyBodyOrAnEmptyObjectAndNothingElse) {
  backend_.set_status(AdminStatus::Accepted);
  auto r = post("/admin/snapshot", "");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 202U);
  EXPECT_EQ(r->body, "{\"action\":\"snapshot\",\"result\":\"accepted\"}\n");
  r = post("/admin/snapshot", "{}");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 202U);
  r = post("/admin/snapshot", R"({"symbol":"600519"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400U);
  EXPECT_EQ(backend_.calls(), (std::vector<RecordingBackend::Call>{{"snapshot"}, {"snapshot"}}));
}

TEST(AdminBackendTest, SnapshotIsUnavailableUnlessTheApplicationSaysOtherwise) {
  struct Minimal final : AdminBackend {
    AdminResult depth(const Symbol&, std::size_t, DepthSnapshot&) override { return {}; }
    AdminResult halt(const Symbol&) override { return {}; }
    AdminResult resume(const Symbol&) override { return {}; }
    AdminResult set_phase(const Symbol&, TradingStatus) override { return {}; }
    AdminResult kill(const FirmName&, bool) override { return {}; }
    AdminResult release(const FirmName&) override { return {}; }
    AdminResult mass_cancel(const FirmName&, const std::optional<Symbol>&) override { return {}; }
  } backend;
  EXPECT_EQ(backend.snapshot().status, AdminStatus::Unavailable);
}

TEST_F(OpsServerTest, BackendStatusesMapToHttpStatuses) {
  backend_.set_status(AdminStatus::UnknownSymbol, "no instrument 600000");
  auto r = post("/admin/halt", R"({"symbol":"600000"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404U);
  EXPECT_EQ(r->body,
            "{\"action\":\"halt\",\"symbol\":\"600000\",\"result\":\"unknown_symbol\",\"detail\":\"no instrument "
            "600000\"}\n");

  backend_.set_status(AdminStatus::UnknownFirm);
  r = post("/admin/release", R"({"firm":"ZZZZ"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404U);

  backend_.set_status(AdminStatus::Busy);
  r = post("/admin/release", R"({"firm":"FRMA"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503U);
  EXPECT_EQ(r->header("retry-after"), "1");

  backend_.set_status(AdminStatus::Unavailable);
  r = post("/admin/release", R"({"firm":"FRMA"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503U);
}

TEST_F(OpsServerTest, ARefusedTransitionIs409WithTheBackendsReasonAndNoAccepted) {
  backend_.set_status(AdminStatus::InvalidTransition,
                      "600519 is trading: only a halted, suspended or resume_call instrument can be resumed");
  const auto r = post("/admin/resume", R"({"symbol":"600519"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 409U);
  EXPECT_EQ(r->header("content-type"), "application/json");
  EXPECT_EQ(r->body,
            "{\"action\":\"resume\",\"symbol\":\"600519\",\"result\":\"invalid_transition\",\"detail\":\"600519 is "
            "trading: only a halted, suspended or resume_call instrument can be resumed\"}\n");
}

// One line per admin action: the action and only the arguments it takes (the phase for /admin/phase;
// cancel_open for /admin/kill only), then the HTTP status, the result and the backend's detail.
TEST_F(OpsServerTest, AuditLinesSayExactlyWhatWasAskedAndWhatCameOfIt) {
  struct Case {
    const char* target;
    const char* body;
    AdminStatus status;
    const char* detail;
    const char* line;  // from "admin " up to the peer, then after the peer's port
    const char* outcome;
    const char* level;
  };
  const Case cases[] = {
      {"/admin/halt", R"({"symbol":"600519"})", AdminStatus::Accepted, "", "admin halt symbol=600519 from ",
       ": 202 accepted", " info "},
      {"/admin/phase", R"({"symbol":"601318","phase":"closing_call"})", AdminStatus::Accepted, "",
       "admin phase symbol=601318 phase=closing_call from ", ": 202 accepted", " info "},
      {"/admin/resume", R"({"symbol":"600519"})", AdminStatus::InvalidTransition, "600519 is trading",
       "admin resume symbol=600519 from ", ": 409 invalid_transition (600519 is trading)", " warning "},
      {"/admin/kill", R"({"firm":"FRMA"})", AdminStatus::Accepted, "", "admin kill firm=FRMA cancel_open=false from ",
       ": 202 accepted", " info "},
      {"/admin/release", R"({"firm":"ZZZZ"})", AdminStatus::UnknownFirm, "unknown firm",
       "admin release firm=ZZZZ from ", ": 404 unknown_firm (unknown firm)", " warning "},
      {"/admin/mass-cancel", R"({"firm":"FRMB"})", AdminStatus::Accepted, "",
       "admin mass_cancel firm=FRMB symbol=(all) from ", ": 202 accepted", " info "},
      {"/admin/mass-cancel", R"({"firm":"FRMB","symbol":"688981"})", AdminStatus::Busy, "admin ring full",
       "admin mass_cancel firm=FRMB symbol=688981 from ", ": 503 busy (admin ring full)", " warning "},
  };
  for (const Case& c : cases) {
    backend_.set_status(c.status, c.detail);
    ASSERT_TRUE(post(c.target, c.body)) << c.target;
  }
  const auto lines = log_lines();
  std::vector<std::string> audit;
  for (const auto& l : lines) {
    if (l.find("] admin ") != std::string::npos) audit.push_back(l);
  }
  ASSERT_EQ(audit.size(), std::size(cases));
  for (std::size_t i = 0; i < audit.size(); ++i) {
    const Case& c = cases[i];
    std::string l = audit[i];
    while (!l.empty() && (l.back() == '\n' || l.back() == '\r')) l.pop_back();  // the sink's end of line
    const std::size_t at = l.find(c.line);
    ASSERT_NE(at, std::string::npos) << "want '" << c.line << "' in: " << l;
    const std::string peer = l.substr(at + std::strlen(c.line), l.find(": ", at) - at - std::strlen(c.line));
    EXPECT_EQ(peer.rfind("127.0.0.1:", 0), 0U) << l;
    EXPECT_TRUE(l.ends_with(c.outcome)) << "want '" << c.outcome << "' at the end of: " << l;
    EXPECT_NE(l.find(c.level), std::string::npos) << l;
    if (std::string_view(c.target) != "/admin/kill") {
      EXPECT_EQ(l.find("cancel_open"), std::string::npos) << l;
    }
  }
}

TEST_F(OpsServerTest, BackendExceptionBecomes500AndTheServerKeepsServing) {
  backend_.throw_next();
  const auto r = post("/admin/halt", R"({"symbol":"600519"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500U);
  EXPECT_EQ(r->body, "{\"error\":\"internal error\"}\n");
  EXPECT_EQ(log_lines_containing("backend exploded"), 1U);
  const auto again = get("/healthz");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200U);
}

// --- depth ---

TEST_F(OpsServerTest, DepthReturnsExactJsonCutToTheRequestedLevels) {
  backend_.depth_reply.status = TradingStatus::Trading;
  backend_.depth_reply.bids = {{Price{18000100}, 300, 2}, {Price{17999900}, 100, 1}, {Price{17990000}, 500, 3}};
  backend_.depth_reply.asks = {{Price{18001000}, 200, 1}};
  const auto r = get("/admin/depth?symbol=600519&levels=2");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200U);
  EXPECT_EQ(r->header("content-type"), "application/json");
  EXPECT_EQ(r->body,
            "{\"symbol\":\"600519\",\"status\":\"trading\","
            "\"bids\":[{\"price\":1800.0100,\"qty\":300,\"orders\":2},{\"price\":1799.9900,\"qty\":100,\"orders\":1}],"
            "\"asks\":[{\"price\":1800.1000,\"qty\":200,\"orders\":1}]}\n");
  EXPECT_EQ(backend_.calls(), (std::vector<RecordingBackend::Call>{{"depth", "600519", "", false, 2}}));
}

TEST_F(OpsServerTest, DepthDefaultsToFiveLevelsAndShowsHalts) {
  backend_.depth_reply.status = TradingStatus::Halted;
  const auto r = get("/admin/depth?symbol=600519");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200U);
  EXPECT_EQ(r->body, "{\"symbol\":\"600519\",\"status\":\"halted\",\"bids\":[],\"asks\":[]}\n");
  EXPECT_EQ(backend_.calls(), (std::vector<RecordingBackend::Call>{{"depth", "600519", "", false, 5}}));
}

TEST_F(OpsServerTest, DepthOfAnUnknownSymbolIs404) {
  backend_.depth_status = AdminStatus::UnknownSymbol;
  const auto r = get("/admin/depth?symbol=999999");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404U);
  EXPECT_EQ(r->body, "{\"symbol\":\"999999\",\"result\":\"unknown_symbol\",\"error\":\"unknown symbol\"}\n");
}

TEST_F(OpsServerTest, DepthRefusesBadParametersNamingThem) {
  struct Case {
    const char* target;
    const char* error;
  };
  const Case cases[] = {
      {"/admin/depth", "parameter 'symbol' is required"},
      {"/admin/depth?levels=5", "parameter 'symbol' is required"},
      {"/admin/depth?symbol=", "parameter 'symbol' must be 1 to 8 letters or digits"},
      {"/admin/depth?symbol=123456789", "parameter 'symbol' must be 1 to 8 letters or digits"},
      {"/admin/depth?symbol=600%0A19", "parameter 'symbol' must be 1 to 8 letters or digits"},
      {"/admin/depth?symbol=600519&levels=0", "parameter 'levels' must be an integer from 1 to 100"},
      {"/admin/depth?symbol=600519&levels=101", "parameter 'levels' must be an integer from 1 to 100"},
      {"/admin/depth?symbol=600519&levels=-1", "parameter 'levels' must be an integer from 1 to 100"},
      {"/admin/depth?symbol=600519&levels=5x", "parameter 'levels' must be an integer from 1 to 100"},
      {"/admin/depth?symbol=600519&levels=99999999999999999999", "parameter 'levels' must be an integer from 1 to 100"},
      {"/admin/depth?symbol=600519&level=5", "unknown parameter 'level'"},
      {"/admin/depth?symbol=600519&symbol=600000", "parameter 'symbol' given more than once"},
      {"/admin/depth?symbol=%zz", "malformed query string"},
  };
  for (const Case& c : cases) {
    const auto r = get(c.target);
    ASSERT_TRUE(r) << c.target;
    EXPECT_EQ(r->status, 400U) << c.target;
    EXPECT_EQ(r->body, "{\"error\":\"" + std::string(c.error) + "\"}\n") << c.target;
  }
  EXPECT_TRUE(backend_.calls().empty());
}

// --- bad input to the admin API ---

TEST_F(OpsServerTest, BadBodiesGet400NamingTheFieldAndCallNothing) {
  struct Case {
    const char* target;
    const char* body;
    const char* error;
  };
  const Case cases[] = {
      {"/admin/halt", R"({"symbol":600519})", "field 'symbol' must be a string of 1 to 8 letters or digits"},
      {"/admin/halt", R"({})", "field 'symbol' is required"},
      {"/admin/halt", R"({"symbol":null})", "field 'symbol' is required"},
      {"/admin/halt", R"({"symbol":"600519","extra":1})", "unknown field 'extra'"},
      {"/admin/halt", R"({"symbol":"600 519"})", "field 'symbol' must be a string of 1 to 8 letters or digits"},
      {"/admin/kill", R"({"firm":"FRMA","cancel_open":"yes"})", "field 'cancel_open' must be true or false"},
      {"/admin/kill", R"({"firm":"TOOLONG"})", "field 'firm' must be a string of 1 to 4 letters or digits"},
      {"/admin/kill", R"({"cancel_open":true})", "field 'firm' is required"},
      {"/admin/mass-cancel", R"({"firm":"FRMA","symbol":{"a":1}})",
       "invalid JSON at byte 24: field 'symbol': nested objects and arrays are not supported"},
      {"/admin/release", R"({"firm":"FRMA","firm":"FRMB"})", "invalid JSON at byte 15: field 'firm' appears more than once"},
      {"/admin/release", R"({"firm":"FRMA")", "invalid JSON at byte 14: expected ',' or '}' after a field"},
      {"/admin/release", "", "invalid JSON at byte 0: expected '{' at the start of the body"},
  };
  for (const Case& c : cases) {
    const auto r = post(c.target, c.body);
    ASSERT_TRUE(r) << c.body;
    EXPECT_EQ(r->status, 400U) << c.body;
    EXPECT_EQ(r->body, "{\"error\":\"" + std::string(c.error) + "\"}\n") << c.body;
  }
  EXPECT_TRUE(backend_.calls().empty());
}

TEST_F(OpsServerTest, UnknownRouteIs404AndWrongMethodIs405WithAllow) {
  auto r = get("/admin/unknown");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404U);
  EXPECT_EQ(r->body, "{\"error\":\"no such route\"}\n");

  r = get("/admin/halt");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405U);
  EXPECT_EQ(r->header("allow"), "POST");

  r = post("/metrics", "{}");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405U);
  EXPECT_EQ(r->header("allow"), "GET");
  EXPECT_TRUE(backend_.calls().empty());

  const std::string m = scrape();
  EXPECT_EQ(sample(m, "peregrine_http_requests_total{code=\"404\",route=\"other\"}"), 1.0);
  EXPECT_EQ(sample(m, "peregrine_http_requests_total{code=\"405\",route=\"/admin/halt\"}"), 1.0);
}

// --- the connection level ---

TEST_F(OpsServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  Client c(server_->port());
  ASSERT_TRUE(c.connected());
  for (int i = 0; i < 3; ++i) {
    const auto r = c.request(Verb::get, "/healthz");
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->status, 200U);
    EXPECT_TRUE(r->keep_alive);
  }
  // Pipelined: two requests written back to back, two answers in order.
  ASSERT_TRUE(c.write_raw("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /readyz HTTP/1.1\r\nHost: x\r\n\r\n"));
  const auto a = c.read_reply();
  const auto b = c.read_reply();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->body, "ok\n");
  EXPECT_EQ(b->body, "not ready\n");
}

TEST_F(OpsServerTest, ConnectionCloseIsHonoured) {
  Client c(server_->port());
  ASSERT_TRUE(c.send(Verb::get, "/healthz", {}, {}, /*keep_alive=*/false));
  const auto r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->keep_alive);
  EXPECT_TRUE(c.closed_by_peer());
}

TEST_F(OpsServerTest, GarbageGets400ThenCloseAndTheServerKeepsServing) {
  const std::string garbage[] = {
      std::string("\x00\x01\x02\xff\xfe garbage\r\n\r\n", 17),
      "HELLO\r\n\r\n",
      "GET / HTTP/9.9\r\n\r\n",
      "GET /healthz HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
      "GET /healthz HTTP/1.1\r\nBad Header\r\n\r\n",
      "POST /admin/halt HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\n",
  };
  for (const std::string& g : garbage) {
    Client c(server_->port());
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(c.write_raw(g));
    const auto r = c.read_reply();
    ASSERT_TRUE(r) << "no reply to garbage: " << c.last_error().message();
    EXPECT_EQ(r->status, 400U);
    EXPECT_FALSE(r->keep_alive);
    EXPECT_TRUE(c.closed_by_peer());
    const auto next = get("/healthz");
    ASSERT_TRUE(next);
    EXPECT_EQ(next->status, 200U);
  }
  EXPECT_TRUE(backend_.calls().empty());
  EXPECT_EQ(sample(scrape(), "peregrine_http_requests_total{code=\"400\",route=\"none\"}"),
            static_cast<double>(std::size(garbage)));
}

TEST_F(OpsServerTest, HugeHeaderClosesTheConnectionAndTheServerKeepsServing) {
  {
    Client c(server_->port());
    ASSERT_TRUE(c.connected());
    // 1 MiB of header: far past the 8 KiB limit. The server may answer 431 and close, or reset the
    // connection while we are still writing; either way the connection ends.
    const std::string huge = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Filler: " + std::string(1 << 20, 'a') + "\r\n\r\n";
    const bool wrote = c.write_raw(huge);
    if (wrote) {
      const auto r = c.read_reply();
      if (r) {
        EXPECT_EQ(r->status, 431U);
      }
    }
    EXPECT_TRUE(c.closed_by_peer());
  }
  {
    // Just over the limit, small enough to be read whole: a 431 for sure.
    Client c(server_->port());
    ASSERT_TRUE(c.write_raw("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Filler: " + std::string(9000, 'a') + "\r\n\r\n"));
    const auto r = c.read_reply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 431U);
    EXPECT_TRUE(c.closed_by_peer());
  }
  const auto next = get("/healthz");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200U);
}

TEST_F(OpsServerTest, OversizedBodyGets413) {
  Client c(server_->port());
  ASSERT_TRUE(c.send(Verb::post, "/admin/halt", "{\"symbol\":\"" + std::string(10000, '6') + "\"}",
                     {{"Authorization", std::string("Bearer ") + kToken}}));
  const auto r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413U);
  EXPECT_TRUE(backend_.calls().empty());
}

TEST_F(OpsServerTest, SlowClientIsDisconnectedAfterTheReadTimeout) {
  OpsServerConfig cfg;
  cfg.read_timeout = std::chrono::milliseconds(200);
  start_server(cfg);
  Client c(server_->port());
  ASSERT_TRUE(c.write_raw("GET /healthz HTTP/1.1\r\nHost: x\r\n"));  // never finished
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
  const auto next = get("/healthz");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200U);
}

TEST_F(OpsServerTest, ConnectionsBeyondTheLimitAreClosedAndCounted) {
  OpsServerConfig cfg;
  cfg.max_connections = 1;
  start_server(cfg);
  auto first = std::make_unique<Client>(server_->port());
  ASSERT_TRUE(first->request(Verb::get, "/healthz"));  // the session exists now
  Client second(server_->port());
  EXPECT_TRUE(second.closed_by_peer());
  const auto r = first->request(Verb::get, "/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(sample(r->body, "peregrine_http_connections_rejected_total"), 1.0);
  EXPECT_EQ(sample(r->body, "peregrine_http_connections_active"), 1.0);
  first.reset();
  // The slot frees once the server sees the close; retry briefly.
  std::optional<Reply> next;
  for (int i = 0; i < 100 && !next; ++i) {
    next = get("/healthz");
    if (!next) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200U);
}

TEST_F(OpsServerTest, StopClosesKeptAliveConnectionsAndIsIdempotent) {
  Client c(server_->port());
  ASSERT_TRUE(c.request(Verb::get, "/healthz"));
  server_->stop();
  EXPECT_TRUE(c.closed_by_peer());
  server_->stop();
  Client after(server_->port());
  EXPECT_FALSE(after.connected());
}

// --- startup ---

TEST(OpsServerStartupTest, MissingTokenFileIsAnErrorNamingTheFile) {
  RecordingBackend backend;
  OpsServerConfig cfg;
  cfg.address = "127.0.0.1";
  cfg.port = 0;
  cfg.admin_token_file = "/nonexistent/peregrine/admin-token";
  OpsServer server(cfg, backend, make_logger({.name = "t", .sinks = {}, .level = "off"}));
  try {
    server.start();
    FAIL() << "start() accepted a missing token file";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/peregrine/admin-token"), std::string::npos) << e.what();
  }
  EXPECT_EQ(server.port(), 0);
}

TEST(OpsServerStartupTest, EmptyTokenFileIsAnErrorNamingTheFile) {
  RecordingBackend backend;
  TempFile empty("\n\n");
  OpsServerConfig cfg;
  cfg.address = "127.0.0.1";
  cfg.port = 0;
  cfg.admin_token_file = empty.path();
  OpsServer server(cfg, backend, make_logger({.name = "t", .sinks = {}, .level = "off"}));
  try {
    server.start();
    FAIL() << "start() accepted an empty token file";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(empty.path().string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("empty"), std::string::npos) << e.what();
  }
}

// A tick due at the very moment stop() runs: a wait that has already completed when the timer is
// cancelled still runs, with no error. It must not re-arm, or the server's thread never runs out
// of work and stop() never returns (a server's shut-down then waits for its SIGKILL).
TEST(OpsServerTickTest, StopReturnsEvenWithATickDueAtThatMoment) {
  RecordingBackend backend;
  auto quiet = make_logger({.name = "t", .sinks = {}, .level = "off"});
  for (int round = 0; round < 40; ++round) {
    std::atomic<int> ticks{0};
    OpsServerConfig cfg;
    cfg.address = "127.0.0.1";
    cfg.port = 0;
    cfg.tick_interval = std::chrono::milliseconds{0};  // always due
    cfg.tick = [&ticks] {
      ticks.fetch_add(1, std::memory_order_relaxed);
      std::this_thread::sleep_for(std::chrono::microseconds{200});
    };
    auto server = std::make_unique<OpsServer>(cfg, backend, quiet);
    server->start();
    while (ticks.load(std::memory_order_relaxed) < 3) std::this_thread::yield();
    std::atomic<bool> stopped{false};
    std::thread stopper([&] {
      server->stop();
      stopped.store(true, std::memory_order_release);
    });
    const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds{10};
    while (!stopped.load(std::memory_order_acquire) && std::chrono::steady_clock::now() < limit)
      std::this_thread::sleep_for(std::chrono::milliseconds{1});
    if (!stopped.load(std::memory_order_acquire)) {
      ADD_FAILURE() << "round " << round << ": stop() had not returned after 10 s (the tick re-armed)";
      std::fflush(nullptr);
      std::_Exit(1);  // the stopper is stuck in join(): nothing else can end this process
    }
    stopper.join();
    const int after = ticks.load(std::memory_order_relaxed);
    std::this_thread::sleep_for(std::chrono::milliseconds{2});
    EXPECT_EQ(ticks.load(std::memory_order_relaxed), after) << "a tick ran after stop() returned";
  }
}

TEST(OpsServerStartupTest, PortInUseIsAnErrorNamingTheAddress) {
  RecordingBackend backend;
  TempFile token("abc\n");
  OpsServerConfig cfg;
  cfg.address = "127.0.0.1";
  cfg.port = 0;
  cfg.admin_token_file = token.path();
  auto quiet = make_logger({.name = "t", .sinks = {}, .level = "off"});
  OpsServer first(cfg, backend, quiet);
  first.start();
  cfg.port = first.port();
  OpsServer second(cfg, backend, quiet);
  try {
    second.start();
    FAIL() << "two servers bound one port";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(first.port())), std::string::npos) << e.what();
  }
  EXPECT_THROW(first.start(), std::logic_error);
}

}  // namespace
}  // namespace peregrine::ops
