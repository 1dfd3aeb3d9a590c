#include "peregrine/ops/logging.hpp"

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <vector>

#include <spdlog/async.h>
#include <spdlog/async_logger.h>
#include <spdlog/sinks/sink.h>
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

/// A sink that writes nothing and counts the flushes spdlog's worker hands it. The worker (one
/// thread) takes queued items one at a time, in order, and finishes each before the next: when it
/// flushes this sink for a request, every line queued before that request has been written.
class BarrierSink final : public spdlog::sinks::sink {
 public:
  void log(const spdlog::details::log_msg& /*msg*/) override {}
  void flush() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++flushed_;
    }
    flushed_cv_.notify_all();
  }
  void set_pattern(const std::string& /*pattern*/) override {}
  void set_formatter(std::unique_ptr<spdlog::formatter> /*formatter*/) override {}

  /// Waits until `n` flushes have reached this sink, or `deadline`; true if they have.
  bool wait(std::uint64_t n, std::chrono::steady_clock::time_point deadline) {
    std::unique_lock<std::mutex> lock(mutex_);
    return flushed_cv_.wait_until(lock, deadline, [&] { return flushed_ >= n; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable flushed_cv_;
  std::uint64_t flushed_ = 0;
};

/// Every logger make_logger built, kept until stop_logging has joined spdlog's worker. The worker
/// drops its references to a logger inside libspdlog.so, which ThreadSanitizer cannot see; were
/// the last reference dropped by another thread while the worker had just written with it, TSan
/// would report a race (and nothing would order the two). After the join nothing can race.
/// Built before spdlog's registry (make_logger touches it first), so at exit without stop_logging
/// it is destroyed after the registry has joined the worker. Also the barrier flush_logs uses.
struct KeptLoggers {
  std::mutex mutex;
  std::vector<std::shared_ptr<spdlog::logger>> loggers;
  std::shared_ptr<BarrierSink> barrier_sink;
  std::shared_ptr<spdlog::logger> barrier;  // an async logger on the same worker, with barrier_sink
  std::uint64_t barrier_requests = 0;       // flushes asked of `barrier`, in the order queued
};

KeptLoggers& kept_loggers() {
  static KeptLoggers kept;
  return kept;
}

}  // namespace

/// spdlog's process-wide thread pool (one worker), as make_logger left it in the registry.
static std::shared_ptr<spdlog::details::thread_pool> logger_pool() {
  auto& registry = spdlog::details::registry::instance();
  std::lock_guard<std::recursive_mutex> lock(registry.tp_mutex());
  return registry.get_tp();
}

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
    if (kept.barrier == nullptr) {
      kept.barrier_sink = std::make_shared<BarrierSink>();
      // block, not overrun: a barrier request must never be the line that is dropped.
      kept.barrier = std::make_shared<spdlog::async_logger>("barrier", kept.barrier_sink, logger_pool(),
                                                            spdlog::async_overflow_policy::block);
    }
  }
  return logger;
}

bool flush_logs(std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  KeptLoggers& kept = kept_loggers();
  std::shared_ptr<BarrierSink> sink;
  std::uint64_t request = 0;
  {
    // Under the lock, so that requests are queued in the order of their numbers.
    std::lock_guard<std::mutex> lock(kept.mutex);
    if (kept.barrier == nullptr) return true;  // no logger was ever made
    request = ++kept.barrier_requests;
    kept.barrier->flush();  // queued behind every line queued so far
    sink = kept.barrier_sink;
  }
  return sink->wait(request, deadline);
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
