// The service's own sections: users and credentials_file (who may log in), gateway (listen
// addresses, SoupBinTCP session settings), core (CPU, idle strategy), admin (token file) and
// tuning (the customer's switches; resolved into settings by tuning.cpp).

#include <algorithm>
#include <string>
#include <vector>

#include "yaml_reader.hpp"

namespace peregrine::config::detail {

const std::array<Parser::Field<UserConfig>, 4> Parser::kUserFields{{
    {"username",
     [](const Parser& p, const Entry& e, const std::string& path, UserConfig& c) {
       const std::string s = p.read_text(e, path, "1 to 6 letters or digits");
       if (s.empty() || s.size() > 6 || !is_alnum(s)) {
         p.fail(e.line, path, "must be 1 to 6 letters or digits (SoupBinTCP Username), got " + in_quotes(s));
       }
       c.username = s;
     }},
    {"firm",
     [](const Parser& p, const Entry& e, const std::string& path, UserConfig& c) {
       c.firm = p.read_text(e, path, "a firm name");  // checked against the firms by read_users
     }},
    {"cancel_on_disconnect",
     [](const Parser& p, const Entry& e, const std::string& path, UserConfig& c) {
       c.cancel_on_disconnect = p.read_choice(e, path, kBools);
     }},
    {"throttle_per_second",
     [](const Parser& p, const Entry& e, const std::string& path, UserConfig& c) {
       c.throttle_per_second = static_cast<std::uint32_t>(p.read_number(e, path, kCountOrNone));
     }},
}};
const std::array<std::string_view, 4> Parser::kUserKeys = keys_of(kUserFields);

void Parser::read_users(const Entry& section, ServiceConfig& svc) {
  SectionPlace& place = places_["users"];
  place.line = section.line;
  place.list = true;
  place.keys = kUserKeys;
  if (!section.value.IsSequence()) {
    fail(section.line, "users", "must be a list of users, got " + describe(section.value));
  }
  std::size_t index = 0;
  for (auto it = section.value.begin(); it != section.value.end(); ++it, ++index) {
    const YAML::Node item = *it;
    const std::string path = "users[" + std::to_string(index) + "]";
    const int line = line_of(item.Mark());
    const std::vector<Entry> fields = read_map(item, line, path, kUserKeys, "a user");
    EntryPlace& ep = place.entries.emplace_back();
    ep.line = line;
    for (const Entry& e : fields) ep.fields.emplace_back(e.key, e.line);

    UserConfig user;
    user.line = line;
    for (const Entry& e : fields) {
      for (const auto& f : kUserFields) {
        if (f.key == e.key) f.read(*this, e, join(path, e.key), user);
      }
    }
    if (find_entry(fields, "username") == nullptr) {
      fail(line, join(path, "username"), "is required (1 to 6 letters or digits, such as \"DEMO1\")");
    }
    if (find_entry(fields, "firm") == nullptr) {
      fail(line, join(path, "firm"), "is required (the name of one of the firms)");
    }
    const bool known_firm = std::any_of(svc.engine.firms.begin(), svc.engine.firms.end(),
                                        [&](const FirmConfig& f) { return f.name.view() == user.firm; });
    if (!known_firm) {
      std::vector<std::string_view> names;
      for (const FirmConfig& f : svc.engine.firms) names.push_back(f.name.view());
      fail(ep.field_line("firm"), join(path, "firm"),
           "no firm named " + in_quotes(user.firm) + " in firms (" + list_words(names) + ")");
    }
    for (std::size_t j = 0; j < svc.users.size(); ++j) {
      if (svc.users[j].username == user.username) {
        fail(ep.field_line("username"), join(path, "username"),
             "duplicate username " + in_quotes(user.username) + ", already used by users[" + std::to_string(j) +
                 "] at line " + std::to_string(place.entries[j].field_line("username")));
      }
    }
    svc.users.push_back(user);
  }
}

void Parser::read_credentials_file(const Entry& section, ServiceConfig& svc) {
  places_["credentials_file"].line = section.line;
  svc.credentials_file = read_path(section, "credentials_file");
}

const std::array<Parser::Field<GatewayConfig>, 9> Parser::kGatewayFields{{
    {"ouch_listen",
     [](const Parser& p, const Entry& e, const std::string& path, GatewayConfig& c) {
       p.read_listen(e, path, true, c.ouch_listen);
     }},
    {"itch_listen",
     [](const Parser& p, const Entry& e, const std::string& path, GatewayConfig& c) {
       p.read_listen(e, path, true, c.itch_listen);
     }},
    {"mold_destination",
     [](const Parser& p, const Entry& e, const std::string& path, GatewayConfig& c) {
       p.read_listen(e, path, false, c.mold_destination);
     }},
    {"http_listen",
     [](const Parser& p, const Entry& e, const std::string& path, GatewayConfig& c) {
       p.read_listen(e, path, true, c.http_listen);
     }},
    {"session_name",
     [](const Parser& p, const Entry& e, const std::string& path, GatewayConfig& c) {
       const std::string s = p.read_text(e, path, "1 to 10 letters or digits");
       if (s.empty() || s.size() > 10 || !is_alnum(s)) {
         p.fail(e.line, path, "must be 1 to 10 letters or digits (SoupBinTCP Session), got " + in_quotes(s));
       }
       c.session_name = s;
     }},
    {"heartbeat_interval_ms",
     [](const Parser& p, const Entry& e, const std::string& path, GatewayConfig& c) {
       c.heartbeat_interval_ms = static_cast<std::uint32_t>(p.read_number(e, path, kCount));
     }},
    {"session_timeout_ms",
     [](const Parser& p, const Entry& e, const std::string& path, GatewayConfig& c) {
       c.session_timeout_ms = static_cast<std::uint32_t>(p.read_number(e, path, kCount));
     }},
    {"retention_messages",
     [](const Parser& p, const Entry& e, const std::string& path, GatewayConfig& c) {
       c.retention_messages = static_cast<std::uint32_t>(p.read_number(e, path, kCount));
     }},
    {"max_outbound_queue_bytes",
     [](const Parser& p, const Entry& e, const std::string& path, GatewayConfig& c) {
       c.max_outbound_queue_bytes = p.read_number(e, path, kBytes);
       if (c.max_outbound_queue_bytes < kMinOutboundQueueBytes) {
         p.fail(e.line, path,
                "must be at least " + std::to_string(kMinOutboundQueueBytes) + ", got " + in_quotes(e.value.Scalar()));
       }
     }},
}};
const std::array<std::string_view, 9> Parser::kGatewayKeys = keys_of(kGatewayFields);

void Parser::read_gateway(const Entry& section, ServiceConfig& svc) {
  for (const Entry& e : read_single(section, "gateway", kGatewayKeys)) {
    for (const auto& f : kGatewayFields) {
      if (f.key == e.key) f.read(*this, e, join("gateway", e.key), svc.gateway);
    }
  }
}

const std::array<Parser::Field<CoreConfig>, 2> Parser::kCoreFields{{
    {"cpu",
     [](const Parser& p, const Entry& e, const std::string& path, CoreConfig& c) {
       const Parsed<int> cpu = parse_cpu(p.read_text(e, path, "a CPU number or -1"));
       if (!cpu) p.fail(e.line, path, cpu.error);
       c.cpu = cpu.value;
     }},
    {"idle_strategy",
     [](const Parser& p, const Entry& e, const std::string& path, CoreConfig& c) {
       const Parsed<agent::IdleStrategyKind> idle =
           parse_idle(p.read_text(e, path, "busy-spin, yield, backoff, spin-then-park or park"));
       if (!idle) p.fail(e.line, path, idle.error);
       c.idle_strategy = idle.value;
     }},
}};
const std::array<std::string_view, 2> Parser::kCoreKeys = keys_of(kCoreFields);

void Parser::read_core(const Entry& section, ServiceConfig& svc) {
  for (const Entry& e : read_single(section, "core", kCoreKeys)) {
    for (const auto& f : kCoreFields) {
      if (f.key == e.key) f.read(*this, e, join("core", e.key), svc.core);
    }
  }
}

const std::array<Parser::Field<AdminConfig>, 1> Parser::kAdminFields{{
    {"token_file",
     [](const Parser& p, const Entry& e, const std::string& path, AdminConfig& c) {
       c.token_file = p.read_path(e, path);
     }},
}};
const std::array<std::string_view, 1> Parser::kAdminKeys = keys_of(kAdminFields);

void Parser::read_admin(const Entry& section, ServiceConfig& svc) {
  for (const Entry& e : read_single(section, "admin", kAdminKeys)) {
    for (const auto& f : kAdminFields) {
      if (f.key == e.key) f.read(*this, e, join("admin", e.key), svc.admin);
    }
  }
}

constexpr NumberSpec kSpinMicros{0, kMaxSpinMicros, nullptr, "a number of microseconds (0 to 1000000)",
                                 "must be a whole number of microseconds"};

const std::array<Parser::Field<TuningConfig>, 7> Parser::kTuningFields{{
    {"low_latency_mode",
     [](const Parser& p, const Entry& e, const std::string& path, TuningConfig& c) {
       c.low_latency_mode = p.read_choice(e, path, kBools);
     }},
    {"cpu_affinity",
     [](const Parser& p, const Entry& e, const std::string& path, TuningConfig& c) {
       c.cpu_affinity = p.read_choice(e, path, kBools);
     }},
    {"network_optimization",
     [](const Parser& p, const Entry& e, const std::string& path, TuningConfig& c) {
       c.network_optimization = p.read_choice(e, path, kBools);
     }},
    {"cache_enabled",
     [](const Parser& p, const Entry& e, const std::string& path, TuningConfig& c) {
       c.cache_enabled = p.read_choice(e, path, kBools);
     }},
    {"io_wait",
     [](const Parser& p, const Entry& e, const std::string& path, TuningConfig& c) {
       const Parsed<agent::IdleStrategyKind> wait = parse_wait(p.read_text(e, path, "spin, spin-then-park or park"));
       if (!wait) p.fail(e.line, path, wait.error);
       c.io_wait = wait.value;
     }},
    {"journal_wait",
     [](const Parser& p, const Entry& e, const std::string& path, TuningConfig& c) {
       const Parsed<agent::IdleStrategyKind> wait = parse_wait(p.read_text(e, path, "spin, spin-then-park or park"));
       if (!wait) p.fail(e.line, path, wait.error);
       c.journal_wait = wait.value;
     }},
    {"spin_us",
     [](const Parser& p, const Entry& e, const std::string& path, TuningConfig& c) {
       c.spin_us = static_cast<std::uint32_t>(p.read_number(e, path, kSpinMicros));
     }},
}};
const std::array<std::string_view, 7> Parser::kTuningKeys = keys_of(kTuningFields);

void Parser::read_tuning(const Entry& section, ServiceConfig& svc) {
  for (const Entry& e : read_single(section, "tuning", kTuningKeys)) {
    for (const auto& f : kTuningFields) {
      if (f.key == e.key) f.read(*this, e, join("tuning", e.key), svc.tuning);
    }
  }
}

}  // namespace peregrine::config::detail
