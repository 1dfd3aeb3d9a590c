#include "startup.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "peregrine/config/service.hpp"
#include "peregrine/proto/soupbintcp.hpp"
#include "server_process.hpp"
#include "util.hpp"

namespace peregrine::bench {
namespace {

namespace soup = proto::soup;

/// A free loopback port right now (bound to port 0, then released).
std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  std::uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

/// A client that keeps trying to connect to `port` until it listens, sends `request`, and
/// reads until `done(bytes)` says the answer is complete. Non-blocking; driven by step().
class Prober {
 public:
  Prober(std::uint16_t port, std::string request) : port_(port), request_(std::move(request)) {}
  ~Prober() { reset(); }

  /// One step; returns true once finished (answer in `answer()`).
  template <typename Done>
  bool step(Done&& done) {
    if (finished_) return true;
    if (fd_ < 0) {
      fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a.sin_port = htons(port_);
      if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno != EINPROGRESS) {
        reset();  // refused: not listening yet
        return false;
      }
      int one = 1;
      ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      sent_ = 0;
      answer_.clear();
    }
    if (sent_ < request_.size()) {
      const ssize_t w = ::send(fd_, request_.data() + sent_, request_.size() - sent_, MSG_NOSIGNAL);
      if (w < 0) {
        if (errno != EAGAIN && errno != EINPROGRESS && errno != ENOTCONN) reset();
        return false;
      }
      sent_ += static_cast<std::size_t>(w);
    }
    char buf[4096];
    const ssize_t r = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
    if (r > 0) {
      answer_.append(buf, static_cast<std::size_t>(r));
      const int verdict = done(answer_);  // 1 finished, 0 more, -1 retry on a new connection
      if (verdict > 0) {
        finished_ = true;
        reset();
      } else if (verdict < 0) {
        reset();
      }
    } else if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
      reset();
    }
    return finished_;
  }
  [[nodiscard]] const std::string& answer() const noexcept { return answer_; }

 private:
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  std::uint16_t port_;
  std::string request_;
  int fd_ = -1;
  std::size_t sent_ = 0;
  std::string answer_;
  bool finished_ = false;
};

/// One phase of the server's --startup-trace line, in order.
struct Phase {
  std::string name;
  std::vector<std::uint64_t> ns;
  std::vector<std::uint64_t> faults;
};

/// Adds the phases of a "peregrine: startup: main 1.912 ms 380 faults, config ..., total ..."
/// line to `phases` (matched by name, first-seen order); false when `line` is not one.
bool add_trace(const std::string& line, std::vector<Phase>& phases) {
  static const std::string kPrefix = "peregrine: startup: ";
  if (line.rfind(kPrefix, 0) != 0) return false;
  std::size_t at = kPrefix.size();
  while (at < line.size()) {
    std::size_t end = line.find(", ", at);
    if (end == std::string::npos) end = line.size();
    char name[32];
    double ms = 0;
    unsigned long long faults = 0;
    if (std::sscanf(line.substr(at, end - at).c_str(), "%31s %lf ms %llu faults", name, &ms, &faults) == 3) {
      auto it = std::find_if(phases.begin(), phases.end(), [&](const Phase& p) { return p.name == name; });
      if (it == phases.end()) it = phases.insert(phases.end(), Phase{name, {}, {}});
      it->ns.push_back(static_cast<std::uint64_t>(ms * 1e6 + 0.5));
      it->faults.push_back(faults);
    }
    at = end + 2;
  }
  return true;
}

/// Every stdout line, empty ones too (wait_line passes over lines that do not match).
const std::regex& any_line() {
  static const std::regex re("^");
  return re;
}

