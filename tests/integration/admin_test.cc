// cairn-admin backup and restore against a real cairnd: a backup taken while the node appends is
// one commit's state, restores to a node that verifies and serves the backup's checkpoint, and
// damaged or foreign files are refused without changing the database.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/harness.h"

namespace cairn::itest {
namespace {

RunResult Admin(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {CAIRN_ADMIN_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv);
}

class AdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    world_ = std::make_unique<World>(dir_);
    world_->StartNode({"pk-fwo"});
  }

  // An extraction of 20 t of Chagai concentrate, lot pk-fwo:CHG-<n>.
  RunResult Extract(int n) {
    const std::string file = dir_ / ("x-" + std::to_string(n) + ".json");
    WriteFile(file, R"({"extraction": {"lot_id": "pk-fwo:CHG-)" + std::to_string(n) +
                        R"(", "site": {"id": "pk-fwo-chagai-01", "name": "Chagai", "country":
                        "PK", "region": "Balochistan"}, "material": "REE concentrate", "mass_g":
                        "20000000", "composition_ppm": {"Nd": 61700, "Pr": 19900}}})");
    return Cairn(
        {"submit", "--node", world_->node().address(), "--key", world_->key_path("pk-fwo"), file});
  }

  // "signed checkpoint size N" in cairn-admin's summary line.
  static uint64_t CheckpointSize(const std::string& out) {
    const std::string marker = "signed checkpoint size ";
    const size_t at = out.find(marker);
    return at == std::string::npos ? 0 : std::stoull(out.substr(at + marker.size()));
  }

  TempDir dir_;
  std::unique_ptr<World> world_;
};

TEST_F(AdminTest, ABackupTakenWhileTheNodeAppendsRestoresToANodeThatVerifiesAndServesIt) {
  for (int i = 0; i < 5; ++i) ASSERT_EQ(Extract(i).exit_code, 0);
  // Appends go on while the backup runs.
  std::atomic<int> appended{0};
  std::thread writer([&] {
    for (int i = 5; i < 25; ++i) appended += Extract(i).exit_code == 0 ? 1 : 0;
  });
  const std::string backup = dir_ / "node-backup.db";
  const RunResult b = Admin({"backup", "--db", world_->db_path(), "-o", backup});
  writer.join();
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_EQ(appended.load(), 20);
  EXPECT_NE(b.out.find("log demo-log"), std::string::npos) << b.out;
  const uint64_t backed_up = CheckpointSize(b.out);
  EXPECT_GE(backed_up, 5u) << b.out;
  EXPECT_LE(backed_up, 25u) << b.out;
  // One self-contained file.
  EXPECT_FALSE(std::filesystem::exists(backup + "-wal"));
  EXPECT_FALSE(std::filesystem::exists(backup + ".cairn-admin-tmp"));

  // Not over a database a running node holds, and not over an existing file without --force.
  RunResult r = Admin({"restore", "--from", backup, "--db", world_->db_path(), "--force"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("in use by a running cairnd"), std::string::npos) << r.err;
  auto stub = world_->Stub();
  EXPECT_EQ(LogSize(*stub), 25u);
  ASSERT_EQ(world_->node().Terminate(), 0);
  r = Admin({"restore", "--from", backup, "--db", world_->db_path()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--force"), std::string::npos) << r.err;

  r = Admin({"restore", "--from", backup, "--db", world_->db_path(), "--force"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The node's own check of every stored entry finds nothing wrong.
  r = RunProcess({CAIRND_PATH, "--config", world_->config_path(), "--repair-report"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  std::string error;
  ASSERT_TRUE(world_->node().Start(world_->config_path(), &error)) << error;
  stub = world_->Stub();
  EXPECT_EQ(LogSize(*stub), backed_up);
  r = Cairn({"verify", "--log", "--node", world_->node().address(), "--registry",
             world_->registry_path(), "--no-state"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  // The restored node appends after the backup's last entry.
  EXPECT_EQ(Extract(100).exit_code, 0);
  EXPECT_EQ(LogSize(*stub), backed_up + 1);
}

TEST_F(AdminTest, DamagedAndForeignFilesAreRefusedAndChangeNothing) {
  ASSERT_EQ(Extract(1).exit_code, 0);
  const std::string backup = dir_ / "good.db";
  ASSERT_EQ(Admin({"backup", "--db", world_->db_path(), "-o", backup}).exit_code, 0);
  ASSERT_EQ(world_->node().Terminate(), 0);
  const std::string before = ReadFile(world_->db_path());

  // Cut in half: SQLite's integrity check fails.
  const std::string good = ReadFile(backup);
  WriteFile(dir_ / "cut.db", good.substr(0, good.size() / 2));
  // Another application's database.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "other.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(db, "CREATE TABLE t(x); INSERT INTO t VALUES (1);", nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(db);
  // Not SQLite at all.
  WriteFile(dir_ / "junk.db", std::string(8192, 'x'));
  for (const char* name : {"cut.db", "other.db", "junk.db"}) {
    const RunResult r =
        Admin({"restore", "--from", dir_ / name, "--db", world_->db_path(), "--force"});
    EXPECT_EQ(r.exit_code, 1) << name << ": " << r.err;
    EXPECT_NE(r.err.find("DATA_LOSS"), std::string::npos) << name << ": " << r.err;
    EXPECT_EQ(ReadFile(world_->db_path()), before) << name;
    EXPECT_FALSE(std::filesystem::exists(world_->db_path() + ".cairn-admin-tmp")) << name;
  }
  // Backing up what is not a node's database writes nothing.
  RunResult r = Admin({"backup", "--db", dir_ / "other.db", "-o", dir_ / "other-backup.db"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("not a cairnd database"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "other-backup.db"));
  r = Admin({"backup", "--db", dir_ / "no-such.db", "-o", dir_ / "x.db"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = Admin({"backup", "--db", world_->db_path(), "-o", backup});
  EXPECT_EQ(r.exit_code, 2) << r.err;  // exists
  EXPECT_EQ(Admin({"--help"}).exit_code, 0);
  EXPECT_EQ(Admin({"backup"}).exit_code, 2);
}

// cairnd --check-config: the configuration as resolved, each key with where it came from, checked
// against the registry and the node key, without opening the database or a port.
TEST(CheckConfigTest, PrintsEveryKeyWithItsSourceAndRefusesWhatTheNodeWouldRefuse) {
  TempDir dir;
  World world(dir);
  world.StartNode({"pk-fwo"});
  ASSERT_EQ(world.node().Terminate(), 0);
  std::filesystem::remove(world.db_path());
  RunResult r = RunProcess(
      {CAIRND_PATH, "--config", world.config_path(), "--check-config", "--log-level", "warn"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("log_id = \"demo-log\"  # " + world.config_path()), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("log_level = \"warn\"  # --log-level"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("gossip_interval_ms = 1000  # default"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("cairnd: configuration valid: log demo-log"), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(world.db_path()));  // nothing opened
  // The environment overrides the file; a log the registry does not list is refused.
  setenv("CAIRN_LOG_ID", "no-such-log", 1);
  r = RunProcess({CAIRND_PATH, "--config", world.config_path(), "--check-config"});
  unsetenv("CAIRN_LOG_ID");
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.out.find("log_id = \"no-such-log\"  # CAIRN_LOG_ID"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("log no-such-log is not in registry"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace cairn::itest
