// Storage on a real SQLite file in a temp directory.
#include "node/storage.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "common/clock.h"
#include "ledger/custody.h"
#include "ledger/event.h"
#include "tests/unit/test_world.h"

namespace cairn::node {
namespace {

using cairn::testing::DispatchOf;
using cairn::testing::PakistanExtraction;
using cairn::testing::ReceiptOf;
using cairn::testing::Separation;

constexpr char kLog[] = "demo-log";
constexpr char kLot[] = "pk-fwo:CHG-2025-0001";

class StorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "cairn-storage-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/node.db";
    Reopen();
  }
  void TearDown() override {
    storage_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Reopen() {
    storage_.reset();
    auto opened = Storage::Open(path_);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    storage_ = std::move(opened).value();
    ASSERT_TRUE(storage_->BindLogId(kLog).ok());
  }

  // What the sequencer does for one event, inside an open transaction: custody check, entry
  // serialized once, inserted, effects applied. Returns the status and the entry bytes.
  Status AppendInTransaction(const cairn::v1::EventBody& body, std::string* entry_bytes = nullptr,
                             std::string* event_id = nullptr) {
    const ledger::ParsedEvent event = world_.Sign(body);
    if (event_id != nullptr) *event_id = event.id_hex;
    auto effects = ledger::CheckAndPlanCustody(event, *storage_);
    if (!effects.ok()) return effects.status();
    cairn::v1::LogEntry entry;
    entry.set_log_id(kLog);
    entry.set_index(next_index_);
    entry.set_prev_entry_hash(HashToString(prev_leaf_));
    *entry.mutable_appended_at() = FromMicros(cairn::testing::kTestNow);
    *entry.mutable_event() = event.signed_event;
    const std::string bytes = entry.SerializeAsString();
    const Hash leaf = ledger::LeafHash(bytes);
    CAIRN_RETURN_IF_ERROR(storage_->InsertEntry(next_index_, event.id, leaf, bytes));
    CAIRN_RETURN_IF_ERROR(storage_->ApplyEffects(event, next_index_, *effects));
    ++next_index_;
    prev_leaf_ = leaf;
    if (entry_bytes != nullptr) *entry_bytes = bytes;
    return Status::Ok();
  }

  // One event in its own committed transaction.
  Status Append(const cairn::v1::EventBody& body, std::string* entry_bytes = nullptr,
                std::string* event_id = nullptr) {
    auto txn = storage_->Begin();
    if (!txn.ok()) return txn.status();
    CAIRN_RETURN_IF_ERROR(AppendInTransaction(body, entry_bytes, event_id));
    return txn->Commit();
  }

  Hash IdOf(const std::string& hex) {
    Hash id{};
    const std::string bytes = *FromHex(hex);
    std::copy(bytes.begin(), bytes.end(), id.begin());
    return id;
  }

  // Runs one SQL query on a separate raw connection and returns the first column of the first
  // row as text.
  std::string RawQuery(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK);
    std::string out;
    if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0) != nullptr) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return out;
  }

  cairn::testing::TestWorld world_;
  std::string dir_;
  std::string path_;
  std::unique_ptr<Storage> storage_;
  uint64_t next_index_ = 0;
  Hash prev_leaf_{};
};

TEST_F(StorageTest, CreatesVersionedSchemaInWalMode) {
  EXPECT_EQ(RawQuery("PRAGMA user_version"), std::to_string(kSchemaVersion));
  EXPECT_EQ(RawQuery("PRAGMA journal_mode"), "wal");
  // Entries are found by event key through the EventIndex in memory, not an SQLite index.
  EXPECT_EQ(RawQuery("SELECT COUNT(*) FROM sqlite_master WHERE name = 'entries_by_event_key'"),
            "0");
  auto log_id = storage_->StoredLogId();
  ASSERT_TRUE(log_id.ok());
  EXPECT_EQ(log_id->value_or(""), kLog);
}

