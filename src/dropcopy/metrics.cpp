#include "peregrine/dropcopy/metrics.hpp"

namespace peregrine::dropcopy {

std::shared_ptr<ops::CallbackMetrics> make_collector(const Publisher& p) {
  auto m = std::make_shared<ops::CallbackMetrics>();
  const PublisherStats& s = p.stats();
  const auto cell = [](const std::atomic<std::uint64_t>& c) {
    return [&c] { return static_cast<double>(c.load(std::memory_order_relaxed)); };
  };
  m->add_counter("peregrine_dropcopy_published_total", "Drop-copy messages published to the broker, re-sends included.", {},
                 cell(s.published));
  m->add_counter("peregrine_dropcopy_confirmed_total", "Drop-copy events the broker confirmed, in order (checkpoint moves).", {},
                 cell(s.confirmed));
  m->add_gauge("peregrine_dropcopy_confirmed_seq", "The checkpoint: the last drop-copy seq confirmed with every one before it.",
               {}, cell(s.confirmed_seq));
  m->add_gauge("peregrine_dropcopy_produced_seq", "The last drop-copy seq the publisher's replica has numbered.", {},
               cell(s.produced_seq));
  m->add_counter("peregrine_dropcopy_returned_total", "Drop-copy messages the broker returned as unroutable (no queue bound).",
                 {}, cell(s.returned));
  m->add_counter("peregrine_dropcopy_nacked_total", "Drop-copy messages the broker refused (basic.nack).", {}, cell(s.nacked));
  m->add_counter("peregrine_dropcopy_rewinds_total", "Times everything after the checkpoint was sent again.", {}, cell(s.rewinds));
  m->add_gauge("peregrine_dropcopy_connected", "1 while the drop copy is connected to the broker.", {}, cell(s.connected));
  m->add_counter("peregrine_dropcopy_connects_total", "Drop-copy connections established.", {}, cell(s.connects));
  m->add_counter("peregrine_dropcopy_reconnects_total", "Drop-copy connections established after a lost or failed one.", {},
                 cell(s.reconnects));
  m->add_counter("peregrine_dropcopy_connect_failures_total",
                 "Drop-copy connection attempts that failed (unreachable, refused, login refused).", {}, cell(s.connect_failures));
  m->add_gauge("peregrine_dropcopy_lag_events", "Drop-copy events numbered and not yet confirmed.", {}, [&s] {
    const std::uint64_t a = s.produced_seq.load(std::memory_order_relaxed);
    const std::uint64_t b = s.confirmed_seq.load(std::memory_order_relaxed);
    return a > b ? static_cast<double>(a - b) : 0.0;
  });
  m->add_gauge("peregrine_dropcopy_lag_seconds", "Age of the oldest drop-copy event numbered and not yet confirmed (0 when none).",
               {}, [&p] { return p.lag_seconds(); });
  m->add_gauge("peregrine_dropcopy_lag_records", "Durable journal records the drop-copy replica has not read yet.", {},
               [&p] { return static_cast<double>(p.lag_records()); });
  m->add_gauge("peregrine_dropcopy_failed", "1 when the drop copy stopped for good (journal unreadable, checkpoint mismatch).",
               {}, cell(s.failed));
  return m;
}

}  // namespace peregrine::dropcopy
