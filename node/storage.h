// Storage: the node's SQLite database — the log's entries and the custody state they imply.
//
// One database file in WAL mode with synchronous=FULL, so a committed transaction survives kill -9
// and power loss. Two connections:
//   - the writer connection belongs to one thread at a time (the sequencer's writer thread once it
//     runs). Transactions, savepoints, inserts, effects and the CustodyView methods use it, so the
//     custody checks see the writes of the open transaction.
//   - the reader connection serves the RPC reads (FindEntry, ReadEntries, GetLotState, Size,
//     ScanEntries) from any thread; a mutex serializes them. WAL lets it read committed data while
//     the writer writes.
// Entries are stored as the exact bytes the sequencer serialized, never re-serialized. An flock
// on the database file itself keeps a second cairnd from opening it for writing, by whatever
// path or hard link it is reached.
//
// Schema (version 6, in PRAGMA user_version; an older database is migrated when opened for
// writing):
//   meta(key, value)                           log_id; checkpoint: the latest SignedCheckpoint
//                                              the node issued, written with the entries it covers;
//                                              registry_version: the highest registry version the
//                                              node has served under (decimal text)
//   entries(idx PK, event_key, event_id, leaf_hash, entry)
//                                              event_key = first 8 bytes of the event id as a
//                                              signed int64; entries are found by it through an
//                                              EventIndex in memory (node/event_index.h), built
//                                              when the database is opened; the full id is
//                                              compared after the lookup. Versions 1-3 kept an
//                                              SQLite index on event_key: one random B-tree page
//                                              written per append, dropped by version 4
//   lots(lot_id PK, creator, material, created_mass_g, created_idx, composition,
//        consumed_g, transit_loss_g) WITHOUT ROWID (version 3; a rowid table before)
//   holdings(lot_id, holder, mass_g) WITHOUT ROWID; rows that reach 0 g are deleted
//   shipments(dispatch_idx PK, sender, recipient, received_idx NULL while in transit)
//   shipment_lots(dispatch_idx, lot_id, mass_g, received_g) WITHOUT ROWID, index on lot_id
//   lot_entries(lot_id, idx, role) WITHOUT ROWID, primary key (lot_id, idx, role): every entry
//                                              that creates, dispatches, receives, consumes or
//                                              attests a lot, or corrects or attests an event of
//                                              it (role: LotRole; LotEntriesOf), written with the
//                                              entry's effects (version 2; corrections and
//                                              attestations of events since version 5)
//   foreign_receipts(dispatch_id PK, received_idx)
//                                              receipts in this log of dispatches of other logs
//                                              (federation, version 6)
//   foreign_lots(lot_id PK, consumed_g, transit_loss_g)
//                                              what this log's events consumed or lost in transit
//                                              of lots created in other logs (version 6)
//   tiles(id PK, hashes)                       the Merkle tree's stored hashes (node/tiles.h):
//                                              id = tile level << 56 | tile index, hashes = up to
//                                              16 concatenated 32-byte hashes (version 3)
// Shipments are keyed by the dispatch's entry index, not its event id, for the same reason as
// event_key; the event id is found through entries.
#pragma once

#include <absl/base/thread_annotations.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cairn/v1/ledger.pb.h"
#include "common/crypto.h"
#include "common/status.h"
#include "common/sync.h"
#include "ledger/custody.h"
#include "ledger/event.h"
#include "node/event_index.h"
#include "node/log_store.h"
#include "node/sqlite.h"

