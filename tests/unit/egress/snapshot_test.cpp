// Egress::save / Egress::load (issue #5): a snapshot restores everything that shapes egress's
// future output. Events from a real engine (the differential generator's stream) go through
// Egress A; at a split A is saved and loaded into a fresh Egress B; then both get the rest of the
// events with the same flush and timer calls, and must produce the same MoldUDP64 datagrams
// (sequence numbers included), the same OUCH buffer of every user and the same ITCH buffer,
// depth and indicatives. Journal retentions are smaller than the stream, so the snapshot holds
// journals that have dropped their oldest messages. Malformed snapshots are refused or load
// into a working Egress, never crash (ASan + UBSan build). Both ways of loading are checked: the
// records copied into the buffers, and read where they lie in the snapshot's bytes (a restart).

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "differential/command_gen.hpp"
#include "peregrine/core/command.hpp"
#include "peregrine/core/engine.hpp"
#include "peregrine/core/event.hpp"
#include "peregrine/egress/egress.hpp"
#include "peregrine/proto/ouch_translate.hpp"
#include "peregrine/sessions/soup_session.hpp"

namespace peregrine::egress {
namespace {

using differential::CommandGen;
using differential::SplitMix64;
using Bytes = std::vector<std::uint8_t>;

constexpr std::size_t kUserRetention = 40;
constexpr std::size_t kItchRetention = 300;

EngineConfig snapshot_config() {
  EngineConfig cfg = CommandGen::config();
  cfg.max_tokens = 1u << 16;
  return cfg;
}

// The core's events, one batch per command, from the generator's stream with the day's phases
// (call phases publish indicatives and end in crosses; the close and the next open change the
// OUCH start/end of day).
std::vector<std::vector<Event>> engine_batches(const EngineConfig& cfg, std::uint64_t seed, std::size_t n) {
  Engine engine(cfg);
  std::vector<std::vector<Event>> out;
  std::vector<Event> cur;
  std::array<Event, 64> buf{};
  EventSink sink(
      buf.data(), buf.size(),
      [](void* ctx, const Event* e, std::size_t k) noexcept {
        auto* v = static_cast<std::vector<Event>*>(ctx);
        v->insert(v->end(), e, e + k);
      },
      &cur);
  CommandGen gen(seed);
  SplitMix64 rng(seed + 99);
  static constexpr TradingStatus kDay[] = {TradingStatus::OpeningCall, TradingStatus::OpeningCallFrozen,
                                           TradingStatus::Trading,     TradingStatus::ClosingCall,
                                           TradingStatus::Closed,      TradingStatus::Trading};
  std::size_t phase = 0;
  for (std::size_t i = 0; i < n; ++i) {
    Command c = gen.next();
    if (rng.chance(1, 150)) c = make_schedule_phase(c.ts, InstrumentId{0}, kDay[phase++ % std::size(kDay)]);
    engine.process(c, sink);
    sink.flush();
    out.push_back(std::move(cur));
    cur.clear();
  }
  return out;
}

// One egress with its own user directory, recording its datagrams.
struct Node {
  explicit Node(const EngineConfig& c, std::size_t itch_retention = kItchRetention)
      : cfg(c), lookup(cfg), users(kUserRetention) {
    lookup.set_attributed(FirmId{0}, true);
    for (std::uint32_t o = 1; o <= CommandGen::kOwners; ++o) {
      sessions::UserAccount a;
      a.username = Alpha<6>::from("U" + std::to_string(o));
      a.password = Alpha<10>::from("pw");
      a.owner = OwnerId{o};
      a.firm = FirmId{static_cast<std::uint16_t>((o - 1) / 2)};
      a.firm_name = cfg.firms[a.firm.value()].name;
      users.add(a);
    }
    EgressConfig ec;
    ec.itch_retention = itch_retention;
    ec.mold.mtu = 200;
    ec.mold.heartbeat_interval_ns = 5'000'000;
    egress = std::make_unique<Egress>(cfg, lookup, users, ec,
                                      [this](std::span<const std::uint8_t> d) { datagrams.emplace_back(d.begin(), d.end()); });
  }

  // Batch i of the stream, then the io loop's calls on a fixed schedule: a flush after most
  // batches, a timer tick now and then (heartbeats when idle).
  void feed(const std::vector<std::vector<Event>>& batches, std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to; ++i) {
      egress->on_events(batches[i]);
      const std::uint64_t now = 1'000'000 * (i + 1);
      if (i % 3 != 0) egress->flush(now);
      if (i % 7 == 0) egress->on_tick(now + 500'000);
      if (i % 50 == 0) egress->on_tick(now + 20'000'000);
    }
  }

