// Boost.JSON is used header-only: its implementation is compiled here, once for every test
// binary that links peregrine_test_support.
#include <boost/json/src.hpp>
