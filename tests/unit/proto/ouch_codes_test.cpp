// OUCH 4.2 characters for the core's reject codes and cancel reasons
// (peregrine/proto/ouch_translate.hpp).

#include <cstdint>
#include <utility>

#include <gtest/gtest.h>

#include "peregrine/proto/ouch_translate.hpp"

namespace peregrine::proto {
namespace {

constexpr std::pair<RejectCode, char> kRejectReasons[] = {
    {RejectCode::UnknownSymbol, 'S'},      {RejectCode::UnknownFirm, 'O'},
    {RejectCode::InvalidSide, 'O'},        {RejectCode::InvalidOrderType, 'O'},
    {RejectCode::InvalidQuantity, 'Z'},    {RejectCode::QuantityAboveMax, 'Z'},
    {RejectCode::InvalidLot, 'e'},         {RejectCode::InvalidMinQty, 'N'},
    {RejectCode::InvalidPrice, 'X'},       {RejectCode::PriceOutsideLimits, 'X'},
    {RejectCode::PriceOutsideCage, 'X'},   {RejectCode::PostOnlyWouldCross, 'O'},
    {RejectCode::Halted, 'H'},             {RejectCode::KillSwitch, 'a'},
    {RejectCode::FirmQuantityAboveMax, 'Z'}, {RejectCode::FirmNotional, 'n'},
    {RejectCode::FirmOpenShares, 'm'},     {RejectCode::DuplicateToken, 'O'},
    {RejectCode::UnknownOrder, 'O'},       {RejectCode::NothingToCancel, 'O'},
    {RejectCode::OrderPoolFull, 'O'},      {RejectCode::TokenTableFull, 'O'},
    {RejectCode::Gateway, 'O'},  // the event's ref carries the real reason (proto::to_ouch)
};

constexpr std::pair<CancelReason, char> kCancelReasons[] = {
    {CancelReason::UserRequested, 'U'}, {CancelReason::Immediate, 'I'}, {CancelReason::SelfMatch, 'Q'},
    {CancelReason::Supervisory, 'S'},   {CancelReason::Halted, 'H'},    {CancelReason::Disconnected, 'U'},
    {CancelReason::System, 'Z'},
};

constexpr bool all_reject_reasons_map() {
  for (const auto& [code, ouch] : kRejectReasons) {
    if (to_ouch_reject_reason(code) != ouch) return false;
  }
  return true;
}
constexpr bool all_cancel_reasons_map() {
  for (const auto& [reason, ouch] : kCancelReasons) {
    if (to_ouch_cancel_reason(reason) != ouch) return false;
  }
  return true;
}
static_assert(all_reject_reasons_map());
static_assert(all_cancel_reasons_map());

TEST(OuchCodesTest, EveryRejectCodeMapsToItsOuchRejectReason) {
  for (const auto& [code, ouch] : kRejectReasons) {
    EXPECT_EQ(to_ouch_reject_reason(code), ouch) << "RejectCode " << static_cast<unsigned>(code);
  }
  EXPECT_EQ(to_ouch_reject_reason(RejectCode::None), 'O');
}

TEST(OuchCodesTest, EveryCancelReasonMapsToItsOuchCancelReason) {
  for (const auto& [reason, ouch] : kCancelReasons) {
    EXPECT_EQ(to_ouch_cancel_reason(reason), ouch) << "CancelReason " << static_cast<unsigned>(reason);
  }
  EXPECT_EQ(to_ouch_cancel_reason(static_cast<CancelReason>(std::uint8_t{200})), 'Z');
}

}  // namespace
}  // namespace peregrine::proto
