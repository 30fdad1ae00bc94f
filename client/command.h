// The `cairn` command table: each subcommand lives in its own file as an options struct, a
// Setup that declares its flags, and a Run that returns an exit code.
//
// A command file adds itself with an Add<Name>Command(root, selected) function: it creates the
// CLI11 subcommand and, when the subcommand is chosen, stores in *selected the function main() runs
// after parsing. Errors are printed to stderr as one line: "cairn <cmd>: <message>".
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <nlohmann/json.hpp>
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
  // Where `node` came from, for "cannot reach" messages: "--node", "CAIRN_NODE" or "default".
  std::string node_source = "default";
  // Per-call deadline.
  int timeout_s = 30;
  // TLS to the node (--ca, --cert, --key; env CAIRN_CA, CAIRN_CERT, CAIRN_KEY); plaintext when
  // all are empty.
  ClientTls tls;
};
// --node, --timeout and the TLS options --ca, --cert, --cert-key (also --key, unless
// `key_means_signing_key`: submit and bench sign with --key).
void AddNodeOptions(CLI::App& cmd, NodeOptions& options, bool key_means_signing_key = false);

// The one mapping from a failure to an exit code, for every command:
//   kExitIntegrity (1) for any answer of the node that is not success (a refusal, NOT_FOUND,
//     OUT_OF_RANGE: status.remote()) and for integrity failures found here (DATA_LOSS,
//     UNAUTHENTICATED, PERMISSION_DENIED, FAILED_PRECONDITION, ALREADY_EXISTS);
//   kExitUsage (2) for usage and I/O errors and for a node that cannot be reached (UNAVAILABLE,
//     DEADLINE_EXCEEDED).
int ExitCodeOf(const Status& status);

// The one error path. Prints "cairn <command>: <CODE>: <message>" on stderr and, when the
// command was given --json (SetJsonErrors), {"error": {"code", "message", "exit_code"}} on
// stdout, with the members of `extra` (an object) beside "error". Returns ExitCodeOf(status).
int ReportError(const std::string& command, const Status& status,
                const nlohmann::json& extra = nlohmann::json::object());

// Set by main when the chosen command was given --json: failures are then also printed as JSON.
void SetJsonErrors(bool on);
// Set by main when the chosen command was given --quiet: failures print nothing.
void SetQuiet(bool on);
bool JsonErrors();

// The hint added to a checkpoint or proof that does not verify under the registry given.
Status WithRegistryHint(const Status& status, const std::string& registry_path);

void AddKeygenCommand(CLI::App& root, Runner* selected);
void AddRegistryCommand(CLI::App& root, Runner* selected);
void AddSubmitCommand(CLI::App& root, Runner* selected);
void AddGetCommand(CLI::App& root, Runner* selected);
void AddLogCommand(CLI::App& root, Runner* selected);
void AddLotCommand(CLI::App& root, Runner* selected);
void AddCheckpointCommand(CLI::App& root, Runner* selected);
void AddVerifyCommand(CLI::App& root, Runner* selected);
void AddReportCommand(CLI::App& root, Runner* selected);
void AddProveCommand(CLI::App& root, Runner* selected);
void AddTraceCommand(CLI::App& root, Runner* selected);
void AddExportCommand(CLI::App& root, Runner* selected);
void AddStatusCommand(CLI::App& root, Runner* selected);
void AddForksCommand(CLI::App& root, Runner* selected);

}  // namespace cairn::client
