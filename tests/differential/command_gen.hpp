#pragma once
/// A seeded, deterministic random command stream for the differential test and the wasm check.
///
/// Header-only; no exceptions, no OS calls, no std distributions: the stream depends only on the
/// seed and integer arithmetic, so it is identical on every platform (x86-64 libstdc++, wasm32
/// libc++). Prices random-walk near the touch so that many orders cross; a tenth of the stream is
/// deliberately invalid so that every reachable reject code occurs.
///
/// Portability rule for edits: never make two random draws (or a draw and fresh_token()) inside
/// one function call's arguments; argument evaluation order differs between GCC and Clang.
///
///   const peregrine::EngineConfig cfg = CommandGen::config();
///   CommandGen gen(seed);
///   for (...) engine.process(gen.next(), sink);

#include <array>
#include <cstddef>
#include <cstdint>

#include "peregrine/core/codes.hpp"
#include "peregrine/core/command.hpp"
#include "peregrine/core/config.hpp"
#include "peregrine/core/types.hpp"

namespace peregrine::differential {

/// splitmix64 (Steele, Lea, Flood 2014): tiny, fast, and the same everywhere.
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) noexcept : s_(seed) {}
  /// The next 64 random bits.
  std::uint64_t next() noexcept {
    std::uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  /// Uniform-ish in [0, n) (modulo bias is irrelevant here); 0 when n is 0.
  std::uint64_t below(std::uint64_t n) noexcept { return n == 0 ? 0 : next() % n; }
  /// An index in [0, n) as a size_t (32 bits on wasm32).
  std::size_t index(std::size_t n) noexcept { return static_cast<std::size_t>(below(n)); }
  /// Uniform-ish in [lo, hi].
  std::int64_t range(std::int64_t lo, std::int64_t hi) noexcept {
    return lo + static_cast<std::int64_t>(below(static_cast<std::uint64_t>(hi - lo) + 1));
  }
  /// True with probability num / den.
  bool chance(std::uint64_t num, std::uint64_t den) noexcept { return below(den) < num; }

 private:
  std::uint64_t s_;
};

/// Generates commands for the fixed configuration config().
class CommandGen {
 public:
  static constexpr std::size_t kInstruments = 4;
  static constexpr std::size_t kFirms = 7;
  static constexpr std::uint32_t kOwners = 14;  ///< owners 1..14; owner o trades for firm (o-1)/2

  /// Instrument reference data used by config() and by the generator's price model.
  struct InstrumentSpec {
    const char* symbol;
    const char* name;
    std::int64_t tick;
    std::uint32_t lot;
    std::uint32_t min_qty;
    bool odd_lot_sell;
    std::uint32_t max_qty;
    std::int64_t reference;
    std::uint32_t limit_bps;
    std::uint32_t cage_bps;
    bool starts_halted;
  };
  static constexpr std::array<InstrumentSpec, kInstruments> kSpecs{{
      {"600000", "main board 10%", 100, 100, 100, true, 1000000, 100000, 1000, 0, false},
      {"688001", "STAR 20% cage 2%", 100, 1, 200, true, 100000, 500000, 2000, 200, false},
      {"600001", "risk warning 5%", 100, 100, 100, true, 1000000, 33300, 500, 0, false},
      {"000001", "board lots only, starts halted", 100, 100, 100, false, 1000000, 123400, 1000, 0, true},
  }};

  /// Seeds the stream; equal seeds give equal streams.
  explicit CommandGen(std::uint64_t seed) noexcept : rng_(seed ^ 0x5045524547524e45ULL) {
    for (std::size_t i = 0; i < kInstruments; ++i) {
      const InstrumentSpec& s = kSpecs[i];
      down_[i] = round_to_tick(s.reference * (10000 - static_cast<std::int64_t>(s.limit_bps)), s.tick);
      up_[i] = round_to_tick(s.reference * (10000 + static_cast<std::int64_t>(s.limit_bps)), s.tick);
      mid_[i] = (s.reference / s.tick) * s.tick;
      halted_[i] = s.starts_halted;
      resume_at_[i] = s.starts_halted ? 200 + rng_.below(800) : 0;
    }
  }

