// OUCH 4.2 mapping of reject codes and cancel reasons (peregrine/core/codes.hpp), and their names.

#include <set>
#include <string>
#include <utility>

#include "unit/core/engine_fixture.hpp"

namespace peregrine::test {
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

TEST(OuchCodesTest, RejectCodesKeepTheirGroupedNumericValues) {
  EXPECT_EQ(static_cast<unsigned>(RejectCode::UnknownSymbol), 1u);
  EXPECT_EQ(static_cast<unsigned>(RejectCode::PostOnlyWouldCross), 12u);
  EXPECT_EQ(static_cast<unsigned>(RejectCode::Halted), 32u);
  EXPECT_EQ(static_cast<unsigned>(RejectCode::KillSwitch), 48u);
  EXPECT_EQ(static_cast<unsigned>(RejectCode::FirmOpenShares), 51u);
  EXPECT_EQ(static_cast<unsigned>(RejectCode::DuplicateToken), 64u);
  EXPECT_EQ(static_cast<unsigned>(RejectCode::NothingToCancel), 66u);
  EXPECT_EQ(static_cast<unsigned>(RejectCode::OrderPoolFull), 80u);
  EXPECT_EQ(static_cast<unsigned>(RejectCode::TokenTableFull), 81u);
  EXPECT_EQ(static_cast<unsigned>(RejectCode::Gateway), 96u);
  EXPECT_EQ(static_cast<unsigned>(CommandType::EdgeReject), 7u);
}

TEST(OuchCodesTest, EveryCodeHasADistinctNonEmptyName) {
  std::set<std::string> names;
  for (const auto& entry : kRejectReasons) {
    const RejectCode code = entry.first;
    const std::string_view name = to_string(code);
    EXPECT_FALSE(name.empty()) << "RejectCode " << static_cast<unsigned>(code);
    EXPECT_TRUE(names.insert(std::string(name)).second) << "duplicate name " << name;
  }
  std::set<std::string> reasons;
  for (const auto& entry : kCancelReasons) {
    const CancelReason reason = entry.first;
    const std::string_view name = to_string(reason);
    EXPECT_FALSE(name.empty()) << "CancelReason " << static_cast<unsigned>(reason);
    EXPECT_TRUE(reasons.insert(std::string(name)).second) << "duplicate name " << name;
  }
}

}  // namespace
}  // namespace peregrine::test
