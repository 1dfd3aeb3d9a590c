#pragma once
/// Filling a new buffer's pages in with one system call instead of one page fault per 4 KiB.
///
/// The io thread appends every message it sends to a retention buffer (a user's OUCH messages,
/// the day's ITCH stream) whose chunks are new memory until the retention is reached: on this VM
/// each first touch of a page is a fault and a round trip to the hypervisor, 16 % of the server's
/// samples at maximum throughput (docs/benchmarks.md, "What bounds the end-to-end figures").
/// `madvise(MADV_POPULATE_WRITE)` (Linux 5.14) maps the whole range writable at once, as if each
/// page had been written, without touching the bytes. Where it is missing, pages fault on first
/// touch as before: this is a speed-up, never a condition.

#include <cstddef>
#include <cstdint>

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

namespace peregrine::sessions {

/// Pre-faults, writable, the whole pages inside [p, p + bytes) (the partial pages at either end
/// are left to fault on first touch). Errors are ignored.
inline void prefault_for_write(void* p, std::size_t bytes) noexcept {
#if defined(__linux__) && defined(MADV_POPULATE_WRITE)
  static const std::uintptr_t page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto begin = reinterpret_cast<std::uintptr_t>(p);
  const std::uintptr_t first = (begin + page - 1) & ~(page - 1);
  const std::uintptr_t last = (begin + bytes) & ~(page - 1);
  if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_POPULATE_WRITE);
#else
  (void)p;
  (void)bytes;
#endif
}

}  // namespace peregrine::sessions
