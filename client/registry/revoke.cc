// cairn registry revoke
#include <iostream>
#include <memory>
#include <string>

#include "client/registry/registry_cli.h"

namespace cairn::client::registry {
namespace {

struct RevokeOptions {
  std::string registry;
  std::string key_id;
  std::string at;
};

int RunRevoke(const RevokeOptions& opt) {
  const std::string sub = "revoke";
  std::string key_id = opt.key_id;
  for (char& c : key_id) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  const int64_t now = Now();
  auto at = TimeFlag("--at", opt.at, now);
  if (!at.ok()) return Fail(sub, at.status());
  return Edit(
      sub, opt.registry,
      [&](const RegistryFile& f) { return keys::RevokeKey(f, key_id, *at, now); },
      [&](uint64_t v) {
        return "revoked key " + key_id + " at " + FormatTime(*at) + " (draft version " +
               std::to_string(v) + ")";
      });
}

}  // namespace

void AddRevokeCommand(CLI::App& registry, Runner* selected) {
  auto opt = std::make_shared<RevokeOptions>();
  CLI::App* cmd = registry.add_subcommand(
      "revoke",
      "Revoke a key in the draft: nothing appended at or after --at is accepted under it, even\n"
      "an event that claims to have occurred earlier.");
  AddRegistryFlag(cmd, opt->registry);
  cmd->add_option("--key-id", opt->key_id, "key id (32 hex characters)")->required();
  cmd->add_option("--at", opt->at, "revocation time (RFC 3339 or YYYY-MM-DD; default now)");
  Select(cmd, opt, selected, &RunRevoke);
}

}  // namespace cairn::client::registry
