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

#include "client/bundle_io.h"
#include "client/command.h"
#include "client/format.h"
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
  NodeOptions node;
  std::string registry;
  bool log = false;
  std::string lot;
  std::string bundle;
  std::string policy;
  std::string as_of;
  bool forward = false;
  unsigned threads = 0;
  bool json = false;
  bool quiet = false;
  StateOptions state;
  VerifyLogOptions log_options;  // --log's own flags
};

// Checks each of the bundle's checkpoints whose signature verifies against the one last verified
// of its log (TrustState), before the bundle is believed. The log `own_log_id` (the node's own,
// when fetched from a node) must extend what was verified, proved by `client`; a checkpoint of
// another log may lag behind (a replica), but must not differ at the remembered size.
Status CheckBundleCheckpoints(const cairn::v1::EvidenceBundle& bundle,
                              const keys::TrustRegistry& registry, TrustState& state,
                              const std::string& own_log_id, NodeClient* client) {
  for (const cairn::v1::SignedCheckpoint& signed_checkpoint : bundle.checkpoints()) {
    auto checkpoint = ledger::VerifyCheckpoint(signed_checkpoint, registry);
    if (!checkpoint.ok()) continue;  // VerifyLineage reports it
    const bool own = client != nullptr && checkpoint->log_id() == own_log_id;
    auto outcome = state.Check(signed_checkpoint, *checkpoint,
                               own ? ProverOf(*client) : TrustState::ProveConsistency(),
                               /*behind_is_ok=*/!own);
    if (!outcome.ok()) return outcome.status();
  }
  return Status::Ok();
}

const char* Verdict(int code) {
  switch (code) {
    case kExitOk:
      return "VERIFIED";
    case kExitIntegrity:
      return "FAILED";
    case kExitRestricted:
      return "RESTRICTED";
    case kExitIncomplete:
      return "INCOMPLETE";
    default:
      return "ERROR";
  }
}

std::string Percent(double share) { return fmt::format("{:.1f}%", share * 100.0); }

nlohmann::json FindingJson(const ledger::Finding& f) {
  return {{"severity", ledger::SeverityName(f.severity)},
          {"check", f.check},
          {"event_id", f.event_id},
          {"lot_id", f.lot_id},
          {"message", f.message}};
}

nlohmann::json ViolationJson(const ledger::Violation& v) {
  return {{"rule", v.rule},
          {"reason", v.reason},
          {"element", v.element},
          {"share", v.share},
          {"max_share", v.max_share},
          {"source", v.source},
          {"source_lot", v.source_lot},
          {"path", v.path_event_ids}};
}

std::string Headline(const ledger::LineageReport& report, const ledger::Policy* policy,
                     const std::string& as_of) {
  const int code = report.ExitCode();
  std::string line = fmt::format("{}: lot {}", Verdict(code), report.lot_id);
  size_t integrity = 0;
  size_t incomplete = 0;
  for (const auto& f : report.findings) {
    integrity += f.severity == ledger::Severity::kIntegrity;
    incomplete += f.severity == ledger::Severity::kIncomplete;
  }
  switch (code) {
    case kExitOk:
      line += fmt::format(" — {} events, {} lots; signatures, proofs, custody and mass hold",
                          report.entries_checked, report.lineage_lots.size());
      if (report.attribution) line += "; " + OriginSummary(*report.attribution);
      if (policy != nullptr) {
        line += fmt::format("; compliant with policy \"{}\" as of {}", policy->name, as_of);
      }
      break;
    case kExitIntegrity:
      line += fmt::format(" — {} integrity finding(s); the evidence proves nothing", integrity);
      break;
    case kExitRestricted: {
      const ledger::Violation& worst =
          *std::max_element(report.violations.begin(), report.violations.end(),
                            [](const auto& a, const auto& b) { return a.share < b.share; });
      line += fmt::format(" — {} from a restricted source{} ({})", Percent(worst.share),
                          worst.element.empty() ? "" : " (" + worst.element + ")", worst.reason);
      break;
    }
    case kExitIncomplete:
      line += fmt::format(" — lineage incomplete: {} gap(s)", incomplete);
      break;
  }
  return line;
}

int VerifyBundle(const VerifyOptions& opt, const cairn::v1::EvidenceBundle& bundle,
                 const keys::TrustRegistry& registry, const ledger::Policy* policy,
                 int64_t as_of_us) {
  ledger::LineageOptions options;
  options.as_of_us = as_of_us;
  options.policy = policy;
  options.threads = opt.threads;
  options.progress = [](size_t done, size_t total) {
    std::cerr << "verify: " << done << "/" << total << " entries\n";
  };
  const ledger::LineageReport report = ledger::VerifyLineage(bundle, registry, options);
  const int code = report.ExitCode();
  if (opt.quiet) return code;
  const std::string as_of = FormatTime(as_of_us).substr(0, 10);
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
  return code;
}

