// RFC 9162 Merkle tree hashing: leaf = SHA-256(0x00 || entry), interior = SHA-256(0x01 || l || r).
//
// CompactRange keeps the right edge of a growing tree (one hash per set bit of its size) so that
// appends and the root cost O(log n). Not thread-safe; the owner serializes access.
#pragma once

#include <cstdint>
#include <vector>

#include "common/crypto.h"

namespace cairn::ledger {

Hash HashChildren(const Hash& left, const Hash& right);
// Root of an empty tree: SHA-256 of the empty string.
Hash EmptyRoot();

// Merkle Tree Hash of `leaves` (leaf hashes), computed from scratch. O(n).
Hash RootOf(const std::vector<Hash>& leaves);

class CompactRange {
 public:
  CompactRange() = default;

  void Append(const Hash& leaf_hash);
  uint64_t size() const { return size_; }
  // Merkle Tree Hash of all leaves appended so far.
  Hash Root() const;

 private:
  uint64_t size_ = 0;
  // Perfect-subtree roots from the largest (leftmost) to the smallest.
  std::vector<Hash> peaks_;
};

}  // namespace cairn::ledger
