// cairn keygen: a new Ed25519 key for a participant (or a node's log), as DIR/ID.key and
// DIR/ID.pub.
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "client/command.h"
#include "common/crypto.h"
#include "keys/key_file.h"
#include "keys/registry.h"

namespace cairn::client {
namespace {

struct KeygenOptions {
  std::string participant;
  std::string out_dir;
  std::string passphrase_file;
  bool json = false;
};

int Fail(const std::string& message) { return ReportError("keygen", InvalidArgument(message)); }

int Run(const KeygenOptions& opt) {
  if (!keys::IsValidParticipantId(opt.participant)) {
    return Fail("--participant \"" + opt.participant +
                "\": want 2 to 40 of a-z, 0-9 and '-', e.g. pk-fwo");
  }
  std::optional<std::string> passphrase;
  if (!opt.passphrase_file.empty()) {
    auto read = keys::ReadPassphraseFile(opt.passphrase_file);
    if (!read.ok()) return Fail(read.status().message());
    passphrase = std::move(read).value();
  }
  KeyPair pair = GenerateKeyPair();
  keys::SigningKey key{opt.participant, KeyIdOf(pair.public_key), pair.public_key,
                       std::move(pair.secret_key)};
  const Status written = keys::WriteKeyFiles(opt.out_dir, key, passphrase);
  keys::WipeSecret(&key);
  if (!written.ok()) return Fail(written.message());
  const std::string key_file = opt.out_dir + "/" + opt.participant + ".key";
  const std::string pub_file = opt.out_dir + "/" + opt.participant + ".pub";
  if (opt.json) {
    const nlohmann::ordered_json out = {{"participant", opt.participant},
                                        {"key_id", key.key_id},
                                        {"key_file", key_file},
                                        {"pub_file", pub_file}};
    std::cout << out.dump(2) << "\n";
  } else {
    std::cout << key.key_id << "\n";
  }
  return kExitOk;
}

}  // namespace

void AddKeygenCommand(CLI::App& root, Runner* selected) {
  auto opt = std::make_shared<KeygenOptions>();
  CLI::App* cmd = root.add_subcommand(
      "keygen",
      "Generate an Ed25519 key: writes DIR/ID.key (secret, mode 0600, sealed with a passphrase "
      "when\n"
      "--passphrase-file is given) and DIR/ID.pub (public), and prints the key id. Never\n"
      "overwrites an existing key. A node's checkpoint key is made the same way, with its log id\n"
      "as --participant. Register the .pub with `cairn registry add` or `cairn registry add-log`.");
  cmd->add_option("--participant", opt->participant, "participant id (or log id), e.g. pk-fwo")
      ->required();
  cmd->add_option("--out", opt->out_dir, "directory for ID.key and ID.pub (created if missing)")
      ->required();
  cmd->add_option("--passphrase-file", opt->passphrase_file,
                  "seal the secret key with the passphrase on this file's first line");
  cmd->add_flag("--json", opt->json, "print {participant, key_id, key_file, pub_file} as JSON");
  cmd->callback([opt, selected] { *selected = [opt] { return Run(*opt); }; });
}

}  // namespace cairn::client
