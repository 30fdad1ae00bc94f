// cairnd's configuration: TOML keys, their types and ranges.
#include "node/config.h"

#include <gtest/gtest.h>

#include <string>

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

}  // namespace
}  // namespace cairn::node
