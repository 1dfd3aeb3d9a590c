// SoupBinTCP server sessions driven byte by byte, as the Asio gateway will drive them.

#include "peregrine/sessions/soup_session.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "peregrine/core/engine.hpp"
#include "peregrine/core/event.hpp"
#include "support/engine_configs.hpp"

namespace peregrine::sessions {
namespace {

namespace soup = proto::soup;
namespace ouch = proto::ouch;

constexpr std::uint64_t kSec = 1'000'000'000;

// A host that records what the session sends, submits and closes; it decodes the bytes it is
// sent with a client-side decoder, so the tests check the real wire output.
class RecordingHost : public SessionHost {
 public:
  void send(std::span<const std::uint8_t> bytes) override { wire.insert(wire.end(), bytes.begin(), bytes.end()); }
  bool submit(const Command& cmd) override {
    if (ring_full) return false;
    commands.push_back(cmd);
    return true;
  }
  void submit_control(const Command& cmd) override { control.push_back(cmd); }
  void close(CloseReason why) override {
    closed = true;
    reason = why;
  }

  // Every packet sent so far, as (type, payload); consumes the bytes.
  std::vector<std::pair<soup::PacketType, std::vector<std::uint8_t>>> packets() {
    std::vector<std::pair<soup::PacketType, std::vector<std::uint8_t>>> out;
    soup::StreamDecoder d(soup::Role::Client);
    EXPECT_TRUE(d.feed(wire));
    soup::Packet p;
    while (d.poll(p) == soup::DecodeStatus::Ok) out.emplace_back(p.type, std::vector<std::uint8_t>(p.payload.begin(), p.payload.end()));
    wire.clear();
    return out;
  }

  std::vector<std::uint8_t> wire;
  std::vector<Command> commands;
  std::vector<Command> control;
  bool ring_full = false;
  bool closed = false;
  CloseReason reason{};
};

// The core and egress as the server runs them, for the commands a session hands over: a real
// Engine, whose order events become OUCH messages in the owner's journal (as Egress does), after
// which the owner's session is told to deliver.
class CoreStub {
 public:
  explicit CoreStub(UserDirectory& users) : users_(users), engine_(config()), ref_(engine_.config()) {}

  // Processes `cmds` in order and empties it (a session may submit more while it runs: those
  // wait for the next run).
  void run(std::vector<Command>& cmds, std::uint64_t now_ns) {
    std::vector<Command> batch;
    batch.swap(cmds);
    for (const Command& c : batch) {
      events_.clear();
      std::array<Event, 8> buf{};
      EventSink sink(buf.data(), buf.size(), &CoreStub::collect, &events_);
      engine_.process(c, sink);
      sink.flush();
      for (const Event& e : events_) egress(e, now_ns);
    }
  }
  Engine& engine() { return engine_; }

 private:
  static EngineConfig config() { return testing::one_instrument_config(64, 256); }
  static void collect(void* ctx, const Event* ev, std::size_t n) noexcept {
    auto* out = static_cast<std::vector<Event>*>(ctx);
    out->insert(out->end(), ev, ev + n);
  }
  void egress(const Event& e, std::uint64_t now_ns) {
    UserState* u = users_.find(e.owner);
    ouch::Outbound o{};
    if (u == nullptr || !proto::to_ouch(e, ref_, o)) return;
    std::array<std::uint8_t, ouch::kMaxMessageSize> msg{};
    u->outbound.append({msg.data(), ouch::encode(o, msg)});
    if (u->active != nullptr) u->active->deliver(now_ns);
  }

