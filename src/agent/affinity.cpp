#include "peregrine/agent/affinity.hpp"

#include <pthread.h>
#include <sched.h>

#include <cstring>

namespace peregrine::agent {

std::string pin_current_thread(int cpu) {
  if (cpu < 0) return {};
  if (cpu >= CPU_SETSIZE) return "cpu " + std::to_string(cpu) + " is out of range";
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(static_cast<std::size_t>(cpu), &set);
  const int rc = pthread_setaffinity_np(pthread_self(), sizeof set, &set);
  if (rc != 0) return "cannot pin to cpu " + std::to_string(cpu) + ": " + std::strerror(rc);
  return {};
}

}  // namespace peregrine::agent
