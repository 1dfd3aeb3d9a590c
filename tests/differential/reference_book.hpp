#pragma once
/// A naive reference implementation of docs/market-rules.md for the differential test.
///
/// Written plainly from the rules page, independently of src/core: std::map of price -> std::list
/// of orders per side, std::map / std::set for tokens, linear scans where that is clearest. It
/// takes the same EngineConfig, processes the same Commands and must emit the same Events (built
/// with Event::make, fields as in the table in event.hpp) and the same StateHasher value as
/// peregrine::Engine. Clarity over speed; it allocates freely.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <list>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "peregrine/core/codes.hpp"
#include "peregrine/core/command.hpp"
#include "peregrine/core/config.hpp"
#include "peregrine/core/event.hpp"
#include "peregrine/core/state_hash.hpp"
#include "peregrine/core/types.hpp"

namespace peregrine::differential {

/// The rules of docs/market-rules.md, implemented the obvious way.
class ReferenceBook {
 public:
  /// Copies the reference data; every instrument starts in its initial status, every firm with
  /// its kill switch released.
  explicit ReferenceBook(const EngineConfig& cfg) : cfg_(cfg) {
    books_.resize(cfg.instruments.size());
    for (std::size_t i = 0; i < cfg.instruments.size(); ++i) {
      const InstrumentConfig& ic = cfg.instruments[i];
      books_[i].limits = compute_price_limits(ic.reference_price, ic.limit_bps, ic.tick);
      books_[i].status = ic.initial_status;
    }
    firms_.resize(cfg.firms.size());
  }

  /// Applies one command and appends its events to `out`, in order.
  void process(const Command& cmd, std::vector<Event>& out) {
    out_ = &out;
    ts_ = cmd.ts;
    switch (cmd.type) {
      case CommandType::NewOrder: new_order(cmd.new_order); break;
      case CommandType::Cancel: cancel(cmd.cancel); break;
      case CommandType::Replace: replace(cmd.replace); break;
      case CommandType::MassCancel: mass_cancel(cmd.mass_cancel); break;
      case CommandType::SetKillSwitch: set_kill_switch(cmd.kill_switch); break;
      case CommandType::SetTradingStatus: set_trading_status(cmd.trading_status); break;
      default: emit_cancel_rejected(OwnerId{0}, RejectCode::InvalidOrderType); break;
    }
    out_ = nullptr;
  }

  /// The canonical state hash, fed in the order state_hash.hpp prescribes.
  [[nodiscard]] std::uint64_t state_hash() const {
    StateHasher h;
    for (std::size_t i = 0; i < books_.size(); ++i) {
      const Book& b = books_[i];
      h.instrument(instrument_id(i), b.status, b.last_trade);
      for (auto lvl = b.bids.rbegin(); lvl != b.bids.rend(); ++lvl) {
        for (const Order& o : lvl->second) h.order(o.id, o.owner, o.firm, o.side, o.price, o.open, o.token);
      }
      for (auto lvl = b.asks.begin(); lvl != b.asks.end(); ++lvl) {
        for (const Order& o : lvl->second) h.order(o.id, o.owner, o.firm, o.side, o.price, o.open, o.token);
      }
    }
    for (std::size_t f = 0; f < firms_.size(); ++f) {
      h.firm(FirmId{static_cast<std::uint16_t>(f)}, firm_open_shares(FirmId{static_cast<std::uint16_t>(f)}),
             firms_[f].kill_switch);
    }
    h.tokens(used_tokens_.size(), token_sum_);
    h.counters(OrderId{next_order_id_}, MatchNumber{next_match_});
    return h.value();
  }

