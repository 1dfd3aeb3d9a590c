#include "support/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>

namespace peregrine::support {

namespace {

/// `name` as execv takes it: as given when it holds a '/', else the first executable file of
/// that name in PATH; empty when there is none.
std::string find_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* env = std::getenv("PATH");
  const std::string path = env != nullptr ? env : "/usr/local/bin:/usr/bin:/bin";
  std::size_t from = 0;
  while (from <= path.size()) {
    const std::size_t colon = std::min(path.find(':', from), path.size());
    const std::string dir = colon == from ? "." : path.substr(from, colon - from);
    const std::string candidate = dir + "/" + name;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0)
      return candidate;
    from = colon + 1;
  }
  return {};
}

void close_fd(int& fd) noexcept {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

}  // namespace

std::string ChildProcess::spawn(const std::vector<std::string>& argv, const SpawnOptions& options) {
  (void)stop();  // one process at a time; a new one starts with a clean stdout buffer
  buf_.clear();
  line_.clear();
  eof_ = false;
  stderr_path_ = options.stderr_path;
  if (argv.empty()) return "no program to start";
  const std::string program = find_program(argv[0]);
  if (program.empty()) return argv[0] + ": not found in PATH";
  // Everything the child needs is prepared here: between fork and exec it may only make
  // async-signal-safe calls (the parent may have other threads).
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const char* const err_path = options.stderr_path.empty() ? "/dev/null" : options.stderr_path.c_str();
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  for (const int c : options.cpus) CPU_SET(c, &cpus);
  const bool pin = !options.cpus.empty();

  int out[2];
  int exec_error[2];  // the child writes errno here when exec fails; closed by a successful exec
  if (::pipe2(out, O_CLOEXEC) != 0) return std::string("pipe: ") + std::strerror(errno);
  if (::pipe2(exec_error, O_CLOEXEC) != 0) {
    const int e = errno;
    ::close(out[0]);
    ::close(out[1]);
    return std::string("pipe: ") + std::strerror(e);
  }
  spawned_at_ = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int e = errno;
    for (const int fd : {out[0], out[1], exec_error[0], exec_error[1]}) ::close(fd);
    return std::string("fork: ") + std::strerror(e);
  }
  if (pid == 0) {
    int e = 0;
    if (::dup2(out[1], STDOUT_FILENO) < 0) e = errno;
    const int err = e == 0 ? ::open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : -1;
    if (e == 0 && (err < 0 || ::dup2(err, STDERR_FILENO) < 0)) e = errno;
    if (e == 0 && pin) (void)::sched_setaffinity(0, sizeof cpus, &cpus);
    if (e == 0) {
      ::execv(program.c_str(), args.data());
      e = errno;
    }
    (void)!::write(exec_error[1], &e, sizeof e);
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(exec_error[1]);
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  const int pidfd_errno = errno;
  int child_errno = 0;
  ssize_t n = 0;
  do {
    n = ::read(exec_error[0], &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  ::close(exec_error[0]);
  if (n > 0 || pidfd < 0) {
    if (pidfd < 0) ::kill(pid, SIGKILL);
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    if (pidfd >= 0) ::close(pidfd);
    ::close(out[0]);
    if (n > 0) return "starting " + program + ": " + std::strerror(child_errno);
    return std::string("pidfd_open: ") + std::strerror(pidfd_errno);
  }
  pid_ = pid;
  pidfd_ = pidfd;
  out_fd_ = out[0];
  return {};
}

std::smatch ChildProcess::wait_line(const std::regex& re, std::chrono::nanoseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  std::smatch m;
  for (;;) {
    for (std::size_t nl; (nl = buf_.find('\n')) != std::string::npos;) {
      line_ = buf_.substr(0, nl);
      buf_.erase(0, nl + 1);
      if (std::regex_search(line_, m, re)) return m;
    }
    if (eof_ || out_fd_ < 0) return {};
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::nanoseconds::zero()) return {};
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
    const timespec wait{static_cast<std::time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
    pollfd p{out_fd_, POLLIN, 0};
    const int r = ::ppoll(&p, 1, &wait, nullptr);
    if (r < 0 && errno != EINTR) return {};
    if (r <= 0) continue;
    char b[512];
    const ssize_t n = ::read(out_fd_, b, sizeof b);
    if (n == 0) eof_ = true;
    if (n > 0) buf_.append(b, static_cast<std::size_t>(n));
  }
}

int ChildProcess::wait_exit(std::chrono::milliseconds limit) {
  if (pid_ <= 0) return -1;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  bool killed = false;
  for (;;) {
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) break;
    if (r < 0 && errno != EINTR) {  // not our child any more (reaped elsewhere)
      killed = true;
      break;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ::kill(pid_, SIGKILL);
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      killed = true;
      break;
    }
    pollfd p{pidfd_, POLLIN, 0};  // readable once the child has exited
    (void)::poll(&p, 1, static_cast<int>(left.count()) + 1);
  }
  release();
  if (killed) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int ChildProcess::signal(int sig, std::chrono::milliseconds limit) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, sig);
  return wait_exit(limit);
}

bool ChildProcess::running() const {
  siginfo_t info{};
  return pid_ > 0 && ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid == 0;
}

void ChildProcess::release() noexcept {
  pid_ = -1;
  close_fd(pidfd_);
  close_fd(out_fd_);
}

}  // namespace peregrine::support
