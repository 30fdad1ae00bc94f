// Policy: the restricted-source rules an auditor screens a lot's lineage against.
//
// A policy is parsed once from TOML text (the CLI reads the file; this code does no I/O) and is
// immutable afterwards, so it can be shared across threads. The format is DESIGN.md's "Policy
// file": top-level `name`, `mass_tolerance`, `max_restricted_share`, `max_transit_loss` and any
// number of
// `[[restrict]]` tables, each with `countries`, `regions`, `participants`, `facilities`, `stages`,
// `elements`, `effective`, `max_share` and `reason`. Parsing is strict: an unknown key, a wrong
// type, an unknown country, element or stage, a share outside [0, 1] or an impossible date is
// refused with INVALID_ARGUMENT naming the key, e.g.
//   restrict[1].stages[0]: got "mining", want one of mined, refined, separated, melted, produced,
//   blended
// Rules are numbered from 0 in the order they appear, as in PolicyRule indexes and Violation::rule.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/v1/event.pb.h"
#include "common/status.h"

namespace cairn::ledger {

// A first-level subdivision of a country, e.g. {"MM", "Kachin"}. Regions compare
// case-insensitively; countries are ISO 3166-1 alpha-2 in upper case.
struct RegionRef {
  std::string country;
  std::string region;
};

// One [[restrict]] table. A rule restricts at least one of countries, regions, participants,
// facilities; `stages` and `elements` narrow where and what it applies to.
struct PolicyRule {
  // ISO 3166-1 alpha-2: a mine site or processing facility located there is restricted.
  std::vector<std::string> countries;
  std::vector<RegionRef> regions;
  // Participant ids: an event they authored, or a lot they held, is restricted.
  std::vector<std::string> participants;
  // Facility ids of Transformation events.
  std::vector<std::string> facilities;
  // STAGE_MINED .. STAGE_PRODUCED, each once; empty = all five.
  std::vector<cairn::v1::Stage> stages;
  // Element symbols ("Nd", "Dy"); empty = the whole mass of the lot.
  std::vector<std::string> elements;
  // UTC midnight of the `effective` date, microseconds since the epoch; nullopt = always in force.
  std::optional<int64_t> effective_us;
  // Overrides Policy::max_restricted_share for this rule.
  std::optional<double> max_share;
  std::string reason;
};

struct Policy {
  std::string name;
  // Per-element mass balance slack of a transformation: output may exceed input by this fraction.
  double mass_tolerance = 0.02;
  // Largest restricted share a lot may have, for rules without max_share.
  double max_restricted_share = 0.0;
  // Largest fraction of a shipment's mass that may go missing between dispatch and receipt; a
  // larger loss on the lineage is a policy violation (an OECD Annex II red flag). nullopt: any
  // loss is reported but none fails.
  std::optional<double> max_transit_loss;
  std::vector<PolicyRule> rules;
};

// Parses a policy from TOML text. On failure INVALID_ARGUMENT with a message naming the key
// ("restrict[0].countries[2]: got \"XX\", want an ISO 3166-1 alpha-2 country code") or, for a
// TOML syntax error, the line and column.
Result<Policy> ParsePolicy(std::string_view toml_text);

// "mined", "refined", "separated", "melted", "produced"; "unspecified" otherwise.
const char* StageWord(cairn::v1::Stage stage);
// The Stage named by one of the words above, or nullopt.
std::optional<cairn::v1::Stage> StageFromWord(std::string_view word);

// Whether `rule` is in force at `as_of_us` (as_of_us >= effective_us, or no effective date).
bool RuleInForce(const PolicyRule& rule, int64_t as_of_us);

// The share threshold of `rule`: its max_share, else the policy's max_restricted_share.
double MaxShareOf(const Policy& policy, const PolicyRule& rule);

// Microseconds since the epoch of UTC midnight of "YYYY-MM-DD", or nullopt when the text is not
// such a date or the date does not exist (2027-02-29).
std::optional<int64_t> ParseIsoDateUs(std::string_view text);

}  // namespace cairn::ledger
