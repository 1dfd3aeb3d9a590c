// Egress::save / Egress::load (issue #5). Layout, integers little-endian (core/serial.hpp):
//
//   u32 magic "PGEG", u32 version, u32 instruments, u32 users
//   per user (directory order): u32 owner, its outbound buffer (RetransmitBuffer::save)
//   the ITCH buffer, then the MoldUDP64 packetizer (MoldUdpPacketizer::save)
//   per instrument: its DepthBook (DepthBook::save); u8 indicative present, and if so i64 price,
//     u64 paired, u64 imbalance, u8 surplus side (0 = none); u8 last trading status
//   counters: 7 x u64 (EgressCounters, in declaration order)
//
// open_instruments_ is derived from the statuses.

#include <string>

#include "peregrine/core/serial.hpp"
#include "peregrine/egress/egress.hpp"

namespace peregrine::egress {

namespace {
constexpr std::uint32_t kEgressMagic = 0x47454750u;  // "PGEG"

bool fail(std::string& error, const ByteReader& in, const std::string& what) {
  error = "egress snapshot: ";
  error += what;
  error += " (at byte ";
  error += std::to_string(in.offset());
  error += ")";
  return false;
}
}  // namespace

std::vector<std::uint8_t> Egress::save() const {
  std::vector<std::uint8_t> out;
  ByteWriter w(out);
  w.u32(kEgressMagic);
  w.u32(kSnapshotVersion);
  w.u32(static_cast<std::uint32_t>(books_.size()));
  w.u32(static_cast<std::uint32_t>(users_.size()));
  for (std::size_t i = 0; i < users_.size(); ++i) {
    const sessions::UserState& u = users_.at(i);
    w.u32(u.account.owner.value());
    u.outbound.save(w);
  }
  itch_.save(w);
  mold_.save(w);
  {
    const std::lock_guard<std::mutex> lock(depth_mutex_);
    for (std::size_t i = 0; i < books_.size(); ++i) {
      books_[i].save(w);
      const std::optional<AuctionInfo>& a = indicative_[i];
      w.u8(a.has_value() ? 1 : 0);
      if (a.has_value()) {
        w.i64(a->price.value());
        w.u64(a->paired);
        w.u64(a->imbalance);
        w.u8(a->surplus.has_value() ? static_cast<std::uint8_t>(*a->surplus) : 0);
      }
      w.u8(static_cast<std::uint8_t>(status_[i]));
    }
  }
  for (const std::uint64_t c : {counters_.events, counters_.ouch_messages, counters_.unknown_owner_dropped,
                                counters_.untranslated, counters_.itch_messages, counters_.depth_inconsistencies,
                                counters_.session_deliveries})
    w.u64(c);
  return out;
}

bool Egress::load(std::span<const std::uint8_t> bytes, std::string& error) {
  ByteReader in(bytes);
  if (counters_.events != 0 || itch_.next_seq() != 1) return fail(error, in, "load needs a fresh Egress");
  const std::uint32_t magic = in.u32();
  const std::uint32_t version = in.u32();
  const std::uint32_t instruments = in.u32();
  const std::uint32_t users = in.u32();
  if (!in.ok()) return fail(error, in, "truncated header");
  if (magic != kEgressMagic) return fail(error, in, "not an egress snapshot (bad magic)");
  if (version != kSnapshotVersion) return fail(error, in, "unsupported snapshot version");
  if (instruments != books_.size()) return fail(error, in, "instrument count differs from the configuration");
  if (users != users_.size()) return fail(error, in, "user count differs from the user directory");
  std::string why;
  for (std::size_t i = 0; i < users_.size(); ++i) {
    sessions::UserState& u = users_.at(i);
    const std::uint32_t owner = in.u32();
    if (!in.ok()) return fail(error, in, "truncated user");
    if (owner != u.account.owner.value()) return fail(error, in, "user owner differs from the user directory");
    if (!u.outbound.load(in, why)) return fail(error, in, "user outbound buffer: " + why);
  }
  if (!itch_.load(in, why)) return fail(error, in, "ITCH buffer: " + why);
  if (!mold_.load(in, why)) return fail(error, in, why);
  {
    const std::lock_guard<std::mutex> lock(depth_mutex_);
    open_instruments_ = 0;
    for (std::size_t i = 0; i < books_.size(); ++i) {
      if (!books_[i].load(in, why)) return fail(error, in, why);
      const std::uint8_t has = in.u8();
      if (!in.ok()) return fail(error, in, "truncated indicative");
      if (has > 1) return fail(error, in, "bad indicative flag");
      indicative_[i].reset();
      if (has == 1) {
        const std::int64_t price = in.i64();
        const std::uint64_t paired = in.u64();
        const std::uint64_t imbalance = in.u64();
        const std::uint8_t side = in.u8();
        if (!in.ok()) return fail(error, in, "truncated indicative");
        if (side != 0 && side != static_cast<std::uint8_t>(Side::Buy) && side != static_cast<std::uint8_t>(Side::Sell))
          return fail(error, in, "bad indicative surplus side");
        indicative_[i] = AuctionInfo{Price{price}, paired, imbalance,
                                     side == 0 ? std::optional<Side>{} : std::optional<Side>{static_cast<Side>(side)}};
      }
      const auto status = static_cast<TradingStatus>(in.u8());
      if (!in.ok()) return fail(error, in, "truncated trading status");
      if (!is_known_status(status)) return fail(error, in, "unknown trading status");
      status_[i] = status;
      if (status != TradingStatus::Closed) ++open_instruments_;
    }
  }
  for (std::uint64_t* c : {&counters_.events, &counters_.ouch_messages, &counters_.unknown_owner_dropped,
                           &counters_.untranslated, &counters_.itch_messages, &counters_.depth_inconsistencies,
                           &counters_.session_deliveries})
    *c = in.u64();
  if (!in.ok()) return fail(error, in, "truncated counters");
  if (in.remaining() != 0) return fail(error, in, "trailing bytes after the snapshot");
  return true;
}

}  // namespace peregrine::egress
