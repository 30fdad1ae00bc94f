#include "ledger/merkle.h"

#include <gtest/gtest.h>

namespace cairn::ledger {
namespace {

Hash Leaf(const std::string& data) { return Sha256(std::string(1, '\0') + data); }

// The eight leaves of the RFC 6962 test tree used by the Certificate Transparency and
// transparency-dev/merkle test suites (hex-encoded leaf data), and the tree's root hash at each
// size 1..8 from those suites (certificate-transparency-go merkletree test data, "roots").
const char* const kLeafData[] = {"",
                                 "00",
                                 "10",
                                 "2021",
                                 "3031",
                                 "40414243",
                                 "5051525354555657",
                                 "606162636465666768696a6b6c6d6e6f"};
const char* const kRoots[] = {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                              "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
                              "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
                              "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                              "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
                              "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
                              "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
                              "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};

std::vector<Hash> TestLeaves() {
  std::vector<Hash> leaves;
  for (const char* hex : kLeafData) leaves.push_back(Leaf(*FromHex(hex)));
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
    EXPECT_EQ(ToHex(RootOf(prefix)), kRoots[n - 1]) << "size " << n;
    EXPECT_EQ(ToHex(range.Root()), kRoots[n - 1]) << "compact range, size " << n;
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
