// FederatedView: the custody state of one log that also sees the events of other logs.
//
// In a federation every event that decrements or receives a holding is authored by the holder and
// stands in the holder's home log (ledger/rulebook.h, CheckHomeLog), so custody of (lot, holder)
// is decided by one log. A log's events still refer across logs: a receipt on the refiner's log
// answers a dispatch on the mine's log; a transformation consumes a lot created on another log.
// FederatedView answers the custody checks of one log (`home`) with what the other logs a reader
// holds (`others`: a node's own log and verified replicas) say:
//   - events and lots: home first, then the other logs;
//   - holdings: home's alone (the holder's home log decides them);
//   - a dispatch of another log: a shipment from its sender to its recipient, received when home
//     recorded a receipt of it (home's FindShipment then answers with received set and no lots).
// Not thread-safe; `home` and `others` must outlive it.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ledger/custody.h"

namespace cairn::ledger {

// Read access to the events of the logs other than the one being checked. Thread-safety is the
// implementation's.
class OtherLogs {
 public:
  virtual ~OtherLogs() = default;
  // The body of the event with this id in one of the other logs, or nullopt.
  virtual Result<std::optional<cairn::v1::EventBody>> FindEventBody(
      const std::string& event_id_hex) = 0;
  // The lot as the event of another log that created it declares it, or nullopt.
  virtual Result<std::optional<LotRecord>> FindLot(const std::string& lot_id) = 0;
};

// Other logs held in memory: an auditor's copy of every log it fetched. An event it does not hold
// is NOT_FOUND — evidence the auditor lacks (incomplete), not proof that it does not exist; a lot
// none of them created is unknown. Not thread-safe.
class MemoryLogs {
 public:
  // Adds the entries of `log_id` (serialized LogEntry, index order); entries that do not parse
  // are skipped: the verification of their own log names them.
  void Add(const std::string& log_id, const std::vector<std::string>& entries);
  const std::vector<std::string>& log_ids() const { return log_ids_; }

  // Every log added except `log_id`, as the other logs of `log_id`'s verification (an event of
  // the log itself must come from its own earlier entries, never from this copy). Valid while
  // this MemoryLogs lives.
  std::unique_ptr<OtherLogs> Except(const std::string& log_id) const;

 private:
  class View;
  struct Event {
    std::string log_id;
    cairn::v1::EventBody body;
  };
  std::map<std::string, Event> events_;                            // id hex -> event
  std::map<std::string, std::pair<std::string, LotRecord>> lots_;  // lot id -> (log, creation)
  std::vector<std::string> log_ids_;
};

class FederatedView final : public CustodyView {
 public:
  // `others` may be null: then this is `home` alone.
  FederatedView(CustodyView& home, OtherLogs* others) : home_(home), others_(others) {}

  Result<bool> HasEvent(const std::string& event_id_hex) override;
  Result<std::optional<cairn::v1::EventBody>> FindEventBody(
      const std::string& event_id_hex) override;
  Result<std::optional<LotRecord>> FindLot(const std::string& lot_id) override;
  Result<uint64_t> Holding(const std::string& lot_id, const std::string& holder) override;
  Result<std::optional<ShipmentRecord>> FindShipment(const std::string& dispatch_id_hex) override;

 private:
  CustodyView& home_;
  OtherLogs* const others_;
};

}  // namespace cairn::ledger
