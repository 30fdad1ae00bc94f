// LineageGraph: lots as nodes and the events that create, move and transform them as edges.
//
// Built from events the caller has already verified (signatures, inclusion): the node uses it to
// collect a lot's lineage for Ledger.Trace, the auditor's verifier to check custody and mass and to
// attribute origin. Lots are addressed by dense indexes (0..lots().size()-1) and events likewise,
// so that walks over 10,000-lot lineages are cheap; every walk is iterative (no recursion limit)
// and visits each lot once, so diamonds, splits, blends and chains 50+ deep are all the same case.
//
// A lot a transformation consumes but whose creating event is absent is still a node, with
// created_by = -1: the lineage is incomplete there. Pure; not thread-safe while being built,
// immutable and shareable afterwards.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cairn/v1/event.pb.h"
#include "ledger/event.h"

namespace cairn::ledger {

// Where an event's entry lives and when the log appended it.
struct EventLocation {
  std::string log_id;
  uint64_t index = 0;
  int64_t appended_at_us = 0;
};

struct LineageEvent {
  std::string id_hex;
  cairn::v1::EventBody body;
  EventLocation where;
};

struct LineageLot {
  std::string lot_id;
  // Index of the Extraction or Transformation event that created the lot; -1 when that event is
  // not in the graph (lineage incomplete).
  int created_by = -1;
  std::string material;
  uint64_t created_mass_g = 0;
  // As declared where the lot was created. Element symbols and grades ("TREO") alike.
  std::map<std::string, uint32_t> composition_ppm;
  // Every event touching the lot — creation, dispatches, receipts, consumptions, attestations —
  // in the order they were added.
  std::vector<int> events;
  // Transformation events consuming the lot, in the order added.
  std::vector<int> consumed_by;
};

// A transformation's input: a lot and the grams consumed.
struct LotFlow {
  int lot = -1;
  uint64_t mass_g = 0;
};

class LineageGraph {
 public:
  // Adds `event` found at `where`. Events must be added in an order where each log's entries come
  // in index order (the custody and mass checks replay them in this order). Adding an event id
  // already present does nothing. Returns the event's index.
  int Add(const ParsedEvent& event, EventLocation where);
  int Add(const std::string& id_hex, const cairn::v1::EventBody& body, EventLocation where);
  // As above, taking `event`'s id and body instead of copying them.
  int Add(ParsedEvent&& event, EventLocation where);
  // Makes room for `events` events (and about as many lots) so that building does not rehash.
  void Reserve(size_t events);

  const std::vector<LineageLot>& lots() const { return lots_; }
  const std::vector<LineageEvent>& events() const { return events_; }
  const LineageLot& lot(int index) const { return lots_[index]; }
  const LineageEvent& event(int index) const { return events_[index]; }

  // Index of the lot or event, or nullopt when the graph has never seen it.
  std::optional<int> FindLot(std::string_view lot_id) const;
  std::optional<int> FindEvent(std::string_view id_hex) const;

  // For a Transformation event: its inputs (lots consumed) and the lots it created. Empty for other
  // kinds.
  const std::vector<LotFlow>& Inputs(int event) const;
  const std::vector<int>& Outputs(int event) const;

  // Every lot `target` was made from, target included, each once, in an order where a lot comes
  // after every lot it was made from (sources first, target last). A cycle (possible only in forged
  // evidence) is broken where it closes; `cycle_at`, when given, receives a lot on it, else -1.
  std::vector<int> Upstream(int target, int* cycle_at = nullptr) const;
  // Every lot made from `source`, source included, each once, sources first.
  std::vector<int> Downstream(int source) const;

  // Lot indexes of the extraction lots reached by Upstream(target) (created by an Extraction).
  std::vector<int> Mines(int target) const;

 private:
  int LotIndex(const std::string& lot_id);

  std::vector<LineageEvent> events_;
  std::vector<LineageLot> lots_;
  // Adds `event` (not yet in the graph) and its lots; returns its index.
  int Insert(LineageEvent event);

  std::unordered_map<std::string, int> event_index_;
  std::unordered_map<std::string, int> lot_index_;
  // Per event: transformation inputs and outputs (empty vectors for other kinds).
  std::vector<std::vector<LotFlow>> inputs_;
  std::vector<std::vector<int>> outputs_;
};

// The participants that held `lot` at some time according to the graph's events: its creator,
// every dispatch sender and every receipt author. Sorted, each once.
std::vector<std::string> HoldersOf(const LineageGraph& graph, int lot);

}  // namespace cairn::ledger
