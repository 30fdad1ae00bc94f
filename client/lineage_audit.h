// What `cairn verify --lot/--bundle` and `cairn report` share: gathering the auditor's inputs (the
// registry, the policy, the as-of date, the evidence bundle from a node or a file, each bundle
// checkpoint checked against the one remembered of its log) and naming the verdict.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cairn/v1/bundle.pb.h"
#include "client/command.h"
#include "client/trust_state.h"
#include "keys/registry.h"
#include "ledger/lineage_verifier.h"
#include "ledger/policy.h"

namespace cairn::client {

// Where the evidence comes from and what it is checked against.
struct LineageSource {
  NodeOptions node;
  StateOptions state;
  std::string registry;  // the auditor's trust registry file
  std::string lot;       // fetched from `node`, or
  std::string bundle;    // read from this file ('-': stdin)
  std::string policy;    // TOML file; empty: no screening
  std::string as_of;     // YYYY-MM-DD or RFC 3339; empty: now
  bool forward = false;  // with `lot`: the lineage forward to products
  // Report files to check against the lot's audit attestations (client/audit.h).
  std::vector<std::string> check_reports;
};

// The options that fill a LineageSource, for `verb` ("verify", "report on"): --node and its TLS
// options, --state/--no-state, --lot, --bundle, --registry (required), --policy, --as-of,
// --forward, --check-report.
// With `key_means_signing_key` --key is left to the command (report --attest --key) and the TLS
// key is --cert-key only.
void AddLineageSourceOptions(CLI::App& cmd, LineageSource& source, const std::string& verb,
                             bool key_means_signing_key = false);

struct LineageInput {
  std::optional<keys::TrustRegistry> registry;  // set whenever GatherLineage succeeds
  std::optional<ledger::Policy> policy;
  std::string policy_sha256;  // hex SHA-256 of the policy file's bytes; empty without a policy
  int64_t as_of_us = 0;
  cairn::v1::EvidenceBundle bundle;
  // Hex SHA-256 of the bundle file's bytes, or of the fetched bundle in binary form (what
  // `cairn export` writes).
  std::string bundle_sha256;
  std::string origin;  // "node 127.0.0.1:7400" or "file ndpr.bundle"
};

// Loads the registry and policy, parses --as-of, fetches or reads the bundle and checks each of
// its checkpoints against the one last verified of its log (the node's own log must extend it, as
// its consistency proof shows; a replica's may lag). Errors as ReportError maps them; bytes that
// are not a bundle give DATA_LOSS with *not_evidence set (when given).
Result<LineageInput> GatherLineage(const LineageSource& source, bool* not_evidence = nullptr);

// GatherLineage in two steps, for commands that check many lots with one registry and policy:
// the registry, the policy and the as-of date; then the bundle of source.lot or source.bundle
// into `input` (replacing any bundle it held).
Result<LineageInput> LoadAuditorInputs(const LineageSource& source);
Status FetchEvidence(const LineageSource& source, LineageInput& input,
                     bool* not_evidence = nullptr);

// ledger::VerifyLineage of the input, with its policy and as-of date, printing progress on stderr
// for long lineages.
ledger::LineageReport CheckLineage(const LineageInput& input, unsigned threads);

// Sorts event indexes of `graph` into the order the events occurred (ties: by log id, then
// index), the order a custody timeline and an EPCIS event list are read in.
void SortByOccurrence(const ledger::LineageGraph& graph, std::vector<int>& events);

// "VERIFIED", "FAILED", "RESTRICTED", "INCOMPLETE" for exit codes 0, 1, 3, 4.
const char* Verdict(int exit_code);

// The one-line verdict: "VERIFIED: lot X — 4 events, 2 lots; ...; compliant with policy P as of D".
std::string Headline(const ledger::LineageReport& report, const ledger::Policy* policy,
                     const std::string& as_of);

nlohmann::json FindingJson(const ledger::Finding& finding);
nlohmann::json ViolationJson(const ledger::Violation& violation);

}  // namespace cairn::client