  /// The configuration the stream is written for: four instruments (main board ±10 %, STAR with
  /// lot 1 / min 200 / ±20 % / cage 2 %, risk warning ±5 %, and a board-lots-only one that starts
  /// halted), seven firms covering every StpMode (two with order, notional and open-share limits)
  /// and a small order pool (500 live orders) so that OrderPoolFull happens now and then.
  static EngineConfig config() {
    EngineConfig cfg;
    for (const InstrumentSpec& s : kSpecs) {
      InstrumentConfig ic;
      ic.symbol = Symbol::from(s.symbol);
      ic.name = s.name;
      ic.tick = Price{s.tick};
      ic.lot_size = Qty{s.lot};
      ic.min_qty = Qty{s.min_qty};
      ic.odd_lot_sell = s.odd_lot_sell;
      ic.max_order_qty = Qty{s.max_qty};
      ic.reference_price = Price{s.reference};
      ic.limit_bps = s.limit_bps;
      ic.cage_bps = s.cage_bps;
      ic.initial_status = s.starts_halted ? TradingStatus::Halted : TradingStatus::Trading;
      cfg.instruments.push_back(ic);
    }
    auto firm = [&cfg](const char* name, StpMode stp, std::uint32_t max_qty, std::int64_t notional,
                       std::uint64_t open_shares) {
      FirmConfig f;
      f.name = FirmName::from(name);
      f.stp = stp;
      f.max_order_qty = Qty{max_qty};
      f.max_order_notional = notional;
      f.max_open_shares = open_shares;
      cfg.firms.push_back(f);
    };
    firm("ALFA", StpMode::None, 0, 0, 0);
    firm("BRAV", StpMode::CancelNewest, 0, 0, 0);
    firm("CHAR", StpMode::CancelOldest, 0, 0, 0);
    firm("DELT", StpMode::CancelBoth, 0, 0, 0);
    firm("ECHO", StpMode::Decrement, 0, 0, 0);
    firm("FOXT", StpMode::None, 20000, 3000000000LL, 60000);  // 300k CNY per order
    firm("GOLF", StpMode::Decrement, 50000, 0, 120000);
    cfg.max_orders = kMaxOrders;
    return cfg;
  }

  /// The next command.
  Command next() noexcept {
    ++n_;
    ts_ += 1 + rng_.below(20000);
    // Scheduled releases first: kill switches and halts do not last long.
    for (std::size_t f = 0; f < kFirms; ++f) {
      if (killed_[f] && n_ >= release_at_[f]) {
        killed_[f] = false;
        // cancel_open only acts when engaging; releasing with it set cancels nothing.
        return make_kill_switch(Timestamp{ts_}, firm_id(f), false, rng_.chance(1, 4));
      }
    }
    for (std::size_t i = 0; i < kInstruments; ++i) {
      if (halted_[i] && n_ >= resume_at_[i]) {
        halted_[i] = false;
        return make_trading_status(Timestamp{ts_}, instrument_id(i), TradingStatus::Trading);
      }
    }

    const std::uint64_t roll = rng_.below(1000);
    if (roll < 580) return limit_order();
    if (roll < 625) return market_order();
    if (roll < 745) return cancel();
    if (roll < 880) return replace();
    if (roll < 884) return mass_cancel();
    if (roll < 886) return kill_switch();
    if (roll < 888) return halt();
    if (roll < 890) return invalid_admin();
    return invalid_order();
  }

 private:
  static constexpr std::uint32_t kMaxOrders = 500;
  static constexpr std::int64_t kPassiveTicks = 16;
  static constexpr std::uint64_t kDeepOneIn = 5;
  static constexpr std::size_t kRecent = 512;

  /// An order the generator sent recently (it may since have traded or been refused).
  struct Recent {
    std::uint32_t owner = 0;
    Token token{};
    std::size_t inst = 0;
    Side side = Side::Buy;
    std::int64_t price = 0;
    std::uint32_t qty = 0;
  };

