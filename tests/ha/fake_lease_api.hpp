#pragma once
// An in-memory LeaseApi with the API server's rules for what the elector does (resourceVersion
// preconditions, 404, 409), and switches to make calls fail or hang, for the elector's unit tests.
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>

#include "peregrine/ha/lease.hpp"

namespace peregrine::ha::testing {

class FakeLeaseApi final : public LeaseApi {
 public:
  LeaseResult get(const std::string& name) override {
    std::unique_lock lock(mutex_);
    if (auto r = gate(lock)) return *r;
    auto it = leases_.find(name);
    if (it == leases_.end()) return {LeaseStatus::NotFound, 404, "not found", std::nullopt};
    return {LeaseStatus::Ok, 200, "", it->second};
  }
  LeaseResult create(const LeaseRecord& lease) override {
    std::unique_lock lock(mutex_);
    if (auto r = gate(lock)) return *r;
    if (leases_.count(lease.name) != 0) return {LeaseStatus::AlreadyExists, 409, "already exists", std::nullopt};
    LeaseRecord l = lease;
    l.resource_version = std::to_string(++version_);
    leases_[l.name] = l;
    return {LeaseStatus::Created, 201, "", l};
  }
  LeaseResult update(const LeaseRecord& lease) override {
    std::unique_lock lock(mutex_);
    if (auto r = gate(lock)) return *r;
    auto it = leases_.find(lease.name);
    if (it == leases_.end()) return {LeaseStatus::NotFound, 404, "not found", std::nullopt};
    if (lease.resource_version != it->second.resource_version) {
      return {LeaseStatus::Conflict, 409, "the object has been modified", std::nullopt};
    }
    LeaseRecord l = lease;
    l.resource_version = std::to_string(++version_);
    it->second = l;
    return {LeaseStatus::Ok, 200, "", l};
  }

  /// Every call from now on fails with a transport error.
  void set_failing(bool failing) {
    std::lock_guard lock(mutex_);
    failing_ = failing;
  }
  /// Every call from now on blocks until set_hanging(false).
  void set_hanging(bool hanging) {
    {
      std::lock_guard lock(mutex_);
      hanging_ = hanging;
    }
    cv_.notify_all();
  }
  /// What another writer does: replaces the stored Lease (a new resourceVersion).
  LeaseRecord write_behind_the_elector(const std::string& name, const std::string& holder) {
    std::lock_guard lock(mutex_);
    LeaseRecord& l = leases_.at(name);
    l.holder_identity = holder;
    l.resource_version = std::to_string(++version_);
    return l;
  }
  std::optional<LeaseRecord> stored(const std::string& name) {
    std::lock_guard lock(mutex_);
    auto it = leases_.find(name);
    if (it == leases_.end()) return std::nullopt;
    return it->second;
  }

 private:
  std::optional<LeaseResult> gate(std::unique_lock<std::mutex>& lock) {
    cv_.wait(lock, [&] { return !hanging_; });
    if (failing_) return LeaseResult{LeaseStatus::TransportError, 0, "connect: refused (fake)", std::nullopt};
    return std::nullopt;
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  std::map<std::string, LeaseRecord> leases_;
  std::uint64_t version_ = 100;
  bool failing_ = false;
  bool hanging_ = false;
};

}  // namespace peregrine::ha::testing
