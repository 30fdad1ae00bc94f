// cairn verify's three modes, each in its own file: --log (verify_log.cc), --lot and --bundle
// (cmd_verify.cc). Each returns an exit code of command.h.
#pragma once

#include <string>

#include "client/command.h"
#include "client/trust_state.h"

namespace cairn::client {

struct VerifyLogOptions {
  NodeOptions node;
  StateOptions state;
  std::string registry;
  bool json = false;
  bool quiet = false;
  // A checkpoint saved earlier (`cairn checkpoint -o`, JSON or binary): the log must extend it.
  std::string consistent_with = {};
};

// Fetches the node's signed checkpoint and every entry it covers and checks them with
// ledger::LogVerifier. With `consistent_with`, also checks the saved checkpoint's signature and
// that the node's first saved-size entries have its root (the log was not truncated, rewritten
// or forked since). Exit 0 verified, 1 integrity failure naming the first bad index (or the saved
// checkpoint the log does not extend), 2 usage or I/O error, 4 a key the registry does not list.
int VerifyLog(const VerifyLogOptions& opt);

// Adds --consistent-with to a command that runs VerifyLog. `opt` must remain live while `cmd`
// parses.
void AddVerifyLogFlags(CLI::App& cmd, VerifyLogOptions& opt);

}  // namespace cairn::client
