#include "node/startup_check.h"

#include <algorithm>
#include <map>
#include <utility>

#include "cairn/v1/ledger.pb.h"
#include "ledger/custody.h"
#include "ledger/event.h"
#include "ledger/log_verifier.h"
#include "ledger/memory_state.h"
#include "ledger/merkle.h"
#include "ledger/rulebook.h"

namespace cairn::node {
namespace {

// Problems listed per kind (a damaged table can differ in every row) when finding all.
constexpr size_t kMaxProblemsPerKind = 20;

// Why `stored` is not a sound entry after `prev_leaf`; empty when it is. `entry` gets the parse.
std::vector<std::string> EntryProblems(const StoredEntry& stored, const std::string& log_id,
                                       const Hash& prev_leaf, const Hash& leaf,
                                       cairn::v1::LogEntry& entry) {
  std::vector<std::string> problems;
  if (!entry.ParseFromString(stored.entry)) {
    problems.push_back("stored bytes do not parse as a LogEntry");
  } else {
    if (entry.index() != stored.index) {
      problems.push_back("LogEntry.index: got " + std::to_string(entry.index()) + ", want " +
                         std::to_string(stored.index));
    }
    if (entry.log_id() != log_id) {
      problems.push_back("LogEntry.log_id: got \"" + entry.log_id() + "\", want \"" + log_id +
                         "\"");
    }
    if (entry.prev_entry_hash() != AsView(prev_leaf)) {
      problems.push_back(
          "LogEntry.prev_entry_hash: got " + ToHex(entry.prev_entry_hash()) + ", want " +
          ToHex(prev_leaf) +
          (stored.index == 0 ? " (zeros for the first entry)" : " (the previous leaf hash)"));
    }
    const Hash event_id = ledger::EventId(entry.event().body());
    if (stored.event_id != AsView(event_id)) {
      problems.push_back("stored event_id " + ToHex(stored.event_id) +
                         " is not the id of the entry's event " + ToHex(event_id));
    }
  }
  if (stored.leaf_hash != AsView(leaf)) {
    problems.push_back("stored leaf_hash " + ToHex(stored.leaf_hash) +
                       " is not SHA-256(0x00 || entry) = " + ToHex(leaf));
  }
  if (stored.event_key != EventKey(stored.event_id)) {
    problems.push_back("stored event_key " + std::to_string(stored.event_key) +
                       " is not the prefix of event_id " + ToHex(stored.event_id));
  }
  return problems;
}

// Collects problems of one kind, at most `limit`.
class Problems {
 public:
  Problems(std::vector<LogProblem>& out, size_t limit) : out_(out), limit_(limit) {}
  void Add(uint64_t index, std::string what) {
    if (added_ < limit_) out_.push_back({index, std::move(what)});
    ++added_;
  }
  bool full() const { return added_ >= limit_; }

 private:
  std::vector<LogProblem>& out_;
  const size_t limit_;
  size_t added_ = 0;
};

// SHA-256 over the composition's entries in key order (a protobuf map has no order of its own).
Hash CompositionDigest(const google::protobuf::Map<std::string, uint32_t>* composition) {
  std::string canonical;
  if (composition != nullptr) {
    const std::map<std::string, uint32_t> sorted(composition->begin(), composition->end());
    for (const auto& [element, ppm] : sorted) {
      canonical += element;
      canonical += '\0';
      canonical += std::to_string(ppm);
      canonical += '\0';
    }
  }
  return Sha256(canonical);
}

std::string Grams(std::optional<uint64_t> grams) {
  return grams ? std::to_string(*grams) + " g" : std::string("NULL");
}

// ---------------------------------------------------------------------------------------------
// The custody tables, re-derived

// The custody tables a log implies, derived by replaying its entries through the rulebook's
// custody rules exactly as the writer applies them (Storage::ApplyEffects), then compared with the
// stored tables row by row.
class CustodyTables {
 public:
  CustodyTables(Storage& storage, ledger::ConsortiumRules rules, ledger::OtherLogs* others)
      : rules_(rules),
        evidence_indexed_(storage.evidence_indexed()),
        federation_tables_(storage.has_federation_tables()),
        state_(&storage),
        view_(state_, others) {}

