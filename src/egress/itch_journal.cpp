#include "peregrine/egress/itch_journal.hpp"

#include <algorithm>

namespace peregrine::egress {

std::uint64_t ItchJournal::append(std::span<const std::uint8_t> message) {
  Record r{};
  r.size = static_cast<std::uint8_t>(std::min(message.size(), r.bytes.size()));
  std::copy_n(message.begin(), r.size, r.bytes.begin());
  records_.push_back(r);
  if (records_.size() > retention_) {
    records_.pop_front();
    ++first_;
  }
  return next_seq() - 1;
}

std::span<const std::uint8_t> ItchJournal::get(std::uint64_t seq) const noexcept {
  const Record& r = records_[static_cast<std::size_t>(seq - first_)];
  return {r.bytes.data(), r.size};
}

}  // namespace peregrine::egress
