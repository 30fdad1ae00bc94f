// Talking to a cairnd: channel, stub, deadlines, and turning gRPC errors into our Status.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "cairn/v1/ledger.grpc.pb.h"
#include "client/command.h"
#include "common/status.h"

namespace cairn::client {

// The credentials for options.tls (plaintext when none is given). A TLS file that no longer
// reads (AddNodeOptions checked it) prints "cairn: <reason>" and exits kExitUsage.
std::shared_ptr<grpc::ChannelCredentials> CredentialsFor(const NodeOptions& options);

class NodeClient {
 public:
  explicit NodeClient(const NodeOptions& options);

  cairn::v1::Ledger::Stub& stub() { return *stub_; }
  // The channel, for the node's other services (Federation).
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  // Sets the per-call deadline on `context`.
  void Prepare(grpc::ClientContext& context) const;
  // Our Status for a failed call, naming the node on connection problems.
  Status FromGrpc(const grpc::Status& status) const;

 private:
  const NodeOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<cairn::v1::Ledger::Stub> stub_;
};

// Protobuf JSON of a message with proto field names (mass_g, not massG), indented.
std::string ToJson(const google::protobuf::Message& message, bool pretty = true);

// Reads a whole file ("-" for stdin).
Result<std::string> ReadFileOrStdin(const std::string& path);

}  // namespace cairn::client
