// cairn checkpoint: the node's latest signed checkpoint, checked against the registry.
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "client/command.h"
#include "client/node_client.h"
#include "common/clock.h"
#include "keys/registry.h"
#include "ledger/log_verifier.h"

namespace cairn::client {
namespace {

struct CheckpointOptions {
  NodeOptions node;
  std::string registry;
  std::string out;
  bool json = false;
};

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
  cairn::v1::Checkpoint checkpoint;
  std::string verified = "not checked (no --registry)";
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
    std::cout << j.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << "log        " << checkpoint.log_id() << "\n"
            << "size       " << checkpoint.size() << "\n"
            << "root       " << ToHex(checkpoint.root_hash()) << "\n"
            << "timestamp  " << FormatTime(ToMicros(checkpoint.timestamp())) << "\n"
            << "key        " << signed_checkpoint.key_id() << "\n"
            << "signature  " << verified << "\n";
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
  cmd->add_flag("--json", opt->json, "print as JSON");
  cmd->callback([opt, selected] { *selected = [opt] { return Run(*opt); }; });
}

}  // namespace cairn::client
