// The append path: stateless checks, the single writer with group commit, and the signed tree.
//
//   AppendValidator  the rulebook's checks of one SignedEvent (ledger/rulebook.h: parse, schema,
//                    signature and authority) and the node-only rules (hosted author, not in the
//                    future). Immutable; runs in the gRPC handler threads, in parallel.
//   Sequencer        owns the writer thread. Handlers Submit() checked events with a Completion
//                    (or wait on a future); the writer takes everything queued (at most
//                    max_group_events) as one group, runs each request
//                    in its own SAVEPOINT of one transaction (custody checks see earlier writes),
//                    COMMITs once, and only then extends the Merkle tree, signs one checkpoint and
//                    answers every caller. Nothing is acknowledged before COMMIT, and the database
//                    runs synchronous=FULL, so an acknowledged append survives kill -9.
//                    The group's tree hashes (tiles) and its signed checkpoint are written in the
//                    same transaction, so a kill -9 never leaves them out of step with the entries.
// In audit mode (SequencerOptions::audit) there is no writer: every submission is refused with
// FAILED_PRECONDITION and the checkpoint served is the last one the node stored.
//
// Threading: Submit(), LatestCheckpoint() and size() are safe from any thread. The writer thread
// is the only user of the store's writer side and of the tree while the Sequencer runs.
#pragma once

#include <absl/base/thread_annotations.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cairn/v1/event.pb.h"
#include "cairn/v1/log.pb.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/status.h"
#include "common/sync.h"
#include "keys/key_file.h"
#include "keys/registry.h"
#include "ledger/custody.h"
#include "ledger/event.h"
#include "ledger/federated_view.h"
#include "ledger/merkle.h"
#include "ledger/proofs.h"
#include "node/log_store.h"
#include "node/tiles.h"

namespace cairn::node {

// Stateless checks of an event before it is queued for the writer.
class AppendValidator {
 public:
  // Whether an event with this id is in the log. Thread-safe.
  using InLog = std::function<Result<bool>(const Hash& event_id)>;

  // `registry` and `clock` must remain live while the validator is in use. `in_log` (may be
  // empty) lets a replay of a logged event through even when its key has been revoked since.
  AppendValidator(const keys::TrustRegistry& registry, const Clock& clock, std::string log_id,
                  std::set<std::string> hosted_participants, InLog in_log = {});

  // Parses the body (INVALID_ARGUMENT), then the rulebook's checks of one event at the clock's
  // time (ledger::CheckEventAlone: schema, signature, key, roles, home log) and the node-only rules
  // (ledger::CheckNodeOnly: hosted author, occurred_at not in the future). Returns the parsed
  // event on success, and also when the event is one already in the log whose signature verifies
  // (the writer answers it with the existing entry). Thread-safe.
  Result<ledger::ParsedEvent> Check(cairn::v1::SignedEvent event) const;

  const std::set<std::string>& hosted_participants() const { return hosted_; }

 private:
  bool IsReplay(const ledger::ParsedEvent& parsed) const;

  const keys::TrustRegistry& registry_;
  const Clock& clock_;
  const std::string log_id_;
  const std::set<std::string> hosted_;
  const InLog in_log_;
};

// One event of a request as the caller is answered.
struct AppendedEvent {
  std::string event_id_hex;
  uint64_t index = 0;
  std::string entry;  // serialized LogEntry exactly as stored
  bool duplicate = false;
  std::vector<Hash> inclusion;  // path of the entry in the tree of `checkpoint`
};

// The answer to one request (one event, or one batch in order).
struct AppendOutcome {
  std::vector<AppendedEvent> events;
  uint64_t tree_size = 0;
  cairn::v1::SignedCheckpoint checkpoint;  // covers every event above
};

struct SequencerOptions {
  std::string log_id;
  keys::SigningKey log_key;  // signs checkpoints
  // The registry's consortium rules (ledger::RulesOf): never the node's config.
  ledger::ConsortiumRules rules;
  // Most events committed in one transaction; more stay queued for the next one.
  size_t max_group_events = 4096;
  // Read-only: refuse every submission, serve the stored checkpoint, write nothing.
  bool audit = false;
  // Nice value the writer thread asks for (setpriority on its own thread id); nullopt: leave it.
  // A refusal (no CAP_SYS_NICE) is logged as a warning and the writer runs at the priority it has.
  std::optional<int> writer_nice;
  // The other logs the node holds (verified replicas), for events that refer across logs: a
  // receipt of a dispatch on the mine's log. May be null; must outlive the sequencer.
  ledger::OtherLogs* other_logs = nullptr;
};

class Sequencer {
 public:
  // A sequencer over a log whose stored tree is `tree` (from ScanLog), with a checkpoint of it
  // signed in memory; it writes nothing until Start(). In audit mode it signs nothing: `tree` may
  // be empty (no proofs then) and the checkpoint is the stored one. `store`, `registry` and
  // `clock` must remain live until the Sequencer is destroyed. Submissions before Start() wait.
  Sequencer(LogStore& store, const keys::TrustRegistry& registry, const Clock& clock,
            SequencerOptions options, TreeHashes tree);
  // Starts the writer thread (not in audit mode); from then on it alone uses the store's writer
  // connection. Called once the node is sure to serve, so a failed start changes no file.
  void Start();
  // Stop()s.
  ~Sequencer();
  Sequencer(const Sequencer&) = delete;
  Sequencer& operator=(const Sequencer&) = delete;

