// The rulebook: every check an event must pass to stand in a log, written once and applied alike
// by the node's append path, the auditor's LogVerifier and VerifyLineage.
//
//   CheckEventAlone   what one signed event must satisfy on its own: the schema (ValidateSchema),
//                     the signature, the key's validity for the author at the entry's appended_at,
//                     the author's roles (VerifyAuthority), and the author's home log
//                     (CheckHomeLog).
//   PlanCustody       what it must satisfy given the events before it (ledger/custody.h), under
//                     the consortium rules of the registry (RulesOf).
//   CheckEvent        both, for a reader that holds the whole state (a node, a whole-log verifier).
//
// Rules only a node applies, because only it knows the facts, are named here as node-only:
// CheckNodeOnly (the node hosts the author; occurred_at no later than 5 minutes after the node's
// clock). An auditor cannot know either after the fact.
//
// Pure functions of their arguments; thread-safe.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "cairn/v1/registry.pb.h"
#include "common/status.h"
#include "keys/registry.h"
#include "ledger/custody.h"
#include "ledger/event.h"

namespace cairn::ledger {

// The consortium rules a registry version sets (defaults for what it leaves unset).
ConsortiumRules RulesOf(const cairn::v1::Registry& registry);
ConsortiumRules RulesOf(const keys::TrustRegistry& registry);

// The author's home log: when the registry names one for the author (LogOperator.hosts), the event
// stands only in that log (PERMISSION_DENIED "EventBody.author: X's home log is A ...; its events
// cannot stand in log B"). This is what lets custody of (lot, holder) be decided by one log.
Status CheckHomeLog(const ParsedEvent& event, const keys::TrustRegistry& registry,
                    std::string_view log_id);

// Schema, then signature, key validity at `appended_at_us` and roles, then the home log of the
// author against `log_id`, the log the event stands in. INVALID_ARGUMENT, UNAUTHENTICATED or
// PERMISSION_DENIED naming the field or rule.
Status CheckEventAlone(const ParsedEvent& event, const keys::TrustRegistry& registry,
                       std::string_view log_id, int64_t appended_at_us);

// CheckEventAlone, then the custody rules against `view` under the registry's rules. Returns the
// effects to apply, or the first rule broken.
Result<CustodyEffects> CheckEvent(const ParsedEvent& event, const keys::TrustRegistry& registry,
                                  std::string_view log_id, int64_t appended_at_us,
                                  CustodyView& view);

// Node-only rules: `hosted` holds the author (PERMISSION_DENIED "author X is not hosted by this
// node (hosts: a, b)"), and occurred_at is no more than 5 minutes after `now_us`
// (INVALID_ARGUMENT "EventBody.occurred_at: ...").
Status CheckNodeOnly(const ParsedEvent& event, const std::set<std::string>& hosted, int64_t now_us);

}  // namespace cairn::ledger
