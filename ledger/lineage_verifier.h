// VerifyLineage: the auditor's offline check of an evidence bundle — integrity, custody, mass
// balance, origin attribution and policy — with no network and without trusting the node that
// built the bundle.
//
// Integrity: every checkpoint signed by its log's key in the auditor's registry; every entry
// parses, belongs to its log at its index, and is included (RFC 9162) in its log's checkpoint;
// every event passes the rulebook's checks of one event (ledger/rulebook.h, CheckEventAlone):
// schema, signature under a key of its author valid when the event occurred and not revoked when
// it was appended (appended_at itself no later than the checkpoint that includes it), roles.
// Custody: every event replayed in log order through the rulebook's custody check (PlanCustody)
// under the registry's consortium rules, over the lineage's lots: each dispatch and consumption by
// a holder of the lot and within its holding, each receipt answering a dispatch addressed to its
// author, once, within the receipt tolerance; every transit loss on the lineage is a note, and a
// violation when it exceeds the policy's max_transit_loss. Mass: each transformation's
// per-element output within mass_tolerance of its inputs. Completeness: every lot's creating
// event, every receipt's dispatch and every key present.
//
// Thread-safe: a pure function of its arguments. Signature and proof checks run on
// `options.threads` threads.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cairn/v1/bundle.pb.h"
#include "keys/registry.h"
#include "ledger/attribution.h"
#include "ledger/lineage.h"
#include "ledger/policy.h"

namespace cairn::ledger {

// How a finding weighs on the verdict. Exit codes: any kIntegrity -> 1, else any policy violation
// -> 3, else any kIncomplete -> 4, else 0.
enum class Severity {
  kIntegrity,   // evidence that does not verify, or custody/mass rules it breaks
  kIncomplete,  // something the lineage needs is absent (event, key, log)
  kNote,        // worth reading; changes no verdict (an unchecked element, an assay difference)
};

struct Finding {
  Severity severity = Severity::kNote;
  // "checkpoint", "entry", "schema", "signature", "inclusion", "custody", "mass", "missing",
  // "assay", "transit_loss".
  std::string check;
  std::string event_id;  // hex; empty when the finding is not about one event
  std::string lot_id;    // empty when not about one lot
  std::string message;
};

struct LineageOptions {
  // The as-of date of the verification (policy rules' `effective` is compared with it).
  int64_t as_of_us = 0;
  // nullptr: no policy screening. Must remain live during the call.
  const Policy* policy = nullptr;
  // Per-element mass balance slack when no policy gives one. (The receipt tolerance is a
  // consortium rule: it comes from the registry.)
  double mass_tolerance = 0.02;
  // Threads for signature and proof checks; 0 = std::thread::hardware_concurrency().
  unsigned threads = 0;
  // Called now and then from the calling thread with (entries checked, total).
  std::function<void(size_t, size_t)> progress;
};

struct LineageReport {
  std::string lot_id;
  cairn::v1::TraceDirection direction = cairn::v1::TRACE_DIRECTION_BACKWARD;
  size_t entries_checked = 0;
  size_t logs = 0;
  // Lots on the lineage (Upstream or Downstream of the target), sources first.
  std::vector<int> lineage_lots;
  // Index of the target lot in `graph`, -1 when the bundle does not hold it.
  int target = -1;
  std::vector<Finding> findings;
  // Backward lineages only.
  std::optional<Attribution> attribution;
  std::vector<Violation> violations;
  // The verified events, for printing the tree.
  LineageGraph graph;

  bool HasIntegrityFailure() const;
  bool Incomplete() const;
  // 0 verified and compliant, 1 integrity failure, 3 restricted source, 4 incomplete.
  int ExitCode() const;
};

// Verifies `bundle` against `registry` (the auditor's own trust registry).
LineageReport VerifyLineage(const cairn::v1::EvidenceBundle& bundle,
                            const keys::TrustRegistry& registry, const LineageOptions& options);

const char* SeverityName(Severity severity);

}  // namespace cairn::ledger
