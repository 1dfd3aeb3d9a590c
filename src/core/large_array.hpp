#pragma once
// A fixed-size, zero-filled array for the core's large tables (token index, order pool). On
// Linux it is mmap'd, 2 MiB aligned and advised as transparent-huge-page backed (madvise, at
// construction only), which cuts the TLB misses of random probes into tables of tens of
// megabytes, and its pages fault in on first use; elsewhere (wasm32-wasi) it is zeroed heap
// memory. Never resized. Core-internal.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <type_traits>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace peregrine::detail {

/// Tag: the array starts as all-zero bytes, which must be a valid T.
struct ZeroFilled {};
inline constexpr ZeroFilled kZeroFilled{};

template <typename T>
class LargeArray {
  static_assert(std::is_trivially_destructible_v<T>);

 public:
  LargeArray() = default;
  /// All-zero T's. On Linux the memory comes from mmap and is not touched here: pages are zero
  /// and faulted in on first use, so a table sized for a whole day costs nothing at start-up.
  LargeArray(std::size_t n, ZeroFilled) : n_(n) {
    static_assert(std::is_trivially_copyable_v<T>);
    const std::size_t bytes = n * sizeof(T);
#if defined(__linux__)
    constexpr std::size_t kHuge = std::size_t{2} << 20;
    const std::size_t mapped = (bytes + kHuge - 1) / kHuge * kHuge + kHuge;  // room to align
    void* m = ::mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) std::abort();  // start-up only; the core has no exceptions
    auto* base = static_cast<unsigned char*>(m);
    auto* aligned = reinterpret_cast<unsigned char*>((reinterpret_cast<std::uintptr_t>(base) + kHuge - 1) & ~(kHuge - 1));
    (void)::madvise(aligned, mapped - static_cast<std::size_t>(aligned - base), MADV_HUGEPAGE);  // advice only
    mapping_ = m;
    mapped_bytes_ = mapped;
    data_.reset(reinterpret_cast<T*>(aligned));
    data_.get_deleter().mapped = true;
#else
    constexpr std::size_t kAlign = alignof(T) > 64 ? alignof(T) : 64;
    void* p = std::aligned_alloc(kAlign, (bytes + kAlign) / kAlign * kAlign);
    if (p == nullptr) std::abort();
    std::memset(p, 0, bytes);
    data_.reset(static_cast<T*>(p));
#endif
  }
  LargeArray(LargeArray&& o) noexcept { *this = std::move(o); }
  LargeArray& operator=(LargeArray&& o) noexcept {
    if (this != &o) {
      release();
      data_ = std::move(o.data_);
      n_ = o.n_;
      mapping_ = o.mapping_;
      mapped_bytes_ = o.mapped_bytes_;
      o.n_ = 0;
      o.mapping_ = nullptr;
      o.mapped_bytes_ = 0;
    }
    return *this;
  }
  ~LargeArray() { release(); }

  /// Writes every page once (same value back), so later accesses take no page fault.
  void pretouch() noexcept {
    auto* bytes = reinterpret_cast<volatile unsigned char*>(data_.get());
    const std::size_t total = n_ * sizeof(T);
    for (std::size_t i = 0; i < total; i += 4096) bytes[i] = bytes[i];
  }

  T& operator[](std::size_t i) noexcept { return data_[i]; }
  const T& operator[](std::size_t i) const noexcept { return data_[i]; }
  [[nodiscard]] std::size_t size() const noexcept { return n_; }

 private:
  struct Free {
    bool mapped = false;
    void operator()(T* p) const noexcept {
      if (!mapped) std::free(p);  // a mapping is released by release()
    }
  };
  void release() noexcept {
    data_.reset();
#if defined(__linux__)
    if (mapping_ != nullptr) ::munmap(mapping_, mapped_bytes_);
#endif
    mapping_ = nullptr;
    mapped_bytes_ = 0;
  }
  std::unique_ptr<T[], Free> data_;
  std::size_t n_ = 0;
  void* mapping_ = nullptr;
  std::size_t mapped_bytes_ = 0;
};

}  // namespace peregrine::detail
