// Storage: opening and locking the file, connections, statements, transactions, and the log
// itself (entries, tiles, checkpoint, identity, the event index). The schema lives in
// storage_schema.cc, the custody tables in storage_custody.cc.
#include "node/storage.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <utility>

#include "node/sqlite.h"
#include "node/storage_internal.h"
#include "node/tiles.h"

namespace cairn::node {

int64_t EventKey(std::string_view event_id_bytes) {
  uint64_t key = 0;
  for (size_t i = 0; i < 8 && i < event_id_bytes.size(); ++i) {
    key = (key << 8) | static_cast<uint8_t>(event_id_bytes[i]);
  }
  return static_cast<int64_t>(key);
}

int64_t EventKey(const Hash& event_id) { return EventKey(AsView(event_id)); }

// ---------------------------------------------------------------------------------------------
// Statements: prepared once per connection (the schema is in storage_schema.cc, the start-up
// check's whole-table reads in startup_check.cc).

Status Storage::PrepareStatements() {
  auto w = std::make_unique<WriterStatements>();
  sqlite3* const wdb = writer_db_.get();
  const std::string read_entry =
      std::string("SELECT ") + kEntryColumns + " FROM entries WHERE idx = ?";
  struct Item {
    SqliteStmt* stmt;
    std::string sql;
  };
  const std::vector<Item> writer_items = {
      {&w->begin, "BEGIN IMMEDIATE"},
      {&w->commit, "COMMIT"},
      {&w->rollback, "ROLLBACK"},
      {&w->savepoint, "SAVEPOINT request"},
      {&w->release, "RELEASE request"},
      {&w->rollback_to, "ROLLBACK TO request"},
      {&w->get_meta, "SELECT value FROM meta WHERE key = ?"},
      {&w->put_meta, "INSERT INTO meta(key, value) VALUES (?, ?)"},
      {&w->replace_meta,
       "INSERT INTO meta(key, value) VALUES (?, ?) "
       "ON CONFLICT(key) DO UPDATE SET value = excluded.value"},
      {&w->insert_entry,
       "INSERT INTO entries(idx, event_key, event_id, leaf_hash, entry) VALUES (?, ?, ?, ?, ?)"},
      {&w->read_entry, read_entry},
      {&w->size, "SELECT COALESCE(MAX(idx) + 1, 0) FROM entries"},
      {&w->find_lot,
       "SELECT l.creator, l.material, l.created_mass_g, e.event_id FROM lots l "
       "JOIN entries e ON e.idx = l.created_idx WHERE l.lot_id = ?"},
      {&w->insert_lot,
       "INSERT INTO lots(lot_id, creator, material, created_mass_g, created_idx, composition, "
       "consumed_g, transit_loss_g) VALUES (?, ?, ?, ?, ?, ?, 0, 0)"},
      {&w->add_consumed, "UPDATE lots SET consumed_g = consumed_g + ? WHERE lot_id = ?"},
      {&w->add_loss, "UPDATE lots SET transit_loss_g = transit_loss_g + ? WHERE lot_id = ?"},
      {&w->get_holding, "SELECT mass_g FROM holdings WHERE lot_id = ? AND holder = ?"},
      {&w->put_holding,
       "INSERT INTO holdings(lot_id, holder, mass_g) VALUES (?, ?, ?) "
       "ON CONFLICT (lot_id, holder) DO UPDATE SET mass_g = excluded.mass_g"},
      {&w->delete_holding, "DELETE FROM holdings WHERE lot_id = ? AND holder = ?"},
      {&w->insert_shipment,
       "INSERT INTO shipments(dispatch_idx, sender, recipient, received_idx) "
       "VALUES (?, ?, ?, NULL)"},
      {&w->insert_shipment_lot,
       "INSERT INTO shipment_lots(dispatch_idx, lot_id, mass_g, received_g) "
       "VALUES (?, ?, ?, NULL)"},
      {&w->find_shipment,
       "SELECT sender, recipient, received_idx FROM shipments WHERE dispatch_idx = ?"},
      {&w->find_shipment_lots, "SELECT lot_id, mass_g FROM shipment_lots WHERE dispatch_idx = ?"},
      {&w->close_shipment,
       "UPDATE shipments SET received_idx = ? WHERE dispatch_idx = ? AND received_idx IS NULL"},
      {&w->set_received,
       "UPDATE shipment_lots SET received_g = ? WHERE dispatch_idx = ? AND lot_id = ?"},
      {&w->insert_lot_entry, kInsertLotEntry},
      {&w->put_tile, kPutTile},
      {&w->put_checkpoint,
       "INSERT INTO meta(key, value) VALUES ('checkpoint', ?) "
       "ON CONFLICT (key) DO UPDATE SET value = excluded.value"},
  };
  for (const auto& item : writer_items) {
    CAIRN_ASSIGN_OR_RETURN(*item.stmt, Prepare(wdb, item.sql.c_str()));
  }
  if (!options_.read_only || opened_schema_version_ >= 6) {
    const std::vector<Item> federation_items = {
        {&w->find_foreign_receipt,
         "SELECT received_idx FROM foreign_receipts WHERE dispatch_id = ?"},
        {&w->insert_foreign_receipt,
         "INSERT INTO foreign_receipts(dispatch_id, received_idx) VALUES (?, ?)"},
        {&w->add_foreign_consumed,
         "INSERT INTO foreign_lots(lot_id, consumed_g) VALUES (?, ?) "
         "ON CONFLICT(lot_id) DO UPDATE SET consumed_g = consumed_g + excluded.consumed_g"},
        {&w->add_foreign_loss,
         "INSERT INTO foreign_lots(lot_id, transit_loss_g) VALUES (?, ?) "
         "ON CONFLICT(lot_id) DO UPDATE SET transit_loss_g = transit_loss_g + "
         "excluded.transit_loss_g"},
    };
    for (const auto& item : federation_items) {
      CAIRN_ASSIGN_OR_RETURN(*item.stmt, Prepare(wdb, item.sql.c_str()));
    }
  }

  MutexLock lock(&read_mutex_);
  auto r = std::make_unique<ReaderStatements>();
  sqlite3* const rdb = reader_db_.get();
  const std::vector<Item> reader_items = {
      {&r->read_entry, read_entry},
      {&r->size, "SELECT COALESCE(MAX(idx) + 1, 0) FROM entries"},
      {&r->read_range, std::string("SELECT ") + kEntryColumns +
                           " FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx"},
      {&r->scan, std::string("SELECT ") + kEntryColumns + " FROM entries ORDER BY idx"},
      {&r->leaves, "SELECT leaf_hash FROM entries ORDER BY idx"},
      {&r->lot,
       "SELECT l.creator, l.material, l.created_mass_g, e.event_id, l.composition, l.consumed_g, "
       "l.transit_loss_g FROM lots l JOIN entries e ON e.idx = l.created_idx WHERE l.lot_id = ?"},
      {&r->lot_holdings,
       "SELECT holder, mass_g FROM holdings WHERE lot_id = ? AND mass_g > 0 ORDER BY holder"},
      {&r->lot_in_transit,
       "SELECT e.event_id, s.sender, s.recipient, sl.mass_g FROM shipment_lots sl "
       "JOIN shipments s ON s.dispatch_idx = sl.dispatch_idx "
       "JOIN entries e ON e.idx = sl.dispatch_idx "
       "WHERE sl.lot_id = ? AND s.received_idx IS NULL ORDER BY sl.dispatch_idx"},
      {&r->lot_entries, "SELECT DISTINCT idx FROM lot_entries WHERE lot_id = ? ORDER BY idx"},
      {&r->leaf_range,
       "SELECT idx, leaf_hash FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx"},
      {&r->tile, "SELECT hashes FROM tiles WHERE id = ?"},
      {&r->tile_range, "SELECT id, hashes FROM tiles WHERE id >= ? AND id < ? ORDER BY id"},
      {&r->checkpoint, "SELECT value FROM meta WHERE key = 'checkpoint'"},
  };
  for (const auto& item : reader_items) {
    CAIRN_ASSIGN_OR_RETURN(*item.stmt, Prepare(rdb, item.sql.c_str()));
  }
  writer_ = std::move(w);
  reader_ = std::move(r);
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Opening.

Storage::Storage(PrivateTag, std::string path, StorageOptions options)
    : path_(std::move(path)), options_(options) {}

Storage::~Storage() {
  // Statements before their connections.
  writer_.reset();
  {
    MutexLock lock(&read_mutex_);
    reader_.reset();
    reader_db_.reset();
  }
  writer_db_.reset();
  if (lock_fd_ >= 0) close(lock_fd_);  // releases the flock
}

Result<std::unique_ptr<Storage>> Storage::Open(const std::string& path,
                                               const StorageOptions& options) {
  if (path.empty()) return InvalidArgument("database path: required");
  auto storage = std::make_unique<Storage>(PrivateTag{}, path, options);
  CAIRN_RETURN_IF_ERROR(storage->Initialize());
  return storage;
}

Status Storage::Exec(const char* sql) {
  char* error = nullptr;
  const int rc = sqlite3_exec(writer_db_.get(), sql, nullptr, nullptr, &error);
  if (rc != SQLITE_OK) {
    std::string message = error != nullptr ? error : sqlite3_errstr(rc);
    sqlite3_free(error);
    return Internal("SQLite: " + message);
  }
  return Status::Ok();
}

Status Storage::Initialize() {
  if (!options_.read_only) {
    // The lock is on the database file itself (its inode), so a second cairnd reaching the same
    // file by another path or a hard link is refused too. The descriptor stays open until the
    // connections are closed: closing any descriptor of the file would drop SQLite's own locks.
    lock_fd_ = open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (lock_fd_ < 0) {
      return Internal("cannot open database " + path_ + ": " + std::strerror(errno));
    }
    struct stat st {};
    if (fstat(lock_fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
      return FailedPrecondition("database " + path_ + " is not a regular file");
    }
    if (flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
      return FailedPrecondition("database " + path_ +
                                " is in use by another process (another cairnd holds its lock)");
    }
  }
  CAIRN_ASSIGN_OR_RETURN(writer_db_, OpenConnection(path_, options_.read_only,
                                                    options_.busy_timeout_ms, options_.vfs));
  // Nothing is written to a file that is not ours: another application's database is refused
  // before the journal mode is switched.
  CAIRN_RETURN_IF_ERROR(CheckCairnFile());
  if (!options_.read_only) {
    // WAL lets the reader connection read while the writer writes; FULL fsyncs the WAL on every
    // commit, so an acknowledged append survives power loss.
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(writer_db_.get(), "PRAGMA journal_mode=WAL", -1, &raw, nullptr) !=
        SQLITE_OK) {
      return SqliteError(writer_db_.get(), "PRAGMA journal_mode");
    }
    SqliteStmt pragma(raw);
    std::string mode;
    if (sqlite3_step(raw) == SQLITE_ROW) {
      mode = reinterpret_cast<const char*>(sqlite3_column_text(raw, 0));
    }
    if (mode != "wal") {
      return Internal("cannot put database " + path_ + " in WAL mode (journal mode is \"" + mode +
                      "\")");
    }
    CAIRN_RETURN_IF_ERROR(Exec("PRAGMA synchronous=FULL"));
    // Checkpoint the WAL into the database every 10,000 pages (~40 MB) instead of SQLite's 1,000:
    // a page written by many commits is copied back once, and the writer pays far fewer
    // checkpoint writes and fsyncs per append.
    CAIRN_RETURN_IF_ERROR(Exec("PRAGMA wal_autocheckpoint=10000"));
  }
  CAIRN_RETURN_IF_ERROR(CreateOrCheckSchema());
  {
    MutexLock lock(&read_mutex_);
    CAIRN_ASSIGN_OR_RETURN(reader_db_, OpenConnection(path_, /*read_only=*/true,
                                                      options_.busy_timeout_ms, options_.vfs));
  }
  CAIRN_RETURN_IF_ERROR(PrepareStatements());
  CAIRN_RETURN_IF_ERROR(LoadEventIndex());
  // Versions 1-4 did not index corrections and attestations of events under their lots.
  if (!options_.read_only && opened_schema_version_ >= 1 && opened_schema_version_ < 5) {
    return IndexEvidence();
  }
  return Status::Ok();
}

namespace {

// Feeds (event key, index) pairs to an EventIndex 4,096 at a time: AddAll places a chunk at once.
class IndexFeeder {
 public:
  explicit IndexFeeder(EventIndex& index) : index_(index) { chunk_.reserve(kChunk); }
  ~IndexFeeder() { index_.AddAll(chunk_); }
  IndexFeeder(const IndexFeeder&) = delete;
  IndexFeeder& operator=(const IndexFeeder&) = delete;

  void Add(int64_t key, uint64_t index) {
    chunk_.emplace_back(key, index);
    if (chunk_.size() == kChunk) {
      index_.AddAll(chunk_);
      chunk_.clear();
    }
  }

 private:
  static constexpr size_t kChunk = 4096;
  EventIndex& index_;
  std::vector<std::pair<int64_t, uint64_t>> chunk_;
};

}  // namespace

Status Storage::LoadEventIndex() {
  if (options_.event_keys != nullptr) {
    CAIRN_ASSIGN_OR_RETURN(
        SqliteStmt count,
        Prepare(writer_db_.get(), "SELECT COALESCE(MAX(idx) + 1, 0) FROM entries"));
    Query q(writer_db_.get(), count.get());
    CAIRN_ASSIGN_OR_RETURN(const bool row, q.Next());
    const std::vector<int64_t>& keys = *options_.event_keys;
    if (row && static_cast<uint64_t>(q.ColumnInt(0)) == keys.size()) {
      IndexFeeder feeder(events_);
      for (uint64_t i = 0; i < keys.size(); ++i) feeder.Add(keys[i], i);
      return Status::Ok();
    }
  }
  CAIRN_ASSIGN_OR_RETURN(SqliteStmt scan,
                         Prepare(writer_db_.get(), "SELECT event_key, idx FROM entries"));
  Query q(writer_db_.get(), scan.get());
  IndexFeeder feeder(events_);
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(const bool row, q.Next());
    if (!row) break;
    feeder.Add(q.ColumnInt(0), static_cast<uint64_t>(q.ColumnInt(1)));
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Identity.

Result<std::optional<std::string>> Storage::StoredLogId() {
  Query q(writer_db_.get(), writer_->get_meta.get());
  q.Text("log_id");
  CAIRN_ASSIGN_OR_RETURN(const bool row, q.Next());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(q.ColumnBlob(0));
}

Result<uint64_t> Storage::HighestRegistryVersion() {
  Query q(writer_db_.get(), writer_->get_meta.get());
  q.Text("registry_version");
  CAIRN_ASSIGN_OR_RETURN(const bool row, q.Next());
  if (!row) return uint64_t{0};
  const std::string text = q.ColumnBlob(0);
  uint64_t version = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return DataLoss("meta.registry_version: got \"" + text + "\"");
    version = version * 10 + static_cast<uint64_t>(c - '0');
  }
  return version;
}

Status Storage::RecordRegistryVersion(uint64_t version) {
  CAIRN_ASSIGN_OR_RETURN(const uint64_t highest, HighestRegistryVersion());
  if (version <= highest) return Status::Ok();
  Query q(writer_db_.get(), writer_->replace_meta.get());
  q.Text("registry_version").Blob(std::to_string(version));
  return q.Run();
}

Status Storage::BindLogId(const std::string& log_id) {
  CAIRN_ASSIGN_OR_RETURN(auto stored, StoredLogId());
  if (stored) {
    if (*stored != log_id) {
      return FailedPrecondition("database " + path_ + " belongs to log " + *stored + ", not " +
                                log_id);
    }
    return Status::Ok();
  }
  if (options_.read_only) {
    return FailedPrecondition("database " + path_ + " has no log id (never served a log)");
  }
  Query q(writer_db_.get(), writer_->put_meta.get());
  q.Text("log_id").Blob(log_id);
  return q.Run();
}

// ---------------------------------------------------------------------------------------------
// Transactions.

Status Storage::BeginTransaction() {
  Query q(writer_db_.get(), writer_->begin.get());
  return q.Run();
}

Status Storage::CommitTransaction() {
  Query q(writer_db_.get(), writer_->commit.get());
  CAIRN_RETURN_IF_ERROR(q.Run());
  PublishPending();
  return Status::Ok();
}

void Storage::RollbackTransaction() {
  if (InTransaction()) {
    Query q(writer_db_.get(), writer_->rollback.get());
    (void)q.Run();  // nothing more to do if even the rollback fails
  }
  TruncatePending(0);
}

bool Storage::InTransaction() const { return sqlite3_get_autocommit(writer_db_.get()) == 0; }

void Storage::TruncatePending(size_t mark) {
  while (pending_.size() > mark) {
    const auto [event_key, index] = pending_.back();
    pending_.pop_back();
    auto [begin, end] = pending_by_key_.equal_range(event_key);
    for (auto it = begin; it != end; ++it) {
      if (it->second == index) {
        pending_by_key_.erase(it);
        break;
      }
    }
  }
}

void Storage::PublishPending() {
  events_.AddAll(pending_);
  pending_.clear();
  pending_by_key_.clear();
}

Result<size_t> Storage::OpenSavepoint() {
  Query q(writer_db_.get(), writer_->savepoint.get());
  CAIRN_RETURN_IF_ERROR(q.Run());
  return pending_.size();
}

Status Storage::ReleaseSavepoint() {
  Query q(writer_db_.get(), writer_->release.get());
  return q.Run();
}

Status Storage::RollbackToSavepoint(size_t mark) {
  {
    Query q(writer_db_.get(), writer_->rollback_to.get());
    CAIRN_RETURN_IF_ERROR(q.Run());
  }
  TruncatePending(mark);
  return ReleaseSavepoint();
}

// ---------------------------------------------------------------------------------------------
// Writes.

Status Storage::InsertEntry(uint64_t index, const Hash& event_id, const Hash& leaf_hash,
                            std::string_view entry_bytes) {
  if (index > static_cast<uint64_t>(kMaxInt64)) return Internal("entry index out of range");
  Query q(writer_db_.get(), writer_->insert_entry.get());
  const int64_t event_key = EventKey(event_id);
  q.Int(static_cast<int64_t>(index))
      .Int(event_key)
      .Blob(AsView(event_id))
      .Blob(AsView(leaf_hash))
      .Blob(entry_bytes);
  CAIRN_RETURN_IF_ERROR(q.Run());
  if (InTransaction()) {
    pending_.emplace_back(event_key, index);
    pending_by_key_.emplace(event_key, index);
  } else {
    events_.Add(event_key, index);  // committed on its own
  }
  return Status::Ok();
}

Result<std::optional<StoredEntry>> Storage::FindEntryAt(sqlite3* db, sqlite3_stmt* read_entry,
                                                        const std::vector<uint64_t>& indexes,
                                                        const Hash& event_id) {
  const std::string_view wanted = AsView(event_id);
  for (const uint64_t index : indexes) {
    Query q(db, read_entry);
    q.Int(static_cast<int64_t>(index));
    CAIRN_ASSIGN_OR_RETURN(const bool row, q.Next());
    // The event key is only a prefix: compare the whole id.
    if (row && q.ColumnBlob(2) == wanted) return std::optional<StoredEntry>(ReadEntryRow(q));
  }
  return std::optional<StoredEntry>();
}

Status Storage::PutTile(uint32_t tile_level, uint64_t tile_index, std::string_view hashes) {
  Query q(writer_db_.get(), writer_->put_tile.get());
  q.Int(TileId(tile_level, tile_index)).Blob(hashes);
  return q.Run();
}

Status Storage::PutCheckpoint(const cairn::v1::SignedCheckpoint& checkpoint) {
  Query q(writer_db_.get(), writer_->put_checkpoint.get());
  q.Blob(checkpoint.SerializeAsString());
  return q.Run();
}

Result<std::optional<StoredEntry>> Storage::FindEntryForWrite(const Hash& event_id) {
  const int64_t event_key = EventKey(event_id);
  std::vector<uint64_t> indexes = events_.Find(event_key);
  auto [begin, end] = pending_by_key_.equal_range(event_key);
  for (auto it = begin; it != end; ++it) indexes.push_back(it->second);
  return FindEntryAt(writer_db_.get(), writer_->read_entry.get(), indexes, event_id);
}

Result<uint64_t> Storage::SizeForWrite() {
  Query q(writer_db_.get(), writer_->size.get());
  CAIRN_ASSIGN_OR_RETURN(const bool row, q.Next());
  if (!row) return Internal("SQLite: no row from size query");
  return static_cast<uint64_t>(q.ColumnInt(0));
}

Result<std::optional<uint64_t>> Storage::EntryIndexForWrite(const std::string& event_id_hex) {
  auto id = ParseEventIdHex(event_id_hex);
  if (!id.ok()) return std::optional<uint64_t>();  // a malformed id names no event
  CAIRN_ASSIGN_OR_RETURN(auto entry, FindEntryForWrite(*id));
  if (!entry) return std::optional<uint64_t>();
  return std::optional<uint64_t>(entry->index);
}

// ---------------------------------------------------------------------------------------------
// Reads.

Result<std::optional<StoredEntry>> Storage::FindEntry(const Hash& event_id) {
  const std::vector<uint64_t> indexes = events_.Find(EventKey(event_id));
  if (indexes.empty()) return std::optional<StoredEntry>();
  MutexLock lock(&read_mutex_);
  return FindEntryAt(reader_db_.get(), reader_->read_entry.get(), indexes, event_id);
}

Result<std::vector<StoredEntry>> Storage::FindIdRange(const std::string& low,
                                                      const std::string& high, size_t limit) {
  // The index holds the ids' first 8 bytes: the keys the range allows, then the whole ids.
  const std::vector<uint64_t> indexes = events_.FindKeyRange(
      static_cast<uint64_t>(EventKey(low)), static_cast<uint64_t>(EventKey(high)), limit + 16);
  std::vector<StoredEntry> found;
  for (const uint64_t index : indexes) {
    CAIRN_ASSIGN_OR_RETURN(auto entry, ReadEntry(index));
    if (!entry || entry->event_id < low || entry->event_id > high) continue;
    found.push_back(std::move(*entry));
    if (found.size() == limit) break;
  }
  return found;
}

Result<std::optional<StoredEntry>> Storage::ReadEntry(uint64_t index) {
  if (index > static_cast<uint64_t>(kMaxInt64)) return std::optional<StoredEntry>();
  MutexLock lock(&read_mutex_);
  Query q(reader_db_.get(), reader_->read_entry.get());
  q.Int(static_cast<int64_t>(index));
  CAIRN_ASSIGN_OR_RETURN(const bool row, q.Next());
  if (!row) return std::optional<StoredEntry>();
  return std::optional<StoredEntry>(ReadEntryRow(q));
}

Result<std::vector<StoredEntry>> Storage::ReadEntries(uint64_t start, uint64_t end,
                                                      size_t max_bytes) {
  std::vector<StoredEntry> entries;
  const auto clamp = [](uint64_t v) {
    return static_cast<int64_t>(std::min<uint64_t>(v, kMaxInt64));
  };
  if (start >= end) return entries;
  MutexLock lock(&read_mutex_);
  Query q(reader_db_.get(), reader_->read_range.get());
  q.Int(clamp(start)).Int(clamp(end));
  size_t bytes = 0;
  while (bytes < max_bytes) {
    CAIRN_ASSIGN_OR_RETURN(const bool row, q.Next());
    if (!row) break;
    entries.push_back(ReadEntryRow(q));
    bytes += entries.back().entry.size();
  }
  return entries;
}

Result<uint64_t> Storage::Size() {
  MutexLock lock(&read_mutex_);
  Query q(reader_db_.get(), reader_->size.get());
  CAIRN_ASSIGN_OR_RETURN(const bool row, q.Next());
  if (!row) return Internal("SQLite: no row from size query");
  return static_cast<uint64_t>(q.ColumnInt(0));
}

Status Storage::ScanEntries(const std::function<Status(const StoredEntry&)>& visit) {
  MutexLock lock(&read_mutex_);
  Query q(reader_db_.get(), reader_->scan.get());
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(const bool row, q.Next());
    if (!row) return Status::Ok();
    CAIRN_RETURN_IF_ERROR(visit(ReadEntryRow(q)));
  }
}

Result<std::vector<Hash>> Storage::LeafHashes() {
  MutexLock lock(&read_mutex_);
  Query q(reader_db_.get(), reader_->leaves.get());
  std::vector<Hash> leaves;
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(const bool row, q.Next());
    if (!row) return leaves;
    const std::string leaf = q.ColumnBlob(0);
    if (leaf.size() != 32) {
      return DataLoss("entry " + std::to_string(leaves.size()) + ": stored leaf hash has " +
                      std::to_string(leaf.size()) + " bytes, want 32");
    }
    Hash h{};
    std::memcpy(h.data(), leaf.data(), h.size());
    leaves.push_back(h);
  }
}

