#pragma once
/// A tiny pcap writer for the tshark check (tshark_test.cpp): classic pcap, Ethernet frames with
/// IPv4 and TCP or UDP headers whose lengths and checksums are right (tshark is run with its
/// checksum validation on). TcpConnection plays both ends of one TCP connection: handshake, data
/// in either direction with matching sequence and acknowledgement numbers, and the FIN exchange.
/// Test code: allocates freely.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

namespace peregrine::proto::test {

/// Appends big-endian integers and bytes to a vector.
class Frame {
 public:
  Frame& u8(std::uint8_t v) {
    b_.push_back(v);
    return *this;
  }
  Frame& u16(std::uint16_t v) { return u8(static_cast<std::uint8_t>(v >> 8)).u8(static_cast<std::uint8_t>(v)); }
  Frame& u32(std::uint32_t v) { return u16(static_cast<std::uint16_t>(v >> 16)).u16(static_cast<std::uint16_t>(v)); }
  Frame& bytes(std::span<const std::uint8_t> s) {
    b_.insert(b_.end(), s.begin(), s.end());
    return *this;
  }
  [[nodiscard]] std::vector<std::uint8_t>& data() { return b_; }

 private:
  std::vector<std::uint8_t> b_;
};

/// RFC 1071 one's-complement sum, folded (not yet inverted).
inline std::uint32_t ones_sum(std::span<const std::uint8_t> b, std::uint32_t sum = 0) {
  for (std::size_t i = 0; i + 1 < b.size(); i += 2) sum += static_cast<std::uint32_t>((b[i] << 8) | b[i + 1]);
  if (b.size() % 2 != 0) sum += static_cast<std::uint32_t>(b.back() << 8);
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return sum;
}

inline void put16(std::vector<std::uint8_t>& b, std::size_t at, std::uint16_t v) {
  b[at] = static_cast<std::uint8_t>(v >> 8);
  b[at + 1] = static_cast<std::uint8_t>(v);
}

struct Endpoint {
  std::array<std::uint8_t, 6> mac;
  std::uint32_t ip;  ///< host order, e.g. 0x0A000001 for 10.0.0.1
  std::uint16_t port;
};

/// Ethernet + IPv4 + (TCP with `flags` | UDP) + payload, all lengths and checksums filled in.
inline std::vector<std::uint8_t> make_frame(const Endpoint& src, const Endpoint& dst, bool tcp, std::uint32_t seq,
                                            std::uint32_t ack, std::uint8_t flags, std::uint16_t ip_id,
                                            std::span<const std::uint8_t> payload) {
  const std::size_t l4_header = tcp ? 20 : 8;
  const auto l4_len = static_cast<std::uint16_t>(l4_header + payload.size());
  Frame f;
  f.bytes(dst.mac).bytes(src.mac).u16(0x0800);  // Ethernet II, IPv4
  const std::size_t ip_at = f.data().size();
  f.u8(0x45).u8(0).u16(static_cast<std::uint16_t>(20 + l4_len)).u16(ip_id).u16(0x4000)  // DF
      .u8(64).u8(tcp ? 6 : 17).u16(0).u32(src.ip).u32(dst.ip);
  const std::size_t l4_at = f.data().size();
  if (tcp) {
    f.u16(src.port).u16(dst.port).u32(seq).u32(ack).u8(5 << 4).u8(flags).u16(65535).u16(0).u16(0);
  } else {
    f.u16(src.port).u16(dst.port).u16(l4_len).u16(0);
  }
  f.bytes(payload);
  std::vector<std::uint8_t>& b = f.data();
  put16(b, ip_at + 10, static_cast<std::uint16_t>(~ones_sum({b.data() + ip_at, 20}) & 0xFFFF));
  Frame pseudo;
  pseudo.u32(src.ip).u32(dst.ip).u8(0).u8(tcp ? 6 : 17).u16(l4_len);
  std::uint32_t sum = ones_sum(pseudo.data());
  sum = ones_sum({b.data() + l4_at, l4_len}, sum);
  auto check = static_cast<std::uint16_t>(~sum & 0xFFFF);
  if (!tcp && check == 0) check = 0xFFFF;
  put16(b, l4_at + (tcp ? 16 : 6), check);
  return b;
}

/// Writes a classic (microsecond) pcap file with Ethernet link type.
class PcapWriter {
 public:
  explicit PcapWriter(const std::string& path) : f_(std::fopen(path.c_str(), "wb")) {
    if (f_ == nullptr) return;
    Frame h;
    // Written little-endian, as the magic number tells readers.
    le32(h, 0xa1b2c3d4);
    le16(h, 2);
    le16(h, 4);
    le32(h, 0);      // thiszone
    le32(h, 0);      // sigfigs
    le32(h, 65535);  // snaplen
    le32(h, 1);      // LINKTYPE_ETHERNET
    std::fwrite(h.data().data(), 1, h.data().size(), f_);
  }
  ~PcapWriter() {
    if (f_ != nullptr) std::fclose(f_);
  }
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  [[nodiscard]] bool ok() const { return f_ != nullptr; }