  UserDirectory& users_;
  Engine engine_;
  proto::ConfigLookup ref_;
  std::vector<Event> events_;
};

// The OUCH message in a sequenced packet.
ouch::Outbound decode_sequenced(const std::pair<soup::PacketType, std::vector<std::uint8_t>>& p) {
  EXPECT_EQ(p.first, soup::PacketType::SequencedData);
  ouch::Outbound m{};
  EXPECT_EQ(ouch::decode_outbound(p.second, m), ouch::Status::Ok);
  return m;
}

std::vector<std::uint8_t> login_bytes(std::string_view user, std::string_view password, std::uint64_t seq,
                                      std::string_view session = "") {
  std::array<std::uint8_t, soup::kLoginRequestSize> buf{};
  const soup::LoginRequest req{Alpha<6>::from(user), Alpha<10>::from(password), Alpha<10>::from(session), seq};
  const std::size_t n = soup::encode_login_request(req, buf);
  return {buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n)};
}

std::vector<std::uint8_t> enter_order_bytes(std::string_view token, std::uint32_t shares = 100) {
  const ouch::EnterOrder m = ouch::plain_enter_order(Token::from(token), 'B', shares, Symbol::from("600519"),
                                                     1'800'000, ouch::kTifMarketHours, FirmName::from("FRMA"));
  std::array<std::uint8_t, ouch::kEnterOrderSize> msg{};
  const std::size_t n = ouch::encode(m, msg);
  std::array<std::uint8_t, soup::kHeaderSize + ouch::kEnterOrderSize> buf{};
  const std::size_t k = soup::encode_unsequenced_data({msg.data(), n}, buf);
  return {buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(k)};
}

// An Enter Order the edge refuses: the firm is not the user's (OUCH 'L').
std::vector<std::uint8_t> foreign_firm_order_bytes(std::string_view token) {
  const ouch::EnterOrder m = ouch::plain_enter_order(Token::from(token), 'B', 100, Symbol::from("600519"), 1'800'000,
                                                     ouch::kTifMarketHours, FirmName::from("OTHR"));
  std::array<std::uint8_t, ouch::kEnterOrderSize> msg{};
  const std::size_t n = ouch::encode(m, msg);
  std::array<std::uint8_t, soup::kHeaderSize + ouch::kEnterOrderSize> buf{};
  const std::size_t k = soup::encode_unsequenced_data({msg.data(), n}, buf);
  return {buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(k)};
}

std::vector<std::uint8_t> empty_packet(soup::PacketType t) {
  std::array<std::uint8_t, soup::kEmptyPacketSize> buf{};
  const std::size_t n = soup::encode_empty(t, buf);
  return {buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n)};
}

// "T0", "T1", ... (std::string concatenation trips GCC 12's false -Wrestrict at -O3).
std::string numbered_token(int i) {
  const char text[3] = {'T', static_cast<char>('0' + i), '\0'};
  return text;
}

// A message appended to a user's journal, as egress would (here an OUCH System Event).
void publish(UserState& u, std::uint64_t ts) {
  std::array<std::uint8_t, ouch::kMaxMessageSize> msg{};
  const std::size_t n = ouch::encode(ouch::SystemEvent{ts, 'S'}, msg);
  u.outbound.append({msg.data(), n});
}

struct Fixture : ::testing::Test {
  Fixture() : users(100) {
    UserAccount a;
    a.username = Alpha<6>::from("DEMO1");
    a.password = Alpha<10>::from("secret1");
    a.owner = OwnerId{1};
    a.firm = FirmId{0};
    a.firm_name = FirmName::from("FRMA");
    a.cancel_on_disconnect = true;
    a.throttle_per_second = 3;
    users.add(a);
  }
  UserDirectory users;
  RecordingHost host;
  SessionLimits limits;
  SessionCounters counters;
};

using SoupSessionTest = Fixture;

TEST_F(SoupSessionTest, GoodLoginIsAcceptedWithTheNextSequenceNumber) {
  SoupServerSession s(users, host, limits, counters, 0);
  s.on_bytes(login_bytes("DEMO1", "secret1", 0), 1);
  auto p = host.packets();
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].first, soup::PacketType::LoginAccepted);
  soup::LoginAccepted acc{};
  ASSERT_EQ(soup::decode_login_accepted(soup::Packet{p[0].first, p[0].second}, acc), soup::DecodeStatus::Ok);
  EXPECT_EQ(acc.session.view(), "PEREGRINE1");
  EXPECT_EQ(acc.sequence, 1u);
  EXPECT_EQ(s.state(), SoupServerSession::State::LoggedIn);
  EXPECT_EQ(counters.logins, 1u);
}

TEST_F(SoupSessionTest, WrongPasswordIsRejectedNotAuthorizedAndClosed) {
  SoupServerSession s(users, host, limits, counters, 0);
  s.on_bytes(login_bytes("DEMO1", "wrong", 0), 1);
  auto p = host.packets();
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].first, soup::PacketType::LoginRejected);
  EXPECT_EQ(p[0].second.at(0), 'A');
  EXPECT_TRUE(host.closed);
  EXPECT_EQ(host.reason, CloseReason::BadLogin);
  EXPECT_EQ(s.state(), SoupServerSession::State::Closed);
}

