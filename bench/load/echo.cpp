#include "echo.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "peregrine/proto/ouch42.hpp"
#include "peregrine/proto/soupbintcp.hpp"
#include "util.hpp"

namespace peregrine::bench {
namespace {

namespace soup = proto::soup;
namespace ouch = proto::ouch;

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

constexpr std::size_t kReadBytes = 1 << 16;
constexpr std::size_t kOutReserve = 1 << 20;
constexpr std::uint64_t kHeartbeatNs = 1'000'000'000;
constexpr std::uint64_t kListenerTag = UINT64_MAX;

/// OUCH's "nanoseconds since midnight", UTC (the echo server has no market clock).
std::uint64_t ns_since_midnight() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec % 86400) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

struct Conn {
  int fd = -1;
  std::size_t slot = 0;  ///< index in EchoServer::conns_, the epoll tag
  soup::StreamDecoder dec{soup::Role::Server};
  std::vector<std::uint8_t> out;  ///< replies of this pass (and what the socket did not take)
  std::size_t out_off = 0;
  std::uint64_t last_sent_ns = 0;
  bool logged_in = false;
  bool closing = false;  ///< Logout Request: close once `out` is sent
  bool want_out = false;  ///< registered for EPOLLOUT
};

class EchoServer {
 public:
  explicit EchoServer(const EchoOptions& opt) : opt_(opt), rbuf_(std::make_unique<std::uint8_t[]>(kReadBytes)) {}
  int run();

 private:
  std::string listen();
  void accept_all();
  void on_readable(Conn& c);
  void on_packet(Conn& c, const soup::Packet& p);
  void answer(Conn& c, const ouch::Inbound& in);
  std::uint8_t* reserve(Conn& c, std::size_t payload, soup::PacketType type);
  void flush(Conn& c);
  void close_conn(Conn& c);

  const EchoOptions& opt_;
  int lfd_ = -1;
  int epfd_ = -1;
  std::vector<std::unique_ptr<Conn>> conns_;  ///< index = epoll tag; closed slots are reused
  std::unique_ptr<std::uint8_t[]> rbuf_;
  std::uint64_t order_ref_ = 0;
};

std::string EchoServer::listen() {
  const std::size_t colon = opt_.listen.rfind(':');
  if (colon == std::string::npos) return "--listen: not HOST:PORT: " + opt_.listen;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(std::stoul(opt_.listen.substr(colon + 1))));
  if (::inet_pton(AF_INET, opt_.listen.substr(0, colon).c_str(), &a.sin_addr) != 1) return "not an IPv4 address: " + opt_.listen;
  lfd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(lfd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(lfd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(lfd_, 64) != 0)
    return "listen " + opt_.listen + ": " + std::strerror(errno);
  socklen_t len = sizeof a;
  ::getsockname(lfd_, reinterpret_cast<sockaddr*>(&a), &len);
  char host[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &a.sin_addr, host, sizeof host);
  epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kListenerTag;
  ::epoll_ctl(epfd_, EPOLL_CTL_ADD, lfd_, &ev);
  std::printf("peregrine-bench echo: ready: OUCH %s:%u\n", host, static_cast<unsigned>(ntohs(a.sin_port)));
  std::fflush(stdout);
  return {};
}

void EchoServer::accept_all() {
  for (;;) {
    const int fd = ::accept4(lfd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::size_t slot = 0;
    while (slot < conns_.size() && conns_[slot]->fd >= 0) ++slot;
    if (slot == conns_.size()) {
      conns_.push_back(std::make_unique<Conn>());
      conns_.back()->out.reserve(kOutReserve);
    }
    Conn& c = *conns_[slot];
    c.fd = fd;
    c.slot = slot;
    c.dec.reset();
    c.out.clear();
    c.out_off = 0;
    c.logged_in = c.closing = c.want_out = false;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = slot;
    ::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
  }
}

void EchoServer::close_conn(Conn& c) {
  ::close(c.fd);  // also leaves the epoll set
  c.fd = -1;
}

std::uint8_t* EchoServer::reserve(Conn& c, std::size_t payload, soup::PacketType type) {
  const std::size_t at = c.out.size();
  c.out.resize(at + soup::kHeaderSize + payload);
  (void)soup::encode_header(type, payload, std::span<std::uint8_t>(c.out.data() + at, soup::kHeaderSize));
  return c.out.data() + at + soup::kHeaderSize;
}

void EchoServer::answer(Conn& c, const ouch::Inbound& in) {
  const std::uint64_t ts = ns_since_midnight();
  switch (in.type) {
    case ouch::InboundType::EnterOrder: {
      const ouch::EnterOrder& e = in.enter;
      const ouch::Accepted a{ts, e.token, e.side, e.shares, e.stock, e.price, e.tif, e.firm, e.display, ++order_ref_,
                             e.capacity, e.iso, e.min_qty, e.cross_type, 'L', ' '};
      (void)ouch::encode(a, std::span<std::uint8_t>(reserve(c, ouch::kAcceptedSize, soup::PacketType::SequencedData), ouch::kAcceptedSize));
      return;
    }
    case ouch::InboundType::ReplaceOrder: {
      // No book: what the original order carried (side, stock, firm) is not known here; the
      // message has its full size all the same.
      const ouch::ReplaceOrder& r = in.replace;
      const ouch::Replaced m{ts, r.replacement, 'B', r.shares, Symbol::from(""), r.price, r.tif, FirmName::from(""),
                             r.display, ++order_ref_, 'A', r.iso, r.min_qty, 'N', 'L', r.existing, ' '};
      (void)ouch::encode(m, std::span<std::uint8_t>(reserve(c, ouch::kReplacedSize, soup::PacketType::SequencedData), ouch::kReplacedSize));
      return;
    }
    case ouch::InboundType::CancelOrder: {
      const ouch::Canceled m{ts, in.cancel.token, 0, 'U'};  // decrement unknown without a book
      (void)ouch::encode(m, std::span<std::uint8_t>(reserve(c, ouch::kCanceledSize, soup::PacketType::SequencedData), ouch::kCanceledSize));
      return;
    }
  }
}

void EchoServer::on_packet(Conn& c, const soup::Packet& p) {
  switch (p.type) {
    case soup::PacketType::LoginRequest: {
      if (c.logged_in) return;
      c.logged_in = true;
      const soup::LoginAccepted la{soup::SessionId::from("ECHO"), 1};
      const std::size_t at = c.out.size();
      c.out.resize(at + soup::kLoginAcceptedSize);
      (void)soup::encode_login_accepted(la, std::span<std::uint8_t>(c.out.data() + at, soup::kLoginAcceptedSize));
      return;
    }
    case soup::PacketType::UnsequencedData: {
      ouch::Inbound in{};
      if (!c.logged_in || ouch::decode_inbound(p.payload, in) != ouch::Status::Ok) {
        c.closing = true;  // as peregrine does with garbage: end the session
        return;
      }
      answer(c, in);
      return;
    }
    case soup::PacketType::LogoutRequest: c.closing = true; return;
    default: return;  // Client Heartbeat
  }
}

void EchoServer::on_readable(Conn& c) {
  // One recv per readable socket per pass; every whole packet in it answered into `out`.
  const ssize_t r = ::recv(c.fd, rbuf_.get(), kReadBytes, 0);
  if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) return close_conn(c);
  if (r < 0) return;
  const auto st = c.dec.dispatch(std::span<const std::uint8_t>(rbuf_.get(), static_cast<std::size_t>(r)), [&](const soup::Packet& p) {
    on_packet(c, p);
    return !c.closing;
  });
  if (st != soup::DecodeStatus::Ok) c.closing = true;
}

void EchoServer::flush(Conn& c) {
  while (c.out_off < c.out.size()) {
    const ssize_t w = ::send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EAGAIN) break;
      return close_conn(c);
    }
    c.out_off += static_cast<std::size_t>(w);
  }
  if (c.out_off == c.out.size()) {
    c.out.clear();
    c.out_off = 0;
    c.last_sent_ns = now_ns();
    if (c.closing) return close_conn(c);
  }
  const bool want = c.out_off < c.out.size();
  if (want != c.want_out) {
    c.want_out = want;
    epoll_event ev{};
    ev.events = EPOLLIN | (want ? EPOLLOUT : 0u);
    ev.data.u64 = c.slot;
    ::epoll_ctl(epfd_, EPOLL_CTL_MOD, c.fd, &ev);
  }
}

