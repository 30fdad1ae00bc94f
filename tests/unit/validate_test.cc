#include "ledger/validate.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "tests/unit/test_world.h"

namespace cairn::ledger {
namespace {

using cairn::testing::Body;
using cairn::testing::DispatchOf;
using cairn::testing::kTestNow;
using cairn::testing::PakistanExtraction;
using cairn::testing::ReceiptOf;
using cairn::testing::Separation;

const std::string kSomeEventId(64, 'a');

// Expects `body` to fail schema validation with INVALID_ARGUMENT naming `field`.
void ExpectRefused(const cairn::v1::EventBody& body, const std::string& field) {
  const Status s = ValidateSchema(body);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find(field), std::string::npos)
      << "message \"" << s.message() << "\" does not name " << field;
}

TEST(ValidateSchemaTest, AcceptsEveryWellFormedKind) {
  EXPECT_TRUE(ValidateSchema(PakistanExtraction()).ok());
  EXPECT_TRUE(ValidateSchema(DispatchOf("pk-fwo", "us-usm", "pk-fwo:A", 5)).ok());
  EXPECT_TRUE(ValidateSchema(ReceiptOf("us-usm", kSomeEventId, "pk-fwo:A", 5)).ok());
  EXPECT_TRUE(ValidateSchema(Separation("us-usm", "pk-fwo:A", 5, "us-usm:B", 2)).ok());
  auto att = Body("sgs-lab");
  att.mutable_attestation()->set_lot_id("pk-fwo:A");
  att.mutable_attestation()->set_kind(cairn::v1::ATTESTATION_KIND_ASSAY);
  EXPECT_TRUE(ValidateSchema(att).ok());
  auto cor = Body("pk-fwo");
  cor.mutable_correction()->set_event_id(kSomeEventId);
  cor.mutable_correction()->set_reason("seal number mistyped");
  cor.mutable_correction()->mutable_transport()->add_seal_numbers("PK-SEAL-778813");
  EXPECT_TRUE(ValidateSchema(cor).ok());
}

TEST(ValidateSchemaTest, RefusesMalformedAuthor) {
  auto b = PakistanExtraction();
  b.set_author("PK_FWO");
  ExpectRefused(b, "EventBody.author");
  b.set_author("");
  ExpectRefused(b, "EventBody.author");
}

TEST(ValidateSchemaTest, RefusesMissingOccurredAt) {
  auto b = PakistanExtraction();
  b.clear_occurred_at();
  ExpectRefused(b, "EventBody.occurred_at");
}

TEST(ValidateSchemaTest, RefusesMissingKind) { ExpectRefused(Body("pk-fwo"), "EventBody.kind"); }

TEST(ValidateSchemaTest, RefusesMalformedRef) {
  auto b = PakistanExtraction();
  b.add_refs()->set_event_id("not-hex");
  ExpectRefused(b, "EventBody.refs[0].event_id");
}

TEST(ValidateSchemaTest, RefusesZeroMass) {
  ExpectRefused(PakistanExtraction("pk-fwo:A", 0), "Extraction.mass_g: got 0, want > 0");
  auto d = DispatchOf("pk-fwo", "us-usm", "pk-fwo:A", 0);
  ExpectRefused(d, "Dispatch.lots[0].mass_g: got 0");
}

TEST(ValidateSchemaTest, RefusesAbsurdMass) {
  ExpectRefused(PakistanExtraction("pk-fwo:A", std::numeric_limits<uint64_t>::max()),
                "Extraction.mass_g");
}

TEST(ValidateSchemaTest, RefusesCompositionAboveOneMillionPpm) {
  auto b = PakistanExtraction();
  (*b.mutable_extraction()->mutable_composition_ppm())["Ce"] = 950000;  // 1,031,600 ppm in all
  ExpectRefused(b, "Extraction.composition_ppm");
}

TEST(ValidateSchemaTest, GradeIsNotSummedWithElements) {
  auto b = PakistanExtraction();  // TREO 60% + Nd 12% + Pr 4%
  (*b.mutable_extraction()->mutable_composition_ppm())["Fe"] =
      800000;  // elements 88%, with TREO 148%
  EXPECT_TRUE(ValidateSchema(b).ok());
}

TEST(ValidateSchemaTest, RefusesUnknownElementSymbol) {
  auto b = PakistanExtraction();
  (*b.mutable_extraction()->mutable_composition_ppm())["Neodymium"] = 1;
  ExpectRefused(b, "Extraction.composition_ppm[\"Neodymium\"]");
}

TEST(ValidateSchemaTest, RefusesNonIsoCountry) {
  auto b = PakistanExtraction();
  b.mutable_extraction()->mutable_site()->set_country("XX");
  ExpectRefused(b, "Extraction.site.country");
  b.mutable_extraction()->mutable_site()->set_country("pk");
  ExpectRefused(b, "Extraction.site.country");
}

TEST(ValidateSchemaTest, RefusesNanOrOutOfRangeCoordinates) {
  auto b = PakistanExtraction();
  b.mutable_extraction()->mutable_site()->set_lat(std::nan(""));
  ExpectRefused(b, "Extraction.site.lat");
  b = PakistanExtraction();
  b.mutable_extraction()->mutable_site()->set_lon(181);
  ExpectRefused(b, "Extraction.site.lon");
}

TEST(ValidateSchemaTest, RefusesLotIdOfAnotherCreator) {
  ExpectRefused(PakistanExtraction("us-usm:CHG-1"), "Extraction.lot_id");
  ExpectRefused(Separation("us-usm", "pk-fwo:A", 5, "pk-fwo:B", 2),
                "Transformation.outputs[0].lot_id");
}

TEST(ValidateSchemaTest, RefusesMalformedLotId) {
  ExpectRefused(PakistanExtraction("pk-fwo:"), "Extraction.lot_id");
  ExpectRefused(PakistanExtraction("pk-fwo:has space"), "Extraction.lot_id");
  ExpectRefused(DispatchOf("pk-fwo", "us-usm", "nolotcolon", 5), "Dispatch.lots[0].lot_id");
}

TEST(ValidateSchemaTest, RefusesMissingSite) {
  auto b = PakistanExtraction();
  b.mutable_extraction()->clear_site();
  ExpectRefused(b, "Extraction.site");
}

TEST(ValidateSchemaTest, RefusesMissingMaterial) {
  auto b = PakistanExtraction();
  b.mutable_extraction()->clear_material();
  ExpectRefused(b, "Extraction.material: required");
}

TEST(ValidateSchemaTest, RefusesDocumentWithoutDigest) {
  auto b = PakistanExtraction();
  auto* doc = b.mutable_extraction()->add_documents();
  doc->set_kind("assay_certificate");
  doc->set_sha256("1234");
  ExpectRefused(b, "Extraction.documents[0].sha256");
}

TEST(ValidateSchemaTest, RefusesDispatchToSelf) {
  ExpectRefused(DispatchOf("pk-fwo", "pk-fwo", "pk-fwo:A", 5), "Dispatch.recipient");
}

TEST(ValidateSchemaTest, RefusesDispatchWithoutLots) {
  auto d = DispatchOf("pk-fwo", "us-usm", "pk-fwo:A", 5);
  d.mutable_dispatch()->clear_lots();
  ExpectRefused(d, "Dispatch.lots");
}

TEST(ValidateSchemaTest, RefusesLotListedTwice) {
  auto d = DispatchOf("pk-fwo", "us-usm", "pk-fwo:A", 5);
  *d.mutable_dispatch()->add_lots() = d.dispatch().lots(0);
  ExpectRefused(d, "Dispatch.lots[1].lot_id");
}

TEST(ValidateSchemaTest, RefusesMalformedHsCode) {
  auto d = DispatchOf("pk-fwo", "us-usm", "pk-fwo:A", 5);
  d.mutable_dispatch()->set_hs_code("rare earths");
  ExpectRefused(d, "Dispatch.hs_code");
}

TEST(ValidateSchemaTest, RefusesReceiptWithoutDispatchId) {
  ExpectRefused(ReceiptOf("us-usm", "", "pk-fwo:A", 5), "Receipt.dispatch_event_id");
}

TEST(ValidateSchemaTest, RefusesTransformationAtStageMined) {
  auto t = Separation("us-usm", "pk-fwo:A", 5, "us-usm:B", 2);
  t.mutable_transformation()->set_stage(cairn::v1::STAGE_MINED);
  ExpectRefused(t, "Transformation.stage");
}

TEST(ValidateSchemaTest, RefusesTransformationWithoutOutputs) {
  auto t = Separation("us-usm", "pk-fwo:A", 5, "us-usm:B", 2);
  t.mutable_transformation()->clear_outputs();
  ExpectRefused(t, "Transformation.outputs");
}

TEST(ValidateSchemaTest, RefusesTransformationWithoutFacilityCountry) {
  auto t = Separation("us-usm", "pk-fwo:A", 5, "us-usm:B", 2);
  t.mutable_transformation()->mutable_facility()->clear_country();
  ExpectRefused(t, "Transformation.facility.country");
}

TEST(ValidateSchemaTest, RefusesAttestationWithoutSubjectOrKind) {
  auto a = Body("sgs-lab");
  a.mutable_attestation()->set_kind(cairn::v1::ATTESTATION_KIND_ASSAY);
  ExpectRefused(a, "Attestation.subject");
  a.mutable_attestation()->set_lot_id("pk-fwo:A");
  a.mutable_attestation()->set_kind(cairn::v1::ATTESTATION_KIND_UNSPECIFIED);
  ExpectRefused(a, "Attestation.kind");
}

TEST(ValidateSchemaTest, RefusesCorrectionWithoutReasonOrContent) {
  auto c = Body("pk-fwo");
  c.mutable_correction()->set_event_id(kSomeEventId);
  c.mutable_correction()->set_notes("x");
  ExpectRefused(c, "Correction.reason");
  c.mutable_correction()->set_reason("typo");
  c.mutable_correction()->clear_notes();
  ExpectRefused(c, "Correction");
}

TEST(ValidateSchemaTest, RefusesControlCharactersInNames) {
  auto b = PakistanExtraction();
  b.mutable_extraction()->set_material("REE\x01 concentrate");
  ExpectRefused(b, "Extraction.material");
}

TEST(ParseSignedEventTest, RefusesEmptyRandomAndOversizedBodies) {
  cairn::v1::SignedEvent se;
  se.set_key_id(std::string(32, 'a'));
  se.set_signature(std::string(64, 'x'));
  EXPECT_EQ(ParseSignedEvent(se).status().code(), StatusCode::kInvalidArgument);
  se.set_body("\xff\xff\xff\xff garbage");
  EXPECT_EQ(ParseSignedEvent(se).status().code(), StatusCode::kInvalidArgument);
  se.set_body(std::string(kMaxEventBodyBytes + 1, 'a'));
  EXPECT_EQ(ParseSignedEvent(se).status().code(), StatusCode::kInvalidArgument);
}

TEST(ParseSignedEventTest, RefusesTruncatedBody) {
  const std::string body = PakistanExtraction().SerializeAsString();
  cairn::v1::SignedEvent se;
  se.set_key_id(std::string(32, 'a'));
  se.set_signature(std::string(64, 'x'));
  se.set_body(body.substr(0, body.size() - 5));
  EXPECT_EQ(ParseSignedEvent(se).status().code(), StatusCode::kInvalidArgument);
}

TEST(ParseSignedEventTest, RefusesUnknownFields) {
  std::string body = PakistanExtraction().SerializeAsString();
  body += std::string("\xa0\x06\x01", 3);  // field 100, varint 1
  cairn::v1::SignedEvent se;
  se.set_key_id(std::string(32, 'a'));
  se.set_signature(std::string(64, 'x'));
  se.set_body(body);
  const auto r = ParseSignedEvent(se);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("unknown field"), std::string::npos);
  EXPECT_NE(r.status().message().find("EventBody field 100"), std::string::npos)
      << r.status().message();
}

