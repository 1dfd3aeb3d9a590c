#pragma once
// GET /admin/depth answers, parsed (Boost.JSON) into values the tests compare field by field,
// rather than searched for substrings that a reordering or an extra field would fool.

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace peregrine::testing {

/// One price level: price in 1/10000 CNY (the wire's four implied decimals), open shares, orders.
struct DepthLevel {
  std::uint64_t price = 0;
  std::uint64_t qty = 0;
  std::uint64_t orders = 0;
  friend bool operator==(const DepthLevel&, const DepthLevel&) = default;
};

/// The indicative of a call auction, as /admin/depth shows it.
struct DepthIndicative {
  std::uint64_t price = 0;
  std::uint64_t paired = 0;
  std::uint64_t imbalance = 0;
  std::string imbalance_side;  ///< buy, sell, balanced or none
  friend bool operator==(const DepthIndicative&, const DepthIndicative&) = default;
};

/// One instrument's depth answer.
struct Depth {
  std::string symbol;
  std::string status;  ///< the trading phase's name, e.g. trading, halted, resume_call
  std::vector<DepthLevel> bids;
  std::vector<DepthLevel> asks;
  std::optional<DepthIndicative> indicative;
};

/// Parses a /admin/depth body. nullopt, with `error` saying why, when it is not JSON or a field
/// is missing or of the wrong type. Unknown fields are allowed.
[[nodiscard]] std::optional<Depth> parse_depth(std::string_view body, std::string* error = nullptr);

std::ostream& operator<<(std::ostream& os, const DepthLevel& l);
std::ostream& operator<<(std::ostream& os, const DepthIndicative& i);

}  // namespace peregrine::testing
