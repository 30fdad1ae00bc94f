#include "ledger/validate.h"

#include <cmath>
#include <set>
#include <string>

#include "common/clock.h"
#include "common/text.h"

namespace cairn::ledger {
namespace {

using cairn::v1::EventBody;
using cairn::v1::Role;

// Limits that keep a single event small and its arithmetic far from overflow.
constexpr uint64_t kMaxMassG = 1'000'000'000'000'000ULL;  // 1e15 g = one billion tonnes
constexpr uint64_t kMaxPpm = 1'000'000;
constexpr size_t kMaxIdChars = 120;
constexpr size_t kMaxNameChars = 1024;
constexpr size_t kMaxTextChars = 8192;
constexpr int kMaxListItems = 1000;
constexpr int kMaxRefs = 256;
constexpr int kMaxDocuments = 64;

std::string Quote(std::string_view s) {
  std::string out = "\"";
  out.append(s.substr(0, 80));
  if (s.size() > 80) out.append("...");
  out.append("\"");
  return out;
}

bool IsPrintableId(std::string_view s) {
  if (s.empty() || s.size() > kMaxIdChars) return false;
  for (unsigned char c : s) {
    if (c < 0x21 || c == 0x7f) return false;  // no spaces or control characters
  }
  return true;
}

bool HasControlChars(std::string_view s, bool allow_newlines) {
  for (unsigned char c : s) {
    if (c == 0x7f) return true;
    if (c < 0x20 && !(allow_newlines && (c == '\n' || c == '\t' || c == '\r'))) return true;
  }
  return false;
}

// A validation pass that stops at the first broken rule and remembers it.
class Checker {
 public:
  bool ok() const { return status_.ok(); }
  Status status() const { return status_; }

  void Fail(const std::string& field, const std::string& message) {
    if (status_.ok()) status_ = InvalidArgument(field + ": " + message);
  }

