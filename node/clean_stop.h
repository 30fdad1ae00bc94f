// The clean-stop record: what lets a node that stopped cleanly start again without re-reading
// every entry.
//
// The start-up check (node/startup_check.h) reads the whole log: about 14 s per million entries.
// After a clean stop that work is owed nothing: the node checked the database when it started,
// and since then only it wrote to it, each entry checked before it was appended. So when it has
// stopped cleanly, with every database connection closed, it writes `<db>.clean-stop`: the log,
// its size and root, the registry version and the identity of the database file as the stop left
// it (device, inode, size, modification and status-change times to the nanosecond), signed with
// the node's key. At the next start the record is read before the database is opened; it stands in
// for the full check only when its signature verifies under the node's own key, it names this log
// and registry version, the file's identity is exactly the one it recorded and no write-ahead log
// is waiting to be applied. Then the start checks what is cheap (the entry count, the signed
// checkpoint, the stored tree's root against both).
//
// Anything else -- a crash or kill -9 (no record), a file written by anything after the stop
// (its times change: sqlite3, a restore, a copy; restoring the modification time with `touch`
// still moves the status-change time, which only the kernel sets), a forged or edited record, a
// newer registry -- falls back to the full check. Out of reach of the record, and so of this
// shortcut: someone who can write the node's database while it runs, or who can set the
// machine's clock and the file's times back. `full_start_check = true` (or deleting the record)
// always runs the full check; `cairnd --repair-report` runs it without serving.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/crypto.h"
#include "common/status.h"
#include "keys/key_file.h"

namespace cairn::node {

// What the node vouches for at its clean stop.
struct CleanStopState {
  std::string log_id;
  uint64_t entries = 0;
  Hash root{};  // root of the checkpoint covering the entries
  uint64_t registry_version = 0;
  // The event key of each entry, by index (Storage::EventKeys): kept beside the record in
  // `<db>.clean-stop.keys` (8 bytes per entry, its SHA-256 in the record), so that the next start
  // need not read every entry to rebuild the event index.
  std::vector<int64_t> event_keys;
};

// `<db>.clean-stop`.
std::string CleanStopPath(const std::string& db);

// Writes the record for `db`, which must be closed (its write-ahead log checkpointed and gone):
// signs `state` and the file's identity with `node_key`, and writes the record atomically
// (temporary file, fsync, rename, fsync of the directory).
Status WriteCleanStop(const std::string& db, const CleanStopState& state,
                      const keys::SigningKey& node_key);

// What TakeCleanStop found: the state the record vouches for, or why there is none to use.
struct CleanStopCheck {
  std::optional<CleanStopState> state;
  std::string why_not;  // set when `state` is not: "no record", "the database changed since", ...
};

// Reads the record of `db`, before the database is opened. The state is returned only when the
// record verifies under `node_key`, names `log_id` and `registry_version`, and the database file is
// exactly as the clean stop left it, with no write-ahead log to apply. A record is never valid
// after any later write to the file (WriteCleanStop records the file's times only once the clock
// has passed them, so a later write moves them), so the node removes it only once it serves.
Result<CleanStopCheck> ReadCleanStop(const std::string& db, const std::string& log_id,
                                     uint64_t registry_version, const keys::SigningKey& node_key);

// Removes the record of `db` and its keys file, if any.
Status RemoveCleanStop(const std::string& db);

}  // namespace cairn::node