/// Reads the server's stdout until its ready line, keeping every line in `lines`; the time the
/// ready line was read, or 0 (and `err`) on a timeout or an exit.
std::uint64_t read_until_ready(support::ChildProcess& server, std::vector<std::string>& lines, int timeout_ms,
                               std::string& err) {
  const std::uint64_t deadline = now_ns() + static_cast<std::uint64_t>(timeout_ms) * 1'000'000;
  for (std::uint64_t now = now_ns(); now < deadline; now = now_ns()) {
    if (server.wait_line(any_line(), std::chrono::nanoseconds{deadline - now}).empty()) {
      if (server.stdout_closed()) {
        err = "the server exited before it was ready";
        return 0;
      }
      continue;
    }
    lines.push_back(server.last_line());
    ReadyLine ports;
    if (parse_ready_line(server.last_line(), ports)) return now_ns();
  }
  err = "no ready line within " + std::to_string(timeout_ms) + " ms";
  return 0;
}

/// GET `path` from 127.0.0.1:`port`; the whole answer ("" when it fails). Blocking, 2 s bound.
std::string http_get(std::uint16_t port, const char* path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return {};
  const timeval limit{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  std::string answer;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    const std::string req = std::string("GET ") + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size())) {
      char buf[16384];
      for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) answer.append(buf, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  return answer;
}

/// The value of the sample `name` (with its labels, as the text format writes them) in a
/// Prometheus text page, or -1 when it is not there.
double metric(const std::string& page, const std::string& name) {
  for (std::size_t at = page.find(name); at != std::string::npos; at = page.find(name, at + 1)) {
    if ((at == 0 || page[at - 1] == '\n') && at + name.size() < page.size() && page[at + name.size()] == ' ')
      return std::strtod(page.c_str() + at + name.size() + 1, nullptr);
  }
  return -1;
}

/// One recovery row: the journal at the kill and the restarts on copies of it.
struct RecoveryRow {
  std::uint64_t target = 0;         ///< --recovery's N
  std::uint64_t records = 0;        ///< journal records at the last scrape before the kill
  std::uint64_t snapshots = 0;      ///< snapshots written before the kill
  std::uint64_t snapshot_bytes = 0;
  double snapshot_seconds = 0;      ///< the newest snapshot's serialize-and-write time
  std::uint64_t journal_bytes = 0;  ///< the journal directory at the kill (segments, snapshots)
  double fill_seconds = 0;
  std::vector<std::uint64_t> ready_ns;     ///< exec -> ready line, per restart
  std::vector<std::uint64_t> replayed;     ///< records the restart replayed (its ready line)
  std::vector<std::uint64_t> journal_ns;   ///< the trace's journal phase (snapshot load + replay)
  std::string from;                        ///< "snapshot <file>" or "the day's start" (last restart)
};

