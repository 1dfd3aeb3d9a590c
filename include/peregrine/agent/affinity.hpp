#pragma once
/// Thread affinity for the pinned threads (the matching core, the io thread, the DPDK lcore's
/// fallback thread): the one place that calls pthread_setaffinity_np.

#include <string>

namespace peregrine::agent {

/// Pins the calling thread to `cpu`; an empty string on success, else the reason (naming the
/// CPU). `cpu` < 0 means "not pinned" and succeeds without doing anything. The calling thread.
[[nodiscard]] std::string pin_current_thread(int cpu);

}  // namespace peregrine::agent
