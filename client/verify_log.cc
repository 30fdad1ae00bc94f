// cairn verify --log: walks a node's whole log without trusting the node — every entry's chain
// link, every signature against the registry (key valid when the event occurred, not revoked when
// it was appended), every custody rule replayed in memory, and the Merkle root against the node's
// signed checkpoint.
#include <algorithm>
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>

#include "client/node_client.h"
#include "client/verify.h"
#include "keys/registry.h"
#include "ledger/log_verifier.h"

namespace cairn::client {
namespace {

int FinishLog(const VerifyLogOptions& opt, const std::string& log_id, const ledger::LogVerdict& v) {
  const bool ok = !v.bad_index.has_value();
  const int code = ok ? kExitOk : (v.unknown_key ? kExitIncomplete : kExitIntegrity);
  if (opt.json) {
    nlohmann::json j = {{"verified", ok},
                        {"log_id", log_id},
                        {"entries_checked", v.entries_checked},
                        {"root_hash", v.root_hex},
                        {"exit_code", code}};
    if (!ok) {
      j["bad_index"] = *v.bad_index;
      j["problem"] = v.problem.message();
      j["problem_code"] = StatusCodeName(v.problem.code());
    }
    std::cout << j.dump(2) << "\n";
  } else if (ok) {
    std::cout << "verified: log " << log_id << ", " << v.entries_checked
              << " entries; every signature, chain link and custody rule holds; root " << v.root_hex
              << " matches the signed checkpoint\n";
  } else {
    std::cout << (code == kExitIncomplete ? "INCOMPLETE" : "FAILED") << ": log " << log_id
              << " entry " << *v.bad_index << ": " << v.problem.message() << "\n";
  }
  return code;
}

}  // namespace

int VerifyLog(const VerifyLogOptions& opt) {
  auto registry = keys::TrustRegistry::Load(opt.registry);
  if (!registry.ok()) {
    std::cerr << "cairn verify: " << registry.status().message() << "\n";
    return kExitUsage;
  }
  NodeClient client(opt.node);
  cairn::v1::SignedCheckpoint signed_checkpoint;
  {
    grpc::ClientContext context;
    client.Prepare(context);
    const grpc::Status s = client.stub().GetCheckpoint(&context, cairn::v1::GetCheckpointRequest(),
                                                       &signed_checkpoint);
    if (!s.ok()) {
      std::cerr << "cairn verify: " << client.FromGrpc(s).ToString() << "\n";
      return kExitUsage;
    }
  }
  cairn::v1::Checkpoint checkpoint;
  if (!checkpoint.ParseFromString(signed_checkpoint.checkpoint())) {
    return FinishLog(opt, "?", {0, 0, DataLoss("node's checkpoint does not parse"), false, ""});
  }
  ledger::LogVerifier verifier(checkpoint.log_id(), *registry);
  // Fetch exactly the entries the checkpoint covers, even if the log grows meanwhile.
  if (checkpoint.size() > 0) {
    cairn::v1::GetEntriesRequest request;
    request.set_start(0);
    request.set_limit(checkpoint.size());
    grpc::ClientContext context;
    // A long log streams for a while: allow a generous deadline proportional to its size.
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(opt.node.timeout_s) +
                         std::chrono::milliseconds(checkpoint.size() / 10));
    auto reader = client.stub().GetEntries(&context, request);
    cairn::v1::EntryRecord record;
    const uint64_t step = std::max<uint64_t>(checkpoint.size() / 20, 10000);
    while (reader->Read(&record)) {
      if (!verifier.Add(record.index(), record.entry())) {
        context.TryCancel();
        break;
      }
      if ((record.index() + 1) % step == 0) {
        std::cerr << "verify: " << record.index() + 1 << "/" << checkpoint.size() << " entries\n";
      }
    }
    const grpc::Status s = reader->Finish();
    if (!s.ok() && !verifier.failed()) {
      std::cerr << "cairn verify: " << client.FromGrpc(s).ToString() << "\n";
      return kExitUsage;
    }
  }
  return FinishLog(opt, checkpoint.log_id(), verifier.Finish(signed_checkpoint));
}

}  // namespace cairn::client
