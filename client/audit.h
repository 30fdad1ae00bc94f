// An auditor's conclusion on the ledger: `cairn report --attest --key AUDITOR.key` appends an
// Attestation of kind AUDIT on the reported lot that carries the verdict, the policy and the
// report it rests on, and `cairn verify` and `cairn report` show it later ("audited by X on D:
// VERIFIED under policy P") and check a report file against it (--check-report FILE).
//
// The attestation, in the fields the contract has (no new proto fields):
//   lot_id     the reported lot
//   kind       ATTESTATION_KIND_AUDIT
//   result     `VERIFIED under policy "defence magnets 2027" as of 2027-03-01` (or
//              `... with no policy as of D`): the verdict word first
//   documents  {kind "cairn_report", uri: the report's file name, sha256 of its bytes}
//              {kind "cairn_policy", uri: the policy's name, sha256 of the TOML file} (with a
//              policy) {kind "cairn_evidence_bundle", sha256 of the bundle the report verified}
// Only attestations of verified events count: the graph holds nothing else.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cairn/v1/event.pb.h"
#include "client/lineage_audit.h"
#include "common/status.h"
#include "ledger/lineage_verifier.h"

namespace cairn::client {

inline constexpr char kReportDocument[] = "cairn_report";
inline constexpr char kPolicyDocument[] = "cairn_policy";
inline constexpr char kBundleDocument[] = "cairn_evidence_bundle";

// One audit attestation found on a lineage.
struct Audit {
  std::string event_id;
  std::string lot_id;
  std::string by;    // the auditor's participant id
  std::string date;  // YYYY-MM-DD the audit occurred
  std::string result;
  std::string verdict;  // the result's first word: VERIFIED, RESTRICTED, FAILED, INCOMPLETE
  std::string policy_name, policy_sha256;  // empty when audited with no policy
  std::string report_name, report_sha256;  // empty for an audit not made by cairn report
  std::string bundle_sha256;
};

// The body of the audit attestation of `input`'s lot with verdict `exit_code`, for the report
// file `report_name` whose bytes hash to `report_sha256`.
cairn::v1::EventBody AuditBody(const LineageInput& input, int exit_code,
                               const std::string& report_name, const std::string& report_sha256);

// The audit attestations among the verified events of `graph` on the lots of `verified`'s
// lineage (the reported lot, and every lot upstream of it: a magnet maker's verify shows the audit
// of the oxide it bought), the reported lot's first, each group oldest first.
std::vector<Audit> AuditsOf(const ledger::LineageReport& verified);

// A report file checked against the audits (--check-report).
struct ReportCheck {
  std::string path;
  std::string sha256;
  int audit = -1;  // index of the audit whose report hash it has, -1: none
};

// Hashes each file and finds the audit attesting it. A file that matches none is a document that
// does not verify: "cairn VERB: report FILE (sha256 …) matches no audit of lot X" on stderr, and
// *exit_code becomes 1 (integrity). I/O errors as ReadFileOrStdin gives them.
Result<std::vector<ReportCheck>> CheckReports(const std::vector<std::string>& paths,
                                              const std::vector<Audit>& audits,
                                              const std::string& lot_id, const std::string& verb,
                                              int* exit_code);

// The checks as JSON: [{path, sha256, matches, audit: {by, date, event_id}}].
nlohmann::json ReportChecksJson(const std::vector<ReportCheck>& checks,
                                const std::vector<Audit>& audits);

// "lot us-usm:NDPR-1 audited by ch-audit on 2027-03-01: VERIFIED under policy ... (report
// ndpr.pdf, sha256 1a2b…)"
std::string AuditLine(const Audit& audit);

nlohmann::json AuditJson(const Audit& audit, const std::string& current_policy_sha256);

}  // namespace cairn::client
