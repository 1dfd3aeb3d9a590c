#pragma once
/// Drop-copy messages (docs/dropcopy.md, the consumer's contract): one JSON document per order
/// event with the fields of a FIX ExecutionReport, its routing key and AMQP message id, numbered
/// by the publisher. Pure functions and two small stateful helpers; the publisher's thread only.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "peregrine/config/service.hpp"
#include "peregrine/core/event.hpp"

namespace peregrine::dropcopy {

/// The order events the drop copy carries; book and status events are not (they are ITCH's).
enum class Kind : std::uint8_t { Accepted, Rejected, Executed, Canceled, Replaced, CancelRejected, KillSwitch };

/// The drop-copy kind of an event, or nothing for the events the drop copy leaves out.
[[nodiscard]] std::optional<Kind> kind_of(EventType t) noexcept;
/// `accepted`, `rejected`, `executed`, `canceled`, `replaced`, `cancel_rejected`, `kill_switch`:
/// the `kind` field and the routing key's last word.
[[nodiscard]] std::string_view to_string(Kind k) noexcept;

/// One routing-key word from free text: every byte other than A-Z, a-z, 0-9, '_' and '-' becomes
/// `%XX` (upper-case hex), so a symbol with dots stays one word and the escape can be undone.
[[nodiscard]] std::string routing_word(std::string_view text);

/// Names for the ids events carry, from the configuration: firms by FirmId, users and their firms
/// by OwnerId (owner ids 1, 2, ... in configuration order, as replay::add_users numbers them),
/// symbols by InstrumentId.
class Directory {
 public:
  explicit Directory(const config::ServiceConfig& cfg);
  [[nodiscard]] std::string_view firm(FirmId f) const noexcept;
  [[nodiscard]] std::string_view user(OwnerId o) const noexcept;
  [[nodiscard]] std::string_view symbol(InstrumentId i) const noexcept;
  /// The firm the event belongs to: its owner's firm when it has an owner (rejects and cancel
  /// rejects carry no firm of their own), else its firm field (kill switch).
  [[nodiscard]] FirmId firm_of(const Event& e) const noexcept;
  [[nodiscard]] std::size_t firms() const noexcept { return firms_.size(); }

 private:
  std::vector<std::string> firms_;
  std::vector<std::string> users_;       // [owner - 1]
  std::vector<FirmId> user_firms_;       // [owner - 1]
  std::vector<std::string> symbols_;     // [instrument - 1]
};

/// Cumulative executed quantity per live order (FIX CumQty), carried across replaces; an order
/// leaves it when nothing of it is open. Fed every order event of the day in order.
class OrderTracker {
 public:
  /// Applies `e` and returns the order's cumulative quantity after it (0 for events of no order).
  std::uint64_t apply(const Event& e);
  [[nodiscard]] std::size_t size() const noexcept { return cum_.size(); }

 private:
  std::unordered_map<std::uint64_t, std::uint64_t> cum_;  // order id -> executed so far (only when > 0)
};

/// Where an event stands in the drop copy.
struct Numbering {
  std::string_view market;     ///< dropcopy.market
  std::string_view day;        ///< the trading day, exchange date `YYYY-MM-DD` (the journal's directory)
  std::int32_t utc_offset_seconds = 0;  ///< the exchange's clock (market.utc_offset)
  std::uint64_t seq = 0;       ///< dense per market from 1 each day: the dedupe key
  std::uint64_t firm_seq = 0;  ///< dense per market and firm from 1 each day
  std::uint64_t journal_seq = 0;  ///< the command's journal record number
  std::uint64_t cum_qty = 0;   ///< OrderTracker::apply
  std::string_view command_symbol;  ///< the symbol of the command (a new order's), for events without an instrument
};

/// One message to publish.
struct Message {
  std::string routing_key;   ///< `<prefix>.<firm>.<symbol>.<kind>`, words escaped by routing_word(); `-` for none
  std::string message_id;    ///< `<market>:<day>:<seq>`, unique per market and day
  std::string body;          ///< the JSON document (docs/dropcopy.md)
  std::uint64_t unix_seconds = 0;  ///< the event's time, for the AMQP timestamp property
};

/// The message for `e` (a kind_of() event).
[[nodiscard]] Message format(const Event& e, Kind kind, const Numbering& n, const Directory& dir,
                             std::string_view routing_prefix);

/// `YYYY-MM-DDThh:mm:ss.nnnnnnnnn+hh:mm`: `ns_since_midnight` of exchange day `day` at
/// `utc_offset_seconds`. Empty when `day` is not a date.
[[nodiscard]] std::string exchange_time(std::string_view day, std::uint64_t ns_since_midnight, std::int32_t utc_offset_seconds);

}  // namespace peregrine::dropcopy
