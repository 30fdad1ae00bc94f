// cairn verify's three modes, each in its own file: --log (verify_log.cc), --lot and --bundle
// (cmd_verify.cc). Each returns an exit code of command.h.
#pragma once

#include <string>
#include <vector>

#include "cairn/v1/log.pb.h"
#include "client/command.h"
#include "client/node_client.h"
#include "client/trust_state.h"
#include "keys/registry.h"

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

// A log the node holds, read whole: its checkpoint there and the entries it covers (stored bytes).
struct FetchedLog {
  std::string log_id;
  cairn::v1::SignedCheckpoint checkpoint;
  std::vector<std::string> entries;
};

// The node's replica of `log_id`, read through Federation.Follow as of the replica's checkpoint
// (not checked here: LogVerifier or FetchWholeLog check it). `size_hint` stretches the deadline.
Result<FetchedLog> FollowReplica(NodeClient& client, const std::string& log_id, uint64_t size_hint,
                                 const NodeOptions& node);

// Every entry of log `log_id` as the node holds it (its own log through Ledger.GetEntries, or a
// replica through Federation.Follow), checked to be the whole log: the checkpoint's signature by
// the log's key in `registry`, and the entries' Merkle root equal to its signed root. DATA_LOSS
// when they are not; what the node says (NOT_FOUND for a log it does not hold) otherwise. An empty
// `log_id`: the node's own log.
Result<FetchedLog> FetchWholeLog(NodeClient& client, const keys::TrustRegistry& registry,
                                 const std::string& log_id, const NodeOptions& node);

// Adds --consistent-with to a command that runs VerifyLog. `opt` must remain live while `cmd`
// parses.
void AddVerifyLogFlags(CLI::App& cmd, VerifyLogOptions& opt);

}  // namespace cairn::client
