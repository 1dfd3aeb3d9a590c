// Two-thread stress test of SpscRing: a producer thread sends N 64-byte items, each carrying a
// sequence number, a pseudo-random payload derived from it and a checksum of that payload; a
// consumer thread checks that every item arrives, in order, with a payload that matches its
// checksum and its sequence number. At the end the two sides' item counts and checksum totals are
// compared. Exit status 0 = every check passed; 1 = a check failed; 2 = bad arguments.
//
//   peregrine_ring_stress --items N [--idle busy-spin|yield|backoff] [--batch B]
//                         [--producer-cpu C] [--consumer-cpu C]
//
// The producer alternates try_push and try_emplace, the consumer alternates drain(B) and
// front()/pop(), so every public operation crosses threads. A torn or stale slot (a publication
// that is not release/acquire, an index published too early) shows up as a wrong sequence number
// or a checksum mismatch; built with -fsanitize=thread (peregrine_ring_stress_tsan) it shows up as
// a TSan report too. Uses only the ring and agent headers, CLI11 (header-only) and the standard
// library.

#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <type_traits>

#include "peregrine/agent/idle_strategy.hpp"
#include "peregrine/cli/args.hpp"
#include "peregrine/ring/spsc_ring.hpp"

namespace {

using peregrine::agent::AnyIdleStrategy;
using peregrine::agent::IdleStrategyKind;
using peregrine::ring::PushResult;

constexpr std::size_t kCapacity = 4096;  // 256 KiB of 64-byte items: the size the engine uses

constexpr std::uint64_t splitmix64(std::uint64_t x) noexcept {
  x += 0x9E37'79B9'7F4A'7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58'476D'1CE4'E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D0'49BB'1331'11EBULL;
  return x ^ (x >> 31);
}

/// One cache line: what a command or an event looks like to the ring.
struct alignas(64) StressItem {
  std::uint64_t seq;
  std::uint64_t checksum;
  std::uint64_t payload[6];

  StressItem() noexcept = default;
  /// The item for sequence number `s`; the producer builds it either in place (try_emplace) or on
  /// its stack and copies it in (try_push).
  explicit StressItem(std::uint64_t s) noexcept : seq(s), checksum(0), payload{} {
    std::uint64_t x = splitmix64(s);
    for (std::uint64_t& word : payload) {
      word = x;
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
    }
    checksum = checksum_of(payload);
  }

