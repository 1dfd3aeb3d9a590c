// The journal section: durability, segments, snapshots and retention (docs/operations.md).

#include <algorithm>
#include <string>
#include <vector>

#include "yaml_reader.hpp"

namespace peregrine::config::detail {

// --- journal: durability, snapshots, retention (docs/operations.md) ---------------------------

constexpr std::array<Choice<JournalDurability>, 5> kDurabilities{{{"fsync", JournalDurability::Fsync},
                                                                  {"fdatasync", JournalDurability::Fdatasync},
                                                                  {"none", JournalDurability::None},
                                                                  {"replicated", JournalDurability::Replicated},
                                                                  {"replicated+fsync", JournalDurability::ReplicatedFsync}}};
constexpr NumberSpec kMegabytes{0, std::uint64_t{1} << 30, "must be positive", "a size in MiB", "must be a whole number of MiB"};
constexpr NumberSpec kMegabytesOrNone{0, std::uint64_t{1} << 30, nullptr, "a size in MiB (0 = none)",
                                      "must be a whole number of MiB"};
constexpr NumberSpec kCount64OrNone{0, kUint64Max, nullptr, "a whole number (0 = off)", "must be a whole number"};
constexpr NumberSpec kSecondsOrNone{0, kUint32Max, nullptr, "a number of seconds (0 = off)", "must be a whole number"};

const std::array<Parser::Field<JournalConfig>, 8> Parser::kJournalFields{{
    {"dir", [](const Parser& p, const Entry& e, const std::string& path, JournalConfig& c) { c.dir = p.read_path(e, path); }},
    {"durability",
     [](const Parser& p, const Entry& e, const std::string& path, JournalConfig& c) {
       c.durability = p.read_choice(e, path, kDurabilities);
       c.durability_set = true;
     }},
    {"segment_mb",
     [](const Parser& p, const Entry& e, const std::string& path, JournalConfig& c) {
       c.segment_bytes = p.read_number(e, path, kMegabytes) << 20;
     }},
    {"snapshot_every_commands",
     [](const Parser& p, const Entry& e, const std::string& path, JournalConfig& c) {
       c.snapshot_every_commands = p.read_number(e, path, kCount64OrNone);
     }},
    {"snapshot_every_seconds",
     [](const Parser& p, const Entry& e, const std::string& path, JournalConfig& c) {
       c.snapshot_every_seconds = static_cast<std::uint32_t>(p.read_number(e, path, kSecondsOrNone));
     }},
    {"keep_snapshots",
     [](const Parser& p, const Entry& e, const std::string& path, JournalConfig& c) {
       c.keep_snapshots = static_cast<std::uint32_t>(p.read_number(e, path, kCount));
     }},
    {"retention_hours",
     [](const Parser& p, const Entry& e, const std::string& path, JournalConfig& c) {
       c.retention_hours = static_cast<std::uint32_t>(p.read_number(e, path, kCountOrNone));
     }},
    {"min_free_mb",
     [](const Parser& p, const Entry& e, const std::string& path, JournalConfig& c) {
       c.min_free_bytes = p.read_number(e, path, kMegabytesOrNone) << 20;
     }},
}};
const std::array<std::string_view, 8> Parser::kJournalKeys = keys_of(kJournalFields);

void Parser::read_journal(const Entry& section, ServiceConfig& svc) {
  for (const Entry& e : read_single(section, "journal", kJournalKeys)) {
    for (const auto& f : kJournalFields) {
      if (f.key == e.key) f.read(*this, e, join("journal", e.key), svc.journal);
    }
  }
}

}  // namespace peregrine::config::detail
