#pragma once
/// A bounded, lock-free, single-producer single-consumer ring: the wire between the gateway
/// thread and the pinned matching core (64-byte commands in, events out). Hand-written for speed:
/// the layout below (cached indices, slots in the object, batch drain) is what the core's
/// throughput rests on, measured in bench/micro/ring_bench.cpp.
///
/// Shape (rigtorp's SPSCQueue, Aeron's one-to-one ring):
///   - capacity is a compile-time power of two; the slots live inside the object, so nothing is
///     allocated, ever, and an index maps to its slot with one AND. A ring of 65,536 64-byte
///     commands is 4 MiB: put it on the heap once at startup (`std::make_unique`), not on a stack;
///   - the indices count up forever (64 bits: centuries at a billion items a second) and all
///     `Capacity` slots are usable: full is `write - read == Capacity`, empty is `write == read`;
///   - the producer's index and its cached copy of the consumer's index share one cache line; the
///     consumer's index and its cached copy of the producer's index share another; the slots start
///     on a third. Each side reads the other's line only when its cached copy says full (producer)
///     or empty (consumer), so in steady state the lines do not bounce;
///   - publication is release/acquire: the producer constructs the element, then stores its index
///     with release; the consumer loads that index with acquire before reading the slot. The
///     consumer destroys the element, then stores its index with release; the producer loads that
///     index with acquire before constructing into the slot again.
///
/// Threads: exactly one producer thread calls `try_push` / `try_emplace`; exactly one consumer
/// thread calls `front` / `pop` / `drain` / `empty`. Either side, or any other thread, may call
/// `size_approx` and `capacity`. Construction and destruction must not race with either side
/// (start the threads after constructing; join them before destroying).

#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>

namespace peregrine::ring {

/// Distance kept between data written by different threads. 128 rather than 64: Intel's adjacent
/// line prefetcher fetches cache lines in 128-byte pairs, so two 64-byte lines of one pair still
/// interfere. (Not `std::hardware_destructive_interference_size`: GCC warns that its value may
/// differ between compilers and flags, -Winterference-size.)
inline constexpr std::size_t kFalseSharingRange = 128;

/// The result of an offer to a ring.
enum class [[nodiscard]] PushResult : std::uint8_t {
  Ok = 0,    ///< the element is in the ring and visible to the consumer
  Full = 1,  ///< the ring was full; nothing was constructed. Count it and apply the written policy
};

/// See the file comment. `T` must be nothrow-destructible; `Capacity` a power of two >= 2.
template <typename T, std::size_t Capacity>
class SpscRing {
  static_assert(Capacity >= 2 && (Capacity & (Capacity - 1)) == 0, "Capacity must be a power of two >= 2");
  static_assert(std::is_nothrow_destructible_v<T>, "elements are destroyed on the hot path");
  static_assert(alignof(T) <= kFalseSharingRange, "over-aligned element types are not supported");

 public:
  using value_type = T;

  /// An empty ring. Any thread, before either side starts.
  SpscRing() noexcept = default;

  /// Destroys the elements still in the ring. Any thread, after both sides have stopped (joined).
  ~SpscRing() {
    const std::size_t write = write_idx_.load(std::memory_order_acquire);
    for (std::size_t read = read_idx_.load(std::memory_order_acquire); read != write; ++read) {
      slot(read)->~T();
    }
  }

  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;
  SpscRing(SpscRing&&) = delete;
  SpscRing& operator=(SpscRing&&) = delete;

  /// The number of slots. Any thread.
  [[nodiscard]] static constexpr std::size_t capacity() noexcept { return Capacity; }

  /// Producer only. Constructs a `T` from `args` in the next slot and publishes it, or returns
  /// `Full` without constructing anything. If the constructor throws, nothing is published and the
  /// ring is unchanged.
  template <typename... Args>
  PushResult try_emplace(Args&&... args) noexcept(std::is_nothrow_constructible_v<T, Args&&...>) {
    static_assert(std::is_constructible_v<T, Args&&...>, "T is not constructible from these arguments");
    const std::size_t write = write_idx_.load(std::memory_order_relaxed);  // only this thread writes it
    if (write - read_idx_cache_ == Capacity) {
      // Acquire: the consumer's destruction of the element in this slot happens before we reuse it.
      read_idx_cache_ = read_idx_.load(std::memory_order_acquire);
      if (write - read_idx_cache_ == Capacity) {
        return PushResult::Full;
      }
    }
    ::new (static_cast<void*>(&slots_[write & kMask])) T(std::forward<Args>(args)...);
    // Release: the element's construction happens before the consumer sees the new index.
    write_idx_.store(write + 1, std::memory_order_release);
    return PushResult::Ok;
  }

  /// Producer only. Copies `value` into the ring; see `try_emplace`.
  PushResult try_push(const T& value) noexcept(std::is_nothrow_copy_constructible_v<T>) {
    return try_emplace(value);
  }

