#include "node/sqlite.h"

namespace cairn::node {

Status SqliteError(sqlite3* db, std::string_view what) {
  return Internal("SQLite: " + std::string(what) + ": " + sqlite3_errmsg(db));
}

Result<SqliteStmt> Prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  SqliteStmt stmt(raw);  // owned before the result is checked
  if (rc != SQLITE_OK) return SqliteError(db, std::string("preparing ") + sql);
  return stmt;
}

Result<SqliteDb> OpenConnection(const std::string& path, bool read_only, int busy_timeout_ms,
                                const std::string& vfs) {
  sqlite3* raw = nullptr;
  const int flags = read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOFOLLOW,
                                 vfs.empty() ? nullptr : vfs.c_str());
  SqliteDb db(raw);  // owned before the result is checked, so a failed open still closes
  if (rc != SQLITE_OK) {
    return Internal("cannot open database " + path + ": " +
                    (raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), busy_timeout_ms);
  return db;
}

}  // namespace cairn::node
