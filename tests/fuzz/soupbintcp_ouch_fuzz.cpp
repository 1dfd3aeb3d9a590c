// libFuzzer target: the gateway's inbound path end to end.
//
// The input is a TCP byte stream from a client. Its first byte chooses how the stream is cut into
// reads and the decoder's maximum packet length; the rest goes through the SoupBinTCP
// StreamDecoder (Role::Server). Login Requests are decoded; Unsequenced Data payloads are decoded
// as OUCH 4.2, translated for a session, run through a real Engine, and every event is translated
// to OUCH and ITCH, encoded and decoded back. Checks (abort on failure): the decoder never hands
// out a packet outside the input, inbound OUCH that decodes re-encodes to the same bytes, and
// every outbound message decodes back to itself.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>

#include "peregrine/core/engine.hpp"
#include "peregrine/proto/itch50.hpp"
#include "peregrine/proto/ouch42.hpp"
#include "peregrine/proto/ouch_translate.hpp"
#include "peregrine/proto/soupbintcp.hpp"
#include "fuzz_check.hpp"
#include "support/engine_configs.hpp"

using namespace peregrine;
using namespace peregrine::proto;

namespace {

EngineConfig make_config() {
  EngineConfig cfg = testing::two_instrument_config(256, 1024);
  cfg.instruments[1].cage_bps = 200;
  cfg.firms[0].stp = StpMode::CancelNewest;
  cfg.firms[1].max_order_notional = 1'000'000'000'000;
  return cfg;
}

struct World {
  EngineConfig cfg = make_config();
  Engine engine{cfg};
  ConfigLookup ref{cfg};
  World() { ref.set_attributed(FirmId{1}, true); }
};

void check_outbound(const Event* events, std::size_t n, const ReferenceLookup& ref) {
  for (std::size_t i = 0; i < n; ++i) {
    std::uint8_t buf[128];
    ouch::Outbound o{};
    if (to_ouch(events[i], ref, o)) {
      const std::size_t len = ouch::encode(o, buf);
      FUZZ_CHECK(len == ouch::outbound_size(static_cast<std::uint8_t>(o.type)));
      ouch::Outbound back{};
      FUZZ_CHECK(ouch::decode_outbound({buf, len}, back) == ouch::Status::Ok);
      std::uint8_t again[128];
      FUZZ_CHECK(ouch::encode(back, again) == len && std::memcmp(buf, again, len) == 0);
    }
    itch::Message m{};
    if (to_itch(events[i], ref, m)) {
      const std::size_t len = itch::encode(m, buf);
      FUZZ_CHECK(len != 0);
      itch::Message back{};
      FUZZ_CHECK(itch::decode({buf, len}, back) == itch::Status::Ok);
      std::uint8_t again[128];
      FUZZ_CHECK(itch::encode(back, again) == len && std::memcmp(buf, again, len) == 0);
    }
  }
}

void on_events(void* ctx, const Event* events, std::size_t n) noexcept {
  check_outbound(events, n, *static_cast<const ReferenceLookup*>(ctx));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // A fresh engine per input keeps runs independent (the corpus minimiser relies on it).
  World w;
  const std::uint8_t mode = data[0];
  const std::span<const std::uint8_t> stream(data + 1, size - 1);
  const std::size_t max_len = (mode & 0x80) != 0 ? 64 : soup::kMaxPacketLength;
  const std::size_t chunk = 1 + (mode & 0x3F);  // bytes per read
  soup::StreamDecoder dec(soup::Role::Server, max_len);
  const OuchSession sessions[2] = {{OwnerId{1}, FirmId{0}, FirmName::from("FRMA")},
                                   {OwnerId{2}, FirmId{1}, FirmName::from("FRMB")}};
  std::uint64_t ts = 34'200'000'000'000ull;
  std::size_t nth = 0;
  Event buf[8];
  EventSink sink(buf, 8, &on_events, &w.ref);

  for (std::size_t off = 0; off < stream.size(); off += chunk) {
    const std::span<const std::uint8_t> read = stream.subspan(off, std::min(chunk, stream.size() - off));
    FUZZ_CHECK(dec.feed(read));
    for (;;) {
      soup::Packet p{};
      const soup::DecodeStatus st = dec.poll(p);
      if (st == soup::DecodeStatus::NeedMore) break;
      if (soup::is_sticky(st)) break;  // the gateway drops the connection here
      FUZZ_CHECK(p.payload.size() <= max_len);
      if (st != soup::DecodeStatus::Ok) continue;
      if (p.type == soup::PacketType::LoginRequest) {
        soup::LoginRequest lr{};
        (void)soup::decode_login_request(p, lr);
        continue;
      }
      if (p.type != soup::PacketType::UnsequencedData) continue;
      ouch::Inbound in{};
      if (ouch::decode_inbound(p.payload, in) != ouch::Status::Ok) continue;
      std::uint8_t again[ouch::kMaxMessageSize];
      FUZZ_CHECK(ouch::encode(in, again) == p.payload.size());
      FUZZ_CHECK(std::memcmp(again, p.payload.data(), p.payload.size()) == 0);
      const OuchSession& s = sessions[nth++ % 2];
      const InboundTranslation t = translate(in, s, Timestamp{ts += 1000});
      if (t.is_command()) {
        w.engine.process(t.command, sink);
        sink.flush();
      } else {
        std::uint8_t rej[ouch::kRejectedSize];
        FUZZ_CHECK(ouch::encode(t.reject, rej) == ouch::kRejectedSize);
      }
    }
    if (dec.buffered() > max_len + soup::kLengthFieldSize) std::abort();
  }
  FUZZ_CHECK(w.engine.validate_internal_state());
  return 0;
}
