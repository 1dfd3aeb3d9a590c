#include "peregrine/client/ouch_client.hpp"

#include <array>

namespace peregrine::client {

namespace ouch = proto::ouch;

void OuchClient::enter_order(const ouch::EnterOrder& m) {
  std::array<std::uint8_t, ouch::kEnterOrderSize> buf{};
  soup_.send_unsequenced({buf.data(), ouch::encode(m, buf)});
}

void OuchClient::enter_order(const OrderSpec& s) {
  ouch::EnterOrder m = ouch::plain_enter_order(Token::from(s.token), s.side, s.shares, Symbol::from(s.symbol),
                                               s.price, s.tif, FirmName::from(""), 'R');
  m.display = s.display;
  m.min_qty = s.min_qty;
  enter_order(m);
}

void OuchClient::replace(const ouch::ReplaceOrder& m) {
  std::array<std::uint8_t, ouch::kReplaceOrderSize> buf{};
  soup_.send_unsequenced({buf.data(), ouch::encode(m, buf)});
}

void OuchClient::replace(std::string_view existing, std::string_view replacement, std::uint32_t shares,
                         std::uint32_t price) {
  ouch::ReplaceOrder m{};
  m.existing = Token::from(existing);
  m.replacement = Token::from(replacement);
  m.shares = shares;
  m.price = price;
  m.tif = ouch::kTifMarketHours;
  m.display = 'Y';
  m.iso = 'N';
  m.min_qty = 0;
  replace(m);
}

void OuchClient::cancel(std::string_view token, std::uint32_t shares) {
  const ouch::CancelOrder m{Token::from(token), shares};
  std::array<std::uint8_t, ouch::kCancelOrderSize> buf{};
  soup_.send_unsequenced({buf.data(), ouch::encode(m, buf)});
}

OuchEvent OuchClient::next(Duration timeout) {
  SoupEvent e = soup_.next(timeout);
  OuchEvent out;
  out.kind = e.kind;
  out.seq = e.seq;
  if (e.kind == SoupEvent::Kind::Data) out.decoded = ouch::decode_outbound(e.payload, out.msg) == ouch::Status::Ok;
  return out;
}

OuchEvent OuchClient::next_of(ouch::OutboundType t, Duration timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    const auto left = now >= deadline ? Duration{0} : std::chrono::duration_cast<Duration>(deadline - now);
    OuchEvent e = next(left);
    if (e.kind != SoupEvent::Kind::Data || e.is(t)) return e;
  }
}

}  // namespace peregrine::client
