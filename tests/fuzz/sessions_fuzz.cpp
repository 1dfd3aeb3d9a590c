// libFuzzer target: the server-side session state machines on hostile bytes.
//   byte 0 picks the target: order-entry session (SoupServerSession), ITCH feed session
//   (FeedSession), or MoldUDP64 re-request (MoldUdpPacketizer::on_request); bit 0x80 prepends a
//   valid login so the fuzzer also reaches the logged-in state. The rest is fed in chunks whose
//   sizes come from the input itself, with time moving on between chunks (ticks, timeouts).
// Checks: no crash or sanitizer report; nothing is sent or submitted after a session closes;
// a closed session stays closed. The host plays the core for the commands the session itself
// generates: an EdgeReject (edge refusal, full ring, throttle) comes back, between chunks, as
// the real Engine's Rejected in the user's buffer, as the server's egress would put it there.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <type_traits>
#include <vector>

#include "peregrine/core/engine.hpp"
#include "peregrine/core/event.hpp"
#include "peregrine/egress/feed_session.hpp"
#include "peregrine/egress/itch_buffer.hpp"
#include "peregrine/egress/mold_packetizer.hpp"
#include "peregrine/sessions/soup_session.hpp"
#include "support/engine_configs.hpp"
#include "support/run_engine.hpp"

namespace {

using namespace peregrine;
namespace soup = proto::soup;

class Host final : public sessions::SessionHost, public egress::FeedHost {
 public:
  void send(std::span<const std::uint8_t> bytes) override {
    if (closed) std::abort();  // nothing may be sent after close()
    sent += bytes.size();
  }
  bool submit(const Command&) override {
    if (closed) std::abort();
    return (++submitted % 7) != 0;  // now and then the ring is "full"
  }
  void submit_control(const Command& c) override {
    ++control;
    pending.push_back(c);
  }
  void close(sessions::CloseReason) override {
    if (closed) std::abort();  // closed twice
    closed = true;
  }
  // The core and egress: runs the pending control commands through an Engine and appends the
  // owner's OUCH replies to its buffer. The caller then lets the session deliver.
  void run_core(sessions::UserDirectory& dir);

  bool closed = false;
  std::size_t sent = 0;
  std::size_t submitted = 0;
  std::size_t control = 0;
  std::vector<Command> pending;
};

void Host::run_core(sessions::UserDirectory& dir) {
  static Engine engine(testing::one_instrument_config(64, 64));
  static const proto::ConfigLookup lookup(engine.config());
  // Only the session's own answers matter here; cancel-on-disconnect would find nothing live.
  std::vector<Command> edge_rejects;
  for (const Command& c : pending) {
    if (c.type == CommandType::EdgeReject) edge_rejects.push_back(c);
  }
  pending.clear();
  for (const Event& e : testing::events_of(engine, edge_rejects)) {
    if (e.type != EventType::Rejected) std::abort();  // an EdgeReject has no other answer
    sessions::UserState* u = dir.find(e.owner);
    proto::ouch::Outbound o{};
    if (u == nullptr || !proto::to_ouch(e, lookup, o)) std::abort();
    std::array<std::uint8_t, proto::ouch::kMaxMessageSize> msg{};
    u->outbound.append({msg.data(), proto::ouch::encode(o, msg)});
  }
}

sessions::UserDirectory& users() {
  static sessions::UserDirectory dir = [] {
    sessions::UserDirectory d(64);
    sessions::UserAccount a;
    a.username = Alpha<6>::from("DEMO1");
    a.password = Alpha<10>::from("pw");
    a.owner = OwnerId{1};
    a.firm = FirmId{0};
    a.firm_name = FirmName::from("FRMA");
    a.throttle_per_second = 50;
    d.add(a);
    return d;
  }();
  return dir;
}

std::vector<std::uint8_t> login_packet() {
  std::vector<std::uint8_t> out(soup::kLoginRequestSize);
  const soup::LoginRequest req{Alpha<6>::from("DEMO1"), Alpha<10>::from("pw"), Alpha<10>::from(""), 1};
  out.resize(soup::encode_login_request(req, out));
  return out;
}

template <typename Session>
void feed_chunks(Session& s, Host& host, const std::uint8_t* data, std::size_t size, bool login) {
  std::uint64_t now = 1;
  if (login) {
    const auto l = login_packet();
    s.on_bytes(l, now);
  }
  std::size_t i = 0;
  while (i < size) {
    const std::size_t chunk = 1 + data[i] % 64;
    ++i;
    const std::size_t n = chunk < size - i ? chunk : size - i;
    now += (data[i - 1] & 0x80) ? 2'000'000'000ULL : 1'000ULL;
    s.on_bytes({data + i, n}, now);
    if constexpr (std::is_same_v<Session, sessions::SoupServerSession>) {
      host.run_core(users());
      s.deliver(now);
    }
    s.on_tick(now);
    i += n;
  }
  if (host.closed && s.state() != Session::State::Closed) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t mode = data[0];
  ++data;
  --size;
  const bool login = (mode & 0x80) != 0;
  switch (mode % 3) {
    case 0: {
      Host host;
      sessions::SessionLimits limits;
      sessions::SessionCounters counters;
      sessions::SoupServerSession s(users(), host, limits, counters, 0);
      feed_chunks(s, host, data, size, login);
      s.deliver(10'000'000'000ULL);
      s.end_session();
      break;
    }
    case 1: {
      Host host;
      egress::ItchBuffer buffer(32);
      const std::uint8_t msg[] = {'S', 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 'O'};
      for (int k = 0; k < 40; ++k) (void)buffer.append(msg);
      egress::FeedRegistry registry(buffer);
      egress::FeedCounters counters;
      egress::FeedSession s(registry, users(), host, egress::FeedLimits{}, counters, 0);
      feed_chunks(s, host, data, size, login);
      registry.deliver_all(10'000'000'000ULL);
      break;
    }
    default: {
      egress::ItchBuffer buffer(64);
      egress::MoldConfig cfg;
      std::size_t datagrams = 0;
      egress::MoldUdpPacketizer mold(buffer, cfg, [&](std::span<const std::uint8_t>) { ++datagrams; });
      const std::uint8_t msg[] = {'S', 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 'O'};
      for (int k = 0; k < 100; ++k) mold.add(buffer.append(msg), msg);
      mold.flush(1);
      for (const auto& reply : mold.on_request({data, size}))
        if (reply.size() > cfg.mtu) std::abort();  // a reply never exceeds the MTU
      break;
    }
  }
  return 0;
}
