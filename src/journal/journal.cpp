// Small pieces of the journal's contract: the configuration fingerprint, durability names,
// Record::command(), disk usage.

#include <sys/statvfs.h>

#include <cstring>
#include <system_error>

#include "format.hpp"
#include "peregrine/journal/journal.hpp"

namespace peregrine::journal {
namespace {

/// FNV-1a over a canonical little-endian encoding of each field; lengths before strings and
/// lists, so ("ab","c") and ("a","bc") differ.
class Hasher {
 public:
  template <typename T>
  void add(T v) noexcept {
    std::uint8_t b[sizeof v];
    std::memcpy(b, &v, sizeof v);
    bytes(b, sizeof v);
  }
  void add_string(std::string_view s) noexcept {
    add<std::uint64_t>(s.size());
    bytes(s.data(), s.size());
  }
  void bytes(const void* p, std::size_t n) noexcept {
    const auto* c = static_cast<const std::uint8_t*>(p);
    for (std::size_t i = 0; i < n; ++i) {
      h_ ^= c[i];
      h_ *= 0x100000001b3ull;
    }
  }
  [[nodiscard]] std::uint64_t value() const noexcept {
    // A final mix (splitmix64's), so near-identical configurations give unrelated values.
    std::uint64_t z = h_;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }

 private:
  std::uint64_t h_ = 0xcbf29ce484222325ull;
};

}  // namespace

std::uint64_t config_fingerprint(const EngineConfig& cfg) noexcept {
  Hasher h;
  h.add_string("peregrine-engine-config-v1");
  h.add<std::uint64_t>(cfg.instruments.size());
  for (const InstrumentConfig& i : cfg.instruments) {
    h.add_string(i.symbol.view());
    h.add_string(i.name);
    h.add(i.tick.value());
    h.add(i.lot_size.value());
    h.add(i.min_qty.value());
    h.add<std::uint8_t>(i.odd_lot_sell ? 1 : 0);
    h.add(i.max_order_qty.value());
    h.add(i.reference_price.value());
    h.add(i.limit_bps);
    h.add(i.cage_bps);
    h.add(static_cast<std::uint8_t>(i.initial_status));
  }
  h.add<std::uint64_t>(cfg.firms.size());
  for (const FirmConfig& f : cfg.firms) {
    h.add_string(f.name.view());
    h.add(static_cast<std::uint8_t>(f.stp));
    h.add(f.max_order_qty.value());
    h.add(f.max_order_notional);
    h.add(f.max_open_shares);
  }
  h.add(cfg.max_orders);
  h.add(cfg.max_tokens);
  h.add<std::uint8_t>(cfg.halt_accepts_orders ? 1 : 0);
  h.add<std::uint8_t>(cfg.halt_accepts_cancels ? 1 : 0);
  const std::uint64_t v = h.value();
  return v == 0 ? 1 : v;  // 0 means "do not check" to the reader
}

std::string_view to_string(Durability d) noexcept {
  switch (d) {
    case Durability::Fsync: return "fsync";
    case Durability::Fdatasync: return "fdatasync";
    case Durability::None: return "none";
    case Durability::Replicated: return "replicated";
    case Durability::ReplicatedFsync: return "replicated+fsync";
  }
  return "?";
}

std::optional<Durability> durability_from(std::string_view s) noexcept {
  if (s == "fsync") return Durability::Fsync;
  if (s == "fdatasync") return Durability::Fdatasync;
  if (s == "none") return Durability::None;
  if (s == "replicated") return Durability::Replicated;
  if (s == "replicated+fsync") return Durability::ReplicatedFsync;
  return std::nullopt;
}

Command Record::command() const noexcept {
  Command c;
  std::memset(static_cast<void*>(&c), 0, sizeof c);
  if (kind == RecordKind::Command && payload.size() == sizeof c) std::memcpy(static_cast<void*>(&c), payload.data(), sizeof c);
  return c;
}

DiskUsage disk_usage(const std::filesystem::path& dir) noexcept {
  DiskUsage u;
  struct statvfs vfs {};
  if (::statvfs(dir.c_str(), &vfs) == 0) u.free = static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code fec;
    if (it->is_regular_file(fec)) {
      const auto size = it->file_size(fec);
      if (!fec) u.used += size;
    }
  }
  return u;
}

}  // namespace peregrine::journal