TEST_F(StorageTest, EntriesReadBackByteIdentical) {
  std::string first, second, first_id, second_id;
  ASSERT_TRUE(Append(PakistanExtraction(), &first, &first_id).ok());
  ASSERT_TRUE(Append(PakistanExtraction("pk-fwo:CHG-2"), &second, &second_id).ok());

  auto size = storage_->Size();
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, 2u);
  auto entries = storage_->ReadEntries(0, 10, 1 << 20);
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].index, 0u);
  EXPECT_EQ((*entries)[0].entry, first);
  EXPECT_EQ((*entries)[1].entry, second);
  EXPECT_EQ((*entries)[1].leaf_hash, HashToString(ledger::LeafHash(second)));

  auto range = storage_->ReadEntries(1, 2, 1 << 20);
  ASSERT_TRUE(range.ok());
  ASSERT_EQ(range->size(), 1u);
  EXPECT_EQ((*range)[0].entry, second);

  auto leaves = storage_->LeafHashes();
  ASSERT_TRUE(leaves.ok());
  ASSERT_EQ(leaves->size(), 2u);
  EXPECT_EQ((*leaves)[0], ledger::LeafHash(first));
}

TEST_F(StorageTest, ReadEntriesStopsAtTheByteBudgetButReturnsAtLeastOne) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(Append(PakistanExtraction("pk-fwo:L" + std::to_string(i))).ok());
  }
  auto one = storage_->ReadEntries(0, 5, 1);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->size(), 1u);
  auto none = storage_->ReadEntries(3, 3, 1 << 20);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(StorageTest, FindsEntryByEventId) {
  std::string bytes, id;
  ASSERT_TRUE(Append(PakistanExtraction(), &bytes, &id).ok());
  auto found = storage_->FindEntry(IdOf(id));
  ASSERT_TRUE(found.ok());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->index, 0u);
  EXPECT_EQ((*found)->entry, bytes);

  auto missing = storage_->FindEntry(Sha256("no such event"));
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());

  auto has = storage_->HasEvent(id);
  ASSERT_TRUE(has.ok());
  EXPECT_TRUE(*has);
  auto body = storage_->FindEventBody(id);
  ASSERT_TRUE(body.ok());
  ASSERT_TRUE(body->has_value());
  EXPECT_EQ((*body)->extraction().lot_id(), kLot);
  auto malformed = storage_->HasEvent("not hex");
  ASSERT_TRUE(malformed.ok());
  EXPECT_FALSE(*malformed);
}

TEST_F(StorageTest, EventIdsSharingTheIndexedPrefixAreToldApart) {
  // Two ids with the same first 8 bytes land on the same event_key; the full id decides.
  Hash a{}, b{};
  a.fill(0x11);
  b.fill(0x11);
  b[31] = 0x22;
  ASSERT_EQ(EventKey(a), EventKey(b));
  {
    auto txn = storage_->Begin();
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE(storage_->InsertEntry(0, a, Sha256("leaf a"), "entry a").ok());
    ASSERT_TRUE(storage_->InsertEntry(1, b, Sha256("leaf b"), "entry b").ok());
    ASSERT_TRUE(txn->Commit().ok());
  }
  auto found_b = storage_->FindEntry(b);
  ASSERT_TRUE(found_b.ok() && found_b->has_value());
  EXPECT_EQ((*found_b)->entry, "entry b");
  auto found_a = storage_->FindEntryForWrite(a);
  ASSERT_TRUE(found_a.ok() && found_a->has_value());
  EXPECT_EQ((*found_a)->index, 0u);
}

