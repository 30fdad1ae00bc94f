#include "node/sequencer.h"

#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <utility>

#include "ledger/log_verifier.h"
#include "ledger/rulebook.h"
#include "node/logging.h"

namespace cairn::node {

// ---------------------------------------------------------------------------------------------
// AppendValidator

AppendValidator::AppendValidator(const keys::TrustRegistry& registry, const Clock& clock,
                                 std::string log_id, std::set<std::string> hosted_participants,
                                 InLog in_log)
    : registry_(registry),
      clock_(clock),
      log_id_(std::move(log_id)),
      hosted_(std::move(hosted_participants)),
      in_log_(std::move(in_log)) {}

Result<ledger::ParsedEvent> AppendValidator::Check(cairn::v1::SignedEvent event) const {
  CAIRN_ASSIGN_OR_RETURN(ledger::ParsedEvent parsed, ledger::ParseSignedEvent(std::move(event)));
  const int64_t now = clock_.NowMicros();
  Status checked = ledger::CheckEventAlone(parsed, registry_, log_id_, now);
  if (checked.ok()) checked = ledger::CheckNodeOnly(parsed, hosted_, now);
  if (checked.ok() || checked.code() == StatusCode::kInvalidArgument) {
    CAIRN_RETURN_IF_ERROR(checked);
    return parsed;
  }
  // Appending the same signed event again returns the existing entry, whatever happened to its key
  // or its author since: the writer answers an event already in the log before any check.
  if (in_log_ && IsReplay(parsed)) return parsed;
  return checked;
}

bool AppendValidator::IsReplay(const ledger::ParsedEvent& parsed) const {
  const keys::KeyRecord* key = registry_.FindKey(parsed.signed_event.key_id());
  if (key == nullptr || key->is_log_key ||
      !Verify(key->public_key, kEventDomain, parsed.signed_event.body(),
              parsed.signed_event.signature())) {
    return false;
  }
  auto known = in_log_(parsed.id);
  return known.ok() && *known;
}

// ---------------------------------------------------------------------------------------------
// Sequencer

Sequencer::Sequencer(LogStore& store, const keys::TrustRegistry& registry, const Clock& clock,
                     SequencerOptions options, TreeHashes tree)
    : store_(store),
      registry_(registry),
      clock_(clock),
      options_(std::move(options)),
      tree_(std::move(tree)) {
  size_ = tree_.size();
  if (options_.audit) {
    auto stored = store_.StoredCheckpoint();
    if (stored.ok() && stored->has_value()) {
      checkpoint_ = **stored;
      cairn::v1::Checkpoint parsed;
      if (parsed.ParseFromString(checkpoint_.checkpoint())) checkpoint_size_ = parsed.size();
    }
    return;  // no writer thread
  }
  // Checkpoint time never goes back, even when the wall clock does.
  if (auto stored = store_.StoredCheckpoint(); stored.ok() && stored->has_value()) {
    cairn::v1::Checkpoint previous;
    if (previous.ParseFromString((*stored)->checkpoint())) {
      last_signed_us_ = ToMicros(previous.timestamp());
    }
  }
  last_signed_us_ = std::max(clock_.NowMicros(), last_signed_us_);
  checkpoint_ = SignTree(tree_.size(), tree_.Root(), last_signed_us_);
  checkpoint_size_ = tree_.size();
}

void Sequencer::Start() {
  if (options_.audit || writer_.joinable()) return;
  // A log migrated from a version that stored no checkpoint gets one now; otherwise the stored
  // checkpoint already covers every entry (ScanLog checked it) and nothing is written.
  auto stored = store_.StoredCheckpoint();
  if (stored.ok() && !stored->has_value() && size() > 0) {
    if (const Status recorded = store_.PutCheckpoint(LatestCheckpoint()); !recorded.ok()) {
      LogFields(spdlog::level::warn,
                {{"msg", "cannot record the startup checkpoint"}, {"error", recorded.message()}});
    }
  }
  writer_ = std::thread(&Sequencer::WriterLoop, this);
}

Sequencer::~Sequencer() { Stop(); }

void Sequencer::Stop() {
  std::call_once(stop_once_, [this] {
    {
      MutexLock lock(&queue_mutex_);
      stopping_ = true;
    }
    queue_cv_.SignalAll();
    if (writer_.joinable()) writer_.join();
    // Requests queued while no writer ran (before Start(), or in audit mode) are answered too.
    std::deque<Request> left;
    {
      MutexLock lock(&queue_mutex_);
      left.swap(queue_);
      queued_events_ = 0;
    }
    for (Request& request : left) Answer(request, Unavailable("cairnd is shutting down"));
  });
}

cairn::v1::SignedCheckpoint Sequencer::LatestCheckpoint() const {
  MutexLock lock(&checkpoint_mutex_);
  return checkpoint_;
}

cairn::v1::SignedCheckpoint Sequencer::WaitForCheckpointAbove(uint64_t size,
                                                              absl::Time deadline) const {
  MutexLock lock(&checkpoint_mutex_);
  const auto grown = [this, size]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(checkpoint_mutex_) {
    return checkpoint_size_ > size;
  };
  checkpoint_mutex_.AwaitWithDeadline(Condition(&grown), deadline);
  return checkpoint_;
}

namespace {

// Answers through a promise, for the future-returning Submit().
class PromiseCompletion final : public Sequencer::Completion {
 public:
  std::future<Result<AppendOutcome>> future() { return promise_.get_future(); }
  void Done(Result<AppendOutcome> outcome) override { promise_.set_value(std::move(outcome)); }

