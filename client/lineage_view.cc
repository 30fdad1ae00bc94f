#include "client/lineage_view.h"

#include <fmt/format.h>
#include <graphviz/cgraph.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <tuple>

#include "client/format.h"

namespace cairn::client {
namespace {

std::string Short(const std::string& event_id) { return event_id.substr(0, 12); }

// How the lot came to be, in one phrase.
std::string Origin(const ledger::LineageGraph& graph, const ledger::LineageLot& lot) {
  if (lot.created_by < 0) return "created by an event not in the evidence";
  const ledger::LineageEvent& event = graph.event(lot.created_by);
  const cairn::v1::EventBody& body = event.body;
  if (body.has_extraction()) {
    const auto& site = body.extraction().site();
    return fmt::format("mined at {} ({}{}{}) by {} [{}]", site.name(), site.country(),
                       site.region().empty() ? "" : ", ", site.region(), body.author(),
                       Short(event.id_hex));
  }
  const auto& t = body.transformation();
  return fmt::format("{} at {} ({}) by {} [{}]", StageName(t.stage()), t.facility().name(),
                     t.facility().country(), body.author(), Short(event.id_hex));
}

// Custody moves of the lot: "pk-fwo -> us-usm 25.000 t [dispatch], received 24.985 t [receipt]".
std::vector<std::string> CustodyLines(const ledger::LineageGraph& graph,
                                      const ledger::LineageLot& lot) {
  std::vector<std::string> lines;
  for (int e : lot.events) {
    const ledger::LineageEvent& event = graph.event(e);
    if (!event.body.has_dispatch()) continue;
    const auto& dispatch = event.body.dispatch();
    uint64_t sent = 0;
    for (const auto& l : dispatch.lots()) {
      if (l.lot_id() == lot.lot_id) sent = l.mass_g();
    }
    std::string line = fmt::format("{} -> {} {} [{}]", event.body.author(), dispatch.recipient(),
                                   FormatMass(sent), Short(event.id_hex));
    std::string received = ", not received";
    for (int r : lot.events) {
      const ledger::LineageEvent& receipt = graph.event(r);
      if (!receipt.body.has_receipt() ||
          receipt.body.receipt().dispatch_event_id() != event.id_hex) {
        continue;
      }
      uint64_t got = 0;
      for (const auto& l : receipt.body.receipt().lots()) {
        if (l.lot_id() == lot.lot_id) got = l.mass_g();
      }
      received = fmt::format(", received {} [{}]", FormatMass(got), Short(receipt.id_hex));
    }
    lines.push_back(line + received);
  }
  return lines;
}

std::vector<std::pair<std::string, double>> Sorted(const std::map<std::string, double>& shares) {
  std::vector<std::pair<std::string, double>> sorted(shares.begin(), shares.end());
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  return sorted;
}

std::string ShareList(const std::map<std::string, double>& shares, double unknown,
                      const std::map<std::string, ledger::PlaceInfo>* names = nullptr) {
  std::string out;
  for (const auto& [key, share] : Sorted(shares)) {
    if (!out.empty()) out += ", ";
    out += Percent(share) + " " + key;
    if (names != nullptr) {
      auto it = names->find(key);
      if (it != names->end() && !it->second.name.empty()) {
        out += " (" + it->second.name + ", " + it->second.country + ")";
      }
    }
  }
  if (unknown > 1e-12) out += (out.empty() ? "" : ", ") + Percent(unknown) + " unknown";
  return out.empty() ? "none" : out;
}

void PrintShares(const ledger::OriginShares& shares, const ledger::Attribution& a,
                 const std::string& indent, std::ostream& out) {
  out << indent << "mined in      " << ShareList(shares.by_country, shares.unknown) << "\n";
  if (!shares.by_region.empty()) {
    out << indent << "regions       " << ShareList(shares.by_region, 0) << "\n";
  }
  out << indent << "sites         " << ShareList(shares.by_site, shares.unknown, &a.sites) << "\n";
  out << indent << "mines         " << ShareList(shares.by_mine, shares.unknown) << "\n";
  if (!shares.by_facility.empty()) {
    out << indent << "processed at  " << ShareList(shares.by_facility, 0, &a.facilities)
        << "  (share passing through each)\n";
    out << indent << "processed in  " << ShareList(shares.by_facility_country, 0) << "\n";
  }
  for (const auto& [lot, share] : Sorted(shares.unknown_lots)) {
    out << indent << "unknown       " << Percent(share) << " via " << lot << "\n";
  }
}

bool SameMap(const std::map<std::string, double>& a, const std::map<std::string, double>& b) {
  if (a.size() != b.size()) return false;
  for (auto i = a.begin(), j = b.begin(); i != a.end(); ++i, ++j) {
    if (i->first != j->first || std::abs(i->second - j->second) > 1e-9) return false;
  }
  return true;
}

bool SameShares(const ledger::OriginShares& a, const ledger::OriginShares& b) {
  return std::abs(a.unknown - b.unknown) <= 1e-9 && SameMap(a.by_country, b.by_country) &&
         SameMap(a.by_region, b.by_region) && SameMap(a.by_site, b.by_site) &&
         SameMap(a.by_mine, b.by_mine) && SameMap(a.by_facility, b.by_facility) &&
         SameMap(a.by_facility_country, b.by_facility_country);
}

nlohmann::json SharesJson(const ledger::OriginShares& shares) {
  return {{"by_country", shares.by_country},   {"by_region", shares.by_region},
          {"by_site", shares.by_site},         {"by_mine", shares.by_mine},
          {"unknown", shares.unknown},         {"unknown_lots", shares.unknown_lots},
          {"by_facility", shares.by_facility}, {"by_facility_country", shares.by_facility_country}};
}

nlohmann::json PlacesJson(const std::map<std::string, ledger::PlaceInfo>& places) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [id, place] : places) {
    out[id] = {{"name", place.name}, {"country", place.country}, {"region", place.region}};
  }
  return out;
}

}  // namespace