TEST_F(StorageTest, OpenTransactionFindsItsOwnEntriesAndRollbackForgetsThem) {
  Hash a{}, b{}, c{};
  a.fill(0xa1);
  b.fill(0xb2);
  c.fill(0xc3);
  {
    auto txn = storage_->Begin();
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE(storage_->InsertEntry(0, a, Sha256("leaf a"), "entry a").ok());
    auto in_txn = storage_->FindEntryForWrite(a);
    ASSERT_TRUE(in_txn.ok() && in_txn->has_value());
    EXPECT_EQ((*in_txn)->index, 0u);
    // Readers see only committed entries.
    auto reader = storage_->FindEntry(a);
    ASSERT_TRUE(reader.ok());
    EXPECT_FALSE(reader->has_value());
    {
      auto savepoint = storage_->BeginSavepoint();
      ASSERT_TRUE(savepoint.ok());
      ASSERT_TRUE(storage_->InsertEntry(1, b, Sha256("leaf b"), "entry b").ok());
      ASSERT_TRUE(storage_->FindEntryForWrite(b)->has_value());
      ASSERT_TRUE(savepoint->Rollback().ok());
    }
    EXPECT_FALSE(storage_->FindEntryForWrite(b)->has_value());
    EXPECT_TRUE(storage_->FindEntryForWrite(a)->has_value());
    // The index b had is free again, as in SQLite.
    ASSERT_TRUE(storage_->InsertEntry(1, c, Sha256("leaf c"), "entry c").ok());
    // Not committed: the destructor rolls back.
  }
  EXPECT_FALSE(storage_->FindEntryForWrite(a)->has_value());
  EXPECT_FALSE(storage_->FindEntryForWrite(c)->has_value());
  EXPECT_FALSE(storage_->FindEntry(a)->has_value());
  {
    auto txn = storage_->Begin();
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE(storage_->InsertEntry(0, c, Sha256("leaf c"), "entry c").ok());
    ASSERT_TRUE(txn->Commit().ok());
  }
  auto committed = storage_->FindEntry(c);
  ASSERT_TRUE(committed.ok() && committed->has_value());
  EXPECT_EQ((*committed)->entry, "entry c");
  EXPECT_FALSE(storage_->FindEntry(a)->has_value());
}

TEST_F(StorageTest, EventsAreFoundAgainAfterReopening) {
  std::vector<std::string> ids(3);
  ASSERT_TRUE(Append(PakistanExtraction(), nullptr, &ids[0]).ok());
  ASSERT_TRUE(Append(DispatchOf("pk-fwo", "us-usm", kLot, 5'000'000), nullptr, &ids[1]).ok());
  ASSERT_TRUE(Append(DispatchOf("pk-fwo", "us-usm", kLot, 1'000'000), nullptr, &ids[2]).ok());
  Reopen();
  for (uint64_t i = 0; i < ids.size(); ++i) {
    auto found = storage_->FindEntry(IdOf(ids[i]));
    ASSERT_TRUE(found.ok() && found->has_value()) << i;
    EXPECT_EQ((*found)->index, i);
    EXPECT_TRUE(storage_->FindEntryForWrite(IdOf(ids[i]))->has_value()) << i;
  }
  Hash unknown{};
  unknown.fill(0x5a);
  EXPECT_FALSE(storage_->FindEntry(unknown)->has_value());
}

TEST_F(StorageTest, MigratesVersion3ByDroppingTheEventKeyIndex) {
  std::string id;
  ASSERT_TRUE(Append(PakistanExtraction(), nullptr, &id).ok());
  storage_.reset();
  RawQuery("CREATE INDEX entries_by_event_key ON entries(event_key)");
  RawQuery("PRAGMA user_version = 3");
  // An auditor's read-only open of a version-3 database reads it as it is.
  StorageOptions read_only;
  read_only.read_only = true;
  {
    auto reader = Storage::Open(path_, read_only);
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    EXPECT_TRUE((*reader)->FindEntry(IdOf(id))->has_value());
  }
  EXPECT_EQ(RawQuery("PRAGMA user_version"), "3");
  Reopen();
  EXPECT_EQ(RawQuery("PRAGMA user_version"), std::to_string(kSchemaVersion));
  EXPECT_EQ(RawQuery("SELECT COUNT(*) FROM sqlite_master WHERE name = 'entries_by_event_key'"),
            "0");
  EXPECT_TRUE(storage_->FindEntry(IdOf(id))->has_value());
}

