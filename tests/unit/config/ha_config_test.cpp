// The ha section (issue #15; docs/configuration.md, "ha"): the role and addresses, the timers,
// the standby-lost rule, and the `replicated` durability a leader gets by default.

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "config_text.hpp"
#include "peregrine/config/service.hpp"

namespace peregrine::config {
namespace ha_config_test {  // named, not anonymous: the sanitizer presets' unity builds compile it beside other tests

constexpr std::string_view kBase =
    "instruments:\n  - {symbol: \"600519\", reference_price: \"1700.00\"}\nfirms:\n  - {name: FRMA}\n"
    "journal: {dir: /j}\n";

ServiceConfig load(std::string_view rest) { return config_text::load(kBase, rest); }

std::string error_of(std::string_view base, std::string_view rest) {
  if (const auto e = config_text::refusal(base, rest)) return e->field() + ": " + e->reason();
  ADD_FAILURE() << "accepted: " << rest;
  return {};
}
std::string error_of(std::string_view rest) { return error_of(kBase, rest); }

TEST(HaConfigTest, NoSectionIsOneNodeWithTheJournalsOwnPolicy) {
  const ServiceConfig cfg = load("");
  EXPECT_EQ(cfg.ha.role, HaRole::None);
  EXPECT_EQ(cfg.journal.durability, JournalDurability::Fsync);
}

TEST(HaConfigTest, ALeaderDefaultsToReplicatedUnlessTheJournalSaysOtherwise) {
  const ServiceConfig cfg = load("ha: {role: leader, listen: \"127.0.0.1:9010\", epoch: 7, heartbeat_ms: 20,"
                                 " standby_timeout_ms: 300, standby_lost: strict, fsync_window_ms: 3}\n");
  EXPECT_EQ(cfg.ha.role, HaRole::Leader);
  EXPECT_EQ(cfg.ha.listen.port, 9010);
  EXPECT_EQ(cfg.ha.epoch, 7u);
  EXPECT_EQ(cfg.ha.heartbeat_ms, 20u);
  EXPECT_EQ(cfg.ha.standby_timeout_ms, 300u);
  EXPECT_EQ(cfg.ha.standby_lost, StandbyLost::Strict);
  EXPECT_EQ(cfg.ha.fsync_window_ms, 3u);
  EXPECT_EQ(cfg.journal.durability, JournalDurability::Replicated);

  const ServiceConfig both = config_text::load(
      "instruments:\n  - {symbol: \"600519\", reference_price: \"1700.00\"}\nfirms:\n  - {name: FRMA}\n"
      "journal: {dir: /j, durability: replicated+fsync}\n",
      "ha: {role: leader, listen: \"127.0.0.1:0\"}\n");
  EXPECT_EQ(both.journal.durability, JournalDurability::ReplicatedFsync);
}

TEST(HaConfigTest, AStandbyNamesItsLeader) {
  const ServiceConfig cfg = load("ha: {role: standby, peer: \"10.0.0.1:9010\", leader_timeout_ms: 500}\n");
  EXPECT_EQ(cfg.ha.role, HaRole::Standby);
  EXPECT_EQ(cfg.ha.peer.host, "10.0.0.1");
  EXPECT_EQ(cfg.ha.leader_timeout_ms, 500u);
  EXPECT_EQ(cfg.ha.failover, HaFailover::Manual);
  // Its journal runs as it will once promoted; it acknowledges on write whatever the policy (docs/ha.md).
  EXPECT_EQ(cfg.journal.durability, JournalDurability::Replicated);
}

TEST(HaConfigTest, AStandbyMayPromoteItselfAndListenForItsOwnStandby) {
  const ServiceConfig cfg =
      load("ha: {role: standby, peer: \"10.0.0.1:9010\", listen: \"0.0.0.0:9011\", failover: auto, leader_timeout_ms: 250}\n");
  EXPECT_EQ(cfg.ha.failover, HaFailover::Auto);
  EXPECT_EQ(cfg.ha.listen.port, 9011);
  EXPECT_EQ(error_of("ha: {role: leader, listen: \"127.0.0.1:1\", failover: auto}\n"),
            "ha.failover: auto is for a standby (it promotes itself after ha.leader_timeout_ms of silence)");
  EXPECT_NE(error_of("ha: {role: standby, peer: \"127.0.0.1:1\", failover: sometimes}\n").find("ha.failover"),
            std::string::npos);
}

TEST(HaConfigTest, RefusesWhatCannotWork) {
  EXPECT_EQ(error_of("ha: {role: leader}\n"), "ha.listen: is required for ha.role: leader (where the standby connects)");
  EXPECT_EQ(error_of("ha: {role: standby}\n"), "ha.peer: is required for ha.role: standby (the leader's ha.listen)");
  EXPECT_NE(error_of("ha: {role: primary}\n").find("ha.role"), std::string::npos);
  EXPECT_NE(error_of("ha: {role: leader, listen: \"127.0.0.1:1\", standby_lost: maybe}\n").find("ha.standby_lost"),
            std::string::npos);
  EXPECT_NE(error_of("ha: {role: leader, listen: \"127.0.0.1:1\", heartbeat_ms: 500, standby_timeout_ms: 400}\n")
                .find("ha.standby_timeout_ms: must be longer than heartbeat_ms"),
            std::string::npos);
  EXPECT_NE(error_of("ha: {role: leader, listen: \"127.0.0.1:1\", epoch: 0}\n").find("ha.epoch"), std::string::npos);
  const std::string_view no_journal =
      "instruments:\n  - {symbol: \"600519\", reference_price: \"1700.00\"}\nfirms:\n  - {name: FRMA}\n";
  EXPECT_NE(error_of(no_journal, "ha: {role: leader, listen: \"127.0.0.1:1\"}\n").find("needs journal.dir"),
            std::string::npos);
  // replicated without a standby to hold the commands
  EXPECT_EQ(error_of(no_journal, "journal: {dir: /k, durability: replicated}\n"),
            "journal.durability: replicated needs ha.role: leader or standby (a standby to hold the commands; docs/ha.md)");
}

}  // namespace ha_config_test
}  // namespace peregrine::config
