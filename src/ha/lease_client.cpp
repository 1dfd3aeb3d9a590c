// LeaseClient: HTTPS to the API server with Boost.Beast over OpenSSL (both from Debian). Each
// call runs its own io_context to completion with one deadline over every step, so a call never
// takes longer than the configured timeout, and nothing is shared between calls but the TLS
// context (the CA).
#include "peregrine/ha/lease_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace peregrine::ha {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

namespace {

constexpr const char* kServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";
constexpr std::size_t kMaxBody = 1 << 20;  // a Lease is a few hundred bytes; a Status a few KiB

std::string read_trimmed(const std::filesystem::path& path, std::string& error) {
  std::ifstream in(path);
  if (!in) {
    error = "cannot read " + path.string();
    return {};
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) {
    error = path.string() + " is empty";
    return {};
  }
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

// The message of a Kubernetes Status object, or the start of the body when it is not one.
std::string status_message(const std::string& body) {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (!ec && v.is_object()) {
    if (const auto* m = v.get_object().if_contains("message"); m != nullptr && m->is_string()) {
      return std::string(m->get_string());
    }
  }
  return body.substr(0, 200);
}

LeaseStatus status_for(int code, bool is_create) {
  switch (code) {
    case 200: return LeaseStatus::Ok;
    case 201: return LeaseStatus::Created;
    case 400:
    case 422: return LeaseStatus::Invalid;
    case 401: return LeaseStatus::Unauthorized;
    case 403: return LeaseStatus::Forbidden;
    case 404: return LeaseStatus::NotFound;
    case 409: return is_create ? LeaseStatus::AlreadyExists : LeaseStatus::Conflict;
    default: return LeaseStatus::ServerError;
  }
}

}  // namespace

ApiServerConfig ApiServerConfig::in_cluster() {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (host == nullptr || *host == '\0' || port == nullptr || *port == '\0') {
    throw std::runtime_error(
        "not in a Kubernetes pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set");
  }
  ApiServerConfig c;
  c.host = host;
  char* end = nullptr;
  const long p = std::strtol(port, &end, 10);
  if (*end != '\0' || p <= 0 || p > 65535) {
    throw std::runtime_error(std::string("KUBERNETES_SERVICE_PORT is not a port: ") + port);
  }
  c.port = static_cast<std::uint16_t>(p);
  const std::filesystem::path dir = kServiceAccountDir;
  c.ca_file = dir / "ca.crt";
  c.token_file = dir / "token";
  std::string error;
  c.namespace_name = read_trimmed(dir / "namespace", error);
  if (!error.empty()) {
    throw std::runtime_error(error + " (is the service-account token mounted? docs/ha.md)");
  }
  return c;
}

struct LeaseClient::Impl {
  ssl::context tls{ssl::context::tls_client};
};

LeaseClient::LeaseClient(ApiServerConfig config) : config_(std::move(config)), impl_(std::make_unique<Impl>()) {
  boost::system::error_code ec;
  impl_->tls.set_verify_mode(ssl::verify_peer);
  impl_->tls.load_verify_file(config_.ca_file.string(), ec);
  if (ec) {
    throw std::runtime_error("cannot load the API server's CA from " + config_.ca_file.string() + ": " + ec.message());
  }
  impl_->tls.set_options(ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
}

LeaseClient::~LeaseClient() = default;

LeaseResult LeaseClient::get(const std::string& name) {
  return call("GET", "/apis/coordination.k8s.io/v1/namespaces/" + config_.namespace_name + "/leases/" + name, {}, false);
}

LeaseResult LeaseClient::create(const LeaseRecord& lease) {
  LeaseRecord l = lease;
  l.namespace_name = config_.namespace_name;
  l.resource_version.clear();
  return call("POST", "/apis/coordination.k8s.io/v1/namespaces/" + config_.namespace_name + "/leases",
              encode_lease(l), true);
}

LeaseResult LeaseClient::update(const LeaseRecord& lease) {
  LeaseRecord l = lease;
  l.namespace_name = config_.namespace_name;
  return call("PUT", "/apis/coordination.k8s.io/v1/namespaces/" + config_.namespace_name + "/leases/" + lease.name,
              encode_lease(l), false);
}

LeaseResult LeaseClient::call(const char* method, const std::string& target, const std::string& body, bool is_create) {
  LeaseResult result;
  std::string error;
  const std::string token = read_trimmed(config_.token_file, error);
  if (!error.empty()) {
    result.message = "bearer token: " + error;
    return result;
  }

  net::io_context io;
  beast::ssl_stream<beast::tcp_stream> stream(io, impl_->tls);
  const auto deadline = std::chrono::steady_clock::now() + config_.timeout;
  // Verify the certificate's name: an IP address against its IP SANs, a name against its DNS
  // names (and send it as SNI).
  boost::system::error_code ec;
  const auto address = net::ip::make_address(config_.host, ec);
  X509_VERIFY_PARAM* param = SSL_get0_param(stream.native_handle());
  if (!ec) {
    X509_VERIFY_PARAM_set1_ip_asc(param, config_.host.c_str());
  } else {
    X509_VERIFY_PARAM_set1_host(param, config_.host.c_str(), 0);
    // SSL_set_tlsext_host_name, without the macro's C cast.
    SSL_ctrl(stream.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(config_.host.c_str()));
  }

  // Runs one asynchronous step to completion (or to the deadline, which closes the socket).
  auto step = [&](auto&& start_op) {
    boost::system::error_code out = net::error::would_block;
    beast::get_lowest_layer(stream).expires_at(deadline);
    start_op([&out](boost::system::error_code e, auto&&...) { out = e; });
    io.restart();
    io.run();
    return out;
  };
  auto fail = [&](const char* what, boost::system::error_code e) {
    result.status = LeaseStatus::TransportError;
    result.message = std::string(what) + " " + config_.host + ":" + std::to_string(config_.port) + ": " +
                     (e == beast::error::timeout ? "timed out after " + std::to_string(config_.timeout.count()) + " ms"
                                                 : e.message());
    return result;
  };

  std::vector<tcp::endpoint> endpoints;
  if (!ec) {
    endpoints.emplace_back(address, config_.port);
  } else {
    tcp::resolver resolver(io);
    boost::system::error_code rec = net::error::would_block;
    resolver.async_resolve(config_.host, std::to_string(config_.port),
                           [&](boost::system::error_code e, tcp::resolver::results_type r) {
                             rec = e;
                             for (const auto& entry : r) {
                               endpoints.push_back(entry.endpoint());
                             }
                           });
    io.run_for(config_.timeout);
    if (rec) {
      return fail("resolve", rec == net::error::would_block ? beast::error::timeout : rec);
    }
  }
  if (auto e = step([&](auto h) { beast::get_lowest_layer(stream).async_connect(endpoints, std::move(h)); })) {
    return fail("connect", e);
  }
  if (auto e = step([&](auto h) { stream.async_handshake(ssl::stream_base::client, std::move(h)); })) {
    return fail("TLS handshake with", e);
  }

  http::request<http::string_body> req;
  req.method_string(method);
  req.target(target);
  req.version(11);
  req.set(http::field::host, config_.host + ":" + std::to_string(config_.port));
  req.set(http::field::authorization, "Bearer " + token);
  req.set(http::field::accept, "application/json");
  req.set(http::field::user_agent, "peregrine-ha/1");
  req.set(http::field::connection, "close");
  if (!body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();
  if (auto e = step([&](auto h) { http::async_write(stream, req, std::move(h)); })) {
    return fail("request to", e);
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxBody);
  if (auto e = step([&](auto h) { http::async_read(stream, buffer, parser, std::move(h)); })) {
    return fail("answer from", e);
  }
  // The answer is complete: a TLS close_notify is courtesy, not worth waiting for.
  beast::get_lowest_layer(stream).socket().close(ec);

  const auto& res = parser.get();
  result.http_status = static_cast<int>(res.result_int());
  result.status = status_for(result.http_status, is_create);
  if (result.ok()) {
    std::string why;
    result.lease = decode_lease(res.body(), &why);
    if (!result.lease) {
      result.status = LeaseStatus::TransportError;
      result.message = std::to_string(result.http_status) + " with a body that is not a Lease: " + why;
    }
    return result;
  }
  result.message = std::to_string(result.http_status) + " " + std::string(to_string(result.status)) + ": " +
                   status_message(res.body());
  if (result.status == LeaseStatus::Forbidden) {
    result.message += " (the identity needs get and update on this Lease, and create to make it: deploy/k3s/base/lease.yaml, docs/ha.md)";
  }
  return result;
}

}  // namespace peregrine::ha
