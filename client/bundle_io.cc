#include "client/bundle_io.h"

#include <google/protobuf/util/json_util.h>

#include <cstdio>
#include <fstream>

#include "common/clock.h"
#include "common/crypto.h"
#include "ledger/event.h"

namespace cairn::client {

Result<cairn::v1::EvidenceBundle> FetchBundle(NodeClient& client, const std::string& lot_id,
                                              cairn::v1::TraceDirection direction) {
  cairn::v1::TraceRequest request;
  request.set_lot_id(lot_id);
  request.set_direction(direction);
  grpc::ClientContext context;
  client.Prepare(context);
  auto reader = client.stub().Trace(&context, request);
  cairn::v1::EvidenceBundle bundle;
  cairn::v1::EvidenceBundle part;
  while (reader->Read(&part)) bundle.MergeFrom(part);
  const grpc::Status s = reader->Finish();
  if (!s.ok()) return client.FromGrpc(s);
  return bundle;
}

Result<cairn::v1::EvidenceBundle> ReadBundle(const std::string& path, std::string* sha256_hex) {
  auto read = ReadFileOrStdin(path);
  if (!read.ok()) return NotFound(std::string(read.status().message()));
  const std::string& bytes = *read;
  if (sha256_hex != nullptr) *sha256_hex = ToHex(Sha256(bytes));
  cairn::v1::EvidenceBundle bundle;
  const size_t first = bytes.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && bytes[first] == '{') {
    const auto status = google::protobuf::util::JsonStringToMessage(bytes, &bundle);
    if (!status.ok()) {
      return InvalidArgument(path +
                             ": not an evidence bundle in JSON: " + std::string(status.message()));
    }
    return bundle;
  }
  if (!bundle.ParseFromString(bytes)) {
    return InvalidArgument(path + ": not an evidence bundle (binary protobuf or JSON)");
  }
  return bundle;
}

Status WriteBundle(const std::string& path, const cairn::v1::EvidenceBundle& bundle, bool json,
                   bool force) {
  std::string bytes;
  if (json) {
    bytes = ToJson(bundle) + "\n";
  } else if (!bundle.SerializeToString(&bytes)) {
    return Internal("bundle does not serialize");
  }
  return WriteOutputFile(path, bytes, force);
}

Result<cairn::v1::SignedCheckpoint> ReadSavedCheckpoint(const std::string& path) {
  CAIRN_ASSIGN_OR_RETURN(const std::string text, ReadFileOrStdin(path));
  cairn::v1::SignedCheckpoint saved;
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '{') {
    if (!google::protobuf::util::JsonStringToMessage(text, &saved).ok()) {
      return InvalidArgument(path + ": not a cairn.v1.SignedCheckpoint in protobuf JSON");
    }
  } else if (!saved.ParseFromString(text)) {
    return InvalidArgument(path + ": not a cairn.v1.SignedCheckpoint");
  }
  return saved;
}

ledger::LineageGraph GraphOfBundle(const cairn::v1::EvidenceBundle& bundle, size_t* skipped) {
  ledger::LineageGraph graph;
  size_t bad = 0;
  for (const auto& bundled : bundle.entries()) {
    cairn::v1::LogEntry entry;
    if (!entry.ParseFromString(bundled.entry())) {
      ++bad;
      continue;
    }
    auto event = ledger::ParseSignedEvent(entry.event());
    if (!event.ok()) {
      ++bad;
      continue;
    }
    graph.Add(*event, {entry.log_id(), entry.index(), ToMicros(entry.appended_at())});
  }
  if (skipped != nullptr) *skipped = bad;
  return graph;
}

}  // namespace cairn::client
