// The io thread (stage 4 of server.cpp): one Asio io_context runs the OUCH and ITCH listeners
// and sessions, drains the core's events into egress, sends MoldUDP64 and answers its
// re-requests, and ticks every 100 ms. It waits in epoll when idle (io_loop()).

#include "server_impl.hpp"

#include <cerrno>
#include <deque>

#include <prometheus/histogram.h>

namespace peregrine::app {

namespace {

tcp::endpoint endpoint_of(asio::io_context& io, const config::ListenAddress& a) {
  tcp::resolver resolver(io);
  boost::system::error_code ec;
  const auto results = resolver.resolve(a.host, std::to_string(a.port), ec);
  if (ec || results.empty()) throw std::runtime_error("cannot resolve " + a.to_string() + ": " + ec.message());
  return results.begin()->endpoint();
}

}  // namespace

// The io thread runs under agent::AgentRunner (`pg-io`; the main thread, so it keeps the
// process's name). One pass (do_work): socket completions (io_.poll()), events from the core
// into egress (pump), the 100 ms tick. When a pass found nothing, the wait strategy (eff_.io_idle)
// spins for eff_.park_after, then parks: it announces itself, re-checks (has_work), and waits in
// epoll (park: Asio's run_one_for, up to the next tick) with its eventfd registered. The core
// wakes it when it pushes events, the journal writer when the durable seq advances (which
// releases events), the DPDK lcore when it queues a notice, a signal to stop. No wake-up is lost
// (agent::Parker). With io_idle busy-spin (low_latency_mode on its own CPU) it never waits.
void Server::io_loop() {
  io_wake_.assign(::dup(io_runner_.parker().fd()));
  arm_io_wake();
  g_wake_fd.store(io_runner_.parker().fd(), std::memory_order_relaxed);
  io_runner_.run_here();  // until a signal (do_work asks the runner to stop)
}

void Server::on_start() {
  if (!io_runner_.pin_error().empty()) log_->warn("gateway thread: {}", io_runner_.pin_error());
}

int Server::do_work() {
  if (g_signal.load(std::memory_order_relaxed) != 0) {
    io_runner_.request_stop();  // the shut-down (shut_down()) drains; the loop just ends
    return 0;
  }
  int work = static_cast<int>(io_.poll());
  work += pump(mono_ns());
  work += pump_replica();  // a standby's replica (ha_wiring.cpp)
  const std::uint64_t now = mono_ns();
  if (now >= next_tick_) {
    tick(now);
    next_tick_ = now + 100'000'000;  // 100 ms: heartbeats are per second
  }
  return work;
}

bool Server::has_work() { return io_has_work(); }

// The tick is due then, whoever wakes the thread.
std::chrono::nanoseconds Server::park_timeout() {
  const std::uint64_t now = mono_ns();
  return std::chrono::nanoseconds{next_tick_ > now ? static_cast<std::int64_t>(next_tick_ - now) : 0};
}

// The park of Parker's protocol in epoll: the eventfd is in io_'s epoll set (arm_io_wake).
bool Server::park(agent::Parker& parker, std::chrono::nanoseconds timeout) {
  const std::size_t ran = io_.run_one_for(timeout);
  parker.finish_park();
  return ran > 0;
}

// The io thread's re-check before it waits: anything a producer wakes it for.
bool Server::io_has_work() {
  if (g_signal.load(std::memory_order_relaxed) != 0 || !pending_control_.empty() || replica_has_work()) return true;
  if (event_ring_->front() != nullptr && releasable_events(1) > 0) return true;
  return notice_ring_ && notice_ring_->front() != nullptr;
}

// The eventfd's wait, always armed: it reads the count so the next write is a new edge.
void Server::arm_io_wake() {
  io_wake_.async_wait(asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
    if (ec) return;  // closed at the end
    io_runner_.parker().consume();
    arm_io_wake();
  });
}

// ---- ConnectionOwner (io thread) ----
bool Server::submit(const Command& cmd) {
  if (!pending_control_.empty()) return false;  // control commands first, in order
  // Refused here, the session answers OUCH Rejected 'O' (and counts a full ring: publish_io_counters()
  // takes these out of that count); cancels still go through.
  if (cmd.type == CommandType::NewOrder || cmd.type == CommandType::Replace) {
    // Without the Lease (ha.failover lease) a leader may be one of two: no new orders, from the
    // moment its renew deadline passes, not only once its elector has said so.
    if (!lease_held()) {
      ++lease_refusals_;
      return false;
    }
    if (refusing_orders_.load(std::memory_order_relaxed)) {
      ++journal_refusals_;
      return false;
    }
  }
  if (gateway_ring_->try_push(cmd) != PushResult::Ok) return false;
  core_wake_pending_ = true;  // pump() wakes the core once per pass
  return true;
}

