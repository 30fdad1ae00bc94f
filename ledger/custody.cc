#include "ledger/custody.h"

#include <algorithm>
#include <string>

namespace cairn::ledger {

uint64_t ReceiptLimitG(uint64_t dispatched_g, const ConsortiumRules& rules) {
  const unsigned __int128 slack =
      static_cast<unsigned __int128>(dispatched_g) * rules.receipt_tolerance_ppm / 1'000'000;
  const unsigned __int128 limit = dispatched_g + slack;
  return limit > UINT64_MAX ? UINT64_MAX : static_cast<uint64_t>(limit);
}

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

namespace {

std::string Grams(uint64_t g) { return std::to_string(g) + " g"; }

// Plans one event: collects violations and effects. Methods return a Status only for a failure of
// the view (storage); a broken rule is a violation and planning goes on.
class Planner {
 public:
  Planner(const ParsedEvent& event, CustodyView& view, const ConsortiumRules& rules)
      : e_(event), author_(event.body.author()), view_(view), rules_(rules) {}

  Result<CustodyPlan> Run() {
    for (int i = 0; i < e_.body.refs_size(); ++i) {
      CAIRN_RETURN_IF_ERROR(RequireKnownEvent("EventBody.refs[" + std::to_string(i) + "].event_id",
                                              e_.body.refs(i).event_id()));
    }
    switch (e_.body.kind_case()) {
      case cairn::v1::EventBody::kExtraction:
        CAIRN_RETURN_IF_ERROR(Extraction());
        break;
      case cairn::v1::EventBody::kDispatch:
        CAIRN_RETURN_IF_ERROR(Dispatch());
        break;
      case cairn::v1::EventBody::kReceipt:
        CAIRN_RETURN_IF_ERROR(Receipt());
        break;
      case cairn::v1::EventBody::kTransformation:
        CAIRN_RETURN_IF_ERROR(Transformation());
        break;
      case cairn::v1::EventBody::kAttestation:
        CAIRN_RETURN_IF_ERROR(Attestation());
        break;
      case cairn::v1::EventBody::kCorrection:
        CAIRN_RETURN_IF_ERROR(Correction());
        break;
      case cairn::v1::EventBody::KIND_NOT_SET:
        Violate(InvalidArgument("EventBody.kind: required"), "EventBody.kind");
        break;
    }
    return std::move(plan_);
  }

 private:
  void Violate(Status status, std::string field, std::string lot_id = "") {
    plan_.violations.push_back({std::move(status), std::move(field), std::move(lot_id)});
  }

  // A view answer: its value, or nullopt after recording a NOT_FOUND as a violation. Any other
  // error is returned through `error`.
  template <typename T>
  std::optional<T> Ask(Result<T> answer, const std::string& field, const std::string& lot_id,
                       Status& error) {
    if (answer.ok()) return std::move(answer).value();
    if (answer.status().code() == StatusCode::kNotFound) {
      Violate(answer.status().WithPrefix(field), field, lot_id);
    } else {
      error = answer.status();
    }
    return std::nullopt;
  }

  Status RequireKnownEvent(const std::string& field, const std::string& id) {
    Status error;
    const auto known = Ask(view_.HasEvent(id), field, "", error);
    if (known && !*known) {
      Violate(FailedPrecondition(field + ": event " + id + " is not known to this node"), field);
    }
    return error;
  }

  // The lot's record; nullopt (with a violation) when unknown.
  Result<std::optional<LotRecord>> RequireLot(const std::string& field, const std::string& lot_id) {
    Status error;
    auto lot = Ask(view_.FindLot(lot_id), field, lot_id, error);
    CAIRN_RETURN_IF_ERROR(error);
    if (!lot) return std::optional<LotRecord>();
    if (!*lot) Violate(FailedPrecondition(field + ": unknown lot " + lot_id), field, lot_id);
    return *std::move(lot);
  }

