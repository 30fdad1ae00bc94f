// The provenance picture of a report: the lineage as a graph laid out by Graphviz's C library
// (libgvc, "dot") and rendered to SVG in process.
//
// Lots are boxes, each transformation an ellipse at its facility (mines filled, labelled with
// their site); edges carry the mass from lot to transformation to lot, their width following the
// mass, coloured by the country where that mass was mined (a lot's colour is its largest origin).
// The restricted paths of the policy's violations are drawn red and thick, a lot that lost mass
// in transit has an orange border and says how much. Lineages of more than `collapse_above` lots
// are drawn collapsed: one node per facility or mine site and stage, with its lot count and mass,
// edges summing the mass between them.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "ledger/lineage_verifier.h"

namespace cairn::client::report {

struct ProvenanceGraph {
  std::string svg;  // an <svg> element (no XML prolog), text escaped by Graphviz
  // Origin country -> colour (#rrggbb), in the order of the legend.
  std::vector<std::pair<std::string, std::string>> legend;
  bool collapsed = false;
  size_t nodes = 0;  // boxes and ellipses drawn
  size_t restricted_edges = 0;
};

// INTERNAL when Graphviz cannot lay out or render (its plugins missing).
Result<ProvenanceGraph> DrawProvenance(const ledger::LineageReport& verified,
                                       size_t collapse_above = 300);

}  // namespace cairn::client::report
