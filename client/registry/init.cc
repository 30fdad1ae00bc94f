// cairn registry init
#include <iostream>
#include <memory>
#include <string>

#include "client/registry/registry_cli.h"

namespace cairn::client::registry {
namespace {

struct InitOptions {
  std::string registry;
  std::string consortium;
  uint32_t threshold = 1;
};

int RunInit(const InitOptions& opt) {
  auto file = keys::InitRegistry(opt.consortium, opt.threshold, Now());
  if (!file.ok()) return Fail("init", file.status());
  if (Status s = keys::CreateRegistryFile(opt.registry, *file); !s.ok()) return Fail("init", s);
  std::cout << "created " << opt.registry << ": draft version 1 of consortium " << opt.consortium
            << ", threshold " << opt.threshold
            << "; add participants (at least one REGISTRAR), then sign it\n";
  return kExitOk;
}

}  // namespace

void AddInitCommand(CLI::App& registry, Runner* selected) {
  auto opt = std::make_shared<InitOptions>();
  CLI::App* cmd = registry.add_subcommand(
      "init",
      "Create a registry file holding an empty draft of version 1. Refuses to overwrite a file.");
  AddRegistryFlag(cmd, opt->registry);
  cmd->add_option("--consortium", opt->consortium, "consortium name, e.g. cairn-demo")->required();
  cmd->add_option("--threshold", opt->threshold,
                  "registrar signatures version 1 (and then version 2) needs")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  Select(cmd, opt, selected, &RunInit);
}

}  // namespace cairn::client::registry
