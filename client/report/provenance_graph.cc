#include "client/report/provenance_graph.h"

#include <fmt/format.h>
#include <graphviz/gvc.h>

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include "client/format.h"

namespace cairn::client::report {
namespace {

constexpr const char* kPalette[] = {"#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e",
                                    "#e6ab02", "#a6761d", "#1f78b4", "#b15928", "#6a3d9a"};
constexpr const char* kUnknownColour = "#999999";
constexpr const char* kRestrictedColour = "#d62728";
constexpr const char* kLossColour = "#ff7f0e";

// Event text in a Graphviz label: the library quotes it and escapes it for SVG; a backslash is
// doubled so that it cannot start a DOT escape (\N, \G, \l).
std::string Label(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') out += '\\';
    out += c;
  }
  return out;
}

void Set(void* object, const char* name, const std::string& value) {
  // cgraph takes char* but copies every string it is given.
  std::string empty;
  agsafeset(object, const_cast<char*>(name), const_cast<char*>(value.c_str()), empty.data());
}

using Mix = std::map<std::string, double>;  // origin country -> share of the lot's mass

// Each lineage lot's mix of mining countries, by mass (inputs weighted by the grams consumed).
// Iterative post-order; a cycle (forged evidence) counts as unknown.
std::unordered_map<int, Mix> Mixes(const ledger::LineageGraph& graph,
                                   const std::vector<int>& lots) {
  std::unordered_map<int, Mix> mix;
  std::set<int> open;
  for (int start : lots) {
    std::vector<std::pair<int, bool>> stack{{start, false}};
    while (!stack.empty()) {
      auto [lot, expanded] = stack.back();
      stack.pop_back();
      if (mix.count(lot)) continue;
      const ledger::LineageLot& l = graph.lot(lot);
      const ledger::LineageEvent* created = l.created_by < 0 ? nullptr : &graph.event(l.created_by);
      if (created == nullptr || !created->body.has_transformation()) {
        mix[lot] = created == nullptr ? Mix{{"unknown", 1.0}}
                                      : Mix{{created->body.extraction().site().country(), 1.0}};
        continue;
      }
      const auto& inputs = graph.Inputs(l.created_by);
      if (!expanded) {
        if (!open.insert(lot).second) {  // back on a lot being expanded: a cycle
          mix[lot] = Mix{{"unknown", 1.0}};
          continue;
        }
        stack.push_back({lot, true});
        for (const auto& in : inputs) {
          if (!mix.count(in.lot)) stack.push_back({in.lot, false});
        }
        continue;
      }
      open.erase(lot);
      Mix m;
      double total = 0;
      for (const auto& in : inputs) total += static_cast<double>(in.mass_g);
      for (const auto& in : inputs) {
        const double w = total > 0 ? static_cast<double>(in.mass_g) / total
                                   : 1.0 / static_cast<double>(inputs.size());
        for (const auto& [country, share] : mix[in.lot]) m[country] += w * share;
      }
      if (m.empty()) m["unknown"] = 1.0;
      mix[lot] = m;
    }
  }
  return mix;
}

std::string Dominant(const Mix& mix) {
  return std::max_element(mix.begin(), mix.end(),
                          [](const auto& a, const auto& b) { return a.second < b.second; })
      ->first;
}

// Grams lost in transit per lot (dispatched minus received), over the lineage's receipts.
std::map<int, uint64_t> Losses(const ledger::LineageGraph& graph, const std::vector<int>& lots) {
  std::map<int, uint64_t> lost;
  for (int lot : lots) {
    const ledger::LineageLot& l = graph.lot(lot);
    for (int e : l.events) {
      const auto& body = graph.event(e).body;
      if (!body.has_receipt()) continue;
      auto d = graph.FindEvent(body.receipt().dispatch_event_id());
      if (!d) continue;
      uint64_t sent = 0, got = 0;
      for (const auto& x : graph.event(*d).body.dispatch().lots()) {
        if (x.lot_id() == l.lot_id) sent = x.mass_g();
      }
      for (const auto& x : body.receipt().lots()) {
        if (x.lot_id() == l.lot_id) got = x.mass_g();
      }
      if (sent > got) lost[lot] += sent - got;
    }
  }
  return lost;
}

class Drawing {
 public:
  Drawing() : graph_(agopen(const_cast<char*>("provenance"), Agdirected, nullptr)) {
    Set(graph_, "rankdir", "LR");
    Set(graph_, "fontname", "Helvetica");
    Set(graph_, "nodesep", "0.25");
    Set(graph_, "ranksep", "0.5");
  }
  ~Drawing() {
    if (gvc_ != nullptr) {
      if (laid_out_) gvFreeLayout(gvc_, graph_);
      agclose(graph_);
      gvFreeContext(gvc_);
    } else {
      agclose(graph_);
    }
  }
  Drawing(const Drawing&) = delete;
  Drawing& operator=(const Drawing&) = delete;

