// The trust registry: chain verification (thresholds, version order, tampering), key checks
// (rotation, revocation, ownership), draft edits and signing, and registry file I/O.
#include "keys/registry.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <sstream>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/crypto.h"
#include "keys/key_file.h"
#include "keys/registry_edit.h"

namespace cairn::keys {
namespace {

namespace fs = std::filesystem;
using cairn::v1::Participant;
using cairn::v1::PublicKey;
using cairn::v1::Registry;
using cairn::v1::RegistryFile;
using cairn::v1::Role;
using cairn::v1::SignedRegistry;

constexpr int64_t kSecond = 1000000;
constexpr int64_t kHour = 3600 * kSecond;
constexpr int64_t kDay = 24 * kHour;
// 2025-10-02T08:00:00Z.
constexpr int64_t kT0 = 1759392000LL * kSecond;

SigningKey FixedKey(const std::string& owner, uint8_t seed_byte) {
  auto pair = KeyPairFromSeed(std::string(32, static_cast<char>(seed_byte)));
  EXPECT_TRUE(pair.ok());
  return {owner, KeyIdOf(pair->public_key), pair->public_key, pair->secret_key};
}

PublicKey ProtoKey(const SigningKey& k, int64_t from = 0, int64_t until = 0, int64_t revoked = 0) {
  PublicKey pk;
  pk.set_key_id(k.key_id);
  pk.set_public_key(k.public_key);
  *pk.mutable_valid_from() = FromMicros(from);
  if (until != 0) *pk.mutable_valid_until() = FromMicros(until);
  if (revoked != 0) *pk.mutable_revoked_at() = FromMicros(revoked);
  return pk;
}

Participant* AddParticipantTo(Registry& r, const std::string& id, const std::string& country,
                              std::initializer_list<Role> roles) {
  Participant* p = r.add_participants();
  p->set_id(id);
  p->set_legal_name(id + " legal name");
  p->set_country(country);
  for (Role role : roles) p->add_roles(role);
  return p;
}

SignedRegistry SignedBy(const Registry& r, std::initializer_list<const SigningKey*> signers) {
  SignedRegistry s;
  s.set_registry(r.SerializeAsString());
  for (const SigningKey* k : signers) {
    auto* sig = s.add_signatures();
    sig->set_key_id(k->key_id);
    sig->set_signature(Sign(k->secret_key, kRegistryDomain, s.registry()));
  }
  return s;
}

class TrustRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(InitCrypto().ok()); }

  // Version 1: registrars reg-a and reg-b, a mine, a processor and a log.
  Registry Genesis(uint32_t threshold) const {
    Registry r;
    r.set_consortium("cairn-test");
    r.set_version(1);
    *r.mutable_issued_at() = FromMicros(kT0);
    r.set_threshold(threshold);
    *AddParticipantTo(r, "reg-a", "CH", {cairn::v1::ROLE_REGISTRAR})->add_keys() = ProtoKey(reg_a_);
    *AddParticipantTo(r, "reg-b", "DE", {cairn::v1::ROLE_REGISTRAR, cairn::v1::ROLE_AUDITOR})
         ->add_keys() = ProtoKey(reg_b_);
    *AddParticipantTo(r, "pk-fwo", "PK", {cairn::v1::ROLE_MINE})->add_keys() = ProtoKey(mine_);
    *AddParticipantTo(r, "us-usm", "US", {cairn::v1::ROLE_PROCESSOR})->add_keys() =
        ProtoKey(processor_);
    auto* log = r.add_logs();
    log->set_log_id("demo-log");
    log->set_operator_("us-usm");
    *log->add_keys() = ProtoKey(log_);
    return r;
  }

  // The version after `r`, issued a day later.
  static Registry Next(const Registry& r) {
    Registry next = r;
    next.set_version(r.version() + 1);
    *next.mutable_issued_at() = FromMicros(ToMicros(r.issued_at()) + kDay);
    return next;
  }

  const SigningKey reg_a_ = FixedKey("reg-a", 21);
  const SigningKey reg_b_ = FixedKey("reg-b", 22);
  const SigningKey reg_c_ = FixedKey("reg-c", 23);
  const SigningKey mine_ = FixedKey("pk-fwo", 24);
  const SigningKey processor_ = FixedKey("us-usm", 25);
  const SigningKey log_ = FixedKey("demo-log", 26);
};

// ---- chain verification

TEST_F(TrustRegistryTest, AcceptsGenesisSignedByThreshold) {
  RegistryFile file;
  *file.add_versions() = SignedBy(Genesis(2), {&reg_a_, &reg_b_});
  auto trust = TrustRegistry::FromFile(file);
  ASSERT_TRUE(trust.ok()) << trust.status().ToString();
  EXPECT_EQ(trust->version(), 1u);
  EXPECT_EQ(trust->issued_at_us(), kT0);
  EXPECT_EQ(trust->registry().consortium(), "cairn-test");
}

