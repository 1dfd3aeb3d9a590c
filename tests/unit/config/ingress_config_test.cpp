// The ingress section (docs/configuration.md, "ingress"): defaults, every key, the bindings'
// checks, and the --ingress / --eal-args overrides.

#include <gtest/gtest.h>

#include <string>

#include "config_text.hpp"
#include "peregrine/config/service.hpp"

namespace peregrine::config {
namespace ingress_config_test {  // named, not anonymous: the sanitizer presets' unity builds compile it beside other tests

/// Seven lines: instruments, firms, one user DEMO1, credentials; what follows starts at line 8.
constexpr std::string_view kBase =
    "instruments:\n  - {symbol: \"600519\", reference_price: \"1700.00\"}\nfirms:\n  - {name: FRMA}\n"
    "users:\n  - {username: DEMO1, firm: FRMA}\ncredentials_file: c.txt\n";

ServiceConfig load(std::string_view rest) { return config_text::load(kBase, rest); }

std::string error_of(std::string_view rest) {
  const auto e = config_text::refusal(kBase, rest);
  return e ? e->what() : "nothing thrown";
}

TEST(IngressConfigTest, DefaultsToAsioWithTheNoHardwareEalArguments) {
  const ServiceConfig c = load("");
  EXPECT_EQ(c.ingress.kind, IngressKind::Asio);
  EXPECT_EQ(c.ingress.eal_args,
            (std::vector<std::string>{"--no-huge", "--no-pci", "-m", "256", "-l", "0", "--no-shconf"}));
  EXPECT_EQ(c.ingress.udp_port, 9010);
  EXPECT_TRUE(c.ingress.bindings.empty());
  EXPECT_FALSE(c.ingress.itch_destination.has_value());
}

TEST(IngressConfigTest, ReadsEveryKey) {
  const ServiceConfig c = load(
      "ingress:\n"
      "  kind: dpdk\n"
      "  eal_args: \"-l 0,3  -a 0000:3b:00.0\"\n"
      "  port: 1\n  rx_queue: 2\n  tx_queue: 3\n  ip: 192.168.50.10\n  udp_port: 9100\n  burst: 16\n"
      "  idle_strategy: busy-spin\n"
      "  itch_destination: \"239.1.1.1:9020\"\n"
      "  itch_mac: \"01:00:5E:01:01:01\"\n"
      "  bindings:\n"
      "    - {user: DEMO1, ip: 192.168.50.21, port: 40000, session: DEMO1UDP}\n"
      "    - {user: DEMO1, ip: 192.168.50.21, port: 40000, session: OTHER}\n");
  EXPECT_EQ(c.ingress.kind, IngressKind::Dpdk);
  EXPECT_EQ(c.ingress.eal_args, (std::vector<std::string>{"-l", "0,3", "-a", "0000:3b:00.0"}));
  EXPECT_EQ(c.ingress.port, 1);
  EXPECT_EQ(c.ingress.rx_queue, 2);
  EXPECT_EQ(c.ingress.tx_queue, 3);
  EXPECT_EQ(c.ingress.ip, "192.168.50.10");
  EXPECT_EQ(c.ingress.udp_port, 9100);
  EXPECT_EQ(c.ingress.burst, 16);
  EXPECT_EQ(c.ingress.idle_strategy, agent::IdleStrategyKind::BusySpin);
  ASSERT_TRUE(c.ingress.itch_destination.has_value());
  EXPECT_EQ(c.ingress.itch_destination->port, 9020);
  ASSERT_EQ(c.ingress.bindings.size(), 2u);
  EXPECT_EQ(c.ingress.bindings[0].user, "DEMO1");
  EXPECT_EQ(c.ingress.bindings[0].port, 40000);
  EXPECT_EQ(c.ingress.bindings[1].session, "OTHER");
}

TEST(IngressConfigTest, TakesEalArgumentsAsAList) {
  const ServiceConfig c = load("ingress:\n  eal_args: [--vdev, \"net_pcap0,rx_pcap=a b.pcap\"]\n");
  EXPECT_EQ(c.ingress.eal_args, (std::vector<std::string>{"--vdev", "net_pcap0,rx_pcap=a b.pcap"}));
}

TEST(IngressConfigTest, RefusesBadValuesNamingLineAndField) {
  EXPECT_NE(error_of("ingress:\n  kind: xdp\n").find("test.yaml:9: ingress.kind"), std::string::npos);
  EXPECT_NE(error_of("ingress:\n  ip: 10.0.0\n").find("ingress.ip: must be an IPv4 address"), std::string::npos);
  EXPECT_NE(error_of("ingress:\n  burst: 65\n").find("ingress.burst"), std::string::npos);
  EXPECT_NE(error_of("ingress:\n  udp_port: 0\n").find("ingress.udp_port"), std::string::npos);
  EXPECT_NE(error_of("ingress:\n  itch_mac: 01-00-5e-01-01-01\n").find("ingress.itch_mac"), std::string::npos);
  EXPECT_NE(error_of("ingress:\n  itch_destination: \"host.example:9\"\n").find("ingress.itch_destination"),
            std::string::npos);
  EXPECT_NE(error_of("ingress:\n  bindings:\n    - {user: NOBODY, ip: 1.2.3.4, port: 1, session: S}\n")
                .find("ingress.bindings[0].user: no user named \"NOBODY\""),
            std::string::npos);
  EXPECT_NE(error_of("ingress:\n  bindings:\n    - {user: DEMO1, ip: 1.2.3.4, port: 1, session: \"with space\"}\n")
                .find("ingress.bindings[0].session"),
            std::string::npos);
  EXPECT_NE(error_of("ingress:\n  bindings:\n    - {user: DEMO1, ip: 1.2.3.4, session: S}\n")
                .find("ingress.bindings[0].port: is required"),
            std::string::npos);
  EXPECT_NE(error_of("ingress:\n  bindings:\n    - {user: DEMO1, ip: 1.2.3.4, port: 1, session: S}\n"
                     "    - {user: DEMO1, ip: 1.2.3.4, port: 1, session: S}\n")
                .find("the same ip, port and session as ingress.bindings[0]"),
            std::string::npos);
  EXPECT_NE(error_of("ingress:\n  bindings:\n    - {user: DEMO1, ip: 1.2.3.4, port: 1, session: S, mac: x}\n")
                .find("unknown key"),
            std::string::npos);
}

TEST(IngressConfigTest, FlagsOverrideTheFile) {
  ServiceConfig c = load("ingress:\n  kind: asio\n  eal_args: \"-l 0\"\n");
  FlagOverrides f;
  f.ingress = IngressKind::Dpdk;
  f.eal_args = split_words("--no-huge\t--vdev  net_null0 ");
  apply_overrides(c, {}, f);
  EXPECT_EQ(c.ingress.kind, IngressKind::Dpdk);
  EXPECT_EQ(c.ingress.eal_args, (std::vector<std::string>{"--no-huge", "--vdev", "net_null0"}));
  EXPECT_FALSE(parse_ingress("DPDK"));
  EXPECT_EQ(*parse_ingress("asio").value, IngressKind::Asio);
}

}  // namespace ingress_config_test
}  // namespace peregrine::config
