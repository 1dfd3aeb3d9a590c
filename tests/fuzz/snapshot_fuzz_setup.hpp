#pragma once
// The configuration, users and command stream shared by the snapshot fuzzers
// (engine_snapshot_fuzz.cpp, egress_snapshot_fuzz.cpp) and by seed_corpus.cpp, which writes
// their seeds: snapshots of this configuration after a short trading session. Small tables keep
// a fresh Engine per input cheap.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "peregrine/core/command.hpp"
#include "peregrine/core/config.hpp"
#include "peregrine/core/engine.hpp"
#include "peregrine/core/event.hpp"
#include "peregrine/sessions/soup_session.hpp"
#include "support/engine_configs.hpp"

namespace peregrine::fuzz {

inline constexpr std::uint32_t kSnapshotOwners = 4;  // owner o trades for firm (o - 1) % 2

/// The snapshot fuzzers' configuration (built once): two_instrument_config, with 688001 starting
/// in the opening call and FRMB's self-trade prevention decrementing.
inline const EngineConfig& snapshot_config() {
  static const EngineConfig cfg = [] {
    EngineConfig c = testing::two_instrument_config(64, 256);
    c.instruments[1].initial_status = TradingStatus::OpeningCall;
    c.firms[1].stp = StpMode::Decrement;
    return c;
  }();
  return cfg;
}

inline void add_snapshot_users(sessions::UserDirectory& users) {
  for (std::uint32_t o = 1; o <= kSnapshotOwners; ++o) {
    sessions::UserAccount u;
    u.username = proto::soup::Username::from("U" + std::to_string(o));
    u.owner = OwnerId{o};
    u.firm = FirmId{static_cast<std::uint16_t>((o - 1) % 2)};
    users.add(u);
  }
}

/// A deterministic little session: resting orders on both instruments, trades, cancels, a
/// replace, a reused token, the call's uncross and a kill switch. `n` commands at most.
inline std::vector<Command> snapshot_commands(std::size_t n) {
  std::vector<Command> out;
  std::uint64_t ts = 1;
  for (std::uint32_t i = 0; out.size() < n; ++i) {
    const std::uint32_t owner = 1 + i % kSnapshotOwners;
    const FirmId firm{static_cast<std::uint16_t>((owner - 1) % 2)};
    const bool buy = (i / 3) % 2 == 0;
    const bool star = i % 5 == 4;
    const std::int64_t ref = star ? 50'000 : 100'000;
    const std::int64_t px = ref + (buy ? -1 : 1) * std::int64_t{100} * ((i * 7) % 5);
    const std::string tok = "T" + std::to_string(i);
    out.push_back(make_new_order(Timestamp{ts++}, OwnerId{owner}, firm, Symbol::from(star ? "688001" : "600519"),
                                 Token::from(tok), buy ? Side::Buy : Side::Sell, Qty{star ? 200u + i : 100u * (1 + i % 4)},
                                 Price{px}));
    if (i % 6 == 5) out.push_back(make_cancel(Timestamp{ts++}, OwnerId{owner}, Token::from(tok)));
    if (i % 7 == 3)
      out.push_back(make_replace(Timestamp{ts++}, OwnerId{owner}, Token::from(tok), Token::from("R" + tok), Qty{100},
                                 Price{px}));
    if (i % 9 == 8) out.push_back(make_new_order(Timestamp{ts++}, OwnerId{owner}, firm, Symbol::from("600519"),
                                                 Token::from("T0"), Side::Buy, Qty{100}, Price{100'000}));
    if (i == 20) out.push_back(make_schedule_phase(Timestamp{ts++}, InstrumentId{2}, TradingStatus::Trading));
    if (i == 25) out.push_back(make_kill_switch(Timestamp{ts++}, FirmId{1}, true, false));
  }
  out.resize(n);
  return out;
}

/// Runs `cmds` through `engine`; every event goes to `on_event(const Event&)`.
template <typename F>
void run_commands(Engine& engine, const std::vector<Command>& cmds, F&& on_event) {
  std::array<Event, 32> buf{};
  struct Ctx {
    F* f;
  } ctx{&on_event};
  EventSink sink(
      buf.data(), buf.size(),
      [](void* c, const Event* e, std::size_t k) noexcept {
        for (std::size_t i = 0; i < k; ++i) (*static_cast<Ctx*>(c)->f)(e[i]);
      },
      &ctx);
  for (const Command& c : cmds) engine.process(c, sink);
  sink.flush();
}

}  // namespace peregrine::fuzz