  Agnode_t* Node(const std::string& name) {
    Agnode_t* n = agnode(graph_, const_cast<char*>(name.c_str()), 1);
    Set(n, "fontname", "Helvetica");
    Set(n, "fontsize", "10");
    ++nodes_;
    return n;
  }
  Agedge_t* Edge(Agnode_t* from, Agnode_t* to) {
    Agedge_t* e = agedge(graph_, from, to, nullptr, 1);
    Set(e, "fontname", "Helvetica");
    return e;
  }
  size_t nodes() const { return nodes_; }

  Result<std::string> Svg() {
    gvc_ = gvContext();
    if (gvLayout(gvc_, graph_, "dot") != 0) return Internal("Graphviz could not lay out the graph");
    laid_out_ = true;
    char* data = nullptr;
    unsigned int length = 0;
    if (gvRenderData(gvc_, graph_, "svg", &data, &length) != 0 || data == nullptr) {
      return Internal("Graphviz could not render SVG (is libgvc's core plugin installed?)");
    }
    std::string svg(data, length);
    gvFreeRenderData(data);
    // The <svg> element alone, for inlining in HTML.
    const size_t start = svg.find("<svg");
    return start == std::string::npos ? svg : svg.substr(start);
  }

 private:
  Agraph_t* graph_;
  GVC_t* gvc_ = nullptr;
  bool laid_out_ = false;
  size_t nodes_ = 0;
};

}  // namespace

