// cairnd's start: it refuses what it must not serve, and a start that fails changes no file.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "common/clock.h"
#include "tests/integration/harness.h"
#include "tests/unit/test_world.h"

namespace cairn::itest {
namespace {

using cairn::testing::DispatchOf;
using cairn::testing::PakistanExtraction;
using cairn::testing::ReceiptOf;

constexpr char kLot[] = "pk-fwo:CHG-2025-0001";

// What a single-row query on `path` returns, as bytes ("" when there is no row).
std::string QueryBytes(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  std::string out;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    const auto* bytes = static_cast<const char*>(sqlite3_column_blob(stmt, 0));
    out.assign(bytes != nullptr ? bytes : "", sqlite3_column_bytes(stmt, 0));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

class StartupTest : public WorldTest {
 protected:
  cairn::v1::SignedEvent Signed(const cairn::v1::EventBody& body) { return world_->Sign(body); }
  grpc::Status Append(const cairn::v1::EventBody& body, std::string* id = nullptr) {
    cairn::v1::AppendResponse response;
    const grpc::Status s = AppendSigned(*world_->Stub(), Signed(body), &response);
    if (id != nullptr) *id = response.event_id();
    return s;
  }
  // A config like the world's node.toml with `db` and `listen` replaced.
  std::string ConfigWith(const std::string& name, const std::string& db,
                         const std::string& listen = "127.0.0.1:0") {
    std::string text = ReadFile(world_->config_path());
    auto replace = [&](const std::string& key, const std::string& value) {
      const size_t at = text.find(key + " = ");
      const size_t end = text.find('\n', at);
      text.replace(at, end - at, key + " = \"" + value + "\"");
    };
    replace("db", db);
    replace("listen", listen);
    const std::string path = dir_ / name;
    WriteFile(path, text);
    return path;
  }
  RunResult Registry(std::vector<std::string> args) {
    args.insert(args.begin(), "registry");
    args.push_back("--registry");
    args.push_back(world_->registry_path());
    return Cairn(args);
  }
  void SignRegistry() {
    const RunResult r = Registry({"sign", "--key", dir_ / "keys/cairn-registrar.key"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }
  void Restart() {
    ASSERT_EQ(world_->node().Terminate(), 0);
    std::string error;
    ASSERT_TRUE(world_->node().Start(world_->config_path(), &error)) << error;
  }
};

// Defect: two nodes on one database through a hard link both acknowledged appends.
TEST_F(StartupTest, ASecondNodeOnTheSameDatabaseFileIsRefusedWhateverItsPath) {
  const std::string linked = dir_ / "linked.db";
  ASSERT_EQ(link(world_->db_path().c_str(), linked.c_str()), 0);
  NodeProcess second;
  std::string error;
  EXPECT_FALSE(second.Start(ConfigWith("second.toml", linked), &error));
  EXPECT_NE(error.find("is in use by another process"), std::string::npos) << error;
  EXPECT_FALSE(std::filesystem::exists(world_->db_path() + ".lock"));
}

// The "serving" line of the node's last start (JSON), or null.
nlohmann::json ServingLine(const NodeProcess& node) {
  std::istringstream lines(ReadFile(node.stderr_path()));
  for (std::string line; std::getline(lines, line);) {
    auto parsed = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_object() && parsed.value("msg", "") == "serving") return parsed;
  }
  return nullptr;
}

// Scale: a full start-up check reads every entry (14 s per million); after a clean stop the
// node's signed record of it stands in, and anything else still gets the full check.
TEST_F(StartupTest, ACleanStopLetsTheNextStartSkipTheFullCheckAndAKillDoesNot) {
  const cairn::v1::SignedEvent extraction = Signed(PakistanExtraction(kLot, 1'000'000));
  cairn::v1::AppendResponse first;
  ASSERT_TRUE(AppendSigned(*world_->Stub(), extraction, &first).ok());
  const std::string record = world_->db_path() + ".clean-stop";
  ASSERT_EQ(world_->node().Terminate(), 0);
  ASSERT_TRUE(std::filesystem::exists(record));
  ASSERT_TRUE(std::filesystem::exists(record + ".keys"));  // the event index, 8 bytes an entry
  EXPECT_EQ(std::filesystem::file_size(record + ".keys"), 8U);
  std::string error;
  ASSERT_TRUE(world_->node().Start(world_->config_path(), &error)) << error;
  nlohmann::json serving = ServingLine(world_->node());
  EXPECT_EQ(serving["start_check"], "clean-stop record") << serving;
  EXPECT_EQ(serving["entries"], 1) << serving;
  EXPECT_FALSE(std::filesystem::exists(record));  // spent once the node serves
  EXPECT_FALSE(std::filesystem::exists(record + ".keys"));
  // It serves and appends as after a full check, and knows the events it holds: the extraction
  // sent again is answered with its entry, not appended twice.
  cairn::v1::AppendResponse again;
  ASSERT_TRUE(AppendSigned(*world_->Stub(), extraction, &again).ok());
  EXPECT_EQ(again.event_id(), first.event_id());
  EXPECT_TRUE(again.duplicate());
  EXPECT_EQ(again.index(), 0U);
  ASSERT_TRUE(Append(DispatchOf("pk-fwo", "us-usm", kLot, 400'000)).ok());

  // kill -9 leaves no record: the next start checks every entry.
  world_->node().Kill9();
  ASSERT_TRUE(world_->node().Start(world_->config_path(), &error)) << error;
  serving = ServingLine(world_->node());
  EXPECT_EQ(serving["start_check"], "full") << serving;
  EXPECT_EQ(serving["full_check_why"], "no clean-stop record") << serving;
  EXPECT_EQ(serving["entries"], 2) << serving;

  // A record edited to vouch for something else is not used.
  ASSERT_EQ(world_->node().Terminate(), 0);
  auto edited = nlohmann::json::parse(ReadFile(record));
  edited["entries"] = 3;
  WriteFile(record, edited.dump());
  ASSERT_TRUE(world_->node().Start(world_->config_path(), &error)) << error;
  serving = ServingLine(world_->node());
  EXPECT_EQ(serving["start_check"], "full") << serving;
  EXPECT_NE(serving["full_check_why"].get<std::string>().find("signature does not verify"),
            std::string::npos)
      << serving;
}

// The record binds the database file as the stop left it: an edit made after a clean stop, with
// the file's modification time put back as `touch -d` would, still gets the full check, which
// names the edited row.
TEST_F(StartupTest, AnEditAfterACleanStopIsFoundEvenWithTheFileTimesPutBack) {
  ASSERT_TRUE(Append(PakistanExtraction(kLot, 1'000'000)).ok());
  ASSERT_EQ(world_->node().Terminate(), 0);
  ASSERT_TRUE(std::filesystem::exists(world_->db_path() + ".clean-stop"));
  struct stat before {};
  ASSERT_EQ(stat(world_->db_path().c_str(), &before), 0);
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(world_->db_path().c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "UPDATE holdings SET mass_g = 50000000", nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  struct stat after {};
  ASSERT_EQ(stat(world_->db_path().c_str(), &after), 0);
  ASSERT_EQ(after.st_size, before.st_size);  // the same size: only the times could tell
  const timespec times[2] = {before.st_atim, before.st_mtim};
  ASSERT_EQ(utimensat(AT_FDCWD, world_->db_path().c_str(), times, 0), 0);
  std::string error;
  EXPECT_FALSE(world_->node().Start(world_->config_path(), &error));
  EXPECT_NE(error.find("custody table holdings: pk-fwo holds 50000000 g"), std::string::npos)
      << error;
}

// Defect: the node restarted on an older registry accepted events under a revoked key.
TEST_F(StartupTest, AnOlderRegistryThanOneTheNodeServedUnderIsRefused) {
  const std::string version1 = dir_ / "registry-v1.json";
  std::filesystem::copy_file(world_->registry_path(), version1);
  ASSERT_EQ(Registry({"set-rules", "--receipt-tolerance-ppm", "5000"}).exit_code, 0);
  SignRegistry();
  Restart();  // serves under version 2
  ASSERT_EQ(world_->node().Terminate(), 0);
  std::filesystem::copy_file(version1, world_->registry_path(),
                             std::filesystem::copy_options::overwrite_existing);
  std::string error;
  EXPECT_FALSE(world_->node().Start(world_->config_path(), &error));
  EXPECT_NE(error.find("is version 1, older than version 2"), std::string::npos) << error;
}

// Defect: the node trusted its custody tables; one UPDATE of holdings let it accept a dispatch of
// 50 t from a 1 t lot. Now it refuses to start, naming the row, and --repair-report lists it.
TEST_F(StartupTest, ANodeWhoseCustodyTablesWereEditedRefusesToStartNamingTheRow) {
  ASSERT_TRUE(Append(PakistanExtraction(kLot, 1'000'000)).ok());
  ASSERT_EQ(world_->node().Terminate(), 0);
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(world_->db_path().c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "UPDATE holdings SET mass_g = 50000000", nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  std::string error;
  EXPECT_FALSE(world_->node().Start(world_->config_path(), &error));
  EXPECT_NE(
      error.find("broken at index 0: custody table holdings: pk-fwo holds 50000000 g of lot " +
                 std::string(kLot) + ", the log gives 1000000 g"),
      std::string::npos)
      << error;
  const RunResult report =
      RunProcess({CAIRND_PATH, "--config", world_->config_path(), "--repair-report"});
  EXPECT_EQ(report.exit_code, 1) << report.out << report.err;
  EXPECT_NE(report.out.find("custody table holdings"), std::string::npos) << report.out;
  // The report changes nothing.
  EXPECT_EQ(QueryBytes(world_->db_path(), "SELECT CAST(mass_g AS TEXT) FROM holdings"), "50000000");
}

// Defect: receipt_tolerance was the node's config; now the consortium's registry sets it for
// nodes and auditors alike.
TEST_F(StartupTest, TheReceiptToleranceIsTheRegistrysForTheNodeAndTheAuditor) {
  std::string dispatch;
  ASSERT_TRUE(Append(PakistanExtraction()).ok());
  ASSERT_TRUE(Append(DispatchOf("pk-fwo", "us-usm", kLot, 10'000'000), &dispatch).ok());
  const auto over = ReceiptOf("us-usm", dispatch, kLot, 10'080'000);  // 0.8% over
  EXPECT_EQ(Append(over).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  ASSERT_EQ(Registry({"set-rules", "--receipt-tolerance-ppm", "10000"}).exit_code, 0);
  SignRegistry();
  const RunResult shown = Registry({"show", "--json"});
  EXPECT_NE(shown.out.find("\"receipt_tolerance_ppm\": 10000"), std::string::npos) << shown.out;
  Restart();
  const grpc::Status accepted = Append(over);
  EXPECT_TRUE(accepted.ok()) << accepted.error_message();
  const RunResult verified = Cairn({"verify", "--log", "--node", world_->node().address(),
                                    "--registry", world_->registry_path()});
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  // A config that tries to set it is refused, naming the registry.
  WriteFile(world_->config_path(), ReadFile(world_->config_path()) + "receipt_tolerance = 0.05\n");
  ASSERT_EQ(world_->node().Terminate(), 0);
  std::string error;
  EXPECT_FALSE(world_->node().Start(world_->config_path(), &error));
  EXPECT_NE(error.find("set in the signed registry"), std::string::npos) << error;
}

// Defects: a failed start rewrote the stored checkpoint, switched another application's database
// to WAL, or left a lock file beside a directory.
TEST_F(StartupTest, AFailedStartChangesNoFile) {
  ASSERT_TRUE(Append(PakistanExtraction()).ok());
  ASSERT_EQ(world_->node().Terminate(), 0);
  const std::string checkpoint =
      QueryBytes(world_->db_path(), "SELECT value FROM meta WHERE key = 'checkpoint'");
  ASSERT_FALSE(checkpoint.empty());

  // The port is taken.
  std::string error;
  std::string busy;
  NodeProcess node;
  {
    const BusyPort taken;
    busy = taken.address();
    EXPECT_FALSE(node.Start(ConfigWith("busy.toml", world_->db_path(), busy), &error));
  }
  // One line that says what is wrong, not gRPC's own lines about the bind.
  EXPECT_NE(error.find("cairnd: listen: " + busy + " is already in use"), std::string::npos)
      << error;
  EXPECT_EQ(error.find("\"level\""), std::string::npos) << error;
  EXPECT_EQ(QueryBytes(world_->db_path(), "SELECT value FROM meta WHERE key = 'checkpoint'"),
            checkpoint);

  // Another application's SQLite file keeps its journal mode and contents.
  const std::string foreign = dir_ / "inventory.db";
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(foreign.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE stock(item TEXT); INSERT INTO stock VALUES ('NdPr')",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  EXPECT_FALSE(node.Start(ConfigWith("foreign.toml", foreign), &error));
  EXPECT_NE(error.find("is not a cairn database"), std::string::npos) << error;
  EXPECT_EQ(QueryBytes(foreign, "PRAGMA journal_mode"), "delete");
  EXPECT_FALSE(std::filesystem::exists(foreign + "-wal"));
  EXPECT_FALSE(std::filesystem::exists(foreign + ".lock"));

  // A directory is not a database, and nothing is left beside it.
  const std::string directory = dir_ / "a-directory";
  std::filesystem::create_directory(directory);
  EXPECT_FALSE(node.Start(ConfigWith("dir.toml", directory), &error));
  EXPECT_FALSE(std::filesystem::exists(directory + ".lock"));
  EXPECT_TRUE(std::filesystem::is_empty(directory));
}

}  // namespace
}  // namespace cairn::itest
