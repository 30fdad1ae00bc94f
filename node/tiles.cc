#include "node/tiles.h"

#include <algorithm>
#include <cstring>

#include "ledger/merkle.h"
#include "node/storage.h"

namespace cairn::node {

namespace {

// Hashes of tree level 4t complete in a tree of `size` leaves.
uint64_t NodesAt(uint32_t tile_level, uint64_t size) {
  const uint32_t shift = tile_level * kTileHeight;
  return shift >= 64 ? 0 : size >> shift;
}

std::string TileName(uint32_t tile_level, uint64_t tile_index) {
  return "tile " + std::to_string(tile_level) + "/" + std::to_string(tile_index) + " (level " +
         std::to_string(tile_level * kTileHeight) + ")";
}

}  // namespace

Hash FoldPerfect(const Hash* hashes, uint64_t n) {
  if (n == 1) return hashes[0];
  Hash scratch[kTileWidth / 2];
  // n <= 16 in every use; fold pairwise level by level.
  uint64_t width = n / 2;
  for (uint64_t i = 0; i < width; ++i) {
    scratch[i] = ledger::HashChildren(hashes[2 * i], hashes[2 * i + 1]);
  }
  while (width > 1) {
    width /= 2;
    for (uint64_t i = 0; i < width; ++i) {
      scratch[i] = ledger::HashChildren(scratch[2 * i], scratch[2 * i + 1]);
    }
  }
  return scratch[0];
}

Result<std::vector<Hash>> ParseTile(std::string_view bytes, uint32_t tile_level,
                                    uint64_t tile_index) {
  if (bytes.empty() || bytes.size() % 32 != 0 || bytes.size() > 32 * kTileWidth) {
    return DataLoss(TileName(tile_level, tile_index) + " has " + std::to_string(bytes.size()) +
                    " bytes, want 32..512 in steps of 32");
  }
  std::vector<Hash> hashes(bytes.size() / 32);
  for (size_t i = 0; i < hashes.size(); ++i) {
    std::memcpy(hashes[i].data(), bytes.data() + 32 * i, 32);
  }
  return hashes;
}

std::string SerializeTile(const std::vector<Hash>& hashes) {
  std::string bytes;
  bytes.reserve(32 * hashes.size());
  for (const Hash& h : hashes) bytes.append(AsView(h));
  return bytes;
}

void TileHasher::Append(const Hash& leaf_hash) {
  ++size_;
  leaves_.push_back(leaf_hash);
  if (leaves_.size() < kTileWidth) return;
  Hash node = FoldPerfect(leaves_.data(), kTileWidth);
  leaves_.clear();
  // Each completed run of 16 hashes of level 4t completes one hash of level 4(t + 1).
  for (size_t t = 1;; ++t) {
    if (levels_.size() <= t) levels_.emplace_back();
    levels_[t].push_back(node);
    if (levels_[t].size() % kTileWidth != 0) return;
    node = FoldPerfect(levels_[t].data() + levels_[t].size() - kTileWidth, kTileWidth);
  }
}

const std::vector<Hash>& TileHasher::level(uint32_t tile_level) const {
  static const std::vector<Hash> kNone;
  return tile_level >= 1 && tile_level < levels_.size() ? levels_[tile_level] : kNone;
}

// ---------------------------------------------------------------------------------------------
// TileBuilder

TileBuilder::TileBuilder(uint64_t size, std::vector<std::vector<Hash>> rows, const Hash& last_leaf)
    : size_(size), last_leaf_(last_leaf), rows_(std::move(rows)), dirty_(rows_.size(), false) {}

const std::vector<Hash>& TileBuilder::edge_row(uint32_t tile_level) const {
  static const std::vector<Hash> kNone;
  return tile_level < rows_.size() ? rows_[tile_level] : kNone;
}

void TileBuilder::Append(const Hash& leaf_hash) {
  ++size_;
  last_leaf_ = leaf_hash;
  Hash node = leaf_hash;
  for (uint32_t t = 0;; ++t) {
    if (rows_.size() <= t) {
      rows_.emplace_back();
      dirty_.push_back(false);
    }
    rows_[t].push_back(node);
    if (t >= 1) dirty_[t] = true;
    if (rows_[t].size() < kTileWidth) return;
    // The tile is complete: store it, and its root is the next level's new hash.
    if (t >= 1) {
      written_.push_back({t, (NodesAt(t, size_) - 1) / kTileWidth, rows_[t]});
      dirty_[t] = false;
    }
    node = FoldPerfect(rows_[t].data(), kTileWidth);
    rows_[t].clear();
  }
}

std::vector<TileWrite> TileBuilder::TakeWrites() {
  std::vector<TileWrite> writes = std::move(written_);
  written_.clear();
  for (uint32_t t = 1; t < rows_.size(); ++t) {
    if (!dirty_[t]) continue;
    writes.push_back({t, NodesAt(t, size_) / kTileWidth, rows_[t]});
    dirty_[t] = false;
  }
  return writes;
}

Hash TileBuilder::Root() const {
  // The perfect subtrees of the tree, largest first: from the highest level's incomplete tile
  // down, each row split by the binary digits of its length.
  std::vector<Hash> peaks;
  for (size_t t = rows_.size(); t-- > 0;) {
    const std::vector<Hash>& row = rows_[t];
    uint64_t at = 0;
    for (uint64_t width = kTileWidth / 2; width > 0; width /= 2) {
      if ((row.size() & width) == 0) continue;
      peaks.push_back(FoldPerfect(row.data() + at, width));
      at += width;
    }
  }
  if (peaks.empty()) return ledger::EmptyRoot();
  Hash root = peaks.back();
  for (size_t i = peaks.size() - 1; i-- > 0;) root = ledger::HashChildren(peaks[i], root);
  return root;
}

// ---------------------------------------------------------------------------------------------
// TreeHashes

Result<TreeHashes> TreeHashes::Load(Storage& storage, uint64_t size) {
  TreeHashes tree;
  if (size == 0) return tree;
  std::vector<std::vector<Hash>> rows;
  // Level 0: the leaves of the incomplete run of 16.
  CAIRN_ASSIGN_OR_RETURN(std::vector<Hash> edge_leaves,
                         storage.ReadLeafHashes(size & ~(kTileWidth - 1), size));
  Hash last_leaf{};
  if (!edge_leaves.empty()) {
    last_leaf = edge_leaves.back();
  } else {
    CAIRN_ASSIGN_OR_RETURN(std::vector<Hash> last, storage.ReadLeafHashes(size - 1, size));
    last_leaf = last.back();
  }
  rows.push_back(std::move(edge_leaves));
  for (uint32_t t = 1; NodesAt(t, size) > 0; ++t) {
    const uint64_t nodes = NodesAt(t, size);
    const uint64_t tiles = (nodes + kTileWidth - 1) / kTileWidth;
    std::vector<Hash> level;  // every hash of level 4t, for t >= kMemoryTileLevel
    const auto take = [&](uint64_t tile_index, std::string_view bytes) -> Status {
      CAIRN_ASSIGN_OR_RETURN(std::vector<Hash> hashes, ParseTile(bytes, t, tile_index));
      const uint64_t want = std::min(kTileWidth, nodes - tile_index * kTileWidth);
      if (hashes.size() < want) {
        return DataLoss(TileName(t, tile_index) + " holds " + std::to_string(hashes.size()) +
                        " hashes; a tree of " + std::to_string(size) + " leaves needs " +
                        std::to_string(want));
      }
      hashes.resize(want);
      if (t >= kMemoryTileLevel) {
        if (level.size() != tile_index * kTileWidth) {
          return DataLoss(TileName(t, level.size() / kTileWidth) + " is missing");
        }
        level.insert(level.end(), hashes.begin(), hashes.end());
      }
      if (tile_index == nodes / kTileWidth) {
        rows.resize(t + 1);
        rows[t] = std::move(hashes);
      }
      return Status::Ok();
    };
    if (t >= kMemoryTileLevel) {
      CAIRN_RETURN_IF_ERROR(storage.ScanTiles(t, tiles, take));
      if (level.size() != nodes) {
        return DataLoss(TileName(t, level.size() / kTileWidth) + " is missing");
      }
      for (uint64_t k = 0; k < level.size(); ++k) tree.AddUpper(t * kTileHeight, k, level[k]);
    } else if (nodes % kTileWidth != 0) {
      CAIRN_ASSIGN_OR_RETURN(auto bytes, storage.ReadTile(t, nodes / kTileWidth));
      if (!bytes) return DataLoss(TileName(t, nodes / kTileWidth) + " is missing");
      CAIRN_RETURN_IF_ERROR(take(nodes / kTileWidth, *bytes));
    }
    rows.resize(t + 1);  // a complete last tile leaves an empty row
  }
  tree.edge_ = TileBuilder(size, std::move(rows), last_leaf);
  return tree;
}

void TreeHashes::AddUpper(uint32_t level, uint64_t index, const Hash& hash) {
  const uint32_t top = level + kTileHeight;  // exclusive
  if (upper_.size() < top) upper_.resize(top);
  if (index != upper_[level].size()) return;  // already held (tiles are rewritten as they grow)
  upper_[level].push_back(hash);
  for (uint32_t l = level; l + 1 < top && index % 2 == 1; ++l, index /= 2) {
    upper_[l + 1].push_back(ledger::HashChildren(upper_[l][index - 1], upper_[l][index]));
  }
}

void TreeHashes::Adopt(TileBuilder edge, const std::vector<TileWrite>& writes) {
  edge_ = std::move(edge);
  for (const TileWrite& w : writes) {
    if (w.tile_level < kMemoryTileLevel) continue;
    for (uint64_t i = 0; i < w.hashes.size(); ++i) {
      AddUpper(w.tile_level * kTileHeight, w.tile_index * kTileWidth + i, w.hashes[i]);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// TreeSource

TreeSource::TreeSource(const TreeHashes& tree, LogStore& store, uint64_t size)
    : tree_(tree), store_(store), size_(std::min(size, tree.size())) {}

void TreeSource::AddLeaves(uint64_t begin, const std::vector<Hash>& leaves) {
  // Only whole runs (as far as complete at size_), so a cached block is never short.
  for (uint64_t j = (begin + kTileWidth - 1) / kTileWidth;; ++j) {
    const uint64_t first = j * kTileWidth;
    const uint64_t end = std::min(first + kTileWidth, size_);
    if (first >= end || end > begin + leaves.size()) return;
    blocks_[{0, j}].assign(leaves.begin() + static_cast<int64_t>(first - begin),
                           leaves.begin() + static_cast<int64_t>(end - begin));
  }
}

void TreeSource::AddTiles(const std::vector<TileWrite>& writes) {
  for (const TileWrite& w : writes) {
    if (w.tile_level >= kMemoryTileLevel) continue;
    const uint64_t have = NodesAt(w.tile_level, size_);
    const uint64_t first = w.tile_index * kTileWidth;
    if (first >= have) continue;
    std::vector<Hash> hashes = w.hashes;
    hashes.resize(std::min<uint64_t>(hashes.size(), have - first));
    blocks_[{w.tile_level, w.tile_index}] = std::move(hashes);
  }
}

Result<const std::vector<Hash>*> TreeSource::Block(uint32_t tile_level, uint64_t tile_index) {
  const auto key = std::make_pair(tile_level, tile_index);
  if (auto it = blocks_.find(key); it != blocks_.end()) return &it->second;
  const uint64_t have = NodesAt(tile_level, size_);
  const uint64_t first = tile_index * kTileWidth;
  const uint64_t want = std::min(kTileWidth, have - std::min(first, have));
  std::vector<Hash> hashes;
  // The tree's incomplete tile at this level is in memory; a smaller tree's tile of the same index
  // holds a prefix of it (complete subtrees never change).
  const std::vector<Hash>& edge = tree_.edge_.edge_row(tile_level);
  if (tile_index == NodesAt(tile_level, tree_.size()) / kTileWidth && want <= edge.size()) {
    hashes.assign(edge.begin(), edge.begin() + static_cast<int64_t>(want));
  } else if (tile_level == 0) {
    CAIRN_ASSIGN_OR_RETURN(hashes, store_.ReadLeafHashes(first, first + want));
  } else {
    CAIRN_ASSIGN_OR_RETURN(auto bytes, store_.ReadTile(tile_level, tile_index));
    if (!bytes) return DataLoss(TileName(tile_level, tile_index) + " is missing");
    CAIRN_ASSIGN_OR_RETURN(hashes, ParseTile(*bytes, tile_level, tile_index));
    if (hashes.size() < want) {
      return DataLoss(TileName(tile_level, tile_index) + " holds " + std::to_string(hashes.size()) +
                      " hashes, want " + std::to_string(want));
    }
    hashes.resize(want);
  }
  return &(blocks_[key] = std::move(hashes));
}

Result<Hash> TreeSource::Subtree(uint32_t level, uint64_t index) {
  if (level >= 64 || index >= (size_ >> level)) {
    return InvalidArgument("subtree at level " + std::to_string(level) + " index " +
                           std::to_string(index) + " is not complete in a tree of " +
                           std::to_string(size_) + " leaves");
  }
  const uint32_t tile_level = level / kTileHeight;
  const uint64_t count = uint64_t{1} << (level % kTileHeight);
  const uint64_t first = index * count;  // index of the first hash of level 4t folded
  if (tile_level >= kMemoryTileLevel) {
    if (level >= tree_.upper_.size() || index >= tree_.upper_[level].size()) {
      return Internal("tree hashes of level " + std::to_string(level) + " in memory are short");
    }
    return tree_.upper_[level][index];
  }
  CAIRN_ASSIGN_OR_RETURN(const std::vector<Hash>* block, Block(tile_level, first / kTileWidth));
  const uint64_t offset = first % kTileWidth;
  if (offset + count > block->size()) {
    return DataLoss(TileName(tile_level, first / kTileWidth) + " is short");
  }
  return FoldPerfect(block->data() + offset, count);
}

}  // namespace cairn::node
