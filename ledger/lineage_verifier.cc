#include "ledger/lineage_verifier.h"

#include <google/protobuf/message.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <thread>
#include <unordered_map>

#include "common/clock.h"
#include "ledger/event.h"
#include "ledger/log_verifier.h"
#include "ledger/memory_state.h"
#include "ledger/proofs.h"
#include "ledger/rulebook.h"
#include "ledger/validate.h"

namespace cairn::ledger {
namespace {

std::string Kg(double grams) {
  char text[64];
  std::snprintf(text, sizeof(text), "%.3f kg", grams / 1000.0);
  return text;
}

std::string Percent(double fraction) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f%%", fraction * 100.0);
  return text;
}

// Whether `message` or any message inside it carries fields this build does not know: bytes
// altered in transit, or a bundle of a newer format. Either way it is not evidence we can read.
// `skip` (a field of `message` itself) is left out: the bundle's entries are checked in parallel.
bool HasUnknownFields(const google::protobuf::Message& message,
                      const google::protobuf::FieldDescriptor* skip = nullptr) {
  const google::protobuf::Reflection* reflection = message.GetReflection();
  if (!reflection->GetUnknownFields(message).empty()) return true;
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const google::protobuf::FieldDescriptor* field : fields) {
    if (field == skip) continue;
    if (field->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (field->is_repeated()) {
      for (int i = 0; i < reflection->FieldSize(message, field); ++i) {
        if (HasUnknownFields(reflection->GetRepeatedMessage(message, field, i))) return true;
      }
    } else if (HasUnknownFields(reflection->GetMessage(message, field))) {
      return true;
    }
  }
  return false;
}

struct LogCheckpoint {
  cairn::v1::Checkpoint checkpoint;
  Hash root{};
};

// The outcome of checking one bundle entry on its own.
struct EntryCheck {
  bool ok = false;
  std::optional<Finding> finding;
  ParsedEvent event;
  EventLocation where;
};

// One checking thread's inclusion verifiers, by log: entries of one log share proof paths.
using InclusionVerifiers = std::map<std::string, InclusionVerifier, std::less<>>;

EntryCheck CheckEntry(const cairn::v1::BundleEntry& bundled,
                      const std::map<std::string, LogCheckpoint>& checkpoints,
                      const keys::TrustRegistry& registry, InclusionVerifiers& verifiers) {
  EntryCheck result;
  auto fail = [&](Severity severity, std::string check, std::string message,
                  std::string event_id = "") {
    result.finding = Finding{severity, std::move(check), std::move(event_id), "",
                             "log " + bundled.log_id() + " entry " +
                                 std::to_string(bundled.index()) + ": " + std::move(message)};
    return result;
  };
  if (HasUnknownFields(bundled)) {
    return fail(Severity::kIntegrity, "bundle",
                "the bundle entry carries fields this verifier does not know (altered, or a "
                "newer format)");
  }
  cairn::v1::LogEntry entry;
  if (!entry.ParseFromString(bundled.entry())) {
    return fail(Severity::kIntegrity, "entry", "bytes do not parse as a cairn.v1.LogEntry");
  }
  if (entry.log_id() != bundled.log_id() || entry.index() != bundled.index()) {
    return fail(Severity::kIntegrity, "entry",
                "LogEntry says log " + entry.log_id() + " index " + std::to_string(entry.index()));
  }
  auto checkpoint = checkpoints.find(bundled.log_id());
  if (checkpoint == checkpoints.end()) {
    return fail(Severity::kIncomplete, "checkpoint", "no verified checkpoint of this log");
  }
  const Hash leaf = LeafHash(bundled.entry());
  const auto& proof = bundled.inclusion();
  auto hashes = HashesFromProto(proof.hashes(), "InclusionProof.hashes");
  const uint64_t size = checkpoint->second.checkpoint.size();
  auto verifier = verifiers.find(bundled.log_id());
  if (verifier == verifiers.end()) {
    verifier = verifiers.try_emplace(bundled.log_id(), size, checkpoint->second.root).first;
  }
  if (!hashes.ok() || proof.leaf_index() != bundled.index() || proof.tree_size() != size ||
      !verifier->second.Verify(leaf, bundled.index(), *hashes)) {
    return fail(Severity::kIntegrity, "inclusion",
                "inclusion proof does not verify against the signed checkpoint of size " +
                    std::to_string(size));
  }
  auto parsed = ParseSignedEvent(std::move(*entry.mutable_event()));
  if (!parsed.ok()) {
    return fail(Severity::kIntegrity, "entry", std::string(parsed.status().message()));
  }
  const int64_t appended_at = ToMicros(entry.appended_at());
  if (appended_at > ToMicros(checkpoint->second.checkpoint.timestamp())) {
    return fail(
        Severity::kIntegrity, "entry",
        "appended_at " + FormatTime(appended_at) + " is later than the checkpoint that includes it",
        parsed->id_hex);
  }
  // The rulebook's checks of one event (schema, signature, key, roles), as the node applied them.
  if (Status s = CheckEventAlone(*parsed, registry, bundled.log_id(), appended_at); !s.ok()) {
    const bool schema = s.code() == StatusCode::kInvalidArgument;
    const bool unknown = !schema && registry.FindKey(parsed->signed_event.key_id()) == nullptr;
    return fail(unknown ? Severity::kIncomplete : Severity::kIntegrity,
                schema ? "schema" : "signature",
                "event " + parsed->id_hex + ": " + std::string(s.message()), parsed->id_hex);
  }
  result.ok = true;
  result.where = EventLocation{bundled.log_id(), bundled.index(), appended_at};
  result.event = *std::move(parsed);
  return result;
}

std::vector<EntryCheck> CheckEntries(const cairn::v1::EvidenceBundle& bundle,
                                     const std::map<std::string, LogCheckpoint>& checkpoints,
                                     const keys::TrustRegistry& registry,
                                     const LineageOptions& options) {
  const size_t total = bundle.entries_size();
  std::vector<EntryCheck> checks(total);
  unsigned threads = options.threads != 0 ? options.threads : std::thread::hardware_concurrency();
  threads = std::clamp<unsigned>(threads, 1, 64);
  if (total < 64) threads = 1;
  std::atomic<size_t> next{0};
  constexpr size_t kChunk = 256;
  auto work = [&](bool report) {
    InclusionVerifiers verifiers;
    size_t done_since_report = 0;
    for (;;) {
      const size_t begin = next.fetch_add(kChunk);
      if (begin >= total) return;
      const size_t end = std::min(total, begin + kChunk);
      for (size_t i = begin; i < end; ++i) {
        checks[i] =
            CheckEntry(bundle.entries(static_cast<int>(i)), checkpoints, registry, verifiers);
      }
      done_since_report += end - begin;
      if (report && options.progress && done_since_report >= 8192) {
        options.progress(std::min(total, next.load()), total);
        done_since_report = 0;
      }
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work, false);
  work(true);
  for (std::thread& t : pool) t.join();
  if (options.progress && total >= 8192) options.progress(total, total);
  return checks;
}

// Custody state of a bundle's lineage for the rulebook's custody check (PlanCustody). A bundle
// holds the events of the lineage's lots, not the whole log, so the view answers only for those:
// a lot off the lineage is not checked (unlimited holdings, never tracked), and what the bundle
// lacks — the creation of a lineage lot, an event it names — is NOT_FOUND, which the check
// records as missing evidence rather than a broken rule.
class BundleCustodyView final : public CustodyView {
 public:
  // `graph` and `on_lineage` must remain live while the view is in use.
  BundleCustodyView(const LineageGraph& graph, const std::vector<bool>& on_lineage)
      : graph_(graph), on_lineage_(on_lineage) {}

  Result<bool> HasEvent(const std::string& event_id_hex) override {
    if (*state_.HasEvent(event_id_hex)) return true;
    if (graph_.FindEvent(event_id_hex)) return false;  // in the bundle, but not before this one
    return NotFound("event " + event_id_hex + " is not in the bundle");
  }
  Result<std::optional<cairn::v1::EventBody>> FindEventBody(
      const std::string& event_id_hex) override {
    CAIRN_ASSIGN_OR_RETURN(const bool known, HasEvent(event_id_hex));
    if (!known) return std::optional<cairn::v1::EventBody>();
    return state_.FindEventBody(event_id_hex);
  }
  Result<std::optional<LotRecord>> FindLot(const std::string& lot_id) override {
    CAIRN_ASSIGN_OR_RETURN(auto lot, state_.FindLot(lot_id));
    if (lot) return lot;
    const std::optional<int> l = graph_.FindLot(lot_id);
    if (l && graph_.lot(*l).created_by >= 0) return lot;  // created later in the replay
    if (l && on_lineage_[*l]) {
      return NotFound("the event that created lot " + lot_id + " is not in the bundle");
    }
    // Off the lineage and not created in the bundle: not the auditor's to check.
    return std::optional<LotRecord>(LotRecord{lot_id, std::string(LotCreator(lot_id)), "", 0, ""});
  }
  Result<uint64_t> Holding(const std::string& lot_id, const std::string& holder) override {
    if (!OnLineage(lot_id)) return kUnchecked;
    return state_.Holding(lot_id, holder);
  }
  Result<std::optional<ShipmentRecord>> FindShipment(const std::string& dispatch_id_hex) override {
    CAIRN_ASSIGN_OR_RETURN(const bool known, HasEvent(dispatch_id_hex));
    if (!known) return std::optional<ShipmentRecord>();
    return state_.FindShipment(dispatch_id_hex);
  }

  // Records `event` with its effects on the lineage's lots.
  void Apply(const ParsedEvent& event, CustodyEffects effects) {
    std::erase_if(effects.holding_changes,
                  [&](const auto& change) { return !OnLineage(std::get<0>(change)); });
    state_.Apply(event, effects);
  }

  const MemoryCustodyState& state() const { return state_; }

 private:
  static constexpr uint64_t kUnchecked = uint64_t{1} << 62;

  bool OnLineage(const std::string& lot_id) const {
    const std::optional<int> l = graph_.FindLot(lot_id);
    return l && on_lineage_[*l];
  }

  const LineageGraph& graph_;
  const std::vector<bool>& on_lineage_;
  MemoryCustodyState state_;
};

std::string Kg(uint64_t grams) { return Kg(static_cast<double>(grams)); }

// Replays every event of the graph through the rulebook's custody check, in the graph's order,
// turning each broken rule into a finding and each transit loss on the lineage into a note (and a
// violation when the policy bounds transit losses).
void ReplayCustody(const LineageGraph& graph, const std::vector<bool>& on_lineage,
                   const ConsortiumRules& rules, const Policy* policy,
                   std::vector<Finding>& findings, std::vector<Violation>& violations) {
  BundleCustodyView view(graph, on_lineage);
  for (int e = 0; e < static_cast<int>(graph.events().size()); ++e) {
    const LineageEvent& event = graph.event(e);
    // PlanCustody reads the id and body only.
    ParsedEvent parsed;
    parsed.id_hex = event.id_hex;
    parsed.body = event.body;
    auto plan = PlanCustody(parsed, view, rules);
    if (!plan.ok()) {  // the in-memory view does not fail; kept for the contract
      findings.push_back({Severity::kIntegrity, "custody", event.id_hex, "",
                          std::string(plan.status().message())});
      continue;
    }
    const std::string name = std::string(KindName(event.body)) + " " + event.id_hex;
    for (const CustodyViolation& v : plan->violations) {
      const std::string message = name + ": " + v.status.message();
      if (v.status.code() == StatusCode::kNotFound) {
        const std::optional<int> lot = graph.FindLot(v.lot_id);
        if (lot && graph.lot(*lot).created_by < 0) continue;  // reported once, for the lot
        const bool ref = v.field.rfind("EventBody.refs", 0) == 0;
        findings.push_back({ref ? Severity::kNote : Severity::kIncomplete, "missing", event.id_hex,
                            v.lot_id, message});
        continue;
      }
      // A holder short of a lot it was sent: its receipt is what the bundle lacks.
      if (v.status.code() == StatusCode::kFailedPrecondition && !v.lot_id.empty() &&
          !event.body.has_receipt()) {
        if (auto open = view.state().OpenShipmentOf(v.lot_id, event.body.author())) {
          findings.push_back(
              {Severity::kIncomplete, "missing", event.id_hex, v.lot_id,
               message + " (its receipt of dispatch " + *open + " is not in the bundle)"});
          continue;
        }
      }
      const bool mass = event.body.has_receipt() && v.field.rfind("Receipt.lots", 0) == 0;
      findings.push_back(
          {Severity::kIntegrity, mass ? "mass" : "custody", event.id_hex, v.lot_id, message});
    }
    if (event.body.has_receipt() && plan->violations.empty()) {
      const std::string& dispatch_id = event.body.receipt().dispatch_event_id();
      const auto shipment = view.FindShipment(dispatch_id);
      for (const auto& [lot_id, lost_g] : plan->effects.lost) {
        const std::optional<int> lot = graph.FindLot(lot_id);
        if (!lot || !on_lineage[*lot] || !shipment.ok() || !*shipment) continue;
        const uint64_t sent_g = (*shipment)->lots.at(lot_id);
        const double fraction = static_cast<double>(lost_g) / static_cast<double>(sent_g);
        const std::string what = "transit loss of " + Kg(lost_g) + " (" + Percent(fraction) +
                                 ") of " + lot_id + " between dispatch " + dispatch_id + " by " +
                                 (*shipment)->sender + " and receipt " + event.id_hex + " by " +
                                 event.body.author();
        findings.push_back({Severity::kNote, "transit_loss", event.id_hex, lot_id, what});
        if (policy != nullptr && policy->max_transit_loss &&
            fraction > *policy->max_transit_loss + 1e-12) {
          Violation violation;
          violation.kind = "transit_loss";
          violation.red_flag =
              "unexplained loss in transit: possible diversion or substitution of material "
              "(OECD Annex II: fraudulent misrepresentation of origin)";
          violation.reason = what + " exceeds max_transit_loss " +
                             Percent(*policy->max_transit_loss) + " of policy \"" + policy->name +
                             "\"";
          violation.share = fraction;
          violation.max_share = *policy->max_transit_loss;
          violation.source = "shipment " + dispatch_id.substr(0, 12) + " from " +
                             (*shipment)->sender + " to " + event.body.author();
          violation.source_lot = lot_id;
          violation.path_event_ids = {dispatch_id, event.id_hex};
          violations.push_back(std::move(violation));
        }
      }
    }
    view.Apply(parsed, std::move(plan->effects));
  }
}

}  // namespace

const char* SeverityName(Severity severity) {
  switch (severity) {
    case Severity::kIntegrity:
      return "integrity";
    case Severity::kIncomplete:
      return "incomplete";
    case Severity::kNote:
      return "note";
  }
  return "note";
}

bool LineageReport::HasIntegrityFailure() const {
  return std::any_of(findings.begin(), findings.end(),
                     [](const Finding& f) { return f.severity == Severity::kIntegrity; });
}

bool LineageReport::Incomplete() const {
  return std::any_of(findings.begin(), findings.end(),
                     [](const Finding& f) { return f.severity == Severity::kIncomplete; });
}

int LineageReport::ExitCode() const {
  if (HasIntegrityFailure()) return 1;
  if (!violations.empty()) return 3;
  if (Incomplete()) return 4;
  return 0;
}

namespace {

// The composition of a blend's outputs against the mass-weighted mix of its inputs, for every
// element or grade all inputs declare (another one cannot be mixed: a note says so). A declared
// value further than `tolerance` (relative, and more than 100 ppm) from the mix is an integrity
// finding: mass of an element appearing or vanishing in a yard where nothing reacts.
void CheckBlend(const LineageGraph& graph, int e, double tolerance,
                std::vector<Finding>& findings) {
  const LineageEvent& event = graph.event(e);
  const auto& t = event.body.transformation();
  const std::vector<LotFlow>& inputs = graph.Inputs(e);
  double total_g = 0;
  std::map<std::string, double> mixed_g;  // element -> grams of it in the inputs
  std::map<std::string, size_t> declared_by;
  for (const LotFlow& input : inputs) {
    const LineageLot& lot = graph.lot(input.lot);
    if (lot.created_by < 0) return;  // incomplete: reported where the lot is missing
    total_g += static_cast<double>(input.mass_g);
    for (const auto& [element, ppm] : lot.composition_ppm) {
      mixed_g[element] += static_cast<double>(input.mass_g) * ppm / 1e6;
      ++declared_by[element];
    }
  }
  if (total_g <= 0) return;
  // Nothing is added in a yard (no reagent, unlike a refinery): the outputs weigh at most the
  // inputs, whatever they declare.
  double out_g = 0;
  for (int out : graph.Outputs(e)) out_g += static_cast<double>(graph.lot(out).created_mass_g);
  if (out_g > total_g * (1.0 + tolerance) + 0.5) {
    findings.push_back({Severity::kIntegrity, "blend", event.id_hex, "",
                        "blend " + event.id_hex + " at " + t.facility().id() + " (" +
                            t.facility().country() + "): outputs weigh " + Kg(out_g) + ", inputs " +
                            Kg(total_g) + " (tolerance " + Percent(tolerance) +
                            "); a blend adds no mass"});
  }
  std::set<std::string> unmixable;
  for (int out : graph.Outputs(e)) {
    const LineageLot& lot = graph.lot(out);
    std::set<std::string> elements;
    for (const auto& [element, grams] : mixed_g) elements.insert(element);
    for (const auto& [element, ppm] : lot.composition_ppm) elements.insert(element);
    for (const std::string& element : elements) {
      if (declared_by[element] != inputs.size()) {
        unmixable.insert(element);
        continue;
      }
      const double mix_ppm = mixed_g[element] / total_g * 1e6;
      const auto found = lot.composition_ppm.find(element);
      const double declared_ppm = found == lot.composition_ppm.end() ? 0.0 : found->second;
      const double diff = std::fabs(declared_ppm - mix_ppm);
      if (diff > 100.0 && diff > tolerance * std::max(mix_ppm, declared_ppm)) {
        findings.push_back(
            {Severity::kIntegrity, "blend", event.id_hex, lot.lot_id,
             "blend " + event.id_hex + " at " + t.facility().id() + " (" + t.facility().country() +
                 "): " + lot.lot_id + " declares " + element + " " +
                 std::to_string(static_cast<uint64_t>(std::llround(declared_ppm))) +
                 " ppm, the mass-weighted mix of its inputs is " +
                 std::to_string(static_cast<uint64_t>(std::llround(mix_ppm))) + " ppm (tolerance " +
                 Percent(tolerance) + "); a blend changes no composition"});
      }
    }
  }
  for (const std::string& element : unmixable) {
    findings.push_back(
        {Severity::kNote, "blend", event.id_hex, "",
         "blend " + event.id_hex + ": " + element + " not checked (not every input declares it)"});
  }
}

}  // namespace

LineageReport VerifyLineage(const cairn::v1::EvidenceBundle& bundle,
                            const keys::TrustRegistry& registry, const LineageOptions& options) {
  LineageReport report;
  report.lot_id = bundle.lot_id();
  report.direction = bundle.direction() == cairn::v1::TRACE_DIRECTION_FORWARD
                         ? cairn::v1::TRACE_DIRECTION_FORWARD
                         : cairn::v1::TRACE_DIRECTION_BACKWARD;
  std::vector<Finding>& findings = report.findings;
  if (bundle.format_version() != 1) {
    findings.push_back({Severity::kIntegrity, "bundle", "", "",
                        "EvidenceBundle.format_version: got " +
                            std::to_string(bundle.format_version()) + ", want 1"});
  }
  if (HasUnknownFields(bundle, bundle.GetDescriptor()->FindFieldByName("entries"))) {
    findings.push_back({Severity::kIntegrity, "bundle", "", "",
                        "the bundle carries fields this verifier does not know (altered, or a "
                        "newer format)"});
  }

  // Checkpoints: one per log, signed by the log's key.
  std::map<std::string, LogCheckpoint> checkpoints;
  for (const auto& signed_checkpoint : bundle.checkpoints()) {
    auto checkpoint = VerifyCheckpoint(signed_checkpoint, registry);
    if (!checkpoint.ok()) {
      const bool unknown = registry.FindKey(signed_checkpoint.key_id()) == nullptr;
      findings.push_back({unknown ? Severity::kIncomplete : Severity::kIntegrity, "checkpoint", "",
                          "", std::string(checkpoint.status().message())});
      continue;
    }
    auto root = HashFromBytes(checkpoint->root_hash(), "Checkpoint.root_hash");
    if (!root.ok()) {
      findings.push_back(
          {Severity::kIntegrity, "checkpoint", "", "", std::string(root.status().message())});
      continue;
    }
    const std::string log_id = checkpoint->log_id();
    auto [it, inserted] = checkpoints.emplace(log_id, LogCheckpoint{*checkpoint, *root});
    if (!inserted &&
        (it->second.checkpoint.size() != checkpoint->size() || it->second.root != *root)) {
      const bool same_size = it->second.checkpoint.size() == checkpoint->size();
      findings.push_back(
          {Severity::kIntegrity, "checkpoint", "", "",
           "log " + log_id + ": " +
               (same_size ? "forked: two checkpoints of size " +
                                std::to_string(checkpoint->size()) + ", both signed by the log's " +
                                "key, with roots " + ToHex(it->second.root) + " and " +
                                ToHex(*root) + " (fork evidence; no lineage through it stands)"
                          : std::string("the bundle carries two different checkpoints (sizes ") +
                                std::to_string(it->second.checkpoint.size()) + " and " +
                                std::to_string(checkpoint->size()) +
                                ") and no consistency proof between them: a possible fork")});
    }
  }
  report.logs = checkpoints.size();

  // Entries: parse, inclusion, signature — in parallel.
  std::vector<EntryCheck> checks = CheckEntries(bundle, checkpoints, registry, options);
  report.entries_checked = checks.size();
  std::vector<EntryCheck*> verified;
  verified.reserve(checks.size());
  for (EntryCheck& check : checks) {
    if (check.finding) findings.push_back(*check.finding);
    if (check.ok) verified.push_back(&check);
  }
  // Replay order: index order within a log; across logs, append time.
  std::stable_sort(verified.begin(), verified.end(), [&](const EntryCheck* a, const EntryCheck* b) {
    if (a->where.log_id == b->where.log_id) return a->where.index < b->where.index;
    if (checkpoints.size() > 1 && a->where.appended_at_us != b->where.appended_at_us) {
      return a->where.appended_at_us < b->where.appended_at_us;
    }
    return a->where.log_id < b->where.log_id;
  });
  LineageGraph& graph = report.graph;
  // The checks are not needed after this: the graph takes their parsed events.
  graph.Reserve(verified.size());
  for (EntryCheck* check : verified) graph.Add(std::move(check->event), check->where);
  for (const std::string& missing : bundle.missing_event_ids()) {
    findings.push_back(
        {Severity::kIncomplete, "missing", missing, "",
         "event " + missing + " is on the lineage but the node could not supply it"});
  }

  // The lineage.
  auto target = graph.FindLot(bundle.lot_id());
  if (!target) {
    findings.push_back({Severity::kIncomplete, "missing", "", bundle.lot_id(),
                        "lot " + bundle.lot_id() + ": no verified event of the bundle names it"});
    return report;
  }
  report.target = *target;
  int cycle_at = -1;
  report.lineage_lots = report.direction == cairn::v1::TRACE_DIRECTION_FORWARD
                            ? graph.Downstream(*target)
                            : graph.Upstream(*target, &cycle_at);
  if (cycle_at >= 0) {
    findings.push_back({Severity::kIntegrity, "custody", "", graph.lot(cycle_at).lot_id,
                        "lot " + graph.lot(cycle_at).lot_id +
                            " is made, through other lots, "
                            "from itself"});
  }
  std::vector<bool> on_lineage(graph.lots().size(), false);
  for (int lot : report.lineage_lots) on_lineage[lot] = true;
  for (int lot : report.lineage_lots) {
    const LineageLot& l = graph.lot(lot);
    if (l.created_by < 0) {
      findings.push_back({Severity::kIncomplete, "missing", "", l.lot_id,
                          "lot " + l.lot_id + ": the event that created it is not in the bundle"});
    }
  }

  std::vector<Violation> transit_violations;
  ReplayCustody(graph, on_lineage, RulesOf(registry), options.policy, findings, transit_violations);

  // Mass balance of every transformation creating or consuming a lineage lot.
  const double mass_tolerance =
      options.policy != nullptr ? options.policy->mass_tolerance : options.mass_tolerance;
  std::vector<bool> balanced(graph.events().size(), false);
  for (int lot : report.lineage_lots) {
    std::vector<int> transformations = graph.lot(lot).consumed_by;
    if (graph.lot(lot).created_by >= 0) transformations.push_back(graph.lot(lot).created_by);
    for (int e : transformations) {
      if (balanced[e] || !graph.event(e).body.has_transformation()) continue;
      balanced[e] = true;
      std::vector<std::string> unchecked;
      for (const MassExcess& excess : CheckMassBalance(graph, e, mass_tolerance, &unchecked)) {
        const auto& t = graph.event(e).body.transformation();
        const std::string what = excess.element.empty() ? "total mass" : excess.element;
        // Outputs declaring no element are compared by total mass, which reagents (chlorides,
        // iron in a magnet alloy) may legitimately raise: worth a note, not a verdict.
        findings.push_back({excess.element.empty() ? Severity::kNote : Severity::kIntegrity, "mass",
                            graph.event(e).id_hex, "",
                            "Transformation " + graph.event(e).id_hex + " at " + t.facility().id() +
                                " (" + t.facility().country() + "): " + what + " out " +
                                Kg(excess.output_g) + " exceeds " + what + " in " +
                                Kg(excess.input_g) + " by " + Kg(excess.excess_g) + " (tolerance " +
                                Percent(mass_tolerance) + ")"});
      }
      for (const std::string& element : unchecked) {
        findings.push_back({Severity::kNote, "mass", graph.event(e).id_hex, "",
                            "Transformation " + graph.event(e).id_hex + ": " + element +
                                " balance not checked (an input declares no element-level "
                                "composition)"});
      }
    }
  }

  // A blend changes nothing chemically: each output declares the mass-weighted mix of the inputs.
  for (size_t e = 0; e < balanced.size(); ++e) {
    if (balanced[e] && graph.event(static_cast<int>(e)).body.transformation().stage() ==
                           cairn::v1::STAGE_BLENDED) {
      CheckBlend(graph, static_cast<int>(e), mass_tolerance, findings);
    }
  }

  // Assays beside declared compositions.
  for (int lot : report.lineage_lots) {
    const LineageLot& l = graph.lot(lot);
    if (l.created_by < 0) continue;
    for (int e : l.events) {
      const cairn::v1::EventBody& body = graph.event(e).body;
      if (!body.has_attestation() || body.attestation().lot_id() != l.lot_id) continue;
      for (const auto& [element, measured] : body.attestation().composition_ppm()) {
        auto declared = l.composition_ppm.find(element);
        if (declared == l.composition_ppm.end()) continue;
        const double diff = std::fabs(static_cast<double>(measured) - declared->second);
        if (diff > 100.0 && diff > mass_tolerance * declared->second) {
          findings.push_back({Severity::kNote, "assay", graph.event(e).id_hex, l.lot_id,
                              "assay by " + body.author() + " measures " + element + " " +
                                  std::to_string(measured) + " ppm in " + l.lot_id + ", declared " +
                                  std::to_string(declared->second) + " ppm"});
        }
      }
    }
  }

  if (report.direction == cairn::v1::TRACE_DIRECTION_BACKWARD) {
    report.attribution = AttributeOrigin(graph, *target);
    if (options.policy != nullptr) {
      report.violations = ScreenPolicy(*options.policy, graph, *target, options.as_of_us);
    }
  }
  for (Violation& v : transit_violations) report.violations.push_back(std::move(v));
  return report;
}

}  // namespace cairn::ledger
