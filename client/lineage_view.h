// How the CLI shows a lineage: an indented tree for people, JSON for scripts.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "ledger/attribution.h"
#include "ledger/lineage.h"

namespace cairn::client {

struct TreeOptions {
  bool forward = false;  // to the products made from the root, not back to its sources
  int max_depth = -1;    // levels below the root to show; -1: all
  bool compact = false;  // linear chains drawn without indentation, long ones collapsed
};

// Prints the lineage of graph.lot(root) as a tree: backward, each lot's children are the lots it
// was made from; forward, the lots made from it. Each lot shows its material, mass, how it was
// made (site or facility, stage, author), its custody moves and attestations. A lot reached twice
// (a diamond) is expanded once and then marked "(shown above)"; below max_depth, a line counts
// the lots not shown. Compact: a lot made from exactly one lot has it drawn below at the same
// indentation ("↑"), and a run of two or more such lots is one line ("┆ 7998 lots in a linear
// chain, first … last"). Iterative: any depth.
void PrintLineageTree(const ledger::LineageGraph& graph, int root, const TreeOptions& options,
                      std::ostream& out);

// How many levels PrintLineageTree draws below the root (each lot expanded once).
int TreeDepth(const ledger::LineageGraph& graph, int root, bool forward);

// The given lots as a Graphviz DOT digraph: a box per lot (id, material, mass; mined lots filled,
// with their site), an edge from each input to each output of a transformation, labelled with
// the stage and facility. Material flows along the edges whichever way it was traced.
std::string LineageDot(const ledger::LineageGraph& graph, const std::vector<int>& lots);

// JSON of the given lots: id, material, mass, composition, creating event (kind, author, site or
// facility and stage), inputs, consumers, custody moves with event ids.
nlohmann::json LineageLotsJson(const ledger::LineageGraph& graph, const std::vector<int>& lots);

// The attestations and corrections on the lineage: every such event touching one of `lots` (an
// attestation of a lot, or an attestation or correction of an event of it), each once, in log
// order.
std::vector<int> EvidenceEvents(const ledger::LineageGraph& graph, const std::vector<int>& lots);

// "evidence:" and one line per event of EvidenceEvents: kind, author, what it says, where.
void PrintEvidence(const ledger::LineageGraph& graph, const std::vector<int>& events,
                   std::ostream& out);

// EvidenceEvents as JSON: event id, kind, author, subject (lot_id or event_id), summary, log_id,
// index.
nlohmann::json EvidenceJson(const ledger::LineageGraph& graph, const std::vector<int>& events);

// "100.0% PK" / "64.0% AU, 36.0% PK" (+ unknown): where the mass was mined, in one phrase.
std::string OriginSummary(const ledger::Attribution& attribution);

// The attribution for people: shares by country, region, site, mine, facility and facility
// country, then per element.
void PrintAttribution(const ledger::Attribution& attribution, std::ostream& out);

// The attribution as JSON (every share map, per element too, with site and facility names).
nlohmann::json AttributionJson(const ledger::Attribution& attribution);

}  // namespace cairn::client