  void RequireId(const std::string& field, std::string_view value) {
    if (value.empty()) return Fail(field, "required");
    if (!IsPrintableId(value)) {
      Fail(field, "got " + Quote(value) + ", want 1-120 printable characters without spaces");
    } else if (!IsValidUtf8(value)) {
      Fail(field, "got " + Quote(EscapeForTerminal(value)) + ", not valid UTF-8");
    } else if (HasBidiControl(value)) {
      Fail(field, "got " + Quote(EscapeForTerminal(value)) +
                      ", contains a bidirectional control character (it could display as "
                      "another id)");
    }
  }
  void RequireName(const std::string& field, std::string_view value) {
    if (value.empty()) return Fail(field, "required");
    OptionalName(field, value);
  }
  void OptionalName(const std::string& field, std::string_view value) {
    if (value.size() > kMaxNameChars) {
      Fail(field, "got " + std::to_string(value.size()) +
                      " bytes, want <= " + std::to_string(kMaxNameChars));
    } else if (HasControlChars(value, false)) {
      Fail(field, "contains a control character");
    } else if (HasBidiControl(value)) {
      Fail(field, "got " + Quote(EscapeForTerminal(value)) +
                      ", contains a bidirectional control character");
    }
  }
  void OptionalText(const std::string& field, std::string_view value) {
    if (value.size() > kMaxTextChars) {
      Fail(field, "got " + std::to_string(value.size()) +
                      " bytes, want <= " + std::to_string(kMaxTextChars));
    } else if (HasControlChars(value, true)) {
      Fail(field, "contains a control character");
    }
  }
  void RequireParticipant(const std::string& field, std::string_view value) {
    if (value.empty()) return Fail(field, "required");
    if (!IsParticipantId(value)) Fail(field, "got " + Quote(value) + ", want [a-z0-9-]{2,40}");
  }
  void RequireCountry(const std::string& field, std::string_view value) {
    if (value.empty()) return Fail(field, "required");
    if (!IsIsoCountry(value)) {
      Fail(field, "got " + Quote(value) + ", want an ISO 3166-1 alpha-2 code like \"PK\"");
    }
  }
  void RequireEventId(const std::string& field, std::string_view value) {
    if (value.empty()) return Fail(field, "required");
    if (!IsLowerHex(value, 32)) {
      Fail(field, "got " + Quote(value) + ", want 64 lowercase hex characters");
    }
  }
  void RequireLotId(const std::string& field, std::string_view value) {
    if (value.empty()) return Fail(field, "required");
    if (!IsLotId(value)) {
      Fail(field, "got " + Quote(value) +
                      ", want \"<participant>:<code>\" with code [A-Za-z0-9._/-]{1,80}");
    }
  }
  void RequireOwnLot(const std::string& field, std::string_view lot_id, std::string_view author) {
    RequireLotId(field, lot_id);
    if (ok() && LotCreator(lot_id) != author) {
      Fail(field, "got " + Quote(lot_id) + ", a new lot id must start with \"" +
                      std::string(author) + ":\"");
    }
  }
  void RequireMass(const std::string& field, uint64_t mass_g) {
    if (mass_g == 0) return Fail(field, "got 0, want > 0");
    if (mass_g > kMaxMassG) {
      Fail(field, "got " + std::to_string(mass_g) + ", want <= " + std::to_string(kMaxMassG) +
                      " (one billion tonnes)");
    }
  }
  void Composition(const std::string& field,
                   const google::protobuf::Map<std::string, uint32_t>& composition) {
    uint64_t element_sum = 0;
    for (const auto& [symbol, ppm] : composition) {
      const std::string item = field + "[" + Quote(symbol) + "]";
      if (!IsElementOrGrade(symbol)) {
        return Fail(item, "unknown element symbol, want e.g. \"Nd\", \"Dy\" or the grade \"TREO\"");
      }
      if (ppm > kMaxPpm) {
        return Fail(item, "got " + std::to_string(ppm) + " ppm, want <= 1000000");
      }
      // Grades (TREO/REO) overlap the elements they are made of, so they are not summed.
      if (symbol != "TREO" && symbol != "REO") element_sum += ppm;
    }
    if (element_sum > kMaxPpm) {
      Fail(field, "elements sum to " + std::to_string(element_sum) + " ppm, want <= 1000000");
    }
  }
  void Documents(const std::string& field,
                 const google::protobuf::RepeatedPtrField<cairn::v1::Document>& documents) {
    if (documents.size() > kMaxDocuments) {
      return Fail(field, "got " + std::to_string(documents.size()) +
                             " documents, want <= " + std::to_string(kMaxDocuments));
    }
    for (int i = 0; i < documents.size() && ok(); ++i) {
      const std::string item = field + "[" + std::to_string(i) + "]";
      const auto& doc = documents[i];
      RequireName(item + ".kind", doc.kind());
      OptionalName(item + ".uri", doc.uri());
      if (ok() && !IsLowerHex(doc.sha256(), 32)) {
        Fail(item + ".sha256", "got " + Quote(doc.sha256()) + ", want 64 lowercase hex characters");
      }
    }
  }
  // Lots with masses; each lot at most once.
  void LotMasses(const std::string& field,
                 const google::protobuf::RepeatedPtrField<cairn::v1::LotMass>& lots,
                 bool required) {
    if (required && lots.empty()) return Fail(field, "at least one lot required");
    if (lots.size() > kMaxListItems) {
      return Fail(field, "got " + std::to_string(lots.size()) +
                             " lots, want <= " + std::to_string(kMaxListItems));
    }
    std::set<std::string_view> seen;
    for (int i = 0; i < lots.size() && ok(); ++i) {
      const std::string item = field + "[" + std::to_string(i) + "]";
      RequireLotId(item + ".lot_id", lots[i].lot_id());
      RequireMass(item + ".mass_g", lots[i].mass_g());
      if (ok() && !seen.insert(lots[i].lot_id()).second) {
        Fail(item + ".lot_id", Quote(lots[i].lot_id()) + " listed twice");
      }
    }
  }
  void Transport(const std::string& field, const cairn::v1::Transport& t) {
    OptionalName(field + ".mode", t.mode());
    OptionalName(field + ".vessel", t.vessel());
    OptionalName(field + ".port_of_loading", t.port_of_loading());
    OptionalName(field + ".port_of_discharge", t.port_of_discharge());
    if (t.container_numbers_size() > kMaxListItems || t.seal_numbers_size() > kMaxListItems) {
      return Fail(field, "too many container or seal numbers, want <= 1000 each");
    }
    for (int i = 0; i < t.container_numbers_size(); ++i) {
      RequireId(field + ".container_numbers[" + std::to_string(i) + "]", t.container_numbers(i));
    }
    for (int i = 0; i < t.seal_numbers_size(); ++i) {
      RequireId(field + ".seal_numbers[" + std::to_string(i) + "]", t.seal_numbers(i));
    }
  }

