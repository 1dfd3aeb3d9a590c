// EdgeReject: the gateway's refusal of a message, sequenced by the core. Exactly one Rejected
// (owner, token, code Gateway, ref = the gateway's reason), whatever the market's state, and no
// change of state: the refused message was never an order.

#include <cstdint>

#include "unit/core/engine_fixture.hpp"

namespace peregrine::test {
namespace {

class EdgeRejectTest : public EngineTest {
 protected:
  /// Some state to leave alone: a resting order on each side and a trade.
  void SetUp() override {
    run(limit(seller(kBob, kFirmB, 1, "S1"), 300, px(10'00)));
    run(limit(buyer(kAlice, kFirmA, 2, "B1"), 100, px(10'00)));
    run(limit(buyer(kAlice, kFirmA, 3, "B2"), 200, px(9'90)));
  }

  Command edge_reject(OwnerId owner, std::string_view token, char reason) {
    return make_edge_reject(next_ts(), owner, Token::from(token), static_cast<std::uint8_t>(reason));
  }

  /// The one event an EdgeReject must produce (stamped with the last command's ts).
  Event gateway_rejected(OwnerId owner, std::string_view token, char reason) const {
    Event e = blank(EventType::Rejected);
    e.owner = owner;
    e.token = Token::from(token);
    e.code = static_cast<std::uint8_t>(RejectCode::Gateway);
    e.ref = static_cast<std::uint8_t>(reason);
    return e;
  }

  /// Runs an EdgeReject and checks its one event and that nothing else moved.
  void expect_edge_rejected(OwnerId owner, std::string_view token, char reason, const char* when) {
    const std::uint64_t hash = engine().state_hash();
    const std::uint64_t tokens = engine().stats().tokens_used;
    const Events ev = run(edge_reject(owner, token, reason));
    EXPECT_EVENTS(ev, seq(gateway_rejected(owner, token, reason))) << when;
    EXPECT_EQ(engine().state_hash(), hash) << when;
    EXPECT_EQ(engine().stats().tokens_used, tokens) << when;
  }
};

TEST_F(EdgeRejectTest, IsAnsweredWithExactlyOneRejectedCarryingTheGatewaysReason) {
  expect_edge_rejected(kAlice, "E1", 'L', "firm not the user's");
  expect_edge_rejected(kCarol, "E2", 'O', "throttled");
  // The owner need not be known to the core, nor the token fresh: nothing is looked up.
  expect_edge_rejected(OwnerId{777}, "B1", 'D', "unknown owner, used token");
  EXPECT_EQ(levels(kMain, Side::Sell), (Levels{{px(10'00), 200, 1}}));
  EXPECT_EQ(levels(kMain, Side::Buy), (Levels{{px(9'90), 200, 1}}));
}

TEST_F(EdgeRejectTest, DoesNotUseTheToken) {
  expect_edge_rejected(kAlice, "B3", 'O', "refused at the edge");
  // The same token is still free for an order: the refused message never reached the book.
  const Ord b3 = buyer(kAlice, kFirmA, 4, "B3");
  const Events ev = run(limit(b3, 100, px(9'80)));
  EXPECT_EVENTS(ev, seq(accepted(b3, px(9'80), 100), book_add(b3, px(9'80), 100)));
}

TEST_F(EdgeRejectTest, IsTheSameInEveryPhaseAndUnderAKillSwitch) {
  for (const auto& [status, name] : kTradingStatusNames) {
    run(make_trading_status(next_ts(), kMain, status));
    const std::string when(name);
    expect_edge_rejected(kAlice, "EP", 'O', when.c_str());
  }
  run(make_trading_status(next_ts(), kMain, TradingStatus::Trading));
  run(kill(kFirmA, true, false));
  expect_edge_rejected(kAlice, "EK", 'O', "kill switch engaged");
  run(kill(kFirmA, false, false));
}

}  // namespace
}  // namespace peregrine::test
