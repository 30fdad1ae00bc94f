// cairn export: writes a lot's evidence bundle for offline verification (`cairn verify --bundle`),
// or with --epcis its verified lineage as a GS1 EPCIS 2.0 JSON-LD document (client/epcis.h).
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "client/bundle_io.h"
#include "client/command.h"
#include "client/epcis.h"
#include "client/lineage_audit.h"
#include "common/clock.h"

namespace cairn::client {
namespace {

struct ExportOptions {
  NodeOptions node;
  std::string lot_id;
  std::string bundle;  // with --epcis: convert this bundle file instead of fetching lot_id
  std::string output;
  std::string format = "binary";
  bool force = false;
  bool forward = false;
  bool json = false;
  bool epcis = false;
  std::string registry;  // with --epcis
  std::string policy;
  std::string as_of;
  StateOptions state;
  unsigned threads = 0;
};

// --epcis: verifies the lineage as `cairn verify --lot` does and writes the EPCIS document of its
// verified events. Evidence that fails integrity checks is not converted. Exit codes as verify.
int RunEpcis(const ExportOptions& opt) {
  if (opt.registry.empty()) {
    return ReportError("export", InvalidArgument("--epcis needs --registry: only verified events "
                                                 "are written as EPCIS"));
  }
  LineageSource source;
  source.node = opt.node;
  source.state = opt.state;
  source.registry = opt.registry;
  source.policy = opt.policy;
  source.as_of = opt.as_of;
  // With --bundle the lot id only checks the bundle's.
  if (opt.bundle.empty()) source.lot = opt.lot_id;
  source.bundle = opt.bundle;
  source.forward = opt.forward;
  auto input = GatherLineage(source);
  if (!input.ok()) return ReportError("export", input.status());
  const std::string lot = input->bundle.lot_id();
  if (!opt.lot_id.empty() && !opt.bundle.empty() && opt.lot_id != lot) {
    return ReportError("export",
                       InvalidArgument("bundle " + opt.bundle + " holds the lineage of lot " + lot +
                                       ", not of " + opt.lot_id));
  }
  const ledger::LineageReport verified = CheckLineage(*input, opt.threads);
  const int code = verified.ExitCode();
  if (verified.HasIntegrityFailure()) {
    const std::string how = opt.bundle.empty() ? "--lot " + lot : "--bundle " + opt.bundle;
    return ReportError("export",
                       DataLoss("the lineage of lot " + lot + " fails verification (cairn verify " +
                                how + " lists why); nothing written"));
  }
  const epcis::Json document = epcis::BuildDocument(*input, verified, SystemClock().NowMicros());
  const size_t events = document["epcisBody"]["eventList"].size();
  if (Status s = WriteOutputFile(opt.output, document.dump(2) + "\n", opt.force); !s.ok()) {
    return ReportError("export", s);
  }
  std::ostream& out = opt.output == "-" ? std::cerr : std::cout;
  if (opt.json) {
    out << nlohmann::json({{"lot_id", lot},
                           {"output", opt.output},
                           {"format", "epcis"},
                           {"epcis_events", events},
                           {"verdict", Verdict(code)},
                           {"exit_code", code}})
               .dump(2)
        << "\n";
  } else {
    out << "wrote " << events << " EPCIS 2.0 event(s) of lot " << lot << "'s lineage to "
        << opt.output << " (" << Verdict(code) << ")\n";
  }
  return code;
}

int Run(const ExportOptions& opt) {
  if (!opt.bundle.empty() && !opt.epcis) {
    return ReportError("export", InvalidArgument("--bundle converts a bundle with --epcis; to "
                                                 "write a bundle, name the lot"));
  }
  if (opt.lot_id.empty() && opt.bundle.empty()) {
    return ReportError("export",
                       InvalidArgument("say which lot to export (LOT_ID), or with --epcis "
                                       "which --bundle FILE to convert"));
  }
  if (opt.epcis) return RunEpcis(opt);
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
  cmd->add_option("lot_id", opt->lot_id, "lot id (with --epcis --bundle: optional, checked)");
  cmd->add_option("-o,--output", opt->output,
                  "bundle (or with --epcis JSON-LD) file to write ('-': stdout)")
      ->required();
  cmd->add_option("--format", opt->format, "binary (protobuf) or json (protobuf JSON)")
      ->capture_default_str()
      ->check(CLI::IsMember({"binary", "json"}));
  cmd->add_flag("--force", opt->force, "overwrite an existing --output file");
  cmd->add_flag("--forward", opt->forward, "the lineage forward to products instead of back");
  cmd->add_flag("--json", opt->json, "print the result (entries, checkpoints) as JSON");
  cmd->add_flag("--epcis", opt->epcis,
                "write the verified lineage as a GS1 EPCIS 2.0 JSON-LD EPCISDocument instead\n"
                "(needs --registry; exit codes as cairn verify; evidence that fails is not\n"
                "written)");
  cmd->add_option("--registry", opt->registry, "with --epcis: your trust registry file");
  cmd->add_option("--bundle", opt->bundle,
                  "with --epcis: convert this evidence bundle file offline ('-': stdin)\n"
                  "instead of fetching the lot's lineage from the node");
  cmd->add_option("--policy", opt->policy,
                  "with --epcis: restricted-source policy (TOML) the verdict is screened against");
  cmd->add_option("--as-of", opt->as_of,
                  "with --epcis: date the policy's effective dates are compared with");
  cmd->add_option("--threads", opt->threads,
                  "with --epcis: signature-checking threads (default: all cores)");
  AddStateOptions(*cmd, opt->state);
  cmd->callback([opt, selected] { *selected = [opt] { return Run(*opt); }; });
}

}  // namespace cairn::client
