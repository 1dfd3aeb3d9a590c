#include "peregrine/proto/soupbintcp.hpp"

#include <algorithm>
#include <cstring>

namespace peregrine::proto::soup {

StreamDecoder::StreamDecoder(Role role, std::size_t max_length)
    : role_(role),
      max_(std::clamp<std::size_t>(max_length, 1, kMaxPacketLength)),
      buf_(new std::uint8_t[kLengthFieldSize + max_]) {}

bool StreamDecoder::feed(std::span<const std::uint8_t> bytes) noexcept {
  if (in_size_ != 0) return false;
  in_ = bytes.data();
  in_size_ = bytes.size();
  return true;
}

void StreamDecoder::reset() noexcept {
  staged_ = 0;
  in_ = nullptr;
  in_size_ = 0;
  sticky_ = DecodeStatus::Ok;
}

DecodeStatus StreamDecoder::poll(Packet& out) noexcept {
  if (sticky_ != DecodeStatus::Ok) {
    in_size_ = 0;  // bytes fed after a framing error are dropped, so feed() keeps taking reads
    return sticky_;
  }

  // Invariant: staged_ bytes in buf_ are the start of one packet whose length field (when
  // staged_ >= 2) has been checked against max_, so the packet fits in buf_.
  const auto take = [this](std::size_t want) noexcept {
    const std::size_t n = std::min(want, in_size_);
    std::memcpy(buf_.get() + staged_, in_, n);
    staged_ += n;
    in_ += n;
    in_size_ -= n;
  };

  if (staged_ != 0) {
    if (staged_ < kLengthFieldSize) {
      take(kLengthFieldSize - staged_);
      if (staged_ < kLengthFieldSize) return DecodeStatus::NeedMore;
    }
    Packet p{};
    FrameResult r = parse_frame({buf_.get(), staged_}, role_, max_, p);
    if (r.status == DecodeStatus::NeedMore) {
      take(r.size - staged_);
      if (staged_ < r.size) return DecodeStatus::NeedMore;
      r = parse_frame({buf_.get(), staged_}, role_, max_, p);
    }
    if (is_sticky(r.status)) {
      sticky_ = r.status;
      staged_ = 0;
      in_size_ = 0;  // nothing after a framing error can be framed: drop it
      return sticky_;
    }
    // The packet is complete: it stays in buf_ until the next poll() overwrites it.
    staged_ = 0;
    out = p;
    return r.status;
  }

  if (in_size_ == 0) return DecodeStatus::NeedMore;
  Packet p{};
  const FrameResult r = parse_frame({in_, in_size_}, role_, max_, p);
  if (r.status == DecodeStatus::NeedMore) {
    // A partial packet (at most max_ + 2 bytes, since its length passed the check): stage it.
    take(in_size_);
    return DecodeStatus::NeedMore;
  }
  if (is_sticky(r.status)) {
    sticky_ = r.status;
    in_size_ = 0;
    return sticky_;
  }
  in_ += r.size;
  in_size_ -= r.size;
  out = p;
  return r.status;
}

}  // namespace peregrine::proto::soup
