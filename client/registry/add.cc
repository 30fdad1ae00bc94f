// cairn registry add
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client/registry/registry_cli.h"

namespace cairn::client::registry {
namespace {

struct AddOptions {
  std::string registry;
  std::string participant;
  std::string name;
  std::string country;
  std::vector<std::string> roles;
  std::string pub;
  std::string valid_from;
};

std::string Upper(std::string s) {
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return s;
}

int RunAdd(const AddOptions& opt) {
  const std::string sub = "add";
  auto file = keys::ReadRegistryFile(opt.registry);
  if (!file.ok()) return Fail(sub, file.status());

  std::vector<cairn::v1::Role> roles;
  for (const std::string& name : opt.roles) {
    if (name.empty()) continue;
    auto role = keys::ParseRole(name);
    if (!role.ok()) return Fail(sub, role.status().WithPrefix("--roles"));
    roles.push_back(*role);
  }
  std::optional<keys::NewKey> key;
  std::string key_id;
  const int64_t now = Now();
  if (!opt.pub.empty()) {
    auto pub = ReadPubFor(opt.pub, opt.participant);
    if (!pub.ok()) return Fail(sub, pub.status());
    auto from = TimeFlag("--valid-from", opt.valid_from, now);
    if (!from.ok()) return Fail(sub, from.status());
    key = keys::NewKey{pub->public_key, *from};
    key_id = pub->key_id;
  } else if (!opt.valid_from.empty()) {
    return Usage(sub, "--valid-from applies to a key; give --pub too");
  }

  // An existing participant: with --pub, add the key to it.
  bool exists = false;
  if (auto draft = keys::PendingDraft(*file); draft.ok()) {
    for (const auto& p : draft->participants()) exists = exists || p.id() == opt.participant;
  } else if (file->versions_size() > 0) {
    auto trust = keys::TrustRegistry::FromFile(*file);
    exists = trust.ok() && trust->FindParticipant(opt.participant) != nullptr;
  }
  if (exists) {
    if (!key.has_value()) {
      return Usage(sub, "participant " + opt.participant +
                            " is already in the registry; give --pub to add a key to it");
    }
    if (!opt.name.empty() || !opt.country.empty() || !opt.roles.empty()) {
      return Usage(sub, "participant " + opt.participant +
                            " is already in the registry; with --pub only its key is added, so "
                            "drop --name, --country and --roles");
    }
    return Edit(
        sub, opt.registry,
        [&](const RegistryFile& f) {
          return keys::AddParticipantKey(f, opt.participant, *key, now);
        },
        [&](uint64_t v) {
          return "added key " + key_id + " to participant " + opt.participant +
                 " in draft version " + std::to_string(v);
        });
  }
  if (opt.name.empty() || opt.country.empty() || roles.empty()) {
    return Usage(sub, "a new participant needs --name, --country and --roles");
  }
  const keys::ParticipantSpec spec{opt.participant, opt.name, Upper(opt.country), roles};
  return Edit(
      sub, opt.registry,
      [&](const RegistryFile& f) { return keys::AddParticipant(f, spec, key, now); },
      [&](uint64_t v) {
        return "added participant " + opt.participant +
               (key_id.empty() ? std::string(" (no key yet)") : " (key " + key_id + ")") +
               " to draft version " + std::to_string(v);
      });
}

}  // namespace

void AddAddCommand(CLI::App& registry, Runner* selected) {
  auto opt = std::make_shared<AddOptions>();
  CLI::App* cmd = registry.add_subcommand(
      "add",
      "Add a participant to the draft, with its key when --pub is given; or, for a participant\n"
      "already listed, add the key in --pub to it.");
  AddRegistryFlag(cmd, opt->registry);
  cmd->add_option("--participant", opt->participant, "participant id, e.g. pk-fwo")->required();
  cmd->add_option("--name", opt->name, "legal name, e.g. \"Frontier Works Organisation\"");
  cmd->add_option("--country", opt->country, "ISO 3166-1 alpha-2 country code, e.g. PK");
  cmd->add_option("--roles", opt->roles,
                  "comma-separated roles: MINE, PROCESSOR, TRADER, LOGISTICS, BUYER, LAB, "
                  "AUDITOR, REGISTRAR (any case)")
      ->delimiter(',');
  cmd->add_option("--pub", opt->pub, "public key file from cairn keygen (ID.pub)");
  cmd->add_option("--valid-from", opt->valid_from,
                  "key valid for events from this time (RFC 3339 or YYYY-MM-DD; default now)");
  Select(cmd, opt, selected, &RunAdd);
}

}  // namespace cairn::client::registry
