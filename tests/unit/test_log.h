// TestLog: a log built in memory exactly as a node builds one — chained entries, RFC 9162 tree,
// checkpoint signed with the log key — so tests can make evidence bundles a misbehaving node might
// serve (events the real node would refuse, entries with chosen append times) and check that the
// auditor's verifier catches them. Uses the same ledger functions as the node; no shortcuts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cairn/v1/bundle.pb.h"
#include "common/clock.h"
#include "ledger/event.h"
#include "ledger/merkle.h"
#include "ledger/proofs.h"
#include "tests/unit/test_world.h"

namespace cairn::testing {

class TestLog {
 public:
  explicit TestLog(TestKey log_key, std::string log_id = "demo-log")
      : log_key_(std::move(log_key)), log_id_(std::move(log_id)) {}

  // Appends `event` at `appended_at_us`; returns its index.
  uint64_t Append(const ledger::ParsedEvent& event, int64_t appended_at_us = kTestNow) {
    cairn::v1::LogEntry entry;
    entry.set_log_id(log_id_);
    entry.set_index(entries_.size());
    entry.set_prev_entry_hash(leaves_.empty() ? std::string(32, '\0')
                                              : HashToString(leaves_.back()));
    *entry.mutable_appended_at() = FromMicros(appended_at_us);
    *entry.mutable_event() = event.signed_event;
    std::string bytes = entry.SerializeAsString();
    leaves_.push_back(ledger::LeafHash(bytes));
    entries_.push_back(std::move(bytes));
    ids_.push_back(event.id_hex);
    return entries_.size() - 1;
  }

  // A bundle for `lot_id` holding the entries at `indexes` (every entry when empty), each with its
  // inclusion proof against a checkpoint of the whole log signed at `signed_at_us`.
  cairn::v1::EvidenceBundle Bundle(const std::string& lot_id, std::vector<uint64_t> indexes = {},
                                   int64_t signed_at_us = kTestNow + 1000000) const {
    if (indexes.empty()) {
      for (uint64_t i = 0; i < entries_.size(); ++i) indexes.push_back(i);
    }
    cairn::v1::EvidenceBundle bundle;
    bundle.set_format_version(1);
    bundle.set_lot_id(lot_id);
    bundle.set_direction(cairn::v1::TRACE_DIRECTION_BACKWARD);
    bundle.set_registry_version(1);
    cairn::v1::Checkpoint checkpoint;
    checkpoint.set_log_id(log_id_);
    checkpoint.set_size(entries_.size());
    checkpoint.set_root_hash(HashToString(ledger::RootOf(leaves_)));
    *checkpoint.mutable_timestamp() = FromMicros(signed_at_us);
    *bundle.add_checkpoints() =
        ledger::SignCheckpoint(checkpoint, log_key_.key_id, log_key_.secret_key);
    ledger::LeafVectorSource source(leaves_);
    for (uint64_t index : indexes) {
      auto* bundled = bundle.add_entries();
      bundled->set_log_id(log_id_);
      bundled->set_index(index);
      bundled->set_entry(entries_[index]);
      auto* inclusion = bundled->mutable_inclusion();
      inclusion->set_leaf_index(index);
      inclusion->set_tree_size(entries_.size());
      auto proof = ledger::InclusionProof(source, index, entries_.size());
      EXPECT_TRUE(proof.ok());
      for (const Hash& h : *proof) inclusion->add_hashes(HashToString(h));
    }
    return bundle;
  }

  const std::string& id(uint64_t index) const { return ids_[index]; }
  size_t size() const { return entries_.size(); }

 private:
  const TestKey log_key_;
  const std::string log_id_;
  std::vector<std::string> entries_;
  std::vector<Hash> leaves_;
  std::vector<std::string> ids_;
};

}  // namespace cairn::testing
