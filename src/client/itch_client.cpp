#include "peregrine/client/itch_client.hpp"

#include <algorithm>

namespace peregrine::client {

namespace itch = proto::itch;

ItchEvent ItchFeedClient::next(Duration timeout) {
  SoupEvent e = soup_.next(timeout);
  ItchEvent out;
  out.kind = e.kind;
  out.seq = e.seq;
  if (e.kind == SoupEvent::Kind::Data) out.decoded = itch::decode(e.payload, out.msg) == itch::Status::Ok;
  return out;
}

void BookBuilder::add(std::uint64_t ref, const Order& o) {
  orders_[ref] = o;
  Book& b = books_[o.symbol];
  Level& l = (o.side == 'B' ? b.bids : b.asks)[o.price];
  l.price = o.price;
  l.qty += o.shares;
  l.orders += 1;
}

bool BookBuilder::reduce(std::uint64_t ref, std::uint32_t shares, bool remove_all) {
  const auto it = orders_.find(ref);
  if (it == orders_.end()) return false;
  Order& o = it->second;
  const std::uint32_t cut = remove_all ? o.shares : std::min(shares, o.shares);
  Book& b = books_[o.symbol];
  auto& side = o.side == 'B' ? b.bids : b.asks;
  const auto lv = side.find(o.price);
  o.shares -= cut;
  if (lv != side.end()) {
    lv->second.qty -= cut;
    if (o.shares == 0) {
      lv->second.orders -= 1;
      if (lv->second.orders == 0) side.erase(lv);
    }
  }
  if (o.shares == 0) orders_.erase(it);
  return true;
}

bool BookBuilder::apply(const itch::Message& m) {
  switch (m.type) {
    case itch::MessageType::AddOrder:
    case itch::MessageType::AddOrderMpid:
      add(m.add.order_ref, Order{std::string(m.add.stock.view()), m.add.side, m.add.price, m.add.shares});
      return true;
    case itch::MessageType::OrderExecuted: return reduce(m.executed.order_ref, m.executed.shares, false);
    case itch::MessageType::OrderCancel: return reduce(m.cancel.order_ref, m.cancel.shares, false);
    case itch::MessageType::OrderDelete: return reduce(m.del.order_ref, 0, true);
    case itch::MessageType::OrderReplace: {
      const auto it = orders_.find(m.replace.original_ref);
      if (it == orders_.end()) return false;
      Order o = it->second;
      reduce(m.replace.original_ref, 0, true);
      o.price = m.replace.price;
      o.shares = m.replace.shares;
      if (o.shares > 0) add(m.replace.new_ref, o);
      return true;
    }
    default: return true;  // no book change
  }
}

namespace {
template <typename Map>
std::vector<BookBuilder::Level> take(const Map& side, std::size_t levels, bool highest_first) {
  std::vector<BookBuilder::Level> out;
  auto push = [&](const auto& kv) {
    if (out.size() < levels) out.push_back(kv.second);
  };
  if (highest_first) {
    std::for_each(side.rbegin(), side.rend(), push);
  } else {
    std::for_each(side.begin(), side.end(), push);
  }
  return out;
}
}  // namespace

std::vector<BookBuilder::Level> BookBuilder::bids(std::string_view symbol, std::size_t levels) const {
  const auto it = books_.find(symbol);
  if (it == books_.end()) return {};
  return take(it->second.bids, levels, true);
}

std::vector<BookBuilder::Level> BookBuilder::asks(std::string_view symbol, std::size_t levels) const {
  const auto it = books_.find(symbol);
  if (it == books_.end()) return {};
  return take(it->second.asks, levels, false);
}

}  // namespace peregrine::client
