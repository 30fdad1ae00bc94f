// cairn-admin: operations on a node's SQLite file, for the people who run the node.
//
//   cairn-admin backup --db PATH -o FILE     online, while cairnd serves
//   cairn-admin restore --from FILE --db PATH   with the node stopped
//
// A backup is SQLite's online backup API copying every page of the database inside one read
// transaction: WAL mode lets the node go on appending meanwhile, and the copy is the database as
// of one commit, so its entries and the signed checkpoint covering them (committed together, see
// DESIGN.md) agree. The copy is written to a temporary file, switched from WAL to a single file,
// checked with PRAGMA integrity_check, fsynced and renamed into place: a FILE that exists is a
// whole backup. Restore checks the backup the same way, refuses a database a running cairnd holds
// (its flock), and puts the copy in place the same way; cairnd then checks the log against its
// checkpoint when it starts (or `cairnd --repair-report` checks it without serving).
//
// Exit codes: 0 done, 1 the database or the backup is not sound (nothing written), 2 usage or
// I/O error.
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>

#include "cairn/v1/log.pb.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/status.h"
#include "node/sqlite.h"

namespace cairn::admin {
namespace {

using node::OpenConnection;
using node::SqliteDb;

constexpr int kBusyTimeoutMs = 10000;

// What a backup or a database holds, read from it.
struct Summary {
  std::string log_id;
  int64_t entries = 0;
  cairn::v1::Checkpoint checkpoint;  // size 0 when none was signed yet
  int64_t schema_version = 0;
};

// The first column of the first row of `sql` (empty when there is none).
Result<std::string> SingleText(sqlite3* db, const char* sql) {
  CAIRN_ASSIGN_OR_RETURN(node::SqliteStmt stmt, node::Prepare(db, sql));
  node::Query query(db, stmt.get());
  CAIRN_ASSIGN_OR_RETURN(const bool row, query.Next());
  return row ? query.ColumnBlob(0) : std::string();
}

Status Exec(sqlite3* db, const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    const std::string message = error == nullptr ? sqlite3_errmsg(db) : error;
    sqlite3_free(error);
    return Internal(std::string("SQLite: ") + sql + ": " + message);
  }
  return Status::Ok();
}

// PRAGMA integrity_check, and the node's tables and meta rows: DATA_LOSS naming `what` when the
// file is not a sound cairnd database.
Result<Summary> InspectOrError(sqlite3* db, const std::string& what);

Result<Summary> Inspect(sqlite3* db, const std::string& what) {
  // A file SQLite cannot read as a database is not a sound backup either.
  auto summary = InspectOrError(db, what);
  if (!summary.ok() && summary.status().code() == StatusCode::kInternal) {
    return DataLoss(what + " is not a readable cairnd database: " + summary.status().message());
  }
  return summary;
}

Result<Summary> InspectOrError(sqlite3* db, const std::string& what) {
  CAIRN_ASSIGN_OR_RETURN(const std::string integrity, SingleText(db, "PRAGMA integrity_check"));
  if (integrity != "ok") return DataLoss(what + " fails SQLite's integrity check: " + integrity);
  Summary s;
  auto log_id = SingleText(db, "SELECT value FROM meta WHERE key = 'log_id'");
  if (!log_id.ok() || log_id->empty()) {
    return DataLoss(what + " is not a cairnd database (no log id in its meta table)");
  }
  s.log_id = *log_id;
  CAIRN_ASSIGN_OR_RETURN(const std::string version, SingleText(db, "PRAGMA user_version"));
  s.schema_version = std::stoll(version.empty() ? "0" : version);
  CAIRN_ASSIGN_OR_RETURN(const std::string count, SingleText(db, "SELECT count(*) FROM entries"));
  s.entries = std::stoll(count.empty() ? "0" : count);
  CAIRN_ASSIGN_OR_RETURN(const std::string signed_bytes,
                         SingleText(db, "SELECT value FROM meta WHERE key = 'checkpoint'"));
  if (!signed_bytes.empty()) {
    cairn::v1::SignedCheckpoint signed_checkpoint;
    if (!signed_checkpoint.ParseFromString(signed_bytes) ||
        !s.checkpoint.ParseFromString(signed_checkpoint.checkpoint())) {
      return DataLoss(what + ": its stored checkpoint does not parse");
    }
  }
  if (static_cast<int64_t>(s.checkpoint.size()) > s.entries) {
    return DataLoss(what + ": its checkpoint covers " + std::to_string(s.checkpoint.size()) +
                    " entries, it holds " + std::to_string(s.entries));
  }
  return s;
}

std::string Describe(const Summary& s) {
  return "log " + s.log_id + ", " + std::to_string(s.entries) +
         " entries, signed checkpoint size " + std::to_string(s.checkpoint.size()) + " root " +
         ToHex(s.checkpoint.root_hash()) + " (schema version " + std::to_string(s.schema_version) +
         ")";
}

Status FsyncPath(const std::string& path, bool directory) {
  const int fd = open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return Internal("cannot open " + path + ": " + std::strerror(errno));
  const int rc = fsync(fd);
  const int saved = errno;
  close(fd);
  if (rc != 0) return Internal("cannot fsync " + path + ": " + std::strerror(saved));
  return Status::Ok();
}

std::string DirectoryOf(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  return parent.empty() ? "." : parent.string();
}

// Puts the finished copy `tmp` in place as `path`: fsynced, renamed over it, and the directory
// fsynced, so `path` is the old file or the whole new one.
Status InstallFile(const std::string& tmp, const std::string& path) {
  CAIRN_RETURN_IF_ERROR(FsyncPath(tmp, false));
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return Internal("cannot rename " + tmp + " to " + path + ": " + std::strerror(errno));
  }
  return FsyncPath(DirectoryOf(path), true);
}

