#include "common/crypto.h"

#include <gtest/gtest.h>

namespace cairn {
namespace {

class CryptoTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(InitCrypto().ok()); }
};

// FIPS 180-2 test vectors.
TEST_F(CryptoTest, Sha256MatchesFipsVectors) {
  EXPECT_EQ(ToHex(Sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(ToHex(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(ToHex(Sha256Concat("ab", "c")), ToHex(Sha256("abc")));
}

// RFC 8032 §7.1 TEST 1: secret seed, public key, and signature of the empty message.
TEST_F(CryptoTest, Ed25519MatchesRfc8032Vector) {
  auto seed = FromHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  ASSERT_TRUE(seed.ok());
  auto kp = KeyPairFromSeed(*seed);
  ASSERT_TRUE(kp.ok());
  EXPECT_EQ(ToHex(kp->public_key),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  const std::string sig = Sign(kp->secret_key, "", "");
  EXPECT_EQ(ToHex(sig),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39"
            "701cf9b46bd25bf5f0595bbe24655141438e7a100b");
  EXPECT_TRUE(Verify(kp->public_key, "", "", sig));
}

TEST_F(CryptoTest, KeyIdIsFirstSixteenBytesOfSha256OfPublicKey) {
  auto pk = FromHex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  ASSERT_TRUE(pk.ok());
  const std::string full = ToHex(Sha256(*pk));
  EXPECT_EQ(KeyIdOf(*pk), full.substr(0, 32));
  EXPECT_EQ(KeyIdOf(*pk).size(), 32u);
}

TEST_F(CryptoTest, SignatureIsBoundToDomainAndMessage) {
  const KeyPair kp = GenerateKeyPair();
  const std::string sig = Sign(kp.secret_key, kEventDomain, "body");
  EXPECT_TRUE(Verify(kp.public_key, kEventDomain, "body", sig));
  EXPECT_FALSE(Verify(kp.public_key, kCheckpointDomain, "body", sig));
  EXPECT_FALSE(Verify(kp.public_key, kEventDomain, "bodY", sig));
  std::string bad = sig;
  bad[10] ^= 1;
  EXPECT_FALSE(Verify(kp.public_key, kEventDomain, "body", bad));
  EXPECT_FALSE(Verify(GenerateKeyPair().public_key, kEventDomain, "body", sig));
  EXPECT_FALSE(Verify(kp.public_key, kEventDomain, "body", sig.substr(0, 63)));
}

TEST_F(CryptoTest, FromHexRejectsOddLengthAndNonHex) {
  EXPECT_FALSE(FromHex("abc").ok());
  EXPECT_FALSE(FromHex("zz").ok());
  EXPECT_EQ(*FromHex("00ff"), std::string("\x00\xff", 2));
  EXPECT_TRUE(IsLowerHex("00ff", 2));
  EXPECT_FALSE(IsLowerHex("00FF", 2));
  EXPECT_FALSE(IsLowerHex("00f", 2));
}

}  // namespace
}  // namespace cairn
