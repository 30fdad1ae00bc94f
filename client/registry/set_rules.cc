// cairn registry set-rules
#include <iostream>
#include <memory>
#include <string>

#include "client/registry/registry_cli.h"

namespace cairn::client::registry {
namespace {

struct RulesOptions {
  std::string registry;
  uint32_t receipt_tolerance_ppm = 0;
};

int RunSetRules(const RulesOptions& opt) {
  const int64_t now = Now();
  return Edit(
      "set-rules", opt.registry,
      [&](const RegistryFile& f) {
        return keys::SetReceiptTolerance(f, opt.receipt_tolerance_ppm, now);
      },
      [&](uint64_t v) {
        return "draft version " + std::to_string(v) + ": receipt tolerance " +
               std::to_string(opt.receipt_tolerance_ppm) + " ppm";
      });
}

}  // namespace

void AddSetRulesCommand(CLI::App& registry, Runner* selected) {
  auto opt = std::make_shared<RulesOptions>();
  CLI::App* cmd = registry.add_subcommand(
      "set-rules",
      "Set the draft's consortium rules, which every node and every auditor applies alike\n"
      "(no node's config can loosen them).");
  AddRegistryFlag(cmd, opt->registry);
  cmd->add_option("--receipt-tolerance-ppm", opt->receipt_tolerance_ppm,
                  "how many parts per million a receipt may exceed its dispatch by (default "
                  "5000, i.e. 0.5%)")
      ->required()
      ->check(CLI::Range(0, 1000000));
  Select(cmd, opt, selected, &RunSetRules);
}

}  // namespace cairn::client::registry
