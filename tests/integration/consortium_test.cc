// A consortium of three real nodes, one per organisation: the Pakistani mine (pk-fwo-log), the US
// refiner (us-usm-log) and the Japanese magnet maker (jp-magnets-log). Each appends only its own
// participant's events and follows the other two logs; custody crosses logs (a receipt on the
// refiner's log answers a dispatch on the mine's), and an auditor verifies the magnets' lineage
// across the three logs against the buyer's node alone.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cairn/v1/federation.grpc.pb.h"
#include "common/clock.h"
#include "tests/integration/harness.h"
#include "tests/integration/tcp_proxy.h"

namespace cairn::itest {
namespace {

struct Member {
  const char* name;         // config and database prefix
  const char* log_id;       // its log
  const char* participant;  // the participant it hosts
};
constexpr Member kMembers[] = {
    {"mine", "pk-fwo-log", "pk-fwo"},
    {"refiner", "us-usm-log", "us-usm"},
    {"buyer", "jp-magnets-log", "jp-magnets"},
};

class ConsortiumTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<LogSpec> logs;
    for (const Member& m : kMembers) logs.push_back({m.log_id, m.participant, {m.participant}});
    world_ = std::make_unique<World>(dir_, logs);
    for (size_t i = 0; i < 3; ++i) addresses_[i] = "127.0.0.1:" + std::to_string(FreePort());
    for (size_t i = 0; i < 3; ++i) {
      std::string config = "listen = \"" + addresses_[i] + "\"\n" + "db = \"" + kMembers[i].name +
                           ".db\"\n" + "log_id = \"" + kMembers[i].log_id + "\"\n" +
                           "node_key = \"keys/" + kMembers[i].log_id + ".key\"\n" +
                           "registry = \"registry.json\"\n" + "participants = [\"" +
                           kMembers[i].participant + "\"]\n";
      for (size_t j = 0; j < 3; ++j) {
        if (j == i) continue;
        config += "[[peer]]\naddress = \"" + addresses_[j] + "\"\nlogs = [\"" + kMembers[j].log_id +
                  "\"]\n";
      }
      WriteFile(config_path(i), config);
    }
    for (size_t i = 0; i < 3; ++i) Start(i);
  }

  // Restarts node `i` with its link to node `j` through `link`, and `extra` config lines.
  void Reroute(size_t i, size_t j, const TcpProxy& link, const std::string& extra = "") {
    ASSERT_EQ(nodes_[i].Terminate(), 0);
    std::string text = ReadFile(config_path(i));
    text.replace(text.find(addresses_[j]), addresses_[j].size(), link.address());
    WriteFile(config_path(i), extra + text);
    Start(i);
  }
  std::string config_path(size_t i) const {
    return dir_ / (std::string(kMembers[i].name) + ".toml");
  }
  void Start(size_t i) {
    std::string error;
    ASSERT_TRUE(nodes_[i].Start(config_path(i), &error)) << error;
  }

