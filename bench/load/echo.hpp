#pragma once
// peregrine-bench echo: the yardstick the end-to-end rows are set against (issue #13). A minimal
// single-threaded epoll server that speaks SoupBinTCP and OUCH 4.2 like `peregrine` on the wire
// and answers at once, with no book, no journal and no ring: every Enter Order with an Accepted,
// every Cancel Order with a Canceled, every Replace Order with a Replaced, each of its full size
// with the request's fields. What the load harness measures against it is the cost of the wire,
// the kernel and the harness itself on this machine at that rate.

#include <string>
#include <vector>

namespace peregrine::bench {

struct EchoOptions {
  std::string listen = "127.0.0.1:0";  ///< HOST:PORT of the OUCH listener (port 0: ephemeral)
  std::vector<int> cpus;               ///< CPUs of the one thread
  bool spin = false;                   ///< busy-poll epoll instead of blocking in it
};

/// Listens, prints the ready line ("peregrine-bench echo: ready: OUCH HOST:PORT") on stdout and
/// serves until SIGTERM or SIGINT. Any username and password log in. Returns the exit code (0
/// after a signal; 2 when it cannot listen).
int run_echo(const EchoOptions& opt);

}  // namespace peregrine::bench
