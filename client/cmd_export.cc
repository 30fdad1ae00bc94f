// cairn export: writes a lot's evidence bundle for offline verification (`cairn verify --bundle`).
#include <iostream>
#include <memory>

#include "client/bundle_io.h"
#include "client/command.h"

namespace cairn::client {
namespace {

struct ExportOptions {
  NodeOptions node;
  std::string lot_id;
  std::string output;
  bool forward = false;
  bool json = false;
};

int Run(const ExportOptions& opt) {
  NodeClient client(opt.node);
  auto bundle = FetchBundle(
      client, opt.lot_id,
      opt.forward ? cairn::v1::TRACE_DIRECTION_FORWARD : cairn::v1::TRACE_DIRECTION_BACKWARD);
  if (!bundle.ok()) return ReportError("export", bundle.status());
  if (Status s = WriteBundle(opt.output, *bundle, opt.json); !s.ok()) {
    return ReportError("export", s);
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
  cmd->add_option("-o,--output", opt->output, "bundle file to write")->required();
  cmd->add_flag("--forward", opt->forward, "the lineage forward to products instead of back");
  cmd->add_flag("--json", opt->json, "write protobuf JSON instead of binary protobuf");
  cmd->callback([opt, selected] { *selected = [opt] { return Run(*opt); }; });
}

}  // namespace cairn::client