std::vector<int> EvidenceEvents(const ledger::LineageGraph& graph, const std::vector<int>& lots) {
  std::vector<int> events;
  for (int lot : lots) {
    for (int e : graph.lot(lot).events) {
      const auto& body = graph.event(e).body;
      if (body.has_attestation() || body.has_correction()) events.push_back(e);
    }
  }
  std::sort(events.begin(), events.end(), [&](int a, int b) {
    const auto& x = graph.event(a).where;
    const auto& y = graph.event(b).where;
    return std::tie(x.log_id, x.index, a) < std::tie(y.log_id, y.index, b);
  });
  events.erase(std::unique(events.begin(), events.end()), events.end());
  return events;
}

void PrintEvidence(const ledger::LineageGraph& graph, const std::vector<int>& events,
                   std::ostream& out) {
  if (events.empty()) return;
  out << "evidence (" << events.size() << " attestation(s) and correction(s) on the lineage):\n";
  for (int e : events) {
    const ledger::LineageEvent& event = graph.event(e);
    out << "  " << (event.body.has_correction() ? "correction" : "attestation") << " by "
        << event.body.author() << ": " << Summarize(event.body) << " [" << Short(event.id_hex)
        << ", " << event.where.log_id << " #" << event.where.index << "]\n";
  }
}

nlohmann::json EvidenceJson(const ledger::LineageGraph& graph, const std::vector<int>& events) {
  nlohmann::json out = nlohmann::json::array();
  for (int e : events) {
    const ledger::LineageEvent& event = graph.event(e);
    nlohmann::json j = {{"event_id", event.id_hex},      {"kind", ledger::KindName(event.body)},
                        {"author", event.body.author()}, {"summary", Summarize(event.body)},
                        {"log_id", event.where.log_id},  {"index", event.where.index}};
    if (event.body.has_correction()) {
      const auto& c = event.body.correction();
      j["event_id_corrected"] = c.event_id();
      j["reason"] = c.reason();
    } else {
      const auto& a = event.body.attestation();
      if (a.has_lot_id()) j["subject_lot_id"] = a.lot_id();
      if (a.has_event_id()) j["subject_event_id"] = a.event_id();
      j["attestation_kind"] = cairn::v1::AttestationKind_Name(a.kind());
      j["result"] = a.result();
      if (!a.composition_ppm().empty()) {
        j["composition_ppm"] =
            std::map<std::string, uint32_t>(a.composition_ppm().begin(), a.composition_ppm().end());
      }
    }
    out.push_back(j);
  }
  return out;
}

