// TrustRegistry: verification of the registry chain, the key index, and registry file I/O.
#include "keys/registry.h"

#include <fcntl.h>
#include <google/protobuf/util/json_util.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>
#include <utility>

#include "common/clock.h"
#include "common/crypto.h"
#include "common/file.h"
#include "common/reference_data.h"
#include "keys/file_descriptor.h"

namespace cairn::keys {
namespace {

using cairn::v1::LogOperator;
using cairn::v1::Participant;
using cairn::v1::PublicKey;
using cairn::v1::Registry;
using cairn::v1::RegistryFile;
using cairn::v1::Role;
using cairn::v1::SignedRegistry;

// Registry files are small (a few hundred participants at most); anything far larger is not one.
constexpr size_t kMaxRegistryFileBytes = 64 << 20;

// Timestamps a registry may carry: 1970-01-01 up to 9999-12-31, as RFC 3339 can spell them.
constexpr int64_t kMaxTimestampSeconds = 253402300799;

struct RoleNameEntry {
  Role role;
  const char* name;
};
constexpr std::array<RoleNameEntry, 8> kRoleNames = {{
    {cairn::v1::ROLE_MINE, "MINE"},
    {cairn::v1::ROLE_PROCESSOR, "PROCESSOR"},
    {cairn::v1::ROLE_TRADER, "TRADER"},
    {cairn::v1::ROLE_LOGISTICS, "LOGISTICS"},
    {cairn::v1::ROLE_BUYER, "BUYER"},
    {cairn::v1::ROLE_LAB, "LAB"},
    {cairn::v1::ROLE_AUDITOR, "AUDITOR"},
    {cairn::v1::ROLE_REGISTRAR, "REGISTRAR"},
}};

// Built by appending: gcc 12's -Wrestrict misfires on "literal" + std::string&& in Release.
std::string Quoted(std::string_view s) {
  std::string quoted;
  quoted.reserve(s.size() + 2);
  quoted += '"';
  quoted += s;
  quoted += '"';
  return quoted;
}

std::string Plural(int64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

bool IsRegistrar(const Participant& p) {
  for (int r : p.roles()) {
    if (r == cairn::v1::ROLE_REGISTRAR) return true;
  }
  return false;
}

Status ValidateTimestamp(const google::protobuf::Timestamp& ts, const std::string& field) {
  if (ts.seconds() < 0 || ts.seconds() > kMaxTimestampSeconds || ts.nanos() < 0 ||
      ts.nanos() > 999999999) {
    return InvalidArgument(field + ": got seconds=" + std::to_string(ts.seconds()) + " nanos=" +
                           std::to_string(ts.nanos()) + ", want a time between 1970 and 9999");
  }
  return Status::Ok();
}

Status ValidateKey(const PublicKey& key, const std::string& field) {
  if (key.public_key().size() != kPublicKeyBytes) {
    return InvalidArgument(field + ".public_key: got " + std::to_string(key.public_key().size()) +
                           " bytes, want 32");
  }
  const std::string want_id = KeyIdOf(key.public_key());
  if (key.key_id() != want_id) {
    return InvalidArgument(field + ".key_id: got " + Quoted(key.key_id()) + ", want " +
                           Quoted(want_id) + " (first 16 bytes of SHA-256 of public_key, hex)");
  }
  CAIRN_RETURN_IF_ERROR(ValidateTimestamp(key.valid_from(), field + ".valid_from"));
  CAIRN_RETURN_IF_ERROR(ValidateTimestamp(key.valid_until(), field + ".valid_until"));
  CAIRN_RETURN_IF_ERROR(ValidateTimestamp(key.revoked_at(), field + ".revoked_at"));
  const int64_t from = ToMicros(key.valid_from());
  const int64_t until = ToMicros(key.valid_until());
  if (until != 0 && until <= from) {
    return InvalidArgument(field + ".valid_until: " + FormatTime(until) +
                           " is not after valid_from " + FormatTime(from));
  }
  return Status::Ok();
}

// Records `key_id` as seen at `field`; INVALID_ARGUMENT when it was seen before.
Status NoteKeyId(std::map<std::string, std::string>& seen, const std::string& key_id,
                 const std::string& field) {
  auto [it, inserted] = seen.emplace(key_id, field);
  if (!inserted) {
    return InvalidArgument(field + ".key_id: " + key_id + " is listed twice (also " + it->second +
                           "); a key speaks for one participant or log");
  }
  return Status::Ok();
}

// A key of a registrar of the signing version, and whose it is.
struct RegistrarKey {
  const Participant* registrar = nullptr;
  const PublicKey* key = nullptr;
};

Result<RegistrarKey> FindRegistrarKey(const Registry& signing, std::string_view key_id,
                                      int64_t issued_at_us) {
  const std::string version = std::to_string(signing.version());
  for (const Participant& p : signing.participants()) {
    for (const PublicKey& k : p.keys()) {
      if (k.key_id() != key_id) continue;
      if (!IsRegistrar(p)) {
        return PermissionDenied("key " + std::string(key_id) + " belongs to " + p.id() +
                                ", which is not a REGISTRAR in registry version " + version);
      }
      const int64_t revoked = ToMicros(k.revoked_at());
      if (revoked != 0) {
        return PermissionDenied("key " + std::string(key_id) + " of registrar " + p.id() +
                                " was revoked at " + FormatTime(revoked) + " (registry version " +
                                version + ")");
      }
      const int64_t from = ToMicros(k.valid_from());
      const int64_t until = ToMicros(k.valid_until());
      if (issued_at_us < from) {
        return PermissionDenied("key " + std::string(key_id) + " of registrar " + p.id() +
                                " is valid from " + FormatTime(from) +
                                ", after the signed version's issued_at " +
                                FormatTime(issued_at_us));
      }
      if (until != 0 && issued_at_us >= until) {
        return PermissionDenied("key " + std::string(key_id) + " of registrar " + p.id() +
                                " is valid until " + FormatTime(until) +
                                ", not after the signed version's issued_at " +
                                FormatTime(issued_at_us));
      }
      return RegistrarKey{&p, &k};
    }
  }
  for (const LogOperator& log : signing.logs()) {
    for (const PublicKey& k : log.keys()) {
      if (k.key_id() == key_id) {
        return PermissionDenied("key " + std::string(key_id) + " is the checkpoint key of log " +
                                log.log_id() + ", not a registrar key (registry version " +
                                version + ")");
      }
    }
  }
  return PermissionDenied("key " + std::string(key_id) + " is not in registry version " + version);
}

// The registrars of `signing` whose signatures on `signed_registry` (issued at `issued_at_us`)
// verify. When `first_rejection` is given, it receives why the first signature that did not count
// was rejected (empty when all counted).
std::set<std::string> ValidSigners(const SignedRegistry& signed_registry, const Registry& signing,
                                   int64_t issued_at_us, std::string* first_rejection) {
  std::set<std::string> signers;
  for (const auto& sig : signed_registry.signatures()) {
    std::string rejection;
    auto found = FindRegistrarKey(signing, sig.key_id(), issued_at_us);
    if (!found.ok()) {
      rejection = found.status().message();
    } else if (!Verify(found->key->public_key(), kRegistryDomain, signed_registry.registry(),
                       sig.signature())) {
      rejection = "signature by key " + sig.key_id() + " of registrar " + found->registrar->id() +
                  " does not verify";
    } else {
      signers.insert(found->registrar->id());
    }
    if (!rejection.empty() && first_rejection != nullptr && first_rejection->empty()) {
      *first_rejection = std::move(rejection);
    }
  }
  return signers;
}

KeyRecord ToRecord(const PublicKey& k, const std::string& owner, bool is_log_key) {
  KeyRecord r;
  r.key_id = k.key_id();
  r.public_key = k.public_key();
  r.valid_from_us = ToMicros(k.valid_from());
  r.valid_until_us = ToMicros(k.valid_until());
  r.revoked_at_us = ToMicros(k.revoked_at());
  r.owner = owner;
  r.is_log_key = is_log_key;
  return r;
}

Result<std::string> ReadWholeFile(const std::string& path, size_t max_bytes) {
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return NotFound("registry file " + path + ": no such file");
    return Internal("registry file " + path + ": " + ErrnoText());
  }
  std::string data;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Internal("registry file " + path + ": " + ErrnoText());
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
    if (data.size() > max_bytes) {
      return InvalidArgument("registry file " + path + ": larger than " +
                             std::to_string(max_bytes >> 20) + " MiB");
    }
  }
  return data;
}

Result<std::string> RegistryFileJson(const std::string& path, const RegistryFile& file) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  std::string json;
  const auto status = google::protobuf::util::MessageToJsonString(file, &json, options);
  if (!status.ok()) {
    return Internal("registry file " + path + ": cannot encode as JSON: " +
                    std::string(status.message().data(), status.message().size()));
  }
  if (json.empty() || json.back() != '\n') json.push_back('\n');
  return json;
}

}  // namespace

