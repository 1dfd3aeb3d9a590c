/// SpscRing micro benchmarks, 64-byte elements (the size of a command and of an event).
///
///   BM_RingPushPop               one thread: try_push + front + pop per item (the ring's own cost)
///   BM_RingPushDrain/B           one thread: B pushes, then one drain(B)
///   BM_RingThroughput/B          two threads: the benchmark thread pushes, a consumer thread takes
///                                with drain(B) (B = 0: front()/pop() one at a time); busy-spin on
///                                both sides; items_per_second is the transfer rate
///   BM_RingRoundTrip             two threads, two rings: push, the echo thread sends it back;
///                                time per iteration is one round trip (two one-way hand-offs)
///
/// The two-thread benchmarks pin the producer (the benchmark thread) and the other thread to the
/// first two CPUs this process may run on, and label the result "pinned cpu P->C"; with fewer
/// than two CPUs, or if pinning is refused, they run unpinned and say so. Every run (including
/// every repetition) starts and joins its own thread, so
///
///   ring_bench --benchmark_repetitions=10 --benchmark_report_aggregates_only=true
///
/// gives independent samples; read the median. Two busy-spinning threads need two otherwise idle
/// CPUs: on a loaded machine the two-thread numbers mostly measure the scheduler.

#include <benchmark/benchmark.h>
#include <pthread.h>
#include <sched.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "peregrine/agent/idle_strategy.hpp"
#include "peregrine/ring/spsc_ring.hpp"

namespace {

using peregrine::agent::cpu_relax;
using peregrine::ring::PushResult;
using peregrine::ring::SpscRing;

/// One cache line, like a command or an event.
struct alignas(64) Msg64 {
  std::uint64_t seq = 0;
  std::array<std::uint64_t, 7> payload{};
};
static_assert(sizeof(Msg64) == 64);

constexpr std::size_t kCapacity = 4096;  // 256 KiB: fits in L2
using Ring = SpscRing<Msg64, kCapacity>;

/// The first two CPUs in this process's affinity mask, if there are two.
std::optional<std::pair<int, int>> two_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) {
    return std::nullopt;
  }
  int found[2] = {-1, -1};
  int n = 0;
  for (int cpu = 0; cpu < CPU_SETSIZE && n < 2; ++cpu) {
    if (CPU_ISSET(cpu, &set)) {
      found[n++] = cpu;
    }
  }
  if (n < 2) {
    return std::nullopt;
  }
  return std::pair{found[0], found[1]};
}

bool pin_this_thread(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(static_cast<std::size_t>(cpu), &set);
  return pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
}

/// Pins the benchmark thread for the lifetime of the object and restores its mask afterwards.
class ScopedPin {
 public:
  explicit ScopedPin(std::optional<std::pair<int, int>> cpus) {
    saved_ok_ = pthread_getaffinity_np(pthread_self(), sizeof(saved_), &saved_) == 0;
    if (cpus && saved_ok_) {
      pinned_ = pin_this_thread(cpus->first);
    }
  }
  ~ScopedPin() {
    if (saved_ok_) {
      pthread_setaffinity_np(pthread_self(), sizeof(saved_), &saved_);
    }
  }
  ScopedPin(const ScopedPin&) = delete;
  ScopedPin& operator=(const ScopedPin&) = delete;

  [[nodiscard]] bool pinned() const { return pinned_; }

 private:
  cpu_set_t saved_{};
  bool saved_ok_ = false;
  bool pinned_ = false;
};

void label_pinning(benchmark::State& state, const std::optional<std::pair<int, int>>& cpus, bool pinned) {
  if (cpus && pinned) {
    state.SetLabel("pinned cpu " + std::to_string(cpus->first) + "->" + std::to_string(cpus->second));
  } else {
    state.SetLabel("unpinned");
  }
}

void BM_RingPushPop(benchmark::State& state) {
  auto ring = std::make_unique<Ring>();
  Msg64 msg;
  std::uint64_t sum = 0;
  for (auto _ : state) {
    ++msg.seq;
    if (ring->try_push(msg) != PushResult::Ok) {
      state.SkipWithError("ring unexpectedly full");
      break;
    }
    Msg64* front = ring->front();
    benchmark::DoNotOptimize(front);
    sum += front->seq;
    ring->pop();
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(sizeof(Msg64)));
}
BENCHMARK(BM_RingPushPop);