  /// Round half up of `scaled` / 10000 to a multiple of `tick` (scaled = price x 10000).
  static std::int64_t round_to_tick(std::int64_t scaled, std::int64_t tick) noexcept {
    const std::int64_t unit = tick * 10000;
    return (scaled + unit / 2) / unit * tick;
  }
  static FirmId firm_id(std::size_t f) noexcept { return FirmId{static_cast<std::uint16_t>(f)}; }
  static InstrumentId instrument_id(std::size_t i) noexcept {
    return InstrumentId{static_cast<std::uint16_t>(i + 1)};
  }
  static Symbol symbol(std::size_t i) noexcept { return Symbol::from(kSpecs[i].symbol); }
  static std::size_t firm_of(std::uint32_t owner) noexcept { return (owner - 1) / 2; }

  /// A fresh token: a letter and a base-36 counter, space padded (so lengths vary).
  Token fresh_token(char prefix) noexcept {
    constexpr char kDigits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    char digits[13];
    std::size_t n = 0;
    for (std::uint64_t v = ++token_seq_; v != 0 && n < sizeof digits; v /= 36) digits[n++] = kDigits[v % 36];
    Token t = Token::from("");
    t.c[0] = prefix;
    for (std::size_t i = 0; i < n; ++i) t.c[1 + i] = digits[n - 1 - i];
    return t;
  }

  std::uint32_t pick_owner() noexcept { return static_cast<std::uint32_t>(1 + rng_.below(kOwners)); }
  std::size_t pick_instrument() noexcept {
    const std::uint64_t r = rng_.below(100);
    if (r < 40) return 0;
    if (r < 70) return 1;
    if (r < 88) return 2;
    return 3;
  }
  Side pick_side() noexcept { return rng_.chance(1, 2) ? Side::Buy : Side::Sell; }

  /// Moves an instrument's mid a tick at a time, pulled back towards the reference price.
  void walk(std::size_t i) noexcept {
    const InstrumentSpec& s = kSpecs[i];
    const std::int64_t drift = (mid_[i] - s.reference) / s.tick;
    const std::int64_t band = (up_[i] - down_[i]) / s.tick / 6;  // a third of the way to a limit
    std::int64_t step = rng_.range(-1, 1);
    if (drift > band && rng_.chance(1, 3)) step = -1;
    if (drift < -band && rng_.chance(1, 3)) step = 1;
    mid_[i] += step * s.tick;
    if (mid_[i] > up_[i] - 10 * s.tick) mid_[i] = up_[i] - 10 * s.tick;
    if (mid_[i] < down_[i] + 10 * s.tick) mid_[i] = down_[i] + 10 * s.tick;
  }

  /// A limit price near the touch: mostly a few ticks passive, sometimes a few ticks through.
  std::int64_t near_price(std::size_t i, Side side) noexcept {
    const InstrumentSpec& s = kSpecs[i];
    std::int64_t aggressive = rng_.range(-kPassiveTicks, 3);
    if (rng_.chance(1, kDeepOneIn)) aggressive = rng_.range(-60, -kPassiveTicks);  // deep, rests for a while
    std::int64_t p = mid_[i] + (side == Side::Buy ? aggressive : -aggressive) * s.tick;
    if (p > up_[i]) p = up_[i];
    if (p < down_[i]) p = down_[i];
    return p;
  }

  /// A valid quantity for `side` on instrument `i` (odd sells where allowed).
  std::uint32_t valid_qty(std::size_t i, Side side) noexcept {
    const InstrumentSpec& s = kSpecs[i];
    if (side == Side::Sell && s.odd_lot_sell && rng_.chance(1, 4)) {
      return static_cast<std::uint32_t>(1 + rng_.below(3000));
    }
    if (s.lot == 1) return static_cast<std::uint32_t>(s.min_qty + rng_.below(rng_.chance(1, 8) ? 20000 : 2500));
    const std::uint64_t lots = rng_.chance(1, 8) ? 1 + rng_.below(200) : 1 + rng_.below(20);
    return static_cast<std::uint32_t>(lots * s.lot);
  }