  /// Live (resting) orders over all instruments.
  [[nodiscard]] std::uint64_t live_orders() const { return live_.size(); }
  /// Tokens accepted today (all owners).
  [[nodiscard]] std::uint64_t tokens_used() const { return used_tokens_.size(); }
  /// Sum of the open quantity of the firm's live orders, recounted from the books.
  [[nodiscard]] std::uint64_t firm_open_shares(FirmId f) const {
    std::uint64_t sum = 0;
    for (const auto& [key, loc] : live_) {
      if (loc.it->firm == f) sum += loc.it->open.value();
    }
    return sum;
  }
  /// The running per-firm counter used by the open-shares check (must equal the recount).
  [[nodiscard]] std::uint64_t firm_open_shares_counter(FirmId f) const { return firms_[f.value()].open_shares; }
  [[nodiscard]] bool kill_switch(FirmId f) const { return firms_[f.value()].kill_switch; }
  [[nodiscard]] TradingStatus status(InstrumentId id) const { return books_[id.value() - 1u].status; }
  [[nodiscard]] Price last_trade(InstrumentId id) const { return books_[id.value() - 1u].last_trade; }
  /// Best price of a side, or nothing.
  [[nodiscard]] std::optional<Price> best(InstrumentId id, Side side) const {
    const Book& b = books_[id.value() - 1u];
    if (side == Side::Buy) {
      if (b.bids.empty()) return std::nullopt;
      return Price{b.bids.rbegin()->first};
    }
    if (b.asks.empty()) return std::nullopt;
    return Price{b.asks.begin()->first};
  }
  /// Total open quantity and order count of a side (for diagnostics).
  [[nodiscard]] std::pair<std::uint64_t, std::uint64_t> side_totals(InstrumentId id, Side side) const {
    const Book& b = books_[id.value() - 1u];
    const Levels& lv = side == Side::Buy ? b.bids : b.asks;
    std::uint64_t q = 0;
    std::uint64_t n = 0;
    for (const auto& [px, lvl] : lv) {
      for (const Order& o : lvl) {
        q += o.open.value();
        ++n;
      }
    }
    return {q, n};
  }
  [[nodiscard]] std::uint64_t next_order_id() const { return next_order_id_; }
  [[nodiscard]] std::uint64_t next_match() const { return next_match_; }

 private:
  /// A resting order.
  struct Order {
    OrderId id;
    OwnerId owner;
    FirmId firm;
    InstrumentId instrument;
    Side side;
    Price price;
    Qty open;
    Token token;
  };
  using Level = std::list<Order>;             ///< oldest first
  using Levels = std::map<std::int64_t, Level>;  ///< by price, ascending

  struct Book {
    Levels bids;
    Levels asks;
    PriceLimits limits{};
    TradingStatus status = TradingStatus::Trading;
    Price last_trade{0};
  };
  struct Firm {
    std::uint64_t open_shares = 0;
    bool kill_switch = false;
  };
  /// Where a live order is.
  struct Loc {
    std::size_t book;
    Side side;
    std::int64_t price;
    Level::iterator it;
  };
  using Key = std::pair<std::uint32_t, Token>;  ///< (owner, token)

  /// An order being matched (a new order or a crossing replacement).
  struct Incoming {
    OrderId id;
    OwnerId owner;
    FirmId firm;
    std::size_t book;
    Side side;
    Price walk_price;  ///< limit price, or the protection price of a market order
    Qty open;
    Token token;
  };
  /// How matching ended.
  struct MatchResult {
    bool stopped_by_stp = false;  ///< the incoming remainder was cancelled (SelfMatch)
    bool filled_any = false;
    Price last_fill{0};
  };

  static InstrumentId instrument_id(std::size_t book) {
    return InstrumentId{static_cast<std::uint16_t>(book + 1)};
  }
  static bool is_market(OrderType t) {
    return t == OrderType::MarketBestFiveIoc || t == OrderType::MarketBestFiveToLimit;
  }
  /// An incoming order on `side` at `limit` would trade with a resting price `resting`.
  static bool crosses(Side side, std::int64_t limit, std::int64_t resting) {
    return side == Side::Buy ? resting <= limit : resting >= limit;
  }

  Levels& side_levels(Book& b, Side s) { return s == Side::Buy ? b.bids : b.asks; }
  const Levels& side_levels(const Book& b, Side s) const { return s == Side::Buy ? b.bids : b.asks; }

  /// Best price level of a side (highest bid, lowest ask); end() when empty.
  Levels::iterator best_level(Book& b, Side s) {
    Levels& lv = side_levels(b, s);
    if (lv.empty()) return lv.end();
    return s == Side::Buy ? std::prev(lv.end()) : lv.begin();
  }
  std::optional<std::int64_t> best_price(const Book& b, Side s) const {
    const Levels& lv = side_levels(b, s);
    if (lv.empty()) return std::nullopt;
    return s == Side::Buy ? lv.rbegin()->first : lv.begin()->first;
  }

  /// Every resting order of `s` in priority order (best price first, oldest first).
  std::vector<const Order*> priority_list(const Book& b, Side s) const {
    std::vector<const Order*> v;
    const Levels& lv = side_levels(b, s);
    if (s == Side::Buy) {
      for (auto l = lv.rbegin(); l != lv.rend(); ++l)
        for (const Order& o : l->second) v.push_back(&o);
    } else {
      for (auto l = lv.begin(); l != lv.end(); ++l)
        for (const Order& o : l->second) v.push_back(&o);
    }
    return v;
  }

