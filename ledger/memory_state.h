// MemoryCustodyState: custody state (events, lots, holdings, shipments) held in memory.
//
// The auditor's verifier replays a log or a bundle through CheckAndPlanCustody against this state,
// exactly as the node does against SQLite. Not thread-safe; one owner.
#pragma once

#include <map>
#include <string>
#include <utility>

#include "ledger/custody.h"

namespace cairn::ledger {

class MemoryCustodyState final : public CustodyView {
 public:
  MemoryCustodyState() = default;
  // Lots, holdings and shipments in memory, events answered by `events` (which must outlive this
  // state): for a replay of a log that is already stored, so that no event body is held twice.
  explicit MemoryCustodyState(CustodyView* events) : events_from_(events) {}

  Result<bool> HasEvent(const std::string& event_id_hex) override;
  Result<std::optional<cairn::v1::EventBody>> FindEventBody(
      const std::string& event_id_hex) override;
  Result<std::optional<LotRecord>> FindLot(const std::string& lot_id) override;
  Result<uint64_t> Holding(const std::string& lot_id, const std::string& holder) override;
  Result<std::optional<ShipmentRecord>> FindShipment(const std::string& dispatch_id_hex) override;

  // Records `event` as known and applies its effects (as returned by CheckAndPlanCustody).
  void Apply(const ParsedEvent& event, const CustodyEffects& effects);

  size_t event_count() const { return events_.size(); }
  // Grams held, by (lot, holder); a holding that went to 0 g may be listed with 0.
  const std::map<std::pair<std::string, std::string>, uint64_t>& holdings() const {
    return holdings_;
  }
  // A dispatch not yet received that carries `lot_id` to `recipient`, or nullopt.
  std::optional<std::string> OpenShipmentOf(const std::string& lot_id,
                                            const std::string& recipient) const;

 private:
  CustodyView* const events_from_ = nullptr;
  std::map<std::string, cairn::v1::EventBody> events_;  // when events_from_ is null
  std::map<std::string, LotRecord> lots_;
  std::map<std::pair<std::string, std::string>, uint64_t> holdings_;
  std::map<std::string, ShipmentRecord> shipments_;
};

}  // namespace cairn::ledger