  // Replays the entry at `index`, already checked to be a sound LogEntry of this log.
  Status Add(uint64_t index, const cairn::v1::LogEntry& entry) {
    auto parsed = ledger::ParseSignedEvent(entry.event());
    if (!parsed.ok()) {
      if (!bad_event_) bad_event_ = {index, "event does not parse: " + parsed.status().message()};
      return Status::Ok();
    }
    CAIRN_ASSIGN_OR_RETURN(const ledger::CustodyPlan plan,
                           ledger::PlanCustody(*parsed, view_, rules_));
    if (!plan.violations.empty() && !rule_break_) {
      rule_break_ = {index, plan.violations.front().status.message()};
    }
    CAIRN_RETURN_IF_ERROR(Record(index, *parsed, plan.effects));
    state_.Apply(*parsed, plan.effects);
    return Status::Ok();
  }

  // The first entry whose event breaks today's custody rules (under the current registry's
  // consortium rules), if any: not damage (the node signed it), but worth a warning.
  const std::optional<LogProblem>& rule_break() const { return rule_break_; }

  // Compares the stored tables with the replay; consumes the replay. `end` is the number of
  // entries (the index given to rows no entry wrote).
  Status Compare(Storage& storage, uint64_t end, std::vector<LogProblem>& out, size_t limit) {
    if (bad_event_) {
      out.push_back(*bad_event_);
      return Status::Ok();
    }
    // Lots last: their comparison consumes lots_, which the others use to name entries.
    CAIRN_RETURN_IF_ERROR(CompareHoldings(storage, end, out, limit));
    CAIRN_RETURN_IF_ERROR(CompareShipments(storage, end, out, limit));
    CAIRN_RETURN_IF_ERROR(CompareLotEntries(storage, end, out, limit));
    if (federation_tables_) CAIRN_RETURN_IF_ERROR(CompareForeign(storage, end, out, limit));
    return CompareLots(storage, end, out, limit);
  }

 private:
  // Creator, material and mass are compared with the replay state's LotRecord; the composition
  // by a digest, so that a lot costs little memory here.
  struct Lot {
    uint64_t created_idx = 0, consumed_g = 0, transit_loss_g = 0;
    Hash composition{};
  };
  struct ShipmentLot {
    uint64_t mass_g = 0;
    std::optional<uint64_t> received_g;
  };
  struct Shipment {
    std::string sender, recipient;
    std::optional<uint64_t> received_idx;
    std::map<std::string, ShipmentLot> lots;
  };

  Status Record(uint64_t index, const ledger::ParsedEvent& event,
                const ledger::CustodyEffects& effects) {
    if (evidence_indexed_) {
      CAIRN_ASSIGN_OR_RETURN(const auto rows, LotEntriesOf(event.body, view_));
      for (const auto& [lot_id, role] : rows) {
        lot_entries_[lot_id].emplace_back(index, static_cast<int64_t>(role));
      }
    } else {
      for (const auto& [lot_id, role] : LotRolesOf(event.body)) {
        lot_entries_[*lot_id].emplace_back(index, static_cast<int64_t>(role));
      }
    }
    for (const auto& created : effects.new_lots) {
      Lot lot;
      lot.created_idx = index;
      lot.composition = CompositionDigest(CompositionOf(event.body, created.lot_id));
      lots_.emplace(created.lot_id, lot);
    }
    if (effects.new_shipment) {
      Shipment shipment;
      shipment.sender = effects.new_shipment->sender;
      shipment.recipient = effects.new_shipment->recipient;
      for (const auto& [lot_id, mass_g] : effects.new_shipment->lots) {
        shipment.lots[lot_id].mass_g = mass_g;
      }
      shipments_[index] = std::move(shipment);
      open_dispatches_[effects.new_shipment->dispatch_event_id] = index;
    }
    if (effects.closed_shipment) {
      const auto open = open_dispatches_.find(*effects.closed_shipment);
      if (open != open_dispatches_.end()) {
        Shipment& shipment = shipments_[open->second];
        shipment.received_idx = index;
        for (auto& [lot_id, lot] : shipment.lots) {
          const auto got = effects.received.find(lot_id);
          lot.received_g = got == effects.received.end() ? 0 : got->second;
        }
        open_dispatches_.erase(open);
      } else {
        foreign_receipts_[*effects.closed_shipment] = index;  // a dispatch of another log
      }
    }
    for (const auto& [lot_id, grams] : effects.consumed) {
      if (auto it = lots_.find(lot_id); it != lots_.end()) {
        it->second.consumed_g += grams;
      } else {
        foreign_lots_[lot_id].first += grams;  // a lot created in another log
      }
    }
    for (const auto& [lot_id, grams] : effects.lost) {
      if (auto it = lots_.find(lot_id); it != lots_.end()) {
        it->second.transit_loss_g += grams;
      } else {
        foreign_lots_[lot_id].second += grams;
      }
    }
    return Status::Ok();
  }

