// The clean-stop record (node/clean_stop.h) on real files in a temp directory.
#include "node/clean_stop.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

namespace cairn::node {
namespace {

constexpr char kLog[] = "au-lynas-log";

keys::SigningKey NewKey() {
  const KeyPair pair = GenerateKeyPair();
  return {kLog, KeyIdOf(pair.public_key), pair.public_key, pair.secret_key};
}

class CleanStopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitCrypto().ok());
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "cairn-clean-stop-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    db_ = dir_ + "/node.db";
    Write(db_, std::string(4096, 'x'));
    state_.log_id = kLog;
    state_.entries = 1234;
    state_.root = Sha256("root of 1234 entries");
    state_.registry_version = 3;
    for (int64_t i = 0; i < 1234; ++i) state_.event_keys.push_back(i * 7919 - 400'000);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static void Write(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  }
  static std::string Read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  CleanStopCheck Check(uint64_t registry_version = 3) {
    auto check = ReadCleanStop(db_, kLog, registry_version, key_);
    EXPECT_TRUE(check.ok()) << check.status().message();
    return check.ok() ? std::move(check).value() : CleanStopCheck{};
  }
  // The record with `edit` applied, signed again with `signer`.
  void Resign(const std::function<void(nlohmann::json&)>& edit, const keys::SigningKey& signer) {
    auto record = nlohmann::json::parse(Read(CleanStopPath(db_)));
    record.erase("signature");
    edit(record);
    record["signature"] = ToHex(Sign(signer.secret_key, "cairn/clean-stop/v1\n", record.dump()));
    Write(CleanStopPath(db_), record.dump());
  }

  std::string dir_;
  std::string db_;
  CleanStopState state_;
  keys::SigningKey key_ = NewKey();
};

TEST_F(CleanStopTest, AnUntouchedDatabaseGetsBackTheStateTheRecordVouchesFor) {
  ASSERT_TRUE(WriteCleanStop(db_, state_, key_).ok());
  const CleanStopCheck check = Check();
  ASSERT_TRUE(check.state) << check.why_not;
  EXPECT_EQ(check.state->log_id, kLog);
  EXPECT_EQ(check.state->entries, 1234U);
  EXPECT_EQ(check.state->root, state_.root);
  EXPECT_EQ(check.state->registry_version, 3U);
  EXPECT_EQ(check.state->event_keys, state_.event_keys);
  // Reading is not spending: the same record still holds until the node removes it.
  EXPECT_TRUE(Check().state);
  ASSERT_TRUE(RemoveCleanStop(db_).ok());
  EXPECT_EQ(Check().why_not, "no clean-stop record");
  EXPECT_FALSE(std::filesystem::exists(db_ + ".clean-stop.keys"));
  EXPECT_TRUE(RemoveCleanStop(db_).ok());  // nothing to remove is not an error
}

TEST_F(CleanStopTest, AnyWriteToTheDatabaseAfterTheStopVoidsTheRecord) {
  ASSERT_TRUE(WriteCleanStop(db_, state_, key_).ok());
  // Same size, same bytes even: it is the write that counts.
  Write(db_, std::string(4096, 'x'));
  const CleanStopCheck check = Check();
  EXPECT_FALSE(check.state);
  EXPECT_NE(check.why_not.find("the database file changed since the clean stop"), std::string::npos)
      << check.why_not;
}

TEST_F(CleanStopTest, RestoringTheModificationTimeDoesNotHideAWrite) {
  struct stat before {};
  ASSERT_EQ(stat(db_.c_str(), &before), 0);
  ASSERT_TRUE(WriteCleanStop(db_, state_, key_).ok());
  Write(db_, std::string(4096, 'y'));
  const timespec times[2] = {before.st_atim, before.st_mtim};
  ASSERT_EQ(utimensat(AT_FDCWD, db_.c_str(), times, 0), 0);  // what `touch -d` does
  EXPECT_FALSE(Check().state);
}

TEST_F(CleanStopTest, AnotherFileInItsPlaceVoidsTheRecord) {
  ASSERT_TRUE(WriteCleanStop(db_, state_, key_).ok());
  const std::string copy = dir_ + "/copy.db";
  std::filesystem::copy_file(db_, copy);
  std::filesystem::rename(copy, db_);  // a restore from backup: same bytes, another inode
  EXPECT_FALSE(Check().state);
}

TEST_F(CleanStopTest, AWriteAheadLogToApplyVoidsTheRecordAndPreventsWritingOne) {
  Write(db_ + "-wal", "frames");
  EXPECT_EQ(WriteCleanStop(db_, state_, key_).code(), StatusCode::kFailedPrecondition);
  std::filesystem::remove(db_ + "-wal");
  ASSERT_TRUE(WriteCleanStop(db_, state_, key_).ok());
  Write(db_ + "-wal", "frames");
  const CleanStopCheck check = Check();
  EXPECT_FALSE(check.state);
  EXPECT_NE(check.why_not.find("wal file to apply"), std::string::npos) << check.why_not;
  // An empty one (SQLite may leave it) is nothing to apply.
  Write(db_ + "-wal", "");
  EXPECT_TRUE(Check().state);
}

TEST_F(CleanStopTest, AnEditedOrForeignSignedRecordIsNotUsed) {
  ASSERT_TRUE(WriteCleanStop(db_, state_, key_).ok());
  const std::string genuine = Read(CleanStopPath(db_));

  // More entries than the stop left, not signed again.
  auto record = nlohmann::json::parse(genuine);
  record["entries"] = 9999;
  Write(CleanStopPath(db_), record.dump());
  CleanStopCheck check = Check();
  EXPECT_FALSE(check.state);
  EXPECT_NE(check.why_not.find("signature does not verify"), std::string::npos) << check.why_not;

  // Signed again, by a key that is not this node's.
  Write(CleanStopPath(db_), genuine);
  Resign([](nlohmann::json& r) { r["entries"] = 9999; }, NewKey());
  EXPECT_FALSE(Check().state);

  // Garbage of every kind.
  for (const std::string& garbage :
       {std::string(), std::string("{"), std::string("[]"), std::string("{\"signature\":7}"),
        std::string("{\"signature\":\"zz\"}"), std::string(100'000, '{')}) {
    Write(CleanStopPath(db_), garbage);
    EXPECT_FALSE(Check().state) << garbage.substr(0, 40);
  }
}

// The event keys rebuild the node's duplicate check: a key missing from them would let an event
// be appended twice, so they are used only as the record names them.
TEST_F(CleanStopTest, EventKeysThatAreNotTheOnesTheRecordNamesAreNotUsed) {
  ASSERT_TRUE(WriteCleanStop(db_, state_, key_).ok());
  const std::string keys_path = db_ + ".clean-stop.keys";
  std::string keys = Read(keys_path);
  ASSERT_EQ(keys.size(), 1234U * 8);
  keys[100] ^= 1;
  Write(keys_path, keys);
  CleanStopCheck check = Check();
  EXPECT_FALSE(check.state);
  EXPECT_NE(check.why_not.find("is not the one it names"), std::string::npos) << check.why_not;
  Write(keys_path, keys.substr(8));
  check = Check();
  EXPECT_FALSE(check.state);
  EXPECT_NE(check.why_not.find("missing or not 9872 bytes"), std::string::npos) << check.why_not;
  std::filesystem::remove(keys_path);
  EXPECT_FALSE(Check().state);
  // Nor is a record written with keys that do not cover every entry.
  state_.event_keys.pop_back();
  EXPECT_FALSE(WriteCleanStop(db_, state_, key_).ok());
}

TEST_F(CleanStopTest, ARecordOfAnotherLogOrRegistryVersionIsNotUsed) {
  ASSERT_TRUE(WriteCleanStop(db_, state_, key_).ok());
  CleanStopCheck check = Check(/*registry_version=*/4);
  EXPECT_FALSE(check.state);
  EXPECT_NE(check.why_not.find("registry version 3, this start has version 4"), std::string::npos)
      << check.why_not;
  auto other = ReadCleanStop(db_, "us-usm-log", 3, key_);
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->state);
  // Signed by this node, but a member the node does not write is not understood.
  Resign([](nlohmann::json& r) { r["format"] = "cairn-clean-stop/2"; }, key_);
  EXPECT_FALSE(Check().state);
  Resign(
      [](nlohmann::json& r) {
        r["format"] = "cairn-clean-stop/1";
        r["entries"] = "many";
      },
      key_);
  check = Check();
  EXPECT_FALSE(check.state);
  EXPECT_NE(check.why_not.find("malformed"), std::string::npos) << check.why_not;
}

}  // namespace
}  // namespace cairn::node
