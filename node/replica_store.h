// ReplicaStore: this node's verified copy of another node's log, in a SQLite file of its own.
//
// A follower (node/follower.h) stores entries only after checking them, and stores them together
// with the signed checkpoint that covers them, in one transaction: the replica never holds an
// entry past a checkpoint of its log. Entries are kept as the exact bytes the leader served.
// WAL mode, synchronous=FULL, like the node's own database.
//
// Schema (PRAGMA user_version 1):
//   meta(key, value)            log_id; checkpoint: the latest SignedCheckpoint stored
//   entries(idx PK, entry)      serialized LogEntry, verbatim
//
// Thread-safety: Append() from one thread (the follower's); size(), checkpoint() and ReadEntries()
// from any.
#pragma once

#include <absl/base/thread_annotations.h>
#include <absl/synchronization/mutex.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cairn/v1/log.pb.h"
#include "common/status.h"
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
  // Calls `visit` with every stored entry in index order; stops at the first error it returns.
  Status ScanEntries(const std::function<Status(uint64_t index, const std::string& entry)>& visit);

  struct PrivateTag {};
  ReplicaStore(PrivateTag, std::string path, std::string log_id);

 private:
  Status Initialize();

  const std::string path_;
  const std::string log_id_;
  std::atomic<uint64_t> size_{0};

  mutable absl::Mutex mutex_;  // one connection, used by the writer and the readers in turn
  SqliteDb db_ ABSL_GUARDED_BY(mutex_);
  SqliteStmt insert_entry_ ABSL_GUARDED_BY(mutex_);
  SqliteStmt put_meta_ ABSL_GUARDED_BY(mutex_);
  std::optional<cairn::v1::SignedCheckpoint> checkpoint_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace cairn::node