  /// Remembers an order so that cancels and replaces can aim at it.
  void remember(const Recent& r) noexcept {
    recent_[recent_next_] = r;
    recent_next_ = (recent_next_ + 1) % kRecent;
    if (recent_count_ < kRecent) ++recent_count_;
  }
  /// A recently sent order, or nothing (count 0) at the very start.
  Recent* pick_recent() noexcept {
    if (recent_count_ == 0) return nullptr;
    // Favour the newest entries: they are the most likely to be live.
    const std::size_t back = rng_.chance(2, 3) ? rng_.index(64 < recent_count_ ? 64 : recent_count_)
                                               : rng_.index(recent_count_);
    return &recent_[(recent_next_ + kRecent - 1 - back) % kRecent];
  }

  /// A valid-looking limit order (the caller may spoil one field).
  Command base_limit(std::uint32_t owner, std::size_t i, Side side, TimeInForce tif) noexcept {
    walk(i);
    const std::int64_t price = near_price(i, side);
    const std::uint32_t qty = valid_qty(i, side);
    return make_new_order(Timestamp{ts_}, OwnerId{owner}, firm_id(firm_of(owner)), symbol(i),
                          fresh_token('T'), side, Qty{qty}, Price{price}, OrderType::Limit, tif);
  }

  Command limit_order() noexcept {
    const std::uint32_t owner = pick_owner();
    const std::size_t i = pick_instrument();
    const Side side = pick_side();
    const std::uint64_t r = rng_.below(100);
    TimeInForce tif = TimeInForce::Day;
    if (r >= 70 && r < 84) tif = TimeInForce::Ioc;
    if (r >= 84 && r < 91) tif = TimeInForce::Fok;
    Command c = base_limit(owner, i, side, tif);
    NewOrderCmd& o = c.new_order;
    if (r >= 91) {  // minimum quantity, day or IOC
      o.tif = rng_.chance(2, 3) ? TimeInForce::Day : TimeInForce::Ioc;
      o.min_qty = Qty{static_cast<std::uint32_t>(1 + rng_.below(o.qty.value()))};
    }
    if (o.tif == TimeInForce::Fok && rng_.chance(1, 3)) {  // FOK's implied minimum overrides this
      o.min_qty = Qty{static_cast<std::uint32_t>(1 + rng_.below(o.qty.value() + 100))};
    }
    if (o.tif == TimeInForce::Day && rng_.chance(1, 12)) o.post_only = 1;
    if (rng_.chance(1, 30)) o.price = Price{rng_.chance(1, 2) ? up_[i] : down_[i]};  // at a limit: accepted
    if (firm_of(owner) == 5 && rng_.chance(1, 6)) {  // FOXT: order / notional limits
      o.qty = Qty{static_cast<std::uint32_t>(100 * (50 + rng_.below(200)))};
    }
    if (o.tif == TimeInForce::Day) remember(Recent{owner, o.token, i, side, o.price.value(), o.qty.value()});
    return c;
  }