  static std::uint64_t checksum_of(const std::uint64_t (&words)[6]) noexcept {
    std::uint64_t h = 0xCBF2'9CE4'8422'2325ULL;
    for (const std::uint64_t w : words) {
      h = (h ^ w) * 0x0000'0100'0000'01B3ULL;
      h = (h << 29) | (h >> 35);
    }
    return h;
  }
};
static_assert(sizeof(StressItem) == 64);
static_assert(std::is_trivially_copyable_v<StressItem>);

using Ring = peregrine::ring::SpscRing<StressItem, kCapacity>;

struct Options {
  std::uint64_t items = 10'000'000;
  IdleStrategyKind idle = IdleStrategyKind::BackOff;
  std::size_t batch = 256;
  int producer_cpu = -1;
  int consumer_cpu = -1;
};

/// A CLI11 check: a whole number of at least 1.
CLI::Validator positive_count() {
  return CLI::Validator(
      [](const std::string& text) {
        std::uint64_t v = 0;
        const char* const end = text.data() + text.size();
        const auto [ptr, ec] = std::from_chars(text.data(), end, v);
        return ec == std::errc{} && ptr == end && v > 0 ? std::string{} : "must be a whole number of at least 1, got " + text;
      },
      "", "");
}

/// The command line, over CLI11 with the shipped binaries' conventions (peregrine/cli/args.hpp):
/// --help generated from these definitions, a usage error is one line and exit status 2.
/// Returns -1 to go on, else the exit status.
int parse_args(int argc, char** argv, Options& o) {
  CLI::App app("Sends items through the SPSC ring between a producer and a consumer thread and checks "
               "each one's sequence number and checksum.",
               "peregrine_ring_stress");
  peregrine::cli::apply_house_style(app);
  app.add_option("--items", o.items, "items to send (default 10000000)")
      ->check(positive_count())
      ->option_text("N");
  std::string idle = "backoff";
  app.add_option("--idle", idle, "what each side does when the ring is full / empty (default backoff)")
      ->check(CLI::Validator(
          [](const std::string& text) {
            return peregrine::agent::parse_idle_strategy(text) ? std::string{}
                                                               : "must be busy-spin, yield or backoff, got " + text;
          },
          "", ""))
      ->option_text("S");
  app.add_option("--batch", o.batch, "consumer's drain limit (default 256)")
      ->check(positive_count())
      ->option_text("B");
  app.add_option("--producer-cpu", o.producer_cpu, "pin the producer to CPU C (default: not pinned)")
      ->option_text("C");
  app.add_option("--consumer-cpu", o.consumer_cpu, "pin the consumer to CPU C (default: not pinned)")
      ->option_text("C");
  const int status = peregrine::cli::parse(app, argc, argv);
  if (status < 0) o.idle = *peregrine::agent::parse_idle_strategy(idle);
  return status;
}

/// Pins the calling thread to `cpu` (if >= 0). Returns false, and says why, if the OS refuses.
bool pin_this_thread(int cpu, const char* who) {
  if (cpu < 0) {
    return true;
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(static_cast<std::size_t>(cpu), &set);
  const int rc = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
  if (rc != 0) {
    std::fprintf(stderr, "peregrine_ring_stress: cannot pin the %s to CPU %d: %s\n", who, cpu, std::strerror(rc));
    return false;
  }
  return true;
}

/// What each side saw; written by its own thread only, read by main after join.
struct ProducerTotals {
  std::uint64_t sent = 0;
  std::uint64_t checksum_sum = 0;
  std::uint64_t full = 0;  ///< offers refused with Full
};

struct ConsumerTotals {
  std::uint64_t received = 0;
  std::uint64_t checksum_sum = 0;
  std::uint64_t empty_polls = 0;
  std::uint64_t order_errors = 0;
  std::uint64_t checksum_errors = 0;
};

void produce(Ring& ring, const Options& o, ProducerTotals& totals, std::atomic<bool>& pin_failed) {
  if (!pin_this_thread(o.producer_cpu, "producer")) {
    pin_failed.store(true, std::memory_order_relaxed);
  }
  AnyIdleStrategy idle = peregrine::agent::make_idle_strategy(o.idle);
  for (std::uint64_t seq = 0; seq < o.items; ++seq) {
    // Alternate the two offers in runs of 1024, so both race with the consumer.
    const bool emplace = ((seq >> 10) & 1U) != 0;
    const StressItem copy = emplace ? StressItem{} : StressItem{seq};
    bool idled = false;
    for (;;) {
      const PushResult r = emplace ? ring.try_emplace(seq) : ring.try_push(copy);
      if (r == PushResult::Ok) {
        break;
      }
      ++totals.full;
      peregrine::agent::idle(idle, 0);
      idled = true;
    }
    if (idled) {
      peregrine::agent::reset(idle);
    }
    totals.checksum_sum += emplace ? StressItem{seq}.checksum : copy.checksum;
    ++totals.sent;
  }
}

void consume(Ring& ring, const Options& o, ConsumerTotals& totals, std::atomic<bool>& pin_failed) {
  if (!pin_this_thread(o.consumer_cpu, "consumer")) {
    pin_failed.store(true, std::memory_order_relaxed);
  }
  AnyIdleStrategy idle = peregrine::agent::make_idle_strategy(o.idle);
  std::uint64_t expected = 0;
  auto check = [&totals, &expected](StressItem& item) noexcept {
    if (item.seq != expected) {
      if (totals.order_errors < 10) {
        std::fprintf(stderr, "peregrine_ring_stress: order: expected seq %llu, got %llu\n",
                     static_cast<unsigned long long>(expected), static_cast<unsigned long long>(item.seq));
      }
      ++totals.order_errors;
      expected = item.seq;  // resynchronise, so one error is reported once
    }
    const std::uint64_t sum = StressItem::checksum_of(item.payload);
    if (sum != item.checksum || item.checksum != StressItem{item.seq}.checksum) {
      if (totals.checksum_errors < 10) {
        std::fprintf(stderr, "peregrine_ring_stress: checksum: seq %llu carries a payload that does not match\n",
                     static_cast<unsigned long long>(item.seq));
      }
      ++totals.checksum_errors;
    }
    totals.checksum_sum += item.checksum;
    ++expected;
  };
  std::uint64_t pass = 0;
  while (totals.received < o.items) {
    const std::uint64_t left = o.items - totals.received;
    const std::size_t limit = left < o.batch ? static_cast<std::size_t>(left) : o.batch;
    std::size_t got = 0;
    if ((++pass & 3U) != 0) {
      got = ring.drain(check, limit);
    } else {
      // Every fourth pass consumes one by one, through front()/pop().
      while (got < limit) {
        StressItem* const item = ring.front();
        if (item == nullptr) {
          break;
        }
        check(*item);
        ring.pop();
        ++got;
      }
    }
    totals.received += got;
    if (got == 0) {
      ++totals.empty_polls;
    }
    peregrine::agent::idle(idle, static_cast<int>(got));
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (const int status = parse_args(argc, argv, o); status >= 0) return status;

  auto ring = std::make_unique<Ring>();
  ProducerTotals produced;
  ConsumerTotals consumed;
  std::atomic<bool> pin_failed{false};

  const auto start = std::chrono::steady_clock::now();
  std::thread consumer([&] { consume(*ring, o, consumed, pin_failed); });
  std::thread producer([&] { produce(*ring, o, produced, pin_failed); });
  producer.join();
  consumer.join();
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;

  const double seconds = elapsed.count();
  const double rate = static_cast<double>(consumed.received) / seconds;
  const std::string_view idle_name = peregrine::agent::to_string(o.idle);
  std::printf(
      "peregrine_ring_stress: %llu items of %zu bytes, capacity %zu, idle %.*s, batch %zu: %.3f s, "
      "%.2f M items/s (%.1f ns/item)\n"
      "  producer: sent %llu, Full %llu times; consumer: received %llu, empty polls %llu\n",
      static_cast<unsigned long long>(o.items), sizeof(StressItem), kCapacity,
      static_cast<int>(idle_name.size()), idle_name.data(), o.batch, seconds, rate / 1e6,
      seconds * 1e9 / static_cast<double>(consumed.received), static_cast<unsigned long long>(produced.sent),
      static_cast<unsigned long long>(produced.full), static_cast<unsigned long long>(consumed.received),
      static_cast<unsigned long long>(consumed.empty_polls));

  bool ok = true;
  if (pin_failed.load()) {
    ok = false;
  }
  if (consumed.order_errors != 0 || consumed.checksum_errors != 0) {
    std::printf("  FAIL: %llu order errors, %llu checksum errors\n",
                static_cast<unsigned long long>(consumed.order_errors),
                static_cast<unsigned long long>(consumed.checksum_errors));
    ok = false;
  }
  if (produced.sent != consumed.received || produced.checksum_sum != consumed.checksum_sum) {
    std::printf("  FAIL: totals differ: sent %llu (checksum sum %016llx), received %llu (checksum sum %016llx)\n",
                static_cast<unsigned long long>(produced.sent), static_cast<unsigned long long>(produced.checksum_sum),
                static_cast<unsigned long long>(consumed.received),
                static_cast<unsigned long long>(consumed.checksum_sum));
    ok = false;
  }
  if (ring->size_approx() != 0) {
    std::printf("  FAIL: %zu items left in the ring\n", ring->size_approx());
    ok = false;
  }
  std::printf("  %s\n", ok ? "OK: every item in order, checksums and totals match" : "FAILED");
  return ok ? 0 : 1;
}
