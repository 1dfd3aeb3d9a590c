#include "peregrine/sessions/inbound_gate.hpp"

namespace peregrine::sessions {

namespace ouch = proto::ouch;

namespace {
constexpr std::uint64_t kSecondNs = 1'000'000'000;
}  // namespace

bool InboundGate::over_throttle(std::uint32_t limit, std::uint64_t now_ns) noexcept {
  if (limit == 0) return false;
  if (now_ns - window_start_ns_ >= kSecondNs) {
    window_start_ns_ = now_ns;
    count_ = 0;
  }
  return ++count_ > limit;
}

InboundDecision InboundGate::admit(std::span<const std::uint8_t> message, const proto::OuchSession& session,
                                   std::uint32_t throttle_per_second, std::uint64_t now_ns, Timestamp ts) noexcept {
  InboundDecision d{};
  ouch::Inbound m{};
  if (ouch::decode_inbound(message, m) != ouch::Status::Ok) {
    d.kind = InboundDecision::Kind::BadMessage;
    return d;
  }
  d.token = m.type == ouch::InboundType::EnterOrder     ? m.enter.token
            : m.type == ouch::InboundType::ReplaceOrder ? m.replace.replacement
                                                        : m.cancel.token;
  if (over_throttle(throttle_per_second, now_ns)) {
    d.kind = InboundDecision::Kind::Throttled;
    d.command = edge_reject_of(session, d.token, ouch::reject::kOther, ts);
    return d;
  }
  const proto::InboundTranslation t = proto::translate(m, session, ts);
  if (!t.is_command()) {
    d.kind = InboundDecision::Kind::EdgeReject;
    d.command = edge_reject_of(session, t.reject.token, t.reject.reason, ts);
    return d;
  }
  d.kind = InboundDecision::Kind::Submit;
  d.command = t.command;
  return d;
}

}  // namespace peregrine::sessions
