// What the files of Storage share (storage.cc: connections, transactions, the log;
// storage_schema.cc: the schema and its migrations; storage_custody.cc: the custody tables):
// the prepared statements and row helpers. Not part of Storage's interface; include it only there.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <string>

#include "node/sqlite.h"
#include "node/storage.h"

namespace cairn::node {

struct Storage::WriterStatements {
  SqliteStmt begin, commit, rollback, savepoint, release, rollback_to;
  SqliteStmt get_meta, put_meta, replace_meta;
  SqliteStmt insert_entry, read_entry, size;
  SqliteStmt find_lot, insert_lot, add_consumed, add_loss;
  SqliteStmt get_holding, put_holding, delete_holding;
  SqliteStmt insert_shipment, insert_shipment_lot, find_shipment, find_shipment_lots;
  SqliteStmt close_shipment, set_received;
  SqliteStmt insert_lot_entry, put_tile, put_checkpoint;
  // Version 6; null for an older database opened read-only.
  SqliteStmt find_foreign_receipt, insert_foreign_receipt, add_foreign_consumed, add_foreign_loss;
};

struct Storage::ReaderStatements {
  SqliteStmt read_entry, size, read_range, scan, leaves;
  SqliteStmt lot, lot_holdings, lot_in_transit, lot_entries;
  SqliteStmt leaf_range, tile, tile_range, checkpoint;
};

inline constexpr int64_t kMaxInt64 = std::numeric_limits<int64_t>::max();

inline StoredEntry ReadEntryRow(const Query& q) {
  StoredEntry e;
  e.index = static_cast<uint64_t>(q.ColumnInt(0));
  e.event_key = q.ColumnInt(1);
  e.event_id = q.ColumnBlob(2);
  e.leaf_hash = q.ColumnBlob(3);
  e.entry = q.ColumnBlob(4);
  return e;
}

inline Result<Hash> ParseEventIdHex(const std::string& hex) {
  if (!IsLowerHex(hex, 32)) return InvalidArgument("event id: want 64 lowercase hex characters");
  auto bytes = FromHex(hex);
  if (!bytes.ok()) return bytes.status();
  Hash id{};
  std::memcpy(id.data(), bytes->data(), id.size());
  return id;
}

inline Status CheckMass(uint64_t mass_g, const std::string& what) {
  if (mass_g > static_cast<uint64_t>(kMaxInt64)) {
    return FailedPrecondition(what + ": got " + std::to_string(mass_g) + " g, want <= 2^63-1 g");
  }
  return Status::Ok();
}

inline constexpr const char* kEntryColumns = "idx, event_key, event_id, leaf_hash, entry";

inline constexpr const char* kPutTile = "INSERT OR REPLACE INTO tiles(id, hashes) VALUES (?, ?)";

inline int64_t TileId(uint32_t tile_level, uint64_t tile_index) {
  return static_cast<int64_t>((uint64_t{tile_level} << 56) | tile_index);
}

inline constexpr const char* kInsertLotEntry =
    "INSERT OR IGNORE INTO lot_entries(lot_id, idx, role) VALUES (?, ?, ?)";

}  // namespace cairn::node
