// The `cairn` command table: each subcommand lives in its own file as an options struct, a
// Setup that declares its flags, and a Run that returns an exit code.
//
// A command file adds itself with an Add<Name>Command(root, selected) function: it creates the
// CLI11 subcommand and, when the subcommand is chosen, stores in *selected the function main() runs
// after parsing. Errors are printed to stderr as one line: "cairn <cmd>: <message>".
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "common/status.h"
#include "common/tls.h"

namespace cairn::client {

// Exit codes scripts rely on (DESIGN.md).
enum ExitCode : int {
  kExitOk = 0,          // verified and compliant / command succeeded
  kExitIntegrity = 1,   // integrity failure; a refusal by the node
  kExitUsage = 2,       // usage or I/O error, node unreachable
  kExitRestricted = 3,  // restricted source found
  kExitIncomplete = 4,  // lineage incomplete (missing events, unknown keys)
};

using Runner = std::function<int()>;

// Options shared by commands that talk to a node.
struct NodeOptions {
  // host:port of a cairnd; default from $CAIRN_NODE, else 127.0.0.1:7400.
  std::string node;
  // Per-call deadline.
  int timeout_s = 30;
  // TLS to the node (--ca, --cert, --key; env CAIRN_CA, CAIRN_CERT, CAIRN_KEY); plaintext when
  // all are empty.
  ClientTls tls;
};
// --node, --timeout and the TLS options --ca, --cert, --cert-key (also --key, unless
// `key_means_signing_key`: submit and bench sign with --key).
void AddNodeOptions(CLI::App& cmd, NodeOptions& options, bool key_means_signing_key = false);

// Prints "cairn <command>: <status message>" to stderr and returns kExitUsage (or kExitIntegrity
// for a refusal the node gave: INVALID_ARGUMENT, PERMISSION_DENIED, FAILED_PRECONDITION,
// ALREADY_EXISTS, UNAUTHENTICATED).
int ReportError(const std::string& command, const Status& status);

void AddKeygenCommand(CLI::App& root, Runner* selected);
void AddRegistryCommand(CLI::App& root, Runner* selected);
void AddSubmitCommand(CLI::App& root, Runner* selected);
void AddGetCommand(CLI::App& root, Runner* selected);
void AddLogCommand(CLI::App& root, Runner* selected);
void AddLotCommand(CLI::App& root, Runner* selected);
void AddCheckpointCommand(CLI::App& root, Runner* selected);
void AddVerifyCommand(CLI::App& root, Runner* selected);
void AddProveCommand(CLI::App& root, Runner* selected);
void AddTraceCommand(CLI::App& root, Runner* selected);
void AddExportCommand(CLI::App& root, Runner* selected);
void AddStatusCommand(CLI::App& root, Runner* selected);
void AddForksCommand(CLI::App& root, Runner* selected);

}  // namespace cairn::client
