#pragma once
/// One inbound OUCH 4.2 message of an established order-entry session, judged at the edge:
/// decode, per-second throttle, translation (proto::translate). Shared by the SoupBinTCP session
/// (sessions::SoupServerSession) and the UDP ingress (ingress::UdpIngress), which differ only in
/// what they do with the outcome. No allocation, no exceptions; one session's thread.

#include <cstdint>
#include <span>

#include "peregrine/core/command.hpp"
#include "peregrine/core/types.hpp"
#include "peregrine/proto/ouch42.hpp"
#include "peregrine/proto/ouch_translate.hpp"

namespace peregrine::sessions {

/// What to do with one inbound message. Every outcome but BadMessage is a command for the core:
/// refusals too travel as an EdgeReject command, so that the core sequences the OUCH Rejected
/// (and the journal replays it) like every other reply.
struct InboundDecision {
  enum class Kind : std::uint8_t {
    Submit,      ///< `command` (the order, cancel or replace) goes to the core; if its ring refuses
                 ///< it, the caller refuses the message with edge_reject_of(..., kOther)
    EdgeReject,  ///< `command` is make_edge_reject(): the message itself never reaches the core
    Throttled,   ///< over the per-second limit: `command` is make_edge_reject(..., kOther)
    BadMessage,  ///< the bytes are not an OUCH 4.2 inbound message: no command
  };
  Kind kind;
  Token token;      ///< the message's token (replacement token for Replace); valid unless BadMessage
  Command command;  ///< valid unless BadMessage
};

/// The EdgeReject command refusing `token` of `session` with OUCH reason `reason`, stamped `ts`.
[[nodiscard]] inline Command edge_reject_of(const proto::OuchSession& session, Token token, char reason,
                                            Timestamp ts) noexcept {
  return make_edge_reject(ts, session.owner, token, static_cast<std::uint8_t>(reason));
}

/// Per-session state of the edge checks: the throttle's one-second window.
class InboundGate {
 public:
  /// Judges `message` (one OUCH payload) from `session`, received at `now_ns` (monotonic, for the
  /// throttle), stamped `ts` (the command's timestamp). `throttle_per_second` 0 = unlimited.
  [[nodiscard]] InboundDecision admit(std::span<const std::uint8_t> message, const proto::OuchSession& session,
                                      std::uint32_t throttle_per_second, std::uint64_t now_ns,
                                      Timestamp ts) noexcept;

 private:
  [[nodiscard]] bool over_throttle(std::uint32_t limit, std::uint64_t now_ns) noexcept;

  std::uint64_t window_start_ns_ = 0;
  std::uint32_t count_ = 0;
};

}  // namespace peregrine::sessions
