#include "peregrine/replay/service_state.hpp"

#include <stdexcept>
#include <string>

namespace peregrine::replay {

sessions::UserAccount user_account(const config::ServiceConfig& cfg, const config::UserConfig& u, std::uint32_t owner) {
  sessions::UserAccount a;
  a.username = Alpha<6>::from(u.username);
  const config::Credential* cred = cfg.credentials.find(u.username);
  if (cred == nullptr) throw std::runtime_error("user " + u.username + " has no credential");
  a.password = Alpha<10>::from(cred->password);
  a.owner = OwnerId{owner};
  bool found = false;
  for (std::size_t i = 0; i < cfg.engine.firms.size(); ++i) {
    if (cfg.engine.firms[i].name.view() == u.firm) {
      a.firm = FirmId{static_cast<std::uint16_t>(i)};
      a.firm_name = cfg.engine.firms[i].name;
      found = true;
    }
  }
  if (!found) throw std::runtime_error("user " + u.username + " names unknown firm " + u.firm);
  a.cancel_on_disconnect = u.cancel_on_disconnect;
  a.throttle_per_second = u.throttle_per_second;
  return a;
}

void add_users(const config::ServiceConfig& cfg, sessions::UserDirectory& users) {
  std::uint32_t owner = 1;
  for (const config::UserConfig& u : cfg.users) users.add(user_account(cfg, u, owner++));
}

egress::EgressConfig egress_config(const config::ServiceConfig& cfg) {
  egress::EgressConfig e;
  e.mold.session = Alpha<10>::from(cfg.gateway.session_name);
  return e;
}

}  // namespace peregrine::replay
