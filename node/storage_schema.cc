// Storage: the schema, written once, and the migrations from older versions.
#include <sqlite3.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "node/storage.h"
#include "node/storage_internal.h"
#include "node/tiles.h"

namespace cairn::node {

namespace {

// The lots table, spelled once: created with the schema, and again by the version-3 migration
// that rebuilds it WITHOUT ROWID.
constexpr const char* kLotsColumns = R"sql((
  lot_id TEXT PRIMARY KEY,
  creator TEXT NOT NULL,
  material TEXT NOT NULL,
  created_mass_g INTEGER NOT NULL,
  created_idx INTEGER NOT NULL,
  composition BLOB NOT NULL,
  consumed_g INTEGER NOT NULL,
  transit_loss_g INTEGER NOT NULL
) WITHOUT ROWID;)sql";

// The schema of version 1, less the lots table (kLotsColumns).
constexpr const char* kSchema = R"sql(
CREATE TABLE meta(
  key TEXT PRIMARY KEY,
  value BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE entries(
  idx INTEGER PRIMARY KEY,
  event_key INTEGER NOT NULL,
  event_id BLOB NOT NULL,
  leaf_hash BLOB NOT NULL,
  entry BLOB NOT NULL
);
CREATE TABLE holdings(
  lot_id TEXT NOT NULL,
  holder TEXT NOT NULL,
  mass_g INTEGER NOT NULL CHECK (mass_g > 0),
  PRIMARY KEY (lot_id, holder)
) WITHOUT ROWID;
CREATE TABLE shipments(
  dispatch_idx INTEGER PRIMARY KEY,
  sender TEXT NOT NULL,
  recipient TEXT NOT NULL,
  received_idx INTEGER
);
CREATE TABLE shipment_lots(
  dispatch_idx INTEGER NOT NULL,
  lot_id TEXT NOT NULL,
  mass_g INTEGER NOT NULL,
  received_g INTEGER,
  PRIMARY KEY (dispatch_idx, lot_id)
) WITHOUT ROWID;
CREATE INDEX shipment_lots_by_lot ON shipment_lots(lot_id);
)sql";

// Added by version 2.
constexpr const char* kLotEntriesSchema = R"sql(
CREATE TABLE lot_entries(
  lot_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  role INTEGER NOT NULL,
  PRIMARY KEY (lot_id, idx, role)
) WITHOUT ROWID;
)sql";

// Added by version 3.
constexpr const char* kTilesSchema = R"sql(
CREATE TABLE tiles(
  id INTEGER PRIMARY KEY,
  hashes BLOB NOT NULL
);
)sql";

// Added by version 6: what this log's events did to lots and dispatches of other logs.
constexpr const char* kFederationSchema = R"sql(
CREATE TABLE IF NOT EXISTS foreign_receipts(
  dispatch_id BLOB PRIMARY KEY,
  received_idx INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS foreign_lots(
  lot_id TEXT PRIMARY KEY,
  consumed_g INTEGER NOT NULL DEFAULT 0,
  transit_loss_g INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
)sql";

}  // namespace

Status Storage::CheckCairnFile() {
  CAIRN_ASSIGN_OR_RETURN(SqliteStmt v, Prepare(writer_db_.get(), "PRAGMA user_version"));
  Query version_query(writer_db_.get(), v.get());
  auto row = version_query.Next();
  if (!row.ok()) {
    return FailedPrecondition("database " + path_ + " cannot be read: " + row.status().message());
  }
  const int64_t version = *row ? version_query.ColumnInt(0) : 0;
  CAIRN_ASSIGN_OR_RETURN(
      SqliteStmt t,
      Prepare(writer_db_.get(), "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'"));
  Query tables_query(writer_db_.get(), t.get());
  row = tables_query.Next();
  if (!row.ok()) return row.status();
  const int64_t tables = *row ? tables_query.ColumnInt(0) : 0;
  if (version > kSchemaVersion) {
    return FailedPrecondition("database " + path_ + " has schema version " +
                              std::to_string(version) + "; this cairnd knows version " +
                              std::to_string(kSchemaVersion));
  }
  if (version <= 0 && tables != 0) {
    return FailedPrecondition("database " + path_ +
                              " is not a cairn database (it has tables but schema version " +
                              std::to_string(version) + ")");
  }
  return Status::Ok();
}

