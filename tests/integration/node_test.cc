// End-to-end tests of cairnd and the cairn CLI as separate processes on loopback.
#include <google/protobuf/util/json_util.h>
#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "common/clock.h"
#include "ledger/event.h"
#include "tests/integration/harness.h"
#include "tests/unit/test_world.h"

namespace cairn::itest {
namespace {

using cairn::testing::DispatchOf;
using cairn::testing::PakistanExtraction;
using cairn::testing::ReceiptOf;
using cairn::testing::Separation;

constexpr char kLot[] = "pk-fwo:CHG-2025-0001";

class NodeTest : public WorldTest {
 protected:
  void SetUp() override {
    WorldTest::SetUp();
    stub_ = world_->Stub();
  }

  cairn::v1::SignedEvent SignAs(const std::string& who, const cairn::v1::EventBody& body) {
    return world_->Sign(body, who);
  }
  cairn::v1::SignedEvent Signed(const cairn::v1::EventBody& body) { return world_->Sign(body); }

  grpc::Status Append(const cairn::v1::SignedEvent& event,
                      cairn::v1::AppendResponse* response = nullptr) {
    return AppendSigned(*stub_, event, response);
  }

  // Appends and expects success; returns the event id.
  std::string MustAppend(const cairn::v1::EventBody& body) {
    cairn::v1::AppendResponse response;
    const grpc::Status s = Append(Signed(body), &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response.event_id();
  }

  uint64_t LogSize() { return itest::LogSize(*stub_); }

  RunResult VerifyLog() {
    return Cairn({"verify", "--log", "--node", world_->node().address(), "--registry",
                  world_->registry_path()});
  }

  // Extraction, dispatch of 8 t to us-usm, receipt: us-usm then holds 8 t of kLot.
  std::string ShipToUsm() {
    MustAppend(PakistanExtraction());
    const std::string dispatch = MustAppend(DispatchOf("pk-fwo", "us-usm", kLot, 8'000'000));
    MustAppend(ReceiptOf("us-usm", dispatch, kLot, 8'000'000));
    return dispatch;
  }

  std::unique_ptr<cairn::v1::Ledger::Stub> stub_;
};

std::string BodyJson(const cairn::v1::EventBody& body) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  EXPECT_TRUE(google::protobuf::util::MessageToJsonString(body, &json, options).ok());
  return json;
}

TEST_F(NodeTest, SubmitsThroughCliAndReadsBack) {
  auto body = PakistanExtraction();
  body.clear_author();  // the CLI takes it from the key file
  WriteFile(dir_ / "extraction.json", BodyJson(body));
  const std::string node = world_->node().address();
  RunResult r = Cairn({"submit", "--node", node, "--key", world_->key_path("pk-fwo"), "--json",
                       dir_ / "extraction.json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto submitted = nlohmann::json::parse(r.out);
  ASSERT_EQ(submitted.size(), 1u);
  const std::string event_id = submitted[0]["event_id"];
  EXPECT_EQ(submitted[0]["index"], 0);
  EXPECT_EQ(submitted[0]["tree_size"], 1);

  r = Cairn({"get", event_id, "--node", node, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto got = nlohmann::json::parse(r.out);
  EXPECT_EQ(got["author"], "pk-fwo");
  EXPECT_EQ(got["kind"], "Extraction");
  EXPECT_EQ(got["body"]["extraction"]["lot_id"], kLot);
  EXPECT_EQ(got["key_id"], world_->key("pk-fwo").key_id);

  r = Cairn({"lot", kLot, "--node", node, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto lot = nlohmann::json::parse(r.out);
  EXPECT_EQ(lot["remaining_mass_g"], 20000000);  // masses are JSON numbers everywhere
  EXPECT_EQ(lot["consumed_mass_g"], 0);          // zero-valued fields are printed
  EXPECT_EQ(lot["holdings"][0]["holder"], "pk-fwo");

  r = Cairn({"log", "--node", node, "--json"});  // JSON Lines: one entry a line
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  EXPECT_EQ(nlohmann::json::parse(r.out)["event_id"], event_id);

  r = Cairn({"checkpoint", "--node", node, "--registry", world_->registry_path(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["size"], 1);
  EXPECT_EQ(nlohmann::json::parse(r.out)["verified"], true);

  r = VerifyLog();
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST_F(NodeTest, CliRefusalExitsOneWithTheRule) {
  ShipToUsm();
  // jp-magnets never received the lot.
  auto dispatch = DispatchOf("jp-magnets", "us-usm", kLot, 1'000);
  WriteFile(dir_ / "dispatch.json", BodyJson(dispatch));
  const RunResult r = Cairn({"submit", "--node", world_->node().address(), "--key",
                             world_->key_path("jp-magnets"), dir_ / "dispatch.json"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("FAILED_PRECONDITION"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("jp-magnets does not hold lot"), std::string::npos) << r.err;
}

TEST_F(NodeTest, RefusesEachRuleWithItsStatusAndWritesNothing) {
  const std::string dispatch = ShipToUsm();
  const uint64_t size = LogSize();
  struct Case {
    const char* rule;
    cairn::v1::SignedEvent event;
    grpc::StatusCode code;
    const char* names;
  };
  std::vector<Case> cases;
  {  // schema: zero mass
    cases.push_back({"zero mass", Signed(PakistanExtraction("pk-fwo:ZERO", 0)),
                     grpc::StatusCode::INVALID_ARGUMENT, "Extraction.mass_g"});
  }
  {  // schema: unknown country
    auto b = PakistanExtraction("pk-fwo:XX");
    b.mutable_extraction()->mutable_site()->set_country("XX");
    cases.push_back({"country", Signed(b), grpc::StatusCode::INVALID_ARGUMENT, "site.country"});
  }
  {  // schema: in the future
    auto b = PakistanExtraction("pk-fwo:FUTURE");
    *b.mutable_occurred_at() = FromMicros(SystemClock().NowMicros() + 3600LL * 1000000);
    cases.push_back({"future", Signed(b), grpc::StatusCode::INVALID_ARGUMENT, "occurred_at"});
  }
  {  // forged signature
    auto e = Signed(PakistanExtraction("pk-fwo:FORGED"));
    std::string sig = e.signature();
    sig[5] ^= 1;
    e.set_signature(sig);
    cases.push_back({"forged", e, grpc::StatusCode::UNAUTHENTICATED, "SignedEvent.signature"});
  }
  {  // unknown key
    auto e = Signed(PakistanExtraction("pk-fwo:UNKNOWNKEY"));
    const KeyPair stranger = GenerateKeyPair();
    e.set_key_id(KeyIdOf(stranger.public_key));
    e.set_signature(Sign(stranger.secret_key, kEventDomain, e.body()));
    cases.push_back({"unknown key", e, grpc::StatusCode::UNAUTHENTICATED, "SignedEvent.key_id"});
  }
  {  // another participant's key
    cases.push_back({"wrong key", SignAs("us-usm", PakistanExtraction("pk-fwo:WRONGKEY")),
                     grpc::StatusCode::PERMISSION_DENIED, "belongs to"});
  }
  {  // role: a processor may not extract
    auto b = PakistanExtraction("us-usm:ROLE");
    b.set_author("us-usm");
    cases.push_back({"role", Signed(b), grpc::StatusCode::PERMISSION_DENIED, "needs role MINE"});
  }
  {  // author not hosted by this node
    auto b = DispatchOf("mm-kia-trading", "us-usm", "mm-kia-trading:L1", 5);
    cases.push_back({"not hosted", Signed(b), grpc::StatusCode::PERMISSION_DENIED, "not hosted"});
  }
  {  // custody: dispatch of a lot the sender does not hold
    cases.push_back({"custody", Signed(DispatchOf("jp-magnets", "us-usm", kLot, 5)),
                     grpc::StatusCode::FAILED_PRECONDITION, "does not hold lot"});
  }
  {  // over-consumption
    cases.push_back({"over-consumption",
                     Signed(Separation("us-usm", kLot, 8'000'001, "us-usm:NDPR-X", 1'000'000)),
                     grpc::StatusCode::FAILED_PRECONDITION, "Transformation.inputs[0].mass_g"});
  }
  {  // unknown reference
    auto b = PakistanExtraction("pk-fwo:REF");
    b.add_refs()->set_event_id(std::string(64, 'e'));
    cases.push_back({"unknown ref", Signed(b), grpc::StatusCode::FAILED_PRECONDITION, "refs[0]"});
  }
  {  // lot created twice
    auto b = PakistanExtraction();
    b.mutable_extraction()->set_mass_g(1);
    cases.push_back(
        {"lot twice", Signed(b), grpc::StatusCode::ALREADY_EXISTS, "Extraction.lot_id"});
  }
  {  // receipt twice
    auto b = ReceiptOf("us-usm", dispatch, kLot, 7'000'000);
    cases.push_back(
        {"receipt twice", Signed(b), grpc::StatusCode::ALREADY_EXISTS, "already received"});
  }
  {  // receipt of a dispatch addressed to someone else
    auto b = ReceiptOf("jp-magnets", dispatch, kLot, 7'000'000);
    cases.push_back({"receipt not addressed", Signed(b), grpc::StatusCode::PERMISSION_DENIED,
                     "addressed to us-usm"});
  }
  for (const auto& c : cases) {
    const grpc::Status s = Append(c.event);
    EXPECT_EQ(s.error_code(), c.code) << c.rule << ": " << s.error_message();
    EXPECT_NE(s.error_message().find(c.names), std::string::npos)
        << c.rule << ": \"" << s.error_message() << "\" does not name " << c.names;
  }
  EXPECT_EQ(LogSize(), size);
  EXPECT_EQ(VerifyLog().exit_code, 0);
}

TEST_F(NodeTest, ReappendingTheSameSignedEventReturnsTheExistingEntry) {
  const auto event = Signed(PakistanExtraction());
  cairn::v1::AppendResponse first, second;
  ASSERT_TRUE(Append(event, &first).ok());
  ASSERT_TRUE(Append(event, &second).ok());
  EXPECT_FALSE(first.duplicate());
  EXPECT_TRUE(second.duplicate());
  EXPECT_EQ(first.index(), second.index());
  EXPECT_EQ(first.event_id(), second.event_id());
  EXPECT_EQ(first.entry(), second.entry());
  EXPECT_EQ(LogSize(), 1u);
}

TEST_F(NodeTest, AppendBatchIsAllOrNothing) {
  cairn::v1::AppendBatchRequest request;
  *request.add_events() = Signed(PakistanExtraction());
  *request.add_events() = Signed(DispatchOf("pk-fwo", "us-usm", kLot, 30'000'000));  // too much
  cairn::v1::AppendBatchResponse response;
  {
    grpc::ClientContext context;
    SetDeadline(context);
    const grpc::Status s = stub_->AppendBatch(&context, request, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_NE(s.error_message().find("events[1]"), std::string::npos) << s.error_message();
  }
  EXPECT_EQ(LogSize(), 0u);
  request.mutable_events(1)->CopyFrom(Signed(DispatchOf("pk-fwo", "us-usm", kLot, 20'000'000)));
  grpc::ClientContext context;
  SetDeadline(context);
  ASSERT_TRUE(stub_->AppendBatch(&context, request, &response).ok());
  EXPECT_EQ(response.results_size(), 2);
  EXPECT_EQ(response.results(1).index(), 1u);
  EXPECT_EQ(LogSize(), 2u);
}

// A batch whose answer (entries, proofs, checkpoints) would not fit in one message is refused
// before anything is written: an OK answer and a commit always go together.
TEST_F(NodeTest, ABatchWhoseAnswerWouldNotFitIsRefusedAndWritesNothing) {
  cairn::v1::AppendBatchRequest request;
  for (int i = 0; i < 1000; ++i) {
    auto body = PakistanExtraction("pk-fwo:BIG-" + std::to_string(i), 1000);
    // ~4 KB of assay notes each: the request stays under 4 MiB, its answer would not.
    for (int d = 0; d < 3; ++d) {
      auto* doc = body.mutable_extraction()->add_documents();
      doc->set_kind("assay");
      doc->set_uri("https://lab.example/" + std::string(900, 'a'));
      doc->set_sha256(std::string(64, 'b'));
    }
    *request.add_events() = Signed(body);
  }
  ASSERT_LT(request.ByteSizeLong(), 4u * 1024 * 1024);
  cairn::v1::AppendBatchResponse response;
  grpc::ClientContext context;
  SetDeadline(context, 30);
  const grpc::Status s = stub_->AppendBatch(&context, request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_NE(s.error_message().find("nothing was written"), std::string::npos) << s.error_message();
  EXPECT_EQ(LogSize(), 0u);
  // Half of it fits, and is answered in full.
  request.mutable_events()->DeleteSubrange(500, 500);
  cairn::v1::AppendBatchResponse half;
  grpc::ClientContext again;
  SetDeadline(again, 30);
  const grpc::Status ok = stub_->AppendBatch(&again, request, &half);
  ASSERT_TRUE(ok.ok()) << ok.error_message();
  EXPECT_EQ(half.results_size(), 500);
  EXPECT_EQ(LogSize(), 500u);
}

TEST_F(NodeTest, EightConcurrentSubmittersAllLand) {
  constexpr int kClients = 8;
  constexpr int kPerClient = 25;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  std::mutex mu;
  std::set<uint64_t> indexes;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      auto stub = world_->Stub();
      for (int i = 0; i < kPerClient; ++i) {
        const std::string lot = "pk-fwo:C" + std::to_string(c) + "-" + std::to_string(i);
        cairn::v1::AppendRequest request;
        *request.mutable_event() = Signed(PakistanExtraction(lot, 1'000'000));
        cairn::v1::AppendResponse response;
        grpc::ClientContext context;
        SetDeadline(context, 30);
        if (!stub->Append(&context, request, &response).ok()) {
          ++failures;
          continue;
        }
        std::lock_guard<std::mutex> lock(mu);
        indexes.insert(response.index());
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(indexes.size(), static_cast<size_t>(kClients * kPerClient));
  EXPECT_EQ(*indexes.rbegin(), static_cast<uint64_t>(kClients * kPerClient - 1));
  EXPECT_EQ(LogSize(), static_cast<uint64_t>(kClients * kPerClient));
  const RunResult r = VerifyLog();
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST_F(NodeTest, KillNineDuringAppendsLosesNothingAcknowledged) {
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<std::string> acknowledged;
  std::vector<std::thread> threads;
  for (int c = 0; c < 4; ++c) {
    threads.emplace_back([&, c] {
      auto stub = world_->Stub();
      for (int i = 0; !stop.load(); ++i) {
        const std::string lot = "pk-fwo:K" + std::to_string(c) + "-" + std::to_string(i);
        cairn::v1::AppendRequest request;
        *request.mutable_event() = Signed(PakistanExtraction(lot, 1'000'000));
        cairn::v1::AppendResponse response;
        grpc::ClientContext context;
        SetDeadline(context, 5);
        if (stub->Append(&context, request, &response).ok()) {
          std::lock_guard<std::mutex> lock(mu);
          acknowledged.push_back(response.event_id());
        } else {
          return;  // the node is gone
        }
      }
    });
  }
  // Let appends flow, then kill the node mid-stream.
  for (int i = 0; i < 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::lock_guard<std::mutex> lock(mu);
    if (acknowledged.size() >= 150) break;
  }
  world_->node().Kill9();
  stop = true;
  for (auto& t : threads) t.join();
  ASSERT_GT(acknowledged.size(), 0u);

  std::string error;
  ASSERT_TRUE(world_->node().Start(world_->config_path(), &error)) << error;
  stub_ = world_->Stub();
  for (const std::string& id : acknowledged) {
    cairn::v1::GetEventRequest request;
    request.set_event_id(id);
    cairn::v1::GetEventResponse response;
    grpc::ClientContext context;
    SetDeadline(context);
    ASSERT_TRUE(stub_->GetEvent(&context, request, &response).ok()) << "lost acknowledged " << id;
  }
  EXPECT_GE(LogSize(), acknowledged.size());
  const RunResult r = VerifyLog();
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST_F(NodeTest, SigtermStopsCleanlyAndRestartKeepsEverything) {
  ShipToUsm();
  EXPECT_EQ(world_->node().Terminate(), 0);
  std::string error;
  ASSERT_TRUE(world_->node().Start(world_->config_path(), &error)) << error;
  stub_ = world_->Stub();
  EXPECT_EQ(LogSize(), 3u);
  EXPECT_EQ(VerifyLog().exit_code, 0);
}

TEST_F(NodeTest, MalformedInputGetsAClearErrorAndChangesNothing) {
  MustAppend(PakistanExtraction());
  std::mt19937 rng(42);
  cairn::v1::SignedEvent random_event;
  std::string junk(512, '\0');
  for (char& ch : junk) ch = static_cast<char>(rng());
  random_event.set_body(junk);
  random_event.set_key_id(world_->key("pk-fwo").key_id);
  random_event.set_signature(std::string(64, 'x'));
  grpc::Status s = Append(random_event);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();

  auto truncated = Signed(PakistanExtraction("pk-fwo:TRUNC"));
  truncated.set_body(truncated.body().substr(0, truncated.body().size() / 2));
  s = Append(truncated);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();

  cairn::v1::SignedEvent huge = Signed(PakistanExtraction("pk-fwo:HUGE"));
  huge.set_body(std::string(10 * 1024 * 1024, 'a'));
  s = Append(huge);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();

  // Raw bytes that are not a protobuf at all, through a generic stub.
  grpc::GenericStub generic(
      grpc::CreateChannel(world_->node().address(), grpc::InsecureChannelCredentials()));
  {
    grpc::ClientContext context;
    SetDeadline(context);
    const std::string garbage = "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff not a message";
    grpc::Slice slice(garbage);
    grpc::ByteBuffer request(&slice, 1), response;
    std::mutex m;
    std::condition_variable cv;
    bool done = false;
    grpc::Status status;
    generic.UnaryCall(&context, "/cairn.v1.Ledger/Append", grpc::StubOptions(), &request, &response,
                      [&](grpc::Status st) {
                        std::lock_guard<std::mutex> lock(m);
                        status = st;
                        done = true;
                        cv.notify_one();
                      });
    std::unique_lock<std::mutex> lock(m);
    cv.wait(lock, [&] { return done; });
    EXPECT_FALSE(status.ok());
  }

  EXPECT_EQ(LogSize(), 1u);  // the node is still up and wrote nothing
  EXPECT_EQ(VerifyLog().exit_code, 0);
}

// grpc.health.v1.Health/Check through a generic stub: an empty HealthCheckRequest (overall
// health) answered by HealthCheckResponse{status: SERVING}, which serializes as 08 01.
TEST_F(NodeTest, AnswersGrpcHealthChecks) {
  grpc::GenericStub generic(
      grpc::CreateChannel(world_->node().address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  SetDeadline(context);
  grpc::Slice empty("");
  grpc::ByteBuffer request(&empty, 1), response;
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  grpc::Status status;
  generic.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request,
                    &response, [&](grpc::Status st) {
                      std::lock_guard<std::mutex> lock(m);
                      status = st;
                      done = true;
                      cv.notify_one();
                    });
  std::unique_lock<std::mutex> lock(m);
  cv.wait(lock, [&] { return done; });
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(response.Dump(&slices).ok());
  std::string bytes;
  for (const auto& slice : slices)
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  EXPECT_EQ(bytes, std::string("\x08\x01", 2));  // status: SERVING
}

}  // namespace
}  // namespace cairn::itest
