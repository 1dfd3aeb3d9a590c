// Loads an EngineConfig or a ServiceConfig from YAML: the top-level sections, the checks across
// sections, and where a check_config() issue was written. See docs/configuration.md for the file
// format.
//
// Numbers are read from the YAML text itself, never through floating point: "12.34" is 1234
// hundredths, scaled to 123400. Every key is checked against the keys allowed where it appears,
// so a typo is an error rather than a silently ignored default. The readers of the sections are
// in engine_sections.cpp, service_sections.cpp, ingress_section.cpp, market_section.cpp,
// journal_section.cpp and dropcopy_section.cpp; the shared reading in yaml_reader.cpp.

#include "peregrine/config/loader.hpp"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "peregrine/config/service.hpp"
#include "yaml_reader.hpp"

namespace peregrine::config {

namespace {

std::string format_what(const std::string& file, int line, const std::string& field,
                        const std::string& reason) {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line);
  out += ": ";
  if (!field.empty()) out += field + ": ";
  out += reason;
  return out;
}

}  // namespace

ConfigError::ConfigError(std::string file, int line, std::string field, std::string reason)
    : std::runtime_error(format_what(file, line, field, reason)),
      file_(std::move(file)),
      line_(line),
      field_(std::move(field)),
      reason_(std::move(reason)) {}

namespace detail {

// --- the whole file --------------------------------------------------------------------------

void Parser::fail_issue(const ConfigIssue& issue) const {
  // A field named like its section ("instruments", index 0) is about the whole list.
  const std::string_view key = issue.field == issue.section ? std::string_view{} : yaml_key(issue.field);
  const auto section = places_.find(issue.section);
  if (section == places_.end()) {
    // The section was left out: its defaults are at fault.
    fail(1, join(issue.section, key), issue.message + (key.empty() ? "" : " (default value)"));
  }
  const SectionPlace& place = section->second;
  if (issue.index >= place.entries.size()) fail(place.line, join(issue.section, key), issue.message);

  const EntryPlace& ep = place.entries[issue.index];
  const std::string path =
      place.list ? issue.section + "[" + std::to_string(issue.index) + "]" : std::string(issue.section);
  int line = ep.field_line(key);
  std::string note;
  if (line == 0 && !key.empty()) {
    const bool from_board =
        !ep.board.empty() && std::find(kBoardFields.begin(), kBoardFields.end(), key) != kBoardFields.end();
    if (from_board) {
      line = ep.board_line;
      note = " (value from board: " + ep.board + ")";
    } else {
      line = ep.line;
      if (std::find(place.keys.begin(), place.keys.end(), key) != place.keys.end()) note = " (default value)";
    }
  }
  if (line == 0) line = ep.line;
  fail(line, join(path, key), issue.message + note);
}

ServiceConfig Parser::parse(std::string_view text) {
  // Sections are read in this order whatever their order in the file, so a later section may
  // refer to an earlier one. To add a section: a key, whether it is required, a reader.
  static constexpr std::array<Section, 14> kSections{{
      {"engine", false, &Parser::read_engine},
      {"instruments", true, &Parser::read_instruments},
      {"firms", true, &Parser::read_firms},
      {"users", false, &Parser::read_users},  // after firms: a user names its firm
      {"credentials_file", false, &Parser::read_credentials_file},
      {"gateway", false, &Parser::read_gateway},
      {"core", false, &Parser::read_core},
      {"admin", false, &Parser::read_admin},
      {"tuning", false, &Parser::read_tuning},
      {"ingress", false, &Parser::read_ingress},  // after users: a binding names its user
      {"market", false, &Parser::read_market},
      {"journal", false, &Parser::read_journal},
      {"dropcopy", false, &Parser::read_dropcopy},  // after gateway and journal: it defaults from and needs them
      {"ha", false, &Parser::read_ha},  // after journal: a leader's default durability
  }};
  static constexpr std::array<std::string_view, kSections.size()> kSectionKeys = keys_of(kSections);

  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    fail(line_of(e.mark), "", "YAML syntax error: " + e.msg);
  }
  if (docs.empty() || docs.front().IsNull()) {
    std::vector<std::string_view> required;
    for (const Section& s : kSections) {
      if (s.required) required.push_back(s.key);
    }
    fail(1, "", "the file is empty; it needs at least the sections " + list_words(required));
  }
  if (docs.size() > 1) {
    fail(line_of(docs[1].Mark()), "", "more than one YAML document ('---'); a configuration is one document");
  }
  const YAML::Node root = docs.front();
  const int root_line = std::max(1, line_of(root.Mark()));

  ServiceConfig svc;
  svc.source = file_;
  EngineConfig& cfg = svc.engine;
  try {
    const std::vector<Entry> sections = read_map(root, root_line, "", kSectionKeys, "a map of sections");
    for (const Section& s : kSections) {
      if (const Entry* e = find_entry(sections, s.key)) {
        (this->*s.read)(*e, svc);
      } else if (s.required) {
        fail(root_line, std::string(s.key), "section is missing");
      }
    }
  } catch (const YAML::Exception& e) {
    fail(line_of(e.mark), "", e.msg);
  }

  if (const std::optional<ConfigIssue> issue = check_config(cfg)) fail_issue(*issue);

  if (!svc.users.empty() && svc.credentials_file.empty()) {
    fail(line_in("users", ""), "credentials_file",
         "is required when there are users (a file of username:password lines)");
  }
  const GatewayConfig& gw = svc.gateway;
  if (gw.session_timeout_ms <= gw.heartbeat_interval_ms) {
    fail(line_in("gateway", "session_timeout_ms"), "gateway.session_timeout_ms",
         "must be longer than heartbeat_interval_ms (" + std::to_string(gw.heartbeat_interval_ms) + "), got " +
             std::to_string(gw.session_timeout_ms));
  }
  if (const std::optional<GatewayConflict> clash = gateway_conflict(gw)) {
    const std::string key = clash->field.substr(clash->field.find('.') + 1);
    fail(line_in("gateway", key), clash->field, clash->reason);
  }
  if ((svc.journal.durability == JournalDurability::Replicated ||
       svc.journal.durability == JournalDurability::ReplicatedFsync) &&
      svc.ha.role == HaRole::None) {
    fail(line_in("journal", "durability"), "journal.durability",
         "replicated needs ha.role: leader or standby (a standby to hold the commands; docs/ha.md)");
  }
  return svc;
}

}  // namespace detail

EngineConfig load_engine_config_from_string(std::string_view text, const std::string& name) {
  return detail::Parser(name, ".").parse(text).engine;
}

ServiceConfig load_service_config_from_string(std::string_view text, const std::string& name,
                                              const std::string& base_dir) {
  return detail::Parser(name, base_dir).parse(text);
}

namespace {

std::string directory_of(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  return dir.empty() ? std::string(".") : dir;
}

}  // namespace

EngineConfig load_engine_config(const std::string& path) {
  return detail::Parser(path, directory_of(path)).parse(detail::read_text_file(path, "")).engine;
}

ServiceConfig load_service_config(const std::string& path) {
  ServiceConfig svc = detail::Parser(path, directory_of(path)).parse(detail::read_text_file(path, ""));
  if (!svc.credentials_file.empty()) {
    svc.credentials = load_credentials(svc.credentials_file);
    check_credentials(svc, svc.credentials);
  }
  return svc;
}

}  // namespace peregrine::config
