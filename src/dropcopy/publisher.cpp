#include "peregrine/dropcopy/publisher.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <exception>
#include <fstream>
#include <optional>
#include <vector>

#include "amqp_link.hpp"
#include "peregrine/agent/agent_runner.hpp"
#include "peregrine/agent/clock.hpp"
#include "peregrine/core/engine.hpp"
#include "peregrine/dropcopy/checkpoint.hpp"
#include "peregrine/dropcopy/message.hpp"
#include "peregrine/journal/journal.hpp"
#include "peregrine/replay/engine_replay.hpp"

namespace peregrine::dropcopy {

namespace {

using agent::mono_ns;

constexpr std::chrono::milliseconds kIdleWait{20};         // how often an idle publisher looks at the journal
constexpr std::chrono::milliseconds kConnectTimeout{2000};  // TCP, TLS and every handshake step
constexpr std::uint64_t kCheckpointEveryNs = 100'000'000;  // at most ten checkpoint writes a second
constexpr std::uint64_t kFirstBackoffMs = 100;
constexpr std::size_t kRecordsPerRead = 64;
constexpr std::chrono::seconds kStopGrace{2};  // then stop() shuts the socket down under a blocked publish

// One event on its way: numbered, formatted, and where it stands with the broker.
struct Pending {
  std::uint64_t seq = 0;
  std::uint64_t journal_seq = 0;
  std::uint64_t ts = 0;  // exchange ns since midnight
  Message msg;
  std::uint64_t tag = 0;  // delivery tag on the current connection; 0 = not (re)published since the last rewind
  bool acked = false;
  bool failed = false;  // nacked or returned
};

}  // namespace

struct Publisher::State {
  State(const config::ServiceConfig& svc, const PublisherOptions& o)
      : dir(svc),
        events_buffer(256),
        sink(events_buffer.data(), events_buffer.size(), &State::on_flush, this),
        replay(svc.engine, sink),
        firm_seqs(std::max<std::size_t>(dir.firms(), 1), 0),
        cp_file(checkpoint_path(o.day_dir, svc.dropcopy.market)) {
    events.reserve(1024);
  }
  static void on_flush(void* self, const Event* ev, std::size_t n) noexcept {
    auto* s = static_cast<State*>(self);
    s->events.insert(s->events.end(), ev, ev + n);
  }

