#include "client/format.h"

#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>

#include "client/node_client.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/text.h"
#include "ledger/event.h"
#include "ledger/policy.h"

namespace cairn::client {

std::string ForTerminal(const std::string& text, bool keep_newlines) {
  return EscapeForTerminal(text, keep_newlines);
}

std::string FormatMass(uint64_t grams) {
  if (grams >= 1'000'000) return fmt::format("{:.3f} t", static_cast<double>(grams) / 1e6);
  if (grams >= 1'000) return fmt::format("{:.3f} kg", static_cast<double>(grams) / 1e3);
  return fmt::format("{} g", grams);
}

namespace {

std::string Lots(const google::protobuf::RepeatedPtrField<cairn::v1::LotMass>& lots) {
  std::string out;
  for (const auto& l : lots) {
    if (!out.empty()) out += ", ";
    out += l.lot_id() + " " + FormatMass(l.mass_g());
  }
  return out;
}

}  // namespace

std::string Summarize(const cairn::v1::EventBody& body) {
  switch (body.kind_case()) {
    case cairn::v1::EventBody::kExtraction: {
      const auto& x = body.extraction();
      return fmt::format("lot {}, {} {}, {} ({})", x.lot_id(), FormatMass(x.mass_g()), x.material(),
                         x.site().name(), x.site().country());
    }
    case cairn::v1::EventBody::kDispatch: {
      const auto& d = body.dispatch();
      return fmt::format("shipment {} to {}: {}", d.shipment_id(), d.recipient(), Lots(d.lots()));
    }
    case cairn::v1::EventBody::kReceipt: {
      const auto& r = body.receipt();
      return fmt::format("received dispatch {}: {}", r.dispatch_event_id().substr(0, 16),
                         Lots(r.lots()));
    }
    case cairn::v1::EventBody::kTransformation: {
      const auto& t = body.transformation();
      std::string outs;
      for (const auto& o : t.outputs()) {
        if (!outs.empty()) outs += ", ";
        outs += o.lot_id() + " " + FormatMass(o.mass_g()) + " " + o.material();
      }
      return fmt::format("{} at {} ({}): {} -> {}", StageName(t.stage()), t.facility().name(),
                         t.facility().country(), Lots(t.inputs()), outs);
    }
    case cairn::v1::EventBody::kAttestation: {
      const auto& a = body.attestation();
      return fmt::format("{} of {}: {}", cairn::v1::AttestationKind_Name(a.kind()),
                         a.has_lot_id() ? a.lot_id() : a.event_id().substr(0, 16), a.result());
    }
    case cairn::v1::EventBody::kCorrection: {
      const auto& c = body.correction();
      return fmt::format("corrects {}: {}", c.event_id().substr(0, 16), c.reason());
    }
    case cairn::v1::EventBody::KIND_NOT_SET:
      break;
  }
  return "";
}

Result<DecodedEntry> DecodeEntry(const std::string& entry_bytes) {
  DecodedEntry d;
  if (!d.entry.ParseFromString(entry_bytes)) {
    return DataLoss("entry bytes do not parse as a cairn.v1.LogEntry");
  }
  if (!d.body.ParseFromString(d.entry.event().body())) {
    return DataLoss("entry " + std::to_string(d.entry.index()) +
                    ": event body does not parse as a cairn.v1.EventBody");
  }
  d.event_id = ToHex(ledger::EventId(d.entry.event().body()));
  return d;
}

namespace {

// Protobuf JSON writes 64-bit integers as strings; turns them back into numbers, field by field.
void NumbersFor64BitFields(nlohmann::json& j, const google::protobuf::Descriptor* d);

// One value of field type `f` (a field, an element of a repeated one, or a map's value).
void NumberFor64BitValue(nlohmann::json& v, const google::protobuf::FieldDescriptor* f) {
  using google::protobuf::FieldDescriptor;
  if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
    NumbersFor64BitFields(v, f->message_type());
  } else if (v.is_string() && f->cpp_type() == FieldDescriptor::CPPTYPE_UINT64) {
    v = std::stoull(v.get<std::string>());
  } else if (v.is_string() && f->cpp_type() == FieldDescriptor::CPPTYPE_INT64) {
    v = std::stoll(v.get<std::string>());
  }
}

void NumbersFor64BitFields(nlohmann::json& j, const google::protobuf::Descriptor* d) {
  if (!j.is_object() || d->file()->package() == "google.protobuf") return;
  for (int i = 0; i < d->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* f = d->field(i);
    auto it = j.find(f->name());
    if (it == j.end()) continue;
    if (f->is_map()) {
      for (auto& [key, v] : it->items()) NumberFor64BitValue(v, f->message_type()->map_value());
    } else if (f->is_repeated() && it->is_array()) {
      for (auto& v : *it) NumberFor64BitValue(v, f);
    } else {
      NumberFor64BitValue(*it, f);
    }
  }
}

}  // namespace

nlohmann::json DataJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string text;
  if (!google::protobuf::util::MessageToJsonString(message, &text, options).ok()) return {};
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return {};
  NumbersFor64BitFields(j, message.GetDescriptor());
  return j;
}

nlohmann::json EntryJson(const DecodedEntry& e) {
  return {{"index", e.entry.index()},
          {"log_id", e.entry.log_id()},
          {"appended_at", FormatTime(ToMicros(e.entry.appended_at()))},
          {"event_id", e.event_id},
          {"kind", ledger::KindName(e.body)},
          {"author", e.body.author()},
          {"key_id", e.entry.event().key_id()},
          {"signature", ToHex(e.entry.event().signature())},
          {"prev_entry_hash", ToHex(e.entry.prev_entry_hash())},
          {"body", DataJson(e.body)}};
}

std::string Percent(double share) { return fmt::format("{:.1f}%", share * 100.0); }

const char* StageName(cairn::v1::Stage s) { return ledger::StageWord(s); }

}  // namespace cairn::client
