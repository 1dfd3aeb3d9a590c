// LeaseClient without an API server: what a pod sees when the server is gone or hangs. Every
// call returns within its timeout, as a TransportError that says what failed.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>

#include "peregrine/ha/lease_client.hpp"

namespace peregrine::ha {
namespace {

using namespace std::chrono_literals;

// A loopback TCP listener that never accepts: connects complete (the kernel's backlog), then
// nothing is ever said.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), len) != 0 || ::listen(fd_, 8) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      std::abort();
    }
    port_ = ntohs(a.sin_port);
  }
  ~SilentListener() { ::close(fd_); }
  std::uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

ApiServerConfig config(std::uint16_t port) {
  const std::string token = ::testing::TempDir() + "/lease-client-token";
  std::ofstream(token) << "  some-token \n";
  ApiServerConfig c;
  c.host = "127.0.0.1";
  c.port = port;
  c.ca_file = "/etc/ssl/certs/ca-certificates.crt";
  c.token_file = token;
  c.namespace_name = "peregrine";
  c.timeout = 300ms;
  return c;
}

TEST(LeaseClientTest, GivesUpOnASilentServerWithinItsTimeout) {
  SilentListener server;
  LeaseClient client(config(server.port()));
  const auto start = std::chrono::steady_clock::now();
  auto r = client.get("m");
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.status, LeaseStatus::TransportError);
  EXPECT_EQ(r.http_status, 0);
  EXPECT_NE(r.message.find("TLS handshake with 127.0.0.1:"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("timed out after 300 ms"), std::string::npos) << r.message;
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 2s);
}

TEST(LeaseClientTest, SaysWhenNothingListens) {
  std::uint16_t port = 0;
  {
    SilentListener gone;  // a port that was free a moment ago, closed again
    port = gone.port();
  }
  LeaseClient client(config(port));
  LeaseRecord lease;
  lease.name = "m";
  auto r = client.update(lease);
  EXPECT_EQ(r.status, LeaseStatus::TransportError);
  EXPECT_NE(r.message.find("connect 127.0.0.1:"), std::string::npos) << r.message;
}

TEST(LeaseClientTest, SaysWhichTokenFileIsMissing) {
  auto c = config(1);
  c.token_file = "/nonexistent/token";
  LeaseClient client(c);
  auto r = client.get("m");
  EXPECT_EQ(r.status, LeaseStatus::TransportError);
  EXPECT_EQ(r.message, "bearer token: cannot read /nonexistent/token");
}

TEST(LeaseClientTest, RefusesACaFileItCannotLoad) {
  auto c = config(1);
  c.ca_file = "/nonexistent/ca.crt";
  try {
    LeaseClient client(c);
    FAIL() << "constructed without a CA";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/ca.crt"), std::string::npos) << e.what();
  }
}

TEST(LeaseClientTest, InClusterNamesWhatIsMissingOutsideAPod) {
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  try {
    (void)ApiServerConfig::in_cluster();
    FAIL() << "in_cluster() outside a pod";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("KUBERNETES_SERVICE_HOST"), std::string::npos) << e.what();
  }
}

// The service makes its client through peregrine-kube.so (open_lease_client): the module's
// client behaves as the linked one, its refusals cross the boundary as the same exceptions, and a
// missing module is named.
TEST(LeaseClientModuleTest, TheModulesClientSaysWhenNothingListens) {
  std::uint16_t port = 0;
  {
    SilentListener gone;
    port = gone.port();
  }
  const std::unique_ptr<LeaseApi> client = open_lease_client(config(port), PEREGRINE_KUBE_MODULE);
  auto r = client->get("m");
  EXPECT_EQ(r.status, LeaseStatus::TransportError);
  EXPECT_NE(r.message.find("connect 127.0.0.1:"), std::string::npos) << r.message;
}

TEST(LeaseClientModuleTest, TheModuleRefusesACaFileItCannotLoadNamingIt) {
  auto c = config(1);
  c.ca_file = "/nonexistent/ca.crt";
  try {
    (void)open_lease_client(c, PEREGRINE_KUBE_MODULE);
    FAIL() << "made a client without a CA";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/ca.crt"), std::string::npos) << e.what();
  }
}

TEST(LeaseClientModuleTest, AMissingModuleIsNamed) {
  try {
    (void)open_lease_client(config(1), "/nonexistent/peregrine-kube.so");
    FAIL() << "made a client without the module";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("the Kubernetes Lease client (/nonexistent/peregrine-kube.so) could not be loaded"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace peregrine::ha
