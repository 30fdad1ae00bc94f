// LogVerifier: checks a whole log, entry by entry, the way an auditor does — without trusting the
// node that served it.
//
// Feed every entry's stored bytes in index order with Add(), then Finish() with the log's signed
// checkpoint. For each entry it checks: the bytes parse as a LogEntry of this log at the expected
// index; prev_entry_hash is the previous entry's leaf hash; the event is not repeated; and the
// event passes the rulebook (ledger/rulebook.h, CheckEvent) exactly as the node applied it: schema,
// signature under a key the registry lists for the author, valid when the event occurred and not
// revoked when it was appended, roles, and the custody rules given every earlier event (replayed
// in memory) under the registry's consortium rules. Finish() checks the checkpoint's signature
// against the log's key in the registry and that its root equals the Merkle root of the entries.
// The first failure is kept with its index; later entries are not checked. Not thread-safe; the
// registry must remain live while the verifier is in use.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "cairn/v1/log.pb.h"
#include "common/crypto.h"
#include "common/status.h"
#include "keys/registry.h"
#include "ledger/federated_view.h"
#include "ledger/memory_state.h"
#include "ledger/merkle.h"

namespace cairn::ledger {

struct LogVerdict {
  uint64_t entries_checked = 0;
  // Set when the log does not verify: the first bad index (or the log size for a checkpoint
  // problem) and why.
  std::optional<uint64_t> bad_index;
  Status problem;
  // True when the failure is a key the registry does not list (lineage incomplete rather than
  // proven bad: the auditor may hold an older registry).
  bool unknown_key = false;
  std::string root_hex;
};

class LogVerifier {
 public:
  // `others` (may be null; must outlive the verifier) answers for the events of other logs that
  // this log's events refer to (ledger/federated_view.h): a follower's own log and its other
  // replicas.
  LogVerifier(std::string log_id, const keys::TrustRegistry& registry, OtherLogs* others = nullptr);

  // Checks the entry at the next index. Returns false once the log has failed.
  LogVerifier(const LogVerifier&) = delete;  // view_ refers to state_
  LogVerifier& operator=(const LogVerifier&) = delete;

  bool Add(uint64_t index, std::string_view entry_bytes);
  // Add(), for an entry whose event signature the caller has verified under `verified_with` (the
  // registry's public key for its key id; see ParsedEvent::signature_verified_with).
  bool Add(uint64_t index, std::string_view entry_bytes, const std::string& verified_with);

  // Checks `checkpoint` covers exactly the entries added and is signed by the log's key.
  LogVerdict Finish(const cairn::v1::SignedCheckpoint& checkpoint);

  bool failed() const { return verdict_.bad_index.has_value(); }
  // The RFC 9162 leaf hash of the last entry added (zeros before the first).
  const Hash& last_leaf() const { return prev_leaf_; }
  // After an Add() that failed only because an event of another log it refers to was not at
  // hand (NOT_FOUND from the other logs): forgets the failure, so that the same entry can be
  // added again once the other logs have it. Nothing of that entry was applied. False (and no
  // change) for any other failure.
  bool ForgetMissing();
  const LogVerdict& verdict() const { return verdict_; }

 private:
  void Fail(uint64_t index, Status problem);

  const std::string log_id_;
  const keys::TrustRegistry& registry_;
  Hash prev_leaf_{};
  CompactRange tree_;
  MemoryCustodyState state_;
  FederatedView view_;
  LogVerdict verdict_;
};

// Checks a signed checkpoint's signature against the registry's key for its log and parses it.
// UNAUTHENTICATED when the log or key is unknown or the signature does not verify.
Result<cairn::v1::Checkpoint> VerifyCheckpoint(const cairn::v1::SignedCheckpoint& checkpoint,
                                               const keys::TrustRegistry& registry);

}  // namespace cairn::ledger
