#pragma once
// A peregrine process for the integration tests: spawned (optionally inside a network namespace
// with `ip netns exec`), its ready line read, stopped with SIGTERM or killed with SIGKILL (the
// crash tests). Test code: one thread owns a Process.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

extern char** environ;

namespace peregrine::integration {

/// The first sanitizer report in a server's stderr (ThreadSanitizer, AddressSanitizer,
/// LeakSanitizer, UndefinedBehaviorSanitizer), from its first line on and cut at 6000
/// characters, or "" when there is none. The tests' own process sees only its own races: a race
/// inside the server (at shut-down, say) is in the server's stderr and nowhere else.
inline std::string sanitizer_report(const std::string& log) {
  std::size_t at = std::string::npos;
  for (const char* marker : {"WARNING: ThreadSanitizer", "ERROR: ThreadSanitizer", "ERROR: AddressSanitizer",
                             "ERROR: LeakSanitizer"}) {
    at = std::min(at, log.find(marker));
  }
  // UBSan's "FILE:LINE:COL: runtime error: ...", not any line that happens to say "runtime error".
  static const std::regex kUbsan(R"(\S+:\d+:\d+: runtime error: )");
  for (std::size_t p = log.find(": runtime error: "); p != std::string::npos && p < at;
       p = log.find(": runtime error: ", p + 1)) {
    const std::size_t line = log.rfind('\n', p);
    const std::size_t from = line == std::string::npos ? 0 : line + 1;
    std::smatch m;
    const std::string head = log.substr(from, p - from + 17);
    if (std::regex_match(head, m, kUbsan)) {
      at = from;
      break;
    }
  }
  if (at == std::string::npos) return {};
  const std::size_t line = log.rfind('\n', at);
  return log.substr(line == std::string::npos ? 0 : line + 1, 6000);
}

class Process {
 public:
  Process() = default;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process() { (void)stop(); }

  /// Spawns `args` with stdout to a pipe and stderr to `log`; false when spawning fails.
  bool spawn(const std::vector<std::string>& args, const std::string& log) {
    (void)stop();  // one process at a time; a new one starts with a clean stdout buffer
    buf_.clear();
    line_.clear();
    log_ = log;
    int out[2];
    if (::pipe(out) != 0) return false;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    posix_spawn_file_actions_addclose(&fa, out[1]);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<std::string> copy = args;
    std::vector<char*> argv;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = ::posix_spawnp(&pid_, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    ::close(out[1]);
    if (rc != 0) {
      ::close(out[0]);
      pid_ = -1;
      return false;
    }
    fd_ = out[0];
    return true;
  }

  /// The first stdout line matching `re` within `limit` (empty on timeout or exit).
  std::smatch wait_line(const std::regex& re, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    std::smatch m;
    while (std::chrono::steady_clock::now() < deadline) {
      for (std::size_t nl; (nl = buf_.find('\n')) != std::string::npos;) {
        line_ = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        if (std::regex_search(line_, m, re)) return m;
      }
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      char b[512];
      const ssize_t n = ::read(fd_, b, sizeof b);
      if (n <= 0) break;
      buf_.append(b, static_cast<std::size_t>(n));
    }
    return {};
  }

  /// The stdout line that wait_line last matched (or, after a timeout, the last line it read).
  [[nodiscard]] const std::string& last_line() const noexcept { return line_; }

  /// SIGTERM and wait (SIGKILL after `limit`): the exit code, or -1.
  int stop(std::chrono::milliseconds limit = std::chrono::milliseconds{8000}) { return signal(SIGTERM, limit); }

  /// SIGKILL, as a crash: nothing of the process runs after it. Returns 128 + 9 once reaped.
  int kill_now() { return signal(SIGKILL, std::chrono::milliseconds{8000}); }

  /// The process id (for /proc), or -1 when none runs.
  [[nodiscard]] pid_t pid() const { return pid_; }

  /// True while the process has not exited (it is not reaped here).
  [[nodiscard]] bool running() const {
    siginfo_t info{};
    return pid_ > 0 && ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
           info.si_pid == 0;
  }

  /// `sig`, then waits (SIGKILL after `limit`): 128 + the signal that ended it, its exit code,
  /// or -1 when it had to be killed.
  int signal(int sig, std::chrono::milliseconds limit) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, sig);
    int status = 0;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    pid_t r = 0;
    while ((r = ::waitpid(pid_, &status, WNOHANG)) == 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds{5});
    if (r == 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      status = -1;
    }
    pid_ = -1;
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    if (const std::string report = sanitizer_report(log()); !report.empty())
      ADD_FAILURE() << "the server's stderr (" << log_ << ") has a sanitizer report:\n" << report;
    if (status == -1) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  [[nodiscard]] std::string log() const {
    std::ifstream f(log_);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string buf_;
  std::string line_;
  std::string log_;
};

}  // namespace peregrine::integration