  Directory dir;
  OrderTracker tracker;
  std::vector<Event> events_buffer;
  std::vector<Event> events;
  EventSink sink;
  replay::EngineReplay replay;
  std::unique_ptr<journal::JournalTail> tail;
  std::vector<std::uint64_t> firm_seqs;
  std::uint64_t seq = 0;           // the last number given
  std::optional<Checkpoint> resume;  // the checkpoint found at start: numbers up to its seq are not published again
  std::deque<Pending> pending;     // front: checkpoint + 1
  std::size_t next_unsent = 0;     // pending[0, next_unsent) are published on this connection
  std::uint64_t popped = 0;        // events confirmed and dropped from the front (absolute index of pending[0])
  bool tags_valid = false;         // the tag <-> index mapping below holds (since the last rewind's first publish)
  std::uint64_t tag_first = 0;
  std::uint64_t tag_offset = 0;    // absolute index = tag - tag_offset
  detail::AmqpTarget target;
  std::uint64_t next_connect_ns = 0;
  std::uint64_t backoff_ms = kFirstBackoffMs;
  std::uint64_t pause_until_ns = 0;  // after a return or nack: publishing waits (back-off)
  std::uint64_t return_backoff_ms = kFirstBackoffMs;
  bool return_logged = false;  // one line per episode of returns (until the checkpoint moves)
  bool down_logged = false;  // the current outage has been logged
  std::string last_failure;
  bool ever_connected = false;
  Checkpoint cp;
  std::filesystem::path cp_file;
  bool cp_dirty = false;
  std::uint64_t cp_saved_ns = 0;
  bool cp_error_logged = false;
  bool failed = false;
};

Publisher::Publisher(const config::ServiceConfig& svc, PublisherOptions opts, std::function<std::uint64_t()> durable_seq,
                     Log log)
    : svc_(svc),
      opts_(std::move(opts)),
      durable_seq_(std::move(durable_seq)),
      log_(std::move(log)),
      link_(detail::open_amqp_link(opts_.amqp_module)) {}

Publisher::~Publisher() { stop(); }

void Publisher::start() {
  if (thread_.joinable()) return;
  thread_ = agent::launch_named(opts_.thread_name, -1, [this] { run(); });
}

void Publisher::stop() {
  stop_.store(true, std::memory_order_release);
  parker_.signal();
  if (!thread_.joinable()) return;
  // rabbitmq-c's publish has no deadline: a broker that stops reading (a memory or disk alarm
  // blocks publishers) would hold the thread in send(). After a grace period the socket is shut
  // down under the lock the thread closes it with, so the number is still this connection's.
  const auto deadline = std::chrono::steady_clock::now() + kStopGrace;
  while (!exited_.load(std::memory_order_acquire) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds{5});  // start-up / shut-down thread only
  if (!exited_.load(std::memory_order_acquire)) {
    const std::lock_guard<std::mutex> lock(fd_mutex_);
    if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
  }
  thread_.join();
}

void Publisher::close_link() {
  {
    const std::lock_guard<std::mutex> lock(fd_mutex_);
    fd_ = -1;
  }
  link_->close();
}

double Publisher::lag_seconds() const noexcept {
  const std::uint64_t ts1 = stats_.oldest_unconfirmed_ts.load(std::memory_order_relaxed);
  if (ts1 == 0) return 0.0;
  // Modulo 2^64, as the server stamps commands: the exchange's midnight may lie before the
  // monotonic clock's zero (a machine booted after it), its reading then "negative".
  const std::uint64_t exch = mono_ns() - opts_.origin_mono_ns;
  return exch > ts1 - 1 ? static_cast<double>(exch - (ts1 - 1)) * 1e-9 : 0.0;
}

std::uint64_t Publisher::lag_records() const noexcept {
  const std::uint64_t d = durable_seq_();
  const std::uint64_t r = stats_.replica_seq.load(std::memory_order_relaxed);
  return d > r ? d - r : 0;
}

void Publisher::run() {
  State st(svc_, opts_);
  const config::DropCopyConfig& cfg = svc_.dropcopy;
  const auto fail = [&](const std::string& why) {
    log_("error", "drop copy: " + why + "; the drop copy stops (trading goes on)");
    st.failed = true;
    stats_.failed.store(1, std::memory_order_relaxed);
  };
  const auto in_flight = [&] { return st.next_unsent; };
  const auto set_oldest = [&] {
    stats_.oldest_unconfirmed_ts.store(st.pending.empty() ? 0 : st.pending.front().ts + 1, std::memory_order_relaxed);
  };

  // Everything after the checkpoint goes out again, in order, on this connection or the next.
  const auto rewind = [&] {
    for (Pending& p : st.pending) {
      p.tag = 0;
      p.acked = false;
      p.failed = false;
    }
    st.next_unsent = 0;
    st.tags_valid = false;
    stats_.rewinds.fetch_add(1, std::memory_order_relaxed);
  };

  const auto lost = [&](const std::string& why) {
    const bool was_up = link_->connected();
    close_link();
    stats_.connected.store(0, std::memory_order_relaxed);
    rewind();
    const std::uint64_t now = mono_ns();
    st.next_connect_ns = now + st.backoff_ms * 1'000'000;
    if (!st.down_logged || why != st.last_failure) {
      log_("warn", std::string("drop copy: ") + (was_up ? "lost the broker: " : "") + why +
                       "; trading goes on, events wait in the journal (checkpoint seq " + std::to_string(st.cp.seq) +
                       "); retrying with back-off up to " + std::to_string(cfg.reconnect_max_ms) + " ms");
      st.down_logged = true;
      st.last_failure = why;
    }
    st.backoff_ms = std::min<std::uint64_t>(st.backoff_ms * 2, std::max<std::uint32_t>(cfg.reconnect_max_ms, 1));
  };

  const auto password = [&]() -> std::optional<std::string> {
    if (cfg.password_file.empty()) return opts_.env_password;
    std::ifstream in(cfg.password_file);
    std::string line;
    if (!in || !std::getline(in, line)) return std::nullopt;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    return line;
  };

  const auto connect = [&] {
    const std::optional<std::string> pw = password();
    if (!pw) {
      stats_.connect_failures.fetch_add(1, std::memory_order_relaxed);
      lost("cannot read dropcopy.password_file " + cfg.password_file);
      return;
    }
    st.target.password = *pw;
    const std::string err = link_->connect(st.target, cfg.exchange, kConnectTimeout);
    if (err.empty()) {
      const std::lock_guard<std::mutex> lock(fd_mutex_);
      fd_ = link_->fd();
    }
    if (!err.empty()) {
      stats_.connect_failures.fetch_add(1, std::memory_order_relaxed);
      lost(err);
      return;
    }
    stats_.connects.fetch_add(1, std::memory_order_relaxed);
    if (st.ever_connected || st.down_logged) stats_.reconnects.fetch_add(1, std::memory_order_relaxed);
    stats_.connected.store(1, std::memory_order_relaxed);
    log_("info", "drop copy: connected to " + st.target.host + ":" + std::to_string(st.target.port) + " (exchange " +
                     cfg.exchange + ", window " + std::to_string(cfg.window) + "); publishing from seq " +
                     std::to_string(st.cp.seq + 1));
    st.ever_connected = true;
    st.down_logged = false;
    st.last_failure.clear();
    st.backoff_ms = kFirstBackoffMs;
  };

  // One journal record through the replica: its order events numbered, and queued when after the checkpoint.
  const auto apply = [&](const journal::Record& rec) {
    st.replay.apply(rec);
    st.replay.finish();
    st.sink.flush();
    std::string_view command_symbol;
    Command cmd{};
    if (rec.kind == journal::RecordKind::Command) {
      cmd = rec.command();
      if (cmd.type == CommandType::NewOrder) command_symbol = cmd.new_order.symbol.view();
    }
    for (const Event& e : st.events) {
      const std::optional<Kind> kind = kind_of(e.type);
      if (!kind) continue;
      const std::uint64_t cum = st.tracker.apply(e);
      const FirmId firm = st.dir.firm_of(e);
      const std::size_t f = firm.value() < st.firm_seqs.size() ? firm.value() : 0;
      const std::uint64_t seq = ++st.seq;
      const std::uint64_t firm_seq = ++st.firm_seqs[f];
      if (st.resume && seq <= st.resume->seq) {
        if (seq == st.resume->seq && st.resume->journal_seq != 0 && st.resume->journal_seq != rec.seq)
          throw std::runtime_error("the checkpoint's seq " + std::to_string(seq) + " is at journal record " +
                                   std::to_string(st.resume->journal_seq) + " but the journal puts it at " +
                                   std::to_string(rec.seq) + " (a checkpoint of another journal?)");
        continue;
      }
      Numbering n;
      n.market = cfg.market;
      n.day = opts_.day;
      n.utc_offset_seconds = opts_.utc_offset_seconds;
      n.seq = seq;
      n.firm_seq = firm_seq;
      n.journal_seq = rec.seq;
      n.cum_qty = cum;
      n.command_symbol = command_symbol;
      Pending p;
      p.seq = seq;
      p.journal_seq = rec.seq;
      p.ts = e.ts.value();
      p.msg = format(e, *kind, n, st.dir, cfg.routing_prefix);
      st.pending.push_back(std::move(p));
    }
    st.events.clear();
    stats_.produced_seq.store(st.seq, std::memory_order_relaxed);
    if (st.resume && rec.seq >= st.resume->journal_seq && st.seq < st.resume->seq && st.resume->journal_seq != 0)
      throw std::runtime_error("the checkpoint's seq " + std::to_string(st.resume->seq) + " is past every event up to journal record " +
                               std::to_string(rec.seq) + " (a checkpoint of another journal?)");
  };

  const auto mark = [&](std::uint64_t tag, bool multiple, bool ack) {
    if (!st.tags_valid || tag < st.tag_first) return;  // a message published before the last rewind
    const std::uint64_t abs = tag - st.tag_offset;
    if (abs < st.popped) return;
    const std::uint64_t last = abs - st.popped;
    const std::uint64_t first = multiple ? 0 : last;
    for (std::uint64_t i = first; i <= last && i < st.next_unsent; ++i) {
      Pending& p = st.pending[i];
      if (ack) {
        p.acked = true;
      } else if (!p.acked) {
        p.failed = true;
        stats_.nacked.fetch_add(1, std::memory_order_relaxed);
      }
    }
  };

  const auto handle = [&](const std::vector<detail::Confirm>& confirms) {
    for (const detail::Confirm& c : confirms) {
      switch (c.type) {
        case detail::Confirm::Type::Ack: mark(c.tag, c.multiple, true); break;
        case detail::Confirm::Type::Nack: mark(c.tag, c.multiple, false); break;
        case detail::Confirm::Type::Return: {
          stats_.returned.fetch_add(1, std::memory_order_relaxed);
          const std::size_t colon = c.message_id.rfind(':');
          const std::uint64_t seq = colon == std::string::npos ? 0 : std::strtoull(c.message_id.c_str() + colon + 1, nullptr, 10);
          if (!st.pending.empty() && seq >= st.pending.front().seq && seq - st.pending.front().seq < st.pending.size()) {
            Pending& p = st.pending[seq - st.pending.front().seq];
            if (p.tag != 0) {
              p.failed = true;
              if (!st.return_logged)
                log_("warn", "drop copy: the broker returned seq " + std::to_string(seq) + " (routing key " + p.msg.routing_key +
                               ": " + c.reply + "): no queue takes it; the checkpoint stays at " + std::to_string(st.cp.seq) +
                               " and everything after it is sent again after " + std::to_string(st.return_backoff_ms) +
                               " ms (further returns are counted, not logged, until it moves)");
              st.return_logged = true;
            }
          }
          break;
        }
      }
    }
    bool moved = false;
    while (!st.pending.empty() && st.pending.front().acked && !st.pending.front().failed && st.next_unsent > 0) {
      st.cp.seq = st.pending.front().seq;
      st.cp.journal_seq = st.pending.front().journal_seq;
      st.pending.pop_front();
      --st.next_unsent;
      ++st.popped;
      stats_.confirmed.fetch_add(1, std::memory_order_relaxed);
      moved = true;
    }
    if (moved) {
      st.cp_dirty = true;
      stats_.confirmed_seq.store(st.cp.seq, std::memory_order_relaxed);
      st.return_backoff_ms = kFirstBackoffMs;
      st.return_logged = false;
    }
    if (!st.pending.empty() && st.pending.front().failed) {
      rewind();
      st.pause_until_ns = mono_ns() + st.return_backoff_ms * 1'000'000;
      st.return_backoff_ms =
          std::min<std::uint64_t>(st.return_backoff_ms * 2, std::max<std::uint32_t>(cfg.reconnect_max_ms, 1));
    }
    set_oldest();
  };

  const auto save = [&](bool force) {
    if (!st.cp_dirty) return;
    const std::uint64_t now = mono_ns();
    if (!force && now - st.cp_saved_ns < kCheckpointEveryNs) return;
    try {
      save_checkpoint(st.cp_file, st.cp);
      st.cp_dirty = false;
      st.cp_saved_ns = now;
      st.cp_error_logged = false;
    } catch (const std::exception& e) {
      if (!st.cp_error_logged) log_("error", std::string("drop copy: cannot write the checkpoint: ") + e.what() +
                                                  " (a restart sends more duplicates)");
      st.cp_error_logged = true;
      st.cp_saved_ns = now;
    }
  };

  // Start: the target, the checkpoint, the journal from the day's first record.
  try {
    st.cp.market = cfg.market;
    st.cp.day = opts_.day;
    if (const std::string err = detail::parse_target(cfg.url, st.target); !err.empty())
      throw std::runtime_error("dropcopy.url: " + err);
    st.target.ca_file = cfg.tls_ca_file;
    st.target.heartbeat_seconds = static_cast<int>(cfg.heartbeat_seconds);
    st.resume = load_checkpoint(st.cp_file);
    if (st.resume) {
      if (st.resume->day != opts_.day || st.resume->market != cfg.market)
        throw std::runtime_error(st.cp_file.string() + " is market " + st.resume->market + " of " + st.resume->day +
                                 ", not " + cfg.market + " of " + opts_.day);
      st.cp.seq = st.resume->seq;
      st.cp.journal_seq = st.resume->journal_seq;
      stats_.confirmed_seq.store(st.cp.seq, std::memory_order_relaxed);
      log_("info", "drop copy: resuming " + cfg.market + " " + opts_.day + " after seq " + std::to_string(st.cp.seq) +
                       " (journal record " + std::to_string(st.cp.journal_seq) + "); replaying the day to it");
    }
    st.tail = std::make_unique<journal::JournalTail>(opts_.day_dir, opts_.fingerprint, 1);
  } catch (const std::exception& e) {
    fail(e.what());
  }

  std::vector<detail::Confirm> confirms;
  while (!stop_.load(std::memory_order_acquire)) {
    if (st.failed) {
      parker_.prepare_park();
      (void)parker_.park(std::chrono::seconds{1});
      continue;
    }
    // 1. The journal, up to the durable record, while the window has room.
    const std::uint64_t durable = durable_seq_();
    try {
      while (st.pending.size() < cfg.window && st.tail->next_seq() <= durable && !stop_.load(std::memory_order_relaxed)) {
        const std::size_t n = st.tail->poll(durable, kRecordsPerRead, apply);
        stats_.replica_seq.store(st.tail->next_seq() - 1, std::memory_order_relaxed);
        if (n == 0) break;  // not on disk yet: the next pass
      }
    } catch (const std::exception& e) {
      fail(std::string("reading the journal: ") + e.what());
      continue;
    }
    set_oldest();
    std::uint64_t now = mono_ns();
    // 2. The broker.
    if (!link_->connected() && now >= st.next_connect_ns) connect();
    // 3. Publish what the window allows.
    if (link_->connected() && now >= st.pause_until_ns) {
      while (st.next_unsent < st.pending.size() && in_flight() < cfg.window) {
        Pending& p = st.pending[st.next_unsent];
        const std::uint64_t tag = link_->publish(cfg.exchange, p.msg.routing_key, p.msg.body, p.msg.message_id, p.msg.unix_seconds);
        if (tag == 0) {
          lost(link_->error());
          break;
        }
        if (!st.tags_valid) {
          st.tags_valid = true;
          st.tag_first = tag;
          st.tag_offset = tag - (st.popped + st.next_unsent);
        }
        p.tag = tag;
        ++st.next_unsent;
        stats_.published.fetch_add(1, std::memory_order_relaxed);
      }
    }
    // 4. Confirms, or a wait for work.
    const bool more = st.pending.size() < cfg.window && st.tail->next_seq() <= durable_seq_();
    if (link_->connected()) {
      confirms.clear();
      const bool can_send = st.next_unsent < st.pending.size() && in_flight() < cfg.window && mono_ns() >= st.pause_until_ns;
      if (!link_->poll(more || can_send ? std::chrono::milliseconds{0} : kIdleWait, confirms)) {
        handle(confirms);
        lost(link_->error());
      } else {
        handle(confirms);
      }
    } else if (!more) {
      now = mono_ns();
      const std::uint64_t until = st.next_connect_ns > now ? st.next_connect_ns - now : 0;
      parker_.prepare_park();
      (void)parker_.park(std::min<std::chrono::nanoseconds>(kIdleWait, std::chrono::nanoseconds{until}));
    }
    save(false);
  }
  save(true);
  close_link();
  stats_.connected.store(0, std::memory_order_relaxed);
  exited_.store(true, std::memory_order_release);
}

}  // namespace peregrine::dropcopy
