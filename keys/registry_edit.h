// Building and changing registry drafts: what `cairn registry` does, as pure functions.
//
// A RegistryFile holds every version in force and at most one draft of the next version
// (`pending`). Each edit takes the file by const reference and returns the changed copy, so a
// failed edit leaves nothing half-done. An edit on a file without a draft first opens one: a copy
// of the latest version with version + 1 and no signatures. Every edit stamps the draft's
// issued_at with `now_us` (never earlier than the previous version's), because the registrars'
// signatures are checked against the keys valid at issued_at. A change to a draft that already
// carries signatures invalidates them: they are dropped and the result says how many, so the
// caller can tell the user that the draft must be signed again.
//
// Before editing or signing, the versions already in the file are verified (TrustRegistry::
// FromFile): nobody should build on, or sign on top of, a chain that does not verify (DATA_LOSS
// with the reason).
//
// Stateless functions; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/v1/registry.pb.h"
#include "common/status.h"
#include "keys/key_file.h"

namespace cairn::keys {

// The outcome of an edit.
struct DraftEdit {
  cairn::v1::RegistryFile file;  // the input with the changed draft
  uint64_t version = 0;          // the draft's version number
  int cleared_signatures = 0;    // signatures the change invalidated (0 when there were none)
};

// A public key to add, and from when it speaks (for events that occurred at or after then).
struct NewKey {
  std::string public_key;  // 32 raw bytes
  int64_t valid_from_us = 0;
};

struct ParticipantSpec {
  std::string id;          // [a-z0-9-]{2,40}
  std::string legal_name;  // not empty
  std::string country;     // ISO 3166-1 alpha-2, upper case
  std::vector<cairn::v1::Role> roles;
};

// A new registry file whose draft is version 1 of `consortium`, with no participants yet, issued
// at `now_us`, needing `threshold` registrar signatures. INVALID_ARGUMENT for an empty or overlong
// consortium name or a threshold of 0.
Result<cairn::v1::RegistryFile> InitRegistry(const std::string& consortium, uint32_t threshold,
                                             int64_t now_us);

// Adds a participant, with `key` when given. Roles are de-duplicated. INVALID_ARGUMENT for a
// malformed field or key, ALREADY_EXISTS when the id (or the key) is already in the draft.
Result<DraftEdit> AddParticipant(const cairn::v1::RegistryFile& file, const ParticipantSpec& spec,
                                 const std::optional<NewKey>& key, int64_t now_us);

// Adds another key to an existing participant (NOT_FOUND when there is none).
Result<DraftEdit> AddParticipantKey(const cairn::v1::RegistryFile& file,
                                    std::string_view participant, const NewKey& key,
                                    int64_t now_us);

// Adds a log (a node's checkpoint key) run by participant `operator_id` (NOT_FOUND when it is not a
// participant). ALREADY_EXISTS when the log is listed; use RotateKey to change its key. `hosts`
// are the participants whose home log it is (NOT_FOUND for one that is not a participant,
// ALREADY_EXISTS for one another log hosts).
Result<DraftEdit> AddLog(const cairn::v1::RegistryFile& file, std::string_view log_id,
                         std::string_view operator_id, const NewKey& key, int64_t now_us,
                         const std::vector<std::string>& hosts = {});

// Rotates the key of `owner` (a participant, or a log's checkpoint key) at `at_us`: every key of
// the owner that is open at that time (no valid_until, or one after at, and not revoked) ends at
// at_us, and `new_public_key` is added valid from at_us. Events that occurred before at_us still
// verify under the old key; later ones need the new key. FAILED_PRECONDITION when an open key
// starts at or after at_us (its window would be empty), NOT_FOUND for an unknown owner.
Result<DraftEdit> RotateKey(const cairn::v1::RegistryFile& file, std::string_view owner,
                            std::string_view new_public_key, int64_t at_us, int64_t now_us);

// Revokes key `key_id` (of a participant or a log) at `at_us`: nothing appended at or after that
// time is accepted under it. NOT_FOUND for an unknown key, FAILED_PRECONDITION when it is already
// revoked.
Result<DraftEdit> RevokeKey(const cairn::v1::RegistryFile& file, std::string_view key_id,
                            int64_t at_us, int64_t now_us);

// Sets the draft's threshold: how many registrar signatures the version after it needs (and, for
// version 1, the draft itself). It must be 1..the number of registrars when the draft is signed.
Result<DraftEdit> SetThreshold(const cairn::v1::RegistryFile& file, uint32_t threshold,
                               int64_t now_us);

// Sets the draft's consortium rules that every node and auditor applies: the receipt tolerance in
// parts per million (0..1,000,000). INVALID_ARGUMENT for a value out of range.
Result<DraftEdit> SetReceiptTolerance(const cairn::v1::RegistryFile& file, uint32_t ppm,
                                      int64_t now_us);

// The outcome of a signature.
struct SignOutcome {
  cairn::v1::RegistryFile file;  // with the signature; the draft moved into versions when in force
  uint64_t version = 0;          // the version signed
  std::string registrar;         // whose signature it is
  int signatures = 0;            // valid registrar signatures the draft now carries
  uint32_t threshold = 0;        // how many it needs
  bool in_force = false;         // the threshold was met: it is now the latest version
};

// Signs the draft with `key`. The signing key must be a key of a REGISTRAR participant of the
// version whose threshold applies (the latest version in force, or the draft itself for version 1)
// that is valid at the draft's issued_at and not revoked. Errors: FAILED_PRECONDITION when there is
// no draft or the draft does not validate (ValidateRegistry) or does not follow the latest version;
// PERMISSION_DENIED for a key that may not sign; ALREADY_EXISTS when that registrar already signed.
// When the threshold is met the draft becomes the latest version and `pending` is cleared.
Result<SignOutcome> SignPending(const cairn::v1::RegistryFile& file, const SigningKey& key);

// The draft as a Registry, or NOT_FOUND when the file has none; INVALID_ARGUMENT when its bytes do
// not parse.
Result<cairn::v1::Registry> PendingDraft(const cairn::v1::RegistryFile& file);

// How many distinct registrars validly signed the draft so far, and how many it needs (for display;
// 0 of 0 when there is no draft or no version whose threshold applies).
struct DraftSignatures {
  int valid = 0;
  uint32_t threshold = 0;
};
DraftSignatures CountDraftSignatures(const cairn::v1::RegistryFile& file);

}  // namespace cairn::keys