int Run(const VerifyOptions& opt) {
  const int modes = (opt.log ? 1 : 0) + (opt.lot.empty() ? 0 : 1) + (opt.bundle.empty() ? 0 : 1);
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
    log.node = opt.node;
    log.state = opt.state;
    log.registry = opt.registry;
    log.json = opt.json;
    log.quiet = opt.quiet;
    return VerifyLog(log);
  }
  auto registry = keys::TrustRegistry::Load(opt.registry);
  if (!registry.ok()) return ReportError("verify", registry.status());
  std::optional<ledger::Policy> policy;
  if (!opt.policy.empty()) {
    auto text = ReadFileOrStdin(opt.policy);
    if (!text.ok()) return ReportError("verify", text.status());
    auto parsed = ledger::ParsePolicy(*text);
    if (!parsed.ok()) return ReportError("verify", parsed.status().WithPrefix(opt.policy));
    policy = *std::move(parsed);
  }
  int64_t as_of_us = SystemClock().NowMicros();
  if (!opt.as_of.empty()) {
    auto date = ledger::ParseIsoDateUs(opt.as_of);
    auto time = date ? Result<int64_t>(*date) : ParseTime(opt.as_of);
    if (!time.ok()) {
      return ReportError("verify", InvalidArgument("--as-of: got \"" + opt.as_of +
                                                   "\", want a date YYYY-MM-DD or an RFC 3339 "
                                                   "time"));
    }
    as_of_us = *time;
  }
  TrustState state(opt.state);
  cairn::v1::EvidenceBundle bundle;
  if (!opt.lot.empty()) {
    NodeClient client(opt.node);
    // Which log is the node's own: its checkpoints must extend what was verified before.
    cairn::v1::SignedCheckpoint own;
    const Status got = client.Call(&cairn::v1::Ledger::Stub::GetCheckpoint,
                                   cairn::v1::GetCheckpointRequest(), &own);
    if (!got.ok()) return ReportError("verify", got);
    // A registry that does not know the node's log says so here, with the hint, as checkpoint
    // and prove do.
    auto own_verified = ledger::VerifyCheckpoint(own, *registry);
    if (!own_verified.ok()) {
      return ReportError("verify", WithRegistryHint(own_verified.status(), opt.registry));
    }
    const cairn::v1::Checkpoint own_checkpoint = *own_verified;
    auto fetched = FetchBundle(
        client, opt.lot,
        opt.forward ? cairn::v1::TRACE_DIRECTION_FORWARD : cairn::v1::TRACE_DIRECTION_BACKWARD);
    if (!fetched.ok()) return ReportError("verify", fetched.status());
    bundle = *std::move(fetched);
    const Status checked =
        CheckBundleCheckpoints(bundle, *registry, state, own_checkpoint.log_id(), &client);
    if (!checked.ok()) return ReportError("verify", checked);
  } else {
    auto read = ReadBundle(opt.bundle);
    if (!read.ok() && read.status().code() == StatusCode::kInvalidArgument) {
      // Bytes that are not a bundle are not evidence: an integrity failure, not a usage error.
      if (!opt.quiet && !opt.json) std::cout << "FAILED: " << read.status().message() << "\n";
      return ReportError("verify", DataLoss(read.status().message()));
    }
    if (!read.ok()) return ReportError("verify", read.status());
    bundle = *std::move(read);
    const Status checked = CheckBundleCheckpoints(bundle, *registry, state, "", nullptr);
    if (!checked.ok()) return ReportError("verify", checked);
  }
  return VerifyBundle(opt, bundle, *registry, policy ? &*policy : nullptr, as_of_us);
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
  AddNodeOptions(*cmd, opt->node);
  AddStateOptions(*cmd, opt->state);
  cmd->add_flag("--log", opt->log, "verify the node's whole log");
  cmd->add_option("--lot", opt->lot, "verify this lot's lineage, fetched from the node");
  cmd->add_option("--bundle", opt->bundle, "verify an evidence bundle file offline (see export)");
  cmd->add_option("--registry", opt->registry, "your trust registry file")->required();
  cmd->add_option("--policy", opt->policy, "restricted-source policy (TOML)");
  cmd->add_option("--as-of", opt->as_of,
                  "date the policy's effective dates are compared with (default: today)");
  cmd->add_flag("--forward", opt->forward, "with --lot: verify the lineage forward to products");
  cmd->add_option("--threads", opt->threads, "signature-checking threads (default: all cores)");
  cmd->add_flag("--json", opt->json, "print every finding as JSON");
  cmd->add_flag("-q,--quiet", opt->quiet, "print nothing; the exit code says it all");
  AddVerifyLogFlags(*cmd, opt->log_options);
  cmd->callback([opt, selected] { *selected = [opt] { return Run(*opt); }; });
}

}  // namespace cairn::client
