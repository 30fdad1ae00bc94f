#include "ledger/federated_view.h"

#include <utility>

#include "cairn/v1/log.pb.h"
#include "ledger/event.h"

namespace cairn::ledger {

void MemoryLogs::Add(const std::string& log_id, const std::vector<std::string>& entries) {
  log_ids_.push_back(log_id);
  cairn::v1::LogEntry entry;
  for (const std::string& bytes : entries) {
    cairn::v1::EventBody body;
    if (!entry.ParseFromString(bytes) || !body.ParseFromString(entry.event().body())) continue;
    const std::string id = ToHex(EventId(entry.event().body()));
    for (const auto& [lot_id, use] : LotsNamedBy(body)) {
      if (use != LotUse::kCreated) continue;
      if (auto lot = LotCreatedBy(body, *lot_id, id))
        lots_.emplace(*lot_id, std::make_pair(log_id, *lot));
    }
    events_.emplace(id, Event{log_id, std::move(body)});
  }
}

class MemoryLogs::View final : public OtherLogs {
 public:
  View(const MemoryLogs& logs, std::string except) : logs_(logs), except_(std::move(except)) {}

  Result<std::optional<cairn::v1::EventBody>> FindEventBody(const std::string& id) override {
    auto it = logs_.events_.find(id);
    if (it == logs_.events_.end() || it->second.log_id == except_) return Missing("event " + id);
    return std::optional<cairn::v1::EventBody>(it->second.body);
  }
  Result<std::optional<LotRecord>> FindLot(const std::string& lot_id) override {
    auto it = logs_.lots_.find(lot_id);
    // A lot no log at hand created: unknown (whether it may be created, or was never made). Only
    // a missing event makes the evidence incomplete: a lot from an unfetched log reaches this log
    // through a receipt, whose dispatch is reported missing first.
    if (it == logs_.lots_.end() || it->second.first == except_) return std::optional<LotRecord>();
    return std::optional<LotRecord>(it->second.second);
  }

 private:
  Status Missing(const std::string& what) const {
    std::string held;
    for (const std::string& id : logs_.log_ids_) {
      if (id != except_) held += (held.empty() ? "" : ", ") + id;
    }
    return NotFound(what + " is in none of the other logs at hand (" +
                    (held.empty() ? std::string("none") : held) + ")");
  }

  const MemoryLogs& logs_;
  const std::string except_;
};

std::unique_ptr<OtherLogs> MemoryLogs::Except(const std::string& log_id) const {
  return std::make_unique<View>(*this, log_id);
}

Result<bool> FederatedView::HasEvent(const std::string& event_id_hex) {
  CAIRN_ASSIGN_OR_RETURN(const bool home, home_.HasEvent(event_id_hex));
  if (home || others_ == nullptr) return home;
  CAIRN_ASSIGN_OR_RETURN(const auto other, others_->FindEventBody(event_id_hex));
  return other.has_value();
}

Result<std::optional<cairn::v1::EventBody>> FederatedView::FindEventBody(
    const std::string& event_id_hex) {
  CAIRN_ASSIGN_OR_RETURN(auto home, home_.FindEventBody(event_id_hex));
  if (home || others_ == nullptr) return home;
  return others_->FindEventBody(event_id_hex);
}

Result<std::optional<LotRecord>> FederatedView::FindLot(const std::string& lot_id) {
  CAIRN_ASSIGN_OR_RETURN(auto home, home_.FindLot(lot_id));
  if (home || others_ == nullptr) return home;
  return others_->FindLot(lot_id);
}

Result<uint64_t> FederatedView::Holding(const std::string& lot_id, const std::string& holder) {
  return home_.Holding(lot_id, holder);
}

Result<std::optional<ShipmentRecord>> FederatedView::FindShipment(
    const std::string& dispatch_id_hex) {
  CAIRN_ASSIGN_OR_RETURN(auto home, home_.FindShipment(dispatch_id_hex));
  // A dispatch of home itself: home knows it whole.
  if ((home && !home->sender.empty()) || others_ == nullptr) return home;
  CAIRN_ASSIGN_OR_RETURN(const auto body, others_->FindEventBody(dispatch_id_hex));
  if (!body) return home;
  auto shipment = ShipmentOf(*body, dispatch_id_hex);
  if (shipment) shipment->received = home.has_value() && home->received;
  return shipment;
}

}  // namespace cairn::ledger
