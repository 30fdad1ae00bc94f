// TrustRegistry: the consortium's verified participant list, as every node and auditor uses it.
//
// Loaded from a RegistryFile (every version from 1 on). Loading verifies the whole chain: version 1
// carries `threshold` valid signatures of its own registrars' keys; every version N+1 is exactly one
// higher and carries the threshold (of version N) of valid signatures by keys of version N's
// registrars. The latest verified version is the one in force. Immutable after construction, so
// safe to share across threads without a lock.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/v1/registry.pb.h"
#include "common/status.h"

namespace cairn::keys {

// A key the registry lists, with its owner.
struct KeyRecord {
  std::string key_id;
  std::string public_key;  // 32 raw bytes
  int64_t valid_from_us = 0;
  int64_t valid_until_us = 0;  // 0: no end
  int64_t revoked_at_us = 0;   // 0: not revoked
  std::string owner;           // participant id, or log id for a log key
  bool is_log_key = false;
};

class TrustRegistry {
 public:
  // Verifies the chain of `file.versions` as described above. Errors: INVALID_ARGUMENT for a
  // malformed file, UNAUTHENTICATED naming the version whose signatures fall short of the threshold.
  static Result<TrustRegistry> FromFile(const cairn::v1::RegistryFile& file);
  // Reads a registry file (protobuf JSON or binary) and verifies it as FromFile does.
  static Result<TrustRegistry> Load(const std::string& path);

  uint64_t version() const { return registry_->version(); }
  const cairn::v1::Registry& registry() const { return *registry_; }

  // nullptr when unknown.
  const cairn::v1::Participant* FindParticipant(std::string_view id) const;
  const KeyRecord* FindKey(std::string_view key_id) const;
  const cairn::v1::LogOperator* FindLog(std::string_view log_id) const;
  bool HasRole(std::string_view participant_id, cairn::v1::Role role) const;

  // Checks that `key` may sign for `author` an event that occurred at `occurred_at_us` and was
  // (or is being) appended at `appended_at_us`: the key belongs to the author (PERMISSION_DENIED
  // otherwise), its validity window covers occurred_at (PERMISSION_DENIED), and it was not revoked
  // at or before appended_at or occurred_at (PERMISSION_DENIED).
  Status CheckKeyFor(const KeyRecord& key, std::string_view author, int64_t occurred_at_us,
                     int64_t appended_at_us) const;

 private:
  TrustRegistry() = default;

  std::shared_ptr<const cairn::v1::Registry> registry_;
  std::shared_ptr<const std::map<std::string, KeyRecord, std::less<>>> keys_;
};

// Whether `signed_registry` carries at least `threshold` valid signatures by distinct keys of
// `registrars` (the REGISTRAR participants of the signing version). Returns the number of valid
// signatures found.
int CountRegistrarSignatures(const cairn::v1::SignedRegistry& signed_registry,
                             const cairn::v1::Registry& signing_version);

// Registry file I/O. Files are written as protobuf JSON (bytes fields as base64) so they can be
// read, diffed and mailed; Load accepts JSON or binary.
Result<cairn::v1::RegistryFile> ReadRegistryFile(const std::string& path);
Status WriteRegistryFile(const std::string& path, const cairn::v1::RegistryFile& file);

}  // namespace cairn::keys
