// cairn checkpoint: the node's latest signed checkpoint, checked against the registry.
#include <google/protobuf/util/json_util.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "client/bundle_io.h"
#include "client/command.h"
#include "client/node_client.h"
#include "client/trust_state.h"
#include "common/clock.h"
#include "keys/registry.h"
#include "ledger/log_verifier.h"
#include "ledger/proofs.h"

namespace cairn::client {
namespace {

struct CheckpointOptions {
  NodeOptions node;
  StateOptions state;
  std::string registry;
  std::string out;
  bool force = false;
  std::string consistent_with;
  bool json = false;
  bool quiet = false;
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
  const Status extends = VerifyExtends(saved, now, ProverOf(client));
  if (extends.code() == StatusCode::kDataLoss) {
    return DataLoss("the log of size " + std::to_string(now.size()) + " (root " +
                    ToHex(now.root_hash()) + ") does not extend the saved checkpoint of size " +
                    std::to_string(saved.size()) + " (root " + ToHex(saved.root_hash()) +
                    "): entries before it were changed");
  }
  return extends;
}

const char* OutcomeWords(TrustState::Outcome outcome) {
  switch (outcome) {
    case TrustState::Outcome::kFirst:
      return "first seen: remembered";
    case TrustState::Outcome::kSame:
      return "the same as last verified";
    case TrustState::Outcome::kExtended:
      return "extends the checkpoint last verified (consistency proof checked): remembered";
    case TrustState::Outcome::kBehind:
      return "behind the checkpoint last verified";
    case TrustState::Outcome::kUnproved:
      return "larger than last verified, not proved";
  }
  return "";
}

int Run(const CheckpointOptions& opt) {
  if (!opt.consistent_with.empty() && opt.registry.empty()) {
    return ReportError("checkpoint", InvalidArgument("--consistent-with needs --registry"));
  }
  std::optional<keys::TrustRegistry> registry;
  if (!opt.registry.empty()) {
    auto loaded = keys::TrustRegistry::Load(opt.registry);
    if (!loaded.ok()) return ReportError("checkpoint", loaded.status());
    registry = std::move(loaded).value();
  }
  NodeClient client(opt.node);
  cairn::v1::SignedCheckpoint signed_checkpoint;
  const Status got = client.Call(&cairn::v1::Ledger::Stub::GetCheckpoint,
                                 cairn::v1::GetCheckpointRequest(), &signed_checkpoint);
  if (!got.ok()) return ReportError("checkpoint", got);
  cairn::v1::Checkpoint checkpoint;
  std::string verified = "not checked (no --registry)";
  std::string consistency;
  std::string remembered;
  TrustState state(opt.state);
  if (registry) {
    auto checked = ledger::VerifyCheckpoint(signed_checkpoint, *registry);
    if (!checked.ok()) {
      return ReportError("checkpoint", WithRegistryHint(checked.status(), opt.registry));
    }
    checkpoint = *checked;
    verified = "signature verified against registry version " + std::to_string(registry->version());
    // Before anything else of the answer is believed: does it extend what was verified before?
    auto outcome = state.Check(signed_checkpoint, checkpoint, ProverOf(client));
    if (!outcome.ok()) return ReportError("checkpoint", outcome.status());
    if (state.enabled()) remembered = OutcomeWords(*outcome);
    if (!opt.consistent_with.empty()) {
      auto saved_signed = ReadSavedCheckpoint(opt.consistent_with);
      if (!saved_signed.ok()) return ReportError("checkpoint", saved_signed.status());
      auto saved = ledger::VerifyCheckpoint(*saved_signed, *registry);
      if (!saved.ok()) {
        return ReportError(
            "checkpoint",
            WithRegistryHint(saved.status(), opt.registry).WithPrefix(opt.consistent_with));
      }
      const Status consistent = CheckConsistency(client, *saved, checkpoint);
      if (!consistent.ok()) {
        if (!opt.quiet && consistent.code() == StatusCode::kDataLoss && !opt.json) {
          std::cout << "INCONSISTENT: " << consistent.message() << "\n";
          return kExitIntegrity;
        }
        return ReportError(
            "checkpoint", consistent,
            {{"consistent", false}, {"saved_size", saved->size()}, {"size", checkpoint.size()}});
      }
      consistency = "the saved checkpoint of size " + std::to_string(saved->size()) +
                    " is a prefix of this one (RFC 9162 consistency proof checked)";
    }
  } else if (!checkpoint.ParseFromString(signed_checkpoint.checkpoint())) {
    return ReportError("checkpoint", DataLoss("node sent a checkpoint that does not parse"));
  }
  if (!opt.out.empty()) {
    const Status written = WriteOutputFile(opt.out, ToJson(signed_checkpoint) + "\n", opt.force);
    if (!written.ok()) return ReportError("checkpoint", written);
    if (opt.out == "-") return kExitOk;  // stdout holds the checkpoint file
  }
  if (opt.quiet) return kExitOk;
  if (opt.json) {
    nlohmann::json j = {{"log_id", checkpoint.log_id()},
                        {"size", checkpoint.size()},
                        {"root_hash", ToHex(checkpoint.root_hash())},
                        {"timestamp", FormatTime(ToMicros(checkpoint.timestamp()))},
                        {"key_id", signed_checkpoint.key_id()},
                        {"signature", ToHex(signed_checkpoint.signature())},
                        {"verified", registry.has_value()}};
    if (!consistency.empty()) j["consistent"] = true;
    if (!remembered.empty()) j["state"] = {{"dir", state.dir()}, {"outcome", remembered}};
    std::cout << j.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << "log        " << checkpoint.log_id() << "\n"
            << "size       " << checkpoint.size() << "\n"
            << "root       " << ToHex(checkpoint.root_hash()) << "\n"
            << "timestamp  " << FormatTime(ToMicros(checkpoint.timestamp())) << "\n"
            << "key        " << signed_checkpoint.key_id() << "\n"
            << "signature  " << verified << "\n";
  if (!remembered.empty()) std::cout << "state      " << remembered << "\n";
  if (!consistency.empty()) std::cout << "consistent " << consistency << "\n";
  return kExitOk;
}

}  // namespace

void AddCheckpointCommand(CLI::App& root, Runner* selected) {
  auto opt = std::make_shared<CheckpointOptions>();
  CLI::App* cmd = root.add_subcommand(
      "checkpoint",
      "Show the node's latest signed checkpoint (log size and Merkle root). With --registry the\n"
      "signature is checked against the log's key (exit 1 if it does not verify), and the\n"
      "checkpoint against the one last verified of this log (--state): a smaller log (rollback)\n"
      "or one that does not extend it (fork) is refused with exit 1; a larger one is remembered.");
  AddNodeOptions(*cmd, opt->node);
  AddStateOptions(*cmd, opt->state);
  cmd->add_option("--registry", opt->registry, "registry file to check the signature against");
  cmd->add_option("-o,--output", opt->out,
                  "also save the signed checkpoint (JSON) to this file ('-': stdout only)");
  cmd->add_flag("--force", opt->force, "let --output overwrite an existing file");
  cmd->add_flag("-q,--quiet", opt->quiet, "print nothing; the exit code says it all");
  cmd->add_option("--consistent-with", opt->consistent_with,
                  "a checkpoint saved earlier (-o): prove it is a prefix of today's log "
                  "(exit 1 if not)");
  cmd->add_flag("--json", opt->json, "print as JSON");
  cmd->callback([opt, selected] { *selected = [opt] { return Run(*opt); }; });
}

}  // namespace cairn::client
