#include "node/log_store.h"

#include <utility>

namespace cairn::node {

LogStore::Transaction::Transaction(Transaction&& other) noexcept
    : store_(std::exchange(other.store_, nullptr)) {}

LogStore::Transaction::~Transaction() {
  if (store_ != nullptr) store_->RollbackTransaction();
}

Status LogStore::Transaction::Commit() {
  if (store_ == nullptr) return Internal("commit: no open transaction");
  if (!store_->InTransaction()) {
    return Internal("commit: the store already rolled the transaction back after an earlier error");
  }
  const Status status = store_->CommitTransaction();
  if (status.ok()) store_ = nullptr;  // otherwise the destructor rolls back
  return status;
}

LogStore::Savepoint::Savepoint(Savepoint&& other) noexcept
    : store_(std::exchange(other.store_, nullptr)), mark_(other.mark_) {}

LogStore::Savepoint::~Savepoint() {
  if (store_ != nullptr) (void)Rollback();
}

Status LogStore::Savepoint::Release() {
  if (store_ == nullptr) return Internal("savepoint: already ended");
  return std::exchange(store_, nullptr)->ReleaseSavepoint();
}

Status LogStore::Savepoint::Rollback() {
  if (store_ == nullptr) return Internal("savepoint: already ended");
  LogStore* store = std::exchange(store_, nullptr);
  if (!store->InTransaction()) {
    return Internal("savepoint: the store already rolled the transaction back after an error");
  }
  return store->RollbackToSavepoint(mark_);
}

Result<LogStore::Transaction> LogStore::Begin() {
  CAIRN_RETURN_IF_ERROR(BeginTransaction());
  return Transaction(this);
}

Result<LogStore::Savepoint> LogStore::BeginSavepoint() {
  if (!InTransaction()) return Internal("savepoint: no open transaction");
  CAIRN_ASSIGN_OR_RETURN(const size_t mark, OpenSavepoint());
  return Savepoint(this, mark);
}

}  // namespace cairn::node
