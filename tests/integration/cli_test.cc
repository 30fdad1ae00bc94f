// The cairn CLI as people and scripts use it, through the real binaries against a real cairnd:
// one exit code per kind of failure from every command, JSON error objects, remembered trust
// refusing a rollback and a fork, event-id prefixes, `submit --receive`, untrusted text escaped,
// and the messages a person can act on.
#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cairn/v1/bundle.pb.h"
#include "common/crypto.h"
#include "ledger/event.h"
#include "tests/integration/harness.h"
#include "tests/unit/test_world.h"

namespace cairn::itest {
namespace {

namespace fs = std::filesystem;
using cairn::testing::DispatchOf;
using cairn::testing::PakistanExtraction;

constexpr char kLot[] = "pk-fwo:CHG-2025-0001";
constexpr char kRlo[] = "\xE2\x80\xAE";  // U+202E RIGHT-TO-LEFT OVERRIDE

class CliTest : public WorldTest {
 protected:
  RunResult OnNode(std::vector<std::string> args, const std::string& stdin_data = "") {
    args.push_back("--node");
    args.push_back(world_->node().address());
    return Cairn(args, stdin_data);
  }
  std::string EventFile(const std::string& name, const cairn::v1::EventBody& body) {
    const std::string path = dir_ / name;
    std::string json;
    google::protobuf::util::JsonPrintOptions options;
    options.preserve_proto_field_names = true;
    EXPECT_TRUE(google::protobuf::util::MessageToJsonString(body, &json, options).ok());
    WriteFile(path, json);
    return path;
  }
  // Submits with the author's key; returns the event id.
  std::string Submit(const cairn::v1::EventBody& body, const std::string& name) {
    const RunResult r = OnNode(
        {"submit", "--key", world_->key_path(body.author()), "--json", EventFile(name, body)});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    if (r.exit_code != 0) return "";
    return nlohmann::json::parse(r.out).at(0).at("event_id");
  }
};

TEST_F(CliTest, ANodesAnswerExitsOneFromEveryCommandWithAJsonErrorObject) {
  const std::string absent(64, 'a');
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"get", absent, "--json"},
           {"lot", "pk-fwo:NO-SUCH-LOT", "--json"},
           {"prove", absent, "--registry", world_->registry_path(), "--json"},
           {"trace", "pk-fwo:NO-SUCH-LOT", "--json"}}) {
    const RunResult r = OnNode(args);
    EXPECT_EQ(r.exit_code, 1) << args[0] << ": " << r.out << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j.at("error").at("code"), "NOT_FOUND") << r.out;
    EXPECT_EQ(j.at("error").at("exit_code"), 1);
    EXPECT_FALSE(j.at("error").at("message").get<std::string>().empty());
    EXPECT_NE(r.err.find("cairn " + args[0] + ": NOT_FOUND: "), std::string::npos) << r.err;
  }
  // A refused submission: the error object, not an empty list of results.
  const std::string dispatch = EventFile("dispatch.json", DispatchOf("pk-fwo", "us-usm", kLot, 1));
  const RunResult refused =
      OnNode({"submit", "--key", world_->key_path("pk-fwo"), "--json", dispatch});
  EXPECT_EQ(refused.exit_code, 1) << refused.err;
  const auto j = nlohmann::json::parse(refused.out);
  EXPECT_EQ(j.at("error").at("code"), "FAILED_PRECONDITION") << refused.out;
  EXPECT_EQ(j.at("results"), nlohmann::json::array());
  // Usage errors exit 2, also with the object.
  const RunResult usage = OnNode({"get", "xyz", "--json"});
  EXPECT_EQ(usage.exit_code, 2);
  EXPECT_EQ(nlohmann::json::parse(usage.out).at("error").at("exit_code"), 2);
}

TEST_F(CliTest, AWrongRegistryGivesTheSameCodeAndAHintFromCheckpointProveAndVerify) {
  const std::string id = Submit(PakistanExtraction(), "x.json");
  // Another consortium's registry: the same participant and log names, other keys.
  TempDir other_dir;
  World other(other_dir);
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"checkpoint", "--registry", other.registry_path()},
           {"prove", id, "--registry", other.registry_path()},
           {"verify", "--log", "--registry", other.registry_path()},
           {"verify", "--lot", kLot, "--registry", other.registry_path()}}) {
    const RunResult r = OnNode(args);
    EXPECT_EQ(r.exit_code, 1) << args[0] << ": " << r.out << r.err;
    EXPECT_NE(r.err.find("is the consortium's current registry"), std::string::npos)
        << args[0] << ": " << r.out << r.err;
  }
}

