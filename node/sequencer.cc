#include "node/sequencer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <utility>

#include "ledger/validate.h"

namespace cairn::node {

// ---------------------------------------------------------------------------------------------
// AppendValidator

namespace {

std::string JoinHosts(const std::set<std::string>& hosts) {
  std::string text;
  for (const auto& h : hosts) {
    if (!text.empty()) text += ", ";
    text += h;
  }
  return text.empty() ? "none" : text;
}

}  // namespace

AppendValidator::AppendValidator(const keys::TrustRegistry& registry, const Clock& clock,
                                 std::set<std::string> hosted_participants)
    : registry_(registry),
      clock_(clock),
      hosted_(std::move(hosted_participants)),
      hosts_text_(JoinHosts(hosted_)) {}

Result<ledger::ParsedEvent> AppendValidator::Check(cairn::v1::SignedEvent event) const {
  CAIRN_ASSIGN_OR_RETURN(ledger::ParsedEvent parsed, ledger::ParseSignedEvent(std::move(event)));
  const int64_t now = clock_.NowMicros();
  CAIRN_RETURN_IF_ERROR(ledger::ValidateSchema(parsed.body, now));
  CAIRN_RETURN_IF_ERROR(ledger::VerifyAuthority(parsed, registry_, now));
  if (hosted_.count(parsed.body.author()) == 0) {
    return PermissionDenied("author " + parsed.body.author() +
                            " is not hosted by this node (hosts: " + hosts_text_ + ")");
  }
  return parsed;
}

// ---------------------------------------------------------------------------------------------
// MerkleCache

void MerkleCache::Append(const Hash& leaf_hash) {
  if (levels_.empty()) levels_.emplace_back();
  levels_[0].push_back(leaf_hash);
  // Each completed pair at level k makes one node at level k + 1.
  uint64_t i = levels_[0].size() - 1;
  for (size_t k = 0; i & 1; ++k, i >>= 1) {
    const Hash parent = ledger::HashChildren(levels_[k][i - 1], levels_[k][i]);
    if (levels_.size() <= k + 1) levels_.emplace_back();
    levels_[k + 1].push_back(parent);
  }
}

Result<Hash> MerkleCache::Subtree(uint32_t level, uint64_t index) {
  if (level >= levels_.size() || index >= levels_[level].size()) {
    return InvalidArgument("subtree at level " + std::to_string(level) + " index " +
                           std::to_string(index) + " is not complete in a tree of " +
                           std::to_string(size()) + " leaves");
  }
  return levels_[level][index];
}

void MerkleCache::Truncate(uint64_t size) {
  for (size_t k = 0; k < levels_.size(); ++k) {
    const uint64_t keep = k < 64 ? (size >> k) : 0;
    if (levels_[k].size() > keep) levels_[k].resize(keep);
  }
  while (!levels_.empty() && levels_.back().empty()) levels_.pop_back();
}

// ---------------------------------------------------------------------------------------------
// ScanLog

namespace {

// Why `stored` is not a sound entry at `expected_index` after `prev_leaf`; empty when it is.
std::vector<std::string> EntryProblems(const StoredEntry& stored, const std::string& log_id,
                                       const Hash& prev_leaf, const Hash& leaf) {
  std::vector<std::string> problems;
  cairn::v1::LogEntry entry;
  if (!entry.ParseFromString(stored.entry)) {
    problems.push_back("stored bytes do not parse as a LogEntry");
  } else {
    if (entry.index() != stored.index) {
      problems.push_back("LogEntry.index: got " + std::to_string(entry.index()) + ", want " +
                         std::to_string(stored.index));
    }
    if (entry.log_id() != log_id) {
      problems.push_back("LogEntry.log_id: got \"" + entry.log_id() + "\", want \"" + log_id +
                         "\"");
    }
    if (entry.prev_entry_hash() != AsView(prev_leaf)) {
      problems.push_back(
          "LogEntry.prev_entry_hash: got " + ToHex(entry.prev_entry_hash()) + ", want " +
          ToHex(prev_leaf) +
          (stored.index == 0 ? " (zeros for the first entry)" : " (the previous leaf hash)"));
    }
    const Hash event_id = ledger::EventId(entry.event().body());
    if (stored.event_id != AsView(event_id)) {
      problems.push_back("stored event_id " + ToHex(stored.event_id) +
                         " is not the id of the entry's event " + ToHex(event_id));
    }
  }
  if (stored.leaf_hash != AsView(leaf)) {
    problems.push_back("stored leaf_hash " + ToHex(stored.leaf_hash) +
                       " is not SHA-256(0x00 || entry) = " + ToHex(leaf));
  }
  if (stored.event_key != EventKey(stored.event_id)) {
    problems.push_back("stored event_key " + std::to_string(stored.event_key) +
                       " is not the prefix of event_id " + ToHex(stored.event_id));
  }
  return problems;
}

}  // namespace

Result<ScannedLog> ScanLog(Storage& storage, const std::string& log_id, bool find_all) {
  ScannedLog scanned;
  uint64_t expected = 0;
  Hash prev_leaf{};  // zeros before entry 0
  bool stopped = false;
  const Status scan = storage.ScanEntries([&](const StoredEntry& stored) -> Status {
    if (stored.index != expected) {
      scanned.problems.push_back({expected, "entry " + std::to_string(expected) +
                                                " is missing (the next stored entry is " +
                                                std::to_string(stored.index) + ")"});
      if (!find_all) {
        stopped = true;
        return Internal("stop");
      }
      expected = stored.index;
    }
    const Hash leaf = ledger::LeafHash(stored.entry);
    const auto problems = EntryProblems(stored, log_id, prev_leaf, leaf);
    for (const auto& what : problems) scanned.problems.push_back({stored.index, what});
    if (!problems.empty() && !find_all) {
      stopped = true;
      return Internal("stop");
    }
    if (scanned.problems.empty()) scanned.leaves.push_back(leaf);
    prev_leaf = leaf;
    ++expected;
    return Status::Ok();
  });
  if (!scan.ok() && !stopped) return scan;
  return scanned;
}

// ---------------------------------------------------------------------------------------------
// Sequencer

Sequencer::Sequencer(Storage& storage, const keys::TrustRegistry& registry, const Clock& clock,
                     SequencerOptions options, const std::vector<Hash>& leaves)
    : storage_(storage), registry_(registry), clock_(clock), options_(std::move(options)) {
  for (const Hash& leaf : leaves) {
    tree_.Append(leaf);
    cache_.Append(leaf);
  }
  if (!leaves.empty()) last_leaf_ = leaves.back();
  size_ = tree_.size();
  checkpoint_ = SignTree(clock_.NowMicros());
  writer_ = std::thread(&Sequencer::WriterLoop, this);
}

Sequencer::~Sequencer() { Stop(); }

void Sequencer::Stop() {
  std::call_once(stop_once_, [this] {
    {
      std::lock_guard<std::mutex> lock(queue_mutex_);
      stopping_ = true;
    }
    queue_cv_.notify_all();
    if (writer_.joinable()) writer_.join();
  });
}

cairn::v1::SignedCheckpoint Sequencer::LatestCheckpoint() const {
  std::lock_guard<std::mutex> lock(checkpoint_mutex_);
  return checkpoint_;
}

std::future<Result<AppendOutcome>> Sequencer::Submit(ledger::ParsedEvent event) {
  std::vector<ledger::ParsedEvent> events;
  events.push_back(std::move(event));
  return Enqueue(std::move(events), /*batch=*/false);
}

std::future<Result<AppendOutcome>> Sequencer::SubmitBatch(std::vector<ledger::ParsedEvent> events) {
  return Enqueue(std::move(events), /*batch=*/true);
}

std::future<Result<AppendOutcome>> Sequencer::Enqueue(std::vector<ledger::ParsedEvent> events,
                                                      bool batch) {
  Request request;
  request.events = std::move(events);
  request.batch = batch;
  auto future = request.promise.get_future();
  if (request.events.empty()) {
    request.promise.set_value(InvalidArgument("events: got 0, want at least 1"));
    return future;
  }
  {
    std::lock_guard<std::mutex> lock(queue_mutex_);
    if (stopping_) {
      request.promise.set_value(Unavailable("cairnd is shutting down"));
      return future;
    }
    queue_.push_back(std::move(request));
  }
  queue_cv_.notify_one();
  return future;
}

void Sequencer::WriterLoop() {
  while (true) {
    std::vector<Request> group;
    {
      std::unique_lock<std::mutex> lock(queue_mutex_);
      queue_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued has been answered
      size_t events = 0;
      while (!queue_.empty() && (group.empty() || events + queue_.front().events.size() <=
                                                      options_.max_group_events)) {
        events += queue_.front().events.size();
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    WriteGroup(group);
  }
}

cairn::v1::SignedCheckpoint Sequencer::SignTree(int64_t now) {
  cairn::v1::Checkpoint checkpoint;
  checkpoint.set_log_id(options_.log_id);
  checkpoint.set_size(tree_.size());
  checkpoint.set_root_hash(HashToString(tree_.Root()));
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
    auto existing = storage_.FindEntryForWrite(event.id);
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

    auto effects = ledger::CheckAndPlanCustody(event, storage_, options_.custody);
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
    Status written = storage_.InsertEntry(next_index, event.id, leaf, bytes);
    if (written.ok()) written = storage_.ApplyEffects(event, next_index, *effects);
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
    for (auto& request : group) request.promise.set_value(status);
  };
  if (poisoned_) {
    fail_all(Internal(
        "an earlier commit failed and the log's state is uncertain; restart cairnd to recover"));
    return;
  }
  const auto started = std::chrono::steady_clock::now();  // for the debug log only
  const int64_t appended_at = clock_.NowMicros();
  std::vector<Pending> pending(group.size());
  std::vector<Hash> new_leaves;
  uint64_t next_index = tree_.size();
  Hash prev_leaf = last_leaf_;
  {
    auto txn = storage_.Begin();
    if (!txn.ok()) {
      fail_all(Internal("cannot begin a transaction: " + txn.status().message()));
      return;
    }
    for (size_t r = 0; r < group.size(); ++r) {
      auto savepoint = storage_.BeginSavepoint();
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
    const Status committed = txn->Commit();
    if (!committed.ok()) {
      // COMMIT failing after writing part of the WAL may or may not have made the group durable.
      // If storage no longer matches memory, refuse further appends until a restart rescans.
      auto stored = storage_.SizeForWrite();
      if (!stored.ok() || *stored != tree_.size()) poisoned_ = true;
      fail_all(Internal("commit failed: " + committed.message() +
                        "; retry (appending the same event again is idempotent)"));
      return;
    }
  }

  // Durable: now extend the tree, sign, and answer.
  {
    std::unique_lock<std::shared_mutex> lock(cache_mutex_);
    for (const Hash& leaf : new_leaves) {
      tree_.Append(leaf);
      cache_.Append(leaf);
    }
  }
  cairn::v1::SignedCheckpoint checkpoint;
  if (!new_leaves.empty()) {
    last_leaf_ = new_leaves.back();
    checkpoint = SignTree(clock_.NowMicros());
    {
      std::lock_guard<std::mutex> lock(checkpoint_mutex_);
      checkpoint_ = checkpoint;
    }
    size_ = tree_.size();
  } else {
    checkpoint = LatestCheckpoint();
  }
  const uint64_t tree_size = tree_.size();
  if (spdlog::should_log(spdlog::level::debug)) {
    const auto elapsed = std::chrono::steady_clock::now() - started;
    nlohmann::ordered_json line = {
        {"msg", "group committed"},
        {"requests", group.size()},
        {"appended", new_leaves.size()},
        {"tree_size", tree_size},
        {"duration_us", std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count()}};
    spdlog::debug("{}", line.dump());
  }
  for (size_t r = 0; r < group.size(); ++r) {
    if (!pending[r].status.ok()) {
      group[r].promise.set_value(pending[r].status);
      continue;
    }
    AppendOutcome outcome;
    outcome.tree_size = tree_size;
    outcome.checkpoint = checkpoint;
    outcome.events = std::move(pending[r].events);
    for (auto& event : outcome.events) {
      auto proof = ledger::InclusionProof(cache_, event.index, tree_size);
      if (proof.ok()) event.inclusion = std::move(proof).value();
    }
    group[r].promise.set_value(std::move(outcome));
  }
}

Result<std::vector<Hash>> Sequencer::InclusionProof(uint64_t index, uint64_t tree_size) {
  if (tree_size > size()) {
    return Status(StatusCode::kOutOfRange, "tree_size: got " + std::to_string(tree_size) +
                                               ", the log has " + std::to_string(size()) +
                                               " entries");
  }
  std::shared_lock<std::shared_mutex> lock(cache_mutex_);
  return ledger::InclusionProof(cache_, index, tree_size);
}

Result<std::vector<Hash>> Sequencer::ConsistencyProof(uint64_t old_size, uint64_t new_size) {
  if (new_size > size()) {
    return Status(StatusCode::kOutOfRange, "new_size: got " + std::to_string(new_size) +
                                               ", the log has " + std::to_string(size()) +
                                               " entries");
  }
  std::shared_lock<std::shared_mutex> lock(cache_mutex_);
  return ledger::ConsistencyProof(cache_, old_size, new_size);
}

}  // namespace cairn::node