// A correction of a dispatch and an attestation of that correction belong to the lineage of the
// dispatched lot: the lot index lists them (so Trace carries them), also after migrating a
// version-4 database, which did not.
TEST_F(StorageTest, CorrectionsAndAttestationsOfEventsAreIndexedUnderTheirLots) {
  std::string dispatch_id;
  std::string correction_id;
  ASSERT_TRUE(Append(PakistanExtraction()).ok());
  ASSERT_TRUE(Append(DispatchOf("pk-fwo", "us-usm", kLot, 5'000'000), nullptr, &dispatch_id).ok());
  auto correction = cairn::testing::Body("pk-fwo");
  correction.mutable_correction()->set_event_id(dispatch_id);
  correction.mutable_correction()->set_reason("seal number misread");
  correction.mutable_correction()->set_notes("seal PK-SEAL-778813");
  ASSERT_TRUE(Append(correction, nullptr, &correction_id).ok());
  auto audit = cairn::testing::Body("sgs-lab");
  audit.mutable_attestation()->set_event_id(correction_id);
  audit.mutable_attestation()->set_kind(cairn::v1::ATTESTATION_KIND_AUDIT);
  audit.mutable_attestation()->set_result("seal verified at Houston");
  ASSERT_TRUE(Append(audit).ok());
  ASSERT_TRUE(Append(PakistanExtraction("pk-fwo:OTHER")).ok());
  const std::vector<uint64_t> lineage{0, 1, 2, 3};
  EXPECT_EQ(*storage_->EntryIndexesOfLot(kLot), lineage);
  EXPECT_EQ(*storage_->EntryIndexesOfLot("pk-fwo:OTHER"), (std::vector<uint64_t>{4}));
  EXPECT_EQ(RawQuery("SELECT role FROM lot_entries WHERE idx = 2"),
            std::to_string(static_cast<int>(LotRole::kCorrected)));

  storage_.reset();
  RawQuery("DELETE FROM lot_entries WHERE idx IN (2, 3)");
  RawQuery("PRAGMA user_version = 4");
  Reopen();
  EXPECT_EQ(RawQuery("PRAGMA user_version"), std::to_string(kSchemaVersion));
  EXPECT_EQ(*storage_->EntryIndexesOfLot(kLot), lineage);
}

