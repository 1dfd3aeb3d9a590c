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
///
/// The service does not link it: LeaseClient and OpenSSL live in the module peregrine-kube.so
/// beside the binary, which `open_lease_client` loads under `ha.failover: lease` only, so that
/// every other start maps and relocates none of OpenSSL (issue 14: about 145 page faults and
/// 0.9 ms of a start here). Tests link it directly (the peregrine_kube library).

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

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

/// Bumped whenever ApiServerConfig, LeaseRecord or LeaseApi change in a way that matters across
/// the module boundary.
inline constexpr std::uint32_t kKubeModuleAbi = 1;
/// The module's file name; the service looks for it beside its own binary.
inline constexpr std::string_view kKubeModuleFile = "peregrine-kube.so";
/// The factory's symbol.
inline constexpr const char* kKubeOpenSymbol = "peregrine_kube_open";

/// A LeaseClient made by the module at `module_path` (kKubeModuleFile beside the running binary
/// when empty). Start-up thread. Throws std::runtime_error: "the Kubernetes Lease client
/// (<path>) could not be loaded: <dlerror>", or LeaseClient's own error (the CA file it cannot
/// load).
[[nodiscard]] std::unique_ptr<LeaseApi> open_lease_client(const ApiServerConfig& config,
                                                          const std::string& module_path = {});

}  // namespace peregrine::ha

extern "C" {
/// The module's one entry point: a LeaseClient owned by the caller (its code lives in the module,
/// which stays loaded), or nullptr with `*error` set (another kKubeModuleAbi, the CA file).
[[gnu::visibility("default")]] peregrine::ha::LeaseApi* peregrine_kube_open(std::uint32_t abi,
                                                                             const peregrine::ha::ApiServerConfig* config,
                                                                             std::string* error) noexcept;
}