  // Submits one event body (protobuf JSON; the CLI fills author and occurred_at) to node `i` as
  // `who`; the event id, or "" with a test failure.
  RunResult TrySubmit(size_t i, const std::string& who, const std::string& json) {
    const std::string file = dir_ / ("event-" + std::to_string(++events_) + ".json");
    WriteFile(file, json);
    return Cairn(
        {"submit", "--node", addresses_[i], "--key", world_->key_path(who), "--json", file});
  }
  std::string Submit(size_t i, const std::string& who, const std::string& json) {
    const RunResult r = TrySubmit(i, who, json);
    EXPECT_EQ(r.exit_code, 0) << json << "\n" << r.err;
    if (r.exit_code != 0) return "";
    return nlohmann::json::parse(r.out)[0]["event_id"];
  }
  static std::string DispatchJson(const std::string& to, const std::string& lot, uint64_t g) {
    return R"({"dispatch": {"shipment_id": "SHP-2026-)" + lot.substr(lot.size() - 3) +
           R"(", "recipient": ")" + to + R"(", "lots": [{"lot_id": ")" + lot + R"(", "mass_g": ")" +
           std::to_string(g) + R"("}], "hs_code": "2846.90"}})";
  }
  static std::string ReceiptJson(const std::string& dispatch, const std::string& lot, uint64_t g) {
    return R"({"receipt": {"dispatch_event_id": ")" + dispatch + R"(", "lots": [{"lot_id": ")" +
           lot + R"(", "mass_g": ")" + std::to_string(g) + R"("}]}})";
  }

  cairn::v1::NodeStatus Status(size_t i) {
    auto stub = cairn::v1::Federation::NewStub(
        grpc::CreateChannel(addresses_[i], grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    SetDeadline(context, 5);
    cairn::v1::NodeStatus status;
    const grpc::Status s = stub->GetStatus(&context, cairn::v1::GetStatusRequest(), &status);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return status;
  }
  // Waits (up to 30 s) until node `i` holds at least `size` entries of `log_id`.
  bool WaitForReplica(size_t i, const std::string& log_id, uint64_t size,
                      std::chrono::milliseconds wait = std::chrono::seconds(30)) {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    do {
      const auto status = Status(i);
      for (const auto& replica : status.replicas()) {
        if (replica.log_id() == log_id && replica.size() >= size) return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    } while (std::chrono::steady_clock::now() < deadline);
    return false;
  }

  TempDir dir_;
  std::unique_ptr<World> world_;
  std::string addresses_[3];
  NodeProcess nodes_[3];
  int events_ = 0;
};

constexpr size_t kMine = 0, kRefiner = 1, kBuyer = 2;

TEST_F(ConsortiumTest, APakistanConsignmentCrossesThreeNodesAndVerifiesFromTheBuyersNode) {
  // The mine: 25 t of concentrate from Chagai, dispatched to the US refiner.
  Submit(kMine, "pk-fwo", R"({"extraction": {"lot_id": "pk-fwo:CHG-2026-001", "site": {"id":
      "pk-fwo-chagai-01", "name": "Chagai rare-earth prospect", "country": "PK", "region":
      "Balochistan"}, "material": "REE concentrate", "mass_g": "25000000", "composition_ppm":
      {"Ce": 70000, "La": 40000, "Nd": 61700, "Pr": 19900}}})");
  const std::string to_us =
      Submit(kMine, "pk-fwo", DispatchJson("us-usm", "pk-fwo:CHG-2026-001", 25'000'000));
  // The mine's node refuses the refiner's events: they belong on the refiner's log.
  const RunResult elsewhere =
      TrySubmit(kMine, "us-usm", ReceiptJson(to_us, "pk-fwo:CHG-2026-001", 24'985'000));
  EXPECT_NE(elsewhere.exit_code, 0);
  EXPECT_NE(elsewhere.err.find("us-usm's home log is us-usm-log"), std::string::npos)
      << elsewhere.err;

  // The refiner receives what the mine's log dispatched, and separates it.
  ASSERT_TRUE(WaitForReplica(kRefiner, "pk-fwo-log", 2)) << Status(kRefiner).DebugString();
  Submit(kRefiner, "us-usm", ReceiptJson(to_us, "pk-fwo:CHG-2026-001", 24'985'000));
  // The dispatch is received once, whichever node is asked.
  const RunResult twice =
      TrySubmit(kRefiner, "us-usm", ReceiptJson(to_us, "pk-fwo:CHG-2026-001", 24'985'000));
  EXPECT_NE(twice.exit_code, 0);
  EXPECT_NE(twice.err.find("already received"), std::string::npos) << twice.err;
  Submit(kRefiner, "us-usm", R"({"transformation": {"facility": {"id": "us-usm-missouri-01",
      "name": "USSM Missouri separation plant", "country": "US"}, "stage": "STAGE_SEPARATED",
      "inputs": [{"lot_id": "pk-fwo:CHG-2026-001", "mass_g": "24985000"}],
      "outputs": [{"lot_id": "us-usm:NDPR-2026-001", "material": "NdPr oxide", "mass_g":
      "2000000", "composition_ppm": {"Nd": 600000, "Pr": 190000}}]}})");
  // More than was received cannot be consumed: the refiner's log decides its holding.
  const RunResult over = TrySubmit(kRefiner, "us-usm", R"({"transformation": {"facility": {"id":
      "us-usm-missouri-01", "name": "USSM", "country": "US"}, "stage": "STAGE_SEPARATED",
      "inputs": [{"lot_id": "pk-fwo:CHG-2026-001", "mass_g": "1"}], "outputs": [{"lot_id":
      "us-usm:NDPR-2026-999", "material": "NdPr oxide", "mass_g": "1"}]}})");
  EXPECT_NE(over.exit_code, 0);
  EXPECT_NE(over.err.find("does not hold lot pk-fwo:CHG-2026-001"), std::string::npos) << over.err;
  const std::string to_jp =
      Submit(kRefiner, "us-usm", DispatchJson("jp-magnets", "us-usm:NDPR-2026-001", 2'000'000));

  // The magnet maker receives the oxide and makes magnets of it.
  ASSERT_TRUE(WaitForReplica(kBuyer, "us-usm-log", 3)) << Status(kBuyer).DebugString();
  Submit(kBuyer, "jp-magnets", ReceiptJson(to_jp, "us-usm:NDPR-2026-001", 2'000'000));
  Submit(kBuyer, "jp-magnets", R"({"transformation": {"facility": {"id": "jp-magnets-fukui-01",
      "name": "Fukui magnet plant", "country": "JP"}, "stage": "STAGE_PRODUCED",
      "inputs": [{"lot_id": "us-usm:NDPR-2026-001", "mass_g": "2000000"}],
      "outputs": [{"lot_id": "jp-magnets:MAG-2026-001", "material": "sintered NdFeB magnets",
      "mass_g": "6000000", "composition_ppm": {"Nd": 195000, "Pr": 62000}}]}})");

  // An auditor asks the buyer's node alone: the lineage spans the three logs and verifies.
  ASSERT_TRUE(WaitForReplica(kBuyer, "pk-fwo-log", 2)) << Status(kBuyer).DebugString();
  const RunResult verified =
      Cairn({"verify", "--node", addresses_[kBuyer], "--lot", "jp-magnets:MAG-2026-001",
             "--registry", world_->registry_path(), "--json"});
  ASSERT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  const auto j = nlohmann::json::parse(verified.out);
  EXPECT_EQ(j["logs"], 3) << verified.out;
  EXPECT_EQ(j["entries_checked"], 7) << verified.out;
  EXPECT_DOUBLE_EQ(j["attribution"]["mass"]["by_country"]["PK"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(j["attribution"]["mass"]["by_facility"]["us-usm-missouri-01"].get<double>(),
                   1.0);
  // Its report in every format and its EPCIS document, from the buyer's node alone.
  for (const std::string format : {"md", "json", "html", "pdf", "csv"}) {
    const RunResult report = Cairn(
        {"report", "--node", addresses_[kBuyer], "--lot", "jp-magnets:MAG-2026-001", "--registry",
         world_->registry_path(), "--format", format, "-o", dir_ / ("magnets." + format)});
    ASSERT_EQ(report.exit_code, 0) << format << ": " << report.err;
  }
  EXPECT_NE(ReadFile(dir_ / "magnets.html").find("Fukui magnet plant"), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(ReadFile(dir_ / "magnets.json"))["checked"]["logs"], 3);
  EXPECT_EQ(ReadFile(dir_ / "magnets.pdf").rfind("%PDF-", 0), 0u);
  const nlohmann::json csv = ParseCsvDirectory(dir_ / "magnets.csv");
  ASSERT_TRUE(csv.contains("checkpoints")) << csv;
  std::set<std::string> checkpointed;  // the signed checkpoints' logs, past the header
  for (size_t i = 1; i < csv["checkpoints"].size(); ++i)
    checkpointed.insert(csv["checkpoints"][i][0]);
  EXPECT_EQ(checkpointed, (std::set<std::string>{"pk-fwo-log", "us-usm-log", "jp-magnets-log"}));
  const RunResult epcis =
      Cairn({"export", "--node", addresses_[kBuyer], "jp-magnets:MAG-2026-001", "--epcis",
             "--registry", world_->registry_path(), "-o", dir_ / "magnets.jsonld"});
  ASSERT_EQ(epcis.exit_code, 0) << epcis.err;
  const RunResult valid = ValidateEpcis({dir_ / "magnets.jsonld"});
  EXPECT_EQ(valid.exit_code, 0) << valid.out << valid.err;
  std::set<std::string> logs;
  const auto document = nlohmann::json::parse(ReadFile(dir_ / "magnets.jsonld"));
  for (const auto& e : document["epcisBody"]["eventList"]) logs.insert(e["cairn:logId"]);
  EXPECT_EQ(logs, (std::set<std::string>{"pk-fwo-log", "us-usm-log", "jp-magnets-log"}));

  // Any node answers for a lot whose events stand in several logs, adding them up: the
  // concentrate was created by the mine, received (15 kg short) and consumed by the refiner.
  // (Once each node holds the others' logs to the end: the mine learns of the magnets late.)
  ASSERT_TRUE(WaitForReplica(kMine, "us-usm-log", 3)) << Status(kMine).DebugString();
  ASSERT_TRUE(WaitForReplica(kMine, "jp-magnets-log", 2)) << Status(kMine).DebugString();
  ASSERT_TRUE(WaitForReplica(kRefiner, "jp-magnets-log", 2)) << Status(kRefiner).DebugString();
  const auto lot_json = [&](size_t i, const std::string& lot) {
    const RunResult r = Cairn({"lot", lot, "--node", addresses_[i], "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json::object();
  };
  for (size_t i : {kMine, kBuyer}) {
    const auto ore = lot_json(i, "pk-fwo:CHG-2026-001");
    EXPECT_EQ(ore.value("creator", ""), "pk-fwo");
    EXPECT_EQ(ore.at("consumed_mass_g"), 24985000) << ore.dump();
    EXPECT_EQ(ore.at("transit_loss_mass_g"), 15000) << ore.dump();
    EXPECT_EQ(ore.at("remaining_mass_g"), 0) << ore.dump();  // zero, printed, a number
  }
  const auto oxide = lot_json(kMine, "us-usm:NDPR-2026-001");
  EXPECT_EQ(oxide.value("creator", ""), "us-usm");
  EXPECT_EQ(oxide.at("consumed_mass_g"), 2000000) << oxide.dump();
  EXPECT_EQ(oxide.at("remaining_mass_g"), 0) << oxide.dump();
  const auto magnets = lot_json(kRefiner, "jp-magnets:MAG-2026-001");
  EXPECT_EQ(magnets.at("remaining_mass_g"), 6000000) << magnets.dump();
  ASSERT_TRUE(magnets.contains("holdings")) << magnets.dump();
  EXPECT_EQ(magnets["holdings"][0]["holder"], "jp-magnets");

  // Every node holds all three logs, each replica byte-identical to its leader's log.
  for (size_t i = 0; i < 3; ++i) {
    const auto status = Status(i);
    EXPECT_EQ(status.log_id(), kMembers[i].log_id);
    EXPECT_EQ(status.replicas_size(), 2);
    EXPECT_EQ(status.forks_size(), 0);
  }
  // The refiner's year, asked of the buyer's node: read from its replica of the refiner's log.
  const std::string today = FormatTime(SystemClock().NowMicros()).substr(0, 10);
  const RunResult year = Cairn({"report", "--node", addresses_[kBuyer], "--registry",
                                world_->registry_path(), "--participant", "us-usm", "--from",
                                today.substr(0, 4) + "-01-01", "--to", today, "--format", "json"});
  ASSERT_EQ(year.exit_code, 0) << year.err;
  const auto period = nlohmann::json::parse(year.out);
  EXPECT_EQ(period["checked"]["home_log"]["log_id"], "us-usm-log");
  EXPECT_EQ(period["checked"]["home_log"]["size"], 3);
  ASSERT_EQ(period["lots"].size(), 2u) << period["lots"];
  EXPECT_EQ(period["lots"][0]["lot_id"], "pk-fwo:CHG-2026-001");
  EXPECT_EQ(period["lots"][0]["role"], "received");
  EXPECT_EQ(period["lots"][0]["mass_g"], 24985000);
  EXPECT_EQ(period["lots"][1]["lot_id"], "us-usm:NDPR-2026-001");
  EXPECT_EQ(period["lots"][1]["role"], "produced");

  for (auto& node : nodes_) EXPECT_EQ(node.Terminate(), 0);
  // Restarted, each node checks its log against its replicas again and serves.
  for (size_t i = 0; i < 3; ++i) Start(i);
  const RunResult again = Cairn({"verify", "--node", addresses_[kRefiner], "--lot",
                                 "us-usm:NDPR-2026-001", "--registry", world_->registry_path()});
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;

  // The refiner's record of having received the mine's dispatch is deleted on disk (a second
  // receipt would then pass): the node refuses to start, naming the receiving entry.
  ASSERT_EQ(nodes_[kRefiner].Terminate(), 0);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "refiner.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "DELETE FROM foreign_receipts", nullptr, nullptr, nullptr), SQLITE_OK);
  EXPECT_EQ(sqlite3_changes(db), 1);
  sqlite3_close(db);
  std::string error;
  EXPECT_FALSE(nodes_[kRefiner].Start(config_path(kRefiner), &error));
  EXPECT_NE(error.find("foreign_receipts"), std::string::npos) << error;
  EXPECT_NE(error.find("entry 0"), std::string::npos) << error;
}

TEST_F(ConsortiumTest, AReceiptOfADispatchNotYetReplicatedWaitsForItThenSucceedsOrFails) {
  TcpProxy link(addresses_[kMine]);  // the refiner's view of the mine's log, slowed at will
  Reroute(kRefiner, kMine, link, "replication_wait_ms = 1500\n");
  Submit(kMine, "pk-fwo", R"({"extraction": {"lot_id": "pk-fwo:CHG-2026-002", "site": {"id":
      "pk-fwo-chagai-01", "name": "Chagai", "country": "PK"}, "material": "REE concentrate",
      "mass_g": "25000000", "composition_ppm": {"Nd": 61700, "Pr": 19900}}})");
  ASSERT_TRUE(WaitForReplica(kRefiner, "pk-fwo-log", 1));
  link.Pause();
  const std::string first =
      Submit(kMine, "pk-fwo", DispatchJson("us-usm", "pk-fwo:CHG-2026-002", 10'000'000));
  // The receipt reaches the refiner before the dispatch does: it waits, and once the link
  // carries the dispatch it is appended.
  RunResult receipt;
  std::thread submitter([&] {
    receipt = TrySubmit(kRefiner, "us-usm", ReceiptJson(first, "pk-fwo:CHG-2026-002", 10'000'000));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  EXPECT_FALSE(WaitForReplica(kRefiner, "pk-fwo-log", 2, std::chrono::milliseconds(1)))
      << "the refiner holds the dispatch before the link resumes";
  link.Resume();
  submitter.join();
  EXPECT_EQ(receipt.exit_code, 0) << receipt.err;

  // A dispatch that never arrives in time: refused once the wait ends, naming the event and the
  // logs searched, and nothing is written.
  link.Pause();
  const std::string second =
      Submit(kMine, "pk-fwo", DispatchJson("us-usm", "pk-fwo:CHG-2026-002", 5'000'000));
  const RunResult late =
      TrySubmit(kRefiner, "us-usm", ReceiptJson(second, "pk-fwo:CHG-2026-002", 5'000'000));
  EXPECT_NE(late.exit_code, 0);
  EXPECT_NE(late.err.find("FAILED_PRECONDITION"), std::string::npos) << late.err;
  EXPECT_NE(late.err.find("Receipt.dispatch_event_id: event " + second), std::string::npos)
      << late.err;
  EXPECT_NE(late.err.find("pk-fwo-log"), std::string::npos) << late.err;
  EXPECT_NE(late.err.find("1500 ms"), std::string::npos) << late.err;
  EXPECT_EQ(Status(kRefiner).size(), 1u) << "only the first receipt is in the refiner's log";
  link.Resume();
  // Once replicated, the same receipt is appended.
  ASSERT_TRUE(WaitForReplica(kRefiner, "pk-fwo-log", 3));
  const RunResult now =
      TrySubmit(kRefiner, "us-usm", ReceiptJson(second, "pk-fwo:CHG-2026-002", 5'000'000));
  EXPECT_EQ(now.exit_code, 0) << now.err;
}

TEST_F(ConsortiumTest, ALogThatRewritesItsHistoryIsCaughtAsAForkByEveryPeerAndFailsItsLineage) {
  // The buyer does not follow the mine: it hears of the mine's log only through the refiner.
  ASSERT_EQ(nodes_[kBuyer].Terminate(), 0);
  std::string buyer = ReadFile(config_path(kBuyer));
  const std::string mine_peer =
      "[[peer]]\naddress = \"" + addresses_[kMine] + "\"\nlogs = [\"pk-fwo-log\"]\n";
  buyer.erase(buyer.find(mine_peer), mine_peer.size());
  WriteFile(config_path(kBuyer), buyer);
  Start(kBuyer);

  const auto extraction = [](const std::string& lot) {
    return R"({"extraction": {"lot_id": ")" + lot + R"(", "site": {"id": "pk-fwo-chagai-01",
        "name": "Chagai", "country": "PK"}, "material": "REE concentrate", "mass_g": "1000000",
        "composition_ppm": {"Nd": 61700}}})";
  };
  Submit(kMine, "pk-fwo", extraction("pk-fwo:F-001"));
  Submit(kMine, "pk-fwo", extraction("pk-fwo:F-002"));
  ASSERT_TRUE(WaitForReplica(kRefiner, "pk-fwo-log", 2));

  // The mine's operator restores an empty database and signs a different history of the same
  // size with the same log key.
  ASSERT_EQ(nodes_[kMine].Terminate(), 0);
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::remove((dir_ / (std::string("mine.db") + suffix)).c_str());
  }
  Start(kMine);
  Submit(kMine, "pk-fwo", extraction("pk-fwo:F-901"));
  Submit(kMine, "pk-fwo", extraction("pk-fwo:F-902"));

  // Every peer holds the proof within seconds: the refiner, which follows the mine, and the
  // buyer, which heard it from the refiner.
  const auto forked = [&](size_t i) {
    const auto status = Status(i);
    for (const auto& fork : status.forks()) {
      if (fork.log_id() == "pk-fwo-log") return true;
    }
    return false;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (!(forked(kRefiner) && forked(kBuyer)) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(forked(kRefiner)) << Status(kRefiner).DebugString();
  ASSERT_TRUE(forked(kBuyer)) << Status(kBuyer).DebugString();
  const RunResult forks = Cairn({"forks", "--node", addresses_[kBuyer], "--json"});
  ASSERT_EQ(forks.exit_code, 0) << forks.err;
  const auto j = nlohmann::json::parse(forks.out);
  ASSERT_EQ(j["forks"].size(), 1u) << forks.out;
  EXPECT_EQ(j["forks"][0]["log_id"], "pk-fwo-log");
  // The refiner stopped replicating the mine's log, and kept only the history it verified.
  const auto refiner = Status(kRefiner);
  for (const auto& replica : refiner.replicas()) {
    if (replica.log_id() != "pk-fwo-log") continue;
    EXPECT_EQ(replica.state(), "stopped");
    EXPECT_EQ(replica.size(), 2u);
  }

  // A lineage through the forked log fails verification, naming the fork.
  const RunResult verified = Cairn({"verify", "--node", addresses_[kRefiner], "--lot",
                                    "pk-fwo:F-001", "--registry", world_->registry_path()});
  EXPECT_EQ(verified.exit_code, 1) << verified.out << verified.err;
  EXPECT_NE((verified.out + verified.err).find("fork"), std::string::npos)
      << verified.out << verified.err;
  // The mine's node itself is told that its key signed another history.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_NE(ReadFile(nodes_[kMine].stderr_path()).find("signed another history"),
            std::string::npos);
}