  Command market_order() noexcept {
    const std::uint32_t owner = pick_owner();
    const std::size_t i = pick_instrument();
    const Side side = pick_side();
    walk(i);
    const bool to_limit = rng_.chance(1, 2);
    const OrderType type = to_limit ? OrderType::MarketBestFiveToLimit : OrderType::MarketBestFiveIoc;
    // The TIF field is ignored for market orders: mostly the natural one, sometimes anything.
    TimeInForce tif = to_limit ? TimeInForce::Day : TimeInForce::Ioc;
    if (rng_.chance(3, 10)) {
      constexpr std::array<TimeInForce, 5> kAny{TimeInForce::Day, TimeInForce::Ioc, TimeInForce::Fok,
                                                static_cast<TimeInForce>('Q'), static_cast<TimeInForce>(0)};
      tif = kAny[rng_.index(kAny.size())];
    }
    Qty qty{valid_qty(i, side)};
    if (rng_.chance(1, 4)) qty = Qty{qty.value() * 5};
    if (qty.value() > kSpecs[i].max_qty) qty = Qty{kSpecs[i].max_qty};
    Qty min_qty{0};
    if (rng_.chance(1, 10)) min_qty = Qty{static_cast<std::uint32_t>(1 + rng_.below(qty.value()))};
    const Token token = fresh_token('M');
    // Any price: it is ignored.
    const Price price{rng_.chance(1, 2) ? 0x7FFFFFFF : rng_.range(-5, 5)};
    if (to_limit) remember(Recent{owner, token, i, side, mid_[i], qty.value()});
    return make_new_order(Timestamp{ts_}, OwnerId{owner}, firm_id(firm_of(owner)), symbol(i), token, side,
                          qty, price, type, tif, min_qty, false);
  }

  Command cancel() noexcept {
    Recent* r = pick_recent();
    if (r == nullptr || rng_.chance(1, 15)) {
      const OwnerId owner{pick_owner()};
      return make_cancel(Timestamp{ts_}, owner, fresh_token('U'), Qty{0});
    }
    std::uint32_t owner = r->owner;
    if (rng_.chance(1, 25)) owner = owner % kOwners + 1;  // someone else's token: unknown to them
    Qty target{0};
    const std::uint64_t k = rng_.below(10);
    if (k >= 5 && k < 9) target = Qty{static_cast<std::uint32_t>(rng_.below(r->qty))};  // reduce
    if (k == 9) target = Qty{r->qty};                                                    // nothing to cancel
    return make_cancel(Timestamp{ts_}, OwnerId{owner}, r->token, target);
  }

  Command replace() noexcept {
    Recent* r = pick_recent();
    if (r == nullptr || rng_.chance(1, 20)) {
      const std::size_t i = pick_instrument();
      const OwnerId owner{pick_owner()};
      const Token unknown = fresh_token('U');
      const Token replacement = fresh_token('R');
      return make_replace(Timestamp{ts_}, owner, unknown, replacement, Qty{kSpecs[i].min_qty}, Price{mid_[i]});
    }
    const InstrumentSpec& s = kSpecs[r->inst];
    const std::size_t i = r->inst;
    walk(i);
    const Token replacement = fresh_token('R');
    std::int64_t price = r->price;
    std::uint32_t qty = r->qty;
    const bool lots = r->side == Side::Buy || !s.odd_lot_sell;
    const std::uint32_t step = lots ? s.lot : 1;
    TimeInForce tif = TimeInForce::Day;
    const bool post_only = rng_.chance(1, 10);
    std::uint8_t bad_post_only = 0;
    Token token = replacement;
    const std::int64_t dir = r->side == Side::Buy ? 1 : -1;  // +1 tick = more aggressive
    const std::uint64_t kind = rng_.below(100);
    if (kind < 25) {  // keep priority: same price, same or smaller quantity
      if (qty > s.min_qty + step && rng_.chance(2, 3)) {
        qty -= static_cast<std::uint32_t>(1 + rng_.below((qty - s.min_qty) / step)) * step;
      }
    } else if (kind < 50) {  // move away from the touch
      price -= dir * rng_.range(1, 6) * s.tick;
    } else if (kind < 72) {  // towards / through the touch
      price = mid_[i] + dir * rng_.range(-1, 4) * s.tick;
    } else if (kind < 82) {  // same price, more shares: loses priority
      qty += static_cast<std::uint32_t>(1 + rng_.below(10)) * step;
    } else {  // invalid in one way
      switch (rng_.below(10)) {
        case 0: tif = rng_.chance(1, 2) ? TimeInForce::Ioc : TimeInForce::Fok; break;
        case 1:
          if (rng_.chance(1, 2)) tif = static_cast<TimeInForce>('Q');
          else bad_post_only = 2;
          break;
        case 2: qty = s.max_qty + 1; break;
        case 3: qty = 0; break;
        case 4: price += 37; break;
        case 5: price = dir > 0 ? up_[i] + s.tick : down_[i] - s.tick; break;
        case 6: token = r->token; break;  // the existing token is used
        case 7: {  // another recent token: refused if it is the same owner's, fine if not
          const Recent* other = pick_recent();
          token = other != nullptr ? other->token : r->token;
          break;
        }
        case 8:  // not a board lot (or under the minimum)
          if (!lots) qty = s.max_qty + 1;
          else qty = s.lot > 1 ? s.lot * 3 / 2 : s.min_qty - 1;
          break;
        default: qty = s.max_qty + 1; break;
      }
    }
    if (price > up_[i] + s.tick) price = up_[i];
    if (price < down_[i] - s.tick) price = down_[i];
    Command c = make_replace(Timestamp{ts_}, OwnerId{r->owner}, r->token, token, Qty{qty}, Price{price}, tif,
                             post_only);
    if (bad_post_only != 0) c.replace.post_only = bad_post_only;
    // Aim later commands at the replacement most of the time (if it was refused, the old token
    // stays live and the next cancel of it just misses).
    if (tif == TimeInForce::Day && rng_.chance(4, 5)) {
      r->token = token;
      r->price = price;
      r->qty = qty;
    }
    return c;
  }

