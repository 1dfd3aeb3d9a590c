// The ingress section: the DPDK packet ingress, its port and UDP bindings (docs/dpdk.md).

#include <algorithm>
#include <string>
#include <vector>

#include "peregrine/ingress/packet.hpp"
#include "yaml_reader.hpp"

namespace peregrine::config::detail {

// --- ingress: the DPDK packet ingress (docs/dpdk.md) ------------------------------------------

constexpr std::array<Choice<IngressKind>, 2> kIngressKinds{{{"asio", IngressKind::Asio}, {"dpdk", IngressKind::Dpdk}}};
constexpr NumberSpec kPort{0, 65535, "must be 1 to 65535", "a UDP port (1 to 65535)", "must be a whole number"};
constexpr NumberSpec kPortId{0, 65535, nullptr, "a number (0 to 65535)", "must be a whole number"};
constexpr NumberSpec kBurst{0, 64, "must be 1 to 64", "a burst size (1 to 64)", "must be a whole number"};

const std::array<Parser::Field<IngressConfig>, 12> Parser::kIngressFields{{
    {"kind",
     [](const Parser& p, const Entry& e, const std::string& path, IngressConfig& c) {
       c.kind = p.read_choice(e, path, kIngressKinds);
     }},
    {"eal_args",
     [](const Parser& p, const Entry& e, const std::string& path, IngressConfig& c) {
       c.eal_args.clear();
       if (e.value.IsSequence()) {
         for (const YAML::Node& n : e.value) {
           if (!n.IsScalar()) p.fail(e.line, path, "must be a list of words or one string, got " + describe(n));
           c.eal_args.push_back(n.Scalar());
         }
         return;
       }
       c.eal_args = split_words(p.read_text(e, path, "EAL arguments (a list, or one string split on spaces)"));
     }},
    {"port",
     [](const Parser& p, const Entry& e, const std::string& path, IngressConfig& c) {
       c.port = static_cast<std::uint16_t>(p.read_number(e, path, kPortId));
     }},
    {"rx_queue",
     [](const Parser& p, const Entry& e, const std::string& path, IngressConfig& c) {
       c.rx_queue = static_cast<std::uint16_t>(p.read_number(e, path, kPortId));
     }},
    {"tx_queue",
     [](const Parser& p, const Entry& e, const std::string& path, IngressConfig& c) {
       c.tx_queue = static_cast<std::uint16_t>(p.read_number(e, path, kPortId));
     }},
    {"ip",
     [](const Parser& p, const Entry& e, const std::string& path, IngressConfig& c) {
       c.ip = p.read_text(e, path, "an IPv4 address");
       std::uint32_t ip = 0;
       if (!ingress::parse_ipv4(c.ip, ip)) p.fail(e.line, path, "must be an IPv4 address such as 10.0.0.1, got " + in_quotes(c.ip));
     }},
    {"udp_port",
     [](const Parser& p, const Entry& e, const std::string& path, IngressConfig& c) {
       c.udp_port = static_cast<std::uint16_t>(p.read_number(e, path, kPort));
     }},
    {"burst",
     [](const Parser& p, const Entry& e, const std::string& path, IngressConfig& c) {
       c.burst = static_cast<std::uint16_t>(p.read_number(e, path, kBurst));
     }},
    {"idle_strategy",
     [](const Parser& p, const Entry& e, const std::string& path, IngressConfig& c) {
       const Parsed<agent::IdleStrategyKind> idle = parse_idle(p.read_text(e, path, "busy-spin, yield or backoff"));
       if (!idle) p.fail(e.line, path, idle.error);
       c.idle_strategy = idle.value;
     }},
    {"itch_destination",
     [](const Parser& p, const Entry& e, const std::string& path, IngressConfig& c) {
       ListenAddress a;
       p.read_listen(e, path, false, a);
       std::uint32_t ip = 0;
       if (!ingress::parse_ipv4(a.host, ip)) p.fail(e.line, path, "must be an IPv4 address:port, got " + in_quotes(a.to_string()));
       c.itch_destination = a;
     }},
    {"itch_mac",
     [](const Parser& p, const Entry& e, const std::string& path, IngressConfig& c) {
       c.itch_mac = p.read_text(e, path, "a MAC address such as 02:00:00:00:00:01");
       ingress::MacAddress mac{};
       if (!ingress::parse_mac(c.itch_mac, mac)) p.fail(e.line, path, "must be a MAC address such as 02:00:00:00:00:01, got " + in_quotes(c.itch_mac));
     }},
    {"bindings", nullptr},  // read by read_ingress: a list
}};
const std::array<std::string_view, 12> Parser::kIngressKeys = keys_of(kIngressFields);

void Parser::read_ingress(const Entry& section, ServiceConfig& svc) {
  static constexpr std::array<std::string_view, 4> kBindingKeys{"user", "ip", "port", "session"};
  for (const Entry& e : read_single(section, "ingress", kIngressKeys)) {
    const std::string path = join("ingress", e.key);
    for (const auto& f : kIngressFields) {
      if (f.key == e.key && f.read != nullptr) f.read(*this, e, path, svc.ingress);
    }
    if (e.key != "bindings") continue;
    if (!e.value.IsSequence()) fail(e.line, path, "must be a list of {user, ip, port, session}, got " + describe(e.value));
    std::size_t index = 0;
    for (auto it = e.value.begin(); it != e.value.end(); ++it, ++index) {
      const std::string at = path + "[" + std::to_string(index) + "]";
      const int line = line_of(it->Mark());
      UdpBindingConfig b;
      b.line = line;
      for (const Entry& f : read_map(*it, line, at, kBindingKeys, "a binding")) {
        const std::string fp = join(at, f.key);
        if (f.key == "user") {
          b.user = read_text(f, fp, "a user name");
          if (svc.find_user(b.user) == nullptr) fail(f.line, fp, "no user named " + in_quotes(b.user) + " in users");
        } else if (f.key == "ip") {
          b.ip = read_text(f, fp, "an IPv4 address");
          std::uint32_t ip = 0;
          if (!ingress::parse_ipv4(b.ip, ip)) fail(f.line, fp, "must be an IPv4 address such as 10.0.0.2, got " + in_quotes(b.ip));
        } else if (f.key == "port") {
          b.port = static_cast<std::uint16_t>(read_number(f, fp, kPort));
        } else {
          b.session = read_text(f, fp, "1 to 10 letters or digits");
          if (b.session.empty() || b.session.size() > 10 || !is_alnum(b.session))
            fail(f.line, fp, "must be 1 to 10 letters or digits (MoldUDP64 session), got " + in_quotes(b.session));
        }
      }
      for (const char* required : {"user", "ip", "port", "session"}) {
        if ((std::string_view(required) == "user" && b.user.empty()) || (std::string_view(required) == "ip" && b.ip.empty()) ||
            (std::string_view(required) == "port" && b.port == 0) || (std::string_view(required) == "session" && b.session.empty()))
          fail(line, join(at, required), "is required");
      }
      for (std::size_t j = 0; j < svc.ingress.bindings.size(); ++j) {
        const UdpBindingConfig& o = svc.ingress.bindings[j];
        if (o.ip == b.ip && o.port == b.port && o.session == b.session)
          fail(line, at, "the same ip, port and session as " + path + "[" + std::to_string(j) + "]");
      }
      svc.ingress.bindings.push_back(b);
    }
  }
}

}  // namespace peregrine::config::detail
