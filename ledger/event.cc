#include "ledger/event.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/unknown_field_set.h>

namespace cairn::ledger {

Hash EventId(std::string_view body) { return Sha256Concat(kEventDomain, body); }

Hash LeafHash(std::string_view entry_bytes) {
  static constexpr char kLeafPrefix[1] = {0x00};
  return Sha256Concat(std::string_view(kLeafPrefix, 1), entry_bytes);
}

namespace {

// Name of the first unknown field found in `message` or its sub-messages, or empty. Iterative
// so that a hostile nesting depth cannot exhaust the stack (protobuf caps it at 100 anyway). The
// path is spelled out only when a field is found: this runs on every event a verifier reads.
std::string FindUnknownField(const google::protobuf::Message& root) {
  struct Visit {
    const google::protobuf::Message* message;
    const google::protobuf::FieldDescriptor* field;  // how the parent holds it; null at the root
    int parent;                                      // index into `visited`, -1 at the root
  };
  thread_local std::vector<Visit> visited;
  thread_local std::vector<int> stack;
  thread_local std::vector<const google::protobuf::FieldDescriptor*> fields;
  visited.assign(1, Visit{&root, nullptr, -1});
  stack.assign(1, 0);
  while (!stack.empty()) {
    const int at = stack.back();
    stack.pop_back();
    const google::protobuf::Message& message = *visited[at].message;
    const auto* reflection = message.GetReflection();
    if (!reflection->GetUnknownFields(message).empty()) {
      std::vector<std::string_view> names;
      for (int v = at; visited[v].parent >= 0; v = visited[v].parent) {
        names.push_back(visited[v].field->name());
      }
      std::string path = "EventBody";
      for (auto name = names.rbegin(); name != names.rend(); ++name) path.append(".").append(*name);
      return path + " field " +
             std::to_string(reflection->GetUnknownFields(message).field(0).number());
    }
    fields.clear();
    reflection->ListFields(message, &fields);
    for (const auto* field : fields) {
      if (field->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) continue;
      if (field->is_repeated()) {
        const int n = reflection->FieldSize(message, field);
        for (int i = 0; i < n; ++i) {
          visited.push_back({&reflection->GetRepeatedMessage(message, field, i), field, at});
          stack.push_back(static_cast<int>(visited.size()) - 1);
        }
      } else {
        visited.push_back({&reflection->GetMessage(message, field), field, at});
        stack.push_back(static_cast<int>(visited.size()) - 1);
      }
    }
  }
  return {};
}

}  // namespace

Result<ParsedEvent> ParseSignedEvent(cairn::v1::SignedEvent signed_event) {
  if (signed_event.body().empty()) return InvalidArgument("SignedEvent.body: empty");
  if (signed_event.body().size() > kMaxEventBodyBytes) {
    return InvalidArgument("SignedEvent.body: got " + std::to_string(signed_event.body().size()) +
                           " bytes, want <= " + std::to_string(kMaxEventBodyBytes));
  }
  if (!IsLowerHex(signed_event.key_id(), 16)) {
    return InvalidArgument("SignedEvent.key_id: want 32 lowercase hex characters");
  }
  if (signed_event.signature().size() != kSignatureBytes) {
    return InvalidArgument("SignedEvent.signature: got " +
                           std::to_string(signed_event.signature().size()) + " bytes, want 64");
  }
  ParsedEvent parsed;
  if (!parsed.body.ParseFromString(signed_event.body())) {
    return InvalidArgument("SignedEvent.body: not a valid serialized cairn.v1.EventBody");
  }
  if (const std::string unknown = FindUnknownField(parsed.body); !unknown.empty()) {
    return InvalidArgument("SignedEvent.body: unknown field (" + unknown +
                           "); a signer may not have seen it");
  }
  parsed.id = EventId(signed_event.body());
  parsed.id_hex = ToHex(parsed.id);
  parsed.signed_event = std::move(signed_event);
  return parsed;
}

std::vector<std::pair<const std::string*, LotUse>> LotsNamedBy(const cairn::v1::EventBody& body) {
  std::vector<std::pair<const std::string*, LotUse>> lots;
  switch (body.kind_case()) {
    case cairn::v1::EventBody::kExtraction:
      lots.emplace_back(&body.extraction().lot_id(), LotUse::kCreated);
      break;
    case cairn::v1::EventBody::kDispatch:
      for (const auto& lot : body.dispatch().lots()) {
        lots.emplace_back(&lot.lot_id(), LotUse::kDispatched);
      }
      break;
    case cairn::v1::EventBody::kReceipt:
      for (const auto& lot : body.receipt().lots())
        lots.emplace_back(&lot.lot_id(), LotUse::kReceived);
      break;
    case cairn::v1::EventBody::kTransformation:
      for (const auto& lot : body.transformation().inputs()) {
        lots.emplace_back(&lot.lot_id(), LotUse::kConsumed);
      }
      for (const auto& out : body.transformation().outputs()) {
        lots.emplace_back(&out.lot_id(), LotUse::kCreated);
      }
      break;
    case cairn::v1::EventBody::kAttestation:
      if (body.attestation().has_lot_id()) {
        lots.emplace_back(&body.attestation().lot_id(), LotUse::kAttested);
      }
      break;
    default:
      break;
  }
  return lots;
}

const std::string* EvidenceTargetOf(const cairn::v1::EventBody& body) {
  if (body.has_correction()) return &body.correction().event_id();
  if (body.has_attestation() && body.attestation().has_event_id()) {
    return &body.attestation().event_id();
  }
  return nullptr;
}

const char* KindName(const cairn::v1::EventBody& body) {
  using K = cairn::v1::EventBody;
  switch (body.kind_case()) {
    case K::kExtraction:
      return "Extraction";
    case K::kDispatch:
      return "Dispatch";
    case K::kReceipt:
      return "Receipt";
    case K::kTransformation:
      return "Transformation";
    case K::kAttestation:
      return "Attestation";
    case K::kCorrection:
      return "Correction";
    case K::KIND_NOT_SET:
      break;
  }
  return "none";
}

cairn::v1::SignedEvent SignEvent(const std::string& body, const std::string& key_id,
                                 const std::string& secret_key) {
  cairn::v1::SignedEvent signed_event;
  signed_event.set_body(body);
  signed_event.set_key_id(key_id);
  signed_event.set_signature(Sign(secret_key, kEventDomain, body));
  return signed_event;
}

cairn::v1::SignedCheckpoint SignCheckpoint(const cairn::v1::Checkpoint& checkpoint,
                                           const std::string& key_id,
                                           const std::string& secret_key) {
  cairn::v1::SignedCheckpoint signed_checkpoint;
  std::string bytes;
  checkpoint.SerializeToString(&bytes);
  signed_checkpoint.set_signature(Sign(secret_key, kCheckpointDomain, bytes));
  signed_checkpoint.set_checkpoint(std::move(bytes));
  signed_checkpoint.set_key_id(key_id);
  return signed_checkpoint;
}

}  // namespace cairn::ledger
