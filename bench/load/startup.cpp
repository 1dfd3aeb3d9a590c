#include "startup.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
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

/// Reads the server's stdout until its ready line, keeping every line in `lines`; the time the
/// ready line was read, or 0 (and `err`) on a timeout or an exit.
std::uint64_t read_until_ready(ServerProcess& server, std::vector<std::string>& lines, int timeout_ms, std::string& err) {
  const std::uint64_t deadline = now_ns() + static_cast<std::uint64_t>(timeout_ms) * 1'000'000;
  std::string pending;
  char buf[1024];
  while (now_ns() < deadline) {
    pollfd p{server.stdout_fd(), POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const ssize_t n = ::read(server.stdout_fd(), buf, sizeof buf);
    if (n <= 0) {
      err = "the server exited before it was ready";
      return 0;
    }
    pending.append(buf, static_cast<std::size_t>(n));
    for (std::size_t eol; (eol = pending.find('\n')) != std::string::npos;) {
      lines.push_back(pending.substr(0, eol));
      pending.erase(0, eol + 1);
    }
    if (server.on_stdout(buf, static_cast<std::size_t>(n))) return server.ready_ns();
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
    ServerProcess server;
    if (std::string err = server.spawn(fill_argv, opt.server_cpus, opt.server_log); !err.empty()) return err;
    if (std::string err = server.wait_ready(60000); !err.empty()) return err;
    ServerProcess load;
    const std::vector<std::string> load_argv = {opt.self_bin, "run", "--connect", "127.0.0.1:" + std::to_string(ouch),
                                                "--config", opt.recovery_config, "--max-throughput", "--duration", "3600",
                                                "--drain-timeout", "1"};
    if (std::string err = load.spawn(load_argv, opt.cpus, ""); !err.empty()) return "the load: " + err;
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
    (void)server.stop(10000);
    (void)load.stop(10000);
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
    ServerProcess server;
    if (std::string err = server.spawn(server_argv(free_port(), free_port(), free_port()), opt.server_cpus, opt.server_log);
        !err.empty())
      return err;
    std::vector<std::string> lines;
    std::string err;
    const std::uint64_t ready = read_until_ready(server, lines, 120000, err);
    ::kill(server.pid(), SIGKILL);
    (void)server.stop(10000);
    if (ready == 0) return "restart " + std::to_string(run) + ": " + err;
    row.ready_ns.push_back(ready - server.exec_ns());
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
    ServerProcess t;
    if (const std::string err = t.spawn({"/bin/true"}, {}, ""); !err.empty()) {
      std::fprintf(stderr, "peregrine-bench startup: /bin/true: %s\n", err.c_str());
      return 2;
    }
    int status = 0;
    ::waitpid(t.pid(), &status, 0);
    floor.v.push_back(now_ns() - t.exec_ns());
    t.forget();
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
    ServerProcess server;
    Prober http_probe(http, "GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    Prober ouch_probe(ouch, std::string(reinterpret_cast<const char*>(login.data()), login.size()));
    if (const std::string err = server.spawn(argv, opt.server_cpus, opt.server_log); !err.empty()) {
      std::fprintf(stderr, "peregrine-bench startup: %s\n", err.c_str());
      return 2;
    }
    const std::uint64_t t0 = server.exec_ns();
    std::uint64_t t_line = 0, t_readyz = 0, t_login = 0;
    bool login_rejected = false;
    std::string out;  // stdout up to the ready line: the trace line comes just before it
    const std::uint64_t deadline = t0 + 10'000'000'000ULL;
    while ((t_line == 0 || t_readyz == 0 || t_login == 0) && now_ns() < deadline) {
      if (t_line == 0) {
        // Waits up to 50 us for the ready line, which also spaces the connect attempts out so
        // that this loop leaves the CPU to the starting server (1 ns timer slack: 50 us is 50 us).
        pollfd p{server.stdout_fd(), POLLIN, 0};
        const timespec pause{0, 50'000};
        if (::ppoll(&p, 1, &pause, nullptr) > 0) {
          char buf[512];
          const ssize_t n = ::read(server.stdout_fd(), buf, sizeof buf);
          if (n <= 0) break;  // exited
          out.append(buf, static_cast<std::size_t>(n));
          if (server.on_stdout(buf, static_cast<std::size_t>(n))) t_line = server.ready_ns();
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
    const int status = server.stop(10000);
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
  Json j;
  j.begin_object().str("tool", "peregrine-bench").str("mode", "startup").str("command", opt.command_line)
      .num("runs", static_cast<std::uint64_t>(opt.runs)).str("config", opt.config_path).begin_object("exec_to_ns");
  for (const Stat* s : {&floor, &line, &readyz, &accepted}) {
    std::printf("%-24s %10.3f %10.3f %10.3f %10.3f\n", s->name, static_cast<double>(pct(s->v, 0)) / 1e6,
                static_cast<double>(pct(s->v, 50)) / 1e6, static_cast<double>(pct(s->v, 99)) / 1e6,
                static_cast<double>(pct(s->v, 100)) / 1e6);
    j.begin_object(s == &floor ? "exec_floor" : s == &line ? "ready_line" : s == &readyz ? "readyz" : "login_accepted")
        .num("min", pct(s->v, 0)).num("median", pct(s->v, 50)).num("p99", pct(s->v, 99)).num("max", pct(s->v, 100));
    j.begin_array("samples");
    for (const std::uint64_t x : s->v) j.num("", x);
    j.end_array().end_object();
  }
  j.end_object();
  // The server's own breakdown (--startup-trace): each phase's median time and page faults.
  std::printf("\nthe server's --startup-trace, median of %zu starts:\n%-24s %10s %10s\n",
              phases.empty() ? std::size_t{0} : phases.front().ns.size(), "phase", "ms", "faults");
  j.begin_array("phases");
  for (const Phase& p : phases) {
    std::printf("%-24s %10.3f %10llu\n", p.name.c_str(), static_cast<double>(pct(p.ns, 50)) / 1e6,
                static_cast<unsigned long long>(pct(p.faults, 50)));
    j.begin_object().str("name", p.name).num("median_ns", pct(p.ns, 50)).num("min_ns", pct(p.ns, 0))
        .num("max_ns", pct(p.ns, 100)).num("median_faults", pct(p.faults, 50)).end_object();
  }
  j.end_array();
  if (!rows.empty()) {
    std::printf("\nrestart after kill -9 under load (--config %s), %u restarts each on a copy of the journal:\n"
                "%12s %12s %10s %14s %12s %10s %10s %10s\n",
                opt.recovery_config.c_str(), opt.recovery_runs, "commands", "replayed", "snapshots", "snapshot MB",
                "journal MB", "ready min", "median", "max (ms)");
    j.str("recovery_config", opt.recovery_config).begin_array("recovery");
    for (const RecoveryRow& r : rows) {
      std::printf("%12llu %12llu %10llu %14.1f %12.1f %10.1f %10.1f %10.1f\n", static_cast<unsigned long long>(r.records),
                  static_cast<unsigned long long>(pct(r.replayed, 50)), static_cast<unsigned long long>(r.snapshots),
                  static_cast<double>(r.snapshot_bytes) / 1e6, static_cast<double>(r.journal_bytes) / 1e6,
                  static_cast<double>(pct(r.ready_ns, 0)) / 1e6, static_cast<double>(pct(r.ready_ns, 50)) / 1e6,
                  static_cast<double>(pct(r.ready_ns, 100)) / 1e6);
      j.begin_object().num("target", r.target).num("records", r.records).num("replayed", pct(r.replayed, 50))
          .str("from", r.from).num("snapshots", r.snapshots).num("snapshot_bytes", r.snapshot_bytes)
          .num("snapshot_seconds", r.snapshot_seconds).num("journal_bytes", r.journal_bytes)
          .num("fill_seconds", r.fill_seconds).num("journal_phase_median_ns", pct(r.journal_ns, 50));
      j.begin_object("exec_to_ready_ns").num("min", pct(r.ready_ns, 0)).num("median", pct(r.ready_ns, 50))
          .num("max", pct(r.ready_ns, 100)).begin_array("samples");
      for (const std::uint64_t x : r.ready_ns) j.num("", x);
      j.end_array().end_object().end_object();
    }
    j.end_array();
  }
  j.end_object();
  if (!opt.json_path.empty() && !j.save(opt.json_path)) {
    std::fprintf(stderr, "peregrine-bench: cannot write %s\n", opt.json_path.c_str());
    return 2;
  }
  return 0;
}

}  // namespace peregrine::bench
