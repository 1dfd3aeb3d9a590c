#pragma once
// The service: builds the thread and ring topology from the configuration and runs it until
// SIGTERM/SIGINT. App-internal (main.cpp is its only user).

#include "peregrine/config/service.hpp"

namespace peregrine::app {

/// Runs the engine service; returns the process exit code (0 after a clean drain on SIGTERM or
/// SIGINT). Throws on start-up failures (ports in use, bad token file, CPU not available), with
/// a message naming what failed.
int run_server(const config::ServiceConfig& cfg, const config::EffectiveSettings& eff);

}  // namespace peregrine::app