namespace cairn::node {

inline constexpr int kSchemaVersion = 6;

// How an entry's event touches a lot, as stored in lot_entries.role.
enum class LotRole : int {
  // ledger::LotUse, as the event names the lot:
  kCreated = static_cast<int>(ledger::LotUse::kCreated),
  kDispatched = static_cast<int>(ledger::LotUse::kDispatched),
  kReceived = static_cast<int>(ledger::LotUse::kReceived),
  kConsumed = static_cast<int>(ledger::LotUse::kConsumed),
  // also every lot of the event an Attestation.event_id attests
  kAttested = static_cast<int>(ledger::LotUse::kAttested),
  kCorrected = 6,  // every lot of the event a Correction corrects (version 5)
};

// Every lot `body` touches, with how (the rows lot_entries holds for it). A lot named twice in
// one role is listed twice; the store keeps one row.
std::vector<std::pair<const std::string*, LotRole>> LotRolesOf(const cairn::v1::EventBody& body);

// The rows lot_entries holds for `body`: LotRolesOf(body), and for a Correction or an
// Attestation of an event every lot of the event it concerns (following evidence about evidence
// up to ledger::kMaxEvidenceChain), found through `events`, so that a lot's lineage carries every
// correction and attestation of its events. May repeat a row.
using LotEntryRow = std::pair<std::string, LotRole>;
Result<std::vector<LotEntryRow>> LotEntriesOf(const cairn::v1::EventBody& body,
                                              ledger::CustodyView& events);

// The composition `body` declares for lot `lot_id` it creates, or nullptr.
const google::protobuf::Map<std::string, uint32_t>* CompositionOf(const cairn::v1::EventBody& body,
                                                                  const std::string& lot_id);

// The first 8 bytes of an event id, big-endian, as a signed 64-bit integer.
int64_t EventKey(const Hash& event_id);
int64_t EventKey(std::string_view event_id_bytes);

struct StorageOptions {
  // Opens an existing database without writing anything: no schema creation, no lock file, and
  // every write fails. For `cairnd --repair-report`.
  bool read_only = false;
  // How long a connection waits for a lock held by another connection.
  int busy_timeout_ms = 5000;
  // The SQLite VFS the connections use (empty: SQLite's default). The seam where tests inject
  // failed writes and fsyncs (tests/unit/faulty_vfs.h).
  std::string vfs;
  // The event key of every entry by index, as a clean-stop record vouches for them
  // (node/clean_stop.h): when there is one per stored entry, the event index is built from them
  // instead of from a scan of every entry (which reads the whole file). May be null.
  const std::vector<int64_t>* event_keys = nullptr;
};

class Storage final : public LogStore {
 public:
  // Opens (creating when absent, unless read-only) the database at `path`, sets WAL and
  // synchronous=FULL, creates or checks the schema and prepares every statement. Errors:
  // INTERNAL when SQLite cannot open or prepare, FAILED_PRECONDITION when the schema version is
  // not one this build knows or another process holds the database.
  static Result<std::unique_ptr<Storage>> Open(const std::string& path,
                                               const StorageOptions& options = {});
  ~Storage() override;
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  const std::string& path() const { return path_; }
  // The schema version the database had when opened (0 for a new one), before any migration.
  // Versions below 3 stored no signed checkpoint.
  int64_t opened_schema_version() const { return opened_schema_version_; }
  // Whether lot_entries lists corrections and attestations of events under their lots (version 5;
  // false for an older database opened read-only, which is not migrated).
  bool evidence_indexed() const { return !options_.read_only || opened_schema_version_ >= 5; }
  // Whether the database has the federation tables foreign_receipts and foreign_lots (version 6;
  // false for an older database opened read-only).
  bool has_federation_tables() const { return !options_.read_only || opened_schema_version_ >= 6; }

  // ---- Identity (writer connection) ----

  // Records `log_id` as this database's log on first use; afterwards checks it. FAILED_PRECONDITION
  // "database <path> belongs to log <a>, not <b>" on a mismatch. Read-only storage only checks
  // (FAILED_PRECONDITION when no log id is stored).
  Status BindLogId(const std::string& log_id);
  // The stored log id, or nullopt for a fresh database.
  Result<std::optional<std::string>> StoredLogId();
  // The highest trust registry version a node has served this database under (0: none yet).
  Result<uint64_t> HighestRegistryVersion();
  // Records `version` when it is higher than the highest recorded.
  Status RecordRegistryVersion(uint64_t version);

  // ---- Writes (writer connection; one thread) ----

  // Begin() and BeginSavepoint() (LogStore) open a transaction (BEGIN IMMEDIATE) and savepoints
  // on the writer connection. SQLite ends a transaction by itself after some errors (disk full,
  // I/O error); InTransaction() then says so.
  bool InTransaction() const override;