  Command mass_cancel() noexcept {
    const std::size_t f = rng_.index(kFirms);
    InstrumentId inst{0};
    if (rng_.chance(1, 2)) inst = instrument_id(rng_.index(kInstruments));
    OwnerId owner{0};
    if (rng_.chance(1, 2)) owner = OwnerId{static_cast<std::uint32_t>(2 * f + 1 + rng_.below(2))};
    const CancelReason why = rng_.chance(1, 3) ? CancelReason::Disconnected : CancelReason::Supervisory;
    return make_mass_cancel(Timestamp{ts_}, firm_id(f), inst, owner, why);
  }

  Command kill_switch() noexcept {
    const std::size_t f = rng_.index(kFirms);
    if (killed_[f]) {  // engaging again is allowed and reported again
      if (rng_.chance(1, 2)) return limit_order();
      return make_kill_switch(Timestamp{ts_}, firm_id(f), true, rng_.chance(1, 2));
    }
    killed_[f] = true;
    release_at_[f] = n_ + 10 + rng_.below(100);
    return make_kill_switch(Timestamp{ts_}, firm_id(f), true, rng_.chance(1, 2));
  }

  Command halt() noexcept {
    const std::size_t i = rng_.index(kInstruments);
    if (halted_[i]) {  // halting again is allowed and reported again
      if (rng_.chance(1, 2)) return limit_order();
      return make_trading_status(Timestamp{ts_}, instrument_id(i), TradingStatus::Halted);
    }
    if (rng_.chance(1, 10)) return make_trading_status(Timestamp{ts_}, instrument_id(i), TradingStatus::Trading);
    halted_[i] = true;
    resume_at_[i] = n_ + 10 + rng_.below(60);
    return make_trading_status(Timestamp{ts_}, instrument_id(i), TradingStatus::Halted);
  }

