#pragma once
// Starts the real `peregrine` binary as a child process for a benchmark: fork, pin, exec with the
// given arguments, read its stdout for the ready line ("peregrine: ready: OUCH h:p, ITCH h:p,
// MoldUDP64 to h:p, HTTP h:p"), and stop it with SIGTERM. Its stderr (the log) goes to a file.

#include <sched.h>
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace peregrine::bench {

/// Ports from the ready line.
struct ReadyLine {
  std::uint16_t ouch = 0;
  std::uint16_t itch = 0;
  std::uint16_t http = 0;
};

/// The CPUs this process could use when it started (main() calls this before pinning anything);
/// what a started server gets when no CPUs are given for it.
const cpu_set_t& startup_affinity();

/// Parses the server's ready line, or `peregrine-bench echo`'s ("peregrine-bench echo: ready:
/// OUCH h:p": only `ouch` set); false when `line` is neither.
[[nodiscard]] bool parse_ready_line(const std::string& line, ReadyLine& out);

class ServerProcess {
 public:
  ServerProcess() = default;
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;
  /// Stops the child if it still runs.
  ~ServerProcess();

  /// Forks; the child pins itself to `cpus` (if any), sends stderr to `log_path` (or
  /// /dev/null when empty) and execs `argv[0]` with `argv`. Returns an error text, empty on
  /// success. `exec_ns` (CLOCK_MONOTONIC) is taken just before fork().
  [[nodiscard]] std::string spawn(const std::vector<std::string>& argv, const std::vector<int>& cpus,
                                  const std::string& log_path);

  /// Waits up to `timeout_ms` for the ready line; returns an error text, empty on success.
  /// `ready_ns` is when the line was read.
  [[nodiscard]] std::string wait_ready(int timeout_ms);

  /// SIGTERM, then waits up to `timeout_ms` (then SIGKILL). Returns the exit status as
  /// waitpid() gives it, or -1 if there was no child.
  int stop(int timeout_ms = 5000);

  [[nodiscard]] pid_t pid() const noexcept { return pid_; }
  /// Drops the child without signalling it (the caller has reaped it).
  void forget() noexcept;
  [[nodiscard]] int stdout_fd() const noexcept { return out_fd_; }
  [[nodiscard]] const ReadyLine& ports() const noexcept { return ports_; }
  [[nodiscard]] std::uint64_t exec_ns() const noexcept { return exec_ns_; }
  [[nodiscard]] std::uint64_t ready_ns() const noexcept { return ready_ns_; }
  /// Feeds bytes read from stdout_fd() by a caller's own loop; true once the ready line is in.
  bool on_stdout(const char* data, std::size_t n);

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string out_;
  ReadyLine ports_{};
  bool ready_ = false;
  std::uint64_t exec_ns_ = 0;
  std::uint64_t ready_ns_ = 0;
};

}  // namespace peregrine::bench
