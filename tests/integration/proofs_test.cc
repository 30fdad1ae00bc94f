// Proofs anyone can check, and tamper evidence, against real cairnd processes.
#include "ledger/proofs.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <nlohmann/json.hpp>

#include "ledger/event.h"
#include "tests/integration/harness.h"
#include "tests/unit/test_world.h"

namespace cairn::itest {
namespace {

using cairn::testing::PakistanExtraction;

class ProofsTest : public WorldTest {
 protected:
  // Appends `n` extractions with lot codes prefix-0.. and returns their event ids.
  std::vector<std::string> AppendExtractions(int n, const std::string& prefix) {
    auto stub = world_->Stub();
    const auto& k = world_->key("pk-fwo");
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) {
      cairn::v1::AppendRequest request;
      *request.mutable_event() = ledger::SignEvent(
          PakistanExtraction("pk-fwo:" + prefix + "-" + std::to_string(i), 1'000'000 + i)
              .SerializeAsString(),
          k.key_id, k.secret_key);
      cairn::v1::AppendResponse response;
      grpc::ClientContext context;
      SetDeadline(context);
      const grpc::Status s = stub->Append(&context, request, &response);
      EXPECT_TRUE(s.ok()) << s.error_message();
      ids.push_back(response.event_id());
    }
    return ids;
  }

  RunResult CairnOnNode(std::vector<std::string> args) {
    args.push_back("--node");
    args.push_back(world_->node().address());
    args.push_back("--registry");
    args.push_back(world_->registry_path());
    return Cairn(args);
  }

  // Runs SQL on the stopped node's database.
  void Sql(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(world_->db_path().c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
    const std::string message = error ? error : "";
    sqlite3_free(error);
    sqlite3_close(db);
    ASSERT_EQ(rc, SQLITE_OK) << message;
  }

  // Flips the lowest bit of byte `offset` of entry `index`'s stored bytes.
  void FlipEntryByte(uint64_t index, int offset) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(world_->db_path().c_str(), &db), SQLITE_OK);
    sqlite3_stmt* read = nullptr;
    sqlite3_prepare_v2(db, "SELECT entry FROM entries WHERE idx = ?", -1, &read, nullptr);
    sqlite3_bind_int64(read, 1, static_cast<int64_t>(index));
    ASSERT_EQ(sqlite3_step(read), SQLITE_ROW);
    std::string bytes(static_cast<const char*>(sqlite3_column_blob(read, 0)),
                      sqlite3_column_bytes(read, 0));
    sqlite3_finalize(read);
    bytes[offset] ^= 1;
    sqlite3_stmt* write = nullptr;
    sqlite3_prepare_v2(db, "UPDATE entries SET entry = ? WHERE idx = ?", -1, &write, nullptr);
    sqlite3_bind_blob(write, 1, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(write, 2, static_cast<int64_t>(index));
    EXPECT_EQ(sqlite3_step(write), SQLITE_DONE);
    sqlite3_finalize(write);
    sqlite3_close(db);
  }

  // Restarting the node must fail naming `index` as the first broken entry; --repair-report
  // must say the same and change nothing.
  void ExpectRefusedAt(uint64_t index) {
    std::string error;
    EXPECT_FALSE(world_->node().Start(world_->config_path(), &error));
    EXPECT_NE(error.find("broken at index " + std::to_string(index) + ":"), std::string::npos)
        << error;
    const RunResult report =
        RunProcess({CAIRND_PATH, "--config", world_->config_path(), "--repair-report"});
    EXPECT_NE(report.exit_code, 0);
    EXPECT_NE((report.out + report.err).find(std::to_string(index)), std::string::npos)
        << report.out << report.err;
    EXPECT_FALSE(world_->node().Start(world_->config_path(), &error)) << "report repaired it";
  }

  // Whether this build's `cairn verify` has --consistent-with (cmd_verify.cc registers it).
  static bool VerifyHasConsistentWith() {
    const RunResult help = Cairn({"verify", "--help"});
    return help.out.find("--consistent-with") != std::string::npos;
  }

  // Starts cairnd in audit mode (read-only, serves even a broken log) on the node's database.
  void StartAuditNode() {
    const std::string config = dir_ / "audit.toml";
    WriteFile(config, ReadFile(world_->config_path()) + "audit = true\n");
    std::string error;
    ASSERT_TRUE(audit_.Start(config, &error)) << error;
  }

  RunResult CairnOnAudit(std::vector<std::string> args) {
    args.push_back("--node");
    args.push_back(audit_.address());
    args.push_back("--registry");
    args.push_back(world_->registry_path());
    return Cairn(args);
  }

