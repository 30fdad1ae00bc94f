// Merkle proof verification (RFC 9162) on hostile proofs, checked against a real tree. The input
// gives the tree's size (1..64 leaves, made from the input too), then queries: an index or a
// pair of sizes, and either the true proof with one byte the input picks flipped, or hashes
// straight from the input. Invariants:
//   - CompactRange gives the root RootOf gives;
//   - a true inclusion or consistency proof verifies; with one byte flipped it does not;
//   - InclusionVerifier (the bundle verifier's cache of authenticated nodes) accepts exactly
//     what VerifyInclusion accepts, query after query against one tree.
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz/fuzz_world.h"
#include "ledger/event.h"
#include "ledger/merkle.h"
#include "ledger/proofs.h"

namespace {

using cairn::Hash;

class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool empty() const { return at_ >= size_; }
  uint8_t Byte() { return at_ < size_ ? data_[at_++] : 0; }
  uint64_t Number(uint64_t below) {
    const uint64_t v = Byte() | (uint64_t{Byte()} << 8);
    return below == 0 ? 0 : v % below;
  }
  Hash AHash() {
    Hash h{};
    for (auto& b : h) b = Byte();
    return h;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t at_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cairn;
  Reader in(data, size);
  const uint64_t n = 1 + in.Byte() % 64;  // every shape of a tree up to depth 6
  const uint8_t salt = in.Byte();
  std::vector<Hash> leaves;
  for (uint64_t i = 0; i < n; ++i) {
    leaves.push_back(ledger::LeafHash(std::string(1, static_cast<char>(salt)) + std::to_string(i)));
  }
  // The root of every prefix of the tree, for the consistency queries (one pass, O(n log n)).
  std::vector<Hash> prefix_roots = {ledger::EmptyRoot()};
  ledger::CompactRange range;
  for (const Hash& leaf : leaves) {
    range.Append(leaf);
    prefix_roots.push_back(range.Root());
  }
  const Hash root = prefix_roots.back();
  if (root != ledger::RootOf(leaves)) fuzz::Broken("CompactRange and RootOf disagree");
  ledger::LeafVectorSource source(leaves);
  ledger::InclusionVerifier cached(n, root, /*max_nodes=*/64);
  for (int query = 0; query < 16 && !in.empty(); ++query) {
    const uint8_t kind = in.Byte();
    if (kind % 2 == 0) {
      const uint64_t index = in.Number(n + 2);  // past the end too
      std::vector<Hash> proof;
      if (kind % 4 == 0 && index < n) {
        auto real = ledger::InclusionProof(source, index, n);
        if (!real.ok()) fuzz::Broken("inclusion proof: " + real.status().message());
        proof = *real;
        if (!ledger::VerifyInclusion(leaves[index], index, n, proof, root)) {
          fuzz::Broken("a true inclusion proof fails");
        }
        const uint8_t flip = in.Byte();
        if (!proof.empty() && flip != 0) {
          proof[flip % proof.size()][in.Byte() % 32] ^= flip;
          if (ledger::VerifyInclusion(leaves[index], index, n, proof, root)) {
            fuzz::Broken("an inclusion proof with a flipped byte verifies");
          }
        }
      } else {
        const uint64_t count = in.Number(12);
        for (uint64_t i = 0; i < count; ++i) proof.push_back(in.AHash());
      }
      const Hash leaf = index < n && kind % 8 != 2 ? leaves[index] : in.AHash();
      const bool plain = ledger::VerifyInclusion(leaf, index, n, proof, root);
      if (cached.Verify(leaf, index, proof) != plain) {
        fuzz::Broken("InclusionVerifier and VerifyInclusion disagree at index " +
                     std::to_string(index) + " of " + std::to_string(n));
      }
    } else {
      const uint64_t old_size = in.Number(n + 1);
      const Hash old_root = prefix_roots[old_size];
      auto real = ledger::ConsistencyProof(source, old_size, n);
      if (!real.ok()) fuzz::Broken("consistency proof: " + real.status().message());
      std::vector<Hash> proof = *real;
      if (!ledger::VerifyConsistency(old_size, n, old_root, root, proof)) {
        fuzz::Broken("a true consistency proof fails from " + std::to_string(old_size));
      }
      const uint8_t flip = in.Byte();
      if (!proof.empty() && flip != 0) {
        proof[flip % proof.size()][in.Byte() % 32] ^= flip;
        if (ledger::VerifyConsistency(old_size, n, old_root, root, proof)) {
          fuzz::Broken("a consistency proof with a flipped byte verifies");
        }
      }
      std::vector<Hash> junk;
      const uint64_t count = in.Number(12);
      for (uint64_t i = 0; i < count; ++i) junk.push_back(in.AHash());
      (void)ledger::VerifyConsistency(in.Number(n + 2), in.Number(n + 2), in.AHash(), root, junk);
    }
  }
  return 0;
}
