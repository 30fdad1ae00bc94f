// The log's Merkle tree, stored as tiles so that a proof costs O(log n) reads and a restart
// rebuilds nothing.
//
// A tile of tile level t >= 1 and index j holds up to 16 consecutive hashes of tree level 4t: the
// perfect subtrees over leaves [(16j + i) << 4t, (16j + i + 1) << 4t) for i < 16. The leaf hashes
// (level 0) are not tiled again: they are stored with the entries. Any perfect subtree at level
// 4t + r (r < 4) is the fold of 2^r consecutive hashes of level 4t, all in one tile, so it costs
// one read and at most 15 SHA-256s. Tiles are written in the same transaction as the entries they
// cover; the rightmost (incomplete) tile of each level is rewritten as it grows. Storage cost is
// 1/15 of a hash per entry (about 2 bytes).
//
// In memory the node keeps only
//   - the right edge (TileBuilder): the hashes of each level's incomplete tile, < 16 per level,
//     enough to extend the tree and compute its root, and
//   - every hash of levels 8 and up (tile levels >= kMemoryTileLevel): 1/128 of a hash per
//     entry, 256 KB per million entries.
// So an inclusion proof reads one run of at most 16 leaf hashes and one level-4 tile, and takes the
// levels from 8 up from memory.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/crypto.h"
#include "common/status.h"
#include "ledger/proofs.h"

namespace cairn::node {

class LogStore;
class Storage;

inline constexpr uint32_t kTileHeight = 4;
inline constexpr uint64_t kTileWidth = uint64_t{1} << kTileHeight;  // hashes per full tile
// Tile levels from this one up are held in memory in full.
inline constexpr uint32_t kMemoryTileLevel = 2;

// One tile to store: its full current contents.
struct TileWrite {
  uint32_t tile_level = 0;  // >= 1
  uint64_t tile_index = 0;
  std::vector<Hash> hashes;  // 1..16
};

// The Merkle Tree Hash of `n` consecutive subtree hashes of one level, `n` a power of two.
Hash FoldPerfect(const Hash* hashes, uint64_t n);

// The right edge of a growing tree: for each tile level t, the hashes of tree level 4t in the
// rightmost incomplete tile. Appending leaves yields the tiles to store. A value type: copy it to
// stage appends that may not commit. Not thread-safe.
class TileBuilder {
 public:
  TileBuilder() = default;
  // The edge of a tree of `size` leaves; rows[t] must hold the (size >> 4t) % 16 hashes of level
  // 4t of its incomplete tiles, and `last_leaf` the leaf hash at size - 1. Load() checks this.
  TileBuilder(uint64_t size, std::vector<std::vector<Hash>> rows, const Hash& last_leaf);

  uint64_t size() const { return size_; }
  // The leaf hash at size() - 1; zeros for an empty tree.
  const Hash& last_leaf() const { return last_leaf_; }
  // Leaf hashes [size() & ~15, size()).
  const std::vector<Hash>& edge_leaves() const { return edge_row(0); }
  // The hashes of tree level 4t in tile level t's rightmost incomplete tile (index
  // (size() >> 4t) / 16), in order; empty when that tile has none.
  const std::vector<Hash>& edge_row(uint32_t tile_level) const;

  void Append(const Hash& leaf_hash);
  // The tiles changed since the last call, each once with its full contents.
  std::vector<TileWrite> TakeWrites();
  // Merkle Tree Hash of the whole tree. O(log n) hashes.
  Hash Root() const;

 private:
  uint64_t size_ = 0;
  Hash last_leaf_{};
  std::vector<std::vector<Hash>> rows_;
  std::vector<bool> dirty_;         // rows_[t] changed since TakeWrites (t >= 1)
  std::vector<TileWrite> written_;  // tiles completed since TakeWrites
};

// Every hash the stored tiles of a tree must hold, computed from its leaves in order: for each
// tile level t >= 1, the complete hashes of tree level 4t (tile (t, j) holds hashes [16j, 16j + 16)
// of them, as far as they exist). About 1/15 of a hash per leaf. For the start-up check that
// compares every stored tile with the entries. Not thread-safe.
class TileHasher {
 public:
  void Append(const Hash& leaf_hash);
  uint64_t size() const { return size_; }
  // The complete hashes of tree level 4 * tile_level, in order; empty beyond the tree's height.
  const std::vector<Hash>& level(uint32_t tile_level) const;
  // Tile levels that hold at least one hash.
  uint32_t tile_levels() const { return static_cast<uint32_t>(levels_.size()) - 1; }