TEST_F(SoupSessionTest, UnknownUserAndWrongSessionAreRejected) {
  {
    SoupServerSession s(users, host, limits, counters, 0);
    s.on_bytes(login_bytes("NOBODY", "secret1", 0), 1);
    EXPECT_EQ(host.packets().at(0).second.at(0), 'A');
  }
  RecordingHost h2;
  SoupServerSession s2(users, h2, limits, counters, 0);
  s2.on_bytes(login_bytes("DEMO1", "secret1", 0, "OTHERDAY"), 1);
  EXPECT_EQ(h2.packets().at(0).second.at(0), 'S');
}

TEST_F(SoupSessionTest, DataBeforeLoginClosesTheSession) {
  SoupServerSession s(users, host, limits, counters, 0);
  s.on_bytes(enter_order_bytes("T1"), 1);
  EXPECT_TRUE(host.closed);
  EXPECT_EQ(host.reason, CloseReason::NotLoggedIn);
  EXPECT_TRUE(host.commands.empty());
}

TEST_F(SoupSessionTest, EnterOrderBecomesACoreCommandForTheUsersOwnerAndFirm) {
  SoupServerSession s(users, host, limits, counters, 0);
  s.set_clock_origin(0);
  s.on_bytes(login_bytes("DEMO1", "secret1", 0), 1);
  s.on_bytes(enter_order_bytes("T1", 200), 5 * kSec);
  ASSERT_EQ(host.commands.size(), 1u);
  const Command& c = host.commands[0];
  EXPECT_EQ(c.type, CommandType::NewOrder);
  EXPECT_EQ(c.new_order.owner, OwnerId{1});
  EXPECT_EQ(c.new_order.firm, FirmId{0});
  EXPECT_EQ(c.new_order.qty, Qty{200});
  EXPECT_EQ(c.new_order.token.view(), "T1");
  EXPECT_EQ(c.ts, Timestamp{5 * kSec});
}

TEST_F(SoupSessionTest, AFrameSplitAcrossReadsIsReassembled) {
  SoupServerSession s(users, host, limits, counters, 0);
  s.on_bytes(login_bytes("DEMO1", "secret1", 0), 1);
  const auto bytes = enter_order_bytes("T1");
  for (std::size_t i = 0; i < bytes.size(); ++i) s.on_bytes({&bytes[i], 1}, 2);
  EXPECT_EQ(host.commands.size(), 1u);
  EXPECT_FALSE(host.closed);
}

TEST_F(SoupSessionTest, ReloginReplaysExactlyTheMissedMessages) {
  UserState& u = *users.find(OwnerId{1});
  {
    SoupServerSession s(users, host, limits, counters, 0);
    s.on_bytes(login_bytes("DEMO1", "secret1", 0), 1);
    publish(u, 1);
    publish(u, 2);
    s.deliver(3);
    auto p = host.packets();
    ASSERT_EQ(p.size(), 3u);  // accepted + 2 sequenced
    s.on_disconnect();
  }
  publish(u, 3);  // while disconnected
  publish(u, 4);
  RecordingHost h2;
  SoupServerSession s2(users, h2, limits, counters, 10);
  s2.on_bytes(login_bytes("DEMO1", "secret1", 2), 11);  // client saw 1, wants from 2
  auto p = h2.packets();
  ASSERT_EQ(p.size(), 4u);
  soup::LoginAccepted acc{};
  ASSERT_EQ(soup::decode_login_accepted(soup::Packet{p[0].first, p[0].second}, acc), soup::DecodeStatus::Ok);
  EXPECT_EQ(acc.sequence, 2u);
  for (std::size_t i = 1; i < p.size(); ++i) {
    EXPECT_EQ(p[i].first, soup::PacketType::SequencedData);
    ouch::Outbound m{};
    ASSERT_EQ(ouch::decode_outbound(p[i].second, m), ouch::Status::Ok);
    EXPECT_EQ(m.system_event.timestamp, i + 1);  // messages 2, 3, 4
  }
  EXPECT_EQ(s2.next_to_send(), 5u);
  EXPECT_EQ(counters.replayed, 3u);
}

