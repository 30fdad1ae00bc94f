// cairn verify --log: walks a node's whole log without trusting the node — every entry's chain
// link, every signature against the registry (key valid when the event occurred, not revoked when
// it was appended), every custody rule replayed in memory, and the Merkle root against the node's
// signed checkpoint; and, with --consistent-with, that the log extends a checkpoint saved earlier.
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "cairn/v1/federation.grpc.pb.h"
#include "client/bundle_io.h"
#include "client/node_client.h"
#include "client/trust_state.h"
#include "client/verify.h"
#include "keys/registry.h"
#include "ledger/event.h"
#include "ledger/federated_view.h"
#include "ledger/log_verifier.h"
#include "ledger/merkle.h"

namespace cairn::client {
namespace {

// Whether the served log extends `saved`: the root of its first saved.size() entries (folded
// while they streamed, into `prefix`) is the saved root. Computed from the entries themselves, so
// it needs no proof from the node. DATA_LOSS when it does not.
Status CheckExtends(const cairn::v1::Checkpoint& saved, const cairn::v1::Checkpoint& now,
                    const ledger::CompactRange& prefix) {
  if (saved.log_id() != now.log_id()) {
    return InvalidArgument("saved checkpoint is of log " + saved.log_id() + ", node serves log " +
                           now.log_id());
  }
  if (saved.size() > now.size()) {
    return DataLoss("log truncated: the saved checkpoint has " + std::to_string(saved.size()) +
                    " entries, the node's has " + std::to_string(now.size()));
  }
  if (prefix.size() != saved.size()) {
    return DataLoss("the node served " + std::to_string(prefix.size()) + " of the saved " +
                    std::to_string(saved.size()) + " entries");
  }
  if (AsView(prefix.Root()) != saved.root_hash()) {
    return DataLoss("the log does not extend the saved checkpoint of size " +
                    std::to_string(saved.size()) + " (root " + ToHex(saved.root_hash()) +
                    "): its first " + std::to_string(saved.size()) + " entries have root " +
                    ToHex(prefix.Root()) + "; entries before index " +
                    std::to_string(saved.size()) + " were changed");
  }
  return Status::Ok();
}

// How many entries the node serves past `size` (the signed checkpoint's): an honest node's log
// may have grown since it signed; entries no checkpoint covers are not evidence either way.
uint64_t CountEntriesPast(NodeClient& client, uint64_t size) {
  cairn::v1::GetEntriesRequest request;
  request.set_start(size);
  request.set_limit(100000);
  grpc::ClientContext context;
  client.Prepare(context);
  auto reader = client.stub().GetEntries(&context, request);
  uint64_t past = 0;
  cairn::v1::EntryRecord record;
  while (reader->Read(&record)) past += record.index() >= size;
  (void)reader->Finish();
  return past;
}

// The logs the node holds besides its own, each as of its latest checkpoint there. A node that
// follows no peer (or predates federation) holds none.
Result<std::vector<FetchedLog>> FetchOtherLogs(NodeClient& client, const VerifyLogOptions& opt) {
  auto stub = cairn::v1::Federation::NewStub(client.channel());
  cairn::v1::NodeStatus status;
  {
    grpc::ClientContext context;
    client.Prepare(context);
    const grpc::Status s = stub->GetStatus(&context, cairn::v1::GetStatusRequest(), &status);
    if (s.error_code() == grpc::StatusCode::UNIMPLEMENTED) return std::vector<FetchedLog>();
    if (!s.ok()) return client.FromGrpc(s);
  }
  std::vector<FetchedLog> logs;
  for (const auto& replica : status.replicas()) {
    if (replica.size() == 0) continue;
    CAIRN_ASSIGN_OR_RETURN(FetchedLog log,
                           FollowReplica(client, replica.log_id(), replica.size(), opt.node));
    logs.push_back(std::move(log));
  }
  return logs;
}

nlohmann::json VerdictJson(const std::string& log_id, const ledger::LogVerdict& v) {
  nlohmann::json j = {{"log_id", log_id},
                      {"verified", !v.bad_index.has_value()},
                      {"entries_checked", v.entries_checked},
                      {"root_hash", v.root_hex}};
  if (v.bad_index) {
    j["bad_index"] = *v.bad_index;
    j["problem"] = v.problem.message();
    j["problem_code"] = StatusCodeName(v.problem.code());
  }
  return j;
}

int VerdictCode(const ledger::LogVerdict& v) {
  if (!v.bad_index) return kExitOk;
  return v.unknown_key || v.problem.code() == StatusCode::kNotFound ? kExitIncomplete
                                                                    : kExitIntegrity;
}

// Prints the verdicts (the node's own log first, then the other logs it holds) and returns the
// exit code: 1 if any log failed, else 4 if any lacked evidence, else 0.
int FinishLog(const VerifyLogOptions& opt, const std::string& log_id, const ledger::LogVerdict& v,
              const std::vector<std::pair<std::string, ledger::LogVerdict>>& others = {},
              uint64_t entries_past = 0) {
  const bool ok = !v.bad_index.has_value();
  int code = VerdictCode(v);
  for (const auto& [other_id, other] : others) {
    const int c = VerdictCode(other);
    if (c == kExitIntegrity || (c == kExitIncomplete && code == kExitOk)) code = c;
  }
  if (opt.quiet) return code;
  if (opt.json) {
    nlohmann::json j = {{"verified", ok},
                        {"log_id", log_id},
                        {"entries_checked", v.entries_checked},
                        {"root_hash", v.root_hex},
                        {"entries_past_checkpoint", entries_past},
                        {"exit_code", code}};
    if (!ok) {
      j["bad_index"] = *v.bad_index;
      j["problem"] = v.problem.message();
      j["problem_code"] = StatusCodeName(v.problem.code());
    }
    nlohmann::json other_logs = nlohmann::json::array();
    for (const auto& [other_id, other] : others) other_logs.push_back(VerdictJson(other_id, other));
    j["other_logs"] = other_logs;
    std::cout << j.dump(2) << "\n";
    return code;
  }
  if (ok) {
    std::cout << "verified: log " << log_id << ", " << v.entries_checked
              << " entries; every signature, chain link and custody rule holds; root " << v.root_hex
              << " matches the signed checkpoint\n";
    if (entries_past > 0) {
      std::cout << "note: " << entries_past
                << " entries lie past the signed checkpoint: no checkpoint covers them, so they "
                   "were not checked (the log may have grown since the node signed)\n";
    }
  } else {
    std::cout << (VerdictCode(v) == kExitIncomplete ? "INCOMPLETE" : "FAILED") << ": log " << log_id
              << " entry " << *v.bad_index << ": " << v.problem.message() << "\n";
  }
  for (const auto& [other_id, other] : others) {
    if (!other.bad_index) {
      std::cout
          << "verified: log " << other_id << " (held by the node), " << other.entries_checked
          << " entries; every signature, chain link and custody rule holds, against the other "
             "logs; root "
          << other.root_hex << " matches its signed checkpoint\n";
    } else {
      std::cout << (VerdictCode(other) == kExitIncomplete ? "INCOMPLETE" : "FAILED") << ": log "
                << other_id << " (held by the node) entry " << *other.bad_index << ": "
                << other.problem.message() << "\n";
    }
  }
  return code;
}

}  // namespace

Result<FetchedLog> FollowReplica(NodeClient& client, const std::string& log_id, uint64_t size_hint,
                                 const NodeOptions& node) {
  auto stub = cairn::v1::Federation::NewStub(client.channel());
  FetchedLog log{log_id, {}, {}};
  cairn::v1::FollowRequest request;
  request.set_log_id(log_id);
  grpc::ClientContext context;
  client.Prepare(context);
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(node.timeout_s) +
                       std::chrono::milliseconds(size_hint / 10));
  auto reader = stub->Follow(&context, request);
  cairn::v1::FollowResponse message;
  uint64_t size = 0;
  bool have_checkpoint = false;
  while (reader->Read(&message)) {
    if (message.has_checkpoint() && !have_checkpoint) {
      log.checkpoint = message.checkpoint();
      cairn::v1::Checkpoint parsed;
      if (!parsed.ParseFromString(log.checkpoint.checkpoint())) {
        return DataLoss("the node's checkpoint of " + log_id + " does not parse");
      }
      size = parsed.size();
      have_checkpoint = true;
    } else if (message.has_entry()) {
      log.entries.push_back(message.entry().entry());
    }
    if (have_checkpoint && log.entries.size() >= size) break;
  }
  context.TryCancel();
  const grpc::Status finished = reader->Finish();
  if (!have_checkpoint && !finished.ok() && finished.error_code() != grpc::StatusCode::CANCELLED) {
    return client.FromGrpc(finished);
  }
  if (!have_checkpoint || log.entries.size() < size) {
    return Unavailable("the node served " + std::to_string(log.entries.size()) + " of the " +
                       std::to_string(size) + " entries of its replica of " + log_id);
  }
  log.entries.resize(size);
  return log;
}