bool IsValidParticipantId(std::string_view id) {
  if (id.size() < 2 || id.size() > 40) return false;
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

std::string RoleName(Role role) {
  for (const auto& entry : kRoleNames) {
    if (entry.role == role) return entry.name;
  }
  return "UNSPECIFIED";
}

Result<Role> ParseRole(std::string_view name) {
  std::string upper;
  for (char c : name) upper.push_back((c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c);
  if (upper.rfind("ROLE_", 0) == 0) upper.erase(0, 5);
  std::string accepted;
  for (const auto& entry : kRoleNames) {
    if (upper == entry.name) return entry.role;
    if (!accepted.empty()) accepted += ", ";
    accepted += entry.name;
  }
  return InvalidArgument("role " + Quoted(name) + ": want one of " + accepted);
}

Status ValidateRegistry(const Registry& registry) {
  CAIRN_RETURN_IF_ERROR(ValidateRegistryContents(registry));
  int registrars = 0;
  for (const Participant& p : registry.participants()) {
    if (IsRegistrar(p)) ++registrars;
  }
  if (registrars == 0) {
    return InvalidArgument(
        "threshold: no participant has role REGISTRAR, so no version could ever be signed");
  }
  if (registry.threshold() < 1 || registry.threshold() > static_cast<uint32_t>(registrars)) {
    return InvalidArgument("threshold: got " + std::to_string(registry.threshold()) + ", want 1.." +
                           std::to_string(registrars) + " (the number of REGISTRAR participants)");
  }
  return Status::Ok();
}

Status ValidateRegistryContents(const Registry& registry) {
  if (registry.consortium().empty()) return InvalidArgument("consortium: empty, want a name");
  if (registry.version() < 1) {
    return InvalidArgument("version: got " + std::to_string(registry.version()) + ", want >= 1");
  }
  CAIRN_RETURN_IF_ERROR(ValidateTimestamp(registry.issued_at(), "issued_at"));
  if (registry.rules().has_receipt_tolerance_ppm() &&
      registry.rules().receipt_tolerance_ppm() > 1'000'000) {
    return InvalidArgument("rules.receipt_tolerance_ppm: got " +
                           std::to_string(registry.rules().receipt_tolerance_ppm()) +
                           ", want <= 1000000");
  }

  std::map<std::string, int> participant_index;
  std::map<std::string, std::string> key_fields;
  for (int i = 0; i < registry.participants_size(); ++i) {
    const Participant& p = registry.participants(i);
    const std::string field = "participants[" + std::to_string(i) + "]";
    if (!IsValidParticipantId(p.id())) {
      return InvalidArgument(field + ".id: got " + Quoted(p.id()) + ", want [a-z0-9-]{2,40}");
    }
    auto [it, inserted] = participant_index.emplace(p.id(), i);
    if (!inserted) {
      return InvalidArgument(field + ".id: " + Quoted(p.id()) +
                             " is listed twice (also participants[" + std::to_string(it->second) +
                             "])");
    }
    if (p.legal_name().empty()) return InvalidArgument(field + ".legal_name: empty");
    const std::string& c = p.country();
    if (!IsIsoCountry(c)) {
      return InvalidArgument(
          field + ".country: got " + Quoted(c) +
          ", want two upper-case letters of an assigned ISO 3166-1 alpha-2 code, like \"PK\"");
    }
    if (p.roles_size() == 0) {
      return InvalidArgument(field + ".roles: empty, want at least one role");
    }
    std::set<int> roles;
    for (int j = 0; j < p.roles_size(); ++j) {
      const int r = p.roles(j);
      const std::string role_field = field + ".roles[" + std::to_string(j) + "]";
      if (r == cairn::v1::ROLE_UNSPECIFIED || !cairn::v1::Role_IsValid(r)) {
        return InvalidArgument(role_field + ": got " + std::to_string(r) +
                               ", want a role (MINE, PROCESSOR, ..., REGISTRAR)");
      }
      if (!roles.insert(r).second) {
        return InvalidArgument(role_field + ": " + RoleName(static_cast<Role>(r)) +
                               " listed twice");
      }
    }
    for (int j = 0; j < p.keys_size(); ++j) {
      const std::string key_field = field + ".keys[" + std::to_string(j) + "]";
      CAIRN_RETURN_IF_ERROR(ValidateKey(p.keys(j), key_field));
      CAIRN_RETURN_IF_ERROR(NoteKeyId(key_fields, p.keys(j).key_id(), key_field));
    }
  }

  std::map<std::string, int> log_index;
  std::map<std::string, std::string> home_field;  // participant -> the hosts[] entry naming it
  for (int i = 0; i < registry.logs_size(); ++i) {
    const LogOperator& log = registry.logs(i);
    const std::string field = "logs[" + std::to_string(i) + "]";
    if (!IsValidParticipantId(log.log_id())) {
      return InvalidArgument(field + ".log_id: got " + Quoted(log.log_id()) +
                             ", want [a-z0-9-]{2,40}");
    }
    auto [it, inserted] = log_index.emplace(log.log_id(), i);
    if (!inserted) {
      return InvalidArgument(field + ".log_id: " + Quoted(log.log_id()) +
                             " is listed twice (also logs[" + std::to_string(it->second) + "])");
    }
    if (participant_index.count(log.log_id()) != 0) {
      return InvalidArgument(field + ".log_id: " + Quoted(log.log_id()) +
                             " is also a participant id; a key's owner must be unambiguous");
    }
    if (participant_index.count(log.operator_()) == 0) {
      return InvalidArgument(field + ".operator: " + Quoted(log.operator_()) +
                             " is not a participant");
    }
    for (int j = 0; j < log.keys_size(); ++j) {
      const std::string key_field = field + ".keys[" + std::to_string(j) + "]";
      CAIRN_RETURN_IF_ERROR(ValidateKey(log.keys(j), key_field));
      CAIRN_RETURN_IF_ERROR(NoteKeyId(key_fields, log.keys(j).key_id(), key_field));
    }
    for (int j = 0; j < log.hosts_size(); ++j) {
      const std::string host_field = field + ".hosts[" + std::to_string(j) + "]";
      if (participant_index.count(log.hosts(j)) == 0) {
        return InvalidArgument(host_field + ": " + Quoted(log.hosts(j)) + " is not a participant");
      }
      auto [home, fresh] = home_field.emplace(log.hosts(j), host_field);
      if (!fresh) {
        return InvalidArgument(host_field + ": " + Quoted(log.hosts(j)) +
                               " already has a home log (" + home->second +
                               "); a participant has one home log");
      }
    }
  }

  return Status::Ok();
}

int CountRegistrarSignatures(const SignedRegistry& signed_registry,
                             const Registry& signing_version) {
  Registry signed_version;
  if (!signed_version.ParseFromString(signed_registry.registry())) return 0;
  return static_cast<int>(
      ValidSigners(signed_registry, signing_version, ToMicros(signed_version.issued_at()), nullptr)
          .size());
}

Result<std::string> RegistrarForKey(const Registry& signing_version, std::string_view key_id,
                                    int64_t issued_at_us) {
  CAIRN_ASSIGN_OR_RETURN(RegistrarKey found,
                         FindRegistrarKey(signing_version, key_id, issued_at_us));
  return found.registrar->id();
}

Result<TrustRegistry> TrustRegistry::FromFile(const RegistryFile& file) {
  if (file.versions_size() == 0) {
    Registry draft;
    if (file.has_pending() && draft.ParseFromString(file.pending().registry())) {
      return InvalidArgument("registry has no version in force yet: draft version " +
                             std::to_string(draft.version()) + " is pending with " +
                             Plural(file.pending().signatures_size(), "signature", "signatures") +
                             " and must be signed by its registrars");
    }
    return InvalidArgument("registry has no versions");
  }
  std::vector<Registry> versions(static_cast<size_t>(file.versions_size()));
  for (int i = 0; i < file.versions_size(); ++i) {
    const SignedRegistry& signed_registry = file.versions(i);
    Registry& registry = versions[static_cast<size_t>(i)];
    const uint64_t want_version = static_cast<uint64_t>(i) + 1;
    if (!registry.ParseFromString(signed_registry.registry())) {
      return InvalidArgument("registry versions[" + std::to_string(i) +
                             "]: bytes are not a cairn.v1.Registry");
    }
    if (registry.version() != want_version) {
      return InvalidArgument("registry versions[" + std::to_string(i) + "]: version " +
                             std::to_string(registry.version()) + ", want " +
                             std::to_string(want_version) +
                             " (versions run 1, 2, 3, ... without gaps)");
    }
    const std::string name = "registry version " + std::to_string(want_version);
    if (Status s = ValidateRegistry(registry); !s.ok()) return s.WithPrefix(name);
    if (i > 0) {
      const Registry& previous = versions[static_cast<size_t>(i) - 1];
      if (registry.consortium() != previous.consortium()) {
        return InvalidArgument(name + ": consortium " + Quoted(registry.consortium()) + ", want " +
                               Quoted(previous.consortium()) + " as in version " +
                               std::to_string(previous.version()));
      }
      if (ToMicros(registry.issued_at()) < ToMicros(previous.issued_at())) {
        return InvalidArgument(name + ": issued_at " + FormatTime(ToMicros(registry.issued_at())) +
                               " is before version " + std::to_string(previous.version()) + "'s " +
                               FormatTime(ToMicros(previous.issued_at())));
      }
    }
    const Registry& signing = i == 0 ? registry : versions[static_cast<size_t>(i) - 1];
    std::string rejection;
    const auto signers =
        ValidSigners(signed_registry, signing, ToMicros(registry.issued_at()), &rejection);
    if (signers.size() < signing.threshold()) {
      std::string message = name + ": " +
                            Plural(static_cast<int64_t>(signers.size()),
                                   "valid registrar signature", "valid registrar signatures") +
                            ", want " + std::to_string(signing.threshold()) +
                            " (threshold of version " + std::to_string(signing.version()) + ")";
      if (!rejection.empty()) message += "; " + rejection;
      return Unauthenticated(message);
    }
  }

  TrustRegistry trust;
  auto registry = std::make_shared<const Registry>(std::move(versions.back()));
  auto keys = std::make_shared<std::map<std::string, KeyRecord, std::less<>>>();
  auto participants = std::make_shared<std::map<std::string, const Participant*, std::less<>>>();
  auto logs = std::make_shared<std::map<std::string, const LogOperator*, std::less<>>>();
  for (const Participant& p : registry->participants()) {
    participants->emplace(p.id(), &p);
    for (const PublicKey& k : p.keys()) keys->emplace(k.key_id(), ToRecord(k, p.id(), false));
  }
  auto homes = std::make_shared<std::map<std::string, std::string, std::less<>>>();
  for (const LogOperator& log : registry->logs()) {
    logs->emplace(log.log_id(), &log);
    for (const std::string& host : log.hosts()) homes->emplace(host, log.log_id());
    for (const PublicKey& k : log.keys()) {
      keys->emplace(k.key_id(), ToRecord(k, log.log_id(), true));
    }
  }
  trust.registry_ = std::move(registry);
  trust.keys_ = std::move(keys);
  trust.participants_ = std::move(participants);
  trust.logs_ = std::move(logs);
  trust.homes_ = std::move(homes);
  return trust;
}

Result<TrustRegistry> TrustRegistry::Load(const std::string& path) {
  CAIRN_ASSIGN_OR_RETURN(RegistryFile file, ReadRegistryFile(path));
  auto trust = FromFile(file);
  if (!trust.ok()) return trust.status().WithPrefix(path);
  return trust;
}

int64_t TrustRegistry::issued_at_us() const { return ToMicros(registry_->issued_at()); }

const Participant* TrustRegistry::FindParticipant(std::string_view id) const {
  auto it = participants_->find(id);
  return it == participants_->end() ? nullptr : it->second;
}

const KeyRecord* TrustRegistry::FindKey(std::string_view key_id) const {
  auto it = keys_->find(key_id);
  return it == keys_->end() ? nullptr : &it->second;
}

const LogOperator* TrustRegistry::FindLog(std::string_view log_id) const {
  auto it = logs_->find(log_id);
  return it == logs_->end() ? nullptr : it->second;
}

const std::string* TrustRegistry::HomeLogOf(std::string_view participant_id) const {
  auto it = homes_->find(participant_id);
  return it == homes_->end() ? nullptr : &it->second;
}

bool TrustRegistry::HasRole(std::string_view participant_id, Role role) const {
  const Participant* p = FindParticipant(participant_id);
  if (p == nullptr) return false;
  for (int r : p->roles()) {
    if (r == role) return true;
  }
  return false;
}

Status TrustRegistry::CheckKeyFor(const KeyRecord& key, std::string_view author,
                                  int64_t occurred_at_us, int64_t appended_at_us) const {
  const std::string name = "key " + key.key_id;
  if (key.owner != author) {
    return PermissionDenied(name + ": belongs to " + (key.is_log_key ? "log " : "") + key.owner +
                            ", not " + std::string(author));
  }
  if (key.revoked_at_us != 0 && key.revoked_at_us <= appended_at_us) {
    return PermissionDenied(
        name + ": revoked at " + FormatTime(key.revoked_at_us) +
        (key.revoked_at_us < appended_at_us ? ", before append time " : ", the append time ") +
        FormatTime(appended_at_us));
  }
  if (key.revoked_at_us != 0 && key.revoked_at_us <= occurred_at_us) {
    return PermissionDenied(name + ": revoked at " + FormatTime(key.revoked_at_us) +
                            ", not after the event occurred at " + FormatTime(occurred_at_us));
  }
  if (occurred_at_us < key.valid_from_us) {
    return PermissionDenied(name + ": valid from " + FormatTime(key.valid_from_us) +
                            ", event occurred at " + FormatTime(occurred_at_us));
  }
  if (key.valid_until_us != 0 && occurred_at_us >= key.valid_until_us) {
    return PermissionDenied(name + ": valid until " + FormatTime(key.valid_until_us) +
                            ", event occurred at " + FormatTime(occurred_at_us));
  }
  return Status::Ok();
}

Result<RegistryFile> ReadRegistryFile(const std::string& path) {
  CAIRN_ASSIGN_OR_RETURN(std::string data, ReadWholeFile(path, kMaxRegistryFileBytes));
  return ParseRegistryFile(data, path);
}

Result<RegistryFile> ParseRegistryFile(std::string_view data, const std::string& path) {
  const size_t first = data.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return InvalidArgument("registry file " + path + ": empty");
  RegistryFile file;
  if (data[first] == '{') {
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = false;
    const auto status = google::protobuf::util::JsonStringToMessage(
        google::protobuf::StringPiece(data.data(), data.size()), &file, options);
    if (!status.ok()) {
      return InvalidArgument("registry file " + path + ": not a cairn.v1.RegistryFile in JSON: " +
                             std::string(status.message().data(), status.message().size()));
    }
    return file;
  }
  if (!file.ParseFromArray(data.data(), static_cast<int>(data.size()))) {
    return InvalidArgument("registry file " + path +
                           ": neither protobuf JSON nor a binary cairn.v1.RegistryFile");
  }
  return file;
}

Status WriteRegistryFile(const std::string& path, const RegistryFile& file) {
  CAIRN_ASSIGN_OR_RETURN(std::string json, RegistryFileJson(path, file));
  return WriteFileAtomically(path, json, 0644, /*replace=*/true, "registry file");
}

Status CreateRegistryFile(const std::string& path, const RegistryFile& file) {
  CAIRN_ASSIGN_OR_RETURN(std::string json, RegistryFileJson(path, file));
  return WriteFileAtomically(path, json, 0644, /*replace=*/false, "registry file");
}

}  // namespace cairn::keys