TEST_F(StorageTest, EffectsMoveHoldingsThroughDispatchReceiptAndTransformation) {
  ASSERT_TRUE(Append(PakistanExtraction()).ok());
  EXPECT_EQ(*storage_->Holding(kLot, "pk-fwo"), 20'000'000u);
  auto lot = storage_->FindLot(kLot);
  ASSERT_TRUE(lot.ok() && lot->has_value());
  EXPECT_EQ((*lot)->creator, "pk-fwo");
  EXPECT_EQ((*lot)->created_mass_g, 20'000'000u);

  std::string dispatch;
  ASSERT_TRUE(Append(DispatchOf("pk-fwo", "us-usm", kLot, 8'000'000), nullptr, &dispatch).ok());
  EXPECT_EQ(*storage_->Holding(kLot, "pk-fwo"), 12'000'000u);
  auto shipment = storage_->FindShipment(dispatch);
  ASSERT_TRUE(shipment.ok() && shipment->has_value());
  EXPECT_EQ((*shipment)->recipient, "us-usm");
  EXPECT_EQ((*shipment)->lots.at(kLot), 8'000'000u);
  EXPECT_FALSE((*shipment)->received);

  auto in_transit = storage_->GetLotState(kLot);
  ASSERT_TRUE(in_transit.ok() && in_transit->has_value());
  ASSERT_EQ((*in_transit)->in_transit_size(), 1);
  EXPECT_EQ((*in_transit)->in_transit(0).dispatch_event_id(), dispatch);
  EXPECT_EQ((*in_transit)->in_transit(0).mass_g(), 8'000'000u);
  EXPECT_EQ((*in_transit)->remaining_mass_g(), 20'000'000u);

  // 7.9 t of 8 t arrive: 100 kg transit loss.
  ASSERT_TRUE(Append(ReceiptOf("us-usm", dispatch, kLot, 7'900'000)).ok());
  EXPECT_EQ(*storage_->Holding(kLot, "us-usm"), 7'900'000u);
  ASSERT_TRUE((*storage_->FindShipment(dispatch))->received);

  ASSERT_TRUE(Append(Separation("us-usm", kLot, 7'900'000, "us-usm:NDPR-1", 1'000'000)).ok());
  EXPECT_EQ(*storage_->Holding(kLot, "us-usm"), 0u);
  EXPECT_EQ(*storage_->Holding("us-usm:NDPR-1", "us-usm"), 1'000'000u);

  auto state = storage_->GetLotState(kLot);
  ASSERT_TRUE(state.ok() && state->has_value());
  const cairn::v1::LotState& s = **state;
  EXPECT_EQ(s.creator(), "pk-fwo");
  EXPECT_EQ(s.material(), "REE concentrate");
  EXPECT_EQ(s.created_mass_g(), 20'000'000u);
  ASSERT_EQ(s.holdings_size(), 1);  // us-usm's emptied holding is gone
  EXPECT_EQ(s.holdings(0).holder(), "pk-fwo");
  EXPECT_EQ(s.holdings(0).mass_g(), 12'000'000u);
  EXPECT_EQ(s.in_transit_size(), 0);
  EXPECT_EQ(s.consumed_mass_g(), 7'900'000u);
  EXPECT_EQ(s.transit_loss_mass_g(), 100'000u);
  EXPECT_EQ(s.remaining_mass_g(), 12'000'000u);
  // The composition is the one the creating event declared.
  EXPECT_EQ(s.composition_ppm().at("Nd"),
            PakistanExtraction().extraction().composition_ppm().at("Nd"));

  auto oxide = storage_->GetLotState("us-usm:NDPR-1");
  ASSERT_TRUE(oxide.ok() && oxide->has_value());
  EXPECT_EQ((*oxide)->composition_ppm().at("Pr"), Separation("us-usm", kLot, 1, "us-usm:NDPR-1", 1)
                                                      .transformation()
                                                      .outputs(0)
                                                      .composition_ppm()
                                                      .at("Pr"));
  auto unknown = storage_->GetLotState("pk-fwo:NOPE");
  ASSERT_TRUE(unknown.ok());
  EXPECT_FALSE(unknown->has_value());
}

TEST_F(StorageTest, LotIndexListsEveryEntryThatTouchesALotInOrder) {
  ASSERT_TRUE(Append(PakistanExtraction()).ok());                // 0 created
  ASSERT_TRUE(Append(PakistanExtraction("pk-fwo:OTHER")).ok());  // 1
  std::string dispatch;
  ASSERT_TRUE(Append(DispatchOf("pk-fwo", "us-usm", kLot, 8'000'000), nullptr, &dispatch).ok());
  ASSERT_TRUE(Append(ReceiptOf("us-usm", dispatch, kLot, 8'000'000)).ok());  // 3 received
  cairn::v1::EventBody assay = cairn::testing::Body("sgs-lab");
  assay.mutable_attestation()->set_lot_id(kLot);
  assay.mutable_attestation()->set_kind(cairn::v1::ATTESTATION_KIND_ASSAY);
  ASSERT_TRUE(Append(assay).ok());  // 4 attested
  ASSERT_TRUE(Append(Separation("us-usm", kLot, 8'000'000, "us-usm:NDPR-1", 1'000'000)).ok());

  auto lot = storage_->EntryIndexesOfLot(kLot);
  ASSERT_TRUE(lot.ok()) << lot.status().ToString();
  EXPECT_EQ(*lot, (std::vector<uint64_t>{0, 2, 3, 4, 5}));
  auto output = storage_->EntryIndexesOfLot("us-usm:NDPR-1");
  ASSERT_TRUE(output.ok());
  EXPECT_EQ(*output, (std::vector<uint64_t>{5}));
  auto unknown = storage_->EntryIndexesOfLot("pk-fwo:NOPE");
  ASSERT_TRUE(unknown.ok());
  EXPECT_TRUE(unknown->empty());
  // One row per (lot, entry, role).
  EXPECT_EQ(RawQuery("SELECT COUNT(*) FROM lot_entries"), "7");
  EXPECT_EQ(RawQuery("SELECT role FROM lot_entries WHERE lot_id = 'pk-fwo:CHG-2025-0001' AND "
                     "idx = 5"),
            std::to_string(static_cast<int>(LotRole::kConsumed)));

  auto entry = storage_->ReadEntry(4);
  ASSERT_TRUE(entry.ok() && entry->has_value());
  EXPECT_EQ((*entry)->index, 4u);
  auto beyond = storage_->ReadEntry(6);
  ASSERT_TRUE(beyond.ok());
  EXPECT_FALSE(beyond->has_value());
}

TEST_F(StorageTest, LotIndexOfARefusedEventIsRolledBackWithIt) {
  {
    auto txn = storage_->Begin();
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE(AppendInTransaction(PakistanExtraction()).ok());
  }  // rolled back
  auto lot = storage_->EntryIndexesOfLot(kLot);
  ASSERT_TRUE(lot.ok());
  EXPECT_TRUE(lot->empty());
}

TEST_F(StorageTest, MigratesAVersion1DatabaseByIndexingItsStoredEntries) {
  ASSERT_TRUE(Append(PakistanExtraction()).ok());
  ASSERT_TRUE(Append(DispatchOf("pk-fwo", "us-usm", kLot, 5'000'000)).ok());
  storage_.reset();
  // What a version-1 cairnd left behind: no lot index, no stored tree.
  RawQuery("DROP TABLE lot_entries");
  RawQuery("DROP TABLE tiles");
  RawQuery(
      "CREATE TABLE lots_v1(lot_id TEXT PRIMARY KEY, creator TEXT NOT NULL, material TEXT NOT "
      "NULL, created_mass_g INTEGER NOT NULL, created_idx INTEGER NOT NULL, composition BLOB NOT "
      "NULL, consumed_g INTEGER NOT NULL, transit_loss_g INTEGER NOT NULL)");
  RawQuery("INSERT INTO lots_v1 SELECT * FROM lots");
  RawQuery("DROP TABLE lots");
  RawQuery("ALTER TABLE lots_v1 RENAME TO lots");
  ASSERT_EQ(RawQuery("SELECT COUNT(*) FROM sqlite_master WHERE name = 'sqlite_autoindex_lots_1'"),
            "1");
  RawQuery("PRAGMA user_version = 1");
  ASSERT_EQ(RawQuery("PRAGMA user_version"), "1");

  StorageOptions read_only;
  read_only.read_only = true;
  auto report = Storage::Open(path_, read_only);
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.status().message().find("schema version 1"), std::string::npos)
      << report.status().message();

  Reopen();
  EXPECT_EQ(RawQuery("PRAGMA user_version"), std::to_string(kSchemaVersion));
  auto lot = storage_->EntryIndexesOfLot(kLot);
  ASSERT_TRUE(lot.ok()) << lot.status().ToString();
  EXPECT_EQ(*lot, (std::vector<uint64_t>{0, 1}));
  // New appends keep indexing.
  next_index_ = 2;
  ASSERT_TRUE(Append(DispatchOf("pk-fwo", "us-usm", kLot, 1'000'000)).ok());
  EXPECT_EQ(*storage_->EntryIndexesOfLot(kLot), (std::vector<uint64_t>{0, 1, 2}));
  // Lots survive the move to a WITHOUT ROWID table; the tree's tiles exist (none needed yet).
  EXPECT_EQ(*storage_->Holding(kLot, "pk-fwo"), 14'000'000u);
  EXPECT_EQ((*storage_->GetLotState(kLot))->created_mass_g(), 20'000'000u);
  EXPECT_EQ(RawQuery("SELECT COUNT(*) FROM sqlite_master WHERE name = 'sqlite_autoindex_lots_1'"),
            "0");
  EXPECT_EQ(RawQuery("SELECT COUNT(*) FROM tiles"), "0");
}