  // foreign_receipts and foreign_lots: what this log's events did to dispatches and lots of
  // other logs (a receipt of the mine's dispatch; consumption of a received lot).
  Status CompareForeign(Storage& storage, uint64_t end, std::vector<LogProblem>& out,
                        size_t limit) {
    Problems problems(out, limit);
    auto receipts = foreign_receipts_;
    CAIRN_RETURN_IF_ERROR(storage.ScanRows(
        "SELECT dispatch_id, received_idx FROM foreign_receipts ORDER BY dispatch_id",
        [&](const Query& q) -> Status {
          const std::string dispatch = ToHex(q.ColumnBlob(0));
          const int64_t got = q.ColumnInt(1);
          const auto it = receipts.find(dispatch);
          if (it == receipts.end()) {
            problems.Add(got >= 0 ? std::min<uint64_t>(got, end) : end,
                         "custody table foreign_receipts: dispatch " + dispatch +
                             " is recorded as received, but no entry of the log receives it");
            return Status::Ok();
          }
          if (got < 0 || static_cast<uint64_t>(got) != it->second) {
            problems.Add(it->second, "custody table foreign_receipts: dispatch " + dispatch +
                                         " received by entry " + std::to_string(got) +
                                         ", the log gives entry " + std::to_string(it->second));
          }
          receipts.erase(it);
          return Status::Ok();
        }));
    for (const auto& [dispatch, index] : receipts) {
      problems.Add(index, "custody table foreign_receipts: the receipt of dispatch " + dispatch +
                              " by entry " + std::to_string(index) + " is missing");
    }
    auto usage = foreign_lots_;
    CAIRN_RETURN_IF_ERROR(storage.ScanRows(
        "SELECT lot_id, consumed_g, transit_loss_g FROM foreign_lots ORDER BY lot_id",
        [&](const Query& q) -> Status {
          const std::string lot_id = q.ColumnText(0);
          const auto it = usage.find(lot_id);
          const std::pair<uint64_t, uint64_t> want =
              it == usage.end() ? std::pair<uint64_t, uint64_t>{0, 0} : it->second;
          const int64_t consumed = q.ColumnInt(1), lost = q.ColumnInt(2);
          if (consumed < 0 || lost < 0 || static_cast<uint64_t>(consumed) != want.first ||
              static_cast<uint64_t>(lost) != want.second) {
            problems.Add(end, "custody table foreign_lots: lot " + lot_id + " consumed " +
                                  std::to_string(consumed) + " g and lost " + std::to_string(lost) +
                                  " g, the log gives " + std::to_string(want.first) + " g and " +
                                  std::to_string(want.second) + " g");
          }
          if (it != usage.end()) usage.erase(it);
          return Status::Ok();
        }));
    for (const auto& [lot_id, grams] : usage) {
      problems.Add(end, "custody table foreign_lots: lot " + lot_id +
                            " has no row; the log gives " + std::to_string(grams.first) +
                            " g consumed and " + std::to_string(grams.second) + " g lost");
    }
    return Status::Ok();
  }