  // Inserts the entry at `index`, found by its event id within the open transaction at once and
  // from the reader connection once the transaction commits. INTERNAL on a SQLite error
  // (including an index already used).
  Status InsertEntry(uint64_t index, const Hash& event_id, const Hash& leaf_hash,
                     std::string_view entry_bytes) override;
  // Applies what CheckAndPlanCustody planned for `event`, appended at `index`: new lots (with the
  // composition declared in the event), holding changes, the shipment opened by a dispatch or
  // closed by a receipt, consumption and transit loss; and records every lot the event touches
  // in the lot index. FAILED_PRECONDITION when a holding would go
  // negative or overflow (the plan contradicts the state), INTERNAL on a SQLite error.
  Status ApplyEffects(const ledger::ParsedEvent& event, uint64_t index,
                      const ledger::CustodyEffects& effects) override;
  // Stores a tile (node/tiles.h), replacing an earlier version of it.
  Status PutTile(uint32_t tile_level, uint64_t tile_index, std::string_view hashes) override;
  // Records `checkpoint` as the latest the node issued.
  Status PutCheckpoint(const cairn::v1::SignedCheckpoint& checkpoint) override;
  // The entry holding `event_id`, seen from the writer connection (including the open
  // transaction's writes), or nullopt.
  Result<std::optional<StoredEntry>> FindEntryForWrite(const Hash& event_id) override;
  // Number of entries, seen from the writer connection.
  Result<uint64_t> SizeForWrite();

  // ---- CustodyView (writer connection) ----
  Result<bool> HasEvent(const std::string& event_id_hex) override;
  Result<std::optional<cairn::v1::EventBody>> FindEventBody(
      const std::string& event_id_hex) override;
  Result<std::optional<ledger::LotRecord>> FindLot(const std::string& lot_id) override;
  Result<uint64_t> Holding(const std::string& lot_id, const std::string& holder) override;
  Result<std::optional<ledger::ShipmentRecord>> FindShipment(
      const std::string& dispatch_id_hex) override;

  // ---- Reads (reader connection; any thread) ----

  // The committed entry holding `event_id`, or nullopt.
  Result<std::optional<StoredEntry>> FindEntry(const Hash& event_id);
  // Committed entries whose event id (raw bytes) lies in [low, high] (32 bytes each), in index
  // order, at most `limit` (as ReplicaStore::FindIdRange).
  Result<std::vector<StoredEntry>> FindIdRange(const std::string& low, const std::string& high,
                                               size_t limit);
  // The committed entry at `index`, or nullopt.
  Result<std::optional<StoredEntry>> ReadEntry(uint64_t index);
  // Indexes of every committed entry whose event creates, dispatches, receives, consumes or
  // attests lot_id, ascending. Empty for an unknown lot.
  Result<std::vector<uint64_t>> EntryIndexesOfLot(const std::string& lot_id);
  // Committed entries with start <= index < end in order, stopping early once the entries read
  // exceed `max_bytes` in total (at least one entry is returned when any is in range).
  Result<std::vector<StoredEntry>> ReadEntries(uint64_t start, uint64_t end, size_t max_bytes);
  // Number of committed entries (the highest index + 1).
  Result<uint64_t> Size();
  // The event key of each of the first `n` entries, by index (from the in-memory event index).
  std::vector<int64_t> EventKeys(uint64_t n) const { return events_.KeysByIndex(n); }
  // The state of a lot: holdings, in transit, consumed, lost, remaining = held + in transit,
  // composition. nullopt for an unknown lot.
  Result<std::optional<cairn::v1::LotState>> GetLotState(const std::string& lot_id);
  // Calls `visit` for every committed entry in index order; stops at (and returns) the first
  // error `visit` returns. Holds the reader lock throughout.
  Status ScanEntries(const std::function<Status(const StoredEntry&)>& visit);
  // Every stored leaf hash in index order.
  Result<std::vector<Hash>> LeafHashes();
  // The stored leaf hashes of entries [begin, end); DATA_LOSS when one is missing or not 32 bytes.
  Result<std::vector<Hash>> ReadLeafHashes(uint64_t begin, uint64_t end) override;
  // The stored bytes of a tile, or nullopt.
  Result<std::optional<std::string>> ReadTile(uint32_t tile_level, uint64_t tile_index) override;
  // Calls `visit` for every stored tile of `tile_level` with index < `limit`, in index order;
  // stops at (and returns) the first error `visit` returns.
  Status ScanTiles(
      uint32_t tile_level, uint64_t limit,
      const std::function<Status(uint64_t tile_index, std::string_view hashes)>& visit);
  // Runs `sql`, a SELECT prepared for this call, on the reader connection and calls `visit` for
  // every row; stops at (and returns) the first error `visit` returns. For the start-up checks
  // that read whole tables (node/startup_check.h).
  Status ScanRows(const char* sql, const std::function<Status(const Query&)>& visit);
  // The latest checkpoint the node recorded (PutCheckpoint), or nullopt. DATA_LOSS when the stored
  // bytes do not parse.
  Result<std::optional<cairn::v1::SignedCheckpoint>> StoredCheckpoint() override;