  EngineConfig cfg;
  proto::ConfigLookup lookup;
  sessions::UserDirectory users;
  std::unique_ptr<Egress> egress;
  std::vector<Bytes> datagrams;
};

template <typename Journal>
void expect_same_journal(const Journal& a, const Journal& b, const std::string& what) {
  ASSERT_EQ(a.first_retained(), b.first_retained()) << what;
  ASSERT_EQ(a.next_seq(), b.next_seq()) << what;
  for (std::uint64_t s = a.first_retained(); s < a.next_seq(); ++s) {
    const auto x = a.get(s);
    const auto y = b.get(s);
    ASSERT_TRUE(std::equal(x.begin(), x.end(), y.begin(), y.end())) << what << " message " << s;
  }
}

void expect_same_output(Node& a, std::size_t a_from, Node& b) {
  ASSERT_EQ(a.datagrams.size() - a_from, b.datagrams.size());
  for (std::size_t i = 0; i < b.datagrams.size(); ++i)
    ASSERT_EQ(a.datagrams[a_from + i], b.datagrams[i]) << "datagram " << i << " after the split";
  for (std::size_t u = 0; u < a.users.size(); ++u)
    expect_same_journal(a.users.at(u).outbound, b.users.at(u).outbound, "user " + std::to_string(u));
  expect_same_journal(a.egress->itch_buffer(), b.egress->itch_buffer(), "ITCH buffer");
  EXPECT_EQ(a.egress->mold().next_sequence(), b.egress->mold().next_sequence());
  EXPECT_EQ(a.egress->mold().sent_sequence(), b.egress->mold().sent_sequence());
  EXPECT_EQ(a.egress->mold().counters().packets, b.egress->mold().counters().packets);
  EXPECT_EQ(a.egress->counters().itch_messages, b.egress->counters().itch_messages);
  for (std::uint16_t id = 1; id <= a.cfg.instruments.size(); ++id) {
    for (const Side side : {Side::Buy, Side::Sell}) {
      const auto x = a.egress->depth(InstrumentId{id}, side, 1000);
      const auto y = b.egress->depth(InstrumentId{id}, side, 1000);
      ASSERT_EQ(x.size(), y.size());
      for (std::size_t l = 0; l < x.size(); ++l) {
        EXPECT_EQ(x[l].price, y[l].price);
        EXPECT_EQ(x[l].qty, y[l].qty);
        EXPECT_EQ(x[l].orders, y[l].orders);
      }
    }
    const auto ia = a.egress->indicative(InstrumentId{id});
    const auto ib = b.egress->indicative(InstrumentId{id});
    ASSERT_EQ(ia.has_value(), ib.has_value());
    if (ia) {
      EXPECT_EQ(ia->price, ib->price);
      EXPECT_EQ(ia->paired, ib->paired);
      EXPECT_EQ(ia->imbalance, ib->imbalance);
      EXPECT_EQ(ia->surplus, ib->surplus);
    }
  }
}

// Loads `snap` into `n`: copied into the buffers, or (in place) read where it lies, the buffers
// keeping the bytes alive as a restart's buffers keep the snapshot's mapping.
bool load_into(Node& n, const Bytes& snap, std::string& error, bool in_place) {
  if (!in_place) return n.egress->load(snap, error);
  auto keep = std::make_shared<const Bytes>(snap);
  return n.egress->load(*keep, error, keep);
}

// Every retained message read in a scattered order (a retransmission request's seeks), not only
// in sequence: the in-place buffers' index and cursor give the same bytes.
template <typename Journal>
void expect_same_scattered(const Journal& a, const Journal& b, const std::string& what) {
  const std::uint64_t first = a.first_retained();
  const std::uint64_t n = a.next_seq() - first;
  if (n == 0) return;
  SplitMix64 rng(n);
  for (std::uint64_t i = 0; i < 2 * n; ++i) {
    const std::uint64_t s = first + rng.below(n);
    const auto x = a.get(s);
    const auto y = b.get(s);
    ASSERT_TRUE(std::equal(x.begin(), x.end(), y.begin(), y.end())) << what << " message " << s;
  }
}

class EgressSnapshotLoadTest : public ::testing::TestWithParam<bool> {};

TEST_P(EgressSnapshotLoadTest, LoadedEgressContinuesWithTheSameJournalsAndDatagrams) {
  const bool in_place = GetParam();
  const EngineConfig cfg = snapshot_config();
  constexpr std::size_t kCommands = 6000;
  for (const std::uint64_t seed : {1u, 2u}) {
    const auto batches = engine_batches(cfg, seed, kCommands);
    // Splits after a flush (i % 3 != 0) and with a datagram still being built (i % 3 == 0).
    for (const std::size_t k : {std::size_t{0}, std::size_t{1}, std::size_t{3}, std::size_t{1000},
                                std::size_t{2500}, std::size_t{4000}, kCommands}) {
      SCOPED_TRACE("seed " + std::to_string(seed) + " split at " + std::to_string(k));
      Node a(cfg);
      a.egress->start_of_day(Timestamp{1});
      a.feed(batches, 0, k);
      const Bytes snap = a.egress->save();
      Node b(cfg);
      std::string error;
      ASSERT_TRUE(load_into(b, snap, error, in_place)) << error;
      EXPECT_EQ(b.egress->save(), snap) << "the save of a loaded egress differs from the snapshot";
      const std::size_t a_from = a.datagrams.size();
      expect_same_output(a, a_from, b);
      for (std::size_t u = 0; u < a.users.size(); ++u)
        expect_same_scattered(a.users.at(u).outbound, b.users.at(u).outbound, "user " + std::to_string(u));
      expect_same_scattered(a.egress->itch_buffer(), b.egress->itch_buffer(), "ITCH buffer");
      // Part of the way on: the buffers hold loaded messages and appended ones side by side.
      const std::size_t mid = k + (kCommands - k) / 50;
      a.feed(batches, k, mid);
      b.feed(batches, k, mid);
      expect_same_output(a, a_from, b);
      expect_same_scattered(a.egress->itch_buffer(), b.egress->itch_buffer(), "ITCH buffer, part of the way on");
      EXPECT_EQ(b.egress->save(), a.egress->save());

      a.feed(batches, mid, kCommands);
      b.feed(batches, mid, kCommands);
      a.egress->end_of_day(Timestamp{2}, 1'000'000'000'000);
      b.egress->end_of_day(Timestamp{2}, 1'000'000'000'000);
      expect_same_output(a, a_from, b);
      if (k == 4000) {
        // The snapshot really held trimmed journals and an unfinished datagram state.
        EXPECT_GT(a.users.at(0).outbound.first_retained(), 1u);
        EXPECT_GT(a.egress->itch_buffer().first_retained(), 1u);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(CopiedAndInPlace, EgressSnapshotLoadTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& i) { return i.param ? "InPlace" : "Copied"; });

TEST(EgressSnapshotTest, SnapshotWithAPendingDatagramSendsItAfterTheLoad) {
  const EngineConfig cfg = snapshot_config();
  const auto batches = engine_batches(cfg, 3, 200);
  Node a(cfg);
  a.egress->start_of_day(Timestamp{1});
  a.egress->on_events(batches[0]);  // no flush: the datagram is still being built
  ASSERT_GT(a.egress->mold().next_sequence(), a.egress->mold().sent_sequence());
  Node b(cfg);
  std::string error;
  ASSERT_TRUE(b.egress->load(a.egress->save(), error)) << error;
  const std::size_t a_from = a.datagrams.size();
  a.egress->flush(5);
  b.egress->flush(5);
  ASSERT_EQ(b.datagrams.size(), 1u);
  expect_same_output(a, a_from, b);
}

TEST(EgressSnapshotTest, RefusesAnotherUserDirectoryAndANonFreshEgress) {
  const EngineConfig cfg = snapshot_config();
  const auto batches = engine_batches(cfg, 4, 300);
  Node a(cfg);
  a.egress->start_of_day(Timestamp{1});
  a.feed(batches, 0, batches.size());
  const Bytes snap = a.egress->save();
  std::string error;

  EXPECT_FALSE(a.egress->load(snap, error));
  EXPECT_NE(error.find("fresh"), std::string::npos) << error;

  Node other(cfg);
  sessions::UserAccount extra;
  extra.username = Alpha<6>::from("EXTRA");
  extra.owner = OwnerId{99};
  other.users.add(extra);
  EXPECT_FALSE(other.egress->load(snap, error));
  EXPECT_NE(error.find("user count"), std::string::npos) << error;

  Bytes v3 = snap;
  v3[4] = 3;
  EXPECT_FALSE(Node(cfg).egress->load(v3, error));
  EXPECT_NE(error.find("version 3"), std::string::npos) << error;
}

// Version 1 (written before the depth books left the io thread) kept each instrument's depth
// book and indicative before its status, and the depth inconsistencies among the counters. The
// same state laid out that way loads into an egress that equals the one that loads version 2.
TEST(EgressSnapshotTest, AVersionOneSnapshotStillLoads) {
  const EngineConfig cfg = snapshot_config();
  const auto batches = engine_batches(cfg, 8, 3000);
  Node a(cfg, 1u << 16);
  a.egress->start_of_day(Timestamp{1});
  // A subscriber's depth, built beside it from the ITCH stream (read before the retention drops it).
  DepthFollower subscriber(cfg.instruments.size());
  std::uint64_t read = 1;
  auto follow = [&] {
    const ItchBuffer& j = a.egress->itch_buffer();
    ASSERT_GE(read, j.first_retained());
    for (; read < j.next_seq(); ++read) subscriber.apply(j.get(read));
  };
  follow();
  for (std::size_t i = 0; i < batches.size(); ++i) {
    a.feed(batches, i, i + 1);
    follow();
  }
  const Bytes v2 = a.egress->save();
  const std::size_t n = cfg.instruments.size();
  Bytes depth;
  ByteWriter dw(depth);
  std::vector<Bytes> per_instrument(n);
  for (std::size_t i = 0; i < n; ++i) {
    ByteWriter w(per_instrument[i]);
    subscriber.save_instrument(i, w);
    depth.insert(depth.end(), per_instrument[i].begin(), per_instrument[i].end());
  }
  dw.u64(subscriber.inconsistencies());
  EXPECT_EQ(subscriber.inconsistencies(), 0u);
  // Version 2 ends with the depth a subscriber builds.
  ASSERT_GT(v2.size(), depth.size() + n + 48);
  ASSERT_TRUE(std::equal(depth.begin(), depth.end(), v2.end() - static_cast<std::ptrdiff_t>(depth.size())));
  const std::size_t counters_at = v2.size() - depth.size() - 48;
  const std::size_t statuses_at = counters_at - n;
  Bytes v1(v2.begin(), v2.begin() + static_cast<std::ptrdiff_t>(statuses_at));
  v1[4] = 1;
  for (std::size_t i = 0; i < n; ++i) {
    v1.insert(v1.end(), per_instrument[i].begin(), per_instrument[i].end());
    v1.push_back(v2[statuses_at + i]);
  }
  v1.insert(v1.end(), v2.begin() + static_cast<std::ptrdiff_t>(counters_at), v2.begin() + static_cast<std::ptrdiff_t>(counters_at + 40));
  v1.insert(v1.end(), depth.end() - 8, depth.end());  // the 6th of 7 counters: depth inconsistencies
  v1.insert(v1.end(), v2.begin() + static_cast<std::ptrdiff_t>(counters_at + 40), v2.begin() + static_cast<std::ptrdiff_t>(counters_at + 48));

  Node b(cfg, 1u << 16);
  std::string error;
  ASSERT_TRUE(b.egress->load(v1, error)) << error;
  EXPECT_EQ(b.egress->save(), v2) << "version 1 loaded, saved as version 2, differs from the version 2 save";
  const std::size_t a_from = a.datagrams.size();
  expect_same_output(a, a_from, b);
}

Bytes small_snapshot(const EngineConfig& cfg, const std::vector<std::vector<Event>>& batches) {
  Node a(cfg);
  a.egress->start_of_day(Timestamp{1});
  a.feed(batches, 0, batches.size() - 1);
  a.egress->on_events(batches.back());  // leave a datagram pending
  return a.egress->save();
}

void exercise(Node& n, const std::vector<std::vector<Event>>& more) {
  n.feed(more, 0, more.size());
  n.egress->end_of_day(Timestamp{3}, 1'000'000'000'000);
}

TEST(EgressSnapshotTest, EveryTruncationIsRefused) {
  const EngineConfig cfg = snapshot_config();
  const auto batches = engine_batches(cfg, 5, 60);
  const Bytes snap = small_snapshot(cfg, batches);
  for (std::size_t n = 0; n < snap.size(); ++n) {
    for (const bool in_place : {false, true}) {
      Node b(cfg);
      std::string error;
      ASSERT_FALSE(load_into(b, {snap.begin(), snap.begin() + static_cast<std::ptrdiff_t>(n)}, error, in_place))
          << "a snapshot cut at " << n << " bytes loaded" << (in_place ? " in place" : "");
      ASSERT_FALSE(error.empty());
    }
  }
  Node b(cfg);
  std::string error;
  ASSERT_TRUE(b.egress->load(snap, error)) << error;
}

TEST(EgressSnapshotTest, RandomByteFlipsAreRefusedOrGiveAWorkingEgress) {
  const EngineConfig cfg = snapshot_config();
  const auto batches = engine_batches(cfg, 6, 60);
  const auto more = engine_batches(cfg, 7, 40);
  const Bytes snap = small_snapshot(cfg, batches);
  SplitMix64 rng(77);
  std::size_t loaded = 0;
  for (int round = 0; round < 600; ++round) {
    Bytes bad = snap;
    const int flips = 1 + static_cast<int>(rng.below(3));
    for (int f = 0; f < flips; ++f) {
      const std::size_t at = rng.index(bad.size());
      bad[at] ^= static_cast<std::uint8_t>(1u << rng.below(8));
    }
    Node b(cfg);
    std::string error;
    if (load_into(b, bad, error, round % 2 == 1)) {
      ++loaded;
      exercise(b, more);
    } else {
      ASSERT_FALSE(error.empty());
    }
  }
  EXPECT_GT(loaded, 0u);
}

}  // namespace
}  // namespace peregrine::egress
