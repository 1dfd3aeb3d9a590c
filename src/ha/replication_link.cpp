// Replication over TCP (peregrine/ha/replication_link.hpp): the leader's sender and the standby's
// receiver, plain sockets and poll(2) on a thread each (Asio would add nothing for one socket).

#include "peregrine/ha/replication_link.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <vector>

#include "peregrine/agent/clock.hpp"
#include "peregrine/agent/thread_registry.hpp"
#include "peregrine/ha/epoch_file.hpp"
#include "peregrine/ha/replication.hpp"

namespace peregrine::ha {

namespace {

/// The longest a standby that the leader keeps refusing waits between attempts (docs/ha.md).
constexpr std::chrono::milliseconds kMaxRefusedRetry{5000};

using agent::mono_ns;

std::uint64_t unix_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

std::uint64_t ns(std::chrono::milliseconds ms) { return static_cast<std::uint64_t>(ms.count()) * 1'000'000; }

std::string where(const std::string& host, std::uint16_t port) { return host + ":" + std::to_string(port); }

/// An IPv4 or IPv6 address for `host:port` (numeric or a name), or nothing.
std::optional<sockaddr_storage> resolve(const std::string& host, std::uint16_t port, socklen_t& len) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0 || res == nullptr) return std::nullopt;
  sockaddr_storage ss{};
  std::memcpy(&ss, res->ai_addr, res->ai_addrlen);
  len = res->ai_addrlen;
  ::freeaddrinfo(res);
  return ss;
}