TEST_F(ConsortiumTest, AFollowerWaitsWithTheStreamOpenForAnEventOfALogItHasNotReplicatedYet) {
  TcpProxy link(addresses_[kMine]);  // the buyer's view of the mine's log
  Reroute(kBuyer, kMine, link);
  Submit(kMine, "pk-fwo", R"({"extraction": {"lot_id": "pk-fwo:CHG-2026-003", "site": {"id":
      "pk-fwo-chagai-01", "name": "Chagai", "country": "PK"}, "material": "REE concentrate",
      "mass_g": "25000000", "composition_ppm": {"Nd": 61700}}})");
  ASSERT_TRUE(WaitForReplica(kBuyer, "pk-fwo-log", 1));
  link.Pause();
  const std::string dispatch =
      Submit(kMine, "pk-fwo", DispatchJson("us-usm", "pk-fwo:CHG-2026-003", 25'000'000));
  ASSERT_TRUE(WaitForReplica(kRefiner, "pk-fwo-log", 2));
  Submit(kRefiner, "us-usm", ReceiptJson(dispatch, "pk-fwo:CHG-2026-003", 25'000'000));
  // The buyer has the receipt from the refiner but not yet the dispatch it answers: its follower
  // of the refiner's log waits rather than store an entry it cannot check.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::string state;
  uint64_t size = 0;
  while (state != "waiting for other logs" && std::chrono::steady_clock::now() < deadline) {
    const auto status = Status(kBuyer);
    for (const auto& replica : status.replicas()) {
      if (replica.log_id() == "us-usm-log") {
        state = replica.state();
        size = replica.size();
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(state, "waiting for other logs");
  EXPECT_EQ(size, 0u);
  link.Resume();
  EXPECT_TRUE(WaitForReplica(kBuyer, "us-usm-log", 1)) << Status(kBuyer).DebugString();
  const RunResult verified = Cairn(
      {"verify", "--log", "--node", addresses_[kBuyer], "--registry", world_->registry_path()});
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
}

}  // namespace
}  // namespace cairn::itest
