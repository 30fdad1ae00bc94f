// cairn prove: fetches an event's RFC 9162 inclusion proof and checks it against a fresh signed
// checkpoint, trusting nothing but the registry.
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "client/command.h"
#include "client/node_client.h"
#include "common/crypto.h"
#include "keys/registry.h"
#include "ledger/event.h"
#include "ledger/log_verifier.h"
#include "ledger/proofs.h"

namespace cairn::client {
namespace {

struct ProveOptions {
  NodeOptions node;
  std::string event_id;
  std::string registry;
  bool json = false;
};

struct Proven {
  uint64_t index = 0;
  cairn::v1::Checkpoint checkpoint;
  std::vector<Hash> path;
};

// Checks everything the node sent; any failure is an integrity failure.
Result<Proven> Check(const ProveOptions& opt, const keys::TrustRegistry& registry,
                     const cairn::v1::GetInclusionProofResponse& r) {
  Proven p;
  CAIRN_ASSIGN_OR_RETURN(p.checkpoint, ledger::VerifyCheckpoint(r.checkpoint(), registry));
  cairn::v1::LogEntry entry;
  if (!entry.ParseFromString(r.entry())) return DataLoss("entry does not parse as a LogEntry");
  if (ToHex(ledger::EventId(entry.event().body())) != opt.event_id) {
    return DataLoss("node returned an entry holding another event");
  }
  if (entry.index() != r.leaf_index() || r.proof().leaf_index() != r.leaf_index()) {
    return DataLoss("entry index " + std::to_string(entry.index()) + " and proof leaf index " +
                    std::to_string(r.proof().leaf_index()) + " disagree");
  }
  if (entry.log_id() != p.checkpoint.log_id()) {
    return DataLoss("entry of log " + entry.log_id() + ", checkpoint of log " +
                    p.checkpoint.log_id());
  }
  if (r.proof().tree_size() != p.checkpoint.size()) {
    return DataLoss("proof for tree size " + std::to_string(r.proof().tree_size()) +
                    ", checkpoint of size " + std::to_string(p.checkpoint.size()));
  }
  CAIRN_ASSIGN_OR_RETURN(p.path,
                         ledger::HashesFromProto(r.proof().hashes(), "InclusionProof.hashes"));
  CAIRN_ASSIGN_OR_RETURN(Hash root,
                         ledger::HashFromBytes(p.checkpoint.root_hash(), "Checkpoint.root_hash"));
  if (!ledger::VerifyInclusion(ledger::LeafHash(r.entry()), r.leaf_index(), p.checkpoint.size(),
                               p.path, root)) {
    return DataLoss("inclusion proof does not lead to the signed root " + ToHex(root));
  }
  p.index = r.leaf_index();
  return p;
}

int Run(const ProveOptions& opt) {
  if (!IsLowerHex(opt.event_id, 32)) {
    std::cerr << "cairn prove: event id must be 64 lowercase hex characters\n";
    return kExitUsage;
  }
  auto registry = keys::TrustRegistry::Load(opt.registry);
  if (!registry.ok()) {
    std::cerr << "cairn prove: " << registry.status().message() << "\n";
    return kExitUsage;
  }
  NodeClient client(opt.node);
  cairn::v1::GetInclusionProofRequest request;
  request.set_event_id(opt.event_id);
  cairn::v1::GetInclusionProofResponse response;
  grpc::ClientContext context;
  client.Prepare(context);
  const grpc::Status s = client.stub().GetInclusionProof(&context, request, &response);
  if (!s.ok()) {
    std::cerr << "cairn prove: " << client.FromGrpc(s).ToString() << "\n";
    return kExitUsage;
  }
  auto proven = Check(opt, *registry, response);
  if (opt.json) {
    nlohmann::json j = {{"event_id", opt.event_id}, {"proved", proven.ok()}};
    if (proven.ok()) {
      nlohmann::json path = nlohmann::json::array();
      for (const Hash& h : proven->path) path.push_back(ToHex(h));
      j.update({{"log_id", proven->checkpoint.log_id()},
                {"leaf_index", proven->index},
                {"tree_size", proven->checkpoint.size()},
                {"root_hash", ToHex(proven->checkpoint.root_hash())},
                {"leaf_hash", ToHex(ledger::LeafHash(response.entry()))},
                {"path", path}});
    } else {
      j["problem"] = proven.status().message();
    }
    std::cout << j.dump(2) << "\n";
    return proven.ok() ? kExitOk : kExitIntegrity;
  }
  if (!proven.ok()) {
    std::cout << "FAILED: " << proven.status().message() << "\n";
    return kExitIntegrity;
  }
  std::cout << "proved: event " << opt.event_id << " is entry " << proven->index << " of log "
            << proven->checkpoint.log_id() << "\n"
            << "  in the checkpoint of size " << proven->checkpoint.size() << ", root "
            << ToHex(proven->checkpoint.root_hash()) << ", signed by log key "
            << response.checkpoint().key_id() << "\n"
            << "  leaf hash " << ToHex(ledger::LeafHash(response.entry())) << "\n";
  for (size_t i = 0; i < proven->path.size(); ++i) {
    std::cout << "  path[" << i << "]  " << ToHex(proven->path[i]) << "\n";
  }
  return kExitOk;
}

}  // namespace

void AddProveCommand(CLI::App& root, Runner* selected) {
  auto opt = std::make_shared<ProveOptions>();
  CLI::App* cmd = root.add_subcommand(
      "prove",
      "Prove an event is in the log: fetch its RFC 9162 inclusion proof and check it against the\n"
      "node's latest signed checkpoint (signature checked against the registry).\n"
      "Exit 0 proved, 1 the proof or checkpoint does not verify, 2 usage or I/O error.");
  AddNodeOptions(*cmd, opt->node);
  cmd->add_option("event_id", opt->event_id, "event id (64 hex characters)")->required();
  cmd->add_option("--registry", opt->registry, "trust registry file")->required();
  cmd->add_flag("--json", opt->json, "print as JSON");
  cmd->callback([opt, selected] { *selected = [opt] { return Run(*opt); }; });
}

}  // namespace cairn::client
