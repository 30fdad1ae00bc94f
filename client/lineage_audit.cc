#include "client/lineage_audit.h"

#include <fmt/format.h>

#include <algorithm>
#include <iostream>
#include <tuple>

#include "client/bundle_io.h"
#include "client/format.h"
#include "client/lineage_view.h"
#include "client/node_client.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "ledger/log_verifier.h"

namespace cairn::client {
namespace {

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

}  // namespace

void SortByOccurrence(const ledger::LineageGraph& graph, std::vector<int>& events) {
  std::stable_sort(events.begin(), events.end(), [&](int a, int b) {
    const auto& x = graph.event(a);
    const auto& y = graph.event(b);
    return std::make_tuple(ToMicros(x.body.occurred_at()), x.where.log_id, x.where.index) <
           std::make_tuple(ToMicros(y.body.occurred_at()), y.where.log_id, y.where.index);
  });
}

void AddLineageSourceOptions(CLI::App& cmd, LineageSource& source, const std::string& verb,
                             bool key_means_signing_key) {
  AddNodeOptions(cmd, source.node, key_means_signing_key);
  AddStateOptions(cmd, source.state);
  cmd.add_option("--lot", source.lot, verb + " this lot's lineage, fetched from the node");
  cmd.add_option("--bundle", source.bundle,
                 verb + " an evidence bundle file, offline ('-': stdin; see export)");
  cmd.add_option("--registry", source.registry, "your trust registry file")->required();
  cmd.add_option("--policy", source.policy, "restricted-source policy (TOML)");
  cmd.add_option("--as-of", source.as_of,
                 "date the policy's effective dates are compared with (default: today)");
  cmd.add_flag("--forward", source.forward, "with --lot: the lineage forward to products");
  cmd.add_option("--check-report", source.check_reports,
                 "a report file (repeatable) to check against the lot's audits on the ledger\n"
                 "(cairn report --attest): its SHA-256 must be the one an auditor attested,\n"
                 "else exit 1");
}

Result<LineageInput> LoadAuditorInputs(const LineageSource& source) {
  LineageInput input;
  auto registry = keys::TrustRegistry::Load(source.registry);
  if (!registry.ok()) return registry.status();
  input.registry.emplace(*std::move(registry));
  if (!source.policy.empty()) {
    CAIRN_ASSIGN_OR_RETURN(const std::string text, ReadFileOrStdin(source.policy));
    auto parsed = ledger::ParsePolicy(text);
    if (!parsed.ok()) return parsed.status().WithPrefix(source.policy);
    input.policy = *std::move(parsed);
    input.policy_sha256 = ToHex(Sha256(text));
  }
  input.as_of_us = SystemClock().NowMicros();
  if (!source.as_of.empty()) {
    auto date = ledger::ParseIsoDateUs(source.as_of);
    auto time = date ? Result<int64_t>(*date) : ParseTime(source.as_of);
    if (!time.ok()) {
      return InvalidArgument("--as-of: got \"" + source.as_of +
                             "\", want a date YYYY-MM-DD or an RFC 3339 time");
    }
    input.as_of_us = *time;
  }
  return input;
}

Status FetchEvidence(const LineageSource& source, LineageInput& input, bool* not_evidence) {
  if (not_evidence != nullptr) *not_evidence = false;
  TrustState state(source.state);
  if (!source.lot.empty()) {
    NodeClient client(source.node);
    // Which log is the node's own: its checkpoints must extend what was verified before.
    cairn::v1::SignedCheckpoint own;
    CAIRN_RETURN_IF_ERROR(client.Call(&cairn::v1::Ledger::Stub::GetCheckpoint,
                                      cairn::v1::GetCheckpointRequest(), &own));
    // A registry that does not know the node's log says so here, with the hint, as checkpoint
    // and prove do.
    auto own_verified = ledger::VerifyCheckpoint(own, *input.registry);
    if (!own_verified.ok()) return WithRegistryHint(own_verified.status(), source.registry);
    CAIRN_ASSIGN_OR_RETURN(input.bundle,
                           FetchBundle(client, source.lot,
                                       source.forward ? cairn::v1::TRACE_DIRECTION_FORWARD
                                                      : cairn::v1::TRACE_DIRECTION_BACKWARD));
    CAIRN_RETURN_IF_ERROR(CheckBundleCheckpoints(input.bundle, *input.registry, state,
                                                 own_verified->log_id(), &client));
    input.bundle_sha256 = ToHex(Sha256(input.bundle.SerializeAsString()));
    input.origin = "node " + client.address();
    return Status::Ok();
  }
  std::string sha256;
  auto read = ReadBundle(source.bundle, &sha256);
  if (!read.ok() && read.status().code() == StatusCode::kInvalidArgument) {
    // Bytes that are not a bundle are not evidence: an integrity failure, not a usage error.
    if (not_evidence != nullptr) *not_evidence = true;
    return DataLoss(read.status().message());
  }
  if (!read.ok()) return read.status();
  input.bundle = *std::move(read);
  input.bundle_sha256 = sha256;
  CAIRN_RETURN_IF_ERROR(CheckBundleCheckpoints(input.bundle, *input.registry, state, "", nullptr));
  input.origin = "file " + source.bundle;
  return Status::Ok();
}

Result<LineageInput> GatherLineage(const LineageSource& source, bool* not_evidence) {
  if (not_evidence != nullptr) *not_evidence = false;
  CAIRN_ASSIGN_OR_RETURN(LineageInput input, LoadAuditorInputs(source));
  CAIRN_RETURN_IF_ERROR(FetchEvidence(source, input, not_evidence));
  return input;
}

ledger::LineageReport CheckLineage(const LineageInput& input, unsigned threads) {
  ledger::LineageOptions options;
  options.as_of_us = input.as_of_us;
  options.policy = input.policy ? &*input.policy : nullptr;
  options.threads = threads;
  options.progress = [](size_t done, size_t total) {
    std::cerr << "verify: " << done << "/" << total << " entries\n";
  };
  return ledger::VerifyLineage(input.bundle, *input.registry, options);
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

}  // namespace cairn::client