Status Storage::CreateOrCheckSchema() {
  if (!options_.read_only) CAIRN_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  auto finish = [&](Status status) {
    if (!options_.read_only) {
      if (status.ok()) return Exec("COMMIT");
      (void)Exec("ROLLBACK");
    }
    return status;
  };
  int64_t version = -1;
  int64_t tables = -1;
  {
    CAIRN_ASSIGN_OR_RETURN(SqliteStmt v, Prepare(writer_db_.get(), "PRAGMA user_version"));
    Query q(writer_db_.get(), v.get());
    auto row = q.Next();
    if (!row.ok() || !*row) return finish(row.ok() ? Internal("no user_version") : row.status());
    version = q.ColumnInt(0);
    opened_schema_version_ = version;
  }
  {
    CAIRN_ASSIGN_OR_RETURN(
        SqliteStmt t,
        Prepare(writer_db_.get(), "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'"));
    Query q(writer_db_.get(), t.get());
    auto row = q.Next();
    if (!row.ok() || !*row) return finish(row.ok() ? Internal("no table count") : row.status());
    tables = q.ColumnInt(0);
  }
  if (version == kSchemaVersion) return finish(Status::Ok());
  // Versions 3 and 4 differ only by an index on event_key that this build does not use and by
  // the lot_entries rows of corrections and attestations of events (evidence_indexed()): an
  // auditor's read-only open reads them as they are.
  if (version >= 3 && version <= 5 && options_.read_only) return finish(Status::Ok());
  if (version >= 1 && version < kSchemaVersion) {
    if (options_.read_only) {
      return FailedPrecondition("database " + path_ + " has schema version " +
                                std::to_string(version) +
                                "; start cairnd on it once (not "
                                "read-only) to migrate it to version " +
                                std::to_string(kSchemaVersion));
    }
    return finish(Migrate(version));
  }
  if (version > kSchemaVersion) {
    return finish(FailedPrecondition("database " + path_ + " has schema version " +
                                     std::to_string(version) + "; this cairnd knows version " +
                                     std::to_string(kSchemaVersion)));
  }
  if (version != 0 || tables != 0) {
    return finish(FailedPrecondition("database " + path_ +
                                     " is not a cairn database (it has tables but schema version " +
                                     std::to_string(version) + ")"));
  }
  if (options_.read_only) {
    return FailedPrecondition("database " + path_ + " is empty (no cairn schema)");
  }
  Status created = Exec(kSchema);
  if (created.ok()) created = Exec((std::string("CREATE TABLE lots") + kLotsColumns).c_str());
  if (created.ok()) created = Exec(kLotEntriesSchema);
  if (created.ok()) created = Exec(kTilesSchema);
  if (created.ok()) created = Exec(kFederationSchema);
  if (created.ok()) {
    created = Exec(("PRAGMA user_version = " + std::to_string(kSchemaVersion)).c_str());
  }
  return finish(created);
}

Status Storage::ForEachStoredBody(
    const std::function<Status(uint64_t index, const cairn::v1::EventBody& body)>& visit) {
  CAIRN_ASSIGN_OR_RETURN(SqliteStmt scan,
                         Prepare(writer_db_.get(), "SELECT idx, entry FROM entries ORDER BY idx"));
  Query q(writer_db_.get(), scan.get());
  cairn::v1::LogEntry entry;
  cairn::v1::EventBody body;
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(const bool row, q.Next());
    if (!row) return Status::Ok();
    // A broken entry is left for the start-up check to name.
    if (!entry.ParseFromString(q.ColumnBlob(1)) || !body.ParseFromString(entry.event().body())) {
      continue;
    }
    CAIRN_RETURN_IF_ERROR(visit(static_cast<uint64_t>(q.ColumnInt(0)), body));
  }
}