// Copies database `from` into a new file `to` with the online backup API, retrying while the
// source is locked, then makes `to` one self-contained file (journal_mode DELETE).
Status Copy(sqlite3* from, const std::string& to) {
  CAIRN_ASSIGN_OR_RETURN(SqliteDb dest, OpenConnection(to, false, kBusyTimeoutMs));
  sqlite3_backup* backup = sqlite3_backup_init(dest.get(), "main", from, "main");
  if (backup == nullptr) return node::SqliteError(dest.get(), "backup");
  int rc = SQLITE_OK;
  // All pages in one step: one read transaction on the source, so the copy is one commit's state.
  for (int tries = 0; tries < 600; ++tries) {
    rc = sqlite3_backup_step(backup, -1);
    if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) {
    return Internal(std::string("SQLite backup to ") + to + ": " + sqlite3_errstr(rc));
  }
  return Exec(dest.get(), "PRAGMA journal_mode=DELETE");
}

void RemoveQuietly(const std::string& path) {
  std::error_code ignored;
  std::filesystem::remove(path, ignored);
  std::filesystem::remove(path + "-journal", ignored);
  std::filesystem::remove(path + "-wal", ignored);
  std::filesystem::remove(path + "-shm", ignored);
}

struct BackupOptions {
  std::string db;
  std::string output;
  bool force = false;
};

int Fail(const char* command, const Status& status) {
  std::cerr << "cairn-admin " << command << ": " << status.ToString() << "\n";
  return status.code() == StatusCode::kDataLoss ? 1 : 2;
}

