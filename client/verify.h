// cairn verify's three modes, each in its own file: --log (verify_log.cc), --lot and --bundle
// (cmd_verify.cc). Each returns an exit code of command.h.
#pragma once

#include <string>

#include "client/command.h"

namespace cairn::client {

struct VerifyLogOptions {
  NodeOptions node;
  std::string registry;
  bool json = false;
};

// Fetches the node's signed checkpoint and every entry it covers and checks them with
// ledger::LogVerifier. Exit 0 verified, 1 integrity failure naming the first bad index, 2 usage or
// I/O error, 4 a key the registry does not list.
int VerifyLog(const VerifyLogOptions& opt);

}  // namespace cairn::client
