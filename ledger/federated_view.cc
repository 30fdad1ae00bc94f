#include "ledger/federated_view.h"

#include <utility>

namespace cairn::ledger {

std::optional<LotRecord> LotCreatedBy(const cairn::v1::EventBody& body, const std::string& lot_id,
                                      const std::string& event_id_hex) {
  if (body.has_extraction() && body.extraction().lot_id() == lot_id) {
    const auto& x = body.extraction();
    return LotRecord{lot_id, body.author(), x.material(), x.mass_g(), event_id_hex};
  }
  if (body.has_transformation()) {
    for (const auto& out : body.transformation().outputs()) {
      if (out.lot_id() == lot_id) {
        return LotRecord{lot_id, body.author(), out.material(), out.mass_g(), event_id_hex};
      }
    }
  }
  return std::nullopt;
}

std::optional<ShipmentRecord> ShipmentOf(const cairn::v1::EventBody& body,
                                         const std::string& event_id_hex) {
  if (!body.has_dispatch()) return std::nullopt;
  ShipmentRecord shipment{event_id_hex, body.author(), body.dispatch().recipient(), {}, false};
  for (const auto& lm : body.dispatch().lots()) shipment.lots[lm.lot_id()] = lm.mass_g();
  return shipment;
}

Result<bool> FederatedView::HasEvent(const std::string& event_id_hex) {
  CAIRN_ASSIGN_OR_RETURN(const bool home, home_.HasEvent(event_id_hex));
  if (home || others_ == nullptr) return home;
  CAIRN_ASSIGN_OR_RETURN(const auto other, others_->FindEventBody(event_id_hex));
  return other.has_value();
}

Result<std::optional<cairn::v1::EventBody>> FederatedView::FindEventBody(
    const std::string& event_id_hex) {
  CAIRN_ASSIGN_OR_RETURN(auto home, home_.FindEventBody(event_id_hex));
  if (home || others_ == nullptr) return home;
  return others_->FindEventBody(event_id_hex);
}

Result<std::optional<LotRecord>> FederatedView::FindLot(const std::string& lot_id) {
  CAIRN_ASSIGN_OR_RETURN(auto home, home_.FindLot(lot_id));
  if (home || others_ == nullptr) return home;
  return others_->FindLot(lot_id);
}

Result<uint64_t> FederatedView::Holding(const std::string& lot_id, const std::string& holder) {
  return home_.Holding(lot_id, holder);
}

Result<std::optional<ShipmentRecord>> FederatedView::FindShipment(
    const std::string& dispatch_id_hex) {
  CAIRN_ASSIGN_OR_RETURN(auto home, home_.FindShipment(dispatch_id_hex));
  // A dispatch of home itself: home knows it whole.
  if ((home && !home->sender.empty()) || others_ == nullptr) return home;
  CAIRN_ASSIGN_OR_RETURN(const auto body, others_->FindEventBody(dispatch_id_hex));
  if (!body) return home;
  auto shipment = ShipmentOf(*body, dispatch_id_hex);
  if (shipment) shipment->received = home.has_value() && home->received;
  return shipment;
}

}  // namespace cairn::ledger
