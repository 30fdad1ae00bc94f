// Registry drafts: opening, editing and signing the next version of a registry file.
#include "keys/registry_edit.h"

#include <algorithm>
#include <utility>

#include "common/clock.h"
#include "common/crypto.h"
#include "keys/registry.h"

namespace cairn::keys {
namespace {

using cairn::v1::LogOperator;
using cairn::v1::Participant;
using cairn::v1::PublicKey;
using cairn::v1::Registry;
using cairn::v1::RegistryFile;

constexpr size_t kMaxConsortiumName = 100;

// A draft opened for editing.
struct Draft {
  RegistryFile file;
  Registry registry;  // the draft's contents, parsed
  int had_signatures = 0;
};

// Built by appending: gcc 12's -Wrestrict misfires on "literal" + std::string&& in Release.
std::string Quoted(std::string_view s) {
  std::string quoted;
  quoted.reserve(s.size() + 2);
  quoted += '"';
  quoted += s;
  quoted += '"';
  return quoted;
}

std::string DraftName(const Registry& draft) {
  return "draft version " + std::to_string(draft.version());
}

// Verifies the versions already in force and returns the latest (nullopt when there are none).
Result<std::optional<Registry>> VerifiedLatest(const RegistryFile& file) {
  if (file.versions_size() == 0) return std::optional<Registry>();
  auto trust = TrustRegistry::FromFile(file);
  if (!trust.ok()) {
    return DataLoss("the registry's versions do not verify, so it cannot be changed: " +
                    trust.status().message());
  }
  return std::optional<Registry>(trust->registry());
}

// Opens the draft of `file` (a copy of the latest version with version + 1 when it has none) and
// stamps its issued_at with `now_us`, never earlier than the latest version's.
Result<Draft> OpenDraft(const RegistryFile& file, int64_t now_us) {
  CAIRN_ASSIGN_OR_RETURN(std::optional<Registry> latest, VerifiedLatest(file));
  Draft draft;
  draft.file = file;
  if (file.has_pending()) {
    CAIRN_ASSIGN_OR_RETURN(draft.registry, PendingDraft(file));
    draft.had_signatures = file.pending().signatures_size();
    const uint64_t want = static_cast<uint64_t>(file.versions_size()) + 1;
    if (draft.registry.version() != want) {
      return FailedPrecondition(DraftName(draft.registry) + " does not follow the latest version " +
                                std::to_string(want - 1) + "; want version " +
                                std::to_string(want));
    }
  } else {
    if (!latest.has_value()) {
      return FailedPrecondition("the registry has no versions and no draft; start one with init");
    }
    draft.registry = *latest;
    draft.registry.set_version(latest->version() + 1);
  }
  int64_t issued_at = now_us;
  if (latest.has_value()) issued_at = std::max(issued_at, ToMicros(latest->issued_at()));
  *draft.registry.mutable_issued_at() = FromMicros(issued_at);
  return draft;
}

// Checks the edited draft (all but the threshold rule), stores it as `pending` without signatures.
Result<DraftEdit> Commit(Draft draft) {
  if (Status s = ValidateRegistryContents(draft.registry); !s.ok()) {
    return s.WithPrefix(DraftName(draft.registry));
  }
  auto* pending = draft.file.mutable_pending();
  pending->set_registry(draft.registry.SerializeAsString());
  pending->clear_signatures();
  DraftEdit edit;
  edit.version = draft.registry.version();
  edit.cleared_signatures = draft.had_signatures;
  edit.file = std::move(draft.file);
  return edit;
}

Participant* FindParticipant(Registry& registry, std::string_view id) {
  for (Participant& p : *registry.mutable_participants()) {
    if (p.id() == id) return &p;
  }
  return nullptr;
}

LogOperator* FindLog(Registry& registry, std::string_view log_id) {
  for (LogOperator& log : *registry.mutable_logs()) {
    if (log.log_id() == log_id) return &log;
  }
  return nullptr;
}

// The key `key_id` wherever it is listed, and its owner; nullptr when it is not.
PublicKey* FindKey(Registry& registry, std::string_view key_id, std::string* owner) {
  for (Participant& p : *registry.mutable_participants()) {
    for (PublicKey& k : *p.mutable_keys()) {
      if (k.key_id() == key_id) {
        if (owner != nullptr) *owner = p.id();
        return &k;
      }
    }
  }
  for (LogOperator& log : *registry.mutable_logs()) {
    for (PublicKey& k : *log.mutable_keys()) {
      if (k.key_id() == key_id) {
        if (owner != nullptr) *owner = "log " + log.log_id();
        return &k;
      }
    }
  }
  return nullptr;
}

Status CheckId(std::string_view id, const char* what) {
  if (!IsValidParticipantId(id)) {
    return InvalidArgument(std::string(what) + " " + Quoted(id) +
                           ": want 2 to 40 of a-z, 0-9 and '-', e.g. pk-fwo");
  }
  return Status::Ok();
}

// The checks a new key gets before it is added: well-formed, and not already listed.
Result<PublicKey> MakeKey(Registry& registry, std::string_view public_key, int64_t valid_from_us) {
  if (public_key.size() != kPublicKeyBytes) {
    return InvalidArgument("public key: got " + std::to_string(public_key.size()) +
                           " bytes, want 32");
  }
  if (valid_from_us < 0) {
    return InvalidArgument("valid_from: " + FormatTime(valid_from_us) + " is before 1970");
  }
  PublicKey key;
  key.set_key_id(KeyIdOf(public_key));
  key.set_public_key(std::string(public_key));
  *key.mutable_valid_from() = FromMicros(valid_from_us);
  std::string owner;
  if (FindKey(registry, key.key_id(), &owner) != nullptr) {
    return AlreadyExists("key " + key.key_id() + " is already listed for " + owner + " in " +
                         DraftName(registry));
  }
  return key;
}

// The key list of a participant or a log; nullptr when `owner` is neither.
google::protobuf::RepeatedPtrField<PublicKey>* KeysOf(Registry& registry, std::string_view owner) {
  if (Participant* p = FindParticipant(registry, owner)) return p->mutable_keys();
  if (LogOperator* log = FindLog(registry, owner)) return log->mutable_keys();
  return nullptr;
}

}  // namespace

Result<cairn::v1::RegistryFile> InitRegistry(const std::string& consortium, uint32_t threshold,
                                             int64_t now_us) {
  if (consortium.empty() || consortium.size() > kMaxConsortiumName) {
    return InvalidArgument("consortium: want a name of 1 to " + std::to_string(kMaxConsortiumName) +
                           " characters");
  }
  for (char c : consortium) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return InvalidArgument("consortium: control characters are not allowed");
    }
  }
  if (threshold < 1) return InvalidArgument("threshold: got 0, want >= 1");
  Registry registry;
  registry.set_consortium(consortium);
  registry.set_version(1);
  *registry.mutable_issued_at() = FromMicros(now_us);
  registry.set_threshold(threshold);
  RegistryFile file;
  file.mutable_pending()->set_registry(registry.SerializeAsString());
  return file;
}