 private:
  std::promise<Result<AppendOutcome>> promise_;
};

}  // namespace

void Sequencer::Submit(ledger::ParsedEvent event, std::unique_ptr<Completion> completion) {
  std::vector<ledger::ParsedEvent> events;
  events.push_back(std::move(event));
  Enqueue(std::move(events), /*batch=*/false, std::move(completion));
}

void Sequencer::SubmitBatch(std::vector<ledger::ParsedEvent> events,
                            std::unique_ptr<Completion> completion) {
  Enqueue(std::move(events), /*batch=*/true, std::move(completion));
}

std::future<Result<AppendOutcome>> Sequencer::Submit(ledger::ParsedEvent event) {
  auto completion = std::make_unique<PromiseCompletion>();
  auto future = completion->future();
  Submit(std::move(event), std::move(completion));
  return future;
}

std::future<Result<AppendOutcome>> Sequencer::SubmitBatch(std::vector<ledger::ParsedEvent> events) {
  auto completion = std::make_unique<PromiseCompletion>();
  auto future = completion->future();
  SubmitBatch(std::move(events), std::move(completion));
  return future;
}

void Sequencer::Answer(Request& request, Result<AppendOutcome> outcome) {
  request.completion->Done(std::move(outcome));
  request.completion.reset();
}

void Sequencer::Enqueue(std::vector<ledger::ParsedEvent> events, bool batch,
                        std::unique_ptr<Completion> completion) {
  Request request;
  request.events = std::move(events);
  request.batch = batch;
  request.completion = std::move(completion);
  if (options_.audit) {
    Answer(request, FailedPrecondition("node is in audit mode (read-only)"));
    return;
  }
  if (request.events.empty()) {
    Answer(request, InvalidArgument("events: got 0, want at least 1"));
    return;
  }
  bool wake = false;
  bool stopping = false;
  {
    MutexLock lock(&queue_mutex_);
    stopping = stopping_;
    if (!stopping) {
      queued_events_ += request.events.size();
      queue_.push_back(std::move(request));
      // A writer busy with a group takes this one when it is done; only an idle one needs waking.
      wake = writer_idle_;
    }
  }
  if (stopping) {
    Answer(request, Unavailable("cairnd is shutting down"));
    return;
  }
  if (wake) queue_cv_.Signal();
}

void Sequencer::WriterLoop() {
  if (options_.writer_nice) {
    if (setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), *options_.writer_nice) != 0) {
      const int error = errno;
      LogFields(spdlog::level::warn, {{"msg",
                                       "cannot set the writer thread's priority; "
                                       "appends under load will be slower"},
                                      {"writer_nice", *options_.writer_nice},
                                      {"error", std::strerror(error)}});
    }
  }
  std::vector<Request> group;
  while (true) {
    group.clear();
    {
      MutexLock lock(&queue_mutex_);
      // Group commit: whatever was queued while the last group was written goes in one COMMIT.
      writer_idle_ = true;
      while (!stopping_ && queue_.empty()) queue_cv_.Wait(&queue_mutex_);
      writer_idle_ = false;
      if (queue_.empty()) return;  // stopping, and everything queued has been answered
      size_t events = 0;
      while (!queue_.empty() && (group.empty() || events + queue_.front().events.size() <=
                                                      options_.max_group_events)) {
        events += queue_.front().events.size();
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      queued_events_ -= events;
    }
    WriteGroup(group);
  }
}

