#pragma once
/// Loggers for the ops side of the service (HTTP, admin audit lines). Asynchronous: a call
/// formats the message and queues it; spdlog's shared worker thread writes it. Never log from
/// the core thread, not even through these loggers: the hot path does no logging at all.

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace spdlog {
class logger;
namespace sinks {
class sink;
}  // namespace sinks
}  // namespace spdlog

namespace peregrine::ops {

/// What make_logger builds.
struct LoggerOptions {
  /// The logger's name, shown in each line.
  std::string name = "ops";
  /// Where lines go; empty means standard error (what a container runtime collects).
  std::vector<std::shared_ptr<spdlog::sinks::sink>> sinks;
  /// Lowest level written: trace, debug, info, warn, error, critical or off.
  std::string level = "info";
  /// Queue length of spdlog's shared worker thread, used only if make_logger creates it (the
  /// first async logger in the process does). When the queue is full the oldest line is dropped:
  /// a caller never blocks on logging.
  std::size_t queue_size = 8192;
};

/// Builds an spdlog::async_logger on spdlog's process-wide worker thread (creating the worker if
/// no async logger exists yet). The logger is not put in spdlog's global registry, so names may
/// repeat; it lives at least until stop_logging (which drops it only after joining the worker). Startup only, any thread except the core thread. Throws std::invalid_argument on an
/// unknown level.
[[nodiscard]] std::shared_ptr<spdlog::logger> make_logger(const LoggerOptions& options = {});

/// Returns once every line queued so far by the loggers of make_logger has been written to its
/// sinks (so a `kill -9` that comes later cannot lose it), or after `limit`; true when written.
/// It queues a flush request behind those lines on spdlog's single worker and waits until the
/// worker has handled it: the worker finishes each item before it takes the next. Start-up and
/// shut-down only (it waits); any thread except the core thread.
bool flush_logs(std::chrono::milliseconds limit);

/// Writes out what is queued (waiting up to `limit` for that), then stops spdlog's worker thread
/// and joins it (unbounded: a stderr that never drains holds the exit, as spdlog's own clean-up
/// would), then lets go of the loggers make_logger built: so that no logger is destroyed while
/// the worker may still be using it, and nothing of spdlog runs during static destruction. Call
/// once, at the end of main, after every thread that logs has stopped; a logger still used
/// afterwards reports an error instead of writing.
void stop_logging(std::chrono::milliseconds limit);

}  // namespace peregrine::ops
