// Elector: the acquire / renew / step-down loop (semantics in peregrine/ha/elector.hpp).
#include "peregrine/ha/elector.hpp"

#include <algorithm>
#include <stdexcept>

namespace peregrine::ha {

namespace {

std::int64_t to_ns(Elector::Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

}  // namespace

std::string_view to_string(StepDownReason reason) noexcept {
  switch (reason) {
    case StepDownReason::Conflict: return "conflict";
    case StepDownReason::LostHolder: return "lost holder";
    case StepDownReason::Forbidden: return "forbidden";
    case StepDownReason::RenewDeadline: return "renew deadline";
    case StepDownReason::Stopped: return "stopped";
  }
  return "unknown";
}

Elector::Elector(LeaseApi& api, ElectorConfig config, ElectorCallbacks callbacks)
    : api_(api), config_(std::move(config)), callbacks_(std::move(callbacks)) {
  using std::chrono::milliseconds;
  if (config_.lease_name.empty() || config_.identity.empty()) {
    throw std::invalid_argument("elector: the Lease name and the identity must not be empty");
  }
  if (config_.lease_duration < milliseconds(1000) || config_.lease_duration.count() % 1000 != 0) {
    throw std::invalid_argument("elector: lease_duration must be whole seconds, at least 1 s (leaseDurationSeconds)");
  }
  if (config_.renew_deadline >= config_.lease_duration) {
    throw std::invalid_argument("elector: renew_deadline must be less than lease_duration");
  }
  if (config_.retry_period <= milliseconds(0) || config_.retry_period >= config_.renew_deadline) {
    throw std::invalid_argument("elector: retry_period must be positive and less than renew_deadline");
  }
}

Elector::~Elector() { stop(); }

void Elector::start() {
  if (thread_.joinable()) {
    return;
  }
  thread_ = std::thread([this] { run(); });
}

void Elector::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) {
      return;
    }
    stopping_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

void Elector::abandon() {
  {
    std::lock_guard lock(mutex_);
    abandoning_ = true;
  }
  stop();
}

bool Elector::is_leader() const noexcept {
  return leading_.load(std::memory_order_acquire) &&
         to_ns(Clock::now()) < leading_until_ns_.load(std::memory_order_acquire);
}

std::string Elector::holder() const {
  std::lock_guard lock(mutex_);
  return holder_;
}

std::string Elector::last_error() const {
  std::lock_guard lock(mutex_);
  return last_error_;
}

bool Elector::wait_for_leading(bool leading, std::chrono::milliseconds bound) const {
  const auto until = Clock::now() + bound;
  std::unique_lock lock(mutex_);
  // is_leader() also turns false when its deadline passes, which nobody signals: wake often.
  while (is_leader() != leading) {
    const auto now = Clock::now();
    if (now >= until) {
      return false;
    }
    changed_.wait_for(lock, std::min<Clock::duration>(until - now, std::chrono::milliseconds(10)));
  }
  return true;
}

bool Elector::wait_for_calls(std::uint64_t calls, std::chrono::milliseconds bound) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, bound, [&] { return calls_.load(std::memory_order_acquire) >= calls; });
}

void Elector::run() {
  auto next = Clock::now();
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      if (changed_.wait_until(lock, next, [&] { return stopping_; })) {
        break;
      }
    }
    next = Clock::now() + config_.retry_period;
    if (leading_.load(std::memory_order_relaxed)) {
      renew();
      if (config_.single_term && !leading_.load(std::memory_order_relaxed)) {
        break;  // stepped down: this process does not lead again (ElectorConfig::single_term)
      }
    } else {
      try_acquire();
    }
  }
  if (leading_.load(std::memory_order_relaxed)) {
    const bool release = config_.release_on_stop && mine_.has_value();
    LeaseRecord released;
    if (release) {
      released = *mine_;
    }
    step_down(StepDownReason::Stopped);
    if (release) {
      // Nobody holds it now: a candidate takes it at its next try instead of after expiry.
      released.holder_identity.clear();
      released.renew_time = format_micro_time(std::chrono::system_clock::now());
      {
        std::lock_guard lock(mutex_);
        if (abandoning_) released.lease_transitions = epoch_before_;  // the term left nothing
      }
      note_call(api_.update(released));
    }
  }
}

void Elector::note_call(const LeaseResult& result, const std::string& refusal) {
  {
    std::lock_guard lock(mutex_);
    if (result.ok() || result.status == LeaseStatus::NotFound) {
      last_error_ = refusal;
    } else {
      last_error_ = result.message;
      failed_calls_.fetch_add(1, std::memory_order_relaxed);
    }
    calls_.fetch_add(1, std::memory_order_release);
  }
  changed_.notify_all();
}

void Elector::observe(const LeaseRecord& lease) {
  if (lease.resource_version != observed_version_) {
    observed_version_ = lease.resource_version;
    observed_at_ = Clock::now();
  }
  bool changed = false;
  {
    std::lock_guard lock(mutex_);
    if (holder_ != lease.holder_identity) {
      holder_ = lease.holder_identity;
      changed = true;
    }
  }
  if (changed) {
    changed_.notify_all();
    if (callbacks_.on_new_leader) {
      callbacks_.on_new_leader(lease.holder_identity);
    }
  }
}

std::int64_t Elector::next_epoch(const LeaseRecord& previous) const {
  std::int64_t epoch = std::int64_t{previous.lease_transitions} + 1;
  if (config_.min_epoch) epoch = std::max(epoch, config_.min_epoch());
  return epoch;
}

