// Key files: round trips plain and sealed, permissions, refusals, and that no secret leaks into
// an error message.
#include "keys/key_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "common/crypto.h"

namespace cairn::keys {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

void Spit(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

SigningKey FixedKey(const std::string& participant, uint8_t seed_byte) {
  auto pair = KeyPairFromSeed(std::string(32, static_cast<char>(seed_byte)));
  EXPECT_TRUE(pair.ok());
  return {participant, KeyIdOf(pair->public_key), pair->public_key, pair->secret_key};
}

class KeyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitCrypto().ok());
    std::string tmpl = (fs::temp_directory_path() / "cairn-keyfile-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  std::string dir_;
  const SigningKey key_ = FixedKey("pk-fwo", 7);
};

TEST_F(KeyFileTest, RoundTripsPlainKey) {
  ASSERT_TRUE(WriteKeyFiles(dir_, key_, std::nullopt).ok());
  auto read = ReadSigningKey(Path("pk-fwo.key"), std::nullopt);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->participant, "pk-fwo");
  EXPECT_EQ(read->key_id, key_.key_id);
  EXPECT_EQ(read->public_key, key_.public_key);
  EXPECT_EQ(read->secret_key, key_.secret_key);

  auto pub = ReadPublicKey(Path("pk-fwo.pub"));
  ASSERT_TRUE(pub.ok()) << pub.status().ToString();
  EXPECT_EQ(pub->participant, "pk-fwo");
  EXPECT_EQ(pub->key_id, key_.key_id);
  EXPECT_EQ(pub->public_key, key_.public_key);
  EXPECT_EQ(Slurp(Path("pk-fwo.pub")).find("secret"), std::string::npos);

  // The public part of a .key file reads as a .pub.
  auto pub_of_key = ReadPublicKey(Path("pk-fwo.key"));
  ASSERT_TRUE(pub_of_key.ok()) << pub_of_key.status().ToString();
  EXPECT_EQ(pub_of_key->key_id, key_.key_id);
}

TEST_F(KeyFileTest, RoundTripsSealedKey) {
  ASSERT_TRUE(WriteKeyFiles(dir_, key_, std::string("correct horse")).ok());
  const std::string text = Slurp(Path("pk-fwo.key"));
  EXPECT_NE(text.find("\"sealed\""), std::string::npos);
  EXPECT_NE(text.find("argon2id13"), std::string::npos);
  EXPECT_EQ(text.find("secret_key"), std::string::npos);
  EXPECT_EQ(text.find(ToHex(key_.secret_key.substr(0, 32))), std::string::npos);

  auto read = ReadSigningKey(Path("pk-fwo.key"), std::string("correct horse"));
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->secret_key, key_.secret_key);
  EXPECT_EQ(read->key_id, key_.key_id);
}

TEST_F(KeyFileTest, RefusesWrongPassphrase) {
  ASSERT_TRUE(WriteKeyFiles(dir_, key_, std::string("correct horse")).ok());
  auto read = ReadSigningKey(Path("pk-fwo.key"), std::string("battery staple"));
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(read.status().message(), "key file " + Path("pk-fwo.key") + ": wrong passphrase");
}

TEST_F(KeyFileTest, RefusesSealedKeyWithoutPassphrase) {
  ASSERT_TRUE(WriteKeyFiles(dir_, key_, std::string("correct horse")).ok());
  auto read = ReadSigningKey(Path("pk-fwo.key"), std::nullopt);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), StatusCode::kPermissionDenied);
}

