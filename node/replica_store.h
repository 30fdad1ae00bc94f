// ReplicaStore: this node's verified copy of another node's log, in a SQLite file of its own.
//
// A follower (node/follower.h) stores entries only after checking them, and stores them together
// with the signed checkpoint that covers them, in one transaction: the replica never holds an
// entry past a checkpoint of its log. Entries are kept as the exact bytes the leader served.
// WAL mode, synchronous=FULL, like the node's own database.
//
// Schema (PRAGMA user_version 1):
//   meta(key, value)            log_id; checkpoint: the latest SignedCheckpoint stored
//   entries(idx PK, event_id, entry)
//                               serialized LogEntry, verbatim; event_id (32 bytes) indexed
//   lot_entries(lot_id, idx, role)
//                               every entry that names a lot, with how (ledger::LotUse)
//   forks(found_at, evidence)   serialized cairn.v1.ForkEvidence: proof this log forked
//
// Thread-safety: Append() from one thread (the follower's); size(), checkpoint() and ReadEntries()
// from any.
#pragma once

#include <absl/base/thread_annotations.h>
#include <absl/time/time.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cairn/v1/federation.pb.h"
#include "cairn/v1/log.pb.h"
#include "common/crypto.h"
#include "common/status.h"
#include "common/sync.h"
#include "node/sqlite.h"

namespace cairn::node {

class ReplicaStore {
 public:
  // Opens (creating when absent) the replica of `log_id` at `path`. FAILED_PRECONDITION when the
  // file holds another log's replica or is not a replica; INTERNAL on a SQLite error.
  static Result<std::unique_ptr<ReplicaStore>> Open(const std::string& path,
                                                    const std::string& log_id);
  ReplicaStore(const ReplicaStore&) = delete;
  ReplicaStore& operator=(const ReplicaStore&) = delete;

  const std::string& log_id() const { return log_id_; }
  const std::string& path() const { return path_; }
  // Entries stored.
  uint64_t size() const { return size_.load(); }
  // The latest checkpoint stored, or nullopt for an empty replica.
  std::optional<cairn::v1::SignedCheckpoint> checkpoint() const;

  // Stores `entries` (the entries at indexes size(), size()+1, ...) and `checkpoint`, which the
  // caller checked covers exactly the entries then stored, in one transaction.
  Status Append(const std::vector<std::string>& entries,
                const cairn::v1::SignedCheckpoint& checkpoint);
  // Called after every Append commits (from the appending thread). Set before the first Append.
  void set_on_append(std::function<void()> on_append) { on_append_ = std::move(on_append); }
  // Records proof that the log forked (kept forever: the follower never follows it again).
  Status RecordFork(const cairn::v1::ForkEvidence& evidence);
  // Every fork recorded, oldest first.
  std::vector<cairn::v1::ForkEvidence> forks() const;
  struct Found {
    uint64_t index = 0;
    std::string entry;
  };
  // The stored entry holding the event `event_id`, or nullopt.
  Result<std::optional<Found>> FindEvent(const Hash& event_id) const;
  // Stored entries whose event id (raw bytes) lies in [low, high] (32 bytes each), in index
  // order, at most `limit`.
  Result<std::vector<Found>> FindIdRange(const std::string& low, const std::string& high,
                                         size_t limit) const;
  // Stored entries with start <= index < end in order, stopping once they exceed `max_bytes` in
  // total (at least one is returned when any is in range).
  Result<std::vector<Found>> ReadEntries(uint64_t start, uint64_t end, size_t max_bytes) const;
  // The latest stored checkpoint once it covers more than `size` entries, or the latest at
  // `deadline` (nullopt for an empty replica).
  std::optional<cairn::v1::SignedCheckpoint> WaitForSizeAbove(uint64_t size,
                                                              absl::Time deadline) const;
  // The Merkle root of the first `size` stored entries (size <= size()). From the stored
  // checkpoints seen since the store was opened when one has that size, else computed.
  Result<Hash> RootAt(uint64_t size) const;
  // The stored entry at `index`, or nullopt.
  Result<std::optional<std::string>> ReadEntry(uint64_t index) const;
  // Indexes of the stored entries that name `lot_id` (LotsNamedBy), ascending.
  Result<std::vector<uint64_t>> EntryIndexesOfLot(const std::string& lot_id) const;
  // The stored entry whose event created `lot_id`, or nullopt.
  Result<std::optional<std::string>> CreatorOfLot(const std::string& lot_id) const;
  // Calls `visit` with every stored entry in index order; stops at the first error it returns.
  Status ScanEntries(
      const std::function<Status(uint64_t index, const std::string& entry)>& visit) const;

  struct PrivateTag {};
  ReplicaStore(PrivateTag, std::string path, std::string log_id);

 private:
  Status Initialize();
  Status AppendLocked(const std::vector<std::string>& entries,
                      const cairn::v1::SignedCheckpoint& checkpoint);
  void RememberRoot(const cairn::v1::SignedCheckpoint& signed_checkpoint)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  const std::string path_;
  const std::string log_id_;
  std::atomic<uint64_t> size_{0};  // written under mutex_
  std::function<void()> on_append_;

  mutable Mutex mutex_;  // one connection, used by the writer and the readers in turn
  SqliteDb db_ ABSL_GUARDED_BY(mutex_);
  SqliteStmt insert_entry_ ABSL_GUARDED_BY(mutex_);
  SqliteStmt insert_lot_entry_ ABSL_GUARDED_BY(mutex_);
  SqliteStmt find_event_ ABSL_GUARDED_BY(mutex_);
  SqliteStmt find_id_range_ ABSL_GUARDED_BY(mutex_);
  SqliteStmt read_entry_ ABSL_GUARDED_BY(mutex_);
  SqliteStmt read_range_ ABSL_GUARDED_BY(mutex_);
  SqliteStmt lot_entries_ ABSL_GUARDED_BY(mutex_);
  SqliteStmt lot_creator_ ABSL_GUARDED_BY(mutex_);
  SqliteStmt put_meta_ ABSL_GUARDED_BY(mutex_);
  std::optional<cairn::v1::SignedCheckpoint> checkpoint_ ABSL_GUARDED_BY(mutex_);
  std::vector<cairn::v1::ForkEvidence> forks_ ABSL_GUARDED_BY(mutex_);
  // Roots by size: of the checkpoints stored, and of sizes RootAt computed.
  mutable std::map<uint64_t, Hash> roots_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace cairn::node
