// cairn registry rotate
#include <iostream>
#include <memory>
#include <string>

#include "client/registry/registry_cli.h"

namespace cairn::client::registry {
namespace {

struct RotateOptions {
  std::string registry;
  std::string participant;
  std::string pub;
  std::string at;
};

int RunRotate(const RotateOptions& opt) {
  const std::string sub = "rotate";
  auto pub = ReadPubFor(opt.pub, opt.participant);
  if (!pub.ok()) return Fail(sub, pub.status());
  const int64_t now = Now();
  auto at = TimeFlag("--at", opt.at, now);
  if (!at.ok()) return Fail(sub, at.status());
  return Edit(
      sub, opt.registry,
      [&](const RegistryFile& f) {
        return keys::RotateKey(f, opt.participant, pub->public_key, *at, now);
      },
      [&](uint64_t v) {
        return "rotated the key of " + opt.participant + " at " + FormatTime(*at) + ": new key " +
               pub->key_id + "; its earlier keys end there (draft version " + std::to_string(v) +
               ")";
      });
}

}  // namespace

void AddRotateCommand(CLI::App& registry, Runner* selected) {
  auto opt = std::make_shared<RotateOptions>();
  CLI::App* cmd = registry.add_subcommand(
      "rotate",
      "Rotate a key in the draft: the participant's (or log's) current keys stop at --at, and\n"
      "the new key in --pub is valid from --at. Events that occurred earlier still verify under\n"
      "the old key.");
  AddRegistryFlag(cmd, opt->registry);
  cmd->add_option("--participant", opt->participant,
                  "participant id (or a log id, to rotate a node's checkpoint key)")
      ->required();
  cmd->add_option("--pub", opt->pub, "the new public key file")->required();
  cmd->add_option("--at", opt->at, "rotation time (RFC 3339 or YYYY-MM-DD; default now)");
  Select(cmd, opt, selected, &RunRotate);
}

}  // namespace cairn::client::registry