  Status CompareLots(Storage& storage, uint64_t end, std::vector<LogProblem>& out, size_t limit) {
    Problems problems(out, limit);
    CAIRN_RETURN_IF_ERROR(storage.ScanRows(
        "SELECT lot_id, creator, material, created_mass_g, created_idx, composition, consumed_g, "
        "transit_loss_g FROM lots ORDER BY lot_id",
        [&](const Query& q) -> Status {
          const std::string lot_id = q.ColumnText(0);
          const auto it = lots_.find(lot_id);
          if (it == lots_.end()) {
            problems.Add(end, "custody table lots: lot " + lot_id +
                                  " is stored, but no entry of the log creates it");
            return Status::Ok();
          }
          const Lot& want = it->second;
          CAIRN_ASSIGN_OR_RETURN(const auto record, state_.FindLot(lot_id));
          if (!record) return Internal("replayed lot " + lot_id + " has no record");
          const std::string where = "custody table lots: lot " + lot_id + ": ";
          const auto number = [&](int column, const char* name, uint64_t expected) {
            const int64_t got = q.ColumnInt(column);
            if (got < 0 || static_cast<uint64_t>(got) != expected) {
              problems.Add(want.created_idx, where + name + " is " + std::to_string(got) +
                                                 ", the log gives " + std::to_string(expected));
            }
          };
          if (q.ColumnText(1) != record->creator) {
            problems.Add(want.created_idx, where + "creator is " + q.ColumnText(1) +
                                               ", the log gives " + record->creator);
          }
          if (q.ColumnText(2) != record->material) {
            problems.Add(want.created_idx, where + "material is \"" + q.ColumnText(2) +
                                               "\", the log gives \"" + record->material + "\"");
          }
          number(3, "created_mass_g", record->created_mass_g);
          number(4, "created_idx", want.created_idx);
          cairn::v1::LotState composition;
          if (!composition.ParseFromString(q.ColumnBlob(5)) ||
              CompositionDigest(&composition.composition_ppm()) != want.composition) {
            problems.Add(want.created_idx,
                         where + "composition differs from the one its creating entry declares");
          }
          number(6, "consumed_g", want.consumed_g);
          number(7, "transit_loss_g", want.transit_loss_g);
          lots_.erase(it);
          return Status::Ok();
        }));
    for (const auto& [lot_id, lot] : lots_) {
      problems.Add(lot.created_idx, "custody table lots: lot " + lot_id + ", created by entry " +
                                        std::to_string(lot.created_idx) + ", is missing");
    }
    return Status::Ok();
  }

  Status CompareHoldings(Storage& storage, uint64_t end, std::vector<LogProblem>& out,
                         size_t limit) {
    Problems problems(out, limit);
    std::map<std::pair<std::string, std::string>, uint64_t> want;
    for (const auto& [key, grams] : state_.holdings()) {
      if (grams > 0) want.emplace(key, grams);
    }
    const auto index_of = [&](const std::string& lot_id) {
      const auto it = lots_.find(lot_id);
      return it == lots_.end() ? end : it->second.created_idx;
    };
    CAIRN_RETURN_IF_ERROR(storage.ScanRows(
        "SELECT lot_id, holder, mass_g FROM holdings ORDER BY lot_id, holder",
        [&](const Query& q) -> Status {
          std::pair<std::string, std::string> key(q.ColumnText(0), q.ColumnText(1));
          const int64_t got = q.ColumnInt(2);
          const auto it = want.find(key);
          const uint64_t expected = it == want.end() ? 0 : it->second;
          if (got < 0 || static_cast<uint64_t>(got) != expected) {
            problems.Add(index_of(key.first), "custody table holdings: " + key.second + " holds " +
                                                  std::to_string(got) + " g of lot " + key.first +
                                                  ", the log gives " + std::to_string(expected) +
                                                  " g");
          }
          if (it != want.end()) want.erase(it);
          return Status::Ok();
        }));
    for (const auto& [key, grams] : want) {
      problems.Add(index_of(key.first), "custody table holdings: " + key.second +
                                            " holds no row for lot " + key.first +
                                            ", the log gives " + std::to_string(grams) + " g");
    }
    return Status::Ok();
  }

