#include "client/report/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "cairn/v1/log.pb.h"
#include "client/audit.h"
#include "client/format.h"
#include "client/lineage_view.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "ledger/event.h"

namespace cairn::client::report {
namespace {

constexpr double kGramsPerKg = 1000.0;

std::string Date(int64_t micros) { return micros == 0 ? "" : FormatTime(micros); }

Json DocumentsJson(const google::protobuf::RepeatedPtrField<cairn::v1::Document>& documents) {
  Json out = Json::array();
  for (const auto& d : documents) {
    out.push_back({{"kind", d.kind()}, {"uri", d.uri()}, {"sha256", d.sha256()}});
  }
  return out;
}

Json CheckpointsJson(const cairn::v1::EvidenceBundle& bundle) {
  Json out = Json::array();
  for (const auto& signed_checkpoint : bundle.checkpoints()) {
    cairn::v1::Checkpoint checkpoint;
    if (!checkpoint.ParseFromString(signed_checkpoint.checkpoint())) continue;
    out.push_back({{"log_id", checkpoint.log_id()},
                   {"size", checkpoint.size()},
                   {"root_hash", ToHex(checkpoint.root_hash())},
                   {"key_id", signed_checkpoint.key_id()},
                   {"timestamp", Date(ToMicros(checkpoint.timestamp()))}});
  }
  return out;
}

// Rows of one share map: key, name and country where known, share, kilograms of `mass_g`.
Json ShareRows(const std::string& dimension, const std::map<std::string, double>& shares,
               double mass_g, const std::map<std::string, ledger::PlaceInfo>* places = nullptr) {
  Json rows = Json::array();
  std::vector<std::pair<std::string, double>> sorted(shares.begin(), shares.end());
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  for (const auto& [key, share] : sorted) {
    Json row = {{"dimension", dimension}, {"key", key}, {"name", ""}, {"country", ""}};
    if (places != nullptr) {
      if (auto it = places->find(key); it != places->end()) {
        row["name"] = it->second.name;
        row["country"] = it->second.country;
      }
    }
    row["share"] = share;
    row["mass_kg"] = share * mass_g / kGramsPerKg;
    rows.push_back(row);
  }
  return rows;
}

// `participants`: legal name and country of each participant id, from the auditor's registry.
Json OriginRows(const ledger::OriginShares& shares, const ledger::Attribution& a, double mass_g,
                const std::map<std::string, ledger::PlaceInfo>& participants) {
  Json rows = Json::array();
  for (Json part : {ShareRows("country", shares.by_country, mass_g),
                    ShareRows("region", shares.by_region, mass_g),
                    ShareRows("site", shares.by_site, mass_g, &a.sites),
                    ShareRows("mine", shares.by_mine, mass_g, &participants),
                    ShareRows("facility", shares.by_facility, mass_g, &a.facilities),
                    ShareRows("facility_country", shares.by_facility_country, mass_g)}) {
    for (auto& row : part) rows.push_back(std::move(row));
  }
  if (shares.unknown > 1e-12) {
    rows.push_back({{"dimension", "country"},
                    {"key", "unknown"},
                    {"name", ""},
                    {"country", ""},
                    {"share", shares.unknown},
                    {"mass_kg", shares.unknown * mass_g / kGramsPerKg}});
  }
  return rows;
}

// Every event touching a lot of the lineage, each once, in the order the events occurred.
std::vector<int> LineageEvents(const ledger::LineageGraph& graph, const std::vector<int>& lots) {
  std::set<int> seen;
  for (int lot : lots) {
    for (int e : graph.lot(lot).events) seen.insert(e);
  }
  std::vector<int> events(seen.begin(), seen.end());
  SortByOccurrence(graph, events);
  return events;
}

Json LotMassesJson(const google::protobuf::RepeatedPtrField<cairn::v1::LotMass>& lots) {
  Json out = Json::array();
  for (const auto& l : lots) out.push_back({{"lot_id", l.lot_id()}, {"mass_g", l.mass_g()}});
  return out;
}

Json CustodyJson(const ledger::LineageGraph& graph, const std::vector<int>& events) {
  Json out = Json::array();
  for (int e : events) {
    const ledger::LineageEvent& event = graph.event(e);
    const cairn::v1::EventBody& body = event.body;
    Json row = {{"date", Date(ToMicros(body.occurred_at()))},
                {"kind", ledger::KindName(body)},
                {"participant", body.author()},
                {"counterparty", ""},
                {"lots", Json::array()},
                {"summary", Summarize(body)},
                {"transport", ""},
                {"export_permit", ""},
                {"customs_declaration", ""},
                {"hs_code", ""},
                {"notes", ""},
                {"event_id", event.id_hex},
                {"log_id", event.where.log_id},
                {"index", event.where.index}};
    if (body.has_extraction()) {
      row["lots"] = {
          {{"lot_id", body.extraction().lot_id()}, {"mass_g", body.extraction().mass_g()}}};
    } else if (body.has_dispatch()) {
      const auto& d = body.dispatch();
      row["counterparty"] = d.recipient();
      row["lots"] = LotMassesJson(d.lots());
      const auto& t = d.transport();
      std::string transport = t.mode();
      if (!t.vessel().empty()) transport += ", " + t.vessel();
      if (!t.port_of_loading().empty() || !t.port_of_discharge().empty()) {
        transport += ", " + t.port_of_loading() + " -> " + t.port_of_discharge();
      }
      if (t.container_numbers_size() > 0) {
        transport += fmt::format(", {} container(s)", t.container_numbers_size());
      }
      row["transport"] = transport;
      row["export_permit"] = d.export_permit();
      row["customs_declaration"] = d.customs_declaration();
      row["hs_code"] = d.hs_code();
    } else if (body.has_receipt()) {
      const auto& r = body.receipt();
      if (auto d = graph.FindEvent(r.dispatch_event_id())) {
        row["counterparty"] = graph.event(*d).body.author();
      }
      row["lots"] = LotMassesJson(r.lots());
      row["notes"] = r.notes();
    } else if (body.has_transformation()) {
      Json lots = LotMassesJson(body.transformation().inputs());
      for (const auto& o : body.transformation().outputs()) {
        lots.push_back({{"lot_id", o.lot_id()}, {"mass_g", o.mass_g()}});
      }
      row["lots"] = lots;
    } else if (body.has_attestation() && body.attestation().has_lot_id()) {
      row["lots"] = {{{"lot_id", body.attestation().lot_id()}, {"mass_g", 0}}};
    }
    out.push_back(row);
  }
  return out;
}

// Each dispatch of a lineage lot against its receipt: lost mass per lot.
Json TransitLossesJson(const ledger::LineageGraph& graph, const std::vector<int>& events) {
  Json out = Json::array();
  for (int e : events) {
    const ledger::LineageEvent& receipt = graph.event(e);
    if (!receipt.body.has_receipt()) continue;
    auto d = graph.FindEvent(receipt.body.receipt().dispatch_event_id());
    if (!d) continue;
    const ledger::LineageEvent& dispatch = graph.event(*d);
    for (const auto& sent : dispatch.body.dispatch().lots()) {
      uint64_t got = 0;
      for (const auto& l : receipt.body.receipt().lots()) {
        if (l.lot_id() == sent.lot_id()) got = l.mass_g();
      }
      if (got >= sent.mass_g()) continue;
      const uint64_t lost = sent.mass_g() - got;
      out.push_back({{"lot_id", sent.lot_id()},
                     {"from", dispatch.body.author()},
                     {"to", receipt.body.author()},
                     {"dispatched_g", sent.mass_g()},
                     {"received_g", got},
                     {"lost_g", lost},
                     {"lost_share", static_cast<double>(lost) / static_cast<double>(sent.mass_g())},
                     {"dispatch_event_id", dispatch.id_hex},
                     {"receipt_event_id", receipt.id_hex}});
    }
  }
  return out;
}

// A finding's group in the report.
const char* GroupOf(const ledger::Finding& f) {
  if (f.severity == ledger::Severity::kIncomplete) return "incomplete";
  if (f.check == "custody") return "custody";
  if (f.check == "mass") return "mass_balance";
  if (f.check == "transit_loss") return "transit_loss";
  if (f.severity == ledger::Severity::kIntegrity) return "integrity";
  return "note";
}

Json FindingsJson(const ledger::LineageReport& verified) {
  static const char* const kGroups[] = {
      "integrity",    "custody",    "mass_balance", "restricted_source",
      "transit_loss", "incomplete", "note"};
  std::map<std::string, Json> items;
  for (const ledger::Finding& f : verified.findings) {
    Json item = {{"severity", ledger::SeverityName(f.severity)},
                 {"check", f.check},
                 {"lot_id", f.lot_id},
                 {"message", f.message},
                 {"red_flag", ""},
                 {"event_ids", f.event_id.empty() ? Json::array() : Json::array({f.event_id})}};
    items[GroupOf(f)].push_back(item);
  }
  for (const ledger::Violation& v : verified.violations) {
    Json item = {{"severity", "violation"},
                 {"check", v.kind},
                 {"lot_id", v.source_lot},
                 {"message", fmt::format("{}{} from {} (max {}): {}", Percent(v.share),
                                         v.element.empty() ? "" : " of its " + v.element, v.source,
                                         Percent(v.max_share), v.reason)},
                 {"red_flag", v.red_flag},
                 {"event_ids", v.path_event_ids}};
    items[v.kind == "transit_loss" ? "transit_loss" : "restricted_source"].push_back(item);
  }
  Json groups = Json::array();
  for (const char* group : kGroups) {
    auto it = items.find(group);
    if (it == items.end()) continue;
    groups.push_back({{"kind", group}, {"count", it->second.size()}, {"items", it->second}});
  }
  return groups;
}

// Attestations whose subject is one of `events` or `lots`.
Json AttestationsOn(const ledger::LineageGraph& graph, const std::vector<int>& evidence,
                    const std::set<std::string>& events, const std::set<std::string>& lots) {
  Json out = Json::array();
  for (int e : evidence) {
    const ledger::LineageEvent& event = graph.event(e);
    if (!event.body.has_attestation()) continue;
    const auto& a = event.body.attestation();
    if (!(a.has_event_id() && events.count(a.event_id())) &&
        !(a.has_lot_id() && lots.count(a.lot_id()))) {
      continue;
    }
    out.push_back({{"kind", cairn::v1::AttestationKind_Name(a.kind())},
                   {"by", event.body.author()},
                   {"date", Date(ToMicros(event.body.occurred_at()))},
                   {"result", a.result()},
                   {"documents", DocumentsJson(a.documents())},
                   {"event_id", event.id_hex}});
  }
  return out;
}

Json SitesJson(const ledger::LineageGraph& graph, const std::vector<int>& lots,
               const std::vector<int>& evidence) {
  Json out = Json::array();
  for (int index : lots) {
    const ledger::LineageLot& lot = graph.lot(index);
    if (lot.created_by < 0 || !graph.event(lot.created_by).body.has_extraction()) continue;
    const ledger::LineageEvent& event = graph.event(lot.created_by);
    const auto& x = event.body.extraction();
    out.push_back({{"site_id", x.site().id()},
                   {"name", x.site().name()},
                   {"country", x.site().country()},
                   {"region", x.site().region()},
                   {"lat", x.site().lat()},
                   {"lon", x.site().lon()},
                   {"operator", event.body.author()},
                   {"lot_id", lot.lot_id},
                   {"material", lot.material},
                   {"mass_g", lot.created_mass_g},
                   {"date", Date(ToMicros(event.body.occurred_at()))},
                   {"documents", DocumentsJson(x.documents())},
                   {"attestations", AttestationsOn(graph, evidence, {event.id_hex}, {lot.lot_id})},
                   {"event_id", event.id_hex}});
  }
  return out;
}

// One row per facility (EMRT/AMRT smelter-list shape), its transformations aggregated.
Json FacilitiesJson(const ledger::LineageGraph& graph, const std::vector<int>& events,
                    const std::vector<int>& evidence) {
  struct Facility {
    cairn::v1::Facility where;
    std::set<std::string> steps, operators, event_ids, outputs;
    uint64_t input_g = 0, output_g = 0;
    int64_t first = 0, last = 0;
  };
  std::map<std::string, Facility> facilities;
  std::vector<std::string> order;
  for (int e : events) {
    const ledger::LineageEvent& event = graph.event(e);
    if (!event.body.has_transformation()) continue;
    const auto& t = event.body.transformation();
    auto [it, added] = facilities.try_emplace(t.facility().id());
    Facility& f = it->second;
    if (added) {
      f.where = t.facility();
      order.push_back(t.facility().id());
    }
    f.steps.insert(StageName(t.stage()));
    f.operators.insert(event.body.author());
    f.event_ids.insert(event.id_hex);
    for (const auto& in : t.inputs()) f.input_g += in.mass_g();
    for (const auto& o : t.outputs()) {
      f.output_g += o.mass_g();
      f.outputs.insert(o.lot_id());
    }
    const int64_t at = ToMicros(event.body.occurred_at());
    f.first = f.first == 0 ? at : std::min(f.first, at);
    f.last = std::max(f.last, at);
  }
  Json out = Json::array();
  auto join = [](const std::set<std::string>& items) {
    std::string s;
    for (const auto& i : items) s += (s.empty() ? "" : ", ") + i;
    return s;
  };
  for (const std::string& id : order) {
    const Facility& f = facilities.at(id);
    out.push_back({{"facility_id", id},
                   {"name", f.where.name()},
                   {"country", f.where.country()},
                   {"region", f.where.region()},
                   {"process_step", join(f.steps)},
                   {"operator", join(f.operators)},
                   {"transformations", f.event_ids.size()},
                   {"input_g", f.input_g},
                   {"output_g", f.output_g},
                   {"first_date", Date(f.first)},
                   {"last_date", Date(f.last)},
                   {"attestations", AttestationsOn(graph, evidence, f.event_ids, f.outputs)},
                   {"event_ids", Json(f.event_ids)}});
  }
  return out;
}

}  // namespace

Json BuildLotReport(const LineageInput& input, const ledger::LineageReport& verified,
                    int64_t generated_at_us) {
  const ledger::LineageGraph& graph = verified.graph;
  const int code = verified.ExitCode();
  const std::string as_of = FormatTime(input.as_of_us).substr(0, 10);
  const ledger::Policy* policy = input.policy ? &*input.policy : nullptr;
  Json report;
  report["report"] = {{"kind", "lot"},
                      {"generated_at", FormatTime(generated_at_us)},
                      {"tool", std::string("cairn ") + CAIRN_VERSION}};
  report["verdict"] = {{"verdict", Verdict(code)},
                       {"exit_code", code},
                       {"headline", Headline(verified, policy, as_of)}};
  Json subject = {
      {"lot_id", verified.lot_id},
      {"direction",
       verified.direction == cairn::v1::TRACE_DIRECTION_FORWARD ? "forward" : "backward"},
      {"material", ""},
      {"mass_g", 0},
      {"composition_ppm", Json::object()}};
  double mass_g = 0;
  if (verified.target >= 0) {
    const ledger::LineageLot& lot = graph.lot(verified.target);
    subject["material"] = lot.material;
    subject["mass_g"] = lot.created_mass_g;
    subject["composition_ppm"] = lot.composition_ppm;
    mass_g = static_cast<double>(lot.created_mass_g);
  }
  report["subject"] = subject;
  const auto& registry = input.registry->registry();
  report["checked"] = {
      {"as_of", as_of},
      {"evidence_from", input.origin},
      {"bundle_sha256", input.bundle_sha256},
      {"events", verified.entries_checked},
      {"signatures", verified.entries_checked},
      {"inclusion_proofs", verified.entries_checked},
      {"lots", verified.lineage_lots.size()},
      {"logs", verified.logs},
      {"checkpoints", CheckpointsJson(input.bundle)},
      {"registry",
       {{"consortium", registry.consortium()},
        {"version", registry.version()},
        {"bundle_registry_version", input.bundle.registry_version()}}},
      {"policy", policy == nullptr ? Json(nullptr)
                                   : Json({{"name", policy->name},
                                           {"sha256", input.policy_sha256},
                                           {"mass_tolerance", policy->mass_tolerance}})}};
  Json origin = {{"mass", Json::array()}, {"elements", Json::array()}, {"cycle", false}};
  if (verified.attribution) {
    const ledger::Attribution& a = *verified.attribution;
    std::map<std::string, ledger::PlaceInfo> participants;
    for (const auto& p : registry.participants()) {
      participants[p.id()] = {p.legal_name(), p.country(), ""};
    }
    origin["mass"] = OriginRows(a.mass, a, mass_g, participants);
    Json elements = Json::array();
    for (const auto& [element, shares] : a.by_element) {
      const auto ppm = graph.lot(verified.target).composition_ppm;
      const auto it = ppm.find(element);
      const double element_g = it == ppm.end() ? 0 : mass_g * it->second / 1e6;
      for (auto& row : ShareRows("country", shares.by_country, element_g)) {
        Json with = {{"element", element}};
        with.update(row);
        elements.push_back(with);
      }
    }
    origin["elements"] = elements;
    origin["cycle"] = a.cycle;
  }
  report["origin"] = origin;
  const std::vector<int> events = LineageEvents(graph, verified.lineage_lots);
  const std::vector<int> evidence = EvidenceEvents(graph, verified.lineage_lots);
  report["sites"] = SitesJson(graph, verified.lineage_lots, evidence);
  report["facilities"] = FacilitiesJson(graph, events, evidence);
  report["custody"] = CustodyJson(graph, events);
  report["transit_losses"] = TransitLossesJson(graph, events);
  report["findings"] = FindingsJson(verified);
  report["evidence"] = Json::parse(EvidenceJson(graph, evidence).dump());
  Json audits = Json::array();
  for (const Audit& audit : AuditsOf(verified)) {
    audits.push_back(Json::parse(AuditJson(audit, input.policy_sha256).dump()));
  }
  report["audits"] = audits;
  report["report_checks"] = Json::array();
  return report;
}

}  // namespace cairn::client::report