TEST_F(KeyFileTest, WritesSecretKeyFileWithMode0600) {
  const mode_t old_umask = ::umask(0);  // the widest umask: the mode must not depend on it
  const Status written = WriteKeyFiles(dir_, key_, std::nullopt);
  ::umask(old_umask);
  ASSERT_TRUE(written.ok()) << written.ToString();
  struct stat st {};
  ASSERT_EQ(::stat(Path("pk-fwo.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(Path("pk-fwo.pub").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
}

TEST_F(KeyFileTest, CreatesMissingDirectoryOwnerOnly) {
  const std::string nested = Path("a/b");
  ASSERT_TRUE(WriteKeyFiles(nested, key_, std::nullopt).ok());
  struct stat st {};
  ASSERT_EQ(::stat(nested.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_TRUE(ReadSigningKey(nested + "/pk-fwo.key", std::nullopt).ok());
}

TEST_F(KeyFileTest, RefusesToOverwriteExistingKey) {
  ASSERT_TRUE(WriteKeyFiles(dir_, key_, std::nullopt).ok());
  const std::string before = Slurp(Path("pk-fwo.key"));
  const Status again = WriteKeyFiles(dir_, FixedKey("pk-fwo", 8), std::nullopt);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(Slurp(Path("pk-fwo.key")), before);
}

TEST_F(KeyFileTest, RefusesToOverwriteExistingPubFile) {
  Spit(Path("pk-fwo.pub"), "someone else's\n");
  const Status written = WriteKeyFiles(dir_, key_, std::nullopt);
  EXPECT_EQ(written.code(), StatusCode::kAlreadyExists);
  EXPECT_FALSE(fs::exists(Path("pk-fwo.key")));
  EXPECT_EQ(Slurp(Path("pk-fwo.pub")), "someone else's\n");
}

TEST_F(KeyFileTest, RefusesParticipantIdThatIsNotAnId) {
  const Status written = WriteKeyFiles(dir_, FixedKey("../escape", 7), std::nullopt);
  EXPECT_EQ(written.code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(Path("../escape.key")));
}

TEST_F(KeyFileTest, RefusesKeyFileWhoseSecretDoesNotMatchPublicKey) {
  ASSERT_TRUE(WriteKeyFiles(dir_, key_, std::nullopt).ok());
  const SigningKey other = FixedKey("pk-fwo", 9);
  std::string text = Slurp(Path("pk-fwo.key"));
  auto replace = [&text](const std::string& from, const std::string& to) {
    const size_t at = text.find(from);
    ASSERT_NE(at, std::string::npos);
    text.replace(at, from.size(), to);
  };
  // Swap in another key's public half (and its matching key id): the secret no longer fits.
  replace("\"public_key\": \"" + ToHex(key_.public_key),
          "\"public_key\": \"" + ToHex(other.public_key));
  replace(key_.key_id, other.key_id);
  ASSERT_EQ(::unlink(Path("pk-fwo.key").c_str()), 0);
  Spit(Path("pk-fwo.key"), text);
  auto read = ReadSigningKey(Path("pk-fwo.key"), std::nullopt);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(read.status().message().find(ToHex(key_.secret_key.substr(0, 32))), std::string::npos);
}

TEST_F(KeyFileTest, RefusesKeyIdThatDoesNotMatchPublicKey) {
  ASSERT_TRUE(WriteKeyFiles(dir_, key_, std::nullopt).ok());
  std::string text = Slurp(Path("pk-fwo.pub"));
  text.replace(text.find(key_.key_id), 32, std::string(32, '0'));
  Spit(Path("pk-fwo.pub"), text);
  auto pub = ReadPublicKey(Path("pk-fwo.pub"));
  ASSERT_FALSE(pub.ok());
  EXPECT_EQ(pub.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(pub.status().message().find("does not match public_key"), std::string::npos);
}

TEST_F(KeyFileTest, MalformedKeyFileErrorNeverQuotesItsContent) {
  const std::string secret_hex = ToHex(key_.secret_key);
  Spit(Path("broken.key"), "{\"participant\": \"pk-fwo\", \"secret_key\": \"" + secret_hex + "\"");
  auto read = ReadSigningKey(Path("broken.key"), std::nullopt);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().message().find(secret_hex.substr(0, 16)), std::string::npos);

  Spit(Path("odd.key"), "{\"participant\": \"pk-fwo\", \"key_id\": \"" + key_.key_id +
                            "\", \"public_key\": \"" + ToHex(key_.public_key) +
                            "\", \"secret_key\": \"" + secret_hex + "zz\"}");
  auto odd = ReadSigningKey(Path("odd.key"), std::nullopt);
  ASSERT_FALSE(odd.ok());
  EXPECT_EQ(odd.status().message().find(secret_hex.substr(0, 16)), std::string::npos);
}

TEST_F(KeyFileTest, ReadsFirstLineOfPassphraseFile) {
  Spit(Path("pass"), "correct horse\r\nsecond line\n");
  auto pass = ReadPassphraseFile(Path("pass"));
  ASSERT_TRUE(pass.ok()) << pass.status().ToString();
  EXPECT_EQ(*pass, "correct horse");

  Spit(Path("empty"), "\n");
  EXPECT_EQ(ReadPassphraseFile(Path("empty")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadPassphraseFile(Path("missing")).status().code(), StatusCode::kNotFound);
}

TEST_F(KeyFileTest, MissingKeyFileIsNotFound) {
  EXPECT_EQ(ReadSigningKey(Path("nobody.key"), std::nullopt).status().code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace cairn::keys
