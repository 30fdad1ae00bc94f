#include "ledger/merkle.h"

namespace cairn::ledger {

Hash HashChildren(const Hash& left, const Hash& right) {
  static constexpr char kNodePrefix[1] = {0x01};
  return Sha256Concat(std::string_view(kNodePrefix, 1), AsView(left), AsView(right));
}

Hash EmptyRoot() { return Sha256(""); }

namespace {

// Largest power of two strictly less than n (n >= 2).
uint64_t SplitPoint(uint64_t n) {
  uint64_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

Hash RootOfRange(const std::vector<Hash>& leaves, uint64_t begin, uint64_t end) {
  const uint64_t n = end - begin;
  if (n == 1) return leaves[begin];
  const uint64_t k = SplitPoint(n);
  return HashChildren(RootOfRange(leaves, begin, begin + k), RootOfRange(leaves, begin + k, end));
}

}  // namespace

Hash RootOf(const std::vector<Hash>& leaves) {
  if (leaves.empty()) return EmptyRoot();
  return RootOfRange(leaves, 0, leaves.size());
}

void CompactRange::Append(const Hash& leaf_hash) {
  // Each trailing one-bit of the old size is a peak of the same height as the new node: merge.
  Hash node = leaf_hash;
  uint64_t size = size_;
  while (size & 1) {
    node = HashChildren(peaks_.back(), node);
    peaks_.pop_back();
    size >>= 1;
  }
  peaks_.push_back(node);
  ++size_;
}

Hash CompactRange::Root() const {
  if (peaks_.empty()) return EmptyRoot();
  Hash root = peaks_.back();
  for (size_t i = peaks_.size() - 1; i-- > 0;) root = HashChildren(peaks_[i], root);
  return root;
}

}  // namespace cairn::ledger