  // Receives the answer to one submission: on the writer thread after the group's COMMIT (or its
  // failure), or on the submitting thread when it is refused at once (audit mode, no events,
  // stopping). Done() is called exactly once, then the Completion is destroyed; it should not
  // block, since the writer answers the rest of its group after it.
  class Completion {
   public:
    virtual ~Completion() = default;
    virtual void Done(Result<AppendOutcome> outcome) = 0;
    // When the caller stops waiting. A request whose deadline has passed when the writer comes to
    // it is answered DEADLINE_EXCEEDED and not written.
    virtual std::chrono::system_clock::time_point deadline() const {
      return std::chrono::system_clock::time_point::max();
    }
  };
  // Queue like Submit() and SubmitBatch() below, answering through `completion` instead of a
  // future, so that no thread need wait for the commit.
  void Submit(ledger::ParsedEvent event, std::unique_ptr<Completion> completion);
  void SubmitBatch(std::vector<ledger::ParsedEvent> events, std::unique_ptr<Completion> completion);

  // Queues one event (already through AppendValidator). The future yields the entry, or the
  // rule it breaks (nothing written), or UNAVAILABLE once stopping, or INTERNAL when the commit
  // failed, or FAILED_PRECONDITION "node is in audit mode (read-only)".
  std::future<Result<AppendOutcome>> Submit(ledger::ParsedEvent event);
  // Queues events to append in order, all or nothing; an error is prefixed "events[i]: ". An
  // event already in the log (or earlier in the batch) is answered as a duplicate.
  std::future<Result<AppendOutcome>> SubmitBatch(std::vector<ledger::ParsedEvent> events);

  // The latest signed checkpoint. Thread-safe.
  cairn::v1::SignedCheckpoint LatestCheckpoint() const;
  // Entries committed and in the tree. Thread-safe.
  uint64_t size() const { return size_.load(); }
  // Waits until the latest checkpoint covers more than `size` entries or `deadline` passes, and
  // returns the latest checkpoint then (no wait when it already does). For followers that stream
  // the log as it grows. Thread-safe.
  cairn::v1::SignedCheckpoint WaitForCheckpointAbove(uint64_t size, absl::Time deadline) const;

  // RFC 9162 inclusion proof of leaf `index` in the tree of `tree_size` leaves, and consistency
  // proof between two sizes, from the stored tree: O(log n) hashes, at most two reads per four
  // levels below level 8. OUT_OF_RANGE when a size is beyond
  // the committed log, INVALID_ARGUMENT when index >= tree_size or old_size > new_size.
  // Thread-safe.
  Result<std::vector<Hash>> InclusionProof(uint64_t index, uint64_t tree_size);
  Result<std::vector<Hash>> ConsistencyProof(uint64_t old_size, uint64_t new_size);

  // Stops accepting, answers everything already queued, and joins the writer. Idempotent.
  void Stop();

 private:
  struct Request {
    std::vector<ledger::ParsedEvent> events;
    bool batch = false;
    std::unique_ptr<Completion> completion;
  };
  // A request's result while its group is being written.
  struct Pending {
    Status status;
    std::vector<AppendedEvent> events;
  };

  void Enqueue(std::vector<ledger::ParsedEvent> events, bool batch,
               std::unique_ptr<Completion> completion);
  // Answers `request` and destroys its completion.
  static void Answer(Request& request, Result<AppendOutcome> outcome);
  void WriterLoop();
  // Writes one group in one transaction and answers every request in it.
  void WriteGroup(std::vector<Request>& group);
  // Appends the events of one request inside the open transaction, advancing `next_index` and
  // `prev_leaf` and adding new leaves to `new_leaves`. On failure the caller rolls back.
  Status WriteRequest(Request& request, int64_t appended_at, uint64_t& next_index, Hash& prev_leaf,
                      std::vector<Hash>& new_leaves, Pending& pending);
  cairn::v1::SignedCheckpoint SignTree(uint64_t size, const Hash& root, int64_t now) const;

  LogStore& store_;
  const keys::TrustRegistry& registry_;
  const Clock& clock_;
  const SequencerOptions options_;

  // Written by the writer thread under an exclusive lock; read under a shared one by proof
  // requests and by the writer. Mutex lets a waiting writer in ahead of new readers.
  mutable Mutex tree_mutex_;
  TreeHashes tree_ ABSL_GUARDED_BY(tree_mutex_);
  // Writer thread only (and the constructor):
  bool poisoned_ = false;       // a failed commit left storage and memory possibly out of step
  int64_t last_signed_us_ = 0;  // time of the latest checkpoint signed

  std::atomic<uint64_t> size_{0};

  mutable Mutex checkpoint_mutex_;
  cairn::v1::SignedCheckpoint checkpoint_ ABSL_GUARDED_BY(checkpoint_mutex_);
  uint64_t checkpoint_size_ ABSL_GUARDED_BY(checkpoint_mutex_) = 0;  // checkpoint_'s tree size

  Mutex queue_mutex_;
  CondVar queue_cv_;  // signalled when a request is queued for an idle writer, or on Stop
  std::deque<Request> queue_ ABSL_GUARDED_BY(queue_mutex_);
  size_t queued_events_ ABSL_GUARDED_BY(queue_mutex_) = 0;  // events in queue_
  // Whether the writer waits for a request, so that submitters signal only then.
  bool writer_idle_ ABSL_GUARDED_BY(queue_mutex_) = false;
  bool stopping_ ABSL_GUARDED_BY(queue_mutex_) = false;

  std::once_flag stop_once_;
  std::thread writer_;
};

}  // namespace cairn::node
