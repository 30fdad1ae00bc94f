// One rulebook: the node's append checks, LogVerifier and VerifyLineage reach the same verdict on
// the same event, because they call the same ledger checks with the same consortium rules.
#include "ledger/rulebook.h"

#include <gtest/gtest.h>

#include "ledger/lineage_verifier.h"
#include "ledger/log_verifier.h"
#include "ledger/memory_state.h"
#include "ledger/policy.h"
#include "ledger/validate.h"
#include "tests/unit/test_log.h"
#include "tests/unit/test_world.h"

namespace cairn::ledger {
namespace {

using cairn::testing::Body;
using cairn::testing::DispatchOf;
using cairn::testing::kTestNow;
using cairn::testing::PakistanExtraction;
using cairn::testing::ReceiptOf;
using cairn::testing::TestLog;
using cairn::testing::TestWorld;

constexpr char kLot[] = "pk-fwo:CHG-2025-0001";

class RulebookTest : public ::testing::Test {
 protected:
  RulebookTest() : log_(world_.log_key()) {}

  std::string Add(const cairn::v1::EventBody& body) {
    return log_.id(log_.Append(world_.Sign(body)));
  }

  // LogVerifier over every entry of log_, as `cairn verify --log` runs it.
  LogVerdict VerifyLog() {
    LogVerifier verifier("demo-log", world_.trust());
    const cairn::v1::EvidenceBundle bundle = log_.Bundle(kLot);
    for (const auto& entry : bundle.entries()) verifier.Add(entry.index(), entry.entry());
    return verifier.Finish(bundle.checkpoints(0));
  }

  LineageReport VerifyBundle(const std::string& lot, const Policy* policy = nullptr) {
    LineageOptions options;
    options.as_of_us = kTestNow;
    options.policy = policy;
    options.threads = 1;
    return VerifyLineage(log_.Bundle(lot), world_.trust(), options);
  }

  // What the node's writer would say of `body` after the events in `state`.
  Status NodeVerdict(const cairn::v1::EventBody& body, MemoryCustodyState& state) {
    const ParsedEvent e = world_.Sign(body);
    return CheckEvent(e, world_.trust(), "demo-log", kTestNow, state).status();
  }

  static bool HasFinding(const LineageReport& report, Severity severity, const std::string& check) {
    for (const Finding& f : report.findings) {
      if (f.severity == severity && f.check == check) return true;
    }
    return false;
  }

