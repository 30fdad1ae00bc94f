// cairn registry add-log
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "client/registry/registry_cli.h"

namespace cairn::client::registry {
namespace {

struct AddLogOptions {
  std::string registry;
  std::string log_id;
  std::string operator_id;
  std::string pub;
  std::string valid_from;
  std::vector<std::string> hosts;
};

int RunAddLog(const AddLogOptions& opt) {
  const std::string sub = "add-log";
  auto pub = ReadPubFor(opt.pub, opt.log_id);
  if (!pub.ok()) return Fail(sub, pub.status());
  const int64_t now = Now();
  auto from = TimeFlag("--valid-from", opt.valid_from, now);
  if (!from.ok()) return Fail(sub, from.status());
  const keys::NewKey key{pub->public_key, *from};
  return Edit(
      sub, opt.registry,
      [&](const RegistryFile& f) {
        return keys::AddLog(f, opt.log_id, opt.operator_id, key, now, opt.hosts);
      },
      [&](uint64_t v) {
        std::string hosts;
        for (const auto& h : opt.hosts) hosts += (hosts.empty() ? ", hosts " : ",") + h;
        return "added log " + opt.log_id + " (operator " + opt.operator_id + ", key " +
               pub->key_id + hosts + ") to draft version " + std::to_string(v);
      });
}

}  // namespace

void AddAddLogCommand(CLI::App& registry, Runner* selected) {
  auto opt = std::make_shared<AddLogOptions>();
  CLI::App* cmd = registry.add_subcommand(
      "add-log", "Add a node's log and the key that signs its checkpoints to the draft.");
  AddRegistryFlag(cmd, opt->registry);
  cmd->add_option("--log-id", opt->log_id, "log id, e.g. us-usm-log")->required();
  cmd->add_option("--operator", opt->operator_id, "participant that runs the node")->required();
  cmd->add_option("--pub", opt->pub,
                  "the node's public key file (cairn keygen --participant "
                  "<log id>)")
      ->required();
  cmd->add_option("--valid-from", opt->valid_from,
                  "key valid from this time (RFC 3339 or YYYY-MM-DD; default now)");
  cmd->add_option("--hosts", opt->hosts,
                  "participants whose home log this is, comma-separated: their events are "
                  "appended here and nowhere else")
      ->delimiter(',');
  Select(cmd, opt, selected, &RunAddLog);
}

}  // namespace cairn::client::registry