void BM_RingPushDrain(benchmark::State& state) {
  const auto batch = static_cast<std::size_t>(state.range(0));
  auto ring = std::make_unique<Ring>();
  Msg64 msg;
  std::uint64_t sum = 0;
  for (auto _ : state) {
    for (std::size_t i = 0; i < batch; ++i) {
      ++msg.seq;
      if (ring->try_push(msg) != PushResult::Ok) {
        state.SkipWithError("ring unexpectedly full");
        break;
      }
    }
    const std::size_t n = ring->drain([&sum](Msg64& m) noexcept { sum += m.seq; }, batch);
    benchmark::DoNotOptimize(n);
  }
  benchmark::DoNotOptimize(sum);
  const auto items = state.iterations() * static_cast<std::int64_t>(batch);
  state.SetItemsProcessed(items);
  state.SetBytesProcessed(items * static_cast<std::int64_t>(sizeof(Msg64)));
}
BENCHMARK(BM_RingPushDrain)->Arg(16)->Arg(256);

void BM_RingThroughput(benchmark::State& state) {
  const auto batch = static_cast<std::size_t>(state.range(0));  // 0 = front()/pop()
  const auto cpus = two_cpus();
  ScopedPin pin(cpus);
  auto ring = std::make_unique<Ring>();
  std::atomic<bool> stop{false};
  std::atomic<bool> consumer_pinned{false};
  std::uint64_t consumed = 0;

  std::thread consumer([&] {
    if (cpus && pin_this_thread(cpus->second)) {
      consumer_pinned.store(true, std::memory_order_relaxed);
    }
    std::uint64_t sum = 0;
    std::uint64_t count = 0;
    for (;;) {
      std::size_t n = 0;
      if (batch == 0) {
        if (const Msg64* m = ring->front(); m != nullptr) {
          sum += m->seq;
          ring->pop();
          n = 1;
        }
      } else {
        n = ring->drain([&sum](Msg64& m) noexcept { sum += m.seq; }, batch);
      }
      count += n;
      if (n == 0) {
        // The stop flag is set after the last push, so an empty ring seen after it is final.
        if (stop.load(std::memory_order_acquire) && ring->empty()) {
          break;
        }
        cpu_relax();
      }
    }
    benchmark::DoNotOptimize(sum);
    consumed = count;
  });

  Msg64 msg;
  for (auto _ : state) {
    ++msg.seq;
    while (ring->try_push(msg) != PushResult::Ok) {
      cpu_relax();
    }
  }
  stop.store(true, std::memory_order_release);
  consumer.join();

  if (consumed != static_cast<std::uint64_t>(state.iterations())) {
    state.SkipWithError("consumer count differs from pushes");
  }
  label_pinning(state, cpus, pin.pinned() && consumer_pinned.load());
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(sizeof(Msg64)));
}
BENCHMARK(BM_RingThroughput)->ArgName("batch")->Arg(0)->Arg(1)->Arg(32)->Arg(256)->UseRealTime();

void BM_RingRoundTrip(benchmark::State& state) {
  const auto cpus = two_cpus();
  ScopedPin pin(cpus);
  auto to_echo = std::make_unique<Ring>();
  auto from_echo = std::make_unique<Ring>();
  std::atomic<bool> stop{false};
  std::atomic<bool> echo_pinned{false};

  std::thread echo([&] {
    if (cpus && pin_this_thread(cpus->second)) {
      echo_pinned.store(true, std::memory_order_relaxed);
    }
    while (!stop.load(std::memory_order_relaxed)) {
      Msg64* m = to_echo->front();
      if (m == nullptr) {
        cpu_relax();
        continue;
      }
      while (from_echo->try_push(*m) != PushResult::Ok) {
        cpu_relax();
      }
      to_echo->pop();
    }
  });

  Msg64 msg;
  bool lost = false;
  for (auto _ : state) {
    ++msg.seq;
    while (to_echo->try_push(msg) != PushResult::Ok) {
      cpu_relax();
    }
    Msg64* reply = nullptr;
    while ((reply = from_echo->front()) == nullptr) {
      cpu_relax();
    }
    lost |= reply->seq != msg.seq;
    from_echo->pop();
  }
  stop.store(true, std::memory_order_relaxed);
  echo.join();

  if (lost) {
    state.SkipWithError("a reply did not match its request");
  }
  label_pinning(state, cpus, pin.pinned() && echo_pinned.load());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RingRoundTrip)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
