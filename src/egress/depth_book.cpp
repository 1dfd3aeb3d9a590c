#include "peregrine/egress/depth_book.hpp"

#include <algorithm>

namespace peregrine::egress {

namespace {
template <typename Levels>
std::size_t copy_levels(const Levels& levels, DepthLevel* out, std::size_t max_levels) noexcept {
  const std::size_t n = std::min(levels.size(), max_levels);
  for (std::size_t i = 0; i < n; ++i) out[i] = DepthLevel{Price{levels[i].first}, levels[i].second.qty, levels[i].second.orders};
  return n;
}

std::size_t hash_of(std::uint64_t id) noexcept { return static_cast<std::size_t>((id * 0x9E3779B97F4A7C15ull) >> 17); }
}  // namespace

std::size_t DepthBook::find(std::uint64_t id) const noexcept {
  if (slots_.empty() || id == kEmpty) return npos;
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = hash_of(id) & mask;; i = (i + 1) & mask) {
    if (slots_[i].id == id) return i;
    if (slots_[i].id == kEmpty) return npos;
  }
}

void DepthBook::grow() {
  std::vector<Resting> old(slots_.empty() ? 64 : slots_.size() * 2);
  old.swap(slots_);
  const std::size_t mask = slots_.size() - 1;
  for (const Resting& r : old) {
    if (r.id == kEmpty) continue;
    std::size_t i = hash_of(r.id) & mask;
    while (slots_[i].id != kEmpty) i = (i + 1) & mask;
    slots_[i] = r;
  }
}

DepthBook::Levels::iterator DepthBook::level(Levels& levels, Side side, std::int64_t price) {
  return side == Side::Buy
             ? std::lower_bound(levels.begin(), levels.end(), price, [](const auto& l, std::int64_t p) { return l.first > p; })
             : std::lower_bound(levels.begin(), levels.end(), price, [](const auto& l, std::int64_t p) { return l.first < p; });
}

void DepthBook::add(std::uint64_t id, Side side, std::int64_t price, std::uint32_t qty) {
  if ((count_ + 1) * 2 > slots_.size()) grow();
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = hash_of(id) & mask;
  while (slots_[i].id != kEmpty) i = (i + 1) & mask;
  slots_[i] = Resting{id, price, qty, side};
  ++count_;
  Levels& levels = side == Side::Buy ? bids_ : asks_;
  auto l = level(levels, side, price);
  if (l == levels.end() || l->first != price) l = levels.insert(l, {price, Level{}});
  l->second.qty += qty;
  ++l->second.orders;
}

void DepthBook::reduce(std::size_t slot, std::uint32_t by) {
  Resting& o = slots_[slot];
  Levels& levels = o.side == Side::Buy ? bids_ : asks_;
  level(levels, o.side, o.price)->second.qty -= by;
  o.qty -= by;
}

void DepthBook::remove(std::size_t slot) {
  const Resting o = slots_[slot];
  Levels& levels = o.side == Side::Buy ? bids_ : asks_;
  const auto l = level(levels, o.side, o.price);
  l->second.qty -= o.qty;
  if (--l->second.orders == 0) levels.erase(l);
  // Backward-shift deletion: no tombstones, so lookups stay short.
  const std::size_t mask = slots_.size() - 1;
  std::size_t hole = slot;
  for (std::size_t i = (slot + 1) & mask; slots_[i].id != kEmpty; i = (i + 1) & mask) {
    const std::size_t home = hash_of(slots_[i].id) & mask;
    // Move slots_[i] into the hole unless its home lies cyclically in (hole, i].
    const bool stays = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
    if (!stays) {
      slots_[hole] = slots_[i];
      hole = i;
    }
  }
  slots_[hole] = Resting{};
  --count_;
}

bool DepthBook::take(std::uint64_t id, std::uint32_t shares) {
  const std::size_t it = find(id);
  if (it == npos || slots_[it].qty < shares) return false;
  if (slots_[it].qty == shares) {
    remove(it);
  } else {
    reduce(it, shares);
  }
  return true;
}

