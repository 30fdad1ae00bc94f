#include "ledger/rulebook.h"

#include "common/clock.h"
#include "ledger/validate.h"

namespace cairn::ledger {

ConsortiumRules RulesOf(const cairn::v1::Registry& registry) {
  ConsortiumRules rules;
  if (registry.rules().has_receipt_tolerance_ppm()) {
    rules.receipt_tolerance_ppm = registry.rules().receipt_tolerance_ppm();
  }
  return rules;
}

ConsortiumRules RulesOf(const keys::TrustRegistry& registry) {
  return RulesOf(registry.registry());
}

Status CheckHomeLog(const ParsedEvent& event, const keys::TrustRegistry& registry,
                    std::string_view log_id) {
  const std::string* home = registry.HomeLogOf(event.body.author());
  if (home == nullptr || *home == log_id) return Status::Ok();
  return PermissionDenied("EventBody.author: " + event.body.author() + "'s home log is " + *home +
                          " (registry version " + std::to_string(registry.version()) +
                          "); its events cannot stand in log " + std::string(log_id));
}

Status CheckEventAlone(const ParsedEvent& event, const keys::TrustRegistry& registry,
                       std::string_view log_id, int64_t appended_at_us) {
  CAIRN_RETURN_IF_ERROR(ValidateSchema(event.body));
  CAIRN_RETURN_IF_ERROR(VerifyAuthority(event, registry, appended_at_us));
  return CheckHomeLog(event, registry, log_id);
}

Result<CustodyEffects> CheckEvent(const ParsedEvent& event, const keys::TrustRegistry& registry,
                                  std::string_view log_id, int64_t appended_at_us,
                                  CustodyView& view) {
  CAIRN_RETURN_IF_ERROR(CheckEventAlone(event, registry, log_id, appended_at_us));
  return CheckAndPlanCustody(event, view, RulesOf(registry));
}

Status CheckNodeOnly(const ParsedEvent& event, const std::set<std::string>& hosted,
                     int64_t now_us) {
  if (hosted.count(event.body.author()) == 0) {
    std::string hosts;
    for (const auto& h : hosted) hosts += (hosts.empty() ? "" : ", ") + h;
    return PermissionDenied(
        "author " + event.body.author() +
        " is not hosted by this node (hosts: " + (hosts.empty() ? "none" : hosts) + ")");
  }
  const int64_t occurred_at = ToMicros(event.body.occurred_at());
  if (occurred_at > now_us + kMaxFutureSkewMicros) {
    return InvalidArgument("EventBody.occurred_at: got " + FormatTime(occurred_at) +
                           ", want no later than 5 minutes after now (" + FormatTime(now_us) + ")");
  }
  return Status::Ok();
}

}  // namespace cairn::ledger
