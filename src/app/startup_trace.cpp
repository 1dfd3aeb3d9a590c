#include "startup_trace.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <array>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "peregrine/agent/clock.hpp"

namespace peregrine::app {

namespace {

struct Mark {
  std::uint64_t mono_ns = 0;  // 0: not marked
  std::uint64_t faults = 0;   // minor + major, the whole process, at the mark
};

constexpr std::size_t kPhases = static_cast<std::size_t>(StartupPhase::kCount);
std::array<Mark, kPhases> g_marks{};
std::uint64_t g_fork_to_main_ns = 0;

std::uint64_t page_faults() noexcept {
  rusage u{};
  if (::getrusage(RUSAGE_SELF, &u) != 0) return 0;
  return static_cast<std::uint64_t>(u.ru_minflt) + static_cast<std::uint64_t>(u.ru_majflt);
}

// The calling thread's time on a CPU plus its time waiting for one, since it was forked
// ("run wait slices" in ns, ns and a count); 0 when the kernel has no schedstat.
std::uint64_t thread_sched_ns() noexcept {
  const int fd = ::open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[128];
  const ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  char* end = nullptr;
  const unsigned long long run = std::strtoull(buf, &end, 10);
  const unsigned long long wait = std::strtoull(end, nullptr, 10);
  return run + wait;
}

}  // namespace

const char* to_string(StartupPhase phase) noexcept {
  switch (phase) {
    case StartupPhase::Main: return "main";
    case StartupPhase::Config: return "config";
    case StartupPhase::Engine: return "engine";
    case StartupPhase::Journal: return "journal";
    case StartupPhase::Core: return "core";
    case StartupPhase::Listeners: return "listeners";
    case StartupPhase::Ops: return "ops";
    case StartupPhase::Ready: return "ready";
    case StartupPhase::kCount: break;
  }
  return "?";
}

void mark_startup(StartupPhase phase) noexcept {
  const auto i = static_cast<std::size_t>(phase);
  if (i >= kPhases || g_marks[i].mono_ns != 0) return;
  g_marks[i] = Mark{agent::mono_ns(), page_faults()};
  if (phase == StartupPhase::Main) g_fork_to_main_ns = thread_sched_ns();
}

std::uint64_t startup_total_ns() noexcept {
  const Mark& main_mark = g_marks[0];
  if (main_mark.mono_ns == 0) return 0;
  std::uint64_t last = main_mark.mono_ns;
  for (const Mark& m : g_marks)
    if (m.mono_ns > last) last = m.mono_ns;
  return g_fork_to_main_ns + (last - main_mark.mono_ns);
}

std::string startup_trace_line() {
  if (g_marks[0].mono_ns == 0) return "main() not marked";
  std::string out;
  char item[96];
  // The main phase's time is the schedstat sum; its faults are all the process took before main().
  std::uint64_t prev_ns = 0, prev_faults = 0, last_faults = 0;
  for (std::size_t i = 0; i < kPhases; ++i) {
    const Mark& m = g_marks[i];
    if (m.mono_ns == 0) continue;
    const std::uint64_t ns = i == 0 ? g_fork_to_main_ns : m.mono_ns - prev_ns;
    std::snprintf(item, sizeof item, "%s%s %.3f ms %" PRIu64 " faults", out.empty() ? "" : ", ",
                  to_string(static_cast<StartupPhase>(i)), static_cast<double>(ns) * 1e-6, m.faults - prev_faults);
    out += item;
    prev_ns = m.mono_ns;
    prev_faults = last_faults = m.faults;
  }
  if (out.empty()) return "no phase marked";
  std::snprintf(item, sizeof item, ", total %.3f ms %" PRIu64 " faults", static_cast<double>(startup_total_ns()) * 1e-6,
                last_faults);
  return out + item;
}

}  // namespace peregrine::app
