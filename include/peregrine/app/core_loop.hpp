#pragma once
/// The matching thread. Stage 2 of the pipeline in docs/architecture.md: it drains the command
/// rings that ingress fills, runs each command through the Engine, and writes every event to the
/// event ring that egress drains. On its own thread it never blocks on I/O, never allocates,
/// never logs and never throws; it counts what it does in CoreCounters for the metrics thread.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "peregrine/agent/affinity.hpp"
#include "peregrine/agent/agent_runner.hpp"
#include "peregrine/agent/idle_strategy.hpp"
#include "peregrine/agent/parker.hpp"
#include "peregrine/agent/wait_strategy.hpp"
#include "peregrine/core/command.hpp"
#include "peregrine/core/engine.hpp"
#include "peregrine/core/event.hpp"
#include "peregrine/journal/journal.hpp"
#include "peregrine/metrics/counters.hpp"
#include "peregrine/ring/spsc_ring.hpp"

namespace peregrine::app {

using agent::AnyIdleStrategy;
using agent::IdleStrategyKind;
using agent::pin_current_thread;  // the io thread pins itself with it too (server.cpp)
using ring::PushResult;
using ring::SpscRing;

inline constexpr std::size_t kCommandRingCapacity = std::size_t{1} << 16;
inline constexpr std::size_t kEventRingCapacity = std::size_t{1} << 16;
/// One producer (a gateway or ingress thread) to the core.
using CommandRing = SpscRing<Command, kCommandRingCapacity>;
/// The core to egress.
using EventRing = SpscRing<Event, kEventRingCapacity>;

/// "The events pushed to the event ring so far (`events`, a running count) come from commands
/// numbered `seq` or lower": egress may hand them out once the journal is durable up to `seq`.
struct Boundary {
  std::uint64_t events = 0;
  std::uint64_t seq = 0;
};
/// The core to egress, beside the event ring (with a journal only).
using BoundaryRing = SpscRing<Boundary, 4096>;

struct CoreLoopOptions {
  int cpu = -1;  ///< CPU to pin the thread to (pthread_setaffinity_np); -1 = not pinned
  /// What the thread does when its rings are empty. SpinThenPark and Park sleep on `parker()`:
  /// then every producer of an input ring must call `parker().wake()` after pushing.
  IdleStrategyKind idle = IdleStrategyKind::BackOff;
  std::size_t batch = 256;  ///< commands taken from one ring before looking at the next
  std::chrono::nanoseconds spin = agent::kDefaultSpin;  ///< SpinThenPark: the spin before a park
};

/// Runs an Engine over commands from `inputs` (round robin, in order within each ring).
///
/// Full event ring policy: the core does not drop events. When egress is a whole ring behind,
/// the core counts `event_ring_full` and spins (with a pause) until egress frees room; egress
/// itself never waits for a slow TCP consumer (it cuts it off), so this wait is bounded by
/// egress's own progress, never by the network.
class CoreLoop final : public agent::Agent {
 public:
  /// The engine, rings and counters must outlive the loop. Not started.
  CoreLoop(Engine& engine, std::vector<CommandRing*> inputs, EventRing& output, metrics::CoreCounters& counters,
           CoreLoopOptions options);

  /// Journals every command (docs/operations.md, "Journal"): each command taken from an input
  /// ring is pushed to `journal` before it is processed, and numbered last_seq + 1, + 2, ... in
  /// that order (the writer numbers its ring's commands the same way). A ring is left alone for a
  /// pass when the journal's ring has no room for a batch (counted: journal_ring_full). After
  /// each pass, and whenever the event ring is full, a Boundary goes to `boundaries`. Before
  /// start(); the rings must outlive the loop.
  /// `writer`, when given, is woken after each ring's commands have been pushed to `journal`
  /// (the journal writer's parker).
  void attach_journal(journal::JournalRing& journal, BoundaryRing& boundaries, std::uint64_t last_seq,
                      agent::Parker* writer = nullptr) noexcept;
  /// The consumer of the event ring (and of the boundaries) to wake after a pass pushed events,
  /// and before waiting on a full event ring. Before start().
  void set_event_consumer(agent::Parker* consumer) noexcept { event_consumer_ = consumer; }
  /// The core thread's wake-up channel: a producer calls `wake()` after each push (or batch of
  /// pushes) to an input ring. Any producer thread.
  [[nodiscard]] agent::Parker& parker() noexcept { return runner_.parker(); }
  /// The number of the last command taken (with a journal). Exact once the thread has stopped.
  [[nodiscard]] std::uint64_t last_seq() const noexcept { return seq_.load(std::memory_order_acquire); }
  /// Events pushed to the event ring so far. Exact once the thread has stopped.
  [[nodiscard]] std::uint64_t events_pushed() const noexcept { return events_pushed_.load(std::memory_order_acquire); }
  ~CoreLoop() override;
  CoreLoop(const CoreLoop&) = delete;
  CoreLoop& operator=(const CoreLoop&) = delete;

  /// Starts the core thread (`pg-core`, under agent::AgentRunner), pinned if asked. Throws
  /// std::system_error if the CPU cannot be used (it names the CPU). Control thread.
  void start();
  /// Asks the thread to finish: it drains every command already in the rings, hands over the
  /// events, and exits; then joins. Safe to call twice. Control thread.
  void stop();
  /// One pass over the inputs: processes up to `batch` commands per ring and returns how many
  /// commands it processed. The thread calls it in a loop; tests may call it directly (without
  /// start()) from the one thread that then owns the engine.
  int do_work() noexcept override;
  /// True while the thread runs.
  [[nodiscard]] bool running() const noexcept { return runner_.running(); }

 private:
  static void flush_events(void* self, const Event* events, std::size_t n) noexcept;
  /// Marks {events pushed, last seq} as the boundary to publish and tries to push it.
  void publish_boundary() noexcept;
  void retry_boundary() noexcept;
  /// The re-check before a park: anything in an input ring, a boundary to retry (the runner
  /// adds its stop request).
  bool has_work() noexcept override;

  Engine& engine_;
  std::vector<CommandRing*> inputs_;
  EventRing& output_;
  metrics::CoreCounters& counters_;
  CoreLoopOptions options_;
  std::unique_ptr<Event[]> event_buffer_;
  EventSink sink_;
  journal::JournalRing* journal_ = nullptr;
  agent::Parker* journal_writer_ = nullptr;
  agent::Parker* event_consumer_ = nullptr;
  BoundaryRing* boundaries_ = nullptr;
  // Written by the core thread only; atomics so the control thread may read them after stop().
  std::atomic<std::uint64_t> seq_{0};
  std::atomic<std::uint64_t> events_pushed_{0};
  Boundary pending_boundary_;
  bool boundary_pending_ = false;
  // Last: its thread runs this loop's do_work, so it is stopped (destroyed) first.
  agent::AgentRunner runner_;
};

}  // namespace peregrine::app