TEST_F(SoupSessionTest, ReloginFromBeyondTheRetentionWindowIsRejected) {
  UserDirectory small(2);
  UserAccount a = users.find(OwnerId{1})->account;
  small.add(a);
  UserState& u = *small.find(OwnerId{1});
  for (int i = 0; i < 5; ++i) publish(u, static_cast<std::uint64_t>(i));
  EXPECT_EQ(u.outbound.first_retained(), 4u);
  SoupServerSession s(small, host, limits, counters, 0);
  s.on_bytes(login_bytes("DEMO1", "secret1", 2), 1);
  auto p = host.packets();
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].first, soup::PacketType::LoginRejected);
  EXPECT_EQ(p[0].second.at(0), 'S');
}

TEST_F(SoupSessionTest, SecondConcurrentLoginOfTheSameUserIsRejected) {
  SoupServerSession s(users, host, limits, counters, 0);
  s.on_bytes(login_bytes("DEMO1", "secret1", 0), 1);
  RecordingHost h2;
  SoupServerSession s2(users, h2, limits, counters, 0);
  s2.on_bytes(login_bytes("DEMO1", "secret1", 0), 2);
  EXPECT_EQ(h2.packets().at(0).first, soup::PacketType::LoginRejected);
  EXPECT_EQ(s.state(), SoupServerSession::State::LoggedIn);
}