cairn::v1::SignedCheckpoint Sequencer::SignTree(uint64_t size, const Hash& root,
                                                int64_t now) const {
  cairn::v1::Checkpoint checkpoint;
  checkpoint.set_log_id(options_.log_id);
  checkpoint.set_size(size);
  checkpoint.set_root_hash(HashToString(root));
  *checkpoint.mutable_timestamp() = FromMicros(now);
  return ledger::SignCheckpoint(checkpoint, options_.log_key.key_id, options_.log_key.secret_key);
}

Status Sequencer::WriteRequest(Request& request, int64_t appended_at, uint64_t& next_index,
                               Hash& prev_leaf, std::vector<Hash>& new_leaves, Pending& pending) {
  for (size_t i = 0; i < request.events.size(); ++i) {
    const ledger::ParsedEvent& event = request.events[i];
    const auto refuse = [&](const Status& status) {
      return request.batch ? status.WithPrefix("events[" + std::to_string(i) + "]") : status;
    };
    AppendedEvent out;
    out.event_id_hex = event.id_hex;

    // Idempotent: an event already in the log (or earlier in this group) is answered as it is.
    auto existing = store_.FindEntryForWrite(event.id);
    if (!existing.ok()) return refuse(existing.status());
    if (existing->has_value()) {
      out.index = (*existing)->index;
      out.entry = std::move((*existing)->entry);
      out.duplicate = true;
      pending.events.push_back(std::move(out));
      continue;
    }

    // The handler checked the key against its own clock; a verifier judges revocation by the
    // entry's appended_at, so check again with exactly that time.
    const keys::KeyRecord* key = registry_.FindKey(event.signed_event.key_id());
    if (key == nullptr) {
      return refuse(Unauthenticated("SignedEvent.key_id: key " + event.signed_event.key_id() +
                                    " is not in registry version " +
                                    std::to_string(registry_.version())));
    }
    const Status key_valid = registry_.CheckKeyFor(*key, event.body.author(),
                                                   ToMicros(event.body.occurred_at()), appended_at);
    if (!key_valid.ok()) return refuse(key_valid);

    ledger::FederatedView view(store_, options_.other_logs);
    auto effects = ledger::CheckAndPlanCustody(event, view, options_.rules);
    if (!effects.ok()) return refuse(effects.status());

    cairn::v1::LogEntry entry;
    entry.set_log_id(options_.log_id);
    entry.set_index(next_index);
    entry.set_prev_entry_hash(HashToString(prev_leaf));
    *entry.mutable_appended_at() = FromMicros(appended_at);
    *entry.mutable_event() = event.signed_event;
    std::string bytes;
    if (!entry.SerializeToString(&bytes)) {
      return refuse(Internal("cannot serialize the log entry"));
    }
    const Hash leaf = ledger::LeafHash(bytes);
    Status written = store_.InsertEntry(next_index, event.id, leaf, bytes);
    if (written.ok()) written = store_.ApplyEffects(event, next_index, *effects);
    if (!written.ok()) return refuse(written);

    out.index = next_index;
    out.entry = std::move(bytes);
    pending.events.push_back(std::move(out));
    new_leaves.push_back(leaf);
    prev_leaf = leaf;
    ++next_index;
  }
  return Status::Ok();
}