TEST(ParseSignedEventTest, NamesWhereANestedUnknownFieldSits) {
  auto b = PakistanExtraction();
  b.mutable_extraction()
      ->mutable_site()
      ->GetReflection()
      ->MutableUnknownFields(b.mutable_extraction()->mutable_site())
      ->AddVarint(77, 1);
  cairn::v1::SignedEvent se;
  se.set_key_id(std::string(32, 'a'));
  se.set_signature(std::string(64, 'x'));
  se.set_body(b.SerializeAsString());
  const auto r = ParseSignedEvent(se);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("EventBody.extraction.site field 77"), std::string::npos)
      << r.status().message();
}

TEST(ParseSignedEventTest, EventIdIsSha256OfDomainAndBody) {
  const std::string body = PakistanExtraction().SerializeAsString();
  cairn::v1::SignedEvent se;
  se.set_key_id(std::string(32, 'a'));
  se.set_signature(std::string(64, 'x'));
  se.set_body(body);
  auto r = ParseSignedEvent(se);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->id_hex, ToHex(Sha256("cairn/event/v1\n" + body)));
}

class VerifyAuthorityTest : public ::testing::Test {
 protected:
  cairn::testing::TestWorld world_;
};

TEST_F(VerifyAuthorityTest, AcceptsEventSignedByAuthorsKey) {
  EXPECT_TRUE(VerifyAuthority(world_.Sign(PakistanExtraction()), world_.trust(), kTestNow).ok());
}