  void emit(const Event& e) { out_->push_back(e); }

  // ---------------------------------------------------------------- token table

  bool token_used(OwnerId owner, const Token& t) const { return used_tokens_.count(Key{owner.value(), t}) != 0; }
  void use_token(OwnerId owner, const Token& t) {
    used_tokens_.insert(Key{owner.value(), t});
    token_sum_ += StateHasher::token_hash(owner, t);
  }

  // ---------------------------------------------------------------- book edits

  /// Appends an order at the back of its price level and indexes it.
  void rest(std::size_t book, const Order& o) {
    Level& lvl = side_levels(books_[book], o.side)[o.price.value()];
    lvl.push_back(o);
    live_[Key{o.owner.value(), o.token}] = Loc{book, o.side, o.price.value(), std::prev(lvl.end())};
  }
  /// Removes a live order from its level and from the index (open shares untouched).
  void unlink(const Key& key) {
    auto li = live_.find(key);
    const Loc loc = li->second;
    Levels& lv = side_levels(books_[loc.book], loc.side);
    auto lvl = lv.find(loc.price);
    lvl->second.erase(loc.it);
    if (lvl->second.empty()) lv.erase(lvl);
    live_.erase(li);
  }

  // ---------------------------------------------------------------- events

  Event order_event(EventType t, const Order& o) const {
    Event e = Event::make(t, ts_);
    e.owner = o.owner;
    e.firm = o.firm;
    e.instrument = o.instrument;
    e.side = o.side;
    e.order_id = o.id;
    e.token = o.token;
    return e;
  }
  Event incoming_event(EventType t, const Incoming& in) const {
    Event e = Event::make(t, ts_);
    e.owner = in.owner;
    e.firm = in.firm;
    e.instrument = instrument_id(in.book);
    e.side = in.side;
    e.order_id = in.id;
    e.token = in.token;
    return e;
  }
  void emit_canceled(const Order& o, Qty qty, Qty leaves, CancelReason why) {
    Event e = order_event(EventType::Canceled, o);
    e.qty = qty;
    e.leaves = leaves;
    e.code = static_cast<std::uint8_t>(why);
    emit(e);
  }
  void emit_canceled(const Incoming& in, Qty qty, Qty leaves, CancelReason why) {
    Event e = incoming_event(EventType::Canceled, in);
    e.qty = qty;
    e.leaves = leaves;
    e.code = static_cast<std::uint8_t>(why);
    emit(e);
  }
  void emit_book_cancel(const Order& o, Qty qty, Qty leaves) {
    Event e = Event::make(EventType::BookCancel, ts_);
    e.instrument = o.instrument;
    e.side = o.side;
    e.order_id = o.id;
    e.qty = qty;
    e.leaves = leaves;
    emit(e);
  }
  void emit_book_delete(const Order& o) {
    Event e = Event::make(EventType::BookDelete, ts_);
    e.instrument = o.instrument;
    e.side = o.side;
    e.order_id = o.id;
    emit(e);
  }
  void emit_book_add(const Order& o) {
    Event e = Event::make(EventType::BookAdd, ts_);
    e.instrument = o.instrument;
    e.side = o.side;
    e.order_id = o.id;
    e.price = o.price;
    e.qty = o.open;
    e.firm = o.firm;
    emit(e);
  }
  void emit_rejected(OwnerId owner, FirmId firm, InstrumentId instrument, RejectCode code,
                     const Token& token, const Token& token2) {
    Event e = Event::make(EventType::Rejected, ts_);
    e.owner = owner;
    e.firm = firm;
    e.instrument = instrument;
    e.code = static_cast<std::uint8_t>(code);
    e.token = token;
    e.token2 = token2;
    emit(e);
  }

  /// Cancels a whole live order (Canceled + BookDelete) and removes it.
  void cancel_whole(const Key& key, CancelReason why) {
    const Order o = *live_.at(key).it;
    emit_canceled(o, o.open, Qty{0}, why);
    emit_book_delete(o);
    firms_[o.firm.value()].open_shares -= o.open.value();
    unlink(key);
  }

  // ---------------------------------------------------------------- checks shared by new orders and replaces