  TestWorld world_;
  TestLog log_;
};

// Defect 1: the auditors skipped schema validation, so a colluding node and author could declare
// more of an element than a lot can hold.
TEST_F(RulebookTest, VerifiersRefuseWhatTheSchemaRefuses) {
  auto inflated = PakistanExtraction(kLot, 1'000'000);                            // a 1 t lot...
  (*inflated.mutable_extraction()->mutable_composition_ppm())["Dy"] = 3'000'000;  // ...of 3 t Dy
  MemoryCustodyState state;
  EXPECT_EQ(NodeVerdict(inflated, state).code(), StatusCode::kInvalidArgument);

  Add(inflated);
  const LogVerdict log = VerifyLog();
  ASSERT_TRUE(log.bad_index.has_value());
  EXPECT_EQ(*log.bad_index, 0u);
  EXPECT_EQ(log.problem.code(), StatusCode::kInvalidArgument) << log.problem.ToString();
  EXPECT_NE(log.problem.message().find("composition_ppm"), std::string::npos)
      << log.problem.message();

  const LineageReport lineage = VerifyBundle(kLot);
  EXPECT_EQ(lineage.ExitCode(), 1);
  EXPECT_TRUE(HasFinding(lineage, Severity::kIntegrity, "schema"));
}

// A follower verifies signatures on its reader thread ahead of the sequential checks: the
// verifier trusts that only for the registry's own key of the event's key id.
TEST_F(RulebookTest, ASignatureVerifiedAheadCountsOnlyUnderTheRegistrysKeyForItsKeyId) {
  ParsedEvent forged = world_.Sign(PakistanExtraction(kLot));
  std::string& signature = *forged.signed_event.mutable_signature();
  signature[3] ^= 0x01;
  Add(PakistanExtraction("pk-fwo:CHG-2025-0002"));  // index 0: a sound entry of another lot
  log_.Append(forged);
  const cairn::v1::EvidenceBundle bundle = log_.Bundle("");
  ASSERT_EQ(bundle.entries_size(), 2);
  const std::string& bytes = bundle.entries(1).entry();
  for (const std::string& claimed :
       {std::string(), world_.key("us-usm").public_key, std::string(32, '\0')}) {
    LogVerifier verifier("demo-log", world_.trust());
    ASSERT_TRUE(verifier.Add(0, bundle.entries(0).entry()));
    EXPECT_FALSE(verifier.Add(1, bytes, claimed));
    EXPECT_EQ(verifier.verdict().problem.code(), StatusCode::kUnauthenticated)
        << verifier.verdict().problem.ToString();
  }
}

// Federation: an event stands only in its author's home log, for the node and both verifiers alike.
TEST_F(RulebookTest, AnEventOutsideItsAuthorsHomeLogIsRefusedByEveryone) {
  auto* mine_log = world_.registry().add_logs();
  mine_log->set_log_id("pk-fwo-log");
  mine_log->set_operator_("pk-fwo");
  *mine_log->add_keys() = cairn::testing::ToProtoKey(cairn::testing::KeyFromSeed(41));
  mine_log->add_hosts("pk-fwo");
  world_.Rebuild();
  ASSERT_NE(world_.trust().HomeLogOf("pk-fwo"), nullptr);
  EXPECT_EQ(*world_.trust().HomeLogOf("pk-fwo"), "pk-fwo-log");
  EXPECT_EQ(world_.trust().HomeLogOf("us-usm"), nullptr) << "no log hosts it";

  const auto extraction = PakistanExtraction(kLot);
  MemoryCustodyState state;
  const Status node = NodeVerdict(extraction, state);  // on demo-log
  EXPECT_EQ(node.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(node.message().find("pk-fwo's home log is pk-fwo-log"), std::string::npos)
      << node.message();
  EXPECT_TRUE(
      CheckEvent(world_.Sign(extraction), world_.trust(), "pk-fwo-log", kTestNow, state).ok());

  Add(extraction);  // a demo-log that holds it anyway
  const LogVerdict log = VerifyLog();
  ASSERT_TRUE(log.bad_index.has_value());
  EXPECT_EQ(*log.bad_index, 0u);
  EXPECT_EQ(log.problem.code(), StatusCode::kPermissionDenied) << log.problem.ToString();
  const LineageReport lineage = VerifyBundle(kLot);
  EXPECT_EQ(lineage.ExitCode(), 1);
}

// Defect 2: the receipt tolerance is the registry's, read alike by the node and both verifiers.
TEST_F(RulebookTest, ReceiptToleranceComesFromTheRegistry) {
  MemoryCustodyState state;  // what the node holds before the receipt
  const ParsedEvent x = world_.Sign(PakistanExtraction(kLot, 20'000'000));
  state.Apply(x, *CheckEvent(x, world_.trust(), "demo-log", kTestNow, state));
  log_.Append(x);
  const ParsedEvent d = world_.Sign(DispatchOf("pk-fwo", "us-usm", kLot, 10'000'000));
  state.Apply(d, *CheckEvent(d, world_.trust(), "demo-log", kTestNow, state));
  log_.Append(d);
  const auto over = ReceiptOf("us-usm", d.id_hex, kLot, 10'080'000);  // 0.8% over
  Add(over);

  // Default rules (0.5%): refused by all three.
  EXPECT_EQ(NodeVerdict(over, state).code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(VerifyLog().bad_index.has_value());
  EXPECT_EQ(VerifyBundle(kLot).ExitCode(), 1);

  // The consortium agrees on 1%: accepted by all three.
  world_.registry().mutable_rules()->set_receipt_tolerance_ppm(10'000);
  world_.Rebuild();
  EXPECT_EQ(RulesOf(world_.trust()).receipt_tolerance_ppm, 10'000u);
  EXPECT_TRUE(NodeVerdict(over, state).ok());
  const LogVerdict log = VerifyLog();
  EXPECT_FALSE(log.bad_index.has_value()) << log.problem.ToString();
  EXPECT_EQ(VerifyBundle(kLot).ExitCode(), 0);
}

TEST(ConsortiumRulesTest, ReceiptLimitIsExactIntegerArithmetic) {
  ConsortiumRules rules;
  EXPECT_EQ(rules.receipt_tolerance_ppm, 5000u);
  EXPECT_EQ(ReceiptLimitG(10'000'000, rules), 10'050'000u);
  EXPECT_EQ(ReceiptLimitG(199, rules), 199u);  // 0.995 g of slack rounds down
  rules.receipt_tolerance_ppm = 0;
  EXPECT_EQ(ReceiptLimitG(10'000'000, rules), 10'000'000u);
  rules.receipt_tolerance_ppm = 1'000'000;
  EXPECT_EQ(ReceiptLimitG(UINT64_MAX / 2 + 1, rules), UINT64_MAX);
}

// A receipt short of its dispatch is a transit loss the auditor sees; the policy may bound it.
TEST_F(RulebookTest, TransitLossIsReportedAndThePolicyMayFailIt) {
  Add(PakistanExtraction(kLot, 20'000'000));
  const std::string dispatch = Add(DispatchOf("pk-fwo", "us-usm", kLot, 10'000'000));
  Add(ReceiptOf("us-usm", dispatch, kLot, 9'500'000));  // 5% lost on the way

  const LineageReport plain = VerifyBundle(kLot);
  EXPECT_EQ(plain.ExitCode(), 0);
  bool noted = false;
  for (const Finding& f : plain.findings) {
    if (f.check != "transit_loss") continue;
    noted = true;
    EXPECT_EQ(f.severity, Severity::kNote);
    EXPECT_EQ(f.lot_id, kLot);
    EXPECT_NE(f.message.find("500.000 kg (5.0%)"), std::string::npos) << f.message;
  }
  EXPECT_TRUE(noted);

  auto policy = ParsePolicy("name = \"loss\"\nmax_transit_loss = 0.01\n");
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  const LineageReport strict = VerifyBundle(kLot, &*policy);
  EXPECT_EQ(strict.ExitCode(), 3);
  ASSERT_EQ(strict.violations.size(), 1u);
  EXPECT_EQ(strict.violations[0].kind, "transit_loss");
  EXPECT_NE(strict.violations[0].red_flag.find("OECD"), std::string::npos);
  EXPECT_DOUBLE_EQ(strict.violations[0].share, 0.05);
  ASSERT_EQ(strict.violations[0].path_event_ids.size(), 2u);
  EXPECT_EQ(strict.violations[0].path_event_ids[0], dispatch);

  auto lenient = ParsePolicy("name = \"loss\"\nmax_transit_loss = 0.06\n");
  ASSERT_TRUE(lenient.ok());
  EXPECT_EQ(VerifyBundle(kLot, &*lenient).ExitCode(), 0);
}

// A lot created twice, which the node refuses, fails the auditor's replay of the same rule.
TEST_F(RulebookTest, ALotCreatedTwiceInABundleIsAnIntegrityFinding) {
  Add(PakistanExtraction(kLot, 1'000'000));
  Add(PakistanExtraction(kLot, 9'000'000));  // the same lot id, inflated
  const LineageReport report = VerifyBundle(kLot);
  EXPECT_EQ(report.ExitCode(), 1);
  bool named = false;
  for (const Finding& f : report.findings) {
    named = named || (f.severity == Severity::kIntegrity && f.check == "custody" &&
                      f.message.find("was already created by event") != std::string::npos);
  }
  EXPECT_TRUE(named);
}

TEST_F(RulebookTest, NodeOnlyRulesAreTheHostedAuthorAndTheFuture) {
  const std::set<std::string> hosted = {"pk-fwo"};
  auto soon = PakistanExtraction();
  *soon.mutable_occurred_at() = FromMicros(kTestNow + kMaxFutureSkewMicros - 1000000);
  EXPECT_TRUE(CheckNodeOnly(world_.Sign(soon), hosted, kTestNow).ok());
  auto later = PakistanExtraction();
  *later.mutable_occurred_at() = FromMicros(kTestNow + kMaxFutureSkewMicros + 1000000);
  const Status future = CheckNodeOnly(world_.Sign(later), hosted, kTestNow);
  EXPECT_EQ(future.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(future.message().find("EventBody.occurred_at"), std::string::npos);
  const Status foreign = CheckNodeOnly(world_.Sign(soon), {"us-usm"}, kTestNow);
  EXPECT_EQ(foreign.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(foreign.message().find("not hosted by this node (hosts: us-usm)"), std::string::npos);
}

// PlanCustody reports every broken rule and what the event does as far as it can be done, so a
// verifier replays on past it while a writer refuses it.
TEST_F(RulebookTest, PlanCustodyCollectsEveryViolation) {
  MemoryCustodyState state;
  const ParsedEvent x = world_.Sign(PakistanExtraction(kLot, 1'000'000));
  state.Apply(x, *CheckAndPlanCustody(x, state));
  auto dispatch = DispatchOf("pk-fwo", "us-usm", kLot, 50'000'000);  // 50 t of a 1 t lot
  auto* other = dispatch.mutable_dispatch()->add_lots();
  other->set_lot_id("pk-fwo:NOT-MINED");
  other->set_mass_g(1);
  auto plan = PlanCustody(world_.Sign(dispatch), state, {});
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->violations.size(), 2u);
  EXPECT_EQ(plan->violations[0].lot_id, kLot);
  EXPECT_NE(plan->violations[0].status.message().find("holds only 1000000 g"), std::string::npos);
  EXPECT_EQ(plan->violations[1].lot_id, "pk-fwo:NOT-MINED");
  // Nothing beyond what is held is taken.
  ASSERT_EQ(plan->effects.holding_changes.size(), 1u);
  EXPECT_EQ(std::get<2>(plan->effects.holding_changes[0]), -1'000'000);
  const auto first = CheckAndPlanCustody(world_.Sign(dispatch), state);
  EXPECT_EQ(first.status().message(), plan->violations[0].status.message());
}

}  // namespace
}  // namespace cairn::ledger