void set_nodelay(int fd) {
  const int one = 1;
  (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/// One connection's byte streams: frames in, frames out, non-blocking.
struct Conn {
  int fd = -1;
  std::vector<std::uint8_t> in;
  std::size_t in_len = 0;
  std::vector<std::uint8_t> out;
  std::size_t out_off = 0;

  Conn() : in(256 * 1024) {}
  [[nodiscard]] bool open() const noexcept { return fd >= 0; }
  [[nodiscard]] std::size_t unsent() const noexcept { return out.size() - out_off; }
  void close() noexcept {
    if (fd >= 0) ::close(fd);
    fd = -1;
    in_len = 0;
    out.clear();
    out_off = 0;
  }
  void adopt(int f) {
    close();
    fd = f;
    (void)::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    set_nodelay(fd);
  }
  /// Appends one frame made by `encode(span) -> size`.
  template <class Encode>
  void put(Encode&& encode) {
    std::array<std::uint8_t, repl::kMaxFrameSize> buf;
    const std::size_t n = encode(std::span<std::uint8_t>(buf));
    out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
  }
  /// Sends what it can; false when the peer is gone (`why` says so).
  bool flush(std::string& why) {
    while (out_off < out.size()) {
      const ssize_t k = ::send(fd, out.data() + out_off, out.size() - out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (k < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        why = std::string("send: ") + std::strerror(errno);
        return false;
      }
      out_off += static_cast<std::size_t>(k);
    }
    if (out_off == out.size()) {
      out.clear();
      out_off = 0;
    } else if (out_off > (1u << 20)) {
      out.erase(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(out_off));
      out_off = 0;
    }
    return true;
  }
  /// Reads what is there; false when the peer closed or failed (`why` says so).
  bool receive(std::string& why) {
    for (;;) {
      if (in_len == in.size()) return true;  // decode first
      const ssize_t k = ::recv(fd, in.data() + in_len, in.size() - in_len, MSG_DONTWAIT);
      if (k > 0) {
        in_len += static_cast<std::size_t>(k);
        continue;
      }
      if (k == 0) {
        why = "connection closed by the peer";
        return false;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
      why = std::string("recv: ") + std::strerror(errno);
      return false;
    }
  }
  /// Decodes the frames received, calling `fn(frame) -> bool` (false: stop, the connection is
  /// being closed); false on a broken frame (`why` says which).
  template <class Fn>
  bool frames(std::string& why, Fn&& fn) {
    std::size_t off = 0;
    bool ok = true;
    while (ok) {
      repl::Frame f;
      std::size_t used = 0;
      const repl::DecodeStatus st = repl::decode({in.data() + off, in_len - off}, f, used);
      if (st == repl::DecodeStatus::NeedMore) break;
      if (st != repl::DecodeStatus::Ok) {
        why = "a broken frame: " + std::string(repl::to_string(st));
        return false;
      }
      off += used;
      ok = fn(f);
    }
    if (!ok) return true;  // the handler closed the connection
    std::memmove(in.data(), in.data() + off, in_len - off);
    in_len -= off;
    return true;
  }
};

}  // namespace

// ---- the leader ---------------------------------------------------------------------------

struct LeaderLink::Impl {
  LeaderLink& l;
  explicit Impl(LeaderLink& link) : l(link) {}

  Conn conn;
  std::unique_ptr<journal::JournalTail> tail;  // set by a valid Subscribe: the stream is on
  std::optional<repl::LeaderAckGate> gate;
  std::uint64_t sent = 0;           // highest seq sent on this connection
  std::uint64_t last_rx_ns = 0;     // last frame from the standby
  std::uint64_t waiting_since = 0;  // written records unacknowledged since (0: none waiting)
  std::uint64_t next_heartbeat = 0;
  std::uint64_t catch_up_to = 0;    // written when the standby subscribed: in sync once acked
  bool in_sync = false;
  bool deposed = false;
  std::string refusal;                // the last reason a standby was refused ("" after a subscribe)
  std::uint64_t refusal_repeats = 0;  // refused again since for that reason, not logged

  void log(std::string_view level, const std::string& line) {
    if (l.log_) l.log_(level, "ha: " + line);
  }

  void set_sync(bool on, const std::string& why) {
    if (on == in_sync || (on && deposed)) return;
    in_sync = on;
    // The owner first (it switches the writer's fallback), then the state others read: whoever
    // sees in_sync 1 sees replies waiting for the standby.
    if (l.on_sync_) l.on_sync_(on, why);
    if (!on) l.stats_.standby_lost.fetch_add(1, std::memory_order_relaxed);
    l.stats_.in_sync.store(on, std::memory_order_release);
  }

  /// `key`: what makes two refusals the same one (default: the whole reason), for a reason that
  /// names something that moves on its own, such as this leader's written seq.
  void drop(const std::string& why, bool refused, const std::string& key = {}) {
    if (!conn.open()) return;
    if (refused) l.stats_.refused.fetch_add(1, std::memory_order_relaxed);
    // A standby refused for what it holds or is comes back every few seconds and is refused
    // again: the reason is logged when it first comes and when it changes, not at every attempt
    // (peregrine_ha_refused_total counts each one).
    const std::string& same = key.empty() ? why : key;
    if (refused && same == refusal) {
      ++refusal_repeats;
    } else {
      log(refused ? "error" : "warn", "standby connection closed: " + why);
      refusal = refused ? same : std::string();
      refusal_repeats = 0;
    }
    conn.close();
    tail.reset();
    gate.reset();
    l.stats_.connected.store(false, std::memory_order_relaxed);
    set_sync(false, "standby connection closed: " + why);
  }

  /// A newer epoch exists: this leader acknowledges nothing more (docs/ha.md, "Epochs and
  /// fencing"). Its owner hears it whatever the sync state was.
  void depose(const std::string& why) {
    deposed = true;
    l.stats_.deposed.store(true, std::memory_order_relaxed);
    if (in_sync) {
      set_sync(false, why);
    } else if (l.on_sync_) {
      l.on_sync_(false, why);
    }
    drop(why, true);
  }

  /// A standby of an older epoch (an old leader rejoining) that holds records past the point
  /// where a newer epoch began in this journal (an EpochStart record: a promotion) holds records
  /// this leader never had: its unacknowledged tail. Read from this node's journal, only for such
  /// a Subscribe. The reason to refuse it, or "".
  std::string diverged(std::uint64_t epoch, std::uint64_t held) {
    if (epoch >= l.opts_.epoch || held == 0) return {};
    try {
      journal::JournalTail scan(l.opts_.dir, l.opts_.fingerprint, 1);
      std::uint64_t began = 0;
      std::uint64_t newer = 0;
      while (began == 0 && scan.next_seq() <= held) {
        const std::size_t n = scan.poll(held, 4096, [&](const journal::Record& r) {
          if (began != 0 || r.kind != journal::RecordKind::EpochStart || r.payload.size() != sizeof(journal::EpochStartRecord))
            return;
          journal::EpochStartRecord e;
          std::memcpy(&e, r.payload.data(), sizeof e);
          if (e.epoch > epoch) {
            began = r.seq;
            newer = e.epoch;
          }
        });
        if (n == 0) break;
      }
      if (began == 0) return {};
      return "the standby (epoch " + std::to_string(epoch) + ") holds seq " + std::to_string(held) + ", but epoch " +
             std::to_string(newer) + " began here at seq " + std::to_string(began) + ": its records " +
             std::to_string(began) + ".." + std::to_string(held) +
             " were never acknowledged by this leader; its journal's tail must be cut before it follows";
    } catch (const journal::JournalError& e) {
      return std::string("reading the journal for the standby's epoch: ") + e.what();
    }
  }

  void accept() {
    const int f = ::accept4(l.listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (f < 0) return;
    if (conn.open()) drop("a new standby connection replaces it", false);
    conn.adopt(f);
    last_rx_ns = mono_ns();
    l.stats_.connections.fetch_add(1, std::memory_order_relaxed);
    l.stats_.connected.store(true, std::memory_order_relaxed);
  }

  bool on_frame(const repl::Frame& f) {
    last_rx_ns = mono_ns();
    const std::uint64_t written = l.writer_.written_seq();
    if (f.type == repl::FrameType::Subscribe) {
      if (tail) {
        drop("a second Subscribe", true);
        return false;
      }
      if (f.config_fingerprint != l.opts_.fingerprint) {
        drop("the standby's engine configuration differs (fingerprint)", true);
        return false;
      }
      if (f.epoch > l.opts_.epoch) {
        depose("the standby follows epoch " + std::to_string(f.epoch) + ", newer than this leader's " +
               std::to_string(l.opts_.epoch) + ": this leader is deposed and acknowledges nothing more");
        return false;
      }
      if (f.seq > written) {
        // Its tail holds records this leader never wrote (an old leader's unacknowledged tail):
        // it must be cut before it can follow, which is not built (docs/ha.md).
        drop("the standby holds seq " + std::to_string(f.seq) + ", past this leader's " + std::to_string(written) +
                 ": its journal's tail must be cut before it follows",
             true, "ahead " + std::to_string(f.seq));
        return false;
      }
      if (const std::string why = diverged(f.epoch, f.seq); !why.empty()) {
        drop(why, true);
        return false;
      }
      tail = std::make_unique<journal::JournalTail>(l.opts_.dir, l.opts_.fingerprint, f.seq + 1);
      gate.emplace(l.opts_.epoch);
      sent = f.seq;
      // What it holds is held: the same records (this leader's journal up to `written`).
      l.writer_.on_replica_ack(f.seq);
      l.stats_.acked_seq.store(f.seq, std::memory_order_relaxed);
      waiting_since = mono_ns();
      catch_up_to = written;
      log("info", "standby subscribed at seq " + std::to_string(f.seq + 1) + " (this leader has written " +
                      std::to_string(written) + ", epoch " + std::to_string(l.opts_.epoch) + ")" +
                      (refusal_repeats > 0 ? "; it had been refused " + std::to_string(refusal_repeats + 1) +
                                                 " times before (the reason logged above)"
                                           : std::string()));
      refusal.clear();
      refusal_repeats = 0;
      return true;
    }
    if (f.type != repl::FrameType::Ack || !gate) {
      drop("an unexpected frame from the standby", true);
      return false;
    }
    switch (gate->on_ack(f, sent)) {
      case repl::AckVerdict::Advanced:
        l.writer_.on_replica_ack(f.seq);
        l.stats_.acked_seq.store(f.seq, std::memory_order_relaxed);
        waiting_since = mono_ns();  // progress: the timeout counts from here
        return true;
      case repl::AckVerdict::Stale: return true;
      case repl::AckVerdict::Deposed:
        depose("the standby acknowledges epoch " + std::to_string(f.epoch) + ": this leader is deposed");
        return false;
      case repl::AckVerdict::Invalid:
        drop("an Ack of seq " + std::to_string(f.seq) + " past what was sent (" + std::to_string(sent) + ")", true);
        return false;
    }
    return true;
  }

  /// Records from the journal files, up to what the writer has written, while the send buffer
  /// is short; true when it queued any.
  bool feed() {
    if (!tail || conn.unsent() > (256u << 10)) return false;
    const std::uint64_t written = l.writer_.written_seq();
    if (tail->next_seq() > written) return false;
    std::size_t n = 0;
    try {
      n = tail->poll(written, 1024, [&](const journal::Record& r) {
        conn.put([&](std::span<std::uint8_t> b) {
          return repl::encode_record(b, l.opts_.epoch, r.seq, static_cast<std::uint8_t>(r.kind), r.payload);
        });
        sent = r.seq;
      });
    } catch (const journal::JournalError& e) {
      drop(std::string("reading the journal: ") + e.what(), true);
      return false;
    }
    l.stats_.records.fetch_add(n, std::memory_order_relaxed);
    return n > 0;
  }

  void check_sync(std::uint64_t now) {
    const std::uint64_t timeout = ns(l.opts_.standby_timeout);
    if (!tail) return;  // drop() has said why
    const std::uint64_t written = l.writer_.written_seq();
    const std::uint64_t acked = l.writer_.replica_acked();
    if (acked >= written) waiting_since = 0;
    else if (waiting_since == 0) waiting_since = now;
    if (in_sync) {
      if (waiting_since != 0 && now - waiting_since > timeout) {
        set_sync(false, "the standby has acknowledged nothing past seq " + std::to_string(acked) + " for " +
                            std::to_string(l.opts_.standby_timeout.count()) + " ms (" + std::to_string(written - acked) +
                            " records wait)");
      } else if (now - last_rx_ns > timeout) {
        set_sync(false, "the standby has been silent for " + std::to_string(l.opts_.standby_timeout.count()) + " ms");
      }
    } else if (acked >= catch_up_to && (waiting_since == 0 || now - waiting_since <= timeout) &&
               now - last_rx_ns <= timeout && !deposed) {
      // Caught up with what was written when it subscribed, and acknowledging as it goes.
      set_sync(true, "the standby holds every record (seq " + std::to_string(acked) + ")");
    }
  }

  void run() {
    const agent::ThreadCpuRegistration named("pg-repl");
    while (!l.stop_.load(std::memory_order_acquire)) {
      const std::uint64_t now = mono_ns();
      bool busy = false;
      if (conn.open() && !deposed) {
        busy = feed();
        if (tail && now >= next_heartbeat) {
          conn.put([&](std::span<std::uint8_t> b) {
            return repl::encode_heartbeat(b, l.opts_.epoch, l.writer_.written_seq(), unix_ns());
          });
          next_heartbeat = now + ns(l.opts_.heartbeat);
        }
        std::string why;
        if (conn.unsent() > 0 && !conn.flush(why)) drop(why, false);
      }

      pollfd fds[3] = {{l.listen_fd_, POLLIN, 0}, {l.parker_.fd(), POLLIN, 0}, {conn.fd, 0, 0}};
      if (conn.open()) fds[2].events = static_cast<short>(POLLIN | (conn.unsent() > 0 ? POLLOUT : 0));
      // Parker's protocol: announce, re-check what producers wake this thread for, then wait.
      l.parker_.prepare_park();
      const bool more = busy || (tail && conn.unsent() <= (256u << 10) && tail->next_seq() <= l.writer_.written_seq());
      int wait_ms = static_cast<int>(std::max<std::int64_t>(1, l.opts_.heartbeat.count() / 2));
      if (more) wait_ms = 0;
      const int n = ::poll(fds, conn.open() ? 3 : 2, wait_ms);
      l.parker_.finish_park();
      if (n > 0) {
        if ((fds[1].revents & POLLIN) != 0) l.parker_.consume();
        if ((fds[0].revents & POLLIN) != 0) accept();
        if (conn.open() && conn.fd == fds[2].fd && (fds[2].revents & (POLLIN | POLLERR | POLLHUP)) != 0) {
          std::string why;
          if (!conn.receive(why)) {
            drop(why, false);
          } else if (!conn.frames(why, [&](const repl::Frame& f) { return on_frame(f); })) {
            drop(why, true);
          }
        }
      }
      // After reading: a thread that was itself stopped reads what waited before judging silence.
      check_sync(mono_ns());
    }
    conn.close();
  }
};

LeaderLink::LeaderLink(LeaderLinkOptions opts, journal::JournalWriter& writer, LinkLog log,
                       std::function<void(bool, const std::string&)> on_sync)
    : opts_(std::move(opts)), writer_(writer), log_(std::move(log)), on_sync_(std::move(on_sync)),
      parker_(opts_.parker != nullptr ? *opts_.parker : own_parker_), impl_(std::make_unique<Impl>(*this)) {}

LeaderLink::~LeaderLink() {
  stop();
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

void LeaderLink::bind() {
  if (listen_fd_ >= 0) return;
  socklen_t len = 0;
  const std::optional<sockaddr_storage> addr = resolve(opts_.host, opts_.port, len);
  const std::string at = where(opts_.host, opts_.port);
  if (!addr) throw std::runtime_error("ha.listen: cannot resolve " + at);
  const int fd = ::socket(addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) throw std::runtime_error("ha.listen: socket: " + std::string(std::strerror(errno)));
  const int one = 1;
  (void)::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&*addr), len) != 0 || ::listen(fd, 4) != 0) {
    const int err = errno;
    ::close(fd);
    throw std::runtime_error("cannot listen for replication (ha.listen) on " + at + ": " + std::strerror(err));
  }
  sockaddr_storage bound{};
  socklen_t blen = sizeof bound;
  (void)::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &blen);
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<const sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<const sockaddr_in*>(&bound)->sin_port);
  listen_fd_ = fd;
}