Result<cairn::v1::Registry> PendingDraft(const RegistryFile& file) {
  if (!file.has_pending()) return NotFound("the registry has no draft");
  Registry draft;
  if (!draft.ParseFromString(file.pending().registry())) {
    return InvalidArgument("pending: bytes are not a cairn.v1.Registry");
  }
  return draft;
}

Result<DraftEdit> AddParticipant(const RegistryFile& file, const ParticipantSpec& spec,
                                 const std::optional<NewKey>& key, int64_t now_us) {
  CAIRN_ASSIGN_OR_RETURN(Draft draft, OpenDraft(file, now_us));
  Registry& registry = draft.registry;
  CAIRN_RETURN_IF_ERROR(CheckId(spec.id, "participant id"));
  if (FindParticipant(registry, spec.id) != nullptr) {
    return AlreadyExists("participant " + spec.id + " is already in " + DraftName(registry));
  }
  if (FindLog(registry, spec.id) != nullptr) {
    return AlreadyExists(spec.id + " is a log id in " + DraftName(registry) +
                         "; a participant needs another id");
  }
  if (spec.legal_name.empty()) return InvalidArgument("legal name: empty");
  const std::string& c = spec.country;
  if (c.size() != 2 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z') {
    return InvalidArgument("country " + Quoted(c) +
                           ": want an ISO 3166-1 alpha-2 code in upper case, e.g. PK");
  }
  if (spec.roles.empty()) return InvalidArgument("roles: want at least one");
  Participant p;
  p.set_id(spec.id);
  p.set_legal_name(spec.legal_name);
  p.set_country(spec.country);
  for (cairn::v1::Role role : spec.roles) {
    if (role == cairn::v1::ROLE_UNSPECIFIED || !cairn::v1::Role_IsValid(role)) {
      return InvalidArgument("roles: " + std::to_string(role) + " is not a role");
    }
    if (std::find(p.roles().begin(), p.roles().end(), role) == p.roles().end()) p.add_roles(role);
  }
  if (key.has_value()) {
    CAIRN_ASSIGN_OR_RETURN(*p.add_keys(), MakeKey(registry, key->public_key, key->valid_from_us));
  }
  *registry.add_participants() = std::move(p);
  return Commit(std::move(draft));
}