 private:
  Status status_;
};

void CheckExtraction(const cairn::v1::Extraction& e, const std::string& author, Checker& c) {
  c.RequireOwnLot("Extraction.lot_id", e.lot_id(), author);
  if (!e.has_site()) return c.Fail("Extraction.site", "required");
  const auto& site = e.site();
  c.RequireId("Extraction.site.id", site.id());
  c.RequireName("Extraction.site.name", site.name());
  c.RequireCountry("Extraction.site.country", site.country());
  c.OptionalName("Extraction.site.region", site.region());
  if (!std::isfinite(site.lat()) || site.lat() < -90 || site.lat() > 90) {
    c.Fail("Extraction.site.lat", "got " + std::to_string(site.lat()) + ", want -90..90");
  }
  if (!std::isfinite(site.lon()) || site.lon() < -180 || site.lon() > 180) {
    c.Fail("Extraction.site.lon", "got " + std::to_string(site.lon()) + ", want -180..180");
  }
  c.RequireName("Extraction.material", e.material());
  c.RequireMass("Extraction.mass_g", e.mass_g());
  c.Composition("Extraction.composition_ppm", e.composition_ppm());
  c.Documents("Extraction.documents", e.documents());
}

void CheckDispatch(const cairn::v1::Dispatch& d, const std::string& author, Checker& c) {
  c.RequireId("Dispatch.shipment_id", d.shipment_id());
  c.RequireParticipant("Dispatch.recipient", d.recipient());
  if (c.ok() && d.recipient() == author) {
    c.Fail("Dispatch.recipient", "got the author itself, want another participant");
  }
  c.LotMasses("Dispatch.lots", d.lots(), /*required=*/true);
  c.Transport("Dispatch.transport", d.transport());
  c.OptionalName("Dispatch.export_permit", d.export_permit());
  c.OptionalName("Dispatch.customs_declaration", d.customs_declaration());
  const std::string& hs = d.hs_code();
  if (!hs.empty()) {
    bool well_formed = hs.size() <= 14 && std::isdigit(static_cast<unsigned char>(hs[0]));
    for (char ch : hs)
      well_formed = well_formed && (std::isdigit(static_cast<unsigned char>(ch)) || ch == '.');
    if (!well_formed)
      c.Fail("Dispatch.hs_code", "got " + Quote(hs) + ", want digits and dots like \"2846.90\"");
  }
}

void CheckReceipt(const cairn::v1::Receipt& r, Checker& c) {
  c.RequireEventId("Receipt.dispatch_event_id", r.dispatch_event_id());
  c.LotMasses("Receipt.lots", r.lots(), /*required=*/false);
  c.OptionalText("Receipt.notes", r.notes());
}

void CheckTransformation(const cairn::v1::Transformation& t, const std::string& author,
                         Checker& c) {
  if (!t.has_facility()) return c.Fail("Transformation.facility", "required");
  c.RequireId("Transformation.facility.id", t.facility().id());
  c.RequireName("Transformation.facility.name", t.facility().name());
  c.RequireCountry("Transformation.facility.country", t.facility().country());
  c.OptionalName("Transformation.facility.region", t.facility().region());
  if (t.stage() < cairn::v1::STAGE_REFINED || t.stage() > cairn::v1::STAGE_BLENDED) {
    c.Fail("Transformation.stage", "got " + std::to_string(t.stage()) +
                                       ", want STAGE_REFINED, STAGE_SEPARATED, STAGE_MELTED, "
                                       "STAGE_PRODUCED or STAGE_BLENDED");
  }
  c.OptionalText("Transformation.process", t.process());
  c.LotMasses("Transformation.inputs", t.inputs(), /*required=*/true);
  if (t.outputs().empty()) return c.Fail("Transformation.outputs", "at least one output required");
  if (t.outputs_size() > kMaxListItems)
    return c.Fail("Transformation.outputs", "want <= 1000 outputs");
  std::set<std::string_view> inputs;
  for (const auto& in : t.inputs()) inputs.insert(in.lot_id());
  std::set<std::string_view> seen;
  for (int i = 0; i < t.outputs_size() && c.ok(); ++i) {
    const std::string item = "Transformation.outputs[" + std::to_string(i) + "]";
    const auto& out = t.outputs(i);
    c.RequireOwnLot(item + ".lot_id", out.lot_id(), author);
    if (c.ok() && !seen.insert(out.lot_id()).second) {
      c.Fail(item + ".lot_id", Quote(out.lot_id()) + " listed twice");
    }
    if (c.ok() && inputs.count(out.lot_id())) {
      c.Fail(item + ".lot_id", Quote(out.lot_id()) + " is also an input; outputs are new lots");
    }
    c.RequireName(item + ".material", out.material());
    c.RequireMass(item + ".mass_g", out.mass_g());
    c.Composition(item + ".composition_ppm", out.composition_ppm());
  }
}

void CheckAttestation(const cairn::v1::Attestation& a, Checker& c) {
  switch (a.subject_case()) {
    case cairn::v1::Attestation::kLotId:
      c.RequireLotId("Attestation.lot_id", a.lot_id());
      break;
    case cairn::v1::Attestation::kEventId:
      c.RequireEventId("Attestation.event_id", a.event_id());
      break;
    case cairn::v1::Attestation::SUBJECT_NOT_SET:
      return c.Fail("Attestation.subject", "required: lot_id or event_id");
  }
  if (a.kind() == cairn::v1::ATTESTATION_KIND_UNSPECIFIED) {
    c.Fail("Attestation.kind", "required: ASSAY, AUDIT or CERTIFICATE");
  }
  c.Composition("Attestation.composition_ppm", a.composition_ppm());
  c.OptionalText("Attestation.result", a.result());
  c.Documents("Attestation.documents", a.documents());
}

void CheckCorrection(const cairn::v1::Correction& k, Checker& c) {
  c.RequireEventId("Correction.event_id", k.event_id());
  if (k.reason().empty()) return c.Fail("Correction.reason", "required");
  c.OptionalText("Correction.reason", k.reason());
  c.Documents("Correction.documents", k.documents());
  c.Transport("Correction.transport", k.transport());
  c.OptionalText("Correction.notes", k.notes());
  if (c.ok() && k.documents().empty() && !k.has_transport() && k.notes().empty()) {
    c.Fail("Correction", "nothing to correct: give documents, transport or notes");
  }
}

bool HasAnyRole(const keys::TrustRegistry& registry, std::string_view who,
                std::initializer_list<Role> roles) {
  for (Role r : roles) {
    if (registry.HasRole(who, r)) return true;
  }
  return false;
}

}  // namespace

bool IsParticipantId(std::string_view id) { return keys::IsValidParticipantId(id); }

bool IsLogId(std::string_view id) { return IsParticipantId(id); }

bool IsLotId(std::string_view id) {
  const size_t colon = id.find(':');
  if (colon == std::string_view::npos) return false;
  if (!IsParticipantId(id.substr(0, colon))) return false;
  const std::string_view code = id.substr(colon + 1);
  if (code.empty() || code.size() > 80) return false;
  for (char c : code) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
          c == '_' || c == '/' || c == '-')) {
      return false;
    }
  }
  return true;
}

