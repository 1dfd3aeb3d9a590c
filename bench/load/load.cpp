#include "load.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "peregrine/config/service.hpp"
#include "peregrine/proto/ouch42.hpp"
#include "peregrine/proto/soupbintcp.hpp"
#include "server_process.hpp"
#include "util.hpp"

namespace peregrine::bench {
namespace {

namespace soup = proto::soup;
namespace ouch = proto::ouch;

constexpr std::uint32_t kNone = UINT32_MAX;

enum class State : std::uint8_t { Pending, Live, Done };

/// One order token of a session, from the request that created it to its terminal answer.
struct Order {
  std::uint64_t t_req = 0;     ///< intended send time of the request awaiting an answer (new/replace/cancel)
  std::uint32_t price = 0;
  std::uint32_t shares = 0;
  std::uint32_t open = 0;
  std::uint32_t existing = kNone;  ///< a replacement: the order it replaces
  std::uint32_t live_pos = kNone;  ///< index in Session::live while cancelable
  std::uint16_t instrument = 0;
  char side = 'B';
  State state = State::Pending;
  std::uint8_t terminals = 0;
  bool ioc = false;
  bool invalid = false;
  bool measured = false;
  bool cancel_pending = false;
  bool cancel_measured = false;
  bool replace_pending = false;
  bool first_exec_seen = false;
};

/// Answer latencies by response type.
enum Hist : std::size_t { kAccepted, kFirstExecuted, kCanceled, kReplaced, kRejected, kCancelRejected, kSendLag, kHistCount };
constexpr const char* kHistNames[kHistCount] = {"accepted", "first_executed", "canceled", "replaced",
                                                "rejected", "cancel_rejected", "send_lag"};

struct Counts {
  std::uint64_t sent = 0, sent_new = 0, sent_aggressive = 0, sent_cancel = 0, sent_replace = 0, sent_invalid = 0;
  std::uint64_t sent_measured = 0, answers_measured = 0;
  std::uint64_t accepted = 0, rejected = 0, rejected_expected = 0, replaced = 0, canceled = 0, canceled_ioc = 0,
                cancel_rejected = 0, executed_msgs = 0, replace_rejected = 0, cancel_refused = 0;
  std::uint64_t buy_shares = 0, sell_shares = 0, matches = 0;
  std::uint64_t converted_to_cancel = 0;  ///< new orders sent as cancels because the session was at max_live
  std::uint64_t final_cancels = 0;  ///< cancels of what still rests after the run (not measured)
};

struct Session {
  std::string user;
  int fd = -1;
  soup::StreamDecoder dec{soup::Role::Client};
  std::vector<std::uint8_t> out;
  std::size_t out_off = 0;
  std::vector<Order> orders;
  std::vector<std::uint32_t> live;  ///< cancelable orders (live day orders with nothing pending)
  std::uint64_t inflight = 0;       ///< requests without their answer yet
  bool ended = false;
};

struct MatchHalf {
  char side;
  std::uint32_t shares;
  std::uint32_t price;
  char liquidity;
};

class Runner {
 public:
  Runner(const LoadOptions& opt, const config::ServiceConfig& cfg) : opt_(opt), cfg_(cfg),
      traffic_(cfg.engine.instruments, opt.mix, opt.zipf, opt.reject_ratio, opt.seed) {
    for (auto& h : hist_) h = std::make_unique<LatencyHistogram>();
  }

  int run(const std::string& host, std::uint16_t port);

 private:
  // --- setup
  std::string connect_all(const std::string& host, std::uint16_t port);
  // --- sending
  void send_one(Session& s, std::uint64_t intended, bool measured);
  void send_new(Session& s, const NewOrder& o, std::uint64_t intended, bool measured);
  void send_cancel(Session& s, std::uint32_t id, std::uint64_t intended, bool measured);
  void send_replace(Session& s, std::uint32_t id, std::uint64_t intended, bool measured);
  void put_packet(Session& s, std::span<const std::uint8_t> msg);
  bool flush(Session& s);
  // --- receiving
  int receive(Session& s, std::uint64_t now);
  void on_message(Session& s, const ouch::Outbound& m, std::uint64_t now);
  void on_echo_message(Session& s, const ouch::Outbound& m, std::uint64_t now);
  Order* find(Session& s, const Token& t, const char* what);
  void make_live(Session& s, std::uint32_t id);
  void unlist(Session& s, std::uint32_t id);
  void terminal(Session& s, std::uint32_t id);
  void answered(Session& s, const Order& o, std::uint64_t now, Hist h, bool measured);
  void error(std::string text);
  // --- phases
  bool wait_answers(std::uint64_t deadline);
  void cancel_everything();
  void check_final();
  void check_final_echo();
  void report(double measured_s, std::uint64_t t_start);

