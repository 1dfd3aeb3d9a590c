#pragma once
// The small engine configurations that tests and fuzzers run a real Engine with. Header-only and
// needing only the core's headers, so that the libFuzzer builds (outside CMake's targets, with
// `-I tests`) use it as well as the ctest binaries.

#include <cstdint>

#include "peregrine/core/config.hpp"

namespace peregrine::testing {

/// One instrument (600519, reference 180.00 unless given, the main board's defaults) and one firm
/// (FRMA): the core behind the session and UDP replier tests and the session and UDP ingress fuzzers.
inline EngineConfig one_instrument_config(std::uint32_t max_orders, std::uint32_t max_tokens,
                                          Price reference = Price{1'800'000}) {
  EngineConfig cfg;
  InstrumentConfig i;
  i.symbol = Symbol::from("600519");
  i.reference_price = reference;
  cfg.instruments.push_back(i);
  FirmConfig f;
  f.name = FirmName::from("FRMA");
  cfg.firms.push_back(f);
  cfg.max_orders = max_orders;
  cfg.max_tokens = max_tokens;
  return cfg;
}

/// Two instruments with low reference prices, so that their books (levels span the daily limits)
/// stay small and a fresh Engine per fuzz input is cheap: 600519 at 10.00, and 688001 at 5.00 with
/// a lot of 1 and a minimum of 200 shares; two firms, FRMA and FRMB. Callers adjust the rest.
inline EngineConfig two_instrument_config(std::uint32_t max_orders, std::uint32_t max_tokens) {
  EngineConfig cfg;
  InstrumentConfig a;
  a.symbol = Symbol::from("600519");
  a.reference_price = Price{100'000};  // 10.00
  cfg.instruments.push_back(a);
  InstrumentConfig b = a;
  b.symbol = Symbol::from("688001");
  b.reference_price = Price{50'000};  // 5.00
  b.lot_size = Qty{1};
  b.min_qty = Qty{200};
  cfg.instruments.push_back(b);
  FirmConfig fa;
  fa.name = FirmName::from("FRMA");
  FirmConfig fb;
  fb.name = FirmName::from("FRMB");
  cfg.firms = {fa, fb};
  cfg.max_orders = max_orders;
  cfg.max_tokens = max_tokens;
  return cfg;
}

}  // namespace peregrine::testing
