// cairn trace: a lot's lineage as a tree — back to every mine, or (--forward) on to every product.
//
// Shows what the node's evidence says; it does not verify it (`cairn verify --lot` does).
#include <iostream>
#include <memory>

#include "client/bundle_io.h"
#include "client/command.h"
#include "client/lineage_view.h"

namespace cairn::client {
namespace {

struct TraceOptions {
  NodeOptions node;
  std::string lot_id;
  bool forward = false;
  bool json = false;
};

int Run(const TraceOptions& opt) {
  NodeClient client(opt.node);
  auto bundle = FetchBundle(
      client, opt.lot_id,
      opt.forward ? cairn::v1::TRACE_DIRECTION_FORWARD : cairn::v1::TRACE_DIRECTION_BACKWARD);
  if (!bundle.ok()) return ReportError("trace", bundle.status());
  size_t skipped = 0;
  const ledger::LineageGraph graph = GraphOfBundle(*bundle, &skipped);
  auto root = graph.FindLot(opt.lot_id);
  if (!root) {
    std::cerr << "cairn trace: the node's evidence does not name lot " << opt.lot_id << "\n";
    return kExitIncomplete;
  }
  const std::vector<int> lots = opt.forward ? graph.Downstream(*root) : graph.Upstream(*root);
  if (opt.json) {
    nlohmann::json j = {{"lot_id", opt.lot_id},
                        {"direction", opt.forward ? "forward" : "backward"},
                        {"entries", bundle->entries_size()},
                        {"unreadable_entries", skipped},
                        {"lots", LineageLotsJson(graph, lots)},
                        {"evidence", EvidenceJson(graph, EvidenceEvents(graph, lots))}};
    std::cout << j.dump(2) << "\n";
  } else {
    PrintLineageTree(graph, *root, opt.forward, std::cout);
    std::cout << lots.size() << " lots, " << bundle->entries_size()
              << " events (not verified here: run cairn verify --lot " << opt.lot_id << ")\n";
  }
  return kExitOk;
}

}  // namespace

void AddTraceCommand(CLI::App& root, Runner* selected) {
  auto opt = std::make_shared<TraceOptions>();
  CLI::App* cmd = root.add_subcommand(
      "trace",
      "Show a lot's lineage as a tree: back to every extraction, or --forward to every product.\n"
      "Displays the node's evidence without verifying it (use cairn verify --lot).");
  AddNodeOptions(*cmd, opt->node);
  cmd->add_option("lot_id", opt->lot_id, "lot id, e.g. us-usm:NDPR-2025-001")->required();
  cmd->add_flag("--forward", opt->forward, "trace to the products made from the lot");
  cmd->add_flag("--json", opt->json, "print the lineage as JSON");
  cmd->callback([opt, selected] { *selected = [opt] { return Run(*opt); }; });
}

}  // namespace cairn::client
