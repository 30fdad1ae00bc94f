// TLS between cairnd and its clients, with certificates the test makes with openssl: mutual TLS
// admits only certificates of the consortium CA, the CLI takes --ca/--cert/--key or CAIRN_CA etc.,
// and a bad [tls] section is refused before any file is touched.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/integration/harness.h"

namespace cairn::itest {
namespace {

class TlsTest : public WorldTest {
 protected:
  void SetUp() override {
    WorldTest::SetUp();
    pki_ = MakeTestPki(dir_ / "pki");
    ASSERT_EQ(world_->node().Terminate(), 0);
  }
  // node.toml with a [tls] section of `lines` appended, as `name`.
  std::string ConfigWithTls(const std::string& name, const std::string& lines) {
    const std::string path = dir_ / name;
    WriteFile(path, ReadFile(world_->config_path()) + "[tls]\n" + lines);
    return path;
  }
  std::string MutualTls() {
    return "cert = \"" + pki_.node_cert + "\"\nkey = \"" + pki_.node_key + "\"\nca = \"" + pki_.ca +
           "\"\nrequire_client_cert = true\n";
  }
  RunResult Checkpoint(const std::vector<std::string>& tls) {
    std::vector<std::string> args = {"checkpoint", "--node", node_.address(),
                                     "--timeout",  "5",      "--json"};
    args.insert(args.end(), tls.begin(), tls.end());
    return Cairn(args);
  }

  TestPki pki_;
  NodeProcess node_;
};

TEST_F(TlsTest, AMutualTlsNodeAdmitsOnlyClientsWithACertificateOfTheConsortiumCa) {
  std::string error;
  ASSERT_TRUE(node_.Start(ConfigWithTls("tls.toml", MutualTls()), &error)) << error;
  EXPECT_NE(ReadFile(node_.stderr_path()).find(R"("tls":"mutual")"), std::string::npos);

  const RunResult ok =
      Checkpoint({"--ca", pki_.ca, "--cert", pki_.client_cert, "--key", pki_.client_key});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("\"log_id\": \"demo-log\""), std::string::npos) << ok.out;

  // No client certificate; plaintext; a certificate of another CA: refused, exit 2.
  const RunResult anonymous = Checkpoint({"--ca", pki_.ca});
  EXPECT_EQ(anonymous.exit_code, 2) << anonymous.out;
  EXPECT_NE(anonymous.err.find("cannot reach node"), std::string::npos) << anonymous.err;
  EXPECT_EQ(Checkpoint({}).exit_code, 2);
  const TestPki rogue = MakeTestPki(dir_ / "rogue", "rogue");
  EXPECT_EQ(Checkpoint({"--ca", pki_.ca, "--cert", rogue.client_cert, "--key", rogue.client_key})
                .exit_code,
            2);
  // A client that trusts another CA does not accept the node's certificate.
  EXPECT_EQ(Checkpoint({"--ca", rogue.ca, "--cert", rogue.client_cert, "--key", rogue.client_key})
                .exit_code,
            2);

  // The environment stands in for the flags.
  setenv("CAIRN_CA", pki_.ca.c_str(), 1);
  setenv("CAIRN_CERT", pki_.client_cert.c_str(), 1);
  setenv("CAIRN_KEY", pki_.client_key.c_str(), 1);
  const RunResult from_env = Checkpoint({});
  unsetenv("CAIRN_CA");
  unsetenv("CAIRN_CERT");
  unsetenv("CAIRN_KEY");
  EXPECT_EQ(from_env.exit_code, 0) << from_env.err;

  // The CLI checks its own options first.
  const RunResult half = Checkpoint({"--ca", pki_.ca, "--cert", pki_.client_cert});
  EXPECT_EQ(half.exit_code, 2);
  EXPECT_NE(half.err.find("--cert-key"), std::string::npos) << half.err;
  const RunResult not_pem = Checkpoint({"--ca", world_->config_path()});
  EXPECT_EQ(not_pem.exit_code, 2);
  EXPECT_NE(not_pem.err.find("holds no PEM block"), std::string::npos) << not_pem.err;
  EXPECT_EQ(node_.Terminate(), 0);
}

TEST_F(TlsTest, ServerOnlyTlsAcceptsAnyClientThatTrustsTheCa) {
  std::string error;
  ASSERT_TRUE(node_.Start(ConfigWithTls("tls.toml", "cert = \"" + pki_.node_cert + "\"\nkey = \"" +
                                                        pki_.node_key + "\"\n"),
                          &error))
      << error;
  EXPECT_EQ(Checkpoint({"--ca", pki_.ca}).exit_code, 0);
  EXPECT_EQ(Checkpoint({}).exit_code, 2) << "a plaintext client does not reach a TLS node";
  EXPECT_EQ(node_.Terminate(), 0);
}

TEST_F(TlsTest, ABadTlsSectionIsRefusedBeforeAnyFileIsTouched) {
  const std::string db = world_->db_path();
  const auto modified = std::filesystem::last_write_time(db);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"cert = \"" + pki_.node_cert + "\"\n", "tls.cert: given without tls.key"},
      {"cert = \"" + pki_.node_cert + "\"\nkey = \"" + pki_.node_key +
           "\"\nrequire_client_cert = true\n",
       "tls.require_client_cert: needs tls.ca"},
      {"cert = \"" + pki_.node_cert + "\"\nkey = \"" + pki_.node_key + "\"\nca = \"" +
           world_->config_path() + "\"\n",
       "holds no PEM block"},
      {"cert = \"" + pki_.node_cert + "\"\nkey = \"missing.key\"\n", "tls.key: cannot read"},
      {"certificate = \"x\"\n", "unknown key"},
  };
  for (const auto& [lines, want] : cases) {
    SCOPED_TRACE(lines);
    std::string error;
    EXPECT_FALSE(node_.Start(ConfigWithTls("bad.toml", lines), &error));
    EXPECT_NE(error.find(want), std::string::npos) << error;
  }
  EXPECT_EQ(std::filesystem::last_write_time(db), modified);
}

TEST_F(TlsTest, PlaintextBeyondLoopbackIsServedWithAWarning) {
  std::string text = ReadFile(world_->config_path());
  text.replace(text.find("127.0.0.1:0"), 11, "0.0.0.0:0");
  const std::string path = dir_ / "open.toml";
  WriteFile(path, text);
  std::string error;
  ASSERT_TRUE(node_.Start(path, &error)) << error;
  EXPECT_NE(ReadFile(node_.stderr_path()).find("serving plaintext on an address other than"),
            std::string::npos);
  EXPECT_EQ(node_.Terminate(), 0);
}

}  // namespace
}  // namespace cairn::itest
