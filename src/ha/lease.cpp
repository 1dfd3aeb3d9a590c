// The Lease as JSON (Boost.JSON) and the MicroTime format.
#include "peregrine/ha/lease.hpp"

#include <boost/json.hpp>

#include <cstdio>
#include <ctime>
#include <limits>

namespace peregrine::ha {

namespace json = boost::json;

std::string_view to_string(LeaseStatus status) noexcept {
  switch (status) {
    case LeaseStatus::Ok: return "ok";
    case LeaseStatus::Created: return "created";
    case LeaseStatus::NotFound: return "not found";
    case LeaseStatus::Conflict: return "conflict";
    case LeaseStatus::AlreadyExists: return "already exists";
    case LeaseStatus::Unauthorized: return "unauthorized";
    case LeaseStatus::Forbidden: return "forbidden";
    case LeaseStatus::Invalid: return "invalid";
    case LeaseStatus::ServerError: return "server error";
    case LeaseStatus::TransportError: return "transport error";
  }
  return "unknown";
}

std::string format_micro_time(std::chrono::system_clock::time_point time) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch()).count();
  auto secs = static_cast<std::time_t>(us / 1'000'000);
  auto frac = us % 1'000'000;
  if (frac < 0) {  // before 1970: floor, so the fraction stays positive
    frac += 1'000'000;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];  // room for any int the compiler cannot rule out
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(frac));
  return buf;
}

namespace {

json::object string_map(const std::map<std::string, std::string>& m) {
  json::object o;
  for (const auto& [k, v] : m) {
    o[k] = v;
  }
  return o;
}

// Reads an optional field; false (with `error`) when present with the wrong type.
bool read_string(const json::object& o, std::string_view key, std::string& out, std::string& error) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) {
    return true;
  }
  if (!v->is_string()) {
    error = std::string(key) + " is not a string";
    return false;
  }
  out = std::string(v->get_string());
  return true;
}

bool read_int32(const json::object& o, std::string_view key, std::int32_t& out, std::string& error) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) {
    return true;
  }
  std::int64_t n = 0;
  if (v->is_int64()) {
    n = v->get_int64();
  } else if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max())) {
    n = static_cast<std::int64_t>(v->get_uint64());
  } else {
    error = std::string(key) + " is not an integer";
    return false;
  }
  if (n < std::numeric_limits<std::int32_t>::min() || n > std::numeric_limits<std::int32_t>::max()) {
    error = std::string(key) + " is out of range";
    return false;
  }
  out = static_cast<std::int32_t>(n);
  return true;
}

bool read_map(const json::object& o, std::string_view key, std::map<std::string, std::string>& out,
              std::string& error) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) {
    return true;
  }
  if (!v->is_object()) {
    error = std::string(key) + " is not an object";
    return false;
  }
  for (const auto& kv : v->get_object()) {
    if (!kv.value().is_string()) {
      error = std::string(key) + "." + std::string(kv.key()) + " is not a string";
      return false;
    }
    out[std::string(kv.key())] = std::string(kv.value().get_string());
  }
  return true;
}

}  // namespace

std::string encode_lease(const LeaseRecord& lease) {
  json::object metadata;
  metadata["name"] = lease.name;
  if (!lease.namespace_name.empty()) {
    metadata["namespace"] = lease.namespace_name;
  }
  if (!lease.resource_version.empty()) {
    metadata["resourceVersion"] = lease.resource_version;
  }
  if (!lease.labels.empty()) {
    metadata["labels"] = string_map(lease.labels);
  }
  if (!lease.annotations.empty()) {
    metadata["annotations"] = string_map(lease.annotations);
  }
  json::object spec;
  if (!lease.holder_identity.empty()) {
    spec["holderIdentity"] = lease.holder_identity;
  }
  if (lease.lease_duration_seconds != 0) {
    spec["leaseDurationSeconds"] = lease.lease_duration_seconds;
  }
  if (!lease.acquire_time.empty()) {
    spec["acquireTime"] = lease.acquire_time;
  }
  if (!lease.renew_time.empty()) {
    spec["renewTime"] = lease.renew_time;
  }
  if (lease.lease_transitions != 0) {
    spec["leaseTransitions"] = lease.lease_transitions;
  }
  json::object o;
  o["apiVersion"] = "coordination.k8s.io/v1";
  o["kind"] = "Lease";
  o["metadata"] = std::move(metadata);
  o["spec"] = std::move(spec);
  return json::serialize(o);
}

std::optional<LeaseRecord> decode_lease(std::string_view text, std::string* error_out) {
  std::string error;
  auto fail = [&](std::string why) -> std::optional<LeaseRecord> {
    if (error_out != nullptr) {
      *error_out = std::move(why);
    }
    return std::nullopt;
  };
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) {
    return fail("not JSON: " + ec.message());
  }
  if (!v.is_object()) {
    return fail("not a JSON object");
  }
  const auto& o = v.get_object();
  const auto* kind = o.if_contains("kind");
  if (kind == nullptr || !kind->is_string() || kind->get_string() != "Lease") {
    return fail("kind is not Lease");
  }
  const auto* api_version = o.if_contains("apiVersion");
  if (api_version == nullptr || !api_version->is_string() || api_version->get_string() != "coordination.k8s.io/v1") {
    return fail("apiVersion is not coordination.k8s.io/v1");
  }
  const auto* metadata = o.if_contains("metadata");
  if (metadata == nullptr || !metadata->is_object()) {
    return fail("metadata missing");
  }
  LeaseRecord lease;
  const auto& md = metadata->get_object();
  if (!read_string(md, "name", lease.name, error) || !read_string(md, "namespace", lease.namespace_name, error) ||
      !read_string(md, "resourceVersion", lease.resource_version, error) || !read_map(md, "labels", lease.labels, error) ||
      !read_map(md, "annotations", lease.annotations, error)) {
    return fail("metadata." + error);
  }
  if (lease.name.empty()) {
    return fail("metadata.name missing");
  }
  if (const auto* spec = o.if_contains("spec"); spec != nullptr && !spec->is_null()) {
    if (!spec->is_object()) {
      return fail("spec is not an object");
    }
    const auto& s = spec->get_object();
    if (!read_string(s, "holderIdentity", lease.holder_identity, error) ||
        !read_int32(s, "leaseDurationSeconds", lease.lease_duration_seconds, error) ||
        !read_string(s, "acquireTime", lease.acquire_time, error) || !read_string(s, "renewTime", lease.renew_time, error) ||
        !read_int32(s, "leaseTransitions", lease.lease_transitions, error)) {
      return fail("spec." + error);
    }
  }
  return lease;
}

}  // namespace peregrine::ha
