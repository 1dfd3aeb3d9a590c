#pragma once
// A fixed-size, zero-filled array for the core's tables sized for the day (order pool, token
// index, price levels and their bitmaps). Nothing at construction writes it: all-zero bytes must
// be the valid empty state of T, and pages fault in on first use.
//   - Linux: anonymous mmap, untouched. A Pages::Huge array is 2 MiB aligned and advised as
//     transparent-huge-page backed (madvise, at construction only), which cuts the TLB misses of
//     random probes into tables of tens of megabytes; a Pages::Small one is advised against huge
//     pages, so that a first touch zeroes 4 KiB, not 2 MiB (price levels: few are ever used).
//   - elsewhere (wasm32-wasi): calloc, which returns zeroed memory (on glibc, a large block is a
//     fresh mapping whose pages are zero without being written). No madvise.
// Never resized. Core-internal.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace peregrine::detail {

/// Tag: the array starts as all-zero bytes, which must be a valid T.
struct ZeroFilled {};
inline constexpr ZeroFilled kZeroFilled{};

/// Page-size advice for a LargeArray on Linux (ignored elsewhere).
enum class Pages : std::uint8_t {
  Huge,   ///< randomly probed, mostly used: 2 MiB aligned, MADV_HUGEPAGE
  Small,  ///< sparsely used: MADV_NOHUGEPAGE, each first touch faults in one 4 KiB page
};

template <typename T>
class LargeArray {
  static_assert(std::is_trivially_destructible_v<T>);

 public:
  LargeArray() = default;
  /// All-zero T's. The memory is not touched here: a table sized for a whole day costs nothing
  /// at start-up. Start-up only (it calls mmap or calloc; aborts if the memory is refused).
  LargeArray(std::size_t n, ZeroFilled, Pages pages = Pages::Huge) : n_(n) {
    static_assert(std::is_trivially_copyable_v<T>);
    const std::size_t bytes = n * sizeof(T);
#if defined(__linux__)
    constexpr std::size_t kHuge = std::size_t{2} << 20;
    const bool huge = pages == Pages::Huge;
    const std::size_t align = huge ? kHuge : 4096;
    std::size_t mapped = (bytes + align - 1) / align * align + (huge ? kHuge : 0);  // room to align
    if (mapped == 0) mapped = align;
    void* m = ::mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                     -1, 0);
    if (m == MAP_FAILED) std::abort();  // start-up only; the core has no exceptions
    auto* base = static_cast<unsigned char*>(m);
    auto* aligned = reinterpret_cast<unsigned char*>((reinterpret_cast<std::uintptr_t>(base) + align - 1) & ~(align - 1));
    // Advice only; failure changes nothing but speed.
    (void)::madvise(aligned, mapped - static_cast<std::size_t>(aligned - base), huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
    mapping_ = m;
    mapped_bytes_ = mapped;
    data_ = reinterpret_cast<T*>(aligned);
#else
    (void)pages;
    constexpr std::size_t kAlign = alignof(T) > 64 ? alignof(T) : 64;
    void* p = std::calloc(1, bytes + kAlign);  // zeroed; the slack is for alignment
    if (p == nullptr) std::abort();
    mapping_ = p;
    data_ = reinterpret_cast<T*>((reinterpret_cast<std::uintptr_t>(p) + kAlign - 1) & ~(kAlign - 1));
#endif
  }
  LargeArray(LargeArray&& o) noexcept { *this = std::move(o); }
  LargeArray& operator=(LargeArray&& o) noexcept {
    if (this != &o) {
      release();
      data_ = o.data_;
      n_ = o.n_;
      mapping_ = o.mapping_;
      mapped_bytes_ = o.mapped_bytes_;
      o.data_ = nullptr;
      o.n_ = 0;
      o.mapping_ = nullptr;
      o.mapped_bytes_ = 0;
    }
    return *this;
  }
  ~LargeArray() { release(); }

  /// Writes every page once (same value back), so later accesses take no page fault.
  void pretouch() noexcept {
    auto* bytes = reinterpret_cast<volatile unsigned char*>(data_);
    const std::size_t total = n_ * sizeof(T);
    for (std::size_t i = 0; i < total; i += 4096) bytes[i] = bytes[i];
  }

  T& operator[](std::size_t i) noexcept { return data_[i]; }
  const T& operator[](std::size_t i) const noexcept { return data_[i]; }
  [[nodiscard]] std::size_t size() const noexcept { return n_; }

 private:
  void release() noexcept {
#if defined(__linux__)
    if (mapping_ != nullptr) ::munmap(mapping_, mapped_bytes_);
#else
    std::free(mapping_);
#endif
    data_ = nullptr;
    mapping_ = nullptr;
    mapped_bytes_ = 0;
  }
  T* data_ = nullptr;
  std::size_t n_ = 0;
  void* mapping_ = nullptr;  // what mmap or calloc returned (data_ is aligned within it)
  std::size_t mapped_bytes_ = 0;
};

}  // namespace peregrine::detail
