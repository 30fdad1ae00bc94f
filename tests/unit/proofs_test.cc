#include "ledger/proofs.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "ledger/merkle.h"
#include "tests/unit/rfc6962_vectors.h"

namespace cairn::ledger {
namespace {

using cairn::testing::kRfc6962LeafData;
using cairn::testing::kRfc6962Roots;

// Inclusion and consistency proofs of the RFC 6962 test tree as published in the same suites
// (transparency-dev/merkle testonly "inclusionProofs" and "consistencyProofs").
struct ProofVector {
  uint64_t a;  // leaf index, or old size
  uint64_t b;  // tree size, or new size
  std::vector<const char*> hashes;
};

const ProofVector kInclusion[] = {
    {0,
     8,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {5,
     8,
     {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2, 3, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
    {1,
     5,
     {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
};

const ProofVector kConsistency[] = {
    {1, 1, {}},
    {1,
     8,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {2,
     8,
     {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {6,
     8,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2,
     5,
     {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
};

Hash H(const char* hex) {
  Hash h{};
  const std::string raw = *FromHex(hex);
  std::copy(raw.begin(), raw.end(), h.begin());
  return h;
}

std::vector<Hash> Leaves() {
  std::vector<Hash> leaves;
  for (const char* d : kRfc6962LeafData)
    leaves.push_back(Sha256(std::string(1, '\0') + *FromHex(d)));
  return leaves;
}

std::vector<std::string> Hex(const std::vector<Hash>& hashes) {
  std::vector<std::string> out;
  for (const auto& h : hashes) out.push_back(ToHex(h));
  return out;
}

TEST(ProofsTest, InclusionProofsMatchReferenceVectors) {
  const auto leaves = Leaves();
  LeafVectorSource source(leaves);
  for (const auto& v : kInclusion) {
    auto proof = InclusionProof(source, v.a, v.b);
    ASSERT_TRUE(proof.ok());
    EXPECT_EQ(Hex(*proof), std::vector<std::string>(v.hashes.begin(), v.hashes.end()))
        << "leaf " << v.a << " of " << v.b;
    EXPECT_TRUE(VerifyInclusion(leaves[v.a], v.a, v.b, *proof, H(kRfc6962Roots[v.b - 1])));
  }
}

TEST(ProofsTest, ConsistencyProofsMatchReferenceVectors) {
  const auto leaves = Leaves();
  LeafVectorSource source(leaves);
  for (const auto& v : kConsistency) {
    auto proof = ConsistencyProof(source, v.a, v.b);
    ASSERT_TRUE(proof.ok());
    EXPECT_EQ(Hex(*proof), std::vector<std::string>(v.hashes.begin(), v.hashes.end()))
        << v.a << " -> " << v.b;
    EXPECT_TRUE(
        VerifyConsistency(v.a, v.b, H(kRfc6962Roots[v.a - 1]), H(kRfc6962Roots[v.b - 1]), *proof));
  }
}

TEST(ProofsTest, EveryProofOfEverySizeUpTo40VerifiesAndMutationsFail) {
  std::vector<Hash> leaves;
  for (int i = 0; i < 40; ++i) leaves.push_back(Sha256("leaf " + std::to_string(i)));
  LeafVectorSource source(leaves);
  std::vector<Hash> roots{EmptyRoot()};
  for (size_t n = 1; n <= leaves.size(); ++n) {
    roots.push_back(RootOf(std::vector<Hash>(leaves.begin(), leaves.begin() + n)));
  }
  for (uint64_t n = 1; n <= leaves.size(); ++n) {
    for (uint64_t i = 0; i < n; ++i) {
      auto proof = *InclusionProof(source, i, n);
      ASSERT_TRUE(VerifyInclusion(leaves[i], i, n, proof, roots[n])) << i << "/" << n;
      if (n > 1) EXPECT_FALSE(VerifyInclusion(leaves[(i + 1) % n], i, n, proof, roots[n]));
      if (!proof.empty()) {
        proof.back()[0] ^= 1;
        EXPECT_FALSE(VerifyInclusion(leaves[i], i, n, proof, roots[n]));
        proof.back()[0] ^= 1;
        proof.pop_back();
        EXPECT_FALSE(VerifyInclusion(leaves[i], i, n, proof, roots[n]));
      }
    }
    for (uint64_t m = 0; m <= n; ++m) {
      auto proof = *ConsistencyProof(source, m, n);
      ASSERT_TRUE(VerifyConsistency(m, n, roots[m], roots[n], proof)) << m << "->" << n;
      if (!proof.empty()) {
        proof.front()[3] ^= 0x80;
        EXPECT_FALSE(VerifyConsistency(m, n, roots[m], roots[n], proof)) << m << "->" << n;
      }
      if (m > 0 && m < n) {
        EXPECT_FALSE(
            VerifyConsistency(m, n, roots[m - 1], roots[n], *ConsistencyProof(source, m, n)));
      }
    }
  }
}

// The caching verifier must accept exactly what VerifyInclusion accepts, whatever it has already
// seen: every tree size up to 70, leaves in random order, each valid proof followed by mutated
// ones (a flipped byte in each hash, a wrong leaf, a wrong index, a missing or extra hash).
TEST(ProofsTest, InclusionVerifierAgreesWithVerifyInclusion) {
  std::vector<Hash> leaves;
  for (int i = 0; i < 70; ++i) leaves.push_back(Sha256("leaf " + std::to_string(i)));
  LeafVectorSource source(leaves);
  std::mt19937_64 random(20261129);
  size_t checked = 0;
  for (uint64_t n = 1; n <= leaves.size(); ++n) {
    const Hash root = RootOf(std::vector<Hash>(leaves.begin(), leaves.begin() + n));
    // A small cache limit on some sizes exercises the reset.
    InclusionVerifier verifier(n, root, n % 3 == 0 ? 16 : size_t{1} << 20);
    std::vector<uint64_t> order(n);
    for (uint64_t i = 0; i < n; ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), random);
    for (uint64_t i : order) {
      const auto proof = *InclusionProof(source, i, n);
      auto expect_same = [&](const Hash& leaf, uint64_t index, const std::vector<Hash>& p) {
        EXPECT_EQ(verifier.Verify(leaf, index, p), VerifyInclusion(leaf, index, n, p, root))
            << "leaf " << index << " of " << n << ", " << p.size() << " hashes";
        ++checked;
      };
      for (size_t h = 0; h < proof.size(); ++h) {
        auto mutated = proof;
        mutated[h][random() % 32] ^= static_cast<uint8_t>(1u << (random() % 8));
        expect_same(leaves[i], i, mutated);
      }
      expect_same(leaves[(i + 1) % n], i, proof);
      expect_same(leaves[i], (i + 1) % n, proof);
      if (!proof.empty()) {
        expect_same(leaves[i], i, std::vector<Hash>(proof.begin(), proof.end() - 1));
      }
      auto longer = proof;
      longer.push_back(root);
      expect_same(leaves[i], i, longer);
      EXPECT_TRUE(verifier.Verify(leaves[i], i, proof)) << i << "/" << n;
      expect_same(leaves[i], i, proof);
    }
  }
  EXPECT_GT(checked, 10000u);
}

TEST(ProofsTest, RefusesOutOfRangeArguments) {
  const auto leaves = Leaves();
  LeafVectorSource source(leaves);
  EXPECT_FALSE(InclusionProof(source, 8, 8).ok());
  EXPECT_FALSE(ConsistencyProof(source, 5, 3).ok());
  EXPECT_FALSE(VerifyInclusion(leaves[0], 8, 8, {}, H(kRfc6962Roots[7])));
  EXPECT_FALSE(VerifyConsistency(4, 4, H(kRfc6962Roots[3]), H(kRfc6962Roots[4]), {}));
  EXPECT_TRUE(VerifyConsistency(0, 8, EmptyRoot(), H(kRfc6962Roots[7]), {}));
}

}  // namespace
}  // namespace cairn::ledger
