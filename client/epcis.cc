#include "client/epcis.h"

#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <vector>

#include "cairn/v1/log.pb.h"
#include "client/format.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "ledger/event.h"

namespace cairn::client::epcis {
namespace {

std::string Base64(const std::string& bytes) {
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

std::string Field(const char* name) { return std::string(kPrefix) + ":" + name; }

// Kilograms as a JSON number (EPCIS quantities are decimals).
double Kg(uint64_t grams) { return static_cast<double>(grams) / 1000.0; }

Json Quantity(const std::string& lot_id, uint64_t mass_g) {
  return {{"epcClass", Urn("lot", lot_id)}, {"quantity", Kg(mass_g)}, {"uom", "KGM"}};
}

Json Quantities(const google::protobuf::RepeatedPtrField<cairn::v1::LotMass>& lots) {
  Json out = Json::array();
  for (const auto& l : lots) out.push_back(Quantity(l.lot_id(), l.mass_g()));
  return out;
}

Json Party(const char* role, const std::string& participant) {
  return {{"type", "owning_party"}, {role, Urn("participant", participant)}};
}

Json Documents(const google::protobuf::RepeatedPtrField<cairn::v1::Document>& documents) {
  Json out = Json::array();
  for (const auto& d : documents) {
    Json doc = {{"kind", d.kind()}};
    if (!d.uri().empty()) doc["uri"] = d.uri();
    if (!d.sha256().empty()) doc["sha256"] = d.sha256();
    out.push_back(std::move(doc));
  }
  return out;
}

Json Composition(const google::protobuf::Map<std::string, uint32_t>& ppm) {
  const std::map<std::string, uint32_t> sorted(ppm.begin(), ppm.end());
  Json out = Json::object();
  for (const auto& [element, value] : sorted) out[element] = value;
  return out;
}

Json Place(const std::string& kind, const std::string& id) { return {{"id", Urn(kind, id)}}; }

// The signed original of each event of the bundle, by event id.
std::map<std::string, cairn::v1::SignedEvent> SignedEvents(
    const cairn::v1::EvidenceBundle& bundle) {
  std::map<std::string, cairn::v1::SignedEvent> out;
  for (const auto& bundled : bundle.entries()) {
    cairn::v1::LogEntry entry;
    if (!entry.ParseFromString(bundled.entry())) continue;  // not verified: not in the graph
    out.emplace(ToHex(ledger::EventId(entry.event().body())), entry.event());
  }
  return out;
}

class Builder {
 public:
  Builder(const ledger::LineageReport& verified, const cairn::v1::EvidenceBundle& bundle)
      : graph_(verified.graph), signed_(SignedEvents(bundle)) {
    for (const ledger::LineageEvent& e : graph_.events()) {
      if (e.body.has_correction()) corrections_[e.body.correction().event_id()].push_back(&e);
    }
  }

  // nullopt for a correction (listed on the event it corrects instead).
  std::optional<Json> Event(const ledger::LineageEvent& e) const {
    const cairn::v1::EventBody& body = e.body;
    Json out;
    switch (body.kind_case()) {
      case cairn::v1::EventBody::kExtraction: {
        const auto& x = body.extraction();
        out = Common("ObjectEvent", e, "ADD", "commissioning", "active");
        out["quantityList"] = Json::array({Quantity(x.lot_id(), x.mass_g())});
        out["readPoint"] = Place("site", x.site().id());
        out["bizLocation"] = Place("site", x.site().id());
        Json site = {
            {"id", x.site().id()}, {"name", x.site().name()}, {"country", x.site().country()}};
        if (!x.site().region().empty()) site["region"] = x.site().region();
        out[Field("site")] = std::move(site);
        out[Field("material")] = x.material();
        out[Field("compositionPpm")] = Composition(x.composition_ppm());
        if (x.documents_size() > 0) out[Field("documents")] = Documents(x.documents());
        break;
      }
      case cairn::v1::EventBody::kDispatch: {
        const auto& d = body.dispatch();
        out = Common("ObjectEvent", e, "OBSERVE", "shipping", "in_transit");
        out["quantityList"] = Quantities(d.lots());
        out["sourceList"] = Json::array({Party("source", body.author())});
        out["destinationList"] = Json::array({Party("destination", d.recipient())});
        if (!d.shipment_id().empty()) {
          out["bizTransactionList"] = Json::array(
              {{{"type", "desadv"}, {"bizTransaction", Urn("shipment", d.shipment_id())}}});
        }
        if (d.has_transport()) {
          const auto& t = d.transport();
          Json transport = {{"mode", t.mode()}};
          if (!t.vessel().empty()) transport["vessel"] = t.vessel();
          if (!t.port_of_loading().empty()) transport["portOfLoading"] = t.port_of_loading();
          if (!t.port_of_discharge().empty()) transport["portOfDischarge"] = t.port_of_discharge();
          if (t.container_numbers_size() > 0) {
            transport["containers"] = Json(std::vector<std::string>(t.container_numbers().begin(),
                                                                    t.container_numbers().end()));
          }
          if (t.seal_numbers_size() > 0) {
            transport["seals"] =
                Json(std::vector<std::string>(t.seal_numbers().begin(), t.seal_numbers().end()));
          }
          out[Field("transport")] = std::move(transport);
        }
        if (!d.export_permit().empty()) out[Field("exportPermit")] = d.export_permit();
        if (!d.customs_declaration().empty()) {
          out[Field("customsDeclaration")] = d.customs_declaration();
        }
        if (!d.hs_code().empty()) out[Field("hsCode")] = d.hs_code();
        break;
      }
      case cairn::v1::EventBody::kReceipt: {
        const auto& r = body.receipt();
        out = Common("ObjectEvent", e, "OBSERVE", "receiving", "in_progress");
        out["quantityList"] = Quantities(r.lots());
        if (const auto d = graph_.FindEvent(r.dispatch_event_id())) {
          out["sourceList"] = Json::array({Party("source", graph_.event(*d).body.author())});
        }
        out["destinationList"] = Json::array({Party("destination", body.author())});
        out[Field("dispatchEventId")] = r.dispatch_event_id();
        if (!r.notes().empty()) out[Field("notes")] = r.notes();
        break;
      }
      case cairn::v1::EventBody::kTransformation: {
        const auto& t = body.transformation();
        out = Common("TransformationEvent", e, nullptr, "commissioning", "active");
        out["inputQuantityList"] = Quantities(t.inputs());
        Json outputs = Json::array();
        Json materials = Json::object();
        for (const auto& o : t.outputs()) {
          outputs.push_back(Quantity(o.lot_id(), o.mass_g()));
          materials[o.lot_id()] = {{"material", o.material()},
                                   {"compositionPpm", Composition(o.composition_ppm())}};
        }
        out["outputQuantityList"] = std::move(outputs);
        out["readPoint"] = Place("facility", t.facility().id());
        out["bizLocation"] = Place("facility", t.facility().id());
        out[Field("facility")] = {{"id", t.facility().id()},
                                  {"name", t.facility().name()},
                                  {"country", t.facility().country()}};
        out[Field("stage")] = StageName(t.stage());
        if (!t.process().empty()) out[Field("process")] = t.process();
        out[Field("outputs")] = std::move(materials);
        break;
      }
      case cairn::v1::EventBody::kAttestation: {
        const auto& a = body.attestation();
        out = Common("ObjectEvent", e, "OBSERVE", "inspecting", nullptr);
        out["quantityList"] = Json::array();
        if (a.has_lot_id()) {
          out["quantityList"].push_back({{"epcClass", Urn("lot", a.lot_id())}});
        } else {
          out[Field("attestedEventId")] = a.event_id();
          // The lots of the attested event: what was inspected.
          if (const auto attested = graph_.FindEvent(a.event_id())) {
            for (const ledger::LineageLot& lot : graph_.lots()) {
              if (std::find(lot.events.begin(), lot.events.end(), *attested) != lot.events.end()) {
                out["quantityList"].push_back({{"epcClass", Urn("lot", lot.lot_id)}});
              }
            }
          }
        }
        // An ObjectEvent names its objects in an epcList or a quantityList: EPCIS 2.0 requires
        // one; an empty epcList says there are none to name.
        if (out["quantityList"].empty()) {
          out.erase("quantityList");
          out["epcList"] = Json::array();
        }
        out[Field("attestationKind")] = cairn::v1::AttestationKind_Name(a.kind());
        if (!a.result().empty()) out[Field("result")] = a.result();
        if (!a.composition_ppm().empty()) {
          out[Field("compositionPpm")] = Composition(a.composition_ppm());
        }
        if (a.documents_size() > 0) out[Field("documents")] = Documents(a.documents());
        break;
      }
      default:
        return std::nullopt;
    }
    if (const auto c = corrections_.find(e.id_hex); c != corrections_.end()) {
      Json list = Json::array();
      for (const ledger::LineageEvent* correction : c->second) {
        list.push_back({{"eventId", correction->id_hex},
                        {"reason", correction->body.correction().reason()},
                        {"at", FormatTime(ToMicros(correction->body.occurred_at()))}});
      }
      out[Field("corrections")] = std::move(list);
    }
    return out;
  }

 private:
  // The fields every event has, and the signed original in the cairn: namespace.
  Json Common(const char* type, const ledger::LineageEvent& e, const char* action,
              const char* biz_step, const char* disposition) const {
    Json out = {{"type", type},
                {"eventID", Urn("event", e.id_hex)},
                {"eventTime", FormatTime(ToMicros(e.body.occurred_at()))},
                {"eventTimeZoneOffset", "+00:00"}};
    if (e.where.appended_at_us != 0) out["recordTime"] = FormatTime(e.where.appended_at_us);
    if (action != nullptr) out["action"] = action;
    out["bizStep"] = biz_step;
    if (disposition != nullptr) out["disposition"] = disposition;
    out[Field("eventId")] = e.id_hex;
    out[Field("logId")] = e.where.log_id;
    out[Field("index")] = e.where.index;
    out[Field("author")] = e.body.author();
    if (const auto s = signed_.find(e.id_hex); s != signed_.end()) {
      out[Field("keyId")] = s->second.key_id();
      out[Field("signature")] = ToHex(s->second.signature());
      out[Field("signedBody")] = Base64(s->second.body());
    }
    return out;
  }

  const ledger::LineageGraph& graph_;
  const std::map<std::string, cairn::v1::SignedEvent> signed_;
  std::map<std::string, std::vector<const ledger::LineageEvent*>> corrections_;
};

}  // namespace

std::string Urn(const std::string& kind, const std::string& id) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "urn:cairn:";
  out += kind;
  out += ':';
  for (const unsigned char c : id) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == ':') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

Json BuildDocument(const LineageInput& input, const ledger::LineageReport& verified,
                   int64_t created_at_us) {
  const ledger::LineageGraph& graph = verified.graph;
  std::vector<int> order(graph.events().size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  SortByOccurrence(graph, order);
  const Builder builder(verified, input.bundle);
  Json events = Json::array();
  for (int e : order) {
    if (auto event = builder.Event(graph.event(e))) events.push_back(*std::move(event));
  }
  Json checkpoints = Json::array();
  for (const auto& signed_checkpoint : input.bundle.checkpoints()) {
    cairn::v1::Checkpoint c;
    if (!c.ParseFromString(signed_checkpoint.checkpoint())) continue;
    checkpoints.push_back({{"logId", c.log_id()},
                           {"size", c.size()},
                           {"rootHash", ToHex(c.root_hash())},
                           {"keyId", signed_checkpoint.key_id()}});
  }
  Json context = Json::array(
      {"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", {{kPrefix, kNamespace}}});
  return {{"@context", std::move(context)},
          {"type", "EPCISDocument"},
          {"schemaVersion", "2.0"},
          {"creationDate", FormatTime(created_at_us)},
          {Field("lineage"),
           {{"lotId", verified.lot_id},
            {"direction",
             verified.direction == cairn::v1::TRACE_DIRECTION_FORWARD ? "forward" : "backward"},
            {"verdict", Verdict(verified.ExitCode())},
            {"registryVersion", input.bundle.registry_version()},
            {"bundleSha256", input.bundle_sha256},
            {"checkpoints", std::move(checkpoints)}}},
          {"epcisBody", {{"eventList", std::move(events)}}}};
}

}  // namespace cairn::client::epcis
