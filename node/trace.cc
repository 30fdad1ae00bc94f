#include "node/trace.h"

#include <algorithm>
#include <deque>
#include <set>

#include "common/clock.h"
#include "ledger/event.h"
#include "ledger/lineage.h"
#include "ledger/validate.h"

namespace cairn::node {

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

  // Breadth-first over lots; every entry touching a lot on the lineage is collected once.
  ledger::LineageGraph graph;
  std::map<uint64_t, std::string> entries;  // index -> entry bytes
  std::set<std::string> seen_lots{options.lot_id};
  std::deque<std::string> queue{options.lot_id};
  while (!queue.empty()) {
    const std::string lot_id = std::move(queue.front());
    queue.pop_front();
    CAIRN_ASSIGN_OR_RETURN(std::vector<uint64_t> indexes, storage.EntryIndexesOfLot(lot_id));
    for (uint64_t index : indexes) {
      if (index >= size || entries.count(index) != 0) continue;
      CAIRN_ASSIGN_OR_RETURN(std::vector<StoredEntry> read,
                             storage.ReadEntries(index, index + 1, 1));
      if (read.empty()) return Internal("entry " + std::to_string(index) + " vanished");
      cairn::v1::LogEntry entry;
      if (!entry.ParseFromString(read[0].entry)) {
        return DataLoss("stored entry " + std::to_string(index) + " does not parse");
      }
      CAIRN_ASSIGN_OR_RETURN(ledger::ParsedEvent event, ledger::ParseSignedEvent(entry.event()));
      graph.Add(event, {entry.log_id(), index, ToMicros(entry.appended_at())});
      entries.emplace(index, std::move(read[0].entry));
    }
    auto lot = graph.FindLot(lot_id);
    if (!lot) continue;
    auto visit = [&](int next) {
      const std::string& id = graph.lot(next).lot_id;
      if (seen_lots.insert(id).second) queue.push_back(id);
    };
    if (forward) {
      for (int consumer : graph.lot(*lot).consumed_by) {
        for (int output : graph.Outputs(consumer)) visit(output);
      }
    } else {
      for (const ledger::LotFlow& input : graph.Inputs(graph.lot(*lot).created_by)) {
        visit(input.lot);
      }
    }
  }
  if (entries.empty()) {
    return NotFound("lot " + options.lot_id + " is not in log " + checkpoint.log_id());
  }

  cairn::v1::EvidenceBundle part;
  part.set_format_version(1);
  part.set_lot_id(options.lot_id);
  part.set_direction(forward ? cairn::v1::TRACE_DIRECTION_FORWARD
                             : cairn::v1::TRACE_DIRECTION_BACKWARD);
  *part.add_checkpoints() = signed_checkpoint;
  part.set_registry_version(options.registry_version);
  *part.mutable_created_at() = FromMicros(options.now_us);
  // A receipt whose dispatch this log does not hold (it lives in a peer's log).
  for (const ledger::LineageEvent& event : graph.events()) {
    if (event.body.has_receipt() && !graph.FindEvent(event.body.receipt().dispatch_event_id())) {
      part.add_missing_event_ids(event.body.receipt().dispatch_event_id());
    }
  }
  for (auto& [index, bytes] : entries) {
    cairn::v1::BundleEntry* bundled = part.add_entries();
    bundled->set_log_id(checkpoint.log_id());
    bundled->set_index(index);
    bundled->set_entry(std::move(bytes));
    CAIRN_ASSIGN_OR_RETURN(std::vector<Hash> proof, sequencer.InclusionProof(index, size));
    cairn::v1::InclusionProof* inclusion = bundled->mutable_inclusion();
    inclusion->set_leaf_index(index);
    inclusion->set_tree_size(size);
    for (const Hash& h : proof) inclusion->add_hashes(HashToString(h));
    if (static_cast<size_t>(part.entries_size()) >= options.entries_per_part) {
      if (!send(part)) return Unavailable("client went away");
      part.Clear();
    }
  }
  if (!send(part)) return Unavailable("client went away");
  return Status();
}

}  // namespace cairn::node
