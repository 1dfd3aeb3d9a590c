#include "depth_json.hpp"

#include <cmath>
#include <stdexcept>

#include <boost/json.hpp>

namespace peregrine::testing {

namespace {

namespace json = boost::json;

const json::value& field(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr) throw std::runtime_error("no field '" + std::string(name) + "'");
  return *v;
}

std::uint64_t count(const json::object& o, std::string_view name) {
  const json::value& v = field(o, name);
  if (v.is_uint64()) return v.get_uint64();
  if (v.is_int64() && v.get_int64() >= 0) return static_cast<std::uint64_t>(v.get_int64());
  throw std::runtime_error("field '" + std::string(name) + "' is not a whole number");
}

/// A price written with four decimals (52.1000) in 1/10000: Boost.JSON reads it as a double,
/// which holds every price of this size exactly enough to round back.
std::uint64_t price(const json::object& o, std::string_view name) {
  const json::value& v = field(o, name);
  if (v.is_double() && v.get_double() >= 0) return static_cast<std::uint64_t>(std::llround(v.get_double() * 10000));
  return count(o, name) * 10000;
}

std::string text(const json::object& o, std::string_view name) {
  const json::value& v = field(o, name);
  if (!v.is_string()) throw std::runtime_error("field '" + std::string(name) + "' is not a string");
  return std::string(v.get_string());
}

std::vector<DepthLevel> levels(const json::object& o, std::string_view name) {
  const json::value& v = field(o, name);
  if (!v.is_array()) throw std::runtime_error("field '" + std::string(name) + "' is not an array");
  std::vector<DepthLevel> out;
  for (const json::value& l : v.get_array()) {
    if (!l.is_object()) throw std::runtime_error("a level of '" + std::string(name) + "' is not an object");
    const json::object& lo = l.get_object();
    out.push_back({price(lo, "price"), count(lo, "qty"), count(lo, "orders")});
  }
  return out;
}

}  // namespace

std::optional<Depth> parse_depth(std::string_view body, std::string* error) {
  try {
    const json::value v = json::parse(body);
    if (!v.is_object()) throw std::runtime_error("not a JSON object");
    const json::object& o = v.get_object();
    Depth d;
    d.symbol = text(o, "symbol");
    d.status = text(o, "status");
    d.bids = levels(o, "bids");
    d.asks = levels(o, "asks");
    if (const json::value* i = o.if_contains("indicative")) {
      if (!i->is_object()) throw std::runtime_error("field 'indicative' is not an object");
      const json::object& io = i->get_object();
      d.indicative = DepthIndicative{price(io, "price"), count(io, "paired"), count(io, "imbalance"),
                                     text(io, "imbalance_side")};
    }
    return d;
  } catch (const std::exception& e) {
    if (error != nullptr) *error = std::string(e.what()) + " in: " + std::string(body);
    return std::nullopt;
  }
}

std::ostream& operator<<(std::ostream& os, const DepthLevel& l) {
  return os << "{price " << l.price << ", qty " << l.qty << ", orders " << l.orders << "}";
}

std::ostream& operator<<(std::ostream& os, const DepthIndicative& i) {
  return os << "{price " << i.price << ", paired " << i.paired << ", imbalance " << i.imbalance << " "
            << i.imbalance_side << "}";
}

}  // namespace peregrine::testing
