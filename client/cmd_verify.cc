// cairn verify: checks evidence without trusting the node that served it.
//
// --log walks a node's whole log (verify_log.cc). --lot fetches a lot's evidence bundle from a
// node and --bundle reads one from a file; both are then checked offline by
// ledger::VerifyLineage — signatures against the auditor's registry, inclusion proofs, checkpoint
// signatures, custody, mass balance, origin attribution and the policy — and reported with a
// one-line verdict first. Exit codes as DESIGN.md: 0 verified and compliant, 1 integrity failure,
// 2 usage or I/O error, 3 restricted source found, 4 lineage incomplete.
#include <fmt/format.h>

#include <algorithm>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "client/audit.h"
#include "client/bundle_io.h"
#include "client/command.h"
#include "client/format.h"
#include "client/lineage_audit.h"
#include "client/lineage_view.h"
#include "client/node_client.h"
#include "client/trust_state.h"
#include "client/verify.h"
#include "common/clock.h"
#include "keys/registry.h"
#include "ledger/lineage_verifier.h"
#include "ledger/log_verifier.h"
#include "ledger/policy.h"

namespace cairn::client {
namespace {

struct VerifyOptions {
  LineageSource source;  // --lot or --bundle, --registry, --policy, --as-of, --forward, --state
  bool log = false;
  unsigned threads = 0;
  bool json = false;
  bool quiet = false;
  VerifyLogOptions log_options;  // --log's own flags
};

int VerifyBundle(const VerifyOptions& opt, const LineageInput& input) {
  const cairn::v1::EvidenceBundle& bundle = input.bundle;
  const keys::TrustRegistry& registry = *input.registry;
  const ledger::Policy* policy = input.policy ? &*input.policy : nullptr;
  const ledger::LineageReport report = CheckLineage(input, opt.threads);
  int code = report.ExitCode();
  const std::vector<Audit> audits = AuditsOf(report);
  auto checks = CheckReports(opt.source.check_reports, audits, report.lot_id, "verify", &code);
  if (!checks.ok()) return ReportError("verify", checks.status());
  if (opt.quiet) return code;
  const std::string as_of = FormatTime(input.as_of_us).substr(0, 10);
  if (opt.json) {
    nlohmann::json j = {
        {"verdict", Verdict(code)},
        {"exit_code", code},
        {"lot_id", report.lot_id},
        {"direction",
         report.direction == cairn::v1::TRACE_DIRECTION_FORWARD ? "forward" : "backward"},
        {"as_of", as_of},
        {"entries_checked", report.entries_checked},
        {"logs", report.logs},
        {"lots", report.lineage_lots.size()},
        {"registry_version", registry.version()},
        {"bundle_registry_version", bundle.registry_version()}};
    if (policy != nullptr) j["policy"] = policy->name;
    nlohmann::json findings = nlohmann::json::array();
    for (const auto& f : report.findings) findings.push_back(FindingJson(f));
    j["findings"] = findings;
    if (report.attribution) j["attribution"] = AttributionJson(*report.attribution);
    j["evidence"] = EvidenceJson(report.graph, EvidenceEvents(report.graph, report.lineage_lots));
    nlohmann::json violations = nlohmann::json::array();
    for (const auto& v : report.violations) violations.push_back(ViolationJson(v));
    j["violations"] = violations;
    j["audits"] = nlohmann::json::array();
    for (const Audit& audit : audits) j["audits"].push_back(AuditJson(audit, input.policy_sha256));
    j["report_checks"] = ReportChecksJson(*checks, audits);
    std::cout << j.dump(2) << "\n";
    return code;
  }
  std::cout << Headline(report, policy, as_of) << "\n";
  if (bundle.registry_version() > registry.version()) {
    std::cout << "note: the bundle was built under registry version " << bundle.registry_version()
              << "; yours is version " << registry.version() << "\n";
  }
  for (const ledger::Severity severity :
       {ledger::Severity::kIntegrity, ledger::Severity::kIncomplete, ledger::Severity::kNote}) {
    for (const auto& f : report.findings) {
      if (f.severity != severity) continue;
      std::cout << "  " << ledger::SeverityName(f.severity) << " [" << f.check << "] " << f.message
                << "\n";
    }
  }
  for (const auto& v : report.violations) {
    std::cout << "  restricted: " << Percent(v.share)
              << (v.element.empty() ? " of the lot's mass" : " of its " + v.element) << " (max "
              << Percent(v.max_share) << ") — " << v.reason << "\n"
              << "    source: " << v.source << "\n    path:";
    for (const std::string& id : v.path_event_ids) std::cout << " " << id.substr(0, 12);
    std::cout << "\n";
  }
  if (report.attribution) PrintAttribution(*report.attribution, std::cout);
  PrintEvidence(report.graph, EvidenceEvents(report.graph, report.lineage_lots), std::cout);
  for (const Audit& audit : audits) std::cout << AuditLine(audit) << "\n";
  for (const ReportCheck& check : *checks) {
    if (check.audit < 0) continue;
    const Audit& audit = audits[check.audit];
    std::cout << "report " << check.path << " is the report " << audit.by << " attested on "
              << audit.date << "\n";
  }
  return code;
}

int Run(const VerifyOptions& opt) {
  const int modes =
      (opt.log ? 1 : 0) + (opt.source.lot.empty() ? 0 : 1) + (opt.source.bundle.empty() ? 0 : 1);
  if (modes != 1) {
    return ReportError("verify", InvalidArgument("say what to verify: exactly one of --log, "
                                                 "--lot LOT_ID, --bundle FILE"));
  }
  if (!opt.log && !opt.log_options.consistent_with.empty()) {
    // Silently ignoring it would let a forked log pass as consistent with what was saved.
    return ReportError(
        "verify", InvalidArgument("--consistent-with applies to --log only: lineage verification "
                                  "(--lot, --bundle) does not compare saved checkpoints; check "
                                  "the log with cairn verify --log --consistent-with FILE"));
  }
  if (opt.log) {
    VerifyLogOptions log = opt.log_options;
    log.node = opt.source.node;
    log.state = opt.source.state;
    log.registry = opt.source.registry;
    log.json = opt.json;
    log.quiet = opt.quiet;
    return VerifyLog(log);
  }
  bool not_evidence = false;
  auto input = GatherLineage(opt.source, &not_evidence);
  if (!input.ok()) {
    if (not_evidence && !opt.quiet && !opt.json) {
      std::cout << "FAILED: " << input.status().message() << "\n";
    }
    return ReportError("verify", input.status());
  }
  return VerifyBundle(opt, *input);
}

}  // namespace

void AddVerifyCommand(CLI::App& root, Runner* selected) {
  auto opt = std::make_shared<VerifyOptions>();
  CLI::App* cmd = root.add_subcommand(
      "verify",
      "Verify evidence without trusting the node. --log: a node's whole log (chain links,\n"
      "signatures, custody, Merkle root against the signed checkpoint). --lot LOT_ID (fetched\n"
      "from --node) or --bundle FILE (offline): a lot's lineage — signatures, inclusion proofs,\n"
      "checkpoints, custody, per-element mass balance, origin attribution, and the --policy.\n"
      "Exit 0 verified and compliant, 1 integrity failure, 2 usage or I/O error, 3 restricted\n"
      "source found, 4 lineage incomplete (missing events, unknown keys); the first of 1, 3, 4\n"
      "wins.");
  AddLineageSourceOptions(*cmd, opt->source, "verify");
  cmd->add_flag("--log", opt->log, "verify the node's whole log");
  cmd->add_option("--threads", opt->threads, "signature-checking threads (default: all cores)");
  cmd->add_flag("--json", opt->json, "print every finding as JSON");
  cmd->add_flag("-q,--quiet", opt->quiet, "print nothing; the exit code says it all");
  AddVerifyLogFlags(*cmd, opt->log_options);
  cmd->callback([opt, selected] { *selected = [opt] { return Run(*opt); }; });
}

}  // namespace cairn::client
