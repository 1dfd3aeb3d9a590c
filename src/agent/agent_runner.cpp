#include "peregrine/agent/agent_runner.hpp"

#include <string>
#include <system_error>
#include <utility>

#include "peregrine/agent/affinity.hpp"
#include "peregrine/agent/thread_registry.hpp"

namespace peregrine::agent {

AgentRunner::AgentRunner(Agent& agent, AgentOptions options) : agent_(agent), options_(std::move(options)) {}

AgentRunner::~AgentRunner() { stop(); }

void AgentRunner::loop() {
  agent_.on_start();
  WaitStrategy wait(parker_, options_.wait);
  const auto has_work = [this] { return stop_.load(std::memory_order_acquire) || agent_.has_work(); };
  const auto park = [this](Parker& p, std::chrono::nanoseconds bound) {
    const std::chrono::nanoseconds own = agent_.park_timeout();
    // The shorter of the strategy's bound and the agent's (negative: none).
    std::chrono::nanoseconds t = bound;
    if (own.count() >= 0 && (t.count() < 0 || own < t)) t = own;
    return agent_.park(p, t);
  };
  for (;;) {
    const bool stopping = stop_.load(std::memory_order_acquire);
    if (stopping && !options_.drain_on_stop) break;
    const int work = agent_.do_work();
    if (stopping && work == 0) break;
    wait.idle(work, has_work, park);
  }
  agent_.on_close();
  running_.store(false, std::memory_order_release);
}

void AgentRunner::start() {
  if (thread_.joinable()) return;
  stop_.store(false, std::memory_order_release);  // a runner stopped before may start again
  std::atomic<int> started{0};  // 1: pinned and running, 2: could not pin
  running_.store(true, std::memory_order_release);  // running() is true once start() returns
  thread_ = std::thread([this, &started] {
    const ThreadCpuRegistration named(options_.name, options_.set_os_name);
    pin_error_ = pin_current_thread(options_.cpu);
    const bool ok = pin_error_.empty();
    started.store(ok ? 1 : 2, std::memory_order_release);
    if (ok) loop();
  });
  while (started.load(std::memory_order_acquire) == 0) std::this_thread::yield();
  if (started.load(std::memory_order_acquire) == 2) {
    thread_.join();
    running_.store(false, std::memory_order_release);
    throw std::system_error(std::make_error_code(std::errc::invalid_argument),
                            options_.name + " thread: " + pin_error_);
  }
}

void AgentRunner::run_here() {
  running_.store(true, std::memory_order_release);
  const ThreadCpuRegistration named(options_.name, options_.set_os_name);
  pin_error_ = pin_current_thread(options_.cpu);
  loop();
}

void AgentRunner::stop() {
  request_stop();
  if (thread_.joinable()) thread_.join();
}

std::thread launch_named(std::string name, int cpu, std::function<void()> body) {
  return std::thread([name = std::move(name), cpu, body = std::move(body)] {
    const ThreadCpuRegistration named(name);
    (void)pin_current_thread(cpu);
    body();
  });
}

}  // namespace peregrine::agent