  /// Checks 7 (quantity) and 8 (lot) of the rules page for an order of `side`.
  RejectCode check_quantity_and_lot(const InstrumentConfig& ic, const FirmConfig& fc, Side side, Qty qty) const {
    if (qty.value() == 0) return RejectCode::InvalidQuantity;
    if (qty > ic.max_order_qty) return RejectCode::QuantityAboveMax;
    if (fc.max_order_qty.value() != 0 && qty > fc.max_order_qty) return RejectCode::FirmQuantityAboveMax;
    const bool buy_rule = side == Side::Buy || !ic.odd_lot_sell;
    if (buy_rule && (qty < ic.min_qty || qty.value() % ic.lot_size.value() != 0)) return RejectCode::InvalidLot;
    return RejectCode::None;
  }

  /// Check 10 of the rules page: a limit price's validity, daily limits and price cage.
  RejectCode check_limit_price(const Book& b, const InstrumentConfig& ic, Side side, Price price) const {
    const std::int64_t p = price.value();
    if (p <= 0 || p > 2147483647LL || p % ic.tick.value() != 0) return RejectCode::InvalidPrice;
    if (price < b.limits.down || price > b.limits.up) return RejectCode::PriceOutsideLimits;
    if (ic.cage_bps > 0) {
      const std::int64_t cage = static_cast<std::int64_t>(ic.cage_bps);
      const Side first = side == Side::Buy ? Side::Sell : Side::Buy;  // buy: best ask first
      std::int64_t base = 0;
      if (auto bp = best_price(b, first)) {
        base = *bp;
      } else if (auto bq = best_price(b, opposite(first))) {
        base = *bq;
      } else if (b.last_trade.value() != 0) {
        base = b.last_trade.value();
      } else {
        base = ic.reference_price.value();
      }
      if (side == Side::Buy) {
        if (p * 10000 > base * (10000 + cage)) return RejectCode::PriceOutsideCage;
      } else {
        if (p * 10000 < base * (10000 - cage)) return RejectCode::PriceOutsideCage;
      }
    }
    return RejectCode::None;
  }

  /// Would a limit order on `side` at `price` trade on arrival (opposite best at or through it)?
  bool would_cross(const Book& b, Side side, Price price) const {
    const auto opp = best_price(b, opposite(side));
    return opp.has_value() && crosses(side, price.value(), *opp);
  }

  /// The worst of the opposite side's five best price levels, or nothing when it is empty.
  std::optional<std::int64_t> protection_price(const Book& b, Side side) const {
    const Levels& lv = side_levels(b, opposite(side));
    if (lv.empty()) return std::nullopt;
    std::int64_t worst = 0;
    int n = 0;
    if (side == Side::Buy) {  // takes asks, lowest first
      for (auto l = lv.begin(); l != lv.end() && n < 5; ++l, ++n) worst = l->first;
    } else {  // takes bids, highest first
      for (auto l = lv.rbegin(); l != lv.rend() && n < 5; ++l, ++n) worst = l->first;
    }
    return worst;
  }

  /// How much an order would fill right now, without changing anything (minimum-quantity rule).
  std::uint64_t dry_fill(const Book& b, FirmId firm, Side side, std::int64_t walk_price, Qty qty) const {
    const StpMode stp = cfg_.firms[firm.value()].stp;
    std::uint64_t rem = qty.value();
    std::uint64_t filled = 0;
    for (const Order* r : priority_list(b, opposite(side))) {
      if (rem == 0) break;
      if (!crosses(side, walk_price, r->price.value())) break;
      if (r->firm == firm && stp != StpMode::None) {
        if (stp == StpMode::CancelNewest || stp == StpMode::CancelBoth) break;
        if (stp == StpMode::CancelOldest) continue;
        // Decrement: reduces the incoming quantity without filling.
        rem -= std::min<std::uint64_t>(rem, r->open.value());
        continue;
      }
      const std::uint64_t f = std::min<std::uint64_t>(rem, r->open.value());
      filled += f;
      rem -= f;
    }
    return filled;
  }

  // ---------------------------------------------------------------- matching

