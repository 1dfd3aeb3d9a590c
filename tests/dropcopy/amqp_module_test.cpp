// The broker link through peregrine-amqp.so, as the publisher makes it (open_amqp_link): the
// module's link says what failed as the linked one did, and a missing module is named. The link
// against a real broker is the broker tests' (broker_test.cpp: the real `peregrine`).
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include "amqp_link.hpp"

namespace amqp_module_test {

using peregrine::dropcopy::detail::AmqpLink;
using peregrine::dropcopy::detail::AmqpTarget;
using peregrine::dropcopy::detail::open_amqp_link;
using peregrine::dropcopy::detail::parse_target;

// A loopback port that was free a moment ago and is closed again: connects are refused.
std::uint16_t closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), len) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    throw std::runtime_error("no loopback port");
  ::close(fd);
  return ntohs(a.sin_port);
}

TEST(AmqpModuleTest, TheModulesLinkSaysWhenTheBrokerRefuses) {
  const std::unique_ptr<AmqpLink> link = open_amqp_link(PEREGRINE_AMQP_MODULE);
  EXPECT_FALSE(link->connected());
  EXPECT_EQ(link->fd(), -1);
  AmqpTarget t;
  const std::uint16_t port = closed_port();
  ASSERT_EQ(parse_target("amqp://guest@127.0.0.1:" + std::to_string(port) + "/", t), "");
  const std::string err = link->connect(t, "peregrine.dropcopy", std::chrono::milliseconds{2000});
  EXPECT_EQ(err.rfind("cannot connect to 127.0.0.1:" + std::to_string(port) + ": ", 0), 0u) << err;
  EXPECT_NE(err.find("(refused or unreachable)"), std::string::npos) << err;
  EXPECT_FALSE(link->connected());
}

TEST(AmqpModuleTest, AMissingModuleIsNamed) {
  try {
    (void)open_amqp_link("/nonexistent/peregrine-amqp.so");
    FAIL() << "made a link without the module";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("the drop copy's broker link (/nonexistent/peregrine-amqp.so) could not be loaded"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace amqp_module_test
