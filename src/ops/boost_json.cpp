// Boost.JSON is used header-only: its implementation is compiled here, once for every binary that
// links peregrine_ops (the server, and the tests through tests/support/). No other translation
// unit may include <boost/json/src.hpp>.
#include <boost/json/src.hpp>
