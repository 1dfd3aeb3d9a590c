#pragma once
/// The drop copy's series on /metrics (docs/dropcopy.md, "Metrics"), read at scrape time with
/// relaxed loads on the metrics thread.

#include <memory>

#include "peregrine/dropcopy/publisher.hpp"
#include "peregrine/ops/metrics.hpp"

namespace peregrine::dropcopy {

/// The collector of `p`'s series; `p` outlives it (the server removes nothing: both live as long
/// as the process's ops server).
[[nodiscard]] std::shared_ptr<ops::CallbackMetrics> make_collector(const Publisher& p);

}  // namespace peregrine::dropcopy
