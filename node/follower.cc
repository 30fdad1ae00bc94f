#include "node/follower.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <deque>
#include <random>
#include <utility>

#include "common/clock.h"
#include "ledger/event.h"
#include "ledger/merkle.h"
#include "ledger/proofs.h"
#include "node/logging.h"

namespace cairn::node {

Follower::Follower(ReplicaStore& store, const keys::TrustRegistry& registry,
                   FollowerOptions options)
    : store_(store), registry_(registry), options_(std::move(options)) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(static_cast<int>(options_.max_message_bytes));
  // gRPC's own reconnect backoff (up to 120 s by default) must not outlast the follower's: after
  // a partition heals, the follower's next attempt should find the channel ready to connect.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS,
              static_cast<int>(options_.min_backoff.count()));
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, static_cast<int>(options_.min_backoff.count()));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, static_cast<int>(options_.max_backoff.count()));
  auto channel = grpc::CreateCustomChannel(options_.peer, options_.credentials, args);
  stub_ = cairn::v1::Federation::NewStub(channel);
  ledger_ = cairn::v1::Ledger::NewStub(channel);
  MutexLock lock(&mutex_);
  state_.size = store_.size();
}

Follower::~Follower() { Stop(); }

Status Follower::ResetVerifier() {
  verifier_.emplace(options_.log_id, registry_, options_.others);
  leaves_.clear();
  leaves_.reserve(store_.size());
  pending_.clear();
  pending_leaves_.clear();
  target_.reset();
  target_size_ = 0;
  verifier_dirty_ = false;
  CAIRN_RETURN_IF_ERROR(store_.ScanEntries([&](uint64_t index, const std::string& entry) {
    if (!verifier_->Add(index, entry)) return Status::Ok();  // reported below
    leaves_.push_back(verifier_->last_leaf());
    return Status::Ok();
  }));
  const auto checkpoint = store_.checkpoint();
  if (verifier_->failed()) {
    return DataLoss("replica " + store_.path() + " of log " + options_.log_id + ": entry " +
                    std::to_string(*verifier_->verdict().bad_index) + ": " +
                    verifier_->verdict().problem.message());
  }
  if (!checkpoint) {
    if (store_.size() > 0) {
      return DataLoss("replica " + store_.path() + ": " + std::to_string(store_.size()) +
                      " entries and no checkpoint covering them");
    }
    return Status::Ok();
  }
  const ledger::LogVerdict verdict = verifier_->Finish(*checkpoint);
  if (verdict.bad_index) {
    return DataLoss("replica " + store_.path() + " of log " + options_.log_id + ": " +
                    verdict.problem.message());
  }
  return Status::Ok();
}

Status Follower::Prime() {
  CAIRN_RETURN_IF_ERROR(ResetVerifier());
  const auto forks = store_.forks();
  if (!forks.empty()) {
    // Proof of a fork is never forgotten: this log is not followed again.
    permanent_ = true;
    SetState("stopped", "log " + options_.log_id + " forked (" + forks.back().reason() +
                            "); replication stopped; see cairn forks");
  }
  return Status::Ok();
}

void Follower::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread(&Follower::Run, this);
}

void Follower::Stop() {
  {
    MutexLock lock(&mutex_);
    stopping_ = true;
    if (context_ != nullptr) context_->TryCancel();
  }
  if (thread_.joinable()) thread_.join();
}

Follower::State Follower::state() const {
  MutexLock lock(&mutex_);
  State state = state_;
  state.size = store_.size();
  return state;
}

void Follower::SetState(const std::string& state, const std::string& error) {
  MutexLock lock(&mutex_);
  state_.state = state;
  if (!error.empty()) state_.last_error = error;
}

Status Follower::Halt(const cairn::v1::ForkEvidence& evidence) {
  Status recorded;
  if (store_.forks().empty()) recorded = store_.RecordFork(evidence);
  halted_ = true;
  SetState("stopped", "log " + options_.log_id + " forked (" + evidence.reason() +
                          "); replication stopped; see cairn forks");
  MutexLock lock(&mutex_);
  if (context_ != nullptr) context_->TryCancel();
  return recorded;
}

