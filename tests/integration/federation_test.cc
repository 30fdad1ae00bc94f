// cairn.v1.Federation against a real cairnd: Follow streams the log, then pushes each new group as
// it is appended, and ends cleanly when the node stops.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "cairn/v1/federation.grpc.pb.h"
#include "keys/registry.h"
#include "ledger/event.h"
#include "ledger/log_verifier.h"
#include "ledger/merkle.h"
#include "tests/integration/harness.h"
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
      const auto& k = world_->key(body.author());
      *request.add_events() = ledger::SignEvent(body.SerializeAsString(), k.key_id, k.secret_key);
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

}  // namespace
}  // namespace cairn::itest
