#pragma once
// Shared helpers for the egress tests: recording hosts that decode what they are sent, SoupBinTCP
// client packets, and ITCH messages to put in a journal.

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "peregrine/egress/feed_session.hpp"
#include "peregrine/egress/itch_buffer.hpp"
#include "peregrine/proto/itch50.hpp"
#include "peregrine/proto/soupbintcp.hpp"
#include "peregrine/sessions/soup_session.hpp"

namespace peregrine::egress::test {

namespace soup = proto::soup;
namespace itch = proto::itch;

inline constexpr std::uint64_t kSec = 1'000'000'000;

using Bytes = std::vector<std::uint8_t>;
using SoupPackets = std::vector<std::pair<soup::PacketType, Bytes>>;

// Decodes a server's byte stream into (type, payload) packets, as a client would.
inline SoupPackets decode_server_stream(const Bytes& wire) {
  SoupPackets out;
  soup::StreamDecoder d(soup::Role::Client);
  EXPECT_TRUE(d.feed(wire));
  soup::Packet p;
  soup::DecodeStatus st;
  while ((st = d.poll(p)) == soup::DecodeStatus::Ok) out.emplace_back(p.type, Bytes(p.payload.begin(), p.payload.end()));
  EXPECT_EQ(st, soup::DecodeStatus::NeedMore) << "the server sent bytes a client cannot frame";
  return out;
}

// A feed connection that records what the session sends and whether it closed.
class RecordingFeedHost : public FeedHost {
 public:
  void send(std::span<const std::uint8_t> bytes) override { wire.insert(wire.end(), bytes.begin(), bytes.end()); }
  void close(sessions::CloseReason why) override {
    closed = true;
    reason = why;
  }
  // Every packet sent since the last call; consumes the bytes.
  SoupPackets packets() {
    SoupPackets out = decode_server_stream(wire);
    wire.clear();
    return out;
  }
  Bytes wire;
  bool closed = false;
  sessions::CloseReason reason{};
};

// An order-entry connection (for SoupServerSession) that records the bytes it is sent.
class RecordingOrderHost : public sessions::SessionHost {
 public:
  void send(std::span<const std::uint8_t> bytes) override { wire.insert(wire.end(), bytes.begin(), bytes.end()); }
  bool submit(const Command& cmd) override {
    commands.push_back(cmd);
    return true;
  }
  void submit_control(const Command& cmd) override { control.push_back(cmd); }
  void close(sessions::CloseReason why) override {
    closed = true;
    reason = why;
  }
  Bytes wire;
  std::vector<Command> commands;
  std::vector<Command> control;
  bool closed = false;
  sessions::CloseReason reason{};
};

inline Bytes login_bytes(std::string_view user, std::string_view password, std::uint64_t seq,
                         std::string_view session = "") {
  std::array<std::uint8_t, soup::kLoginRequestSize> buf{};
  const soup::LoginRequest req{Alpha<6>::from(user), Alpha<10>::from(password), Alpha<10>::from(session), seq};
  const std::size_t n = soup::encode_login_request(req, buf);
  return {buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n)};
}

inline Bytes empty_packet(soup::PacketType t) {
  std::array<std::uint8_t, soup::kEmptyPacketSize> buf{};
  const std::size_t n = soup::encode_empty(t, buf);
  return {buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n)};
}

// An encoded ITCH Order Delete whose order reference is `ref`: distinct, easy-to-check content.
inline Bytes itch_delete(std::uint64_t ref) {
  std::array<std::uint8_t, itch::kMaxMessageSize> buf{};
  const std::size_t n = itch::encode(itch::OrderDelete{itch::Header{1, 0, ref}, ref}, buf);
  return {buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n)};
}

// An encoded ITCH Add Order (36 bytes), for filling datagrams with larger messages.
inline Bytes itch_add(std::uint64_t ref) {
  itch::AddOrder m{};
  m.h = itch::Header{1, 0, ref};
  m.order_ref = ref;
  m.side = 'B';
  m.shares = 100;
  m.stock = Symbol::from("600000");
  m.price = 100000;
  m.attribution = FirmName::from("");
  std::array<std::uint8_t, itch::kMaxMessageSize> buf{};
  const std::size_t n = itch::encode(m, false, buf);
  return {buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n)};
}

inline Bytes to_bytes(std::span<const std::uint8_t> s) { return {s.begin(), s.end()}; }

}  // namespace peregrine::egress::test
