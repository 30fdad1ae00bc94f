// cairn verify: checks what a node serves without trusting the node.
//
// --log walks the whole log: every entry's chain link, every signature against the registry
// (key valid when the event occurred, not revoked when it was appended), every custody rule
// replayed in memory, and the Merkle root against the node's signed checkpoint.
#include <iostream>
#include <memory>

#include "client/command.h"
#include "client/verify.h"
#include "keys/registry.h"

namespace cairn::client {
namespace {

struct VerifyOptions {
  NodeOptions node;
  std::string registry;
  bool log = false;
  bool json = false;
};

int Run(const VerifyOptions& opt) {
  if (!opt.log) {
    std::cerr << "cairn verify: say what to verify: --log (lot and bundle verification are not "
                 "built yet)\n";
    return kExitUsage;
  }
  return VerifyLog({opt.node, opt.registry, opt.json});
}

}  // namespace

void AddVerifyCommand(CLI::App& root, Runner* selected) {
  auto opt = std::make_shared<VerifyOptions>();
  CLI::App* cmd = root.add_subcommand(
      "verify",
      "Verify a node's log without trusting the node: chain links, signatures against the\n"
      "registry, custody rules and the Merkle root against the signed checkpoint.\n"
      "Exit 0 verified, 1 integrity failure (names the first bad entry), 2 usage or I/O error,\n"
      "4 incomplete (a key the registry does not list).");
  AddNodeOptions(*cmd, opt->node);
  cmd->add_flag("--log", opt->log, "verify the node's whole log");
  cmd->add_option("--registry", opt->registry, "trust registry file")->required();
  cmd->add_flag("--json", opt->json, "print the result as JSON");
  cmd->callback([opt, selected] { *selected = [opt] { return Run(*opt); }; });
}

}  // namespace cairn::client
