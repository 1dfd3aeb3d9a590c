#include "peregrine/egress/depth_book.hpp"

#include <algorithm>

namespace peregrine::egress {

namespace {
template <typename Map>
std::size_t copy_levels(const Map& levels, DepthLevel* out, std::size_t max_levels) noexcept {
  std::size_t n = 0;
  for (auto it = levels.begin(); it != levels.end() && n < max_levels; ++it, ++n)
    out[n] = DepthLevel{Price{it->first}, it->second.qty, it->second.orders};
  return n;
}
}  // namespace

void DepthBook::add(std::uint64_t id, Side side, std::int64_t price, std::uint32_t qty) {
  orders_.emplace(id, Resting{side, price, qty});
  auto bump = [&](auto& levels) {
    auto& l = levels[price];
    l.qty += qty;
    ++l.orders;
  };
  if (side == Side::Buy) bump(bids_); else bump(asks_);
}

void DepthBook::reduce(std::unordered_map<std::uint64_t, Resting>::iterator it, std::uint32_t by) {
  Resting& o = it->second;
  auto cut = [&](auto& levels) {
    auto l = levels.find(o.price);
    l->second.qty -= by;
  };
  if (o.side == Side::Buy) cut(bids_); else cut(asks_);
  o.qty -= by;
}

void DepthBook::remove(std::unordered_map<std::uint64_t, Resting>::iterator it) {
  const Resting o = it->second;
  auto drop = [&](auto& levels) {
    auto l = levels.find(o.price);
    l->second.qty -= o.qty;
    if (--l->second.orders == 0) levels.erase(l);
  };
  if (o.side == Side::Buy) drop(bids_); else drop(asks_);
  orders_.erase(it);
}

bool DepthBook::apply(const Event& ev) {
  switch (ev.type) {
    case EventType::BookAdd:
      if (orders_.contains(ev.order_id.value())) return false;
      add(ev.order_id.value(), ev.side, ev.price.value(), ev.qty.value());
      return true;
    case EventType::BookExecute:
    case EventType::BookCancel: {
      const auto it = orders_.find(ev.order_id.value());
      if (it == orders_.end() || it->second.qty < ev.qty.value()) return false;
      // The event carries the order's open quantity after it (leaves); 0 means it is gone.
      if (ev.leaves.value() == 0) {
        remove(it);
      } else {
        reduce(it, ev.qty.value());
      }
      return true;
    }
    case EventType::BookDelete: {
      const auto it = orders_.find(ev.order_id.value());
      if (it == orders_.end()) return false;
      remove(it);
      return true;
    }
    case EventType::BookReplace: {
      // The old order leaves the book; the new one (new id, price, quantity) joins at the back.
      const auto it = orders_.find(ev.ref);
      if (it == orders_.end() || orders_.contains(ev.order_id.value())) return false;
      const Side side = it->second.side;
      remove(it);
      add(ev.order_id.value(), side, ev.price.value(), ev.qty.value());
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
  std::vector<std::uint64_t> ids;
  ids.reserve(orders_.size());
  for (const auto& [id, o] : orders_) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  w.u32(static_cast<std::uint32_t>(ids.size()));
  for (const std::uint64_t id : ids) {
    const Resting& o = orders_.at(id);
    w.u64(id);
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
  if (!orders_.empty()) return fail("depth book not empty");
  const std::uint32_t n = in.u32();
  if (!in.ok()) return fail("truncated depth book");
  if (!in.can_hold(n, 8 + 1 + 8 + 4)) return fail("depth book order count exceeds the input");
  orders_.reserve(n);
  std::uint64_t prev = 0;
  for (std::uint32_t i = 0; i < n; ++i) {
    const std::uint64_t id = in.u64();
    const std::uint8_t side = in.u8();
    const std::int64_t price = in.i64();
    const std::uint32_t qty = in.u32();
    if (!in.ok()) return fail("truncated depth book order");
    if (i > 0 && id <= prev) return fail("depth book orders not in ascending id order");
    if (side != static_cast<std::uint8_t>(Side::Buy) && side != static_cast<std::uint8_t>(Side::Sell))
      return fail("depth book order with a bad side");
    add(id, static_cast<Side>(side), price, qty);
    prev = id;
  }
  return true;
}

}  // namespace peregrine::egress
