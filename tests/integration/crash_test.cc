// Crash test: 8 clients append while the node is killed with SIGKILL at random moments, 20 times.
// After every restart each acknowledged event must be present, the tree size must never go
// backwards, and at the end the whole log must verify.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <random>
#include <thread>

#include "ledger/event.h"
#include "tests/integration/harness.h"
#include "tests/unit/test_world.h"

namespace cairn::itest {
namespace {

using cairn::testing::PakistanExtraction;

TEST(CrashTest, KillNineTwentyTimesUnderLoadLosesNothingAcknowledged) {
  ASSERT_TRUE(InitCrypto().ok());
  TempDir dir;
  World world(dir);
  world.StartNode();
  const auto& key = world.key("pk-fwo");
  std::mt19937 rng(20261128);
  std::vector<std::string> acknowledged;
  std::mutex mu;
  uint64_t last_size = 0;
  constexpr int kRounds = 20;
  constexpr int kClients = 8;
  for (int round = 0; round < kRounds; ++round) {
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
      clients.emplace_back([&, c] {
        auto stub = world.Stub();
        for (int i = 0; !stop.load(); ++i) {
          const std::string lot = "pk-fwo:R" + std::to_string(round) + "C" + std::to_string(c) +
                                  "-" + std::to_string(i);
          cairn::v1::AppendRequest request;
          *request.mutable_event() = ledger::SignEvent(
              PakistanExtraction(lot, 1'000'000).SerializeAsString(), key.key_id, key.secret_key);
          cairn::v1::AppendResponse response;
          grpc::ClientContext context;
          SetDeadline(context, 5);
          if (!stub->Append(&context, request, &response).ok()) return;  // node gone
          std::lock_guard<std::mutex> lock(mu);
          acknowledged.push_back(response.event_id());
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 200));
    world.node().Kill9();
    stop = true;
    for (auto& t : clients) t.join();

    std::string error;
    ASSERT_TRUE(world.node().Start(world.config_path(), &error))
        << "round " << round << ": " << error;
    auto stub = world.Stub();
    const uint64_t size = LogSize(*stub);
    EXPECT_GE(size, last_size) << "tree size went backwards in round " << round;
    EXPECT_GE(size, acknowledged.size()) << "round " << round;
    last_size = size;
    for (const std::string& id : acknowledged) {
      cairn::v1::GetEventRequest request;
      request.set_event_id(id);
      cairn::v1::GetEventResponse response;
      grpc::ClientContext context;
      SetDeadline(context);
      ASSERT_TRUE(stub->GetEvent(&context, request, &response).ok())
          << "round " << round << ": acknowledged event " << id << " lost";
    }
  }
  EXPECT_GT(acknowledged.size(), static_cast<size_t>(kRounds));
  const RunResult r = Cairn(
      {"verify", "--log", "--node", world.node().address(), "--registry", world.registry_path()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

}  // namespace
}  // namespace cairn::itest