LeaseRecord Elector::acquired_from(const LeaseRecord& previous, std::int64_t epoch) const {
  LeaseRecord l = previous;
  const auto now = format_micro_time(std::chrono::system_clock::now());
  l.name = config_.lease_name;
  l.holder_identity = config_.identity;
  l.lease_duration_seconds = static_cast<std::int32_t>(config_.lease_duration.count() / 1000);
  l.acquire_time = now;
  l.renew_time = now;
  l.lease_transitions = static_cast<std::int32_t>(epoch);  // checked by epoch_refusal()
  return l;
}

std::string Elector::epoch_refusal(std::int64_t epoch) {
  if (epoch <= kMaxLeaseEpoch) return {};
  return "the new epoch " + std::to_string(epoch) + " is above " + std::to_string(kMaxLeaseEpoch) +
         ", the most the Lease's leaseTransitions (an int32) holds: not taken";
}

void Elector::try_acquire() {
  LeaseResult got = api_.get(config_.lease_name);
  // Whether a Lease that could be taken now would be refused by the owner (may_take): known
  // before the call is noted, so that last_error() goes from one reason to the next and never
  // reads "" in between. A Lease held by another, not yet expired, is not refused: it is held.
  std::string refusal;
  bool takeable = false;
  std::int64_t epoch = 0;  // what taking it would write, computed once (min_epoch() may move)
  if (got.ok()) {
    const LeaseRecord& current = *got.lease;
    observe(current);
    const bool free = current.holder_identity.empty() || current.holder_identity == config_.identity;
    // Expiry by our own clock, from when we first saw this version of the record.
    takeable = free || Clock::now() >= observed_at_ + std::chrono::seconds(current.lease_duration_seconds);
    if (takeable && config_.may_take) refusal = config_.may_take(current.lease_transitions);
    if (takeable && refusal.empty()) refusal = epoch_refusal(epoch = next_epoch(current));
  } else if (got.status == LeaseStatus::NotFound && config_.create_if_missing) {
    if (config_.may_take) refusal = config_.may_take(0);
    if (refusal.empty()) refusal = epoch_refusal(epoch = next_epoch(LeaseRecord{}));
  }
  note_call(got, refusal);
  if (got.status == LeaseStatus::NotFound) {
    if (!config_.create_if_missing) {
      std::lock_guard lock(mutex_);
      last_error_ = "Lease " + config_.lease_name + " does not exist and create_if_missing is off";
      return;
    }
    if (!refusal.empty()) return;
    LeaseRecord fresh;
    fresh.name = config_.lease_name;
    const auto created_sent = Clock::now();
    LeaseResult created = api_.create(acquired_from(fresh, epoch));
    note_call(created);
    if (created.ok()) {
      epoch_before_ = 0;
      observe(*created.lease);
      become_leader(*created.lease, created_sent);
    }
    return;
  }
  if (!got.ok() || !takeable || !refusal.empty()) return;
  const auto update_sent = Clock::now();
  LeaseResult written = api_.update(acquired_from(*got.lease, epoch));
  note_call(written);
  if (written.ok()) {
    epoch_before_ = got.lease->lease_transitions;
    observe(*written.lease);
    become_leader(*written.lease, update_sent);
  }
}

void Elector::become_leader(const LeaseRecord& written, Clock::time_point sent) {
  mine_ = written;
  epoch_.store(written.lease_transitions, std::memory_order_release);
  leading_until_ns_.store(to_ns(sent + config_.renew_deadline), std::memory_order_release);
  {
    std::lock_guard lock(mutex_);
    leading_.store(true, std::memory_order_release);
  }
  acquisitions_.fetch_add(1, std::memory_order_relaxed);
  changed_.notify_all();
  if (callbacks_.on_started_leading) {
    callbacks_.on_started_leading(written.lease_transitions);
  }
}

void Elector::renew() {
  LeaseRecord next = *mine_;
  next.renew_time = format_micro_time(std::chrono::system_clock::now());
  const auto sent = Clock::now();
  LeaseResult r = api_.update(next);
  note_call(r);
  if (r.ok()) {
    if (r.lease->holder_identity != config_.identity) {  // cannot happen with a precondition; be sure
      observe(*r.lease);
      step_down(StepDownReason::LostHolder);
      return;
    }
    mine_ = *r.lease;
    observe(*r.lease);
    leading_until_ns_.store(to_ns(sent + config_.renew_deadline), std::memory_order_release);
    return;
  }
  switch (r.status) {
    case LeaseStatus::Conflict:
    case LeaseStatus::NotFound:  // deleted under us: whoever recreates it starts a new epoch
      step_down(StepDownReason::Conflict);
      return;
    case LeaseStatus::Forbidden:
    case LeaseStatus::Unauthorized:
      step_down(StepDownReason::Forbidden);
      return;
    default:
      if (to_ns(Clock::now()) >= leading_until_ns_.load(std::memory_order_relaxed)) {
        step_down(StepDownReason::RenewDeadline);
      }
      return;
  }
}

void Elector::step_down(StepDownReason reason) {
  mine_.reset();
  {
    std::lock_guard lock(mutex_);
    leading_.store(false, std::memory_order_release);
  }
  leading_until_ns_.store(0, std::memory_order_release);
  changed_.notify_all();
  if (callbacks_.on_stopped_leading) {
    callbacks_.on_stopped_leading(reason);
  }
}

}  // namespace peregrine::ha
