#include "peregrine/proto/ouch_translate.hpp"

#include "peregrine/core/codes.hpp"
#include "peregrine/proto/wire.hpp"

namespace peregrine::proto {

// --- reference data --------------------------------------------------------------------------

ConfigLookup::ConfigLookup(const EngineConfig& cfg) : cfg_(cfg), attributed_(cfg.firms.size(), 0) {}

void ConfigLookup::set_attributed(FirmId id, bool attributed) {
  if (id.value() < attributed_.size()) attributed_[id.value()] = attributed ? 1 : 0;
}

Symbol ConfigLookup::symbol(InstrumentId id) const noexcept {
  const std::size_t i = id.value();
  if (i == 0 || i > cfg_.instruments.size()) return Symbol::from("");
  return cfg_.instruments[i - 1].symbol;
}

FirmName ConfigLookup::firm_name(FirmId id) const noexcept {
  if (id.value() >= cfg_.firms.size()) return FirmName::from("");
  return cfg_.firms[id.value()].name;
}

bool ConfigLookup::attributed(FirmId id) const noexcept {
  return id.value() < attributed_.size() && attributed_[id.value()] != 0;
}

Price ConfigLookup::reference_price(InstrumentId id) const noexcept {
  if (id.value() == 0 || id.value() > cfg_.instruments.size()) return Price{0};
  return cfg_.instruments[id.value() - 1u].reference_price;
}

// --- inbound -------------------------------------------------------------------------------

namespace {

InboundTranslation command(const Command& c) noexcept {
  InboundTranslation r{};
  r.kind = InboundTranslation::Kind::Command;
  r.command = c;
  return r;
}

InboundTranslation refuse(const Token& token, char reason, Timestamp ts) noexcept {
  InboundTranslation r{};
  r.kind = InboundTranslation::Kind::Reject;
  r.reject.timestamp = ts.value();
  r.reject.token = token;
  r.reject.reason = reason;
  return r;
}

/// OUCH display -> post-only flag; false when Peregrine does not support the display.
bool display_post_only(char display, bool& post_only) noexcept {
  switch (display) {
    case 'P': post_only = true; return true;
    case 'Y':
    case 'A': post_only = false; return true;
    default: return false;
  }
}

/// ISO field: 0 when acceptable, else the reject reason.
char check_iso(char iso) noexcept {
  if (iso == 'N') return 0;
  if (iso == 'Y') return ouch::reject::kIsoRestriction;
  return ouch::reject::kOther;
}

bool is_day_tif(std::uint32_t tif) noexcept {
  return tif == ouch::kTifMarketHours || tif == ouch::kTifSystemHours;
}

}  // namespace

InboundTranslation translate(const ouch::EnterOrder& m, const OuchSession& s, Timestamp ts) noexcept {
  namespace rj = ouch::reject;
  if (!wire::is_printable(m.token)) return refuse(m.token, rj::kOther, ts);

  Side side;
  switch (m.side) {
    case 'B': side = Side::Buy; break;
    case 'S':
    case 'T':
    case 'E': side = Side::Sell; break;
    default: return refuse(m.token, rj::kOther, ts);
  }

  if (m.tif != ouch::kTifImmediate && !is_day_tif(m.tif)) return refuse(m.token, rj::kOther, ts);

  bool post_only = false;
  if (!display_post_only(m.display, post_only)) return refuse(m.token, rj::kInvalidDisplay, ts);

  if (!wire::is_blank(m.firm) && m.firm != s.firm_name) return refuse(m.token, rj::kFirmNotAuthorized, ts);

  switch (m.capacity) {
    case 'A': case 'O': case 'P': case 'R': break;
    default: return refuse(m.token, rj::kOther, ts);
  }
  if (const char iso = check_iso(m.iso); iso != 0) return refuse(m.token, iso, ts);
  if (m.cross_type != 'N') return refuse(m.token, rj::kCrossNotAllowed, ts);
  switch (m.customer_type) {
    case 'R': case 'N': case ' ': break;
    default: return refuse(m.token, rj::kOther, ts);
  }

  const bool immediate = m.tif == ouch::kTifImmediate;
  TimeInForce tif = TimeInForce::Day;
  if (immediate) tif = (m.min_qty != 0 && m.min_qty == m.shares) ? TimeInForce::Fok : TimeInForce::Ioc;

  OrderType type = OrderType::Limit;
  if (m.price == ouch::kMarketPrice) {
    type = immediate ? OrderType::MarketBestFiveIoc : OrderType::MarketBestFiveToLimit;
  }
  // A market order's price is ignored by the core; 0 keeps the command canonical.
  const Price price{type == OrderType::Limit ? static_cast<std::int64_t>(m.price) : 0};

  return command(make_new_order(ts, s.owner, s.firm, m.stock, m.token, side, Qty{m.shares}, price, type, tif,
                                Qty{m.min_qty}, post_only));
}

InboundTranslation translate(const ouch::ReplaceOrder& m, const OuchSession& s, Timestamp ts) noexcept {
  namespace rj = ouch::reject;
  if (!wire::is_printable(m.replacement)) return refuse(m.replacement, rj::kOther, ts);
  if (m.min_qty != 0) return refuse(m.replacement, rj::kInvalidMinQty, ts);
  if (m.price == ouch::kMarketPrice) return refuse(m.replacement, rj::kInvalidPrice, ts);

  TimeInForce tif = TimeInForce::Day;
  if (m.tif == ouch::kTifImmediate) {
    tif = TimeInForce::Ioc;  // the core refuses it (replacements rest): InvalidOrderType, 'O'
  } else if (!is_day_tif(m.tif)) {
    return refuse(m.replacement, rj::kOther, ts);
  }

  bool post_only = false;
  if (!display_post_only(m.display, post_only)) return refuse(m.replacement, rj::kInvalidDisplay, ts);
  if (const char iso = check_iso(m.iso); iso != 0) return refuse(m.replacement, iso, ts);

  return command(make_replace(ts, s.owner, m.existing, m.replacement, Qty{m.shares},
                              Price{static_cast<std::int64_t>(m.price)}, tif, post_only));
}

InboundTranslation translate(const ouch::CancelOrder& m, const OuchSession& s, Timestamp ts) noexcept {
  return command(make_cancel(ts, s.owner, m.token, Qty{m.shares}));
}

InboundTranslation translate(const ouch::Inbound& m, const OuchSession& s, Timestamp ts) noexcept {
  switch (m.type) {
    case ouch::InboundType::EnterOrder: return translate(m.enter, s, ts);
    case ouch::InboundType::ReplaceOrder: return translate(m.replace, s, ts);
    case ouch::InboundType::CancelOrder: return translate(m.cancel, s, ts);
  }
  return refuse(Token::from(""), ouch::reject::kOther, ts);
}

// --- outbound (OUCH) -----------------------------------------------------------------------

namespace {

bool is_market(OrderType t) noexcept {
  return t == OrderType::MarketBestFiveIoc || t == OrderType::MarketBestFiveToLimit;
}

std::uint32_t ouch_tif(TimeInForce t) noexcept {
  return t == TimeInForce::Day ? ouch_defaults::kDayTif : ouch::kTifImmediate;
}

char ouch_display(const Event& ev, const ReferenceLookup& ref) noexcept {
  if (ev.post_only != 0) return 'P';
  return ref.attributed(ev.firm) ? 'A' : 'Y';
}

}  // namespace

bool to_ouch(const Event& ev, const ReferenceLookup& ref, ouch::Outbound& out) noexcept {
  const std::uint64_t ts = ev.ts.value();
  switch (ev.type) {
    case EventType::Accepted: {
      ouch::Accepted m{};
      m.timestamp = ts;
      m.token = ev.token;
      m.side = static_cast<char>(ev.side);
      m.shares = ev.qty.value();
      m.stock = ref.symbol(ev.instrument);
      m.price = is_market(ev.order_type) ? ouch::kMarketPrice : to_wire_price(ev.price);
      m.tif = ouch_tif(ev.tif);
      m.firm = ref.firm_name(ev.firm);
      m.display = ouch_display(ev, ref);
      m.order_ref = ev.order_id.value();
      m.capacity = ouch_defaults::kCapacity;
      m.iso = ouch_defaults::kIso;
      m.min_qty = ev.min_qty.value();
      m.cross_type = ouch_defaults::kCrossType;
      m.order_state = ouch_defaults::kOrderState;
      m.bbo_weight = ouch_defaults::kBboWeight;
      out.type = ouch::OutboundType::Accepted;
      out.accepted = m;
      return true;
    }
    case EventType::Replaced: {
      ouch::Replaced m{};
      m.timestamp = ts;
      m.replacement = ev.token;
      m.side = static_cast<char>(ev.side);
      m.shares = ev.qty.value();
      m.stock = ref.symbol(ev.instrument);
      m.price = to_wire_price(ev.price);
      m.tif = ouch_tif(ev.tif);
      m.firm = ref.firm_name(ev.firm);
      m.display = ouch_display(ev, ref);
      m.order_ref = ev.order_id.value();
      m.capacity = ouch_defaults::kCapacity;
      m.iso = ouch_defaults::kIso;
      m.min_qty = 0;
      m.cross_type = ouch_defaults::kCrossType;
      m.order_state = ouch_defaults::kOrderState;
      m.previous = ev.token2;
      m.bbo_weight = ouch_defaults::kBboWeight;
      out.type = ouch::OutboundType::Replaced;
      out.replaced = m;
      return true;
    }
    case EventType::Rejected: {
      if (ev.owner.value() == 0) return false;  // an admin command's refusal
      ouch::Rejected m{};
      m.timestamp = ts;
      m.token = ev.token;
      // A gateway refusal carries its own OUCH reason (EdgeRejectCmd); the core's codes map.
      m.reason = static_cast<RejectCode>(ev.code) == RejectCode::Gateway
                     ? static_cast<char>(static_cast<std::uint8_t>(ev.ref))
                     : to_ouch_reject_reason(static_cast<RejectCode>(ev.code));
      out.type = ouch::OutboundType::Rejected;
      out.rejected = m;
      return true;
    }
    case EventType::Executed: {
      ouch::Executed m{};
      m.timestamp = ts;
      m.token = ev.token;
      m.shares = ev.qty.value();
      m.price = to_wire_price(ev.price);
      m.liquidity = static_cast<char>(ev.code);
      m.match_number = ev.ref;
      out.type = ouch::OutboundType::Executed;
      out.executed = m;
      return true;
    }
    case EventType::Canceled: {
      ouch::Canceled m{};
      m.timestamp = ts;
      m.token = ev.token;
      m.decrement = ev.qty.value();
      m.reason = to_ouch_cancel_reason(static_cast<CancelReason>(ev.code));
      out.type = ouch::OutboundType::Canceled;
      out.canceled = m;
      return true;
    }
    case EventType::CancelRejected: {
      if (ev.owner.value() == 0) return false;  // an admin command's refusal
      ouch::CancelReject m{};
      m.timestamp = ts;
      m.token = ev.token;
      out.type = ouch::OutboundType::CancelReject;
      out.cancel_reject = m;
      return true;
    }
    case EventType::BookAdd:
    case EventType::BookExecute:
    case EventType::BookCancel:
    case EventType::BookDelete:
    case EventType::BookReplace:
    case EventType::CrossTrade:
    case EventType::Indicative:
    case EventType::TradingStatusChanged:
    case EventType::KillSwitchChanged: return false;
  }
  return false;
}

// --- outbound (ITCH) -----------------------------------------------------------------------

bool to_itch(const Event& ev, const ReferenceLookup& ref, itch::Message& out) noexcept {
  const itch::Header h{ev.instrument.value(), 0, ev.ts.value() & itch::kTimestampMask};
  switch (ev.type) {
    case EventType::BookAdd: {
      itch::AddOrder m{};
      m.h = h;
      m.order_ref = ev.order_id.value();
      m.side = static_cast<char>(ev.side);
      m.shares = ev.qty.value();
      m.stock = ref.symbol(ev.instrument);
      m.price = to_wire_price(ev.price);
      const bool mpid = ref.attributed(ev.firm);
      m.attribution = mpid ? ref.firm_name(ev.firm) : FirmName::from("");
      out.type = mpid ? itch::MessageType::AddOrderMpid : itch::MessageType::AddOrder;
      out.add = m;
      return true;
    }
    case EventType::BookExecute: {
      if (ev.code == 1) {  // an uncross: at the cross price, printed by the Cross Trade
        itch::OrderExecutedWithPrice m{};
        m.h = h;
        m.order_ref = ev.order_id.value();
        m.shares = ev.qty.value();
        m.match_number = ev.ref;
        m.printable = 'N';
        m.price = to_wire_price(ev.price);
        out.type = itch::MessageType::OrderExecutedWithPrice;
        out.executed_with_price = m;
        return true;
      }
      itch::OrderExecuted m{};
      m.h = h;
      m.order_ref = ev.order_id.value();
      m.shares = ev.qty.value();
      m.match_number = ev.ref;
      out.type = itch::MessageType::OrderExecuted;
      out.executed = m;
      return true;
    }
    case EventType::BookCancel: {
      itch::OrderCancel m{};
      m.h = h;
      m.order_ref = ev.order_id.value();
      m.shares = ev.qty.value();
      out.type = itch::MessageType::OrderCancel;
      out.cancel = m;
      return true;
    }
    case EventType::BookDelete: {
      itch::OrderDelete m{};
      m.h = h;
      m.order_ref = ev.order_id.value();
      out.type = itch::MessageType::OrderDelete;
      out.del = m;
      return true;
    }
    case EventType::BookReplace: {
      itch::OrderReplace m{};
      m.h = h;
      m.original_ref = ev.ref;
      m.new_ref = ev.order_id.value();
      m.shares = ev.qty.value();
      m.price = to_wire_price(ev.price);
      out.type = itch::MessageType::OrderReplace;
      out.replace = m;
      return true;
    }
    case EventType::TradingStatusChanged: {
      itch::StockTradingAction m{};
      m.h = h;
      m.stock = ref.symbol(ev.instrument);
      const TradingActionCode code = trading_action_of(static_cast<TradingStatus>(ev.code));
      m.trading_state = code.state;
      m.reserved = ' ';
      m.reason = Alpha<4>::from(code.reason);
      out.type = itch::MessageType::StockTradingAction;
      out.trading_action = m;
      return true;
    }
    case EventType::CrossTrade: {
      itch::CrossTrade m{};
      m.h = h;
      m.shares = ev.order_id.value();
      m.stock = ref.symbol(ev.instrument);
      m.cross_price = to_wire_price(ev.price);
      m.match_number = ev.ref;
      m.cross_type = static_cast<char>(ev.code);
      out.type = itch::MessageType::CrossTrade;
      out.cross = m;
      return true;
    }
    case EventType::Indicative: {
      itch::Noii m{};
      m.h = h;
      m.paired_shares = ev.ref;
      m.imbalance_shares = ev.order_id.value();
      m.imbalance_direction = ev.price.value() == 0    ? 'O'
                              : ev.order_id.value() == 0 ? 'N'
                                                         : static_cast<char>(ev.side);
      m.stock = ref.symbol(ev.instrument);
      m.far_price = to_wire_price(ev.price);
      m.near_price = to_wire_price(ev.price);
      m.current_reference_price = to_wire_price(ev.price);
      m.cross_type = static_cast<char>(ev.code);
      m.price_variation = price_variation(ev.price, ref.reference_price(ev.instrument));
      out.type = itch::MessageType::Noii;
      out.noii = m;
      return true;
    }
    case EventType::Accepted:
    case EventType::Rejected:
    case EventType::Executed:
    case EventType::Canceled:
    case EventType::Replaced:
    case EventType::CancelRejected:
    case EventType::KillSwitchChanged: return false;
  }
  return false;
}

TradingActionCode trading_action_of(TradingStatus s) noexcept {
  switch (s) {
    case TradingStatus::Trading: return {'T', ""};
    case TradingStatus::Halted: return {'H', "HALT"};
    case TradingStatus::Suspended: return {'H', "SUSP"};
    case TradingStatus::Closed: return {'P', "CLSD"};
    case TradingStatus::OpeningCall: return {'Q', "OCAL"};
    case TradingStatus::OpeningCallFrozen: return {'Q', "OCFZ"};
    case TradingStatus::Break: return {'P', "BRK"};
    case TradingStatus::ClosingCall: return {'Q', "CCAL"};
    case TradingStatus::ResumeCall: return {'Q', "RCAL"};
  }
  return {'H', "UNKN"};
}

char price_variation(Price price, Price reference) noexcept {
  if (price.value() <= 0 || reference.value() <= 0) return ' ';
  const std::int64_t diff = price.value() > reference.value() ? price.value() - reference.value()
                                                              : reference.value() - price.value();
  const std::int64_t pct = diff * 100 / reference.value();  // whole percent, rounded down
  if (pct < 1) return 'L';
  if (pct < 10) return static_cast<char>('0' + pct);
  if (pct < 20) return 'A';
  if (pct < 30) return 'B';
  return 'C';
}

itch::StockDirectory make_stock_directory(InstrumentId id, const InstrumentConfig& ins, Timestamp ts) noexcept {
  itch::StockDirectory m{};
  m.h = {id.value(), 0, ts.value() & itch::kTimestampMask};
  m.stock = ins.symbol;
  m.market_category = ' ';   // not a Nasdaq listing tier
  m.financial_status = ' ';  // not available
  m.round_lot_size = ins.lot_size.value();
  m.round_lots_only = ins.odd_lot_sell ? 'N' : 'Y';
  m.issue_classification = 'C';  // common stock
  m.issue_subtype = Alpha<2>::from("Z");  // not applicable
  m.authenticity = 'P';  // live/production
  m.short_sale_threshold = ' ';
  m.ipo_flag = ' ';
  m.luld_tier = ' ';
  m.etp_flag = 'N';
  m.etp_leverage_factor = 0;
  m.inverse_indicator = 'N';
  return m;
}

}  // namespace peregrine::proto
