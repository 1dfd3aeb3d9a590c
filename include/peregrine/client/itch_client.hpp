#pragma once
/// ItchFeedClient: a blocking ITCH 5.0 over SoupBinTCP market-data client (replay from a sequence
/// number, then the live stream), and BookBuilder, which rebuilds per-symbol depth from the Add,
/// Execute, Cancel, Delete and Replace messages.
///
/// Threads: one thread per ItchFeedClient and per BookBuilder object (see soup_client.hpp).

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "peregrine/client/soup_client.hpp"
#include "peregrine/proto/itch50.hpp"

namespace peregrine::client {

/// One thing ItchFeedClient::next() returned: an ITCH message or a session event.
struct ItchEvent {
  SoupEvent::Kind kind = SoupEvent::Kind::Timeout;
  std::uint64_t seq = 0;       ///< Data: the SoupBinTCP sequence number
  proto::itch::Message msg{};  ///< Data: the decoded message
  bool decoded = false;        ///< Data: false when the payload was not a known ITCH message
};

/// An ITCH feed session. Usage: connect(), login(user, password, "", 1) to replay from the
/// first message, then next() in a loop.
class ItchFeedClient {
 public:
  using Duration = SoupClient::Duration;

  void connect(std::string_view host, std::uint16_t port, Duration timeout = Duration{2000}) {
    soup_.connect(host, port, timeout);
  }
  LoginResult login(std::string_view user, std::string_view password, std::string_view session = "",
                    std::uint64_t seq = 1, Duration timeout = Duration{2000}) {
    return soup_.login(user, password, session, seq, timeout);
  }
  /// The next ITCH message or session event within `timeout`.
  ItchEvent next(Duration timeout);
  void logout() { soup_.logout(); }
  void close() noexcept { soup_.close(); }
  [[nodiscard]] SoupClient& soup() noexcept { return soup_; }

 private:
  SoupClient soup_;
};

/// Per-symbol depth rebuilt from ITCH order messages. Trade 'P' (non-displayed) changes nothing.
class BookBuilder {
 public:
  /// One price level.
  struct Level {
    std::uint32_t price = 0;  ///< 4 implied decimals
    std::uint64_t qty = 0;
    std::uint32_t orders = 0;
    friend bool operator==(const Level&, const Level&) = default;
  };

  /// Applies one message. Returns false when it refers to an unknown order reference (a gap).
  bool apply(const proto::itch::Message& m);

  /// Best `levels` bids (highest first) / asks (lowest first) of `symbol` (e.g. "600519").
  [[nodiscard]] std::vector<Level> bids(std::string_view symbol, std::size_t levels) const;
  [[nodiscard]] std::vector<Level> asks(std::string_view symbol, std::size_t levels) const;
  /// Live orders known, all symbols.
  [[nodiscard]] std::size_t order_count() const noexcept { return orders_.size(); }

 private:
  struct Order {
    std::string symbol;
    char side;
    std::uint32_t price;
    std::uint32_t shares;
  };
  struct Book {
    std::map<std::uint32_t, Level> bids;
    std::map<std::uint32_t, Level> asks;
  };
  void add(std::uint64_t ref, const Order& o);
  bool reduce(std::uint64_t ref, std::uint32_t shares, bool remove_all);

  std::unordered_map<std::uint64_t, Order> orders_;
  std::map<std::string, Book, std::less<>> books_;
};

}  // namespace peregrine::client