  Status CompareShipments(Storage& storage, uint64_t end, std::vector<LogProblem>& out,
                          size_t limit) {
    Problems problems(out, limit);
    std::map<uint64_t, bool> seen;  // dispatch index -> the shipments row was seen
    CAIRN_RETURN_IF_ERROR(storage.ScanRows(
        "SELECT dispatch_idx, sender, recipient, received_idx FROM shipments ORDER BY "
        "dispatch_idx",
        [&](const Query& q) -> Status {
          const auto idx = static_cast<uint64_t>(q.ColumnInt(0));
          const std::string where =
              "custody table shipments: the shipment dispatched by entry " + std::to_string(idx);
          const auto it = shipments_.find(idx);
          if (it == shipments_.end()) {
            problems.Add(std::min(idx, end), where + " is stored, but that entry dispatches none");
            return Status::Ok();
          }
          const Shipment& want = it->second;
          std::optional<uint64_t> received;
          if (!q.ColumnIsNull(3)) received = static_cast<uint64_t>(q.ColumnInt(3));
          if (q.ColumnText(1) != want.sender || q.ColumnText(2) != want.recipient) {
            problems.Add(idx, where + " is stored from " + q.ColumnText(1) + " to " +
                                  q.ColumnText(2) + ", the log gives " + want.sender + " to " +
                                  want.recipient);
          }
          if (received != want.received_idx) {
            const auto name = [](std::optional<uint64_t> at) {
              return at ? "received by entry " + std::to_string(*at) : std::string("in transit");
            };
            problems.Add(idx, where + " is stored " + name(received) + ", the log gives " +
                                  name(want.received_idx));
          }
          seen[idx] = true;
          return Status::Ok();
        }));
    CAIRN_RETURN_IF_ERROR(storage.ScanRows(
        "SELECT dispatch_idx, lot_id, mass_g, received_g FROM shipment_lots ORDER BY "
        "dispatch_idx, lot_id",
        [&](const Query& q) -> Status {
          const auto idx = static_cast<uint64_t>(q.ColumnInt(0));
          const std::string lot_id = q.ColumnText(1);
          const std::string where = "custody table shipment_lots: lot " + lot_id +
                                    " in the shipment dispatched by entry " + std::to_string(idx);
          const auto shipment = shipments_.find(idx);
          const auto it = shipment == shipments_.end()
                              ? std::map<std::string, ShipmentLot>::iterator()
                              : shipment->second.lots.find(lot_id);
          if (shipment == shipments_.end() || it == shipment->second.lots.end()) {
            problems.Add(std::min(idx, end), where + " is stored, but that entry dispatches none");
            return Status::Ok();
          }
          std::optional<uint64_t> received;
          if (!q.ColumnIsNull(3)) received = static_cast<uint64_t>(q.ColumnInt(3));
          const auto mass = static_cast<uint64_t>(q.ColumnInt(2));
          if (q.ColumnInt(2) < 0 || mass != it->second.mass_g) {
            problems.Add(idx, where + ": mass_g is " + std::to_string(q.ColumnInt(2)) +
                                  ", the log gives " + std::to_string(it->second.mass_g));
          }
          if (received != it->second.received_g) {
            problems.Add(idx, where + ": received_g is " + Grams(received) + ", the log gives " +
                                  Grams(it->second.received_g));
          }
          shipment->second.lots.erase(it);
          return Status::Ok();
        }));
    for (const auto& [idx, shipment] : shipments_) {
      if (!seen.count(idx)) {
        problems.Add(idx, "custody table shipments: the shipment dispatched by entry " +
                              std::to_string(idx) + " is missing");
      }
      for (const auto& [lot_id, lot] : shipment.lots) {
        problems.Add(idx, "custody table shipment_lots: lot " + lot_id +
                              " in the shipment dispatched by entry " + std::to_string(idx) +
                              " is missing");
      }
    }
    return Status::Ok();
  }

  Status CompareLotEntries(Storage& storage, uint64_t end, std::vector<LogProblem>& out,
                           size_t limit) {
    Problems problems(out, limit);
    for (auto& [lot_id, rows] : lot_entries_) {
      std::sort(rows.begin(), rows.end());
      rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
    }
    std::map<std::string, size_t> next;  // lot -> rows of lot_entries_ matched so far
    CAIRN_RETURN_IF_ERROR(storage.ScanRows(
        "SELECT lot_id, idx, role FROM lot_entries ORDER BY lot_id, idx, role",
        [&](const Query& q) -> Status {
          const std::string lot_id = q.ColumnText(0);
          const std::pair<uint64_t, int64_t> row(static_cast<uint64_t>(q.ColumnInt(1)),
                                                 q.ColumnInt(2));
          const auto it = lot_entries_.find(lot_id);
          size_t& at = next[lot_id];
          // Rows the table lacks come before this one in the expected order.
          while (it != lot_entries_.end() && at < it->second.size() && it->second[at] < row) {
            problems.Add(it->second[at].first, "custody table lot_entries: entry " +
                                                   std::to_string(it->second[at].first) +
                                                   " (role " +
                                                   std::to_string(it->second[at].second) +
                                                   ") of lot " + lot_id + " is missing");
            ++at;
          }
          if (it != lot_entries_.end() && at < it->second.size() && it->second[at] == row) {
            ++at;
          } else {
            problems.Add(std::min(row.first, end),
                         "custody table lot_entries: entry " + std::to_string(row.first) +
                             " (role " + std::to_string(row.second) + ") of lot " + lot_id +
                             " is stored, but that entry does not touch the lot so");
          }
          return Status::Ok();
        }));
    for (const auto& [lot_id, rows] : lot_entries_) {
      for (size_t at = next[lot_id]; at < rows.size() && !problems.full(); ++at) {
        problems.Add(rows[at].first, "custody table lot_entries: entry " +
                                         std::to_string(rows[at].first) + " (role " +
                                         std::to_string(rows[at].second) + ") of lot " + lot_id +
                                         " is missing");
      }
    }
    return Status::Ok();
  }