void Server::submit_control(const Command& cmd) {
  if (pending_control_.empty() && gateway_ring_->try_push(cmd) == PushResult::Ok) {
    core_wake_pending_ = true;
    return;
  }
  pending_control_.push_back(cmd);
}

void Server::on_closed(const std::string& peer, sessions::CloseReason why) {
  ++closed_connections_;
  log_->info("session {} closed: {}", peer, sessions::to_string(why));
}

void Server::listen(tcp::acceptor& acc, const config::ListenAddress& where, const char* what) {
  const tcp::endpoint ep = endpoint_of(io_, where);
  boost::system::error_code ec;
  acc.open(ep.protocol(), ec);
  if (!ec) acc.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acc.bind(ep, ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw std::runtime_error(std::string("cannot listen for ") + what + " on " + where.to_string() + ": " + ec.message());
}

void Server::accept_ouch() {
  ouch_acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket s) {
    if (ec) return;  // acceptor closed (shut-down) or transient error
    auto host = std::make_shared<OuchHost>(std::move(s), *this, conn_);
    host->start([this](OuchHost& h) {
      auto session = std::make_unique<sessions::SoupServerSession>(users_, h, limits_, session_counters_, mono_ns());
      session->set_clock_origin(origin_ns_);
      return session;
    });
    ouch_hosts_.push_back(host);
    accept_ouch();
  });
}

void Server::accept_itch() {
  itch_acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket s) {
    if (ec) return;
    auto host = std::make_shared<FeedHost>(std::move(s), *this, conn_);
    host->start([this](FeedHost& h) {
      return std::make_unique<egress::FeedSession>(egress_->feeds(), users_, h, feed_limits_, feed_counters_, mono_ns());
    });
    feed_hosts_.push_back(host);
    accept_itch();
  });
}

// Moves events from the core to the sessions and feeds; returns how many it took.
int Server::pump(std::uint64_t now) {
  while (!pending_control_.empty() && gateway_ring_->try_push(pending_control_.front()) == PushResult::Ok) {
    pending_control_.pop_front();
    core_wake_pending_ = true;
  }
  if (core_wake_pending_) {  // what this pass's handlers pushed: one wake for all of it
    core_wake_pending_ = false;
    core_.parker().wake();
  }
  // Order acknowledgement latency: the gateway's receive stamp (the command's ts) to the reply
  // reaching egress, for Accepted and Rejected of orders from sessions.
  const std::uint64_t now_since_origin = now - origin_ns_;
  const std::size_t n = event_ring_->drain(
      [this, now_since_origin](Event& e) {
        if ((e.type == EventType::Accepted || e.type == EventType::Rejected) && e.owner.value() != 0 &&
            ack_latency_ != nullptr && now_since_origin >= e.ts.value())
          ack_latency_->Observe(static_cast<double>(now_since_origin - e.ts.value()) * 1e-9);
        observe_status(e);
        egress_->on_event(e);
      },
      releasable_events(4096));
  consumed_events_ += n;
  if (n > 0) egress_->flush(now);
  return static_cast<int>(n) + pump_udp(now, n > 0);
}

void Server::observe_status(const Event& e) {
  if (e.instrument.value() < 1 || e.instrument.value() > cfg_.engine.instruments.size()) return;
  if (e.type == EventType::TradingStatusChanged) {
    statuses_[e.instrument.value()].store(e.code, std::memory_order_relaxed);
    int awaited = e.code;  // the awaited Set has landed (or the status it sets is already shown)
    (void)awaited_status_[e.instrument.value()].compare_exchange_strong(awaited, kNoneAwaited,
                                                                        std::memory_order_acq_rel);
  } else if (e.type == EventType::Rejected && e.owner.value() == 0 && !recovering_ &&
             e.code == static_cast<std::uint8_t>(RejectCode::InvalidTransition)) {
    // Owner 0: an admin or schedule command, which no session hears about; resume() could not
    // refuse it beforehand (a halt or phase was in flight), so this line is the operator's answer.
    // Not during recovery: a replayed refusal was logged when it happened.
    const auto now = static_cast<TradingStatus>(statuses_[e.instrument.value()].load(std::memory_order_relaxed));
    log_->warn("core refused a trading-status command for {}: invalid_transition (it is {})",
               cfg_.engine.instruments[e.instrument.value() - 1].symbol.view(), to_string(now));
  }
}

