// The tile builder and the stored tree against the Merkle tree computed from scratch.
#include "node/tiles.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <string>

#include "ledger/merkle.h"
#include "ledger/proofs.h"
#include "node/storage.h"

namespace cairn::node {
namespace {

std::vector<Hash> Leaves(uint64_t n) {
  std::vector<Hash> leaves;
  for (uint64_t i = 0; i < n; ++i) leaves.push_back(Sha256("leaf " + std::to_string(i)));
  return leaves;
}

TEST(TileBuilderTest, RootIsTheMerkleTreeHashAtEverySize) {
  const std::vector<Hash> leaves = Leaves(600);
  TileBuilder builder;
  EXPECT_EQ(builder.Root(), ledger::EmptyRoot());
  ledger::CompactRange expected;
  for (const Hash& leaf : leaves) {
    builder.Append(leaf);
    expected.Append(leaf);
    ASSERT_EQ(builder.Root(), expected.Root()) << "size " << builder.size();
    EXPECT_EQ(builder.last_leaf(), leaf);
    EXPECT_EQ(builder.edge_leaves().size(), builder.size() % kTileWidth);
  }
}

TEST(TileBuilderTest, WritesHoldEveryHashOfLevelsFourEightAndUp) {
  const std::vector<Hash> leaves = Leaves(4100);
  ledger::LeafVectorSource source(leaves);
  TileBuilder builder;
  std::map<std::pair<uint32_t, uint64_t>, std::vector<Hash>> stored;
  for (size_t i = 0; i < leaves.size(); ++i) {
    builder.Append(leaves[i]);
    if (i % 97 == 0 || i + 1 == leaves.size()) {
      for (TileWrite& w : builder.TakeWrites()) {
        auto& tile = stored[{w.tile_level, w.tile_index}];
        ASSERT_GE(w.hashes.size(), tile.size()) << "a tile never shrinks";
        tile = std::move(w.hashes);
      }
    }
  }
  // 4100 leaves: 256 level-4 hashes in 16 full tiles, 16 level-8 hashes in one, 1 level-12 hash.
  for (uint32_t t = 1; t <= 3; ++t) {
    const uint64_t nodes = leaves.size() >> (4 * t);
    for (uint64_t k = 0; k < nodes; ++k) {
      const auto& tile = stored[{t, k / kTileWidth}];
      ASSERT_GT(tile.size(), k % kTileWidth) << "level " << 4 * t << " index " << k;
      EXPECT_EQ(tile[k % kTileWidth], *source.Subtree(4 * t, k));
    }
  }
  EXPECT_EQ(stored.size(), 16u + 1u + 1u);
  EXPECT_TRUE(builder.TakeWrites().empty());
}

TEST(TileTest, SerializedTilesParseBackAndMalformedOnesAreRefused) {
  const std::vector<Hash> hashes = Leaves(3);
  auto parsed = ParseTile(SerializeTile(hashes), 1, 0);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, hashes);
  EXPECT_EQ(ParseTile(std::string(33, 'x'), 1, 7).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(ParseTile("", 1, 7).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(ParseTile(std::string(32 * 17, 'x'), 1, 7).status().code(), StatusCode::kDataLoss);
}

class TreeHashesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "cairn-tiles-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto opened = Storage::Open(dir_ + "/node.db");
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    storage_ = std::move(opened).value();
  }
  void TearDown() override {
    storage_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Stores `leaves` as entries (placeholder bytes) and their tiles, as the sequencer does.
  void Store(const std::vector<Hash>& leaves) {
    TileBuilder builder;
    auto txn = storage_->Begin();
    ASSERT_TRUE(txn.ok());
    for (size_t i = 0; i < leaves.size(); ++i) {
      ASSERT_TRUE(
          storage_->InsertEntry(i, Sha256("event " + std::to_string(i)), leaves[i], "e").ok());
      builder.Append(leaves[i]);
    }
    for (const TileWrite& w : builder.TakeWrites()) {
      ASSERT_TRUE(storage_->PutTile(w.tile_level, w.tile_index, SerializeTile(w.hashes)).ok());
    }
    ASSERT_TRUE(txn->Commit().ok());
  }

  std::string dir_;
  std::unique_ptr<Storage> storage_;
};

TEST_F(TreeHashesTest, LoadedTreeGivesTheProofsOfTheLeavesForEveryPrefix) {
  const std::vector<Hash> leaves = Leaves(530);
  Store(leaves);
  for (uint64_t size : {0u, 1u, 16u, 31u, 256u, 257u, 511u, 512u, 530u}) {
    auto tree = TreeHashes::Load(*storage_, size);
    ASSERT_TRUE(tree.ok()) << tree.status().ToString();
    const std::vector<Hash> prefix(leaves.begin(), leaves.begin() + static_cast<int64_t>(size));
    EXPECT_EQ(tree->Root(), ledger::RootOf(prefix)) << size;
    ledger::LeafVectorSource expected(prefix);
    TreeSource source(*tree, *storage_, size);
    for (uint64_t i = 0; i < size; i += 13) {
      auto proof = ledger::InclusionProof(source, i, size);
      ASSERT_TRUE(proof.ok()) << proof.status().ToString();
      EXPECT_EQ(*proof, *ledger::InclusionProof(expected, i, size)) << i << " of " << size;
    }
  }
}

TEST_F(TreeHashesTest, ProofsTakeTheIncompleteTilesFromMemory) {
  // 530 leaves: leaves 528..529 and level-4 hash 32 (leaves 512..527) are the edge's incomplete
  // tiles. A stored copy of tile 1/2 that is wrong must not matter: the proofs of recent leaves,
  // in this tree and in the smaller trees that share the tile, take it from the edge.
  const std::vector<Hash> leaves = Leaves(530);
  Store(leaves);
  auto tree = TreeHashes::Load(*storage_, 530);
  ASSERT_TRUE(tree.ok()) << tree.status().ToString();
  ASSERT_TRUE(storage_->PutTile(1, 2, SerializeTile({Sha256("not the subtree")})).ok());
  for (uint64_t size : {529u, 530u}) {
    const std::vector<Hash> prefix(leaves.begin(), leaves.begin() + static_cast<int64_t>(size));
    ledger::LeafVectorSource expected(prefix);
    TreeSource source(*tree, *storage_, size);
    for (uint64_t i = 512; i < size; ++i) {
      auto proof = ledger::InclusionProof(source, i, size);
      ASSERT_TRUE(proof.ok()) << proof.status().ToString();
      EXPECT_EQ(*proof, *ledger::InclusionProof(expected, i, size)) << i << " of " << size;
    }
    auto consistency = ledger::ConsistencyProof(source, 100, size);
    ASSERT_TRUE(consistency.ok()) << consistency.status().ToString();
    EXPECT_EQ(*consistency, *ledger::ConsistencyProof(expected, 100, size)) << size;
  }
}

TEST_F(TreeHashesTest, AMissingTileIsDataLossNamingIt) {
  Store(Leaves(300));
  ASSERT_TRUE(storage_->PutTile(2, 0, "short").ok());  // 5 bytes: not a tile
  auto tree = TreeHashes::Load(*storage_, 300);
  ASSERT_FALSE(tree.ok());
  EXPECT_EQ(tree.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(tree.status().message().find("tile 2/0"), std::string::npos) << tree.status().message();
}

}  // namespace
}  // namespace cairn::node
