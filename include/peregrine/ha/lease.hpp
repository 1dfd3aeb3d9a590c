#pragma once
/// A Kubernetes `coordination.k8s.io/v1` Lease as the HA elector reads and writes it, and the
/// three calls it makes (get, create, update with a `resourceVersion` precondition) as an
/// interface, so the elector runs on the real API server (LeaseClient) or a test double alike.
///
/// The epoch: `spec.leaseTransitions`. Every acquisition writes the previous value + 1 (a
/// missing Lease counts as 0, so the first leader's epoch is 1 and 0 means "never led"), also
/// when the holder's identity does not change (a restarted pod keeps its name but starts a new
/// term). Replicated records carry it; a standby refuses records from an older epoch
/// (docs/ha.md, "Epochs and fencing").
///
/// Threads: LeaseRecord is a plain value. A LeaseApi implementation is called from one thread
/// at a time (the elector's).

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace peregrine::ha {

/// The fields of a Lease the elector uses. Metadata other than name, namespace,
/// resourceVersion, labels and annotations is not kept, and an update replaces the object:
/// a Lease for the elector carries nothing else (no owner references, no finalizers).
struct LeaseRecord {
  std::string name;
  std::string namespace_name;
  /// The server's opaque version of the object; an update sends it back as the precondition
  /// (409 Conflict when the object has changed since). Empty for a create.
  std::string resource_version;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  /// spec.holderIdentity; empty: nobody holds the Lease (never held, or released).
  std::string holder_identity;
  /// spec.leaseDurationSeconds (0 when absent).
  std::int32_t lease_duration_seconds = 0;
  /// spec.acquireTime and spec.renewTime as written (RFC 3339 with microseconds, UTC); empty
  /// when absent. The elector never compares them with its own clock (docs/ha.md).
  std::string acquire_time;
  std::string renew_time;
  /// spec.leaseTransitions: the epoch (see the file comment).
  std::int32_t lease_transitions = 0;

  friend bool operator==(const LeaseRecord&, const LeaseRecord&) = default;
};

/// How a call ended. `Ok` (200) and `Created` (201) carry the object the server returned.
enum class LeaseStatus : std::uint8_t {
  Ok,             ///< 200
  Created,        ///< 201
  NotFound,       ///< 404: no such Lease
  Conflict,       ///< 409 on update: the resourceVersion precondition failed
  AlreadyExists,  ///< 409 on create: another writer created it first
  Unauthorized,   ///< 401: the token was refused
  Forbidden,      ///< 403: the identity lacks the verb on this Lease (RBAC)
  Invalid,        ///< 400 or 422: the server refused the object
  ServerError,    ///< 429, 5xx or another status
  TransportError  ///< no HTTP answer: connect, TLS, timeout, a malformed response
};

/// The name of a status, as logs and errors print it ("conflict", "forbidden", ...).
std::string_view to_string(LeaseStatus status) noexcept;

/// The outcome of one call: the status, the HTTP status code (0 without an answer), a message
/// for people (the API server's own `Status.message` when it sent one, else what failed), and
/// the Lease for Ok and Created.
struct LeaseResult {
  LeaseStatus status = LeaseStatus::TransportError;
  int http_status = 0;
  std::string message;
  std::optional<LeaseRecord> lease;

  bool ok() const noexcept { return status == LeaseStatus::Ok || status == LeaseStatus::Created; }
};

/// The three calls on Leases in one namespace. Implementations never throw for what the
/// server or the network does: every outcome is a LeaseResult.
class LeaseApi {
 public:
  virtual ~LeaseApi() = default;
  /// GET the Lease `name`.
  virtual LeaseResult get(const std::string& name) = 0;
  /// POST a new Lease (lease.resource_version is ignored).
  virtual LeaseResult create(const LeaseRecord& lease) = 0;
  /// PUT the Lease with lease.resource_version as the precondition.
  virtual LeaseResult update(const LeaseRecord& lease) = 0;
};

/// JSON of a Lease, as the API server speaks it (Boost.JSON). encode writes apiVersion, kind,
/// metadata (name, namespace, resourceVersion when set, labels, annotations) and the spec
/// fields that are set; decode reads them and ignores everything else. decode returns nothing
/// (and sets `error`) when the text is not a Lease: not JSON, another kind, a field of the
/// wrong type or out of range.
std::string encode_lease(const LeaseRecord& lease);
std::optional<LeaseRecord> decode_lease(std::string_view json, std::string* error = nullptr);

/// `time` as a Kubernetes MicroTime: RFC 3339 in UTC with exactly six fractional digits,
/// "2026-12-07T01:54:21.123456Z".
std::string format_micro_time(std::chrono::system_clock::time_point time);

}  // namespace peregrine::ha
