// cairn registry: create, change, sign and show the consortium's trust registry file. Each
// subcommand is in client/registry/.
#include "client/command.h"
#include "client/registry/registry_cli.h"

namespace cairn::client {

void AddRegistryCommand(CLI::App& root, Runner* selected) {
  CLI::App* registry = root.add_subcommand(
      "registry",
      "Create, change, sign and show the consortium's trust registry. Changes collect in a draft\n"
      "of the next version, which takes effect once the threshold of registrars of the version in\n"
      "force have signed it (for version 1, its own registrars).");
  registry->require_subcommand(1);
  registry::AddInitCommand(*registry, selected);
  registry::AddAddCommand(*registry, selected);
  registry::AddAddLogCommand(*registry, selected);
  registry::AddRotateCommand(*registry, selected);
  registry::AddRevokeCommand(*registry, selected);
  registry::AddSetThresholdCommand(*registry, selected);
  registry::AddSetRulesCommand(*registry, selected);
  registry::AddSignCommand(*registry, selected);
  registry::AddShowCommand(*registry, selected);
}

}  // namespace cairn::client