void LeaderLink::start() {
  if (thread_.joinable()) return;
  bind();
  stop_.store(false, std::memory_order_release);
  thread_ = std::thread([this] { impl_->run(); });
}

void LeaderLink::stop() {
  if (!thread_.joinable()) return;
  stop_.store(true, std::memory_order_release);
  parker_.signal();
  thread_.join();
}

// ---- the standby --------------------------------------------------------------------------

struct StandbyLink::Impl {
  StandbyLink& l;
  repl::StandbyGate gate;
  Impl(StandbyLink& link, std::uint64_t held, std::uint64_t epoch) : l(link), gate(epoch, held), kept_epoch(epoch) {}

  Conn conn;
  std::uint64_t last_rx_ns = 0;
  std::uint64_t next_connect_ns = 0;
  std::uint64_t ack_sent = 0;
  bool want_ack = false;
  bool failing = false;  // the last attempt failed: say so once, not every retry
  bool heard = false;          // this connection has brought a frame the gate took
  std::uint32_t unheard = 0;   // connections in a row the leader closed before sending anything
  std::string unheard_why;     // how the last of those ended (logged again when it changes)
  std::uint64_t kept_epoch = 0;  // the epoch in opts.epoch_file
  std::vector<std::uint8_t> payload;

  void log(std::string_view level, const std::string& line) {
    if (l.log_) l.log_(level, "ha: " + line);
  }

