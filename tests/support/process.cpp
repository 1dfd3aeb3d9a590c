#include "support/process.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

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

std::string Process::log() const {
  std::ifstream f(child_.stderr_path());
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace peregrine::testing
