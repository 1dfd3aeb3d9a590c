#include "traffic.hpp"

#include <algorithm>
#include <cmath>

namespace peregrine::bench {

Traffic::Traffic(const std::vector<InstrumentConfig>& instruments, const Mix& mix, double zipf, double reject_ratio,
                 std::uint64_t seed)
    : reject_ratio_(reject_ratio), rng_(seed) {
  double total = 0;
  for (std::size_t i = 0; i < instruments.size(); ++i) {
    const InstrumentConfig& c = instruments[i];
    if (c.initial_status != TradingStatus::Trading) continue;
    const PriceLimits lim = compute_price_limits(c.reference_price, c.limit_bps, c.tick);
    InstrumentModel m;
    m.symbol = c.symbol;
    m.tick = c.tick.value();
    m.lot = c.lot_size.value();
    m.min_qty = c.min_qty.value();
    // The walk keeps to the middle half of the band, so orders 10 ticks away stay inside it.
    const std::int64_t ref = c.reference_price.value();
    const std::int64_t quarter = (lim.up.value() - lim.down.value()) / 4 / m.tick * m.tick;
    m.lo = std::max(lim.down.value() + 16 * m.tick, ref - quarter);
    m.hi = std::min(lim.up.value() - 16 * m.tick, ref + quarter);
    if (m.hi < m.lo) m.lo = m.hi = ref;
    m.mid = ref;
    inst_.push_back(m);
    total += 1.0 / std::pow(static_cast<double>(inst_.size()), zipf);
    cdf_.push_back(total);
  }
  for (double& c : cdf_) c /= total;
  const double w[4] = {mix.passive, mix.cancel, mix.replace, mix.aggressive};
  const double sum = w[0] + w[1] + w[2] + w[3];
  double acc = 0;
  for (int i = 0; i < 4; ++i) {
    acc += w[i] / sum;
    kind_cdf_[i] = acc;
  }
  kind_cdf_[3] = 1.0;
}

MsgKind Traffic::next_kind() {
  const double u = unit_(rng_);
  if (u < kind_cdf_[0]) return MsgKind::Passive;
  if (u < kind_cdf_[1]) return MsgKind::Cancel;
  if (u < kind_cdf_[2]) return MsgKind::Replace;
  return MsgKind::Aggressive;
}

std::uint32_t Traffic::draw_instrument() {
  const double u = unit_(rng_);
  const auto it = std::lower_bound(cdf_.begin(), cdf_.end(), u);
  return static_cast<std::uint32_t>(std::min<std::ptrdiff_t>(it - cdf_.begin(), static_cast<std::ptrdiff_t>(cdf_.size()) - 1));
}

std::uint32_t Traffic::draw_shares(const InstrumentModel& m) {
  // 1 to 5 round lots of 100 shares, on the instrument's lot and at least its minimum.
  std::uint32_t q = 100 * (1 + pick(5));
  q = (q + m.lot - 1) / m.lot * m.lot;
  return std::max(q, (m.min_qty + m.lot - 1) / m.lot * m.lot);
}

void Traffic::walk(InstrumentModel& m) {
  const double u = unit_(rng_);
  if (u < 0.05) m.mid = std::max(m.lo, m.mid - m.tick);
  else if (u < 0.10) m.mid = std::min(m.hi, m.mid + m.tick);
}

NewOrder Traffic::new_order(bool aggressive) {
  NewOrder o;
  o.instrument = draw_instrument();
  InstrumentModel& m = inst_[o.instrument];
  walk(m);
  o.side = (rng_() & 1) != 0 ? 'B' : 'S';
  o.shares = draw_shares(m);
  std::int64_t price = 0;
  if (aggressive) {
    // Through the mid by 5 ticks: takes whatever rests within that.
    price = o.side == 'B' ? m.mid + 5 * m.tick : m.mid - 5 * m.tick;
    o.ioc = true;
  } else {
    // Behind the mid: mostly 1-2 ticks (the touch), sometimes up to 10.
    std::int64_t ticks = 1;
    while (ticks < 10 && unit_(rng_) < 0.45) ++ticks;
    price = o.side == 'B' ? m.mid - ticks * m.tick : m.mid + ticks * m.tick;
  }
  o.price = static_cast<std::uint32_t>(price);
  if (reject_ratio_ > 0 && unit_(rng_) < reject_ratio_) {
    o.invalid = true;
    o.price += 1;  // 1/10000 CNY off the tick
  }
  return o;
}

void Traffic::replace_terms(std::uint32_t instrument, std::uint32_t old_price, std::uint32_t& price,
                            std::uint32_t& shares) {
  const InstrumentModel& m = inst_[instrument];
  const std::int64_t step = static_cast<std::int64_t>(pick(5)) - 2;  // -2 .. +2 ticks
  const std::int64_t p = std::clamp<std::int64_t>(static_cast<std::int64_t>(old_price) + step * m.tick,
                                                  m.lo - 10 * m.tick, m.hi + 10 * m.tick);
  price = static_cast<std::uint32_t>(p);
  shares = draw_shares(m);
}

}  // namespace peregrine::bench
