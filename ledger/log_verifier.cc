#include "ledger/log_verifier.h"

#include "common/clock.h"
#include "ledger/custody.h"
#include "ledger/event.h"
#include "ledger/rulebook.h"

namespace cairn::ledger {

LogVerifier::LogVerifier(std::string log_id, const keys::TrustRegistry& registry, OtherLogs* others)
    : log_id_(std::move(log_id)), registry_(registry), view_(state_, others) {}

bool LogVerifier::ForgetMissing() {
  if (!failed() || verdict_.problem.code() != StatusCode::kNotFound || verdict_.unknown_key ||
      *verdict_.bad_index != tree_.size()) {
    return false;
  }
  verdict_.bad_index.reset();
  verdict_.problem = Status::Ok();
  return true;
}

void LogVerifier::Fail(uint64_t index, Status problem) {
  if (failed()) return;
  verdict_.bad_index = index;
  verdict_.problem = std::move(problem);
}

bool LogVerifier::Add(uint64_t index, std::string_view entry_bytes) {
  return Add(index, entry_bytes, std::string());
}

bool LogVerifier::Add(uint64_t index, std::string_view entry_bytes,
                      const std::string& verified_with) {
  if (failed()) return false;
  if (index != tree_.size()) {
    Fail(tree_.size(),
         DataLoss("entry " + std::to_string(tree_.size()) +
                  " is missing (next entry served has index " + std::to_string(index) + ")"));
    return false;
  }
  cairn::v1::LogEntry entry;
  if (!entry.ParseFromArray(entry_bytes.data(), static_cast<int>(entry_bytes.size()))) {
    Fail(index, DataLoss("entry bytes do not parse as a cairn.v1.LogEntry"));
    return false;
  }
  if (entry.log_id() != log_id_) {
    Fail(index,
         DataLoss("LogEntry.log_id: got \"" + entry.log_id() + "\", want \"" + log_id_ + "\""));
    return false;
  }
  if (entry.index() != index) {
    Fail(index, DataLoss("LogEntry.index: got " + std::to_string(entry.index()) + ", want " +
                         std::to_string(index)));
    return false;
  }
  if (entry.prev_entry_hash() != AsView(prev_leaf_)) {
    Fail(index, DataLoss("LogEntry.prev_entry_hash: does not match the leaf hash of entry " +
                         (index == 0 ? std::string("-1 (want 32 zero bytes)")
                                     : std::to_string(index - 1))));
    return false;
  }
  auto parsed = ParseSignedEvent(entry.event());
  if (!parsed.ok()) {
    Fail(index, parsed.status());
    return false;
  }
  parsed->signature_verified_with = verified_with;
  // The node refuses a repeated event; a log holding one twice was not written by a node.
  if (*state_.HasEvent(parsed->id_hex)) {
    Fail(index, DataLoss("event " + parsed->id_hex + " appears twice"));
    return false;
  }
  // The rulebook the node applied when it appended the entry, at the entry's appended_at.
  auto effects = CheckEvent(*parsed, registry_, log_id_, ToMicros(entry.appended_at()), view_);
  if (!effects.ok()) {
    verdict_.unknown_key = effects.status().code() == StatusCode::kUnauthenticated &&
                           registry_.FindKey(parsed->signed_event.key_id()) == nullptr;
    Fail(index, effects.status().WithPrefix("event " + parsed->id_hex));
    return false;
  }
  state_.Apply(*parsed, *effects);
  prev_leaf_ = LeafHash(entry_bytes);
  tree_.Append(prev_leaf_);
  verdict_.entries_checked = tree_.size();
  return true;
}

Result<cairn::v1::Checkpoint> VerifyCheckpoint(const cairn::v1::SignedCheckpoint& checkpoint,
                                               const keys::TrustRegistry& registry) {
  const keys::KeyRecord* key = registry.FindKey(checkpoint.key_id());
  if (key == nullptr || !key->is_log_key) {
    return Unauthenticated("SignedCheckpoint.key_id: " + checkpoint.key_id() +
                           " is not a log key in registry version " +
                           std::to_string(registry.version()));
  }
  if (!Verify(key->public_key, kCheckpointDomain, checkpoint.checkpoint(),
              checkpoint.signature())) {
    return Unauthenticated("SignedCheckpoint.signature: does not verify under log key " +
                           key->key_id);
  }
  cairn::v1::Checkpoint parsed;
  if (!parsed.ParseFromString(checkpoint.checkpoint())) {
    return InvalidArgument("SignedCheckpoint.checkpoint: not a cairn.v1.Checkpoint");
  }
  if (parsed.log_id() != key->owner) {
    return Unauthenticated("Checkpoint.log_id: \"" + parsed.log_id() +
                           "\" signed by the key of log \"" + key->owner + "\"");
  }
  const int64_t signed_at = ToMicros(parsed.timestamp());
  if (signed_at < key->valid_from_us ||
      (key->valid_until_us != 0 && signed_at >= key->valid_until_us)) {
    return PermissionDenied("SignedCheckpoint.key_id: log key " + key->key_id +
                            " was not valid at the checkpoint's time " + FormatTime(signed_at));
  }
  if (key->revoked_at_us != 0 && signed_at >= key->revoked_at_us) {
    return PermissionDenied("SignedCheckpoint.key_id: log key " + key->key_id + " revoked at " +
                            FormatTime(key->revoked_at_us));
  }
  return parsed;
}

LogVerdict LogVerifier::Finish(const cairn::v1::SignedCheckpoint& signed_checkpoint) {
  verdict_.root_hex = ToHex(tree_.Root());
  if (failed()) return verdict_;
  auto checkpoint = VerifyCheckpoint(signed_checkpoint, registry_);
  if (!checkpoint.ok()) {
    verdict_.unknown_key = registry_.FindKey(signed_checkpoint.key_id()) == nullptr;
    Fail(tree_.size(), checkpoint.status());
    return verdict_;
  }
  if (checkpoint->log_id() != log_id_) {
    Fail(tree_.size(), DataLoss("Checkpoint.log_id: got \"" + checkpoint->log_id() + "\", want \"" +
                                log_id_ + "\""));
  } else if (checkpoint->size() != tree_.size()) {
    const std::string past = checkpoint->size() < tree_.size()
                                 ? ": " + std::to_string(tree_.size() - checkpoint->size()) +
                                       " entries lie past the signed checkpoint"
                                 : "";
    Fail(std::min<uint64_t>(checkpoint->size(), tree_.size()),
         DataLoss("Checkpoint.size: " + std::to_string(checkpoint->size()) + " entries signed, " +
                  std::to_string(tree_.size()) + " served" + past));
  } else if (checkpoint->root_hash() != AsView(tree_.Root())) {
    Fail(tree_.size(),
         DataLoss("Checkpoint.root_hash: signed root " + ToHex(checkpoint->root_hash()) +
                  " differs from the entries' root " + verdict_.root_hex));
  }
  return verdict_;
}

}  // namespace cairn::ledger