Result<ProvenanceGraph> DrawProvenance(const ledger::LineageReport& verified,
                                       size_t collapse_above) {
  const ledger::LineageGraph& g = verified.graph;
  const std::vector<int>& lots = verified.lineage_lots;
  ProvenanceGraph out;
  const std::unordered_map<int, Mix> mix = Mixes(g, lots);
  const std::map<int, uint64_t> lost = Losses(g, lots);
  std::set<std::string> restricted_events;
  for (const auto& v : verified.violations) {
    restricted_events.insert(v.path_event_ids.begin(), v.path_event_ids.end());
  }
  auto on_path = [&](int lot) {
    const int c = g.lot(lot).created_by;
    return c >= 0 && restricted_events.count(g.event(c).id_hex) > 0;
  };
  std::map<std::string, std::string> colour;
  auto colour_of = [&](const std::string& country) {
    if (country == "unknown") return std::string(kUnknownColour);
    auto it = colour.find(country);
    if (it != colour.end()) return it->second;
    const std::string c = kPalette[colour.size() % std::size(kPalette)];
    colour[country] = c;
    out.legend.push_back({country, c});
    return c;
  };
  // Colours in order of mined mass reaching the target, so the legend reads largest first.
  if (verified.attribution) {
    std::vector<std::pair<std::string, double>> by(verified.attribution->mass.by_country.begin(),
                                                   verified.attribution->mass.by_country.end());
    std::stable_sort(by.begin(), by.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    for (const auto& [country, share] : by) colour_of(country);
  }
  uint64_t heaviest = 1;
  for (int lot : lots) heaviest = std::max(heaviest, g.lot(lot).created_mass_g);
  auto width = [&](double grams) {
    return fmt::format("{:.2f}", 1.0 + 7.0 * std::min(1.0, grams / static_cast<double>(heaviest)));
  };

  Drawing drawing;
  out.collapsed = lots.size() > collapse_above;
  if (!out.collapsed) {
    std::unordered_map<int, Agnode_t*> lot_node;
    for (int lot : lots) {
      const ledger::LineageLot& l = g.lot(lot);
      Agnode_t* n = drawing.Node("lot " + l.lot_id);
      Set(n, "shape", "box");
      Set(n, "style", "rounded,filled");
      const std::string country = Dominant(mix.at(lot));
      std::string label = Label(l.lot_id);
      if (l.created_by < 0) {
        label += "\\ncreated by an event not in the evidence";
        Set(n, "style", "rounded,dashed");
      } else {
        label += "\\n" + Label(l.material + ", " + FormatMass(l.created_mass_g));
        const auto& body = g.event(l.created_by).body;
        if (body.has_extraction()) {
          const auto& site = body.extraction().site();
          label += "\\n" + Label("mined at " + site.name() + " (" + site.country() +
                                 (site.region().empty() ? "" : ", " + site.region()) + ")");
          Set(n, "fillcolor", colour_of(country));
          Set(n, "fontcolor", "white");
        } else {
          Set(n, "fillcolor", "white");
          Set(n, "color", colour_of(country));
        }
      }
      if (auto it = lost.find(lot); it != lost.end()) {
        label += "\\n" + Label("lost " + FormatMass(it->second) + " in transit");
        Set(n, "color", kLossColour);
        Set(n, "penwidth", "3");
      }
      if (on_path(lot)) {
        Set(n, "color", kRestrictedColour);
        Set(n, "penwidth", "3");
      }
      if (lot == verified.target) Set(n, "peripheries", "2");
      Set(n, "label", label);
      lot_node[lot] = n;
    }
    std::set<int> transformations;
    for (int lot : lots) {
      const int c = g.lot(lot).created_by;
      if (c >= 0 && g.event(c).body.has_transformation()) transformations.insert(c);
    }
    for (int t : transformations) {
      const ledger::LineageEvent& event = g.event(t);
      const auto& body = event.body.transformation();
      Agnode_t* n = drawing.Node("event " + event.id_hex);
      Set(n, "shape", "ellipse");
      Set(n, "label",
          Label(std::string(StageName(body.stage())) + " at " + body.facility().name() + " (" +
                body.facility().country() + ")"));
      const bool restricted = restricted_events.count(event.id_hex) > 0;
      if (restricted) Set(n, "color", kRestrictedColour);
      for (const auto& in : g.Inputs(t)) {
        auto it = lot_node.find(in.lot);
        if (it == lot_node.end()) continue;
        Agedge_t* e = drawing.Edge(it->second, n);
        Set(e, "penwidth", width(static_cast<double>(in.mass_g)));
        Set(e, "label", Label(FormatMass(in.mass_g)));
        Set(e, "fontsize", "9");
        const bool red = restricted && on_path(in.lot);
        Set(e, "color", red ? kRestrictedColour : colour_of(Dominant(mix.at(in.lot))));
        out.restricted_edges += red;
      }
      for (int output : g.Outputs(t)) {
        auto it = lot_node.find(output);
        if (it == lot_node.end()) continue;
        Agedge_t* e = drawing.Edge(n, it->second);
        Set(e, "penwidth", width(static_cast<double>(g.lot(output).created_mass_g)));
        const bool red = restricted && on_path(output);
        Set(e, "color", red ? kRestrictedColour : colour_of(Dominant(mix.at(output))));
        out.restricted_edges += red;
      }
    }
  } else {
    // One node per (place, stage): a mine site, or a facility and the stage it performed.
    struct Group {
      std::string label;
      size_t lots = 0;
      uint64_t mass_g = 0;
      Mix mix;
      bool restricted = false, mined = false;
      Agnode_t* node = nullptr;
    };
    std::map<std::string, Group> groups;
    std::unordered_map<int, std::string> key_of;
    for (int lot : lots) {
      const ledger::LineageLot& l = g.lot(lot);
      std::string key = "unknown", label = "created by events not in the evidence";
      bool mined = false;
      if (l.created_by >= 0) {
        const auto& body = g.event(l.created_by).body;
        if (body.has_extraction()) {
          const auto& site = body.extraction().site();
          key = "site " + site.id();
          label = "mined at " + site.name() + " (" + site.country() + ")";
          mined = true;
        } else {
          const auto& t = body.transformation();
          key = "facility " + t.facility().id() + " " + StageName(t.stage());
          label = std::string(StageName(t.stage())) + " at " + t.facility().name() + " (" +
                  t.facility().country() + ")";
        }
      }
      Group& group = groups[key];
      group.label = label;
      group.mined = mined;
      ++group.lots;
      group.mass_g += l.created_mass_g;
      for (const auto& [country, share] : mix.at(lot)) {
        group.mix[country] += share * static_cast<double>(l.created_mass_g);
      }
      group.restricted |= on_path(lot);
      key_of[lot] = key;
    }
    for (auto& [key, group] : groups) {
      group.node = drawing.Node(key);
      Set(group.node, "shape", "box");
      Set(group.node, "style", "rounded,filled");
      const std::string c = colour_of(group.mix.empty() ? "unknown" : Dominant(group.mix));
      Set(group.node, "fillcolor", group.mined ? c : "white");
      if (group.mined) Set(group.node, "fontcolor", "white");
      Set(group.node, "color", group.restricted ? kRestrictedColour : c);
      if (group.restricted) Set(group.node, "penwidth", "3");
      Set(group.node, "label",
          Label(group.label) + "\\n" +
              Label(fmt::format("{} lot(s), {}", group.lots, FormatMass(group.mass_g))));
    }
    std::map<std::pair<std::string, std::string>, std::pair<uint64_t, bool>> flows;
    for (int lot : lots) {
      const int c = g.lot(lot).created_by;
      if (c < 0 || !g.event(c).body.has_transformation()) continue;
      for (const auto& in : g.Inputs(c)) {
        if (!key_of.count(in.lot)) continue;
        auto& flow = flows[{key_of[in.lot], key_of[lot]}];
        flow.first += in.mass_g;
        flow.second |= on_path(in.lot) && on_path(lot);
      }
    }
    heaviest = 1;
    for (const auto& [ends, flow] : flows) heaviest = std::max(heaviest, flow.first);
    for (const auto& [ends, flow] : flows) {
      if (ends.first == ends.second) continue;
      Agedge_t* e = drawing.Edge(groups[ends.first].node, groups[ends.second].node);
      Set(e, "penwidth", width(static_cast<double>(flow.first)));
      Set(e, "label", Label(FormatMass(flow.first)));
      Set(e, "fontsize", "9");
      const Group& from = groups[ends.first];
      Set(e, "color",
          flow.second ? kRestrictedColour
                      : colour_of(from.mix.empty() ? "unknown" : Dominant(from.mix)));
      out.restricted_edges += flow.second;
    }
  }
  out.nodes = drawing.nodes();
  CAIRN_ASSIGN_OR_RETURN(out.svg, drawing.Svg());
  return out;
}

}  // namespace cairn::client::report
