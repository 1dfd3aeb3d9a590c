#pragma once
// The fuzzers' check: abort (libFuzzer then saves the input) when `cond` does not hold, in every
// build (an assert would vanish under NDEBUG).

#include <cstdlib>

#define FUZZ_CHECK(cond)         \
  do {                           \
    if (!(cond)) std::abort();   \
  } while (0)