  // The node in audit mode serves the tampered log, refuses appends, and `cairn verify --log`
  // exits 1 naming `index` as the first bad entry.
  void ExpectAuditFindsBadIndex(uint64_t index) {
    StartAuditNode();
    const RunResult r = CairnOnAudit({"verify", "--log", "--json"});
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    const auto j = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    ASSERT_FALSE(j.is_discarded()) << r.out;
    EXPECT_EQ(j["verified"], false);
    EXPECT_EQ(j["bad_index"], index) << r.out;
    const RunResult text = CairnOnAudit({"verify", "--log"});
    EXPECT_EQ(text.exit_code, 1);
    EXPECT_NE(text.out.find("entry " + std::to_string(index) + ":"), std::string::npos) << text.out;

    auto stub = cairn::v1::Ledger::NewStub(
        grpc::CreateChannel(audit_.address(), grpc::InsecureChannelCredentials()));
    const auto& k = world_->key("pk-fwo");
    cairn::v1::AppendRequest request;
    *request.mutable_event() = ledger::SignEvent(
        PakistanExtraction("pk-fwo:AUDIT").SerializeAsString(), k.key_id, k.secret_key);
    cairn::v1::AppendResponse response;
    grpc::ClientContext context;
    SetDeadline(context);
    const grpc::Status s = stub->Append(&context, request, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
    EXPECT_EQ(s.error_message(), "node is in audit mode (read-only)");
    EXPECT_EQ(audit_.Terminate(), 0);
  }

  NodeProcess audit_;
};

TEST_F(ProofsTest, AppendReturnsAnInclusionProofThatVerifies) {
  auto stub = world_->Stub();
  const auto& k = world_->key("pk-fwo");
  AppendExtractions(6, "A");
  cairn::v1::AppendRequest request;
  *request.mutable_event() = ledger::SignEvent(
      PakistanExtraction("pk-fwo:LAST").SerializeAsString(), k.key_id, k.secret_key);
  cairn::v1::AppendResponse response;
  grpc::ClientContext context;
  SetDeadline(context);
  ASSERT_TRUE(stub->Append(&context, request, &response).ok());
  cairn::v1::Checkpoint checkpoint;
  ASSERT_TRUE(checkpoint.ParseFromString(response.checkpoint().checkpoint()));
  std::vector<Hash> path;
  for (const auto& h : response.inclusion().hashes()) {
    Hash x{};
    std::copy(h.begin(), h.end(), x.begin());
    path.push_back(x);
  }
  Hash root{};
  std::copy(checkpoint.root_hash().begin(), checkpoint.root_hash().end(), root.begin());
  EXPECT_EQ(response.index(), 6u);
  EXPECT_EQ(checkpoint.size(), 7u);
  EXPECT_EQ(path.size(), 2u);  // MTH(D[4:6]) and MTH(D[0:4])
  EXPECT_TRUE(ledger::VerifyInclusion(ledger::LeafHash(response.entry()), 6, 7, path, root));
  path[1][0] ^= 1;
  EXPECT_FALSE(ledger::VerifyInclusion(ledger::LeafHash(response.entry()), 6, 7, path, root));
}

TEST_F(ProofsTest, ProveChecksEveryEntryAgainstTheSignedCheckpoint) {
  const auto ids = AppendExtractions(11, "P");
  for (const std::string& id : ids) {
    const RunResult r = CairnOnNode({"prove", id, "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["proved"], true);
    EXPECT_EQ(j["tree_size"], 11);
  }
  const RunResult missing = CairnOnNode({"prove", std::string(64, 'a')});
  EXPECT_EQ(missing.exit_code, 1);  // the node's answer, as from every command
  EXPECT_NE(missing.err.find("NOT_FOUND"), std::string::npos) << missing.err;
}

TEST_F(ProofsTest, SavedCheckpointIsProvedAPrefixOfTodaysLog) {
  AppendExtractions(5, "C");
  const std::string saved = dir_ / "checkpoint-5.json";
  ASSERT_EQ(CairnOnNode({"checkpoint", "-o", saved}).exit_code, 0);
  AppendExtractions(9, "D");
  const RunResult r = CairnOnNode({"checkpoint", "--consistent-with", saved, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["consistent"], true);
  EXPECT_EQ(j["size"], 14);
}

// verify --lot/--bundle do not compare saved checkpoints: they refuse the flag rather than
// ignore it (ignored, a forked log passed as VERIFIED).
TEST_F(ProofsTest, LineageVerificationRefusesConsistentWithInsteadOfIgnoringIt) {
  AppendExtractions(2, "L");
  const std::string saved = dir_ / "checkpoint-2.json";
  ASSERT_EQ(CairnOnNode({"checkpoint", "-o", saved}).exit_code, 0);
  const RunResult r = CairnOnNode({"verify", "--lot", "pk-fwo:L-0", "--consistent-with", saved});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("--consistent-with applies to --log only"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(CairnOnNode({"verify", "--log", "--consistent-with", saved}).exit_code, 0);
}

// Entries and the checkpoint covering them commit together, so entries past the stored signed
// checkpoint were not written by the node: refused at start, listed, served only for audit.
TEST_F(ProofsTest, EntriesPastTheSignedCheckpointAreRefusedListedAndServedOnlyForAudit) {
  AppendExtractions(5, "S");
  ASSERT_EQ(world_->node().Terminate(), 0);
  Sql("CREATE TABLE saved AS SELECT value FROM meta WHERE key = 'checkpoint'");
  std::string error;
  ASSERT_TRUE(world_->node().Start(world_->config_path(), &error)) << error;
  AppendExtractions(3, "T");
  ASSERT_EQ(world_->node().Terminate(), 0);
  Sql("UPDATE meta SET value = (SELECT value FROM saved) WHERE key = 'checkpoint'");
  Sql("DROP TABLE saved");
  const std::string tail = "broken at index 5: 3 entries past the signed checkpoint";
  EXPECT_FALSE(world_->node().Start(world_->config_path(), &error));
  EXPECT_NE(error.find(tail), std::string::npos) << error;
  const RunResult report =
      RunProcess({CAIRND_PATH, "--config", world_->config_path(), "--repair-report"});
  EXPECT_EQ(report.exit_code, 1);
  EXPECT_NE(report.out.find(tail), std::string::npos) << report.out << report.err;
  StartAuditNode();
  // The 5 signed entries verify; the 3 past them are named, unchecked.
  const RunResult v = CairnOnAudit({"verify", "--log"});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  EXPECT_NE(v.out.find("note: 3 entries lie past the signed checkpoint"), std::string::npos)
      << v.out << v.err;
  const auto j = nlohmann::json::parse(CairnOnAudit({"verify", "--log", "--json"}).out);
  EXPECT_EQ(j["entries_past_checkpoint"], 3);
  EXPECT_EQ(audit_.Terminate(), 0);
}

// A flipped byte in the stored checkpoint's signature is refused, not silently re-signed.
TEST_F(ProofsTest, AStoredCheckpointWhoseSignatureDoesNotVerifyIsRefused) {
  AppendExtractions(3, "F");
  ASSERT_EQ(world_->node().Terminate(), 0);
  // The signature's last byte changed (the SignedCheckpoint ends with its signature).
  Sql("UPDATE meta SET value = substr(value, 1, length(value) - 1) || CASE WHEN "
      "substr(value, -1) = X'00' THEN X'01' ELSE X'00' END WHERE key = 'checkpoint'");
  std::string error;
  EXPECT_FALSE(world_->node().Start(world_->config_path(), &error));
  EXPECT_NE(error.find("the stored checkpoint does not verify"), std::string::npos) << error;
}

TEST_F(ProofsTest, TruncatedAndReappendedLogIsCaughtByASavedCheckpoint) {
  AppendExtractions(8, "T");
  const std::string saved = dir_ / "checkpoint-8.json";
  ASSERT_EQ(CairnOnNode({"checkpoint", "-o", saved}).exit_code, 0);
  ASSERT_EQ(world_->node().Terminate(), 0);
  // Rewrite history: drop entries 5..7.
  Sql("DELETE FROM entries WHERE idx >= 5");
  // The node remembers the last checkpoint it signed and refuses a log shorter than it.
  const std::string truncated = "log truncated: it signed a checkpoint of size 8, holds 5 entries";
  std::string error;
  EXPECT_FALSE(world_->node().Start(world_->config_path(), &error));
  EXPECT_NE(error.find(truncated), std::string::npos) << error;
  const RunResult report =
      RunProcess({CAIRND_PATH, "--config", world_->config_path(), "--repair-report"});
  EXPECT_EQ(report.exit_code, 1);
  EXPECT_NE(report.out.find(truncated), std::string::npos) << report.out << report.err;
  EXPECT_FALSE(world_->node().Start(world_->config_path(), &error)) << "report repaired it";

  // A forger who also erases that record does not get the node to adopt the entries: no
  // checkpoint it signed covers them.
  Sql("DELETE FROM meta WHERE key = 'checkpoint'");
  EXPECT_FALSE(world_->node().Start(world_->config_path(), &error));
  EXPECT_NE(error.find("broken at index 0: no signed checkpoint covers the 5 stored entries"),
            std::string::npos)
      << error;
}

TEST_F(ProofsTest, NodeRefusesToServeALogWithAFlippedByte) {
  AppendExtractions(6, "F");
  ASSERT_EQ(world_->node().Terminate(), 0);
  // Flip one byte inside entry 3's stored bytes (in the event body's mass).
  FlipEntryByte(3, 80);
  std::string error;
  EXPECT_FALSE(world_->node().Start(world_->config_path(), &error));
  EXPECT_NE(error.find("broken at index 3"), std::string::npos) << error;
  const RunResult report =
      RunProcess({CAIRND_PATH, "--config", world_->config_path(), "--repair-report"});
  EXPECT_NE(report.exit_code, 0);
  EXPECT_NE((report.out + report.err).find("3"), std::string::npos) << report.out << report.err;
  ExpectAuditFindsBadIndex(3);
}

TEST_F(ProofsTest, NodeRefusesToServeALogWithADeletedEntry) {
  AppendExtractions(6, "DEL");
  ASSERT_EQ(world_->node().Terminate(), 0);
  Sql("DELETE FROM entries WHERE idx = 2");
  ExpectRefusedAt(2);
  ExpectAuditFindsBadIndex(2);
}

TEST_F(ProofsTest, NodeRefusesToServeALogWithTwoEntriesReordered) {
  AppendExtractions(6, "ORD");
  ASSERT_EQ(world_->node().Terminate(), 0);
  // Swap every stored column of entries 2 and 3 except the index.
  Sql("UPDATE entries SET idx = -1 WHERE idx = 2;"
      "UPDATE entries SET idx = 2 WHERE idx = 3;"
      "UPDATE entries SET idx = 3 WHERE idx = -1;");
  ExpectRefusedAt(2);
  ExpectAuditFindsBadIndex(2);
}

TEST_F(ProofsTest, NodeRefusesToServeALogWithAnEventReplacedByAValidlySignedOne) {
  AppendExtractions(6, "REP");
  ASSERT_EQ(world_->node().Terminate(), 0);
  // A forger with pk-fwo's key writes a different, validly signed extraction into entry 2 and
  // keeps every stored column consistent with it: only the chain link of entry 3 gives it away.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(world_->db_path().c_str(), &db), SQLITE_OK);
  sqlite3_stmt* read = nullptr;
  sqlite3_prepare_v2(db, "SELECT entry FROM entries WHERE idx = 2", -1, &read, nullptr);
  ASSERT_EQ(sqlite3_step(read), SQLITE_ROW);
  cairn::v1::LogEntry entry;
  ASSERT_TRUE(entry.ParseFromArray(sqlite3_column_blob(read, 0), sqlite3_column_bytes(read, 0)));
  sqlite3_finalize(read);
  const auto& k = world_->key("pk-fwo");
  *entry.mutable_event() = ledger::SignEvent(
      PakistanExtraction("pk-fwo:REP-2", 9'000'000).SerializeAsString(), k.key_id, k.secret_key);
  const std::string bytes = entry.SerializeAsString();
  const Hash leaf = ledger::LeafHash(bytes);
  const Hash id = ledger::EventId(entry.event().body());
  int64_t key = 0;
  for (int i = 0; i < 8; ++i) key = static_cast<int64_t>((static_cast<uint64_t>(key) << 8) | id[i]);
  sqlite3_stmt* write = nullptr;
  sqlite3_prepare_v2(db,
                     "UPDATE entries SET entry = ?, leaf_hash = ?, event_id = ?, event_key = ? "
                     "WHERE idx = 2",
                     -1, &write, nullptr);
  sqlite3_bind_blob(write, 1, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  sqlite3_bind_blob(write, 2, leaf.data(), 32, SQLITE_TRANSIENT);
  sqlite3_bind_blob(write, 3, id.data(), 32, SQLITE_TRANSIENT);
  sqlite3_bind_int64(write, 4, key);
  ASSERT_EQ(sqlite3_step(write), SQLITE_DONE);
  sqlite3_finalize(write);
  sqlite3_close(db);
  ExpectRefusedAt(3);
  ExpectAuditFindsBadIndex(3);
}

}  // namespace
}  // namespace cairn::itest
