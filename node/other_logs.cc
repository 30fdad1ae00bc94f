#include "node/other_logs.h"

#include <utility>

#include "node/storage_internal.h"

namespace cairn::node {

namespace {

Result<cairn::v1::EventBody> BodyOf(const std::string& entry_bytes, const std::string& where) {
  cairn::v1::LogEntry entry;
  cairn::v1::EventBody body;
  if (!entry.ParseFromString(entry_bytes) || !body.ParseFromString(entry.event().body())) {
    return DataLoss(where + " does not parse");
  }
  return body;
}

}  // namespace

Result<std::optional<NodeLogs::Located>> NodeLogs::Locate(const std::string& event_id_hex) {
  auto id = ParseEventIdHex(event_id_hex);
  if (!id.ok()) return std::optional<Located>();
  if (own_ != nullptr) {
    CAIRN_ASSIGN_OR_RETURN(auto stored, own_->FindEntry(*id));
    if (stored) {
      return std::optional<Located>(Located{"", stored->index, std::move(stored->entry)});
    }
  }
  for (const ReplicaStore* replica : replicas_) {
    CAIRN_ASSIGN_OR_RETURN(auto found, replica->FindEvent(*id));
    if (found) {
      return std::optional<Located>(
          Located{replica->log_id(), found->index, std::move(found->entry)});
    }
  }
  return std::optional<Located>();
}

Result<std::optional<cairn::v1::EventBody>> NodeLogs::FindEventBody(
    const std::string& event_id_hex) {
  CAIRN_ASSIGN_OR_RETURN(auto located, Locate(event_id_hex));
  if (!located && missing_is_not_found_) {
    return NotFound("event " + event_id_hex +
                    " is in none of the other logs this node holds (yet)");
  }
  if (!located) return std::optional<cairn::v1::EventBody>();
  CAIRN_ASSIGN_OR_RETURN(
      auto body, BodyOf(located->entry,
                        "entry " + std::to_string(located->index) + " of log " + located->log_id));
  return std::optional<cairn::v1::EventBody>(std::move(body));
}

Result<std::optional<ledger::LotRecord>> NodeLogs::FindLot(const std::string& lot_id) {
  if (own_ != nullptr) {
    CAIRN_ASSIGN_OR_RETURN(const auto state, own_->GetLotState(lot_id));
    if (state) {
      return std::optional<ledger::LotRecord>(
          ledger::LotRecord{lot_id, state->creator(), state->material(), state->created_mass_g(),
                            state->created_by_event_id()});
    }
  }
  for (const ReplicaStore* replica : replicas_) {
    CAIRN_ASSIGN_OR_RETURN(const auto entry_bytes, replica->CreatorOfLot(lot_id));
    if (!entry_bytes) continue;
    cairn::v1::LogEntry entry;
    cairn::v1::EventBody body;
    if (!entry.ParseFromString(*entry_bytes) || !body.ParseFromString(entry.event().body())) {
      return DataLoss("replica of " + replica->log_id() + ": the entry creating lot " + lot_id +
                      " does not parse");
    }
    return ledger::LotCreatedBy(body, lot_id, ToHex(ledger::EventId(entry.event().body())));
  }
  return std::optional<ledger::LotRecord>();
}

}  // namespace cairn::node