  /// `peer_closed`: the leader ended the connection (end of stream or reset), as it does when it
  /// refuses a Subscribe; not this standby's own judgement (silence, a bad frame, a failed send).
  void drop(const std::string& why, bool refused, bool peer_closed = false) {
    if (!conn.open()) return;
    if (refused) l.stats_.refused.fetch_add(1, std::memory_order_relaxed);
    conn.close();
    l.stats_.connected.store(false, std::memory_order_relaxed);
    std::chrono::milliseconds wait = l.opts_.retry;
    if (!heard && !refused && peer_closed) {
      // Closed by the leader right after the Subscribe: it refuses this standby (what it holds,
      // its epoch or its configuration; the leader's log says which) and will refuse it again
      // until an operator acts. Said once; the attempts back off, doubling up to kMaxRefusedRetry.
      ++unheard;
      const std::chrono::milliseconds cap = std::max(l.opts_.retry, kMaxRefusedRetry);
      const std::int64_t factor = std::int64_t{1} << std::min<std::uint32_t>(unheard, 10);
      wait = std::min<std::chrono::milliseconds>(l.opts_.retry * factor, cap);
      if (unheard == 1 || why != unheard_why)
        log("warn", "the leader closed the connection before sending anything (" + why +
                        "): it refuses this standby, its log says why; retrying, at most every " +
                        std::to_string(cap.count()) + " ms");
      unheard_why = why;
    } else {
      log(refused ? "error" : "warn", "connection to the leader closed: " + why + "; reconnecting");
    }
    next_connect_ns = mono_ns() + ns(wait);
  }