bool DepthBook::apply(const proto::itch::Message& m) {
  namespace itch = proto::itch;
  switch (m.type) {
    case itch::MessageType::AddOrder:
    case itch::MessageType::AddOrderMpid: {
      const itch::AddOrder& a = m.add;
      if (a.order_ref == kEmpty || find(a.order_ref) != npos) return false;
      if (a.side != static_cast<char>(Side::Buy) && a.side != static_cast<char>(Side::Sell)) return false;
      add(a.order_ref, static_cast<Side>(a.side), a.price, a.shares);
      return true;
    }
    case itch::MessageType::OrderExecuted: return take(m.executed.order_ref, m.executed.shares);
    // An uncross: at the cross price; the order rests at its own.
    case itch::MessageType::OrderExecutedWithPrice: return take(m.executed_with_price.order_ref, m.executed_with_price.shares);
    case itch::MessageType::OrderCancel: return take(m.cancel.order_ref, m.cancel.shares);
    case itch::MessageType::OrderDelete: {
      const std::size_t it = find(m.del.order_ref);
      if (it == npos) return false;
      remove(it);
      return true;
    }
    case itch::MessageType::OrderReplace: {
      // The old order leaves the book; the new one (new reference, price, shares) joins at the back.
      const itch::OrderReplace& r = m.replace;
      const std::size_t it = find(r.original_ref);
      if (it == npos || r.new_ref == kEmpty || find(r.new_ref) != npos) return false;
      const Side side = slots_[it].side;
      remove(it);
      add(r.new_ref, side, r.price, r.shares);
      return true;
    }
    default:
      return true;
  }
}

std::size_t DepthBook::depth(Side side, DepthLevel* out, std::size_t max_levels) const noexcept {
  return side == Side::Buy ? copy_levels(bids_, out, max_levels) : copy_levels(asks_, out, max_levels);
}

std::vector<DepthLevel> DepthBook::depth(Side side, std::size_t max_levels) const {
  const std::size_t have = side == Side::Buy ? bids_.size() : asks_.size();
  std::vector<DepthLevel> out(std::min(have, max_levels));
  out.resize(depth(side, out.data(), out.size()));
  return out;
}

}  // namespace peregrine::egress

namespace peregrine::egress {

void DepthBook::save(ByteWriter& w) const {
  std::vector<Resting> orders;
  orders.reserve(count_);
  for (const Resting& r : slots_)
    if (r.id != kEmpty) orders.push_back(r);
  std::sort(orders.begin(), orders.end(), [](const Resting& a, const Resting& b) { return a.id < b.id; });
  w.u32(static_cast<std::uint32_t>(orders.size()));
  for (const Resting& o : orders) {
    w.u64(o.id);
    w.u8(static_cast<std::uint8_t>(o.side));
    w.i64(o.price);
    w.u32(o.qty);
  }
}

bool DepthBook::load(ByteReader& in, std::string& error) {
  auto fail = [&](const char* what) {
    error = what;
    return false;
  };
  if (count_ != 0) return fail("depth book not empty");
  const std::uint32_t n = in.u32();
  if (!in.ok()) return fail("truncated depth book");
  if (!in.can_hold(n, 8 + 1 + 8 + 4)) return fail("depth book order count exceeds the input");
  std::uint64_t prev = 0;
  for (std::uint32_t i = 0; i < n; ++i) {
    const std::uint64_t id = in.u64();
    const std::uint8_t side = in.u8();
    const std::int64_t price = in.i64();
    const std::uint32_t qty = in.u32();
    if (!in.ok()) return fail("truncated depth book order");
    if (i > 0 && id <= prev) return fail("depth book orders not in ascending id order");
    if (id == kEmpty) return fail("depth book order with a reserved id");
    if (side != static_cast<std::uint8_t>(Side::Buy) && side != static_cast<std::uint8_t>(Side::Sell))
      return fail("depth book order with a bad side");
    add(id, static_cast<Side>(side), price, qty);
    prev = id;
  }
  return true;
}

}  // namespace peregrine::egress
