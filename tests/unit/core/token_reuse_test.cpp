// A token is day-unique per owner (docs/market-rules.md): once accepted, it is refused for the
// rest of the day however its order died (cancelled, filled, replaced away), and that memory
// survives a snapshot (Engine::save / load) and a replay of the day's commands into a fresh
// engine. Run over enough tokens that the token index's lookups cross buckets and its table is
// near its load limit.

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine_fixture.hpp"

namespace peregrine::test {
namespace {

class TokenReuseTest : public EngineTest {
 protected:
  /// Runs a command and keeps it for the replay.
  Events logged(const Command& cmd) {
    log_.push_back(cmd);
    return run(cmd);
  }

  /// Every used-up token, refused as a new order and as a replacement token (replacing its
  /// owner's live order); the same token string is still free for an owner who never used it.
  void expect_every_used_token_refused(const char* when, OwnerId fresh_owner) {
    SCOPED_TRACE(when);
    for (const Ord& used : used_) {
      expect_refused(limit(used, 100, px(9'50)), RejectCode::DuplicateToken, used);
      const Ord& live = live_.at(used.owner.value());
      Ord replacement = live;
      replacement.token = used.token;
      const Events ev = run(replace(live, replacement, 100, px(9'80)));
      EXPECT_EVENTS(ev, seq(replace_rejected(live, replacement, RejectCode::DuplicateToken)));
    }
    Ord other = used_.front();
    other.owner = fresh_owner;
    const Events ev = run(limit(other, 100, px(9'50)));
    ASSERT_FALSE(ev.empty());
    EXPECT_EQ(ev[0].type, EventType::Accepted) << "another owner's order with the same token string was refused";
    run(cancel(other));
  }

  std::vector<Command> log_;
  std::vector<Ord> used_;             // tokens whose orders are dead
  std::map<std::uint32_t, Ord> live_;  // one resting order per owner, whose replaces are refused
};

TEST_F(TokenReuseTest, ATokenIsRefusedAfterItsOrderDiesAfterASnapshotAndAfterAReplay) {
  const Ord canceled = buyer(kAlice, kFirmA, 1, "CANCELED");
  const Ord filled = buyer(kAlice, kFirmA, 2, "FILLED");
  const Ord seller_order = seller(kBob, kFirmB, 3, "SELL");
  const Ord before_replace = buyer(kAlice, kFirmA, 4, "OLD");
  const Ord after_replace = before_replace.as(5, "NEW");

  logged(limit(canceled, 100, px(9'90)));
  logged(cancel(canceled));
  logged(limit(filled, 100, px(9'95)));
  logged(limit(seller_order, 100, px(9'95)));  // fills FILLED and itself
  logged(limit(before_replace, 100, px(9'70)));
  logged(replace(before_replace, after_replace, 200, px(9'60)));  // OLD is replaced away
  used_ = {canceled, filled, seller_order, before_replace};
  // Many more dead tokens across owners: the index's probes cross buckets and it nears its load
  // limit (default_config() allows 4096 tokens).
  for (std::uint64_t n = 0; n < 3000; ++n) {
    const Ord o = buyer(OwnerId{static_cast<std::uint32_t>(10 + n % 7)}, kFirmB, 6 + n, numbered("T", n));
    logged(limit(o, 100, px(9'10)));
    logged(cancel(o));
    if (n % 97 == 0) used_.push_back(o);
  }
  for (const Ord& o : used_) {
    if (live_.count(o.owner.value()) != 0) continue;
    const Ord live = buyer(o.owner, o.firm, 0, "LIVE");
    logged(limit(live, 100, px(9'00)));
    live_.emplace(o.owner.value(), live);
  }

  std::vector<std::uint8_t> snapshot;
  engine().save(snapshot);
  const std::uint64_t hash = engine().state_hash();

  expect_every_used_token_refused("after the orders died", OwnerId{100});

  rebuild(default_config());
  std::string error;
  ASSERT_TRUE(engine().load(snapshot, error)) << error;
  ASSERT_EQ(engine().state_hash(), hash);
  expect_every_used_token_refused("after a snapshot was loaded", OwnerId{101});

  rebuild(default_config());
  for (const Command& c : log_) run(c);
  ASSERT_EQ(engine().state_hash(), hash) << "the replay did not rebuild the same state";
  expect_every_used_token_refused("after a replay", OwnerId{102});
}

TEST_F(TokenReuseTest, TheTokenTableFullRefusesNewTokensButStillFindsTheOldOnes) {
  EngineConfig cfg = default_config();
  cfg.max_tokens = 64;
  rebuild(cfg);
  std::vector<Ord> all;
  for (std::uint64_t n = 0; n < 64; ++n) {
    const Ord o = buyer(kAlice, kFirmA, 1 + n, numbered("F", n));
    const Events ev = run(limit(o, 100, px(9'10)));
    ASSERT_EQ(ev[0].type, EventType::Accepted) << "token " << n;
    all.push_back(o);
  }
  const Ord more = buyer(kAlice, kFirmA, 0, "MORE");
  expect_refused(limit(more, 100, px(9'10)), RejectCode::TokenTableFull, more);
  for (const Ord& o : all) {
    const Events ev = run(cancel(o));
    ASSERT_EQ(ev[0].type, EventType::Canceled) << "a live order was not found by its token";
  }
  for (const Ord& o : all) expect_refused(limit(o, 100, px(9'10)), RejectCode::DuplicateToken, o);
}

}  // namespace
}  // namespace peregrine::test
