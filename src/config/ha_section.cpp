// The ha section: the node's role in replication, its addresses and timers, and the Lease that
// decides who leads under ha.failover: lease (docs/ha.md, docs/configuration.md).

#include <unistd.h>

#include <array>
#include <cstdlib>
#include <fstream>
#include <string>

#include "yaml_reader.hpp"

namespace peregrine::config::detail {

const char* service_account_namespace_file = kServiceAccountNamespaceFile;

namespace {

constexpr std::array<Choice<HaRole>, 3> kRoles{
    {{"none", HaRole::None}, {"leader", HaRole::Leader}, {"standby", HaRole::Standby}}};
constexpr std::array<Choice<StandbyLost>, 2> kStandbyLost{{{"fsync", StandbyLost::Fsync}, {"strict", StandbyLost::Strict}}};
constexpr std::array<Choice<HaFailover>, 3> kFailover{
    {{"manual", HaFailover::Manual}, {"auto", HaFailover::Auto}, {"lease", HaFailover::Lease}}};
constexpr NumberSpec kEpoch{0, kUint64Max, "must be positive", "a whole number (1 or more)", "must be a whole number"};
constexpr NumberSpec kMillis{0, 3'600'000, "must be positive", "a number of milliseconds (1 to 3600000)",
                             "must be a whole number of milliseconds"};
// Names of their own: a unity build puts the anonymous namespaces of several files together.
constexpr NumberSpec kLeaseMillis{0, 3'600'000, "must be positive", "a number of milliseconds (1 to 3600000)",
                                  "must be a whole number of milliseconds"};
constexpr std::array<std::string_view, 10> kHaLeaseKeys{"name",       "namespace",   "identity",          "api_server",
                                                        "token_file", "ca_file",     "duration_ms",       "renew_deadline_ms",
                                                        "retry_ms",   "timeout_ms"};

/// "https://HOST[:PORT]" (HOST a name, an IPv4 address or a bracketed IPv6 one) into host and
/// port (443 when absent); the reason when it is not one.
std::string lease_api_server_of(const std::string& text, std::string& host, std::uint16_t& port) {
  constexpr std::string_view scheme = "https://";
  if (text.rfind(scheme, 0) != 0) return "must be an https:// URL such as \"https://10.43.0.1:443\", got " + in_quotes(text);
  std::string rest = text.substr(scheme.size());
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.find('/') != std::string::npos) return "must name the server only (no path), got " + in_quotes(text);
  std::string port_text;
  bool has_port = false;
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string::npos) return "has an unclosed '[' in " + in_quotes(text);
    host = rest.substr(1, close - 1);
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') return "must be https://[IPv6]:PORT, got " + in_quotes(text);
      port_text = rest.substr(close + 2);
      has_port = true;
    }
  } else {
    const auto colon = rest.find(':');
    host = rest.substr(0, colon);
    if (colon != std::string::npos) {
      port_text = rest.substr(colon + 1);
      has_port = true;
    }
  }
  if (host.empty()) return "names no host: " + in_quotes(text);
  port = 443;
  if (has_port) {
    const Number n = parse_fixed(port_text, 0);
    if (n.error != NumberError::None || n.scaled == 0 || n.scaled > 65535)
      return "has no port from 1 to 65535 in " + in_quotes(text);
    port = static_cast<std::uint16_t>(n.scaled);
  }
  return {};
}

/// The first line of `path`, trimmed; "" when it cannot be read.
std::string lease_first_line(const char* path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return {};
  const auto first = line.find_first_not_of(" \t\r");
  if (first == std::string::npos) return {};
  return line.substr(first, line.find_last_not_of(" \t\r") - first + 1);
}

std::string lease_env(const char* name) {
  const char* v = std::getenv(name);  // start-up, before any thread
  return v == nullptr ? std::string() : std::string(v);
}

}  // namespace

const std::array<Parser::Field<HaConfig>, 11> Parser::kHaFields{{
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
    {"lease", [](const Parser& p, const Entry& e, const std::string& path, HaConfig& c) { p.read_ha_lease(e, path, c.lease); }},
}};
const std::array<std::string_view, 11> Parser::kHaKeys = keys_of(kHaFields);

