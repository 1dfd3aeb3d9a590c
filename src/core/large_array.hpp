#pragma once
// A fixed-size array for the core's large tables (token index, order pool). On Linux it is
// 2 MiB aligned and advised as transparent-huge-page backed (madvise, at construction only),
// which cuts the TLB misses of random probes into tables of tens of megabytes; elsewhere
// (wasm32-wasi) it is plain heap memory. Never resized. Core-internal.

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>
#include <type_traits>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace peregrine::detail {

template <typename T>
class LargeArray {
  static_assert(std::is_trivially_destructible_v<T>);

 public:
  LargeArray() = default;
  LargeArray(std::size_t n, const T& value) : n_(n) {
    const std::size_t bytes = n * sizeof(T);
    void* p = nullptr;
#if defined(__linux__)
    constexpr std::size_t kHuge = std::size_t{2} << 20;
    if (bytes >= kHuge) {
      p = std::aligned_alloc(kHuge, (bytes + kHuge - 1) / kHuge * kHuge);
      if (p != nullptr) (void)::madvise(p, bytes, MADV_HUGEPAGE);  // advice only: ignore failure
    }
#endif
    if (p == nullptr) {
      constexpr std::size_t kAlign = alignof(T) > 64 ? alignof(T) : 64;
      p = std::aligned_alloc(kAlign, (bytes + kAlign) / kAlign * kAlign);
    }
    if (p == nullptr) std::abort();  // start-up only; the core has no exceptions
    data_.reset(static_cast<T*>(p));
    for (std::size_t i = 0; i < n; ++i) ::new (static_cast<void*>(data_.get() + i)) T(value);
  }
  T& operator[](std::size_t i) noexcept { return data_[i]; }
  const T& operator[](std::size_t i) const noexcept { return data_[i]; }
  [[nodiscard]] std::size_t size() const noexcept { return n_; }

 private:
  struct Free {
    void operator()(T* p) const noexcept { std::free(p); }
  };
  std::unique_ptr<T[], Free> data_;
  std::size_t n_ = 0;
};

}  // namespace peregrine::detail