  /// A blocking connect bounded by `retry` (at least 100 ms), then Subscribe.
  void connect() {
    next_connect_ns = mono_ns() + ns(l.opts_.retry);
    socklen_t len = 0;
    const std::optional<sockaddr_storage> addr = resolve(l.opts_.host, l.opts_.port, len);
    const std::string at = where(l.opts_.host, l.opts_.port);
    std::string why;
    int fd = -1;
    if (!addr) {
      why = "cannot resolve " + at;
    } else if ((fd = ::socket(addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0) {
      why = std::string("socket: ") + std::strerror(errno);
    } else if (::connect(fd, reinterpret_cast<const sockaddr*>(&*addr), len) != 0 && errno != EINPROGRESS) {
      why = "connect to " + at + ": " + std::strerror(errno);
    } else {
      pollfd p{fd, POLLOUT, 0};
      const int limit = static_cast<int>(std::max<std::int64_t>(100, l.opts_.retry.count()));
      int err = 0;
      socklen_t elen = sizeof err;
      if (::poll(&p, 1, limit) != 1) {
        why = "connect to " + at + ": timed out";
      } else if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0 || err != 0) {
        why = "connect to " + at + ": " + std::strerror(err);
      }
    }
    if (!why.empty()) {
      if (fd >= 0) ::close(fd);
      if (!failing) log("warn", why + " (retrying every " + std::to_string(l.opts_.retry.count()) + " ms)");
      failing = true;
      return;
    }
    failing = false;
    heard = false;
    conn.adopt(fd);
    last_rx_ns = mono_ns();
    ack_sent = gate.held();
    l.stats_.connections.fetch_add(1, std::memory_order_relaxed);
    l.stats_.connected.store(true, std::memory_order_relaxed);
    conn.put([&](std::span<std::uint8_t> b) { return repl::encode_subscribe(b, gate.epoch(), gate.held(), l.opts_.fingerprint); });
    if (unheard == 0) log("info", "connected to the leader at " + at + "; subscribed after seq " + std::to_string(gate.held()));
  }

  /// Appends the record to the standby's journal (the same seq) and hands it to the replica.
  /// The gate has checked that it is the next seq; the writer numbers it alike, since it was
  /// opened after `held` (the constructor's contract).
  bool append(const repl::Frame& f) {
    const auto kind = static_cast<journal::RecordKind>(f.kind);
    if (kind == journal::RecordKind::Command) {
      if (f.payload.size() != sizeof(Command)) {
        drop("a command record of " + std::to_string(f.payload.size()) + " bytes", true);
        return false;
      }
      Command c;
      std::memcpy(static_cast<void*>(&c), f.payload.data(), sizeof c);
      while (l.writer_.ring().try_push(c) != ring::PushResult::Ok) {
        l.writer_.parker().wake();
        std::this_thread::yield();  // the writer is a whole ring behind: it frees room by writing
      }
    } else {
      (void)l.writer_.append_marker(kind, f.payload);  // numbered after the commands before it
    }
    journal::Record r;
    r.seq = f.seq;
    r.kind = kind;
    r.payload = f.payload;
    if (l.deliver_) l.deliver_(r);
    l.stats_.records.fetch_add(1, std::memory_order_relaxed);
    return true;
  }

  /// A newer epoch is kept on disk before anything of it is appended (peregrine/ha/epoch_file.hpp).
  bool keep_epoch() {
    if (gate.epoch() <= kept_epoch || l.opts_.epoch_file.empty()) return true;
    try {
      write_epoch_file(l.opts_.epoch_file, gate.epoch());
    } catch (const std::exception& e) {
      drop(std::string("cannot keep the new epoch: ") + e.what(), true);
      return false;
    }
    log("info", "following epoch " + std::to_string(gate.epoch()) + " (was " + std::to_string(kept_epoch) + ")");
    kept_epoch = gate.epoch();
    return true;
  }

  bool on_frame(const repl::Frame& f) {
    last_rx_ns = mono_ns();
    const std::uint64_t before = gate.epoch();
    const std::uint64_t held_before = gate.held();
    const repl::Verdict v = gate.on_frame(f);
    if ((v == repl::Verdict::Append || v == repl::Verdict::Accept) && !keep_epoch()) {
      // Not kept: the frame is not taken; the next connection offers it again.
      gate = repl::StandbyGate(before, held_before);
      return false;
    }
    l.stats_.epoch.store(gate.epoch(), std::memory_order_relaxed);
    if (v == repl::Verdict::Append || v == repl::Verdict::Accept || v == repl::Verdict::Duplicate) {
      l.stats_.last_rx_ns.store(last_rx_ns, std::memory_order_relaxed);
      if (!heard && unheard > 0)
        log("info", "the leader took this standby's Subscribe after " + std::to_string(unheard) + " refused");
      heard = true;
      unheard = 0;
    }
    switch (v) {
      case repl::Verdict::Append: return append(f);
      case repl::Verdict::Duplicate: return true;
      case repl::Verdict::Accept:
        if (f.type == repl::FrameType::Heartbeat) l.stats_.leader_seq.store(f.seq, std::memory_order_relaxed);
        want_ack = true;  // a heartbeat: answer, so the leader hears from its standby
        return true;
      case repl::Verdict::OlderEpoch:
        drop("a frame of epoch " + std::to_string(f.epoch) + ", older than " + std::to_string(gate.epoch()) +
                 " (a deposed leader)",
             true);
        return false;
      case repl::Verdict::Gap:
        drop("record seq " + std::to_string(f.seq) + " after " + std::to_string(gate.held()) + " (a gap)", true);
        return false;
      case repl::Verdict::Unexpected:
        drop("a frame only a leader receives", true);
        return false;
    }
    return true;
  }

  void run() {
    const agent::ThreadCpuRegistration named("pg-repl");
    while (!l.stop_.load(std::memory_order_acquire)) {
      const std::uint64_t now = mono_ns();
      if (!conn.open()) {
        if (now >= next_connect_ns) connect();
        if (!conn.open()) {
          const auto wait = std::chrono::nanoseconds(next_connect_ns > now ? next_connect_ns - now : 0);
          (void)l.parker_.park(std::min<std::chrono::nanoseconds>(wait, std::chrono::milliseconds(100)));
          continue;
        }
      }
      // Acknowledge what the journal holds now (the writer wakes this thread when it grows).
      l.writer_.parker().wake();
      const std::uint64_t held = l.writer_.written_seq();
      if (held > ack_sent || want_ack) {
        conn.put([&](std::span<std::uint8_t> b) { return repl::encode_ack(b, gate.epoch(), std::min(held, gate.held())); });
        ack_sent = std::max(ack_sent, held);
        want_ack = false;
        l.stats_.acked_seq.store(ack_sent, std::memory_order_relaxed);
      }
      std::string why;
      if (conn.unsent() > 0 && !conn.flush(why)) {
        drop(why, false);
        continue;
      }
      pollfd fds[2] = {{conn.fd, static_cast<short>(POLLIN | (conn.unsent() > 0 ? POLLOUT : 0)), 0},
                       {l.parker_.fd(), POLLIN, 0}};
      l.parker_.prepare_park();
      const bool more = l.writer_.written_seq() > ack_sent;
      const int n = ::poll(fds, 2, more ? 0 : 10);
      l.parker_.finish_park();
      if (n > 0 && (fds[1].revents & POLLIN) != 0) l.parker_.consume();
      if (n > 0 && (fds[0].revents & (POLLIN | POLLERR | POLLHUP)) != 0) {
        if (!conn.receive(why)) {
          drop(why, false, true);
          continue;
        }
        if (!conn.frames(why, [&](const repl::Frame& f) { return on_frame(f); })) drop(why, true);
        continue;
      }
      // Silence is judged only after a wait that brought nothing (not after this thread was stopped).
      if (conn.open() && mono_ns() - last_rx_ns > ns(l.opts_.leader_timeout))
        drop("the leader has been silent for " + std::to_string(l.opts_.leader_timeout.count()) + " ms", false);
    }
    conn.close();
    l.stats_.connected.store(false, std::memory_order_relaxed);
    l.exited_.store(true, std::memory_order_release);
  }
};

StandbyLink::StandbyLink(StandbyLinkOptions opts, journal::JournalWriter& writer, std::uint64_t held, std::uint64_t epoch,
                         std::function<void(const journal::Record&)> deliver, LinkLog log)
    : opts_(std::move(opts)), writer_(writer), deliver_(std::move(deliver)), log_(std::move(log)),
      parker_(opts_.parker != nullptr ? *opts_.parker : own_parker_), impl_(std::make_unique<Impl>(*this, held, epoch)) {
  stats_.epoch.store(epoch, std::memory_order_relaxed);
  stats_.acked_seq.store(held, std::memory_order_relaxed);
}

StandbyLink::~StandbyLink() { stop(); }

void StandbyLink::start() {
  if (thread_.joinable()) return;
  stop_.store(false, std::memory_order_release);
  exited_.store(false, std::memory_order_release);
  thread_ = std::thread([this] { impl_->run(); });
}

void StandbyLink::request_stop() noexcept {
  stop_.store(true, std::memory_order_release);
  parker_.signal();
}

void StandbyLink::stop() {
  if (!thread_.joinable()) return;
  stop_.store(true, std::memory_order_release);
  parker_.signal();
  thread_.join();
}

}  // namespace peregrine::ha
