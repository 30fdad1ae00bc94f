#include "ledger/memory_state.h"

namespace cairn::ledger {

Result<bool> MemoryCustodyState::HasEvent(const std::string& event_id_hex) {
  if (events_from_ != nullptr) return events_from_->HasEvent(event_id_hex);
  return events_.count(event_id_hex) > 0;
}

Result<std::optional<cairn::v1::EventBody>> MemoryCustodyState::FindEventBody(
    const std::string& event_id_hex) {
  if (events_from_ != nullptr) return events_from_->FindEventBody(event_id_hex);
  auto it = events_.find(event_id_hex);
  if (it == events_.end()) return std::optional<cairn::v1::EventBody>();
  return std::optional<cairn::v1::EventBody>(it->second);
}

Result<std::optional<LotRecord>> MemoryCustodyState::FindLot(const std::string& lot_id) {
  auto it = lots_.find(lot_id);
  if (it == lots_.end()) return std::optional<LotRecord>();
  return std::optional<LotRecord>(it->second);
}

Result<uint64_t> MemoryCustodyState::Holding(const std::string& lot_id, const std::string& holder) {
  auto it = holdings_.find({lot_id, holder});
  return it == holdings_.end() ? uint64_t{0} : it->second;
}

Result<std::optional<ShipmentRecord>> MemoryCustodyState::FindShipment(
    const std::string& dispatch_id_hex) {
  auto it = shipments_.find(dispatch_id_hex);
  if (it == shipments_.end()) return std::optional<ShipmentRecord>();
  return std::optional<ShipmentRecord>(it->second);
}

std::optional<std::string> MemoryCustodyState::OpenShipmentOf(const std::string& lot_id,
                                                              const std::string& recipient) const {
  for (const auto& [id, shipment] : shipments_) {
    if (!shipment.received && shipment.recipient == recipient && shipment.lots.count(lot_id)) {
      return id;
    }
  }
  return std::nullopt;
}

void MemoryCustodyState::Apply(const ParsedEvent& event, const CustodyEffects& effects) {
  if (events_from_ == nullptr) events_[event.id_hex] = event.body;
  for (const auto& lot : effects.new_lots) lots_[lot.lot_id] = lot;
  for (const auto& [lot_id, holder, delta] : effects.holding_changes) {
    uint64_t& held = holdings_[{lot_id, holder}];
    // Effects never take more than is held; the clamp only guards against a caller's mistake.
    held = delta < 0 && static_cast<uint64_t>(-delta) > held ? 0 : held + delta;
  }
  if (effects.new_shipment)
    shipments_[effects.new_shipment->dispatch_event_id] = *effects.new_shipment;
  if (effects.closed_shipment) shipments_[*effects.closed_shipment].received = true;
}

}  // namespace cairn::ledger
