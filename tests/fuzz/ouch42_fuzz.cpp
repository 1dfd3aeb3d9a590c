// libFuzzer target: OUCH 4.2 decoders. The input is one message; it is decoded as inbound and as
// outbound, and whatever decodes must encode back to exactly the input bytes. The inbound message
// is then translated (edge checks only; no engine).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>

#include "peregrine/proto/ouch42.hpp"
#include "peregrine/proto/ouch_translate.hpp"

using namespace peregrine;
using namespace peregrine::proto;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> in(data, size);
  std::uint8_t out[ouch::kMaxMessageSize];

  ouch::Inbound i{};
  if (ouch::decode_inbound(in, i) == ouch::Status::Ok) {
    if (ouch::encode(i, out) != size || std::memcmp(out, data, size) != 0) std::abort();
    const OuchSession s{OwnerId{1}, FirmId{0}, FirmName::from("FRMA")};
    const InboundTranslation t = translate(i, s, Timestamp{1});
    if (!t.is_command() && ouch::encode(t.reject, out) != ouch::kRejectedSize) std::abort();
  }
  ouch::Outbound o{};
  if (ouch::decode_outbound(in, o) == ouch::Status::Ok) {
    if (ouch::encode(o, out) != size || std::memcmp(out, data, size) != 0) std::abort();
  }
  return 0;
}
