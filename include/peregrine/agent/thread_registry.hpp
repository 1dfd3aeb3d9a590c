#pragma once
/// Thread names and per-thread CPU time: each long-lived thread names itself (`pg-core`,
/// `pg-journal`, ...) and registers its CPU clock (pthread_getcpuclockid), which the metrics
/// thread reads at scrape time (`peregrine_thread_cpu_seconds_total{thread=...}`).

#include <string>
#include <string_view>
#include <vector>

namespace peregrine::agent {

/// While alive, the calling thread is registered under `name`; on destruction (at the end of
/// the thread's function) its CPU time so far is kept, so the count never goes down. With
/// `set_os_name` the thread's name in the OS (pthread_setname_np: top -H, ps -L, gdb, perf) is
/// set too, cut to 15 characters; the main thread keeps the process's name, so it registers
/// without it. One registration per thread at a time; construct and destroy on that thread.
class ThreadCpuRegistration {
 public:
  explicit ThreadCpuRegistration(std::string_view name, bool set_os_name = true);
  ~ThreadCpuRegistration();
  ThreadCpuRegistration(const ThreadCpuRegistration&) = delete;
  ThreadCpuRegistration& operator=(const ThreadCpuRegistration&) = delete;

 private:
  std::string name_;
};

/// CPU seconds of the threads registered under `name` so far (live ones read now, finished ones
/// as they ended); 0 for a name never registered. Any thread.
[[nodiscard]] double thread_cpu_seconds(std::string_view name);

/// The names registered so far, in order of first registration. Any thread.
[[nodiscard]] std::vector<std::string> registered_threads();

}  // namespace peregrine::agent
