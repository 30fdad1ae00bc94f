// cairn.v1.Federation against a real cairnd: Follow streams the log, then pushes each new group as
// it is appended, and ends cleanly when the node stops.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "cairn/v1/federation.grpc.pb.h"
#include "keys/registry.h"
#include "ledger/event.h"
#include "ledger/log_verifier.h"
#include "ledger/merkle.h"
#include "tests/integration/harness.h"
#include "tests/integration/tcp_proxy.h"
#include "tests/unit/test_world.h"

namespace cairn::itest {
namespace {

using cairn::testing::PakistanExtraction;

class FederationTest : public WorldTest {
 protected:
  std::unique_ptr<cairn::v1::Federation::Stub> Federation() const {
    return cairn::v1::Federation::NewStub(
        grpc::CreateChannel(world_->node().address(), grpc::InsecureChannelCredentials()));
  }
  void AppendExtractions(int n, const std::string& prefix) {
    auto stub = world_->Stub();
    cairn::v1::AppendBatchRequest request;
    for (int i = 0; i < n; ++i) {
      const auto body = PakistanExtraction("pk-fwo:" + prefix + "-" + std::to_string(i));
      *request.add_events() = world_->Sign(body);
    }
    cairn::v1::AppendBatchResponse response;
    grpc::ClientContext context;
    SetDeadline(context);
    const grpc::Status s = stub->AppendBatch(&context, request, &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  // The checkpoint, verified under the registry's key for the log; its size.
  uint64_t VerifiedSize(const cairn::v1::SignedCheckpoint& signed_checkpoint, Hash* root) {
    auto registry = keys::TrustRegistry::Load(world_->registry_path());
    EXPECT_TRUE(registry.ok());
    if (!registry.ok()) return 0;
    auto checkpoint = ledger::VerifyCheckpoint(signed_checkpoint, *registry);
    EXPECT_TRUE(checkpoint.ok()) << checkpoint.status().ToString();
    if (!checkpoint.ok()) return 0;
    EXPECT_EQ(checkpoint->log_id(), "demo-log");
    std::copy(checkpoint->root_hash().begin(), checkpoint->root_hash().end(), root->begin());
    return checkpoint->size();
  }
};

// What a follower has read: leaves in index order and the checkpoints announced.
struct Followed {
  std::vector<Hash> leaves;
  std::vector<cairn::v1::SignedCheckpoint> checkpoints;
};

// Reads messages until the stream has delivered every entry below `size`; false when it ends
// first. Checks that entries come in index order after a checkpoint that covers them.
bool ReadUntil(grpc::ClientReader<cairn::v1::FollowResponse>& reader, uint64_t first_index,
               uint64_t size, Followed& followed) {
  cairn::v1::FollowResponse message;
  while (first_index + followed.leaves.size() < size) {
    if (!reader.Read(&message)) return false;
    if (message.has_checkpoint()) {
      followed.checkpoints.push_back(message.checkpoint());
      continue;
    }
    EXPECT_FALSE(followed.checkpoints.empty()) << "an entry before any checkpoint";
    EXPECT_EQ(message.entry().index(), first_index + followed.leaves.size());
    followed.leaves.push_back(ledger::LeafHash(message.entry().entry()));
  }
  return true;
}

TEST_F(FederationTest, FollowStreamsTheLogThenPushesEachNewGroupAsItIsAppended) {
  AppendExtractions(3, "F");
  auto stub = Federation();
  grpc::ClientContext context;
  SetDeadline(context, 30);
  cairn::v1::FollowRequest request;
  request.set_log_id("demo-log");
  request.set_from_index(0);
  auto reader = stub->Follow(&context, request);

  Followed followed;
  ASSERT_TRUE(ReadUntil(*reader, 0, 3, followed));
  ASSERT_EQ(followed.checkpoints.size(), 1u);
  Hash root{};
  EXPECT_EQ(VerifiedSize(followed.checkpoints[0], &root), 3u);
  EXPECT_EQ(ledger::RootOf(followed.leaves), root);

  // The stream stays open: appends made now arrive without asking again.
  AppendExtractions(2, "G");
  AppendExtractions(4, "H");
  ASSERT_TRUE(ReadUntil(*reader, 0, 9, followed));
  ASSERT_GE(followed.checkpoints.size(), 2u);
  // Every checkpoint announced is the root of the entries up to its size.
  for (const auto& checkpoint : followed.checkpoints) {
    const uint64_t size = VerifiedSize(checkpoint, &root);
    ASSERT_LE(size, followed.leaves.size());
    EXPECT_EQ(ledger::RootOf({followed.leaves.begin(), followed.leaves.begin() + size}), root);
  }
  EXPECT_EQ(VerifiedSize(followed.checkpoints.back(), &root), 9u);
  context.TryCancel();
}

TEST_F(FederationTest, FollowFromTheMiddleSendsTheRestAndRefusesWhatItCannotServe) {
  AppendExtractions(5, "M");
  auto stub = Federation();
  {
    grpc::ClientContext context;
    SetDeadline(context);
    cairn::v1::FollowRequest request;
    request.set_log_id("demo-log");
    request.set_from_index(3);
    auto reader = stub->Follow(&context, request);
    Followed followed;
    ASSERT_TRUE(ReadUntil(*reader, 3, 5, followed));
    Hash root{};
    EXPECT_EQ(VerifiedSize(followed.checkpoints.at(0), &root), 5u);
    EXPECT_EQ(followed.leaves.size(), 2u);
    context.TryCancel();
  }
  {
    // An up-to-date follower learns the latest checkpoint and then waits.
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    cairn::v1::FollowRequest request;
    request.set_log_id("demo-log");
    request.set_from_index(5);
    auto reader = stub->Follow(&context, request);
    cairn::v1::FollowResponse message;
    ASSERT_TRUE(reader->Read(&message));
    ASSERT_TRUE(message.has_checkpoint());
    EXPECT_FALSE(reader->Read(&message)) << "nothing more until the log grows";
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  }
  const auto refused = [&](const std::string& log_id, uint64_t from) {
    grpc::ClientContext context;
    SetDeadline(context);
    cairn::v1::FollowRequest request;
    request.set_log_id(log_id);
    request.set_from_index(from);
    auto reader = stub->Follow(&context, request);
    cairn::v1::FollowResponse message;
    EXPECT_FALSE(reader->Read(&message));
    return reader->Finish();
  };
  const grpc::Status beyond = refused("demo-log", 6);
  EXPECT_EQ(beyond.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_NE(beyond.error_message().find("of size 5"), std::string::npos) << beyond.error_message();
  const grpc::Status unknown = refused("mine-log", 0);
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(unknown.error_message().find("holds no log mine-log"), std::string::npos)
      << unknown.error_message();
}

TEST_F(FederationTest, AnOpenFollowStreamEndsWhenTheNodeStopsAndTheNodeExitsCleanly) {
  AppendExtractions(2, "S");
  auto stub = Federation();
  grpc::ClientContext context;
  SetDeadline(context, 30);
  cairn::v1::FollowRequest request;
  request.set_log_id("demo-log");
  auto reader = stub->Follow(&context, request);
  Followed followed;
  ASSERT_TRUE(ReadUntil(*reader, 0, 2, followed));
  EXPECT_EQ(world_->node().Terminate(), 0);
  // The stream ended itself: the node did not have to cancel a request still running.
  const std::string log = ReadFile(world_->node().stderr_path());
  EXPECT_NE(log.find(R"("method":"Follow")"), std::string::npos) << log;
  EXPECT_NE(log.find("cairnd is shutting down"), std::string::npos) << log;
  EXPECT_EQ(log.find("cancelling requests still running"), std::string::npos) << log;
  cairn::v1::FollowResponse message;
  EXPECT_FALSE(reader->Read(&message));
  const grpc::Status ended = reader->Finish();
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::UNAVAILABLE) << ended.error_message();
}

// Two real nodes: the default one (log demo-log, the leader here) on a fixed port, and a node of
// log au-log that follows it.
class FollowerTest : public FederationTest {
 protected:
  void SetUp() override {
    FederationTest::SetUp();
    // The leader keeps one address across restarts, so that the follower's config names it.
    ASSERT_EQ(world_->node().Terminate(), 0);
    leader_address_ = "127.0.0.1:" + std::to_string(FreePort());
    std::string text = ReadFile(world_->config_path());
    text.replace(text.find("127.0.0.1:0"), 11, leader_address_);
    WriteFile(world_->config_path(), text);
    StartLeader();
    WriteFile(follower_config(),
              "listen = \"127.0.0.1:0\"\n"
              "db = \"au.db\"\n"
              "log_id = \"au-log\"\n"
              "node_key = \"keys/au-log.key\"\n"
              "registry = \"registry.json\"\n"
              "participants = [\"au-lynas\"]\n"
              "[[peer]]\n"
              "address = \"" +
                  leader_address_ +
                  "\"\n"
                  "logs = [\"demo-log\"]\n");
  }
  // Points the follower's [[peer]] at `address` (a TcpProxy in front of the leader).
  void FollowThrough(const std::string& address) {
    std::string text = ReadFile(follower_config());
    text.replace(text.find(leader_address_), leader_address_.size(), address);
    WriteFile(follower_config(), text);
  }
  void StartLeader() {
    std::string error;
    ASSERT_TRUE(world_->node().Start(world_->config_path(), &error)) << error;
  }
  void StartFollower() {
    std::string error;
    ASSERT_TRUE(follower_.Start(follower_config(), &error)) << error;
  }
  std::string follower_config() const { return dir_ / "au.toml"; }

  cairn::v1::NodeStatus FollowerStatus() {
    auto stub = cairn::v1::Federation::NewStub(
        grpc::CreateChannel(follower_.address(), follower_credentials_));
    grpc::ClientContext context;
    SetDeadline(context, 5);
    cairn::v1::NodeStatus status;
    const grpc::Status s = stub->GetStatus(&context, cairn::v1::GetStatusRequest(), &status);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return status;
  }
  // Waits (up to 30 s) until the follower's replica of demo-log holds `size` entries.
  bool WaitForReplica(uint64_t size) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      const auto status = FollowerStatus();
      if (status.replicas_size() == 1 && status.replicas(0).size() >= size) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  // The leader's entries, byte for byte.
  std::vector<std::string> LeaderEntries() {
    auto stub = world_->Stub();
    grpc::ClientContext context;
    SetDeadline(context);
    auto reader = stub->GetEntries(&context, cairn::v1::GetEntriesRequest());
    std::vector<std::string> entries;
    cairn::v1::EntryRecord record;
    while (reader->Read(&record)) entries.push_back(record.entry());
    EXPECT_TRUE(reader->Finish().ok());
    return entries;
  }
  // The replica's entries as stored in its SQLite file, in index order.
  std::vector<std::string> ReplicaEntries() {
    const std::string path = dir_ / "au.db.replicas/demo-log.db";
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    std::vector<std::string> entries;
    EXPECT_EQ(
        sqlite3_prepare_v2(db, "SELECT idx, entry FROM entries ORDER BY idx", -1, &stmt, nullptr),
        SQLITE_OK);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      EXPECT_EQ(sqlite3_column_int64(stmt, 0), static_cast<int64_t>(entries.size()));
      entries.emplace_back(static_cast<const char*>(sqlite3_column_blob(stmt, 1)),
                           sqlite3_column_bytes(stmt, 1));
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return entries;
  }

  std::string leader_address_;
  NodeProcess follower_;
  std::shared_ptr<grpc::ChannelCredentials> follower_credentials_ =
      grpc::InsecureChannelCredentials();
};

TEST_F(FollowerTest, AFollowerKeepsAVerifiedByteIdenticalReplicaAndReportsItsLag) {
  AppendExtractions(20, "A");
  const std::string metrics = "127.0.0.1:" + std::to_string(FreePort());
  WriteFile(follower_config(),
            "metrics_listen = \"" + metrics + "\"\n" + ReadFile(follower_config()));
  StartFollower();
  ASSERT_TRUE(WaitForReplica(20));
  AppendExtractions(5, "B");
  ASSERT_TRUE(WaitForReplica(25)) << "pushed by the stream, not fetched again";
  const auto status = FollowerStatus();
  EXPECT_EQ(status.log_id(), "au-log");
  ASSERT_EQ(status.replicas_size(), 1);
  EXPECT_EQ(status.replicas(0).log_id(), "demo-log");
  EXPECT_EQ(status.replicas(0).peer(), leader_address_);
  EXPECT_EQ(status.replicas(0).state(), "following");
  EXPECT_EQ(status.replicas(0).leader_size(), 25u);

  // The same through the CLI, as a table and as JSON.
  const RunResult table = Cairn({"status", "--node", follower_.address()});
  EXPECT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("au-log (0 entries)"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("demo-log"), std::string::npos) << table.out;
  const RunResult json = Cairn({"status", "--node", follower_.address(), "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const auto j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["log_id"], "au-log");
  EXPECT_EQ(j["replicas"][0]["log_id"], "demo-log");
  EXPECT_EQ(j["replicas"][0]["size"], 25);
  EXPECT_EQ(j["replicas"][0]["lag"], 0);
  EXPECT_EQ(j["replicas"][0]["state"], "following");
  // And in the follower's Prometheus metrics.
  const nlohmann::json samples = ScrapeMetrics(metrics);
  const std::string labels = "{log=demo-log,peer=" + leader_address_ + "}";
  EXPECT_EQ(samples.value("cairn_replica_entries" + labels, -1.0), 25) << samples.dump(1);
  EXPECT_EQ(samples.value("cairn_replication_lag_entries" + labels, -1.0), 0);
  EXPECT_EQ(samples.value("cairn_replication_following" + labels, -1.0), 1);
  EXPECT_GT(samples.value("cairn_replication_last_contact_timestamp_seconds" + labels, -1.0),
            1.7e9);
  EXPECT_EQ(samples.value("cairn_forks_detected{log=demo-log}", -1.0), 0);
  EXPECT_EQ(samples.value("cairn_log_entries{log=au-log}", -1.0), 0);
  EXPECT_GT(samples.value("cairn_sqlite_file_bytes{file=db,log=demo-log}", -1.0), 0);
  EXPECT_EQ(follower_.Terminate(), 0);
  EXPECT_EQ(ReplicaEntries(), LeaderEntries());
}

TEST_F(FollowerTest, AFollowerKilledAndALeaderRestartedCatchUpWithNothingMissingOrDoubled) {
  AppendExtractions(10, "K");
  StartFollower();
  ASSERT_TRUE(WaitForReplica(10));
  // kill -9 while the leader takes appends, then restart: the replica resumes where it stood.
  std::thread appender([&] {
    for (int i = 0; i < 10; ++i) AppendExtractions(20, "L" + std::to_string(i));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  follower_.Kill9();
  appender.join();
  StartFollower();
  ASSERT_TRUE(WaitForReplica(210));

  // The leader goes away and comes back on its address: the follower reconnects by itself.
  ASSERT_EQ(world_->node().Terminate(), 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (FollowerStatus().replicas(0).state() == "following" &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_NE(FollowerStatus().replicas(0).last_error(), "");
  StartLeader();
  AppendExtractions(7, "R");
  ASSERT_TRUE(WaitForReplica(217));
  EXPECT_EQ(follower_.Terminate(), 0);
  EXPECT_EQ(ReplicaEntries(), LeaderEntries());
}

TEST_F(FollowerTest, AReplicaEditedOnDiskIsRefusedAtStartNamingTheEntry) {
  AppendExtractions(6, "T");
  StartFollower();
  ASSERT_TRUE(WaitForReplica(6));
  ASSERT_EQ(follower_.Terminate(), 0);
  // One byte of entry 3 changed.
  const std::string path = dir_ / "au.db.replicas/demo-log.db";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "UPDATE entries SET entry = substr(entry, 1, 40) || X'00' || "
                         "substr(entry, 42) WHERE idx = 3",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  std::string error;
  EXPECT_FALSE(follower_.Start(follower_config(), &error));
  EXPECT_NE(error.find("replica"), std::string::npos) << error;
  EXPECT_NE(error.find("entry 3"), std::string::npos) << error;
}

TEST_F(FollowerTest, ALeaderThatRewroteItsHistoryIsRecordedAsAForkAndNeverFollowedAgain) {
  AppendExtractions(10, "H");
  const std::string metrics = "127.0.0.1:" + std::to_string(FreePort());
  WriteFile(follower_config(),
            "metrics_listen = \"" + metrics + "\"\n" + ReadFile(follower_config()));
  StartFollower();
  EXPECT_EQ(ScrapeMetrics(metrics).value("cairn_forks_detected{log=demo-log}", -1.0), 0);
  ASSERT_TRUE(WaitForReplica(10));
  // The leader loses its database and signs a different history of the same log with its key.
  ASSERT_EQ(world_->node().Terminate(), 0);
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((world_->db_path() + suffix).c_str());
  StartLeader();
  AppendExtractions(15, "Z");

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (FollowerStatus().forks_size() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  auto status = FollowerStatus();
  ASSERT_EQ(status.forks_size(), 1);
  EXPECT_EQ(status.forks(0).log_id(), "demo-log");
  const nlohmann::json samples = ScrapeMetrics(metrics);
  EXPECT_EQ(samples.value("cairn_forks_detected{log=demo-log}", -1.0), 1) << samples.dump(1);
  EXPECT_EQ(
      samples.value("cairn_replication_following{log=demo-log,peer=" + leader_address_ + "}", -1.0),
      0);
  EXPECT_EQ(status.replicas(0).state(), "stopped");
  EXPECT_EQ(status.replicas(0).size(), 10u) << "nothing of the other history is stored";
  // Both signed statements are kept: ours of size 10 and theirs of size 15, each verifying.
  Hash ours_root{};
  Hash theirs_root{};
  EXPECT_EQ(VerifiedSize(status.forks(0).ours(), &ours_root), 10u);
  EXPECT_EQ(VerifiedSize(status.forks(0).theirs(), &theirs_root), 15u);

  const RunResult json = Cairn({"forks", "--node", follower_.address(), "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const auto j = nlohmann::json::parse(json.out);
  ASSERT_EQ(j["forks"].size(), 1u) << json.out;
  EXPECT_EQ(j["forks"][0]["log_id"], "demo-log");
  EXPECT_NE(j["forks"][0]["reason"].get<std::string>().find("consistency"), std::string::npos)
      << json.out;
  const RunResult table = Cairn({"forks", "--node", follower_.address()});
  EXPECT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("demo-log"), std::string::npos) << table.out;

  // Restarted, the follower remembers: the log stays stopped and nothing more is stored.
  ASSERT_EQ(follower_.Terminate(), 0);
  StartFollower();
  AppendExtractions(3, "Y");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  status = FollowerStatus();
  EXPECT_EQ(status.forks_size(), 1);
  EXPECT_EQ(status.replicas(0).state(), "stopped");
  EXPECT_EQ(status.replicas(0).size(), 10u);
}

TEST_F(FollowerTest, APartitionHealsAndTheReplicaCatchesUpWithNothingMissingOrDoubled) {
  TcpProxy link(leader_address_);
  FollowThrough(link.address());
  AppendExtractions(10, "P");
  StartFollower();
  ASSERT_TRUE(WaitForReplica(10));
  link.Cut();  // the network between the two nodes goes away
  AppendExtractions(20, "Q");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (FollowerStatus().replicas(0).state() == "following" &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto status = FollowerStatus();
  EXPECT_NE(status.replicas(0).state(), "following");
  EXPECT_NE(status.replicas(0).last_error(), "");
  EXPECT_EQ(status.replicas(0).size(), 10u) << "nothing arrives through a cut link";
  link.Restore();
  ASSERT_TRUE(WaitForReplica(30)) << FollowerStatus().DebugString();
  EXPECT_EQ(FollowerStatus().replicas(0).state(), "following");
  EXPECT_EQ(follower_.Terminate(), 0);
  EXPECT_EQ(ReplicaEntries(), LeaderEntries());
}

TEST_F(FollowerTest, AnEntryAlteredInTransitIsRefusedAndReplicationRecovers) {
  TcpProxy link(leader_address_);
  FollowThrough(link.address());
  AppendExtractions(10, "F");
  StartFollower();
  ASSERT_TRUE(WaitForReplica(10));
  // One bit flipped well inside the stream that will carry the next 100 entries (~60 KB).
  link.FlipByte(20'000);
  AppendExtractions(100, "G");
  ASSERT_TRUE(WaitForReplica(110)) << FollowerStatus().DebugString();
  EXPECT_EQ(follower_.Terminate(), 0);
  EXPECT_EQ(ReplicaEntries(), LeaderEntries()) << "the altered bytes were never stored";
  // The altered message was refused, and the stream opened again.
  const std::string log = ReadFile(follower_.stderr_path());
  EXPECT_NE(log.find("replication stream ended"), std::string::npos) << log;
}

TEST_F(FollowerTest, UnderMutualTlsAPeerWithoutAConsortiumCertificateIsRefused) {
  const TestPki pki = MakeTestPki(dir_ / "pki");
  const TestPki rogue = MakeTestPki(dir_ / "rogue", "rogue");
  const auto tls = [](const std::string& cert, const std::string& key, const std::string& ca) {
    return "[tls]\ncert = \"" + cert + "\"\nkey = \"" + key + "\"\nca = \"" + ca +
           "\"\nrequire_client_cert = true\n";
  };
  ASSERT_EQ(world_->node().Terminate(), 0);
  WriteFile(world_->config_path(),
            ReadFile(world_->config_path()) + tls(pki.node_cert, pki.node_key, pki.ca));
  StartLeader();
  grpc::SslCredentialsOptions client;
  client.pem_root_certs = ReadFile(pki.ca);
  client.pem_cert_chain = ReadFile(pki.client_cert);
  client.pem_private_key = ReadFile(pki.client_key);
  // Asking the follower: its certificate is the rogue CA's.
  grpc::SslCredentialsOptions ask_rogue = client;
  ask_rogue.pem_root_certs = ReadFile(rogue.ca);
  follower_credentials_ = grpc::SslCredentials(ask_rogue);
  const std::string plain = ReadFile(follower_config());
  // The follower's certificate is of another CA (it trusts the consortium's, so it could read).
  WriteFile(follower_config(), plain + tls(rogue.node_cert, rogue.node_key, pki.ca));
  {
    auto stub = cairn::v1::Ledger::NewStub(
        grpc::CreateChannel("localhost:" + leader_address_.substr(leader_address_.find(':') + 1),
                            grpc::SslCredentials(client)));
    grpc::ClientContext context;
    SetDeadline(context);
    cairn::v1::AppendBatchRequest request;
    const auto body = PakistanExtraction("pk-fwo:M-1");
    *request.add_events() = world_->Sign(body);
    cairn::v1::AppendBatchResponse response;
    ASSERT_TRUE(stub->AppendBatch(&context, request, &response).ok());
  }
  StartFollower();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  auto status = FollowerStatus();
  while (status.replicas_size() == 1 && status.replicas(0).last_error().empty() &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    status = FollowerStatus();
  }
  ASSERT_EQ(status.replicas_size(), 1);
  EXPECT_EQ(status.replicas(0).size(), 0u);
  EXPECT_NE(status.replicas(0).state(), "following");
  EXPECT_NE(status.replicas(0).last_error(), "") << status.DebugString();
  ASSERT_EQ(follower_.Terminate(), 0);

  // With a certificate of the consortium CA the same follower replicates.
  follower_credentials_ = grpc::SslCredentials(client);
  WriteFile(follower_config(), plain + tls(pki.node_cert, pki.node_key, pki.ca));
  StartFollower();
  EXPECT_TRUE(WaitForReplica(1)) << FollowerStatus().DebugString();
}

TEST_F(FollowerTest, ALeaderKilledMidStreamIsFollowedAgainWithNothingMissingOrDoubled) {
  AppendExtractions(10, "S");
  StartFollower();
  ASSERT_TRUE(WaitForReplica(10));
  // kill -9 of the leader while it streams new groups to the follower.
  std::atomic<bool> appending{true};
  std::thread appender([&] {
    for (int i = 0; appending.load() && i < 200; ++i) {
      auto stub = world_->Stub();
      cairn::v1::AppendBatchRequest request;
      for (int j = 0; j < 10; ++j) {
        const auto body =
            PakistanExtraction("pk-fwo:K" + std::to_string(i) + "-" + std::to_string(j));
        *request.add_events() = world_->Sign(body);
      }
      cairn::v1::AppendBatchResponse response;
      grpc::ClientContext context;
      SetDeadline(context, 2);
      if (!stub->AppendBatch(&context, request, &response).ok()) return;  // the leader died
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  world_->node().Kill9();
  appending = false;
  appender.join();
  StartLeader();
  AppendExtractions(5, "T");
  const uint64_t size = LogSize(*world_->Stub());
  ASSERT_TRUE(WaitForReplica(size)) << FollowerStatus().DebugString();
  EXPECT_EQ(follower_.Terminate(), 0);
  EXPECT_EQ(ReplicaEntries(), LeaderEntries());
}

// The soak: a leader (demo-log) and a follower (au-log, replicating demo-log) under mixed load —
// batches appended to the leader, single appends to the follower's own log, entry reads and
// inclusion proofs, traces of a real lineage, and replication — while one node is restarted every
// 30 s, alternately the leader and the follower, by kill -9 and by SIGTERM in turn. At the end
// every acknowledged event is where its answer said, the follower's replica is byte for byte the
// leader's log, and both logs verify. CAIRN_SOAK_SECONDS sets the length (default 120 s, so CI sees
// 3 restarts); run longer by hand: CAIRN_SOAK_SECONDS=3600 build/tests/cairn_integration_tests
// --gtest_filter=SoakTest.*
class SoakTest : public FollowerTest {
 protected:
  void SetUp() override {
    FollowerTest::SetUp();
    follower_address_ = "127.0.0.1:" + std::to_string(FreePort());
    std::string text = ReadFile(follower_config());
    text.replace(text.find("127.0.0.1:0"), 11, follower_address_);
    WriteFile(follower_config(), text);
  }
  std::string follower_address_;
};

int SoakSeconds() {
  const char* env = std::getenv("CAIRN_SOAK_SECONDS");
  return env != nullptr && std::atoi(env) > 0 ? std::atoi(env) : 120;
}

// Entries of the log at `address`, index by index.
std::vector<std::string> EntriesAt(const std::string& address) {
  auto stub =
      cairn::v1::Ledger::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  SetDeadline(context, 60);
  auto reader = stub->GetEntries(&context, cairn::v1::GetEntriesRequest());
  std::vector<std::string> entries;
  cairn::v1::EntryRecord record;
  while (reader->Read(&record)) {
    EXPECT_EQ(record.index(), entries.size());
    entries.push_back(record.entry());
  }
  const grpc::Status s = reader->Finish();
  EXPECT_TRUE(s.ok()) << s.error_message();
  return entries;
}

TEST_F(SoakTest, MixedLoadWithANodeRestartedEvery30sLosesNothingAcknowledged) {
  using cairn::testing::DispatchOf;
  using cairn::testing::ReceiptOf;
  using cairn::testing::Separation;
  const int seconds = SoakSeconds();
  StartFollower();
  // A real lineage to trace throughout: Chagai concentrate to NdPr oxide at USSM.
  constexpr char kOre[] = "pk-fwo:CHG-2025-0001";
  constexpr char kOxide[] = "us-usm:NDPR-2025-0001";
  {
    auto stub = world_->Stub();
    cairn::v1::AppendResponse dispatch;
    ASSERT_TRUE(AppendSigned(*stub, world_->Sign(PakistanExtraction(kOre))).ok());
    ASSERT_TRUE(AppendSigned(*stub, world_->Sign(DispatchOf("pk-fwo", "us-usm", kOre, 20'000'000)),
                             &dispatch)
                    .ok());
    ASSERT_TRUE(AppendSigned(
                    *stub, world_->Sign(ReceiptOf("us-usm", dispatch.event_id(), kOre, 20'000'000)))
                    .ok());
    ASSERT_TRUE(
        AppendSigned(*stub, world_->Sign(Separation("us-usm", kOre, 20'000'000, kOxide, 1'600'000)))
            .ok());
  }

  struct Acked {
    uint64_t index;
    std::string entry;
  };
  std::mutex mu;
  std::vector<Acked> leader_acked, follower_acked;
  std::vector<std::string> acked_ids;  // leader events, for inclusion proofs
  std::atomic<bool> done{false};
  std::atomic<int> leader_failed{0}, follower_failed{0}, reads_ok{0}, reads_failed{0}, traces_ok{0},
      traces_failed{0};
  // Paced, not flat out: the soak is about restarts under steady load, and a log growing by tens of
  // thousands of events a minute would make each restart's start-up check the test's length.
  auto pause = [] { std::this_thread::sleep_for(std::chrono::milliseconds(100)); };
  auto pace = [] { std::this_thread::sleep_for(std::chrono::milliseconds(20)); };
  std::vector<std::thread> load;
  load.emplace_back([&] {  // batches of 10 to the leader
    for (int i = 0; !done; ++i) {
      auto stub = world_->Stub();
      cairn::v1::AppendBatchRequest request;
      for (int j = 0; j < 10; ++j) {
        *request.add_events() = world_->Sign(
            PakistanExtraction("pk-fwo:SOAK-" + std::to_string(i) + "-" + std::to_string(j)));
      }
      cairn::v1::AppendBatchResponse response;
      grpc::ClientContext context;
      SetDeadline(context, 5);
      if (!stub->AppendBatch(&context, request, &response).ok()) {
        ++leader_failed;
        pause();
        continue;
      }
      {
        std::lock_guard<std::mutex> lock(mu);
        for (const auto& r : response.results()) {
          leader_acked.push_back({r.index(), r.entry()});
          acked_ids.push_back(r.event_id());
        }
      }
      pace();
    }
  });
  load.emplace_back([&] {  // single appends to the follower's own log
    for (int i = 0; !done; ++i) {
      auto stub = cairn::v1::Ledger::NewStub(
          grpc::CreateChannel(follower_address_, grpc::InsecureChannelCredentials()));
      cairn::v1::AppendResponse response;
      if (!AppendSigned(
               *stub,
               world_->Sign(cairn::testing::MtWeldExtraction("au-lynas:SOAK-" + std::to_string(i))),
               &response)
               .ok()) {
        ++follower_failed;
        pause();
        continue;
      }
      {
        std::lock_guard<std::mutex> lock(mu);
        follower_acked.push_back({response.index(), response.entry()});
      }
      pace();
    }
  });
  load.emplace_back([&] {  // reads: a page of entries and an inclusion proof, on either node
    for (int i = 0; !done; ++i) {
      const std::string address = i % 2 == 0 ? leader_address_ : follower_address_;
      auto stub = cairn::v1::Ledger::NewStub(
          grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
      grpc::ClientContext context;
      SetDeadline(context, 5);
      cairn::v1::GetEntriesRequest page;
      page.set_start(static_cast<uint64_t>(i) % 4);
      page.set_limit(50);
      auto reader = stub->GetEntries(&context, page);
      cairn::v1::EntryRecord record;
      int n = 0;
      while (reader->Read(&record)) ++n;
      bool ok = reader->Finish().ok() && n > 0;
      if (ok && i % 2 == 0) {
        std::string id;
        {
          std::lock_guard<std::mutex> lock(mu);
          if (!acked_ids.empty()) id = acked_ids[static_cast<size_t>(i) % acked_ids.size()];
        }
        if (!id.empty()) {
          cairn::v1::GetInclusionProofRequest request;
          request.set_event_id(id);
          cairn::v1::GetInclusionProofResponse proof;
          grpc::ClientContext proof_context;
          SetDeadline(proof_context, 5);
          ok = stub->GetInclusionProof(&proof_context, request, &proof).ok();
        }
      }
      (ok ? reads_ok : reads_failed)++;
      ok ? pace() : pause();
    }
  });
  load.emplace_back([&] {  // traces of the oxide's lineage
    while (!done) {
      auto stub = world_->Stub();
      grpc::ClientContext context;
      SetDeadline(context, 5);
      cairn::v1::TraceRequest request;
      request.set_lot_id(kOxide);
      auto reader = stub->Trace(&context, request);
      cairn::v1::EvidenceBundle bundle;
      int entries = 0;
      while (reader->Read(&bundle)) entries += bundle.entries_size();
      const bool ok = reader->Finish().ok();
      if (ok) EXPECT_EQ(entries, 4) << "the lineage: extraction, dispatch, receipt, separation";
      (ok ? traces_ok : traces_failed)++;
      ok ? pace() : pause();
    }
  });

  // One node restarted every 30 s: leader, follower, leader, ...; kill -9 and SIGTERM in turn.
  const auto start = std::chrono::steady_clock::now();
  const auto end = start + std::chrono::seconds(seconds);
  int restarts = 0;
  double slowest_restart_s = 0;
  for (auto next = start + std::chrono::seconds(30); next < end; next += std::chrono::seconds(30)) {
    std::this_thread::sleep_until(next);
    const bool leader = restarts % 2 == 0;
    NodeProcess& node = leader ? world_->node() : follower_;
    if ((restarts / 2) % 2 == 0) {
      node.Kill9();
    } else {
      EXPECT_EQ(node.Terminate(), 0);
    }
    const auto t0 = std::chrono::steady_clock::now();
    if (leader) {
      StartLeader();
    } else {
      StartFollower();
    }
    slowest_restart_s =
        std::max(slowest_restart_s,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    ++restarts;
  }
  std::this_thread::sleep_until(end);
  done = true;
  for (auto& t : load) t.join();

  // Everything acknowledged is where its answer said, on both nodes, and the replica catches up.
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<std::string> leader_entries = EntriesAt(leader_address_);
  ASSERT_TRUE(WaitForReplica(leader_entries.size())) << FollowerStatus().DebugString();
  const double catch_up_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::vector<std::string> follower_entries = EntriesAt(follower_address_);
  int missing = 0;
  for (const Acked& a : leader_acked) {
    missing += a.index >= leader_entries.size() || leader_entries[a.index] != a.entry;
  }
  for (const Acked& a : follower_acked) {
    missing += a.index >= follower_entries.size() || follower_entries[a.index] != a.entry;
  }
  EXPECT_EQ(missing, 0);
  for (const std::string& address : {leader_address_, follower_address_}) {
    const RunResult verified =
        Cairn({"verify", "--log", "--node", address, "--registry", world_->registry_path()});
    EXPECT_EQ(verified.exit_code, 0) << address << ": " << verified.out << verified.err;
  }
  ASSERT_EQ(follower_.Terminate(), 0);
  EXPECT_EQ(ReplicaEntries(), leader_entries);

  std::cout << "soak: " << seconds << " s, " << restarts << " restarts (slowest to serving "
            << slowest_restart_s << " s); acknowledged " << leader_acked.size()
            << " leader events (" << leader_failed << " batches refused while it was down) and "
            << follower_acked.size() << " follower events (" << follower_failed
            << " refused); reads " << reads_ok << " ok / " << reads_failed << " failed; traces "
            << traces_ok << " ok / " << traces_failed << " failed; replica of "
            << leader_entries.size() << " entries caught up " << catch_up_s
            << " s after the load\n";
  EXPECT_EQ(restarts, (seconds - 1) / 30);
  EXPECT_GT(leader_acked.size(), 0u);
  EXPECT_GT(follower_acked.size(), 0u);
  EXPECT_GT(reads_ok.load(), 0);
  EXPECT_GT(traces_ok.load(), 0);
}

TEST_F(FollowerTest, ANewerRegistryGossipedByAPeerIsVerifiedWrittenAndAppliedByARestart) {
  // The follower keeps its own copy of version 1, and a fixed address across its restart.
  const std::string follower_address = "127.0.0.1:" + std::to_string(FreePort());
  std::string text = ReadFile(follower_config());
  text.replace(text.find("127.0.0.1:0"), 11, follower_address);
  text.replace(text.find("registry.json"), 13, "registry-au.json");
  WriteFile(follower_config(), text);
  WriteFile(dir_ / "registry-au.json", ReadFile(world_->registry_path()));
  AppendExtractions(3, "R");
  StartFollower();
  ASSERT_TRUE(WaitForReplica(3));
  ASSERT_EQ(FollowerStatus().registry_version(), 1u);

  // The consortium signs version 2 (a new participant); the leader restarts on it.
  ASSERT_EQ(world_->node().Terminate(), 0);
  const RunResult added =
      Cairn({"registry", "add", "--registry", world_->registry_path(), "--participant",
             "us-mp-materials", "--name", "MP Materials", "--country", "US", "--roles", "MINE"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  const RunResult signed_v2 = Cairn({"registry", "sign", "--registry", world_->registry_path(),
                                     "--key", dir_ / "keys/cairn-registrar.key"});
  ASSERT_EQ(signed_v2.exit_code, 0) << signed_v2.err;
  StartLeader();

  // The follower hears of version 2 by gossip, checks its chain, writes it and restarts on it.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  uint64_t version = 1;
  while (version < 2 && std::chrono::steady_clock::now() < deadline) {
    auto stub = cairn::v1::Federation::NewStub(
        grpc::CreateChannel(follower_address, grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    SetDeadline(context, 2);
    cairn::v1::NodeStatus status;
    if (stub->GetStatus(&context, cairn::v1::GetStatusRequest(), &status).ok()) {
      version = status.registry_version();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(version, 2u);
  EXPECT_EQ(ReadFile(dir_ / "registry-au.json"), ReadFile(world_->registry_path()));
  EXPECT_NE(ReadFile(follower_.stderr_path()).find("adopted a newer trust registry"),
            std::string::npos);
  EXPECT_EQ(follower_.Terminate(), 0);
}

}  // namespace
}  // namespace cairn::itest
