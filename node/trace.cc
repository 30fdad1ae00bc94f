#include "node/trace.h"

#include <google/protobuf/arena.h>

#include <algorithm>
#include <optional>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "ledger/event.h"
#include "ledger/merkle.h"
#include "ledger/proofs.h"
#include "ledger/validate.h"

namespace cairn::node {
namespace {

// Entries further apart than this are read with separate queries; closer ones with one range
// read (the entries in between are read too and dropped, but their leaf hashes are kept).
constexpr uint64_t kMaxReadGap = 8;
// Bytes per ReadEntries call.
constexpr size_t kReadChunkBytes = 16 << 20;

// What the walk needs of one collected event: which lots it consumes and creates.
struct TracedEvent {
  std::vector<std::string> inputs;   // Transformation.inputs[].lot_id
  std::vector<std::string> outputs;  // Transformation.outputs[].lot_id
};

// Leaf index range [begin, end) of the RFC 9162 recursion.
struct Range {
  uint64_t begin = 0;
  uint64_t end = 0;
  bool operator==(const Range& other) const = default;
};
struct RangeHasher {
  size_t operator()(const Range& r) const {
    return std::hash<uint64_t>()(r.begin * 0x9E3779B97F4A7C15ULL ^ r.end);
  }
};

// Largest power of two below n (n > 1), as the RFC splits a range.
uint64_t Split(uint64_t n) {
  uint64_t k = 1;
  while (k << 1 < n) k <<= 1;
  return k;
}

// Inclusion proofs of many leaves in the tree of one size. Every subtree hash a proof needs is
// looked up among the hashes already known — the leaf hashes of the entries read, hashes computed
// from them, and the path hashes of proofs the sequencer made — so that a lineage whose entries lie
// close together (the usual case: a lot's events are appended in runs) costs a few sequencer
// proofs instead of one storage-backed proof per entry. A leaf whose path needs a hash not in hand
// gets its proof from the sequencer, and that proof's hashes are kept for the following leaves.
class ProofMaker {
 public:
  ProofMaker(Sequencer& sequencer, uint64_t size, std::vector<std::pair<uint64_t, Hash>> leaves)
      : sequencer_(sequencer), size_(size) {
    std::sort(leaves.begin(), leaves.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    leaf_index_.reserve(leaves.size());
    known_.reserve(leaves.size() * 3);
    for (const auto& [index, hash] : leaves) {
      if (!leaf_index_.empty() && leaf_index_.back() == index) continue;
      leaf_index_.push_back(index);
      known_.emplace(Range{index, index + 1}, hash);
    }
  }

  Result<std::vector<Hash>> Proof(uint64_t index) {
    path_.clear();
    PathRanges(index, 0, size_);
    std::vector<Hash> proof;
    proof.reserve(path_.size());
    for (const Range& r : path_) {
      std::optional<Hash> h = Resolve(r);
      if (!h) break;
      proof.push_back(*h);
    }
    if (proof.size() == path_.size()) return proof;
    CAIRN_ASSIGN_OR_RETURN(proof, sequencer_.InclusionProof(index, size_));
    if (proof.size() != path_.size()) {
      return Internal("inclusion proof of entry " + std::to_string(index) + " has " +
                      std::to_string(proof.size()) + " hashes, want " +
                      std::to_string(path_.size()));
    }
    for (size_t i = 0; i < proof.size(); ++i) known_.emplace(path_[i], proof[i]);
    return proof;
  }

 private:
  // The ranges whose hashes make up PATH(index, D[begin:end]), in proof order (leaf level first).
  void PathRanges(uint64_t index, uint64_t begin, uint64_t end) {
    if (end - begin <= 1) return;
    const uint64_t k = Split(end - begin);
    if (index < begin + k) {
      PathRanges(index, begin, begin + k);
      path_.push_back({begin + k, end});
    } else {
      PathRanges(index, begin + k, end);
      path_.push_back({begin, begin + k});
    }
  }

  // Whether every leaf of `r` was read.
  bool Covered(const Range& r) const {
    auto first = std::lower_bound(leaf_index_.begin(), leaf_index_.end(), r.begin);
    const uint64_t n = r.end - r.begin;
    if (static_cast<uint64_t>(leaf_index_.end() - first) < n) return false;
    return *(first + static_cast<std::ptrdiff_t>(n - 1)) == r.end - 1;  // indexes are unique
  }

  // The hash of `r` if known or computable from the leaves read; nullopt otherwise.
  std::optional<Hash> Resolve(const Range& r) {
    if (auto it = known_.find(r); it != known_.end()) return it->second;
    if (r.end - r.begin < 2 || !Covered(r)) return std::nullopt;
    return Compute(r);
  }

  // The hash of a range whose leaves are all known.
  Hash Compute(const Range& r) {
    if (auto it = known_.find(r); it != known_.end()) return it->second;
    const uint64_t k = Split(r.end - r.begin);
    const Hash h =
        ledger::HashChildren(Compute({r.begin, r.begin + k}), Compute({r.begin + k, r.end}));
    known_.emplace(r, h);
    return h;
  }

  Sequencer& sequencer_;
  const uint64_t size_;
  std::vector<uint64_t> leaf_index_;  // ascending, unique
  std::unordered_map<Range, Hash, RangeHasher> known_;
  std::vector<Range> path_;
};

}  // namespace

Status CollectLineage(Storage& storage, Sequencer& sequencer, const TraceOptions& options,
                      const std::function<bool(const cairn::v1::EvidenceBundle&)>& send) {
  if (!ledger::IsLotId(options.lot_id)) {
    return InvalidArgument("TraceRequest.lot_id: got \"" + options.lot_id +
                           "\", want <participant>:<code>");
  }
  const bool forward = options.direction == cairn::v1::TRACE_DIRECTION_FORWARD;
  const cairn::v1::SignedCheckpoint signed_checkpoint = sequencer.LatestCheckpoint();
  cairn::v1::Checkpoint checkpoint;
  if (!checkpoint.ParseFromString(signed_checkpoint.checkpoint())) {
    return Internal("the node's own checkpoint does not parse");
  }
  const uint64_t size = checkpoint.size();

  // Breadth-first over lots, one frontier at a time: the frontier's entry indexes are gathered
  // first and read in index runs, so that a lineage appended in runs costs few queries. Every
  // entry touching a lot on the lineage is collected once.
  std::vector<std::pair<uint64_t, std::string>> entries;  // index, entry bytes
  std::unordered_set<uint64_t> collected;
  std::vector<std::pair<uint64_t, Hash>> leaves;  // every entry read, for the proofs
  std::vector<TracedEvent> events;
  std::unordered_map<std::string, size_t> created_by;                // lot -> event
  std::unordered_map<std::string, std::vector<size_t>> consumed_by;  // lot -> events (forward)
  // Receipts by entry index with their dispatch ids, and the ids of the dispatches collected.
  std::vector<std::tuple<std::string, uint64_t, std::string>> receipts;
  std::unordered_set<std::string> dispatch_ids;

  std::unordered_set<std::string> seen_lots{options.lot_id};
  std::vector<std::string> frontier{options.lot_id};
  std::vector<uint64_t> wanted;
  cairn::v1::LogEntry entry;
  cairn::v1::EventBody body;
  // Records what the walk needs of one collected event of log `log_id` (empty: this node's).
  auto take = [&](const std::string& log_id, uint64_t index, const cairn::v1::LogEntry& entry,
                  const cairn::v1::EventBody& body) {
    const size_t e = events.size();
    TracedEvent& traced = events.emplace_back();
    switch (body.kind_case()) {
      case cairn::v1::EventBody::kExtraction:
        created_by.emplace(body.extraction().lot_id(), e);
        break;
      case cairn::v1::EventBody::kTransformation:
        for (const auto& input : body.transformation().inputs()) {
          traced.inputs.push_back(input.lot_id());
          if (forward) {
            std::vector<size_t>& consumers = consumed_by[input.lot_id()];
            if (consumers.empty() || consumers.back() != e) consumers.push_back(e);
          }
        }
        for (const auto& output : body.transformation().outputs()) {
          traced.outputs.push_back(output.lot_id());
          created_by.emplace(output.lot_id(), e);
        }
        break;
      case cairn::v1::EventBody::kDispatch:
        dispatch_ids.insert(ToHex(ledger::EventId(entry.event().body())));
        break;
      case cairn::v1::EventBody::kReceipt:
        receipts.emplace_back(log_id, index, body.receipt().dispatch_event_id());
        break;
      default:
        break;
    }
  };
  // The replicas' entries on the lineage, per replica: index, entry bytes.
  std::vector<std::vector<std::pair<uint64_t, std::string>>> replica_entries(
      options.replicas.size());
  std::vector<std::unordered_set<uint64_t>> replica_collected(options.replicas.size());
  // Each replica as of its latest checkpoint, read once: entries stored later are left out.
  std::vector<uint64_t> replica_sizes;
  std::vector<std::optional<cairn::v1::SignedCheckpoint>> replica_checkpoints;
  for (const ReplicaStore* replica : options.replicas) {
    replica_checkpoints.push_back(replica->checkpoint());
    cairn::v1::Checkpoint parsed;
    if (replica_checkpoints.back() &&
        !parsed.ParseFromString(replica_checkpoints.back()->checkpoint())) {
      return Internal("replica of " + replica->log_id() + ": its checkpoint does not parse");
    }
    replica_sizes.push_back(replica_checkpoints.back() ? parsed.size() : 0);
  }
  while (!frontier.empty()) {
    wanted.clear();
    for (const std::string& lot_id : frontier) {
      CAIRN_ASSIGN_OR_RETURN(std::vector<uint64_t> indexes, storage.EntryIndexesOfLot(lot_id));
      for (uint64_t index : indexes) {
        if (index < size && collected.insert(index).second) wanted.push_back(index);
      }
    }
    std::sort(wanted.begin(), wanted.end());
    for (size_t run = 0; run < wanted.size();) {
      size_t last = run;
      while (last + 1 < wanted.size() && wanted[last + 1] - wanted[last] <= kMaxReadGap) ++last;
      const uint64_t end = wanted[last] + 1;
      uint64_t next = wanted[run];
      size_t w = run;
      while (next < end) {
        CAIRN_ASSIGN_OR_RETURN(std::vector<StoredEntry> read,
                               storage.ReadEntries(next, end, kReadChunkBytes));
        if (read.empty()) return Internal("entry " + std::to_string(next) + " vanished");
        for (StoredEntry& stored : read) {
          next = stored.index + 1;
          CAIRN_ASSIGN_OR_RETURN(Hash leaf, ledger::HashFromBytes(stored.leaf_hash, "leaf_hash"));
          leaves.emplace_back(stored.index, leaf);
          if (w <= last && wanted[w] < stored.index) {
            return Internal("entry " + std::to_string(wanted[w]) + " vanished");
          }
          if (w > last || wanted[w] != stored.index) continue;  // read between two wanted
          ++w;
          const uint64_t index = stored.index;
          if (!entry.ParseFromString(stored.entry) || !body.ParseFromString(entry.event().body())) {
            return DataLoss("stored entry " + std::to_string(index) + " does not parse");
          }
          take("", index, entry, body);
          entries.emplace_back(index, std::move(stored.entry));
        }
      }
      if (w <= last) return Internal("entry " + std::to_string(wanted[w]) + " vanished");
      run = last + 1;
    }

    // The same lots in every replica this node holds: the lineage crosses logs.
    for (size_t r = 0; r < options.replicas.size(); ++r) {
      const ReplicaStore& replica = *options.replicas[r];
      for (const std::string& lot_id : frontier) {
        CAIRN_ASSIGN_OR_RETURN(std::vector<uint64_t> indexes, replica.EntryIndexesOfLot(lot_id));
        for (uint64_t index : indexes) {
          if (index >= replica_sizes[r] || !replica_collected[r].insert(index).second) continue;
          CAIRN_ASSIGN_OR_RETURN(auto bytes, replica.ReadEntry(index));
          if (!bytes) {
            return Internal("replica of " + replica.log_id() + ": entry " + std::to_string(index) +
                            " vanished");
          }
          if (!entry.ParseFromString(*bytes) || !body.ParseFromString(entry.event().body())) {
            return DataLoss("replica of " + replica.log_id() + ": entry " + std::to_string(index) +
                            " does not parse");
          }
          take(replica.log_id(), index, entry, body);
          replica_entries[r].emplace_back(index, std::move(*bytes));
        }
      }
    }

    std::vector<std::string> next_frontier;
    auto visit = [&](const std::string& id) {
      if (seen_lots.insert(id).second) next_frontier.push_back(id);
    };
    for (const std::string& lot_id : frontier) {
      if (forward) {
        auto it = consumed_by.find(lot_id);
        if (it == consumed_by.end()) continue;
        for (size_t consumer : it->second) {
          for (const std::string& output : events[consumer].outputs) visit(output);
        }
      } else {
        auto it = created_by.find(lot_id);
        if (it == created_by.end()) continue;
        for (const std::string& input : events[it->second].inputs) visit(input);
      }
    }
    frontier = std::move(next_frontier);
  }
  bool any_replica_entry = false;
  for (const auto& list : replica_entries) any_replica_entry = any_replica_entry || !list.empty();
  if (entries.empty() && !any_replica_entry) {
    std::string logs = checkpoint.log_id();
    for (const ReplicaStore* replica : options.replicas) logs += ", " + replica->log_id();
    return NotFound("lot " + options.lot_id + " is in no log this node holds (" + logs + ")");
  }
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });

  // The parts are built on an arena, reset after each is sent: the ~15 proof hashes per entry
  // are then bump allocations in large blocks, and dropping a part frees only the blocks.
  google::protobuf::ArenaOptions arena_options;
  arena_options.start_block_size = 64 << 10;
  arena_options.max_block_size = 1 << 20;
  google::protobuf::Arena arena(arena_options);
  auto* part = google::protobuf::Arena::CreateMessage<cairn::v1::EvidenceBundle>(&arena);
  part->set_format_version(1);
  part->set_lot_id(options.lot_id);
  part->set_direction(forward ? cairn::v1::TRACE_DIRECTION_FORWARD
                              : cairn::v1::TRACE_DIRECTION_BACKWARD);
  if (!entries.empty() || !any_replica_entry) *part->add_checkpoints() = signed_checkpoint;
  part->set_registry_version(options.registry_version);
  *part->mutable_created_at() = FromMicros(options.now_us);
  // A receipt whose dispatch no log held here holds (it lives in a log this node does not follow).
  std::sort(receipts.begin(), receipts.end());
  for (const auto& [log_id, index, dispatch_id] : receipts) {
    if (dispatch_ids.count(dispatch_id) == 0) part->add_missing_event_ids(dispatch_id);
  }
  // Adds one entry with its inclusion proof in the tree of `tree_size`; sends the part once it
  // holds entries_per_part entries.
  const auto add_entry = [&](const std::string& log_id, uint64_t index, std::string bytes,
                             const std::vector<Hash>& proof, uint64_t tree_size) -> Status {
    cairn::v1::BundleEntry* bundled = part->add_entries();
    bundled->set_log_id(log_id);
    bundled->set_index(index);
    bundled->set_entry(std::move(bytes));
    cairn::v1::InclusionProof* inclusion = bundled->mutable_inclusion();
    inclusion->set_leaf_index(index);
    inclusion->set_tree_size(tree_size);
    for (const Hash& h : proof) {
      inclusion->add_hashes(reinterpret_cast<const char*>(h.data()), h.size());
    }
    if (static_cast<size_t>(part->entries_size()) >= options.entries_per_part) {
      if (!send(*part)) return Unavailable("client went away");
      arena.Reset();
      part = google::protobuf::Arena::CreateMessage<cairn::v1::EvidenceBundle>(&arena);
    }
    return Status::Ok();
  };
  ProofMaker proofs(sequencer, size, std::move(leaves));
  for (auto& [index, bytes] : entries) {
    CAIRN_ASSIGN_OR_RETURN(std::vector<Hash> proof, proofs.Proof(index));
    CAIRN_RETURN_IF_ERROR(add_entry(checkpoint.log_id(), index, std::move(bytes), proof, size));
  }
  // The replicas' entries, each proved against the replica's checkpoint (a replica holds every
  // leaf of it). A log this node found forked also carries the peer's conflicting checkpoint:
  // two checkpoints of one log that no consistency proof joins are the fork's evidence.
  for (size_t r = 0; r < options.replicas.size(); ++r) {
    if (replica_entries[r].empty()) continue;
    const ReplicaStore& replica = *options.replicas[r];
    const auto& replica_checkpoint = replica_checkpoints[r];
    std::vector<Hash> leaves_of_replica;
    leaves_of_replica.reserve(replica_sizes[r]);
    CAIRN_RETURN_IF_ERROR(replica.ScanEntries([&](uint64_t index, const std::string& bytes) {
      if (index < replica_sizes[r]) leaves_of_replica.push_back(ledger::LeafHash(bytes));
      return Status::Ok();
    }));
    if (leaves_of_replica.size() != replica_sizes[r]) {
      return Internal("replica of " + replica.log_id() + ": entries vanished");
    }
    *part->add_checkpoints() = *replica_checkpoint;
    for (const auto& fork : replica.forks()) *part->add_checkpoints() = fork.theirs();
    ledger::LeafVectorSource source(leaves_of_replica);
    std::sort(replica_entries[r].begin(), replica_entries[r].end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& [index, bytes] : replica_entries[r]) {
      CAIRN_ASSIGN_OR_RETURN(std::vector<Hash> proof,
                             ledger::InclusionProof(source, index, replica_sizes[r]));
      CAIRN_RETURN_IF_ERROR(
          add_entry(replica.log_id(), index, std::move(bytes), proof, replica_sizes[r]));
    }
  }
  if (!send(*part)) return Unavailable("client went away");
  return Status();
}

}  // namespace cairn::node
