// Storage: the custody tables — lots, holdings, shipments and the lot index — written with each
// entry's effects, and read through ledger::CustodyView and GetLotState.
#include <sqlite3.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "node/storage.h"
#include "node/storage_internal.h"

namespace cairn::node {

const google::protobuf::Map<std::string, uint32_t>* CompositionOf(const cairn::v1::EventBody& body,
                                                                  const std::string& lot_id) {
  if (body.has_extraction() && body.extraction().lot_id() == lot_id) {
    return &body.extraction().composition_ppm();
  }
  if (body.has_transformation()) {
    for (const auto& out : body.transformation().outputs()) {
      if (out.lot_id() == lot_id) return &out.composition_ppm();
    }
  }
  return nullptr;
}

std::vector<std::pair<const std::string*, LotRole>> LotRolesOf(const cairn::v1::EventBody& body) {
  std::vector<std::pair<const std::string*, LotRole>> roles;
  for (const auto& [lot_id, use] : ledger::LotsNamedBy(body)) {
    roles.emplace_back(lot_id, static_cast<LotRole>(use));
  }
  return roles;
}

Result<std::vector<LotEntryRow>> LotEntriesOf(const cairn::v1::EventBody& body,
                                              ledger::CustodyView& events) {
  std::vector<LotEntryRow> rows;
  for (const auto& [lot_id, role] : LotRolesOf(body)) rows.emplace_back(*lot_id, role);
  const LotRole role = body.has_correction() ? LotRole::kCorrected : LotRole::kAttested;
  const std::string* target = ledger::EvidenceTargetOf(body);
  std::optional<cairn::v1::EventBody> concerned;
  for (int depth = 0; target != nullptr && depth < ledger::kMaxEvidenceChain; ++depth) {
    CAIRN_ASSIGN_OR_RETURN(auto found, events.FindEventBody(*target));
    if (!found) break;
    concerned = std::move(found);
    for (const auto& [lot_id, use] : ledger::LotsNamedBy(*concerned))
      rows.emplace_back(*lot_id, role);
    target = ledger::EvidenceTargetOf(*concerned);
  }
  return rows;
}

Status Storage::AddHolding(const std::string& lot_id, const std::string& holder, int64_t delta) {
  CAIRN_ASSIGN_OR_RETURN(const uint64_t held, Holding(lot_id, holder));
  const auto current = static_cast<int64_t>(held);  // stored values are <= INT64_MAX
  int64_t next = 0;
  if (__builtin_add_overflow(current, delta, &next)) {
    return FailedPrecondition("holding of lot " + lot_id + " by " + holder +
                              " would exceed 2^63-1 g");
  }
  if (next < 0) {
    return FailedPrecondition("holding of lot " + lot_id + " by " + holder + " would go from " +
                              std::to_string(current) + " g to " + std::to_string(next) + " g");
  }
  if (next == 0) {
    Query q(writer_db_.get(), writer_->delete_holding.get());
    q.Text(lot_id).Text(holder);
    return q.Run();
  }
  Query q(writer_db_.get(), writer_->put_holding.get());
  q.Text(lot_id).Text(holder).Int(next);
  return q.Run();
}

Status Storage::InsertLotEntries(sqlite3_stmt* insert, const std::vector<LotEntryRow>& rows,
                                 uint64_t index) {
  for (const auto& [lot_id, role] : rows) {
    Query q(writer_db_.get(), insert);
    q.Text(lot_id).Int(static_cast<int64_t>(index)).Int(static_cast<int64_t>(role));
    CAIRN_RETURN_IF_ERROR(q.Run());
  }
  return Status::Ok();
}

Status Storage::ApplyEffects(const ledger::ParsedEvent& event, uint64_t index,
                             const ledger::CustodyEffects& effects) {
  const auto idx = static_cast<int64_t>(index);
  CAIRN_ASSIGN_OR_RETURN(const auto lot_entries, LotEntriesOf(event.body, *this));
  CAIRN_RETURN_IF_ERROR(InsertLotEntries(writer_->insert_lot_entry.get(), lot_entries, index));
  for (const auto& lot : effects.new_lots) {
    CAIRN_RETURN_IF_ERROR(CheckMass(lot.created_mass_g, "lot " + lot.lot_id + " mass"));
    cairn::v1::LotState composition;
    if (const auto* declared = CompositionOf(event.body, lot.lot_id)) {
      *composition.mutable_composition_ppm() = *declared;
    }
    Query q(writer_db_.get(), writer_->insert_lot.get());
    q.Text(lot.lot_id)
        .Text(lot.creator)
        .Text(lot.material)
        .Int(static_cast<int64_t>(lot.created_mass_g))
        .Int(idx)
        .Blob(composition.SerializeAsString());
    CAIRN_RETURN_IF_ERROR(q.Run());
  }
  for (const auto& [lot_id, holder, delta] : effects.holding_changes) {
    CAIRN_RETURN_IF_ERROR(AddHolding(lot_id, holder, delta));
  }
  if (effects.new_shipment) {
    const auto& shipment = *effects.new_shipment;
    {
      Query q(writer_db_.get(), writer_->insert_shipment.get());
      q.Int(idx).Text(shipment.sender).Text(shipment.recipient);
      CAIRN_RETURN_IF_ERROR(q.Run());
    }
    for (const auto& [lot_id, mass_g] : shipment.lots) {
      CAIRN_RETURN_IF_ERROR(CheckMass(mass_g, "shipment of lot " + lot_id));
      Query q(writer_db_.get(), writer_->insert_shipment_lot.get());
      q.Int(idx).Text(lot_id).Int(static_cast<int64_t>(mass_g));
      CAIRN_RETURN_IF_ERROR(q.Run());
    }
  }
  std::optional<uint64_t> dispatch_idx;
  if (effects.closed_shipment) {
    CAIRN_ASSIGN_OR_RETURN(dispatch_idx, EntryIndexForWrite(*effects.closed_shipment));
    if (!dispatch_idx) {
      // A dispatch of another log (the custody check found it in a verified replica).
      CAIRN_ASSIGN_OR_RETURN(const Hash dispatch_id, ParseEventIdHex(*effects.closed_shipment));
      Query q(writer_db_.get(), writer_->insert_foreign_receipt.get());
      q.Blob(AsView(dispatch_id)).Int(idx);
      const Status inserted = q.Run();
      if (!inserted.ok() &&
          sqlite3_extended_errcode(writer_db_.get()) == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return AlreadyExists("dispatch " + *effects.closed_shipment + " was already received");
      }
      CAIRN_RETURN_IF_ERROR(inserted);
    }
  }
  if (dispatch_idx) {
    const auto didx = static_cast<int64_t>(*dispatch_idx);
    {
      Query q(writer_db_.get(), writer_->close_shipment.get());
      q.Int(idx).Int(didx);
      CAIRN_RETURN_IF_ERROR(q.Run());
      if (sqlite3_changes(writer_db_.get()) != 1) {
        return AlreadyExists("dispatch " + *effects.closed_shipment + " was already received");
      }
    }
    // Every lot of the shipment gets its received mass; a lot not received gets 0.
    std::vector<std::string> shipment_lots;
    {
      Query q(writer_db_.get(), writer_->find_shipment_lots.get());
      q.Int(didx);
      while (true) {
        CAIRN_ASSIGN_OR_RETURN(const bool row, q.Next());
        if (!row) break;
        shipment_lots.push_back(q.ColumnText(0));
      }
    }
    for (const auto& lot_id : shipment_lots) {
      const auto it = effects.received.find(lot_id);
      const uint64_t got = it == effects.received.end() ? 0 : it->second;
      CAIRN_RETURN_IF_ERROR(CheckMass(got, "receipt of lot " + lot_id));
      Query q(writer_db_.get(), writer_->set_received.get());
      q.Int(static_cast<int64_t>(got)).Int(didx).Text(lot_id);
      CAIRN_RETURN_IF_ERROR(q.Run());
    }
  }
  // A lot this log did not create was created in another log: its counters go to foreign_lots.
  auto add_counter = [&](sqlite3_stmt* stmt, sqlite3_stmt* foreign,
                         const std::map<std::string, uint64_t>& amounts,
                         const char* what) -> Status {
    for (const auto& [lot_id, mass_g] : amounts) {
      CAIRN_RETURN_IF_ERROR(CheckMass(mass_g, std::string(what) + " of lot " + lot_id));
      Query q(writer_db_.get(), stmt);
      q.Int(static_cast<int64_t>(mass_g)).Text(lot_id);
      CAIRN_RETURN_IF_ERROR(q.Run());
      if (sqlite3_changes(writer_db_.get()) == 1) continue;
      Query f(writer_db_.get(), foreign);
      f.Text(lot_id).Int(static_cast<int64_t>(mass_g));
      CAIRN_RETURN_IF_ERROR(f.Run());
    }
    return Status::Ok();
  };
  CAIRN_RETURN_IF_ERROR(add_counter(writer_->add_consumed.get(),
                                    writer_->add_foreign_consumed.get(), effects.consumed,
                                    "consumption"));
  CAIRN_RETURN_IF_ERROR(add_counter(writer_->add_loss.get(), writer_->add_foreign_loss.get(),
                                    effects.lost, "transit loss"));
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// CustodyView.

Result<bool> Storage::HasEvent(const std::string& event_id_hex) {
  CAIRN_ASSIGN_OR_RETURN(const auto index, EntryIndexForWrite(event_id_hex));
  return index.has_value();
}

Result<std::optional<cairn::v1::EventBody>> Storage::FindEventBody(
    const std::string& event_id_hex) {
  auto id = ParseEventIdHex(event_id_hex);
  if (!id.ok()) return std::optional<cairn::v1::EventBody>();
  CAIRN_ASSIGN_OR_RETURN(auto stored, FindEntryForWrite(*id));
  if (!stored) return std::optional<cairn::v1::EventBody>();
  cairn::v1::LogEntry entry;
  cairn::v1::EventBody body;
  if (!entry.ParseFromString(stored->entry) || !body.ParseFromString(entry.event().body())) {
    return DataLoss("entry " + std::to_string(stored->index) + " does not parse");
  }
  return std::optional<cairn::v1::EventBody>(std::move(body));
}

Result<std::optional<ledger::LotRecord>> Storage::FindLot(const std::string& lot_id) {
  Query q(writer_db_.get(), writer_->find_lot.get());
  q.Text(lot_id);
  CAIRN_ASSIGN_OR_RETURN(const bool row, q.Next());
  if (!row) return std::optional<ledger::LotRecord>();
  ledger::LotRecord lot;
  lot.lot_id = lot_id;
  lot.creator = q.ColumnText(0);
  lot.material = q.ColumnText(1);
  lot.created_mass_g = static_cast<uint64_t>(q.ColumnInt(2));
  lot.created_by_event_id = ToHex(q.ColumnBlob(3));
  return std::optional<ledger::LotRecord>(std::move(lot));
}

Result<uint64_t> Storage::Holding(const std::string& lot_id, const std::string& holder) {
  Query q(writer_db_.get(), writer_->get_holding.get());
  q.Text(lot_id).Text(holder);
  CAIRN_ASSIGN_OR_RETURN(const bool row, q.Next());
  if (!row) return uint64_t{0};
  return static_cast<uint64_t>(q.ColumnInt(0));
}

Result<std::optional<ledger::ShipmentRecord>> Storage::FindShipment(
    const std::string& dispatch_id_hex) {
  CAIRN_ASSIGN_OR_RETURN(const auto dispatch_idx, EntryIndexForWrite(dispatch_id_hex));
  if (!dispatch_idx) {
    // A dispatch of another log that this log received: received, and known here by id alone
    // (ledger::FederatedView fills in the rest from the dispatch's log).
    auto dispatch_id = ParseEventIdHex(dispatch_id_hex);
    if (!dispatch_id.ok() || writer_->find_foreign_receipt == nullptr) {
      return std::optional<ledger::ShipmentRecord>();
    }
    Query q(writer_db_.get(), writer_->find_foreign_receipt.get());
    q.Blob(AsView(*dispatch_id));
    CAIRN_ASSIGN_OR_RETURN(const bool row, q.Next());
    if (!row) return std::optional<ledger::ShipmentRecord>();
    ledger::ShipmentRecord received;
    received.dispatch_event_id = dispatch_id_hex;
    received.received = true;
    return std::optional<ledger::ShipmentRecord>(std::move(received));
  }
  const auto didx = static_cast<int64_t>(*dispatch_idx);
  ledger::ShipmentRecord shipment;
  {
    Query q(writer_db_.get(), writer_->find_shipment.get());
    q.Int(didx);
    CAIRN_ASSIGN_OR_RETURN(const bool row, q.Next());
    if (!row) return std::optional<ledger::ShipmentRecord>();  // the event is not a dispatch
    shipment.dispatch_event_id = dispatch_id_hex;
    shipment.sender = q.ColumnText(0);
    shipment.recipient = q.ColumnText(1);
    shipment.received = !q.ColumnIsNull(2);
  }
  Query q(writer_db_.get(), writer_->find_shipment_lots.get());
  q.Int(didx);
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(const bool row, q.Next());
    if (!row) break;
    shipment.lots[q.ColumnText(0)] = static_cast<uint64_t>(q.ColumnInt(1));
  }
  return std::optional<ledger::ShipmentRecord>(std::move(shipment));
}

Result<std::vector<uint64_t>> Storage::EntryIndexesOfLot(const std::string& lot_id) {
  MutexLock lock(&read_mutex_);
  Query q(reader_db_.get(), reader_->lot_entries.get());
  q.Text(lot_id);
  std::vector<uint64_t> indexes;
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(const bool row, q.Next());
    if (!row) return indexes;
    indexes.push_back(static_cast<uint64_t>(q.ColumnInt(0)));
  }
}

