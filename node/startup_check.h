// The start-up check: before a node serves its database, or signs anything over it, it checks
// that the database holds exactly what it signed and what that implies. A node never signs over
// data it has not validated, so it never adopts data it cannot prove it validated:
//
//   - the entries: each is the next index of this log, chained to the previous leaf, with the
//     stored leaf hash, event id and event key of its bytes;
//   - the stored checkpoint: it verifies under the log's key in the registry, covers every entry
//     (none past it, none missing), and its root is the root of the entries. When the root
//     differs, the entries are re-checked the way an auditor checks them (ledger::LogVerifier:
//     signatures, authority, schema, custody) so that the problem names the entry that was
//     changed, not the place where the damage surfaced;
//   - every stored tile (node/tiles.h) against the tiles computed from the entries' leaf hashes;
//   - the custody tables (lots, holdings, shipments, shipment_lots, lot_entries) against a replay
//     of the entries through the rulebook's custody rules under the registry's consortium rules.
//     The entries are authentic at that point (their root is the one the node signed), so the
//     replay re-checks no signature.
//
// Everything is read; nothing is written.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "keys/registry.h"
#include "ledger/federated_view.h"
#include "node/clean_stop.h"
#include "node/storage.h"
#include "node/tiles.h"

namespace cairn::node {

// One problem found in the stored log or the tables derived from it.
struct LogProblem {
  // The entry concerned: the first bad entry, or for a derived row the entry that wrote it (the
  // number of entries when no entry did).
  uint64_t index = 0;
  std::string what;
};

// What ScanLog found.
struct ScannedLog {
  uint64_t entries = 0;  // entries stored
  uint64_t sound = 0;    // entries before the first problem
  std::vector<LogProblem> problems;
  // Not problems, but worth telling the operator: the first entry that breaks the current
  // registry's consortium rules (it was appended under older ones).
  std::vector<LogProblem> warnings;
  // The stored tree of all entries, loaded and checked against them; set when there is no problem.
  std::optional<TreeHashes> tree;
};

// Runs every check above, streaming the entries once (memory: the custody state, about 1/15 of a
// hash per entry for the tiles, and the lot index rows). Stops at the first problem unless
// `find_all` (then at most a few dozen problems per kind are listed). Errors only when storage
// cannot be read; a broken database is a ScannedLog with problems.
// `others` (may be null) holds the other logs the node has replicated, whose events this log's
// refer to (a receipt of another log's dispatch); an event it cannot find is a warning, not a
// problem: the node checked it when it appended it, and the replica may simply be gone.
Result<ScannedLog> ScanLog(Storage& storage, const std::string& log_id,
                           const keys::TrustRegistry& registry, bool find_all,
                           ledger::OtherLogs* others = nullptr);

// The check that stands in for ScanLog after a clean stop (node/clean_stop.h), whose record
// vouches for `state`: the database was opened at the current schema version (nothing migrated),
// holds `state.entries` entries, its stored checkpoint verifies under the log's key in
// `registry`, is of `log_id`, covers exactly those entries with root `state.root`, and the stored
// tree of the entries has that root. Reads the checkpoint and the tree's tiles, not the entries.
struct CleanStopScan {
  std::optional<TreeHashes> tree;  // set when every check holds
  std::string why_not;             // otherwise: what differs (the full ScanLog must run)
};
Result<CleanStopScan> CheckAfterCleanStop(Storage& storage, const std::string& log_id,
                                          const keys::TrustRegistry& registry,
                                          const CleanStopState& state);

}  // namespace cairn::node