/// Loads a journaled server to `row.target` commands, kills it with SIGKILL and restarts it on
/// copies of the journal. An error text, empty on success.
std::string run_recovery(const StartupOptions& opt, const std::string& root, RecoveryRow& row) {
  namespace fs = std::filesystem;
  const std::string journal = root + "/journal-" + std::to_string(row.target);
  const std::string pristine = journal + ".at-kill";
  const auto server_argv = [&](std::uint16_t ouch, std::uint16_t itch, std::uint16_t http) {
    std::vector<std::string> argv = {opt.server_bin, "--config", opt.recovery_config, "--startup-trace",
                                     "--ouch-listen", "127.0.0.1:" + std::to_string(ouch),
                                     "--itch-listen", "127.0.0.1:" + std::to_string(itch),
                                     "--http-listen", "127.0.0.1:" + std::to_string(http),
                                     "--journal-dir=" + journal, "--idle-strategy", "park"};
    argv.insert(argv.end(), opt.server_args.begin(), opt.server_args.end());
    return argv;
  };
  {
    const std::uint16_t ouch = free_port(), itch = free_port(), http = free_port();
    // The load is journaled without a sync per batch, only to fill the journal sooner: the
    // files are the same, and a kill -9 loses nothing written (the page cache keeps it).
    std::vector<std::string> fill_argv = server_argv(ouch, itch, http);
    fill_argv.push_back("--journal-durability=none");
    support::ChildProcess server;
    ReadyLine fill_ports;
    if (std::string err = start_server(server, fill_argv, opt.server_cpus, opt.server_log, fill_ports,
                                       std::chrono::milliseconds{60000});
        !err.empty())
      return err;
    support::ChildProcess load;
    const std::vector<std::string> load_argv = {opt.self_bin, "run", "--connect", "127.0.0.1:" + std::to_string(ouch),
                                                "--config", opt.recovery_config, "--max-throughput", "--duration", "3600",
                                                "--drain-timeout", "1"};
    if (std::string err = load.spawn(load_argv, server_spawn_options(opt.cpus, "")); !err.empty()) return "the load: " + err;
    const std::uint64_t t0 = now_ns(), deadline = t0 + 1800'000'000'000ULL;
    std::string page;
    while (now_ns() < deadline) {
      page = http_get(http, "/metrics");
      const double records = metric(page, "peregrine_journal_records_total");
      if (records >= static_cast<double>(row.target)) {
        row.records = static_cast<std::uint64_t>(records);
        break;
      }
      ::usleep(20'000);
    }
    ::kill(server.pid(), SIGKILL);  // the crash
    row.fill_seconds = static_cast<double>(now_ns() - t0) * 1e-9;
    ::kill(load.pid(), SIGKILL);
    (void)server.stop(std::chrono::milliseconds{10000});
    (void)load.stop(std::chrono::milliseconds{10000});
    if (row.records == 0) return "the journal did not reach " + std::to_string(row.target) + " commands";
    row.snapshots = static_cast<std::uint64_t>(std::max(0.0, metric(page, "peregrine_snapshots_total{result=\"written\"}")));
    row.snapshot_bytes = static_cast<std::uint64_t>(std::max(0.0, metric(page, "peregrine_snapshot_last_bytes")));
    row.snapshot_seconds = std::max(0.0, metric(page, "peregrine_snapshot_last_duration_seconds"));
  }
  std::error_code ec;
  fs::copy(journal, pristine, fs::copy_options::recursive, ec);
  if (ec) return "copy " + journal + ": " + ec.message();
  for (const fs::directory_entry& e : fs::recursive_directory_iterator(pristine, ec))
    if (e.is_regular_file()) row.journal_bytes += e.file_size();
  static const std::regex kRecovered(R"(journal: recovered (\d+) records after (.*)$)");
  for (std::uint32_t run = 0; run < opt.recovery_runs; ++run) {
    fs::remove_all(journal, ec);
    fs::copy(pristine, journal, fs::copy_options::recursive, ec);
    if (ec) return "copy " + pristine + ": " + ec.message();
    ::sync();  // the copy's writeback is not charged to the restart
    support::ChildProcess server;
    if (std::string err = server.spawn(server_argv(free_port(), free_port(), free_port()),
                                       server_spawn_options(opt.server_cpus, opt.server_log));
        !err.empty())
      return err;
    std::vector<std::string> lines;
    std::string err;
    const std::uint64_t ready = read_until_ready(server, lines, 120000, err);
    (void)server.kill_now();
    if (ready == 0) return "restart " + std::to_string(run) + ": " + err;
    row.ready_ns.push_back(ready - ns_of(server.spawned_at()));
    std::vector<Phase> phases;
    for (const std::string& l : lines) {
      std::smatch m;
      if (std::regex_search(l, m, kRecovered)) {
        row.replayed.push_back(std::stoull(m[1].str()));
        row.from = m[2].str();
      }
      (void)add_trace(l, phases);
    }
    for (const Phase& p : phases)
      if (p.name == "journal" && !p.ns.empty()) row.journal_ns.push_back(p.ns.front());
  }
  fs::remove_all(journal, ec);
  if (!opt.recovery_keep.empty()) {
    const fs::path kept = fs::path(opt.recovery_keep) / ("journal-" + std::to_string(row.target));
    fs::create_directories(opt.recovery_keep, ec);
    fs::remove_all(kept, ec);
    fs::rename(pristine, kept, ec);
    if (ec) return "keep " + pristine + " as " + kept.string() + ": " + ec.message();
  }
  fs::remove_all(pristine, ec);
  return {};
}

struct Stat {
  const char* name;
  std::vector<std::uint64_t> v;
};

std::uint64_t pct(std::vector<std::uint64_t> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  auto rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size()) + 0.999999);
  rank = std::clamp<std::size_t>(rank, 1, v.size());
  return v[rank - 1];
}

}  // namespace