void Sequencer::WriteGroup(std::vector<Request>& group) {
  const auto fail_all = [&](const Status& status) {
    for (auto& request : group) Answer(request, status);
  };
  if (poisoned_) {
    fail_all(Internal(
        "an earlier commit failed and the log's state is uncertain; restart cairnd to recover"));
    return;
  }
  const auto started = std::chrono::steady_clock::now();  // for the debug log only
  // Entries are never appended before the checkpoint that covers the entries before them, and the
  // group's checkpoint is never older than its entries: a verifier checks both.
  const int64_t appended_at = std::max(clock_.NowMicros(), last_signed_us_);
  std::vector<Pending> pending(group.size());
  std::vector<Hash> new_leaves;
  uint64_t old_size = 0;
  Hash prev_leaf{};
  TileBuilder edge;                // tree_'s edge with the group's leaves, adopted after COMMIT
  std::vector<Hash> known_leaves;  // [old_size & ~15, old_size)
  {
    ReaderMutexLock lock(&tree_mutex_);
    old_size = tree_.size();
    prev_leaf = tree_.edge().last_leaf();
    edge = tree_.edge();
    known_leaves = tree_.edge().edge_leaves();
  }
  uint64_t next_index = old_size;
  std::vector<TileWrite> tiles;
  cairn::v1::SignedCheckpoint checkpoint;
  int64_t signed_us = last_signed_us_;
  std::chrono::steady_clock::time_point commit_started, commit_done;  // for the debug log only
  {
    auto txn = store_.Begin();
    if (!txn.ok()) {
      fail_all(Internal("cannot begin a transaction: " + txn.status().message()));
      return;
    }
    const auto group_now = std::chrono::system_clock::now();
    for (size_t r = 0; r < group.size(); ++r) {
      if (group[r].completion->deadline() <= group_now) {
        pending[r].status = DeadlineExceeded(
            "the call's deadline passed before its events were written; nothing was written");
        continue;
      }
      auto savepoint = store_.BeginSavepoint();
      if (!savepoint.ok()) {
        fail_all(Internal("cannot open a savepoint: " + savepoint.status().message()));
        return;  // the transaction rolls back
      }
      const uint64_t start_index = next_index;
      const Hash start_leaf = prev_leaf;
      const size_t start_leaves = new_leaves.size();
      const Status written =
          WriteRequest(group[r], appended_at, next_index, prev_leaf, new_leaves, pending[r]);
      if (written.ok()) {
        const Status released = savepoint->Release();
        if (!released.ok()) {
          fail_all(Internal("cannot release a savepoint: " + released.message()));
          return;
        }
        continue;
      }
      // This request alone is refused: undo its writes, keep the others'.
      const Status rolled_back = savepoint->Rollback();
      if (!rolled_back.ok()) {
        fail_all(
            Internal(written.message() + "; then the rollback failed: " + rolled_back.message()));
        return;
      }
      next_index = start_index;
      prev_leaf = start_leaf;
      new_leaves.resize(start_leaves);
      pending[r].status = written;
      pending[r].events.clear();
    }
    if (!new_leaves.empty()) {
      // The tree's new hashes and the checkpoint of the new tree commit with the entries.
      for (const Hash& leaf : new_leaves) edge.Append(leaf);
      tiles = edge.TakeWrites();
      for (const TileWrite& tile : tiles) {
        const Status put =
            store_.PutTile(tile.tile_level, tile.tile_index, SerializeTile(tile.hashes));
        if (!put.ok()) {
          fail_all(Internal("cannot store tree hashes: " + put.message()));
          return;
        }
      }
      signed_us = std::max(clock_.NowMicros(), appended_at);
      checkpoint = SignTree(edge.size(), edge.Root(), signed_us);
      if (const Status put = store_.PutCheckpoint(checkpoint); !put.ok()) {
        fail_all(Internal("cannot store the checkpoint: " + put.message()));
        return;
      }
    }
    commit_started = std::chrono::steady_clock::now();
    const Status committed = txn->Commit();
    commit_done = std::chrono::steady_clock::now();
    if (!committed.ok()) {
      // COMMIT failing after writing part of the WAL may or may not have made the group durable,
      // whatever the connection now says, and after a failed fsync the kernel may have dropped
      // dirty pages it never wrote (PostgreSQL's "fsyncgate"): nothing written since the last
      // good fsync can be trusted to be on disk. Refuse every further append until a restart,
      // whose start-up check finds what is durable.
      poisoned_ = true;
      fail_all(Internal("commit failed: " + committed.message() +
                        "; appends are refused until cairnd restarts, then append the same "
                        "events again (appending an event again is idempotent)"));
      return;
    }
  }

  // Durable: now extend the tree in memory, publish the checkpoint, and answer.
  if (!new_leaves.empty()) {
    {
      MutexLock lock(&tree_mutex_);
      tree_.Adopt(std::move(edge), tiles);
    }
    // Size before checkpoint: whoever reads the new checkpoint finds the tree it covers.
    size_ = old_size + new_leaves.size();
    {
      MutexLock lock(&checkpoint_mutex_);
      checkpoint_ = checkpoint;
      checkpoint_size_ = size_;
    }
    last_signed_us_ = signed_us;
  } else {
    checkpoint = LatestCheckpoint();
  }
  const uint64_t tree_size = old_size + new_leaves.size();
  if (spdlog::should_log(spdlog::level::debug)) {
    const auto elapsed = std::chrono::steady_clock::now() - started;
    nlohmann::ordered_json line = {
        {"msg", "group committed"},
        {"requests", group.size()},
        {"appended", new_leaves.size()},
        {"tree_size", tree_size},
        {"duration_us", std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count()},
        {"commit_us",
         std::chrono::duration_cast<std::chrono::microseconds>(commit_done - commit_started)
             .count()}};
    LogFields(spdlog::level::debug, line);
  }
  // One source for the whole group's proofs, seeded with the hashes in hand: the group's leaves
  // (with the earlier leaves of their first run of 16) and the tiles just written. A shared
  // lock: readers go on, and only this thread writes tree_.
  ReaderMutexLock lock(&tree_mutex_);
  TreeSource source(tree_, store_, tree_size);
  if (!new_leaves.empty()) {
    known_leaves.insert(known_leaves.end(), new_leaves.begin(), new_leaves.end());
    source.AddLeaves(old_size & ~(kTileWidth - 1), known_leaves);
    source.AddTiles(tiles);
  }
  for (size_t r = 0; r < group.size(); ++r) {
    if (!pending[r].status.ok()) {
      Answer(group[r], pending[r].status);
      continue;
    }
    AppendOutcome outcome;
    outcome.tree_size = tree_size;
    outcome.checkpoint = checkpoint;
    outcome.events = std::move(pending[r].events);
    for (auto& event : outcome.events) {
      auto proof = ledger::InclusionProof(source, event.index, tree_size);
      if (proof.ok()) event.inclusion = std::move(proof).value();
    }
    Answer(group[r], std::move(outcome));
  }
}

Result<std::vector<Hash>> Sequencer::InclusionProof(uint64_t index, uint64_t tree_size) {
  if (tree_size > size()) {
    return Status(StatusCode::kOutOfRange, "tree_size: got " + std::to_string(tree_size) +
                                               ", the log has " + std::to_string(size()) +
                                               " entries");
  }
  ReaderMutexLock lock(&tree_mutex_);
  TreeSource source(tree_, store_, tree_size);
  return ledger::InclusionProof(source, index, tree_size);
}

Result<std::vector<Hash>> Sequencer::ConsistencyProof(uint64_t old_size, uint64_t new_size) {
  if (new_size > size()) {
    return Status(StatusCode::kOutOfRange, "new_size: got " + std::to_string(new_size) +
                                               ", the log has " + std::to_string(size()) +
                                               " entries");
  }
  ReaderMutexLock lock(&tree_mutex_);
  TreeSource source(tree_, store_, new_size);
  return ledger::ConsistencyProof(source, old_size, new_size);
}

}  // namespace cairn::node
