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

void Json::key(std::string_view k) {
  if (!first_.back()) out_ += ',';
  first_.back() = false;
  if (!k.empty()) {
    escape(k);
    out_ += ':';
  }
}

void Json::escape(std::string_view s) {
  out_ += '"';
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out_ += '\\';
      out_ += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
      out_ += buf;
    } else {
      out_ += c;
    }
  }
  out_ += '"';
}

Json& Json::begin_object(std::string_view k) {
  key(k);
  out_ += '{';
  first_.push_back(true);
  return *this;
}
Json& Json::end_object() {
  first_.pop_back();
  out_ += '}';
  return *this;
}
Json& Json::begin_array(std::string_view k) {
  key(k);
  out_ += '[';
  first_.push_back(true);
  return *this;
}
Json& Json::end_array() {
  first_.pop_back();
  out_ += ']';
  return *this;
}
Json& Json::num(std::string_view k, double v) {
  key(k);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  out_ += buf;
  return *this;
}
Json& Json::num(std::string_view k, std::uint64_t v) {
  key(k);
  out_ += std::to_string(v);
  return *this;
}
Json& Json::num(std::string_view k, std::int64_t v) {
  key(k);
  out_ += std::to_string(v);
  return *this;
}
Json& Json::str(std::string_view k, std::string_view v) {
  key(k);
  escape(v);
  return *this;
}
Json& Json::boolean(std::string_view k, bool v) {
  key(k);
  out_ += v ? "true" : "false";
  return *this;
}
Json& Json::histogram(std::string_view k, const LatencyHistogram& h) {
  begin_object(k);
  num("count", h.count());
  num("min", h.min());
  for (std::size_t i = 0; i < std::size(kReportPercentiles); ++i) num(kReportPercentileNames[i], h.percentile(kReportPercentiles[i]));
  num("max", h.max());
  num("mean", h.mean());
  return end_object();
}
bool Json::save(const std::string& path) const {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return false;
  const bool ok = std::fwrite(out_.data(), 1, out_.size(), f) == out_.size() && std::fputc('\n', f) != EOF;
  return std::fclose(f) == 0 && ok;
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