std::string OriginSummary(const ledger::Attribution& attribution) {
  return ShareList(attribution.mass.by_country, attribution.mass.unknown) + " by mined mass";
}

void PrintAttribution(const ledger::Attribution& attribution, std::ostream& out) {
  out << "origin of " << attribution.lot_id << " (share of its mass):\n";
  PrintShares(attribution.mass, attribution, "  ", out);
  std::string same;  // elements whose shares are those of the mass
  for (const auto& [element, shares] : attribution.by_element) {
    if (SameShares(shares, attribution.mass)) {
      same += (same.empty() ? "" : ", ") + element;
      continue;
    }
    out << "  " << element << ":\n";
    PrintShares(shares, attribution, "    ", out);
  }
  if (!same.empty()) out << "  " << same << ": the same shares as the mass\n";
  if (attribution.cycle) out << "  the evidence contains a cycle; its mass counts as unknown\n";
}

nlohmann::json AttributionJson(const ledger::Attribution& attribution) {
  nlohmann::json by_element = nlohmann::json::object();
  for (const auto& [element, shares] : attribution.by_element) {
    by_element[element] = SharesJson(shares);
  }
  return {{"lot_id", attribution.lot_id},
          {"mass", SharesJson(attribution.mass)},
          {"by_element", by_element},
          {"sites", PlacesJson(attribution.sites)},
          {"facilities", PlacesJson(attribution.facilities)},
          {"cycle", attribution.cycle}};
}

namespace {

// The lots a tree shows under `lot`: backward, the lots it was made from; forward, the lots made
// from it.
std::vector<int> Children(const ledger::LineageGraph& graph, int lot, bool forward) {
  std::vector<int> children;
  const ledger::LineageLot& l = graph.lot(lot);
  if (forward) {
    for (int consumer : l.consumed_by) {
      for (int output : graph.Outputs(consumer)) children.push_back(output);
    }
  } else if (l.created_by >= 0) {
    for (const ledger::LotFlow& input : graph.Inputs(l.created_by)) children.push_back(input.lot);
  }
  return children;
}

// "lot id  material, mass".
std::string LotHeading(const ledger::LineageLot& lot) {
  if (lot.created_by < 0) return lot.lot_id;
  return lot.lot_id + "  " + lot.material + ", " + FormatMass(lot.created_mass_g);
}

}  // namespace

int TreeDepth(const ledger::LineageGraph& graph, int root, bool forward) {
  std::vector<bool> seen(graph.lots().size(), false);
  std::vector<std::pair<int, int>> stack{{root, 0}};
  int deepest = 0;
  while (!stack.empty()) {
    const auto [lot, depth] = stack.back();
    stack.pop_back();
    deepest = std::max(deepest, depth);
    if (seen[lot]) continue;
    seen[lot] = true;
    for (int child : Children(graph, lot, forward)) stack.push_back({child, depth + 1});
  }
  return deepest;
}

