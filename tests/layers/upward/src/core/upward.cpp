// Fixture for layers.checker_finds_an_upward_include: the core (layer 1) including ops (layer 7).
#include "peregrine/ops/metrics.hpp"