  /// Matches `in` against the opposite side under price-time priority and self-trade prevention.
  /// `in.open` is counted in its firm's open shares on entry and reduced as it trades.
  MatchResult match(Incoming& in) {
    MatchResult res;
    Book& b = books_[in.book];
    const StpMode stp = cfg_.firms[in.firm.value()].stp;
    const Side opp = opposite(in.side);
    while (in.open.value() > 0) {
      auto lvl = best_level(b, opp);
      if (lvl == side_levels(b, opp).end()) break;
      if (!crosses(in.side, in.walk_price.value(), lvl->first)) break;
      Order& r = lvl->second.front();
      const Key rkey{r.owner.value(), r.token};

      if (r.firm == in.firm && stp != StpMode::None) {
        if (stp == StpMode::CancelNewest) {
          emit_canceled(in, in.open, Qty{0}, CancelReason::SelfMatch);
          firms_[in.firm.value()].open_shares -= in.open.value();
          in.open = Qty{0};
          res.stopped_by_stp = true;
          return res;
        }
        if (stp == StpMode::CancelOldest) {
          cancel_whole(rkey, CancelReason::SelfMatch);
          continue;
        }
        if (stp == StpMode::CancelBoth) {
          cancel_whole(rkey, CancelReason::SelfMatch);
          emit_canceled(in, in.open, Qty{0}, CancelReason::SelfMatch);
          firms_[in.firm.value()].open_shares -= in.open.value();
          in.open = Qty{0};
          res.stopped_by_stp = true;
          return res;
        }
        // Decrement: both reduced by d, no trade.
        const Qty d{std::min(in.open.value(), r.open.value())};
        r.open = Qty{r.open.value() - d.value()};
        in.open = Qty{in.open.value() - d.value()};
        firms_[in.firm.value()].open_shares -= 2ull * d.value();  // same firm, both sides
        emit_canceled(r, d, r.open, CancelReason::SelfMatch);
        if (r.open.value() == 0) {
          emit_book_delete(r);
          unlink(rkey);
        } else {
          emit_book_cancel(r, d, r.open);
        }
        emit_canceled(in, d, in.open, CancelReason::SelfMatch);
        continue;
      }

      // A trade at the resting order's price.
      const Qty q{std::min(in.open.value(), r.open.value())};
      const Price px = r.price;
      const std::uint64_t match_no = next_match_++;
      r.open = Qty{r.open.value() - q.value()};
      in.open = Qty{in.open.value() - q.value()};
      firms_[r.firm.value()].open_shares -= q.value();
      firms_[in.firm.value()].open_shares -= q.value();
      b.last_trade = px;
      res.filled_any = true;
      res.last_fill = px;

      Event er = order_event(EventType::Executed, r);
      er.price = px;
      er.qty = q;
      er.leaves = r.open;
      er.ref = match_no;
      er.code = static_cast<std::uint8_t>(Liquidity::Added);
      emit(er);
      Event ei = incoming_event(EventType::Executed, in);
      ei.price = px;
      ei.qty = q;
      ei.leaves = in.open;
      ei.ref = match_no;
      ei.code = static_cast<std::uint8_t>(Liquidity::Removed);
      emit(ei);
      Event bx = Event::make(EventType::BookExecute, ts_);
      bx.instrument = r.instrument;
      bx.side = r.side;
      bx.order_id = r.id;
      bx.price = px;
      bx.qty = q;
      bx.leaves = r.open;
      bx.ref = match_no;
      emit(bx);
      if (r.open.value() == 0) unlink(rkey);  // leaves with its BookExecute
    }
    return res;
  }

  /// Rests a remainder (BookAdd) at `price`.
  void rest_incoming(const Incoming& in, Price price) {
    const Order o{in.id, in.owner, in.firm, instrument_id(in.book), in.side, price, in.open, in.token};
    rest(in.book, o);
    emit_book_add(o);
  }
  /// Cancels the remainder of an incoming order (reason Immediate).
  void cancel_incoming_rest(Incoming& in) {
    emit_canceled(in, in.open, Qty{0}, CancelReason::Immediate);
    firms_[in.firm.value()].open_shares -= in.open.value();
    in.open = Qty{0};
  }

  // ---------------------------------------------------------------- commands