int RunBackup(const BackupOptions& opt) {
  if (!opt.force && std::filesystem::exists(opt.output)) {
    return Fail("backup", InvalidArgument(opt.output + " exists (--force replaces it)"));
  }
  if (!std::filesystem::is_regular_file(opt.db)) {
    return Fail("backup", InvalidArgument("--db " + opt.db + ": no such database file"));
  }
  auto source = OpenConnection(opt.db, /*read_only=*/true, kBusyTimeoutMs);
  if (!source.ok()) return Fail("backup", source.status());
  const std::string tmp = opt.output + ".cairn-admin-tmp";
  RemoveQuietly(tmp);
  const auto start = std::chrono::steady_clock::now();
  Status s = Copy(source->get(), tmp);
  Result<Summary> summary = DataLoss("not checked");
  if (s.ok()) {
    auto copy = OpenConnection(tmp, /*read_only=*/true, kBusyTimeoutMs);
    summary = copy.ok() ? Inspect(copy->get(), "the copy of " + opt.db) : copy.status();
  }
  if (s.ok() && !summary.ok()) s = summary.status();
  if (s.ok()) s = InstallFile(tmp, opt.output);
  if (!s.ok()) {
    RemoveQuietly(tmp);
    return Fail("backup", s);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "backed up " << opt.db << " to " << opt.output << " in " << seconds
            << " s: " << Describe(*summary) << "\n";
  return 0;
}

struct RestoreOptions {
  std::string from;
  std::string db;
  bool force = false;
};

int RunRestore(const RestoreOptions& opt) {
  if (!std::filesystem::is_regular_file(opt.from)) {
    return Fail("restore", InvalidArgument("--from " + opt.from + ": no such backup file"));
  }
  const bool exists = std::filesystem::exists(opt.db);
  if (exists && !opt.force) {
    return Fail("restore", InvalidArgument("--db " + opt.db +
                                           " exists: --force replaces it (stop its cairnd first)"));
  }
  // A running cairnd holds an exclusive flock on its database file (node/storage.cc).
  int lock_fd = -1;
  if (exists) {
    lock_fd = open(opt.db.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (lock_fd < 0 || flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
      if (lock_fd >= 0) close(lock_fd);
      return Fail("restore", FailedPrecondition("--db " + opt.db +
                                                " is in use by a running cairnd: stop it first"));
    }
  }
  auto source = OpenConnection(opt.from, /*read_only=*/true, kBusyTimeoutMs);
  Status s = source.ok() ? Status::Ok() : source.status();
  Result<Summary> summary = DataLoss("not checked");
  if (s.ok()) {
    summary = Inspect(source->get(), "backup " + opt.from);
    if (!summary.ok()) s = summary.status();
  }
  const std::string tmp = opt.db + ".cairn-admin-tmp";
  if (s.ok()) {
    RemoveQuietly(tmp);
    s = Copy(source->get(), tmp);
  }
  if (s.ok()) {
    // The old database's journal files belong to the file being replaced.
    std::error_code ignored;
    std::filesystem::remove(opt.db + "-wal", ignored);
    std::filesystem::remove(opt.db + "-shm", ignored);
    s = InstallFile(tmp, opt.db);
  }
  if (lock_fd >= 0) close(lock_fd);
  if (!s.ok()) {
    RemoveQuietly(tmp);
    return Fail("restore", s);
  }
  std::cout << "restored " << opt.from << " to " << opt.db << ": " << Describe(*summary)
            << "\ncairnd checks the log against its checkpoint when it starts on it\n";
  return 0;
}

int Main(int argc, char** argv) {
  CLI::App app(
      "cairn-admin: operations on a cairnd database file. Exit 0 done, 1 the database or the\n"
      "backup is not sound (nothing written), 2 usage or I/O error.");
  app.set_version_flag("--version", "cairn-admin " CAIRN_VERSION);
  app.require_subcommand(1);
  BackupOptions backup;
  CLI::App* b = app.add_subcommand(
      "backup",
      "Copy a node's database while the node serves (SQLite's online backup API: one read\n"
      "transaction, so the copy is one commit's state, entries and signed checkpoint\n"
      "together), check it (integrity_check, the node's tables) and write it as one file.");
  b->add_option("--db", backup.db, "the node's SQLite file")->required();
  b->add_option("-o,--output", backup.output, "backup file to write")->required();
  b->add_flag("--force", backup.force, "replace an existing --output file");
  RestoreOptions restore;
  CLI::App* r = app.add_subcommand(
      "restore",
      "Put a backup in place as a node's database, the node stopped: the backup is checked first,\n"
      "and a database a running cairnd holds is refused. cairnd checks the log against its\n"
      "signed checkpoint when it starts.");
  r->add_option("--from", restore.from, "backup file (cairn-admin backup)")->required();
  r->add_option("--db", restore.db, "the node's SQLite file to write")->required();
  r->add_flag("--force", restore.force, "replace an existing --db file");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (b->parsed()) return RunBackup(backup);
  return RunRestore(restore);
}

}  // namespace
}  // namespace cairn::admin

int main(int argc, char** argv) { return cairn::admin::Main(argc, argv); }