TEST_F(TrustRegistryTest, RefusesGenesisBelowThreshold) {
  RegistryFile file;
  *file.add_versions() = SignedBy(Genesis(2), {&reg_a_});
  auto trust = TrustRegistry::FromFile(file);
  ASSERT_FALSE(trust.ok());
  EXPECT_EQ(trust.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(trust.status().message(),
            "registry version 1: 1 valid registrar signature, want 2 (threshold of version 1)");
}

TEST_F(TrustRegistryTest, CountsEachRegistrarOnceWhateverItsKeys) {
  Registry r = Genesis(2);
  const SigningKey second_a = FixedKey("reg-a", 31);
  *r.mutable_participants(0)->add_keys() = ProtoKey(second_a);
  RegistryFile file;
  *file.add_versions() = SignedBy(r, {&reg_a_, &second_a, &reg_a_});
  EXPECT_EQ(CountRegistrarSignatures(file.versions(0), r), 1);
  EXPECT_EQ(TrustRegistry::FromFile(file).status().code(), StatusCode::kUnauthenticated);
}

TEST_F(TrustRegistryTest, RefusesGenesisSignedByNonRegistrar) {
  RegistryFile file;
  *file.add_versions() = SignedBy(Genesis(1), {&mine_});
  auto trust = TrustRegistry::FromFile(file);
  ASSERT_FALSE(trust.ok());
  EXPECT_EQ(trust.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(trust.status().message().find("belongs to pk-fwo, which is not a REGISTRAR"),
            std::string::npos)
      << trust.status().message();
}

TEST_F(TrustRegistryTest, AcceptsVersion2SignedByRegistrarsOfVersion1) {
  const Registry v1 = Genesis(2);
  Registry v2 = Next(v1);
  // Version 2 drops reg-b and lowers the threshold; version 1's rule still applies to it.
  v2.mutable_participants()->DeleteSubrange(1, 1);
  v2.set_threshold(1);
  RegistryFile file;
  *file.add_versions() = SignedBy(v1, {&reg_a_, &reg_b_});
  *file.add_versions() = SignedBy(v2, {&reg_a_, &reg_b_});
  auto trust = TrustRegistry::FromFile(file);
  ASSERT_TRUE(trust.ok()) << trust.status().ToString();
  EXPECT_EQ(trust->version(), 2u);
  EXPECT_EQ(trust->FindParticipant("reg-b"), nullptr);
}

TEST_F(TrustRegistryTest, RefusesVersion2SignedOnlyByRegistrarNewInVersion2) {
  const Registry v1 = Genesis(1);
  Registry v2 = Next(v1);
  *AddParticipantTo(v2, "reg-c", "JP", {cairn::v1::ROLE_REGISTRAR})->add_keys() = ProtoKey(reg_c_);
  RegistryFile file;
  *file.add_versions() = SignedBy(v1, {&reg_a_});
  *file.add_versions() = SignedBy(v2, {&reg_c_});
  auto trust = TrustRegistry::FromFile(file);
  ASSERT_FALSE(trust.ok());
  EXPECT_EQ(trust.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(trust.status().message(),
            "registry version 2: 0 valid registrar signatures, want 1 (threshold of version 1); "
            "key " +
                reg_c_.key_id + " is not in registry version 1");
}

TEST_F(TrustRegistryTest, AppliesPreviousVersionsThresholdToEachVersion) {
  const Registry v1 = Genesis(1);
  Registry v2 = Next(v1);
  v2.set_threshold(2);
  Registry v3 = Next(v2);
  RegistryFile file;
  *file.add_versions() = SignedBy(v1, {&reg_a_});
  *file.add_versions() = SignedBy(v2, {&reg_a_});  // v1's threshold: 1
  EXPECT_TRUE(TrustRegistry::FromFile(file).ok());
  *file.add_versions() = SignedBy(v3, {&reg_a_});  // v2's threshold: 2
  auto trust = TrustRegistry::FromFile(file);
  ASSERT_FALSE(trust.ok());
  EXPECT_EQ(trust.status().message(),
            "registry version 3: 1 valid registrar signature, want 2 (threshold of version 2)");
}

TEST_F(TrustRegistryTest, RefusesVersionGap) {
  const Registry v1 = Genesis(1);
  Registry v3 = Next(Next(v1));
  RegistryFile file;
  *file.add_versions() = SignedBy(v1, {&reg_a_});
  *file.add_versions() = SignedBy(v3, {&reg_a_});
  auto trust = TrustRegistry::FromFile(file);
  ASSERT_FALSE(trust.ok());
  EXPECT_EQ(trust.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(trust.status().message(),
            "registry versions[1]: version 3, want 2 (versions run 1, 2, 3, ... without gaps)");
}

TEST_F(TrustRegistryTest, RefusesFileThatDoesNotStartAtVersion1) {
  Registry v2 = Next(Genesis(1));
  RegistryFile file;
  *file.add_versions() = SignedBy(v2, {&reg_a_});
  EXPECT_EQ(TrustRegistry::FromFile(file).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(TrustRegistryTest, RefusesFileWithoutVersions) {
  RegistryFile file;
  EXPECT_EQ(TrustRegistry::FromFile(file).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(TrustRegistryTest, RefusesTamperedRegistryByte) {
  RegistryFile file;
  *file.add_versions() = SignedBy(Genesis(1), {&reg_a_});
  ASSERT_TRUE(TrustRegistry::FromFile(file).ok());
  // Change one byte inside a legal name: the bytes still parse, the signature no longer verifies.
  std::string bytes = file.versions(0).registry();
  const size_t at = bytes.find("pk-fwo legal name");
  ASSERT_NE(at, std::string::npos);
  bytes[at] = 'q';
  file.mutable_versions(0)->set_registry(bytes);
  auto trust = TrustRegistry::FromFile(file);
  ASSERT_FALSE(trust.ok());
  EXPECT_EQ(trust.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(trust.status().message().find("does not verify"), std::string::npos);
}

TEST_F(TrustRegistryTest, RefusesTamperedSignature) {
  RegistryFile file;
  *file.add_versions() = SignedBy(Genesis(1), {&reg_a_});
  std::string sig = file.versions(0).signatures(0).signature();
  sig[10] ^= 1;
  file.mutable_versions(0)->mutable_signatures(0)->set_signature(sig);
  EXPECT_EQ(TrustRegistry::FromFile(file).status().code(), StatusCode::kUnauthenticated);
}

TEST_F(TrustRegistryTest, RefusesSignatureByRevokedRegistrarKey) {
  Registry v1 = Genesis(1);
  *v1.mutable_participants(0)->mutable_keys(0)->mutable_revoked_at() = FromMicros(kT0 + kHour);
  RegistryFile file;
  *file.add_versions() = SignedBy(v1, {&reg_b_});
  *file.add_versions() = SignedBy(Next(v1), {&reg_a_});
  auto trust = TrustRegistry::FromFile(file);
  ASSERT_FALSE(trust.ok());
  EXPECT_NE(trust.status().message().find("was revoked at"), std::string::npos);
}

TEST_F(TrustRegistryTest, RefusesRegistrarKeyNotYetValidAtIssuedAt) {
  Registry v1 = Genesis(1);
  *v1.mutable_participants(0)->mutable_keys(0)->mutable_valid_from() = FromMicros(kT0 + kHour);
  RegistryFile file;
  *file.add_versions() = SignedBy(v1, {&reg_a_});
  auto trust = TrustRegistry::FromFile(file);
  ASSERT_FALSE(trust.ok());
  EXPECT_NE(trust.status().message().find("is valid from 2025-10-02T09:00:00Z"), std::string::npos)
      << trust.status().message();
}

TEST_F(TrustRegistryTest, RefusesConsortiumChangeAndTimeGoingBackwards) {
  const Registry v1 = Genesis(1);
  Registry renamed = Next(v1);
  renamed.set_consortium("other");
  RegistryFile file;
  *file.add_versions() = SignedBy(v1, {&reg_a_});
  *file.add_versions() = SignedBy(renamed, {&reg_a_});
  EXPECT_EQ(TrustRegistry::FromFile(file).status().code(), StatusCode::kInvalidArgument);

  Registry earlier = Next(v1);
  *earlier.mutable_issued_at() = FromMicros(kT0 - kDay);
  *file.mutable_versions(1) = SignedBy(earlier, {&reg_a_});
  EXPECT_EQ(TrustRegistry::FromFile(file).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(TrustRegistryTest, RefusesMalformedVersion) {
  struct Case {
    const char* name;
    std::function<void(Registry&)> mutate;
    const char* want;
  };
  const std::vector<Case> cases = {
      {"bad id", [](Registry& r) { r.mutable_participants(2)->set_id("PK_FWO"); },
       "participants[2].id: got \"PK_FWO\", want [a-z0-9-]{2,40}"},
      {"one-letter id", [](Registry& r) { r.mutable_participants(2)->set_id("p"); },
       "participants[2].id"},
      {"duplicate id", [](Registry& r) { r.mutable_participants(3)->set_id("pk-fwo"); },
       "participants[3].id: \"pk-fwo\" is listed twice (also participants[2])"},
      {"country", [](Registry& r) { r.mutable_participants(2)->set_country("pk"); },
       "participants[2].country: got \"pk\", want two upper-case letters"},
      {"no roles", [](Registry& r) { r.mutable_participants(2)->clear_roles(); },
       "participants[2].roles: empty"},
      {"unspecified role",
       [](Registry& r) { r.mutable_participants(2)->add_roles(cairn::v1::ROLE_UNSPECIFIED); },
       "participants[2].roles[1]: got 0"},
      {"key id",
       [](Registry& r) {
         r.mutable_participants(2)->mutable_keys(0)->set_key_id(std::string(32, '0'));
       },
       "participants[2].keys[0].key_id"},
      {"short key",
       [](Registry& r) { r.mutable_participants(2)->mutable_keys(0)->set_public_key("short"); },
       "participants[2].keys[0].public_key: got 5 bytes, want 32"},
      {"key listed twice",
       [](Registry& r) { *r.mutable_logs(0)->mutable_keys(0) = r.participants(2).keys(0); },
       "logs[0].keys[0].key_id"},
      {"threshold zero", [](Registry& r) { r.set_threshold(0); }, "threshold: got 0, want 1..2"},
      {"threshold above registrars", [](Registry& r) { r.set_threshold(3); },
       "threshold: got 3, want 1..2"},
      {"duplicate log", [](Registry& r) { *r.add_logs() = r.logs(0); },
       "logs[1].log_id: \"demo-log\" is listed twice"},
      {"log operator", [](Registry& r) { r.mutable_logs(0)->set_operator_("nobody"); },
       "logs[0].operator: \"nobody\" is not a participant"},
      {"host unknown", [](Registry& r) { r.mutable_logs(0)->add_hosts("nobody"); },
       "logs[0].hosts[0]: \"nobody\" is not a participant"},
      {"two home logs",
       [](Registry& r) {
         r.mutable_logs(0)->add_hosts("pk-fwo");
         r.mutable_logs(0)->add_hosts("pk-fwo");
       },
       "logs[0].hosts[1]: \"pk-fwo\" already has a home log (logs[0].hosts[0])"},
  };
  for (const Case& c : cases) {
    Registry r = Genesis(1);
    c.mutate(r);
    RegistryFile file;
    *file.add_versions() = SignedBy(r, {&reg_a_});
    auto trust = TrustRegistry::FromFile(file);
    ASSERT_FALSE(trust.ok()) << c.name;
    EXPECT_EQ(trust.status().code(), StatusCode::kInvalidArgument) << c.name;
    EXPECT_NE(trust.status().message().find(std::string("registry version 1: ") + c.want),
              std::string::npos)
        << c.name << ": " << trust.status().message();
  }
}

// ---- keys

TEST_F(TrustRegistryTest, FindsLogKeysAsLogKeys) {
  RegistryFile file;
  *file.add_versions() = SignedBy(Genesis(1), {&reg_a_});
  auto trust = TrustRegistry::FromFile(file);
  ASSERT_TRUE(trust.ok()) << trust.status().ToString();
  const KeyRecord* log_key = trust->FindKey(log_.key_id);
  ASSERT_NE(log_key, nullptr);
  EXPECT_TRUE(log_key->is_log_key);
  EXPECT_EQ(log_key->owner, "demo-log");
  EXPECT_EQ(log_key->public_key, log_.public_key);
  ASSERT_NE(trust->FindLog("demo-log"), nullptr);
  EXPECT_EQ(trust->FindLog("demo-log")->operator_(), "us-usm");

  const KeyRecord* mine_key = trust->FindKey(mine_.key_id);
  ASSERT_NE(mine_key, nullptr);
  EXPECT_FALSE(mine_key->is_log_key);
  EXPECT_EQ(mine_key->owner, "pk-fwo");
  EXPECT_EQ(trust->FindKey(reg_c_.key_id), nullptr);
  EXPECT_EQ(trust->FindLog("pk-fwo"), nullptr);
  EXPECT_TRUE(trust->HasRole("reg-b", cairn::v1::ROLE_AUDITOR));
  EXPECT_FALSE(trust->HasRole("pk-fwo", cairn::v1::ROLE_PROCESSOR));
  EXPECT_FALSE(trust->HasRole("nobody", cairn::v1::ROLE_MINE));
}

TEST_F(TrustRegistryTest, RefusesKeyOfAnotherParticipant) {
  RegistryFile file;
  *file.add_versions() = SignedBy(Genesis(1), {&reg_a_});
  auto trust = TrustRegistry::FromFile(file);
  ASSERT_TRUE(trust.ok());
  const KeyRecord* key = trust->FindKey(processor_.key_id);
  ASSERT_NE(key, nullptr);
  const Status s = trust->CheckKeyFor(*key, "pk-fwo", kT0, kT0);
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(s.message(), "key " + processor_.key_id + ": belongs to us-usm, not pk-fwo");
  EXPECT_TRUE(trust->CheckKeyFor(*key, "us-usm", kT0, kT0).ok());
}

TEST_F(TrustRegistryTest, RevokedKeyRefusedWhenAppendedAtOrAfterRevocation) {
  const int64_t revoked = kT0 + 10 * kDay;
  Registry r = Genesis(1);
  *r.mutable_participants(2)->mutable_keys(0)->mutable_revoked_at() = FromMicros(revoked);
  RegistryFile file;
  *file.add_versions() = SignedBy(r, {&reg_a_});
  auto trust = TrustRegistry::FromFile(file);
  ASSERT_TRUE(trust.ok()) << trust.status().ToString();
  const KeyRecord* key = trust->FindKey(mine_.key_id);
  ASSERT_NE(key, nullptr);

  // Claims to have occurred before the revocation, but reaches the log after it: refused.
  const Status late = trust->CheckKeyFor(*key, "pk-fwo", revoked - kDay, revoked + kDay);
  EXPECT_EQ(late.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(late.message(), "key " + mine_.key_id +
                                ": revoked at 2025-10-12T08:00:00Z, before append time "
                                "2025-10-13T08:00:00Z");
  // Appended exactly at the revocation time: refused.
  EXPECT_EQ(trust->CheckKeyFor(*key, "pk-fwo", revoked - kDay, revoked).code(),
            StatusCode::kPermissionDenied);
  // Appended before the revocation: accepted.
  EXPECT_TRUE(trust->CheckKeyFor(*key, "pk-fwo", revoked - kDay, revoked - kHour).ok());
}

TEST_F(TrustRegistryTest, KeyWindowMustCoverOccurredAt) {
  Registry r = Genesis(1);
  *r.mutable_participants(2)->mutable_keys(0) = ProtoKey(mine_, /*from=*/kT0, /*until=*/kT0 + kDay);
  RegistryFile file;
  *file.add_versions() = SignedBy(r, {&reg_a_});
  auto trust = TrustRegistry::FromFile(file);
  ASSERT_TRUE(trust.ok()) << trust.status().ToString();
  const KeyRecord* key = trust->FindKey(mine_.key_id);
  ASSERT_NE(key, nullptr);
  const Status early = trust->CheckKeyFor(*key, "pk-fwo", kT0 - kHour, kT0);
  EXPECT_EQ(early.message(), "key " + mine_.key_id +
                                 ": valid from 2025-10-02T08:00:00Z, event occurred at "
                                 "2025-10-02T07:00:00Z");
  EXPECT_TRUE(trust->CheckKeyFor(*key, "pk-fwo", kT0, kT0 + 2 * kDay).ok());
  EXPECT_EQ(trust->CheckKeyFor(*key, "pk-fwo", kT0 + kDay, kT0 + 2 * kDay).code(),
            StatusCode::kPermissionDenied);
}

// ---- drafts: the path `cairn registry` takes

class RegistryEditTest : public TrustRegistryTest {
 protected:
  // Version 1 from InitRegistry and edits: registrars reg-a (and reg-b when threshold is 2), the
  // mine pk-fwo, and the log demo-log; signed into force.
  RegistryFile InForce(uint32_t threshold) {
    auto file = InitRegistry("cairn-test", threshold, kT0);
    EXPECT_TRUE(file.ok());
    RegistryFile f = *file;
    f = Apply(AddParticipant(f, {"reg-a", "Registrar A", "CH", {cairn::v1::ROLE_REGISTRAR}},
                             NewKey{reg_a_.public_key, 0}, kT0));
    f = Apply(AddParticipant(f, {"reg-b", "Registrar B", "DE", {cairn::v1::ROLE_REGISTRAR}},
                             NewKey{reg_b_.public_key, 0}, kT0));
    f = Apply(AddParticipant(f, {"pk-fwo", "Frontier Works", "PK", {cairn::v1::ROLE_MINE}},
                             NewKey{mine_.public_key, 0}, kT0));
    f = Apply(AddLog(f, "demo-log", "pk-fwo", NewKey{log_.public_key, 0}, kT0));
    auto signed_a = SignPending(f, reg_a_);
    EXPECT_TRUE(signed_a.ok()) << signed_a.status().ToString();
    if (threshold == 1) {
      EXPECT_TRUE(signed_a->in_force);
      return signed_a->file;
    }
    EXPECT_FALSE(signed_a->in_force);
    auto signed_b = SignPending(signed_a->file, reg_b_);
    EXPECT_TRUE(signed_b.ok()) << signed_b.status().ToString();
    EXPECT_TRUE(signed_b->in_force);
    return signed_b->file;
  }

  static RegistryFile Apply(const Result<DraftEdit>& edit) {
    EXPECT_TRUE(edit.ok()) << edit.status().ToString();
    return edit.ok() ? edit->file : RegistryFile();
  }

  static TrustRegistry Trust(const RegistryFile& file) {
    auto trust = TrustRegistry::FromFile(file);
    EXPECT_TRUE(trust.ok()) << trust.status().ToString();
    return std::move(trust).value();
  }
};

TEST_F(RegistryEditTest, InitAddAndSignPutsVersion1InForce) {
  const RegistryFile file = InForce(2);
  EXPECT_EQ(file.versions_size(), 1);
  EXPECT_FALSE(file.has_pending());
  const TrustRegistry trust = Trust(file);
  EXPECT_EQ(trust.version(), 1u);
  EXPECT_EQ(trust.registry().threshold(), 2u);
  ASSERT_NE(trust.FindKey(log_.key_id), nullptr);
  EXPECT_TRUE(trust.FindKey(log_.key_id)->is_log_key);
}

TEST_F(RegistryEditTest, SignWaitsForThreshold) {
  auto file = InitRegistry("cairn-test", 2, kT0);
  ASSERT_TRUE(file.ok());
  RegistryFile f = Apply(AddParticipant(*file, {"reg-a", "A", "CH", {cairn::v1::ROLE_REGISTRAR}},
                                        NewKey{reg_a_.public_key, 0}, kT0));
  f = Apply(AddParticipant(f, {"reg-b", "B", "DE", {cairn::v1::ROLE_REGISTRAR}},
                           NewKey{reg_b_.public_key, 0}, kT0));
  auto one = SignPending(f, reg_a_);
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(one->version, 1u);
  EXPECT_EQ(one->registrar, "reg-a");
  EXPECT_EQ(one->signatures, 1);
  EXPECT_EQ(one->threshold, 2u);
  EXPECT_FALSE(one->in_force);
  EXPECT_EQ(one->file.versions_size(), 0);

  auto again = SignPending(one->file, reg_a_);
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);

  auto two = SignPending(one->file, reg_b_);
  ASSERT_TRUE(two.ok()) << two.status().ToString();
  EXPECT_EQ(two->signatures, 2);
  EXPECT_TRUE(two->in_force);
  EXPECT_EQ(two->file.versions_size(), 1);
  EXPECT_FALSE(two->file.has_pending());
}

TEST_F(RegistryEditTest, SignRefusesKeyOfNonRegistrar) {
  const RegistryFile file = InForce(1);
  const RegistryFile draft = Apply(RevokeKey(file, log_.key_id, kT0 + kDay, kT0 + kDay));
  auto signed_by_mine = SignPending(draft, mine_);
  EXPECT_EQ(signed_by_mine.status().code(), StatusCode::kPermissionDenied);
}

TEST_F(RegistryEditTest, SignRefusesRegistrarNewInTheDraft) {
  const RegistryFile file = InForce(1);
  const RegistryFile draft =
      Apply(AddParticipant(file, {"reg-c", "Registrar C", "JP", {cairn::v1::ROLE_REGISTRAR}},
                           NewKey{reg_c_.public_key, 0}, kT0 + kDay));
  auto signed_by_c = SignPending(draft, reg_c_);
  ASSERT_FALSE(signed_by_c.ok());
  EXPECT_EQ(signed_by_c.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(signed_by_c.status().message().find("is not in registry version 1"), std::string::npos)
      << signed_by_c.status().message();
  auto signed_by_a = SignPending(draft, reg_a_);
  ASSERT_TRUE(signed_by_a.ok()) << signed_by_a.status().ToString();
  EXPECT_TRUE(signed_by_a->in_force);
  EXPECT_EQ(Trust(signed_by_a->file).version(), 2u);
}

TEST_F(RegistryEditTest, ChangeToSignedDraftClearsSignatures) {
  const RegistryFile file = InForce(2);
  const RegistryFile draft = Apply(SetThreshold(file, 1, kT0 + kDay));
  auto signed_a = SignPending(draft, reg_a_);
  ASSERT_TRUE(signed_a.ok()) << signed_a.status().ToString();
  ASSERT_EQ(signed_a->file.pending().signatures_size(), 1);
  auto changed = RevokeKey(signed_a->file, log_.key_id, kT0 + kDay, kT0 + kDay);
  ASSERT_TRUE(changed.ok()) << changed.status().ToString();
  EXPECT_EQ(changed->cleared_signatures, 1);
  EXPECT_EQ(changed->version, 2u);
  EXPECT_EQ(changed->file.pending().signatures_size(), 0);
}

TEST_F(RegistryEditTest, RotationKeepsOldKeyForEarlierEventsOnly) {
  const int64_t rotation = kT0 + 30 * kDay;
  const SigningKey new_mine = FixedKey("pk-fwo", 41);
  const RegistryFile file = InForce(1);
  const RegistryFile draft =
      Apply(RotateKey(file, "pk-fwo", new_mine.public_key, rotation, kT0 + kDay));
  auto signed_v2 = SignPending(draft, reg_a_);
  ASSERT_TRUE(signed_v2.ok()) << signed_v2.status().ToString();
  const TrustRegistry trust = Trust(signed_v2->file);
  const KeyRecord* old_key = trust.FindKey(mine_.key_id);
  const KeyRecord* new_key = trust.FindKey(new_mine.key_id);
  ASSERT_NE(old_key, nullptr);
  ASSERT_NE(new_key, nullptr);
  EXPECT_EQ(old_key->valid_until_us, rotation);
  EXPECT_EQ(new_key->valid_from_us, rotation);

  const int64_t later = rotation + kDay;
  EXPECT_TRUE(trust.CheckKeyFor(*old_key, "pk-fwo", rotation - kHour, later).ok());
  const Status old_after = trust.CheckKeyFor(*old_key, "pk-fwo", rotation, later);
  EXPECT_EQ(old_after.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(old_after.message().find("valid until"), std::string::npos);
  EXPECT_TRUE(trust.CheckKeyFor(*new_key, "pk-fwo", rotation, later).ok());
  EXPECT_EQ(trust.CheckKeyFor(*new_key, "pk-fwo", rotation - kHour, later).code(),
            StatusCode::kPermissionDenied);
}

TEST_F(RegistryEditTest, RotatedRegistrarKeySignsTheVersionAfter) {
  const int64_t rotation = kT0 + kDay;
  const SigningKey new_a = FixedKey("reg-a", 42);
  const RegistryFile v1 = InForce(1);
  auto v2 = SignPending(Apply(RotateKey(v1, "reg-a", new_a.public_key, rotation, rotation)),
                        reg_a_);  // version 1 lists only the old key
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  ASSERT_TRUE(v2->in_force);
  const RegistryFile draft3 = Apply(SetThreshold(v2->file, 1, rotation + kDay));
  // Version 3 is issued after the rotation: the old key has ended, the new one signs.
  EXPECT_EQ(SignPending(draft3, reg_a_).status().code(), StatusCode::kPermissionDenied);
  auto v3 = SignPending(draft3, new_a);
  ASSERT_TRUE(v3.ok()) << v3.status().ToString();
  EXPECT_TRUE(v3->in_force);
  EXPECT_EQ(Trust(v3->file).version(), 3u);
}

TEST_F(RegistryEditTest, RevokeSetsRevokedAtOnce) {
  const int64_t revoked = kT0 + 5 * kDay;
  const RegistryFile file = InForce(1);
  const RegistryFile draft = Apply(RevokeKey(file, mine_.key_id, revoked, kT0 + kDay));
  auto again = RevokeKey(draft, mine_.key_id, revoked, kT0 + kDay);
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(RevokeKey(draft, std::string(32, 'a'), revoked, kT0).status().code(),
            StatusCode::kNotFound);
  auto signed_v2 = SignPending(draft, reg_a_);
  ASSERT_TRUE(signed_v2.ok()) << signed_v2.status().ToString();
  const TrustRegistry trust = Trust(signed_v2->file);
  const KeyRecord* key = trust.FindKey(mine_.key_id);
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(key->revoked_at_us, revoked);
  EXPECT_EQ(trust.CheckKeyFor(*key, "pk-fwo", revoked - kDay, revoked + kHour).code(),
            StatusCode::kPermissionDenied);
  EXPECT_TRUE(trust.CheckKeyFor(*key, "pk-fwo", revoked - kDay, revoked - kHour).ok());
}

TEST_F(RegistryEditTest, AddParticipantRefusesBadOrDuplicateInput) {
  const RegistryFile file = InForce(1);
  auto dup = AddParticipant(file, {"pk-fwo", "Again", "PK", {cairn::v1::ROLE_MINE}}, std::nullopt,
                            kT0 + kDay);
  EXPECT_EQ(dup.status().code(), StatusCode::kAlreadyExists);
  auto country = AddParticipant(file, {"mm-kia", "Kachin", "Myanmar", {cairn::v1::ROLE_TRADER}},
                                std::nullopt, kT0 + kDay);
  EXPECT_EQ(country.status().code(), StatusCode::kInvalidArgument);
  auto id = AddParticipant(file, {"MM KIA", "Kachin", "MM", {cairn::v1::ROLE_TRADER}}, std::nullopt,
                           kT0 + kDay);
  EXPECT_EQ(id.status().code(), StatusCode::kInvalidArgument);
  auto no_roles = AddParticipant(file, {"mm-kia", "Kachin", "MM", {}}, std::nullopt, kT0 + kDay);
  EXPECT_EQ(no_roles.status().code(), StatusCode::kInvalidArgument);
  auto reused_key = AddParticipant(file, {"mm-kia", "Kachin", "MM", {cairn::v1::ROLE_TRADER}},
                                   NewKey{mine_.public_key, 0}, kT0 + kDay);
  EXPECT_EQ(reused_key.status().code(), StatusCode::kAlreadyExists);
  auto log_operator = AddLog(file, "other-log", "nobody", NewKey{reg_c_.public_key, 0}, kT0);
  EXPECT_EQ(log_operator.status().code(), StatusCode::kNotFound);
}

TEST_F(RegistryEditTest, AddParticipantKeyAddsToExistingParticipant) {
  const RegistryFile file = InForce(1);
  const SigningKey second = FixedKey("pk-fwo", 43);
  auto edit = AddParticipantKey(file, "pk-fwo", NewKey{second.public_key, kT0}, kT0 + kDay);
  ASSERT_TRUE(edit.ok()) << edit.status().ToString();
  auto signed_v2 = SignPending(edit->file, reg_a_);
  ASSERT_TRUE(signed_v2.ok()) << signed_v2.status().ToString();
  // The registry must outlive the record it answers (ASan caught a temporary here).
  const TrustRegistry trust = Trust(signed_v2->file);
  const KeyRecord* key = trust.FindKey(second.key_id);
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(key->owner, "pk-fwo");
  EXPECT_EQ(AddParticipantKey(file, "nobody", NewKey{second.public_key, 0}, kT0).status().code(),
            StatusCode::kNotFound);
}

TEST_F(RegistryEditTest, EditRefusesChainThatDoesNotVerify) {
  RegistryFile file = InForce(1);
  std::string sig = file.versions(0).signatures(0).signature();
  sig[0] ^= 1;
  file.mutable_versions(0)->mutable_signatures(0)->set_signature(sig);
  EXPECT_EQ(SetThreshold(file, 1, kT0).status().code(), StatusCode::kDataLoss);
}

TEST_F(RegistryEditTest, SignRefusesDraftThatDoesNotValidate) {
  auto file = InitRegistry("cairn-test", 2, kT0);
  ASSERT_TRUE(file.ok());
  const RegistryFile f = Apply(AddParticipant(
      *file, {"reg-a", "A", "CH", {cairn::v1::ROLE_REGISTRAR}}, NewKey{reg_a_.public_key, 0}, kT0));
  auto signed_a = SignPending(f, reg_a_);  // threshold 2, one registrar
  EXPECT_EQ(signed_a.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(SignPending(InForce(1), reg_a_).status().code(), StatusCode::kFailedPrecondition);
}

// ---- files

class RegistryFileTest : public RegistryEditTest {
 protected:
  void SetUp() override {
    RegistryEditTest::SetUp();
    std::string tmpl = (fs::temp_directory_path() / "cairn-registry-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string dir_;
};

TEST_F(RegistryFileTest, WritesJsonAndReadsItBack) {
  const RegistryFile file = InForce(2);
  const std::string path = dir_ + "/registry.json";
  ASSERT_TRUE(WriteRegistryFile(path, file).ok());
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str().rfind("{", 0), 0u);
  EXPECT_NE(text.str().find("\"versions\""), std::string::npos);
  auto read = ReadRegistryFile(path);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->SerializeAsString(), file.SerializeAsString());
  auto loaded = TrustRegistry::Load(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->version(), 1u);
  // Replacing it leaves no temporary file behind.
  ASSERT_TRUE(WriteRegistryFile(path, file).ok());
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) ++entries;
  EXPECT_EQ(entries, 1);
}

TEST_F(RegistryFileTest, ReadsBinary) {
  const RegistryFile file = InForce(1);
  const std::string path = dir_ + "/registry.bin";
  std::ofstream(path, std::ios::binary) << file.SerializeAsString();
  auto read = ReadRegistryFile(path);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->SerializeAsString(), file.SerializeAsString());
}

TEST_F(RegistryFileTest, CreateRefusesExistingFile) {
  const std::string path = dir_ + "/registry.json";
  auto file = InitRegistry("cairn-test", 1, kT0);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE(CreateRegistryFile(path, *file).ok());
  EXPECT_EQ(CreateRegistryFile(path, *file).code(), StatusCode::kAlreadyExists);
}

TEST_F(RegistryFileTest, MissingOrMalformedFileIsRefused) {
  EXPECT_EQ(ReadRegistryFile(dir_ + "/missing.json").status().code(), StatusCode::kNotFound);
  const std::string path = dir_ + "/bad.json";
  std::ofstream(path) << "{\"versions\": 3}";
  EXPECT_EQ(ReadRegistryFile(path).status().code(), StatusCode::kInvalidArgument);
}

TEST(RegistryRoleTest, ParsesRolesCaseInsensitively) {
  EXPECT_EQ(*ParseRole("mine"), cairn::v1::ROLE_MINE);
  EXPECT_EQ(*ParseRole("Registrar"), cairn::v1::ROLE_REGISTRAR);
  EXPECT_EQ(*ParseRole("ROLE_LAB"), cairn::v1::ROLE_LAB);
  EXPECT_FALSE(ParseRole("miner").ok());
  EXPECT_FALSE(ParseRole("UNSPECIFIED").ok());
  EXPECT_EQ(RoleName(cairn::v1::ROLE_LOGISTICS), "LOGISTICS");
}

}  // namespace
}  // namespace cairn::keys
