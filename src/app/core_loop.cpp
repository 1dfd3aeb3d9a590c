#include "peregrine/app/core_loop.hpp"

#include <algorithm>
#include <string>
#include <system_error>
#include <variant>

#include "topology.hpp"

namespace peregrine::app {

namespace {
constexpr std::size_t kSinkEvents = 256;
}  // namespace

CoreLoop::CoreLoop(Engine& engine, std::vector<CommandRing*> inputs, EventRing& output,
                   metrics::CoreCounters& counters, CoreLoopOptions options)
    : engine_(engine),
      inputs_(std::move(inputs)),
      output_(output),
      counters_(counters),
      options_(options),
      event_buffer_(std::make_unique<Event[]>(kSinkEvents)),
      sink_(event_buffer_.get(), kSinkEvents, &CoreLoop::flush_events, this),
      runner_(*this, agent::AgentOptions{std::string(kCoreThread), options.cpu,
                                         {options.idle, options.spin, std::chrono::nanoseconds{-1}}, true, true}) {
  if (options_.batch == 0) options_.batch = 1;
}

CoreLoop::~CoreLoop() { stop(); }

void CoreLoop::attach_journal(journal::JournalRing& journal, BoundaryRing& boundaries, std::uint64_t last_seq,
                              agent::Parker* writer) noexcept {
  journal_ = &journal;
  journal_writer_ = writer;
  boundaries_ = &boundaries;
  seq_.store(last_seq, std::memory_order_release);
}

void CoreLoop::publish_boundary() noexcept {
  pending_boundary_ = Boundary{events_pushed_.load(std::memory_order_relaxed), seq_.load(std::memory_order_relaxed)};
  boundary_pending_ = true;
  retry_boundary();
}

void CoreLoop::retry_boundary() noexcept {
  // Boundaries only grow, so a later one covers an earlier one that found the ring full.
  if (boundary_pending_ && boundaries_->try_push(pending_boundary_) == PushResult::Ok) {
    boundary_pending_ = false;
    // The io thread may have parked while this boundary waited: the events it covers may be
    // durable already, and only this push tells it so.
    if (event_consumer_ != nullptr) event_consumer_->wake();
  }
}

void CoreLoop::flush_events(void* self, const Event* events, std::size_t n) noexcept {
  auto* loop = static_cast<CoreLoop*>(self);
  for (std::size_t i = 0; i < n; ++i) {
    loop->counters_.on_event(events[i]);
    if (loop->output_.try_push(events[i]) != PushResult::Ok) {
      loop->counters_.note_event_ring_full();
      // With a journal, egress takes only events whose commands are durable: tell it that the
      // ones already in the ring are covered by the commands taken so far, or it would wait for
      // a boundary this pass has not reached (one command can emit more events than the ring holds).
      if (loop->journal_ != nullptr) loop->publish_boundary();
      if (loop->event_consumer_ != nullptr) loop->event_consumer_->wake();  // it may be parked
      while (loop->output_.try_push(events[i]) != PushResult::Ok) {
        if (loop->journal_ != nullptr) loop->retry_boundary();
        agent::cpu_relax();
      }
    }
    loop->events_pushed_.store(loop->events_pushed_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  }
}

int CoreLoop::do_work() noexcept {
  int work = 0;
  for (CommandRing* ring : inputs_) {
    std::size_t limit = options_.batch;
    if (journal_ != nullptr) {
      // Room for the whole batch, so every command taken is journaled before it is processed.
      const std::size_t room = journal::JournalRing::capacity() - journal_->size_approx();
      if (room == 0) {
        if (ring->size_approx() != 0) counters_.note_journal_ring_full();
        continue;
      }
      limit = std::min(limit, room);
    }
    // Process one command behind the one just taken, so the engine can prefetch the next
    // command's token entry while it works on the current one.
    bool held = false;
    Command pending;
    const std::size_t n = ring->drain(
        [&](Command& cmd) noexcept {
          if (journal_ != nullptr) {
            (void)journal_->try_push(cmd);  // room checked above; the writer numbers it seq_ + 1
            seq_.store(seq_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
          }
          engine_.prefetch(cmd);
          if (held) {
            counters_.on_command(pending);
            engine_.process(pending, sink_);
          }
          pending = cmd;
          held = true;
        },
        limit);
    if (held) {
      counters_.on_command(pending);
      engine_.process(pending, sink_);
    }
    if (n != 0 && journal_writer_ != nullptr) journal_writer_->wake();
    work += static_cast<int>(n);
  }
  counters_.note_poll();
  if (work > 0) {
    sink_.flush();
    counters_.set_live_orders(engine_.stats().live_orders);
    if (journal_ != nullptr) publish_boundary();
    if (event_consumer_ != nullptr) event_consumer_->wake();
  } else if (journal_ != nullptr) {
    retry_boundary();
  }
  return work;
}

bool CoreLoop::has_work() noexcept {
  if (boundary_pending_) return true;
  for (CommandRing* ring : inputs_) {
    if (ring->front() != nullptr) return true;
  }
  return false;
}

// Producers stop before the core; the runner's last passes take anything pushed meanwhile
// (drain_on_stop).
void CoreLoop::start() { runner_.start(); }

void CoreLoop::stop() { runner_.stop(); }

}  // namespace peregrine::app
