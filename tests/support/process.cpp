#include "support/process.hpp"

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>

#include <gtest/gtest.h>

namespace peregrine::testing {

std::string sanitizer_report(const std::string& log) {
  std::size_t at = std::string::npos;
  for (const char* marker : {"WARNING: ThreadSanitizer", "ERROR: ThreadSanitizer", "ERROR: AddressSanitizer",
                             "ERROR: LeakSanitizer"}) {
    at = std::min(at, log.find(marker));
  }
  // UBSan's "FILE:LINE:COL: runtime error: ...", not any line that happens to say "runtime error".
  static const std::regex kUbsan(R"(\S+:\d+:\d+: runtime error: )");
  for (std::size_t p = log.find(": runtime error: "); p != std::string::npos && p < at;
       p = log.find(": runtime error: ", p + 1)) {
    const std::size_t line = log.rfind('\n', p);
    const std::size_t from = line == std::string::npos ? 0 : line + 1;
    std::smatch m;
    const std::string head = log.substr(from, p - from + 17);
    if (std::regex_match(head, m, kUbsan)) {
      at = from;
      break;
    }
  }
  if (at == std::string::npos) return {};
  const std::size_t line = log.rfind('\n', at);
  return log.substr(line == std::string::npos ? 0 : line + 1, 6000);
}

bool Process::spawn(const std::vector<std::string>& args, const std::string& log) {
  (void)stop();  // the earlier process's sanitizer check first
  return child_.spawn(args, support::SpawnOptions{log, {}}).empty();
}

int Process::signal(int sig, std::chrono::milliseconds limit) {
  if (child_.pid() <= 0) return -1;
  const int rc = child_.signal(sig, limit);
  if (const std::string report = sanitizer_report(log()); !report.empty())
    ADD_FAILURE() << "the server's stderr (" << child_.stderr_path() << ") has a sanitizer report:\n" << report;
  return rc;
}

bool Process::pause(std::chrono::milliseconds limit) {
  const pid_t pid = child_.pid();
  if (pid <= 0 || ::kill(pid, SIGSTOP) != 0) return false;
  const std::filesystem::path tasks = "/proc/" + std::to_string(pid) + "/task";
  const auto until = std::chrono::steady_clock::now() + limit;
  for (;;) {
    // Field 3 of each thread's stat, after the ")" that ends its name: 'T' stopped, 't' traced.
    bool all = true;
    std::error_code ec;
    for (const auto& task : std::filesystem::directory_iterator(tasks, ec)) {
      std::ifstream f(task.path() / "stat");
      const std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
      const std::size_t close = stat.rfind(')');
      if (close == std::string::npos || close + 2 >= stat.size()) continue;  // the thread has gone
      const char state = stat[close + 2];
      if (state != 'T' && state != 't') all = false;
    }
    if (ec) return false;
    if (all) return true;
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  }
}

bool Process::resume() { return child_.pid() > 0 && ::kill(child_.pid(), SIGCONT) == 0; }

std::string Process::log() const {
  std::ifstream f(child_.stderr_path());
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace peregrine::testing
