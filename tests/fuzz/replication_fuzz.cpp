// libFuzzer target: the replication stream (peregrine/ha/replication.hpp). The input is a byte
// stream from a peer. Frames are decoded from the front until one is incomplete or refused; each
// decoded frame must lie inside the input and encode back to exactly its bytes, and goes through
// a standby's and a leader's gates, whose invariants must hold: a standby's epoch and held seq
// never go back, it appends only the next seq and never from an older epoch; a leader's acked
// seq never passes what it wrote, and once deposed it advances no more.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "fuzz_check.hpp"
#include "peregrine/ha/replication.hpp"

using namespace peregrine::ha::repl;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::uint8_t> in(data, size);
  StandbyGate standby(3, 100);
  LeaderAckGate leader(3);
  const std::uint64_t written = 200;
  std::vector<std::uint8_t> again(kMaxFrameSize);
  while (!in.empty()) {
    Frame f;
    std::size_t used = 0;
    const DecodeStatus st = decode(in, f, used);
    if (st != DecodeStatus::Ok) {
      FUZZ_CHECK(used == 0);
      break;
    }
    FUZZ_CHECK(used >= kFrameHeaderSize && used <= in.size() && used <= kMaxFrameSize);
    if (f.type == FrameType::Record) {
      FUZZ_CHECK(!f.payload.empty() && f.payload.data() >= in.data() &&
                 f.payload.data() + f.payload.size() == in.data() + used);
    }
    FUZZ_CHECK(encode(again, f) == used);
    FUZZ_CHECK(std::memcmp(again.data(), in.data(), used) == 0);

    const std::uint64_t epoch_before = standby.epoch(), held_before = standby.held();
    const Verdict v = standby.on_frame(f);
    FUZZ_CHECK(standby.epoch() >= epoch_before && standby.held() >= held_before);
    if (v == Verdict::Append) {
      FUZZ_CHECK(f.epoch >= epoch_before && f.seq == held_before + 1 && standby.held() == f.seq);
    } else {
      FUZZ_CHECK(standby.held() == held_before);
    }
    if (v == Verdict::OlderEpoch) FUZZ_CHECK(f.epoch < epoch_before && standby.epoch() == epoch_before);

    if (f.type == FrameType::Ack) {
      const bool was_deposed = leader.deposed();
      const std::uint64_t acked_before = leader.acked();
      const AckVerdict a = leader.on_ack(f, written);
      FUZZ_CHECK(leader.acked() <= written && leader.acked() >= acked_before);
      if (was_deposed) FUZZ_CHECK(a == AckVerdict::Deposed && leader.acked() == acked_before);
      if (a == AckVerdict::Advanced) FUZZ_CHECK(f.epoch == 3 && leader.acked() == f.seq);
    }
    in = in.subspan(used);
  }
  return 0;
}