  const ledger::ConsortiumRules rules_;
  const bool evidence_indexed_;
  const bool federation_tables_;
  std::map<std::string, uint64_t> foreign_receipts_;  // dispatch id (hex) -> receiving entry
  std::map<std::string, std::pair<uint64_t, uint64_t>> foreign_lots_;  // consumed, lost (g)
  ledger::MemoryCustodyState state_;  // lots, holdings and shipments; events from storage
  ledger::FederatedView view_;        // state_, and the events of the other logs held
  std::map<std::string, Lot> lots_;
  std::map<uint64_t, Shipment> shipments_;           // by dispatch index
  std::map<std::string, uint64_t> open_dispatches_;  // dispatch event id -> index
  std::map<std::string, std::vector<std::pair<uint64_t, int64_t>>> lot_entries_;
  std::optional<LogProblem> bad_event_;
  std::optional<LogProblem> rule_break_;
};

// ---------------------------------------------------------------------------------------------
// Tiles

// Every stored tile against the tiles of the entries' leaves in `hasher`.
Status CompareTiles(Storage& storage, const TileHasher& hasher, std::vector<LogProblem>& out,
                    size_t limit) {
  Problems problems(out, limit);
  // Tiles expected per level (the last one partial), and the ones found.
  std::vector<uint64_t> want_tiles(hasher.tile_levels() + 1, 0);
  for (uint32_t t = 1; t <= hasher.tile_levels(); ++t) {
    want_tiles[t] = (hasher.level(t).size() + kTileWidth - 1) / kTileWidth;
  }
  std::vector<uint64_t> found(want_tiles.size(), 0);
  const uint64_t end = hasher.size();
  CAIRN_RETURN_IF_ERROR(
      storage.ScanRows("SELECT id, hashes FROM tiles ORDER BY id", [&](const Query& q) -> Status {
        const auto id = static_cast<uint64_t>(q.ColumnInt(0));
        const auto level = static_cast<uint32_t>(id >> 56);
        const uint64_t index = id & ((uint64_t{1} << 56) - 1);
        const std::string name = "stored tile (level " + std::to_string(level) + ", index " +
                                 std::to_string(index) + ")";
        if (level == 0 || level >= want_tiles.size() || index >= want_tiles[level]) {
          problems.Add(end,
                       name + " lies beyond the tree of the " + std::to_string(end) + " entries");
          return Status::Ok();
        }
        ++found[level];
        const std::vector<Hash>& hashes = hasher.level(level);
        const uint64_t first = index * kTileWidth;
        const uint64_t count = std::min<uint64_t>(kTileWidth, hashes.size() - first);
        const std::string bytes = q.ColumnBlob(1);
        const uint64_t leaves_per_hash = uint64_t{1} << (kTileHeight * level);
        for (uint64_t i = 0; i < count; ++i) {
          if (bytes.size() < 32 * (i + 1) ||
              std::string_view(bytes).substr(32 * i, 32) != AsView(hashes[first + i])) {
            problems.Add((first + i) * leaves_per_hash,
                         name + ": hash " + std::to_string(i) + " (of entries [" +
                             std::to_string((first + i) * leaves_per_hash) + ", " +
                             std::to_string((first + i + 1) * leaves_per_hash) +
                             ")) differs from the hash of those entries");
            return Status::Ok();
          }
        }
        if (bytes.size() != 32 * count) {
          problems.Add(end, name + " has " + std::to_string(bytes.size()) + " bytes, want " +
                                std::to_string(32 * count));
        }
        return Status::Ok();
      }));
  for (uint32_t t = 1; t < want_tiles.size(); ++t) {
    if (found[t] != want_tiles[t]) {
      problems.Add(end, std::to_string(want_tiles[t] - std::min(found[t], want_tiles[t])) +
                            " stored tile(s) of level " + std::to_string(t) + " are missing");
    }
  }
  return Status::Ok();
}

// The first entry of [0, end) that does not pass the auditor's check (ledger::LogVerifier:
// chain, signature, authority, schema, custody), or nullopt when all of them do.
Result<std::optional<LogProblem>> FirstEntryFailingTheRulebook(Storage& storage,
                                                               const std::string& log_id,
                                                               const keys::TrustRegistry& registry,
                                                               uint64_t end) {
  ledger::LogVerifier verifier(log_id, registry);
  bool stopped = false;
  const Status scan = storage.ScanEntries([&](const StoredEntry& stored) -> Status {
    if (stored.index < end && verifier.Add(stored.index, stored.entry)) return Status::Ok();
    stopped = true;
    return Internal("stop");
  });
  if (!scan.ok() && !stopped) return scan;
  if (!verifier.failed()) return std::optional<LogProblem>();
  const auto& verdict = verifier.verdict();
  return std::optional<LogProblem>(
      LogProblem{*verdict.bad_index,
                 "the entry no longer passes the rulebook (it was changed after it "
                 "was appended): " +
                     verdict.problem.message()});
}

}  // namespace

Result<ScannedLog> ScanLog(Storage& storage, const std::string& log_id,
                           const keys::TrustRegistry& registry, bool find_all,
                           ledger::OtherLogs* others) {
  ScannedLog scanned;
  const size_t limit = find_all ? kMaxProblemsPerKind : 1;
  uint64_t expected = 0;
  Hash prev_leaf{};  // zeros before entry 0
  ledger::CompactRange tree;
  TileHasher tiles;
  CustodyTables custody(storage, ledger::RulesOf(registry), others);
  bool stopped = false;
  const auto stop = [&]() -> Status {
    stopped = true;
    return Internal("stop");
  };
  const Status scan = storage.ScanEntries([&](const StoredEntry& stored) -> Status {
    ++scanned.entries;
    if (stored.index != expected) {
      scanned.problems.push_back({expected, "entry " + std::to_string(expected) +
                                                " is missing (the next stored entry is " +
                                                std::to_string(stored.index) + ")"});
      if (!find_all) return stop();
      expected = stored.index;
    }
    const Hash leaf = ledger::LeafHash(stored.entry);
    cairn::v1::LogEntry entry;
    const auto problems = EntryProblems(stored, log_id, prev_leaf, leaf, entry);
    for (const auto& what : problems) scanned.problems.push_back({stored.index, what});
    if (!problems.empty() && !find_all) return stop();
    if (scanned.problems.empty()) {
      tree.Append(leaf);
      tiles.Append(leaf);
      CAIRN_RETURN_IF_ERROR(custody.Add(stored.index, entry));
    }
    prev_leaf = leaf;
    ++expected;
    return Status::Ok();
  });
  if (!scan.ok() && !stopped) return scan;
  scanned.sound = tree.size();
  if (stopped) return scanned;

  // The latest checkpoint this node signed: the log may grow past it, never shrink below it, and
  // its first checkpoint-size entries must keep the root it signed.
  CAIRN_ASSIGN_OR_RETURN(const auto signed_checkpoint, storage.StoredCheckpoint());
  cairn::v1::Checkpoint checkpoint;
  if (signed_checkpoint && !checkpoint.ParseFromString(signed_checkpoint->checkpoint())) {
    return DataLoss("the stored checkpoint does not parse");
  }
  // The node never signs over what it has not checked, so it must not adopt what its own
  // signature does not cover: the stored checkpoint must verify, and cover every entry.
  if (signed_checkpoint) {
    auto verified = ledger::VerifyCheckpoint(*signed_checkpoint, registry);
    if (!verified.ok() || verified->log_id() != log_id) {
      scanned.problems.push_back({std::min<uint64_t>(checkpoint.size(), scanned.entries),
                                  "the stored checkpoint does not verify under log " + log_id +
                                      "'s key: " +
                                      (verified.ok() ? "it is of log " + verified->log_id()
                                                     : verified.status().message())});
      if (!find_all) return scanned;
    }
  }
  if (signed_checkpoint && checkpoint.size() < scanned.entries) {
    scanned.problems.push_back(
        {checkpoint.size(), std::to_string(scanned.entries - checkpoint.size()) +
                                " entries past the signed checkpoint: the node signed a "
                                "checkpoint of size " +
                                std::to_string(checkpoint.size()) + ", the database holds " +
                                std::to_string(scanned.entries) +
                                " entries (entries commit with the checkpoint covering them, "
                                "so these were not written by this node)"});
    if (!find_all) return scanned;
  }
  if (!signed_checkpoint && scanned.entries > 0 && storage.opened_schema_version() >= 3) {
    scanned.problems.push_back({0, "no signed checkpoint covers the " +
                                       std::to_string(scanned.entries) + " stored entries"});
    if (!find_all) return scanned;
  }
  if (signed_checkpoint && checkpoint.size() > scanned.entries) {
    scanned.problems.push_back({scanned.entries, "log truncated: it signed a checkpoint of size " +
                                                     std::to_string(checkpoint.size()) +
                                                     ", holds " + std::to_string(scanned.entries) +
                                                     " entries"});
    if (!find_all) return scanned;
  }
  if (!scanned.problems.empty()) return scanned;

  // The entries must have the root the node signed. When they do not, one was changed (with
  // every later hash recomputed, or the chain would have shown it): find which.
  const Hash root = tree.Root();
  if (signed_checkpoint && AsView(root) != checkpoint.root_hash()) {
    CAIRN_ASSIGN_OR_RETURN(
        auto changed, FirstEntryFailingTheRulebook(storage, log_id, registry, scanned.entries));
    if (changed) {
      scanned.sound = changed->index;
      scanned.problems.push_back(std::move(*changed));
    }
    scanned.problems.push_back(
        {scanned.entries,
         "log rewritten: it signed a checkpoint of size " + std::to_string(checkpoint.size()) +
             " with root " + ToHex(checkpoint.root_hash()) + ", its entries have root " +
             ToHex(root) +
             (changed ? ""
                      : " (every entry still passes the rulebook: a signed event was "
                        "replaced by another)")});
    if (!changed) scanned.sound = 0;
    return scanned;
  }

  // The entries are the ones the node signed; everything derived from them must match them.
  CAIRN_RETURN_IF_ERROR(CompareTiles(storage, tiles, scanned.problems, limit));
  if (!scanned.problems.empty() && !find_all) return scanned;
  CAIRN_RETURN_IF_ERROR(custody.Compare(storage, scanned.entries, scanned.problems, limit));
  if (!scanned.problems.empty()) {
    // The entries are sound; the first problem names the derived data.
    scanned.sound = scanned.entries;
    if (!find_all) scanned.problems.resize(1);
    return scanned;
  }
  // Not damage (the node signed it under the rules of its time), but the operator should know.
  if (custody.rule_break()) {
    scanned.warnings.push_back({custody.rule_break()->index,
                                "the entry breaks today's consortium rules (registry version " +
                                    std::to_string(registry.version()) +
                                    "): " + custody.rule_break()->what});
  }

  auto stored_tree = TreeHashes::Load(storage, scanned.entries);
  if (!stored_tree.ok()) {
    scanned.problems.push_back(
        {scanned.entries, "stored tree hashes: " + stored_tree.status().message()});
    return scanned;
  }
  if (stored_tree->Root() != root) {
    scanned.problems.push_back(
        {scanned.entries, "stored tree hashes (tiles) of " + std::to_string(scanned.entries) +
                              " entries have root " + ToHex(stored_tree->Root()) +
                              ", the entries have root " + ToHex(root)});
    return scanned;
  }
  scanned.tree = std::move(stored_tree).value();
  return scanned;
}

Result<CleanStopScan> CheckAfterCleanStop(Storage& storage, const std::string& log_id,
                                          const keys::TrustRegistry& registry,
                                          const CleanStopState& state) {
  const auto differs = [](std::string why) { return CleanStopScan{std::nullopt, std::move(why)}; };
  if (storage.opened_schema_version() != kSchemaVersion) {
    return differs("the database was migrated from schema version " +
                   std::to_string(storage.opened_schema_version()));
  }
  CAIRN_ASSIGN_OR_RETURN(const uint64_t size, storage.Size());
  if (size != state.entries) {
    return differs("it holds " + std::to_string(size) + " entries, the record " +
                   std::to_string(state.entries));
  }
  CAIRN_ASSIGN_OR_RETURN(const auto signed_checkpoint, storage.StoredCheckpoint());
  if (!signed_checkpoint) {
    if (size == 0) return CleanStopScan{TreeHashes(), ""};
    return differs("no stored checkpoint");
  }
  auto verified = ledger::VerifyCheckpoint(*signed_checkpoint, registry);
  if (!verified.ok()) return differs("stored checkpoint: " + verified.status().message());
  if (verified->log_id() != log_id || verified->size() != size ||
      verified->root_hash() != AsView(state.root)) {
    return differs("the stored checkpoint is of log " + verified->log_id() + ", size " +
                   std::to_string(verified->size()) + ", root " + ToHex(verified->root_hash()));
  }
  auto tree = TreeHashes::Load(storage, size);
  if (!tree.ok()) return differs("stored tree hashes: " + tree.status().message());
  if (tree->Root() != state.root) {
    return differs("the stored tree hashes have root " + ToHex(tree->Root()));
  }
  return CleanStopScan{std::move(tree).value(), ""};
}

}  // namespace cairn::node