  // Whether `lot_id` may be created (no violation recorded when it may).
  Result<bool> RequireNewLot(const std::string& field, const std::string& lot_id) {
    Status error;
    auto lot = Ask(view_.FindLot(lot_id), field, lot_id, error);
    CAIRN_RETURN_IF_ERROR(error);
    if (!lot) return false;
    if (*lot) {
      Violate(AlreadyExists(field + ": lot " + lot_id + " was already created by event " +
                            (*lot)->created_by_event_id),
              field, lot_id);
      return false;
    }
    return true;
  }

  // Takes `mass_g` of the lot from the author's holding: what is held at most.
  Status Take(const std::string& field, const std::string& lot_id, uint64_t mass_g,
              const char* verb) {
    CAIRN_ASSIGN_OR_RETURN(auto lot, RequireLot(field + ".lot_id", lot_id));
    if (!lot) return Status::Ok();
    Status error;
    const auto held = Ask(view_.Holding(lot_id, author_), field, lot_id, error);
    CAIRN_RETURN_IF_ERROR(error);
    if (!held) return Status::Ok();
    if (*held == 0) {
      Violate(FailedPrecondition(field + ": " + author_ + " does not hold lot " + lot_id +
                                 " and cannot " + verb + " it"),
              field, lot_id);
      return Status::Ok();
    }
    if (mass_g > *held) {
      Violate(FailedPrecondition(field + ".mass_g: got " + Grams(mass_g) + ", but " + author_ +
                                 " holds only " + Grams(*held) + " of lot " + lot_id),
              field, lot_id);
    }
    Change(lot_id, author_, -static_cast<int64_t>(std::min(mass_g, *held)));
    return Status::Ok();
  }

  void Change(const std::string& lot_id, const std::string& holder, int64_t delta) {
    plan_.effects.holding_changes.emplace_back(lot_id, holder, delta);
  }

  Status Create(const std::string& field, const std::string& lot_id, const std::string& material,
                uint64_t mass_g) {
    CAIRN_ASSIGN_OR_RETURN(const bool fresh, RequireNewLot(field, lot_id));
    if (!fresh) return Status::Ok();
    plan_.effects.new_lots.push_back({lot_id, author_, material, mass_g, e_.id_hex});
    Change(lot_id, author_, static_cast<int64_t>(mass_g));
    return Status::Ok();
  }

  Status Extraction() {
    const auto& x = e_.body.extraction();
    return Create("Extraction.lot_id", x.lot_id(), x.material(), x.mass_g());
  }

  Status Dispatch() {
    const auto& d = e_.body.dispatch();
    for (int i = 0; i < d.lots_size(); ++i) {
      const auto& lm = d.lots(i);
      CAIRN_RETURN_IF_ERROR(
          Take("Dispatch.lots[" + std::to_string(i) + "]", lm.lot_id(), lm.mass_g(), "dispatch"));
    }
    plan_.effects.new_shipment = ShipmentOf(e_.body, e_.id_hex);
    return Status::Ok();
  }

