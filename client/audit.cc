#include "client/audit.h"

#include <algorithm>
#include <iostream>
#include <set>
#include <tuple>

#include "client/command.h"
#include "client/node_client.h"
#include "common/clock.h"
#include "common/crypto.h"

namespace cairn::client {

namespace {

void AddDocument(cairn::v1::Attestation& a, const char* kind, const std::string& uri,
                 const std::string& sha256) {
  cairn::v1::Document* doc = a.add_documents();
  doc->set_kind(kind);
  doc->set_uri(uri);
  doc->set_sha256(sha256);
}

}  // namespace

cairn::v1::EventBody AuditBody(const LineageInput& input, int exit_code,
                               const std::string& report_name, const std::string& report_sha256) {
  cairn::v1::EventBody body;
  cairn::v1::Attestation* a = body.mutable_attestation();
  a->set_lot_id(input.bundle.lot_id());
  a->set_kind(cairn::v1::ATTESTATION_KIND_AUDIT);
  const std::string as_of = FormatTime(input.as_of_us).substr(0, 10);
  a->set_result(
      std::string(Verdict(exit_code)) +
      (input.policy ? " under policy \"" + input.policy->name + "\"" : " with no policy") +
      " as of " + as_of);
  AddDocument(*a, kReportDocument, report_name, report_sha256);
  if (input.policy) AddDocument(*a, kPolicyDocument, input.policy->name, input.policy_sha256);
  AddDocument(*a, kBundleDocument, "", input.bundle_sha256);
  return body;
}

std::vector<Audit> AuditsOf(const ledger::LineageReport& verified) {
  const ledger::LineageGraph& graph = verified.graph;
  std::set<std::string> lots = {verified.lot_id};
  for (int lot : verified.lineage_lots) lots.insert(graph.lot(lot).lot_id);
  std::vector<Audit> audits;
  for (const ledger::LineageEvent& event : graph.events()) {
    if (!event.body.has_attestation()) continue;
    const cairn::v1::Attestation& a = event.body.attestation();
    if (a.kind() != cairn::v1::ATTESTATION_KIND_AUDIT || !a.has_lot_id() ||
        lots.count(a.lot_id()) == 0) {
      continue;
    }
    Audit audit;
    audit.event_id = event.id_hex;
    audit.lot_id = a.lot_id();
    audit.by = event.body.author();
    audit.date = FormatTime(ToMicros(event.body.occurred_at())).substr(0, 10);
    audit.result = a.result();
    audit.verdict = a.result().substr(0, a.result().find(' '));
    for (const cairn::v1::Document& doc : a.documents()) {
      if (doc.kind() == kReportDocument) {
        audit.report_name = doc.uri();
        audit.report_sha256 = doc.sha256();
      } else if (doc.kind() == kPolicyDocument) {
        audit.policy_name = doc.uri();
        audit.policy_sha256 = doc.sha256();
      } else if (doc.kind() == kBundleDocument) {
        audit.bundle_sha256 = doc.sha256();
      }
    }
    audits.push_back(std::move(audit));
  }
  const std::string& target = verified.lot_id;
  std::sort(audits.begin(), audits.end(), [&target](const Audit& x, const Audit& y) {
    return std::make_tuple(x.lot_id != target, x.lot_id, x.date, x.event_id) <
           std::make_tuple(y.lot_id != target, y.lot_id, y.date, y.event_id);
  });
  return audits;
}

Result<std::vector<ReportCheck>> CheckReports(const std::vector<std::string>& paths,
                                              const std::vector<Audit>& audits,
                                              const std::string& lot_id, const std::string& verb,
                                              int* exit_code) {
  std::vector<ReportCheck> checks;
  for (const std::string& path : paths) {
    CAIRN_ASSIGN_OR_RETURN(const std::string bytes, ReadFileOrStdin(path));
    ReportCheck check{path, ToHex(Sha256(bytes)), -1};
    for (size_t i = 0; i < audits.size(); ++i) {
      if (audits[i].report_sha256 == check.sha256) check.audit = static_cast<int>(i);
    }
    if (check.audit < 0) {
      std::cerr << "cairn " << verb << ": report " << path << " (sha256 " << check.sha256
                << ") matches no audit of lot " << lot_id
                << " on the ledger: it is not the report an auditor attested\n";
      *exit_code = kExitIntegrity;
    }
    checks.push_back(std::move(check));
  }
  return checks;
}

nlohmann::json ReportChecksJson(const std::vector<ReportCheck>& checks,
                                const std::vector<Audit>& audits) {
  nlohmann::json out = nlohmann::json::array();
  for (const ReportCheck& check : checks) {
    nlohmann::json j = {
        {"path", check.path}, {"sha256", check.sha256}, {"matches", check.audit >= 0}};
    if (check.audit >= 0) {
      const Audit& audit = audits[check.audit];
      j["audit"] = {{"by", audit.by}, {"date", audit.date}, {"event_id", audit.event_id}};
    }
    out.push_back(std::move(j));
  }
  return out;
}

std::string AuditLine(const Audit& audit) {
  std::string line =
      "lot " + audit.lot_id + " audited by " + audit.by + " on " + audit.date + ": " + audit.result;
  if (!audit.report_sha256.empty()) {
    line += " (report " + (audit.report_name.empty() ? "" : audit.report_name + ", ") + "sha256 " +
            audit.report_sha256.substr(0, 16) + "…)";
  }
  return line;
}

nlohmann::json AuditJson(const Audit& audit, const std::string& current_policy_sha256) {
  nlohmann::json j = {{"event_id", audit.event_id},
                      {"lot_id", audit.lot_id},
                      {"by", audit.by},
                      {"date", audit.date},
                      {"result", audit.result},
                      {"verdict", audit.verdict},
                      {"policy", audit.policy_name},
                      {"policy_sha256", audit.policy_sha256},
                      {"report", audit.report_name},
                      {"report_sha256", audit.report_sha256},
                      {"bundle_sha256", audit.bundle_sha256}};
  // Whether the audit screened against the policy this check uses.
  if (!current_policy_sha256.empty()) {
    j["same_policy"] = audit.policy_sha256 == current_policy_sha256;
  }
  return j;
}

}  // namespace cairn::client
