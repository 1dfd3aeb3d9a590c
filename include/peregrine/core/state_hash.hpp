#pragma once
/// The canonical state hash. Engine::state_hash() and any other implementation of the same
/// rules (the tests' reference book, replay, a standby) feed a StateHasher in this order:
///   1. for each instrument by id: instrument(), indicative() when one is published; then its resting orders, bids best price
///      first then asks best price first, each level oldest first: order();
///   2. for each firm by id: firm();
///   3. tokens(): how many tokens were accepted today and the wrapping sum of token_hash();
///   4. counters(): the next order id and next match number.

#include <cstdint>

#include "peregrine/core/event.hpp"
#include "peregrine/core/types.hpp"

namespace peregrine {

class StateHasher {
 public:
  /// `session`: the market's phase for it (continuous trading unless a schedule says otherwise).
  void instrument(InstrumentId id, TradingStatus status, Price last_trade,
                  TradingStatus session = TradingStatus::Trading) noexcept {
    mix(0x11);
    mix(id.value());
    mix(static_cast<std::uint64_t>(status));
    mix(static_cast<std::uint64_t>(last_trade.value()));
    mix(static_cast<std::uint64_t>(session));
  }
  /// In a call phase, after instrument(): the indicative auction last published, if any.
  void indicative(Price price, std::uint64_t paired, std::uint64_t imbalance, std::uint8_t side) noexcept {
    mix(0x12);
    mix(static_cast<std::uint64_t>(price.value()));
    mix(paired);
    mix(imbalance);
    mix(side);
  }
  void order(OrderId id, OwnerId owner, FirmId firm, Side side, Price price, Qty open,
             const Token& token) noexcept {
    mix(0x22);
    mix(id.value());
    mix(owner.value());
    mix(firm.value());
    mix(static_cast<std::uint64_t>(side));
    mix(static_cast<std::uint64_t>(price.value()));
    mix(open.value());
    h_ = fnv1a(token.c.data(), token.c.size(), h_);
  }
  void firm(FirmId id, std::uint64_t open_shares, bool kill_switch) noexcept {
    mix(0x33);
    mix(id.value());
    mix(open_shares);
    mix(kill_switch ? 1 : 0);
  }
  void tokens(std::uint64_t count, std::uint64_t sum) noexcept {
    mix(0x44);
    mix(count);
    mix(sum);
  }
  void counters(OrderId next_order_id, MatchNumber next_match) noexcept {
    mix(0x55);
    mix(next_order_id.value());
    mix(next_match.value());
  }
  [[nodiscard]] std::uint64_t value() const noexcept { return h_; }

  /// One token's contribution to tokens()' sum.
  [[nodiscard]] static std::uint64_t token_hash(OwnerId owner, const Token& token) noexcept {
    std::uint64_t h = fnv1a(token.c.data(), token.c.size());
    std::uint32_t o = owner.value();
    return fnv1a(&o, sizeof o, h);
  }

 private:
  void mix(std::uint64_t v) noexcept { h_ = fnv1a(&v, sizeof v, h_); }
  std::uint64_t h_ = 0xcbf29ce484222325ULL;
};

}  // namespace peregrine
