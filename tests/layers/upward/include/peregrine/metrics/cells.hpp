#pragma once
// Fixture for layers.checker_finds_an_upward_include: metrics cells (layer 1) pulling in prometheus.
#include <prometheus/counter.h>