// Keeps the node's database as it is now, to put back later (a node restored from an old
// backup, or one that rewrote its history).
class SavedDatabase {
 public:
  SavedDatabase(const std::string& db, const std::string& copy) : db_(db), copy_(copy) {
    for (const std::string suffix : {"", "-wal", "-shm"}) {
      if (fs::exists(db + suffix)) fs::copy_file(db + suffix, copy + suffix);
    }
  }
  void Restore() const {
    for (const std::string suffix : {"", "-wal", "-shm"}) {
      fs::remove(db_ + suffix);
      if (fs::exists(copy_ + suffix)) fs::copy_file(copy_ + suffix, db_ + suffix);
    }
  }

 private:
  const std::string db_, copy_;
};

TEST_F(CliTest, RememberedCheckpointsRefuseARollbackAndAFork) {
  const std::string state = dir_ / "state";
  const auto checkpoint = [&](const std::string& extra = "") {
    std::vector<std::string> args{"checkpoint", "--registry", world_->registry_path(),
                                  "--state",    state,        "--json"};
    if (!extra.empty()) args.push_back(extra);
    return OnNode(args);
  };
  Submit(PakistanExtraction("pk-fwo:A-1"), "a1.json");
  ASSERT_EQ(world_->node().Terminate(), 0);
  const SavedDatabase one(world_->db_path(), dir_ / "one.db");
  world_->StartNode();
  RunResult r = checkpoint();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out).at("state").at("outcome"), "first seen: remembered");
  Submit(PakistanExtraction("pk-fwo:A-2"), "a2.json");
  Submit(PakistanExtraction("pk-fwo:A-3"), "a3.json");
  r = checkpoint();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(nlohmann::json::parse(r.out).at("state").at("outcome").get<std::string>().find(
                "extends the checkpoint last verified"),
            std::string::npos)
      << r.out;

  // The node comes back from the backup of size 1: a rollback, refused, both checkpoints named.
  ASSERT_EQ(world_->node().Terminate(), 0);
  one.Restore();
  world_->StartNode();
  r = checkpoint();
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("rollback"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("size 3"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("size 1"), std::string::npos) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out).at("error").at("code"), "DATA_LOSS");
  // ... and by prove and verify alike, before they believe anything else.
  EXPECT_EQ(OnNode({"verify", "--log", "--registry", world_->registry_path(), "--state", state})
                .exit_code,
            1);
  // --no-state is a one-off look that neither checks nor remembers.
  EXPECT_EQ(OnNode({"checkpoint", "--registry", world_->registry_path(), "--no-state"}).exit_code,
            0);

  // It grows another history to size 3: a fork (same size, other root).
  Submit(PakistanExtraction("pk-fwo:B-2"), "b2.json");
  Submit(PakistanExtraction("pk-fwo:B-3"), "b3.json");
  r = checkpoint();
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("fork"), std::string::npos) << r.err;
  // And to size 4: it does not extend what was verified either.
  const std::string b4 = Submit(PakistanExtraction("pk-fwo:B-4"), "b4.json");
  r = checkpoint();
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("fork"), std::string::npos) << r.err;
  r = OnNode({"prove", b4, "--registry", world_->registry_path(), "--state", state});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("fork"), std::string::npos) << r.err;
  // The remembered checkpoint is still the one verified: size 3.
  const auto remembered = fs::directory_iterator(state)->path();
  EXPECT_NE(ReadFile(remembered).find("\"checkpoint\""), std::string::npos);
}

