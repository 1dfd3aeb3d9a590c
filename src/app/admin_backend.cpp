// The admin API's backend (ops::AdminBackend, called on the ops thread): depth, trading status,
// kill switch, mass cancel, snapshots; and the schedule's commands, which go the same way (the
// admin ring). The core reads no clock, so a replay of the command stream is exact.

#include "server_impl.hpp"

#include <fmt/format.h>

namespace peregrine::app {

// ---- AdminBackend (ops thread) ----
ops::AdminResult Server::depth(const Symbol& symbol, std::size_t levels, ops::DepthSnapshot& out) {
  const InstrumentId id = engine_.find_instrument(symbol);
  if (id.value() == 0) return {ops::AdminStatus::UnknownSymbol, "unknown symbol"};
  if (!egress_->follow_depth())
    return {ops::AdminStatus::Unavailable,
            "the depth books fell a whole ITCH retention behind and were dropped; they return at the next start"};
  out.status = static_cast<TradingStatus>(statuses_[id.value()].load(std::memory_order_relaxed));
  // Both sides and the indicative as of one point of the ITCH stream.
  const egress::DepthFollower& books = egress_->depth_books();
  out.bids = books.depth(id, Side::Buy, levels);
  out.asks = books.depth(id, Side::Sell, levels);
  out.indicative = books.indicative(id);
  return {};
}

// The HTTP thread's timer: the depth books follow the ITCH buffer (issue 13 §4), so that it need
// not hold messages for them. They are dropped only if this thread stalls for longer than the
// buffer's retention lasts (EgressConfig::depth_lag_limit); /admin/depth then answers 503.
void Server::depth_tick() {
  if (egress_->follow_depth() || depth_drop_logged_) return;
  depth_drop_logged_ = true;
  log_->error("admin depth: the depth books fell a whole ITCH retention behind (the HTTP thread stalled) and were "
              "dropped; /admin/depth answers 503 until the next start");
}

// Resume: through a resumption call when configured (the core decides: only when the market is
// in continuous trading; otherwise the instrument joins the market's phase). The call ends
// resume_call_seconds later with a second Resume, which the io thread's tick sends.
// The core refuses a Resume of an instrument that is not halted, suspended or in a resumption
// call (InvalidTransition); that is checked here, on the status last published, so that the
// operator gets the verdict instead of a 202 for nothing. While a halt or phase asked for here
// is still on its way through the core, the published status is stale: the command is queued
// then, and should the core still refuse it, the io thread logs the refusal (observe_status).
ops::AdminResult Server::resume(const Symbol& symbol) {
  const InstrumentId id = engine_.find_instrument(symbol);
  if (id.value() == 0) return {ops::AdminStatus::UnknownSymbol, "unknown symbol"};
  const auto seen = static_cast<TradingStatus>(statuses_[id.value()].load(std::memory_order_relaxed));
  if (!resumable(seen) && awaited_status_[id.value()].load(std::memory_order_acquire) == kNoneAwaited) {
    return {ops::AdminStatus::InvalidTransition,
            fmt::format("{} is {}: only a halted, suspended or resume_call instrument can be resumed",
                        symbol.view(), to_string(seen))};
  }
  const bool via_call = cfg_.market.resume_via_call;
  ops::AdminResult r = admin(make_resume(admin_ts(), id, via_call));
  if (via_call && r.status == ops::AdminStatus::Accepted) {
    const std::lock_guard<std::mutex> lock(admin_mutex_);
    resume_call_ends_.push_back({id, mono_ns() + std::uint64_t{cfg_.market.resume_call_seconds} * 1'000'000'000});
  }
  return r;
}

ops::AdminResult Server::kill(const FirmName& firm, bool cancel_open) {
  const auto f = engine_.find_firm(firm);  // config-only lookup: safe from this thread
  if (!f) return {ops::AdminStatus::UnknownFirm, "unknown firm"};
  return admin(make_kill_switch(admin_ts(), *f, true, cancel_open));
}

ops::AdminResult Server::release(const FirmName& firm) {
  const auto f = engine_.find_firm(firm);
  if (!f) return {ops::AdminStatus::UnknownFirm, "unknown firm"};
  return admin(make_kill_switch(admin_ts(), *f, false, false));
}

ops::AdminResult Server::mass_cancel(const FirmName& firm, const std::optional<Symbol>& symbol) {
  const auto f = engine_.find_firm(firm);
  if (!f) return {ops::AdminStatus::UnknownFirm, "unknown firm"};
  InstrumentId id{0};
  if (symbol) {
    id = engine_.find_instrument(*symbol);
    if (id.value() == 0) return {ops::AdminStatus::UnknownSymbol, "unknown symbol"};
  }
  return admin(make_mass_cancel(admin_ts(), *f, id, OwnerId{0}, CancelReason::Supervisory));
}

ops::AdminResult Server::snapshot() {
  if (!snapshotter_) return {ops::AdminStatus::Unavailable, "no journal: snapshots need journal.dir"};
  snapshotter_->request();
  return {ops::AdminStatus::Accepted, "the snapshot thread writes it once it has caught up with the journal"};
}

ops::AdminResult Server::status(const Symbol& symbol, TradingStatus st) {
  const InstrumentId id = engine_.find_instrument(symbol);
  if (id.value() == 0) return {ops::AdminStatus::UnknownSymbol, "unknown symbol"};
  // A Set always applies and always publishes its status: until that event is seen, the status
  // resume() reads is stale. Marked before the push, so the event cannot overtake the mark.
  std::atomic<int>& awaited = awaited_status_[id.value()];
  const int before = awaited.exchange(static_cast<int>(st), std::memory_order_acq_rel);
  ops::AdminResult r = admin(make_trading_status(admin_ts(), id, st));
  if (r.status != ops::AdminStatus::Accepted) {
    int mine = static_cast<int>(st);
    (void)awaited.compare_exchange_strong(mine, before, std::memory_order_acq_rel);
  }
  return r;
}

// Called from the io thread's tick (and once before ready): sends the schedule's phase when it
// changes, and ends resumption calls that are due. The core reads no clock; these commands go
// through the admin ring like any other, so a replay of the command stream is exact.
void Server::run_schedule(std::uint64_t now) {
  if (cfg_.market.scheduled) {
    const TradingStatus phase = config::phase_at(cfg_.market.schedule, clock_.second_of_day_now());
    if (!scheduled_phase_ || *scheduled_phase_ != phase) {
      if (admin(make_schedule_phase(admin_ts(), InstrumentId{0}, phase)).status == ops::AdminStatus::Accepted) {
        log_->info("schedule: market phase {}", to_string(phase));
        scheduled_phase_ = phase;
      }
    }
  }
  std::vector<InstrumentId> due;
  {
    const std::lock_guard<std::mutex> lock(admin_mutex_);
    std::erase_if(resume_call_ends_, [&](const ResumeCallEnd& r) {
      if (r.at > now) return false;
      due.push_back(r.instrument);
      return true;
    });
  }
  for (const InstrumentId id : due) (void)admin(make_resume(admin_ts(), id, false));
}

ops::AdminResult Server::admin(const Command& cmd) {
  std::lock_guard<std::mutex> lock(admin_mutex_);  // one producer at a time on the admin ring
  if (stopping_.load(std::memory_order_acquire)) return {ops::AdminStatus::Unavailable, "stopping"};
  if (standby()) return {ops::AdminStatus::Unavailable, "a standby: its engine follows the leader's journal (docs/ha.md)"};
  if (admin_ring_->try_push(cmd) != PushResult::Ok) return {ops::AdminStatus::Busy, "admin ring full"};
  core_.parker().wake();
  return {ops::AdminStatus::Accepted, ""};
}

}  // namespace peregrine::app
