// cairn checkpoint: the node's latest signed checkpoint, checked against the registry.
#include <google/protobuf/util/json_util.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "client/bundle_io.h"
#include "client/command.h"
#include "client/node_client.h"
#include "common/clock.h"
#include "keys/registry.h"
#include "ledger/log_verifier.h"
#include "ledger/proofs.h"

namespace cairn::client {
namespace {

struct CheckpointOptions {
  NodeOptions node;
  std::string registry;
  std::string out;
  std::string consistent_with;
  bool json = false;
};

// Proves the saved checkpoint's tree is a prefix of the current one. DATA_LOSS when it is not:
// the log was rewritten, truncated or forked after the saved checkpoint was signed.
Status CheckConsistency(NodeClient& client, const cairn::v1::Checkpoint& saved,
                        const cairn::v1::Checkpoint& now) {
  if (saved.log_id() != now.log_id()) {
    return InvalidArgument("saved checkpoint is of log " + saved.log_id() + ", node serves log " +
                           now.log_id());
  }
  if (saved.size() > now.size()) {
    return DataLoss("log shrank: saved checkpoint has " + std::to_string(saved.size()) +
                    " entries, the node's has " + std::to_string(now.size()));
  }
  cairn::v1::GetConsistencyProofRequest request;
  request.set_old_size(saved.size());
  request.set_new_size(now.size());
  cairn::v1::GetConsistencyProofResponse response;
  grpc::ClientContext context;
  client.Prepare(context);
  const grpc::Status s = client.stub().GetConsistencyProof(&context, request, &response);
  if (!s.ok()) return client.FromGrpc(s);
  CAIRN_ASSIGN_OR_RETURN(
      auto path, ledger::HashesFromProto(response.proof().hashes(), "ConsistencyProof.hashes"));
  CAIRN_ASSIGN_OR_RETURN(Hash old_root, ledger::HashFromBytes(saved.root_hash(), "saved root"));
  CAIRN_ASSIGN_OR_RETURN(Hash new_root, ledger::HashFromBytes(now.root_hash(), "current root"));
  if (!ledger::VerifyConsistency(saved.size(), now.size(), old_root, new_root, path)) {
    return DataLoss("the log of size " + std::to_string(now.size()) + " (root " + ToHex(new_root) +
                    ") does not extend the saved checkpoint of size " +
                    std::to_string(saved.size()) + " (root " + ToHex(old_root) +
                    "): entries before it were changed");
  }
  return Status::Ok();
}

int Run(const CheckpointOptions& opt) {
  NodeClient client(opt.node);
  cairn::v1::SignedCheckpoint signed_checkpoint;
  grpc::ClientContext context;
  client.Prepare(context);
  const grpc::Status s =
      client.stub().GetCheckpoint(&context, cairn::v1::GetCheckpointRequest(), &signed_checkpoint);
  if (!s.ok()) {
    std::cerr << "cairn checkpoint: " << client.FromGrpc(s).ToString() << "\n";
    return kExitUsage;
  }
  if (!opt.consistent_with.empty() && opt.registry.empty()) {
    std::cerr << "cairn checkpoint: --consistent-with needs --registry\n";
    return kExitUsage;
  }
  cairn::v1::Checkpoint checkpoint;
  std::string verified = "not checked (no --registry)";
  std::string consistency;
  if (!opt.registry.empty()) {
    auto registry = keys::TrustRegistry::Load(opt.registry);
    if (!registry.ok()) {
      std::cerr << "cairn checkpoint: " << registry.status().message() << "\n";
      return kExitUsage;
    }
    auto checked = ledger::VerifyCheckpoint(signed_checkpoint, *registry);
    if (!checked.ok()) return ReportError("checkpoint", checked.status());
    checkpoint = *checked;
    verified = "signature verified against registry version " + std::to_string(registry->version());
    if (!opt.consistent_with.empty()) {
      auto saved_signed = ReadSavedCheckpoint(opt.consistent_with);
      if (!saved_signed.ok()) {
        std::cerr << "cairn checkpoint: " << saved_signed.status().message() << "\n";
        return kExitUsage;
      }
      auto saved = ledger::VerifyCheckpoint(*saved_signed, *registry);
      if (!saved.ok()) {
        return ReportError("checkpoint", saved.status().WithPrefix(opt.consistent_with));
      }
      const Status consistent = CheckConsistency(client, *saved, checkpoint);
      if (!consistent.ok()) {
        if (opt.json) {
          std::cout << nlohmann::json({{"consistent", false},
                                       {"saved_size", saved->size()},
                                       {"size", checkpoint.size()},
                                       {"problem", consistent.message()}})
                           .dump(2)
                    << "\n";
        } else {
          std::cout << "INCONSISTENT: " << consistent.message() << "\n";
        }
        return consistent.code() == StatusCode::kDataLoss ? kExitIntegrity
                                                          : ReportError("checkpoint", consistent);
      }
      consistency = "the saved checkpoint of size " + std::to_string(saved->size()) +
                    " is a prefix of this one (RFC 9162 consistency proof checked)";
    }
  } else if (!checkpoint.ParseFromString(signed_checkpoint.checkpoint())) {
    return ReportError("checkpoint", DataLoss("node sent a checkpoint that does not parse"));
  }
  if (!opt.out.empty()) {
    std::ofstream out(opt.out, std::ios::trunc);
    out << ToJson(signed_checkpoint) << "\n";
    if (!out.good()) {
      std::cerr << "cairn checkpoint: cannot write " << opt.out << "\n";
      return kExitUsage;
    }
  }
  if (opt.json) {
    nlohmann::json j = {{"log_id", checkpoint.log_id()},
                        {"size", checkpoint.size()},
                        {"root_hash", ToHex(checkpoint.root_hash())},
                        {"timestamp", FormatTime(ToMicros(checkpoint.timestamp()))},
                        {"key_id", signed_checkpoint.key_id()},
                        {"signature", ToHex(signed_checkpoint.signature())},
                        {"verified", !opt.registry.empty()}};
    if (!consistency.empty()) j["consistent"] = true;
    std::cout << j.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << "log        " << checkpoint.log_id() << "\n"
            << "size       " << checkpoint.size() << "\n"
            << "root       " << ToHex(checkpoint.root_hash()) << "\n"
            << "timestamp  " << FormatTime(ToMicros(checkpoint.timestamp())) << "\n"
            << "key        " << signed_checkpoint.key_id() << "\n"
            << "signature  " << verified << "\n";
  if (!consistency.empty()) std::cout << "consistent " << consistency << "\n";
  return kExitOk;
}

}  // namespace

void AddCheckpointCommand(CLI::App& root, Runner* selected) {
  auto opt = std::make_shared<CheckpointOptions>();
  CLI::App* cmd = root.add_subcommand(
      "checkpoint",
      "Show the node's latest signed checkpoint (log size and Merkle root). With --registry the\n"
      "signature is checked against the log's key (exit 1 if it does not verify).");
  AddNodeOptions(*cmd, opt->node);
  cmd->add_option("--registry", opt->registry, "registry file to check the signature against");
  cmd->add_option("-o,--out", opt->out, "also save the signed checkpoint (JSON) to this file");
  cmd->add_option("--consistent-with", opt->consistent_with,
                  "a checkpoint saved earlier (-o): prove it is a prefix of today's log "
                  "(exit 1 if not)");
  cmd->add_flag("--json", opt->json, "print as JSON");
  cmd->callback([opt, selected] { *selected = [opt] { return Run(*opt); }; });
}

}  // namespace cairn::client
