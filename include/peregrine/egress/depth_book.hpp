#pragma once
/// Aggregated public depth of one instrument (price -> total shares and order count, per side),
/// rebuilt from the core's book events only: BookAdd, BookExecute, BookCancel, BookDelete,
/// BookReplace. It is what an ITCH subscriber can see, so it must equal Engine::depth().
/// Allocates (std::map, std::unordered_map): it runs on the io thread, never the core thread.
/// Not synchronised itself: Egress guards its DepthBooks with a mutex (see Egress::depth()).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "peregrine/core/engine.hpp"
#include "peregrine/core/event.hpp"
#include "peregrine/core/serial.hpp"
#include "peregrine/core/types.hpp"

namespace peregrine::egress {

/// One instrument's aggregated book. One thread at a time (Egress holds the lock).
class DepthBook {
 public:
  /// Applies one book event of this instrument; other event types are ignored. Returns false
  /// (changing nothing) when the event names an order this book does not know, or adds one it
  /// already has: the event stream is inconsistent.
  bool apply(const Event& ev);

  /// Up to `max_levels` levels of `side`, best first (highest bid, lowest ask).
  [[nodiscard]] std::vector<DepthLevel> depth(Side side, std::size_t max_levels) const;
  /// The same into a caller array, like Engine::depth(); returns how many were written.
  std::size_t depth(Side side, DepthLevel* out, std::size_t max_levels) const noexcept;

  /// Resting orders known.
  [[nodiscard]] std::size_t orders() const noexcept { return orders_.size(); }

  /// Snapshot: the resting orders (u32 count; per order, ascending id: u64 id, u8 side,
  /// i64 price, u32 shares). Levels are rebuilt from them.
  void save(ByteWriter& w) const;
  /// Restores a save() into an empty book; false, with the reason in `error`, on malformed
  /// input (the book is then unspecified).
  bool load(ByteReader& in, std::string& error);

 private:
  struct Level {
    std::uint64_t qty = 0;
    std::uint32_t orders = 0;
  };
  struct Resting {
    Side side;
    std::int64_t price;
    std::uint32_t qty;
  };
  void add(std::uint64_t id, Side side, std::int64_t price, std::uint32_t qty);
  void reduce(std::unordered_map<std::uint64_t, Resting>::iterator it, std::uint32_t by);
  void remove(std::unordered_map<std::uint64_t, Resting>::iterator it);

  std::map<std::int64_t, Level, std::greater<>> bids_;
  std::map<std::int64_t, Level, std::less<>> asks_;
  std::unordered_map<std::uint64_t, Resting> orders_;
};

}  // namespace peregrine::egress