TEST_F(SoupSessionTest, OverTheThrottleTheMessageIsRejectedAndTheSessionLoggedOut) {
  CoreStub core(users);
  SoupServerSession s(users, host, limits, counters, 0);
  s.on_bytes(login_bytes("DEMO1", "secret1", 0), 1);
  (void)host.packets();
  for (int i = 0; i < 4; ++i) s.on_bytes(enter_order_bytes(numbered_token(i)), 2 + static_cast<std::uint64_t>(i));
  EXPECT_EQ(host.commands.size(), 3u);  // limit 3 per second
  EXPECT_EQ(counters.throttled, 1u);
  // The refusal goes to the core, followed by cancel-on-disconnect; nothing is sent yet and the
  // session reads nothing more while it waits for the core's answer.
  ASSERT_EQ(host.control.size(), 2u);
  EXPECT_EQ(host.control[0].type, CommandType::EdgeReject);
  EXPECT_EQ(host.control[0].edge_reject.owner, OwnerId{1});
  EXPECT_EQ(host.control[0].edge_reject.token.view(), "T3");
  EXPECT_EQ(host.control[0].edge_reject.reason, static_cast<std::uint8_t>('O'));
  EXPECT_EQ(host.control[0].ts, Timestamp{5});  // the receive stamp
  EXPECT_EQ(host.control[1].type, CommandType::MassCancel);
  EXPECT_TRUE(host.packets().empty());
  EXPECT_FALSE(host.closed);
  s.on_bytes(enter_order_bytes("T9"), 6);
  EXPECT_EQ(host.commands.size(), 3u);
  EXPECT_EQ(counters.messages_in, 4u);

  core.run(host.commands, 7);  // three Accepted: sent, the session still open
  EXPECT_FALSE(host.closed);
  core.run(host.control, 8);   // the Rejected, then the cancels
  auto p = host.packets();
  ASSERT_EQ(p.size(), 4u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(decode_sequenced(p[static_cast<std::size_t>(i)]).type, ouch::OutboundType::Accepted);
  const ouch::Outbound m = decode_sequenced(p[3]);
  EXPECT_EQ(m.type, ouch::OutboundType::Rejected);
  EXPECT_EQ(m.rejected, (ouch::Rejected{5, Token::from("T3"), 'O'}));
  EXPECT_TRUE(host.closed);
  EXPECT_EQ(host.reason, CloseReason::Throttled);
  EXPECT_EQ(s.next_to_send(), 5u);
  // The cancels of the three orders are in the journal after the Rejected, for a re-login.
  EXPECT_EQ(users.find(OwnerId{1})->outbound.next_seq(), 8u);
  EXPECT_EQ(counters.cancel_on_disconnect, 1u);
}

TEST_F(SoupSessionTest, AThrottledSessionLogsOutWithoutTheRejectWhenTheCoreDoesNotAnswer) {
  SoupServerSession s(users, host, limits, counters, 0);
  s.on_bytes(login_bytes("DEMO1", "secret1", 0), 1);
  (void)host.packets();
  for (int i = 0; i < 4; ++i) s.on_bytes(enter_order_bytes(numbered_token(i)), 10 + static_cast<std::uint64_t>(i));
  s.on_tick(13 + limits.throttle_close_wait_ns - 1);
  EXPECT_FALSE(host.closed);
  s.on_tick(13 + limits.throttle_close_wait_ns);
  EXPECT_TRUE(host.closed);
  EXPECT_EQ(host.reason, CloseReason::Throttled);
  EXPECT_EQ(counters.cancel_on_disconnect, 1u);  // submitted once, at the throttle
  ASSERT_EQ(host.control.size(), 2u);
  EXPECT_EQ(users.find(OwnerId{1})->active, nullptr);
}

TEST_F(SoupSessionTest, ThrottleWindowResetsEachSecond) {
  SoupServerSession s(users, host, limits, counters, 0);
  s.on_bytes(login_bytes("DEMO1", "secret1", 0), 1);
  for (int i = 0; i < 6; ++i)
    s.on_bytes(enter_order_bytes(numbered_token(i)), 10 + static_cast<std::uint64_t>(i / 3) * kSec);
  EXPECT_EQ(host.commands.size(), 6u);
  EXPECT_FALSE(host.closed);
}

TEST_F(SoupSessionTest, FullCoreRingRefusesTheOrderWithOtherThroughTheCore) {
  CoreStub core(users);
  SoupServerSession s(users, host, limits, counters, 0);
  s.on_bytes(login_bytes("DEMO1", "secret1", 0), 1);
  (void)host.packets();
  host.ring_full = true;
  s.on_bytes(enter_order_bytes("T1"), 2);
  EXPECT_TRUE(host.commands.empty());
  ASSERT_EQ(host.control.size(), 1u);  // kept by the host until the ring has room
  EXPECT_EQ(host.control[0].type, CommandType::EdgeReject);
  EXPECT_TRUE(host.packets().empty());
  core.run(host.control, 3);
  auto p = host.packets();
  ASSERT_EQ(p.size(), 1u);
  const ouch::Outbound m = decode_sequenced(p[0]);
  EXPECT_EQ(m.type, ouch::OutboundType::Rejected);
  EXPECT_EQ(m.rejected, (ouch::Rejected{2, Token::from("T1"), 'O'}));
  EXPECT_EQ(counters.ring_full_rejects, 1u);
  EXPECT_FALSE(host.closed);
}

TEST_F(SoupSessionTest, AnEdgeRejectComesFromTheCoreWithTheNextSequenceNumber) {
  CoreStub core(users);
  UserState& u = *users.find(OwnerId{1});
  SoupServerSession s(users, host, limits, counters, 0);
  s.on_bytes(login_bytes("DEMO1", "secret1", 0), 1);
  s.on_bytes(enter_order_bytes("T1"), 2);
  core.run(host.commands, 2);  // Accepted: message 1
  (void)host.packets();
  s.on_bytes(foreign_firm_order_bytes("T2"), 3);
  // Nothing is written at the edge: the refusal is a command for the core.
  EXPECT_EQ(u.outbound.next_seq(), 2u);
  EXPECT_TRUE(host.packets().empty());
  EXPECT_TRUE(host.commands.empty());
  ASSERT_EQ(host.control.size(), 1u);
  EXPECT_EQ(host.control[0].type, CommandType::EdgeReject);
  EXPECT_EQ(counters.edge_rejects, 1u);
  const std::uint64_t hash = core.engine().state_hash();
  core.run(host.control, 4);
  EXPECT_EQ(core.engine().state_hash(), hash);
  auto p = host.packets();
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(decode_sequenced(p[0]).rejected, (ouch::Rejected{3, Token::from("T2"), 'L'}));
  EXPECT_EQ(u.outbound.next_seq(), 3u);  // message 2
  EXPECT_EQ(s.next_to_send(), 3u);
  s.on_disconnect();
  // A re-login from 2 gets exactly the Rejected, then the cancel of T1 (cancel on disconnect).
  core.run(host.control, 5);
  RecordingHost h2;
  SoupServerSession s2(users, h2, limits, counters, 10);
  s2.on_bytes(login_bytes("DEMO1", "secret1", 2), 11);
  auto q = h2.packets();
  ASSERT_EQ(q.size(), 3u);
  EXPECT_EQ(decode_sequenced(q[1]).rejected, (ouch::Rejected{3, Token::from("T2"), 'L'}));
  EXPECT_EQ(decode_sequenced(q[2]).type, ouch::OutboundType::Canceled);
}

TEST_F(SoupSessionTest, GarbageAndBadLengthsCloseTheSessionWithAProtocolError) {
  const std::vector<std::vector<std::uint8_t>> hostile{
      {0x00, 0x00},                 // length 0
      {0xFF, 0xFF, 'U'},            // 65535, over the bound
      {0x00, 0x01, 'Q'},            // unknown type
      {0x00, 0x02, 'R', 'x'},       // heartbeat with a payload
  };
  for (const auto& bytes : hostile) {
    RecordingHost h;
    SoupServerSession s(users, h, limits, counters, 0);
    s.on_bytes(login_bytes("DEMO1", "secret1", 0), 1);
    s.on_bytes(bytes, 2);
    EXPECT_TRUE(h.closed);
    EXPECT_EQ(h.reason, CloseReason::ProtocolError);
    EXPECT_TRUE(h.commands.empty());
  }
}

TEST_F(SoupSessionTest, UndecodableOuchMessageClosesTheSession) {
  SoupServerSession s(users, host, limits, counters, 0);
  s.on_bytes(login_bytes("DEMO1", "secret1", 0), 1);
  const std::vector<std::uint8_t> bad{0x00, 0x03, 'U', 'O', 'x'};  // Enter Order of 1 byte
  s.on_bytes(bad, 2);
  EXPECT_TRUE(host.closed);
  EXPECT_EQ(host.reason, CloseReason::BadMessage);
}

TEST_F(SoupSessionTest, HeartbeatsWhenQuietAndTimeoutWhenTheClientIsSilent) {
  SoupServerSession s(users, host, limits, counters, 0);
  s.on_bytes(login_bytes("DEMO1", "secret1", 0), 1);
  (void)host.packets();
  s.on_tick(1 + kSec / 2);
  EXPECT_TRUE(host.packets().empty());
  s.on_tick(1 + kSec);
  auto p = host.packets();
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].first, soup::PacketType::ServerHeartbeat);
  s.on_bytes(empty_packet(soup::PacketType::ClientHeartbeat), 10 * kSec);
  s.on_tick(24 * kSec);
  EXPECT_FALSE(host.closed);
  s.on_tick(25 * kSec);
  EXPECT_TRUE(host.closed);
  EXPECT_EQ(host.reason, CloseReason::Timeout);
}

