// Upgrades: a database as every earlier schema version (1 to 5) left it, each made by the test
// from a log written by today's cairnd, is migrated in place by a real cairnd at start. The
// migrated node serves the same log (same size, same checkpoint, `cairn verify --log` passes),
// traces the same lineage (the lot index rebuilt: corrections and attestations included), takes
// the next append, and records the current schema version. A database of a newer version than
// this cairnd knows is refused and left as it is.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/integration/harness.h"
#include "tests/unit/test_world.h"

namespace cairn::itest {
namespace {

using cairn::testing::Body;
using cairn::testing::DispatchOf;
using cairn::testing::PakistanExtraction;
using cairn::testing::ReceiptOf;
using cairn::testing::Separation;

constexpr int kCurrentVersion = 6;
constexpr char kOre[] = "pk-fwo:CHG-2025-0001";
constexpr char kOxide[] = "us-usm:NDPR-2025-001";

// Runs `sql` on the database at `path`; the first column of the last row, if any.
std::string Sql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  std::string last;
  char* error = nullptr;
  const int rc = sqlite3_exec(
      db, sql.c_str(),
      [](void* out, int columns, char** values, char**) {
        if (columns > 0) *static_cast<std::string*>(out) = values[0] ? values[0] : "NULL";
        return 0;
      },
      &last, &error);
  EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << (error ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
  return last;
}

// What schema version N's cairnd left behind, made from a current database by undoing each
// migration of node/storage_schema.cc in turn (6 -> 5 -> ... -> N). `evidence` are the indexes
// of the corrections and attestations of events, which version 5 began to index under lots.
void Downgrade(const std::string& path, int version, const std::vector<int>& evidence) {
  if (version <= 5) {  // 6 added what a log's events did to other logs' lots and dispatches
    Sql(path, "DROP TABLE foreign_receipts; DROP TABLE foreign_lots;");
  }
  if (version <= 4) {  // 5 indexed corrections and attestations of events under their lots
    std::string list;
    for (int index : evidence) list += (list.empty() ? "" : ",") + std::to_string(index);
    Sql(path, "DELETE FROM lot_entries WHERE idx IN (" + list + ")");
  }
  if (version <= 3) {  // 4 dropped the event_key index for the EventIndex in memory
    Sql(path, "CREATE INDEX entries_by_event_key ON entries(event_key)");
  }
  if (version <= 2) {  // 3 stored the tree's tiles and rebuilt lots WITHOUT ROWID
    Sql(path,
        "DROP TABLE tiles;"
        "CREATE TABLE lots_old(lot_id TEXT PRIMARY KEY, creator TEXT NOT NULL, material TEXT "
        "NOT NULL, created_mass_g INTEGER NOT NULL, created_idx INTEGER NOT NULL, composition "
        "BLOB NOT NULL, consumed_g INTEGER NOT NULL, transit_loss_g INTEGER NOT NULL);"
        "INSERT INTO lots_old SELECT * FROM lots; DROP TABLE lots;"
        "ALTER TABLE lots_old RENAME TO lots;");
  }
  if (version <= 1) {  // 2 added the lot index
    Sql(path, "DROP TABLE lot_entries");
  }
  Sql(path, "PRAGMA user_version = " + std::to_string(version));
}

std::string NodeConfig(const std::string& db) {
  return "listen = \"127.0.0.1:0\"\ndb = \"" + db +
         "\"\nlog_id = \"demo-log\"\nnode_key = \"keys/demo-log.key\"\n"
         "registry = \"registry.json\"\n"
         "participants = [\"pk-fwo\", \"us-usm\", \"jp-magnets\", \"au-assay-lab\"]\n";
}

class MigrationTest : public ::testing::Test {
 protected:
  std::string Append(const std::string& address, const cairn::v1::EventBody& body) {
    auto stub = cairn::v1::Ledger::NewStub(
        grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
    cairn::v1::AppendResponse response;
    const grpc::Status status = AppendSigned(*stub, world_->Sign(body), &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.event_id();
  }

  // What the node says about the log and the lot: its checkpoint, the lot's lineage (event ids
  // in trace order), and `cairn verify --log`.
  struct Seen {
    std::string checkpoint;  // size and root
    std::string trace;
    int verify = -1;
  };
  Seen Look(const std::string& address) {
    Seen seen;
    const RunResult checkpoint = Cairn({"checkpoint", "--node", address, "--json"});
    EXPECT_EQ(checkpoint.exit_code, 0) << checkpoint.err;
    // A checkpoint is signed when asked for: the log is its size and root.
    const auto parsed = nlohmann::json::parse(checkpoint.out, nullptr, /*allow_exceptions=*/false);
    seen.checkpoint = parsed.is_object() ? parsed.value("size", nlohmann::json()).dump() + " " +
                                               parsed.value("root_hash", std::string())
                                         : checkpoint.out;
    const RunResult trace = Cairn({"trace", kOxide, "--node", address});
    EXPECT_EQ(trace.exit_code, 0) << trace.err;
    seen.trace = trace.out;
    const RunResult verify =
        Cairn({"verify", "--log", "--node", address, "--registry", world_->registry_path()});
    EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
    seen.verify = verify.exit_code;
    return seen;
  }

  TempDir dir_;
  std::unique_ptr<World> world_ = std::make_unique<World>(dir_);
};

TEST_F(MigrationTest, EveryEarlierSchemaVersionIsMigratedAndServesTheSameLog) {
  world_->StartNode();
  const std::string address = world_->node().address();
  Append(address, PakistanExtraction(kOre, 20'000'000));
  const std::string dispatch = Append(address, DispatchOf("pk-fwo", "us-usm", kOre, 20'000'000));
  Append(address, ReceiptOf("us-usm", dispatch, kOre, 20'000'000));
  Append(address, Separation("us-usm", kOre, 20'000'000, kOxide, 1'600'000));
  auto correction = Body("pk-fwo");
  correction.mutable_correction()->set_event_id(dispatch);
  correction.mutable_correction()->set_reason("seal number misread");
  correction.mutable_correction()->set_notes("seal PK-SEAL-778813");
  const std::string corrected = Append(address, correction);
  auto audit = Body("au-assay-lab");
  audit.mutable_attestation()->set_event_id(corrected);
  audit.mutable_attestation()->set_kind(cairn::v1::ATTESTATION_KIND_AUDIT);
  audit.mutable_attestation()->set_result("seal verified at Port Qasim");
  Append(address, audit);
  const Seen before = Look(address);
  ASSERT_NE(before.trace.find("seal number misread"), std::string::npos) << before.trace;
  ASSERT_EQ(world_->node().Terminate(), 0);
  ASSERT_EQ(Sql(world_->db_path(), "PRAGMA user_version"), std::to_string(kCurrentVersion));

  for (int version = 1; version < kCurrentVersion; ++version) {
    SCOPED_TRACE("schema version " + std::to_string(version));
    const std::string db = "v" + std::to_string(version) + ".db";
    std::filesystem::copy_file(world_->db_path(), dir_ / db);
    Downgrade(dir_ / db, version, /*evidence=*/{4, 5});
    ASSERT_EQ(Sql(dir_ / db, "PRAGMA user_version"), std::to_string(version));

    const std::string config = dir_ / ("v" + std::to_string(version) + ".toml");
    WriteFile(config, NodeConfig(db));
    NodeProcess node;
    std::string error;
    ASSERT_TRUE(node.Start(config, &error)) << error;
    EXPECT_NE(ReadFile(config + ".stdout").find("(6 entries)"), std::string::npos);
    const Seen after = Look(node.address());
    EXPECT_EQ(after.checkpoint, before.checkpoint);
    EXPECT_EQ(after.trace, before.trace);
    // The next append lands after the migrated entries.
    Append(node.address(), DispatchOf("us-usm", "jp-magnets", kOxide, 1'000'000));
    EXPECT_EQ(LogSize(*cairn::v1::Ledger::NewStub(
                  grpc::CreateChannel(node.address(), grpc::InsecureChannelCredentials()))),
              7u);
    ASSERT_EQ(node.Terminate(), 0);
    EXPECT_EQ(Sql(dir_ / db, "PRAGMA user_version"), std::to_string(kCurrentVersion));
    EXPECT_EQ(Sql(dir_ / db, "SELECT COUNT(*) FROM entries"), "7");
  }
}

TEST_F(MigrationTest, ANewerSchemaVersionIsRefusedAndLeftAsItIs) {
  world_->StartNode();
  ASSERT_EQ(world_->node().Terminate(), 0);
  Sql(world_->db_path(), "PRAGMA user_version = " + std::to_string(kCurrentVersion + 1));
  const std::string before = ReadFile(world_->db_path());
  const RunResult r = RunProcess({CAIRND_PATH, "--config", world_->config_path()});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("has schema version 7; this cairnd knows version 6"), std::string::npos)
      << r.err;
  EXPECT_EQ(ReadFile(world_->db_path()), before);
}

}  // namespace
}  // namespace cairn::itest
