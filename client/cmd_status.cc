// cairn status: what a node holds — its own log, the replicas it keeps of its peers' logs, how far
// each lags and the state of each peer stream.
#include <iomanip>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cairn/v1/federation.grpc.pb.h"
#include "client/command.h"
#include "client/node_client.h"
#include "common/clock.h"
#include "common/crypto.h"

namespace cairn::client {
namespace {

struct StatusOptions {
  NodeOptions node;
  bool json = false;
};

// The node's Federation.GetStatus answer.
Result<cairn::v1::NodeStatus> FetchStatus(const NodeOptions& options) {
  NodeClient client(options);
  auto stub = cairn::v1::Federation::NewStub(client.channel());
  cairn::v1::NodeStatus status;
  CAIRN_RETURN_IF_ERROR(client.Call(*stub, &cairn::v1::Federation::Stub::GetStatus,
                                    cairn::v1::GetStatusRequest(), &status));
  return status;
}

// "size N, root R" of a signed checkpoint's body.
std::string Describe(const cairn::v1::SignedCheckpoint& signed_checkpoint) {
  cairn::v1::Checkpoint checkpoint;
  if (!checkpoint.ParseFromString(signed_checkpoint.checkpoint())) return "(does not parse)";
  return "size " + std::to_string(checkpoint.size()) + ", root " +
         ToHex(checkpoint.root_hash()).substr(0, 16) + "…, signed " +
         FormatTime(ToMicros(checkpoint.timestamp()));
}

int RunForks(const StatusOptions& opt) {
  auto status = FetchStatus(opt.node);
  if (!status.ok()) return ReportError("forks", status.status());
  if (opt.json) {
    nlohmann::ordered_json forks = nlohmann::ordered_json::array();
    for (const auto& fork : status->forks()) {
      forks.push_back(nlohmann::ordered_json::parse(ToJson(fork, /*pretty=*/false)));
    }
    std::cout << nlohmann::ordered_json({{"node", opt.node.node}, {"forks", forks}}).dump(2)
              << "\n";
    return kExitOk;
  }
  if (status->forks().empty()) {
    std::cout << "no forks known to " << opt.node.node << "\n";
    return kExitOk;
  }
  for (const auto& fork : status->forks()) {
    std::cout << "FORK of log " << fork.log_id() << " (from peer " << fork.peer() << ", found "
              << FormatTime(ToMicros(fork.found_at())) << ")\n"
              << "  verified here  " << Describe(fork.ours()) << "\n"
              << "  peer's         " << Describe(fork.theirs()) << "\n"
              << "  why            " << fork.reason() << "\n";
  }
  return kExitOk;
}

int Run(const StatusOptions& opt) {
  auto fetched = FetchStatus(opt.node);
  if (!fetched.ok()) return ReportError("status", fetched.status());
  const cairn::v1::NodeStatus& status = *fetched;
  const auto lag = [](const cairn::v1::ReplicaStatus& r) {
    return r.leader_size() > r.size() ? r.leader_size() - r.size() : 0;
  };
  if (opt.json) {
    nlohmann::ordered_json replicas = nlohmann::ordered_json::array();
    for (const auto& r : status.replicas()) {
      nlohmann::ordered_json j = {{"log_id", r.log_id()},
                                  {"peer", r.peer()},
                                  {"state", r.state()},
                                  {"size", r.size()},
                                  {"leader_size", r.leader_size()},
                                  {"lag", lag(r)},
                                  {"last_error", r.last_error()}};
      j["last_contact"] = r.has_last_contact()
                              ? nlohmann::ordered_json(FormatTime(ToMicros(r.last_contact())))
                              : nlohmann::ordered_json(nullptr);
      replicas.push_back(std::move(j));
    }
    const nlohmann::ordered_json out = {
        {"node", opt.node.node}, {"log_id", status.log_id()},
        {"size", status.size()}, {"registry_version", status.registry_version()},
        {"replicas", replicas},  {"forks", status.forks_size()}};
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << "node      " << opt.node.node << "\n"
            << "log       " << status.log_id() << " (" << status.size() << " entries)\n"
            << "registry  version " << status.registry_version() << "\n";
  if (status.forks_size() > 0) {
    std::cout << "forks     " << status.forks_size() << " (cairn forks shows the evidence)\n";
  }
  if (status.replicas().empty()) {
    std::cout << "replicas  none (no [[peer]] in the node's config)\n";
    return kExitOk;
  }
  std::cout << "replicas\n"
            << "  " << std::left << std::setw(20) << "LOG" << std::setw(24) << "PEER"
            << std::setw(13) << "STATE" << std::right << std::setw(10) << "SIZE" << std::setw(8)
            << "LAG"
            << "  LAST ERROR\n";
  for (const auto& r : status.replicas()) {
    std::cout << "  " << std::left << std::setw(20) << r.log_id() << std::setw(24) << r.peer()
              << std::setw(13) << r.state() << std::right << std::setw(10) << r.size()
              << std::setw(8) << lag(r) << "  " << r.last_error() << "\n";
  }
  return kExitOk;
}

}  // namespace

void AddForksCommand(CLI::App& root, Runner* selected) {
  auto opt = std::make_shared<StatusOptions>();
  CLI::App* cmd = root.add_subcommand(
      "forks",
      "List the forks a node has proof of: for each, the checkpoint it verified and the peer's "
      "conflicting one, both signed by the log's key. Replication of a forked log stops.");
  AddNodeOptions(*cmd, opt->node);
  cmd->add_flag("--json", opt->json, "print the evidence as JSON (protobuf JSON of ForkEvidence)");
  cmd->callback([opt, selected] { *selected = [opt] { return RunForks(*opt); }; });
}

void AddStatusCommand(CLI::App& root, Runner* selected) {
  auto opt = std::make_shared<StatusOptions>();
  CLI::App* cmd = root.add_subcommand(
      "status",
      "Show a node: its own log, the replicas it keeps of its peers' logs with their size, lag "
      "and stream state, and the registry version it serves under.");
  AddNodeOptions(*cmd, opt->node);
  cmd->add_flag("--json", opt->json, "print as JSON");
  cmd->callback([opt, selected] { *selected = [opt] { return Run(*opt); }; });
}

}  // namespace cairn::client