void PrintLineageTree(const ledger::LineageGraph& graph, int root, const TreeOptions& options,
                      std::ostream& out) {
  struct Item {
    int lot;
    int depth;           // edges from the root
    std::string prefix;  // drawn before this item's line
    std::string branch;  // "├── ", "└── ", "↑ " or nothing
    std::string below;   // drawn before the lines under it
  };
  const char* const lone = options.forward ? "↓ " : "↑ ";
  std::vector<bool> shown(graph.lots().size(), false);
  std::vector<Item> stack{{root, 0, "", "", ""}};
  while (!stack.empty()) {
    Item item = std::move(stack.back());
    stack.pop_back();
    const ledger::LineageLot& lot = graph.lot(item.lot);
    out << item.prefix << item.branch << LotHeading(lot);
    if (shown[item.lot]) {
      out << "  (shown above)\n";
      continue;
    }
    shown[item.lot] = true;
    out << " — " << Origin(graph, lot) << "\n";
    for (const std::string& line : CustodyLines(graph, lot)) {
      out << item.below << "  ⇢ " << line << "\n";
    }
    for (int e : EvidenceEvents(graph, {item.lot})) {
      const ledger::LineageEvent& event = graph.event(e);
      out << item.below << "  " << (event.body.has_correction() ? "✎ " : "✓ ")
          << event.body.author() << ": " << Summarize(event.body) << " [" << Short(event.id_hex)
          << "]\n";
    }
    std::vector<int> children = Children(graph, item.lot, options.forward);
    if (children.empty()) continue;
    int depth = item.depth + 1;
    if (options.max_depth >= 0 && depth > options.max_depth) {
      out << item.below << "  … " << children.size()
          << (options.forward ? " product lot(s)" : " input lot(s)") << " beyond --depth "
          << options.max_depth << "\n";
      continue;
    }
    if (options.compact && children.size() == 1) {
      // A linear chain: the lone child is drawn at the same indentation, and a run of lone
      // children (each made from exactly one lot) is collapsed to one line.
      int next = children[0];
      std::vector<int> run;
      while (!shown[next] && (options.max_depth < 0 || depth < options.max_depth)) {
        std::vector<int> further = Children(graph, next, options.forward);
        if (further.size() != 1) break;
        shown[next] = true;  // also ends a cycle of lone children
        run.push_back(next);
        next = further[0];
        ++depth;
      }
      if (run.size() < 2) {  // nothing worth collapsing: draw the first lone child
        for (int l : run) shown[l] = false;
        next = children[0];
        depth = item.depth + 1;
        run.clear();
      }
      if (!run.empty()) {
        out << item.below << "┆ " << run.size() << " lots in a linear chain, "
            << graph.lot(run.front()).lot_id << " … " << graph.lot(run.back()).lot_id
            << " (--format tree shows each)\n";
      }
      stack.push_back({next, depth, item.below, lone, item.below});
      continue;
    }
    // Pushed in reverse so they print in order.
    for (size_t i = children.size(); i-- > 0;) {
      const bool last = i + 1 == children.size();
      stack.push_back({children[i], depth, item.below, last ? "└── " : "├── ",
                       item.below + (last ? "    " : "│   ")});
    }
  }
}

