// What the `cairn registry` subcommands share: the error path, times, the read-edit-write of the
// registry file, public key files, and the CLI wiring. One file per subcommand beside this one
// (init.cc, add.cc, ...), each defining its Add...Command.
//
// Changes go into the file's draft of the next version (keys/registry_edit.h); the draft takes
// effect once `threshold` registrars of the version in force have signed it. `show` verifies the
// whole chain of versions before printing anything.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "cairn/v1/registry.pb.h"
#include "client/command.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "keys/key_file.h"
#include "keys/registry.h"
#include "keys/registry_edit.h"

namespace cairn::client::registry {

using cairn::v1::Registry;
using cairn::v1::RegistryFile;

// The registry's receipt tolerance (the consortium rule every node and auditor applies).
uint32_t ReceiptTolerancePpm(const Registry& r);

// Prints "cairn registry <sub>: <message>" and returns the exit code for `status`: 1 when the
// registry or a signature does not verify or a key may not sign, 2 for usage and I/O errors.
// (Editing a registry file is local work: a participant that already exists is a usage error.)
int Fail(const std::string& sub, const Status& status);
// A usage error of `sub` (exit 2).
int Usage(const std::string& sub, const std::string& message);

// Now, in whole seconds: default key and issue times people read in `show`.
int64_t Now();

// Parses an optional time flag (RFC 3339 or YYYY-MM-DD); `fallback` when it was not given.
Result<int64_t> TimeFlag(const std::string& flag, const std::string& text, int64_t fallback);

// Reads the registry, applies `edit`, writes it back, and reports the change: `describe`'s line,
// a note when the change invalidated signatures on the draft, and how many it now needs.
int Edit(const std::string& sub, const std::string& path,
         const std::function<Result<keys::DraftEdit>(const RegistryFile&)>& edit,
         const std::function<std::string(uint64_t)>& describe);

// Reads a .pub (or .key) file and checks it was made for `owner`.
Result<keys::PublicKeyFile> ReadPubFor(const std::string& path, const std::string& owner);

// Runs `run(*opt)` when `cmd` is the command chosen.
template <typename Options>
void Select(CLI::App* cmd, std::shared_ptr<Options> opt, Runner* selected,
            int (*run)(const Options&)) {
  cmd->callback([opt, selected, run] { *selected = [opt, run] { return run(*opt); }; });
}

// The --registry FILE option every subcommand takes.
void AddRegistryFlag(CLI::App* cmd, std::string& path);

void AddInitCommand(CLI::App& registry, Runner* selected);
void AddAddCommand(CLI::App& registry, Runner* selected);
void AddAddLogCommand(CLI::App& registry, Runner* selected);
void AddRotateCommand(CLI::App& registry, Runner* selected);
void AddRevokeCommand(CLI::App& registry, Runner* selected);
void AddSetThresholdCommand(CLI::App& registry, Runner* selected);
void AddSetRulesCommand(CLI::App& registry, Runner* selected);
void AddSignCommand(CLI::App& registry, Runner* selected);
void AddShowCommand(CLI::App& registry, Runner* selected);

}  // namespace cairn::client::registry
