// LogStore: what the sequencer needs of the node's database, and nothing more.
//
// One transaction per group of appends with a savepoint per request inside it; the writes of an
// append (the entry, its custody effects, the tree's tiles, the signed checkpoint); the custody
// state the rulebook checks an event against (ledger::CustodyView, seeing the open transaction's
// writes); and the stored tree hashes the proofs are built from. node::Storage, the SQLite
// database, is the implementation; tests put a fault-injecting store in front of it
// (tests/unit/failing_store.h) to fail a COMMIT, a tile write or a checkpoint write on purpose.
//
// Contract every implementation keeps:
//   - nothing is durable before CommitTransaction() returns OK; a failed commit may or may not
//     have made the group durable (the sequencer then refuses every append until a restart);
//   - a transaction handle destroyed without a commit rolls everything back, a savepoint handle
//     destroyed without Release() rolls back to it; savepoints do not nest;
//   - the writer methods and CustodyView are used by one thread at a time; ReadLeafHashes,
//     ReadTile and StoredCheckpoint may be called from any thread and see committed data only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/v1/log.pb.h"
#include "common/crypto.h"
#include "common/status.h"
#include "ledger/custody.h"
#include "ledger/event.h"

namespace cairn::node {

// One stored entry, as read back.
struct StoredEntry {
  uint64_t index = 0;
  int64_t event_key = 0;
  std::string event_id;   // 32 raw bytes as stored
  std::string leaf_hash;  // 32 raw bytes as stored
  std::string entry;      // serialized LogEntry, verbatim
};

class LogStore : public ledger::CustodyView {
 public:
  ~LogStore() override = default;

  // The open transaction: rolls back in its destructor unless committed. The store must outlive
  // it. Move-only.
  class Transaction {
   public:
    Transaction(Transaction&& other) noexcept;
    Transaction& operator=(Transaction&&) = delete;
    Transaction(const Transaction&) = delete;
    ~Transaction();
    // COMMIT. On failure the transaction is rolled back (by the store or by the destructor).
    Status Commit();

   private:
    friend class LogStore;
    explicit Transaction(LogStore* store) : store_(store) {}
    LogStore* store_;  // nullptr once committed or moved from
  };

  // A savepoint inside the open transaction: rolls back to it and releases it in its destructor
  // unless Release() or Rollback() was called. The store must outlive it. Move-only.
  class Savepoint {
   public:
    Savepoint(Savepoint&& other) noexcept;
    Savepoint& operator=(Savepoint&&) = delete;
    Savepoint(const Savepoint&) = delete;
    ~Savepoint();
    // Keeps the writes made since the savepoint (they commit with the transaction).
    Status Release();
    // Undoes the writes made since the savepoint; the transaction stays open.
    Status Rollback();

   private:
    friend class LogStore;
    Savepoint(LogStore* store, size_t mark) : store_(store), mark_(mark) {}
    LogStore* store_;  // nullptr once released, rolled back or moved from
    size_t mark_;      // what OpenSavepoint() returned
  };

  // BEGIN (immediate: the writer's lock is taken now). INTERNAL when the store refuses, e.g. a
  // transaction is already open.
  Result<Transaction> Begin();
  // A savepoint inside the open transaction; INTERNAL when none is open.
  Result<Savepoint> BeginSavepoint();
  // Whether a transaction is open. A store may end one by itself after some errors (SQLite does
  // after disk full or an I/O error); the sequencer checks this before trusting a savepoint.
  virtual bool InTransaction() const = 0;

  // ---- Writes (inside the open transaction) ----

  // Inserts the entry at `index`, found by its event id at once (FindEntryForWrite) and by the
  // readers once the transaction commits. INTERNAL on a store error (including an index already
  // used).
  virtual Status InsertEntry(uint64_t index, const Hash& event_id, const Hash& leaf_hash,
                             std::string_view entry_bytes) = 0;
  // Applies what ledger::CheckAndPlanCustody planned for `event`, appended at `index`.
  // FAILED_PRECONDITION when a holding would go negative or overflow (the plan contradicts the
  // state), INTERNAL on a store error.
  virtual Status ApplyEffects(const ledger::ParsedEvent& event, uint64_t index,
                              const ledger::CustodyEffects& effects) = 0;
  // Stores a tile (node/tiles.h), replacing an earlier version of it.
  virtual Status PutTile(uint32_t tile_level, uint64_t tile_index, std::string_view hashes) = 0;
  // Records `checkpoint` as the latest the node issued.
  virtual Status PutCheckpoint(const cairn::v1::SignedCheckpoint& checkpoint) = 0;
  // The entry holding `event_id`, including the open transaction's writes, or nullopt.
  virtual Result<std::optional<StoredEntry>> FindEntryForWrite(const Hash& event_id) = 0;

  // ---- Reads of committed data (any thread) ----

  // The stored leaf hashes of entries [begin, end); DATA_LOSS when one is missing or malformed.
  virtual Result<std::vector<Hash>> ReadLeafHashes(uint64_t begin, uint64_t end) = 0;
  // The stored bytes of a tile, or nullopt.
  virtual Result<std::optional<std::string>> ReadTile(uint32_t tile_level, uint64_t tile_index) = 0;
  // The latest checkpoint recorded (PutCheckpoint), or nullopt. DATA_LOSS when it does not parse.
  virtual Result<std::optional<cairn::v1::SignedCheckpoint>> StoredCheckpoint() = 0;

 protected:
  // The primitives behind Transaction and Savepoint.
  virtual Status BeginTransaction() = 0;
  // On failure the implementation leaves the transaction for RollbackTransaction().
  virtual Status CommitTransaction() = 0;
  // Rolls back whatever the open transaction wrote; nothing to do when none is open.
  virtual void RollbackTransaction() = 0;
  // Opens a savepoint; returns a mark that RollbackToSavepoint() gets back.
  virtual Result<size_t> OpenSavepoint() = 0;
  virtual Status ReleaseSavepoint() = 0;
  // Undoes the writes since the savepoint of `mark` and releases it.
  virtual Status RollbackToSavepoint(size_t mark) = 0;
};

}  // namespace cairn::node
