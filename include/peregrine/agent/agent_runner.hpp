#pragma once
/// One way to run a thread of the service, after Aeron's Agent and AgentRunner: an agent says
/// what one pass of work is (`do_work`, returning how much it did); the runner owns the thread,
/// its name (pthread_setname_np), its CPU (pinning and the CPU-time registration that /metrics
/// reads), its duty-cycle loop and wait strategy (agent::WaitStrategy over the runner's
/// agent::Parker), and its close. The loop:
///
///   on_start();
///   for (;;) {
///     stopping = stop requested;
///     if (stopping && !drain_on_stop) break;
///     work = do_work();
///     if (stopping && work == 0) break;
///     wait.idle(work, [] { return stop requested || has_work(); }, park);
///   }
///   on_close();
///
/// Reading the stop flag before the pass makes the drain exact: a producer that stops before
/// the stop request has pushed everything before it, and the pass after the read sees it all.
/// An agent whose thread waits in an event loop of its own (epoll) replaces the park step
/// (`park`); one that has timed duties bounds it (`park_timeout`).

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "peregrine/agent/parker.hpp"
#include "peregrine/agent/wait_strategy.hpp"

namespace peregrine::agent {

/// The work of one thread. All members are called on the runner's thread only.
class Agent {
 public:
  virtual ~Agent() = default;
  /// One pass: take what the inputs hold, up to a bound; how much was done (0: nothing).
  virtual int do_work() = 0;
  /// The re-check of parker.hpp's protocol, after the runner announced that it parks: true if
  /// any input a producer wakes this thread for holds something.
  virtual bool has_work() { return false; }
  /// The longest park before the next pass (negative: until woken). For timed duties.
  virtual std::chrono::nanoseconds park_timeout() { return std::chrono::nanoseconds{-1}; }
  /// Waits, after the announcement and a re-check that found nothing, until woken or
  /// `timeout` (negative: no bound); must end with `parker.finish_park()`; true when woken. The
  /// default is `parker.park(timeout)` (ppoll on the eventfd); an event loop waits on
  /// `parker.fd()` instead.
  virtual bool park(Parker& parker, std::chrono::nanoseconds timeout) { return parker.park(timeout); }
  /// Before the first pass, on the thread (after it is named and pinned).
  virtual void on_start() {}
  /// After the last pass, on the thread.
  virtual void on_close() {}
};

/// How a runner runs its agent.
struct AgentOptions {
  std::string name;  ///< the thread's name: OS name (15 characters) and /metrics label
  int cpu = -1;      ///< pin to this CPU; -1: not pinned
  WaitOptions wait{};
  /// Set the OS name. False for the main thread, which keeps the process's name (ps, pidof).
  bool set_os_name = true;
  /// On stop, go on with passes until one does nothing (the core: nothing taken is dropped);
  /// false: stop after the current pass, with no further one (the snapshot thread).
  bool drain_on_stop = true;
};

/// Runs one agent on a thread of its own (`start`) or on the calling thread (`run_here`).
/// `parker()` is the agent's wake-up channel: its producers call `parker().wake()` after they
/// publish. Threads: `start`, `run_here`, `stop` by the owner; `parker().wake()` by producers;
/// `request_stop` by any thread.
class AgentRunner {
 public:
  AgentRunner(Agent& agent, AgentOptions options);
  ~AgentRunner();
  AgentRunner(const AgentRunner&) = delete;
  AgentRunner& operator=(const AgentRunner&) = delete;

  /// Starts the thread and waits until it is named and pinned. Throws std::system_error naming
  /// the thread and the CPU when it cannot pin (the thread has ended then). Nothing while it
  /// runs; after `stop`, starts it again.
  void start();
  /// Runs the loop on the calling thread until `request_stop` (the main thread's io loop).
  /// A pinning failure does not stop it: `pin_error()` says why (from `on_start` on).
  void run_here();
  /// Why the thread could not be pinned, or empty. The runner's thread, or after `start`.
  [[nodiscard]] const std::string& pin_error() const noexcept { return pin_error_; }
  /// Asks the loop to end and wakes it wherever it waits. Any thread; async-signal-safe.
  void request_stop() noexcept {
    stop_.store(true, std::memory_order_release);
    parker_.signal();
  }
  /// `request_stop`, then joins the thread (if `start` made one). Owner.
  void stop();
  /// True once `request_stop` was called. Any thread.
  [[nodiscard]] bool stop_requested() const noexcept { return stop_.load(std::memory_order_acquire); }
  /// True while the loop runs. Any thread.
  [[nodiscard]] bool running() const noexcept { return running_.load(std::memory_order_acquire); }
  /// The agent's wake-up channel.
  [[nodiscard]] Parker& parker() noexcept { return parker_; }
  [[nodiscard]] const AgentOptions& options() const noexcept { return options_; }

 private:
  void loop();

  Agent& agent_;
  AgentOptions options_;
  Parker parker_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> running_{false};
  std::string pin_error_;
  std::thread thread_;
};

/// A thread that is not a duty-cycle loop (an Asio server's `run()`, a library's worker) but is
/// still the topology's: named, pinned when `cpu` >= 0 (a failure is ignored: such threads are
/// never pinned today), its CPU time registered under `name` while `body` runs. The caller joins.
[[nodiscard]] std::thread launch_named(std::string name, int cpu, std::function<void()> body);

}  // namespace peregrine::agent