std::string_view LotCreator(std::string_view lot_id) { return lot_id.substr(0, lot_id.find(':')); }

Status ValidateSchema(const EventBody& body) {
  Checker c;
  c.RequireParticipant("EventBody.author", body.author());
  if (!body.has_occurred_at()) {
    c.Fail("EventBody.occurred_at", "required");
  } else {
    const auto& ts = body.occurred_at();
    if (ts.nanos() < 0 || ts.nanos() > 999'999'999 || ts.seconds() < 0 ||
        ts.seconds() > 253402300799LL) {
      c.Fail("EventBody.occurred_at", "not a valid timestamp between 1970 and 9999");
    }
  }
  if (body.refs_size() > kMaxRefs) {
    c.Fail("EventBody.refs", "got " + std::to_string(body.refs_size()) + ", want <= 256");
  }
  for (int i = 0; i < body.refs_size() && c.ok(); ++i) {
    const std::string item = "EventBody.refs[" + std::to_string(i) + "]";
    c.RequireEventId(item + ".event_id", body.refs(i).event_id());
    if (!body.refs(i).log_id().empty() && !IsLogId(body.refs(i).log_id())) {
      c.Fail(item + ".log_id", "got " + Quote(body.refs(i).log_id()) + ", want [a-z0-9-]{2,40}");
    }
  }
  if (!c.ok()) return c.status();
  switch (body.kind_case()) {
    case EventBody::kExtraction:
      CheckExtraction(body.extraction(), body.author(), c);
      break;
    case EventBody::kDispatch:
      CheckDispatch(body.dispatch(), body.author(), c);
      break;
    case EventBody::kReceipt:
      CheckReceipt(body.receipt(), c);
      break;
    case EventBody::kTransformation:
      CheckTransformation(body.transformation(), body.author(), c);
      break;
    case EventBody::kAttestation:
      CheckAttestation(body.attestation(), c);
      break;
    case EventBody::kCorrection:
      CheckCorrection(body.correction(), c);
      break;
    case EventBody::KIND_NOT_SET:
      c.Fail("EventBody.kind",
             "required: one of extraction, dispatch, receipt, transformation, attestation, "
             "correction");
      break;
  }
  return c.status();
}

