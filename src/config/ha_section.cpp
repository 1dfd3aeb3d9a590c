// The ha section: the node's role in replication, its addresses and timers (docs/ha.md).

#include <array>
#include <string>

#include "yaml_reader.hpp"

namespace peregrine::config::detail {

namespace {

constexpr std::array<Choice<HaRole>, 3> kRoles{
    {{"none", HaRole::None}, {"leader", HaRole::Leader}, {"standby", HaRole::Standby}}};
constexpr std::array<Choice<StandbyLost>, 2> kStandbyLost{{{"fsync", StandbyLost::Fsync}, {"strict", StandbyLost::Strict}}};
constexpr std::array<Choice<HaFailover>, 2> kFailover{{{"manual", HaFailover::Manual}, {"auto", HaFailover::Auto}}};
constexpr NumberSpec kEpoch{0, kUint64Max, "must be positive", "a whole number (1 or more)", "must be a whole number"};
constexpr NumberSpec kMillis{0, 3'600'000, "must be positive", "a number of milliseconds (1 to 3600000)",
                             "must be a whole number of milliseconds"};

}  // namespace

const std::array<Parser::Field<HaConfig>, 10> Parser::kHaFields{{
    {"role", [](const Parser& p, const Entry& e, const std::string& path, HaConfig& c) { c.role = p.read_choice(e, path, kRoles); }},
    {"listen", [](const Parser& p, const Entry& e, const std::string& path, HaConfig& c) { p.read_listen(e, path, true, c.listen); }},
    {"peer", [](const Parser& p, const Entry& e, const std::string& path, HaConfig& c) { p.read_listen(e, path, false, c.peer); }},
    {"epoch", [](const Parser& p, const Entry& e, const std::string& path, HaConfig& c) { c.epoch = p.read_number(e, path, kEpoch); }},
    {"heartbeat_ms",
     [](const Parser& p, const Entry& e, const std::string& path, HaConfig& c) {
       c.heartbeat_ms = static_cast<std::uint32_t>(p.read_number(e, path, kMillis));
     }},
    {"standby_timeout_ms",
     [](const Parser& p, const Entry& e, const std::string& path, HaConfig& c) {
       c.standby_timeout_ms = static_cast<std::uint32_t>(p.read_number(e, path, kMillis));
     }},
    {"leader_timeout_ms",
     [](const Parser& p, const Entry& e, const std::string& path, HaConfig& c) {
       c.leader_timeout_ms = static_cast<std::uint32_t>(p.read_number(e, path, kMillis));
     }},
    {"standby_lost",
     [](const Parser& p, const Entry& e, const std::string& path, HaConfig& c) {
       c.standby_lost = p.read_choice(e, path, kStandbyLost);
     }},
    {"fsync_window_ms",
     [](const Parser& p, const Entry& e, const std::string& path, HaConfig& c) {
       c.fsync_window_ms = static_cast<std::uint32_t>(p.read_number(e, path, kMillis));
     }},
    {"failover", [](const Parser& p, const Entry& e, const std::string& path, HaConfig& c) { c.failover = p.read_choice(e, path, kFailover); }},
}};
const std::array<std::string_view, 10> Parser::kHaKeys = keys_of(kHaFields);

void Parser::read_ha(const Entry& section, ServiceConfig& svc) {
  bool has_listen = false;
  bool has_peer = false;
  for (const Entry& e : read_single(section, "ha", kHaKeys)) {
    for (const auto& f : kHaFields) {
      if (f.key == e.key) f.read(*this, e, join("ha", e.key), svc.ha);
    }
    has_listen |= e.key == "listen";
    has_peer |= e.key == "peer";
  }
  const HaConfig& ha = svc.ha;
  if (ha.role != HaRole::None && svc.journal.dir.empty())
    fail(line_in("ha", "role"), "ha.role", "a leader or standby needs journal.dir (replication streams the journal)");
  if (ha.role == HaRole::Leader && !has_listen)
    fail(line_in("ha", "role"), "ha.listen", "is required for ha.role: leader (where the standby connects)");
  if (ha.role == HaRole::Standby && !has_peer)
    fail(line_in("ha", "role"), "ha.peer", "is required for ha.role: standby (the leader's ha.listen)");
  if (ha.leader_timeout_ms <= ha.heartbeat_ms)
    fail(line_in("ha", "leader_timeout_ms"), "ha.leader_timeout_ms",
         "must be longer than heartbeat_ms (" + std::to_string(ha.heartbeat_ms) + ")");
  if (ha.standby_timeout_ms <= ha.heartbeat_ms)
    fail(line_in("ha", "standby_timeout_ms"), "ha.standby_timeout_ms",
         "must be longer than heartbeat_ms (" + std::to_string(ha.heartbeat_ms) + ")");
  if (ha.failover == HaFailover::Auto && ha.role != HaRole::Standby)
    fail(line_in("ha", "failover"), "ha.failover", "auto is for a standby (it promotes itself after ha.leader_timeout_ms of silence)");
  // A leader's replies wait for its standby unless the file says otherwise (issue #15); a
  // standby's journal runs as it will once promoted (docs/ha.md, "Promotion").
  if (ha.role != HaRole::None && !svc.journal.durability_set) svc.journal.durability = JournalDurability::Replicated;
}

}  // namespace peregrine::config::detail
