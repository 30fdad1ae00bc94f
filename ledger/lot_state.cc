#include "ledger/lot_state.h"

#include <algorithm>
#include <map>
#include <utility>

#include "ledger/custody.h"

namespace cairn::ledger {

std::optional<cairn::v1::LotState> LotStateOf(const std::string& lot_id,
                                              std::vector<LotEvent> events) {
  std::stable_sort(events.begin(), events.end(), [](const LotEvent& a, const LotEvent& b) {
    if (a.appended_at_us != b.appended_at_us) return a.appended_at_us < b.appended_at_us;
    if (a.log_id != b.log_id) return a.log_id < b.log_id;
    return a.index < b.index;
  });
  cairn::v1::LotState state;
  bool created = false;
  std::map<std::string, uint64_t> held;  // holder -> grams
  struct Transit {
    std::string sender, recipient;
    uint64_t mass_g = 0;
  };
  std::map<std::string, Transit> transit;  // dispatch id -> what of the lot it carries
  const auto take = [&](const std::string& holder, uint64_t grams) {
    uint64_t& h = held[holder];
    h -= std::min(h, grams);
  };
  for (const LotEvent& e : events) {
    const auto& body = e.body;
    if (!created) {
      if (auto lot = LotCreatedBy(body, lot_id, e.id_hex)) {
        created = true;
        state.set_lot_id(lot_id);
        state.set_creator(lot->creator);
        state.set_material(lot->material);
        state.set_created_mass_g(lot->created_mass_g);
        state.set_created_by_event_id(e.id_hex);
        if (body.has_extraction()) {
          *state.mutable_composition_ppm() = body.extraction().composition_ppm();
        } else {
          for (const auto& out : body.transformation().outputs()) {
            if (out.lot_id() == lot_id) *state.mutable_composition_ppm() = out.composition_ppm();
          }
        }
        held[lot->creator] += lot->created_mass_g;
        continue;
      }
    }
    if (body.has_dispatch()) {
      for (const auto& lm : body.dispatch().lots()) {
        if (lm.lot_id() != lot_id) continue;
        take(body.author(), lm.mass_g());
        transit[e.id_hex] = {body.author(), body.dispatch().recipient(), lm.mass_g()};
      }
    } else if (body.has_receipt()) {
      const auto it = transit.find(body.receipt().dispatch_event_id());
      uint64_t got = 0;
      for (const auto& lm : body.receipt().lots()) {
        if (lm.lot_id() == lot_id) got += lm.mass_g();
      }
      held[body.author()] += got;
      if (it != transit.end()) {
        if (got < it->second.mass_g) {
          state.set_transit_loss_mass_g(state.transit_loss_mass_g() + it->second.mass_g - got);
        }
        transit.erase(it);
      }
    } else if (body.has_transformation()) {
      for (const auto& lm : body.transformation().inputs()) {
        if (lm.lot_id() != lot_id) continue;
        take(body.author(), lm.mass_g());
        state.set_consumed_mass_g(state.consumed_mass_g() + lm.mass_g());
      }
    }
  }
  if (!created) return std::nullopt;
  uint64_t remaining = 0;
  for (const auto& [holder, grams] : held) {
    if (grams == 0) continue;
    auto* h = state.add_holdings();
    h->set_holder(holder);
    h->set_mass_g(grams);
    remaining += grams;
  }
  for (const auto& [dispatch, t] : transit) {
    auto* in = state.add_in_transit();
    in->set_dispatch_event_id(dispatch);
    in->set_sender(t.sender);
    in->set_recipient(t.recipient);
    in->set_mass_g(t.mass_g);
    remaining += t.mass_g;
  }
  state.set_remaining_mass_g(remaining);
  return state;
}

}  // namespace cairn::ledger
