// libFuzzer target: the UDP order-entry path of the DPDK ingress, without DPDK. The input is a
// sequence of records [u16 length][bytes]. With the first input byte even each record is a whole
// Ethernet frame (parse_udp_frame, then UdpIngress when it parses); odd, each record is a UDP
// payload from the bound client endpoint (so the fuzzer reaches MoldUDP64 and OUCH without
// having to find checksums). Notices are replayed into a UdpReplier over a real journal, and the
// EdgeReject commands (edge refusals) go through a real Engine whose Rejected lands in that
// journal, as the core and egress would put it there; every reply the replier sends is checked
// to parse as MoldUDP64, and the ingress's invariants are checked: the next expected sequence
// number never goes down, and every command carries the bound owner.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "peregrine/core/engine.hpp"
#include "peregrine/core/event.hpp"
#include "peregrine/ingress/packet.hpp"
#include "peregrine/ingress/udp_ingress.hpp"
#include "peregrine/ingress/udp_replier.hpp"
#include "support/engine_configs.hpp"
#include "support/run_engine.hpp"

using namespace peregrine;
using namespace peregrine::ingress;

namespace {

class Host : public UdpIngressHost {
 public:
  bool submit(const Command& cmd) noexcept override {
    if (++submits % 7 == 0) return false;  // a full ring now and then
    const OwnerId owner = cmd.type == CommandType::NewOrder     ? cmd.new_order.owner
                          : cmd.type == CommandType::Cancel     ? cmd.cancel.owner
                          : cmd.type == CommandType::EdgeReject ? cmd.edge_reject.owner
                                                                : cmd.replace.owner;
    if (owner != OwnerId{1}) std::abort();
    if (cmd.type == CommandType::EdgeReject) edge_rejects.push_back(cmd);
    return true;
  }
  bool notify(const UdpNotice& n) noexcept override {
    if (notices.size() >= 64) return false;
    notices.push_back(n);
    return true;
  }
  std::size_t submits = 0;
  std::vector<UdpNotice> notices;
  std::vector<Command> edge_rejects;
};

// The core and egress for the edge refusals: each EdgeReject's one Rejected, as OUCH, appended
// to the user's journal.
void run_core(std::vector<Command>& cmds, sessions::UserState& user) {
  static Engine engine(testing::one_instrument_config(16, 16));
  static const proto::ConfigLookup lookup(engine.config());
  const std::vector<Event> events = testing::events_of(engine, cmds);
  cmds.clear();
  for (const Event& e : events) {
    proto::ouch::Outbound o{};
    if (e.type != EventType::Rejected || e.owner != user.account.owner || !proto::to_ouch(e, lookup, o)) std::abort();
    std::array<std::uint8_t, proto::ouch::kMaxMessageSize> msg{};
    user.outbound.append({msg.data(), proto::ouch::encode(o, msg)});
  }
}

constexpr std::uint32_t kClient = 0x0A000002;
constexpr std::uint16_t kClientPort = 40000;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool frames = (data[0] & 1) == 0;
  Host host;
  UdpIngressCounters counters;
  UdpBinding b;
  b.ip = kClient;
  b.port = kClientPort;
  b.session = proto::mold::SessionId::from("FUZZ");
  b.ouch = proto::OuchSession{OwnerId{1}, FirmId{0}, FirmName::from("FRMA")};
  b.throttle_per_second = 50;
  UdpIngress ingress({b}, {}, host, counters);

  sessions::UserDirectory users(16);
  sessions::UserAccount a{};
  a.username = Alpha<6>::from("FUZZ");
  a.owner = OwnerId{1};
  users.add(a);
  UdpReplyConfig rc;
  UdpReplier replier({users.find(OwnerId{1})}, {b.session}, rc, [](std::size_t, std::span<const std::uint8_t> d) {
    proto::mold::Packet p{};
    proto::mold::Request r{};
    if (proto::mold::parse(d, p) != proto::mold::Status::Ok && proto::mold::parse_request(d, r) != proto::mold::Status::Ok)
      std::abort();
  });

  std::uint64_t now = 1;
  std::uint64_t expected = ingress.next_expected(0);
  std::size_t at = 1;
  while (at + 2 <= size) {
    const std::size_t len = (std::size_t{data[at]} << 8) | data[at + 1];
    at += 2;
    const std::size_t n = len < size - at ? len : size - at;
    const std::span<const std::uint8_t> rec(data + at, n);
    at += n;
    now += 1'000'000;
    UdpDatagram d{};
    if (frames) {
      if (parse_udp_frame(rec, 0, 0, d) != FrameDrop::None) continue;
      if (d.payload.data() < rec.data() || d.payload.data() + d.payload.size() > rec.data() + rec.size()) std::abort();
    } else {
      d.addr.src_ip = kClient;
      d.addr.src_port = kClientPort;
      d.payload = rec;
    }
    (void)ingress.on_datagram(d, now);
    if (ingress.next_expected(0) < expected) std::abort();
    expected = ingress.next_expected(0);
    for (const UdpNotice& notice : host.notices) replier.on_notice(notice, now);
    host.notices.clear();
    run_core(host.edge_rejects, *users.find(OwnerId{1}));
    replier.flush(now);
  }
  return 0;
}