Result<DraftEdit> AddParticipantKey(const RegistryFile& file, std::string_view participant,
                                    const NewKey& key, int64_t now_us) {
  CAIRN_ASSIGN_OR_RETURN(Draft draft, OpenDraft(file, now_us));
  Participant* p = FindParticipant(draft.registry, participant);
  if (p == nullptr) {
    return NotFound("participant " + std::string(participant) + " is not in " +
                    DraftName(draft.registry));
  }
  CAIRN_ASSIGN_OR_RETURN(*p->add_keys(),
                         MakeKey(draft.registry, key.public_key, key.valid_from_us));
  return Commit(std::move(draft));
}

Result<DraftEdit> AddLog(const RegistryFile& file, std::string_view log_id,
                         std::string_view operator_id, const NewKey& key, int64_t now_us,
                         const std::vector<std::string>& hosts) {
  CAIRN_ASSIGN_OR_RETURN(Draft draft, OpenDraft(file, now_us));
  Registry& registry = draft.registry;
  CAIRN_RETURN_IF_ERROR(CheckId(log_id, "log id"));
  if (FindLog(registry, log_id) != nullptr) {
    return AlreadyExists("log " + std::string(log_id) + " is already in " + DraftName(registry) +
                         "; to change its key, rotate it");
  }
  if (FindParticipant(registry, log_id) != nullptr) {
    return AlreadyExists(std::string(log_id) + " is a participant id in " + DraftName(registry) +
                         "; a log needs its own id, e.g. " + std::string(log_id) + "-log");
  }
  if (FindParticipant(registry, operator_id) == nullptr) {
    return NotFound("operator " + std::string(operator_id) + " is not a participant in " +
                    DraftName(registry));
  }
  LogOperator log;
  log.set_log_id(std::string(log_id));
  log.set_operator_(std::string(operator_id));
  CAIRN_ASSIGN_OR_RETURN(*log.add_keys(), MakeKey(registry, key.public_key, key.valid_from_us));
  for (const std::string& host : hosts) {
    if (FindParticipant(registry, host) == nullptr) {
      return NotFound("host " + host + " is not a participant in " + DraftName(registry));
    }
    for (const LogOperator& other : registry.logs()) {
      for (const std::string& hosted : other.hosts()) {
        if (hosted == host) {
          return AlreadyExists("participant " + host + " is already hosted by log " +
                               other.log_id() + "; a participant has one home log");
        }
      }
    }
    log.add_hosts(host);
  }
  *registry.add_logs() = std::move(log);
  return Commit(std::move(draft));
}

Result<DraftEdit> RotateKey(const RegistryFile& file, std::string_view owner,
                            std::string_view new_public_key, int64_t at_us, int64_t now_us) {
  CAIRN_ASSIGN_OR_RETURN(Draft draft, OpenDraft(file, now_us));
  auto* keys = KeysOf(draft.registry, owner);
  if (keys == nullptr) {
    return NotFound(std::string(owner) + " is neither a participant nor a log in " +
                    DraftName(draft.registry));
  }
  CAIRN_ASSIGN_OR_RETURN(PublicKey new_key, MakeKey(draft.registry, new_public_key, at_us));
  for (PublicKey& k : *keys) {
    const int64_t until = ToMicros(k.valid_until());
    const bool open = ToMicros(k.revoked_at()) == 0 && (until == 0 || until > at_us);
    if (!open) continue;
    if (ToMicros(k.valid_from()) >= at_us) {
      return FailedPrecondition("key " + k.key_id() + " of " + std::string(owner) +
                                " is valid from " + FormatTime(ToMicros(k.valid_from())) +
                                ", not before the rotation time " + FormatTime(at_us));
    }
    *k.mutable_valid_until() = FromMicros(at_us);
  }
  *keys->Add() = std::move(new_key);
  return Commit(std::move(draft));
}

Result<DraftEdit> RevokeKey(const RegistryFile& file, std::string_view key_id, int64_t at_us,
                            int64_t now_us) {
  if (at_us <= 0) return InvalidArgument("revocation time: want a time after 1970-01-01");
  CAIRN_ASSIGN_OR_RETURN(Draft draft, OpenDraft(file, now_us));
  std::string owner;
  PublicKey* key = FindKey(draft.registry, key_id, &owner);
  if (key == nullptr) {
    return NotFound("key " + std::string(key_id) + " is not in " + DraftName(draft.registry));
  }
  const int64_t revoked = ToMicros(key->revoked_at());
  if (revoked != 0) {
    return FailedPrecondition("key " + std::string(key_id) + " of " + owner +
                              " is already revoked at " + FormatTime(revoked));
  }
  *key->mutable_revoked_at() = FromMicros(at_us);
  return Commit(std::move(draft));
}

Result<DraftEdit> SetThreshold(const RegistryFile& file, uint32_t threshold, int64_t now_us) {
  if (threshold < 1) return InvalidArgument("threshold: got 0, want >= 1");
  CAIRN_ASSIGN_OR_RETURN(Draft draft, OpenDraft(file, now_us));
  draft.registry.set_threshold(threshold);
  return Commit(std::move(draft));
}

