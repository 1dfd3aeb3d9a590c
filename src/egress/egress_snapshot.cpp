// Egress::save / Egress::load (issue #5). Layout, integers little-endian (core/serial.hpp):
//
//   u32 magic "PGEG", u32 version (2), u32 instruments, u32 users
//   per user (directory order): u32 owner, its outbound buffer (RetransmitBuffer::save)
//   the ITCH buffer (ItchBuffer::save), then the MoldUDP64 packetizer (MoldUdpPacketizer::save)
//   per instrument: u8 last trading status
//   counters: 6 x u64 (EgressCounters, in declaration order)
//   the depth as of the ITCH buffer's end: per instrument DepthFollower::save_instrument (its
//     DepthBook; u8 indicative present, and if so i64 price, u64 paired, u64 imbalance, u8
//     surplus side, 0 = none); u64 depth inconsistencies
//
// Version 1 (before the depth left the io thread) still loads: per instrument the depth book and
// indicative came before the status, and the counters were 7 (the 6th: depth inconsistencies).
// open_instruments_ is derived from the statuses.
//
// Loaded with the snapshot's storage (a restart), the retained messages stay where they lie in
// the mapped file (sessions::RetainedView): the format is the same either way.

#include <memory>
#include <stdexcept>
#include <string>

#include "peregrine/core/serial.hpp"
#include "peregrine/egress/egress.hpp"
#include "peregrine/proto/ouch42.hpp"

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

std::vector<std::uint8_t> Egress::save() {
  std::vector<std::uint8_t> out;
  save(out);
  return out;
}

void Egress::save(std::vector<std::uint8_t>& out) {
  if (!follow_depth()) throw std::runtime_error("egress snapshot: the depth books fell behind the ITCH buffer and were dropped");
  out.clear();
  // Room for the retained messages at their largest (what is reserved and not written is never
  // faulted in), so the vector does not grow, copying, a few times over.
  std::uint64_t most = 4096;
  for (std::size_t i = 0; i < users_.size(); ++i) {
    const sessions::OutboundBuffer& b = users_.at(i).outbound;
    most += 4 + 16 + (b.next_seq() - b.first_retained()) * (1 + proto::ouch::kMaxMessageSize);
  }
  most += 16 + (itch_.next_seq() - itch_.first_retained()) * (1 + ItchBuffer::kMaxSize);
  if (out.capacity() < most) out.reserve(static_cast<std::size_t>(most));
  ByteWriter w(out);
  w.u32(kEgressMagic);
  w.u32(kSnapshotVersion);
  w.u32(static_cast<std::uint32_t>(status_.size()));
  w.u32(static_cast<std::uint32_t>(users_.size()));
  for (std::size_t i = 0; i < users_.size(); ++i) {
    const sessions::UserState& u = users_.at(i);
    w.u32(u.account.owner.value());
    u.outbound.save(w);
  }
  itch_.save(w);
  mold_.save(w);
  for (const TradingStatus st : status_) w.u8(static_cast<std::uint8_t>(st));
  for (const std::uint64_t c : {counters_.events, counters_.ouch_messages, counters_.unknown_owner_dropped,
                                counters_.untranslated, counters_.itch_messages, counters_.session_deliveries})
    w.u64(c);
  for (std::size_t i = 0; i < status_.size(); ++i) depth_.save_instrument(i, w);
  w.u64(depth_.inconsistencies());
}

bool Egress::load(std::span<const std::uint8_t> bytes, std::string& error, std::shared_ptr<const void> storage) {
  ByteReader in(bytes);
  if (counters_.events != 0 || itch_.next_seq() != 1) return fail(error, in, "load needs a fresh Egress");
  const std::uint32_t magic = in.u32();
  const std::uint32_t version = in.u32();
  const std::uint32_t instruments = in.u32();
  const std::uint32_t users = in.u32();
  if (!in.ok()) return fail(error, in, "truncated header");
  if (magic != kEgressMagic) return fail(error, in, "not an egress snapshot (bad magic)");
  if (version != kSnapshotVersion && version != 1)
    return fail(error, in, "unsupported snapshot version " + std::to_string(version) + " (this build reads 1 and 2)");
  if (instruments != status_.size()) return fail(error, in, "instrument count differs from the configuration");
  if (users != users_.size()) return fail(error, in, "user count differs from the user directory");
  std::string why;
  for (std::size_t i = 0; i < users_.size(); ++i) {
    sessions::UserState& u = users_.at(i);
    const std::uint32_t owner = in.u32();
    if (!in.ok()) return fail(error, in, "truncated user");
    if (owner != u.account.owner.value()) return fail(error, in, "user owner differs from the user directory");
    if (!u.outbound.load(in, why, storage)) return fail(error, in, "user outbound buffer: " + why);
  }
  if (!itch_.load(in, why, storage)) return fail(error, in, "ITCH buffer: " + why);
  if (!mold_.load(in, why)) return fail(error, in, why);
  open_instruments_ = 0;
  for (std::size_t i = 0; i < status_.size(); ++i) {
    if (version == 1 && !depth_.load_instrument(i, in, why)) return fail(error, in, why);
    const auto status = static_cast<TradingStatus>(in.u8());
    if (!in.ok()) return fail(error, in, "truncated trading status");
    if (!is_known_status(status)) return fail(error, in, "unknown trading status");
    status_[i] = status;
    if (status != TradingStatus::Closed) ++open_instruments_;
  }
  std::uint64_t inconsistencies = 0;
  for (std::uint64_t* c : {&counters_.events, &counters_.ouch_messages, &counters_.unknown_owner_dropped,
                           &counters_.untranslated, &counters_.itch_messages})
    *c = in.u64();
  if (version == 1) inconsistencies = in.u64();
  counters_.session_deliveries = in.u64();
  if (!in.ok()) return fail(error, in, "truncated counters");
  if (version != 1) {
    for (std::size_t i = 0; i < status_.size(); ++i)
      if (!depth_.load_instrument(i, in, why)) return fail(error, in, why);
    inconsistencies = in.u64();
    if (!in.ok()) return fail(error, in, "truncated depth inconsistencies");
  }
  depth_.set_inconsistencies(inconsistencies);
  if (in.remaining() != 0) return fail(error, in, "trailing bytes after the snapshot");
  return true;
}

}  // namespace peregrine::egress
