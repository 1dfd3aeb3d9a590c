#include "pingpong.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "peregrine/proto/ouch42.hpp"
#include "peregrine/proto/soupbintcp.hpp"
#include "util.hpp"

namespace peregrine::bench {
namespace {

namespace soup = proto::soup;
namespace ouch = proto::ouch;

// What an order and its answer weigh on the wire: SoupBinTCP Unsequenced Data carrying an OUCH
// Enter Order, and Sequenced Data carrying an Accepted.
constexpr std::size_t kRequestBytes = soup::kHeaderSize + ouch::kEnterOrderSize;  // 52
constexpr std::size_t kReplyBytes = soup::kHeaderSize + ouch::kAcceptedSize;      // 69

/// Reads exactly `n` bytes; spinning on MSG_DONTWAIT or blocking. False on EOF or error.
bool read_exact(int fd, std::uint8_t* p, std::size_t n, bool spin) {
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::recv(fd, p + got, n - got, spin ? MSG_DONTWAIT : 0);
    if (r > 0) {
      got += static_cast<std::size_t>(r);
    } else if (r == 0) {
      return false;
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      return false;
    }
  }
  return true;
}

bool write_all(int fd, const std::uint8_t* p, std::size_t n) {
  std::size_t put = 0;
  while (put < n) {
    const ssize_t w = ::send(fd, p + put, n - put, MSG_NOSIGNAL);
    if (w < 0 && errno != EINTR && errno != EAGAIN) return false;
    if (w > 0) put += static_cast<std::size_t>(w);
  }
  return true;
}

}  // namespace

int run_pingpong(const PingPongOptions& opt) {
  const int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(lfd, 1) != 0 ||
      ::getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    std::fprintf(stderr, "peregrine-bench pingpong: listen: %s\n", std::strerror(errno));
    return 2;
  }
  std::atomic<bool> echo_failed{false};
  std::thread echo([&] {
    if (const std::string e = pin_to(opt.echo_cpus); !e.empty()) std::fprintf(stderr, "pingpong: --echo-cpus: %s\n", e.c_str());
    tighten_timer_slack();
    const int fd = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      echo_failed = true;
      return;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::vector<std::uint8_t> in(kRequestBytes), out(kReplyBytes, 'x');
    while (read_exact(fd, in.data(), in.size(), opt.spin)) {
      if (!write_all(fd, out.data(), out.size())) break;
    }
    ::close(fd);
  });
  if (const std::string e = pin_to(opt.cpus); !e.empty()) std::fprintf(stderr, "pingpong: --cpus: %s\n", e.c_str());
  tighten_timer_slack();
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    std::fprintf(stderr, "peregrine-bench pingpong: connect: %s\n", std::strerror(errno));
    ::close(lfd);
    echo.join();
    return 2;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  std::vector<std::uint8_t> req(kRequestBytes, 'y'), rep(kReplyBytes);
  auto h = std::make_unique<LatencyHistogram>();
  bool ok = true;
  for (std::uint64_t i = 0; i < opt.warmup + opt.count && ok; ++i) {
    const std::uint64_t t = now_ns();
    ok = write_all(fd, req.data(), req.size()) && read_exact(fd, rep.data(), rep.size(), opt.spin);
    const std::uint64_t rtt = now_ns() - t;
    if (i >= opt.warmup) h->record(rtt);
  }
  ::shutdown(fd, SHUT_RDWR);
  ::close(fd);
  echo.join();
  ::close(lfd);
  if (!ok || echo_failed) {
    std::fprintf(stderr, "peregrine-bench pingpong: the connection failed\n");
    return 2;
  }
  std::printf("peregrine-bench pingpong: TCP loopback round trip, %zu bytes out, %zu back (an OUCH Enter Order and its "
              "Accepted in SoupBinTCP), %s, %llu round trips after %llu warm-up\n",
              kRequestBytes, kReplyBytes, opt.spin ? "both ends busy-polling" : "both ends blocking in recv",
              static_cast<unsigned long long>(opt.count), static_cast<unsigned long long>(opt.warmup));
  print_histogram_header(stdout);
  print_histogram_row(stdout, "round trip", *h);
  if (!opt.json_path.empty()) {
    const boost::json::object j{{"tool", "peregrine-bench"},
                                {"mode", "pingpong"},
                                {"command", opt.command_line},
                                {"wait", opt.spin ? "spin" : "block"},
                                {"request_bytes", kRequestBytes},
                                {"reply_bytes", kReplyBytes},
                                {"count", opt.count},
                                {"warmup", opt.warmup},
                                {"rtt_ns", histogram_json(*h)}};
    if (!save_json(opt.json_path, j)) {
      std::fprintf(stderr, "peregrine-bench: cannot write %s\n", opt.json_path.c_str());
      return 2;
    }
  }
  return 0;
}

}  // namespace peregrine::bench