TEST_F(VerifyAuthorityTest, RefusesForgedSignature) {
  auto e = world_.Sign(PakistanExtraction());
  std::string sig = e.signed_event.signature();
  sig[0] ^= 0x40;
  e.signed_event.set_signature(sig);
  const Status s = VerifyAuthority(e, world_.trust(), kTestNow);
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated) << s.ToString();
  EXPECT_NE(s.message().find("SignedEvent.signature"), std::string::npos);
}

TEST_F(VerifyAuthorityTest, RefusesUnknownKey) {
  auto e = world_.Sign(PakistanExtraction());
  e.signed_event.set_key_id(std::string(32, '0'));
  EXPECT_EQ(VerifyAuthority(e, world_.trust(), kTestNow).code(), StatusCode::kUnauthenticated);
}

TEST_F(VerifyAuthorityTest, RefusesKeyOfAnotherParticipant) {
  // us-usm signs an event claiming pk-fwo as author.
  const auto body = PakistanExtraction();
  const auto& k = world_.key("us-usm");
  auto e = ParseSignedEvent(SignEvent(body.SerializeAsString(), k.key_id, k.secret_key));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(VerifyAuthority(*e, world_.trust(), kTestNow).code(), StatusCode::kPermissionDenied);
}

TEST_F(VerifyAuthorityTest, RefusesRoleThatDoesNotPermitKind) {
  auto b = PakistanExtraction("us-usm:X");
  b.set_author("us-usm");  // a processor may not extract
  const Status s = VerifyAuthority(world_.Sign(b), world_.trust(), kTestNow);
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("needs role MINE"), std::string::npos) << s.message();
}