void Follower::Run() {
  if (permanent_ || halted_) return;
  std::mt19937_64 random(std::random_device{}());
  auto backoff = options_.min_backoff;
  while (true) {
    {
      MutexLock lock(&mutex_);
      if (stopping_) return;
      state_.state = "connecting";
    }
    const uint64_t size_before = store_.size();
    const Status ended = FollowOnce();
    {
      MutexLock lock(&mutex_);
      if (stopping_) return;
    }
    if (store_.size() > size_before) backoff = options_.min_backoff;  // progress: start over
    if (halted_) {
      // Halt() set the state; set it again in case this thread overwrote it meanwhile.
      const auto forks = store_.forks();
      SetState("stopped",
               "log " + options_.log_id + " forked (" +
                   (forks.empty() ? std::string("see cairn forks") : forks.back().reason()) +
                   "); replication stopped; see cairn forks");
      return;
    }
    if (permanent_) {
      SetState("stopped", ended.message());
      LogFields(spdlog::level::err, {{"msg", "replication stopped"},
                                     {"log_id", options_.log_id},
                                     {"peer", options_.peer},
                                     {"error", ended.message()}});
      return;
    }
    SetState("backing off", ended.message());
    LogFields(spdlog::level::warn, {{"msg", "replication stream ended"},
                                    {"log_id", options_.log_id},
                                    {"peer", options_.peer},
                                    {"error", ended.message()},
                                    {"retry_ms", backoff.count()}});
    // Full jitter in [backoff/2, backoff], so that followers of one peer do not retry together.
    std::uniform_int_distribution<int64_t> jitter(backoff.count() / 2, backoff.count());
    const auto wait = std::chrono::milliseconds(jitter(random));
    {
      MutexLock lock(&mutex_);
      mutex_.AwaitWithTimeout(Condition(&stopping_), absl::FromChrono(wait));
      if (stopping_) return;
    }
    backoff = std::min(backoff * 2, options_.max_backoff);
    if (verifier_dirty_) {
      if (const Status reset = ResetVerifier(); !reset.ok()) {
        SetState("stopped", reset.message());
        return;
      }
    }
  }
}

Status Follower::FollowOnce() {
  grpc::ClientContext context;
  {
    MutexLock lock(&mutex_);
    if (stopping_) return Unavailable("stopping");
    context_ = &context;
  }
  struct Clear {
    Follower* follower;
    ~Clear() {
      MutexLock lock(&follower->mutex_);
      follower->context_ = nullptr;
    }
  } clear{this};

  stream_checked_ = false;
  cairn::v1::FollowRequest request;
  request.set_log_id(options_.log_id);
  request.set_from_index(store_.size());
  auto reader = stub_->Follow(&context, request);
  // A reader thread takes messages off the stream while this thread verifies and stores them:
  // whatever arrived during one commit is stored by the next, in one transaction, so that a
  // follower keeps up with a leader that commits many small groups.
  // The reader also checks each entry's Ed25519 signature as it arrives (the costliest check),
  // so that it runs on another core than the sequential checks; the verifier skips only a
  // signature verified under the registry's key for its key id.
  struct Arrived {
    cairn::v1::FollowResponse message;
    std::string verified_with;
  };
  constexpr size_t kMaxQueued = 8192;
  Mutex queue_mutex;
  std::deque<Arrived> queue;
  bool ended = false;
  bool cancelled = false;  // the processing ended: the reader must not wait for room
  grpc::Status finished;
  std::thread read([&] {
    Arrived arrived;
    cairn::v1::LogEntry entry;
    while (reader->Read(&arrived.message)) {
      arrived.verified_with.clear();
      if (arrived.message.has_entry() && entry.ParseFromString(arrived.message.entry().entry())) {
        const keys::KeyRecord* key = registry_.FindKey(entry.event().key_id());
        if (key != nullptr && !key->is_log_key &&
            Verify(key->public_key, kEventDomain, entry.event().body(),
                   entry.event().signature())) {
          arrived.verified_with = key->public_key;
        }
      }
      MutexLock lock(&queue_mutex);
      // Bounded: a follower that verifies slower than the stream delivers holds at most
      // kMaxQueued messages; beyond that gRPC's flow control holds the leader back.
      const auto room = [&]() { return queue.size() < kMaxQueued || cancelled; };
      queue_mutex.Await(Condition(&room));
      queue.push_back(std::move(arrived));
      arrived = Arrived();
    }
    const grpc::Status status = reader->Finish();
    MutexLock lock(&queue_mutex);
    finished = status;
    ended = true;
  });
  Status result;
  std::deque<Arrived> batch;
  while (result.ok()) {
    bool done = false;
    {
      MutexLock lock(&queue_mutex);
      const auto ready = [&]() { return !queue.empty() || ended; };
      queue_mutex.Await(Condition(&ready));
      batch.swap(queue);
      done = ended && batch.empty();
    }
    if (done) break;
    {
      MutexLock lock(&mutex_);
      state_.state = "following";
      state_.last_contact_us = SystemClock().NowMicros();
    }
    for (const auto& arrived : batch) {
      result = Take(arrived.message, arrived.verified_with);
      if (!result.ok()) break;
    }
    batch.clear();
    // The complete groups verified so far are stored, even when a later message failed.
    const Status flushed = Flush();
    if (result.ok()) result = flushed;
  }
  if (!result.ok()) context.TryCancel();
  {
    MutexLock lock(&queue_mutex);
    cancelled = true;
  }
  read.join();
  if (!result.ok()) return result;
  return Unavailable("peer " + options_.peer + ": " +
                     (finished.ok() ? std::string("stream ended") : finished.error_message()));
}

