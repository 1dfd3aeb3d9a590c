// Writes the seed corpora in tests/fuzz/corpus/<name>/ from the encoders: valid messages and
// sessions the fuzzers start mutating from (order prices fit soupbintcp_ouch_fuzz.cpp's
// instruments: 600519 at 10.00, 688001 at 5.00). Re-run after a format change:
//
//   cmake --build <build> --target peregrine_fuzz_seeds
//   <build>/tests/fuzz/peregrine_fuzz_seeds tests/fuzz/corpus

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "peregrine/cli/args.hpp"
#include "peregrine/core/engine.hpp"
#include "peregrine/egress/egress.hpp"
#include "peregrine/journal/journal.hpp"
#include "peregrine/journal/snapshot.hpp"
#include "peregrine/proto/itch50.hpp"
#include "peregrine/proto/moldudp64.hpp"
#include "peregrine/proto/ouch42.hpp"
#include "peregrine/proto/ouch_translate.hpp"
#include "peregrine/proto/soupbintcp.hpp"
#include "snapshot_fuzz_setup.hpp"

using namespace peregrine;
using namespace peregrine::proto;
using Bytes = std::vector<std::uint8_t>;

namespace {

template <typename F>
Bytes make(F&& f) {
  Bytes b(512);
  b.resize(f(std::span<std::uint8_t>(b)));
  return b;
}

void write(const std::filesystem::path& dir, const std::string& name, const Bytes& b) {
  std::filesystem::create_directories(dir);
  std::FILE* f = std::fopen((dir / name).string().c_str(), "wb");
  if (f == nullptr) {
    std::perror(name.c_str());
    std::exit(1);
  }
  std::fwrite(b.data(), 1, b.size(), f);
  std::fclose(f);
}

Bytes cat(const std::vector<Bytes>& parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

ouch::EnterOrder enter(const char* token, char side, std::uint32_t shares, std::uint32_t price, std::uint32_t tif,
                       const char* stock = "600519") {
  return {Token::from(token), side, shares, Symbol::from(stock), price, tif, FirmName::from(""), 'Y', 'A', 'N', 0,
          'N', ' '};
}

std::vector<Bytes> ouch_inbound() {
  ouch::EnterOrder fok = enter("F1", 'B', 300, 100'000, 0);
  fok.min_qty = 300;
  ouch::EnterOrder post = enter("P1", 'S', 100, 100'200, 99999);
  post.display = 'P';
  return {
      make([](auto o) { return ouch::encode(enter("S1", 'S', 1000, 100'000, 99998), o); }),
      make([](auto o) { return ouch::encode(enter("B1", 'B', 600, 100'000, 0), o); }),
      make([](auto o) { return ouch::encode(enter("M1", 'B', 200, ouch::kMarketPrice, 0), o); }),
      make([](auto o) { return ouch::encode(enter("M2", 'T', 200, ouch::kMarketPrice, 99998), o); }),
      make([](auto o) { return ouch::encode(enter("K1", 'B', 300, 50'000, 99998, "688001"), o); }),
      make([&](auto o) { return ouch::encode(fok, o); }),
      make([&](auto o) { return ouch::encode(post, o); }),
      make([](auto o) {
        return ouch::encode(ouch::ReplaceOrder{Token::from("S1"), Token::from("S2"), 400, 100'100, 99998, 'Y', 'N', 0},
                            o);
      }),
      make([](auto o) { return ouch::encode(ouch::CancelOrder{Token::from("S2"), 100}, o); }),
      make([](auto o) { return ouch::encode(ouch::CancelOrder{Token::from("S2"), 0}, o); }),
  };
}

std::vector<Bytes> ouch_outbound() {
  const Token t = Token::from("ORD1");
  const Symbol s = Symbol::from("600519");
  const FirmName f = FirmName::from("FRMA");
  return {
      make([](auto o) { return ouch::encode(ouch::SystemEvent{1, 'S'}, o); }),
      make([&](auto o) {
        return ouch::encode(ouch::Accepted{1, t, 'B', 100, s, 15'000'000, 99998, f, 'Y', 1, 'A', 'N', 0, 'N', 'L', ' '}, o);
      }),
      make([&](auto o) {
        return ouch::encode(
            ouch::Replaced{1, t, 'S', 100, s, 15'000'000, 99998, f, 'P', 2, 'A', 'N', 0, 'N', 'L', Token::from("ORD0"), ' '},
            o);
      }),
      make([&](auto o) { return ouch::encode(ouch::Canceled{1, t, 100, 'U'}, o); }),
      make([&](auto o) { return ouch::encode(ouch::Executed{1, t, 100, 15'000'000, 'R', 7}, o); }),
      make([&](auto o) { return ouch::encode(ouch::Rejected{1, t, 'X'}, o); }),
      make([&](auto o) { return ouch::encode(ouch::CancelReject{1, t}, o); }),
  };
}

std::vector<Bytes> itch_messages() {
  const itch::Header h{1, 0, 34'200'000'000'000ull};
  const Symbol s = Symbol::from("600519");
  return {
      make([&](auto o) { return itch::encode(itch::SystemEvent{{0, 0, h.timestamp}, 'O'}, o); }),
      make([&](auto o) {
        return itch::encode(
            itch::StockDirectory{h, s, ' ', ' ', 100, 'N', 'C', Alpha<2>::from("Z"), 'P', ' ', ' ', ' ', 'N', 0, 'N'}, o);
      }),
      make([&](auto o) { return itch::encode(itch::StockTradingAction{h, s, 'H', ' ', Alpha<4>::from("")}, o); }),
      make([&](auto o) { return itch::encode(itch::AddOrder{h, 1, 'B', 100, s, 15'000'000, FirmName::from("")}, false, o); }),
      make([&](auto o) { return itch::encode(itch::AddOrder{h, 2, 'S', 100, s, 15'000'000, FirmName::from("FRMA")}, true, o); }),
      make([&](auto o) { return itch::encode(itch::OrderExecuted{h, 1, 50, 1}, o); }),
      make([&](auto o) { return itch::encode(itch::OrderCancel{h, 1, 50}, o); }),
      make([&](auto o) { return itch::encode(itch::OrderDelete{h, 2}, o); }),
      make([&](auto o) { return itch::encode(itch::OrderReplace{h, 2, 3, 100, 15'010'000}, o); }),
      make([&](auto o) { return itch::encode(itch::Trade{h, 0, 'B', 100, s, 15'000'000, 2}, o); }),
      make([&](auto o) { return itch::encode(itch::Noii{h, 100, 50, 'B', s, 1, 2, 3, 'O', ' '}, o); }),
  };
}

}  // namespace

int main(int argc, char** argv) {
  // The command line over CLI11, as the shipped binaries have it (peregrine/cli/args.hpp).
  CLI::App app("Writes the fuzzers' seed corpora from the encoders, one directory per fuzzer.", "peregrine_fuzz_seeds");
  peregrine::cli::apply_house_style(app);
  std::string corpus_dir;
  app.add_option("corpus_dir", corpus_dir, "where to write them (tests/fuzz/corpus)")->required();
  if (const int status = peregrine::cli::parse(app, argc, argv); status >= 0) return status;
  const std::filesystem::path root = corpus_dir;

  // OUCH: one file per message.
  int i = 0;
  for (const Bytes& b : ouch_inbound()) write(root / "ouch42", "in_" + std::to_string(i++), b);
  i = 0;
  for (const Bytes& b : ouch_outbound()) write(root / "ouch42", "out_" + std::to_string(i++), b);

  // ITCH: one file per message.
  i = 0;
  for (const Bytes& b : itch_messages()) write(root / "itch50", "msg_" + std::to_string(i++), b);

  // MoldUDP64: a datagram with every ITCH message, heartbeat, end of session, request.
  const mold::SessionId session = mold::SessionId::from("2026112501");
  Bytes dgram(1400);
  mold::Builder b(dgram, 1400);
  (void)b.begin(session, 1);
  for (const Bytes& m : itch_messages()) (void)b.add(m);
  const auto full = b.finish();
  write(root / "moldudp64", "messages", Bytes(full.begin(), full.end()));
  write(root / "moldudp64", "heartbeat", make([&](auto o) { return mold::encode_heartbeat(session, 12, o); }));
  write(root / "moldudp64", "end_of_session", make([&](auto o) { return mold::encode_end_of_session(session, 12, o); }));
  write(root / "moldudp64", "request", make([&](auto o) { return mold::encode_request({session, 3, 5}, o); }));

  // SoupBinTCP + OUCH: byte 0 picks the read size and the maximum length, then a client stream.
  std::vector<Bytes> packets;
  packets.push_back(make([](auto o) {
    return soup::encode_login_request(
        {soup::Username::from("ALICE"), soup::Password::from("secret"), soup::SessionId::from(""), 1}, o);
  }));
  for (const Bytes& m : ouch_inbound()) packets.push_back(make([&](auto o) { return soup::encode_unsequenced_data(m, o); }));
  packets.push_back(make([](auto o) { return soup::encode_empty(soup::PacketType::ClientHeartbeat, o); }));
  packets.push_back(make([](auto o) { return soup::encode_debug("hello", o); }));
  packets.push_back(make([](auto o) { return soup::encode_empty(soup::PacketType::LogoutRequest, o); }));
  const Bytes stream = cat(packets);
  write(root / "soupbintcp_ouch", "session_whole_reads", cat({{0x3F}, stream}));
  write(root / "soupbintcp_ouch", "session_small_reads", cat({{0x82}, stream}));
  write(root / "soupbintcp_ouch", "session_byte_reads", cat({{0x00}, stream}));
  write(root / "soupbintcp_ouch", "too_long", cat({{0x80}, packets[0], {0x01, 0x00, 'U'}}));
  write(root / "soupbintcp_ouch", "zero_length", cat({{0x05}, packets[1], {0x00, 0x00}, packets[2]}));
  write(root / "soupbintcp_ouch", "unknown_type", cat({{0x07}, {0x00, 0x02, 'Q', 'x'}, packets[1]}));
  // Journal: byte 0 is the fuzzer's flag byte (bit 0: fix record CRCs, bit 1: fix snapshot CRCs).
  const std::filesystem::path jdir = std::filesystem::temp_directory_path() / "peregrine-fuzz-seeds-journal";
  std::filesystem::remove_all(jdir);
  {
    journal::WriterOptions o;
    o.dir = jdir;
    o.durability = journal::Durability::None;
    o.min_free_bytes = 0;
    journal::JournalWriter w(o);
    w.open(0);
    journal::StartRecord start{};
    start.ts = Timestamp{1};
    start.session = TradingStatus::OpeningCall;
    (void)w.append_marker(journal::RecordKind::Start, {reinterpret_cast<const std::uint8_t*>(&start), sizeof start});
    const Symbol sym = Symbol::from("600519");
    (void)w.ring().try_push(make_new_order(Timestamp{2}, OwnerId{1}, FirmId{0}, sym, Token::from("A1"), Side::Buy,
                                           Qty{100}, Price{100'000}));
    (void)w.ring().try_push(make_cancel(Timestamp{3}, OwnerId{1}, Token::from("A1")));
    (void)w.ring().try_push(make_replace(Timestamp{4}, OwnerId{1}, Token::from("A1"), Token::from("A2"), Qty{100},
                                         Price{100'100}));
    (void)w.ring().try_push(make_schedule_phase(Timestamp{5}, InstrumentId{0}, TradingStatus::Trading));
    w.stop();
    const journal::EndOfDayRecord eod{Timestamp{6}};
    (void)w.append_marker(journal::RecordKind::EndOfDay, {reinterpret_cast<const std::uint8_t*>(&eod), sizeof eod});
    w.stop();
  }
  Bytes segment;
  for (const auto& e : std::filesystem::directory_iterator(jdir)) {
    std::FILE* f = std::fopen(e.path().string().c_str(), "rb");
    int c = 0;
    while (f != nullptr && (c = std::fgetc(f)) != EOF) segment.push_back(static_cast<std::uint8_t>(c));
    if (f != nullptr) std::fclose(f);
  }
  write(root / "journal", "segment", cat({{0x00}, segment}));
  write(root / "journal", "segment_fix_crcs", cat({{0x01}, segment}));
  write(root / "journal", "torn", cat({{0x00}, Bytes(segment.begin(), segment.end() - 30)}));
  const Bytes engine_part(100, 0xAB), egress_part(7, 0x11);
  const journal::SnapshotPart parts[] = {{journal::SnapshotSection::Engine, engine_part},
                                         {journal::SnapshotSection::Egress, egress_part}};
  const auto snap = journal::write_snapshot(jdir, 6, 0, parts);
  Bytes snap_bytes;
  {
    std::FILE* f = std::fopen(snap.string().c_str(), "rb");
    int c = 0;
    while (f != nullptr && (c = std::fgetc(f)) != EOF) snap_bytes.push_back(static_cast<std::uint8_t>(c));
    if (f != nullptr) std::fclose(f);
  }
  write(root / "journal", "snapshot", cat({{0x02}, snap_bytes}));
  std::filesystem::remove_all(jdir);

  // Snapshots (snapshot_fuzz_setup.hpp's configuration): the engine and the egress after 0, 30
  // and all of the session's commands; the egress without a final flush (a datagram pending).
  const EngineConfig scfg = fuzz::snapshot_config();
  const std::vector<Command> scmds = fuzz::snapshot_commands(90);
  for (const std::size_t n : {std::size_t{0}, std::size_t{30}, scmds.size()}) {
    Engine engine(scfg);
    proto::ConfigLookup lookup(scfg);
    sessions::UserDirectory users(16);
    fuzz::add_snapshot_users(users);
    egress::EgressConfig ec;
    ec.itch_retention = 64;
    ec.mold.mtu = 200;
    egress::Egress eg(scfg, lookup, users, ec, [](std::span<const std::uint8_t>) {});
    eg.start_of_day(Timestamp{1});
    std::uint64_t events = 0;
    fuzz::run_commands(engine, std::vector<Command>(scmds.begin(), scmds.begin() + static_cast<std::ptrdiff_t>(n)),
                       [&](const Event& e) {
                         eg.on_event(e);
                         if (++events % 7 == 0) eg.flush(events);
                       });
    Bytes engine_snap;
    engine.save(engine_snap);
    write(root / "engine_snapshot", "after_" + std::to_string(n), engine_snap);
    write(root / "egress_snapshot", "after_" + std::to_string(n), eg.save());
  }
  std::printf("seed corpora written under %s\n", root.string().c_str());
  return 0;
}