std::string LineageDot(const ledger::LineageGraph& graph, const std::vector<int>& lots) {
  std::vector<bool> included(graph.lots().size(), false);
  for (int lot : lots) included[lot] = true;
  // cgraph does the quoting; a backslash in event text is doubled so it cannot start a DOT
  // escape (\N, \G, \l) in a label.
  auto label_text = [](const std::string& text) {
    std::string out;
    for (char c : text) {
      if (c == '\\') out += '\\';
      out += c;
    }
    return out;
  };
  Agraph_t* g = agopen(const_cast<char*>("lineage"), Agdirected, nullptr);
  auto set = [](void* object, const char* name, const std::string& value) {
    // cgraph (2.42) takes char* but copies every string it is given.
    std::string empty;
    agsafeset(object, const_cast<char*>(name), const_cast<char*>(value.c_str()), empty.data());
  };
  set(g, "rankdir", "LR");
  std::vector<Agnode_t*> nodes(graph.lots().size(), nullptr);
  for (int index : lots) {
    const ledger::LineageLot& lot = graph.lot(index);
    Agnode_t* n = agnode(g, const_cast<char*>(lot.lot_id.c_str()), 1);
    nodes[index] = n;
    set(n, "shape", "box");
    std::string label = label_text(lot.lot_id);
    if (lot.created_by < 0) {
      set(n, "style", "dashed");
      label += "\\ncreated by an event not in the evidence";
    } else {
      label += "\\n" + label_text(lot.material + ", " + FormatMass(lot.created_mass_g));
      const cairn::v1::EventBody& body = graph.event(lot.created_by).body;
      if (body.has_extraction()) {
        const auto& site = body.extraction().site();
        set(n, "style", "filled");
        set(n, "fillcolor", "#e6f0dc");
        label += "\\n" + label_text("mined at " + site.name() + " (" + site.country() +
                                    (site.region().empty() ? "" : ", " + site.region()) + ")");
      }
    }
    set(n, "label", label);
  }
  for (int index : lots) {
    const ledger::LineageLot& lot = graph.lot(index);
    if (lot.created_by < 0 || !graph.event(lot.created_by).body.has_transformation()) continue;
    const auto& t = graph.event(lot.created_by).body.transformation();
    for (const ledger::LotFlow& input : graph.Inputs(lot.created_by)) {
      if (!included[input.lot]) continue;
      Agedge_t* e = agedge(g, nodes[input.lot], nodes[index], nullptr, 1);
      set(e, "label",
          label_text(std::string(StageName(t.stage())) + " at " + t.facility().name() + " (" +
                     t.facility().country() + ")"));
    }
  }
  char* buffer = nullptr;
  size_t size = 0;
  FILE* memory = open_memstream(&buffer, &size);
  std::string dot;
  if (memory != nullptr) {
    agwrite(g, memory);
    std::fclose(memory);
    dot.assign(buffer, size);
    std::free(buffer);
  }
  agclose(g);
  return dot;
}

nlohmann::json LineageLotsJson(const ledger::LineageGraph& graph, const std::vector<int>& lots) {
  nlohmann::json out = nlohmann::json::array();
  for (int index : lots) {
    const ledger::LineageLot& lot = graph.lot(index);
    nlohmann::json j = {{"lot_id", lot.lot_id}};
    if (lot.created_by >= 0) {
      const ledger::LineageEvent& event = graph.event(lot.created_by);
      j["material"] = lot.material;
      j["mass_g"] = lot.created_mass_g;
      j["composition_ppm"] = lot.composition_ppm;
      nlohmann::json created = {{"event_id", event.id_hex},
                                {"kind", ledger::KindName(event.body)},
                                {"author", event.body.author()},
                                {"log_id", event.where.log_id},
                                {"index", event.where.index}};
      if (event.body.has_extraction()) {
        const auto& site = event.body.extraction().site();
        created["stage"] = "mined";
        created["site"] = {{"id", site.id()},
                           {"name", site.name()},
                           {"country", site.country()},
                           {"region", site.region()}};
      } else {
        const auto& t = event.body.transformation();
        created["stage"] = StageName(t.stage());
        created["facility"] = {{"id", t.facility().id()},
                               {"name", t.facility().name()},
                               {"country", t.facility().country()},
                               {"region", t.facility().region()}};
        nlohmann::json inputs = nlohmann::json::array();
        for (const ledger::LotFlow& input : graph.Inputs(lot.created_by)) {
          inputs.push_back({{"lot_id", graph.lot(input.lot).lot_id}, {"mass_g", input.mass_g}});
        }
        created["inputs"] = inputs;
      }
      j["created_by"] = created;
    } else {
      j["created_by"] = nullptr;
    }
    nlohmann::json events = nlohmann::json::array();
    for (int e : lot.events) {
      const ledger::LineageEvent& event = graph.event(e);
      events.push_back({{"event_id", event.id_hex},
                        {"kind", ledger::KindName(event.body)},
                        {"author", event.body.author()},
                        {"summary", Summarize(event.body)}});
    }
    j["events"] = events;
    nlohmann::json consumers = nlohmann::json::array();
    for (int e : lot.consumed_by) consumers.push_back(graph.event(e).id_hex);
    j["consumed_by"] = consumers;
    out.push_back(j);
  }
  return out;
}

}  // namespace cairn::client
