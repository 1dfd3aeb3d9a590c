// Boost.JSON is used header-only: its implementation is compiled here, once, as the library
// peregrine_boost_json, which every binary that uses Boost.JSON links (ops for the admin API, ha for
// the Lease client, the tests through tests/support/, the benchmarks for their JSON results). No
// other translation unit may include <boost/json/src.hpp>.
#include <boost/json/src.hpp>
