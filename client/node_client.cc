#include "client/node_client.h"

#include <google/protobuf/util/json_util.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

namespace cairn::client {

std::shared_ptr<grpc::ChannelCredentials> CredentialsFor(const NodeOptions& options) {
  auto credentials = ClientCredentials(options.tls);
  if (!credentials.ok()) {
    // AddNodeOptions checked the files already; this is a file changed since.
    std::cerr << "cairn: " << credentials.status().message() << "\n";
    std::exit(kExitUsage);
  }
  return *credentials;
}

NodeClient::NodeClient(const NodeOptions& options)
    : options_(options),
      channel_(grpc::CreateChannel(options.node, CredentialsFor(options))),
      stub_(cairn::v1::Ledger::NewStub(channel_)) {}

void NodeClient::Prepare(grpc::ClientContext& context) const {
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(options_.timeout_s));
}

Status NodeClient::FromGrpc(const grpc::Status& status) const {
  const std::string& m = status.error_message();
  switch (status.error_code()) {
    case grpc::StatusCode::OK:
      return Status::Ok();
    case grpc::StatusCode::INVALID_ARGUMENT:
      return InvalidArgument(m);
    case grpc::StatusCode::NOT_FOUND:
      return NotFound(m);
    case grpc::StatusCode::OUT_OF_RANGE:
      return Status(StatusCode::kOutOfRange, m);
    case grpc::StatusCode::ALREADY_EXISTS:
      return AlreadyExists(m);
    case grpc::StatusCode::PERMISSION_DENIED:
      return PermissionDenied(m);
    case grpc::StatusCode::UNAUTHENTICATED:
      return Unauthenticated(m);
    case grpc::StatusCode::FAILED_PRECONDITION:
      return FailedPrecondition(m);
    case grpc::StatusCode::DATA_LOSS:
      return DataLoss(m);
    case grpc::StatusCode::UNAVAILABLE:
      return Unavailable("node " + options_.node + " is unreachable: " + m);
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return Unavailable("node " + options_.node + " did not answer within " +
                         std::to_string(options_.timeout_s) + " s");
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return InvalidArgument("message too large for node " + options_.node + ": " + m);
    default:
      return Internal("node " + options_.node + ": " + m);
  }
}

std::string ToJson(const google::protobuf::Message& message, bool pretty) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = pretty;
  options.preserve_proto_field_names = true;
  std::string out;
  if (!google::protobuf::util::MessageToJsonString(message, &out, options).ok()) return "{}";
  return out;
}

Result<std::string> ReadFileOrStdin(const std::string& path) {
  if (path == "-") {
    return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument("cannot read " + path);
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

}  // namespace cairn::client
