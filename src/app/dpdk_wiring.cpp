// 4b. With --ingress=dpdk: peregrine-dpdk.so loaded from beside the binary (the EAL, the port
// and the lcore; a server on asio ingress never loads DPDK), the UDP ingress the lcore feeds
// (commands into their own ring to the core, notices to the io thread), and the UDP replier on
// the io thread (docs/dpdk.md).

#include "server_impl.hpp"

#include <stdexcept>

#include "topology.hpp"

namespace peregrine::app {

namespace {
#ifdef PEREGRINE_HAVE_DPDK
constexpr bool kBuiltWithDpdk = true;  // peregrine-dpdk.so is built beside the binary
#else
constexpr bool kBuiltWithDpdk = false;
#endif
}  // namespace

// The UDP ingress/replier objects, then the module's EAL and port (main thread, before other
// threads).
void Server::start_dpdk_port() {
  const config::IngressConfig& ic = cfg_.ingress;
  if (!ingress::parse_ipv4(ic.ip, local_ip_)) throw std::runtime_error("ingress.ip: not an IPv4 address: " + ic.ip);
  std::vector<ingress::UdpBinding> bindings;
  std::vector<sessions::UserState*> users;
  std::vector<proto::mold::SessionId> sessions;
  for (const config::UdpBindingConfig& b : ic.bindings) {
    const config::UserConfig* uc = cfg_.find_user(b.user);
    sessions::UserState* u = uc == nullptr ? nullptr : users_.find(Alpha<6>::from(b.user));
    if (u == nullptr) throw std::runtime_error("ingress.bindings: unknown user " + b.user);
    ingress::UdpBinding ub;
    if (!ingress::parse_ipv4(b.ip, ub.ip)) throw std::runtime_error("ingress.bindings: not an IPv4 address: " + b.ip);
    ub.port = b.port;
    ub.session = proto::mold::SessionId::from(b.session);
    ub.ouch = proto::OuchSession{u->account.owner, u->account.firm, u->account.firm_name};
    ub.throttle_per_second = u->account.throttle_per_second;
    bindings.push_back(ub);
    users.push_back(u);
    sessions.push_back(ub.session);
    binding_ips_.push_back(ub.ip);
    binding_ports_.push_back(ub.port);
  }
  ingress::dpdk::DpdkSettings ds;
  ds.eal_args = ic.eal_args;
  ds.port = ic.port;
  ds.rx_queue = ic.rx_queue;
  ds.tx_queue = ic.tx_queue;
  ds.local_ip = local_ip_;
  ds.udp_port = ic.udp_port;
  ds.burst = ic.burst;
  ds.idle = ic.idle_strategy.value_or(eff_.core_idle);
  notice_ring_ = std::make_unique<NoticeRing>();
  udp_host_ = std::make_unique<RingIngressHost>(*udp_ring_, *notice_ring_, refusing_orders_, core_.parker(), io_runner_.parker());
  udp_counters_ = std::make_unique<ingress::UdpIngressCounters>();
  udp_ingress_ = std::make_unique<ingress::UdpIngress>(bindings, ingress::UdpIngressConfig{}, *udp_host_, *udp_counters_);
  udp_ingress_->set_clock_origin(origin_ns_);
  lcore_host_ = std::make_unique<ingress::dpdk::UdpIngressLcoreHost>(*udp_ingress_, kDpdkThread);
  const std::string module = ingress::dpdk::dpdk_module_beside_binary();
  try {
    port_ = ingress::dpdk::open_dpdk_module(module, ds, *lcore_host_);
  } catch (const std::runtime_error& e) {
    if (kBuiltWithDpdk) throw;
    throw std::runtime_error(std::string(e.what()) +
                             " (this peregrine was built without DPDK: install libdpdk-dev and rebuild, docs/dpdk.md)");
  }
  ingress::UdpReplyConfig rc;
  rc.heartbeat_interval_ns = limits_.heartbeat_interval_ns;
  replier_ = std::make_unique<ingress::UdpReplier>(
      users, sessions, rc, [this](std::size_t b, std::span<const std::uint8_t> d) { send_udp(b, d); });
  if (ic.itch_destination) {
    itch_addr_.src_mac = port_->mac();
    itch_addr_.src_ip = local_ip_;
    itch_addr_.src_port = ic.udp_port;
    itch_addr_.dst_port = ic.itch_destination->port;
    (void)ingress::parse_ipv4(ic.itch_destination->host, itch_addr_.dst_ip);  // checked by the loader
    const bool mac_ok = ic.itch_mac.empty() ? ingress::multicast_mac(itch_addr_.dst_ip, itch_addr_.dst_mac)
                                            : ingress::parse_mac(ic.itch_mac, itch_addr_.dst_mac);
    if (!mac_ok)
      throw std::runtime_error("ingress.itch_destination " + ic.itch_destination->to_string() +
                               " is not a multicast group: ingress.itch_mac must name the next hop's MAC");
    itch_via_dpdk_ = true;
  }
}

std::string Server::start_dpdk_loop() {
  if (!port_) return {};
  std::string error;
  const std::optional<std::string> started = port_->start(mono_ns(), error);
  if (!started) throw std::runtime_error(error);
  const std::string& where = *started;
  log_->info("dpdk: port {} ({}) mac {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}, UDP {}:{}, rx on {}", port_->settings().port,
             port_->name(), port_->mac()[0], port_->mac()[1], port_->mac()[2], port_->mac()[3], port_->mac()[4],
             port_->mac()[5], cfg_.ingress.ip, cfg_.ingress.udp_port, where);
  std::string line = ", DPDK UDP " + cfg_.ingress.ip + ":" + std::to_string(cfg_.ingress.udp_port) + " on " +
                     port_->name() + " (" + where + ")";
  if (itch_via_dpdk_) line += ", ITCH MoldUDP64 via DPDK to " + cfg_.ingress.itch_destination->to_string();
  return line;
}

void Server::stop_dpdk_loop() {
  if (port_) port_->stop();
}

void Server::close_dpdk_port() {
  if (!port_) return;
  flush_udp_tx();
  if (dpdk_collector_) dpdk_collector_.reset();
  port_.reset();
}

// One reply datagram to binding `b`, addressed to the MAC it last sent from.
void Server::send_udp(std::size_t b, std::span<const std::uint8_t> datagram) {
  const std::uint64_t mac = udp_ingress_->peer_mac(b);
  if (mac == 0) return;  // never heard from: no address to send to (it re-requests later)
  ingress::UdpAddressing a;
  a.src_mac = port_->mac();
  a.dst_mac = ingress::mac_from_u64(mac);
  a.src_ip = local_ip_;
  a.dst_ip = binding_ips_[b];
  a.src_port = cfg_.ingress.udp_port;
  a.dst_port = binding_ports_[b];
  (void)port_->send(a, datagram);
}

void Server::flush_udp_tx() {
  if (port_) port_->flush_tx();
}

// Notices from the lcore, then the replies egress queued in the bound users' buffers.
int Server::pump_udp(std::uint64_t now, bool events) {
  if (!replier_) return 0;
  const std::size_t n = notice_ring_->drain([this, now](ingress::UdpNotice& notice) { replier_->on_notice(notice, now); }, 1024);
  if (n > 0 || events) {
    replier_->flush(now);
    flush_udp_tx();
  }
  return static_cast<int>(n);
}

}  // namespace peregrine::app
