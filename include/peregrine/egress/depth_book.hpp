#pragma once
/// Aggregated public depth of one instrument (price -> total shares and order count, per side),
/// rebuilt from the ITCH order messages only: Add Order (A, F), Order Executed (E, C), Order
/// Cancel (X), Order Delete (D), Order Replace (U). It is what an ITCH subscriber can see, so it
/// must equal Engine::depth(). Flat storage (an open-addressing order table, sorted level arrays)
/// that only allocates when it grows past its high-water mark. Owned by a DepthFollower (the
/// thread that reads the admin depth: never the core or the io thread); not synchronised.

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "peregrine/core/engine.hpp"
#include "peregrine/core/serial.hpp"
#include "peregrine/core/types.hpp"
#include "peregrine/proto/itch50.hpp"

namespace peregrine::egress {

/// One instrument's aggregated book. One thread at a time.
class DepthBook {
 public:
  /// Applies one ITCH message of this instrument; other message types are ignored. Returns false
  /// (changing nothing) when the message names an order this book does not know, adds one it
  /// already has, or takes more shares than the order has: the stream is inconsistent.
  bool apply(const proto::itch::Message& m);

  /// Up to `max_levels` levels of `side`, best first (highest bid, lowest ask).
  [[nodiscard]] std::vector<DepthLevel> depth(Side side, std::size_t max_levels) const;
  /// The same into a caller array, like Engine::depth(); returns how many were written.
  std::size_t depth(Side side, DepthLevel* out, std::size_t max_levels) const noexcept;

  /// Resting orders known.
  [[nodiscard]] std::size_t orders() const noexcept { return count_; }

  /// Snapshot: the resting orders (u32 count; per order, ascending id: u64 id, u8 side,
  /// i64 price, u32 shares). Levels are rebuilt from them.
  void save(ByteWriter& w) const;
  /// Restores a save() into an empty book; false, with the reason in `error`, on malformed
  /// input (the book is then unspecified).
  bool load(ByteReader& in, std::string& error);

 private:
  static constexpr std::uint64_t kEmpty = ~std::uint64_t{0};  ///< the id of an empty slot (no order has it)
  struct Level {
    std::uint64_t qty = 0;
    std::uint32_t orders = 0;
  };
  struct Resting {
    std::uint64_t id = kEmpty;
    std::int64_t price = 0;
    std::uint32_t qty = 0;
    Side side = Side::Buy;
  };
  using Levels = std::vector<std::pair<std::int64_t, Level>>;  ///< best first

  void add(std::uint64_t id, Side side, std::int64_t price, std::uint32_t qty);
  void reduce(std::size_t slot, std::uint32_t by);
  /// Executed or cancelled shares: the order leaves the book when none are left.
  bool take(std::uint64_t id, std::uint32_t shares);
  void remove(std::size_t slot);
  /// The slot holding `id`, or npos.
  [[nodiscard]] std::size_t find(std::uint64_t id) const noexcept;
  void grow();
  Levels::iterator level(Levels& levels, Side side, std::int64_t price);

  static constexpr std::size_t npos = static_cast<std::size_t>(-1);
  Levels bids_;  // descending price
  Levels asks_;  // ascending price
  std::vector<Resting> slots_;  // open addressing, linear probing; size a power of two, at most half full
  std::size_t count_ = 0;
};

}  // namespace peregrine::egress
