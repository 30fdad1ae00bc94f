// cairn registry sign
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "client/registry/registry_cli.h"

namespace cairn::client::registry {
namespace {

struct SignOptions {
  std::string registry;
  std::string key_file;
  std::string passphrase_file;
};

int RunSign(const SignOptions& opt) {
  const std::string sub = "sign";
  auto file = keys::ReadRegistryFile(opt.registry);
  if (!file.ok()) return Fail(sub, file.status());
  std::optional<std::string> passphrase;
  if (!opt.passphrase_file.empty()) {
    auto read = keys::ReadPassphraseFile(opt.passphrase_file);
    if (!read.ok()) return Fail(sub, read.status());
    passphrase = std::move(read).value();
  }
  auto key = keys::ReadSigningKey(opt.key_file, passphrase);
  if (!key.ok()) {
    // A key that cannot be read is a usage problem, not a verification failure.
    std::cerr << "cairn registry sign: " << key.status().message()
              << (key.status().code() == StatusCode::kPermissionDenied && !passphrase.has_value()
                      ? " (use --passphrase-file)"
                      : "")
              << "\n";
    return kExitUsage;
  }
  auto signed_file = keys::SignPending(*file, *key);
  keys::WipeSecret(&*key);
  if (!signed_file.ok()) return Fail(sub, signed_file.status());
  if (Status s = keys::WriteRegistryFile(opt.registry, signed_file->file); !s.ok()) {
    return Fail(sub, s);
  }
  std::cout << "signed version " << signed_file->version << " (" << signed_file->signatures
            << " of " << signed_file->threshold << " signatures): "
            << (signed_file->in_force ? "now in force" : "waiting for more signatures") << "\n";
  return kExitOk;
}

}  // namespace

void AddSignCommand(CLI::App& registry, Runner* selected) {
  auto opt = std::make_shared<SignOptions>();
  CLI::App* cmd = registry.add_subcommand(
      "sign",
      "Sign the draft with a registrar's key. A key counts when it belongs to a REGISTRAR of "
      "the\n"
      "version in force (for version 1, of the draft itself); when the threshold is met the\n"
      "draft becomes the version in force.");
  AddRegistryFlag(cmd, opt->registry);
  cmd->add_option("--key", opt->key_file, "the registrar's secret key file (ID.key)")->required();
  cmd->add_option("--passphrase-file", opt->passphrase_file,
                  "file whose first line is the key's passphrase (for a sealed key)");
  Select(cmd, opt, selected, &RunSign);
}

}  // namespace cairn::client::registry