  void new_order(const NewOrderCmd& c) {
    const Token none{};
    // 1. firm
    if (c.firm.value() >= cfg_.firms.size()) {
      emit_rejected(c.owner, c.firm, InstrumentId{0}, RejectCode::UnknownFirm, c.token, none);
      return;
    }
    // 2. symbol
    std::size_t bi = books_.size();
    for (std::size_t i = 0; i < cfg_.instruments.size(); ++i) {
      if (cfg_.instruments[i].symbol == c.symbol) {
        bi = i;
        break;
      }
    }
    if (bi == books_.size()) {
      emit_rejected(c.owner, c.firm, InstrumentId{0}, RejectCode::UnknownSymbol, c.token, none);
      return;
    }
    const InstrumentId iid = instrument_id(bi);
    Book& b = books_[bi];
    const InstrumentConfig& ic = cfg_.instruments[bi];
    const FirmConfig& fc = cfg_.firms[c.firm.value()];
    Firm& firm = firms_[c.firm.value()];
    auto reject = [&](RejectCode code) { emit_rejected(c.owner, c.firm, iid, code, c.token, none); };

    // 3. token
    if (token_used(c.owner, c.token)) return reject(RejectCode::DuplicateToken);
    // 4. kill switch
    if (firm.kill_switch) return reject(RejectCode::KillSwitch);
    // 5. halted
    if (b.status == TradingStatus::Halted) return reject(RejectCode::Halted);
    // 6. side, type, tif
    if (c.side != Side::Buy && c.side != Side::Sell) return reject(RejectCode::InvalidSide);
    const bool market = is_market(c.type);
    if (c.type != OrderType::Limit && !market) return reject(RejectCode::InvalidOrderType);
    // "TIF known" holds for every order type; a market order's (known) TIF is then ignored.
    if (c.tif != TimeInForce::Day && c.tif != TimeInForce::Ioc && c.tif != TimeInForce::Fok)
      return reject(RejectCode::InvalidOrderType);
    if (c.post_only > 1) return reject(RejectCode::InvalidOrderType);
    if (c.post_only == 1 && (market || c.tif != TimeInForce::Day)) return reject(RejectCode::InvalidOrderType);
    // 7, 8. quantity and lot
    if (const RejectCode q = check_quantity_and_lot(ic, fc, c.side, c.qty); q != RejectCode::None) return reject(q);
    // 9. minimum quantity (FOK: the whole order; a market order's TIF is ignored, FOK included)
    const Qty min_qty = (!market && c.tif == TimeInForce::Fok) ? c.qty : c.min_qty;
    if (min_qty > c.qty) return reject(RejectCode::InvalidMinQty);
    // 10. price
    if (!market) {
      if (const RejectCode p = check_limit_price(b, ic, c.side, c.price); p != RejectCode::None) return reject(p);
    }
    // 11. post-only
    if (c.post_only != 0 && would_cross(b, c.side, c.price)) return reject(RejectCode::PostOnlyWouldCross);
    // 12. notional
    const std::optional<std::int64_t> protection = market ? protection_price(b, c.side) : std::nullopt;
    const std::int64_t check_price = market ? protection.value_or(0) : c.price.value();
    if (fc.max_order_notional != 0 &&
        check_price * static_cast<std::int64_t>(c.qty.value()) > fc.max_order_notional)
      return reject(RejectCode::FirmNotional);
    // 13. open shares
    if (fc.max_open_shares != 0 && firm.open_shares + c.qty.value() > fc.max_open_shares)
      return reject(RejectCode::FirmOpenShares);
    // 14. capacity
    if (live_.size() >= cfg_.max_orders) return reject(RejectCode::OrderPoolFull);
    if (used_tokens_.size() >= cfg_.max_tokens) return reject(RejectCode::TokenTableFull);

    // Accepted.
    use_token(c.owner, c.token);
    Incoming in{OrderId{next_order_id_++}, c.owner, c.firm, bi, c.side,
                Price{market ? protection.value_or(0) : c.price.value()}, c.qty, c.token};
    Event a = incoming_event(EventType::Accepted, in);
    a.order_type = c.type;
    a.tif = c.tif;
    a.post_only = c.post_only;
    a.price = market ? Price{0} : c.price;
    a.qty = c.qty;  // "qty=leaves": the whole order is open
    a.leaves = c.qty;
    a.min_qty = c.min_qty;  // as given in the command (FOK's implied minimum is not reported)
    emit(a);
    firm.open_shares += c.qty.value();

    // A market order facing an empty side is cancelled at once in full.
    if (market && !protection.has_value()) {
      cancel_incoming_rest(in);
      return;
    }
    // Minimum quantity: all or nothing now.
    if (min_qty.value() > 0 && dry_fill(b, c.firm, c.side, in.walk_price.value(), c.qty) < min_qty.value()) {
      cancel_incoming_rest(in);
      return;
    }
    const MatchResult m = match(in);
    if (m.stopped_by_stp || in.open.value() == 0) return;
    if (c.type == OrderType::Limit) {
      if (c.tif == TimeInForce::Day) {
        rest_incoming(in, c.price);
      } else {
        cancel_incoming_rest(in);
      }
    } else if (c.type == OrderType::MarketBestFiveToLimit && m.filled_any) {
      rest_incoming(in, m.last_fill);
    } else {
      cancel_incoming_rest(in);
    }
  }

