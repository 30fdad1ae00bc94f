// cairn trace: a lot's lineage as a tree — back to every mine, or (--forward) on to every product.
//
// Shows what the node's evidence says; it does not verify it (`cairn verify --lot` does).
#include <iostream>
#include <memory>
#include <optional>

#include "client/bundle_io.h"
#include "client/command.h"
#include "client/lineage_view.h"

namespace cairn::client {
namespace {

// Deeper trees are drawn compact unless --format tree is given.
constexpr int kCompactBeyondDepth = 40;

struct TraceOptions {
  NodeOptions node;
  std::string subject;            // a lot id, or an event id (or a unique prefix of one)
  std::optional<uint64_t> index;  // instead: the event at this index of the node's own log
  bool forward = false;
  bool json = false;
  std::string format;  // tree, compact, dot, json; empty: tree, or compact when deep
  int depth = -1;
};

// The lots to trace: the lot named, or those an event created or moved (an extraction's lot, a
// transformation's outputs, a dispatch's or receipt's lots, an attested lot).
Result<std::vector<std::string>> LotsOf(NodeClient& client, const TraceOptions& opt) {
  if (!opt.index && opt.subject.find(':') != std::string::npos) {
    return std::vector<std::string>{opt.subject};
  }
  CAIRN_ASSIGN_OR_RETURN(const DecodedEntry event, opt.index ? FetchEntryAt(client, *opt.index)
                                                             : FetchEvent(client, opt.subject));
  const cairn::v1::EventBody& body = event.body;
  std::vector<std::string> lots;
  if (body.has_extraction()) lots.push_back(body.extraction().lot_id());
  for (const auto& out : body.transformation().outputs()) lots.push_back(out.lot_id());
  for (const auto& l : body.dispatch().lots()) lots.push_back(l.lot_id());
  for (const auto& l : body.receipt().lots()) lots.push_back(l.lot_id());
  if (body.attestation().has_lot_id()) lots.push_back(body.attestation().lot_id());
  if (lots.empty()) {
    return InvalidArgument("event " + event.event_id + " is a " + ledger::KindName(body) +
                           " and names no lot to trace; trace the event it is about");
  }
  return lots;
}

// Traces one lot; prints it in the chosen format (JSON into *json_out instead).
int TraceLot(NodeClient& client, const TraceOptions& opt, const std::string& lot_id,
             nlohmann::json* json_out) {
  auto bundle = FetchBundle(
      client, lot_id,
      opt.forward ? cairn::v1::TRACE_DIRECTION_FORWARD : cairn::v1::TRACE_DIRECTION_BACKWARD);
  if (!bundle.ok()) return ReportError("trace", bundle.status());
  size_t skipped = 0;
  const ledger::LineageGraph graph = GraphOfBundle(*bundle, &skipped);
  auto root = graph.FindLot(lot_id);
  if (!root) {
    return ReportError("trace", DataLoss("the node's evidence does not name lot " + lot_id));
  }
  const std::vector<int> lots = opt.forward ? graph.Downstream(*root) : graph.Upstream(*root);
  if (json_out != nullptr) {
    *json_out = {{"lot_id", lot_id},
                 {"direction", opt.forward ? "forward" : "backward"},
                 {"entries", bundle->entries_size()},
                 {"unreadable_entries", skipped},
                 {"lots", LineageLotsJson(graph, lots)},
                 {"evidence", EvidenceJson(graph, EvidenceEvents(graph, lots))}};
    return kExitOk;
  }
  if (opt.format == "dot") {
    std::cout << LineageDot(graph, lots);
    return kExitOk;
  }
  TreeOptions tree{opt.forward, opt.depth, opt.format == "compact"};
  const bool deep =
      opt.format.empty() && TreeDepth(graph, *root, opt.forward) > kCompactBeyondDepth;
  if (deep) tree.compact = true;
  PrintLineageTree(graph, *root, tree, std::cout);
  std::cout << lots.size() << (lots.size() == 1 ? " lot, " : " lots, ") << bundle->entries_size()
            << " events (not verified here: run cairn verify --lot " << lot_id << ")\n";
  if (deep) {
    std::cout << "drawn compact: the lineage is more than " << kCompactBeyondDepth
              << " lots deep (--format tree draws every level)\n";
  }
  return kExitOk;
}

int Run(TraceOptions opt) {
  if (opt.json) {
    if (!opt.format.empty() && opt.format != "json") {
      return ReportError("trace", InvalidArgument("--json and --format " + opt.format +
                                                  " ask for two formats; give one"));
    }
    opt.format = "json";
  }
  if (opt.index.has_value() == !opt.subject.empty()) {
    return ReportError("trace", InvalidArgument("give a lot id, an event id (or a unique prefix) "
                                                "or --index N"));
  }
  NodeClient client(opt.node);
  auto lots = LotsOf(client, opt);
  if (!lots.ok()) return ReportError("trace", lots.status());
  const bool by_event = opt.index || opt.subject.find(':') == std::string::npos;
  nlohmann::json traces = nlohmann::json::array();
  for (size_t i = 0; i < lots->size(); ++i) {
    if (i > 0 && opt.format != "json") std::cout << "\n";
    nlohmann::json one;
    const int code = TraceLot(client, opt, (*lots)[i], opt.format == "json" ? &one : nullptr);
    if (code != kExitOk) return code;
    traces.push_back(std::move(one));
  }
  if (opt.format == "json") std::cout << (by_event ? traces : traces[0]).dump(2) << "\n";
  return kExitOk;
}

}  // namespace

void AddTraceCommand(CLI::App& root, Runner* selected) {
  auto opt = std::make_shared<TraceOptions>();
  CLI::App* cmd = root.add_subcommand(
      "trace",
      "Show a lot's lineage as a tree: back to every extraction, or --forward to every product.\n"
      "Displays the node's evidence without verifying it (use cairn verify --lot).\n"
      "Given an event id (or a unique prefix of 8+ hex characters) or --index N, traces each lot\n"
      "the event created or moved; --json then prints an array, one trace per lot.");
  AddNodeOptions(*cmd, opt->node);
  CLI::Option* subject = cmd->add_option(
      "subject", opt->subject, "lot id (us-usm:NDPR-2025-001), or an event id or unique prefix");
  cmd->add_option("--index", opt->index,
                  "instead: the event at this index of the node's own log (its lots are traced)")
      ->excludes(subject);
  cmd->add_flag("--forward", opt->forward, "trace to the products made from the lot");
  cmd->add_option("--format", opt->format,
                  "tree (every level), compact (linear chains collapsed; the default for\n"
                  "lineages more than 40 lots deep), dot (Graphviz: cairn trace LOT --format dot\n"
                  "| dot -Tsvg > lineage.svg) or json")
      ->check(CLI::IsMember({"tree", "compact", "dot", "json"}));
  cmd->add_option("--depth", opt->depth, "levels below the lot to show (tree and compact)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--json", opt->json, "print the lineage as JSON (same as --format json)");
  cmd->callback([opt, selected] { *selected = [opt] { return Run(*opt); }; });
}

}  // namespace cairn::client
