#include "node/replica_store.h"

#include <utility>

#include "ledger/event.h"
#include "ledger/merkle.h"

namespace cairn::node {

namespace {

constexpr int kReplicaSchemaVersion = 1;

Status Exec(sqlite3* db, const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error != nullptr ? error : sqlite3_errmsg(db);
    sqlite3_free(error);
    return Internal(std::string("SQLite: ") + sql + ": " + message);
  }
  return Status::Ok();
}

}  // namespace

ReplicaStore::ReplicaStore(PrivateTag, std::string path, std::string log_id)
    : path_(std::move(path)), log_id_(std::move(log_id)) {}

Result<std::unique_ptr<ReplicaStore>> ReplicaStore::Open(const std::string& path,
                                                         const std::string& log_id) {
  auto store = std::make_unique<ReplicaStore>(PrivateTag{}, path, log_id);
  CAIRN_RETURN_IF_ERROR(store->Initialize());
  return store;
}

Status ReplicaStore::Initialize() {
  MutexLock lock(&mutex_);
  CAIRN_ASSIGN_OR_RETURN(db_, OpenConnection(path_, /*read_only=*/false, 5000));
  sqlite3* db = db_.get();
  CAIRN_RETURN_IF_ERROR(Exec(db, "PRAGMA journal_mode=WAL"));
  CAIRN_RETURN_IF_ERROR(Exec(db, "PRAGMA synchronous=FULL"));
  int64_t version = 0;
  {
    CAIRN_ASSIGN_OR_RETURN(auto stmt, Prepare(db, "PRAGMA user_version"));
    Query q(db, stmt.get());
    CAIRN_ASSIGN_OR_RETURN(const bool row, q.Next());
    if (row) version = q.ColumnInt(0);
  }
  if (version == 0) {
    CAIRN_RETURN_IF_ERROR(Exec(db,
                               "BEGIN IMMEDIATE;"
                               "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value BLOB);"
                               "CREATE TABLE IF NOT EXISTS entries(idx INTEGER PRIMARY KEY, "
                               "event_id BLOB NOT NULL, entry BLOB NOT NULL);"
                               "CREATE INDEX IF NOT EXISTS entries_event ON entries(event_id);"
                               "CREATE TABLE IF NOT EXISTS lot_entries(lot_id TEXT NOT NULL, "
                               "idx INTEGER NOT NULL, role INTEGER NOT NULL, "
                               "PRIMARY KEY(lot_id, idx, role)) WITHOUT ROWID;"
                               "CREATE TABLE IF NOT EXISTS forks(found_at INTEGER NOT NULL, "
                               "evidence BLOB NOT NULL);"
                               "PRAGMA user_version=1;"
                               "COMMIT"));
  } else if (version != kReplicaSchemaVersion) {
    return FailedPrecondition("replica " + path_ + " has schema version " +
                              std::to_string(version) + ", which this build does not know");
  }
  CAIRN_ASSIGN_OR_RETURN(insert_entry_,
                         Prepare(db, "INSERT INTO entries(idx, event_id, entry) VALUES(?, ?, ?)"));
  CAIRN_ASSIGN_OR_RETURN(
      insert_lot_entry_,
      Prepare(db, "INSERT OR IGNORE INTO lot_entries(lot_id, idx, role) VALUES(?, ?, ?)"));
  CAIRN_ASSIGN_OR_RETURN(find_event_,
                         Prepare(db, "SELECT idx, entry FROM entries WHERE event_id = ?"));
  CAIRN_ASSIGN_OR_RETURN(find_id_range_,
                         Prepare(db,
                                 "SELECT idx, entry FROM entries WHERE event_id BETWEEN ? AND ? "
                                 "ORDER BY idx LIMIT ?"));
  CAIRN_ASSIGN_OR_RETURN(read_entry_, Prepare(db, "SELECT entry FROM entries WHERE idx = ?"));
  CAIRN_ASSIGN_OR_RETURN(
      read_range_,
      Prepare(db, "SELECT idx, entry FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx"));
  CAIRN_ASSIGN_OR_RETURN(lot_entries_,
                         Prepare(db,
                                 "SELECT DISTINCT idx FROM lot_entries WHERE lot_id = ? "
                                 "ORDER BY idx"));
  CAIRN_ASSIGN_OR_RETURN(lot_creator_,
                         Prepare(db,
                                 "SELECT e.entry FROM lot_entries l JOIN entries e ON "
                                 "e.idx = l.idx WHERE l.lot_id = ? AND l.role = ? "
                                 "ORDER BY l.idx LIMIT 1"));
  CAIRN_ASSIGN_OR_RETURN(put_meta_,
                         Prepare(db, "INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)"));
  CAIRN_ASSIGN_OR_RETURN(auto get_meta, Prepare(db, "SELECT value FROM meta WHERE key = ?"));
  {
    Query q(db, get_meta.get());
    q.Text("log_id");
    CAIRN_ASSIGN_OR_RETURN(const bool row, q.Next());
    if (row && q.ColumnBlob(0) != log_id_) {
      return FailedPrecondition("replica " + path_ + " holds log " + q.ColumnBlob(0) + ", not " +
                                log_id_);
    }
    if (!row) {
      Query put(db, put_meta_.get());
      put.Text("log_id").Blob(log_id_);
      CAIRN_RETURN_IF_ERROR(put.Run());
    }
  }
  {
    Query q(db, get_meta.get());
    q.Text("checkpoint");
    CAIRN_ASSIGN_OR_RETURN(const bool row, q.Next());
    if (row) {
      cairn::v1::SignedCheckpoint checkpoint;
      if (!checkpoint.ParseFromString(q.ColumnBlob(0))) {
        return DataLoss("replica " + path_ + ": the stored checkpoint does not parse");
      }
      checkpoint_ = std::move(checkpoint);
      RememberRoot(*checkpoint_);
    }
  }
  CAIRN_ASSIGN_OR_RETURN(auto count,
                         Prepare(db, "SELECT count(*), coalesce(max(idx) + 1, 0) FROM entries"));
  Query q(db, count.get());
  CAIRN_ASSIGN_OR_RETURN(const bool row, q.Next());
  if (row && q.ColumnInt(0) != q.ColumnInt(1)) {
    return DataLoss("replica " + path_ + ": entries are missing (" +
                    std::to_string(q.ColumnInt(0)) + " stored, highest index " +
                    std::to_string(q.ColumnInt(1) - 1) + ")");
  }
  size_ = row ? static_cast<uint64_t>(q.ColumnInt(0)) : 0;
  return Status::Ok();
}

