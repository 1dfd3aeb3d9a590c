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
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
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
    std::vector<std::string> argv = {opt.server_bin, "--config", opt.config_path,
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
    const std::uint64_t deadline = t0 + 10'000'000'000ULL;
    while ((t_line == 0 || t_readyz == 0 || t_login == 0) && now_ns() < deadline) {
      if (t_line == 0) {
        // Waits up to 50 us for the ready line, which also spaces the connect attempts out so
        // that this loop leaves the CPU to the starting server (1 ns timer slack: 50 us is 50 us).
        ReadyLine ports;
        if (!server.wait_line(ready_line_start(), std::chrono::microseconds{50}).empty() &&
            parse_ready_line(server.last_line(), ports))
          t_line = now_ns();
        else if (server.stdout_closed())
          break;  // exited
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
    const int status = server.stop(std::chrono::seconds{10});
    if (t_line == 0 || t_readyz == 0 || t_login == 0 || login_rejected) {
      std::fprintf(stderr, "peregrine-bench startup: run %u: %s (exit status %d)\n", run,
                   login_rejected ? "login rejected" : "the server did not answer within 10 s", status);
      return 1;
    }
    line.v.push_back(t_line - t0);
    readyz.v.push_back(t_readyz - t0);
    accepted.v.push_back(t_login - t0);
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
  const boost::json::object j{{"tool", "peregrine-bench"}, {"mode", "startup"}, {"command", opt.command_line},
                              {"runs", opt.runs}, {"config", opt.config_path}, {"exec_to_ns", std::move(exec_to_ns)}};
  if (!opt.json_path.empty() && !save_json(opt.json_path, j)) {
    std::fprintf(stderr, "peregrine-bench: cannot write %s\n", opt.json_path.c_str());
    return 2;
  }
  return 0;
}

}  // namespace peregrine::bench