int run_startup(const StartupOptions& opt) {
  config::ServiceConfig cfg;
  try {
    cfg = config::load_service_config(opt.config_path);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "peregrine-bench startup: %s\n", e.what());
    return 2;
  }
  if (cfg.users.empty()) {
    std::fprintf(stderr, "peregrine-bench startup: %s has no users to log in with\n", opt.config_path.c_str());
    return 2;
  }
  const config::UserConfig& user = cfg.users.front();
  const config::Credential* cred = cfg.credentials.find(user.username);
  std::array<std::uint8_t, soup::kLoginRequestSize> login{};
  (void)soup::encode_login_request({soup::Username::from(user.username), soup::Password::from(cred->password),
                                    soup::SessionId::from(""), 0},
                                   login);
  if (const std::string e = pin_to(opt.cpus); !e.empty()) std::fprintf(stderr, "startup: --cpus: %s\n", e.c_str());
  tighten_timer_slack();

  // The floor: fork, exec and exit of /bin/true, waited for, timed the same way.
  Stat floor{"fork+exec /bin/true", {}};
  for (std::uint32_t run = 0; run < opt.runs; ++run) {
    support::ChildProcess t;
    if (const std::string err = t.spawn({"/bin/true"}, server_spawn_options({}, "")); !err.empty()) {
      std::fprintf(stderr, "peregrine-bench startup: /bin/true: %s\n", err.c_str());
      return 2;
    }
    (void)t.wait_exit(std::chrono::seconds{10});
    floor.v.push_back(now_ns() - ns_of(t.spawned_at()));
  }
  Stat line{"ready line", {}}, readyz{"readyz 200", {}}, accepted{"login accepted", {}};
  std::vector<Phase> phases;  // from each start's --startup-trace line
  // A configuration with a journal starts a new day in a fresh directory on every run (the cold
  // start of a new day: no recovery), unless --server-arg names a journal directory.
  bool journal_given = false;
  for (const std::string& a : opt.server_args) journal_given |= a.rfind("--journal-dir", 0) == 0;
  std::string journal_root;
  if (!journal_given) {
    char tmpl[] = "/tmp/peregrine-startup-XXXXXX";
    if (::mkdtemp(tmpl) != nullptr) journal_root = tmpl;
  }
  struct RemoveOnExit {
    std::string dir;
    ~RemoveOnExit() {
      std::error_code ec;
      if (!dir.empty()) std::filesystem::remove_all(dir, ec);
    }
  } const cleanup{journal_root};
  for (std::uint32_t run = 0; run < opt.runs; ++run) {
    const std::uint16_t ouch = free_port(), itch = free_port(), http = free_port();
    std::vector<std::string> argv = {opt.server_bin, "--config", opt.config_path, "--startup-trace",
                                     "--ouch-listen", "127.0.0.1:" + std::to_string(ouch),
                                     "--itch-listen", "127.0.0.1:" + std::to_string(itch),
                                     "--http-listen", "127.0.0.1:" + std::to_string(http)};
    if (!journal_root.empty()) argv.push_back("--journal-dir=" + journal_root + "/run-" + std::to_string(run));
    argv.insert(argv.end(), opt.server_args.begin(), opt.server_args.end());
    support::ChildProcess server;
    Prober http_probe(http, "GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    Prober ouch_probe(ouch, std::string(reinterpret_cast<const char*>(login.data()), login.size()));
    if (const std::string err = server.spawn(argv, server_spawn_options(opt.server_cpus, opt.server_log)); !err.empty()) {
      std::fprintf(stderr, "peregrine-bench startup: %s\n", err.c_str());
      return 2;
    }
    const std::uint64_t t0 = ns_of(server.spawned_at());
    std::uint64_t t_line = 0, t_readyz = 0, t_login = 0;
    bool login_rejected = false;
    std::string out;  // stdout up to the ready line: the trace line comes just before it
    const std::uint64_t deadline = t0 + 10'000'000'000ULL;
    while ((t_line == 0 || t_readyz == 0 || t_login == 0) && now_ns() < deadline) {
      if (t_line == 0) {
        // Waits up to 50 us for the ready line, which also spaces the connect attempts out so
        // that this loop leaves the CPU to the starting server (1 ns timer slack: 50 us is 50 us).
        if (!server.wait_line(any_line(), std::chrono::microseconds{50}).empty()) {
          out.append(server.last_line()).push_back('\n');
          ReadyLine ports;
          if (parse_ready_line(server.last_line(), ports)) t_line = now_ns();
        } else if (server.stdout_closed()) {
          break;  // exited
        }
      }
      if (t_readyz == 0 && http_probe.step([](const std::string& a) {
            if (a.size() < 12) return 0;
            return a.compare(0, 12, "HTTP/1.1 200") == 0 ? 1 : -1;  // 503 while starting: ask again
          }))
        t_readyz = now_ns();
      if (t_login == 0 && ouch_probe.step([&](const std::string& a) {
            if (a.size() < soup::kHeaderSize) return 0;
            if (static_cast<char>(a[2]) == 'J') login_rejected = true;
            return 1;
          }))
        t_login = now_ns();
      if (t_line != 0) ::usleep(50);
    }
    const int status = server.stop(std::chrono::milliseconds{10000});
    if (t_line == 0 || t_readyz == 0 || t_login == 0 || login_rejected) {
      std::fprintf(stderr, "peregrine-bench startup: run %u: %s (exit status %d)\n", run,
                   login_rejected ? "login rejected" : "the server did not answer within 10 s", status);
      return 1;
    }
    for (std::size_t at = 0, eol; (eol = out.find('\n', at)) != std::string::npos; at = eol + 1)
      (void)add_trace(out.substr(at, eol - at), phases);
    line.v.push_back(t_line - t0);
    readyz.v.push_back(t_readyz - t0);
    accepted.v.push_back(t_login - t0);
  }
  std::vector<RecoveryRow> rows;
  if (!opt.recovery.empty()) {
    char tmpl[] = "/tmp/peregrine-recovery-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) {
      std::fprintf(stderr, "peregrine-bench startup: mkdtemp: %s\n", std::strerror(errno));
      return 2;
    }
    const RemoveOnExit recovery_cleanup{tmpl};
    for (const std::uint64_t n : opt.recovery) {
      RecoveryRow row;
      row.target = n;
      if (const std::string err = run_recovery(opt, tmpl, row); !err.empty()) {
        std::fprintf(stderr, "peregrine-bench startup: recovery with %llu commands: %s\n", static_cast<unsigned long long>(n),
                     err.c_str());
        return 1;
      }
      rows.push_back(std::move(row));
    }
  }
  std::printf("peregrine-bench startup: %u runs of %s --config %s; from just before fork() to:\n", opt.runs,
              opt.server_bin.c_str(), opt.config_path.c_str());
  std::printf("%-24s %10s %10s %10s %10s\n", "(ms)", "min", "median", "p99", "max");
  boost::json::object exec_to_ns;
  for (const Stat* s : {&floor, &line, &readyz, &accepted}) {
    std::printf("%-24s %10.3f %10.3f %10.3f %10.3f\n", s->name, static_cast<double>(pct(s->v, 0)) / 1e6,
                static_cast<double>(pct(s->v, 50)) / 1e6, static_cast<double>(pct(s->v, 99)) / 1e6,
                static_cast<double>(pct(s->v, 100)) / 1e6);
    exec_to_ns[s == &floor ? "exec_floor" : s == &line ? "ready_line" : s == &readyz ? "readyz" : "login_accepted"] = {
        {"min", pct(s->v, 0)}, {"median", pct(s->v, 50)}, {"p99", pct(s->v, 99)}, {"max", pct(s->v, 100)},
        {"samples", boost::json::value_from(s->v)}};
  }
  boost::json::object j{{"tool", "peregrine-bench"}, {"mode", "startup"}, {"command", opt.command_line},
                        {"runs", opt.runs}, {"config", opt.config_path}, {"exec_to_ns", std::move(exec_to_ns)}};
  // The server's own breakdown (--startup-trace): each phase's median time and page faults.
  std::printf("\nthe server's --startup-trace, median of %zu starts:\n%-24s %10s %10s\n",
              phases.empty() ? std::size_t{0} : phases.front().ns.size(), "phase", "ms", "faults");
  boost::json::array phase_rows;
  for (const Phase& p : phases) {
    std::printf("%-24s %10.3f %10llu\n", p.name.c_str(), static_cast<double>(pct(p.ns, 50)) / 1e6,
                static_cast<unsigned long long>(pct(p.faults, 50)));
    phase_rows.push_back(boost::json::object{{"name", p.name}, {"median_ns", pct(p.ns, 50)}, {"min_ns", pct(p.ns, 0)},
                                             {"max_ns", pct(p.ns, 100)}, {"median_faults", pct(p.faults, 50)}});
  }
  j["phases"] = std::move(phase_rows);
  if (!rows.empty()) {
    std::printf("\nrestart after kill -9 under load (--config %s), %u restarts each on a copy of the journal:\n"
                "%12s %12s %10s %14s %12s %10s %10s %10s\n",
                opt.recovery_config.c_str(), opt.recovery_runs, "commands", "replayed", "snapshots", "snapshot MB",
                "journal MB", "ready min", "median", "max (ms)");
    boost::json::array recovery;
    for (const RecoveryRow& r : rows) {
      std::printf("%12llu %12llu %10llu %14.1f %12.1f %10.1f %10.1f %10.1f\n", static_cast<unsigned long long>(r.records),
                  static_cast<unsigned long long>(pct(r.replayed, 50)), static_cast<unsigned long long>(r.snapshots),
                  static_cast<double>(r.snapshot_bytes) / 1e6, static_cast<double>(r.journal_bytes) / 1e6,
                  static_cast<double>(pct(r.ready_ns, 0)) / 1e6, static_cast<double>(pct(r.ready_ns, 50)) / 1e6,
                  static_cast<double>(pct(r.ready_ns, 100)) / 1e6);
      recovery.push_back(boost::json::object{
          {"target", r.target}, {"records", r.records}, {"replayed", pct(r.replayed, 50)}, {"from", r.from},
          {"snapshots", r.snapshots}, {"snapshot_bytes", r.snapshot_bytes}, {"snapshot_seconds", r.snapshot_seconds},
          {"journal_bytes", r.journal_bytes}, {"fill_seconds", r.fill_seconds},
          {"journal_phase_median_ns", pct(r.journal_ns, 50)},
          {"exec_to_ready_ns", boost::json::object{{"min", pct(r.ready_ns, 0)}, {"median", pct(r.ready_ns, 50)},
                                                   {"max", pct(r.ready_ns, 100)},
                                                   {"samples", boost::json::value_from(r.ready_ns)}}}});
    }
    j["recovery_config"] = opt.recovery_config;
    j["recovery"] = std::move(recovery);
  }
  if (!opt.json_path.empty() && !save_json(opt.json_path, j)) {
    std::fprintf(stderr, "peregrine-bench: cannot write %s\n", opt.json_path.c_str());
    return 2;
  }
  return 0;
}

}  // namespace peregrine::bench
