// Custody rules: what an event does to lots, holdings and shipments, and whether it may.
//
// A node and a verifier keep the same state — lots, holdings (lot, holder) -> grams, shipments in
// transit — and run every event through CheckAndPlanCustody. The state is read through the
// CustodyView interface (SQLite in the node, memory in a verifier); the function returns the
// effects to apply, or the rule the event breaks. Nothing here writes: the caller applies the
// effects in the same transaction as the entry. Pure; thread-safe for distinct views.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "cairn/v1/event.pb.h"
#include "common/status.h"
#include "ledger/event.h"

namespace cairn::ledger {

struct LotRecord {
  std::string lot_id;
  std::string creator;
  std::string material;
  uint64_t created_mass_g = 0;
  std::string created_by_event_id;  // hex
};

struct ShipmentRecord {
  std::string dispatch_event_id;  // hex
  std::string sender;
  std::string recipient;
  std::map<std::string, uint64_t> lots;  // lot id -> grams dispatched
  bool received = false;
};

// Read access to custody state, including effects of earlier events of the same batch.
class CustodyView {
 public:
  virtual ~CustodyView() = default;
  // Whether an event with this id is in the log (or a verified peer replica).
  virtual Result<bool> HasEvent(const std::string& event_id_hex) = 0;
  // The body of a known event, or nullopt.
  virtual Result<std::optional<cairn::v1::EventBody>> FindEventBody(
      const std::string& event_id_hex) = 0;
  virtual Result<std::optional<LotRecord>> FindLot(const std::string& lot_id) = 0;
  // Grams of `lot_id` held by `holder` (0 when none).
  virtual Result<uint64_t> Holding(const std::string& lot_id, const std::string& holder) = 0;
  virtual Result<std::optional<ShipmentRecord>> FindShipment(
      const std::string& dispatch_id_hex) = 0;
};

// What an accepted event changes.
struct CustodyEffects {
  std::vector<LotRecord> new_lots;
  // (lot, holder) -> signed change in grams.
  std::vector<std::tuple<std::string, std::string, int64_t>> holding_changes;
  // Dispatch opening a shipment.
  std::optional<ShipmentRecord> new_shipment;
  // Receipt closing a shipment: dispatch id, and per lot the grams received.
  std::optional<std::string> closed_shipment;
  std::map<std::string, uint64_t> received;  // lot -> grams received
  std::map<std::string, uint64_t> lost;      // lot -> grams lost in transit
  std::map<std::string, uint64_t> consumed;  // lot -> grams consumed by a transformation
};

// The receipt tolerance when the registry names none: 0.5% (weighbridge and moisture differences).
inline constexpr uint32_t kDefaultReceiptTolerancePpm = 5000;

// Consortium rules that every node and every auditor apply alike. They come from the signed trust
// registry (ledger/rulebook.h: RulesOf), never from a node's config, so no node can loosen what the
// auditors check.
struct ConsortiumRules {
  // A receipt may report up to this many parts per million more than was dispatched; beyond it
  // the receipt is refused.
  uint32_t receipt_tolerance_ppm = kDefaultReceiptTolerancePpm;
};

// The lot `lot_id` as `body` (the event `event_id_hex`) creates it, or nullopt when it does not.
std::optional<LotRecord> LotCreatedBy(const cairn::v1::EventBody& body, const std::string& lot_id,
                                      const std::string& event_id_hex);

// The shipment a dispatch opens (not received), or nullopt when `body` is not a dispatch.
std::optional<ShipmentRecord> ShipmentOf(const cairn::v1::EventBody& body,
                                         const std::string& event_id_hex);

// The most grams a receipt may report for `dispatched_g` grams dispatched under `rules`.
uint64_t ReceiptLimitG(uint64_t dispatched_g, const ConsortiumRules& rules);

// One rule an event breaks.
struct CustodyViolation {
  // FAILED_PRECONDITION, PERMISSION_DENIED or ALREADY_EXISTS naming the field and rule; NOT_FOUND
  // when the view lacks the evidence to decide (an auditor's bundle that does not hold it).
  Status status;
  std::string field;   // e.g. "Dispatch.lots[0]", "EventBody.refs[1].event_id"
  std::string lot_id;  // the lot concerned; empty when none
};

// What an event does and which rules it breaks.
struct CustodyPlan {
  // When violations is empty: exactly what appending the event changes. Otherwise what it would
  // change as far as it can be done (nothing taken beyond what is held, no lot created twice, a
  // receipt credits what it reports), so that a verifier can replay on past a broken event.
  CustodyEffects effects;
  // Every rule broken, in the order checked; empty when the event may be appended.
  std::vector<CustodyViolation> violations;
};

// Checks the stateful rules for `event` against `view`:
// referenced events known (FAILED_PRECONDITION); a lot id is created once (ALREADY_EXISTS);
// the author holds every lot it dispatches or consumes, and no more than it holds is dispatched or
// consumed (FAILED_PRECONDITION); a receipt answers a known dispatch addressed to its author
// (FAILED_PRECONDITION / PERMISSION_DENIED), once (ALREADY_EXISTS), for lots of that dispatch, each
// within rules.receipt_tolerance_ppm of what was dispatched (FAILED_PRECONDITION); an attestation
// names a known lot or event; a correction targets an earlier event of the same author
// (PERMISSION_DENIED). A NOT_FOUND answer of the view is recorded as a violation and the check goes
// on; any other error of the view (storage) is returned.
Result<CustodyPlan> PlanCustody(const ParsedEvent& event, CustodyView& view,
                                const ConsortiumRules& rules);

// PlanCustody for a writer: the effects when the event breaks no rule, else the first violation.
Result<CustodyEffects> CheckAndPlanCustody(const ParsedEvent& event, CustodyView& view,
                                           const ConsortiumRules& rules = {});

}  // namespace cairn::ledger
