// Broker and market controls: mass cancel, the kill switch, trading status commands and the
// schedule (docs/market-rules.md).

#include <cstdint>

#include "engine_state.hpp"

namespace peregrine::detail {

void EngineState::mass_cancel(EventSink& sink, Timestamp ts, FirmId firm, InstrumentId instrument, OwnerId owner,
                              CancelReason why) noexcept {
  for (std::uint32_t s = firms[firm.value()].head; s != kNone;) {
    const std::uint32_t next = pool[s].firm_next;
    const OrderSlot& o = pool[s];
    if ((owner.value() == 0 || o.owner == owner.value()) &&
        (instrument.value() == 0 || o.book + 1u == instrument.value())) {
      reduce_resting(sink, ts, books[o.book], s, o.open, why);
    }
    s = next;
  }
}

void EngineState::reject_admin(EventSink& sink, Timestamp ts, RejectCode code) noexcept {
  Event& e = sink.emplace(EventType::CancelRejected, ts);
  e.code = static_cast<std::uint8_t>(code);
}

void EngineState::on_mass_cancel(const MassCancelCmd& c, Timestamp ts, EventSink& sink) noexcept {
  if (c.firm.value() >= firms.size()) return reject_admin(sink, ts, RejectCode::UnknownFirm);
  if (c.instrument.value() != 0 && !valid_book(c.instrument)) return reject_admin(sink, ts, RejectCode::UnknownSymbol);
  mass_cancel(sink, ts, c.firm, c.instrument, c.owner, c.reason);
}

void EngineState::on_kill_switch(const SetKillSwitchCmd& c, Timestamp ts, EventSink& sink) noexcept {
  if (c.firm.value() >= firms.size()) return reject_admin(sink, ts, RejectCode::UnknownFirm);
  FirmState& f = firms[c.firm.value()];
  f.kill = c.engaged != 0;
  if (f.kill && c.cancel_open != 0) mass_cancel(sink, ts, c.firm, InstrumentId{0}, OwnerId{0}, CancelReason::Supervisory);
  Event& e = sink.emplace(EventType::KillSwitchChanged, ts);
  e.firm = c.firm;
  e.code = f.kill ? 1 : 0;
}

void EngineState::on_trading_status(const SetTradingStatusCmd& c, Timestamp ts, EventSink& sink) noexcept {
  auto refuse = [&](RejectCode code) {
    Event& e = sink.emplace(EventType::Rejected, ts);
    e.instrument = c.instrument;
    e.code = static_cast<std::uint8_t>(code);
  };
  const bool all = c.instrument.value() == 0 && c.action == StatusAction::Schedule;
  if (!all && !valid_book(c.instrument)) return refuse(RejectCode::UnknownSymbol);
  if (!is_known_status(c.status) || c.action > StatusAction::Resume) return refuse(RejectCode::InvalidOrderType);
  switch (c.action) {
    case StatusAction::Set: {
      Book& b = books[c.instrument.value() - 1u];
      if (is_session_phase(c.status)) b.session = c.status;
      return transition(sink, ts, b, c.status);
    }
    case StatusAction::Schedule: {
      if (!is_session_phase(c.status)) return refuse(RejectCode::InvalidTransition);
      if (!all) return schedule(sink, ts, books[c.instrument.value() - 1u], c.status);
      for (Book& b : books) schedule(sink, ts, b, c.status);
      return;
    }
    case StatusAction::Resume: {
      Book& b = books[c.instrument.value() - 1u];
      if (b.status != TradingStatus::Halted && b.status != TradingStatus::Suspended &&
          b.status != TradingStatus::ResumeCall)
        return refuse(RejectCode::InvalidTransition);
      const bool via_call = c.status == TradingStatus::ResumeCall && b.session == TradingStatus::Trading &&
                            b.status != TradingStatus::ResumeCall;
      return transition(sink, ts, b, via_call ? TradingStatus::ResumeCall : b.session);
    }
  }
}

// The schedule moves the market to `phase`: the instrument follows unless it is halted or
// suspended (it stays, and resumes into the phase the market is in), or in a resumption call
// (which continuous trading does not end; a call phase or a break or the close does).
void EngineState::schedule(EventSink& sink, Timestamp ts, Book& b, TradingStatus phase) noexcept {
  b.session = phase;
  switch (b.status) {
    case TradingStatus::Halted:
    case TradingStatus::Suspended: return;
    case TradingStatus::ResumeCall:
      if (phase != TradingStatus::Trading) transition(sink, ts, b, phase);
      return;
    default:
      if (b.status != phase) transition(sink, ts, b, phase);
      return;
  }
}

}  // namespace peregrine::detail