  /// Producer only. Moves `value` into the ring; on `Full`, `value` is left untouched.
  PushResult try_push(T&& value) noexcept(std::is_nothrow_move_constructible_v<T>) {
    return try_emplace(std::move(value));
  }

  /// Consumer only. The oldest element, or nullptr if the ring is empty. The pointer stays valid
  /// until this thread calls `pop` or `drain`; the consumer may modify or move from the element.
  [[nodiscard]] T* front() noexcept {
    const std::size_t read = read_idx_.load(std::memory_order_relaxed);  // only this thread writes it
    if (read == write_idx_cache_) {
      // Acquire: the producer's construction of the element happens before we read it.
      write_idx_cache_ = write_idx_.load(std::memory_order_acquire);
      if (read == write_idx_cache_) {
        return nullptr;
      }
    }
    return slot(read);
  }

  /// Consumer only. Destroys the oldest element and frees its slot.
  /// Precondition: `front()` returned non-null since the last `pop` / `drain` (not checked in release).
  void pop() noexcept {
    const std::size_t read = read_idx_.load(std::memory_order_relaxed);
    assert(read != write_idx_cache_ && "pop() on an empty ring: call front() first");
    slot(read)->~T();
    // Release: the destruction happens before the producer sees the slot as free.
    read_idx_.store(read + 1, std::memory_order_release);
  }

  /// Consumer only. Hands up to `limit` of the oldest elements, oldest first, to `f` as `T&`,
  /// destroys each after `f` returns, and frees their slots with a single index store at the end
  /// (one cache-line transfer per batch instead of one per element). Returns how many it handed
  /// over: 0 if the ring is empty or `limit` is 0. Elements the producer publishes during the call
  /// wait for the next call. If `f` throws, the elements before the throwing one are consumed and
  /// the throwing one stays at the front.
  template <typename F>
  std::size_t drain(F&& f, std::size_t limit) noexcept(std::is_nothrow_invocable_v<F&, T&>) {
    static_assert(std::is_invocable_v<F&, T&>, "drain's callback must accept T&");
    const std::size_t read = read_idx_.load(std::memory_order_relaxed);
    std::size_t available = write_idx_cache_ - read;
    if (available < limit) {
      write_idx_cache_ = write_idx_.load(std::memory_order_acquire);
      available = write_idx_cache_ - read;
    }
    const std::size_t n = available < limit ? available : limit;
    if (n == 0) {
      return 0;
    }
    // Publishes progress on every exit, normal or by exception; the release store follows the
    // destructions it covers.
    struct Publish {
      std::atomic<std::size_t>& index;
      std::size_t start;
      std::size_t done = 0;
      ~Publish() {
        if (done != 0) {
          index.store(start + done, std::memory_order_release);
        }
      }
    } publish{read_idx_, read};
    for (; publish.done != n; ++publish.done) {
      T* const element = slot(read + publish.done);
      f(*element);
      element->~T();
    }
    return n;
  }

  /// Consumer only. True if there is nothing to read right now.
  [[nodiscard]] bool empty() noexcept { return front() == nullptr; }

  /// Any thread. The number of elements in the ring at some instant during the call, clamped to
  /// [0, Capacity]; exact only when neither side is active. For metrics and tests, not for control.
  [[nodiscard]] std::size_t size_approx() const noexcept {
    // Read first: the write index loaded afterwards is at least the read index loaded here, so the
    // difference cannot go negative; it can exceed Capacity if both moved in between, hence the clamp.
    const std::size_t read = read_idx_.load(std::memory_order_acquire);
    const std::size_t write = write_idx_.load(std::memory_order_acquire);
    const std::size_t size = write - read;
    return size < Capacity ? size : Capacity;
  }

 private:
  static constexpr std::size_t kMask = Capacity - 1;

  /// Raw storage for one element; alive only between the producer's construction and the
  /// consumer's destruction.
  struct alignas(T) Slot {
    std::byte bytes[sizeof(T)];
  };

  T* slot(std::size_t index) noexcept { return std::launder(reinterpret_cast<T*>(&slots_[index & kMask])); }

  // Producer's line: its own index (read by the consumer when it runs dry) and its private copy of
  // the consumer's index.
  alignas(kFalseSharingRange) std::atomic<std::size_t> write_idx_{0};
  std::size_t read_idx_cache_ = 0;

  // Consumer's line: its own index (read by the producer when it sees full) and its private copy
  // of the producer's index.
  alignas(kFalseSharingRange) std::atomic<std::size_t> read_idx_{0};
  std::size_t write_idx_cache_ = 0;

  // The slots start on their own line; the class's alignment pads the end, so whatever is placed
  // after the ring does not share the last slot's line.
  alignas(kFalseSharingRange) Slot slots_[Capacity];

  static_assert(std::atomic<std::size_t>::is_always_lock_free);
};

}  // namespace peregrine::ring