Status CheckRoleFor(const EventBody& body, const keys::TrustRegistry& registry) {
  const std::string& who = body.author();
  bool permitted = false;
  const char* needed = "";
  switch (body.kind_case()) {
    case EventBody::kExtraction:
      permitted = HasAnyRole(registry, who, {cairn::v1::ROLE_MINE});
      needed = "MINE";
      break;
    case EventBody::kDispatch:
      permitted =
          HasAnyRole(registry, who,
                     {cairn::v1::ROLE_MINE, cairn::v1::ROLE_PROCESSOR, cairn::v1::ROLE_TRADER,
                      cairn::v1::ROLE_LOGISTICS, cairn::v1::ROLE_BUYER});
      needed = "MINE, PROCESSOR, TRADER, LOGISTICS or BUYER";
      break;
    case EventBody::kReceipt:
      permitted = HasAnyRole(registry, who,
                             {cairn::v1::ROLE_PROCESSOR, cairn::v1::ROLE_TRADER,
                              cairn::v1::ROLE_LOGISTICS, cairn::v1::ROLE_BUYER});
      needed = "PROCESSOR, TRADER, LOGISTICS or BUYER";
      break;
    case EventBody::kTransformation:
      // Commingling lots is a trader's business too; a chemical change is a processor's.
      if (body.transformation().stage() == cairn::v1::STAGE_BLENDED) {
        permitted = HasAnyRole(registry, who, {cairn::v1::ROLE_PROCESSOR, cairn::v1::ROLE_TRADER});
        needed = "PROCESSOR or TRADER (a blend)";
      } else {
        permitted = HasAnyRole(registry, who, {cairn::v1::ROLE_PROCESSOR});
        needed = "PROCESSOR";
      }
      break;
    case EventBody::kAttestation:
      permitted = HasAnyRole(registry, who, {cairn::v1::ROLE_LAB, cairn::v1::ROLE_AUDITOR});
      needed = "LAB or AUDITOR";
      break;
    case EventBody::kCorrection:
      permitted = registry.FindParticipant(who) != nullptr;  // any role, own events only
      needed = "any";
      break;
    case EventBody::KIND_NOT_SET:
      return InvalidArgument("EventBody.kind: required");
  }
  if (!permitted) {
    return PermissionDenied(std::string("EventBody.author: ") + who + " may not author " +
                            KindName(body) + " (needs role " + needed + ")");
  }
  if (body.has_dispatch()) {
    const std::string& to = body.dispatch().recipient();
    if (registry.FindParticipant(to) == nullptr) {
      return FailedPrecondition("Dispatch.recipient: " + to +
                                " is not a participant in registry version " +
                                std::to_string(registry.version()));
    }
    if (!HasAnyRole(registry, to,
                    {cairn::v1::ROLE_PROCESSOR, cairn::v1::ROLE_TRADER, cairn::v1::ROLE_LOGISTICS,
                     cairn::v1::ROLE_BUYER})) {
      return FailedPrecondition(
          "Dispatch.recipient: " + to +
          " cannot receive (needs role PROCESSOR, TRADER, LOGISTICS or BUYER)");
    }
  }
  return Status::Ok();
}

Status VerifyAuthority(const ParsedEvent& event, const keys::TrustRegistry& registry,
                       int64_t appended_at_us) {
  const auto& signed_event = event.signed_event;
  const keys::KeyRecord* key = registry.FindKey(signed_event.key_id());
  if (key == nullptr) {
    return Unauthenticated("SignedEvent.key_id: key " + signed_event.key_id() +
                           " is not in registry version " + std::to_string(registry.version()));
  }
  if (key->is_log_key) {
    return PermissionDenied("SignedEvent.key_id: key " + key->key_id + " is the log key of " +
                            key->owner + ", not a participant key");
  }
  const bool verified_ahead =
      !event.signature_verified_with.empty() && event.signature_verified_with == key->public_key;
  if (!verified_ahead &&
      !Verify(key->public_key, kEventDomain, signed_event.body(), signed_event.signature())) {
    return Unauthenticated("SignedEvent.signature: does not verify under key " + key->key_id +
                           " of " + key->owner);
  }
  if (registry.FindParticipant(event.body.author()) == nullptr) {
    return PermissionDenied("EventBody.author: " + event.body.author() +
                            " is not a participant in registry version " +
                            std::to_string(registry.version()));
  }
  CAIRN_RETURN_IF_ERROR(registry.CheckKeyFor(*key, event.body.author(),
                                             ToMicros(event.body.occurred_at()), appended_at_us));
  return CheckRoleFor(event.body, registry);
}

}  // namespace cairn::ledger
