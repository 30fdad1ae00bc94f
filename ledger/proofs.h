// RFC 9162 §2.1.3 inclusion proofs and §2.1.4 consistency proofs: generation from any source of
// subtree hashes, and verifiers that need nothing but the proof.
//
// Generation reads O(log n) perfect-subtree hashes from a SubtreeSource (the node's stored
// interior hashes, or leaves in memory). Verification is pure and thread-safe.
#pragma once

#include <google/protobuf/repeated_ptr_field.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/crypto.h"
#include "common/status.h"

namespace cairn::ledger {

// Hashes of perfect subtrees: the subtree at `level` and `index` covers leaves
// [index << level, (index + 1) << level); level 0 is a leaf hash.
class SubtreeSource {
 public:
  virtual ~SubtreeSource() = default;
  virtual Result<Hash> Subtree(uint32_t level, uint64_t index) = 0;
};

// Leaves held in memory; for verifiers holding a whole log, and tests. O(2^level) per call.
class LeafVectorSource final : public SubtreeSource {
 public:
  // `leaves` must remain live while this source is in use.
  explicit LeafVectorSource(const std::vector<Hash>& leaves) : leaves_(leaves) {}
  Result<Hash> Subtree(uint32_t level, uint64_t index) override;

 private:
  const std::vector<Hash>& leaves_;
};

// Merkle Tree Hash of leaves [begin, end) where the range is one the RFC recursion visits (begin
// a multiple of the largest power of two not above end - begin). O(log n) subtree reads.
Result<Hash> RangeHash(SubtreeSource& source, uint64_t begin, uint64_t end);

// PATH(index, D[0:size]). INVALID_ARGUMENT when index >= size.
Result<std::vector<Hash>> InclusionProof(SubtreeSource& source, uint64_t index, uint64_t size);

// PROOF(old_size, D[0:new_size]). INVALID_ARGUMENT when old_size > new_size.
Result<std::vector<Hash>> ConsistencyProof(SubtreeSource& source, uint64_t old_size,
                                           uint64_t new_size);

// Whether `proof` shows `leaf_hash` at `index` in the tree of `size` leaves with `root`.
bool VerifyInclusion(const Hash& leaf_hash, uint64_t index, uint64_t size,
                     const std::vector<Hash>& proof, const Hash& root);

// Checks many inclusion proofs against one tree (`size`, `root`), remembering the interior nodes
// that each accepted proof authenticated. A later proof whose path reaches one of them needs no
// more hashing: its remaining hashes must equal the authenticated siblings byte for byte. Accepts
// exactly the proofs VerifyInclusion accepts; the entries of one log in an evidence bundle share
// most of their paths, so this cuts ~20 SHA-256 per entry to about two. Not thread-safe: one per
// thread. Memory is bounded by `max_nodes` (the cache is dropped when it grows beyond).
class InclusionVerifier {
 public:
  InclusionVerifier(uint64_t size, const Hash& root, size_t max_nodes = size_t{1} << 20);

  bool Verify(const Hash& leaf_hash, uint64_t index, const std::vector<Hash>& proof);

 private:
  void Reset();

  uint64_t size_;
  Hash root_;
  size_t max_nodes_;
  // Authenticated node hashes by position: level in the top 6 bits, index below.
  std::unordered_map<uint64_t, Hash> known_;
};

// Whether `proof` shows the tree of `old_size` leaves with `old_root` is a prefix of the tree of
// `new_size` leaves with `new_root`. Equal sizes need an empty proof and equal roots; old_size 0
// needs an empty proof.
bool VerifyConsistency(uint64_t old_size, uint64_t new_size, const Hash& old_root,
                       const Hash& new_root, const std::vector<Hash>& proof);

// A 32-byte hash from raw bytes; INVALID_ARGUMENT naming `field` when the length is wrong.
Result<Hash> HashFromBytes(std::string_view bytes, const std::string& field);
// The hashes of a proof message; INVALID_ARGUMENT when one is not 32 bytes or there are more
// than 64 (no tree of 2^64 leaves needs more).
Result<std::vector<Hash>> HashesFromProto(
    const google::protobuf::RepeatedPtrField<std::string>& hashes, const std::string& field);

}  // namespace cairn::ledger
