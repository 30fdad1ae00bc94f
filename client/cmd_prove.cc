// cairn prove: fetches an event's RFC 9162 inclusion proof and checks it against a fresh signed
// checkpoint, trusting nothing but the registry.
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "client/command.h"
#include "client/node_client.h"
#include "client/trust_state.h"
#include "common/crypto.h"
#include "keys/registry.h"
#include "ledger/event.h"
#include "ledger/log_verifier.h"
#include "ledger/proofs.h"

namespace cairn::client {
namespace {

struct ProveOptions {
  NodeOptions node;
  StateOptions state;
  std::string event_id;  // as typed: 64 hex characters or a unique prefix
  std::optional<uint64_t> index;
  std::string registry;
  bool json = false;
  bool quiet = false;
};

struct Proven {
  uint64_t index = 0;
  cairn::v1::Checkpoint checkpoint;
  std::vector<Hash> path;
};

// Checks everything the node sent; any failure is an integrity failure.
// `checkpoint` is the response's, already verified.
Result<Proven> Check(const std::string& event_id, const std::optional<uint64_t>& index,
                     const cairn::v1::Checkpoint& checkpoint,
                     const cairn::v1::GetInclusionProofResponse& r) {
  Proven p;
  p.checkpoint = checkpoint;
  cairn::v1::LogEntry entry;
  if (!entry.ParseFromString(r.entry())) return DataLoss("entry does not parse as a LogEntry");
  if (!event_id.empty() && ToHex(ledger::EventId(entry.event().body())) != event_id) {
    return DataLoss("node returned an entry holding another event");
  }
  if (index && r.leaf_index() != *index) {
    return DataLoss("node returned entry " + std::to_string(r.leaf_index()) + " when asked for " +
                    std::to_string(*index));
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
  if (opt.index.has_value() == !opt.event_id.empty()) {
    return ReportError("prove",
                       InvalidArgument("give an event id (or a unique prefix) or --index N"));
  }
  auto registry = keys::TrustRegistry::Load(opt.registry);
  if (!registry.ok()) return ReportError("prove", registry.status());
  NodeClient client(opt.node);
  std::string event_id;
  cairn::v1::GetInclusionProofRequest request;
  if (opt.index) {
    request.set_leaf_index(*opt.index);
  } else {
    auto resolved = ResolveEventId(client, opt.event_id);
    if (!resolved.ok()) return ReportError("prove", resolved.status());
    event_id = *resolved;
    request.set_event_id(event_id);
  }
  cairn::v1::GetInclusionProofResponse response;
  const Status s = client.Call(&cairn::v1::Ledger::Stub::GetInclusionProof, request, &response);
  if (!s.ok()) return ReportError("prove", s);
  auto checkpoint = ledger::VerifyCheckpoint(response.checkpoint(), *registry);
  if (!checkpoint.ok()) {
    return ReportError("prove", WithRegistryHint(checkpoint.status(), opt.registry));
  }
  // The checkpoint must extend the one last verified before its proof means anything.
  TrustState state(opt.state);
  auto outcome = state.Check(response.checkpoint(), *checkpoint, ProverOf(client));
  if (!outcome.ok()) return ReportError("prove", outcome.status());
  if (event_id.empty()) {
    cairn::v1::LogEntry entry;
    if (entry.ParseFromString(response.entry())) {
      event_id = ToHex(ledger::EventId(entry.event().body()));
    }
  }
  auto proven = Check(event_id, opt.index, *checkpoint, response);
  if (opt.quiet) return proven.ok() ? kExitOk : kExitIntegrity;
  if (opt.json) {
    nlohmann::json j = {{"event_id", event_id}, {"proved", proven.ok()}};
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
      j["error"] = {{"code", StatusCodeName(proven.status().code())},
                    {"message", proven.status().message()},
                    {"exit_code", kExitIntegrity}};
    }
    std::cout << j.dump(2) << "\n";
    return proven.ok() ? kExitOk : kExitIntegrity;
  }
  if (!proven.ok()) {
    std::cout << "FAILED: " << proven.status().message() << "\n";
    return kExitIntegrity;
  }
  std::cout << "proved: event " << event_id << " is entry " << proven->index << " of log "
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
      "The checkpoint must extend the one last verified of the log (--state).\n"
      "Exit 0 proved, 1 the proof or checkpoint does not verify (or the node refused), 2 usage\n"
      "or I/O error, or an ambiguous id prefix.");
  AddNodeOptions(*cmd, opt->node);
  AddStateOptions(*cmd, opt->state);
  CLI::Option* id = cmd->add_option("event_id", opt->event_id,
                                    "event id: 64 hex characters, or a unique prefix of 8 or more");
  id->excludes(cmd->add_option("--index", opt->index,
                               "instead of an id: the entry at this index of the node's log"));
  cmd->add_flag("-q,--quiet", opt->quiet, "print nothing; the exit code says it all");
  cmd->add_option("--registry", opt->registry, "trust registry file")->required();
  cmd->add_flag("--json", opt->json, "print as JSON");
  cmd->callback([opt, selected] { *selected = [opt] { return Run(*opt); }; });
}

}  // namespace cairn::client
