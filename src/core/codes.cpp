#include "peregrine/core/codes.hpp"

namespace peregrine {

std::string_view to_string(RejectCode c) noexcept {
  switch (c) {
    case RejectCode::None: return "none";
    case RejectCode::UnknownSymbol: return "unknown_symbol";
    case RejectCode::UnknownFirm: return "unknown_firm";
    case RejectCode::InvalidSide: return "invalid_side";
    case RejectCode::InvalidOrderType: return "invalid_order_type";
    case RejectCode::InvalidQuantity: return "invalid_quantity";
    case RejectCode::QuantityAboveMax: return "quantity_above_max";
    case RejectCode::InvalidLot: return "invalid_lot";
    case RejectCode::InvalidMinQty: return "invalid_min_qty";
    case RejectCode::InvalidPrice: return "invalid_price";
    case RejectCode::PriceOutsideLimits: return "price_outside_limits";
    case RejectCode::PriceOutsideCage: return "price_outside_cage";
    case RejectCode::PostOnlyWouldCross: return "post_only_would_cross";
    case RejectCode::Halted: return "halted";
    case RejectCode::MarketClosed: return "market_closed";
    case RejectCode::OrderTypeNotInPhase: return "order_type_not_in_phase";
    case RejectCode::PostOnlyNotInPhase: return "post_only_not_in_phase";
    case RejectCode::CancelNotInPhase: return "cancel_not_in_phase";
    case RejectCode::InvalidTransition: return "invalid_transition";
    case RejectCode::KillSwitch: return "kill_switch";
    case RejectCode::FirmQuantityAboveMax: return "firm_quantity_above_max";
    case RejectCode::FirmNotional: return "firm_notional";
    case RejectCode::FirmOpenShares: return "firm_open_shares";
    case RejectCode::DuplicateToken: return "duplicate_token";
    case RejectCode::UnknownOrder: return "unknown_order";
    case RejectCode::NothingToCancel: return "nothing_to_cancel";
    case RejectCode::OrderPoolFull: return "order_pool_full";
    case RejectCode::TokenTableFull: return "token_table_full";
    case RejectCode::Gateway: return "gateway";
  }
  return "unknown";
}

std::string_view to_string(CancelReason r) noexcept {
  switch (r) {
    case CancelReason::UserRequested: return "user_requested";
    case CancelReason::Immediate: return "immediate";
    case CancelReason::SelfMatch: return "self_match";
    case CancelReason::Supervisory: return "supervisory";
    case CancelReason::Halted: return "halted";
    case CancelReason::Disconnected: return "disconnected";
    case CancelReason::System: return "system";
    case CancelReason::Expired: return "expired";
  }
  return "unknown";
}

}  // namespace peregrine
