// libFuzzer target: the ITCH 5.0 decoder. Whatever decodes must encode back to exactly the input.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "peregrine/proto/itch50.hpp"

using namespace peregrine::proto;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  itch::Message m{};
  if (itch::decode({data, size}, m) != itch::Status::Ok) return 0;
  std::uint8_t out[itch::kMaxMessageSize];
  if (itch::encode(m, out) != size || std::memcmp(out, data, size) != 0) std::abort();
  return 0;
}