TEST_F(SoupSessionTest, DisconnectCancelsTheUsersOrdersWhenConfigured) {
  {
    SoupServerSession s(users, host, limits, counters, 0);
    s.on_bytes(login_bytes("DEMO1", "secret1", 0), 1);
    s.on_disconnect();
  }
  ASSERT_EQ(host.control.size(), 1u);
  const Command& c = host.control[0];
  EXPECT_EQ(c.type, CommandType::MassCancel);
  EXPECT_EQ(c.mass_cancel.firm, FirmId{0});
  EXPECT_EQ(c.mass_cancel.owner, OwnerId{1});
  EXPECT_EQ(c.mass_cancel.instrument, InstrumentId{0});
  EXPECT_EQ(c.mass_cancel.reason, CancelReason::Disconnected);
  EXPECT_EQ(users.find(OwnerId{1})->active, nullptr);
}

TEST_F(SoupSessionTest, LogoutAlsoCancelsAndAnUnloggedSessionCancelsNothing) {
  SoupServerSession s(users, host, limits, counters, 0);
  s.on_bytes(login_bytes("DEMO1", "secret1", 0), 1);
  s.on_bytes(empty_packet(soup::PacketType::LogoutRequest), 2);
  EXPECT_EQ(host.reason, CloseReason::Logout);
  EXPECT_EQ(host.control.size(), 1u);
  RecordingHost h2;
  SoupServerSession s2(users, h2, limits, counters, 0);
  s2.on_disconnect();
  EXPECT_TRUE(h2.control.empty());
}

