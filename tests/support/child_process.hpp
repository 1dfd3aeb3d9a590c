#pragma once
// The one process launcher of the tests and the benchmarks (peregrine-bench starts the server
// and the echo yardstick with it; testing::Process adds the tests' sanitizer check on top). A
// program is forked and exec'd (found in PATH when its name has no '/'), optionally pinned to
// given CPUs before exec; its stdout is read line by line with a bound, its stderr goes to a
// file; it is stopped by a signal and reaped with a bound, SIGKILL after it. Its exit is waited
// for on a pidfd, never by sleeping. One thread owns a ChildProcess.

#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <regex>
#include <string>
#include <vector>

namespace peregrine::support {

/// How the child starts.
struct SpawnOptions {
  /// The child's stderr, created or truncated; empty: /dev/null.
  std::string stderr_path;
  /// The child's CPUs, set in the child before exec; empty: inherited from the calling thread.
  std::vector<int> cpus;
};

class ChildProcess {
 public:
  ChildProcess() = default;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  /// Stops the child if it still runs (SIGTERM, SIGKILL after 8 s).
  ~ChildProcess() { (void)stop(); }

  /// Forks and execs `argv` (argv[0] the program) with stdout to a pipe read by wait_line().
  /// Returns an error text (the program not found or not executable, a failed pipe or fork),
  /// empty on success. A child still running from an earlier spawn is stopped first.
  [[nodiscard]] std::string spawn(const std::vector<std::string>& argv, const SpawnOptions& options = {});

  /// CLOCK_MONOTONIC (steady_clock) just before the fork of the last spawn.
  [[nodiscard]] std::chrono::steady_clock::time_point spawned_at() const noexcept { return spawned_at_; }

  /// The first stdout line from now on that matches `re`, waiting at most `limit`; lines before
  /// it are passed over. Empty on timeout, or when stdout closed (see stdout_closed()).
  std::smatch wait_line(const std::regex& re, std::chrono::nanoseconds limit);

  /// The line wait_line last matched (or, after a timeout, the last line it read).
  [[nodiscard]] const std::string& last_line() const noexcept { return line_; }

  /// True once the child's stdout reached end of file (it exited or closed it).
  [[nodiscard]] bool stdout_closed() const noexcept { return eof_; }

  /// Waits up to `limit` for the child to exit, SIGKILL after that. Returns its exit code, 128 +
  /// the signal that ended it, or -1 when it had to be killed (or there is no child).
  int wait_exit(std::chrono::milliseconds limit);

  /// `sig`, then wait_exit(limit).
  int signal(int sig, std::chrono::milliseconds limit);

  /// SIGTERM and wait (SIGKILL after `limit`).
  int stop(std::chrono::milliseconds limit = std::chrono::milliseconds{8000}) { return signal(SIGTERM, limit); }

  /// SIGKILL, as a crash: nothing of the process runs after it. Returns 128 + 9 once reaped.
  int kill_now() { return signal(SIGKILL, std::chrono::milliseconds{8000}); }

  /// The process id (for /proc), or -1 when none runs.
  [[nodiscard]] pid_t pid() const noexcept { return pid_; }

  /// True while the process has not exited (it is not reaped here).
  [[nodiscard]] bool running() const;

  /// The file its stderr goes to ("" for /dev/null).
  [[nodiscard]] const std::string& stderr_path() const noexcept { return stderr_path_; }

 private:
  void release() noexcept;
  pid_t pid_ = -1;
  int pidfd_ = -1;
  int out_fd_ = -1;
  bool eof_ = false;
  std::string buf_;
  std::string line_;
  std::string stderr_path_;
  std::chrono::steady_clock::time_point spawned_at_{};
};

}  // namespace peregrine::support
