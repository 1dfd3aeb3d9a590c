#include "peregrine/egress/depth_follower.hpp"

namespace peregrine::egress {

namespace itch = proto::itch;

bool DepthFollower::follow(ItchBuffer& buffer) {
  if (!available_) return false;
  if (buffer.read([this](std::uint64_t, std::span<const std::uint8_t> m) { apply(m); }) == ItchBuffer::ReadResult::Lost)
    available_ = false;
  return available_;
}

void DepthFollower::apply(std::span<const std::uint8_t> message) {
  itch::Message m{};
  if (itch::decode(message, m) != itch::Status::Ok) {
    ++inconsistencies_;
    return;
  }
  apply(m);
}

void DepthFollower::apply(const itch::Message& m) {
  // The stock locate is the InstrumentId (proto::to_itch); system events carry 0.
  const std::size_t locate = m.system_event.h.stock_locate;
  switch (m.type) {
    case itch::MessageType::AddOrder:
    case itch::MessageType::AddOrderMpid:
    case itch::MessageType::OrderExecuted:
    case itch::MessageType::OrderExecutedWithPrice:
    case itch::MessageType::OrderCancel:
    case itch::MessageType::OrderDelete:
    case itch::MessageType::OrderReplace:
      if (locate == 0 || locate > books_.size() || !books_[locate - 1].apply(m)) ++inconsistencies_;
      return;
    case itch::MessageType::Noii: {
      if (locate == 0 || locate > indicative_.size()) {
        ++inconsistencies_;
        return;
      }
      const itch::Noii& n = m.noii;
      const char d = n.imbalance_direction;
      indicative_[locate - 1] =
          AuctionInfo{Price{n.far_price}, n.paired_shares, n.imbalance_shares,
                      d == static_cast<char>(Side::Buy) || d == static_cast<char>(Side::Sell) ? std::optional<Side>{static_cast<Side>(d)}
                                                                                              : std::optional<Side>{}};
      return;
    }
    case itch::MessageType::StockTradingAction:
      // 'Q' (quotation only) is exactly the call phases (proto::trading_action_of).
      if (locate != 0 && locate <= indicative_.size() && m.trading_action.trading_state != 'Q')
        indicative_[locate - 1].reset();
      return;
    default:
      return;
  }
}

std::vector<DepthLevel> DepthFollower::depth(InstrumentId id, Side side, std::size_t max_levels) const {
  const std::size_t i = static_cast<std::size_t>(id.value()) - 1;
  if (id.value() == 0 || i >= books_.size()) return {};
  return books_[i].depth(side, max_levels);
}

std::optional<AuctionInfo> DepthFollower::indicative(InstrumentId id) const {
  const std::size_t i = static_cast<std::size_t>(id.value()) - 1;
  if (id.value() == 0 || i >= indicative_.size()) return std::nullopt;
  return indicative_[i];
}

void DepthFollower::save_instrument(std::size_t i, ByteWriter& w) const {
  books_[i].save(w);
  const std::optional<AuctionInfo>& a = indicative_[i];
  w.u8(a.has_value() ? 1 : 0);
  if (a.has_value()) {
    w.i64(a->price.value());
    w.u64(a->paired);
    w.u64(a->imbalance);
    w.u8(a->surplus.has_value() ? static_cast<std::uint8_t>(*a->surplus) : 0);
  }
}

bool DepthFollower::load_instrument(std::size_t i, ByteReader& in, std::string& error) {
  if (!books_[i].load(in, error)) return false;
  const std::uint8_t has = in.u8();
  if (!in.ok()) return (error = "truncated indicative", false);
  if (has > 1) return (error = "bad indicative flag", false);
  indicative_[i].reset();
  if (has == 1) {
    const std::int64_t price = in.i64();
    const std::uint64_t paired = in.u64();
    const std::uint64_t imbalance = in.u64();
    const std::uint8_t side = in.u8();
    if (!in.ok()) return (error = "truncated indicative", false);
    if (side != 0 && side != static_cast<std::uint8_t>(Side::Buy) && side != static_cast<std::uint8_t>(Side::Sell))
      return (error = "bad indicative surplus side", false);
    indicative_[i] = AuctionInfo{Price{price}, paired, imbalance,
                                 side == 0 ? std::optional<Side>{} : std::optional<Side>{static_cast<Side>(side)}};
  }
  return true;
}

}  // namespace peregrine::egress
