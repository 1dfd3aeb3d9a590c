#pragma once
/// The ITCH stream as MoldUDP64 downstream datagrams, and the re-request server behind them.
/// Messages are packed in sequence into datagrams of at most `mtu` bytes (UDP payload); a
/// datagram goes out when the next message does not fit, or on flush(). When nothing has gone
/// out for `heartbeat_interval_ns`, on_tick() sends a heartbeat (count 0, sequence = next
/// message); after end_of_session() it sends End of Session (count 0xFFFF) instead, as the spec
/// asks, for late joiners. Retransmission reads the ItchBuffer, so only messages still retained
/// and already sent can be re-requested.
/// Single-threaded: the gateway's io thread (Egress owns one).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "peregrine/core/serial.hpp"
#include "peregrine/egress/itch_buffer.hpp"
#include "peregrine/proto/moldudp64.hpp"

namespace peregrine::egress {

struct MoldConfig {
  proto::mold::SessionId session = Alpha<10>::from("PEREGRINE1");
  /// Largest datagram (UDP payload). At least 20 + 2 + itch::kMaxMessageSize.
  std::size_t mtu = 1400;
  std::uint64_t heartbeat_interval_ns = 1'000'000'000;
  /// The most messages one request is answered with; a larger count is cut to this.
  std::uint16_t max_request_count = 1024;
};

/// Counts for metrics; written by the io thread.
struct MoldCounters {
  std::uint64_t packets = 0;             ///< live datagrams with messages
  std::uint64_t messages = 0;            ///< live messages sent
  std::uint64_t heartbeats = 0;          ///< heartbeats and repeated end-of-session packets
  std::uint64_t requests = 0;            ///< well-formed requests for this session
  std::uint64_t bad_requests = 0;        ///< malformed, or for another session
  std::uint64_t unavailable_requests = 0;  ///< first message not retained or not sent yet
  std::uint64_t retransmitted_packets = 0;
  std::uint64_t retransmitted_messages = 0;
};

/// MoldUDP64 packer and re-request server. io thread only.
class MoldUdpPacketizer {
 public:
  /// Called with every live datagram (messages, heartbeat, end of session); the bytes are valid
  /// only during the call. The Asio shell gathers them (DatagramBatch) and sends them together.
  using DatagramFn = std::function<void(std::span<const std::uint8_t>)>;
  /// Called at the end of every flush(), on_tick() and end_of_session(), after the datagrams
  /// they produced: the shell sends what it gathered since (one sendmmsg per io-thread pass).
  using BatchEndFn = std::function<void()>;

  /// `buffer` holds the messages (it must outlive this). Throws std::invalid_argument when the
  /// MTU cannot hold the largest ITCH message (startup only).
  MoldUdpPacketizer(const ItchBuffer& buffer, const MoldConfig& cfg, DatagramFn send);
  MoldUdpPacketizer(const MoldUdpPacketizer&) = delete;
  MoldUdpPacketizer& operator=(const MoldUdpPacketizer&) = delete;

  /// Packs message `seq` (precondition: seq == next_sequence()); sends the current datagram first
  /// if the message does not fit.
  void add(std::uint64_t seq, std::span<const std::uint8_t> message);
  /// Sends the datagram being built, if it holds any message; then the batch end.
  void flush(std::uint64_t now_ns);
  /// Sets the batch-end callback (empty: none). Before the first datagram.
  void set_batch_end(BatchEndFn fn) { batch_end_ = std::move(fn); }
  /// Timer: flushes, then sends a heartbeat (End of Session after end_of_session()) if nothing
  /// has been sent for heartbeat_interval_ns.
  void on_tick(std::uint64_t now_ns);
  /// Flushes, then sends End of Session (count 0xFFFF). Later ticks repeat it as the heartbeat.
  void end_of_session(std::uint64_t now_ns);

  /// A request datagram from a client: the datagrams (to send back to its sender) carrying
  /// messages [sequence, sequence + min(count, max_request_count)), cut at the last message sent.
  /// Empty for a malformed request, another session, count 0, or a first message that is no
  /// longer retained or not sent yet (MoldUDP64 has no negative answer).
  [[nodiscard]] std::vector<std::vector<std::uint8_t>> on_request(std::span<const std::uint8_t> request);
  /// The same, allocation-free: each datagram goes to `reply` (bytes valid during the call) as
  /// it is built, in a buffer allocated once. Returns how many datagrams.
  std::size_t on_request(std::span<const std::uint8_t> request, const DatagramFn& reply);

  /// Sequence number the next add() must carry.
  [[nodiscard]] std::uint64_t next_sequence() const noexcept { return next_seq_; }
  /// One past the last message that went out in a datagram.
  [[nodiscard]] std::uint64_t sent_sequence() const noexcept { return sent_next_; }
  [[nodiscard]] bool ended() const noexcept { return ended_; }
  /// Takes the session up again after end_of_session(): heartbeats are plain heartbeats again.
  /// For a restart on the same day after a clean stop (the journal replays the end of day);
  /// the sequence numbers carry on.
  void reopen() noexcept { ended_ = false; }
  [[nodiscard]] const MoldCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] const MoldConfig& config() const noexcept { return cfg_; }

  /// Snapshot: sequencing (next and sent sequence numbers), the timer state, whether the session
  /// ended, the datagram being built (its first sequence number and message blocks) and the
  /// counters. The configuration and the ITCH buffer are not included.
  void save(ByteWriter& w) const;
  /// Restores a save() into a packetizer whose ITCH buffer was already restored (its next sequence
  /// number must match). False, with the reason in `error`, on malformed input.
  bool load(ByteReader& in, std::string& error);

 private:
  void emit();
  void emit_pending(std::uint64_t now_ns);
  void batch_end() const {
    if (batch_end_) batch_end_();
  }
  void send_header_only(std::uint16_t count, std::uint64_t now_ns);

  const ItchBuffer& buffer_;
  MoldConfig cfg_;
  DatagramFn send_;
  BatchEndFn batch_end_;
  std::vector<std::uint8_t> buf_;  // declared before builder_, which views it
  std::vector<std::uint8_t> request_buf_;  // retransmission datagrams are built here
  proto::mold::Builder builder_;
  std::uint64_t next_seq_ = 1;
  std::uint64_t sent_next_ = 1;
  std::uint64_t last_tx_ns_ = 0;
  bool sent_since_tick_ = false;  // a full datagram went out from add(), which has no clock
  bool ended_ = false;
  MoldCounters counters_;
};

}  // namespace peregrine::egress
