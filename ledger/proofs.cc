#include "ledger/proofs.h"

#include <bit>

#include "ledger/merkle.h"

namespace cairn::ledger {
namespace {

// Largest power of two strictly less than n (n >= 2).
uint64_t Split(uint64_t n) { return std::bit_floor(n - 1); }

Status PathInto(SubtreeSource& source, uint64_t index, uint64_t begin, uint64_t end,
                std::vector<Hash>& out) {
  const uint64_t n = end - begin;
  if (n == 1) return Status::Ok();
  const uint64_t k = Split(n);
  if (index < k) {
    CAIRN_RETURN_IF_ERROR(PathInto(source, index, begin, begin + k, out));
    CAIRN_ASSIGN_OR_RETURN(Hash right, RangeHash(source, begin + k, end));
    out.push_back(right);
  } else {
    CAIRN_RETURN_IF_ERROR(PathInto(source, index - k, begin + k, end, out));
    CAIRN_ASSIGN_OR_RETURN(Hash left, RangeHash(source, begin, begin + k));
    out.push_back(left);
  }
  return Status::Ok();
}

Status SubproofInto(SubtreeSource& source, uint64_t m, uint64_t begin, uint64_t end, bool complete,
                    std::vector<Hash>& out) {
  const uint64_t n = end - begin;
  if (m == n) {
    if (!complete) {
      CAIRN_ASSIGN_OR_RETURN(Hash h, RangeHash(source, begin, end));
      out.push_back(h);
    }
    return Status::Ok();
  }
  const uint64_t k = Split(n);
  if (m <= k) {
    CAIRN_RETURN_IF_ERROR(SubproofInto(source, m, begin, begin + k, complete, out));
    CAIRN_ASSIGN_OR_RETURN(Hash right, RangeHash(source, begin + k, end));
    out.push_back(right);
  } else {
    CAIRN_RETURN_IF_ERROR(SubproofInto(source, m - k, begin + k, end, false, out));
    CAIRN_ASSIGN_OR_RETURN(Hash left, RangeHash(source, begin, begin + k));
    out.push_back(left);
  }
  return Status::Ok();
}

}  // namespace

Result<Hash> LeafVectorSource::Subtree(uint32_t level, uint64_t index) {
  const uint64_t begin = index << level;
  const uint64_t end = begin + (uint64_t{1} << level);
  if (end > leaves_.size()) return InvalidArgument("subtree beyond the leaves held");
  std::vector<Hash> range(leaves_.begin() + begin, leaves_.begin() + end);
  return RootOf(range);
}

Result<Hash> RangeHash(SubtreeSource& source, uint64_t begin, uint64_t end) {
  const uint64_t n = end - begin;
  if (n == 0) return EmptyRoot();
  if (std::has_single_bit(n)) {
    const auto level = static_cast<uint32_t>(std::countr_zero(n));
    if (begin % n != 0) return InvalidArgument("range not aligned to a subtree");
    return source.Subtree(level, begin >> level);
  }
  const uint64_t k = Split(n);
  CAIRN_ASSIGN_OR_RETURN(Hash left, RangeHash(source, begin, begin + k));
  CAIRN_ASSIGN_OR_RETURN(Hash right, RangeHash(source, begin + k, end));
  return HashChildren(left, right);
}

Result<std::vector<Hash>> InclusionProof(SubtreeSource& source, uint64_t index, uint64_t size) {
  if (index >= size) {
    return InvalidArgument("leaf_index: got " + std::to_string(index) + ", want < tree size " +
                           std::to_string(size));
  }
  std::vector<Hash> proof;
  CAIRN_RETURN_IF_ERROR(PathInto(source, index, 0, size, proof));
  return proof;
}

Result<std::vector<Hash>> ConsistencyProof(SubtreeSource& source, uint64_t old_size,
                                           uint64_t new_size) {
  if (old_size > new_size) {
    return InvalidArgument("old_size: got " + std::to_string(old_size) + ", want <= new_size " +
                           std::to_string(new_size));
  }
  std::vector<Hash> proof;
  if (old_size == 0 || old_size == new_size) return proof;
  CAIRN_RETURN_IF_ERROR(SubproofInto(source, old_size, 0, new_size, true, proof));
  return proof;
}

bool VerifyInclusion(const Hash& leaf_hash, uint64_t index, uint64_t size,
                     const std::vector<Hash>& proof, const Hash& root) {
  if (index >= size) return false;
  uint64_t fn = index;
  uint64_t sn = size - 1;
  Hash r = leaf_hash;
  for (const Hash& p : proof) {
    if (sn == 0) return false;
    if ((fn & 1) || fn == sn) {
      r = HashChildren(p, r);
      if (!(fn & 1)) {
        while (!(fn & 1) && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = HashChildren(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root;
}

namespace {

constexpr uint64_t NodeKey(uint64_t level, uint64_t index) { return (level << 58) | index; }

// One step of an inclusion path (RFC 9162 §2.1.3.2): the node the step starts from, where its
// sibling (the proof's hash) sits, and on which side.
struct PathStep {
  uint64_t node;
  uint64_t promoted;  // the same node's position after any right-edge promotion
  uint64_t sibling;
  bool sibling_left;
};

// The positions the verification of a proof of `count` hashes for leaf `index` of `size` visits,
// and the root's position; false when no proof of that length can verify.
bool PathOf(uint64_t index, uint64_t size, size_t count, std::vector<PathStep>& steps,
            uint64_t& root) {
  uint64_t fn = index;
  uint64_t sn = size - 1;
  uint64_t level = 0;
  steps.clear();
  for (size_t k = 0; k < count; ++k) {
    if (sn == 0) return false;
    PathStep step{NodeKey(level, fn), NodeKey(level, fn), 0, true};
    if (fn & 1) {
      step.sibling = NodeKey(level, fn - 1);
    } else if (fn == sn) {
      while (!(fn & 1) && fn != 0) {
        fn >>= 1;
        sn >>= 1;
        ++level;
      }
      step.promoted = NodeKey(level, fn);
      step.sibling = NodeKey(level, fn - 1);
    } else {
      step.sibling = NodeKey(level, fn + 1);
      step.sibling_left = false;
    }
    steps.push_back(step);
    fn >>= 1;
    sn >>= 1;
    ++level;
  }
  root = NodeKey(level, 0);
  return sn == 0;
}

}  // namespace

InclusionVerifier::InclusionVerifier(uint64_t size, const Hash& root, size_t max_nodes)
    : size_(size), root_(root), max_nodes_(max_nodes) {
  Reset();
}

void InclusionVerifier::Reset() {
  known_.clear();
  if (size_ == 0) return;
  uint64_t level = 0;
  for (uint64_t sn = size_ - 1; sn != 0; sn >>= 1) ++level;
  known_.emplace(NodeKey(level, 0), root_);
}

bool InclusionVerifier::Verify(const Hash& leaf_hash, uint64_t index,
                               const std::vector<Hash>& proof) {
  if (index >= size_) return false;
  thread_local std::vector<PathStep> steps;
  thread_local std::vector<Hash> nodes;
  uint64_t root = 0;
  if (!PathOf(index, size_, proof.size(), steps, root)) return false;
  nodes.clear();
  Hash r = leaf_hash;
  for (size_t k = 0; k <= steps.size(); ++k) {
    auto known = known_.find(k < steps.size() ? steps[k].node : root);
    if (known != known_.end()) {
      if (known->second != r) return false;
      // Authenticated from here up: the rest of the proof must be the authenticated siblings.
      for (size_t j = k; j < steps.size(); ++j) {
        auto sibling = known_.find(steps[j].sibling);
        if (sibling == known_.end()) return VerifyInclusion(leaf_hash, index, size_, proof, root_);
        if (sibling->second != proof[j]) return false;
      }
      // Everything below `k` is now authenticated too.
      if (known_.size() + 3 * k > max_nodes_) Reset();
      for (size_t j = 0; j < k; ++j) {
        known_.emplace(steps[j].node, nodes[j]);
        known_.emplace(steps[j].promoted, nodes[j]);
        known_.emplace(steps[j].sibling, proof[j]);
      }
      return true;
    }
    if (k == steps.size()) return false;  // the root is always known: not reached
    nodes.push_back(r);
    r = steps[k].sibling_left ? HashChildren(proof[k], r) : HashChildren(r, proof[k]);
  }
  return false;
}

bool VerifyConsistency(uint64_t old_size, uint64_t new_size, const Hash& old_root,
                       const Hash& new_root, const std::vector<Hash>& proof) {
  if (old_size > new_size) return false;
  if (old_size == new_size) return proof.empty() && old_root == new_root;
  if (old_size == 0) return proof.empty();
  if (proof.empty()) return false;
  std::vector<Hash> path;
  if (std::has_single_bit(old_size)) path.push_back(old_root);
  path.insert(path.end(), proof.begin(), proof.end());
  uint64_t fn = old_size - 1;
  uint64_t sn = new_size - 1;
  while (fn & 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = path[0];
  Hash sr = path[0];
  for (size_t i = 1; i < path.size(); ++i) {
    const Hash& c = path[i];
    if (sn == 0) return false;
    if ((fn & 1) || fn == sn) {
      fr = HashChildren(c, fr);
      sr = HashChildren(c, sr);
      if (!(fn & 1)) {
        while (!(fn & 1) && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      sr = HashChildren(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return fr == old_root && sr == new_root && sn == 0;
}

Result<Hash> HashFromBytes(std::string_view bytes, const std::string& field) {
  if (bytes.size() != 32) {
    return InvalidArgument(field + ": got " + std::to_string(bytes.size()) + " bytes, want 32");
  }
  Hash h{};
  std::copy(bytes.begin(), bytes.end(), h.begin());
  return h;
}

Result<std::vector<Hash>> HashesFromProto(
    const google::protobuf::RepeatedPtrField<std::string>& hashes, const std::string& field) {
  if (hashes.size() > 64) {
    return InvalidArgument(field + ": got " + std::to_string(hashes.size()) +
                           " hashes, want <= 64");
  }
  std::vector<Hash> out;
  out.reserve(hashes.size());
  for (int i = 0; i < hashes.size(); ++i) {
    CAIRN_ASSIGN_OR_RETURN(Hash h, HashFromBytes(hashes[i], field + "[" + std::to_string(i) + "]"));
    out.push_back(h);
  }
  return out;
}

}  // namespace cairn::ledger
