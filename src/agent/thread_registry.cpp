#include "peregrine/agent/thread_registry.hpp"

#include <pthread.h>
#include <time.h>

#include <mutex>

namespace peregrine::agent {

namespace {

struct Entry {
  std::string name;
  clockid_t clock{};
  bool live = false;
  double finished = 0;  // seconds of the registrations under this name that have ended
};

struct Registry {
  std::mutex mu;
  std::vector<Entry> entries;  // a handful of threads: a linear search is fine
  Entry* find(std::string_view name) {
    for (Entry& e : entries)
      if (e.name == name) return &e;
    return nullptr;
  }
};

Registry& registry() {
  static Registry r;  // never destroyed before the threads that use it: function-local static
  return r;
}

double seconds_of(clockid_t clock) {
  timespec ts{};
  if (::clock_gettime(clock, &ts) != 0) return 0;
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace

ThreadCpuRegistration::ThreadCpuRegistration(std::string_view name, bool set_os_name) : name_(name) {
  if (set_os_name) {
    const std::string os_name = name_.substr(0, 15);  // the kernel's limit (16 with the NUL)
    (void)::pthread_setname_np(::pthread_self(), os_name.c_str());
  }
  clockid_t clock{};
  if (::pthread_getcpuclockid(::pthread_self(), &clock) != 0) return;
  Registry& r = registry();
  const std::lock_guard lock(r.mu);
  Entry* e = r.find(name_);
  if (e == nullptr) e = &r.entries.emplace_back(Entry{name_, clock, false, 0});
  e->clock = clock;
  e->live = true;
}

ThreadCpuRegistration::~ThreadCpuRegistration() {
  Registry& r = registry();
  const std::lock_guard lock(r.mu);
  Entry* e = r.find(name_);
  if (e == nullptr || !e->live) return;
  e->finished += seconds_of(CLOCK_THREAD_CPUTIME_ID);  // this thread's own clock, before it ends
  e->live = false;
}

double thread_cpu_seconds(std::string_view name) {
  Registry& r = registry();
  const std::lock_guard lock(r.mu);
  const Entry* e = r.find(name);
  if (e == nullptr) return 0;
  return e->finished + (e->live ? seconds_of(e->clock) : 0);
}

std::vector<std::string> registered_threads() {
  Registry& r = registry();
  const std::lock_guard lock(r.mu);
  std::vector<std::string> out;
  for (const Entry& e : r.entries) out.push_back(e.name);
  return out;
}

}  // namespace peregrine::agent
