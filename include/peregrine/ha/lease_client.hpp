#pragma once
/// LeaseClient: the Lease calls over HTTPS to the Kubernetes API server, the way a pod makes
/// them: the server's address, the cluster CA (the service account's ca.crt) to verify its
/// certificate and its name or IP, and a bearer token read from a file on every call (a
/// projected service-account token is rotated by the kubelet). Boost.Beast over OpenSSL, one
/// TLS connection per call, every call bounded by `timeout` (connect, handshake, request and
/// answer together).
///
///   GET  /apis/coordination.k8s.io/v1/namespaces/NS/leases/NAME
///   POST /apis/coordination.k8s.io/v1/namespaces/NS/leases
///   PUT  /apis/coordination.k8s.io/v1/namespaces/NS/leases/NAME   (metadata.resourceVersion)
///
/// Threads: one thread at a time per LeaseClient (the elector's); never the matching thread.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "peregrine/ha/lease.hpp"

namespace peregrine::ha {

/// Where the API server is and who we are to it.
struct ApiServerConfig {
  /// Host name or IP address (the certificate must name it).
  std::string host;
  std::uint16_t port = 443;
  /// PEM file of the CA that signed the server's certificate.
  std::filesystem::path ca_file;
  /// File holding the bearer token (whitespace around it is ignored).
  std::filesystem::path token_file;
  /// The namespace of the Leases.
  std::string namespace_name;
  /// Bound on each call, from connect to the end of the answer.
  std::chrono::milliseconds timeout{1000};

  /// The pod's own view, as client-go's rest.InClusterConfig: KUBERNETES_SERVICE_HOST and
  /// KUBERNETES_SERVICE_PORT, and the service account's files under
  /// /var/run/secrets/kubernetes.io/serviceaccount (ca.crt, token, namespace). Throws
  /// std::runtime_error naming what is missing.
  static ApiServerConfig in_cluster();
};

/// See the file comment.
class LeaseClient final : public LeaseApi {
 public:
  /// Loads the CA file; throws std::runtime_error when it cannot (the message names the file).
  explicit LeaseClient(ApiServerConfig config);
  ~LeaseClient() override;
  LeaseClient(const LeaseClient&) = delete;
  LeaseClient& operator=(const LeaseClient&) = delete;

  LeaseResult get(const std::string& name) override;
  LeaseResult create(const LeaseRecord& lease) override;
  LeaseResult update(const LeaseRecord& lease) override;

  const ApiServerConfig& config() const noexcept { return config_; }

 private:
  struct Impl;
  LeaseResult call(const char* method, const std::string& target, const std::string& body, bool is_create);

  ApiServerConfig config_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace peregrine::ha
