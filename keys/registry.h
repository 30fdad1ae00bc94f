// TrustRegistry: the consortium's verified participant list, as every node and auditor uses it.
//
// Loaded from a RegistryFile (every version from 1 on). Loading verifies the whole chain: version 1
// carries `threshold` valid signatures of its own registrars' keys; every version N+1 is exactly
// one higher and carries the threshold (of version N) of valid signatures by keys of version N's
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
  // Verifies the chain of `file.versions` as described above; `file.pending` (a draft) is ignored.
  // Each version must also pass ValidateRegistry, keep the consortium name of version 1 and be
  // issued no earlier than the version before it. Errors: INVALID_ARGUMENT for a malformed file,
  // UNAUTHENTICATED naming the version whose signatures fall short of the threshold, e.g.
  // "registry version 2: 1 valid registrar signature, want 2 (threshold of version 1)".
  static Result<TrustRegistry> FromFile(const cairn::v1::RegistryFile& file);
  // Reads a registry file (protobuf JSON or binary) and verifies it as FromFile does.
  static Result<TrustRegistry> Load(const std::string& path);

  uint64_t version() const { return registry_->version(); }
  const cairn::v1::Registry& registry() const { return *registry_; }
  // When the version in force was issued (microseconds since the epoch).
  int64_t issued_at_us() const;

  // nullptr when unknown.
  const cairn::v1::Participant* FindParticipant(std::string_view id) const;
  const KeyRecord* FindKey(std::string_view key_id) const;
  const cairn::v1::LogOperator* FindLog(std::string_view log_id) const;
  bool HasRole(std::string_view participant_id, cairn::v1::Role role) const;
  // The log that hosts `participant_id` (LogOperator.hosts), or nullptr when no log names it.
  const std::string* HomeLogOf(std::string_view participant_id) const;

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
  // Indexes into *registry_; the pointers stay valid because every copy of a TrustRegistry also
  // holds registry_.
  std::shared_ptr<const std::map<std::string, const cairn::v1::Participant*, std::less<>>>
      participants_;
  std::shared_ptr<const std::map<std::string, const cairn::v1::LogOperator*, std::less<>>> logs_;
  std::shared_ptr<const std::map<std::string, std::string, std::less<>>>
      homes_;  // participant -> log
};

// The number of distinct REGISTRAR participants of `signing_version` (the version whose threshold
// applies) that validly signed `signed_registry`; the caller compares it with the threshold.
//
// A signature counts when it verifies (over kRegistryDomain || signed_registry.registry, the bytes
// verbatim) under a key that `signing_version` lists for one of its REGISTRAR participants, the key
// is valid at the signed registry's issued_at and was never revoked. Each registrar counts once,
// however many of its keys signed: M-of-N means M organisations. Returns 0 when
// signed_registry.registry does not parse.
int CountRegistrarSignatures(const cairn::v1::SignedRegistry& signed_registry,
                             const cairn::v1::Registry& signing_version);

// The REGISTRAR participant of `signing_version` whose key `key_id` may sign a registry version
// issued at `issued_at_us` (the rule CountRegistrarSignatures applies). PERMISSION_DENIED naming
// the reason when it may not: unknown key, not a registrar's key, outside its validity window,
// revoked.
Result<std::string> RegistrarForKey(const cairn::v1::Registry& signing_version,
                                    std::string_view key_id, int64_t issued_at_us);

// Checks one registry version on its own: consortium set, version >= 1, participant ids
// [a-z0-9-]{2,40} and unique, country an assigned ISO 3166-1 alpha-2 code, legal name set, roles
// non-empty, known and not repeated, every key 32 bytes with key_id == KeyIdOf(public_key) and a
// window that is not empty, key ids unique across participants and logs, log ids well-formed and
// unique and not a participant id, each log's operator a participant, each log's hosts
// participants and no participant hosted by two logs, 1 <= threshold <= number of
// registrars. INVALID_ARGUMENT naming the field, e.g.
// "participants[2].country: got \"pk\", want two upper-case letters of an assigned ISO 3166-1
// alpha-2 code, like \"PK\"".
Status ValidateRegistry(const cairn::v1::Registry& registry);
// ValidateRegistry without the threshold rule: for drafts still being assembled, whose registrars
// may not all have been added yet.
Status ValidateRegistryContents(const cairn::v1::Registry& registry);

// True when `id` is a well-formed participant or log id: [a-z0-9-]{2,40}.
bool IsValidParticipantId(std::string_view id);

// "MINE", "PROCESSOR", ... ("UNSPECIFIED" for ROLE_UNSPECIFIED or an unknown number).
std::string RoleName(cairn::v1::Role role);
// Parses a role name case-insensitively ("mine", "MINE", "ROLE_MINE"). INVALID_ARGUMENT listing
// the accepted names otherwise.
Result<cairn::v1::Role> ParseRole(std::string_view name);

// Registry file I/O. Files are written as protobuf JSON (bytes fields as base64) so they can be
// read, diffed and mailed; Load accepts JSON or binary.
// ReadRegistryFile: NOT_FOUND when the file does not exist, INVALID_ARGUMENT when it is neither.
// WriteRegistryFile replaces `path` atomically (temp file, fsync, rename, fsync of the directory):
// readers see the old file or the new one, never a torn one. CreateRegistryFile does the same but
// refuses (ALREADY_EXISTS) when `path` exists, without a window in which it could replace one.
Result<cairn::v1::RegistryFile> ReadRegistryFile(const std::string& path);
// The bytes of a registry file (JSON or binary, as ReadRegistryFile reads); `path` names it in
// errors.
Result<cairn::v1::RegistryFile> ParseRegistryFile(std::string_view data, const std::string& path);
Status WriteRegistryFile(const std::string& path, const cairn::v1::RegistryFile& file);
Status CreateRegistryFile(const std::string& path, const cairn::v1::RegistryFile& file);

}  // namespace cairn::keys
