#pragma once
// The tests' process launcher: support::ChildProcess (the one launcher, shared with the
// benchmarks) with the tests' check on top. A `peregrine` (or any program) spawned, optionally
// inside a network namespace with `ip netns exec`, its stdout lines read with a bound, stopped
// with SIGTERM or killed with SIGKILL (the crash tests). Every stop reads the process's stderr log
// and fails the running test on a sanitizer report in it. Test code: one thread owns a Process.

#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <regex>
#include <string>
#include <vector>

#include "support/child_process.hpp"

namespace peregrine::testing {

/// The first sanitizer report in a server's stderr (ThreadSanitizer, AddressSanitizer,
/// LeakSanitizer, UndefinedBehaviorSanitizer), from its first line on and cut at 6000
/// characters, or "" when there is none. The tests' own process sees only its own races: a race
/// inside the server (at shut-down, say) is in the server's stderr and nowhere else.
[[nodiscard]] std::string sanitizer_report(const std::string& log);

class Process {
 public:
  Process() = default;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process() { (void)stop(); }

  /// Spawns `args` with stdout to a pipe and stderr to `log`; false when spawning fails.
  bool spawn(const std::vector<std::string>& args, const std::string& log);

  /// The first stdout line matching `re` within `limit` (empty on timeout or exit).
  std::smatch wait_line(const std::regex& re, std::chrono::milliseconds limit) { return child_.wait_line(re, limit); }

  /// The stdout line that wait_line last matched (or, after a timeout, the last line it read).
  [[nodiscard]] const std::string& last_line() const noexcept { return child_.last_line(); }

  /// SIGTERM and wait (SIGKILL after `limit`): the exit code, or -1.
  int stop(std::chrono::milliseconds limit = std::chrono::milliseconds{8000}) { return signal(SIGTERM, limit); }

  /// SIGKILL, as a crash: nothing of the process runs after it. Returns 128 + 9 once reaped.
  int kill_now() { return signal(SIGKILL, std::chrono::milliseconds{8000}); }

  /// The process id (for /proc), or -1 when none runs.
  [[nodiscard]] pid_t pid() const noexcept { return child_.pid(); }

  /// True while the process has not exited (it is not reaped here).
  [[nodiscard]] bool running() const { return child_.running(); }

  /// `sig`, then waits (SIGKILL after `limit`): 128 + the signal that ended it, its exit code,
  /// or -1 when it had to be killed (or there is no process). Once reaped, a sanitizer report in
  /// the log fails the running test.
  int signal(int sig, std::chrono::milliseconds limit);

  /// SIGSTOP, then waits (at most `limit`) until every thread of the process has stopped: true
  /// once they all have. kill() returns before that: the kernel stops the threads one by one as
  /// each next runs in the kernel, so on a loaded machine another of its threads may still run,
  /// and answer a peer, for a while after the signal was sent.
  bool pause(std::chrono::milliseconds limit = std::chrono::milliseconds{10000});

  /// SIGCONT: true when the signal was sent.
  bool resume();

  /// The process's stderr so far (its log file).
  [[nodiscard]] std::string log() const;

 private:
  support::ChildProcess child_;
};

}  // namespace peregrine::testing
