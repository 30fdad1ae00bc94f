// Follower: keeps this node's replica of a peer's log, verifying everything before storing it.
//
// One thread per followed log. It opens a Federation.Follow stream at the replica's size and, for
// every checkpoint the peer sends, checks its signature under the log's key in the registry; it
// runs every entry through ledger::LogVerifier (index, chain link, the rulebook's checks of the
// event: schema, signature, key validity, roles, custody) and stores the entries with the
// checkpoint only once their Merkle root equals the checkpoint's (ReplicaStore::Append, one
// transaction). Since the replica holds every leaf, a checkpoint whose root matches the stored
// leaves is consistent with every earlier checkpoint of the log by construction; one of a size
// already stored whose root differs is refused. When a stream fails (peer down, network cut, an
// entry altered in transit) the unstored entries are dropped and the stream is opened again from
// the replica's size after a capped exponential backoff with jitter.
//
// Prime() is the replica's start-up check: every stored entry is verified again and the stored
// checkpoint must cover them. Thread-safe: state() from any thread.
#pragma once

#include <absl/base/thread_annotations.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cairn/v1/federation.grpc.pb.h"
#include "cairn/v1/ledger.grpc.pb.h"
#include "common/crypto.h"
#include "common/status.h"
#include "common/sync.h"
#include "keys/registry.h"
#include "ledger/log_verifier.h"
#include "node/replica_store.h"

namespace cairn::node {

// How long a follower waits, stream open, for an event of another log that an entry refers to.
inline constexpr auto kMissingWait = std::chrono::seconds(30);

struct FollowerOptions {
  std::string peer;    // host:port
  std::string log_id;  // the log followed
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  uint64_t max_message_bytes = 4 * 1024 * 1024;
  std::chrono::milliseconds min_backoff{100};
  std::chrono::milliseconds max_backoff{10000};
  // The node's other logs (its own and its other replicas), which the followed log's events may
  // refer to; may be null; must outlive the Follower.
  ledger::OtherLogs* others = nullptr;
};

class Follower {
 public:
  // `store` and `registry` must outlive the Follower.
  Follower(ReplicaStore& store, const keys::TrustRegistry& registry, FollowerOptions options);
  ~Follower();  // Stop()s
  Follower(const Follower&) = delete;
  Follower& operator=(const Follower&) = delete;

  // Verifies the stored replica (DATA_LOSS naming the first bad entry, or the checkpoint).
  Status Prime();
  // Starts following (after Prime()).
  void Start();
  // Ends the stream and joins the thread. Idempotent.
  void Stop();

  struct State {
    std::string state = "connecting";
    uint64_t size = 0;
    uint64_t leader_size = 0;
    std::string last_error;
    int64_t last_contact_us = 0;  // 0: never
  };
  State state() const;
  const FollowerOptions& options() const { return options_; }
  const ReplicaStore& store() const { return store_; }
  // Stops following for good on proof of a fork found elsewhere (gossip): records `evidence` in
  // the replica (unless a fork is already recorded) and ends the stream. Thread-safe.
  Status Halt(const cairn::v1::ForkEvidence& evidence);
  // Proof of forks of the followed log (ReplicaStore::forks).
  std::vector<cairn::v1::ForkEvidence> forks() const { return store_.forks(); }

 private:
  void Run();
  // One stream, until it ends; the reason it ended.
  Status FollowOnce();
  // Handles one message of the stream.
  // `verified_with`: the public key the entry's event signature was verified under by the reader
  // thread (empty: not verified ahead).
  Status Take(const cairn::v1::FollowResponse& message, const std::string& verified_with = "");
  // Checks a checkpoint larger than the replica against it: the peer's consistency proof from
  // the stored checkpoint must verify. Once per stream (later entries extend the chain).
  Status CheckConsistency(const cairn::v1::SignedCheckpoint& theirs,
                          const cairn::v1::Checkpoint& parsed);
  // Records proof of a fork and stops for good; the error to end the stream with.
  Status Forked(const cairn::v1::SignedCheckpoint& theirs, const cairn::v1::ConsistencyProof& proof,
                const std::string& reason);
  // Stores ready_ with ready_checkpoint_ in one transaction.
  Status Flush();
  // The verifier as of the stored replica (replays it).
  Status ResetVerifier();
  void SetState(const std::string& state, const std::string& error = "");

  ReplicaStore& store_;
  const keys::TrustRegistry& registry_;
  const FollowerOptions options_;
  std::unique_ptr<cairn::v1::Federation::Stub> stub_;
  std::unique_ptr<cairn::v1::Ledger::Stub> ledger_;  // the peer's, for consistency proofs

  // Follower thread only.
  std::optional<ledger::LogVerifier> verifier_;
  bool verifier_dirty_ = false;       // holds entries that were not stored
  bool permanent_ = false;            // a problem retrying cannot fix (a fork, a failed store)
  std::atomic<bool> halted_{false};   // Halt(): a fork proved elsewhere
  bool stream_checked_ = false;       // this stream's first larger checkpoint was proved consistent
  std::vector<Hash> leaves_;          // of the stored entries
  std::vector<std::string> pending_;  // entries of target_ received so far
  std::vector<Hash> pending_leaves_;  // their leaf hashes, as the verifier computed them
  // Verified complete groups not yet stored (Flush), and the checkpoint of the last.
  std::vector<std::string> ready_;
  std::optional<cairn::v1::SignedCheckpoint> ready_checkpoint_;
  std::optional<cairn::v1::SignedCheckpoint> target_;
  uint64_t target_size_ = 0;

  mutable Mutex mutex_;
  State state_ ABSL_GUARDED_BY(mutex_);
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mutex_) = nullptr;  // the open stream's
  std::thread thread_;
};

}  // namespace cairn::node
