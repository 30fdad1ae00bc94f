#include "ledger/merkle.h"

#include <gtest/gtest.h>

#include "tests/unit/rfc6962_vectors.h"

namespace cairn::ledger {
namespace {

Hash Leaf(const std::string& data) { return Sha256(std::string(1, '\0') + data); }

using cairn::testing::kRfc6962LeafData;
using cairn::testing::kRfc6962Roots;

std::vector<Hash> TestLeaves() {
  std::vector<Hash> leaves;
  for (const char* hex : kRfc6962LeafData) leaves.push_back(Leaf(*FromHex(hex)));
  return leaves;
}

TEST(MerkleTest, EmptyTreeRootIsSha256OfEmptyString) {
  EXPECT_EQ(ToHex(EmptyRoot()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(ToHex(CompactRange().Root()), ToHex(EmptyRoot()));
}

TEST(MerkleTest, RootsMatchRfc6962ReferenceVectors) {
  const auto leaves = TestLeaves();
  CompactRange range;
  for (size_t n = 1; n <= leaves.size(); ++n) {
    range.Append(leaves[n - 1]);
    const std::vector<Hash> prefix(leaves.begin(), leaves.begin() + n);
    EXPECT_EQ(ToHex(RootOf(prefix)), kRfc6962Roots[n - 1]) << "size " << n;
    EXPECT_EQ(ToHex(range.Root()), kRfc6962Roots[n - 1]) << "compact range, size " << n;
  }
}

TEST(MerkleTest, CompactRangeMatchesFullRecomputationOnUnevenSizes) {
  std::vector<Hash> leaves;
  CompactRange range;
  for (int i = 0; i < 300; ++i) {
    leaves.push_back(Leaf("entry " + std::to_string(i)));
    range.Append(leaves.back());
    ASSERT_EQ(ToHex(range.Root()), ToHex(RootOf(leaves))) << "size " << leaves.size();
  }
}

}  // namespace
}  // namespace cairn::ledger
