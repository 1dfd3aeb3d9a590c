#include "peregrine/ops/logging.hpp"

#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include <spdlog/async.h>
#include <spdlog/async_logger.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace peregrine::ops {

namespace {

spdlog::level::level_enum parse_level(const std::string& name) {
  static constexpr std::pair<const char*, spdlog::level::level_enum> kLevels[] = {
      {"trace", spdlog::level::trace}, {"debug", spdlog::level::debug}, {"info", spdlog::level::info},
      {"warn", spdlog::level::warn},   {"error", spdlog::level::err},   {"critical", spdlog::level::critical},
      {"off", spdlog::level::off},
  };
  for (const auto& [n, l] : kLevels) {
    if (name == n) return l;
  }
  throw std::invalid_argument("log level '" + name + "': expected trace, debug, info, warn, error, critical or off");
}

/// Every logger make_logger built, kept until stop_logging has joined spdlog's worker. The worker
/// drops its references to a logger inside libspdlog.so, which ThreadSanitizer cannot see; were
/// the last reference dropped by another thread while the worker had just written with it, TSan
/// would report a race (and nothing would order the two). After the join nothing can race.
/// Built before spdlog's registry (make_logger touches it first), so at exit without stop_logging
/// it is destroyed after the registry has joined the worker.
struct KeptLoggers {
  std::mutex mutex;
  std::vector<std::shared_ptr<spdlog::logger>> loggers;
};

KeptLoggers& kept_loggers() {
  static KeptLoggers kept;
  return kept;
}

}  // namespace

std::shared_ptr<spdlog::logger> make_logger(const LoggerOptions& options) {
  KeptLoggers& kept = kept_loggers();
  const spdlog::level::level_enum level = parse_level(options.level);
  std::vector<spdlog::sink_ptr> sinks = options.sinks;
  if (sinks.empty()) {
    sinks.push_back(std::make_shared<spdlog::sinks::stderr_sink_mt>());
  }
  std::shared_ptr<spdlog::details::thread_pool> pool;
  {
    // The same lock and pool spdlog's own async factory uses, so loggers made here and by
    // spdlog::create_async share one worker.
    auto& registry = spdlog::details::registry::instance();
    std::lock_guard<std::recursive_mutex> lock(registry.tp_mutex());
    pool = registry.get_tp();
    if (pool == nullptr) {
      pool = std::make_shared<spdlog::details::thread_pool>(options.queue_size == 0 ? 1 : options.queue_size, 1U);
      registry.set_tp(pool);
    }
  }
  auto logger = std::make_shared<spdlog::async_logger>(options.name, sinks.begin(), sinks.end(), std::move(pool),
                                                       spdlog::async_overflow_policy::overrun_oldest);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %l [%n] %v");
  logger->set_level(level);
  logger->flush_on(spdlog::level::warn);
  {
    std::lock_guard<std::mutex> lock(kept.mutex);
    kept.loggers.push_back(logger);
  }
  return logger;
}

bool flush_logs(std::chrono::milliseconds limit) {
  std::shared_ptr<spdlog::details::thread_pool> pool;
  {
    auto& registry = spdlog::details::registry::instance();
    std::lock_guard<std::recursive_mutex> lock(registry.tp_mutex());
    pool = registry.get_tp();
  }
  if (pool == nullptr) return true;  // no async logger was ever made
  // No hook tells when the worker has written a line, so this polls the queue's length: 100 µs
  // steps, at start-up and shut-down only.
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (pool->queue_size() != 0) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::microseconds{100});
  }
  return true;
}

void stop_logging(std::chrono::milliseconds limit) {
  (void)flush_logs(limit);
  // Drops the registry's loggers and its thread pool: the pool's destructor writes what is still
  // queued, ends the worker and joins it, here and now. Only then go the loggers' last references.
  spdlog::shutdown();
  std::vector<std::shared_ptr<spdlog::logger>> loggers;
  {
    KeptLoggers& kept = kept_loggers();
    std::lock_guard<std::mutex> lock(kept.mutex);
    loggers.swap(kept.loggers);
  }
}

}  // namespace peregrine::ops
