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