 private:
  uint64_t size_ = 0;
  std::vector<Hash> leaves_;                      // the leaves of the incomplete level-0 run
  std::vector<std::vector<Hash>> levels_ = {{}};  // levels_[t] for t >= 1; levels_[0] unused
};

// The committed tree: its right edge and every hash of tile levels >= kMemoryTileLevel. Proofs
// read the rest from storage through a TreeSource. Movable; not thread-safe (the sequencer guards
// it with a shared mutex).
class TreeHashes {
 public:
  TreeHashes() = default;

  // Loads the tree of the first `size` entries of `storage` (reader connection): the right edge
  // from the incomplete tiles and the last leaves, and the hashes of levels >= 8 from their tiles.
  // DATA_LOSS naming the tile (or leaf) when one is missing or too short.
  static Result<TreeHashes> Load(Storage& storage, uint64_t size);

  uint64_t size() const { return edge_.size(); }
  Hash Root() const { return edge_.Root(); }
  const TileBuilder& edge() const { return edge_; }

  // Takes `edge` (this tree's edge with leaves appended) once `writes`, its TakeWrites(), are
  // committed.
  void Adopt(TileBuilder edge, const std::vector<TileWrite>& writes);

 private:
  friend class TreeSource;
  // Appends hash `index` of tree level `level` (>= 8, one of 4t) and the parents it completes on
  // the three levels above it (the level above those comes from the next tile level).
  void AddUpper(uint32_t level, uint64_t index, const Hash& hash);

  TileBuilder edge_;
  // upper_[level] for level >= 4 * kMemoryTileLevel: every complete hash of that level, so that a
  // proof's upper levels cost no hashing.
  std::vector<std::vector<Hash>> upper_;
};

// Perfect-subtree hashes of the first `size` leaves of `tree`, for ledger::InclusionProof and
// ConsistencyProof. Takes the hashes of the tree's incomplete tiles from its edge, reads other leaf
// runs and level-4 tiles from the store (committed data) and keeps what it read, so one source
// serves one proof or one group's proofs with few reads (a proof of a recent entry, none). `tree`
// and `store` must remain live, and `tree` unchanged, while the source is in use.
class TreeSource final : public ledger::SubtreeSource {
 public:
  TreeSource(const TreeHashes& tree, LogStore& store, uint64_t size);

  // Hashes already in hand, so they are not read: leaves from index `begin`, and stored tiles.
  void AddLeaves(uint64_t begin, const std::vector<Hash>& leaves);
  void AddTiles(const std::vector<TileWrite>& writes);

  // INVALID_ARGUMENT when that subtree is not complete in the tree of `size` leaves; DATA_LOSS
  // when storage lacks a hash it should hold.
  Result<Hash> Subtree(uint32_t level, uint64_t index) override;

 private:
  // The stored hashes of level 4t with indexes [16j, 16j + 16), as far as complete at size_.
  Result<const std::vector<Hash>*> Block(uint32_t tile_level, uint64_t tile_index);

  const TreeHashes& tree_;
  LogStore& store_;
  const uint64_t size_;
  std::map<std::pair<uint32_t, uint64_t>, std::vector<Hash>> blocks_;
};

// The hashes of a stored tile's bytes; DATA_LOSS when the length is not 32..512 in steps of 32.
Result<std::vector<Hash>> ParseTile(std::string_view bytes, uint32_t tile_level,
                                    uint64_t tile_index);
std::string SerializeTile(const std::vector<Hash>& hashes);

}  // namespace cairn::node
