#include "ledger/lineage.h"

#include <algorithm>

namespace cairn::ledger {
namespace {

const std::vector<LotFlow> kNoFlows;
const std::vector<int> kNoLots;

void CopyComposition(const google::protobuf::Map<std::string, uint32_t>& from,
                     std::map<std::string, uint32_t>& to) {
  to.clear();
  for (const auto& [element, ppm] : from) to.emplace(element, ppm);
}

}  // namespace

int LineageGraph::LotIndex(const std::string& lot_id) {
  auto [it, inserted] = lot_index_.emplace(lot_id, static_cast<int>(lots_.size()));
  if (inserted) {
    LineageLot lot;
    lot.lot_id = lot_id;
    lots_.push_back(std::move(lot));
  }
  return it->second;
}

void LineageGraph::Reserve(size_t events) {
  events_.reserve(events);
  inputs_.reserve(events);
  outputs_.reserve(events);
  event_index_.reserve(events);
  lots_.reserve(events);
  lot_index_.reserve(events);
}

int LineageGraph::Add(const ParsedEvent& event, EventLocation where) {
  return Add(event.id_hex, event.body, std::move(where));
}

int LineageGraph::Add(ParsedEvent&& event, EventLocation where) {
  if (auto it = event_index_.find(event.id_hex); it != event_index_.end()) return it->second;
  return Insert(LineageEvent{std::move(event.id_hex), std::move(event.body), std::move(where)});
}

int LineageGraph::Add(const std::string& id_hex, const cairn::v1::EventBody& body,
                      EventLocation where) {
  if (auto it = event_index_.find(id_hex); it != event_index_.end()) return it->second;
  return Insert(LineageEvent{id_hex, body, std::move(where)});
}

int LineageGraph::Insert(LineageEvent event) {
  const int e = static_cast<int>(events_.size());
  event_index_.emplace(event.id_hex, e);
  events_.push_back(std::move(event));
  // events_ grows only here, so this reference holds until the function returns.
  const cairn::v1::EventBody& body = events_.back().body;
  inputs_.emplace_back();
  outputs_.emplace_back();

  auto touch = [&](const std::string& lot_id) {
    const int l = LotIndex(lot_id);
    std::vector<int>& seen = lots_[l].events;
    if (seen.empty() || seen.back() != e) seen.push_back(e);
    return l;
  };
  auto create = [&](const std::string& lot_id, const std::string& material, uint64_t mass_g,
                    const google::protobuf::Map<std::string, uint32_t>& composition) {
    const int l = touch(lot_id);
    LineageLot& lot = lots_[l];
    // A second creation keeps the first: the rulebook's custody replay reports it.
    if (lot.created_by >= 0) return l;
    lot.created_by = e;
    lot.material = material;
    lot.created_mass_g = mass_g;
    CopyComposition(composition, lot.composition_ppm);
    return l;
  };

  switch (body.kind_case()) {
    case cairn::v1::EventBody::kExtraction: {
      const auto& x = body.extraction();
      create(x.lot_id(), x.material(), x.mass_g(), x.composition_ppm());
      break;
    }
    case cairn::v1::EventBody::kDispatch:
      for (const auto& lot : body.dispatch().lots()) touch(lot.lot_id());
      break;
    case cairn::v1::EventBody::kReceipt:
      for (const auto& lot : body.receipt().lots()) touch(lot.lot_id());
      break;
    case cairn::v1::EventBody::kTransformation: {
      const auto& t = body.transformation();
      for (const auto& input : t.inputs()) {
        const int l = touch(input.lot_id());
        inputs_[e].push_back(LotFlow{l, input.mass_g()});
        std::vector<int>& consumers = lots_[l].consumed_by;
        if (consumers.empty() || consumers.back() != e) consumers.push_back(e);
      }
      for (const auto& output : t.outputs()) {
        outputs_[e].push_back(
            create(output.lot_id(), output.material(), output.mass_g(), output.composition_ppm()));
      }
      break;
    }
    case cairn::v1::EventBody::kAttestation:
      if (body.attestation().has_lot_id()) touch(body.attestation().lot_id());
      break;
    default:
      break;
  }
  // A correction or an attestation of an event belongs to every lot of that event (and of the
  // event that one concerns, for evidence about evidence).
  const std::string* target = EvidenceTargetOf(body);
  for (int depth = 0; target != nullptr && depth < kMaxEvidenceChain; ++depth) {
    const auto found = event_index_.find(*target);
    if (found == event_index_.end() || found->second == e) break;
    const cairn::v1::EventBody& concerned = events_[found->second].body;
    for (const auto& [lot_id, use] : LotsNamedBy(concerned)) touch(*lot_id);
    target = EvidenceTargetOf(concerned);
  }
  return e;
}

std::optional<int> LineageGraph::FindLot(std::string_view lot_id) const {
  auto it = lot_index_.find(std::string(lot_id));
  if (it == lot_index_.end()) return std::nullopt;
  return it->second;
}

std::optional<int> LineageGraph::FindEvent(std::string_view id_hex) const {
  auto it = event_index_.find(std::string(id_hex));
  if (it == event_index_.end()) return std::nullopt;
  return it->second;
}

const std::vector<LotFlow>& LineageGraph::Inputs(int event) const {
  if (event < 0 || event >= static_cast<int>(inputs_.size())) return kNoFlows;
  return inputs_[event];
}

const std::vector<int>& LineageGraph::Outputs(int event) const {
  if (event < 0 || event >= static_cast<int>(outputs_.size())) return kNoLots;
  return outputs_[event];
}

std::vector<int> LineageGraph::Upstream(int target, int* cycle_at) const {
  // Iterative depth-first post-order: a lot is emitted after every lot it was made from.
  // state: 0 unseen, 1 on the stack, 2 emitted.
  if (cycle_at != nullptr) *cycle_at = -1;
  std::vector<int> order;
  if (target < 0 || target >= static_cast<int>(lots_.size())) return order;
  std::vector<uint8_t> state(lots_.size(), 0);
  struct Frame {
    int lot;
    size_t next_input;
  };
  std::vector<Frame> stack{{target, 0}};
  state[target] = 1;
  while (!stack.empty()) {
    Frame& frame = stack.back();
    const std::vector<LotFlow>& inputs = Inputs(lots_[frame.lot].created_by);
    if (frame.next_input < inputs.size()) {
      const int input = inputs[frame.next_input++].lot;
      if (state[input] == 0) {
        state[input] = 1;
        stack.push_back({input, 0});
      } else if (state[input] == 1 && cycle_at != nullptr && *cycle_at < 0) {
        *cycle_at = input;
      }
      continue;
    }
    state[frame.lot] = 2;
    order.push_back(frame.lot);
    stack.pop_back();
  }
  return order;
}

std::vector<int> LineageGraph::Downstream(int source) const {
  // Iterative depth-first post-order over "consumed by" edges, reversed: sources first.
  std::vector<int> order;
  if (source < 0 || source >= static_cast<int>(lots_.size())) return order;
  std::vector<uint8_t> state(lots_.size(), 0);
  struct Frame {
    int lot;
    size_t next_consumer;
    size_t next_output;
  };
  std::vector<Frame> stack{{source, 0, 0}};
  state[source] = 1;
  while (!stack.empty()) {
    Frame& frame = stack.back();
    const std::vector<int>& consumers = lots_[frame.lot].consumed_by;
    if (frame.next_consumer < consumers.size()) {
      const std::vector<int>& outputs = Outputs(consumers[frame.next_consumer]);
      if (frame.next_output < outputs.size()) {
        const int output = outputs[frame.next_output++];
        if (state[output] == 0) {
          state[output] = 1;
          stack.push_back({output, 0, 0});
        }
      } else {
        ++frame.next_consumer;
        frame.next_output = 0;
      }
      continue;
    }
    state[frame.lot] = 2;
    order.push_back(frame.lot);
    stack.pop_back();
  }
  std::reverse(order.begin(), order.end());
  return order;
}

std::vector<int> LineageGraph::Mines(int target) const {
  std::vector<int> mines;
  for (int lot : Upstream(target)) {
    const int created_by = lots_[lot].created_by;
    if (created_by >= 0 && events_[created_by].body.has_extraction()) mines.push_back(lot);
  }
  return mines;
}

std::vector<std::string> HoldersOf(const LineageGraph& graph, int lot) {
  std::vector<std::string> holders;
  const LineageLot& l = graph.lot(lot);
  if (l.created_by >= 0) holders.push_back(graph.event(l.created_by).body.author());
  for (int e : l.events) {
    const cairn::v1::EventBody& body = graph.event(e).body;
    if (body.has_dispatch() || body.has_receipt()) holders.push_back(body.author());
  }
  std::sort(holders.begin(), holders.end());
  holders.erase(std::unique(holders.begin(), holders.end()), holders.end());
  return holders;
}

}  // namespace cairn::ledger