Result<DraftEdit> SetReceiptTolerance(const RegistryFile& file, uint32_t ppm, int64_t now_us) {
  if (ppm > 1'000'000) {
    return InvalidArgument("receipt_tolerance_ppm: got " + std::to_string(ppm) +
                           ", want <= 1000000");
  }
  CAIRN_ASSIGN_OR_RETURN(Draft draft, OpenDraft(file, now_us));
  draft.registry.mutable_rules()->set_receipt_tolerance_ppm(ppm);
  return Commit(std::move(draft));
}

DraftSignatures CountDraftSignatures(const RegistryFile& file) {
  DraftSignatures out;
  auto draft = PendingDraft(file);
  if (!draft.ok()) return out;
  Registry signing;
  if (file.versions_size() == 0) {
    signing = *draft;
  } else if (!signing.ParseFromString(file.versions(file.versions_size() - 1).registry())) {
    return out;
  }
  out.threshold = signing.threshold();
  out.valid = CountRegistrarSignatures(file.pending(), signing);
  return out;
}

Result<SignOutcome> SignPending(const RegistryFile& file, const SigningKey& key) {
  CAIRN_ASSIGN_OR_RETURN(std::optional<Registry> latest, VerifiedLatest(file));
  auto parsed = PendingDraft(file);
  if (!parsed.ok()) {
    if (parsed.status().code() == StatusCode::kNotFound) {
      return FailedPrecondition(
          "the registry has no draft to sign; change it (add, rotate, revoke, ...) first");
    }
    return FailedPrecondition(parsed.status().message());
  }
  const Registry& draft = *parsed;
  const std::string name = DraftName(draft);
  const uint64_t want = static_cast<uint64_t>(file.versions_size()) + 1;
  if (draft.version() != want) {
    return FailedPrecondition(name + " does not follow the latest version " +
                              std::to_string(want - 1));
  }
  if (Status s = ValidateRegistry(draft); !s.ok()) {
    return FailedPrecondition(name + " is not ready to sign: " + s.message());
  }
  const int64_t issued_at = ToMicros(draft.issued_at());
  if (latest.has_value()) {
    if (draft.consortium() != latest->consortium()) {
      return FailedPrecondition(name + ": consortium " + Quoted(draft.consortium()) + ", want " +
                                Quoted(latest->consortium()));
    }
    if (issued_at < ToMicros(latest->issued_at())) {
      return FailedPrecondition(name + ": issued_at " + FormatTime(issued_at) +
                                " is before the latest version's " +
                                FormatTime(ToMicros(latest->issued_at())));
    }
  }
  const Registry& signing = latest.has_value() ? *latest : draft;
  auto registrar = RegistrarForKey(signing, key.key_id, issued_at);
  if (!registrar.ok()) {
    return PermissionDenied("cannot sign " + name + ": " + registrar.status().message() +
                            (latest.has_value() ? " (a new version is signed by the registrars of "
                                                  "the version before it)"
                                                : ""));
  }
  for (const auto& sig : file.pending().signatures()) {
    if (sig.key_id() == key.key_id) {
      return AlreadyExists(name + " already carries a signature by key " + key.key_id + " of " +
                           *registrar);
    }
  }

  SignOutcome outcome;
  outcome.file = file;
  cairn::v1::SignedRegistry* pending = outcome.file.mutable_pending();
  const int before = CountRegistrarSignatures(*pending, signing);
  auto* sig = pending->add_signatures();
  sig->set_key_id(key.key_id);
  sig->set_signature(Sign(key.secret_key, kRegistryDomain, pending->registry()));
  const int after = CountRegistrarSignatures(*pending, signing);
  if (after == before) {
    // The key is eligible, so either its registrar already signed with another key or the secret
    // key does not match the public key the registry lists.
    if (!Verify(key.public_key, kRegistryDomain, pending->registry(), sig->signature())) {
      return PermissionDenied("cannot sign " + name + ": the secret key does not match key " +
                              key.key_id);
    }
    return AlreadyExists(name + " is already signed by registrar " + *registrar);
  }
  outcome.version = draft.version();
  outcome.registrar = *registrar;
  outcome.signatures = after;
  outcome.threshold = signing.threshold();
  outcome.in_force = after >= static_cast<int>(signing.threshold());
  if (outcome.in_force) {
    *outcome.file.add_versions() = std::move(*pending);
    outcome.file.clear_pending();
    auto verified = TrustRegistry::FromFile(outcome.file);
    if (!verified.ok()) {
      return Internal("signed " + name +
                      " but the result does not verify: " + verified.status().message());
    }
  }
  return outcome;
}

}  // namespace cairn::keys