Result<std::vector<Hash>> Storage::ReadLeafHashes(uint64_t begin, uint64_t end) {
  std::vector<Hash> leaves;
  if (begin >= end) return leaves;
  if (end > static_cast<uint64_t>(kMaxInt64)) return InvalidArgument("leaf range out of range");
  leaves.reserve(end - begin);
  MutexLock lock(&read_mutex_);
  Query q(reader_db_.get(), reader_->leaf_range.get());
  q.Int(static_cast<int64_t>(begin)).Int(static_cast<int64_t>(end));
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(const bool row, q.Next());
    if (!row) break;
    const uint64_t index = begin + leaves.size();
    const std::string leaf = q.ColumnBlob(1);
    if (static_cast<uint64_t>(q.ColumnInt(0)) != index) {
      return DataLoss("entry " + std::to_string(index) + " is missing");
    }
    if (leaf.size() != 32) {
      return DataLoss("entry " + std::to_string(index) + ": stored leaf hash has " +
                      std::to_string(leaf.size()) + " bytes, want 32");
    }
    Hash h{};
    std::memcpy(h.data(), leaf.data(), h.size());
    leaves.push_back(h);
  }
  if (leaves.size() != end - begin) {
    return DataLoss("entry " + std::to_string(begin + leaves.size()) + " is missing");
  }
  return leaves;
}