// The map as written; the defaults from the environment come after (read_ha), once the whole
// section is known. The elector's rules (peregrine/ha/elector.hpp) are checked here, at the
// line of the value that breaks them.
void Parser::read_ha_lease(const Entry& section, const std::string& path, HaLeaseConfig& c) const {
  const std::vector<Entry> fields = read_map(section.value, section.line, path, kHaLeaseKeys, "a map");
  int duration_line = section.line;
  int renew_line = section.line;
  int retry_line = section.line;
  int timeout_line = section.line;
  for (const Entry& f : fields) {
    const std::string fp = join(path, f.key);
    if (f.key == "name" || f.key == "namespace" || f.key == "identity") {
      const std::string text = read_text(f, fp, "a name");
      if (text.empty()) fail(f.line, fp, "must not be empty");
      (f.key == "name" ? c.name : f.key == "namespace" ? c.namespace_name : c.identity) = text;
    } else if (f.key == "api_server") {
      const std::string why = lease_api_server_of(read_text(f, fp, "an https:// URL"), c.api_host, c.api_port);
      if (!why.empty()) fail(f.line, fp, why);
    } else if (f.key == "token_file") {
      c.token_file = read_path(f, fp);
    } else if (f.key == "ca_file") {
      c.ca_file = read_path(f, fp);
    } else {
      const auto ms = static_cast<std::uint32_t>(read_number(f, fp, kLeaseMillis));
      if (f.key == "duration_ms") {
        c.duration_ms = ms;
        duration_line = f.line;
      } else if (f.key == "renew_deadline_ms") {
        c.renew_deadline_ms = ms;
        renew_line = f.line;
      } else if (f.key == "retry_ms") {
        c.retry_ms = ms;
        retry_line = f.line;
      } else {
        c.timeout_ms = ms;
        timeout_line = f.line;
      }
    }
  }
  if (c.duration_ms < 1000 || c.duration_ms % 1000 != 0)
    fail(duration_line, join(path, "duration_ms"),
         "must be whole seconds, at least 1000 (the Lease holds leaseDurationSeconds), got " + std::to_string(c.duration_ms));
  if (c.renew_deadline_ms >= c.duration_ms)
    fail(renew_line, join(path, "renew_deadline_ms"),
         "must be less than duration_ms (" + std::to_string(c.duration_ms) + "), got " + std::to_string(c.renew_deadline_ms) +
             ": a leader must stop leading before others may take the Lease");
  if (c.retry_ms >= c.renew_deadline_ms)
    fail(retry_line, join(path, "retry_ms"),
         "must be less than renew_deadline_ms (" + std::to_string(c.renew_deadline_ms) + "), got " +
             std::to_string(c.retry_ms) + ": the leader renews every retry_ms");
  // A renewal starts retry_ms after the last good one and may take timeout_ms to fail; the next
  // must still start before renew_deadline_ms, or one slow call deposes a healthy leader.
  if (std::uint64_t{c.timeout_ms} + c.retry_ms >= c.renew_deadline_ms)
    fail(timeout_line, join(path, "timeout_ms"),
         "must be less than renew_deadline_ms (" + std::to_string(c.renew_deadline_ms) + ") minus retry_ms (" +
             std::to_string(c.retry_ms) + "), got " + std::to_string(c.timeout_ms) +
             ": a renewal that times out must leave time for another before the leader is deposed");
}

void Parser::read_ha(const Entry& section, ServiceConfig& svc) {
  bool has_listen = false;
  bool has_peer = false;
  bool has_lease = false;
  for (const Entry& e : read_single(section, "ha", kHaKeys)) {
    for (const auto& f : kHaFields) {
      if (f.key == e.key) f.read(*this, e, join("ha", e.key), svc.ha);
    }
    has_listen |= e.key == "listen";
    has_peer |= e.key == "peer";
    has_lease |= e.key == "lease";
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
  if (ha.failover == HaFailover::Lease && ha.role == HaRole::None)
    fail(line_in("ha", "failover"), "ha.failover", "lease needs ha.role: leader or standby (each runs an elector)");
  if (has_lease && ha.failover != HaFailover::Lease)
    fail(line_in("ha", "lease"), "ha.lease", "applies with ha.failover: lease only");
  // The Lease carries the epoch as leaseTransitions, an int32 in Kubernetes: an epoch above it
  // could not be written, and a clamped one would not be this node's.
  if (ha.failover == HaFailover::Lease && ha.epoch > kMaxLeaseEpoch)
    fail(line_in("ha", "epoch"), "ha.epoch",
         "must be at most " + std::to_string(kMaxLeaseEpoch) + " under ha.failover: lease (the Lease holds the epoch as "
         "leaseTransitions, a 32-bit integer), got " + std::to_string(ha.epoch));
  if (ha.failover == HaFailover::Lease) resolve_ha_lease(svc.ha.lease);
  // A leader's replies wait for its standby unless the file says otherwise (issue #15); a
  // standby's journal runs as it will once promoted (docs/ha.md, "Promotion").
  if (ha.role != HaRole::None && !svc.journal.durability_set) svc.journal.durability = JournalDurability::Replicated;
}

// What the file leaves out, from the pod's environment, as client-go's InClusterConfig and the
// Downward API give it; refused, naming what is missing, outside a pod.
void Parser::resolve_ha_lease(HaLeaseConfig& c) const {
  const int line = line_in("ha", "lease") != line_in("ha", "") ? line_in("ha", "lease") : line_in("ha", "failover");
  if (c.identity.empty()) c.identity = lease_env("POD_NAME");
  if (c.identity.empty()) {
    char host[256] = {};
    // The host name alone would be one identity for two processes on one host, and the elector
    // takes a Lease its own identity holds at once: so the process too, as client-go does.
    if (::gethostname(host, sizeof host - 1) == 0 && host[0] != '\0')
      c.identity = std::string(host) + "_" + std::to_string(::getpid());
  }
  if (c.identity.empty())
    fail(line, "ha.lease.identity", "is required: POD_NAME is not set and the host name cannot be read");
  if (c.namespace_name.empty()) c.namespace_name = lease_env("POD_NAMESPACE");
  if (c.namespace_name.empty()) c.namespace_name = lease_first_line(service_account_namespace_file);
  if (c.namespace_name.empty())
    fail(line, "ha.lease.namespace",
         std::string("is required outside a pod: POD_NAMESPACE is not set and ") + service_account_namespace_file +
             " cannot be read");
  if (c.api_host.empty()) {
    const std::string host = lease_env("KUBERNETES_SERVICE_HOST");
    const std::string port = lease_env("KUBERNETES_SERVICE_PORT");
    if (host.empty() || port.empty())
      fail(line, "ha.lease.api_server",
           "is required outside a pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set");
    // An IPv6 service address comes bare in the environment.
    const std::string url = "https://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + port;
    if (const std::string why = lease_api_server_of(url, c.api_host, c.api_port); !why.empty())
      fail(line, "ha.lease.api_server", "from KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT " + why);
  }
}

}  // namespace peregrine::config::detail