Result<FetchedLog> FetchWholeLog(NodeClient& client, const keys::TrustRegistry& registry,
                                 const std::string& log_id, const NodeOptions& node) {
  cairn::v1::SignedCheckpoint own;
  CAIRN_RETURN_IF_ERROR(client.Call(&cairn::v1::Ledger::Stub::GetCheckpoint,
                                    cairn::v1::GetCheckpointRequest(), &own));
  cairn::v1::Checkpoint own_parsed;
  own_parsed.ParseFromString(own.checkpoint());
  FetchedLog log{log_id.empty() ? own_parsed.log_id() : log_id, {}, {}};
  if (log_id.empty() || own_parsed.log_id() == log_id) {
    log.checkpoint = own;
    if (own_parsed.size() > 0) {
      cairn::v1::GetEntriesRequest request;
      request.set_start(0);
      request.set_limit(own_parsed.size());
      grpc::ClientContext context;
      client.Prepare(context);
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(node.timeout_s) +
                           std::chrono::milliseconds(own_parsed.size() / 10));
      auto reader = client.stub().GetEntries(&context, request);
      cairn::v1::EntryRecord record;
      while (log.entries.size() < own_parsed.size() && reader->Read(&record)) {
        if (record.index() != log.entries.size()) {
          context.TryCancel();
          return DataLoss("the node served entry " + std::to_string(record.index()) + " of log " +
                          log_id + " where entry " + std::to_string(log.entries.size()) +
                          " belongs");
        }
        log.entries.push_back(std::move(*record.mutable_entry()));
      }
      context.TryCancel();
      (void)reader->Finish();
    }
  } else {
    CAIRN_ASSIGN_OR_RETURN(log, FollowReplica(client, log_id, 0, node));
  }
  // The listing is the log: signed by its key, and its entries hash to the signed root.
  CAIRN_ASSIGN_OR_RETURN(const cairn::v1::Checkpoint checkpoint,
                         ledger::VerifyCheckpoint(log.checkpoint, registry));
  if (checkpoint.log_id() != log.log_id) {
    return DataLoss("the node answered for log " + log.log_id + " with a checkpoint of log " +
                    checkpoint.log_id());
  }
  if (log.entries.size() != checkpoint.size()) {
    return Unavailable("the node served " + std::to_string(log.entries.size()) + " of the " +
                       std::to_string(checkpoint.size()) + " entries of log " + log.log_id);
  }
  ledger::CompactRange range;
  for (const std::string& entry : log.entries) range.Append(ledger::LeafHash(entry));
  if (AsView(range.Root()) != checkpoint.root_hash()) {
    return DataLoss("the entries the node served of log " + log.log_id +
                    " do not hash to its signed "
                    "checkpoint's root " +
                    ToHex(checkpoint.root_hash()) + " (size " + std::to_string(checkpoint.size()) +
                    "): the listing is not the log");
  }
  return log;
}