TEST_F(SoupSessionTest, EndOfSessionIsSentThenClosed) {
  SoupServerSession s(users, host, limits, counters, 0);
  s.on_bytes(login_bytes("DEMO1", "secret1", 0), 1);
  (void)host.packets();
  s.end_session();
  auto p = host.packets();
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].first, soup::PacketType::EndOfSession);
  EXPECT_EQ(host.reason, CloseReason::EndOfSession);
}

}  // namespace
}  // namespace peregrine::sessions

namespace peregrine::sessions {
namespace {

// A host whose socket takes nothing: everything sent stays queued until drained by the test.
class QueueingHost : public SessionHost {
 public:
  void send(std::span<const std::uint8_t> bytes) override { queued += bytes.size(); }
  bool submit(const Command&) override { return true; }
  void submit_control(const Command&) override {}
  void close(CloseReason why) override {
    closed = true;
    reason = why;
  }
  std::size_t queued_bytes() const noexcept override { return queued; }
  std::size_t queued = 0;
  bool closed = false;
  CloseReason reason{};
};

TEST_F(SoupSessionTest, ReplayLargerThanTheQueueIsPacedByTheClientsReading) {
  UserState& u = *users.find(OwnerId{1});
  for (int i = 0; i < 50; ++i) {
    std::array<std::uint8_t, proto::ouch::kMaxMessageSize> msg{};
    const std::size_t n = proto::ouch::encode(proto::ouch::SystemEvent{1, 'S'}, msg);
    u.outbound.append({msg.data(), n});
  }
  QueueingHost h;
  SessionLimits paced = limits;
  paced.deliver_high_water = 100;  // bytes: a few 13-byte packets at a time
  SoupServerSession s(users, h, paced, counters, 0);
  s.on_bytes(login_bytes("DEMO1", "secret1", 1), 1);
  const std::uint64_t first_batch = s.next_to_send();
  EXPECT_GT(first_batch, 1u);
  EXPECT_LT(first_batch, 51u);  // stopped at the high water, not all 50
  for (int tick = 2; tick < 100 && s.next_to_send() < 51; ++tick) {
    h.queued = 0;  // the client read everything
    s.on_tick(static_cast<std::uint64_t>(tick) * 1000);
  }
  EXPECT_EQ(s.next_to_send(), 51u);
  EXPECT_FALSE(h.closed);
}

TEST_F(SoupSessionTest, AClientThatStopsReadingIsCutOffAfterTheStallTimeout) {
  UserState& u = *users.find(OwnerId{1});
  QueueingHost h;
  SessionLimits paced = limits;
  paced.deliver_high_water = 100;
  paced.stall_timeout_ns = 2 * kSec;
  SoupServerSession s(users, h, paced, counters, 0);
  s.on_bytes(login_bytes("DEMO1", "secret1", 0), 1);
  for (int i = 0; i < 50; ++i) publish(u, static_cast<std::uint64_t>(i));
  s.deliver(10);
  s.on_bytes(empty_packet(proto::soup::PacketType::ClientHeartbeat), kSec);  // alive, but not reading
  s.on_tick(kSec);  // no progress from here on: the stall clock starts
  EXPECT_FALSE(h.closed);
  s.on_tick(2 * kSec + 10);
  EXPECT_FALSE(h.closed);
  s.on_tick(3 * kSec);
  EXPECT_TRUE(h.closed);
  EXPECT_EQ(h.reason, CloseReason::SlowConsumer);
  EXPECT_EQ(counters.slow_consumers, 1u);
}

}  // namespace
}  // namespace peregrine::sessions

namespace peregrine::sessions {
namespace {

TEST_F(SoupSessionTest, ASessionWhoseNextMessageLeftRetentionIsCutOff) {
  UserDirectory small(4);
  small.add(users.find(OwnerId{1})->account);
  UserState& u = *small.find(OwnerId{1});
  RecordingHost h;
  SessionLimits paced = limits;
  SoupServerSession s(small, h, paced, counters, 0);
  s.on_bytes(login_bytes("DEMO1", "secret1", 0), 1);
  for (int i = 0; i < 10; ++i) publish(u, static_cast<std::uint64_t>(i));  // 1..10; 7..10 kept
  s.deliver(2);  // next to send is 1, long gone
  EXPECT_TRUE(h.closed);
  EXPECT_EQ(h.reason, CloseReason::SlowConsumer);
}

}  // namespace
}  // namespace peregrine::sessions
