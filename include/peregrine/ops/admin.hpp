#pragma once
/// The admin API's view of the engine: what OpsServer asks, and what the application answers.
/// The application implements AdminBackend (typically by queueing a command for the core thread,
/// or by reading a snapshot the core thread publishes); OpsServer does HTTP, authentication and
/// validation and calls it with well-formed arguments only.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "peregrine/core/engine.hpp"
#include "peregrine/core/types.hpp"

namespace peregrine::ops {

/// How an admin call went; OpsServer maps it to an HTTP status (docs/operations-http.md).
enum class AdminStatus : std::uint8_t {
  Done,           ///< applied, or (depth) the snapshot is filled in: HTTP 200
  Accepted,       ///< queued for the core thread, which will apply it: HTTP 202
  UnknownSymbol,  ///< no such instrument: HTTP 404
  UnknownFirm,    ///< no such firm: HTTP 404
  Busy,           ///< cannot queue it now (say, the admin ring is full); retry shortly: HTTP 503
  Unavailable,    ///< the engine cannot take it (starting, stopping, standby): HTTP 503
  /// The instrument's state does not allow it (say, a resume of an instrument that is trading):
  /// the core would refuse it with RejectCode::InvalidTransition, so nothing was queued: HTTP 409.
  InvalidTransition,
};

/// The answer to one admin call.
struct AdminResult {
  AdminStatus status = AdminStatus::Done;
  /// Optional text for the operator, returned in the JSON "detail" field. Must not hold secrets.
  std::string detail;
};

/// Book depth of one instrument.
struct DepthSnapshot {
  TradingStatus status = TradingStatus::Trading;
  /// Best (highest) bid first.
  std::vector<DepthLevel> bids;
  /// Best (lowest) ask first.
  std::vector<DepthLevel> asks;
  /// In a call phase: the indicative auction last published (price 0: the book does not cross).
  std::optional<AuctionInfo> indicative;
};

/// Implemented by the application. OpsServer calls it on its own thread, one call at a time,
/// and only with validated arguments (symbols of 1-8 letters or digits, firms of 1-4). A call
/// must return promptly: while it runs the ops thread serves nothing else, /metrics and the
/// probes included. An exception from a call becomes HTTP 500 and a log line.
class AdminBackend {
 public:
  virtual ~AdminBackend() = default;

  /// Up to `levels` levels per side of `symbol`'s book (levels >= 1); more are cut off.
  virtual AdminResult depth(const Symbol& symbol, std::size_t levels, DepthSnapshot& out) = 0;
  /// Halts trading in `symbol`.
  virtual AdminResult halt(const Symbol& symbol) = 0;
  /// Resumes trading in `symbol` (through a resumption call when the market is configured so).
  /// Only a halted, suspended or resumption-call instrument can be resumed: otherwise
  /// InvalidTransition, with a detail naming the instrument's state.
  virtual AdminResult resume(const Symbol& symbol) = 0;
  /// Puts `symbol` in `phase` now, whatever its state (an operator overriding the schedule;
  /// `suspended` suspends).
  virtual AdminResult set_phase(const Symbol& symbol, TradingStatus phase) = 0;
  /// Engages `firm`'s kill switch; with `cancel_open`, also cancels its live orders.
  virtual AdminResult kill(const FirmName& firm, bool cancel_open) = 0;
  /// Releases `firm`'s kill switch.
  virtual AdminResult release(const FirmName& firm) = 0;
  /// Cancels `firm`'s live orders, in `symbol` only when given.
  virtual AdminResult mass_cancel(const FirmName& firm, const std::optional<Symbol>& symbol) = 0;
  /// Asks for a snapshot of the state now (docs/operations.md, "Snapshots"); the snapshot
  /// thread writes it shortly. Unavailable when the service runs without a journal.
  virtual AdminResult snapshot() { return {AdminStatus::Unavailable, "no journal: snapshots need journal.dir"}; }
  /// Issue #15 (docs/ha.md, "Promotion"): makes this standby the leader. Done once it leads;
  /// InvalidTransition when this node is not a standby (HTTP 409); Unavailable while it must
  /// still catch up with a leader it hears from (HTTP 503).
  virtual AdminResult promote() { return {AdminStatus::InvalidTransition, "not a standby (ha.role)"}; }
};

}  // namespace peregrine::ops
