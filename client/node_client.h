// Talking to a cairnd: channel, stub, deadlines, and turning gRPC errors into our Status.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "cairn/v1/ledger.grpc.pb.h"
#include "client/command.h"
#include "client/format.h"
#include "common/status.h"

namespace cairn::client {

// The credentials for options.tls (plaintext when none is given). A TLS file that no longer
// reads (AddNodeOptions checked it) prints "cairn: <reason>" and exits kExitUsage.
std::shared_ptr<grpc::ChannelCredentials> CredentialsFor(const NodeOptions& options);

class NodeClient {
 public:
  explicit NodeClient(const NodeOptions& options);

  cairn::v1::Ledger::Stub& stub() { return *stub_; }
  // The address the client talks to (host:port).
  const std::string& address() const { return options_.node; }
  // The channel, for the node's other services (Federation).
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  // Sets the per-call deadline on `context`.
  void Prepare(grpc::ClientContext& context) const;
  // Our Status for a failed call: the node's answer marked remote(), or UNAVAILABLE naming the
  // address tried and where it came from (--node, CAIRN_NODE or the default).
  Status FromGrpc(const grpc::Status& status) const;

  // One unary call of the Ledger service with the per-call deadline:
  //   Status s = client.Call(&Stub::GetLot, request, &lot);
  template <typename Request, typename Response>
  Status Call(grpc::Status (cairn::v1::Ledger::Stub::*method)(grpc::ClientContext*, const Request&,
                                                              Response*),
              const Request& request, Response* response) {
    return Call(*stub_, method, request, response);
  }
  // The same on another service's stub made on channel():
  //   Status s = client.Call(*federation, &Federation::Stub::GetStatus, request, &status);
  template <typename Stub, typename Request, typename Response>
  Status Call(Stub& stub,
              grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
              const Request& request, Response* response) {
    grpc::ClientContext context;
    Prepare(context);
    return FromGrpc((stub.*method)(&context, request, response));
  }

 private:
  const NodeOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<cairn::v1::Ledger::Stub> stub_;
};

// The full event id for what a person typed: 64 hex characters as they are, or a unique prefix
// of 8 to 63 (like git), looked up with Ledger.FindEvents in every log the node holds.
// NOT_FOUND (remote) when no event matches; INVALID_ARGUMENT listing the candidates when several
// do, or when `typed` is not 8 to 64 hex characters.
Result<std::string> ResolveEventId(NodeClient& client, const std::string& typed);

// The event `typed` names (ResolveEventId), fetched with Ledger.GetEvent from any log the node
// holds and decoded. DATA_LOSS when the node returns an entry holding another event.
Result<DecodedEntry> FetchEvent(NodeClient& client, const std::string& typed);

// The entry at `index` of the node's own log (Ledger.GetEntries), decoded. OUT_OF_RANGE (remote)
// when the log is shorter.
Result<DecodedEntry> FetchEntryAt(NodeClient& client, uint64_t index);

// Protobuf JSON of a message with proto field names (mass_g, not massG), indented.
std::string ToJson(const google::protobuf::Message& message, bool pretty = true);

// Reads a whole file ("-" for stdin). NOT_FOUND or INVALID_ARGUMENT naming the path and the
// OS's reason ("cannot read x.json: No such file or directory").
Result<std::string> ReadFileOrStdin(const std::string& path);

// Writes `content` to `path` ("-": stdout) through a temporary file renamed into place. Refuses
// an existing file unless `force` (INVALID_ARGUMENT, naming --force: a usage error). INTERNAL with
// the OS's reason.
Status WriteOutputFile(const std::string& path, const std::string& content, bool force);

// Protobuf JSON of `json` into `message`, unknown fields refused. INVALID_ARGUMENT naming
// `source`, and the line and column for text that is not JSON at all.
Status ParseJsonMessage(const std::string& json, const std::string& source,
                        google::protobuf::Message* message);

// The line and column (1-based) of byte `offset` in `text`: "line 3, column 14".
std::string LineColumn(const std::string& text, size_t offset);

}  // namespace cairn::client
