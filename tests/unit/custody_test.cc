#include "ledger/custody.h"

#include <gtest/gtest.h>

#include "ledger/memory_state.h"
#include "tests/unit/test_world.h"

namespace cairn::ledger {
namespace {

using cairn::testing::Body;
using cairn::testing::DispatchOf;
using cairn::testing::PakistanExtraction;
using cairn::testing::ReceiptOf;
using cairn::testing::Separation;

constexpr char kLot[] = "pk-fwo:CHG-2025-0001";

class CustodyTest : public ::testing::Test {
 protected:
  // Checks and, when accepted, applies the event; returns the status.
  Status Submit(const cairn::v1::EventBody& body, std::string* id = nullptr) {
    const ParsedEvent e = world_.Sign(body);
    auto fx = CheckAndPlanCustody(e, state_);
    if (fx.ok()) state_.Apply(e, *fx);
    if (id != nullptr) *id = e.id_hex;
    return fx.status();
  }
  uint64_t Held(const std::string& lot, const std::string& who) {
    return *state_.Holding(lot, who);
  }

  cairn::testing::TestWorld world_;
  MemoryCustodyState state_;
};

TEST_F(CustodyTest, ExtractionCreatesLotHeldByMine) {
  ASSERT_TRUE(Submit(PakistanExtraction()).ok());
  EXPECT_EQ(Held(kLot, "pk-fwo"), 20'000'000u);
}

TEST_F(CustodyTest, RefusesLotCreatedTwice) {
  ASSERT_TRUE(Submit(PakistanExtraction()).ok());
  auto again = PakistanExtraction();
  again.mutable_extraction()->set_mass_g(1);  // a different event, same lot id
  const Status s = Submit(again);
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(s.message().find("Extraction.lot_id"), std::string::npos);
}

TEST_F(CustodyTest, DispatchMovesMassIntoTransitAndReceiptToReceiver) {
  ASSERT_TRUE(Submit(PakistanExtraction()).ok());
  std::string dispatch_id;
  ASSERT_TRUE(Submit(DispatchOf("pk-fwo", "us-usm", kLot, 8'000'000), &dispatch_id).ok());
  EXPECT_EQ(Held(kLot, "pk-fwo"), 12'000'000u);
  EXPECT_EQ(Held(kLot, "us-usm"), 0u);
  ASSERT_TRUE(Submit(ReceiptOf("us-usm", dispatch_id, kLot, 7'990'000)).ok());
  EXPECT_EQ(Held(kLot, "us-usm"), 7'990'000u);
}

TEST_F(CustodyTest, ReceiptRecordsTransitLoss) {
  ASSERT_TRUE(Submit(PakistanExtraction()).ok());
  const ParsedEvent d = world_.Sign(DispatchOf("pk-fwo", "us-usm", kLot, 8'000'000));
  state_.Apply(d, *CheckAndPlanCustody(d, state_));
  auto fx =
      CheckAndPlanCustody(world_.Sign(ReceiptOf("us-usm", d.id_hex, kLot, 7'990'000)), state_);
  ASSERT_TRUE(fx.ok());
  EXPECT_EQ(fx->lost.at(kLot), 10'000u);
}

TEST_F(CustodyTest, RefusesDispatchOfLotSenderDoesNotHold) {
  ASSERT_TRUE(Submit(PakistanExtraction()).ok());
  std::string dispatch_id;
  ASSERT_TRUE(Submit(DispatchOf("pk-fwo", "us-usm", kLot, 8'000'000), &dispatch_id).ok());
  // us-usm has not received yet, so it holds nothing to send on.
  const Status s = Submit(DispatchOf("us-usm", "jp-magnets", kLot, 1'000));
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("us-usm does not hold lot"), std::string::npos) << s.message();
}

TEST_F(CustodyTest, RefusesDispatchBeyondRemainingMass) {
  ASSERT_TRUE(Submit(PakistanExtraction()).ok());
  ASSERT_TRUE(Submit(DispatchOf("pk-fwo", "us-usm", kLot, 15'000'000)).ok());
  const Status s = Submit(DispatchOf("pk-fwo", "us-usm", kLot, 5'000'001));
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("holds only 5000000 g"), std::string::npos) << s.message();
  EXPECT_TRUE(Submit(DispatchOf("pk-fwo", "us-usm", kLot, 5'000'000)).ok());
}

TEST_F(CustodyTest, RefusesDispatchOfUnknownLot) {
  EXPECT_EQ(Submit(DispatchOf("pk-fwo", "us-usm", "pk-fwo:NOPE", 5)).code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(CustodyTest, RefusesReceiptOfDispatchAddressedToAnother) {
  ASSERT_TRUE(Submit(PakistanExtraction()).ok());
  std::string dispatch_id;
  ASSERT_TRUE(Submit(DispatchOf("pk-fwo", "us-usm", kLot, 8'000'000), &dispatch_id).ok());
  const Status s = Submit(ReceiptOf("jp-magnets", dispatch_id, kLot, 8'000'000));
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("addressed to us-usm"), std::string::npos);
}

TEST_F(CustodyTest, RefusesSecondReceiptOfOneDispatch) {
  ASSERT_TRUE(Submit(PakistanExtraction()).ok());
  std::string dispatch_id;
  ASSERT_TRUE(Submit(DispatchOf("pk-fwo", "us-usm", kLot, 8'000'000), &dispatch_id).ok());
  ASSERT_TRUE(Submit(ReceiptOf("us-usm", dispatch_id, kLot, 8'000'000)).ok());
  auto again = ReceiptOf("us-usm", dispatch_id, kLot, 8'000'000);
  again.mutable_receipt()->set_notes("second time");
  EXPECT_EQ(Submit(again).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(Held(kLot, "us-usm"), 8'000'000u);
}

TEST_F(CustodyTest, RefusesReceiptOfUnknownDispatch) {
  EXPECT_EQ(Submit(ReceiptOf("us-usm", std::string(64, 'b'), kLot, 5)).code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(CustodyTest, RefusesReceiptOfLotNotInDispatchOrBeyondTolerance) {
  ASSERT_TRUE(Submit(PakistanExtraction()).ok());
  std::string dispatch_id;
  ASSERT_TRUE(Submit(DispatchOf("pk-fwo", "us-usm", kLot, 8'000'000), &dispatch_id).ok());
  EXPECT_EQ(Submit(ReceiptOf("us-usm", dispatch_id, "pk-fwo:OTHER", 5)).code(),
            StatusCode::kFailedPrecondition);
  // 0.5% tolerance: 8,040,000 g allowed, 8,040,001 g not.
  EXPECT_EQ(Submit(ReceiptOf("us-usm", dispatch_id, kLot, 8'040'001)).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Submit(ReceiptOf("us-usm", dispatch_id, kLot, 8'040'000)).ok());
}

TEST_F(CustodyTest, TransformationConsumesInputsAndCreatesOutputs) {
  ASSERT_TRUE(Submit(PakistanExtraction()).ok());
  std::string dispatch_id;
  ASSERT_TRUE(Submit(DispatchOf("pk-fwo", "us-usm", kLot, 8'000'000), &dispatch_id).ok());
  ASSERT_TRUE(Submit(ReceiptOf("us-usm", dispatch_id, kLot, 8'000'000)).ok());
  ASSERT_TRUE(Submit(Separation("us-usm", kLot, 8'000'000, "us-usm:NDPR-1", 1'100'000)).ok());
  EXPECT_EQ(Held(kLot, "us-usm"), 0u);
  EXPECT_EQ(Held("us-usm:NDPR-1", "us-usm"), 1'100'000u);
}

TEST_F(CustodyTest, RefusesOverConsumption) {
  ASSERT_TRUE(Submit(PakistanExtraction()).ok());
  std::string dispatch_id;
  ASSERT_TRUE(Submit(DispatchOf("pk-fwo", "us-usm", kLot, 8'000'000), &dispatch_id).ok());
  ASSERT_TRUE(Submit(ReceiptOf("us-usm", dispatch_id, kLot, 8'000'000)).ok());
  const Status s = Submit(Separation("us-usm", kLot, 9'000'000, "us-usm:NDPR-1", 1'100'000));
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("Transformation.inputs[0].mass_g"), std::string::npos);
  EXPECT_EQ(Held(kLot, "us-usm"), 8'000'000u);
}

TEST_F(CustodyTest, RefusesUnknownRef) {
  auto b = PakistanExtraction();
  b.add_refs()->set_event_id(std::string(64, 'c'));
  const Status s = Submit(b);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("EventBody.refs[0].event_id"), std::string::npos);
}

TEST_F(CustodyTest, AcceptsKnownRef) {
  std::string first;
  ASSERT_TRUE(Submit(PakistanExtraction(), &first).ok());
  auto b = PakistanExtraction("pk-fwo:CHG-2025-0002");
  b.add_refs()->set_event_id(first);
  EXPECT_TRUE(Submit(b).ok());
}

TEST_F(CustodyTest, CorrectionOnlyByOriginalAuthor) {
  std::string extraction_id;
  ASSERT_TRUE(Submit(PakistanExtraction(), &extraction_id).ok());
  auto c = Body("us-usm");
  c.mutable_correction()->set_event_id(extraction_id);
  c.mutable_correction()->set_reason("not ours");
  c.mutable_correction()->set_notes("x");
  EXPECT_EQ(Submit(c).code(), StatusCode::kPermissionDenied);
  c.set_author("pk-fwo");
  EXPECT_TRUE(Submit(c).ok());
}

TEST_F(CustodyTest, AttestationNeedsKnownSubject) {
  auto a = Body("sgs-lab");
  a.mutable_attestation()->set_lot_id(kLot);
  a.mutable_attestation()->set_kind(cairn::v1::ATTESTATION_KIND_ASSAY);
  EXPECT_EQ(Submit(a).code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(Submit(PakistanExtraction()).ok());
  EXPECT_TRUE(Submit(a).ok());
}

}  // namespace
}  // namespace cairn::ledger