TEST_F(StorageTest, SavepointRollbackLeavesNothing) {
  {
    auto txn = storage_->Begin();
    ASSERT_TRUE(txn.ok());
    auto savepoint = storage_->BeginSavepoint();
    ASSERT_TRUE(savepoint.ok());
    ASSERT_TRUE(AppendInTransaction(PakistanExtraction()).ok());
    EXPECT_EQ(*storage_->Holding(kLot, "pk-fwo"), 20'000'000u);  // visible inside
    ASSERT_TRUE(savepoint->Rollback().ok());
    EXPECT_EQ(*storage_->Holding(kLot, "pk-fwo"), 0u);
    EXPECT_TRUE(storage_->InTransaction());

    // A later request of the same transaction still commits.
    next_index_ = 0;
    prev_leaf_ = Hash{};
    auto second = storage_->BeginSavepoint();
    ASSERT_TRUE(second.ok());
    ASSERT_TRUE(AppendInTransaction(PakistanExtraction("pk-fwo:KEPT")).ok());
    ASSERT_TRUE(second->Release().ok());
    ASSERT_TRUE(txn->Commit().ok());
  }
  EXPECT_EQ(*storage_->Size(), 1u);
  EXPECT_FALSE(storage_->FindLot(kLot)->has_value());
  EXPECT_TRUE(storage_->FindLot("pk-fwo:KEPT")->has_value());
  EXPECT_EQ(RawQuery("SELECT COUNT(*) FROM holdings"), "1");
}

