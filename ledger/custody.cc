#include "ledger/custody.h"

#include <cmath>
#include <string>

namespace cairn::ledger {
namespace {

std::string Grams(uint64_t g) { return std::to_string(g) + " g"; }

Status RequireKnownEvent(CustodyView& view, const std::string& field, const std::string& id) {
  CAIRN_ASSIGN_OR_RETURN(const bool known, view.HasEvent(id));
  if (!known) return FailedPrecondition(field + ": event " + id + " is not known to this node");
  return Status::Ok();
}

Result<LotRecord> RequireLot(CustodyView& view, const std::string& field,
                             const std::string& lot_id) {
  CAIRN_ASSIGN_OR_RETURN(auto lot, view.FindLot(lot_id));
  if (!lot) return FailedPrecondition(field + ": unknown lot " + lot_id);
  return *lot;
}

Status RequireNewLot(CustodyView& view, const std::string& field, const std::string& lot_id) {
  CAIRN_ASSIGN_OR_RETURN(auto lot, view.FindLot(lot_id));
  if (lot) {
    return AlreadyExists(field + ": lot " + lot_id + " was already created by event " +
                         lot->created_by_event_id);
  }
  return Status::Ok();
}

// The author must hold at least `mass_g` of the lot.
Status RequireHolding(CustodyView& view, const std::string& field, const std::string& lot_id,
                      const std::string& author, uint64_t mass_g, const char* verb) {
  CAIRN_RETURN_IF_ERROR(RequireLot(view, field + ".lot_id", lot_id).status());
  CAIRN_ASSIGN_OR_RETURN(const uint64_t held, view.Holding(lot_id, author));
  if (held == 0) {
    return FailedPrecondition(field + ": " + author + " does not hold lot " + lot_id +
                              " and cannot " + verb + " it");
  }
  if (mass_g > held) {
    return FailedPrecondition(field + ".mass_g: got " + Grams(mass_g) + ", but " + author +
                              " holds only " + Grams(held) + " of lot " + lot_id);
  }
  return Status::Ok();
}

Status PlanExtraction(const ParsedEvent& e, CustodyView& view, CustodyEffects& fx) {
  const auto& x = e.body.extraction();
  CAIRN_RETURN_IF_ERROR(RequireNewLot(view, "Extraction.lot_id", x.lot_id()));
  fx.new_lots.push_back({x.lot_id(), e.body.author(), x.material(), x.mass_g(), e.id_hex});
  fx.holding_changes.emplace_back(x.lot_id(), e.body.author(), static_cast<int64_t>(x.mass_g()));
  return Status::Ok();
}

Status PlanDispatch(const ParsedEvent& e, CustodyView& view, CustodyEffects& fx) {
  const auto& d = e.body.dispatch();
  ShipmentRecord shipment{e.id_hex, e.body.author(), d.recipient(), {}, false};
  for (int i = 0; i < d.lots_size(); ++i) {
    const auto& lm = d.lots(i);
    CAIRN_RETURN_IF_ERROR(RequireHolding(view, "Dispatch.lots[" + std::to_string(i) + "]",
                                         lm.lot_id(), e.body.author(), lm.mass_g(), "dispatch"));
    fx.holding_changes.emplace_back(lm.lot_id(), e.body.author(),
                                    -static_cast<int64_t>(lm.mass_g()));
    shipment.lots[lm.lot_id()] = lm.mass_g();
  }
  fx.new_shipment = std::move(shipment);
  return Status::Ok();
}

Status PlanReceipt(const ParsedEvent& e, CustodyView& view, CustodyEffects& fx,
                   const CustodyOptions& options) {
  const auto& r = e.body.receipt();
  CAIRN_ASSIGN_OR_RETURN(auto shipment, view.FindShipment(r.dispatch_event_id()));
  if (!shipment) {
    return FailedPrecondition("Receipt.dispatch_event_id: no dispatch " + r.dispatch_event_id() +
                              " is known to this node");
  }
  if (shipment->recipient != e.body.author()) {
    return PermissionDenied("Receipt.dispatch_event_id: dispatch " + r.dispatch_event_id() +
                            " is addressed to " + shipment->recipient + ", not " + e.body.author());
  }
  if (shipment->received) {
    return AlreadyExists("Receipt.dispatch_event_id: dispatch " + r.dispatch_event_id() +
                         " was already received");
  }
  for (int i = 0; i < r.lots_size(); ++i) {
    const auto& lm = r.lots(i);
    const std::string field = "Receipt.lots[" + std::to_string(i) + "]";
    auto it = shipment->lots.find(lm.lot_id());
    if (it == shipment->lots.end()) {
      return FailedPrecondition(field + ".lot_id: lot " + lm.lot_id() + " is not in dispatch " +
                                r.dispatch_event_id());
    }
    const auto limit = static_cast<uint64_t>(
        std::floor(static_cast<long double>(it->second) * (1.0L + options.receipt_tolerance)));
    if (lm.mass_g() > limit) {
      return FailedPrecondition(field + ".mass_g: got " + Grams(lm.mass_g()) + ", dispatched " +
                                Grams(it->second) + "; more than the receipt tolerance allows");
    }
    fx.received[lm.lot_id()] = lm.mass_g();
    fx.holding_changes.emplace_back(lm.lot_id(), e.body.author(),
                                    static_cast<int64_t>(lm.mass_g()));
  }
  for (const auto& [lot_id, dispatched] : shipment->lots) {
    auto it = fx.received.find(lot_id);
    const uint64_t got = it == fx.received.end() ? 0 : it->second;
    if (got < dispatched) fx.lost[lot_id] = dispatched - got;
  }
  fx.closed_shipment = r.dispatch_event_id();
  return Status::Ok();
}

Status PlanTransformation(const ParsedEvent& e, CustodyView& view, CustodyEffects& fx) {
  const auto& t = e.body.transformation();
  for (int i = 0; i < t.inputs_size(); ++i) {
    const auto& lm = t.inputs(i);
    CAIRN_RETURN_IF_ERROR(RequireHolding(view, "Transformation.inputs[" + std::to_string(i) + "]",
                                         lm.lot_id(), e.body.author(), lm.mass_g(), "consume"));
    fx.holding_changes.emplace_back(lm.lot_id(), e.body.author(),
                                    -static_cast<int64_t>(lm.mass_g()));
    fx.consumed[lm.lot_id()] = lm.mass_g();
  }
  for (int i = 0; i < t.outputs_size(); ++i) {
    const auto& out = t.outputs(i);
    CAIRN_RETURN_IF_ERROR(RequireNewLot(
        view, "Transformation.outputs[" + std::to_string(i) + "].lot_id", out.lot_id()));
    fx.new_lots.push_back({out.lot_id(), e.body.author(), out.material(), out.mass_g(), e.id_hex});
    fx.holding_changes.emplace_back(out.lot_id(), e.body.author(),
                                    static_cast<int64_t>(out.mass_g()));
  }
  return Status::Ok();
}

Status PlanAttestation(const ParsedEvent& e, CustodyView& view) {
  const auto& a = e.body.attestation();
  if (a.has_event_id()) return RequireKnownEvent(view, "Attestation.event_id", a.event_id());
  return RequireLot(view, "Attestation.lot_id", a.lot_id()).status();
}

Status PlanCorrection(const ParsedEvent& e, CustodyView& view) {
  const auto& k = e.body.correction();
  CAIRN_ASSIGN_OR_RETURN(auto target, view.FindEventBody(k.event_id()));
  if (!target) {
    return FailedPrecondition("Correction.event_id: event " + k.event_id() +
                              " is not known to this node");
  }
  if (target->author() != e.body.author()) {
    return PermissionDenied("Correction.event_id: event " + k.event_id() + " was authored by " +
                            target->author() + "; only its author may correct it");
  }
  if (k.has_transport() && !target->has_dispatch()) {
    return FailedPrecondition("Correction.transport: event " + k.event_id() + " is not a Dispatch");
  }
  return Status::Ok();
}

}  // namespace

Result<CustodyEffects> CheckAndPlanCustody(const ParsedEvent& event, CustodyView& view,
                                           const CustodyOptions& options) {
  for (int i = 0; i < event.body.refs_size(); ++i) {
    CAIRN_RETURN_IF_ERROR(RequireKnownEvent(
        view, "EventBody.refs[" + std::to_string(i) + "].event_id", event.body.refs(i).event_id()));
  }
  CustodyEffects fx;
  switch (event.body.kind_case()) {
    case cairn::v1::EventBody::kExtraction:
      CAIRN_RETURN_IF_ERROR(PlanExtraction(event, view, fx));
      break;
    case cairn::v1::EventBody::kDispatch:
      CAIRN_RETURN_IF_ERROR(PlanDispatch(event, view, fx));
      break;
    case cairn::v1::EventBody::kReceipt:
      CAIRN_RETURN_IF_ERROR(PlanReceipt(event, view, fx, options));
      break;
    case cairn::v1::EventBody::kTransformation:
      CAIRN_RETURN_IF_ERROR(PlanTransformation(event, view, fx));
      break;
    case cairn::v1::EventBody::kAttestation:
      CAIRN_RETURN_IF_ERROR(PlanAttestation(event, view));
      break;
    case cairn::v1::EventBody::kCorrection:
      CAIRN_RETURN_IF_ERROR(PlanCorrection(event, view));
      break;
    case cairn::v1::EventBody::KIND_NOT_SET:
      return InvalidArgument("EventBody.kind: required");
  }
  return fx;
}

}  // namespace cairn::ledger
