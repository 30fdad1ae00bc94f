// A fault-injecting node::LogStore for tests: every call goes to a real node::Storage (a real
// SQLite file), except the ones a test arms to fail. The seam between the sequencer and its store,
// so the writer's failure paths (a refused tile write, a failed COMMIT that did or did not reach
// the disk) run against the real sequencer and the real database.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "node/log_store.h"
#include "node/storage.h"

namespace cairn::testing {

class FailingStore final : public node::LogStore {
 public:
  enum class Op : size_t { kInsertEntry, kApplyEffects, kPutTile, kPutCheckpoint, kCommit, kCount };
  // How an armed COMMIT fails: before it reaches the database (the group is not durable), or
  // after the database committed it (durable, as when the fsync succeeded but its answer was lost).
  enum class CommitFailure { kBeforeDurable, kAfterDurable };

  explicit FailingStore(node::Storage& inner) : inner_(inner) {}

  // The next call of `op` fails with INTERNAL "injected failure of <op>"; later calls pass.
  void FailNext(Op op) { armed_[Index(op)] = true; }
  void FailNextCommit(CommitFailure how) {
    armed_[Index(Op::kCommit)] = true;
    commit_failure_ = how;
  }
  // How many calls of `op` reached this store (failed or not).
  size_t calls(Op op) const { return calls_[Index(op)]; }

  bool InTransaction() const override { return inner_.InTransaction(); }
  Status InsertEntry(uint64_t index, const Hash& event_id, const Hash& leaf_hash,
                     std::string_view entry_bytes) override {
    if (Trip(Op::kInsertEntry)) return Injected("InsertEntry");
    return inner_.InsertEntry(index, event_id, leaf_hash, entry_bytes);
  }
  Status ApplyEffects(const ledger::ParsedEvent& event, uint64_t index,
                      const ledger::CustodyEffects& effects) override {
    if (Trip(Op::kApplyEffects)) return Injected("ApplyEffects");
    return inner_.ApplyEffects(event, index, effects);
  }
  Status PutTile(uint32_t tile_level, uint64_t tile_index, std::string_view hashes) override {
    if (Trip(Op::kPutTile)) return Injected("PutTile");
    return inner_.PutTile(tile_level, tile_index, hashes);
  }
  Status PutCheckpoint(const cairn::v1::SignedCheckpoint& checkpoint) override {
    if (Trip(Op::kPutCheckpoint)) return Injected("PutCheckpoint");
    return inner_.PutCheckpoint(checkpoint);
  }
  Result<std::optional<node::StoredEntry>> FindEntryForWrite(const Hash& event_id) override {
    return inner_.FindEntryForWrite(event_id);
  }
  Result<std::vector<Hash>> ReadLeafHashes(uint64_t begin, uint64_t end) override {
    return inner_.ReadLeafHashes(begin, end);
  }
  Result<std::optional<std::string>> ReadTile(uint32_t tile_level, uint64_t tile_index) override {
    return inner_.ReadTile(tile_level, tile_index);
  }
  Result<std::optional<cairn::v1::SignedCheckpoint>> StoredCheckpoint() override {
    return inner_.StoredCheckpoint();
  }

  Result<bool> HasEvent(const std::string& event_id_hex) override {
    return inner_.HasEvent(event_id_hex);
  }
  Result<std::optional<cairn::v1::EventBody>> FindEventBody(
      const std::string& event_id_hex) override {
    return inner_.FindEventBody(event_id_hex);
  }
  Result<std::optional<ledger::LotRecord>> FindLot(const std::string& lot_id) override {
    return inner_.FindLot(lot_id);
  }
  Result<uint64_t> Holding(const std::string& lot_id, const std::string& holder) override {
    return inner_.Holding(lot_id, holder);
  }
  Result<std::optional<ledger::ShipmentRecord>> FindShipment(
      const std::string& dispatch_id_hex) override {
    return inner_.FindShipment(dispatch_id_hex);
  }

 protected:
  // The inner store's own transaction and savepoint handles carry the work.
  Status BeginTransaction() override {
    auto txn = inner_.Begin();
    if (!txn.ok()) return txn.status();
    txn_.emplace(std::move(txn).value());
    return Status::Ok();
  }
  Status CommitTransaction() override {
    if (!txn_) return Internal("commit: no open transaction");
    if (Trip(Op::kCommit)) {
      if (commit_failure_ == CommitFailure::kAfterDurable) {
        const Status committed = txn_->Commit();
        txn_.reset();
        if (!committed.ok()) return committed;
      }
      return Injected("COMMIT");
    }
    const Status committed = txn_->Commit();
    if (committed.ok()) txn_.reset();
    return committed;
  }
  void RollbackTransaction() override {
    savepoint_.reset();
    txn_.reset();  // the inner handle rolls back unless it committed
  }
  Result<size_t> OpenSavepoint() override {
    auto savepoint = inner_.BeginSavepoint();
    if (!savepoint.ok()) return savepoint.status();
    savepoint_.emplace(std::move(savepoint).value());
    return size_t{0};
  }
  Status ReleaseSavepoint() override {
    if (!savepoint_) return Internal("savepoint: none open");
    const Status released = savepoint_->Release();
    savepoint_.reset();
    return released;
  }
  Status RollbackToSavepoint(size_t /*mark*/) override {
    if (!savepoint_) return Internal("savepoint: none open");
    const Status rolled_back = savepoint_->Rollback();
    savepoint_.reset();
    return rolled_back;
  }

 private:
  static constexpr size_t Index(Op op) { return static_cast<size_t>(op); }
  bool Trip(Op op) {
    ++calls_[Index(op)];
    return std::exchange(armed_[Index(op)], false);
  }
  static Status Injected(std::string_view what) {
    return Internal("injected failure of " + std::string(what));
  }

  node::Storage& inner_;
  std::optional<node::LogStore::Transaction> txn_;
  std::optional<node::LogStore::Savepoint> savepoint_;
  static constexpr size_t kOps = static_cast<size_t>(Op::kCount);
  std::array<bool, kOps> armed_{};
  std::array<size_t, kOps> calls_{};
  CommitFailure commit_failure_ = CommitFailure::kBeforeDurable;
};

}  // namespace cairn::testing