  /// One frame at `usec` microseconds since the epoch.
  void write(std::span<const std::uint8_t> frame, std::uint64_t usec) {
    if (f_ == nullptr) return;
    Frame h;
    le32(h, static_cast<std::uint32_t>(usec / 1'000'000));
    le32(h, static_cast<std::uint32_t>(usec % 1'000'000));
    le32(h, static_cast<std::uint32_t>(frame.size()));
    le32(h, static_cast<std::uint32_t>(frame.size()));
    std::fwrite(h.data().data(), 1, h.data().size(), f_);
    std::fwrite(frame.data(), 1, frame.size(), f_);
    ++frames_;
  }
  [[nodiscard]] std::size_t frames() const { return frames_; }

 private:
  static void le16(Frame& f, std::uint16_t v) { f.u8(static_cast<std::uint8_t>(v)).u8(static_cast<std::uint8_t>(v >> 8)); }
  static void le32(Frame& f, std::uint32_t v) {
    le16(f, static_cast<std::uint16_t>(v));
    le16(f, static_cast<std::uint16_t>(v >> 16));
  }
  std::FILE* f_;
  std::size_t frames_ = 0;
};

/// Both ends of one TCP connection written to a pcap: each segment is acknowledged by the next
/// segment the other side sends (or by a bare ACK at close). `clock_usec` is shared by every
/// connection of a capture, so frame times increase in file order; each frame adds 100 µs.
class TcpConnection {
 public:
  static constexpr std::uint8_t kFin = 0x01, kSyn = 0x02, kPsh = 0x08, kAck = 0x10;

  TcpConnection(PcapWriter& out, Endpoint client, Endpoint server, std::uint64_t& clock_usec)
      : out_(out), client_(client), server_(server), usec_(clock_usec) {}

  void open() {
    emit(true, kSyn, {});
    emit(false, kSyn | kAck, {});
    emit(true, kAck, {});
  }
  /// One segment of `payload` from the client (true) or the server (false).
  void send(bool from_client, std::span<const std::uint8_t> payload) { emit(from_client, kPsh | kAck, payload); }
  void close() {
    emit(true, kFin | kAck, {});
    emit(false, kFin | kAck, {});
    emit(true, kAck, {});
  }

 private:
  void emit(bool from_client, std::uint8_t flags, std::span<const std::uint8_t> payload) {
    std::uint32_t& seq = from_client ? client_seq_ : server_seq_;
    const std::uint32_t ack = from_client ? server_seq_ : client_seq_;
    const Endpoint& src = from_client ? client_ : server_;
    const Endpoint& dst = from_client ? server_ : client_;
    const std::uint32_t ack_field = (flags & kAck) != 0 ? ack : 0;
    out_.write(make_frame(src, dst, true, seq, ack_field, flags, ip_id_++, payload), usec_);
    usec_ += 100;
    seq += static_cast<std::uint32_t>(payload.size()) + ((flags & (kSyn | kFin)) != 0 ? 1u : 0u);
  }

  PcapWriter& out_;
  Endpoint client_;
  Endpoint server_;
  std::uint64_t& usec_;
  std::uint32_t client_seq_ = 1000;
  std::uint32_t server_seq_ = 5000;
  std::uint16_t ip_id_ = 1;
};

}  // namespace peregrine::proto::test