 protected:
  Status BeginTransaction() override;
  Status CommitTransaction() override;
  void RollbackTransaction() override;
  Result<size_t> OpenSavepoint() override;
  Status ReleaseSavepoint() override;
  Status RollbackToSavepoint(size_t mark) override;

 private:
  struct WriterStatements;  // defined in storage.cc
  struct ReaderStatements;
  struct PrivateTag {};

 public:
  // Use Open().
  Storage(PrivateTag, std::string path, StorageOptions options);

 private:
  Status Initialize();
  // Refuses (FAILED_PRECONDITION) a file that is not a cairn database or not one this build
  // knows, reading only.
  Status CheckCairnFile();
  Status CreateOrCheckSchema();
  // Calls `visit` with every stored entry's event body in index order (writer connection),
  // skipping entries that do not parse; stops at the first error `visit` returns.
  Status ForEachStoredBody(
      const std::function<Status(uint64_t index, const cairn::v1::EventBody& body)>& visit);
  // Brings a database of an older schema version to version 4 inside the open transaction.
  Status Migrate(int64_t from_version);
  // Version 5, in a transaction of its own once the event index is loaded: lot_entries rows for
  // every correction and attestation of an event (LotEntriesOf).
  Status IndexEvidence();
  // Inserts the lot_entries rows of `body`, appended at `index`, with `insert` (a prepared
  // lot_entries insert on the writer connection).
  Status InsertLotEntries(sqlite3_stmt* insert, const std::vector<LotEntryRow>& rows,
                          uint64_t index);
  Status PrepareStatements();
  Status Exec(const char* sql);
  // The entry at one of `indexes` holding `event_id`, read with `read_entry` (an entry-by-index
  // statement of `db`), or nullopt.
  Result<std::optional<StoredEntry>> FindEntryAt(sqlite3* db, sqlite3_stmt* read_entry,
                                                 const std::vector<uint64_t>& indexes,
                                                 const Hash& event_id);
  // Fills events_ from the entries table.
  Status LoadEventIndex();
  // The open transaction's inserted entries: dropped back to `mark` entries, or published to
  // events_ (after COMMIT) or dropped (after ROLLBACK).
  void TruncatePending(size_t mark);
  void PublishPending();
  Result<std::optional<uint64_t>> EntryIndexForWrite(const std::string& event_id_hex);
  Status AddHolding(const std::string& lot_id, const std::string& holder, int64_t delta);

  const std::string path_;
  const StorageOptions options_;
  int lock_fd_ = -1;  // the database file, flock'ed; -1 when read-only
  int64_t opened_schema_version_ = 0;

  // Writer connection: used by one thread at a time (the caller serializes).
  SqliteDb writer_db_;
  std::unique_ptr<WriterStatements> writer_;

  // Where each committed entry's event is, by event key. Thread-safe.
  EventIndex events_;
  // Entries inserted by the open transaction, in order, and by event key: found by the writer at
  // once, published to events_ when the transaction commits. Writer connection's thread only.
  std::vector<std::pair<int64_t, uint64_t>> pending_;
  std::unordered_multimap<int64_t, uint64_t> pending_by_key_;

  Mutex read_mutex_;
  SqliteDb reader_db_ ABSL_GUARDED_BY(read_mutex_);
  std::unique_ptr<ReaderStatements> reader_ ABSL_GUARDED_BY(read_mutex_);
};

}  // namespace cairn::node
