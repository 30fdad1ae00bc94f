// cairnd's logs at their most verbose (trace), read back: every line on stderr is one JSON object
// (ts, level, msg), and no secret ever appears — not the node key's secret (hex, base64, the
// seed), not its passphrase, not the sealed ciphertext — through start, appends, refusals,
// garbage and stop; nor in the error of a wrong passphrase.
#include <gtest/gtest.h>
#include <sodium.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "keys/key_file.h"
#include "ledger/event.h"
#include "tests/integration/harness.h"
#include "tests/unit/test_world.h"

namespace cairn::itest {
namespace {

using cairn::testing::PakistanExtraction;

std::string Hex(const std::string& bytes, bool upper = false) {
  static const char* lower_digits = "0123456789abcdef";
  static const char* upper_digits = "0123456789ABCDEF";
  const char* digits = upper ? upper_digits : lower_digits;
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::string Base64(const std::string& bytes) {
  std::string out(sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.find('\0'));
  return out;
}

TEST(LoggingTest, TraceLogsAreJsonLinesAndNeverHoldTheNodeKeyOrItsPassphrase) {
  TempDir dir;
  World world(dir);
  world.StartNode({"pk-fwo"});
  ASSERT_EQ(world.node().Terminate(), 0);
  auto key = keys::ReadSigningKey(dir / "keys/demo-log.key", std::nullopt);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  const std::string passphrase = "Chagai-Balochistan-2025 correct horse";
  ASSERT_TRUE(keys::WriteKeyFiles(dir / "sealed", *key, passphrase).ok());
  WriteFile(dir / "node.pass", passphrase + "\n");
  const std::string sealed_file = ReadFile(dir / "sealed/demo-log.key");
  const auto sealed = nlohmann::json::parse(sealed_file);
  ASSERT_TRUE(sealed.contains("sealed"));
  const std::string config =
      "listen = \"127.0.0.1:0\"\ndb = \"node.db\"\nlog_id = \"demo-log\"\n"
      "node_key = \"sealed/demo-log.key\"\nnode_key_passphrase_file = \"node.pass\"\n"
      "registry = \"registry.json\"\nparticipants = [\"pk-fwo\"]\nlog_level = \"trace\"\n";
  WriteFile(dir / "trace.toml", config);
  NodeProcess node;
  std::string error;
  ASSERT_TRUE(node.Start(dir / "trace.toml", &error)) << error;
  {
    auto stub = cairn::v1::Ledger::NewStub(
        grpc::CreateChannel(node.address(), grpc::InsecureChannelCredentials()));
    const auto& pk = world.key("pk-fwo");
    for (const auto& event :
         {ledger::SignEvent(PakistanExtraction().SerializeAsString(), pk.key_id, pk.secret_key),
          ledger::SignEvent(PakistanExtraction("pk-fwo:CHG-2").SerializeAsString(),
                            world.key("us-usm").key_id, world.key("us-usm").secret_key)}) {
      cairn::v1::AppendRequest request;
      *request.mutable_event() = event;
      cairn::v1::AppendResponse response;
      grpc::ClientContext context;
      SetDeadline(context);
      (void)stub->Append(&context, request, &response);
    }
    EXPECT_EQ(LogSize(*stub), 1u);
  }
  // Garbage on the wire, from a client we did not write.
  const RunResult hostile = RunProcess({"/usr/bin/python3", HOSTILE_CLIENT, node.address(),
                                        std::to_string(node.pid()), "--calls", "20"});
  EXPECT_EQ(hostile.exit_code, 0) << hostile.err;
  ASSERT_EQ(node.Terminate(), 0);

  const std::string err = ReadFile(node.stderr_path());
  const std::string out = ReadFile(dir / "trace.toml.stdout");
  std::istringstream lines(err);
  int parsed = 0;
  bool saw_request = false;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    nlohmann::json object;
    ASSERT_NO_THROW(object = nlohmann::json::parse(line)) << line;
    ASSERT_TRUE(object.is_object()) << line;
    EXPECT_TRUE(object.contains("ts") && object.contains("level") && object.contains("msg"))
        << line;
    saw_request = saw_request || object.value("msg", "") == "request";
    ++parsed;
  }
  EXPECT_GT(parsed, 3);
  EXPECT_TRUE(saw_request) << err;

  const std::string& secret = key->secret_key;
  const std::vector<std::pair<std::string, std::string>> secrets = {
      {"passphrase", passphrase},
      {"secret key, hex", Hex(secret)},
      {"secret key, HEX", Hex(secret, true)},
      {"secret key, base64", Base64(secret)},
      {"seed, hex", Hex(secret.substr(0, 32))},
      {"seed, base64", Base64(secret.substr(0, 32))},
      {"sealed ciphertext", sealed["sealed"]["ciphertext"].get<std::string>()},
      {"raw secret bytes", secret.substr(0, 16)},
  };
  for (const auto& [what, text] : secrets) {
    EXPECT_EQ(err.find(text), std::string::npos) << what << " in stderr";
    EXPECT_EQ(out.find(text), std::string::npos) << what << " in stdout";
  }

  // A wrong passphrase: refused, naming the file, never echoing what was tried or the secret.
  WriteFile(dir / "node.pass", "not the passphrase\n");
  const RunResult wrong = RunProcess({CAIRND_PATH, "--config", dir / "trace.toml"});
  EXPECT_EQ(wrong.exit_code, 2) << wrong.out << wrong.err;
  EXPECT_EQ(wrong.err.find("not the passphrase"), std::string::npos) << wrong.err;
  EXPECT_EQ(wrong.err.find(Hex(secret)), std::string::npos);
  EXPECT_EQ(wrong.err.find(sealed["sealed"]["ciphertext"].get<std::string>()), std::string::npos);
}

}  // namespace
}  // namespace cairn::itest
