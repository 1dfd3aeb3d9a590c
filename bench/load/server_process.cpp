#include "server_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <regex>

#include "util.hpp"

namespace peregrine::bench {

const cpu_set_t& startup_affinity() {
  static const cpu_set_t set = [] {
    cpu_set_t s;
    CPU_ZERO(&s);
    if (::sched_getaffinity(0, sizeof s, &s) != 0) {
      for (int c = 0; c < CPU_SETSIZE; ++c) CPU_SET(c, &s);
    }
    return s;
  }();
  return set;
}

bool parse_ready_line(const std::string& line, ReadyLine& out) {
  static const std::regex re(R"(peregrine: ready: OUCH \S+:(\d+), ITCH \S+:(\d+), MoldUDP64 to \S+, HTTP \S+:(\d+))");
  static const std::regex echo_re(R"(peregrine-bench echo: ready: OUCH \S+:(\d+))");
  std::smatch m;
  if (std::regex_search(line, m, echo_re)) {  // the yardstick: OUCH only
    out = ReadyLine{};
    out.ouch = static_cast<std::uint16_t>(std::stoul(m[1]));
    return true;
  }
  if (!std::regex_search(line, m, re)) return false;
  out.ouch = static_cast<std::uint16_t>(std::stoul(m[1]));
  out.itch = static_cast<std::uint16_t>(std::stoul(m[2]));
  out.http = static_cast<std::uint16_t>(std::stoul(m[3]));
  return true;
}

ServerProcess::~ServerProcess() { (void)stop(2000); }

std::string ServerProcess::spawn(const std::vector<std::string>& argv, const std::vector<int>& cpus,
                                 const std::string& log_path) {
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) return std::string("pipe: ") + std::strerror(errno);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const char* log = log_path.empty() ? "/dev/null" : log_path.c_str();
  // Without CPUs of its own the child gets the CPUs this process started with, not whatever
  // this thread has since been pinned to (a fork inherits the caller's affinity).
  cpu_set_t set;
  CPU_ZERO(&set);
  if (cpus.empty()) {
    set = startup_affinity();
  } else {
    for (const int c : cpus) CPU_SET(c, &set);
  }
  exec_ns_ = now_ns();
  const pid_t pid = ::fork();
  if (pid < 0) return std::string("fork: ") + std::strerror(errno);
  if (pid == 0) {
    // Child: only async-signal-safe calls from here to exec.
    ::dup2(pipefd[1], STDOUT_FILENO);
    const int err = ::open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (err >= 0) ::dup2(err, STDERR_FILENO);
    (void)::sched_setaffinity(0, sizeof set, &set);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(pipefd[1]);
  pid_ = pid;
  out_fd_ = pipefd[0];
  out_.clear();
  ready_ = false;
  return {};
}

bool ServerProcess::on_stdout(const char* data, std::size_t n) {
  if (ready_) return true;
  out_.append(data, n);
  const std::size_t eol = out_.find('\n');
  if (eol != std::string::npos && parse_ready_line(out_.substr(0, eol), ports_)) {
    ready_ = true;
    ready_ns_ = now_ns();
  } else if (eol != std::string::npos) {
    out_.erase(0, eol + 1);  // some other line: keep looking
    return on_stdout("", 0);
  }
  return ready_;
}

std::string ServerProcess::wait_ready(int timeout_ms) {
  const std::uint64_t deadline = now_ns() + static_cast<std::uint64_t>(timeout_ms) * 1'000'000;
  char buf[512];
  while (!ready_) {
    const std::uint64_t now = now_ns();
    if (now >= deadline) return "no ready line within " + std::to_string(timeout_ms) + " ms";
    pollfd p{out_fd_, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>((deadline - now) / 1'000'000 + 1));
    if (r < 0 && errno != EINTR) return std::string("poll: ") + std::strerror(errno);
    if (r <= 0) continue;
    const ssize_t n = ::read(out_fd_, buf, sizeof buf);
    if (n == 0) return "the server exited before it was ready (see its log)";
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return std::string("read: ") + std::strerror(errno);
    }
    on_stdout(buf, static_cast<std::size_t>(n));
  }
  return {};
}

void ServerProcess::forget() noexcept {
  pid_ = -1;
  if (out_fd_ >= 0) ::close(out_fd_);
  out_fd_ = -1;
}

int ServerProcess::stop(int timeout_ms) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  const std::uint64_t deadline = now_ns() + static_cast<std::uint64_t>(timeout_ms) * 1'000'000;
  for (;;) {
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) break;
    if (r < 0 && errno != EINTR) break;
    if (now_ns() >= deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    ::usleep(1000);
  }
  pid_ = -1;
  if (out_fd_ >= 0) ::close(out_fd_);
  out_fd_ = -1;
  return status;
}

}  // namespace peregrine::bench
