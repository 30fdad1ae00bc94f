// Origin attribution, restricted-source screening and per-transformation mass balance over a
// LineageGraph.
//
// Mixing model: every lot is homogeneous. A lot created by an Extraction is 100% its own source.
// All outputs of a Transformation are the same mix of its inputs, weighted by the mass consumed;
// for one element e the weights are consumed_g x ppm_e of each input lot's declared composition
// (an input not declaring e gives none of it), falling back to the mass weights when no input
// declares e. A lot whose creating event is missing (created_by == -1), or a transformation without
// inputs, is an "unknown" source.
//
// Every walk is iterative and linear in the size of the target's lineage (one pass per weighting:
// the mass and each element), so 10,000-lot lineages with diamonds, splits and blends take
// milliseconds. Pure functions of their arguments; the graph must stay unchanged during a call.
// Thread-safe for a shared, immutable graph.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ledger/lineage.h"
#include "ledger/policy.h"

namespace cairn::ledger {

// Shares of a target lot's mass (or of its mass of one element), each a fraction in [0, 1].
struct OriginShares {
  // Where the mass was mined. by_country values plus `unknown` sum to 1 (within 1e-9); so do
  // by_site and by_mine plus `unknown`.
  std::map<std::string, double> by_country;  // "PK"
  std::map<std::string, double> by_region;   // "MM/Kachin"; sites naming no region are not listed
  std::map<std::string, double> by_site;     // site id
  std::map<std::string, double> by_mine;     // extracting participant (the Extraction's author)
  // Mass whose origin the graph cannot tell: a lot whose creating event is missing, a
  // transformation without inputs, or a cycle in (forged) evidence.
  double unknown = 0;
  // The lots behind `unknown`, lot id -> share (a cycle shows as "(cycle)").
  std::map<std::string, double> unknown_lots;
  // The share of the mass that passed through at least one Transformation at the facility / in
  // the country. These do not sum to 1: material passes through several facilities.
  std::map<std::string, double> by_facility;          // facility id
  std::map<std::string, double> by_facility_country;  // "MY"
};

// A mine site or processing facility as declared in its events (the first declaration seen).
struct PlaceInfo {
  std::string name;
  std::string country;
  std::string region;
};

struct Attribution {
  int target = -1;
  std::string lot_id;
  // Shares of the target's whole mass.
  OriginShares mass;
  // Shares of the target's mass of each element its declared composition names (grades such as
  // TREO are skipped), computed with element weights.
  std::map<std::string, OriginShares> by_element;
  // Names and places of every site and facility that appears in the shares above, by id.
  std::map<std::string, PlaceInfo> sites;
  std::map<std::string, PlaceInfo> facilities;
  // True when the lineage has a cycle (possible only in forged evidence); the mass around it is
  // counted as unknown.
  bool cycle = false;
};

// Attributes the origin of lot index `target` of `graph`. An out-of-range target gives an empty
// Attribution with target = -1.
Attribution AttributeOrigin(const LineageGraph& graph, int target);

// A rule of a policy that the target lot breaks.
struct Violation {
  // "restricted_source" (a [[restrict]] rule) or "transit_loss" (max_transit_loss).
  std::string kind = "restricted_source";
  // The OECD Due Diligence Guidance Annex II red-flag category it falls under, when one fits.
  std::string red_flag;
  // Index of the rule in Policy::rules; -1 for a transit loss.
  int rule = -1;
  std::string reason;
  // The element the share is of; empty = the whole mass.
  std::string element;
  // Restricted share of the target's mass (of its element mass) and the rule's threshold.
  double share = 0;
  double max_share = 0;
  // The matching touch point contributing most of the share, for people, e.g.
  // "extraction mm-kachin-mine:KC-2025-07 at Chipwi (MM/Kachin)",
  // "separated at cn-ganzhou-01 (CN/Jiangxi)", "melted at x-01 (CN) by cn-baotou-steel",
  // "held by mm-kia-trading (lot mm-kachin-mine:KC-2025-07)".
  std::string source;
  // The lot created or held at that touch point.
  std::string source_lot;
  // Event ids from the touch point's creating event (when known) to the target's creating event:
  // each lot's creation, the dispatches and receipts moving it to the participant that consumed
  // it, the transformation consuming it, and so on.
  std::vector<std::string> path_event_ids;
};

// Screens `target`'s lineage against every rule of `policy` in force at `as_of_us` (the rule's
// effective date compared with the verification's as-of time, not with event dates).
//
// A touch point matches a rule when, at a stage the rule covers (empty stages = all):
//  - an Extraction (stage mined) has its site in `countries` or `regions` (regions compare
//    case-insensitively), or its author is in `participants`;
//  - a Transformation (its stage) has its facility in `countries`, `regions` or `facilities`, or
//    its author is in `participants`;
// or, at any stage, a participant in `participants` held the lot (HoldersOf: creator, dispatch
// sender or receipt author) — a sanctioned trader that held material taints it.
// A lot created at or held at a matching touch point is restricted as a whole; the restricted
// share of the target is the mass fraction (element-mass fraction for element rules) of it that
// passed through at least one matching touch point, each unit of mass counted once.
//
// A rule with elements is screened once per element the target's composition names with ppm > 0
// (a violation per element); it does not apply when the target names none of them; when the
// target names no element at all it is screened on the whole mass (Violation::element empty).
// A violation is reported when share > max_share + 1e-12, max_share being the rule's or else the
// policy's. Violations come in rule order, then element order.
std::vector<Violation> ScreenPolicy(const Policy& policy, const LineageGraph& graph, int target,
                                    int64_t as_of_us);

// The restricted share of `target` for `rule`, ignoring its effective date and threshold: the
// fraction of the target's mass (of its mass of `element`; "" = the whole mass) that passed
// through a touch point matching `rule`. 0 for an out-of-range target.
double RestrictedShare(const PolicyRule& rule, const LineageGraph& graph, int target,
                       const std::string& element);

// A transformation whose output holds more of an element than its inputs.
struct MassExcess {
  int event = -1;
  std::string element;  // "" = the total mass
  double input_g = 0;
  double output_g = 0;
  double excess_g = 0;  // output_g - input_g
};

// Checks event `transformation_event` of `graph` (anything else gives no findings): for each
// element (not grades) declared in any output composition, output_g = sum of outputs' mass_g x
// ppm / 1e6 and input_g = sum of inputs' consumed grams x ppm of the input lot's declared
// composition (an input declaring other elements but not this one gives 0 of it). An excess is
// reported when output_g > input_g x (1 + mass_tolerance) + 0.5 g. When an input lot has no
// element-level composition or an unknown creation, the element cannot be checked: it is
// appended to `*unchecked_elements` (when not null) and gives no finding.
// When no output declares any element, the total mass is checked the same way (element "").
std::vector<MassExcess> CheckMassBalance(const LineageGraph& graph, int transformation_event,
                                         double mass_tolerance,
                                         std::vector<std::string>* unchecked_elements);

}  // namespace cairn::ledger
