#include "peregrine/bench/report_json.hpp"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <iterator>

namespace peregrine::bench {

boost::json::value json_number(double v) {
  if (!std::isfinite(v)) return nullptr;
  return v;
}

boost::json::value json_rounded(double v) {
  if (!std::isfinite(v)) return nullptr;
  return std::llround(v);
}

boost::json::object histogram_json(const LatencyHistogram& h) {
  boost::json::object o;
  o["count"] = h.count();
  o["min"] = h.min();
  for (std::size_t i = 0; i < std::size(kReportPercentiles); ++i) o[kReportPercentileNames[i]] = h.percentile(kReportPercentiles[i]);
  o["max"] = h.max();
  o["mean"] = json_number(h.mean());
  return o;
}

bool save_json(const std::string& path, const boost::json::value& doc) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return false;
  const std::string text = boost::json::serialize(doc) + "\n";
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  const int saved = errno;
  if (std::fclose(f) != 0) return false;
  if (!ok) errno = saved;
  return ok;
}

}  // namespace peregrine::bench