Result<std::optional<std::string>> Storage::ReadTile(uint32_t tile_level, uint64_t tile_index) {
  MutexLock lock(&read_mutex_);
  Query q(reader_db_.get(), reader_->tile.get());
  q.Int(TileId(tile_level, tile_index));
  CAIRN_ASSIGN_OR_RETURN(const bool row, q.Next());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(q.ColumnBlob(0));
}

Status Storage::ScanTiles(
    uint32_t tile_level, uint64_t limit,
    const std::function<Status(uint64_t tile_index, std::string_view hashes)>& visit) {
  MutexLock lock(&read_mutex_);
  Query q(reader_db_.get(), reader_->tile_range.get());
  const int64_t first = TileId(tile_level, 0);
  q.Int(first).Int(TileId(tile_level, 0) + static_cast<int64_t>(limit));
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(const bool row, q.Next());
    if (!row) return Status::Ok();
    CAIRN_RETURN_IF_ERROR(visit(static_cast<uint64_t>(q.ColumnInt(0) - first), q.ColumnBlob(1)));
  }
}

Status Storage::ScanRows(const char* sql, const std::function<Status(const Query&)>& visit) {
  MutexLock lock(&read_mutex_);
  CAIRN_ASSIGN_OR_RETURN(SqliteStmt stmt, Prepare(reader_db_.get(), sql));
  Query q(reader_db_.get(), stmt.get());
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(const bool row, q.Next());
    if (!row) return Status::Ok();
    CAIRN_RETURN_IF_ERROR(visit(q));
  }
}

Result<std::optional<cairn::v1::SignedCheckpoint>> Storage::StoredCheckpoint() {
  MutexLock lock(&read_mutex_);
  Query q(reader_db_.get(), reader_->checkpoint.get());
  CAIRN_ASSIGN_OR_RETURN(const bool row, q.Next());
  if (!row) return std::optional<cairn::v1::SignedCheckpoint>();
  cairn::v1::SignedCheckpoint checkpoint;
  if (!checkpoint.ParseFromString(q.ColumnBlob(0))) {
    return DataLoss("database " + path_ + ": the stored checkpoint does not parse");
  }
  return std::optional<cairn::v1::SignedCheckpoint>(std::move(checkpoint));
}

}  // namespace cairn::node
