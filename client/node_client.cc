#include "client/node_client.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/crypto.h"

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
  const std::string where = options_.node_source == "default"
                                ? "the default; choose one with --node or CAIRN_NODE"
                                : "from " + options_.node_source;
  switch (status.error_code()) {
    case grpc::StatusCode::OK:
      return Status::Ok();
    case grpc::StatusCode::UNAVAILABLE:
      return Unavailable("cannot reach node " + options_.node + " (" + where + "): " + m);
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return DeadlineExceeded("node " + options_.node + " did not answer within " +
                              std::to_string(options_.timeout_s) + " s (--timeout)");
    case grpc::StatusCode::INVALID_ARGUMENT:
      return InvalidArgument(m).AsRemote();
    case grpc::StatusCode::NOT_FOUND:
      return NotFound(m).AsRemote();
    case grpc::StatusCode::OUT_OF_RANGE:
      return OutOfRange(m).AsRemote();
    case grpc::StatusCode::ALREADY_EXISTS:
      return AlreadyExists(m).AsRemote();
    case grpc::StatusCode::PERMISSION_DENIED:
      return PermissionDenied(m).AsRemote();
    case grpc::StatusCode::UNAUTHENTICATED:
      return Unauthenticated(m).AsRemote();
    case grpc::StatusCode::FAILED_PRECONDITION:
      return FailedPrecondition(m).AsRemote();
    case grpc::StatusCode::DATA_LOSS:
      return DataLoss(m).AsRemote();
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return InvalidArgument("message too large for node " + options_.node + ": " + m).AsRemote();
    default:
      return Internal("node " + options_.node + ": " + m).AsRemote();
  }
}

Result<std::string> ResolveEventId(NodeClient& client, const std::string& typed) {
  std::string id = typed;
  for (char& c : id) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!IsLowerHexDigits(id) || id.size() < 8 || id.size() > 64) {
    return InvalidArgument("event id: got \"" + typed +
                           "\", want 64 hex characters or a unique prefix of at least 8");
  }
  if (id.size() == 64) return id;
  cairn::v1::FindEventsRequest request;
  request.set_id_prefix(id);
  request.set_limit(10);
  cairn::v1::FindEventsResponse response;
  CAIRN_RETURN_IF_ERROR(client.Call(&cairn::v1::Ledger::Stub::FindEvents, request, &response));
  if (response.events_size() == 0) {
    return NotFound("no event id begins with " + id + " in the logs node " + client.address() +
                    " holds")
        .AsRemote();
  }
  if (response.events_size() == 1) return response.events(0).event_id();
  std::string list;
  for (const auto& e : response.events()) {
    list +=
        "\n  " + e.event_id() + "  entry " + std::to_string(e.index()) + " of log " + e.log_id();
  }
  if (response.more()) list += "\n  ...";
  return InvalidArgument("event id prefix " + id + " is ambiguous; it begins " +
                         (response.more() ? "more than " : "") +
                         std::to_string(response.events_size()) + " events:" + list);
}

Result<DecodedEntry> FetchEvent(NodeClient& client, const std::string& typed) {
  CAIRN_ASSIGN_OR_RETURN(const std::string id, ResolveEventId(client, typed));
  cairn::v1::GetEventRequest request;
  request.set_event_id(id);
  cairn::v1::GetEventResponse response;
  CAIRN_RETURN_IF_ERROR(client.Call(&cairn::v1::Ledger::Stub::GetEvent, request, &response));
  CAIRN_ASSIGN_OR_RETURN(DecodedEntry decoded, DecodeEntry(response.entry()));
  if (decoded.event_id != id) {
    return DataLoss("node returned event " + decoded.event_id + " when asked for " + id);
  }
  return decoded;
}

Result<DecodedEntry> FetchEntryAt(NodeClient& client, uint64_t index) {
  cairn::v1::GetEntriesRequest request;
  request.set_start(index);
  request.set_limit(1);
  grpc::ClientContext context;
  client.Prepare(context);
  auto reader = client.stub().GetEntries(&context, request);
  cairn::v1::EntryRecord record;
  const bool got = reader->Read(&record);
  cairn::v1::EntryRecord rest;
  while (reader->Read(&rest)) {
  }
  CAIRN_RETURN_IF_ERROR(client.FromGrpc(reader->Finish()));
  if (!got || record.index() != index) {
    return OutOfRange("the node's log has no entry " + std::to_string(index)).AsRemote();
  }
  return DecodeEntry(record.entry());
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
  if (!in) {
    const int err = errno;
    const std::string reason = "cannot read " + path + ": " + std::strerror(err);
    return err == ENOENT ? NotFound(reason) : InvalidArgument(reason);
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return InvalidArgument("cannot read " + path + ": " + std::strerror(errno));
  return buf.str();
}

Status WriteOutputFile(const std::string& path, const std::string& content, bool force) {
  if (path == "-") {
    // Around std::cout, whose buffer escapes text for a terminal: these bytes go out as they are.
    std::cout.flush();
    if (std::fwrite(content.data(), 1, content.size(), stdout) != content.size() ||
        std::fflush(stdout) != 0) {
      return Internal(std::string("cannot write to stdout: ") + std::strerror(errno));
    }
    return Status::Ok();
  }
  std::error_code ec;
  if (!force && std::filesystem::exists(path, ec)) {
    return InvalidArgument(path + " exists; add --force to overwrite it");
  }
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return Internal("cannot write " + path + ": " + std::strerror(errno));
    out << content;
    out.flush();
    if (!out.good()) {
      const std::string reason = std::strerror(errno);
      std::filesystem::remove(tmp, ec);
      return Internal("cannot write " + path + ": " + reason);
    }
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return Internal("cannot write " + path + ": " + ec.message());
  }
  return Status::Ok();
}

std::string LineColumn(const std::string& text, size_t offset) {
  size_t line = 1, column = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

Status ParseJsonMessage(const std::string& json, const std::string& source,
                        google::protobuf::Message* message) {
  // nlohmann first: it says where text that is not JSON goes wrong; protobuf's parser does not.
  try {
    const nlohmann::json parsed = nlohmann::json::parse(json);
    (void)parsed;
  } catch (const nlohmann::json::parse_error& e) {
    const size_t at = e.byte > 0 ? e.byte - 1 : 0;
    return InvalidArgument(source + ": not valid JSON at " + LineColumn(json, at));
  }
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const auto status = google::protobuf::util::JsonStringToMessage(json, message, options);
  if (!status.ok()) {
    return InvalidArgument(source + ": not a valid " + message->GetDescriptor()->full_name() +
                           " in protobuf JSON: " + std::string(status.message()));
  }
  return Status::Ok();
}

}  // namespace cairn::client