std::optional<cairn::v1::SignedCheckpoint> ReplicaStore::checkpoint() const {
  MutexLock lock(&mutex_);
  return checkpoint_;
}

Status ReplicaStore::AppendLocked(const std::vector<std::string>& entries,
                                  const cairn::v1::SignedCheckpoint& checkpoint) {
  MutexLock lock(&mutex_);
  sqlite3* db = db_.get();
  CAIRN_RETURN_IF_ERROR(Exec(db, "BEGIN IMMEDIATE"));
  const auto rollback = [db](Status status) {
    (void)Exec(db, "ROLLBACK");
    return status;
  };
  uint64_t index = size_.load();
  for (const std::string& entry : entries) {
    // The caller verified every entry; one that does not parse here is a caller's bug.
    cairn::v1::LogEntry parsed;
    if (!parsed.ParseFromString(entry)) {
      return rollback(
          Internal("replica " + log_id_ + ": entry " + std::to_string(index) + " does not parse"));
    }
    const Hash event_id = ledger::EventId(parsed.event().body());
    cairn::v1::EventBody body;
    if (!body.ParseFromString(parsed.event().body())) {
      return rollback(Internal("replica " + log_id_ + ": entry " + std::to_string(index) +
                               ": the event body does not parse"));
    }
    Query q(db, insert_entry_.get());
    q.Int(static_cast<int64_t>(index)).Blob(AsView(event_id)).Blob(entry);
    if (Status s = q.Run(); !s.ok()) return rollback(s);
    for (const auto& [lot_id, use] : ledger::LotsNamedBy(body)) {
      Query lot(db, insert_lot_entry_.get());
      lot.Text(*lot_id).Int(static_cast<int64_t>(index)).Int(static_cast<int64_t>(use));
      if (Status s = lot.Run(); !s.ok()) return rollback(s);
    }
    ++index;
  }
  {
    Query q(db, put_meta_.get());
    q.Text("checkpoint").Blob(checkpoint.SerializeAsString());
    if (Status s = q.Run(); !s.ok()) return rollback(s);
  }
  if (Status s = Exec(db, "COMMIT"); !s.ok()) return rollback(s);
  size_ = index;
  checkpoint_ = checkpoint;
  RememberRoot(checkpoint);
  return Status::Ok();
}

void ReplicaStore::RememberRoot(const cairn::v1::SignedCheckpoint& signed_checkpoint) {
  cairn::v1::Checkpoint parsed;
  if (!parsed.ParseFromString(signed_checkpoint.checkpoint()) || parsed.root_hash().size() != 32) {
    return;
  }
  Hash root{};
  std::copy(parsed.root_hash().begin(), parsed.root_hash().end(), root.begin());
  roots_[parsed.size()] = root;
}

Result<Hash> ReplicaStore::RootAt(uint64_t size) const {
  {
    MutexLock lock(&mutex_);
    if (auto it = roots_.find(size); it != roots_.end()) return it->second;
  }
  if (size > size_.load()) {
    return OutOfRange("replica of " + log_id_ + " holds " + std::to_string(size_.load()) +
                      " entries, not " + std::to_string(size));
  }
  std::vector<Hash> leaves;
  leaves.reserve(size);
  CAIRN_RETURN_IF_ERROR(ScanEntries([&](uint64_t index, const std::string& entry) {
    if (index < size) leaves.push_back(ledger::LeafHash(entry));
    return Status::Ok();
  }));
  const Hash root = ledger::RootOf(leaves);
  MutexLock lock(&mutex_);
  roots_[size] = root;  // computed once: gossip may name the same old size again
  return root;
}