  void cancel(const CancelCmd& c) {
    const Key key{c.owner.value(), c.token};
    auto li = live_.find(key);
    auto reject = [&](RejectCode code) {
      Event e = Event::make(EventType::CancelRejected, ts_);
      e.owner = c.owner;
      e.code = static_cast<std::uint8_t>(code);
      e.qty = c.target_qty;
      e.token = c.token;
      emit(e);
    };
    if (li == live_.end()) return reject(RejectCode::UnknownOrder);
    Order& o = *li->second.it;
    if (c.target_qty >= o.open) return reject(RejectCode::NothingToCancel);
    const Qty d{o.open.value() - c.target_qty.value()};
    if (c.target_qty.value() == 0) {
      cancel_whole(key, CancelReason::UserRequested);
      return;
    }
    o.open = c.target_qty;
    firms_[o.firm.value()].open_shares -= d.value();
    emit_canceled(o, d, o.open, CancelReason::UserRequested);
    emit_book_cancel(o, d, o.open);
  }

  void replace(const ReplaceCmd& c) {
    const Key key{c.owner.value(), c.existing};
    auto li = live_.find(key);
    if (li == live_.end()) {
      emit_rejected(c.owner, FirmId{0}, InstrumentId{0}, RejectCode::UnknownOrder, c.replacement, c.existing);
      return;
    }
    const Loc loc = li->second;
    const Order old = *loc.it;
    Book& b = books_[loc.book];
    const InstrumentConfig& ic = cfg_.instruments[loc.book];
    const FirmConfig& fc = cfg_.firms[old.firm.value()];
    Firm& firm = firms_[old.firm.value()];
    auto reject = [&](RejectCode code) {
      emit_rejected(c.owner, old.firm, old.instrument, code, c.replacement, c.existing);
    };
    if (token_used(c.owner, c.replacement)) return reject(RejectCode::DuplicateToken);
    if (firm.kill_switch) return reject(RejectCode::KillSwitch);
    if (b.status == TradingStatus::Halted) return reject(RejectCode::Halted);
    if (c.tif != TimeInForce::Day || c.post_only > 1) return reject(RejectCode::InvalidOrderType);
    if (const RejectCode q = check_quantity_and_lot(ic, fc, old.side, c.qty); q != RejectCode::None) return reject(q);
    if (const RejectCode p = check_limit_price(b, ic, old.side, c.price); p != RejectCode::None) return reject(p);
    const bool crossing = would_cross(b, old.side, c.price);
    if (c.post_only != 0 && crossing) return reject(RejectCode::PostOnlyWouldCross);
    if (fc.max_order_notional != 0 &&
        c.price.value() * static_cast<std::int64_t>(c.qty.value()) > fc.max_order_notional)
      return reject(RejectCode::FirmNotional);
    if (fc.max_open_shares != 0 &&
        firm.open_shares - old.open.value() + c.qty.value() > fc.max_open_shares)
      return reject(RejectCode::FirmOpenShares);
    if (used_tokens_.size() >= cfg_.max_tokens) return reject(RejectCode::TokenTableFull);

    // Accepted.
    use_token(c.owner, c.replacement);
    const bool keep_priority = c.price == old.price && c.qty <= old.open;
    const OrderId new_id = keep_priority ? old.id : OrderId{next_order_id_++};
    Event rp = Event::make(EventType::Replaced, ts_);
    rp.owner = old.owner;
    rp.firm = old.firm;
    rp.instrument = old.instrument;
    rp.side = old.side;
    rp.order_type = OrderType::Limit;
    rp.tif = c.tif;
    rp.post_only = c.post_only;
    rp.order_id = new_id;
    rp.ref = old.id.value();
    rp.price = c.price;
    rp.qty = c.qty;  // "qty=leaves": the replacement's open quantity
    rp.leaves = c.qty;
    rp.token = c.replacement;
    rp.token2 = c.existing;
    emit(rp);

    if (keep_priority) {
      Order& o = *loc.it;
      const Qty d{o.open.value() - c.qty.value()};
      o.open = c.qty;
      o.token = c.replacement;
      firm.open_shares -= d.value();
      live_.erase(li);
      live_[Key{c.owner.value(), c.replacement}] = loc;
      if (d.value() > 0) emit_book_cancel(o, d, o.open);
      return;
    }
    if (!crossing) {
      unlink(key);
      firm.open_shares = firm.open_shares - old.open.value() + c.qty.value();
      const Order moved{new_id, old.owner, old.firm, old.instrument, old.side, c.price, c.qty, c.replacement};
      rest(loc.book, moved);
      Event br = Event::make(EventType::BookReplace, ts_);
      br.instrument = old.instrument;
      br.side = old.side;
      br.order_id = new_id;
      br.ref = old.id.value();
      br.price = c.price;
      br.qty = c.qty;
      emit(br);
      return;
    }
    // Crossing: the old order leaves the book and the replacement comes in as a new order.
    emit_book_delete(old);
    unlink(key);
    firm.open_shares = firm.open_shares - old.open.value() + c.qty.value();
    Incoming in{new_id, old.owner, old.firm, loc.book, old.side, c.price, c.qty, c.replacement};
    const MatchResult m = match(in);
    if (m.stopped_by_stp || in.open.value() == 0) return;
    rest_incoming(in, c.price);  // a replacement is a day order
  }

