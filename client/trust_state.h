// TrustState: the last verified checkpoint of every log this user has seen, remembered between
// runs (like rekor-cli's tree state and immuclient's verified state), so a node cannot show one
// auditor a log today and a rewritten or shorter one tomorrow unnoticed.
//
// Kept in $XDG_STATE_HOME/cairn (else ~/.local/state/cairn), or --state DIR; --no-state for
// one-off use. One file per log and checkpoint key, <log_id>@<key_id>.checkpoint.json (two
// consortiums may both name a log "pk-fwo-log"; after a rotation of the log's key its state starts
// afresh under the new key), the SignedCheckpoint in protobuf JSON
// (the format of `cairn checkpoint -o`), written atomically. A checkpoint is remembered only
// after its signature verified against the registry given.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cairn/v1/log.pb.h"
#include "common/crypto.h"
#include "common/status.h"

namespace cairn::client {

struct StateOptions {
  std::string dir;        // --state; empty: the default directory
  bool disabled = false;  // --no-state
};
// --state DIR and --no-state. `options` must remain live while `cmd` parses.
void AddStateOptions(CLI::App& cmd, StateOptions& options);

class TrustState {
 public:
  explicit TrustState(const StateOptions& options);

  bool enabled() const { return !dir_.empty(); }
  const std::string& dir() const { return dir_; }

  // The checkpoint remembered for `log_id`, or nullopt. INVALID_ARGUMENT when the file exists
  // but does not parse (naming it: delete it to start afresh).
  Result<std::optional<cairn::v1::SignedCheckpoint>> Remembered(const std::string& log_id,
                                                                const std::string& key_id) const;

  // RFC 9162 consistency path between two sizes of one log, from whoever can give it.
  using ProveConsistency =
      std::function<Result<std::vector<Hash>>(uint64_t old_size, uint64_t new_size)>;
  // Or the root of the first `size` entries, computed from entries in hand.
  using RootAt = std::function<Result<Hash>(uint64_t size)>;

  // How a new checkpoint relates to the remembered one.
  enum class Outcome {
    kFirst,     // none remembered: this one is now
    kSame,      // same size and root
    kExtended,  // larger, and proved consistent: remembered instead
    kBehind,    // smaller, allowed (a replica that lags): the remembered one is kept
    kUnproved,  // larger, but no proof could be had (`prove` empty): the remembered one is kept
  };

  // Checks `now` (its signature already verified) against the remembered checkpoint of its log
  // before anything else in an answer is believed, and remembers it when it extends it.
  //   same size, other root                  -> DATA_LOSS "fork"
  //   smaller, unless `behind_is_ok`          -> DATA_LOSS "rollback"
  //   larger: `prove` must give a path that verifies, else DATA_LOSS "fork"
  // Each message names both checkpoints (log, size, root, time). INTERNAL when the state cannot
  // be written.
  Result<Outcome> Check(const cairn::v1::SignedCheckpoint& signed_now,
                        const cairn::v1::Checkpoint& now, const ProveConsistency& prove,
                        bool behind_is_ok = false);
  // The same, proving a larger checkpoint from the entries: root_at(remembered size) must be the
  // remembered root.
  Result<Outcome> CheckByEntries(const cairn::v1::SignedCheckpoint& signed_now,
                                 const cairn::v1::Checkpoint& now, const RootAt& root_at,
                                 bool behind_is_ok = false);

 private:
  // Whether `now` extends `old` (DATA_LOSS when not).
  using Extends =
      std::function<Status(const cairn::v1::Checkpoint& old, const cairn::v1::Checkpoint& now)>;
  Result<Outcome> Decide(const cairn::v1::SignedCheckpoint& signed_now,
                         const cairn::v1::Checkpoint& now, const Extends& extends,
                         bool behind_is_ok);
  std::string PathOf(const std::string& log_id, const std::string& key_id) const;
  Status Remember(const cairn::v1::SignedCheckpoint& signed_now, const std::string& log_id);

  std::string dir_;  // empty: disabled
};

// Whether `now` extends `old` (one log, old.size() <= now.size()) by the consistency path `prove`
// gives: DATA_LOSS when the path does not verify, `prove`'s status when it gives none.
Status VerifyExtends(const cairn::v1::Checkpoint& old, const cairn::v1::Checkpoint& now,
                     const TrustState::ProveConsistency& prove);

class NodeClient;
// Consistency paths of the log `client`'s node runs (Ledger.GetConsistencyProof).
TrustState::ProveConsistency ProverOf(NodeClient& client);

// "log pk-fwo-log size 3 root 7c4fa40c…05ec of 2026-12-03T08:00:00Z".
std::string DescribeCheckpoint(const cairn::v1::Checkpoint& checkpoint);

}  // namespace cairn::client
