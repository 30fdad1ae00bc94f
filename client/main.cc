// cairn: the client for partner systems, auditors and compliance officers.
#include <absl/synchronization/mutex.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "client/command.h"
#include "common/crypto.h"

namespace cairn::client {

void AddNodeOptions(CLI::App& cmd, NodeOptions& options) {
  const char* env = std::getenv("CAIRN_NODE");
  options.node = env != nullptr && *env != '\0' ? env : "127.0.0.1:7400";
  cmd.add_option("--node", options.node, "node address host:port (env CAIRN_NODE)")
      ->capture_default_str();
  cmd.add_option("--timeout", options.timeout_s, "seconds to wait for each call")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
}

int ReportError(const std::string& command, const Status& status) {
  std::cerr << "cairn " << command << ": " << status.ToString() << "\n";
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kPermissionDenied:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kAlreadyExists:
    case StatusCode::kUnauthenticated:
    case StatusCode::kDataLoss:
      return kExitIntegrity;
    default:
      return kExitUsage;
  }
}

}  // namespace cairn::client

int main(int argc, char** argv) {
  using namespace cairn::client;  // NOLINT: function scope
  // Debian's Abseil checks every Mutex lock gRPC takes for deadlock cycles; cairn bench and the
  // long RPCs need none of that bookkeeping.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  if (!cairn::InitCrypto().ok()) {
    std::cerr << "cairn: libsodium failed to initialize\n";
    return kExitUsage;
  }
  CLI::App app{"cairn: submit, read and verify provenance events on a Cairn ledger"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "cairn 0.1.0");
  Runner selected;
  AddKeygenCommand(app, &selected);
  AddRegistryCommand(app, &selected);
  AddSubmitCommand(app, &selected);
  AddGetCommand(app, &selected);
  AddLogCommand(app, &selected);
  AddLotCommand(app, &selected);
  AddCheckpointCommand(app, &selected);
  AddVerifyCommand(app, &selected);
  AddBenchCommand(app, &selected);
  AddProveCommand(app, &selected);
  AddTraceCommand(app, &selected);
  AddExportCommand(app, &selected);
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
