#include "ledger/attribution.h"

#include <algorithm>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>

namespace cairn::ledger {
namespace {

bool IsGrade(std::string_view symbol) { return symbol == "TREO" || symbol == "REO"; }

bool HasElementLevel(const std::map<std::string, uint32_t>& composition) {
  return std::any_of(composition.begin(), composition.end(),
                     [](const auto& entry) { return !IsGrade(entry.first); });
}

uint32_t PpmOf(const std::map<std::string, uint32_t>& composition, const std::string& element) {
  auto it = composition.find(element);
  return it == composition.end() ? 0 : it->second;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string PlaceText(const std::string& country, const std::string& region) {
  return region.empty() ? country : country + "/" + region;
}

bool IsTransformation(const LineageGraph& graph, int event) {
  return event >= 0 && graph.event(event).body.has_transformation();
}

// The target's lineage: Upstream(target) (sources first, target last) and each lot's position in
// it (-1 outside).
struct Lineage {
  const LineageGraph& graph;
  int target = -1;
  std::vector<int> order;
  std::vector<int> pos;
  bool cycle = false;

  Lineage(const LineageGraph& g, int t) : graph(g), target(t) {
    if (target < 0 || target >= static_cast<int>(graph.lots().size())) {
      target = -1;
      return;
    }
    int cycle_at = -1;
    order = graph.Upstream(target, &cycle_at);
    cycle = cycle_at >= 0;
    pos.assign(graph.lots().size(), -1);
    for (size_t p = 0; p < order.size(); ++p) pos[order[p]] = static_cast<int>(p);
  }
};

// Fractions (summing to 1) in which the inputs of transformation `event` make up its outputs' mass
// ("" element) or their mass of `element`. Empty for an event without inputs.
void MixWeights(const LineageGraph& graph, int event, const std::string& element,
                std::vector<double>& weights) {
  const std::vector<LotFlow>& inputs = graph.Inputs(event);
  weights.assign(inputs.size(), 0.0);
  double total = 0;
  if (!element.empty()) {
    for (size_t i = 0; i < inputs.size(); ++i) {
      weights[i] = static_cast<double>(inputs[i].mass_g) *
                   PpmOf(graph.lot(inputs[i].lot).composition_ppm, element);
      total += weights[i];
    }
  }
  if (total <= 0) {
    total = 0;
    for (size_t i = 0; i < inputs.size(); ++i) {
      weights[i] = static_cast<double>(inputs[i].mass_g);
      total += weights[i];
    }
  }
  if (total <= 0) {  // only in forged evidence: masses are > 0
    std::fill(weights.begin(), weights.end(), 1.0);
    total = static_cast<double>(inputs.size());
  }
  for (double& w : weights) w /= total;
}

// Distributes the target's unit of mass (of `element`) upstream, from the target to its sources.
// `sink(lot, share)` receives, once per lot, the share of each lot where the distribution ends:
// a lot for which `stop(position)` is true, an extraction lot, a lot of unknown creation, or a
// transformation output without inputs; `sink(-1, share)` receives mass lost around a cycle.
// When `shares` is given it receives each position's share before it was passed on.
template <typename Stop, typename Sink>
void Distribute(const Lineage& lineage, const std::string& element, Stop stop, Sink sink,
                std::vector<double>* shares = nullptr) {
  const LineageGraph& graph = lineage.graph;
  std::vector<double> share(lineage.order.size(), 0.0);
  if (share.empty()) return;
  share.back() = 1.0;
  std::vector<double> weights;
  for (int p = static_cast<int>(lineage.order.size()) - 1; p >= 0; --p) {
    const double s = share[p];
    if (s == 0) continue;
    const int lot = lineage.order[p];
    const int created_by = graph.lot(lot).created_by;
    if (stop(p) || !IsTransformation(graph, created_by) || graph.Inputs(created_by).empty()) {
      sink(lot, s);
      continue;
    }
    MixWeights(graph, created_by, element, weights);
    const std::vector<LotFlow>& inputs = graph.Inputs(created_by);
    for (size_t i = 0; i < inputs.size(); ++i) {
      const int q = lineage.pos[inputs[i].lot];
      if (q < 0 || q >= p) {
        sink(-1, s * weights[i]);  // a cycle closes here: already passed on
      } else {
        share[q] += s * weights[i];
      }
    }
  }
  if (shares != nullptr) *shares = std::move(share);
}

double Clamp01(double x) { return std::min(1.0, std::max(0.0, x)); }

// Fills the source maps of `out` for one weighting.
void AttributeSources(const Lineage& lineage, const std::string& element, OriginShares& out,
                      Attribution& info) {
  const LineageGraph& graph = lineage.graph;
  Distribute(
      lineage, element, [](int) { return false; },
      [&](int lot, double share) {
        if (lot < 0) {
          out.unknown += share;
          out.unknown_lots["(cycle)"] += share;
          return;
        }
        const LineageLot& l = graph.lot(lot);
        if (l.created_by < 0 || !graph.event(l.created_by).body.has_extraction()) {
          out.unknown += share;
          out.unknown_lots[l.lot_id] += share;
          return;
        }
        const cairn::v1::EventBody& body = graph.event(l.created_by).body;
        const cairn::v1::Site& site = body.extraction().site();
        out.by_country[site.country()] += share;
        if (!site.region().empty()) out.by_region[site.country() + "/" + site.region()] += share;
        out.by_site[site.id()] += share;
        out.by_mine[body.author()] += share;
        info.sites.emplace(site.id(), PlaceInfo{site.name(), site.country(), site.region()});
      });
}

// Fills by_facility and by_facility_country of `out` for one weighting: a forward pass carrying,
// per transformation, the sparse fractions of its outputs that passed through each facility and
// facility country upstream. A transformation's fractions are freed once every transformation
// consuming its outputs has used them.
void AttributeFacilities(const Lineage& lineage, const std::string& element, OriginShares& out,
                         Attribution& info) {
  const LineageGraph& graph = lineage.graph;
  if (lineage.target < 0) return;
  const int target_event = graph.lot(lineage.target).created_by;
  if (!IsTransformation(graph, target_event)) return;

  // Keys: facility ids then facility countries, numbered densely.
  std::vector<std::pair<bool, std::string>> keys;  // (is_country, name)
  std::unordered_map<std::string, int> facility_key;
  std::unordered_map<std::string, int> country_key;
  const size_t event_count = graph.events().size();
  std::vector<std::pair<int, int>> event_keys(event_count, {-1, -1});
  std::vector<int> uses(event_count, 0);
  std::vector<char> seen(event_count, 0);
  for (int lot : lineage.order) {
    const int e = graph.lot(lot).created_by;
    if (!IsTransformation(graph, e) || seen[e]) continue;
    seen[e] = 1;
    const cairn::v1::Facility& facility = graph.event(e).body.transformation().facility();
    auto [f, f_new] = facility_key.emplace(facility.id(), static_cast<int>(keys.size()));
    if (f_new) keys.emplace_back(false, facility.id());
    auto [c, c_new] = country_key.emplace(facility.country(), static_cast<int>(keys.size()));
    if (c_new) keys.emplace_back(true, facility.country());
    event_keys[e] = {f->second, c->second};
    info.facilities.emplace(facility.id(),
                            PlaceInfo{facility.name(), facility.country(), facility.region()});
    for (const LotFlow& input : graph.Inputs(e)) {
      const int source = graph.lot(input.lot).created_by;
      if (IsTransformation(graph, source)) ++uses[source];
    }
  }

  using Sparse = std::vector<std::pair<int, double>>;
  std::vector<Sparse> passed(event_count);
  std::vector<char> done(event_count, 0);
  std::vector<double> accumulator(keys.size(), 0.0);
  std::vector<char> touched_flag(keys.size(), 0);
  std::vector<int> touched;
  std::vector<double> weights;
  auto touch = [&](int key, double value) {
    if (!touched_flag[key]) {
      touched_flag[key] = 1;
      touched.push_back(key);
    }
    accumulator[key] += value;
  };
  for (int lot : lineage.order) {
    const int e = graph.lot(lot).created_by;
    if (!IsTransformation(graph, e) || done[e]) continue;
    const std::vector<LotFlow>& inputs = graph.Inputs(e);
    MixWeights(graph, e, element, weights);
    for (size_t i = 0; i < inputs.size(); ++i) {
      const int source = graph.lot(inputs[i].lot).created_by;
      if (!IsTransformation(graph, source) || !done[source]) continue;
      for (const auto& [key, fraction] : passed[source]) touch(key, weights[i] * fraction);
      if (--uses[source] == 0 && source != target_event) Sparse().swap(passed[source]);
    }
    Sparse& mine = passed[e];
    touch(event_keys[e].first, 0.0);
    touch(event_keys[e].second, 0.0);
    std::sort(touched.begin(), touched.end());
    mine.reserve(touched.size());
    for (int key : touched) {
      const bool own = key == event_keys[e].first || key == event_keys[e].second;
      mine.emplace_back(key, own ? 1.0 : Clamp01(accumulator[key]));
      accumulator[key] = 0;
      touched_flag[key] = 0;
    }
    touched.clear();
    done[e] = 1;
  }
  for (const auto& [key, fraction] : passed[target_event]) {
    const auto& [is_country, name] = keys[key];
    (is_country ? out.by_facility_country : out.by_facility)[name] = fraction;
  }
}

// Whether `rule` covers `stage`.
bool CoversStage(const PolicyRule& rule, cairn::v1::Stage stage) {
  return rule.stages.empty() ||
         std::find(rule.stages.begin(), rule.stages.end(), stage) != rule.stages.end();
}

bool InPlace(const PolicyRule& rule, const std::string& country, const std::string& region) {
  if (std::find(rule.countries.begin(), rule.countries.end(), country) != rule.countries.end()) {
    return true;
  }
  return std::any_of(rule.regions.begin(), rule.regions.end(), [&](const RegionRef& r) {
    return r.country == country && !region.empty() && EqualsIgnoreCase(r.region, region);
  });
}

bool IsListed(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// When `lot` was created at, or held at, a touch point matching `rule`: words saying where.
std::optional<std::string> MatchingTouchPoint(const PolicyRule& rule, const LineageGraph& graph,
                                              int lot) {
  const LineageLot& l = graph.lot(lot);
  if (l.created_by >= 0) {
    const cairn::v1::EventBody& body = graph.event(l.created_by).body;
    const bool by_author = IsListed(rule.participants, body.author());
    if (body.has_extraction() && CoversStage(rule, cairn::v1::STAGE_MINED)) {
      const cairn::v1::Site& site = body.extraction().site();
      const bool at_place = InPlace(rule, site.country(), site.region());
      if (at_place || by_author) {
        return "extraction " + l.lot_id + " at " + site.name() + " (" +
               PlaceText(site.country(), site.region()) + ")" +
               (at_place ? "" : " by " + body.author());
      }
    }
    if (body.has_transformation() && CoversStage(rule, body.transformation().stage())) {
      const cairn::v1::Transformation& t = body.transformation();
      const cairn::v1::Facility& facility = t.facility();
      const bool at_place = InPlace(rule, facility.country(), facility.region()) ||
                            IsListed(rule.facilities, facility.id());
      if (at_place || by_author) {
        return std::string(StageWord(t.stage())) + " at " + facility.id() + " (" +
               PlaceText(facility.country(), facility.region()) + ")" +
               (at_place ? "" : " by " + body.author());
      }
    }
  }
  if (!rule.participants.empty()) {
    for (const std::string& holder : HoldersOf(graph, lot)) {
      if (IsListed(rule.participants, holder)) {
        return "held by " + holder + " (lot " + l.lot_id + ")";
      }
    }
  }
  return std::nullopt;
}

// Per position of the lineage: whether the lot was created or held at a matching touch point.
std::vector<char> TaintedLots(const PolicyRule& rule, const Lineage& lineage) {
  std::vector<char> tainted(lineage.order.size(), 0);
  for (size_t p = 0; p < lineage.order.size(); ++p) {
    tainted[p] = MatchingTouchPoint(rule, lineage.graph, lineage.order[p]).has_value();
  }
  return tainted;
}

// The restricted share and, per tainted lot, how much of it that lot contributes (each unit of
// mass is counted at the last matching touch point on its way to the target).
double ShareOf(const Lineage& lineage, const std::vector<char>& tainted, const std::string& element,
               std::vector<std::pair<int, double>>* contributions) {
  double total = 0;
  Distribute(
      lineage, element, [&](int p) { return tainted[p] != 0; },
      [&](int lot, double share) {
        if (lot < 0 || !tainted[lineage.pos[lot]]) return;
        total += share;
        if (contributions != nullptr) contributions->emplace_back(lot, share);
      });
  return Clamp01(total);
}

bool DispatchCarries(const cairn::v1::EventBody& body, const std::string& lot_id) {
  if (!body.has_dispatch()) return false;
  for (const auto& lot : body.dispatch().lots()) {
    if (lot.lot_id() == lot_id) return true;
  }
  return false;
}

// The dispatch and receipt events that moved `lot` from its creator to participant `to`, in
// order. When no receipt by `to` is found, every dispatch and receipt of the lot.
std::vector<int> CustodyEvents(const LineageGraph& graph, int lot, const std::string& to) {
  const LineageLot& l = graph.lot(lot);
  const std::string creator = l.created_by >= 0 ? graph.event(l.created_by).body.author() : "";
  std::vector<int> backwards;
  std::set<std::string> visited = {to};
  std::string holder = to;
  while (holder != creator) {
    bool found = false;
    for (int e : l.events) {
      const cairn::v1::EventBody& body = graph.event(e).body;
      if (!body.has_receipt() || body.author() != holder) continue;
      const std::optional<int> dispatch = graph.FindEvent(body.receipt().dispatch_event_id());
      if (!dispatch || !DispatchCarries(graph.event(*dispatch).body, l.lot_id)) continue;
      backwards.push_back(e);
      backwards.push_back(*dispatch);
      holder = graph.event(*dispatch).body.author();
      found = true;
      break;
    }
    if (!found || !visited.insert(holder).second) break;
  }
  if (backwards.empty() && to != creator) {
    for (int e : l.events) {
      const cairn::v1::EventBody& body = graph.event(e).body;
      if (body.has_dispatch() || body.has_receipt()) backwards.insert(backwards.begin(), e);
    }
  }
  std::reverse(backwards.begin(), backwards.end());
  return backwards;
}

// Event ids from the creation of `source` (a lot of the lineage) to the creation of the target,
// following at each step the output carrying the largest share of the target.
std::vector<std::string> PathToTarget(const Lineage& lineage, const std::string& element,
                                      int source) {
  const LineageGraph& graph = lineage.graph;
  std::vector<double> share;
  Distribute(
      lineage, element, [](int) { return false; }, [](int, double) {}, &share);
  std::vector<int> events;
  if (graph.lot(source).created_by >= 0) events.push_back(graph.lot(source).created_by);
  int current = source;
  while (current != lineage.target) {
    int best = -1;
    for (int consumer : graph.lot(current).consumed_by) {
      for (int output : graph.Outputs(consumer)) {
        const int p = lineage.pos[output];
        if (p <= lineage.pos[current]) continue;  // outside the lineage, or a cycle
        if (best < 0 || share[p] > share[lineage.pos[best]]) best = output;
      }
    }
    if (best < 0) break;
    const int transformation = graph.lot(best).created_by;
    const std::vector<int> custody =
        CustodyEvents(graph, current, graph.event(transformation).body.author());
    events.insert(events.end(), custody.begin(), custody.end());
    events.push_back(transformation);
    current = best;
  }
  std::vector<std::string> ids;
  ids.reserve(events.size());
  for (int e : events) ids.push_back(graph.event(e).id_hex);
  return ids;
}

// The elements a rule is screened for on `target`: {""} for the whole mass, the rule's elements
// the target names with ppm > 0, or none when the rule does not apply.
std::vector<std::string> ScreenedElements(const PolicyRule& rule, const LineageLot& target) {
  if (rule.elements.empty() || !HasElementLevel(target.composition_ppm)) return {""};
  std::vector<std::string> elements;
  for (const std::string& element : rule.elements) {
    if (PpmOf(target.composition_ppm, element) > 0) elements.push_back(element);
  }
  std::sort(elements.begin(), elements.end());
  return elements;
}

}  // namespace

Attribution AttributeOrigin(const LineageGraph& graph, int target) {
  Attribution attribution;
  const Lineage lineage(graph, target);
  if (lineage.target < 0) return attribution;
  attribution.target = target;
  attribution.lot_id = graph.lot(target).lot_id;
  attribution.cycle = lineage.cycle;
  AttributeSources(lineage, "", attribution.mass, attribution);
  AttributeFacilities(lineage, "", attribution.mass, attribution);
  for (const auto& [element, ppm] : graph.lot(target).composition_ppm) {
    if (IsGrade(element)) continue;
    OriginShares& shares = attribution.by_element[element];
    AttributeSources(lineage, element, shares, attribution);
    AttributeFacilities(lineage, element, shares, attribution);
  }
  return attribution;
}

double RestrictedShare(const PolicyRule& rule, const LineageGraph& graph, int target,
                       const std::string& element) {
  const Lineage lineage(graph, target);
  if (lineage.target < 0) return 0;
  return ShareOf(lineage, TaintedLots(rule, lineage), element, nullptr);
}

std::vector<Violation> ScreenPolicy(const Policy& policy, const LineageGraph& graph, int target,
                                    int64_t as_of_us) {
  std::vector<Violation> violations;
  const Lineage lineage(graph, target);
  if (lineage.target < 0) return violations;
  for (size_t r = 0; r < policy.rules.size(); ++r) {
    const PolicyRule& rule = policy.rules[r];
    if (!RuleInForce(rule, as_of_us)) continue;
    const std::vector<std::string> elements = ScreenedElements(rule, graph.lot(target));
    if (elements.empty()) continue;
    const std::vector<char> tainted = TaintedLots(rule, lineage);
    if (std::none_of(tainted.begin(), tainted.end(), [](char t) { return t != 0; })) continue;
    const double max_share = MaxShareOf(policy, rule);
    for (const std::string& element : elements) {
      std::vector<std::pair<int, double>> contributions;
      const double share = ShareOf(lineage, tainted, element, &contributions);
      if (!(share > max_share + 1e-12)) continue;
      int source = -1;
      double largest = -1;
      for (const auto& [lot, contribution] : contributions) {
        if (contribution > largest) {
          largest = contribution;
          source = lot;
        }
      }
      Violation v;
      v.rule = static_cast<int>(r);
      v.reason = rule.reason;
      if (!rule.regions.empty()) {
        v.red_flag = "origin in or transit through a conflict-affected or high-risk area";
      }
      v.element = element;
      v.share = share;
      v.max_share = max_share;
      if (source >= 0) {
        v.source = MatchingTouchPoint(rule, graph, source).value_or("");
        v.source_lot = graph.lot(source).lot_id;
        v.path_event_ids = PathToTarget(lineage, element, source);
      }
      violations.push_back(std::move(v));
    }
  }
  return violations;
}

std::vector<MassExcess> CheckMassBalance(const LineageGraph& graph, int transformation_event,
                                         double mass_tolerance,
                                         std::vector<std::string>* unchecked_elements) {
  std::vector<MassExcess> findings;
  if (transformation_event < 0 || transformation_event >= static_cast<int>(graph.events().size()) ||
      !graph.event(transformation_event).body.has_transformation()) {
    return findings;
  }
  const cairn::v1::Transformation& t = graph.event(transformation_event).body.transformation();
  const std::vector<LotFlow>& inputs = graph.Inputs(transformation_event);
  auto check = [&](const std::string& element, double input_g, double output_g) {
    if (output_g > input_g * (1.0 + mass_tolerance) + 0.5) {
      findings.push_back(
          MassExcess{transformation_event, element, input_g, output_g, output_g - input_g});
    }
  };

  std::set<std::string> elements;
  for (const auto& output : t.outputs()) {
    for (const auto& [element, ppm] : output.composition_ppm()) {
      if (!IsGrade(element)) elements.insert(element);
    }
  }
  if (elements.empty()) {
    double input_g = 0;
    double output_g = 0;
    for (const LotFlow& input : inputs) input_g += static_cast<double>(input.mass_g);
    for (const auto& output : t.outputs()) output_g += static_cast<double>(output.mass_g());
    check("", input_g, output_g);
    return findings;
  }
  for (const std::string& element : elements) {
    double output_g = 0;
    for (const auto& output : t.outputs()) {
      auto it = output.composition_ppm().find(element);
      if (it != output.composition_ppm().end()) {
        output_g += static_cast<double>(output.mass_g()) * it->second / 1e6;
      }
    }
    double input_g = 0;
    bool checkable = true;
    for (const LotFlow& input : inputs) {
      const LineageLot& lot = graph.lot(input.lot);
      if (lot.created_by < 0 || !HasElementLevel(lot.composition_ppm)) {
        checkable = false;
        break;
      }
      input_g += static_cast<double>(input.mass_g) * PpmOf(lot.composition_ppm, element) / 1e6;
    }
    if (!checkable) {
      if (unchecked_elements != nullptr) unchecked_elements->push_back(element);
      continue;
    }
    check(element, input_g, output_g);
  }
  return findings;
}

}  // namespace cairn::ledger
