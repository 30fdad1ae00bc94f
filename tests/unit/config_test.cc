// cairnd's configuration: TOML keys, their types and ranges; the file, the environment and the
// flags in that order.
#include "node/config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace cairn::node {
namespace {

constexpr char kRequired[] = R"(
db = "node.db"
log_id = "demo-log"
node_key = "keys/demo-log.key"
registry = "registry.json"
participants = ["pk-fwo", "us-usm"]
)";

Result<NodeConfig> Parse(const std::string& extra) {
  NodeConfig config;
  CAIRN_RETURN_IF_ERROR(
      ApplyConfigToml(std::string(kRequired) + extra, "node.toml", "/srv/cairn", config));
  CAIRN_RETURN_IF_ERROR(ValidateConfig(config));
  return config;
}

TEST(ConfigTest, DefaultsAndRelativePathsResolveAgainstTheFile) {
  auto config = Parse("");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->db, "/srv/cairn/node.db");
  EXPECT_EQ(config->listen, kDefaultListen);
  EXPECT_EQ(config->writer_nice, std::nullopt);  // left alone unless asked for
}

TEST(ConfigTest, ReceiptToleranceIsRefusedAsAConsortiumRule) {
  // A node's config must not loosen what auditors check: the tolerance lives in the registry.
  auto config = Parse("receipt_tolerance = 0.01\n");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(config.status().message().find("registry"), std::string::npos)
      << config.status().message();
}

TEST(ConfigTest, WriterNiceIsAnIntegerFromMinus20To19) {
  auto zero = Parse("writer_nice = 0\n");
  ASSERT_TRUE(zero.ok()) << zero.status().ToString();
  EXPECT_EQ(zero->writer_nice, 0);
  EXPECT_EQ(Parse("writer_nice = -20\n")->writer_nice, -20);
  for (const char* bad : {"writer_nice = -21\n", "writer_nice = 20\n", "writer_nice = 1e9\n",
                          "writer_nice = \"high\"\n", "writer_nice = 99999999999\n"}) {
    auto config = Parse(bad);
    ASSERT_FALSE(config.ok()) << bad;
    EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(config.status().message().find("writer_nice"), std::string::npos)
        << config.status().message();
  }
}

TEST(ConfigTest, UnknownKeyIsAnErrorNamingTheKnownOnes) {
  auto config = Parse("writer_niceness = -5\n");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("unknown key"), std::string::npos);
  EXPECT_NE(config.status().message().find("writer_nice,"), std::string::npos)
      << config.status().message();
}

TEST(ConfigTest, WrongTypesAndRangesNameTheKey) {
  struct Case {
    const char* toml;
    const char* key;
  };
  for (const Case& c :
       {Case{"max_message_bytes = -1\n", "max_message_bytes"}, Case{"audit = 1\n", "audit"},
        Case{"log_level = \"loud\"\n", "log_level"}}) {
    auto config = Parse(c.toml);
    ASSERT_FALSE(config.ok()) << c.toml;
    EXPECT_NE(config.status().message().find(c.key), std::string::npos)
        << config.status().message();
  }
}

// cairnd's command line over a config file written to a fresh temporary directory, with the
// environment variables `env` set for the call.
class ResolveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/cairn-config-XXXXXX";
    dir_ = mkdtemp(pattern);
    file_ = dir_ + "/node.toml";
    std::FILE* f = std::fopen(file_.c_str(), "w");
    std::fputs(kRequired, f);
    std::fputs("listen = \"127.0.0.1:7401\"\nwriter_nice = 5\n", f);
    std::fclose(f);
  }
  void TearDown() override {
    for (const auto& [name, value] : set_) unsetenv(name.c_str());
    std::filesystem::remove_all(dir_);
  }
  void Env(const std::string& name, const std::string& value) {
    setenv(name.c_str(), value.c_str(), 1);
    set_[name] = value;
  }
  Result<NodeConfig> Resolve(std::vector<std::string> args) {
    CLI::App app;
    NodeFlags flags;
    AddNodeFlags(app, flags);
    args.insert(args.begin(), {"cairnd", "--config", file_});
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    app.parse(static_cast<int>(argv.size()), argv.data());
    return ResolveConfig(flags);
  }

  std::string dir_, file_;
  std::map<std::string, std::string> set_;
};

TEST_F(ResolveTest, FlagsOverTheEnvironmentOverTheFileOverDefaults) {
  Env("CAIRN_LISTEN", "127.0.0.1:7402");
  Env("CAIRN_DB", "env.db");
  Env("CAIRN_AUDIT", "true");
  Env("CAIRN_PARTICIPANTS", "pk-fwo, au-lynas");
  auto config = Resolve({"--db", "flag.db", "--gossip-interval-ms", "250"});
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->listen, "127.0.0.1:7402");  // environment over file
  EXPECT_EQ(config->db, "flag.db");             // flag over environment
  EXPECT_EQ(config->writer_nice, 5);            // file over default
  EXPECT_EQ(config->log_level, "info");         // default
  EXPECT_TRUE(config->audit);
  EXPECT_EQ(config->participants, (std::vector<std::string>{"pk-fwo", "au-lynas"}));
  EXPECT_EQ(config->gossip_interval_ms, 250u);
  EXPECT_EQ(config->registry, dir_ + "/registry.json");  // relative to the file
  EXPECT_EQ(config->sources.at("listen"), "CAIRN_LISTEN");
  EXPECT_EQ(config->sources.at("db"), "--db");
  EXPECT_EQ(config->sources.at("writer_nice"), file_);
  EXPECT_EQ(config->sources.at("log_level"), "default");
  const std::string described = DescribeConfig(*config);
  EXPECT_NE(described.find("db = \"flag.db\"  # --db\n"), std::string::npos) << described;
  EXPECT_NE(described.find("audit = true  # CAIRN_AUDIT\n"), std::string::npos) << described;
}

TEST_F(ResolveTest, ABadValueNamesTheVariableOrFlagItCameFrom) {
  Env("CAIRN_WRITER_NICE", "-99");
  auto config = Resolve({});
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(config.status().message().find("CAIRN_WRITER_NICE: got -99, want an integer -20..19"),
            std::string::npos)
      << config.status().message();
  unsetenv("CAIRN_WRITER_NICE");
  Env("CAIRN_AUDIT", "maybe");
  config = Resolve({});
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("CAIRN_AUDIT: got \"maybe\", want true or false"),
            std::string::npos)
      << config.status().message();
  unsetenv("CAIRN_AUDIT");
  config = Resolve({"--replication-wait-ms", "soon"});
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("--replication-wait-ms: got \"soon\", want an integer"),
            std::string::npos)
      << config.status().message();
  // An empty variable is no value at all.
  Env("CAIRN_DB", "");
  config = Resolve({});
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->db, dir_ + "/node.db");
}

}  // namespace
}  // namespace cairn::node
