// cairn: the client for partner systems, auditors and compliance officers.
#include <absl/synchronization/mutex.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>

#include "client/command.h"
#include "common/crypto.h"

int main(int argc, char** argv) {
  using namespace cairn::client;  // NOLINT: function scope
  // Debian's Abseil checks every Mutex lock gRPC takes for deadlock cycles; the long RPCs need
  // none of that bookkeeping.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  if (!cairn::InitCrypto().ok()) {
    std::cerr << "cairn: libsodium failed to initialize\n";
    return kExitUsage;
  }
  CLI::App app{"cairn: submit, read and verify provenance events on a Cairn ledger"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "cairn " CAIRN_VERSION);
  Runner selected;
  AddKeygenCommand(app, &selected);
  AddRegistryCommand(app, &selected);
  AddSubmitCommand(app, &selected);
  AddGetCommand(app, &selected);
  AddLogCommand(app, &selected);
  AddLotCommand(app, &selected);
  AddCheckpointCommand(app, &selected);
  AddVerifyCommand(app, &selected);
  AddProveCommand(app, &selected);
  AddTraceCommand(app, &selected);
  AddExportCommand(app, &selected);
  AddStatusCommand(app, &selected);
  AddForksCommand(app, &selected);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  if (!selected) {
    std::cerr << "cairn: no command given; see cairn --help\n";
    return kExitUsage;
  }
  return selected();
}