  /// An admin command naming an unknown firm or instrument, or an unknown command type.
  Command invalid_admin() noexcept {
    switch (rng_.below(6)) {
      case 4: {
        const std::uint16_t id = static_cast<std::uint16_t>(1 + rng_.below(kInstruments));
        const TradingStatus bad = static_cast<TradingStatus>(rng_.chance(1, 2) ? 'X' : 0);
        return make_trading_status(Timestamp{ts_}, InstrumentId{id}, bad);
      }
      case 0: {
        const FirmId firm = firm_id(kFirms + rng_.index(5));
        const OwnerId owner{static_cast<std::uint32_t>(rng_.below(3))};
        return make_mass_cancel(Timestamp{ts_}, firm, InstrumentId{0}, owner);
      }
      case 1: {
        const FirmId firm = firm_id(rng_.index(kFirms));
        const InstrumentId bad{static_cast<std::uint16_t>(kInstruments + 1 + rng_.below(5))};
        return make_mass_cancel(Timestamp{ts_}, firm, bad);
      }
      case 2: {
        const FirmId firm = firm_id(kFirms + rng_.index(5));
        const bool engaged = rng_.chance(1, 2);
        return make_kill_switch(Timestamp{ts_}, firm, engaged, false);
      }
      case 3:
        return make_trading_status(Timestamp{ts_},
                                   InstrumentId{static_cast<std::uint16_t>(rng_.chance(1, 4) ? 0 : kInstruments + 1)},
                                   TradingStatus::Halted);
      default: {
        Command c = make_cancel(Timestamp{ts_}, OwnerId{1}, fresh_token('U'));
        // Types past the last real one (EdgeReject = 7); the reference book knows no others.
        c.type = static_cast<CommandType>(rng_.chance(1, 2) ? 0 : 8 + rng_.below(200));
        return c;
      }
    }
  }

