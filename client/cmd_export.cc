// cairn export: writes a lot's evidence bundle for offline verification (`cairn verify --bundle`).
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "client/bundle_io.h"
#include "client/command.h"

namespace cairn::client {
namespace {

struct ExportOptions {
  NodeOptions node;
  std::string lot_id;
  std::string output;
  std::string format = "binary";
  bool force = false;
  bool forward = false;
  bool json = false;
};

int Run(const ExportOptions& opt) {
  NodeClient client(opt.node);
  auto bundle = FetchBundle(
      client, opt.lot_id,
      opt.forward ? cairn::v1::TRACE_DIRECTION_FORWARD : cairn::v1::TRACE_DIRECTION_BACKWARD);
  if (!bundle.ok()) return ReportError("export", bundle.status());
  if (Status s = WriteBundle(opt.output, *bundle, opt.format == "json", opt.force); !s.ok()) {
    return ReportError("export", s);
  }
  if (opt.json) {
    nlohmann::json j = {{"lot_id", opt.lot_id},
                        {"output", opt.output},
                        {"format", opt.format},
                        {"entries", bundle->entries_size()},
                        {"checkpoints", bundle->checkpoints_size()},
                        {"registry_version", bundle->registry_version()},
                        {"missing_event_ids", bundle->missing_event_ids()}};
    // With "-o -" stdout holds the bundle; the result goes to stderr then.
    (opt.output == "-" ? std::cerr : std::cout) << j.dump(2) << "\n";
    return kExitOk;
  }
  std::cerr << "wrote the evidence of lot " << opt.lot_id << " to " << opt.output << ": "
            << bundle->entries_size() << " entries, " << bundle->checkpoints_size()
            << " signed checkpoint(s), registry version " << bundle->registry_version() << "\n";
  return kExitOk;
}

}  // namespace

void AddExportCommand(CLI::App& root, Runner* selected) {
  auto opt = std::make_shared<ExportOptions>();
  CLI::App* cmd = root.add_subcommand(
      "export",
      "Write a lot's evidence bundle — every event on its lineage with its log entry, inclusion\n"
      "proof and signed checkpoint — for offline verification with cairn verify --bundle.");
  AddNodeOptions(*cmd, opt->node);
  cmd->add_option("lot_id", opt->lot_id, "lot id")->required();
  cmd->add_option("-o,--output", opt->output, "bundle file to write ('-': stdout)")->required();
  cmd->add_option("--format", opt->format, "binary (protobuf) or json (protobuf JSON)")
      ->capture_default_str()
      ->check(CLI::IsMember({"binary", "json"}));
  cmd->add_flag("--force", opt->force, "overwrite an existing --output file");
  cmd->add_flag("--forward", opt->forward, "the lineage forward to products instead of back");
  cmd->add_flag("--json", opt->json, "print the result (entries, checkpoints) as JSON");
  cmd->callback([opt, selected] { *selected = [opt] { return Run(*opt); }; });
}

}  // namespace cairn::client