TEST_F(StorageTest, UncommittedTransactionRollsBackWhenDropped) {
  {
    auto txn = storage_->Begin();
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE(AppendInTransaction(PakistanExtraction()).ok());
  }
  EXPECT_FALSE(storage_->InTransaction());
  EXPECT_EQ(*storage_->Size(), 0u);
  EXPECT_EQ(*storage_->SizeForWrite(), 0u);
  EXPECT_FALSE(storage_->FindLot(kLot)->has_value());
}

TEST_F(StorageTest, ReopenKeepsEverything) {
  std::string bytes, id;
  ASSERT_TRUE(Append(PakistanExtraction(), &bytes, &id).ok());
  ASSERT_TRUE(Append(DispatchOf("pk-fwo", "us-usm", kLot, 5'000'000)).ok());
  Reopen();
  EXPECT_EQ(*storage_->Size(), 2u);
  auto found = storage_->FindEntry(IdOf(id));
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->entry, bytes);
  EXPECT_EQ(*storage_->Holding(kLot, "pk-fwo"), 15'000'000u);
  EXPECT_EQ((*storage_->GetLotState(kLot))->in_transit_size(), 1);
}

TEST_F(StorageTest, RefusesDatabaseOfAnotherLog) {
  const Status other = storage_->BindLogId("other-log");
  EXPECT_EQ(other.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(other.message().find("belongs to log demo-log, not other-log"), std::string::npos)
      << other.message();
  Reopen();  // and the right log still opens
}

TEST_F(StorageTest, SecondWriterIsRefusedWhileTheFirstIsOpen) {
  auto second = Storage::Open(path_);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(second.status().message().find("in use"), std::string::npos);

  StorageOptions read_only;
  read_only.read_only = true;
  auto reader = Storage::Open(path_, read_only);  // a report may read beside the node
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_TRUE((*reader)->BindLogId(kLog).ok());
}

TEST_F(StorageTest, RefusesSchemaFromTheFuture) {
  storage_.reset();
  RawQuery("PRAGMA user_version = 99");
  auto opened = Storage::Open(path_);
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.status().message().find("schema version 99"), std::string::npos);
}

TEST_F(StorageTest, HoldingThatWouldGoNegativeIsRefused) {
  ASSERT_TRUE(Append(PakistanExtraction()).ok());
  auto txn = storage_->Begin();
  ASSERT_TRUE(txn.ok());
  const ledger::ParsedEvent event = world_.Sign(DispatchOf("pk-fwo", "us-usm", kLot, 1));
  ledger::CustodyEffects effects;
  effects.holding_changes.emplace_back(kLot, "pk-fwo", -30'000'000);
  EXPECT_EQ(storage_->ApplyEffects(event, 1, effects).code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace cairn::node
