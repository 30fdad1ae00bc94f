// SQLite helpers for the node's stores: owning handles, prepared statements and a binder that
// resets its statement when done. No schema knowledge lives here.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace cairn::node {

struct CloseSqlite {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct FinalizeSqlite {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using SqliteDb = std::unique_ptr<sqlite3, CloseSqlite>;
using SqliteStmt = std::unique_ptr<sqlite3_stmt, FinalizeSqlite>;

// INTERNAL "SQLite: <what>: <SQLite's message for db>".
Status SqliteError(sqlite3* db, std::string_view what);

// A statement prepared once and kept (SQLITE_PREPARE_PERSISTENT).
Result<SqliteStmt> Prepare(sqlite3* db, const char* sql);

// A connection to `path` (never following a symbolic link) through VFS `vfs` (empty: the
// default) with extended result codes and the busy timeout set; INTERNAL naming the path when
// SQLite cannot open it.
Result<SqliteDb> OpenConnection(const std::string& path, bool read_only, int busy_timeout_ms,
                                const std::string& vfs = "");

// Binds parameters to a prepared statement, steps it and reads columns; resets the statement and
// clears its bindings when it goes out of scope so the statement can be reused.
class Query {
 public:
  Query(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Query() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  Query& Int(int64_t value) { return Check(sqlite3_bind_int64(stmt_, ++param_, value)); }
  Query& Text(std::string_view value) {
    return Check(sqlite3_bind_text64(stmt_, ++param_, value.data(), value.size(), SQLITE_TRANSIENT,
                                     SQLITE_UTF8));
  }
  // An empty blob binds as a zero-length blob, never as NULL.
  Query& Blob(std::string_view value) {
    static const char kEmpty = 0;
    return Check(sqlite3_bind_blob64(stmt_, ++param_, value.empty() ? &kEmpty : value.data(),
                                     value.size(), SQLITE_TRANSIENT));
  }

  // Steps once: true with a row, false when done.
  Result<bool> Next() {
    if (!bind_status_.ok()) return bind_status_;
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return SqliteError(db_, sqlite3_sql(stmt_));
  }
  // Steps a statement that returns no rows.
  Status Run() {
    CAIRN_ASSIGN_OR_RETURN(const bool row, Next());
    if (row) return Internal(std::string("SQLite: unexpected row from ") + sqlite3_sql(stmt_));
    return Status::Ok();
  }

  int64_t ColumnInt(int i) const { return sqlite3_column_int64(stmt_, i); }
  bool ColumnIsNull(int i) const { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }
  std::string ColumnText(int i) const {
    const auto* p = sqlite3_column_text(stmt_, i);
    const int n = sqlite3_column_bytes(stmt_, i);
    return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p), n);
  }
  std::string ColumnBlob(int i) const {
    const void* p = sqlite3_column_blob(stmt_, i);
    const int n = sqlite3_column_bytes(stmt_, i);
    return p == nullptr ? std::string() : std::string(static_cast<const char*>(p), n);
  }

 private:
  Query& Check(int rc) {
    if (rc != SQLITE_OK && bind_status_.ok()) {
      bind_status_ = SqliteError(db_, std::string("binding ") + sqlite3_sql(stmt_));
    }
    return *this;
  }

  sqlite3* const db_;
  sqlite3_stmt* const stmt_;
  int param_ = 0;
  Status bind_status_;
};

}  // namespace cairn::node