Status Follower::Take(const cairn::v1::FollowResponse& message, const std::string& verified_with) {
  if (message.has_checkpoint()) {
    if (!pending_.empty()) {
      return DataLoss("peer sent a checkpoint before the entries of the previous one");
    }
    auto checkpoint = ledger::VerifyCheckpoint(message.checkpoint(), registry_);
    if (!checkpoint.ok()) return checkpoint.status().WithPrefix("peer's checkpoint");
    if (checkpoint->log_id() != options_.log_id) {
      return DataLoss("peer sent a checkpoint of log " + checkpoint->log_id() + ", not " +
                      options_.log_id);
    }
    const uint64_t size = checkpoint->size();
    {
      MutexLock lock(&mutex_);
      state_.leader_size = std::max(state_.leader_size, size);
    }
    if (size <= leaves_.size()) {
      // A size already stored: it must have the stored entries' root, or the log forked.
      const Hash root = ledger::RootOf({leaves_.begin(), leaves_.begin() + size});
      if (checkpoint->root_hash() != AsView(root)) {
        return Forked(message.checkpoint(), {},
                      "a checkpoint of size " + std::to_string(size) + " with root " +
                          ToHex(checkpoint->root_hash()) +
                          ", while the entries verified here have root " + ToHex(root));
      }
      return Status::Ok();
    }
    if (!stream_checked_ && !leaves_.empty()) {
      CAIRN_RETURN_IF_ERROR(CheckConsistency(message.checkpoint(), *checkpoint));
    }
    stream_checked_ = true;
    target_ = message.checkpoint();
    target_size_ = size;
    return Status::Ok();
  }
  if (!message.has_entry()) return DataLoss("peer sent an empty message");
  if (!target_) return DataLoss("peer sent an entry before any checkpoint covering it");
  const uint64_t index = message.entry().index();
  if (index != leaves_.size() + pending_.size() || index >= target_size_) {
    return DataLoss("peer sent entry " + std::to_string(index) + ", want entry " +
                    std::to_string(leaves_.size() + pending_.size()) + " of a checkpoint of size " +
                    std::to_string(target_size_));
  }
  verifier_dirty_ = true;
  // An entry that refers to an event of another log not replicated here yet waits for it (the
  // stream stays open; the leader holds what it has not sent), up to kMissingWait.
  const auto give_up = std::chrono::steady_clock::now() + kMissingWait;
  while (!verifier_->Add(index, message.entry().entry(), verified_with)) {
    if (std::chrono::steady_clock::now() >= give_up || halted_ || !verifier_->ForgetMissing()) {
      return verifier_->verdict().problem.WithPrefix("entry " + std::to_string(index));
    }
    MutexLock lock(&mutex_);
    state_.state = "waiting for other logs";
    if (mutex_.AwaitWithTimeout(Condition(&stopping_), absl::Milliseconds(20))) {
      return Unavailable("stopping");
    }
  }
  pending_.push_back(message.entry().entry());
  pending_leaves_.push_back(verifier_->last_leaf());
  if (leaves_.size() + pending_.size() < target_size_) return Status::Ok();

  // Every entry of the checkpoint is in hand: their root must be the signed one.
  const ledger::LogVerdict verdict = verifier_->Finish(*target_);
  if (verdict.bad_index) return verdict.problem;
  // Verified and complete: stored with the next Flush(), with every other group that arrived
  // meanwhile, in one transaction.
  leaves_.insert(leaves_.end(), pending_leaves_.begin(), pending_leaves_.end());
  for (std::string& entry : pending_) ready_.push_back(std::move(entry));
  ready_checkpoint_ = std::move(target_);
  pending_.clear();
  pending_leaves_.clear();
  target_.reset();
  verifier_dirty_ = false;
  return Status::Ok();
}

