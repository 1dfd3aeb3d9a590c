#include "util.hpp"

#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace peregrine::bench {

bool parse_cpu_list(std::string_view text, std::vector<int>& out) {
  out.clear();
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    const std::size_t dash = item.find('-');
    int lo = 0;
    int hi = 0;
    const std::string_view a = item.substr(0, dash);
    const std::string_view b = dash == std::string_view::npos ? a : item.substr(dash + 1);
    if (a.empty() || b.empty()) return false;
    if (std::from_chars(a.data(), a.data() + a.size(), lo).ptr != a.data() + a.size()) return false;
    if (std::from_chars(b.data(), b.data() + b.size(), hi).ptr != b.data() + b.size()) return false;
    if (lo < 0 || hi < lo || hi >= CPU_SETSIZE) return false;
    for (int c = lo; c <= hi; ++c) out.push_back(c);
  }
  return !out.empty();
}

std::string pin_to(const std::vector<int>& cpus, int pid) {
  if (cpus.empty()) return {};
  cpu_set_t set;
  CPU_ZERO(&set);
  for (const int c : cpus) CPU_SET(c, &set);
  if (::sched_setaffinity(pid, sizeof set, &set) != 0) return std::string("sched_setaffinity: ") + std::strerror(errno);
  return {};
}

void tighten_timer_slack() noexcept { (void)::prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL); }

void print_histogram_header(std::FILE* f) {
  std::fprintf(f, "%-18s %10s", "latency (us)", "count");
  for (const char* n : kReportPercentileNames) std::fprintf(f, " %9s", n);
  std::fprintf(f, " %9s %9s\n", "max", "mean");
}

void print_histogram_row(std::FILE* f, const char* name, const LatencyHistogram& h) {
  std::fprintf(f, "%-18s %10llu", name, static_cast<unsigned long long>(h.count()));
  for (const double p : kReportPercentiles) std::fprintf(f, " %9.2f", static_cast<double>(h.percentile(p)) / 1e3);
  std::fprintf(f, " %9.2f %9.2f\n", static_cast<double>(h.max()) / 1e3, h.mean() / 1e3);
}

std::string join_argv(int argc, char** argv) {
  std::string s;
  for (int i = 0; i < argc; ++i) {
    if (i > 0) s += ' ';
    const std::string_view a = argv[i];
    const bool plain = !a.empty() && a.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%") == std::string_view::npos;
    if (plain) {
      s += a;
    } else {
      s += '\'';
      for (const char c : a) {
        if (c == '\'') s += "'\\''";
        else s += c;
      }
      s += '\'';
    }
  }
  return s;
}

}  // namespace peregrine::bench