// Durability before acknowledgement: with a journal, egress takes an event only once the
// commands up to the boundary that covers it are durable (docs/operations.md, "Journal").
std::size_t Server::releasable_events(std::size_t max) {
  if (!writer_) return max;
  const std::uint64_t durable = writer_->durable_seq();
  // ha.failover lease: only the holder of the Lease acknowledges. Checked after reading what is
  // durable: held now, it was held when that was read (a lost Lease is never taken again), so
  // nothing durable after the deadline is released, even before the elector's thread has noticed
  // (a SIGSTOPped leader resumes past its deadline). What was released before may still go out.
  if (!lease_held()) return static_cast<std::size_t>(std::min<std::uint64_t>(max, released_events_ - consumed_events_));
  while (const Boundary* b = boundaries_->front()) {
    if (b->seq > durable) break;
    released_events_ = std::max(released_events_, b->events);
    boundaries_->pop();
  }
  return static_cast<std::size_t>(std::min<std::uint64_t>(max, released_events_ - consumed_events_));
}

void Server::send_datagram(std::span<const std::uint8_t> d) {
  if (recovering_) return;  // the replay of the day rebuilds the feed; it does not resend it
  if (itch_via_dpdk_) {  // ingress.itch_destination: the feed leaves on the DPDK port
    (void)port_->send(itch_addr_, d);
    return;
  }
  if (mold_batch_->full()) send_mold_batch();
  mold_batch_->add(d);  // sent at the packetizer's batch end: flush, tick, end of session
}

// The MoldUDP64 datagrams of one pass in one sendmmsg (a lost one is re-requested).
void Server::send_mold_batch() {
  const std::size_t n = mold_batch_->size();
  if (n == 0) return;
  for (std::size_t i = 0; i < n; ++i) {
    const std::span<const std::uint8_t> d = (*mold_batch_)[i];
    mold_iov_[i] = iovec{const_cast<std::uint8_t*>(d.data()), d.size()};
    mold_msgs_[i] = mmsghdr{};
    mold_msgs_[i].msg_hdr.msg_name = mold_destination_.data();
    mold_msgs_[i].msg_hdr.msg_namelen = static_cast<socklen_t>(mold_destination_.size());
    mold_msgs_[i].msg_hdr.msg_iov = &mold_iov_[i];
    mold_msgs_[i].msg_hdr.msg_iovlen = 1;
  }
  std::size_t done = 0;
  while (done < n) {
    const int sent = ::sendmmsg(mold_socket_.native_handle(), mold_msgs_.data() + done, static_cast<unsigned>(n - done), 0);
    if (sent <= 0) {
      if (sent < 0 && errno == EINTR) continue;
      ++done;  // the kernel refused this one (sendto would have too): skip it, the rest still go
      continue;
    }
    done += static_cast<std::size_t>(sent);
  }
  mold_batch_->clear();
}

// MoldUDP64 re-request server on the sending socket: answers with the retransmission packets.
void Server::receive_requests() {
  mold_socket_.async_receive_from(asio::buffer(request_buf_), request_from_, [this](const boost::system::error_code& ec,
                                                                                     std::size_t n) {
    if (ec) return;  // socket closed at stop
    (void)egress_->mold().on_request({request_buf_.data(), n}, [this](std::span<const std::uint8_t> reply) {
      boost::system::error_code ignored;
      mold_socket_.send_to(asio::buffer(reply.data(), reply.size()), request_from_, 0, ignored);
    });
    receive_requests();
  });
}

void Server::tick(std::uint64_t now) {
  check_journal(now);
  // The snapshot thread parks until there are durable records it has not applied: it learns of
  // them here, at most ten times a second (it is not on a message's path).
  if (snapshotter_ && writer_->durable_seq() > snapshotter_->stats().replica_seq.load(std::memory_order_relaxed))
    snapshotter_->wake();
  run_schedule(now);
  std::erase_if(ouch_hosts_, [](const std::shared_ptr<OuchHost>& h) { return h->closed(); });
  std::erase_if(feed_hosts_, [](const std::shared_ptr<FeedHost>& h) { return h->closed(); });
  for (auto& h : ouch_hosts_)
    if (h->session() != nullptr) h->session()->on_tick(now);
  egress_->on_tick(now);  // MoldUDP64 heartbeat and the feed sessions' ticks
  if (replier_) {
    replier_->on_tick(now);
    flush_udp_tx();
    publish_reply_counters();
  }
  publish_io_counters();
  if (!busy_poll_warned_ && g_busy_poll_refused.load(std::memory_order_relaxed)) {
    busy_poll_warned_ = true;
    log_->warn("network_optimization: SO_BUSY_POLL refused (needs CAP_NET_ADMIN); sockets poll normally");
  }
}

}  // namespace peregrine::app
