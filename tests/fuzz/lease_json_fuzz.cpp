// libFuzzer target: the Lease JSON the API server sends (peregrine/ha/lease.hpp). decode_lease
// takes any bytes without incident; a Lease it accepts encodes to JSON that decodes to the same
// record, and encodes again to the same bytes.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "peregrine/ha/lease.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string error;
  const auto lease = peregrine::ha::decode_lease(text, &error);
  if (!lease) {
    FUZZ_CHECK(!error.empty());
    return 0;
  }
  const std::string once = peregrine::ha::encode_lease(*lease);
  const auto back = peregrine::ha::decode_lease(once, &error);
  FUZZ_CHECK(back.has_value());
  FUZZ_CHECK(*back == *lease);
  FUZZ_CHECK(peregrine::ha::encode_lease(*back) == once);
  return 0;
}