  Status Receipt() {
    const auto& r = e_.body.receipt();
    const std::string field = "Receipt.dispatch_event_id";
    Status error;
    auto shipment = Ask(view_.FindShipment(r.dispatch_event_id()), field, "", error);
    CAIRN_RETURN_IF_ERROR(error);
    bool credit = true;  // what the receipt reports is credited unless it is a second receipt
    if (shipment && !*shipment) {
      Violate(FailedPrecondition(field + ": no dispatch " + r.dispatch_event_id() +
                                 " is known to this node"),
              field);
    } else if (shipment) {
      const ShipmentRecord& s = **shipment;
      if (s.recipient != author_) {
        Violate(PermissionDenied(field + ": dispatch " + r.dispatch_event_id() +
                                 " is addressed to " + s.recipient + ", not " + author_),
                field);
      } else if (s.received) {
        Violate(
            AlreadyExists(field + ": dispatch " + r.dispatch_event_id() + " was already received"),
            field);
        credit = false;
      }
    }
    const ShipmentRecord* s = shipment && *shipment ? &**shipment : nullptr;
    for (int i = 0; i < r.lots_size() && credit; ++i) {
      const auto& lm = r.lots(i);
      const std::string item = "Receipt.lots[" + std::to_string(i) + "]";
      if (s != nullptr) {
        auto it = s->lots.find(lm.lot_id());
        if (it == s->lots.end()) {
          Violate(FailedPrecondition(item + ".lot_id: lot " + lm.lot_id() + " is not in dispatch " +
                                     r.dispatch_event_id()),
                  item, lm.lot_id());
          continue;
        }
        if (lm.mass_g() > ReceiptLimitG(it->second, rules_)) {
          Violate(
              FailedPrecondition(item + ".mass_g: got " + Grams(lm.mass_g()) + ", dispatched " +
                                 Grams(it->second) + "; more than the receipt tolerance allows (" +
                                 std::to_string(rules_.receipt_tolerance_ppm) + " ppm)"),
              item, lm.lot_id());
        }
      }
      plan_.effects.received[lm.lot_id()] = lm.mass_g();
      Change(lm.lot_id(), author_, static_cast<int64_t>(lm.mass_g()));
    }
    if (s != nullptr && credit) {
      for (const auto& [lot_id, dispatched] : s->lots) {
        auto it = plan_.effects.received.find(lot_id);
        const uint64_t got = it == plan_.effects.received.end() ? 0 : it->second;
        if (got < dispatched) plan_.effects.lost[lot_id] = dispatched - got;
      }
    }
    if (credit) plan_.effects.closed_shipment = r.dispatch_event_id();
    return Status::Ok();
  }

  Status Transformation() {
    const auto& t = e_.body.transformation();
    for (int i = 0; i < t.inputs_size(); ++i) {
      const auto& lm = t.inputs(i);
      CAIRN_RETURN_IF_ERROR(Take("Transformation.inputs[" + std::to_string(i) + "]", lm.lot_id(),
                                 lm.mass_g(), "consume"));
      plan_.effects.consumed[lm.lot_id()] = lm.mass_g();
    }
    for (int i = 0; i < t.outputs_size(); ++i) {
      const auto& out = t.outputs(i);
      CAIRN_RETURN_IF_ERROR(Create("Transformation.outputs[" + std::to_string(i) + "].lot_id",
                                   out.lot_id(), out.material(), out.mass_g()));
    }
    return Status::Ok();
  }

  Status Attestation() {
    const auto& a = e_.body.attestation();
    if (a.has_event_id()) return RequireKnownEvent("Attestation.event_id", a.event_id());
    return RequireLot("Attestation.lot_id", a.lot_id()).status();
  }

  Status Correction() {
    const auto& k = e_.body.correction();
    const std::string field = "Correction.event_id";
    Status error;
    auto target = Ask(view_.FindEventBody(k.event_id()), field, "", error);
    CAIRN_RETURN_IF_ERROR(error);
    if (!target) return Status::Ok();
    if (!*target) {
      Violate(FailedPrecondition(field + ": event " + k.event_id() + " is not known to this node"),
              field);
      return Status::Ok();
    }
    if ((*target)->author() != author_) {
      Violate(PermissionDenied(field + ": event " + k.event_id() + " was authored by " +
                               (*target)->author() + "; only its author may correct it"),
              field);
    }
    if (k.has_transport() && !(*target)->has_dispatch()) {
      Violate(
          FailedPrecondition("Correction.transport: event " + k.event_id() + " is not a Dispatch"),
          "Correction.transport");
    }
    return Status::Ok();
  }

  const ParsedEvent& e_;
  const std::string& author_;
  CustodyView& view_;
  const ConsortiumRules& rules_;
  CustodyPlan plan_;
};

}  // namespace

Result<CustodyPlan> PlanCustody(const ParsedEvent& event, CustodyView& view,
                                const ConsortiumRules& rules) {
  return Planner(event, view, rules).Run();
}

Result<CustodyEffects> CheckAndPlanCustody(const ParsedEvent& event, CustodyView& view,
                                           const ConsortiumRules& rules) {
  CAIRN_ASSIGN_OR_RETURN(CustodyPlan plan, PlanCustody(event, view, rules));
  if (!plan.violations.empty()) return plan.violations.front().status;
  return std::move(plan.effects);
}

}  // namespace cairn::ledger
