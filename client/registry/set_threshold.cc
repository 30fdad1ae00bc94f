// cairn registry set-threshold
#include <iostream>
#include <memory>
#include <string>

#include "client/registry/registry_cli.h"

namespace cairn::client::registry {
namespace {

struct ThresholdOptions {
  std::string registry;
  uint32_t threshold = 1;
};

int RunSetThreshold(const ThresholdOptions& opt) {
  const int64_t now = Now();
  return Edit(
      "set-threshold", opt.registry,
      [&](const RegistryFile& f) { return keys::SetThreshold(f, opt.threshold, now); },
      [&](uint64_t v) {
        return "draft version " + std::to_string(v) + ": threshold " +
               std::to_string(opt.threshold) + " for the version after it";
      });
}

}  // namespace

void AddSetThresholdCommand(CLI::App& registry, Runner* selected) {
  auto opt = std::make_shared<ThresholdOptions>();
  CLI::App* cmd = registry.add_subcommand(
      "set-threshold",
      "Set how many registrar signatures the version after the draft will need (version 1:\n"
      "the draft itself).");
  AddRegistryFlag(cmd, opt->registry);
  cmd->add_option("--threshold", opt->threshold, "number of registrars, M of N")
      ->required()
      ->check(CLI::Range(1, 1000));
  Select(cmd, opt, selected, &RunSetThreshold);
}

}  // namespace cairn::client::registry
