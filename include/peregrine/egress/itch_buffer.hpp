#pragma once
/// The day's ITCH 5.0 stream as encoded messages, numbered from 1: the one sequence that both
/// the MoldUDP64 feed and the SoupBinTCP feed (FeedSession) carry, kept for replay and
/// retransmission (the most recent `retention` messages). Owned by Egress; io thread only.

#include "peregrine/proto/itch50.hpp"
#include "peregrine/sessions/retransmit_buffer.hpp"

namespace peregrine::egress {

using ItchBuffer = sessions::RetransmitBuffer<proto::itch::kMaxMessageSize>;

}  // namespace peregrine::egress
