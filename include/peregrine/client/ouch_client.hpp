#pragma once
/// OuchClient: a blocking OUCH 4.2 order-entry client over SoupBinTCP, for customers, tests and
/// the bench harness. It builds Enter/Replace/Cancel messages, and next() returns each decoded
/// outbound message with its SoupBinTCP sequence number.
///
/// Threads: one thread per OuchClient object (see soup_client.hpp).

#include <cstdint>
#include <string_view>

#include "peregrine/client/soup_client.hpp"
#include "peregrine/proto/ouch42.hpp"

namespace peregrine::client {

/// One thing next() returned: an OUCH outbound message or a session event.
struct OuchEvent {
  SoupEvent::Kind kind = SoupEvent::Kind::Timeout;
  std::uint64_t seq = 0;        ///< Data: the SoupBinTCP sequence number
  proto::ouch::Outbound msg{};  ///< Data: the decoded message
  bool decoded = false;         ///< Data: false when the payload was not a valid OUCH message
  [[nodiscard]] bool is(proto::ouch::OutboundType t) const noexcept {
    return kind == SoupEvent::Kind::Data && decoded && msg.type == t;
  }
};

/// Fields of a simple limit order; the rest take the defaults below.
struct OrderSpec {
  std::string_view token;
  char side = 'B';  ///< B, S, T, E
  std::uint32_t shares = 0;
  std::string_view symbol;
  std::uint32_t price = 0;  ///< 4 implied decimals; proto::ouch::kMarketPrice for market
  std::uint32_t tif = proto::ouch::kTifMarketHours;
  char display = 'Y';
  std::uint32_t min_qty = 0;
};

/// An OUCH 4.2 session. Usage: connect(), login(), then enter_order()/replace()/cancel() and
/// next() to read the answers; logout() at the end.
class OuchClient {
 public:
  using Duration = SoupClient::Duration;

  void connect(std::string_view host, std::uint16_t port, Duration timeout = Duration{2000}) {
    soup_.connect(host, port, timeout);
  }
  LoginResult login(std::string_view user, std::string_view password, std::string_view session = "",
                    std::uint64_t seq = 0, Duration timeout = Duration{2000}) {
    return soup_.login(user, password, session, seq, timeout);
  }

  /// Sends an Enter Order as given.
  void enter_order(const proto::ouch::EnterOrder& m);
  /// Sends an Enter Order built from `spec` (firm blank: the session's firm; capacity A, ISO N,
  /// cross type N, customer type R).
  void enter_order(const OrderSpec& spec);
  /// Sends a Replace Order (TIF market hours, display Y, ISO N, min qty 0).
  void replace(std::string_view existing, std::string_view replacement, std::uint32_t shares,
               std::uint32_t price);
  void replace(const proto::ouch::ReplaceOrder& m);
  /// Sends a Cancel Order; `shares` is the quantity to leave open (0 cancels all).
  void cancel(std::string_view token, std::uint32_t shares = 0);

  /// The next outbound message or session event within `timeout`.
  OuchEvent next(Duration timeout);
  /// Reads until a message of type `t` arrives (others are skipped) or a non-Data event.
  OuchEvent next_of(proto::ouch::OutboundType t, Duration timeout);

  void logout() { soup_.logout(); }
  void close() noexcept { soup_.close(); }
  /// The transport, for heartbeats settings, raw bytes and counters.
  [[nodiscard]] SoupClient& soup() noexcept { return soup_; }

 private:
  SoupClient soup_;
};

}  // namespace peregrine::client
