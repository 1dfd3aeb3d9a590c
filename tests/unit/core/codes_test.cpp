// Reject codes and cancel reasons (peregrine/core/codes.hpp): their numeric values and names. Their
// OUCH 4.2 characters are proto's (tests/unit/proto/ouch_codes_test.cpp).

#include <set>
#include <string>
#include <utility>

#include "unit/core/engine_fixture.hpp"

namespace peregrine::test {
namespace {

constexpr RejectCode kRejectCodes[] = {
    RejectCode::UnknownSymbol,      RejectCode::UnknownFirm,        RejectCode::InvalidSide,
    RejectCode::InvalidOrderType,   RejectCode::InvalidQuantity,    RejectCode::QuantityAboveMax,
    RejectCode::InvalidLot,         RejectCode::InvalidMinQty,      RejectCode::InvalidPrice,
    RejectCode::PriceOutsideLimits, RejectCode::PriceOutsideCage,   RejectCode::PostOnlyWouldCross,
    RejectCode::Halted,             RejectCode::KillSwitch,         RejectCode::FirmQuantityAboveMax,
    RejectCode::FirmNotional,       RejectCode::FirmOpenShares,     RejectCode::DuplicateToken,
    RejectCode::UnknownOrder,       RejectCode::NothingToCancel,    RejectCode::OrderPoolFull,
    RejectCode::TokenTableFull,     RejectCode::Gateway,
};

constexpr CancelReason kCancelReasons[] = {
    CancelReason::UserRequested, CancelReason::Immediate, CancelReason::SelfMatch,
    CancelReason::Supervisory,   CancelReason::Halted,    CancelReason::Disconnected,
    CancelReason::System,
};

TEST(CodesTest, RejectCodesKeepTheirGroupedNumericValues) {
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

TEST(CodesTest, EveryCodeHasADistinctNonEmptyName) {
  std::set<std::string> names;
  for (const RejectCode code : kRejectCodes) {
    const std::string_view name = to_string(code);
    EXPECT_FALSE(name.empty()) << "RejectCode " << static_cast<unsigned>(code);
    EXPECT_TRUE(names.insert(std::string(name)).second) << "duplicate name " << name;
  }
  std::set<std::string> reasons;
  for (const CancelReason reason : kCancelReasons) {
    const std::string_view name = to_string(reason);
    EXPECT_FALSE(name.empty()) << "CancelReason " << static_cast<unsigned>(reason);
    EXPECT_TRUE(reasons.insert(std::string(name)).second) << "duplicate name " << name;
  }
}

}  // namespace
}  // namespace peregrine::test