TEST_F(CliTest, UniquePrefixesAndIndexesNameEvents) {
  const std::string id = Submit(PakistanExtraction(), "x.json");
  RunResult r = OnNode({"get", id.substr(0, 8), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out).at("event_id"), id);
  // As people copy it from elsewhere: in capitals.
  std::string upper = id.substr(0, 10);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  r = OnNode({"get", upper, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out).at("event_id"), id);
  r = OnNode({"get", "--index", "0", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out).at("event_id"), id);
  r = OnNode({"prove", id.substr(0, 12), "--registry", world_->registry_path(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out).at("event_id"), id);
  // `log` prints ids in a form `get` accepts.
  r = OnNode({"log"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(id.substr(0, 16)), std::string::npos) << r.out;
  EXPECT_EQ(OnNode({"get", "--index", "7"}).exit_code, 1);
  EXPECT_EQ(OnNode({"get", id.substr(0, 7)}).exit_code, 2);  // too short to be a prefix

  // Two events whose ids share their first 8 hex characters (ground by their lot ids).
  // (Bytes, serialized once: a body's map field may serialize in another order another time.)
  std::map<std::string, std::string> by_prefix;
  std::vector<std::string> pair;
  for (int i = 0; pair.empty(); ++i) {
    const std::string bytes =
        PakistanExtraction("pk-fwo:G-" + std::to_string(i)).SerializeAsString();
    const std::string prefix = ToHex(ledger::EventId(bytes)).substr(0, 8);
    auto [it, fresh] = by_prefix.emplace(prefix, bytes);
    if (!fresh) pair = {it->second, bytes};
  }
  // Appended as signed here: through a JSON file the body would be serialized anew (its map in
  // another order) and get another id.
  const auto append = [&](const std::string& body) {
    const auto& k = world_->key("pk-fwo");
    cairn::v1::AppendRequest request;
    *request.mutable_event() = ledger::SignEvent(body, k.key_id, k.secret_key);
    cairn::v1::AppendResponse response;
    grpc::ClientContext context;
    SetDeadline(context);
    EXPECT_TRUE(world_->Stub()->Append(&context, request, &response).ok());
    return response.event_id();
  };
  const std::string first = append(pair[0]);
  const std::string second = append(pair[1]);
  ASSERT_EQ(first.substr(0, 8), second.substr(0, 8));
  r = OnNode({"get", first.substr(0, 8)});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("ambiguous"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(first), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(second), std::string::npos) << r.err;
  // One more character tells them apart (unless they share it too).
  size_t common = 8;
  while (first[common] == second[common]) ++common;
  r = OnNode({"get", second.substr(0, common + 1), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out).at("event_id"), second);
}

TEST_F(CliTest, SubmitReceiveBuildsTheReceiptOfADispatch) {
  Submit(PakistanExtraction(), "x.json");
  const std::string dispatch = Submit(DispatchOf("pk-fwo", "us-usm", kLot, 8'000'000), "d.json");
  // A lot the dispatch does not ship is refused before anything is signed.
  RunResult r = OnNode({"submit", "--key", world_->key_path("us-usm"), "--receive",
                        dispatch.substr(0, 10), "--lot", "pk-fwo:OTHER=5"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("not one of the lots"), std::string::npos) << r.err;
  // 15 kg short at the weighbridge.
  r = OnNode({"submit", "--key", world_->key_path("us-usm"), "--receive", dispatch.substr(0, 10),
              "--lot", std::string(kLot) + "=7985000", "--notes", "weighbridge ticket 4471",
              "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string receipt = nlohmann::json::parse(r.out).at(0).at("event_id");
  r = OnNode({"get", receipt, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto body = nlohmann::json::parse(r.out).at("body");
  EXPECT_EQ(body.at("author"), "us-usm");
  EXPECT_EQ(body.at("receipt").at("dispatch_event_id"), dispatch);
  EXPECT_EQ(body.at("receipt").at("lots").at(0).at("mass_g"), 7985000);
  EXPECT_EQ(body.at("receipt").at("notes"), "weighbridge ticket 4471");
  r = OnNode({"lot", kLot, "--json"});
  EXPECT_EQ(nlohmann::json::parse(r.out).at("transit_loss_mass_g"), 15000) << r.out;
  // Received once: the same again is the node's refusal.
  EXPECT_EQ(
      OnNode({"submit", "--key", world_->key_path("us-usm"), "--receive", dispatch}).exit_code, 1);
  // Not a dispatch.
  r = OnNode({"submit", "--key", world_->key_path("us-usm"), "--receive", receipt});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("not a dispatch"), std::string::npos) << r.err;
}

TEST_F(CliTest, BidiControlsAreRefusedInIdsAndEscapedWhenShown) {
  // In an id (the site's) or a name (the site's): refused, exit 1, nothing written, and the
  // refusal itself shows the character escaped.
  auto in_id = PakistanExtraction();
  in_id.mutable_extraction()->mutable_site()->set_id(std::string("pk-fwo-") + kRlo + "10-iagahc");
  auto in_name = PakistanExtraction();
  in_name.mutable_extraction()->mutable_site()->set_name(std::string("Chagai ") + kRlo +
                                                         "tcepsorp");
  for (const auto& body : {in_id, in_name}) {
    const RunResult refused =
        OnNode({"submit", "--key", world_->key_path("pk-fwo"), EventFile("bidi.json", body)});
    EXPECT_EQ(refused.exit_code, 1) << refused.err;
    EXPECT_NE(refused.err.find("bidirectional control character"), std::string::npos)
        << refused.err;
    EXPECT_NE(refused.err.find("\\u202e"), std::string::npos) << refused.err;
    EXPECT_EQ(refused.err.find(kRlo), std::string::npos) << "shown raw: " << refused.err;
  }
  EXPECT_EQ(LogSize(*world_->Stub()), 0u);
  // In free text (a receipt's notes) it is accepted, and shown escaped; JSON stays exact.
  Submit(PakistanExtraction(), "x.json");
  const std::string dispatch = Submit(DispatchOf("pk-fwo", "us-usm", kLot, 8'000'000), "d.json");
  RunResult r = OnNode({"submit", "--key", world_->key_path("us-usm"), "--receive", dispatch,
                        "--notes", std::string("ticket ") + kRlo + "1744", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string receipt = nlohmann::json::parse(r.out).at(0).at("event_id");
  r = OnNode({"get", receipt});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find(kRlo), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\\u202e"), std::string::npos) << r.out;
  r = OnNode({"get", receipt, "--json"});
  EXPECT_EQ(nlohmann::json::parse(r.out).at("body").at("receipt").at("notes"),
            std::string("ticket ") + kRlo + "1744");
}

TEST_F(CliTest, MessagesSayWhatToDo) {
  RunResult r = Cairn({"lgo"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown command 'lgo' (did you mean 'log'?)"), std::string::npos) << r.err;
  r = Cairn({"get", "--jsno", "abcdef12"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("did you mean '--json'?"), std::string::npos) << r.err;
  r = Cairn({"version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("cairn ", 0), 0u) << r.out;
  r = RunProcess({CAIRND_PATH, "--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("cairnd ", 0), 0u) << r.out;
  // Bad JSON: line and column.
  WriteFile(dir_ / "bad.json", "{\n  \"extraction\": {\n    \"lot_id\": \"pk-fwo:X\",,\n  }\n}\n");
  r = OnNode({"submit", "--key", world_->key_path("pk-fwo"), dir_ / "bad.json"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("line 3, column"), std::string::npos) << r.err;
  // A file that is not there: the OS's reason.
  r = OnNode({"submit", "--key", world_->key_path("pk-fwo"), dir_ / "missing.json"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("No such file or directory"), std::string::npos) << r.err;
  // Nobody listening: the address tried and how to choose another.
  const std::string nobody = "127.0.0.1:" + std::to_string(FreePort());
  r = Cairn({"log", "--node", nobody, "--timeout", "3"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("cannot reach node " + nobody + " (from --node)"), std::string::npos)
      << r.err;
  EXPECT_EQ(r.out, "") << "no header before the node answered";
}

TEST_F(CliTest, OutputsAreNotOverwrittenWithoutForceAndDashIsStdout) {
  Submit(PakistanExtraction(), "x.json");
  const std::string bundle = dir_ / "lot.bundle";
  RunResult r = OnNode({"export", kLot, "-o", bundle, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out).at("entries"), 1);
  const std::string first = ReadFile(bundle);
  r = OnNode({"export", kLot, "--output", bundle});
  EXPECT_EQ(r.exit_code, 2) << r.err;  // a usage error: it refuses to overwrite
  EXPECT_NE(r.err.find("--force"), std::string::npos) << r.err;
  EXPECT_EQ(OnNode({"export", kLot, "-o", bundle, "--force", "--format", "json"}).exit_code, 0);
  EXPECT_NE(ReadFile(bundle), first);
  r = OnNode({"export", kLot, "-o", "-"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  cairn::v1::EvidenceBundle streamed;  // the binary bundle on stdout, unaltered
  ASSERT_TRUE(streamed.ParseFromString(r.out));
  EXPECT_EQ(streamed.entries_size(), 1);
  EXPECT_EQ(streamed.lot_id(), kLot);
  // checkpoint -o the same way; --quiet prints nothing.
  const std::string saved = dir_ / "cp.json";
  EXPECT_EQ(OnNode({"checkpoint", "-o", saved}).exit_code, 0);
  EXPECT_EQ(OnNode({"checkpoint", "-o", saved}).exit_code, 2);
  r = OnNode({"verify", "--log", "--registry", world_->registry_path(), "--quiet"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out + r.err, "");
  // A bundle read from stdin.
  r = OnNode({"verify", "--bundle", "-", "--registry", world_->registry_path(), "--quiet"}, first);
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

}  // namespace
}  // namespace cairn::itest