  const LoadOptions& opt_;
  const config::ServiceConfig& cfg_;
  Traffic traffic_;
  std::vector<std::unique_ptr<Session>> sessions_;
  std::array<std::unique_ptr<LatencyHistogram>, kHistCount> hist_;
  Counts n_;
  std::unordered_map<std::uint64_t, MatchHalf> open_matches_;
  std::array<std::uint64_t, 256> reject_reasons_{};
  std::uint64_t errors_ = 0;
  std::vector<std::string> error_samples_;
  std::uint64_t unanswered_ = 0;
  std::uint64_t non_terminal_ = 0;
  std::uint64_t orders_total_ = 0;
  std::uint64_t last_heartbeat_ = 0;
  int epfd_ = -1;
  std::array<std::uint8_t, 1 << 16> rbuf_{};
};

Token token_of(std::uint32_t id) {
  Token t;
  std::uint32_t v = id;
  for (int i = 13; i >= 0; --i) {
    t.c[static_cast<std::size_t>(i)] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  return t;
}

bool id_of(const Token& t, std::uint32_t& id) {
  std::uint64_t v = 0;
  for (const char c : t.c) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (v >= kNone) return false;
  id = static_cast<std::uint32_t>(v);
  return true;
}

void Runner::error(std::string text) {
  ++errors_;
  if (error_samples_.size() < 20) error_samples_.push_back(std::move(text));
}

std::string Runner::connect_all(const std::string& host, std::uint16_t port) {
  std::size_t want = opt_.sessions == 0 ? cfg_.users.size() : opt_.sessions;
  if (want > cfg_.users.size()) return "--sessions " + std::to_string(want) + ": the config has only " + std::to_string(cfg_.users.size()) + " users";
  epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
  for (std::size_t i = 0; i < want; ++i) {
    const config::UserConfig& u = cfg_.users[i];
    const config::Credential* cred = cfg_.credentials.find(u.username);
    if (cred == nullptr) return "user " + u.username + " has no password in the credentials file";
    auto s = std::make_unique<Session>();
    s->user = u.username;
    s->fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    if (::inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1) return "not an IPv4 address: " + host;
    if (::connect(s->fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
      return "connect " + host + ":" + std::to_string(port) + ": " + std::strerror(errno);
    int one = 1;
    ::setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::array<std::uint8_t, soup::kLoginRequestSize> req{};
    const soup::LoginRequest lr{soup::Username::from(u.username), soup::Password::from(cred->password),
                                soup::SessionId::from(""), 0};
    if (soup::encode_login_request(lr, req) == 0) return "cannot encode the login of " + u.username;
    if (::send(s->fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size()))
      return "send login: " + std::string(std::strerror(errno));
    // Blocking until Login Accepted (or Rejected / close).
    bool done = false;
    std::string err;
    while (!done) {
      pollfd p{s->fd, POLLIN, 0};
      if (::poll(&p, 1, 5000) <= 0) return "no login answer for " + u.username + " within 5 s";
      const ssize_t r = ::recv(s->fd, rbuf_.data(), rbuf_.size(), 0);
      if (r <= 0) return "the server closed the connection during the login of " + u.username;
      const auto st = s->dec.dispatch(std::span<const std::uint8_t>(rbuf_.data(), static_cast<std::size_t>(r)),
                                      [&](const soup::Packet& pk) {
                                        if (pk.type == soup::PacketType::LoginAccepted) done = true;
                                        else if (pk.type == soup::PacketType::LoginRejected) {
                                          err = "login rejected for " + u.username;
                                          done = true;
                                        }
                                        return !done;
                                      });
      if (st != soup::DecodeStatus::Ok) return "bad framing from the server during login";
    }
    // Whatever came in the same read after Login Accepted (a start-of-day System Event, a
    // heartbeat) is consumed here, so that the decoder starts the run drained.
    soup::Packet rest;
    for (soup::DecodeStatus st = s->dec.poll(rest); st != soup::DecodeStatus::NeedMore; st = s->dec.poll(rest)) {
      if (st != soup::DecodeStatus::Ok) return "bad framing from the server after login";
      ouch::Outbound m{};
      if (rest.type == soup::PacketType::SequencedData &&
          (ouch::decode_outbound(rest.payload, m) != ouch::Status::Ok || m.type != ouch::OutboundType::SystemEvent))
        return "an order message for " + u.username + " before any order was sent";
    }
    if (!err.empty()) return err;
    ::fcntl(s->fd, F_SETFL, ::fcntl(s->fd, F_GETFL) | O_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    ::epoll_ctl(epfd_, EPOLL_CTL_ADD, s->fd, &ev);
    s->orders.reserve(1 << 16);
    sessions_.push_back(std::move(s));
  }
  return {};
}

void Runner::put_packet(Session& s, std::span<const std::uint8_t> msg) {
  const std::size_t at = s.out.size();
  s.out.resize(at + soup::kHeaderSize + msg.size());
  (void)soup::encode_unsequenced_data(msg, std::span<std::uint8_t>(s.out.data() + at, soup::kHeaderSize + msg.size()));
}

bool Runner::flush(Session& s) {
  while (s.out_off < s.out.size()) {
    const ssize_t w = ::send(s.fd, s.out.data() + s.out_off, s.out.size() - s.out_off, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
      if (!s.ended) error("send to " + s.user + ": " + std::strerror(errno));
      s.ended = true;
      s.out.clear();
      s.out_off = 0;
      return true;
    }
    s.out_off += static_cast<std::size_t>(w);
  }
  s.out.clear();
  s.out_off = 0;
  return true;
}

void Runner::send_new(Session& s, const NewOrder& o, std::uint64_t intended, bool measured) {
  const auto id = static_cast<std::uint32_t>(s.orders.size());
  Order& ord = s.orders.emplace_back();
  ord.t_req = intended;
  ord.price = o.price;
  ord.shares = o.shares;
  ord.instrument = static_cast<std::uint16_t>(o.instrument);
  ord.side = o.side;
  ord.ioc = o.ioc;
  ord.invalid = o.invalid;
  ord.measured = measured;
  const ouch::EnterOrder m = ouch::plain_enter_order(token_of(id), o.side, o.shares,
                                                     traffic_.instruments()[o.instrument].symbol, o.price,
                                                     o.ioc ? ouch::kTifImmediate : ouch::kTifMarketHours);
  std::array<std::uint8_t, ouch::kEnterOrderSize> buf{};
  (void)ouch::encode(m, buf);
  put_packet(s, buf);
  ++s.inflight;
  ++n_.sent_new;
  if (o.ioc) ++n_.sent_aggressive;
  if (o.invalid) ++n_.sent_invalid;
}

void Runner::send_cancel(Session& s, std::uint32_t id, std::uint64_t intended, bool measured) {
  Order& o = s.orders[id];
  unlist(s, id);
  o.cancel_pending = true;
  o.cancel_measured = measured;
  o.t_req = intended;
  const ouch::CancelOrder m{token_of(id), 0};
  std::array<std::uint8_t, ouch::kCancelOrderSize> buf{};
  (void)ouch::encode(m, buf);
  put_packet(s, buf);
  ++s.inflight;
  ++n_.sent_cancel;
}

void Runner::send_replace(Session& s, std::uint32_t id, std::uint64_t intended, bool measured) {
  unlist(s, id);
  s.orders[id].replace_pending = true;
  const auto rid = static_cast<std::uint32_t>(s.orders.size());
  Order& r = s.orders.emplace_back();
  const Order& o = s.orders[id];
  r.t_req = intended;
  r.instrument = o.instrument;
  r.side = o.side;
  r.existing = id;
  r.measured = measured;
  traffic_.replace_terms(o.instrument, o.price, r.price, r.shares);
  const ouch::ReplaceOrder m{token_of(id), token_of(rid), r.shares, r.price, ouch::kTifMarketHours, 'Y', 'N', 0};
  std::array<std::uint8_t, ouch::kReplaceOrderSize> buf{};
  (void)ouch::encode(m, buf);
  put_packet(s, buf);
  ++s.inflight;
  ++n_.sent_replace;
}

void Runner::send_one(Session& s, std::uint64_t intended, bool measured) {
  ++n_.sent;
  if (measured) ++n_.sent_measured;
  MsgKind k = traffic_.next_kind();
  if (k == MsgKind::Passive && s.live.size() >= opt_.max_live) {
    k = MsgKind::Cancel;
    ++n_.converted_to_cancel;
  }
  if ((k == MsgKind::Cancel || k == MsgKind::Replace) && s.live.empty()) k = MsgKind::Passive;
  switch (k) {
    case MsgKind::Passive: return send_new(s, traffic_.new_order(false), intended, measured);
    case MsgKind::Aggressive: return send_new(s, traffic_.new_order(true), intended, measured);
    case MsgKind::Cancel: return send_cancel(s, s.live[traffic_.pick(static_cast<std::uint32_t>(s.live.size()))], intended, measured);
    case MsgKind::Replace: return send_replace(s, s.live[traffic_.pick(static_cast<std::uint32_t>(s.live.size()))], intended, measured);
  }
}

void Runner::make_live(Session& s, std::uint32_t id) {
  Order& o = s.orders[id];
  o.state = State::Live;
  if (!o.ioc && o.live_pos == kNone && !o.cancel_pending && !o.replace_pending) {
    o.live_pos = static_cast<std::uint32_t>(s.live.size());
    s.live.push_back(id);
  }
}

void Runner::unlist(Session& s, std::uint32_t id) {
  Order& o = s.orders[id];
  if (o.live_pos == kNone) return;
  const std::uint32_t last = s.live.back();
  s.live[o.live_pos] = last;
  s.orders[last].live_pos = o.live_pos;
  s.live.pop_back();
  o.live_pos = kNone;
}

void Runner::terminal(Session& s, std::uint32_t id) {
  Order& o = s.orders[id];
  unlist(s, id);
  o.state = State::Done;
  if (++o.terminals > 1) error(s.user + " token " + std::to_string(id) + ": a second terminal answer");
}

void Runner::answered(Session& s, const Order& o, std::uint64_t now, Hist h, bool measured) {
  if (s.inflight == 0) {
    error(s.user + ": an answer with no request outstanding");
  } else {
    --s.inflight;
  }
  if (measured) {
    ++n_.answers_measured;
    hist_[h]->record(now > o.t_req ? now - o.t_req : 0);
  }
}

Order* Runner::find(Session& s, const Token& t, const char* what) {
  std::uint32_t id = 0;
  if (!id_of(t, id) || id >= s.orders.size()) {
    error(s.user + ": " + what + " for a token never sent: " + std::string(t.view()));
    return nullptr;
  }
  return &s.orders[id];
}

void Runner::on_echo_message(Session& s, const ouch::Outbound& m, std::uint64_t now) {
  // The echo server has no book: only that each request gets its one answer is checked.
  switch (m.type) {
    case ouch::OutboundType::SystemEvent: return;
    case ouch::OutboundType::Accepted: {
      Order* o = find(s, m.accepted.token, "Accepted");
      if (o == nullptr) return;
      if (o->state != State::Pending || o->existing != kNone) return error(s.user + ": a second answer to an Enter Order");
      ++n_.accepted;
      answered(s, *o, now, kAccepted, o->measured);
      make_live(s, static_cast<std::uint32_t>(o - s.orders.data()));
      return;
    }
    case ouch::OutboundType::Replaced: {
      Order* r = find(s, m.replaced.replacement, "Replaced");
      if (r == nullptr) return;
      std::uint32_t prev = 0;
      if (r->state != State::Pending || r->existing == kNone || !id_of(m.replaced.previous, prev) || prev != r->existing)
        return error(s.user + ": a Replaced that answers no pending Replace");
      ++n_.replaced;
      s.orders[prev].replace_pending = false;
      terminal(s, prev);
      answered(s, *r, now, kReplaced, r->measured);
      make_live(s, static_cast<std::uint32_t>(r - s.orders.data()));
      return;
    }
    case ouch::OutboundType::Canceled: {
      Order* o = find(s, m.canceled.token, "Canceled");
      if (o == nullptr) return;
      if (!o->cancel_pending) return error(s.user + ": a Canceled that answers no pending Cancel");
      ++n_.canceled;
      o->cancel_pending = false;
      answered(s, *o, now, kCanceled, o->cancel_measured);
      terminal(s, static_cast<std::uint32_t>(o - s.orders.data()));
      return;
    }
    default: return error(s.user + ": the echo server sent an answer it never sends");
  }
}

void Runner::on_message(Session& s, const ouch::Outbound& m, std::uint64_t now) {
  if (opt_.echo) return on_echo_message(s, m, now);
  switch (m.type) {
    case ouch::OutboundType::SystemEvent: return;
    case ouch::OutboundType::Accepted: {
      Order* o = find(s, m.accepted.token, "Accepted");
      if (o == nullptr) return;
      if (o->state != State::Pending || o->existing != kNone) return error(s.user + ": Accepted for an order not awaiting it");
      ++n_.accepted;
      if (o->invalid) error(s.user + ": an invalid order was Accepted");
      o->open = m.accepted.shares;
      if (m.accepted.shares != o->shares || m.accepted.price != o->price) error(s.user + ": Accepted with other shares or price");
      answered(s, *o, now, kAccepted, o->measured);
      make_live(s, static_cast<std::uint32_t>(o - s.orders.data()));
      return;
    }
    case ouch::OutboundType::Rejected: {
      Order* o = find(s, m.rejected.token, "Rejected");
      if (o == nullptr) return;
      ++reject_reasons_[static_cast<unsigned char>(m.rejected.reason)];
      if (o->state != State::Pending) {
        // The gateway refuses a Cancel it cannot queue (the core's ring is full) with a Rejected
        // naming the order: the cancel's answer; the order itself carries on.
        if (!o->cancel_pending) return error(s.user + ": Rejected for an order not awaiting an answer");
        ++n_.cancel_refused;
        o->cancel_pending = false;
        answered(s, *o, now, kRejected, o->cancel_measured);
        if (o->state == State::Live) make_live(s, static_cast<std::uint32_t>(o - s.orders.data()));
        return;
      }
      ++n_.rejected;
      if (o->invalid && m.rejected.reason == ouch::reject::kInvalidPrice) ++n_.rejected_expected;
      const auto id = static_cast<std::uint32_t>(o - s.orders.data());
      if (o->existing != kNone) {  // a refused replace: the original carries on
        ++n_.replace_rejected;
        Order& e = s.orders[o->existing];
        e.replace_pending = false;
        if (e.state == State::Live) make_live(s, o->existing);
      }
      answered(s, *o, now, kRejected, o->measured);
      terminal(s, id);
      return;
    }
    case ouch::OutboundType::Replaced: {
      Order* r = find(s, m.replaced.replacement, "Replaced");
      if (r == nullptr) return;
      if (r->state != State::Pending || r->existing == kNone) return error(s.user + ": Replaced for a token that is no pending replacement");
      std::uint32_t prev = 0;
      if (!id_of(m.replaced.previous, prev) || prev != r->existing) return error(s.user + ": Replaced names another previous token");
      ++n_.replaced;
      const auto rid = static_cast<std::uint32_t>(r - s.orders.data());
      Order& e = s.orders[prev];
      if (e.state != State::Live) error(s.user + ": Replaced an order that was not live");
      e.replace_pending = false;
      e.open = 0;
      terminal(s, prev);
      r->open = m.replaced.shares;
      r->price = m.replaced.price;
      answered(s, *r, now, kReplaced, r->measured);
      make_live(s, rid);
      return;
    }
    case ouch::OutboundType::Executed: {
      Order* o = find(s, m.executed.token, "Executed");
      if (o == nullptr) return;
      if (o->state != State::Live) return error(s.user + ": Executed for an order that is not live");
      if (m.executed.shares == 0 || m.executed.shares > o->open) return error(s.user + ": Executed more than the open quantity");
      ++n_.executed_msgs;
      o->open -= m.executed.shares;
      (o->side == 'B' ? n_.buy_shares : n_.sell_shares) += m.executed.shares;
      if (o->ioc && !o->first_exec_seen) {
        o->first_exec_seen = true;
        if (o->measured) hist_[kFirstExecuted]->record(now > o->t_req ? now - o->t_req : 0);
      }
      const MatchHalf half{o->side, m.executed.shares, m.executed.price, m.executed.liquidity};
      const auto [it, inserted] = open_matches_.try_emplace(m.executed.match_number, half);
      if (!inserted) {
        const MatchHalf& a = it->second;
        if (a.side == half.side || a.shares != half.shares || a.price != half.price || a.liquidity == half.liquidity)
          error("match " + std::to_string(m.executed.match_number) + ": the two sides disagree");
        ++n_.matches;
        open_matches_.erase(it);
      }
      if (o->open == 0) terminal(s, static_cast<std::uint32_t>(o - s.orders.data()));
      return;
    }
    case ouch::OutboundType::Canceled: {
      Order* o = find(s, m.canceled.token, "Canceled");
      if (o == nullptr) return;
      if (o->state != State::Live) return error(s.user + ": Canceled for an order that is not live");
      if (m.canceled.decrement > o->open) return error(s.user + ": Canceled more than the open quantity");
      o->open -= m.canceled.decrement;
      const auto id = static_cast<std::uint32_t>(o - s.orders.data());
      if (m.canceled.reason == 'I') {
        ++n_.canceled_ioc;
      } else if (o->cancel_pending && m.canceled.reason == 'U') {
        ++n_.canceled;
        o->cancel_pending = false;
        answered(s, *o, now, kCanceled, o->cancel_measured);
      } else {
        error(s.user + ": an unrequested Canceled, reason " + std::string(1, m.canceled.reason));
      }
      if (o->open == 0) terminal(s, id);
      else if (!o->cancel_pending) error(s.user + ": a full cancel left shares open");
      return;
    }
    case ouch::OutboundType::CancelReject: {
      Order* o = find(s, m.cancel_reject.token, "Cancel Reject");
      if (o == nullptr) return;
      if (!o->cancel_pending) return error(s.user + ": Cancel Reject with no cancel pending");
      // Only when the order finished first (filled) while the cancel was on its way.
      if (o->state != State::Done) error(s.user + ": Cancel Reject for an order still live");
      o->cancel_pending = false;
      ++n_.cancel_rejected;
      answered(s, *o, now, kCancelRejected, o->cancel_measured);
      return;
    }
  }
}

int Runner::receive(Session& s, std::uint64_t now) {
  int work = 0;
  for (;;) {
    const ssize_t r = ::recv(s.fd, rbuf_.data(), rbuf_.size(), MSG_DONTWAIT);
    if (r < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return work;
      if (!s.ended) error(s.user + ": recv: " + std::strerror(errno));
      s.ended = true;
      return work;
    }
    if (r == 0) {
      if (!s.ended) error(s.user + ": the server closed the session");
      s.ended = true;
      return work;
    }
    ++work;
    const auto st = s.dec.dispatch(std::span<const std::uint8_t>(rbuf_.data(), static_cast<std::size_t>(r)),
                                   [&](const soup::Packet& p) {
                                     if (p.type == soup::PacketType::SequencedData) {
                                       ouch::Outbound m{};
                                       if (ouch::decode_outbound(p.payload, m) != ouch::Status::Ok) {
                                         error(s.user + ": undecodable OUCH message");
                                         return true;
                                       }
                                       on_message(s, m, now);
                                     } else if (p.type == soup::PacketType::EndOfSession) {
                                       error(s.user + ": End of Session during the run");
                                     }
                                     return true;
                                   });
    if (st != soup::DecodeStatus::Ok) error(s.user + ": SoupBinTCP framing error " + std::string(soup::to_string(st)));
    if (static_cast<std::size_t>(r) < rbuf_.size()) return work;
  }
}

bool Runner::wait_answers(std::uint64_t deadline) {
  for (;;) {
    std::uint64_t pending = 0;
    bool out_pending = false;
    const std::uint64_t now = now_ns();
    for (auto& s : sessions_) {
      if (!s->ended) {
        if (!flush(*s)) out_pending = true;
        receive(*s, now_ns());
      }
      if (!s->ended) pending += s->inflight;
    }
    if (pending == 0 && !out_pending) return true;
    if (now >= deadline) return false;
    if (now - last_heartbeat_ > 1'000'000'000) {
      last_heartbeat_ = now;
      for (auto& s : sessions_) {
        std::array<std::uint8_t, soup::kEmptyPacketSize> hb{};
        (void)soup::encode_empty(soup::PacketType::ClientHeartbeat, hb);
        s->out.insert(s->out.end(), hb.begin(), hb.end());
      }
    }
    epoll_event evs[16];
    (void)::epoll_wait(epfd_, evs, 16, 1);
  }
}

void Runner::cancel_everything() {
  const std::uint64_t now = now_ns();
  for (auto& s : sessions_) {
    while (!s->live.empty()) {
      send_cancel(*s, s->live.back(), now, false);
      --n_.sent_cancel;  // counted apart: final_cancels
      ++n_.final_cancels;
    }
  }
}

void Runner::check_final() {
  if (opt_.echo) return check_final_echo();
  for (auto& s : sessions_) {
    unanswered_ += s->inflight;
    for (std::size_t i = 0; i < s->orders.size(); ++i) {
      const Order& o = s->orders[i];
      ++orders_total_;
      if (o.state != State::Done || o.terminals != 1) {
        ++non_terminal_;
        if (non_terminal_ <= 5)
          error(s->user + " token " + std::to_string(i) + ": " + (o.state == State::Pending ? "never answered" : o.state == State::Live ? "still live after the final cancels" : "more than one terminal answer"));
      }
    }
  }
  if (unanswered_ > 0) error(std::to_string(unanswered_) + " requests unanswered at the end");
  if (non_terminal_ > 0) error(std::to_string(non_terminal_) + " orders without exactly one terminal answer");
  if (n_.buy_shares != n_.sell_shares)
    error("executed shares disagree: buyers " + std::to_string(n_.buy_shares) + ", sellers " + std::to_string(n_.sell_shares));
  if (!open_matches_.empty()) error(std::to_string(open_matches_.size()) + " matches seen on one side only");
  // Valid orders may still be refused for overload (reason O: the core's ring was full); any
  // other reason for an order sent valid is an error.
  std::uint64_t invalid_reasons = 0;
  for (std::size_t r = 0; r < reject_reasons_.size(); ++r)
    if (r != static_cast<unsigned char>(ouch::reject::kOther) && r != static_cast<unsigned char>(ouch::reject::kInvalidPrice))
      invalid_reasons += reject_reasons_[r];
  if (invalid_reasons > 0) error(std::to_string(invalid_reasons) + " rejects for a reason the flow never provokes");
  if (reject_reasons_[static_cast<unsigned char>(ouch::reject::kInvalidPrice)] != n_.rejected_expected)
    error("a valid order was rejected for its price");
  if (n_.rejected_expected != n_.sent_invalid) error("not every invalid order was rejected for its price");
}

void Runner::check_final_echo() {
  // Every request answered exactly once (a second answer was an error when it came): no request
  // outstanding, no order token still waiting for its first answer. IOC orders stay "live" here
  // (the echo server accepts them and never cancels them).
  for (auto& s : sessions_) {
    unanswered_ += s->inflight;
    for (std::size_t i = 0; i < s->orders.size(); ++i) {
      ++orders_total_;
      if (s->orders[i].state == State::Pending || s->orders[i].cancel_pending) {
        ++non_terminal_;
        if (non_terminal_ <= 5) error(s->user + " token " + std::to_string(i) + ": never answered");
      }
    }
  }
  if (unanswered_ > 0) error(std::to_string(unanswered_) + " requests unanswered at the end");
}

void Runner::report(double measured_s, std::uint64_t t_start) {
  (void)t_start;
  const char* mode = opt_.max_throughput ? "max_throughput" : "open_loop";
  const double achieved = static_cast<double>(n_.sent_measured) / measured_s;
  const double answered_rate = static_cast<double>(n_.answers_measured) / measured_s;
  if (opt_.echo) std::printf("against peregrine-bench echo (the yardstick: no book, no journal; checks: one answer per request)\n");
  std::printf("peregrine-bench %s: %zu sessions, %s, %.1f s measured after %.1f s warm-up, seed %" PRIu64 "\n", mode,
              sessions_.size(),
              opt_.max_throughput ? ("window " + std::to_string(opt_.window) + " per session").c_str()
                                  : ("target " + std::to_string(static_cast<std::uint64_t>(opt_.rate)) + " msg/s").c_str(),
              measured_s, opt_.warmup_s, opt_.seed);
  std::printf("achieved: %.0f msg/s sent, %.0f answers/s\n", achieved, answered_rate);
  std::printf("sent: %" PRIu64 " (new %" PRIu64 " of which aggressive %" PRIu64 " and invalid %" PRIu64 ", cancel %" PRIu64
              ", replace %" PRIu64 "); then %" PRIu64 " final cancels of what rested\n",
              n_.sent, n_.sent_new, n_.sent_aggressive, n_.sent_invalid, n_.sent_cancel, n_.sent_replace, n_.final_cancels);
  std::printf("answers: accepted %" PRIu64 ", rejected %" PRIu64 " (expected %" PRIu64 ", replaces %" PRIu64 "), replaced %" PRIu64
              ", canceled %" PRIu64 " (+%" PRIu64 " IOC remainders), cancel rejected %" PRIu64 ", executed %" PRIu64
              " messages (%" PRIu64 " matches, %" PRIu64 " shares), unanswered %" PRIu64 "\n",
              n_.accepted, n_.rejected, n_.rejected_expected, n_.replace_rejected, n_.replaced, n_.canceled, n_.canceled_ioc,
              n_.cancel_rejected, n_.executed_msgs, n_.matches, n_.buy_shares, unanswered_);
  std::string reasons;
  for (std::size_t r = 0; r < reject_reasons_.size(); ++r)
    if (reject_reasons_[r] > 0) reasons += " " + std::string(1, static_cast<char>(r)) + "=" + std::to_string(reject_reasons_[r]);
  if (!reasons.empty() || n_.cancel_refused > 0)
    std::printf("reject reasons:%s; cancels refused (overload) %" PRIu64 "\n", reasons.empty() ? " none" : reasons.c_str(), n_.cancel_refused);
  print_histogram_header(stdout);
  for (std::size_t h = 0; h < kHistCount; ++h) print_histogram_row(stdout, kHistNames[h], *hist_[h]);
  if (opt_.echo)
    std::printf("correctness: %s (%" PRIu64 " orders, %" PRIu64 " requests unanswered, %" PRIu64 " orders never answered)\n",
                errors_ == 0 ? "ok" : "FAILED", orders_total_, unanswered_, non_terminal_);
  else
    std::printf("correctness: %s (%" PRIu64 " orders, %" PRIu64 " without exactly one terminal answer, buy %" PRIu64
                " = sell %" PRIu64 " shares: %s)\n",
                errors_ == 0 ? "ok" : "FAILED", orders_total_, non_terminal_, n_.buy_shares, n_.sell_shares,
                n_.buy_shares == n_.sell_shares ? "yes" : "NO");
  for (const std::string& e : error_samples_) std::printf("  error: %s\n", e.c_str());

  if (opt_.json_path.empty()) return;
  namespace json = boost::json;
  json::object reasons_json;
  for (std::size_t r = 0; r < reject_reasons_.size(); ++r)
    if (reject_reasons_[r] > 0) reasons_json[std::string(1, static_cast<char>(r))] = reject_reasons_[r];
  json::object latency;
  for (std::size_t h = 0; h < kHistCount; ++h) latency[kHistNames[h]] = histogram_json(*hist_[h]);
  json::array samples;
  for (const std::string& e : error_samples_) samples.emplace_back(e);
  const json::object j{
      {"tool", "peregrine-bench"},
      {"mode", mode},
      {"server", opt_.echo ? "echo" : "peregrine"},
      {"command", opt_.command_line},
      {"options",
       {{"sessions", sessions_.size()},
        {"rate", json_number(opt_.rate)},
        {"window", opt_.window},
        {"duration_s", json_number(opt_.duration_s)},
        {"warmup_s", json_number(opt_.warmup_s)},
        {"seed", opt_.seed},
        {"reject_ratio", json_number(opt_.reject_ratio)},
        {"max_live", opt_.max_live},
        {"mix",
         {{"passive", json_number(opt_.mix.passive)},
          {"cancel", json_number(opt_.mix.cancel)},
          {"replace", json_number(opt_.mix.replace)},
          {"aggressive", json_number(opt_.mix.aggressive)}}},
        {"config", opt_.config_path}}},
      {"measured_s", json_number(measured_s)},
      {"achieved_rate", json_number(achieved)},
      {"answer_rate", json_number(answered_rate)},
      {"counts",
       {{"sent", n_.sent},
        {"sent_measured", n_.sent_measured},
        {"new", n_.sent_new},
        {"aggressive", n_.sent_aggressive},
        {"invalid", n_.sent_invalid},
        {"cancel", n_.sent_cancel},
        {"replace", n_.sent_replace},
        {"converted_to_cancel", n_.converted_to_cancel},
        {"final_cancels", n_.final_cancels},
        {"accepted", n_.accepted},
        {"rejected", n_.rejected},
        {"rejected_expected", n_.rejected_expected},
        {"replace_rejected", n_.replace_rejected},
        {"replaced", n_.replaced},
        {"canceled", n_.canceled},
        {"canceled_ioc", n_.canceled_ioc},
        {"cancel_rejected", n_.cancel_rejected},
        {"executed", n_.executed_msgs},
        {"matches", n_.matches},
        {"cancel_refused", n_.cancel_refused},
        {"unanswered", unanswered_}}},
      {"reject_reasons", std::move(reasons_json)},
      {"latency_ns", std::move(latency)},
      {"correctness",
       {{"ok", errors_ == 0},
        {"errors", errors_},
        {"orders", orders_total_},
        {"orders_without_one_terminal", non_terminal_},
        {"unanswered", unanswered_},
        {"executed_shares_buy", n_.buy_shares},
        {"executed_shares_sell", n_.sell_shares},
        {"matches_one_sided", open_matches_.size()},
        {"samples", std::move(samples)}}}};
  if (!save_json(opt_.json_path, j)) std::fprintf(stderr, "peregrine-bench: cannot write %s: %s\n", opt_.json_path.c_str(), std::strerror(errno));
}

int Runner::run(const std::string& host, std::uint16_t port) {
  if (const std::string err = connect_all(host, port); !err.empty()) {
    std::fprintf(stderr, "peregrine-bench: %s\n", err.c_str());
    return 2;
  }
  if (const std::string err = pin_to(opt_.cpus); !err.empty()) {
    std::fprintf(stderr, "peregrine-bench: --cpus: %s\n", err.c_str());
    return 2;
  }
  tighten_timer_slack();
  const std::uint64_t t0 = now_ns() + 10'000'000;
  const auto warm_end = t0 + static_cast<std::uint64_t>(opt_.warmup_s * 1e9);
  const auto end = warm_end + static_cast<std::uint64_t>(opt_.duration_s * 1e9);
  const double interval = opt_.max_throughput ? 0 : 1e9 / opt_.rate;
  std::uint64_t k = 0;
  std::uint64_t next = t0;
  std::size_t rr = 0;
  last_heartbeat_ = now_ns();
  epoll_event evs[64];
  while (now_ns() < t0) {
  }
  for (;;) {
    std::uint64_t now = now_ns();
    if (now >= end) break;
    if (!opt_.max_throughput) {
      // Every message whose intended time has come, round robin over the sessions; latency
      // is charged from the intended time however late the loop gets to it.
      while (next <= now) {
        Session& s = *sessions_[rr];
        rr = rr + 1 == sessions_.size() ? 0 : rr + 1;
        if (!s.ended) {
          send_one(s, next, next >= warm_end);
          if (next >= warm_end) hist_[kSendLag]->record(now - next);
        }
        ++k;
        next = t0 + static_cast<std::uint64_t>(static_cast<double>(k) * interval);
      }
    } else {
      for (auto& sp : sessions_) {
        Session& s = *sp;
        while (!s.ended && s.inflight < opt_.window) send_one(s, now, now >= warm_end);
      }
    }
    if (now - last_heartbeat_ > 1'000'000'000) {
      last_heartbeat_ = now;
      for (auto& s : sessions_) {
        std::array<std::uint8_t, soup::kEmptyPacketSize> hb{};
        (void)soup::encode_empty(soup::PacketType::ClientHeartbeat, hb);
        s->out.insert(s->out.end(), hb.begin(), hb.end());
      }
    }
    bool out_pending = false;
    for (auto& s : sessions_)
      if (!s->ended && !flush(*s)) out_pending = true;
    int work = 0;
    for (auto& s : sessions_)
      if (!s->ended) work += receive(*s, now_ns());
    if (!opt_.max_throughput && !opt_.spin && work == 0 && !out_pending) {
      now = now_ns();
      if (next > now + 2'000) {
        // Sleep in epoll until a reply arrives or the next send is due (ns timeout, 1 ns slack).
        const std::uint64_t wait = std::min(next, end) - now;
        timespec ts{static_cast<time_t>(wait / 1'000'000'000), static_cast<long>(wait % 1'000'000'000)};
        (void)::epoll_pwait2(epfd_, evs, 64, &ts, nullptr);
      }
    }
  }
  const double measured_s = opt_.duration_s;
  const std::uint64_t drain_ns = static_cast<std::uint64_t>(opt_.drain_timeout_s * 1e9);
  if (!wait_answers(now_ns() + drain_ns)) error("answers still missing after the drain timeout");
  cancel_everything();
  if (!wait_answers(now_ns() + drain_ns)) error("answers to the final cancels still missing after the drain timeout");
  check_final();
  for (auto& s : sessions_) {
    std::array<std::uint8_t, soup::kEmptyPacketSize> bye{};
    (void)soup::encode_empty(soup::PacketType::LogoutRequest, bye);
    (void)::send(s->fd, bye.data(), bye.size(), MSG_NOSIGNAL);
    ::close(s->fd);
  }
  ::close(epfd_);
  report(measured_s, t0);
  return errors_ == 0 ? 0 : 1;
}

}  // namespace

int run_load(const LoadOptions& opt) {
  config::ServiceConfig cfg;
  try {
    cfg = config::load_service_config(opt.config_path);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "peregrine-bench: %s\n", e.what());
    return 2;
  }
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  support::ChildProcess server;
  const bool start = opt.echo || !opt.server_bin.empty();
  if (start) {
    std::vector<std::string> argv;
    if (opt.echo) {
      // The yardstick takes none of the server's options (--core-cpu, --idle-strategy,
      // --server-arg): it has one thread and no configuration.
      argv = {opt.self_bin, "echo", "--listen", "127.0.0.1:0"};
      if (opt.spin) argv.emplace_back("--spin");
    } else {
      argv = {opt.server_bin, "--config", opt.config_path, "--ouch-listen", "127.0.0.1:0",
              "--itch-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0"};
      if (opt.core_cpu != -2) argv.insert(argv.end(), {"--core-cpu", std::to_string(opt.core_cpu)});
      if (!opt.idle_strategy.empty()) argv.insert(argv.end(), {"--idle-strategy", opt.idle_strategy});
      argv.insert(argv.end(), opt.server_args.begin(), opt.server_args.end());
    }
    ReadyLine ports;
    if (const std::string err = start_server(server, argv, opt.server_cpus, opt.server_log, ports, std::chrono::seconds{10});
        !err.empty()) {
      std::fprintf(stderr, "peregrine-bench: starting %s: %s\n", argv[0].c_str(), err.c_str());
      return 2;
    }
    port = ports.ouch;
  } else {
    const std::size_t colon = opt.connect.rfind(':');
    if (colon == std::string::npos) {
      std::fprintf(stderr, "peregrine-bench: give --server BIN or --connect HOST:PORT\n");
      return 2;
    }
    host = opt.connect.substr(0, colon);
    port = static_cast<std::uint16_t>(std::stoul(opt.connect.substr(colon + 1)));
  }
  auto runner = std::make_unique<Runner>(opt, cfg);
  int rc = runner->run(host, port);
  if (start) {
    const int status = server.stop(std::chrono::seconds{10});
    if (status != 0) {
      const std::string how = status < 0     ? "still running after 10 s: killed"
                              : status > 128 ? "ended by signal " + std::to_string(status - 128)
                                             : "exit status " + std::to_string(status);
      std::fprintf(stderr, "peregrine-bench: the server did not exit cleanly (%s)\n", how.c_str());
      if (rc == 0) rc = 1;
    }
  }
  return rc;
}

}  // namespace peregrine::bench
