// Trace: collects the evidence bundle of a lot's lineage from this node's log.
//
// Walks the lineage through the storage's lot index — backward from the lot to every extraction
// (following each transformation's inputs), or forward to every product (following consumers'
// outputs) — and gathers every entry that creates, moves, consumes or attests a lot on it, each
// with its inclusion proof against one signed checkpoint. Entries appended after that checkpoint
// are left out, so the bundle is consistent even while the log grows. Thread-safe as the storage
// reader and the sequencer's proof methods are.
//
// Cost: one lot-index query per lot on the lineage; the entries of each breadth-first frontier are
// read in index runs, each parsed once (no full LineageGraph is built); proofs reuse the subtree
// hashes computable from the leaf hashes read or learnt from earlier proofs, so a lineage appended
// in runs needs few sequencer proofs (a scattered one still needs one per entry).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "cairn/v1/bundle.pb.h"
#include "common/status.h"
#include "node/replica_store.h"
#include "node/sequencer.h"
#include "node/storage.h"

namespace cairn::node {

struct TraceOptions {
  std::string lot_id;
  cairn::v1::TraceDirection direction = cairn::v1::TRACE_DIRECTION_BACKWARD;
  uint64_t registry_version = 0;
  int64_t now_us = 0;
  // Entries per streamed message.
  size_t entries_per_part = 2000;
  // The verified replicas this node holds: the lineage is followed through them too (a magnet
  // lot on the buyer's log, its oxide on the refiner's, the concentrate on the mine's). Must
  // outlive the call.
  std::vector<const ReplicaStore*> replicas;
};

// Sends the bundle in parts through `send` (the first part carries the header fields and the
// checkpoint; their protobuf merge is the bundle). Returns NOT_FOUND for a lot the log has never
// seen, INVALID_ARGUMENT for a malformed lot id, CANCELLED when `send` returns false, INTERNAL on a
// storage error. `storage` and `sequencer` must remain live during the call.
Status CollectLineage(Storage& storage, Sequencer& sequencer, const TraceOptions& options,
                      const std::function<bool(const cairn::v1::EvidenceBundle&)>& send);

}  // namespace cairn::node