  /// A new order that is invalid in one way (or valid at an edge).
  Command invalid_order() noexcept {
    const std::uint32_t owner = pick_owner();
    const std::size_t i = pick_instrument();
    const Side side = pick_side();
    const InstrumentSpec& s = kSpecs[i];
    Command c = base_limit(owner, i, side, rng_.chance(1, 2) ? TimeInForce::Day : TimeInForce::Ioc);
    NewOrderCmd& o = c.new_order;
    switch (rng_.below(21)) {
      case 0: o.firm = FirmId{static_cast<std::uint16_t>(kFirms + rng_.below(3) * 1000)}; break;
      case 1: o.symbol = Symbol::from(rng_.chance(1, 2) ? "999999" : "60000"); break;
      case 2: {
        const Recent* r = pick_recent();
        if (r != nullptr) {
          o.owner = OwnerId{r->owner};
          o.firm = firm_id(firm_of(r->owner));
          o.token = r->token;
        }
        break;
      }
      case 3: o.side = static_cast<Side>(rng_.chance(1, 2) ? 'X' : 0); break;
      case 4: o.type = static_cast<OrderType>('Z'); break;
      case 5: o.tif = static_cast<TimeInForce>('Q'); break;
      case 6: {  // post-only that is not a day limit order, or a post-only flag that is not 0/1
        const std::uint64_t k = rng_.below(4);
        o.post_only = 1;
        if (k == 0) o.type = OrderType::MarketBestFiveIoc;
        if (k == 1) o.type = OrderType::MarketBestFiveToLimit;
        if (k == 2) o.tif = rng_.chance(1, 2) ? TimeInForce::Ioc : TimeInForce::Fok;
        if (k == 3) o.post_only = static_cast<std::uint8_t>(2 + rng_.below(254));
        break;
      }
      case 7: o.qty = Qty{0}; break;
      case 8: o.qty = Qty{rng_.chance(1, 2) ? s.max_qty + s.lot : 0xFFFFFFFFu}; break;
      case 9:
        if (s.lot > 1) {
          o.qty = Qty{s.lot * 3 / 2};  // not a multiple of the lot
          if (side == Side::Sell && s.odd_lot_sell) o.side = Side::Buy;
        } else {
          o.qty = Qty{s.min_qty - 1};  // under the minimum
          o.side = Side::Buy;
        }
        break;
      case 10: o.min_qty = Qty{o.qty.value() + 1}; o.tif = TimeInForce::Day; break;
      case 11: {
        const std::uint64_t k = rng_.below(4);
        if (k == 0) o.price = Price{0};
        if (k == 1) o.price = Price{-s.tick};
        if (k == 2) o.price = Price{2147483648LL};
        if (k == 3) o.price = Price{o.price.value() + 37};
        break;
      }
      case 12: o.price = Price{rng_.chance(1, 2) ? up_[i] + s.tick : down_[i] - s.tick}; break;
      case 13: o.price = Price{rng_.chance(1, 2) ? up_[i] : down_[i]}; break;
      case 14: {  // outside the STAR cage (3 % through the mid)
        const std::size_t star = 1;
        o.symbol = symbol(star);
        o.qty = Qty{kSpecs[star].min_qty};
        const std::int64_t off = mid_[star] * 3 / 100 / kSpecs[star].tick * kSpecs[star].tick;
        o.price = Price{o.side == Side::Buy ? mid_[star] + off : mid_[star] - off};
        break;
      }
      case 15:  // post-only at an aggressive price: usually crosses
        o.tif = TimeInForce::Day;
        o.post_only = 1;
        o.price = Price{mid_[i] + (side == Side::Buy ? 3 : -3) * s.tick};
        break;
      case 16: {  // FOXT: order quantity, notional and open-share limits
        o.owner = OwnerId{11 + static_cast<std::uint32_t>(rng_.below(2))};
        o.firm = firm_id(5);
        o.tif = TimeInForce::Day;
        o.qty = Qty{static_cast<std::uint32_t>(s.lot * (1 + rng_.below(30000 / s.lot)))};
        if (o.side == Side::Sell && !s.odd_lot_sell) o.qty = Qty{s.lot * 10};
        remember(Recent{o.owner.value(), o.token, i, o.side, o.price.value(), o.qty.value()});
        break;
      }
      case 17: {  // a large sweep through several levels
        o.qty = Qty{static_cast<std::uint32_t>(s.lot * (200 + rng_.below(400)))};
        if (o.qty.value() < s.min_qty) o.qty = Qty{s.min_qty};
        if (o.qty.value() > s.max_qty) o.qty = Qty{s.max_qty};
        o.price = Price{rng_.chance(1, 2) ? up_[i] : down_[i]};
        o.side = o.price.value() == up_[i] ? Side::Buy : Side::Sell;
        break;
      }
      case 18:  // a market order with a minimum quantity it may not reach
        o.type = rng_.chance(1, 2) ? OrderType::MarketBestFiveIoc : OrderType::MarketBestFiveToLimit;
        o.tif = o.type == OrderType::MarketBestFiveIoc ? TimeInForce::Ioc : TimeInForce::Day;
        o.qty = Qty{o.qty.value() * 4 > s.max_qty ? s.max_qty : o.qty.value() * 4};
        o.min_qty = o.qty;
        break;
      case 19: {  // another owner's recent token: tokens are unique per owner, so this is fine
        const Recent* r = pick_recent();
        if (r != nullptr) {
          o.token = r->token;
          if (o.owner.value() == r->owner) o.owner = OwnerId{r->owner % kOwners + 1};
          o.firm = firm_id(firm_of(o.owner.value()));
          o.tif = TimeInForce::Day;
          remember(Recent{o.owner.value(), o.token, i, o.side, o.price.value(), o.qty.value()});
        }
        break;
      }
      default:  // a day order whose minimum quantity is all of it
        o.tif = TimeInForce::Day;
        o.min_qty = o.qty;
        remember(Recent{o.owner.value(), o.token, i, o.side, o.price.value(), o.qty.value()});
        break;
    }
    return c;
  }

  SplitMix64 rng_;
  std::uint64_t n_ = 0;                       ///< commands generated so far
  std::uint64_t ts_ = 34200000000000ULL;      ///< 09:30 in nanoseconds since midnight
  std::uint64_t token_seq_ = 0;
  std::array<std::int64_t, kInstruments> mid_{};
  std::array<std::int64_t, kInstruments> down_{};
  std::array<std::int64_t, kInstruments> up_{};
  std::array<bool, kInstruments> halted_{};
  std::array<std::uint64_t, kInstruments> resume_at_{};
  std::array<bool, kFirms> killed_{};
  std::array<std::uint64_t, kFirms> release_at_{};
  std::array<Recent, kRecent> recent_{};
  std::size_t recent_next_ = 0;
  std::size_t recent_count_ = 0;
};

}  // namespace peregrine::differential

/// The generator under the short name the wasm driver (tests/wasm/hash_main.cpp) uses.
using CommandGen = peregrine::differential::CommandGen;