Status Follower::Flush() {
  if (ready_.empty()) return Status::Ok();
  const Status stored = store_.Append(ready_, *ready_checkpoint_);
  ready_.clear();
  ready_checkpoint_.reset();
  if (!stored.ok()) {
    // After a failed COMMIT nothing is known of the disk (node/sequencer.cc): stop.
    permanent_ = true;
    return Internal("cannot store entries of log " + options_.log_id + ": " + stored.message());
  }
  return Status::Ok();
}

Status Follower::CheckConsistency(const cairn::v1::SignedCheckpoint& theirs,
                                  const cairn::v1::Checkpoint& parsed) {
  const uint64_t old_size = leaves_.size();
  cairn::v1::GetConsistencyProofRequest request;
  request.set_old_size(old_size);
  request.set_new_size(parsed.size());
  cairn::v1::GetConsistencyProofResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  const grpc::Status s = ledger_->GetConsistencyProof(&context, request, &response);
  if (!s.ok()) {
    return Unavailable("peer " + options_.peer + ": consistency proof " + std::to_string(old_size) +
                       " -> " + std::to_string(parsed.size()) + ": " + s.error_message());
  }
  auto proof = ledger::HashesFromProto(response.proof().hashes(), "ConsistencyProof.hashes");
  auto new_root = ledger::HashFromBytes(parsed.root_hash(), "Checkpoint.root_hash");
  if (!new_root.ok()) return new_root.status();
  const Hash old_root = ledger::RootOf(leaves_);
  if (!proof.ok() ||
      !ledger::VerifyConsistency(old_size, parsed.size(), old_root, *new_root, *proof)) {
    return Forked(theirs, response.proof(),
                  "no consistency proof from the checkpoint of size " + std::to_string(old_size) +
                      " verified here (root " + ToHex(old_root) + ") to the peer's of size " +
                      std::to_string(parsed.size()) + " (root " + ToHex(*new_root) + ")");
  }
  return Status::Ok();
}

Status Follower::Forked(const cairn::v1::SignedCheckpoint& theirs,
                        const cairn::v1::ConsistencyProof& proof, const std::string& reason) {
  permanent_ = true;
  cairn::v1::ForkEvidence evidence;
  evidence.set_log_id(options_.log_id);
  if (auto ours = store_.checkpoint()) *evidence.mutable_ours() = *ours;
  *evidence.mutable_theirs() = theirs;
  *evidence.mutable_proof() = proof;
  evidence.set_reason(reason);
  evidence.set_peer(options_.peer);
  *evidence.mutable_found_at() = FromMicros(SystemClock().NowMicros());
  const Status recorded = store_.RecordFork(evidence);
  LogFields(spdlog::level::err, {{"msg", "fork detected"},
                                 {"log_id", options_.log_id},
                                 {"peer", options_.peer},
                                 {"reason", reason},
                                 {"recorded", recorded.ok()}});
  return FailedPrecondition("fork: log " + options_.log_id + " signed " + reason +
                            "; replication stopped (cairn forks shows the evidence)");
}

}  // namespace cairn::node