Status Storage::Migrate(int64_t from_version) {
  if (from_version < 2) {
    // Version 2 adds the lot index: built from every stored entry.
    CAIRN_RETURN_IF_ERROR(Exec(kLotEntriesSchema));
    CAIRN_ASSIGN_OR_RETURN(SqliteStmt insert, Prepare(writer_db_.get(), kInsertLotEntry));
    CAIRN_RETURN_IF_ERROR(
        ForEachStoredBody([&](uint64_t index, const cairn::v1::EventBody& body) -> Status {
          std::vector<LotEntryRow> rows;
          for (const auto& [lot_id, role] : LotRolesOf(body)) rows.emplace_back(*lot_id, role);
          return InsertLotEntries(insert.get(), rows, index);
        }));
  }
  if (from_version < 3) {
    // Version 3 keys lots by lot id alone (WITHOUT ROWID: no second index of the ids)...
    CAIRN_RETURN_IF_ERROR(Exec((std::string("CREATE TABLE lots_v3") + kLotsColumns).c_str()));
    CAIRN_RETURN_IF_ERROR(Exec(R"sql(
INSERT INTO lots_v3 SELECT lot_id, creator, material, created_mass_g, created_idx, composition,
  consumed_g, transit_loss_g FROM lots;
DROP TABLE lots;
ALTER TABLE lots_v3 RENAME TO lots;
)sql"));
    // ...and stores the Merkle tree's hashes: computed once from the stored leaf hashes.
    CAIRN_RETURN_IF_ERROR(Exec(kTilesSchema));
    CAIRN_ASSIGN_OR_RETURN(SqliteStmt put, Prepare(writer_db_.get(), kPutTile));
    CAIRN_ASSIGN_OR_RETURN(SqliteStmt scan,
                           Prepare(writer_db_.get(), "SELECT leaf_hash FROM entries ORDER BY idx"));
    TileBuilder tree;
    const auto flush = [&]() -> Status {
      for (const TileWrite& w : tree.TakeWrites()) {
        Query q(writer_db_.get(), put.get());
        q.Int(TileId(w.tile_level, w.tile_index)).Blob(SerializeTile(w.hashes));
        CAIRN_RETURN_IF_ERROR(q.Run());
      }
      return Status::Ok();
    };
    Query q(writer_db_.get(), scan.get());
    while (true) {
      CAIRN_ASSIGN_OR_RETURN(const bool row, q.Next());
      if (!row) break;
      Hash leaf{};
      const std::string stored = q.ColumnBlob(0);
      // A malformed leaf hash is left for the integrity scan to name.
      std::memcpy(leaf.data(), stored.data(), std::min(stored.size(), leaf.size()));
      tree.Append(leaf);
      if (tree.size() % 4096 == 0) CAIRN_RETURN_IF_ERROR(flush());
    }
    CAIRN_RETURN_IF_ERROR(flush());
  }
  if (from_version < 4) {
    // Version 4 finds entries by event key through the EventIndex in memory.
    CAIRN_RETURN_IF_ERROR(Exec("DROP INDEX IF EXISTS entries_by_event_key"));
  }
  CAIRN_RETURN_IF_ERROR(Exec(kFederationSchema));
  if (from_version >= 5) {
    return Exec(("PRAGMA user_version = " + std::to_string(kSchemaVersion)).c_str());
  }
  // Version 5 is completed by IndexEvidence once the event index is loaded.
  return Exec("PRAGMA user_version = 4");
}

Status Storage::IndexEvidence() {
  CAIRN_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  const auto indexed = [&]() -> Status {
    CAIRN_RETURN_IF_ERROR(
        ForEachStoredBody([&](uint64_t index, const cairn::v1::EventBody& body) -> Status {
          if (ledger::EvidenceTargetOf(body) == nullptr) return Status::Ok();
          CAIRN_ASSIGN_OR_RETURN(const auto rows, LotEntriesOf(body, *this));
          return InsertLotEntries(writer_->insert_lot_entry.get(), rows, index);
        }));
    return Exec(("PRAGMA user_version = " + std::to_string(kSchemaVersion)).c_str());
  }();
  if (!indexed.ok()) {
    (void)Exec("ROLLBACK");
    return indexed;
  }
  return Exec("COMMIT");
}

}  // namespace cairn::node