TEST_F(VerifyAuthorityTest, RefusesKeyRevokedBeforeAppendEvenIfEventClaimsEarlierTime) {
  auto* key = world_.Participant("pk-fwo")->mutable_keys(0);
  *key->mutable_revoked_at() = FromMicros(kTestNow - 1800000000LL);  // 30 min ago
  world_.Rebuild();
  // The event claims to have occurred an hour ago, before the revocation: still refused.
  const Status s = VerifyAuthority(world_.Sign(PakistanExtraction()), world_.trust(), kTestNow);
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << s.ToString();
}

TEST_F(VerifyAuthorityTest, AcceptsKeyRevokedAfterAppend) {
  auto* key = world_.Participant("pk-fwo")->mutable_keys(0);
  *key->mutable_revoked_at() = FromMicros(kTestNow + 3600000000LL);
  world_.Rebuild();
  EXPECT_TRUE(VerifyAuthority(world_.Sign(PakistanExtraction()), world_.trust(), kTestNow).ok());
}

TEST_F(VerifyAuthorityTest, RefusesDispatchToUnknownRecipient) {
  const Status s = VerifyAuthority(world_.Sign(DispatchOf("pk-fwo", "zz-nobody", "pk-fwo:A", 5)),
                                   world_.trust(), kTestNow);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("Dispatch.recipient"), std::string::npos);
}

TEST(IdentifierTest, ParticipantAndLotIds) {
  EXPECT_TRUE(IsParticipantId("pk-fwo"));
  EXPECT_FALSE(IsParticipantId("p"));
  EXPECT_FALSE(IsParticipantId(std::string(41, 'a')));
  EXPECT_TRUE(IsLotId("pk-fwo:CHG-2025/0001.a_b"));
  EXPECT_EQ(LotCreator("pk-fwo:CHG-1"), "pk-fwo");
  EXPECT_TRUE(IsIsoCountry("MM"));
  EXPECT_FALSE(IsIsoCountry("UK"));
  EXPECT_TRUE(IsElementOrGrade("Dy"));
  EXPECT_FALSE(IsElementOrGrade("dy"));
}

}  // namespace
}  // namespace cairn::ledger