Status ReplicaStore::Append(const std::vector<std::string>& entries,
                            const cairn::v1::SignedCheckpoint& checkpoint) {
  CAIRN_RETURN_IF_ERROR(AppendLocked(entries, checkpoint));
  if (on_append_) on_append_();
  return Status::Ok();
}

Status ReplicaStore::RecordFork(const cairn::v1::ForkEvidence& evidence) {
  MutexLock lock(&mutex_);
  CAIRN_ASSIGN_OR_RETURN(auto stmt,
                         Prepare(db_.get(), "INSERT INTO forks(found_at, evidence) VALUES(?, ?)"));
  Query q(db_.get(), stmt.get());
  q.Int(evidence.found_at().seconds()).Blob(evidence.SerializeAsString());
  CAIRN_RETURN_IF_ERROR(q.Run());
  forks_.push_back(evidence);
  return Status::Ok();
}

std::vector<cairn::v1::ForkEvidence> ReplicaStore::forks() const {
  MutexLock lock(&mutex_);
  return forks_;
}

Result<std::optional<ReplicaStore::Found>> ReplicaStore::FindEvent(const Hash& event_id) const {
  MutexLock lock(&mutex_);
  Query q(db_.get(), find_event_.get());
  q.Blob(AsView(event_id));
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(const bool row, q.Next());
    if (!row) return std::optional<Found>();
    const auto index = static_cast<uint64_t>(q.ColumnInt(0));
    if (index < size_.load()) return std::optional<Found>(Found{index, q.ColumnBlob(1)});
  }
}

Result<std::vector<ReplicaStore::Found>> ReplicaStore::FindIdRange(const std::string& low,
                                                                   const std::string& high,
                                                                   size_t limit) const {
  MutexLock lock(&mutex_);
  Query q(db_.get(), find_id_range_.get());
  q.Blob(low).Blob(high).Int(static_cast<int64_t>(limit));
  std::vector<Found> found;
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(const bool row, q.Next());
    if (!row) break;
    const auto index = static_cast<uint64_t>(q.ColumnInt(0));
    if (index < size_.load()) found.push_back(Found{index, q.ColumnBlob(1)});
  }
  return found;
}

Result<std::vector<ReplicaStore::Found>> ReplicaStore::ReadEntries(uint64_t start, uint64_t end,
                                                                   size_t max_bytes) const {
  MutexLock lock(&mutex_);
  Query q(db_.get(), read_range_.get());
  q.Int(static_cast<int64_t>(start)).Int(static_cast<int64_t>(end));
  std::vector<Found> found;
  size_t bytes = 0;
  while (bytes <= max_bytes) {
    CAIRN_ASSIGN_OR_RETURN(const bool row, q.Next());
    if (!row) break;
    found.push_back({static_cast<uint64_t>(q.ColumnInt(0)), q.ColumnBlob(1)});
    bytes += found.back().entry.size();
  }
  return found;
}

std::optional<cairn::v1::SignedCheckpoint> ReplicaStore::WaitForSizeAbove(
    uint64_t size, absl::Time deadline) const {
  MutexLock lock(&mutex_);
  const auto grown = [this, size]()
                         ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) { return size_.load() > size; };
  mutex_.AwaitWithDeadline(Condition(&grown), deadline);
  return checkpoint_;
}

Result<std::optional<std::string>> ReplicaStore::ReadEntry(uint64_t index) const {
  MutexLock lock(&mutex_);
  Query q(db_.get(), read_entry_.get());
  q.Int(static_cast<int64_t>(index));
  CAIRN_ASSIGN_OR_RETURN(const bool row, q.Next());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(q.ColumnBlob(0));
}

Result<std::vector<uint64_t>> ReplicaStore::EntryIndexesOfLot(const std::string& lot_id) const {
  MutexLock lock(&mutex_);
  Query q(db_.get(), lot_entries_.get());
  q.Text(lot_id);
  std::vector<uint64_t> indexes;
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(const bool row, q.Next());
    if (!row) return indexes;
    indexes.push_back(static_cast<uint64_t>(q.ColumnInt(0)));
  }
}

Result<std::optional<std::string>> ReplicaStore::CreatorOfLot(const std::string& lot_id) const {
  MutexLock lock(&mutex_);
  Query q(db_.get(), lot_creator_.get());
  q.Text(lot_id).Int(static_cast<int64_t>(ledger::LotUse::kCreated));
  CAIRN_ASSIGN_OR_RETURN(const bool row, q.Next());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(q.ColumnBlob(0));
}

Status ReplicaStore::ScanEntries(
    const std::function<Status(uint64_t index, const std::string& entry)>& visit) const {
  MutexLock lock(&mutex_);
  CAIRN_ASSIGN_OR_RETURN(auto stmt,
                         Prepare(db_.get(), "SELECT idx, entry FROM entries ORDER BY idx"));
  Query q(db_.get(), stmt.get());
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(const bool row, q.Next());
    if (!row) return Status::Ok();
    CAIRN_RETURN_IF_ERROR(visit(static_cast<uint64_t>(q.ColumnInt(0)), q.ColumnBlob(1)));
  }
}

}  // namespace cairn::node