int VerifyLog(const VerifyLogOptions& opt) {
  auto registry = keys::TrustRegistry::Load(opt.registry);
  if (!registry.ok()) return ReportError("verify", registry.status());
  NodeClient client(opt.node);
  cairn::v1::SignedCheckpoint signed_checkpoint;
  const Status got = client.Call(&cairn::v1::Ledger::Stub::GetCheckpoint,
                                 cairn::v1::GetCheckpointRequest(), &signed_checkpoint);
  if (!got.ok()) return ReportError("verify", got);
  // The checkpoint first: signed by the log's key, and extending the one last verified.
  auto verified_checkpoint = ledger::VerifyCheckpoint(signed_checkpoint, *registry);
  if (!verified_checkpoint.ok()) {
    return ReportError("verify", WithRegistryHint(verified_checkpoint.status(), opt.registry));
  }
  const cairn::v1::Checkpoint checkpoint = *verified_checkpoint;
  TrustState state(opt.state);
  auto outcome = state.Check(signed_checkpoint, checkpoint, ProverOf(client));
  if (!outcome.ok()) return ReportError("verify", outcome.status());
  std::optional<cairn::v1::Checkpoint> saved;
  if (!opt.consistent_with.empty()) {
    auto saved_signed = ReadSavedCheckpoint(opt.consistent_with);
    if (!saved_signed.ok()) return ReportError("verify", saved_signed.status());
    auto checked = ledger::VerifyCheckpoint(*saved_signed, *registry);
    if (!checked.ok()) {
      return ReportError(
          "verify",
          WithRegistryHint(checked.status(), opt.registry).WithPrefix(opt.consistent_with));
    }
    saved = std::move(checked).value();
  }
  // The other logs the node holds: this log's events refer to theirs (a receipt of the mine's
  // dispatch), and each of them is verified too, against the others.
  auto fetched = FetchOtherLogs(client, opt);
  if (!fetched.ok()) return ReportError("verify", fetched.status());
  ledger::MemoryLogs others;
  for (const FetchedLog& log : *fetched) others.Add(log.log_id, log.entries);
  std::vector<std::string> own_entries;  // kept only for the other logs' verification
  const auto own_view = others.Except(checkpoint.log_id());
  ledger::CompactRange saved_prefix;  // the first saved->size() entries served
  ledger::LogVerifier verifier(checkpoint.log_id(), *registry,
                               fetched->empty() ? nullptr : own_view.get());
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
      if (saved && record.index() < saved->size() && record.index() == saved_prefix.size()) {
        saved_prefix.Append(ledger::LeafHash(record.entry()));
      }
      if (!verifier.Add(record.index(), record.entry())) {
        context.TryCancel();
        break;
      }
      if (!fetched->empty()) own_entries.push_back(std::move(*record.mutable_entry()));
      if ((record.index() + 1) % step == 0) {
        std::cerr << "verify: " << record.index() + 1 << "/" << checkpoint.size() << " entries\n";
      }
    }
    const Status s = client.FromGrpc(reader->Finish());
    if (!s.ok() && !verifier.failed()) return ReportError("verify", s);
  }
  ledger::LogVerdict verdict = verifier.Finish(signed_checkpoint);
  std::vector<std::pair<std::string, ledger::LogVerdict>> other_verdicts;
  if (!fetched->empty()) {
    others.Add(checkpoint.log_id(), own_entries);
    own_entries.clear();
    for (const FetchedLog& log : *fetched) {
      const auto view = others.Except(log.log_id);
      ledger::LogVerifier other(log.log_id, *registry, view.get());
      for (size_t i = 0; i < log.entries.size() && other.Add(i, log.entries[i]); ++i) {
      }
      ledger::LogVerdict other_verdict = other.Finish(log.checkpoint);
      if (!other_verdict.bad_index) {
        // A replica may lag behind what was verified of its log elsewhere; it must not differ.
        cairn::v1::Checkpoint replica_checkpoint;
        replica_checkpoint.ParseFromString(log.checkpoint.checkpoint());
        auto replica_outcome = state.CheckByEntries(
            log.checkpoint, replica_checkpoint,
            [&log](uint64_t size) -> Result<Hash> {
              ledger::CompactRange range;
              for (uint64_t i = 0; i < size && i < log.entries.size(); ++i) {
                range.Append(ledger::LeafHash(log.entries[i]));
              }
              return range.Root();
            },
            /*behind_is_ok=*/true);
        if (!replica_outcome.ok()) {
          other_verdict.bad_index = 0;
          other_verdict.problem = replica_outcome.status();
        }
      }
      other_verdicts.emplace_back(log.log_id, std::move(other_verdict));
    }
  }
  if (saved && !verdict.bad_index) {
    const Status extends = CheckExtends(*saved, checkpoint, saved_prefix);
    if (extends.code() == StatusCode::kInvalidArgument) return ReportError("verify", extends);
    if (!extends.ok()) {
      // No single entry is known bad: the first one that may differ is named.
      verdict.bad_index = std::min(saved->size(), checkpoint.size());
      verdict.problem = extends;
    }
  }
  const uint64_t past = verdict.bad_index ? 0 : CountEntriesPast(client, checkpoint.size());
  return FinishLog(opt, checkpoint.log_id(), verdict, other_verdicts, past);
}

void AddVerifyLogFlags(CLI::App& cmd, VerifyLogOptions& opt) {
  cmd.add_option("--consistent-with", opt.consistent_with,
                 "with --log: a checkpoint saved earlier (cairn checkpoint -o); exit 1 unless the "
                 "log extends it (it was not truncated, rewritten or forked since)");
}

}  // namespace cairn::client