  /// Every live order of `firm` (and `owner`, `instrument` when non-zero), ascending order id.
  std::vector<Key> select_orders(FirmId firm, InstrumentId instrument, OwnerId owner) const {
    std::vector<std::pair<std::uint64_t, Key>> v;
    for (const auto& [key, loc] : live_) {
      const Order& o = *loc.it;
      if (o.firm != firm) continue;
      if (instrument.value() != 0 && o.instrument != instrument) continue;
      if (owner.value() != 0 && o.owner != owner) continue;
      v.emplace_back(o.id.value(), key);
    }
    std::sort(v.begin(), v.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
    std::vector<Key> keys;
    keys.reserve(v.size());
    for (const auto& [id, key] : v) keys.push_back(key);
    return keys;
  }

  /// The one event an admin command naming an unknown firm or instrument (or an unknown command
  /// type) gets: CancelRejected(code).
  void emit_cancel_rejected(OwnerId owner, RejectCode code) {
    Event e = Event::make(EventType::CancelRejected, ts_);
    e.owner = owner;
    e.code = static_cast<std::uint8_t>(code);
    emit(e);
  }

  void mass_cancel(const MassCancelCmd& c) {
    // The command's owner is a filter, not a requester: the CancelRejected names no owner.
    if (c.firm.value() >= cfg_.firms.size()) return emit_cancel_rejected(OwnerId{0}, RejectCode::UnknownFirm);
    if (c.instrument.value() > books_.size()) return emit_cancel_rejected(OwnerId{0}, RejectCode::UnknownSymbol);
    for (const Key& k : select_orders(c.firm, c.instrument, c.owner)) cancel_whole(k, c.reason);
  }

  void set_kill_switch(const SetKillSwitchCmd& c) {
    if (c.firm.value() >= cfg_.firms.size()) return emit_cancel_rejected(OwnerId{0}, RejectCode::UnknownFirm);
    const bool engaged = c.engaged != 0;
    if (engaged && c.cancel_open != 0) {
      for (const Key& k : select_orders(c.firm, InstrumentId{0}, OwnerId{0})) cancel_whole(k, CancelReason::Supervisory);
    }
    firms_[c.firm.value()].kill_switch = engaged;
    Event e = Event::make(EventType::KillSwitchChanged, ts_);
    e.firm = c.firm;
    e.code = static_cast<std::uint8_t>(engaged ? 1 : 0);
    emit(e);
  }

  void set_trading_status(const SetTradingStatusCmd& c) {
    // Refused with the instrument id as given: UnknownSymbol for an id that names no instrument,
    // InvalidOrderType for a status other than Trading / Halted (not on the rules page).
    const Token none{};
    if (c.instrument.value() == 0 || c.instrument.value() > books_.size()) {
      return emit_rejected(OwnerId{0}, FirmId{0}, c.instrument, RejectCode::UnknownSymbol, none, none);
    }
    if (c.status != TradingStatus::Trading && c.status != TradingStatus::Halted) {
      return emit_rejected(OwnerId{0}, FirmId{0}, c.instrument, RejectCode::InvalidOrderType, none, none);
    }
    books_[c.instrument.value() - 1u].status = c.status;
    Event e = Event::make(EventType::TradingStatusChanged, ts_);
    e.instrument = c.instrument;
    e.code = static_cast<std::uint8_t>(c.status);
    emit(e);
  }

  EngineConfig cfg_;
  std::vector<Book> books_;
  std::vector<Firm> firms_;
  std::map<Key, Loc> live_;       ///< live orders by (owner, current token)
  std::set<Key> used_tokens_;     ///< every token accepted today
  std::uint64_t token_sum_ = 0;   ///< wrapping sum of StateHasher::token_hash
  std::uint64_t next_order_id_ = 1;
  std::uint64_t next_match_ = 1;
  std::vector<Event>* out_ = nullptr;
  Timestamp ts_{0};
};

}  // namespace peregrine::differential
