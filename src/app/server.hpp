#pragma once
// The service: builds the thread and ring topology from the configuration and runs it until
// SIGTERM/SIGINT. App-internal (main.cpp is its only user).

#include "peregrine/config/service.hpp"

namespace peregrine::app {

/// Start-up choices from the command line.
struct ServerOptions {
  /// --recover-truncate-at-corruption: a corrupt journal is cut at the damage instead of
  /// stopping start-up.
  bool truncate_at_corruption = false;
  /// --startup-trace: print the start-up phases' times (startup_trace.hpp) before the ready line.
  bool startup_trace = false;
};

/// Runs the engine service; returns the process exit code (0 after a clean drain on SIGTERM or
/// SIGINT). Throws on start-up failures (ports in use, bad token file, CPU not available), with
/// a message naming what failed.
/// A journal that cannot be recovered throws journal::JournalError.
int run_server(const config::ServiceConfig& cfg, const config::EffectiveSettings& eff, const ServerOptions& opts = {});

}  // namespace peregrine::app
