#pragma once
// The service's state beyond the engine, built from the configuration the way the live service
// builds it: the user directory (owner ids) and egress's configuration. The snapshot replica and
// recovery must build them alike, or an Egress snapshot does not load into the live service.

#include <cstdint>

#include "peregrine/config/service.hpp"
#include "peregrine/egress/egress.hpp"
#include "peregrine/sessions/soup_session.hpp"

namespace peregrine::replay {

/// The account of configured user `u` with owner id `owner`: its credential's password, its
/// firm's id (the firm's index in cfg.engine.firms) and name, its cancel-on-disconnect and
/// throttle. Throws std::runtime_error when the user has no credential or names an unknown firm.
[[nodiscard]] sessions::UserAccount user_account(const config::ServiceConfig& cfg, const config::UserConfig& u,
                                                 std::uint32_t owner);

/// Adds every configured user to `users` (user_account), owner ids 1, 2, ... in configuration
/// order: the numbering the journal's commands carry.
void add_users(const config::ServiceConfig& cfg, sessions::UserDirectory& users);

/// The egress configuration the service runs with (the MoldUDP64 session is the gateway's
/// session name).
[[nodiscard]] egress::EgressConfig egress_config(const config::ServiceConfig& cfg);

}  // namespace peregrine::replay
