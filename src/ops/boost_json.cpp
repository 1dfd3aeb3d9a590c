// Boost.JSON is used header-only: its implementation is compiled here, once, in the library
// peregrine_boost_json (root CMakeLists.txt), which every library using Boost.JSON links (ops,
// ha; the tests through them). No other translation unit may include <boost/json/src.hpp>.
#include <boost/json/src.hpp>