int EchoServer::run() {
  struct sigaction sa{};
  sa.sa_handler = on_signal;  // no SA_RESTART: epoll_wait returns EINTR
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);
  if (const std::string err = listen(); !err.empty()) {
    std::fprintf(stderr, "peregrine-bench echo: %s\n", err.c_str());
    return 2;
  }
  if (const std::string err = pin_to(opt_.cpus); !err.empty()) {
    std::fprintf(stderr, "peregrine-bench echo: --cpus: %s\n", err.c_str());
    return 2;
  }
  std::array<epoll_event, 64> evs{};
  std::uint64_t last_hb = now_ns();
  while (g_stop == 0) {
    const int n = ::epoll_wait(epfd_, evs.data(), static_cast<int>(evs.size()), opt_.spin ? 0 : 100);
    for (int i = 0; i < n; ++i) {
      const std::uint64_t tag = evs[static_cast<std::size_t>(i)].data.u64;
      if (tag == kListenerTag) {
        accept_all();
        continue;
      }
      Conn& c = *conns_[tag];
      if (c.fd < 0) continue;
      if ((evs[static_cast<std::size_t>(i)].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) on_readable(c);
      if (c.fd >= 0) flush(c);  // the pass's replies of this session: one send
    }
    const std::uint64_t now = now_ns();
    if (now - last_hb >= kHeartbeatNs / 4) {
      last_hb = now;
      for (auto& cp : conns_) {
        Conn& c = *cp;
        if (c.fd < 0 || !c.logged_in || now - c.last_sent_ns < kHeartbeatNs) continue;
        const std::size_t at = c.out.size();
        c.out.resize(at + soup::kEmptyPacketSize);
        (void)soup::encode_empty(soup::PacketType::ServerHeartbeat, std::span<std::uint8_t>(c.out.data() + at, soup::kEmptyPacketSize));
        flush(c);
      }
    }
  }
  for (auto& c : conns_)
    if (c->fd >= 0) close_conn(*c);
  ::close(lfd_);
  ::close(epfd_);
  return 0;
}

}  // namespace

int run_echo(const EchoOptions& opt) {
  EchoServer server(opt);
  return server.run();
}

}  // namespace peregrine::bench
