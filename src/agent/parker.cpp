#include "peregrine/agent/parker.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <ctime>
#include <system_error>

namespace peregrine::agent {

Parker::Parker() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
}

Parker::~Parker() {
  if (fd_ >= 0) ::close(fd_);
}

void Parker::signal() noexcept {
  const std::uint64_t one = 1;
  // EAGAIN only when the counter would overflow (2^64 - 2 pending): it is readable anyway.
  while (::write(fd_, &one, sizeof one) < 0 && errno == EINTR) {
  }
  signals_.fetch_add(1, std::memory_order_relaxed);
}

void Parker::consume() noexcept {
  std::uint64_t count = 0;
  while (::read(fd_, &count, sizeof count) < 0 && errno == EINTR) {
  }
}

bool Parker::park(std::chrono::nanoseconds timeout) noexcept {
  pollfd p{fd_, POLLIN, 0};
  int rc = 0;
  if (timeout.count() < 0) {
    do {
      rc = ::ppoll(&p, 1, nullptr, nullptr);
    } while (rc < 0 && errno == EINTR);
  } else {
    const timespec ts{static_cast<time_t>(timeout.count() / 1'000'000'000),
                      static_cast<long>(timeout.count() % 1'000'000'000)};
    rc = ::ppoll(&p, 1, &ts, nullptr);  // EINTR: an early return, which the caller's loop absorbs
  }
  const bool woken = rc > 0;
  if (woken) consume();
  finish_park();
  return woken;
}

}  // namespace peregrine::agent