Result<std::optional<cairn::v1::LotState>> Storage::GetLotState(const std::string& lot_id) {
  MutexLock lock(&read_mutex_);
  sqlite3* const db = reader_db_.get();
  cairn::v1::LotState state;
  // One read transaction so that the lot, its holdings and its shipments are one snapshot.
  char* error = nullptr;
  if (sqlite3_exec(db, "BEGIN", nullptr, nullptr, &error) != SQLITE_OK) {
    sqlite3_free(error);
    return SqliteError(db, "BEGIN");
  }
  struct EndRead {
    sqlite3* db;
    ~EndRead() { sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr); }
  } end_read{db};
  {
    Query q(db, reader_->lot.get());
    q.Text(lot_id);
    CAIRN_ASSIGN_OR_RETURN(const bool row, q.Next());
    if (!row) return std::optional<cairn::v1::LotState>();
    cairn::v1::LotState composition;
    if (!composition.ParseFromString(q.ColumnBlob(4))) {
      return DataLoss("lot " + lot_id + ": stored composition does not parse");
    }
    state.set_lot_id(lot_id);
    state.set_creator(q.ColumnText(0));
    state.set_material(q.ColumnText(1));
    state.set_created_mass_g(static_cast<uint64_t>(q.ColumnInt(2)));
    state.set_created_by_event_id(ToHex(q.ColumnBlob(3)));
    *state.mutable_composition_ppm() = composition.composition_ppm();
    state.set_consumed_mass_g(static_cast<uint64_t>(q.ColumnInt(5)));
    state.set_transit_loss_mass_g(static_cast<uint64_t>(q.ColumnInt(6)));
  }
  uint64_t remaining = 0;
  {
    Query q(db, reader_->lot_holdings.get());
    q.Text(lot_id);
    while (true) {
      CAIRN_ASSIGN_OR_RETURN(const bool row, q.Next());
      if (!row) break;
      auto* holding = state.add_holdings();
      holding->set_holder(q.ColumnText(0));
      holding->set_mass_g(static_cast<uint64_t>(q.ColumnInt(1)));
      remaining += holding->mass_g();
    }
  }
  {
    Query q(db, reader_->lot_in_transit.get());
    q.Text(lot_id);
    while (true) {
      CAIRN_ASSIGN_OR_RETURN(const bool row, q.Next());
      if (!row) break;
      auto* transit = state.add_in_transit();
      transit->set_dispatch_event_id(ToHex(q.ColumnBlob(0)));
      transit->set_sender(q.ColumnText(1));
      transit->set_recipient(q.ColumnText(2));
      transit->set_mass_g(static_cast<uint64_t>(q.ColumnInt(3)));
      remaining += transit->mass_g();
    }
  }
  state.set_remaining_mass_g(remaining);
  return std::optional<cairn::v1::LotState>(std::move(state));
}

}  // namespace cairn::node
